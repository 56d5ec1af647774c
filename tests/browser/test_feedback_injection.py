"""A hostile student's feedback page in Chromium: nothing the student wrote runs, loads or navigates.

The page comes from `render_feedback`/`write_feedback` on tests/test_feedback_safety.py's hostile
notebook (script tags, event handlers, javascript: links, frames, SVG, forms, meta refresh, remote
CSS, dangerous output types) with a hostile student id and reason. It is opened from file:// and
from a loopback http.server (so that relative and same-origin loads would reach a real server),
then poked: every element gets mouse, focus and click events,
the mouse sweeps the page and Tab walks it. Every injected script sets `window.__pwned` or opens a
dialog. The same checks run on nbconvert's own page of that notebook must see it run (they can fail).
"""
from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from nbconvert import HTMLExporter

from autograder.grading.outputs import write_feedback

from ..test_feedback_safety import HOSTILE_ID, HOSTILE_REASON, hostile_notebook, hostile_result
from .conftest import BROWSER

pytestmark = BROWSER


class Visit:
    """What happened while a page was open: dialogs, console messages, errors, requests, navigations."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.navigations: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("framenavigated", lambda f: self.navigations.append(f.url))


def visit(browser, url: str, poke: bool = True) -> tuple[Visit, dict]:
    """Open `url`, wait for anything delayed (meta refresh, autofocus, ontoggle), poke the page; report."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    seen = Visit(page)
    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(1500)
        if poke:
            # Every element gets the events an inline handler would wait for (the evaluate comes from
            # Playwright, not the page, so the CSP does not stop it); then a real mouse sweep and tabbing.
            page.evaluate("""() => { for (const el of document.querySelectorAll('body *')) {
                for (const type of ['mouseover', 'mouseenter', 'mousemove', 'focus', 'focusin', 'click',
                                    'toggle', 'load', 'error', 'animationstart', 'transitionend'])
                    el.dispatchEvent(new Event(type, {bubbles: false}));
                if (el.focus) el.focus(); } }""")
            for y in range(0, 900, 60):
                page.mouse.move(600, y)
                page.mouse.move(100, y)
            for _ in range(20):
                page.keyboard.press("Tab")
            page.wait_for_timeout(500)
        facts = page.evaluate("""() => ({
            pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
            url: location.href,
            text: document.body ? document.body.innerText : '',
            scripts: document.scripts.length,
            frames: window.frames.length,
            images: [...document.images].map(i => ({src: i.src.slice(0, 40), ok: i.complete && i.naturalWidth > 0})),
        })""")
        return seen, facts
    finally:
        context.close()


def what_ran(seen: Visit, facts: dict, url: str) -> list[str]:
    """Everything that shows the page did more than display itself. [] for an inert page."""
    found = []
    if facts["pwned"] is not None:
        found.append(f"an injected script ran: window.__pwned = {facts['pwned']}")
    if seen.dialogs:
        found.append(f"dialogs opened: {seen.dialogs[:5]}")
    if seen.console or seen.errors:
        found.append(f"console messages: {(seen.console + seen.errors)[:5]}")
    others = [u for u in seen.requests if u != url and not u.startswith("data:")]
    if others:
        found.append(f"requests besides the page: {others[:5]}")
    if set(seen.navigations) != {url} or facts["url"] != url:
        found.append(f"the page navigated: {seen.navigations[:5]}")
    if facts["scripts"] or facts["frames"]:
        found.append(f"{facts['scripts']} script(s), {facts['frames']} frame(s) in the DOM")
    return found


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory) -> Path:
    return write_feedback(hostile_result(), tmp_path_factory.mktemp("hostile-feedback"))


class _Server:
    """A loopback http.server on a free port serving one folder, logging every request it gets."""

    def __init__(self, folder: Path):
        self.requests: list[str] = []
        log = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                log.append(f"{self.command} {self.path}")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_nothing_runs_from_file_url(browser, feedback_page):
    url = feedback_page.as_uri()
    seen, facts = visit(browser, url)
    assert what_ran(seen, facts, url) == []
    text = " ".join(facts["text"].split())
    # The prose's maths is typeset as MathML on the grader (typeset.py): the sentence is there, its TeX is not.
    assert "Student prose: the neuron computes" in text and "before the loss." in text
    # Chromium renders a MathML <mi>σ</mi> as the mathematical italic 𝜎 (U+1D70E) in its text.
    assert "\\sigma" not in text and ("σ" in text or "\U0001d70e" in text)
    assert HOSTILE_REASON in text and f"Student: {HOSTILE_ID}" in text
    assert "neuron_forward_test" in text and "0 / 2" in text
    assert any(i["src"].startswith("data:image/png") and i["ok"] for i in facts["images"])


def test_nothing_runs_or_loads_over_http(browser, feedback_page):
    server = _Server(feedback_page.parent)
    try:
        url = f"http://127.0.0.1:{server.port}/{feedback_page.name}"
        seen, facts = visit(browser, url)
        assert what_ran(seen, facts, url) == []
        assert server.requests == [f"GET /{feedback_page.name}"]
    finally:
        server.close()


def test_the_checks_see_nbconvert_s_own_page_run_the_student_s_scripts(browser, tmp_path):
    """Control: the page render_feedback used to write (nbconvert's, unsanitised) fails these checks."""
    unsafe, _ = HTMLExporter(template_name="lab").from_notebook_node(hostile_notebook())
    path = tmp_path / "unsafe.html"
    path.write_text(unsafe, encoding="utf-8", errors="replace")
    seen, facts = visit(browser, path.as_uri(), poke=False)
    found = " ".join(what_ran(seen, facts, path.as_uri()))
    # The student's <script> and onerror= opened their alerts, the remote CSS was fetched, and the
    # <meta refresh> (or the frames) took the page away.
    for expected in ("dialogs opened", "'script'", "'img'", "requests besides the page", "evil.css",
                     "the page navigated", "script(s)"):
        assert expected in found, f"the checks missed {expected!r}: {found}"


def test_the_poking_fires_any_inline_handler_left(browser, feedback_page, tmp_path):
    """Control: one event handler put back into the safe page (and its CSP taken out) is caught."""
    text = feedback_page.read_text(encoding="utf-8")
    csp = text[text.index('<meta http-equiv="Content-Security-Policy"'):]
    text = text.replace(csp[:csp.index(">") + 1], "", 1)
    text = text.replace("<main>", """<main><div onmouseover="window.__pwned='poked'">x</div>""", 1)
    path = tmp_path / "tampered.html"
    path.write_text(text, encoding="utf-8")
    seen, facts = visit(browser, path.as_uri())
    assert facts["pwned"] == "poked"


def test_report_page_shows_its_plots_and_runs_nothing(browser, tmp_path):
    from autograder.report import write_report

    students = [HOSTILE_ID, '"><img src=x onerror="window.__pwned=1">', "bob"]
    details = {"seeds": {}, "submissions": [
        {"student_id": s, "assignment": "01_neuron", "score": float(i), "max_score": 3.0,
         "reason": f"{HOSTILE_REASON} <script>window.__pwned=1</script>", "seconds": 1.0 + i,
         "parts": {"a_test": [float(i), 3.0]}, "failed_parts": {}} for i, s in enumerate(students)]}
    (tmp_path / "details.json").write_text(json.dumps(details))
    page = write_report(tmp_path)
    url = page.as_uri()
    seen, facts = visit(browser, url, poke=False)
    assert facts["pwned"] is None and seen.dialogs == [] and seen.errors == []
    assert seen.console == [], f"the report printed to the console (a CSP violation?): {seen.console}"
    pngs = {u for u in seen.requests if u.endswith(".png")}
    # Two students lost points on a_test, so the report also draws what the class got wrong.
    drawn = ("totals.png", "part_pass_rates.png", "grading_time.png", "mistakes.png")
    assert pngs == {(page.parent / n).as_uri() for n in drawn}
    assert len(facts["images"]) == len(drawn) and all(i["ok"] for i in facts["images"]), facts["images"]
    assert set(seen.requests) == pngs | {url}
    assert HOSTILE_ID in facts["text"] and '"><img src=x onerror="window.__pwned=1">' in facts["text"]
