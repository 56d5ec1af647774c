"""Committed notebooks: no outputs, stable metadata, and exercises/ generated from solutions/."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from autograder.course import Course
from autograder.generate import check_generated
from autograder.notebooks import dumps, graded_parts, is_solution_cell, nbgrader_meta, normalized, read_notebook

from .conftest import ROOT


def committed_notebooks():
    listed = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    on_disk = [p.relative_to(ROOT).as_posix() for d in ("lessons", "solutions", "exercises")
               for p in (ROOT / d).rglob("*.ipynb")]
    return sorted(set(listed) | set(on_disk))


@pytest.mark.parametrize("path", committed_notebooks())
def test_notebook_has_no_outputs_and_is_normalised(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    nb = json.loads(text)
    for cell in nb["cells"]:
        assert not cell.get("outputs"), f"{path}: a cell has outputs"
        assert cell.get("execution_count") is None, f"{path}: a cell has an execution count"
    assert set(nb["metadata"]) == {"kernelspec", "language_info"}
    assert text == dumps(normalized(read_notebook(ROOT / path))), \
        f"{path} is not normalised: run `python -m autograder tidy` (or generate for exercises/)"


def test_exercises_are_up_to_date_with_solutions(course):
    assert check_generated(course) == []


def test_generate_check_names_a_drifted_exercise(course, tmp_path):
    copy = Course(tmp_path / "course")
    shutil.copytree(course.solutions, copy.solutions)
    shutil.copytree(course.exercises, copy.exercises)
    assert check_generated(copy) == []
    source = copy.solutions / "01_neuron" / "01_neuron.ipynb"
    source.write_text(source.read_text().replace("Estimated time: 40 minutes", "Estimated time: 45 minutes"))
    assert [p.as_posix() for p in check_generated(copy)] == ["01_neuron/01_neuron.ipynb"]


@pytest.mark.parametrize("assignment", Course(ROOT).assignments())
def test_source_notebook_is_a_well_formed_exercise(course, assignment):
    nb = read_notebook(course.source_notebook(assignment))
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    parts = graded_parts(nb)
    assert len(parts) >= 3 and sum(p.points for p in parts) >= 10
    assert any("### BEGIN HIDDEN TESTS" in nb.cells[p.index].source for p in parts)
    for cell in nb.cells:
        if is_solution_cell(cell):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    checks = course.checks(assignment)
    called = "\n".join(nb.cells[p.index].source for p in parts)
    for check in checks.checks:
        assert f"checks.{check.name}(" in called, f"check {check.name} is never called by a test cell"


def test_grade_ids_are_unique_across_the_course(course):
    seen = {}
    for assignment in course.assignments():
        for part in graded_parts(read_notebook(course.source_notebook(assignment))):
            assert part.grade_id not in seen, f"{part.grade_id} in {assignment} and {seen[part.grade_id]}"
            seen[part.grade_id] = assignment
