"""Class-scale grading through real kernels: parallel workers, kill -9 and resume, a Dask cluster.

One small class of 01_neuron submissions (correct, wrong, blank, a crash and a timeout) is
graded without interruption once (the yardstick); the other runs must reproduce its rows.
"""
from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.demo import edited, make_submission, reference_answers

from .conftest import ROOT

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("class_scale")]

SEED = "424242"
CELL_TIMEOUT = "60"  # room for a TensorFlow import on a loaded machine
EXPECTED = {"ada_reference": "11", "ben_untouched": "0", "cleo_no_bias": "8", "kai_kills_kernel": "5",
            "tim_loops_forever": "8"}


def build_class(course, submitted: Path) -> None:
    ref = reference_answers(course, "01_neuron")
    nb = "01_neuron.ipynb"
    make_submission(course, "01_neuron", ref, submitted / "ada_reference" / "01_neuron" / nb)
    make_submission(course, "01_neuron", {}, submitted / "ben_untouched" / "01_neuron" / nb)
    make_submission(course, "01_neuron", {**ref, "neuron_forward": edited(ref["neuron_forward"], "z = X @ w + b", "z = X @ w")},
                    submitted / "cleo_no_bias" / "01_neuron" / nb)
    make_submission(course, "01_neuron", ref, submitted / "kai_kills_kernel" / "01_neuron" / nb,
                    extra_cells={"perceptron_update_test": "import os\nos._exit(1)"})
    make_submission(course, "01_neuron", ref, submitted / "tim_loops_forever" / "01_neuron" / nb,
                    extra_cells={"train_perceptron_test": "import time\ntime.sleep(3600)"})


def grade_command(submitted: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--seed", SEED,
            "--cell-timeout", CELL_TIMEOUT, "--workers", "2", *extra]


def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def gradebook_scores(out: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions("01_neuron")}


@pytest.fixture(scope="module")
def yardstick(course, tmp_path_factory):
    """The class, and the outputs of one uninterrupted local run."""
    root = tmp_path_factory.mktemp("class_scale")
    build_class(course, root / "submitted")
    done = subprocess.run(grade_command(root / "submitted", root / "whole"), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return root, done.stdout


def test_an_uninterrupted_run_keeps_every_row_with_its_reason(yardstick):
    root, stdout = yardstick
    rows = read_rows(root / "whole" / "grades.csv")
    assert {s: r["score"] for s, r in rows.items()} == EXPECTED
    assert "kernel died" in rows["kai_kills_kernel"]["reason"]
    assert f"ran longer than {CELL_TIMEOUT} s" in rows["tim_loops_forever"]["reason"]
    assert rows["ada_reference"]["reason"] == "" and rows["ada_reference"]["sandbox"] == "bwrap"
    assert gradebook_scores(root / "whole") == {s: float(v) for s, v in EXPECTED.items()}
    # Not a terminal: one plain line per submission, with an ETA while work remains.
    assert stdout.count("/01_neuron: ") >= len(EXPECTED) and "ETA" in stdout


def test_a_killed_run_resumes_to_the_same_result(yardstick):
    root, _ = yardstick
    out = root / "resumed"
    journal = out / ".journal" / "01_neuron"
    process = subprocess.Popen(grade_command(root / "submitted", out), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while not (journal.is_dir() and list(journal.glob("*.json"))):
            assert process.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    recorded = len(list(journal.glob("*.json")))
    assert 1 <= recorded < len(EXPECTED)
    assert not (out / "gradebook.db").exists()  # never half-written: none until a run finishes

    again = subprocess.run(grade_command(root / "submitted", out), capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    skipped = int(again.stdout.split(" submission(s) already graded")[0].split()[-1])
    assert skipped >= recorded
    assert read_rows(out / "grades.csv") == read_rows(root / "whole" / "grades.csv")
    assert gradebook_scores(out) == gradebook_scores(root / "whole")
    for student in EXPECTED:
        assert (out / "feedback" / student / "01_neuron" / "01_neuron.html").is_file()

    # Idempotent: nothing left to grade; a changed submission is graded again, and only it.
    notebook = root / "submitted" / "ben_untouched" / "01_neuron" / "01_neuron.ipynb"
    notebook.write_text(notebook.read_text() + "\n")
    try:
        third = subprocess.run(grade_command(root / "submitted", out), capture_output=True, text=True, timeout=900)
    finally:
        notebook.write_text(notebook.read_text()[:-1])
    assert third.returncode == 0, third.stdout + third.stderr
    assert f"{len(EXPECTED) - 1} submission(s) already graded" in third.stdout
    assert "[5/5] ben_untouched/01_neuron: 0/11" in third.stdout
    assert read_rows(out / "grades.csv") == read_rows(root / "whole" / "grades.csv")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listened on 127.0.0.1:{port} after {timeout} s")


def test_a_dask_cluster_gives_the_same_result_as_a_local_run(yardstick, tmp_path):
    root, _ = yardstick
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = [open(tmp_path / f"dask-{name}.log", "w") for name in ("scheduler", "worker1", "worker2")]
    processes = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], stdout=logs[0], stderr=subprocess.STDOUT, env=env,
                                  cwd=tmp_path, start_new_session=True)]
    try:
        _wait_for_port(port, 60)
        for log in logs[1:]:
            processes.append(subprocess.Popen(
                [str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--local-directory", str(tmp_path / "dask-space")],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, start_new_session=True))
        done = subprocess.run(grade_command(root / "submitted", tmp_path / "out", "--scheduler", address),
                              capture_output=True, text=True, timeout=900, env=env)
    finally:
        for process in processes[::-1]:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes[::-1]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs:
            log.close()
    assert done.returncode == 0, done.stdout + done.stderr + (tmp_path / "dask-worker1.log").read_text()[-3000:]
    rows = read_rows(tmp_path / "out" / "grades.csv")
    assert rows == read_rows(root / "whole" / "grades.csv"), {s: r["reason"] for s, r in rows.items()}
    assert gradebook_scores(tmp_path / "out") == gradebook_scores(root / "whole")
    worker_logs = (tmp_path / "dask-worker1.log").read_text() + (tmp_path / "dask-worker2.log").read_text()
    assert "Traceback" not in worker_logs, worker_logs[-3000:]


def test_report_draws_the_class(yardstick):
    root, _ = yardstick
    done = subprocess.run([sys.executable, "-m", "autograder", "report", str(root / "whole")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = (root / "whole" / "report" / "index.html").read_text()
    assert "kai_kills_kernel" in page and "tim_loops_forever" in page  # the problems list
    with (root / "whole" / "report" / "lms_grades.csv").open() as handle:
        lms = list(csv.reader(handle))
    assert lms[0] == ["student_id", "01_neuron", "total"] and lms[1] == ["Points Possible", "11", "11"]
    assert {row[0]: row[1] for row in lms[2:]} == EXPECTED
