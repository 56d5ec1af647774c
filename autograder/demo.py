"""`demo`: build a small class of submissions for 01_neuron and grade it.

The class: the reference solution, the untouched exercise, two partly wrong students,
and two who try to trick the grader. The same builders serve the test suite.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat

from .course import Course
from .notebooks import is_solution_cell, nbgrader_meta, read_notebook, write_notebook

_SOLUTION_REGION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*\n?", re.S | re.M)


def reference_answers(course: Course, assignment: str) -> dict[str, str]:
    """{solution grade_id: the full cell with the reference code, markers removed}."""
    source = read_notebook(course.source_notebook(assignment))
    return {nbgrader_meta(c)["grade_id"]: _SOLUTION_REGION.sub(r"\1", c.source)
            for c in source.cells if is_solution_cell(c)}


def edited(code: str, old: str, new: str) -> str:
    """Replace `old` by `new` in a reference answer, insisting that `old` is there."""
    if old not in code:
        raise ValueError(f"demo answer no longer contains {old!r}; update the demo to the solution")
    return code.replace(old, new)


def make_submission(course: Course, assignment: str, answers: dict[str, str], path: Path,
                    extra_cells: dict[str, str] | None = None) -> Path:
    """Write the released exercise with `answers` filled into its solution cells.

    `extra_cells` adds a student cell (code) right after the named nbgrader cell.
    """
    release = read_notebook(course.exercises / assignment / f"{assignment}.ipynb")
    cells = []
    for cell in release.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution_cell(cell) and grade_id in answers:
            cell.source = answers[grade_id]
        cells.append(cell)
        if extra_cells and grade_id in extra_cells:
            cells.append(nbformat.v4.new_code_cell(extra_cells[grade_id]))
    release.cells = cells
    write_notebook(release, path)
    return path


def neuron_class(course: Course, submitted: Path) -> dict[str, str]:
    """Build the 01_neuron demo class under submitted/; return {student: what they did}."""
    ref = reference_answers(course, "01_neuron")
    students = {
        "ada_reference": ("the reference solution", dict(ref), None),
        "ben_untouched": ("the exercise as released, untouched", {}, None),
        "cleo_no_bias": ("forgets the bias in neuron_forward", {
            **ref, "neuron_forward": edited(ref["neuron_forward"], "z = X @ w + b", "z = X @ w")}, None),
        "dev_partial": ("flips the update's sign and never sets the Keras weights", {
            **ref,
            "perceptron_update": edited(ref["perceptron_update"], "lr * (y - y_hat) * x", "lr * (y_hat - y) * x"),
            "keras_neuron": edited(ref["keras_neuron"], "    layer.set_weights([np.reshape(w, (-1, 1)), np.array([b])])\n", ""),
        }, None),
        "eve_always_equal": ("returns objects that claim to equal anything", {
            **{k: v for k, v in ref.items()},
            "neuron_forward": ALWAYS_EQUAL + "\n\ndef neuron_forward(X, w, b):\n    return AlwaysEqual()\n",
        }, None),
        "finn_patches_numpy": ("patches numpy.allclose and numpy.testing to always pass", {
            "neuron_forward": PATCH_NUMPY + "\n\ndef neuron_forward(X, w, b):\n    return np.zeros(len(X))\n",
        }, None),
    }
    if submitted.exists():
        shutil.rmtree(submitted)
    for student, (_, answers, extra) in students.items():
        make_submission(course, "01_neuron", answers, submitted / student / "01_neuron" / "01_neuron.ipynb", extra)
    return {student: description for student, (description, _, _) in students.items()}


ALWAYS_EQUAL = '''class AlwaysEqual:
    """Claims to equal anything, the classic trick against `assert result == expected`."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *args, **kwargs): return __import__("numpy").zeros(0)'''

PATCH_NUMPY = '''import numpy as np
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.array_equal = lambda *args, **kwargs: True'''
