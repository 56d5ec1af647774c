"""Feedback pages typeset their maths with nothing fetched: Chromium, every non-file request aborted.

The page is the feedback of 01_neuron's released exercise (its statements hold inline and display
maths, fractions included), rendered by `render_feedback`, which turns the TeX into MathML on the
grader (typeset.py). The page runs no script, so what Chromium lays out is what any reader sees.
"""
from __future__ import annotations

import pytest

from autograder.grading.outputs import write_feedback
from autograder.grading.submission import PartResult, SubmissionResult
from autograder.notebooks import read_notebook

from ..conftest import ROOT
from .conftest import BROWSER

pytestmark = BROWSER


@pytest.fixture(scope="module")
def maths_page(tmp_path_factory):
    notebook = read_notebook(ROOT / "exercises" / "01_neuron" / "01_neuron.ipynb")
    result = SubmissionResult("ada", "01_neuron", "01_neuron",
                              [PartResult("neuron_forward", 3, 3), PartResult("perceptron_update", 3, 2, "x",
                                                                              "the bias b is missing")], "")
    result.feedback_notebook = notebook
    return write_feedback(result, tmp_path_factory.mktemp("maths"))


def test_maths_is_typeset_offline_with_nothing_fetched(browser, maths_page, screenshots):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requests, aborted, errors = [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    page.route("**/*", only_files)
    page.goto(maths_page.as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    layout = page.evaluate("""() => {
        const maths = [...document.querySelectorAll('math')];
        const fracs = [...document.querySelectorAll('mfrac')].map(f => {
            const [top, bottom] = [...f.children].map(c => c.getBoundingClientRect());
            return {numeratorAbove: top.bottom <= bottom.top + 1, width: f.getBoundingClientRect().width};
        });
        const prose = [...document.querySelectorAll('.jp-MarkdownOutput')].map(e => e.innerText).join('\\n');
        return {count: maths.length, drawn: maths.filter(m => m.getBoundingClientRect().width > 0).length,
                fracs, rawTex: (prose.match(/\\\\(sigma|frac|partial)|\\$\\$/g) || []).length};
    }""")
    page.screenshot(path=str(screenshots / "feedback-maths-01_neuron.png"), full_page=False)
    context.close()
    assert layout["count"] >= 5 and layout["drawn"] == layout["count"], layout
    assert layout["fracs"] and all(f["numeratorAbove"] and f["width"] > 0 for f in layout["fracs"]), layout
    assert layout["rawTex"] == 0, layout
    assert aborted == [] and all(url.startswith("file://") for url in requests), (aborted, requests)
    assert errors == [], errors

