"""Manually graded cells: left for formgrader, never a silent 0, kept through a regrade, in every total.

The source is a test-only copy of 01_neuron's with one "manually graded answer" markdown cell
(a written analysis, 2 points), built here; `nbgrader generate_assignment` releases it. Alice
answers the analysis, Bob leaves it as released. The class is graded once through kernels
(xdist group "manual_cells"); the regrade replays the same verdicts without kernels.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from autograder.demo import reference_answers
from autograder.notebooks import nbgrader_meta

from .nbgrader_commands import nbgrader, run_steps

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("manual_cells")]

ANALYSIS = "analysis"
ALICE_ANSWER = "One neuron draws one straight line, and no straight line separates the two XOR classes."


def analysis_cell() -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(
        "### BEGIN SOLUTION\nA single neuron's decision boundary is a line: XOR is not linearly separable.\n"
        "### END SOLUTION", metadata={"nbgrader": {
            "grade": True, "solution": True, "task": False, "locked": False, "points": 2,
            "grade_id": ANALYSIS, "schema_version": 3}})


def build_course(course, root: Path) -> None:
    source = nbformat.read(course.source_notebook("01_neuron"), as_version=4)
    at = next(i for i, c in enumerate(source.cells) if nbgrader_meta(c).get("grade_id") == "xor-md")
    source.cells.insert(at + 1, analysis_cell())
    (root / "source" / "01_neuron").mkdir(parents=True)
    nbformat.write(source, root / "source" / "01_neuron" / "01_neuron.ipynb")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = 'keras101'\n")


def submit(course, root: Path, student: str, analysis: str | None) -> None:
    release = nbformat.read(root / "release" / "01_neuron" / "01_neuron.ipynb", as_version=4)
    answers = reference_answers(course, "01_neuron")
    for cell in release.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
        elif grade_id == ANALYSIS and analysis is not None:
            cell.source = analysis
    folder = root / "submitted" / student / "01_neuron"
    folder.mkdir(parents=True)
    nbformat.write(release, folder / "01_neuron.ipynb")
    (folder / "timestamp.txt").write_text("2026-03-01 10:00:00.000000 UTC\n")


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    from autograder.grading.runner import grade_class

    tmp = tmp_path_factory.mktemp("manual_cells")
    root = tmp / "course"
    build_course(course, root)
    run_steps([nbgrader("generate_assignment", "01_neuron", cwd=root)], tmp)
    submit(course, root, "alice", ALICE_ANSWER)
    submit(course, root, "bob", None)
    results = grade_class(course, root, workers=1, progress=lambda line: None)
    return root, tmp, {r.student: r for r in results}


def rows(root: Path) -> dict[str, dict[str, str]]:
    with (root / "graded" / "grades.csv").open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_manual_answers_wait_for_formgrader_and_say_so(graded):
    from nbgrader.api import Gradebook

    root, _, results = graded
    assert results["alice"].awaiting == [ANALYSIS] and results["bob"].awaiting == []
    table = rows(root)
    header = (root / "graded" / "grades.csv").read_text().splitlines()[0].split(",")
    assert header[4:9] == ["neuron_forward_test", "perceptron_update_test", "train_perceptron_test",
                           "keras_neuron_test", ANALYSIS]
    assert (table["alice"][ANALYSIS], table["alice"]["score"], table["alice"]["max_score"]) == \
        ("awaiting manual grading", "11", "13")
    assert (table["bob"][ANALYSIS], table["bob"]["score"], table["bob"]["max_score"]) == ("0", "11", "13")
    details = {d["student_id"]: d for d in json.loads((root / "graded" / "details.json").read_text())["submissions"]}
    assert details["alice"]["manual_parts"][ANALYSIS] == {"points": 0, "max_points": 2, "status": "awaiting manual grading"}
    assert details["bob"]["manual_parts"][ANALYSIS]["status"] == "No response."
    assert ANALYSIS not in details["alice"]["parts"]  # the report's pass rates are the checks' alone

    alice_page = (root / "graded" / "feedback" / "alice" / "01_neuron" / "01_neuron.html").read_text()
    assert "awaiting manual grading" in alice_page and "Awaiting manual grading:" in alice_page
    assert ALICE_ANSWER in alice_page
    bob_page = (root / "graded" / "feedback" / "bob" / "01_neuron" / "01_neuron.html").read_text()
    assert "No response." in bob_page and "awaiting manual grading" not in bob_page

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "keras101") as gb:
        alice = gb.find_grade(ANALYSIS, "01_neuron", "01_neuron", "alice")
        assert (alice.auto_score, alice.manual_score, alice.needs_manual_grade, alice.max_score) == (None, None, True, 2)
        assert gb.find_submission("01_neuron", "alice").needs_manual_grade
        bob = gb.find_grade(ANALYSIS, "01_neuron", "01_neuron", "bob")
        assert (bob.auto_score, bob.needs_manual_grade) == (0, False)  # nbgrader's rule for an untouched answer
        assert gb.find_comment(ANALYSIS, "01_neuron", "01_neuron", "bob").auto_comment == "No response."
        assert gb.find_submission("01_neuron", "bob").max_score == 13

    from autograder.report import write_report

    report = write_report(root / "graded")
    assert "Not final:</b> 1 submission(s) have manually graded parts awaiting formgrader" in report.read_text()
    assert "alice,11,11" in (report.parent / "lms_grades.csv").read_text().splitlines()

    # formgrader shows the autograded notebook: Alice's answer, with the release's nbgrader metadata.
    cells = json.loads((root / "autograded" / "alice" / "01_neuron" / "01_neuron.ipynb").read_text())["cells"]
    (answer,) = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == ANALYSIS]
    assert "".join(answer["source"]) == ALICE_ANSWER
    assert answer["metadata"]["nbgrader"]["grade"] and answer["metadata"]["nbgrader"]["solution"]


def test_formgrader_scores_count_everywhere_and_survive_a_regrade(graded, course, monkeypatch):
    from nbgrader.api import Gradebook

    from autograder.grading import runner
    from autograder.grading.journal import Journal, result_from_dict
    from autograder.grading.outputs import render_feedback
    from autograder.grading.workers import GradedSubmission

    root, tmp, _ = graded
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url, "keras101") as gb:  # what formgrader writes when Alice's analysis is scored
        grade = gb.find_grade(ANALYSIS, "01_neuron", "01_neuron", "alice")
        grade.manual_score, grade.needs_manual_grade = 1.5, False
        gb.find_comment(ANALYSIS, "01_neuron", "01_neuron", "alice").manual_comment = "Right idea; say why."
        gb.db.commit()

    # The same run again: nothing is graded, and the manual score shows everywhere.
    again = {r.student: r for r in runner.grade_class(course, root, workers=1, progress=lambda line: None)}
    assert again["alice"].score == 12.5 and again["alice"].awaiting == []
    assert rows(root)["alice"][ANALYSIS] == "1.5" and rows(root)["alice"]["score"] == "12.5"
    page = (root / "graded" / "feedback" / "alice" / "01_neuron" / "01_neuron.html").read_text()
    assert "graded by hand" in page and "12.5 / 13" in page and "awaiting manual grading" not in page

    # A regrade (--regrade): every submission is graded again. The verdicts are replayed from the
    # first run's journal, exactly what the workers sent then, instead of running the kernels again.
    journal = Journal(root / "graded")
    sent = {r.student: r for r in (result_from_dict(json.loads(p.read_text())["result"])
                                   for p in sorted((journal.folder / "01_neuron").glob("*.json")))}
    assert sent["alice"].manual_parts[0].awaiting  # as a worker sends it: no score yet

    def replay(references, work, options, workers, reference_jobs=()):
        for packed in work:
            result = sent[packed.student]
            yield packed, GradedSubmission(result, render_feedback(result), "replay")

    monkeypatch.setattr(runner, "_build_references", lambda course, needed, *a, **k: {n: object() for n in needed})
    monkeypatch.setattr(runner, "run_local", replay)
    regraded = {r.student: r for r in runner.grade_class(course, root, workers=1, regrade=True,
                                                         progress=lambda line: None)}
    assert regraded["alice"].score == 12.5 and regraded["alice"].max_score == 13
    with Gradebook(url, "keras101") as gb:
        grade = gb.find_grade(ANALYSIS, "01_neuron", "01_neuron", "alice")
        # kept, and flagged for review as nbgrader's autograde flags a regraded cell a person scored
        assert (grade.manual_score, grade.auto_score, grade.needs_manual_grade) == (1.5, None, True)
        assert gb.find_comment(ANALYSIS, "01_neuron", "01_neuron", "alice").manual_comment == "Right idea; say why."
        assert gb.find_submission("01_neuron", "alice").score == 12.5
    assert rows(root)["alice"]["score"] == "12.5"

    from autograder.report import write_report

    run_steps([nbgrader("export", "--to", tmp / "export.csv", cwd=root)], tmp)
    exported = {r["student_id"]: r for r in csv.DictReader((tmp / "export.csv").open())}
    assert (exported["alice"]["raw_score"], exported["alice"]["max_score"]) == ("12.5", "13.0")
    assert (exported["bob"]["raw_score"], exported["bob"]["max_score"]) == ("11.0", "13.0")
    lms = (write_report(root / "graded").parent / "lms_grades.csv").read_text().splitlines()
    assert lms[1] == "Points Possible,13,13" and "alice,12.5,12.5" in lms and "bob,11,11" in lms
