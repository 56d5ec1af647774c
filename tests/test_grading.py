"""Grading a real class of 01_neuron submissions through kernels, end to end.

One class is graded once per test session (xdist group "graded_class") and the tests
read its outputs: grades.csv, the nbgrader gradebook, feedback HTML and details.json.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from autograder.demo import edited, make_submission, neuron_class, reference_answers
from autograder.grading.runner import grade_class

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("graded_class")]

SILENCE_CHECKS = '''class _Silent:
    def __getattr__(self, name):
        return lambda *args, **kwargs: print("✓ all public checks passed.")
checks = _Silent()'''

NEUTER_LATER_CELLS = '''ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"] if any("checks." in l for l in lines) else lines)'''


def build_class(course, submitted: Path) -> dict[str, float]:
    """The demo class plus more students; returns the score each one must get."""
    neuron_class(course, submitted)
    ref = reference_answers(course, "01_neuron")
    single_part_errors = {
        "hal_no_lr": ("perceptron_update", "lr * (y - y_hat) * x", "(y - y_hat) * x"),
        "ivy_discards_update": ("train_perceptron", "w, b = perceptron_update(w, b, x_i, y_i, lr)",
                                "perceptron_update(w, b, x_i, y_i, lr)"),
        "jon_keras_unset": ("keras_neuron", "    layer.set_weights([np.reshape(w, (-1, 1)), np.array([b])])\n", ""),
    }
    for student, (grade_id, old, new) in single_part_errors.items():
        make_submission(course, "01_neuron", {**ref, grade_id: edited(ref[grade_id], old, new)},
                        submitted / student / "01_neuron" / "01_neuron.ipynb")
    make_submission(course, "01_neuron", ref, submitted / "kai_kills_kernel" / "01_neuron" / "01_neuron.ipynb",
                    extra_cells={"perceptron_update_test": "import os\nos._exit(1)"})
    make_submission(course, "01_neuron", ref, submitted / "mia_silences_checks" / "01_neuron" / "01_neuron.ipynb",
                    extra_cells={"setup": SILENCE_CHECKS})
    make_submission(course, "01_neuron", ref, submitted / "pia_neuters_later_cells" / "01_neuron" / "01_neuron.ipynb",
                    extra_cells={"setup": NEUTER_LATER_CELLS})
    # Edits every test cell to `pass` in the file it hands in, with a wrong neuron_forward.
    oli = make_submission(course, "01_neuron", {**ref, "neuron_forward": "def neuron_forward(X, w, b):\n    return X @ w"},
                          submitted / "oli_edits_tests" / "01_neuron" / "01_neuron.ipynb")
    oli.write_text(oli.read_text().replace('"checks.neuron_forward(neuron_forward)"', '"pass"'))
    bad = submitted / "quinn_malformed" / "01_neuron"
    bad.mkdir(parents=True)
    (bad / "01_neuron.ipynb").write_text('{"cells": [ not json')
    return {"ada_reference": 11, "ben_untouched": 0, "cleo_no_bias": 8, "dev_partial": 3, "eve_always_equal": 8,
            "finn_patches_numpy": 0, "hal_no_lr": 9, "ivy_discards_update": 8, "jon_keras_unset": 8,
            "kai_kills_kernel": 5, "mia_silences_checks": 0, "pia_neuters_later_cells": 0, "oli_edits_tests": 8,
            "quinn_malformed": 0}


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    expected = build_class(course, root / "submitted")
    results = grade_class(course, root / "submitted", root / "out", progress=lambda line: None)
    return root, expected, results


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_every_student_gets_a_row_with_the_expected_score(graded):
    root, expected, _ = graded
    rows = read_rows(root / "out" / "grades.csv")
    assert set(rows) == set(expected)
    assert {s: float(r["score"]) for s, r in rows.items()} == {s: float(v) for s, v in expected.items()}
    assert all(r["max_score"] == "11" for r in rows.values())


def test_grades_csv_has_one_column_per_part(graded):
    root, _, _ = graded
    header = (root / "out" / "grades.csv").read_text().splitlines()[0].split(",")
    assert header == ["student_id", "assignment", "score", "max_score", "neuron_forward_test",
                      "perceptron_update_test", "train_perceptron_test", "keras_neuron_test", "reason", "sandbox"]
    row = read_rows(root / "out" / "grades.csv")["cleo_no_bias"]
    assert (row["neuron_forward_test"], row["perceptron_update_test"], row["train_perceptron_test"],
            row["keras_neuron_test"]) == ("0", "2", "3", "3")


@pytest.mark.parametrize("student,message", [
    ("cleo_no_bias", "The bias b is missing"),
    ("hal_no_lr", "The learning rate lr is missing"),
    ("ivy_discards_update", "w and b are still all zeros"),
    ("jon_keras_unset", "A fresh Dense layer starts from random weights"),
    ("eve_always_equal", "not a number, array or string the grader can check"),
    ("ben_untouched", "is not implemented yet"),
    ("mia_silences_checks", "The check for this part did not run"),
])
def test_wrong_part_message_appears_in_feedback_html(graded, student, message):
    root, _, _ = graded
    html = (root / "out" / "feedback" / student / "01_neuron" / "01_neuron.html").read_text()
    assert message in html


def test_broken_submissions_keep_their_row_and_say_why(graded):
    root, _, _ = graded
    rows = read_rows(root / "out" / "grades.csv")
    assert "not a valid notebook" in rows["quinn_malformed"]["reason"]
    assert "kernel died" in rows["kai_kills_kernel"]["reason"]
    # Parts verified before the kernel died keep their points.
    assert (rows["kai_kills_kernel"]["neuron_forward_test"], rows["kai_kills_kernel"]["perceptron_update_test"],
            rows["kai_kills_kernel"]["train_perceptron_test"]) == ("3", "2", "0")


def test_feedback_never_shows_hidden_tests_or_grader_inputs(graded):
    root, _, _ = graded
    files = list((root / "out" / "feedback").rglob("*.html")) + list((root / "out" / "feedback").rglob("*.ipynb"))
    assert len(files) == 2 * 14  # every submission has feedback, the malformed one too
    for path in files:
        text = path.read_text()
        assert "HIDDEN TESTS" not in text and ".hidden(" not in text, path
        assert "vnd.autograder.report" not in text, path


def test_gradebook_matches_grades_csv(graded):
    from nbgrader.api import Gradebook

    root, expected, _ = graded
    with Gradebook(f"sqlite:///{root / 'out' / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("01_neuron")}
        assert gb.find_grade("keras_neuron_test", "01_neuron", "01_neuron", "jon_keras_unset").score == 0
        assert gb.find_grade("keras_neuron_test", "01_neuron", "01_neuron", "ada_reference").score == 3
    assert scores == {s: float(v) for s, v in expected.items()}


def test_regrading_gives_identical_rows(graded, course, tmp_path):
    root, _, _ = graded
    again = tmp_path / "submitted"
    for student in ("ada_reference", "cleo_no_bias", "kai_kills_kernel", "quinn_malformed"):
        shutil.copytree(root / "submitted" / student, again / student)
    grade_class(course, again, tmp_path / "out", progress=lambda line: None)
    first = read_rows(tmp_path / "out" / "grades.csv")
    grade_class(course, again, tmp_path / "out", progress=lambda line: None, regrade=True)  # new inputs
    second = read_rows(tmp_path / "out" / "grades.csv")
    original = read_rows(root / "out" / "grades.csv")
    assert first == second == {s: original[s] for s in first}


def test_tampering_is_named_from_the_release_not_the_submission(course):
    """Judged in-process: no kernel needed to name what changed."""
    import nbformat

    from autograder.grading.submission import detect_tampering
    from autograder.notebooks import read_notebook

    class Release:  # the two fields detect_tampering reads
        assignment = "01_neuron"
        release = read_notebook(course.exercises / "01_neuron" / "01_neuron.ipynb")

    assert detect_tampering(Release, Release.release) == []
    other = read_notebook(course.exercises / "02_activations" / "02_activations.ipynb")
    assert detect_tampering(Release, other) == ["this is not the 01_neuron notebook (none of its cells are there)"]
    edited = nbformat.from_dict(Release.release)
    test_cells = [c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade")]
    test_cells[0].metadata.nbgrader.points = 100
    test_cells[1].metadata.nbgrader.grade_id = "renamed"
    edited.cells.remove(test_cells[2])
    edited.cells.append(other.cells[3])  # a cell moved in from another notebook
    found = detect_tampering(Release, edited)
    assert "changed grading metadata of 'neuron_forward_test'" in found
    assert "unknown cell id 'renamed'" in found
    assert "deleted cell 'perceptron_update_test'" in found and "deleted cell 'train_perceptron_test'" in found
    assert f"unknown cell id '{other.cells[3].metadata.nbgrader.grade_id}'" in found


def test_the_class_s_mistakes_are_counted_by_diagnosis(graded):
    """details.json and the report count each part's diagnoses by key: the bias left out, not attempted, ..."""
    import json

    from autograder.report import write_report

    root, _, _ = graded
    details = json.loads((root / "out" / "details.json").read_text())
    forward = details["mistakes"]["01_neuron"]["neuron_forward_test"]
    rows = {r["student_id"]: r for r in details["submissions"]}
    bias_key = rows["cleo_no_bias"]["diagnoses"]["neuron_forward_test"]["key"]
    assert "bias" in bias_key and forward[bias_key] >= 1, forward
    assert rows["ben_untouched"]["diagnoses"]["neuron_forward_test"]["key"] == "not_implemented"
    assert forward["not_implemented"] >= 1 and "ada_reference" not in {
        s for s, r in rows.items() if r["diagnoses"]}
    assert sum(forward.values()) == sum(1 for r in rows.values() if r["parts"]["neuron_forward_test"][0] < 3)
    page = write_report(root / "out").read_text()
    assert "What the class got wrong" in page and "bias b is missing" in page
    assert (root / "out" / "report" / "mistakes.png").stat().st_size > 5000
