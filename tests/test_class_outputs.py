"""Class-scale grading without kernels: the journal's keys, the progress display, the report, the CLI."""
from __future__ import annotations

import io
import json
import struct
import subprocess
import sys

import pytest

from autograder.grading.journal import Journal, assignment_fingerprint, folder_hash
from autograder.grading.progress import GradingProgress
from autograder.grading.submission import PartResult, SubmissionResult
from autograder.report import write_report


def result(student: str, points: list[float], reason: str = "", seconds: float = 3.0) -> SubmissionResult:
    parts = [PartResult(f"part{i}", 2.0, p, "" if p == 2 else "detail", "" if p == 2 else "feedback")
             for i, p in enumerate(points)]
    return SubmissionResult(student, "01_neuron", "01_neuron", parts, reason, seconds)


def test_folder_hash_follows_content_not_hidden_files(tmp_path):
    (tmp_path / "a.ipynb").write_text("one")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("1,2")
    first = folder_hash(tmp_path)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("old")
    assert folder_hash(tmp_path) == first
    (tmp_path / "data" / "x.csv").write_text("1,3")
    assert folder_hash(tmp_path) != first


def test_fingerprint_changes_with_the_seed_and_the_source(course):
    assert assignment_fingerprint(course, "01_neuron", 1) == assignment_fingerprint(course, "01_neuron", 1)
    assert assignment_fingerprint(course, "01_neuron", 1) != assignment_fingerprint(course, "01_neuron", 2)
    assert assignment_fingerprint(course, "01_neuron", 1) != assignment_fingerprint(course, "02_activations", 1)


def test_journal_returns_a_record_only_for_the_same_files_and_inputs(tmp_path):
    journal = Journal(tmp_path)
    graded = result("ada", [2, 0], "the kernel died while running cell 'x'")
    journal.record(graded, "hash1", "fp1")
    loaded = journal.load("ada", "01_neuron", "hash1", "fp1")
    assert loaded is not None and loaded.score == 2 and loaded.reason == graded.reason
    assert [p.feedback for p in loaded.parts] == ["", "feedback"]
    assert journal.load("ada", "01_neuron", "hash2", "fp1") is None
    assert journal.load("ada", "01_neuron", "hash1", "fp2") is None
    (tmp_path / ".journal" / "01_neuron" / "ada.json").write_text("{ truncated")
    assert journal.load("ada", "01_neuron", "hash1", "fp1") is None
    journal.save_seeds({"01_neuron": 7})
    assert Journal(tmp_path).seeds() == {"01_neuron": 7}


def test_progress_prints_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = GradingProgress(3, stream=stream)
    progress.skipped(1)
    progress.update(result("ada", [2, 2]))
    progress.update(result("ben", [0, 0], "the kernel died"))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("1 submission(s) already graded")
    assert lines[1].startswith("[2/3] ada/01_neuron: 4/4") and "ETA" in lines[1]
    assert lines[2] == "[3/3] ben/01_neuron: 0/4 (the kernel died)"
    assert "\r" not in stream.getvalue()
    assert progress.failures == 1


def test_progress_draws_a_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = GradingProgress(4, stream=stream)
    progress.update(result("ada", [2, 2]))
    progress.update(result("ben", [0, 0], "timeout"))
    progress.close()
    text = stream.getvalue()
    assert "\r" in text and "2/4" in text and "failures 1" in text and "ETA" in text
    assert text.count("\n") == 1


def _png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


def test_report_writes_a_page_its_plots_and_an_lms_csv(tmp_path):
    rows = [result(f"s{i:02d}", [2, 2 if i % 3 else 0, 2 if i % 2 else 0], "" if i != 4 else "the kernel died",
                   1 + i) for i in range(12)]
    rows.append(SubmissionResult("s00", "02_activations", "02_activations",
                                 [PartResult("act_test", 4.0, 4.0)], "", 2.0))
    details = {"seeds": {}, "submissions": [
        {"student_id": r.student, "assignment": r.assignment, "score": r.score, "max_score": r.max_score,
         "reason": r.reason, "seconds": r.seconds, "parts": {p.grade_id: [p.points, p.max_points] for p in r.parts},
         "failed_parts": {}} for r in rows]}
    (tmp_path / "details.json").write_text(json.dumps(details))
    page = write_report(tmp_path)
    text = page.read_text()
    for name in ("totals.png", "part_pass_rates.png", "grading_time.png"):
        assert f'src="{name}"' in text
        width, height = _png_size(page.parent / name)
        assert width > 300 and height > 150
    assert "s04" in text and "the kernel died" in text
    lms = (page.parent / "lms_grades.csv").read_text().splitlines()
    assert lms[0] == "student_id,01_neuron,02_activations,total"
    assert lms[1] == "Points Possible,6,4,10"
    assert lms[2] == "s00,2,4,6"  # s00: 2 + 0 + 0 in 01_neuron, 4 in 02_activations
    assert lms[3] == "s01,6,,6"


@pytest.mark.parametrize("argv, message", [
    (["report", "/nonexistent/graded"], "grading output folder not found"),
    (["grade", "/nonexistent", "--out", "/tmp/x", "--workers", "0"], "must be at least 1"),
])
def test_cli_errors_are_one_line(argv, message):
    done = subprocess.run([sys.executable, "-m", "autograder", *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_report_refuses_a_folder_without_details(tmp_path):
    done = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "details.json" in done.stderr and "grade" in done.stderr


@pytest.mark.parametrize("flags, warm", [([], True), (["--fresh-kernels"], False)])
def test_fresh_kernels_flag_reaches_the_workers(monkeypatch, tmp_path, flags, warm):
    """`grade --fresh-kernels` turns the zygote off in every worker's options; warm is the default."""
    from autograder import cli
    from autograder.grading import runner

    seen = []

    def fake_run_local(references, work, options, workers, reference_jobs=()):
        seen.append(options)
        return iter(())

    monkeypatch.setattr(runner, "run_local", fake_run_local)
    monkeypatch.setattr(runner, "_build_references", lambda *a, **k: {"01_neuron": object()})
    student = tmp_path / "submitted" / "s1" / "01_neuron"
    student.mkdir(parents=True)
    (student / "01_neuron.ipynb").write_text("{}")
    try:
        cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), *flags])
    except Exception:  # noqa: BLE001 - only the options handed to the workers matter here
        pass
    assert seen and all(o.warm_kernels is warm for o in seen)
