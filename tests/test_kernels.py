"""Notebooks that run in a kernel: every lesson, and `validate` on the solution and the exercise."""
from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.course import Course
from autograder.grading.execute import execute, kernel_environment
from autograder.notebooks import read_notebook

from .conftest import ROOT

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("lesson", sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb")))
def test_lesson_executes_without_error(course, lesson, tmp_path):
    path = course.lessons / lesson
    executed = execute(read_notebook(path), workdir=path.parent, env=kernel_environment(None, course.root))
    assert executed.problem == ""
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(executed.notebook.cells)
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    images = [o for c in executed.notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 2, "a lesson shows at least two plots"


@pytest.mark.parametrize("assignment", Course(ROOT).assignments())
def test_validate_solution_passes_and_exercise_fails(course, assignment):
    solution = course.source_notebook(assignment)
    result = subprocess.run([sys.executable, "-m", "autograder", "validate", str(solution)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout and result.stdout.count("PASS") >= 3

    exercise = course.exercises / assignment / solution.name
    result = subprocess.run([sys.executable, "-m", "autograder", "validate", str(exercise)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1
    assert "PASS" not in result.stdout
    assert result.stdout.count("not implemented yet") >= 3


@pytest.mark.parametrize("assignment", Course(ROOT).assignments())
def test_grade_gives_reference_full_marks_and_untouched_exercise_zero(course, assignment, tmp_path):
    from autograder.demo import make_submission, reference_answers
    from autograder.grading.runner import grade_class

    name = f"{assignment}.ipynb"
    make_submission(course, assignment, reference_answers(course, assignment), tmp_path / "s" / "ref" / assignment / name)
    make_submission(course, assignment, {}, tmp_path / "s" / "untouched" / assignment / name)
    results = {r.student: r for r in grade_class(course, tmp_path / "s", tmp_path / "out", progress=lambda line: None)}
    assert results["ref"].score == results["ref"].max_score >= 10 and results["ref"].reason == ""
    assert results["untouched"].score == 0 and results["untouched"].reason == ""
    assert len(results["ref"].parts) >= 3
