"""Notebooks that run in a kernel: `grade` on each solution and exercise, `validate` on each exercise and
three solutions.

Every lesson is executed once, by the site build (tests/test_site_build.py)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from autograder.course import Course

from .conftest import ROOT

pytestmark = pytest.mark.kernel


#: The solutions `validate` runs whole. Every solution's public checks pass in-process in its catalogue
#: (test_reference_passes_public_and_grading), and every solution runs whole in a kernel in the grade test
#: below; these three add the command itself on a plain NumPy exercise, a Keras one and the capstone, whose
#: manually graded answer and time budget validate must take in its stride.
VALIDATED_SOLUTIONS = ["01_neuron", "06_optimizers", "18_capstone"]


def _validate(notebook):
    return subprocess.run([sys.executable, "-m", "autograder", "validate", str(notebook)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("assignment", VALIDATED_SOLUTIONS)
def test_validate_passes_the_solution(course, assignment):
    result = _validate(course.source_notebook(assignment))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout and result.stdout.count("PASS") >= 3


@pytest.mark.parametrize("assignment", Course(ROOT).assignments())
def test_validate_fails_every_part_of_the_untouched_exercise(course, assignment):
    exercise = course.exercises / assignment / course.source_notebook(assignment).name
    result = _validate(exercise)
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
    ref, untouched = results["ref"], results["untouched"]
    # Every autograded part earns full marks; a manually graded answer (the capstone's analysis) waits for
    # formgrader: it counts 0 points so far and says so, in the result and in grades.csv.
    manual = [p.grade_id for p in ref.manual_parts]
    assert manual == (["analysis"] if assignment == "18_capstone" else [])
    assert all(p.points == p.max_points for p in ref.parts) and sum(p.max_points for p in ref.parts) >= 10
    assert ref.awaiting == manual and ref.score == ref.max_score - sum(p.max_points for p in ref.manual_parts)
    assert ref.reason == ""
    assert untouched.score == 0 and untouched.awaiting == [] and untouched.reason == ""
    assert len(ref.parts) >= 3
    if manual:
        import csv

        with (tmp_path / "out" / "grades.csv").open(newline="") as handle:
            rows = {row["student_id"]: row for row in csv.DictReader(handle)}
        for grade_id in manual:
            assert rows["ref"][grade_id] == "awaiting manual grading"
            assert rows["untouched"][grade_id] == "0"
        from nbgrader.api import Gradebook

        points = {p.grade_id: p.max_points for p in ref.manual_parts}
        with Gradebook(f"sqlite:///{tmp_path / 'out' / 'gradebook.db'}") as gb:
            for grade_id in manual:  # formgrader's view: the cell with its points, waiting for a grader
                answer = gb.find_grade(grade_id, assignment, assignment, "ref")
                assert (answer.auto_score, answer.manual_score, answer.needs_manual_grade) == (None, None, True)
                assert answer.max_score == points[grade_id] > 0
                assert gb.find_submission(assignment, "ref").needs_manual_grade
                blank = gb.find_grade(grade_id, assignment, assignment, "untouched")
                assert (blank.auto_score, blank.needs_manual_grade) == (0, False)  # nbgrader: no response, 0
