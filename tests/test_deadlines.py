"""Deadlines with nbgrader's semantics: timestamp.txt, the gradebook's due date, its late-penalty plugins.

The grading itself is replaced by full marks for everyone (no kernel runs), so what is tested is
what the grading process does with the times: the rows of grades.csv, the gradebook, the real
`nbgrader export`, the LMS CSV and the feedback page.
"""
from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from autograder.grading.deadlines import read_timestamp
from autograder.notebooks import graded_parts, read_notebook

from .nbgrader_commands import nbgrader, run_steps

pytestmark = pytest.mark.xdist_group("deadlines")  # one worker builds the graded course once

DUE = "2026-03-01 12:00:00 UTC"
TIMESTAMPS = {
    "alice_on_time": "2026-03-01 11:00:00.000000 UTC",
    "bob_late": "2026-03-01 15:24:00.000000 UTC",          # 3.4 hours late
    "carol_no_timestamp": None,
    "dan_malformed": "sometime on Sunday, honest",
    "erin_extension": "2026-03-01 06:00:00 America/Los_Angeles",  # 14:00 UTC, within her 3-hour extension
}
LATE_PLUGIN = '''from nbgrader.plugins import BasePlugin


class SubMarks(BasePlugin):
    """nbgrader's documented example: a penalty of 1 point per hour late."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return round(total_seconds_late / 3600, 0)
'''


def make_course_directory(course, root: Path, config_lines: list[str]) -> Path:
    """An nbgrader course directory for 01_neuron: config, source/ and release/ (our generated one)."""
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("\n".join([
        "c = get_config()", f"c.CourseDirectory.root = {str(root)!r}", "c.CourseDirectory.course_id = 'keras101'",
        *config_lines]) + "\n")
    for folder, origin in (("source", course.solutions), ("release", course.exercises)):
        (root / folder / "01_neuron").mkdir(parents=True)
        shutil.copy(origin / "01_neuron" / "01_neuron.ipynb", root / folder / "01_neuron")
    return root


def add_submissions(course, root: Path) -> None:
    for student, stamp in TIMESTAMPS.items():
        folder = root / "submitted" / student / "01_neuron"
        folder.mkdir(parents=True)
        shutil.copy(course.exercises / "01_neuron" / "01_neuron.ipynb", folder)
        if stamp is not None:
            (folder / "timestamp.txt").write_text(stamp + "\n")


def full_marks_for_everyone(monkeypatch, course):
    """Replace the kernels: each submission gets full marks, as if graded (grading is tested elsewhere)."""
    from autograder.grading import runner
    from autograder.grading.outputs import render_feedback
    from autograder.grading.submission import PartResult, SubmissionResult
    from autograder.grading.workers import GradedSubmission

    parts = graded_parts(read_notebook(course.source_notebook("01_neuron")))

    def fake_run_local(references, work, options, workers, reference_jobs=()):
        for packed in work:
            result = SubmissionResult(packed.student, packed.assignment, "01_neuron",
                                      [PartResult(p.grade_id, p.points, p.points) for p in parts])
            yield packed, GradedSubmission(result, render_feedback(result), "test")

    monkeypatch.setattr(runner, "_build_references", lambda course, needed, *a, **k: {n: object() for n in needed})
    monkeypatch.setattr(runner, "run_local", fake_run_local)


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row.get("student_id"): row for row in csv.DictReader(handle)}


def test_timestamps_are_read_as_nbgrader_reads_them(tmp_path):
    (tmp_path / "timestamp.txt").write_text("2026-03-01 06:00:00.5 America/Los_Angeles\n")
    assert read_timestamp(tmp_path) == (datetime(2026, 3, 1, 14, 0, 0, 500000), "")
    (tmp_path / "timestamp.txt").write_text("2026-03-01 11:00:00.000000 UTC")
    assert read_timestamp(tmp_path) == (datetime(2026, 3, 1, 11, 0), "")
    (tmp_path / "timestamp.txt").write_text("  \n")
    assert read_timestamp(tmp_path) == (None, "")  # empty: unknown, as in nbgrader
    (tmp_path / "timestamp.txt").unlink()
    assert read_timestamp(tmp_path) == (None, "")
    (tmp_path / "timestamp.txt").write_text("yesterday-ish")
    moment, problem = read_timestamp(tmp_path)
    assert moment is None and "'yesterday-ish'" in problem and "not a time nbgrader can read" in problem
    (tmp_path / "timestamp.txt").unlink()
    (tmp_path / "elsewhere.txt").write_text(TIMESTAMPS["alice_on_time"])
    (tmp_path / "timestamp.txt").symlink_to(tmp_path / "elsewhere.txt")  # never followed
    moment, problem = read_timestamp(tmp_path)
    assert moment is None and "could not be read" in problem


@pytest.fixture(scope="module")
def late_course(course, tmp_path_factory):
    """Graded once with the course's own plugin (1 point per hour late), due date and extension.
    (The last test of this module changes the due date.)"""
    from nbgrader.api import Gradebook

    from autograder.grading.runner import grade_class

    tmp_path = tmp_path_factory.mktemp("late")
    root = make_course_directory(course, tmp_path / "course", ["c.AssignLatePenalties.plugin_class = 'late.SubMarks'"])
    (root / "late.py").write_text(LATE_PLUGIN)
    add_submissions(course, root)
    run_steps([nbgrader("db", "assignment", "add", "01_neuron", f"--duedate={DUE}", cwd=root),
               *(nbgrader("db", "student", "add", s, cwd=root) for s in TIMESTAMPS)], tmp_path)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "keras101") as gb:  # what formgrader's "extension" does
        gb.add_submission("01_neuron", "erin_extension")
        gb.grant_extension("01_neuron", "erin_extension", hours=3)
    with pytest.MonkeyPatch.context() as monkeypatch:
        full_marks_for_everyone(monkeypatch, course)
        results = grade_class(course, root, workers=1, progress=lambda line: None)
    return root, {r.student: r for r in results}


def test_lateness_and_penalty_follow_the_course_plugin(late_course, tmp_path):
    root, results = late_course
    table = rows(root / "graded" / "grades.csv")
    assert set(table) == set(TIMESTAMPS)
    header = (root / "graded" / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[-7:] == ["raw_score", "late_penalty", "timestamp", "duedate", "seconds_late", "reason", "sandbox"]
    expect = {  # score, raw, penalty, seconds late, timestamp
        "alice_on_time": ("11", "11", "0", "0", "2026-03-01 11:00:00"),
        "bob_late": ("8", "11", "3", "12240", "2026-03-01 15:24:00"),
        "carol_no_timestamp": ("11", "11", "0", "0", ""),
        "dan_malformed": ("11", "11", "0", "0", ""),
        "erin_extension": ("11", "11", "0", "0", "2026-03-01 14:00:00"),
    }
    for student, (score, raw, penalty, late, stamp) in expect.items():
        row = table[student]
        assert (row["score"], row["raw_score"], row["late_penalty"], row["seconds_late"], row["timestamp"]) == \
            (score, raw, penalty, late, stamp), student
        due = "2026-03-01 15:00:00" if student == "erin_extension" else "2026-03-01 12:00:00"  # + extension
        assert row["duedate"] == due and row["max_score"] == "11"
    assert table["alice_on_time"]["reason"] == "" and table["bob_late"]["reason"] == ""
    assert "no timestamp.txt, so lateness was not checked" in table["carol_no_timestamp"]["reason"]
    assert "'sometime on Sunday, honest'" in table["dan_malformed"]["reason"]
    assert "not a time nbgrader can read" in table["dan_malformed"]["reason"]

    details = {d["student_id"]: d for d in json.loads((root / "graded" / "details.json").read_text())["submissions"]}
    assert (details["bob_late"]["score"], details["bob_late"]["raw_score"], details["bob_late"]["late_penalty"]) == \
        (8, 11, 3)
    page = (root / "graded" / "feedback" / "bob_late" / "01_neuron" / "01_neuron.html").read_text()
    assert "3 h 24 min late" in page and "late penalty: 3 points" in page and "8 / 11" in page
    assert "on time" in (root / "graded" / "feedback" / "erin_extension" / "01_neuron" / "01_neuron.html").read_text()


def test_gradebook_export_and_lms_csv_carry_the_penalty(late_course, tmp_path):
    from nbgrader.api import Gradebook

    from autograder.report import write_report

    root, _ = late_course
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "keras101") as gb:
        bob = gb.find_submission("01_neuron", "bob_late")
        assert bob.timestamp == datetime(2026, 3, 1, 15, 24) and bob.total_seconds_late == 12240
        assert bob.late_submission_penalty == 3 and bob.score == 11
        assert gb.find_submission("01_neuron", "carol_no_timestamp").timestamp is None
        assert gb.find_submission("01_neuron", "erin_extension").total_seconds_late == 0
    run_steps([nbgrader("export", "--to", tmp_path / "export.csv", cwd=root)], tmp_path)
    exported = {r["student_id"]: r for r in csv.DictReader((tmp_path / "export.csv").open())}
    assert (exported["bob_late"]["raw_score"], exported["bob_late"]["late_submission_penalty"],
            exported["bob_late"]["score"], exported["bob_late"]["timestamp"]) == ("11.0", "3.0", "8.0",
                                                                                   "2026-03-01 15:24:00")
    assert exported["alice_on_time"]["late_submission_penalty"] == "0.0"
    assert exported["carol_no_timestamp"]["timestamp"] == "" and exported["carol_no_timestamp"]["score"] == "11.0"
    page = write_report(root / "graded")
    assert "1 late submission(s) lost 3 point(s)" in page.read_text()
    lms = (page.parent / "lms_grades.csv").read_text().splitlines()
    assert lms[1] == "Points Possible,11,11"
    assert "bob_late,8,8" in lms and "alice_on_time,11,11" in lms


def test_a_new_due_date_changes_the_penalty_without_regrading(late_course, course, monkeypatch):
    """The penalty is the gradebook's, worked out again on every run (the grades themselves are reused)."""
    from nbgrader.api import Gradebook

    from autograder.grading.runner import grade_class

    root, _ = late_course
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "keras101") as gb:
        gb.update_or_create_assignment("01_neuron", duedate="2026-03-01 14:00:00 UTC")
    def nothing_to_grade(references, work, *args, **kwargs):
        assert not list(work), "nothing should be graded again"
        return iter(())

    monkeypatch.setattr("autograder.grading.runner.run_local", nothing_to_grade)
    lines = []
    results = {r.student: r for r in grade_class(course, root, workers=1, progress=lines.append)}
    assert any("already graded" in line for line in lines)
    assert (results["bob_late"].late_penalty, results["bob_late"].score) == (1, 10)  # 1.4 h late now
    assert rows(root / "graded" / "grades.csv")["bob_late"]["late_penalty"] == "1"


def test_zero_penalty_method(course, tmp_path, monkeypatch):
    """`c.LateSubmissionPlugin.penalty_method = 'zero'`: a late submission scores 0, an on-time one keeps its score."""
    from nbgrader.api import Gradebook

    from autograder.grading.runner import grade_class

    root = make_course_directory(course, tmp_path / "course", ["c.LateSubmissionPlugin.penalty_method = 'zero'"])
    add_submissions(course, root)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "keras101") as gb:  # as `nbgrader db assignment add`
        gb.update_or_create_assignment("01_neuron", duedate=DUE)
    full_marks_for_everyone(monkeypatch, course)
    results = {r.student: r for r in grade_class(course, root, workers=1, progress=lambda line: None)}
    assert (results["bob_late"].score, results["bob_late"].late_penalty, results["bob_late"].raw_score) == (0, 11, 11)
    assert results["alice_on_time"].score == 11 and results["carol_no_timestamp"].score == 11
    assert rows(root / "graded" / "grades.csv")["bob_late"]["score"] == "0"


def test_a_plugin_that_cannot_be_loaded_is_a_one_line_error(course, tmp_path):
    import subprocess
    import sys

    root = make_course_directory(course, tmp_path / "course", ["c.AssignLatePenalties.plugin_class = 'nowhere.Plugin'"])
    add_submissions(course, root)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(root)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "late-submission plugin" in lines[0] and "nowhere" in lines[0]
