"""An nbgrader course directory end to end, with nbgrader's own commands and a real local exchange.

The instructor adds students and a due date (`nbgrader db`), generates and releases 01_neuron;
two students, each with their own HOME (so their own exchange cache), fetch it, answer it and
submit; the instructor collects, grades with `python -m autograder grade COURSE_DIR`, then runs
`generate_feedback` and `release_feedback`, and each student runs `fetch_feedback`. The module
grades once (xdist group "nbgrader_course"); its tests read what each step left.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.demo import edited, reference_answers

from .nbgrader_commands import fill, nbgrader, run_steps, student_env

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("nbgrader_course")]

COURSE_ID = "keras101"
STUDENTS = ("alice", "bob")


def grade(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m autograder grade ROOT ARGS`, run in this process (its modules are loaded already)."""
    from autograder import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["grade", str(root), *args])
    return subprocess.CompletedProcess(["grade", str(root), *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def round_trip(course, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nbgrader_course")
    root, exchange = tmp / "course", tmp / "exchange"
    (root / "source" / "01_neuron").mkdir(parents=True)
    exchange.mkdir()
    shutil.copy(course.source_notebook("01_neuron"), root / "source" / "01_neuron")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n")
    ref = reference_answers(course, "01_neuron")
    answers = {"alice": ref, "bob": {**ref, "neuron_forward": edited(ref["neuron_forward"], "z = X @ w + b", "z = X @ w")}}
    homes = {s: tmp / "home" / s for s in STUDENTS}
    exchange_flags = ["--course", COURSE_ID, f"--Exchange.root={exchange}"]
    steps = [nbgrader("db", "student", "add", "alice", "--first-name=Alice", "--last-name=Liddell", cwd=root),
             nbgrader("db", "student", "add", "bob", cwd=root),
             nbgrader("db", "assignment", "add", "01_neuron", "--duedate=2099-01-01 00:00:00 UTC", cwd=root),
             nbgrader("generate_assignment", "01_neuron", cwd=root),
             nbgrader("release_assignment", "01_neuron", cwd=root)]
    for student, home in homes.items():
        home.mkdir(parents=True)
        env = student_env(home)
        steps += [nbgrader("fetch_assignment", "01_neuron", *exchange_flags, cwd=home, env=env),
                  fill(home / "01_neuron" / "01_neuron.ipynb", answers[student]),
                  nbgrader("submit", "01_neuron", *exchange_flags, f"--student={student}", cwd=home, env=env)]
    steps.append(nbgrader("collect", "01_neuron", cwd=root))
    run_steps(steps, tmp)

    graded = grade(root, "--workers", "1")
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]

    steps = [nbgrader("generate_feedback", "01_neuron", cwd=root), nbgrader("release_feedback", "01_neuron", cwd=root)]
    steps += [nbgrader("fetch_feedback", "01_neuron", *exchange_flags, f"--student={s}", cwd=h, env=student_env(h))
              for s, h in homes.items()]
    steps.append(nbgrader("export", "--to", tmp / "export.csv", cwd=root))
    run_steps(steps, tmp)
    return root, homes, tmp


def fetched_pages(home: Path) -> list[Path]:
    return sorted((home / "01_neuron" / "feedback").glob("*/*.html"))


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_each_student_fetches_their_own_feedback_with_our_verdicts(round_trip):
    root, homes, _ = round_trip
    pages = {s: fetched_pages(h) for s, h in homes.items()}
    assert all(len(p) == 1 for p in pages.values()), pages
    for student, (page,) in pages.items():
        # fetch_feedback files it under the submission's own time, which collect put in timestamp.txt
        stamp = (root / "submitted" / student / "01_neuron" / "timestamp.txt").read_text().strip()
        assert page.parent.name == stamp and page.name == "01_neuron.html"
    alice, bob = (pages[s][0].read_text() for s in STUDENTS)
    for part, points in (("neuron_forward_test", 3), ("perceptron_update_test", 2), ("train_perceptron_test", 3),
                         ("keras_neuron_test", 3)):
        assert f"✓ {part}: {points} / {points} points" in alice
    assert "✗ neuron_forward_test: 0 / 3 points" in bob and "The bias b is missing" in bob
    assert "✓ keras_neuron_test: 3 / 3 points" in bob
    assert "The bias b is missing" not in alice and "✗" not in alice
    assert re.search(r"Score: 11(\.0)? / 11", alice) and re.search(r"Score: 8(\.0)? / 11", bob)


def test_feedback_has_no_hidden_tests_or_grader_inputs(round_trip, course):
    from autograder.checks.core import dump_inputs

    root, homes, _ = round_trip
    seed = json.loads((root / "graded" / "details.json").read_text())["seeds"]["01_neuron"]
    numbers = []

    def walk(value):
        if isinstance(value, float) and len(repr(value)) >= 8:
            numbers.append(repr(value)[:8])
        elif isinstance(value, dict):
            [walk(v) for v in value.values()]
        elif isinstance(value, list):
            [walk(v) for v in value]

    walk(json.loads(dump_inputs(course.checks("01_neuron").secret_inputs(seed))))
    assert len(numbers) > 10
    files = [p for h in homes.values() for p in fetched_pages(h)]
    files += sorted((root / "feedback").glob("*/01_neuron/*.html")) + sorted((root / "autograded").glob("*/01_neuron/*.ipynb"))
    assert len(files) == 6
    for path in files:
        text = path.read_text()
        assert "HIDDEN TESTS" not in text and ".hidden(" not in text, path
        assert "vnd.autograder.report" not in text, path
        assert not [n for n in numbers if n in text], path
    for path in sorted((root / "autograded").glob("*/01_neuron/01_neuron.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        tests = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade") and c["cell_type"] == "code"]
        assert len(tests) == 4
        for cell in tests:  # the released test cell, with the grader's verdict as its only output
            assert [o["output_type"] for o in cell["outputs"]] == ["stream"]
            assert "".join(cell["outputs"][0]["text"]).startswith(("✓", "✗"))


def test_scores_are_in_the_course_gradebook_and_nbgrader_export(round_trip):
    from nbgrader.api import Gradebook

    root, _, tmp = round_trip
    assert not (root / "graded" / "gradebook.db").exists()  # the course's own gradebook, not a copy
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("01_neuron")}
        part = gb.find_grade("neuron_forward_test", "01_neuron", "01_neuron", "bob")
        assert (part.auto_score, part.manual_score, part.needs_manual_grade) == (0, None, False)
        assert gb.find_submission("01_neuron", "alice").timestamp is not None
    assert scores == {"alice": 11, "bob": 8}
    exported = read_csv(tmp / "export.csv")
    assert (exported["alice"]["raw_score"], exported["alice"]["score"], exported["bob"]["score"]) == ("11.0", "11.0", "8.0")
    assert exported["alice"]["first_name"] == "Alice" and exported["alice"]["timestamp"]
    assert exported["bob"]["late_submission_penalty"] == "0.0"
    ours = read_csv(root / "graded" / "grades.csv")
    assert {s: r["score"] for s, r in ours.items()} == {"alice": "11", "bob": "8"}
    assert ours["alice"]["duedate"] == "2099-01-01 00:00:00" and ours["alice"]["timestamp"]


def test_a_grade_formgrader_holds_survives_the_next_run(round_trip):
    """A person re-scores bob's part and comments in formgrader; the next `grade` run keeps both."""
    from nbgrader.api import Gradebook

    root, _, _ = round_trip
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url, COURSE_ID) as gb:
        part = gb.find_grade("neuron_forward_test", "01_neuron", "01_neuron", "bob")
        part.manual_score = 1.5
        gb.find_comment("neuron_forward", "01_neuron", "01_neuron", "bob").manual_comment = "Close: add the bias."
        gb.db.commit()
    again = grade(root, "--workers", "1")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "already graded" in again.stdout  # nothing ran again: the same files and inputs
    with Gradebook(url, COURSE_ID) as gb:
        part = gb.find_grade("neuron_forward_test", "01_neuron", "01_neuron", "bob")
        assert (part.auto_score, part.manual_score, part.needs_manual_grade) == (0, 1.5, False)  # as left
        assert gb.find_comment("neuron_forward", "01_neuron", "01_neuron", "bob").manual_comment == \
            "Close: add the bias."
        assert gb.find_submission("01_neuron", "bob").score == 9.5
        assert gb.find_student("alice").first_name == "Alice"
    row = read_csv(root / "graded" / "grades.csv")["bob"]
    assert (row["neuron_forward_test"], row["score"]) == ("1.5", "9.5")
    page = (root / "graded" / "feedback" / "bob" / "01_neuron" / "01_neuron.html").read_text()
    assert "scored by hand in formgrader" in page and "9.5 / 11" in page


def test_one_run_at_a_time_and_clear_errors(round_trip):
    from autograder.grading.run_lock import exclusive_run

    root, _, _ = round_trip
    with exclusive_run(root / ".autograder-grading.lock", "the course"):
        busy = grade(root)
    assert busy.returncode == 2
    assert len(busy.stderr.strip().splitlines()) == 1 and "another `autograder grade` run" in busy.stderr
    wrong = grade(root, "--assignment", "99_nothing")
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1
    assert "unknown assignment '99_nothing' (known: 01_neuron)" in wrong.stderr
