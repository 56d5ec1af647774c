"""Feedback and report pages are safe to open, and the CSV files are safe to load in a spreadsheet.

A hostile student notebook (script tags, event handlers, javascript: links, frames, SVG, forms,
remote stylesheets, dangerous output MIME types, a lone surrogate...) and a hostile student id and
reason go through `render_feedback` and `write_feedback`; the page is read back with an HTML parser
and must hold nothing active and load nothing, while still showing the student's text and the score
table. No kernel: fast. tests/browser/test_feedback_injection.py opens the same pages in Chromium.
"""
from __future__ import annotations

import base64
import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from autograder.notebooks import dumps
from autograder.grading.outputs import render_feedback, spreadsheet_cell, write_feedback, write_grades_csv
from autograder.grading.submission import PartResult, SubmissionResult

#: Every injected script sets this (or calls alert); the browser test checks it stays undefined.
PWN = "window.__pwned=1"
HOSTILE_ID = '=HYPERLINK("http://x")<script>alert(1)</script>'
HOSTILE_REASON = "tampering: unknown cell id '<img src=x onerror=alert(1)>'"
HOSTILE_FEEDBACK = "Expected -1, got <b onmouseover=\"window.__pwned=1\">2</b> `beta_1**t` | a|b"
PROSE = r"Student prose: the neuron computes $a=\sigma(Xw+b)$ before the loss."
PLAIN_REPR = "PLAIN-REPR-of-the-html-output"
#: A 1x1 transparent PNG.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
EVIL_SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{PWN}"><script>{PWN}</script></svg>'

HOSTILE_MARKDOWN = f"""# My answer

{PROSE}

<script>{PWN}; alert("script")</script>
<img src=x onerror="{PWN}; alert('img')">
<a href="javascript:{PWN}">a javascript link</a> <a href="JaVaScRiPt&#58;alert(3)">entity link</a>
[markdown link](javascript:alert(4)) [remote link](https://example.org/phish) <https://example.org/auto>
![markdown image](http://127.0.0.1:9/track.png) <img src="leak.png"> <img src="//127.0.0.1:9/p.png">
<iframe src="javascript:parent.__pwned=1"></iframe>
<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>
<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/phish">
<svg onload="{PWN}"><script>{PWN}</script><a xlink:href="javascript:alert(5)"><text>svg text</text></a></svg>
<base href="http://127.0.0.1:9/">
<form action="http://127.0.0.1:9/steal"><input name="q" autofocus onfocus="{PWN}">
<button formaction="http://127.0.0.1:9/x">go</button></form>
<link rel="stylesheet" href="http://127.0.0.1:9/evil.css">
<style>body {{ background: url(http://127.0.0.1:9/bg.png) }} @import url(//127.0.0.1:9/i.css);</style>
<div style="background-image: url('http://127.0.0.1:9/div.png')" onmouseover="{PWN}">hover me</div>
<object data="http://127.0.0.1:9/o"></object><embed src="http://127.0.0.1:9/e">
<details open ontoggle="{PWN}"><summary>summary</summary>details</details>
<video src="http://127.0.0.1:9/v.mp4" poster="http://127.0.0.1:9/poster.png"><source onerror="{PWN}"></video>
<p>after the traps</p>
"""
#: Parser-confusion (mutation XSS) payloads; their unclosed tags may swallow the rest of their own cell.
MUTATION_MARKDOWN = f"""<noscript><p title="</noscript><img src=x onerror={PWN}>"></noscript>

<math><mtext><table><mglyph><style><img src=x onerror="{PWN}">

<svg></p><style><a id="</style><img src=1 onerror={PWN}>">
"""


def hostile_notebook() -> nbformat.NotebookNode:
    output = nbformat.v4.new_output
    code = nbformat.v4.new_code_cell("print('hello')", execution_count=1, outputs=[
        output("execute_result", execution_count=1,
               data={"text/html": f"<script>{PWN}</script><b>html output</b>", "text/plain": PLAIN_REPR}),
        output("display_data", data={"application/javascript": f"{PWN}; alert('js output')"}),
        output("display_data", data={"image/svg+xml": EVIL_SVG}),
        output("display_data", data={"text/markdown": f"<img src=x onerror=\"{PWN}\"> **md output**"}),
        output("display_data", data={"application/vnd.evil+json": {"html": f"<script>{PWN}</script>"}}),
        output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}}),
        output("display_data", data={"image/png": f'x" onerror="{PWN}'}),
        output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 1x1>"},
               metadata={"image/png": {"width": '1" onload="' + PWN}}),
        output("stream", name="stdout", text=f"stdout <script>{PWN}</script>\n"),
        output("error", ename="ValueError", evalue="<img src=x onerror=alert(6)>",
               traceback=["\x1b[0;31mValueError\x1b[0m: <script>window.__pwned=1</script>",
                          "\x1b[38;2;255;0;0mtruecolor\x1b[0m <iframe src=javascript:alert(7)>"]),
    ])
    code.metadata["tags"] = [f'x" onmouseover="{PWN}']
    markdown = nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN)
    mutation = nbformat.v4.new_markdown_cell(MUTATION_MARKDOWN)
    after = nbformat.v4.new_markdown_cell("The cell after the parser tricks is still shown.")
    attached = nbformat.v4.new_markdown_cell("![svg](attachment:evil.svg) ![png](attachment:ok.png)")
    attached.attachments = {"evil.svg": {"image/svg+xml": base64.b64encode(EVIL_SVG.encode()).decode()},
                            "ok.png": {"image/png": PNG}}
    odd = nbformat.v4.new_markdown_cell("lone surrogate: [\ud800] and controls [\x01\x00\x7f] end")
    raw = nbformat.v4.new_raw_cell(f"<script>{PWN}</script><b>raw html</b>")
    raw.metadata["raw_mimetype"] = "text/html"
    raw_plain = nbformat.v4.new_raw_cell(f"<img src=x onerror=\"{PWN}\">")
    nb = nbformat.v4.new_notebook(cells=[markdown, attached, odd, code, raw, raw_plain, mutation, after])
    nb.metadata["title"] = f"</title><script>{PWN}</script>"
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"x": f"</script><script>{PWN}</script>"}, "version_major": 2, "version_minor": 0}}
    return nb


def hostile_result(notebook=None) -> SubmissionResult:
    parts = [PartResult("neuron_forward_test", 2.0, 0.0, "detail", HOSTILE_FEEDBACK),
             PartResult("train_test", 3.0, 3.0)]
    result = SubmissionResult(HOSTILE_ID, "01_neuron", "01_neuron", parts, HOSTILE_REASON)
    result.feedback_notebook = hostile_notebook() if notebook is None else notebook
    return result


# ------------------------------------------------------------------ what a safe page is

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                  "srcset", "cite", "longdesc", "ping", "manifest", "codebase", "archive", "usemap", "srcdoc"}
FORBIDDEN_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "input",
                  "button", "textarea", "select", "link", "svg", "video", "audio", "source", "track",
                  "portal", "template", "noscript"}
SAFE_SRC = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*")
TRUSTED_META = {("charset",), ("content", "http-equiv"), ("content", "name")}


class Page(HTMLParser):
    """Every element of a page with its attributes, the text outside <style>/<script>, and the CSS."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], bool]] = []  # (tag, attributes, in <head>)
        self.text: list[str] = []
        self.css: list[str] = []
        self._where: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        in_head = "head" in self._where and "body" not in self._where
        self.elements.append((tag, {k: v or "" for k, v in attrs}, in_head))
        if tag in ("head", "body", "style", "script"):
            self._where.append(tag)

    def handle_endtag(self, tag):
        if tag in self._where:
            del self._where[len(self._where) - 1 - self._where[::-1].index(tag)]

    def handle_data(self, data):
        if self._where and self._where[-1] == "style":
            self.css.append(data)
        elif not (self._where and self._where[-1] == "script"):
            self.text.append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def problems_in(page_html: str, image_sources=SAFE_SRC) -> list[str]:
    """Everything in the page that could run, load, navigate or submit. [] for a safe page."""
    page = Page(page_html)
    found = []
    head = [(tag, attrs) for tag, attrs, in_head in page.elements if in_head]
    if not head or head[0][0] != "meta" or head[0][1].get("http-equiv", "").lower() != "content-security-policy":
        found.append(f"the first element of <head> is not the CSP meta: {head[:1]}")
    else:
        csp = csp_directives(head[0][1]["content"])
        script = csp.get("script-src", csp.get("default-src"))
        if script is None or any(s not in ("'none'",) for s in script):
            found.append(f"the CSP allows scripts: {head[0][1]['content']}")
        if csp.get("default-src") != ["'none'"]:
            found.append(f"the CSP's default-src is not 'none': {head[0][1]['content']}")
        for name in ("img-src", "style-src", "font-src", "connect-src", "frame-src", "form-action", "base-uri"):
            sources = csp.get(name, csp.get("default-src", []))
            if any(s.startswith(("http", "*", "//")) or "." in s for s in sources):
                found.append(f"the CSP allows loads from elsewhere in {name}: {sources}")
    styles = 0
    for tag, attrs, in_head in page.elements:
        if tag in FORBIDDEN_TAGS:
            found.append(f"<{tag}> element")
        if tag == "style":
            styles += 1
            if not in_head:
                found.append("<style> in the body")
        if tag == "meta" and (tuple(sorted(attrs)) not in TRUSTED_META or
                              attrs.get("http-equiv", "content-security-policy").lower() != "content-security-policy"):
            found.append(f"untrusted <meta {attrs}>")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"event handler {name}= on <{tag}>")
            if name == "style":
                found.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES:
                scheme = urlsplit(value.strip()).scheme.lower()
                if name == "href" and not value.startswith("#"):
                    found.append(f"<{tag} href={value!r}> leaves the page")
                elif name == "src" and not image_sources.fullmatch(value):
                    found.append(f"<{tag} src={value[:60]!r}> is not an embedded PNG/JPEG/GIF")
                elif name not in ("href", "src"):
                    found.append(f"{name}= on <{tag}>")
                if scheme in ("javascript", "vbscript", "http", "https") or value.strip().startswith("//"):
                    found.append(f"{scheme or '//'} URL in {name}= of <{tag}>")
    if styles > 1:
        found.append(f"{styles} <style> elements (only the template's own is trusted)")
    css = "".join(page.css)
    for url in re.findall(r"url\(\s*['\"]?([^)'\"]*)", css):
        if not url.startswith("data:"):
            found.append(f"CSS loads {url!r}")
    if re.search(r"@import|expression\(|javascript:", css, re.IGNORECASE):
        found.append("CSS @import, expression() or javascript:")
    return found


# ------------------------------------------------------------------ the feedback page

@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, str, Page]:
    out = tmp_path_factory.mktemp("feedback")
    path = write_feedback(hostile_result(), out)
    text = path.read_text(encoding="utf-8")  # valid UTF-8: the lone surrogate did not stop the write
    return path, text, Page(text)


def test_the_checks_find_every_trap_in_nbconvert_s_own_page():
    """The unsanitised page (what render_feedback wrote before) fails the checks: they can fail."""
    from nbconvert import HTMLExporter

    nb = hostile_notebook()
    unsafe, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    with pytest.raises(UnicodeEncodeError):
        dumps(nb).encode("utf-8")  # the lone surrogate: writing the feedback notebook used to raise
    text = " ".join(problems_in(unsafe))
    for expected in ("first element of <head> is not the CSP", "<script> element", "<iframe> element",
                     "event handler onerror=", "javascript URL in href=", "<base> element", "<form> element",
                     "<link> element", "<svg> element", "untrusted <meta", "style attribute", "CSS loads",
                     "<style> in the body", "http URL in src="):
        assert expected in text, f"the checks missed {expected!r}"


def test_the_feedback_page_holds_nothing_active(written):
    path, text, page = written
    assert problems_in(text) == []
    tags = {tag for tag, _, _ in page.elements}
    assert "script" not in tags and {"main", "table", "img", "pre"} <= tags
    assert "<script" not in text.lower()  # not even in a comment or the CSS


def test_the_csp_is_the_first_thing_in_head_and_forbids_scripts(written):
    _, text, page = written
    head = text[text.index("<head>") + len("<head>"):].lstrip()
    assert head.startswith('<meta http-equiv="Content-Security-Policy"')
    tag, attrs, in_head = next(e for e in page.elements if e[0] == "meta")
    csp = csp_directives(attrs["content"])
    assert csp["default-src"] == ["'none'"] and csp["script-src"] == ["'none'"]
    assert csp["img-src"] == ["data:"] and csp["style-src"] == ["'unsafe-inline'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'none'"]


def test_the_student_s_text_and_the_score_table_are_still_there(written):
    _, _, page = written
    visible = page.visible
    # The maths is typeset as MathML on the grader (typeset.py): a formula, not its TeX source.
    assert "Student prose: the neuron computes" in visible and "before the loss." in visible
    assert r"\sigma" not in visible and "σ" in visible
    assert "math" in {tag for tag, _, _ in page.elements}
    assert "The cell after the parser tricks is still shown." in visible
    assert "after the traps" in visible and "hover me" in visible and "a javascript link" in visible
    assert PLAIN_REPR in visible  # the text/plain of a rich output
    assert "[output not shown in the feedback page: application/javascript]" in visible
    assert "stdout <script>window.__pwned=1</script>" in visible  # printed text shown as text
    assert "ValueError" in visible and "truecolor" in visible
    assert "<script>window.__pwned=1</script><b>raw html</b>" in visible  # a raw cell, shown literally
    # The summary: every student-controlled value appears literally, as text.
    assert f"Student: {HOSTILE_ID}" in " ".join(visible.split())
    assert HOSTILE_REASON in visible
    assert " ".join(HOSTILE_FEEDBACK.split()) in visible
    assert "Part" in visible and "Points" in visible and "Result" in visible
    assert "neuron_forward_test" in visible and "0 / 2" in visible and "3 / 3" in visible
    assert "Score: 3 / 5" in " ".join(visible.split())
    # The lone surrogate and the control characters became U+FFFD.
    assert "lone surrogate: [\ufffd]" in visible and "[\ufffd\ufffd" in visible


def test_only_png_jpeg_gif_images_are_kept(written):
    _, _, page = written
    sources = [attrs.get("src", "") for tag, attrs, _ in page.elements if tag == "img"]
    assert f"data:image/png;base64,{PNG}" in sources  # the figure and the PNG attachment survive
    assert sources.count(f"data:image/png;base64,{PNG}") == 2
    assert not any("svg" in s for s in sources)


def test_the_feedback_notebook_keeps_no_active_output(written):
    path, _, _ = written
    raw = path.with_suffix(".ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    mimes = {m for c in nb.cells if c.cell_type == "code" for o in c.outputs for m in o.get("data", {})}
    assert mimes == {"text/plain", "image/png"}
    assert all(c.cell_type in ("markdown", "code") for c in nb.cells)
    assert set(nb.metadata) <= {"kernelspec", "language_info"}  # no widget state, no title
    attachments = nb.cells[2].attachments
    assert attachments["ok.png"] == {"image/png": PNG}
    assert set(attachments["evil.svg"]) == {"image/gif"}  # a blank image in place of the SVG
    assert "\ufffd" in nb.cells[3].source
    json.loads(raw)


def test_a_page_without_a_notebook_and_odd_ids_still_renders():
    result = hostile_result()
    result.feedback_notebook = None
    result.student = "student-\udcff-from-an-undecodable-folder-name"
    rendered = render_feedback(result)
    assert problems_in(rendered.html) == []
    assert "student-\ufffd-from" in Page(rendered.html).visible
    rendered.html.encode("utf-8")
    rendered.notebook.encode("utf-8")


def test_a_notebook_nbconvert_cannot_render_still_gets_its_summary():
    broken = {"cells": [{"cell_type": "code", "source": 42, "outputs": [{"output_type": "stream", "text": None},
                                                                      "not an output"]},
                        "not a cell", {"cell_type": "markdown"}], "metadata": []}
    rendered = render_feedback(hostile_result(nbformat.from_dict(broken)))
    assert problems_in(rendered.html) == []
    assert "neuron_forward_test" in Page(rendered.html).visible


# ------------------------------------------------------------------ CSV files

def test_spreadsheet_cells_never_start_a_formula():
    for dangerous in ("=1+1", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-x", "=", "+"):
        assert spreadsheet_cell(dangerous) == "'" + dangerous
    for number in ("-1", "-0.5", "+2", "3", "1e-05", "-1.5e+10", ".5"):
        assert spreadsheet_cell(number) == number
    for text in ("alice", "tampering: x", "'=already quoted", " =leading space", ""):
        assert spreadsheet_cell(text) == text


def test_grades_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    ids = [HOSTILE_ID, "+1+1", "-2+3", "@SUM(A1:A9)", "\tTAB", "\rCR", "alice", "-1"]
    results = []
    for student in ids:
        parts = [PartResult("penalty", 2.0, -1.0, "", "late"), PartResult("half", 2.0, -0.5), PartResult("ok", 2.0, 2.0)]
        results.append(SubmissionResult(student, "01_neuron", "01_neuron", parts,
                                         "=cmd|' /C calc'!A0" if student == "alice" else HOSTILE_REASON))
    path = tmp_path / "grades.csv"
    write_grades_csv(results, path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {r["student_id"]: r for r in rows}
    assert set(by_id) == {"'" + s for s in ids if s not in ("alice", "-1")} | {"alice", "-1"}
    for row in rows:
        assert (row["score"], row["max_score"], row["penalty"], row["half"], row["ok"]) == ("0.5", "6", "-1", "-0.5", "2")
        assert row["assignment"] == "01_neuron" and row["sandbox"] == "bwrap"
        assert not row["student_id"].startswith(("=", "+", "-", "@", "\t", "\r")) or row["student_id"] == "-1"
    assert by_id["alice"]["reason"] == "'=cmd|' /C calc'!A0"
    assert by_id["'" + HOSTILE_ID]["reason"] == HOSTILE_REASON


def test_report_page_and_lms_csv_are_safe(tmp_path):
    from autograder.report import write_report

    students = [HOSTILE_ID, "@evil", "bob", '"><img src=x onerror=alert(1)>']
    details = {"seeds": {}, "submissions": [
        {"student_id": s, "assignment": "01_neuron", "score": 1.0 + i, "max_score": 4.0,
         "reason": HOSTILE_REASON if i != 2 else "", "seconds": 1.0 + i,
         "parts": {"a_test": [1.0 + i, 4.0]}, "failed_parts": {}} for i, s in enumerate(students)]}
    (tmp_path / "details.json").write_text(json.dumps(details))
    page_path = write_report(tmp_path)
    text = page_path.read_text(encoding="utf-8")
    local_png = re.compile(r"[a-z_]+\.png")
    found = [p for p in problems_in(text, image_sources=local_png)
             if "lms_grades.csv" not in p and "the CSP's img-src" not in p]
    assert found == []
    meta = [a for tag, a, _ in Page(text).elements if tag == "meta" and a.get("http-equiv")]
    csp = csp_directives(meta[0]["content"])
    assert csp["img-src"] == ["'self'", "data:"] and csp["script-src"] == ["'none'"]
    visible = Page(text).visible
    assert HOSTILE_ID in visible and HOSTILE_REASON in visible and '"><img src=x onerror=alert(1)>' in visible
    with (page_path.parent / "lms_grades.csv").open(newline="", encoding="utf-8") as handle:
        lms = list(csv.reader(handle))
    assert lms[:2] == [["student_id", "01_neuron", "total"], ["Points Possible", "4", "4"]]
    assert {row[0]: row[1] for row in lms[2:]} == {
        "'" + HOSTILE_ID: "1", "'@evil": "2", "bob": "3", '"><img src=x onerror=alert(1)>': "4"}


def test_progress_lines_never_send_a_students_control_characters_to_the_terminal():
    """An id or reason holding terminal escapes (clear screen, set title) is printed as escapes."""
    from autograder.grading.progress import GradingProgress
    from autograder.grading.submission import SubmissionResult

    lines: list[str] = []
    progress = GradingProgress(1, lines=lines.append)
    progress.update(SubmissionResult("evil\x1b[2J\x1b[31m", "01_neuron", "", [], "bad\x1b]0;title\x07\r"))
    assert len(lines) == 1 and "evil\\x1b[2J" in lines[0] and "\\x07" in lines[0]
    assert not any(ch in lines[0] for ch in "\x1b\x07\r\n")


def test_maths_is_typeset_as_clean_mathml_and_nothing_else_gets_in():
    """The grader turns TeX into MathML; a student's own <math> markup, script in \\text, a forged token
    and TeX that does not convert all come out inert."""
    from autograder.grading.outputs import render_feedback
    from autograder.grading.submission import SubmissionResult
    from autograder.grading.typeset import MATHML_ATTRIBUTES, MATHML_TAGS

    cells = [nbformat.v4.new_markdown_cell(text) for text in (
        r"Inline $a = \sigma(Xw+b)$ and display $$\frac{\partial L}{\partial w} = x(a-y)$$",
        r"Script in text: $\text{<script>window.__pwned=1</script>}$ and `$kept in code$`",
        '<math href="javascript:alert(1)"><maction actiontype="statusline"><mtext>raw</mtext></maction></math>',
        "Forged token: \ue000deadbeefdeadbeef:0\ue001 and broken TeX $\\frac{$",
    )]
    result = SubmissionResult("s", "01_neuron", "01_neuron", [], "")
    result.feedback_notebook = nbformat.v4.new_notebook(cells=cells)
    text = render_feedback(result).html
    page = Page(text)
    maths = [(tag, attrs) for tag, attrs, _ in page.elements if tag in MATHML_TAGS]
    assert sum(tag == "math" for tag, _ in maths) == 3, maths  # two formulas, and the one with \text
    for tag, attrs in maths:
        allowed = MATHML_ATTRIBUTES["*"] | MATHML_ATTRIBUTES.get(tag, set())
        assert set(attrs) <= allowed, (tag, attrs)
    assert "maction" not in text and "javascript:" not in text and "raw" not in page.visible
    assert "<script" not in text.lower() and "__pwned" not in text
    assert "$kept in code$" in page.visible
    assert "\ue000" not in text and "Forged token:" in page.visible
    assert r"$\frac{$" in page.visible  # shown as written
