"""The reader's view: the static course site (`python -m autograder site`) opened from file:// in Chromium.

The site is built once per session from this checkout into a scratch folder. Every page must load with
nothing but file:// requests (anything else is aborted and fails the test), show no console error,
have every image loaded, and have its equations typeset by the local MathJax, with no raw `$...$` left.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from .conftest import BROWSER, PageLog

pytestmark = BROWSER

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("*.ipynb"))
_MATH = re.compile(r"\$[^$\n]+\$|\\\(|\\\[")


def _has_maths(markdown: str) -> bool:
    return bool(_MATH.search(re.sub(r"`[^`\n]*`", "", markdown)))


def inspect(browser, url: str, screenshot: Path | None = None, mathjax_timeout_s: float = 60):
    """Open `url` with only file:// allowed; return (facts about the page, PageLog, problems found)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    blocked: list[str] = []

    def only_local(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    log = PageLog(page)
    problems: list[str] = []
    try:
        page.goto(url)
        try:
            page.wait_for_selector("body[data-mathjax=done]", state="attached", timeout=mathjax_timeout_s * 1000)
        except Exception:
            problems.append("MathJax never finished typesetting (is it loaded from the site's own mathjax/?)")
        page.wait_for_load_state("load")
        facts = page.evaluate("""() => ({
            images: [...document.images].map(i => ({src: i.src.slice(0, 80), complete: i.complete,
                                                  width: i.naturalWidth})),
            typeset: document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_SVG, mjx-container').length,
            mathErrors: document.querySelectorAll('.MathJax_Error, merror, [data-mjx-error]').length,
            prose: [...document.querySelectorAll('.jp-MarkdownOutput, .objectives')].map(e => e.innerText).join('\\n'),
            links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
        })""")
        broken = [i["src"] for i in facts["images"] if not (i["complete"] and i["width"] > 0)]
        if broken:
            problems.append(f"{len(broken)} image(s) did not load: {broken[:3]}")
        if facts["mathErrors"]:
            problems.append(f"{facts['mathErrors']} maths error(s) from MathJax")
        raw = re.findall(r"\$[^$\n]{1,60}\$", facts["prose"])
        if raw:
            problems.append(f"raw TeX left in the text: {raw[:3]}")
        remote = blocked + [u for u in log.requests if not u.startswith(("file://", "data:"))]
        if remote:
            problems.append(f"requests leaving the machine: {sorted(set(remote))[:3]}")
        if log.console_errors():
            problems.append(f"console errors: {log.console_errors()[:3]} (failed requests: {log.failed[:3]})")
        if screenshot is not None:
            image = page.locator("img").first
            if image.count():
                image.scroll_into_view_if_needed()
                page.evaluate("window.scrollBy(0, -300)")
            page.screenshot(path=str(screenshot))
        return facts, log, problems
    finally:
        context.close()


def test_index_lists_every_concept_with_lesson_exercise_time_and_objectives(browser, site, course, screenshots):
    facts, log, problems = inspect(browser, (site / "index.html").as_uri(), screenshots / "site-index.png")
    assert not problems, problems
    for name in LESSONS:
        assert f"lessons/{name}.html" in facts["links"], f"index has no link to lesson {name}"
        exercise = next((course.exercises / name).glob("*.ipynb"), None)
        if exercise is not None:
            assert f"exercises/{exercise.name}" in facts["links"]
            assert (site / "exercises" / exercise.name).read_bytes() == exercise.read_bytes()
    page = (site / "index.html").read_text(encoding="utf-8")
    assert page.count('class="concept"') == len(LESSONS)
    assert page.count("estimated time:") == len(LESSONS)
    assert page.count("<li>") >= 4 * len(LESSONS), "each lesson lists at least four learning objectives"
    assert facts["typeset"] > 0, "objectives with maths (lesson 01's neuron formula) should be typeset"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_page_shows_its_plots_and_typeset_equations(browser, site, lesson, screenshots):
    shot = screenshots / f"site-{lesson}.png" if lesson == "01_neuron" else None
    facts, log, problems = inspect(browser, (site / "lessons" / f"{lesson}.html").as_uri(), shot)
    assert not problems, problems
    assert facts["images"], f"{lesson} has no plot"
    markdown = "\n".join(c.source for c in nbformat.read(ROOT / "lessons" / f"{lesson}.ipynb", as_version=4).cells
                         if c.cell_type == "markdown")
    if _has_maths(markdown):
        assert facts["typeset"] > 0, f"{lesson} has maths in its text but nothing was typeset"
    assert "../index.html" in facts["links"]


def test_the_checks_catch_a_broken_page(browser, site, tmp_path):
    """A page with a missing image and MathJax from a CDN must fail every relevant check."""
    page = (site / "lessons" / "01_neuron.html").read_text(encoding="utf-8")
    local = re.search(r'<script src="(\.\./mathjax/MathJax\.js[^"]*)"', page)
    assert local, "the lesson page should load MathJax from ../mathjax/"
    broken = page.replace(local.group(1), "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js?config=TeX-AMS_CHTML")
    broken = broken.replace("<main>", '<main><img src="no-such-plot.png" alt="missing">', 1)
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "broken.html").write_text(broken, encoding="utf-8")
    _, _, problems = inspect(browser, (tmp_path / "lessons" / "broken.html").as_uri(), mathjax_timeout_s=5)
    text = " ".join(problems)
    for expected in ("MathJax never finished", "did not load", "raw TeX", "leaving the machine", "console errors"):
        assert expected in text, f"the checks missed {expected!r}: {problems}"
