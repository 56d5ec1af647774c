"""Every lesson runs, once, in the site build: without an error, and with the plots it promises.

The build (the `site` fixture in conftest.py) executes every lesson in a fresh kernel and stops at the
first error, so a lesson that raises fails here. The browser tests reuse the same build; this module
needs no browser, so lessons are checked even where Chromium is missing.
"""
from __future__ import annotations

import re

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("browser")]

LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("*.ipynb"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_executed_with_its_plots(site, lesson):
    page = (site / "lessons" / f"{lesson}.html").read_text(encoding="utf-8")
    plots = re.findall(r'<img[^>]+src="data:image/png;base64,', page)
    assert len(plots) >= 2, f"{lesson}: a lesson shows at least two plots, found {len(plots)}"


def test_index_links_every_lesson_and_exercise(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    for lesson in LESSONS:
        assert f'href="lessons/{lesson}.html"' in index, lesson
    for exercise in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        assert f'href="exercises/{exercise.name}"' in index, exercise.name
        assert (site / "exercises" / exercise.name).read_bytes() == exercise.read_bytes()


def test_links_between_lessons_lead_to_their_pages(site):
    """A lesson's link to another lesson (NN_topic.ipynb in the notebook) is a page of the site."""
    found = 0
    for lesson in LESSONS:
        page = (site / "lessons" / f"{lesson}.html").read_text(encoding="utf-8")
        assert not re.findall(r'href="\d{2}_[a-z0-9_]+\.ipynb"', page), lesson
        for target in re.findall(r'href="(\d{2}_[a-z0-9_]+)\.html"', page):
            found += 1
            assert (site / "lessons" / f"{target}.html").is_file(), (lesson, target)
    assert found, "no lesson links another one"
