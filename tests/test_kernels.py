"""Notebooks that run in a kernel: `validate` and `grade` on each solution and exercise.

Every lesson is executed once, by the site build (tests/test_site_build.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.course import Course

from .conftest import ROOT

pytestmark = pytest.mark.kernel


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
