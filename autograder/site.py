"""`site`: execute every lesson and render a static course site that needs no server and no internet.

Layout of the output folder (default `site/`):

    index.html                   the syllabus: per concept its lesson page, exercise download, time, objectives
    lessons/NN_topic.html        each lesson executed in a fresh kernel, rendered with nbconvert's lab template
    exercises/NN_topic.ipynb     a copy of each released exercise, linked for download
    mathjax/                     a local copy of MathJax 2 (from the `jupyter-server-mathjax` package)

Every URL in the pages is relative: the site opens from `file://` on a machine without a network.
nbconvert's template would load require.js, MathJax, mermaid and the widget manager from CDNs; the
template below drops what the lessons do not use and points MathJax at the local copy.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import Course, CourseError

#: MathJax 2 configuration shipped by jupyter-server-mathjax (TeX input, HTML-CSS output, STIX web fonts).
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"

#: MathJax settings for a page opened from file:// with the files jupyter-server-mathjax ships:
#: * the HTML-CSS output with its STIX web fonts (the package has no TeX fonts and no image fonts);
#: * MathJax's "MathJax_Blank" @font-face points at about:blank, and the native-MathML styles (used by the
#:   hidden assistive MathML) point at TeX .otf fonts the package lacks. Chromium reports both as console
#:   errors. A local() source that matches nothing gives the same result, a font that never loads, silently.
_NO_FONT = "local('MathJax-font-not-shipped')"
_NATIVE_MML_FACES = [("MathJax_Caligraphic-WEB", ""), ("MathJax_Caligraphic-WEB", "bold"), ("MathJax_AMS-WEB", ""),
                     ("MathJax_Script-WEB", ""), ("MathJax_Fraktur-WEB", ""), ("MathJax_Fraktur-WEB", "bold")]
MATHJAX_SETTINGS = (
    '{"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null, '
    f'styles: {{"@font-face": {{"font-family": "MathJax_Blank", src: "{_NO_FONT}"}}}}}}, '
    'NativeMML: {styles: {'
    + ", ".join(f'"@font-face /*{i}*/": {{"font-family": "{family}", '
                + (f'"font-weight": "{weight}", ' if weight else "") + f'src: "{_NO_FONT}"}}'
                for i, (family, weight) in enumerate(_NATIVE_MML_FACES, start=1))
    + "}}}")

#: A lab template without network: no require.js (no widgets here), no mermaid, no widget manager,
#: MathJax from `resources.mathjax_url`, and a marker on <body> once MathJax has typeset the page.
_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{{ super() }}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{ resources.mathjax_settings }});
MathJax.Hub.Queue(function () { document.body.setAttribute("data-mathjax", "done"); });
</script>
{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
{{ super() }}
<nav class="site-nav" style="padding: 8px 0 16px; font-family: var(--jp-ui-font-family);">
<a href="../index.html" style="color: #0969da;">&larr; Course syllabus</a>
{%- if resources.exercise_href %} &middot; <a href="{{ resources.exercise_href }}" download style="color: #0969da;">Download the exercise</a>{% endif %}
</nav>
{%- endblock body_header -%}
"""

_MARKER = ".course-site"

_TITLE = re.compile(r"^#\s+(?:Lesson\s+\d+\s*[-–—:]\s*)?(.+?)\s*$", re.M)
_OBJECTIVES = re.compile(r"\*\*What you will learn\*\*\s*\n((?:\s*\d+\.\s+.*\n?)+)")
_ITEM = re.compile(r"^\s*\d+\.\s+(.*\S)\s*$", re.M)
_TIME = re.compile(r"\*\*Estimated time:\*\*\s*([^.(\n]+)")


@dataclass
class LessonInfo:
    """What the syllabus says about one concept, parsed from its lesson's first markdown cell."""
    name: str
    title: str
    estimated_time: str
    objectives: list[str]
    exercise: str | None = None          # path of the exercise copy, relative to the site root
    parts: int = 0
    points: float = 0
    seconds: float = 0.0                  # executing and rendering its lesson


def parse_lesson(path: Path) -> LessonInfo:
    """Title, estimated time and learning objectives from a lesson's first markdown cell."""
    nb = nbformat.read(path, as_version=4)
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is None:
        raise CourseError(f"{path.name} has no markdown cell to take its title and objectives from")
    text = first.source
    title = _TITLE.search(text)
    objectives = _OBJECTIVES.search(text)
    minutes = _TIME.search(text)
    missing = [what for what, found in (("a '# Lesson NN - title' heading", title),
                                        ("a '**What you will learn**' numbered list", objectives),
                                        ("an '**Estimated time:** ...' line", minutes)) if not found]
    if missing:
        raise CourseError(f"{path.name}: the first markdown cell lacks " + " and ".join(missing))
    return LessonInfo(name=path.stem, title=title.group(1), estimated_time=minutes.group(1).strip(),
                      objectives=_ITEM.findall(objectives.group(1)))


def _kernel_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
                "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
                "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
                "MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYTHONDONTWRITEBYTECODE": "1"})
    env.pop("JPY_PARENT_PID", None)
    return env


def execute_lesson(path: Path, workdir: Path, cell_timeout: int, threads: int) -> nbformat.NotebookNode:
    """Run every cell of a lesson in a fresh "python3" kernel, in `workdir`; the first error stops the build."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    # IPC sockets in a private folder rather than TCP ports on loopback.
    channels = Path(tempfile.mkdtemp(prefix="course-site-kernel-"))
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(channels / "kernel"),
                       connection_file=str(channels / "kernel.json"))
    client = NotebookClient(nb, km=km, kernel_name="python3", timeout=cell_timeout, allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute(env=_kernel_env(threads), cwd=str(workdir))
    except CellExecutionError as exc:
        name = getattr(exc, "ename", "") or "error"
        raise CourseError(f"lesson {path.name} failed: {name}: {getattr(exc, 'evalue', '')}".strip()) from None
    except CellTimeoutError:
        raise CourseError(f"lesson {path.name}: a cell ran over {cell_timeout} s") from None
    except DeadKernelError:
        raise CourseError(f"lesson {path.name}: the kernel died") from None
    finally:
        if km.has_kernel:  # nbclient leaves a kernel manager it was given running
            km.shutdown_kernel(now=False)
        shutil.rmtree(channels, ignore_errors=True)
    return nb


def _exporter(mathjax_url: str):
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"course_site.html.j2": _TEMPLATE})])
    exporter.template_file = "course_site.html.j2"
    exporter.mathjax_url = mathjax_url
    # Unused by the template above, but never let a CDN default slip into a page.
    exporter.require_js_url = exporter.jquery_url = exporter.widget_renderer_url = ""
    exporter.mermaid_js_url = exporter.mermaid_layout_elk_js_url = ""
    exporter.jupyter_widgets_base_url = ""
    return exporter


#: What no page of the site may contain: a script, stylesheet or image loaded from another machine.
_REMOTE = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def remote_references(page: str) -> list[str]:
    return [m.group(0) for m in _REMOTE.finditer(page)]


def copy_mathjax(dest: Path) -> None:
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise CourseError("jupyter-server-mathjax is not installed; run `make install`") from None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (static / "MathJax.js").is_file():
        raise CourseError(f"no MathJax.js in {static}")
    if dest.exists():
        shutil.rmtree(dest)
    # English only: the other localisations are never requested.
    shutil.copytree(static, dest, ignore=lambda folder, names: (
        [n for n in names if n != "en"] if Path(folder).name == "localization" else []))


def _exercise_summary(course: Course, name: str) -> tuple[Path | None, int, float]:
    folder = course.exercises / name
    notebooks = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not notebooks:
        return None, 0, 0
    nb = nbformat.read(notebooks[0], as_version=4)
    graded = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    graded = [m for m in graded if m.get("grade") and m.get("cell_type") == "code"]
    return notebooks[0], len(graded), sum(float(m.get("points", 0)) for m in graded)


def build_site(course: Course, out: Path, workers: int | None = None, cell_timeout: int = 600,
               progress=print) -> Path:
    """Execute and render every lesson into `out`, copy the exercises and MathJax, write index.html."""
    lessons = sorted(course.lessons.glob("*.ipynb"))
    if not lessons:
        raise CourseError(f"no lessons in {course.lessons}")
    infos = {p.stem: parse_lesson(p) for p in lessons}
    workers = max(1, min(workers or os.cpu_count() or 1, len(lessons)))
    threads = max(1, (os.cpu_count() or 1) // workers)

    # Only ever replace a folder this command made: it deletes lessons/, exercises/ and mathjax/ inside it.
    if out.is_dir() and any(out.iterdir()) and not (out / _MARKER).is_file():
        raise CourseError(f"{out} is not empty and was not built by `site`; pick a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / _MARKER).write_text("built by `python -m autograder site`; the whole folder is replaced on rebuild\n")
    for sub in ("lessons", "exercises"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
        (out / sub).mkdir()
    copy_mathjax(out / "mathjax")
    for name, info in infos.items():
        source, info.parts, info.points = _exercise_summary(course, name)
        if source is not None:
            shutil.copy2(source, out / "exercises" / source.name)
            info.exercise = f"exercises/{source.name}"

    exporter = _exporter(f"../mathjax/MathJax.js?config={MATHJAX_CONFIG}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-site-") as tmp:
        # Lessons run in a scratch copy of lessons/, so files they save never land in the checkout.
        workdir = Path(tmp) / "lessons"
        shutil.copytree(course.lessons, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

        def one(path: Path) -> str:
            t0 = time.monotonic()
            executed = execute_lesson(workdir / path.name, workdir, cell_timeout, threads)
            info = infos[path.stem]
            body, _ = exporter.from_notebook_node(executed, resources={
                "mathjax_settings": MATHJAX_SETTINGS,
                "metadata": {"name": info.title},
                "exercise_href": f"../{info.exercise}" if info.exercise else ""})
            # A lesson links another as NN_topic.ipynb (checked by cross_references); on the site it is a page.
            body = _LESSON_HREF.sub(r'href="\1.html"', body)
            remote = remote_references(body)
            if remote:
                raise CourseError(f"lesson {path.name} would load from the network: {remote[0]}")
            (out / "lessons" / f"{path.stem}.html").write_text(body, encoding="utf-8")
            info.seconds = time.monotonic() - t0
            progress(f"  {path.stem:<20} executed and rendered in {info.seconds:5.1f} s")
            return path.stem

        # Biggest notebooks first: with few workers the long lessons should not start last.
        order = sorted(lessons, key=lambda p: p.stat().st_size, reverse=True)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(one, p) for p in order]:
                future.result()
    index = out / "index.html"
    index.write_text(render_index(course, list(infos.values())), encoding="utf-8")
    progress(f"{len(lessons)} lessons in {time.monotonic() - started:.1f} s on {workers} worker(s)")
    return index


_LESSON_HREF = re.compile(r'href="(\d{2}_[a-z0-9_]+)\.ipynb"')


def _markdown(text: str) -> str:
    """Inline markdown of one objective (code, bold, emphasis); maths stays as $...$ for MathJax."""
    from nbconvert.filters.markdown import markdown2html

    rendered = markdown2html(text).strip()
    return re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)


_INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 980px; margin: 2em auto; padding: 0 1em; color: #1f2328; line-height: 1.5; }
h1 { margin-bottom: .2em; } .lead { color: #57606a; margin-top: 0; }
.concept { border: 1px solid #d0d7de; border-radius: 8px; padding: .8em 1.2em; margin: 1em 0; }
.concept h2 { margin: 0 0 .3em; font-size: 1.25em; } .concept h2 .num { color: #57606a; margin-right: .4em; }
.meta { display: flex; flex-wrap: wrap; gap: .4em 1.5em; color: #57606a; font-size: .95em; }
.meta a { font-weight: 600; } .concept ol { margin: .5em 0 0; }
code { background: #f6f8fa; padding: .1em .3em; border-radius: 4px; font-size: .9em; }
"""


def render_index(course: Course, infos: list[LessonInfo]) -> str:
    total_minutes = sum(int(m.group(0)) for i in infos if (m := re.match(r"\d+", i.estimated_time)))
    rows = []
    for info in infos:
        number, _, _ = info.name.partition("_")
        exercise = (f'<a href="{html.escape(info.exercise)}" download>exercise notebook</a> '
                    f'({info.parts} graded parts, {info.points:g} points)' if info.exercise else "no exercise yet")
        objectives = "".join(f"<li>{_markdown(o)}</li>" for o in info.objectives)
        rows.append(f"""
<section class="concept" id="c{html.escape(number)}">
  <h2><span class="num">{html.escape(number)}</span><a href="lessons/{html.escape(info.name)}.html">{html.escape(info.title)}</a></h2>
  <div class="meta"><span><a href="lessons/{html.escape(info.name)}.html">lesson</a></span>
    <span>{exercise}</span><span class="time">estimated time: {html.escape(info.estimated_time)}</span></div>
  <ol class="objectives">{objectives}</ol>
</section>""")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Deep learning with Keras: the course</title>
<style>{_INDEX_CSS}</style>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], processEscapes: true}},
  messageStyle: "none"}});
MathJax.Hub.Config({MATHJAX_SETTINGS});
MathJax.Hub.Queue(function () {{ document.body.setAttribute("data-mathjax", "done"); }});
</script>
<script src="mathjax/MathJax.js?config={MATHJAX_CONFIG}"></script>
</head>
<body>
<h1>Deep learning with Keras</h1>
<p class="lead">{len(infos)} concepts, each with a lesson (executed, with its plots) and an autograded exercise
to open in JupyterLab. About {total_minutes // 60} h {total_minutes % 60:02d} min of study in all.
Check an exercise with <code>python -m autograder validate</code> or nbgrader's Validate button.</p>
{''.join(rows)}
</body>
</html>
"""
