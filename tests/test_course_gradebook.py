"""Writing a course's gradebook while formgrader may use it: one transaction, nothing of formgrader's lost.

No kernel runs: results are made up, the gradebook and its rules are nbgrader's.
"""
from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest

from autograder.grading.gradebook import record_results
from autograder.grading.submission import PartResult, SubmissionResult
from autograder.notebooks import graded_parts, read_notebook

pytestmark = pytest.mark.xdist_group("course_gradebook")


def results_for(course, points: float) -> list[SubmissionResult]:
    parts = graded_parts(read_notebook(course.source_notebook("01_neuron")))
    return [SubmissionResult(s, "01_neuron", "01_neuron", [PartResult(p.grade_id, p.points, min(points, p.points))
                                                           for p in parts]) for s in ("ann", "ben")]


@pytest.fixture(scope="module")
def first_run(course, tmp_path_factory):
    """A gradebook after one run (made once: a new gradebook costs nbgrader an alembic run)."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    record_results(f"sqlite:///{path}", course, results_for(course, 0))
    return path


@pytest.fixture
def gradebook(first_run, tmp_path):
    shutil.copyfile(first_run, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}", tmp_path / "gradebook.db"


def test_what_formgrader_wrote_is_kept(course, gradebook):
    from nbgrader.api import Gradebook

    url, _ = gradebook
    with Gradebook(url) as gb:
        grade = gb.find_grade("neuron_forward_test", "01_neuron", "01_neuron", "ann")
        grade.manual_score, grade.extra_credit, grade.needs_manual_grade = 2.0, 0.5, False
        gb.find_comment("neuron_forward", "01_neuron", "01_neuron", "ann").manual_comment = "see me"
        gb.find_student("ann").first_name = "Ann"
        gb.db.commit()
    recorded = record_results(url, course, results_for(course, 3), reused={("ann", "01_neuron")})
    with Gradebook(url) as gb:
        grade = gb.find_grade("neuron_forward_test", "01_neuron", "01_neuron", "ann")
        assert (grade.auto_score, grade.manual_score, grade.extra_credit) == (3, 2.0, 0.5)
        assert grade.needs_manual_grade  # the automatic score changed under a person's: review it
        assert gb.find_comment("neuron_forward", "01_neuron", "01_neuron", "ann").manual_comment == "see me"
        assert gb.find_student("ann").first_name == "Ann"
    assert recorded[("ann", "01_neuron")].grades["neuron_forward_test"].score == 2.5  # manual + extra credit


def test_a_failed_run_leaves_the_gradebook_as_it_was(course, gradebook, monkeypatch):
    from nbgrader.api import Gradebook

    from autograder.grading import gradebook as module

    url, _ = gradebook
    calls = []
    original = module.GradebookWriter.record_result

    def fail_on_the_second(self, result, *args, **kwargs):
        calls.append(result.student)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(self, result, *args, **kwargs)

    monkeypatch.setattr(module.GradebookWriter, "record_result", fail_on_the_second)
    with pytest.raises(RuntimeError):
        record_results(url, course, results_for(course, 3))
    with Gradebook(url) as gb:  # not even the first student's new scores: all or nothing
        assert {s.student.id: s.score for s in gb.assignment_submissions("01_neuron")} == {"ann": 0, "ben": 0}


def test_a_write_formgrader_is_making_is_waited_for_not_lost(course, gradebook):
    url, path = gradebook
    holding, done = threading.Event(), threading.Event()

    def formgrader():  # a person saves a score while `grade` runs: its own connection, its own transaction
        connection = sqlite3.connect(path, timeout=30)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE grade SET manual_score = 1.0 WHERE id IN (SELECT grade.id FROM grade "
                           "JOIN base_cell ON base_cell.id = grade.cell_id WHERE base_cell.name = 'keras_neuron_test')")
        holding.set()
        time.sleep(1.5)
        connection.commit()
        connection.close()
        done.set()

    thread = threading.Thread(target=formgrader)
    thread.start()
    holding.wait(10)
    started = time.monotonic()
    recorded = record_results(url, course, results_for(course, 3))
    thread.join()
    assert done.is_set() and time.monotonic() - started > 0.5  # it waited for formgrader's transaction
    for key in (("ann", "01_neuron"), ("ben", "01_neuron")):
        grades = recorded[key].grades
        assert grades["keras_neuron_test"].manual_score == 1.0 and grades["keras_neuron_test"].score == 1.0
        assert grades["neuron_forward_test"].score == 3
