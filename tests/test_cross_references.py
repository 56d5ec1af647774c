"""A notebook that names another lesson links to it, and the number in the text is the file's."""
from __future__ import annotations

import nbformat

from autograder.cross_references import check_course, check_notebook
from autograder.notebooks import write_notebook

from .conftest import ROOT


def test_every_lesson_reference_in_the_course_links_to_the_right_lesson():
    bad = check_course(ROOT)
    assert not bad, "\n".join(map(str, bad[:20]))


def _lesson_dir(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    for name in ("05_backprop", "06_optimizers"):
        write_notebook(nbformat.v4.new_notebook(), lessons / f"{name}.ipynb")
    return lessons


def _notebook(tmp_path, folder, text):
    path = tmp_path / folder / "x.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text)]
    write_notebook(nb, path)
    return path


def test_right_links_pass_and_each_kind_of_wrong_reference_is_named(tmp_path):
    lessons = _lesson_dir(tmp_path)
    good = _notebook(tmp_path, "lessons", "See [lesson 05](05_backprop.ipynb) and lessons [05](05_backprop.ipynb) "
                                          "and [06](06_optimizers.ipynb). `lesson 3` in code is not a reference.")
    assert check_notebook(good, lessons) == []
    from_solution = _notebook(tmp_path, "solutions/07_fitting", "As [Lesson 6](../../lessons/06_optimizers.ipynb) showed.")
    assert check_notebook(from_solution, lessons) == []
    cases = {
        "lesson 04 compares the optimizers": "without a link",
        "[lesson 04](06_optimizers.ipynb) compares the optimizers": "does not name lesson 06",
        "[lesson 07](07_fitting.ipynb)": "does not exist",
        "[lesson 05](https://example.org/backprop)": "to no lesson",
    }
    for text, problem in cases.items():
        found = check_notebook(_notebook(tmp_path, "lessons", text), lessons)
        assert len(found) == 1 and problem in found[0].problem, (text, found)
