"""The grader times cells on its own clock, and checks see those times only at judging time."""
from __future__ import annotations

import nbformat
import pytest

from autograder.checks.core import Check, CheckSet
from autograder.grading.execute import execute, kernel_environment
from autograder.grading.judge import MEASURED_SECONDS, judge_part

from .conftest import ROOT


def _locked(source: str, grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "locked": True, "grade": False, "solution": False,
                                 "schema_version": 3}
    return cell


@pytest.mark.kernel
def test_cells_are_timed_by_the_grader_whatever_the_kernel_does_to_its_own_clocks(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        # A kernel that fakes its clocks and its message dates changes nothing: the grader times the round trip.
        _locked("import time, datetime\ntime.monotonic = lambda: 0.0\ntime.time = lambda: 0.0\n"
                "time.perf_counter = lambda: 0.0\n_sleep = time.sleep", "fake-clocks"),
        _locked("_sleep(1.5)", "slow"),
        nbformat.v4.new_code_cell("x = 1"),  # no grade_id: not timed
        _locked("raise ValueError('stops here')", "fails"),
    ]
    executed = execute(nb, workdir=tmp_path, env=kernel_environment(None, ROOT))
    seconds = executed.cell_seconds
    assert set(seconds) == {"fake-clocks", "slow", "fails"}
    assert 1.5 <= seconds["slow"] < 10
    assert seconds["fake-clocks"] < 1.5


class _Timed(Check):
    name = "timed"
    signature = "timed()"

    def secret_inputs(self, rng):
        return [{"n": 1}]

    def run(self, subject, inputs):
        return 0

    def compare(self, inputs, got, expected):
        seconds = inputs[MEASURED_SECONDS].get("train")
        return None if seconds is not None and seconds <= 2 else f"measured {seconds}"


def test_judging_hands_every_case_the_grader_s_timings_and_nothing_else():
    checks = CheckSet("t", [_Timed()])
    report = {"timed": {"check": "timed", "results": [{"ok": 0}]}}
    inputs = {"timed": [{"n": 1}]}
    assert judge_part(checks, inputs, report, report, {"train": 1.0}).passed
    slow = judge_part(checks, inputs, report, report, {"train": 3.0})
    assert not slow.passed and "measured 3.0" in slow.detail
    untimed = judge_part(checks, inputs, report, report)
    assert not untimed.passed and "measured None" in untimed.detail
    assert inputs == {"timed": [{"n": 1}]}  # the reference's inputs are not changed
