"""Grading one Gradescope submission: `run_autograder` calls this inside Gradescope's container.

The submission is graded by the same `grade_class` as a class on an instructor's machine: the
reference solution runs on this run's inputs, the student's notebook runs in its own kernel
(inside bubblewrap when the container allows it), and the verdict is decided here, in a process
that never ran student code. Gradescope gets results.json with one test per graded part.

Visibility: a part that passed, or failed on the exercise's public examples, is "visible": the
student saw those examples already. A part that failed only on the grader's own inputs is
"after_published": its message is held back until the instructor publishes the grades.
Whatever happens, results.json is written, with the reason in its output.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from .course import Course
from .grading.judge import SECRET_FAILURE
from .grading.submission import SubmissionResult, part_outcome
from .grading.submission_files import read_submission

STUDENT = "gradescope"
#: The messages about the grader's own inputs start like this (judge.SECRET_FAILURE).
_SECRET_PREFIX = SECRET_FAILURE.split("(")[0]


def part_visibility(passed: bool, feedback: str) -> str:
    return "visible" if passed or not feedback.startswith(_SECRET_PREFIX) else "after_published"


def results_json(result: SubmissionResult, seconds: float) -> dict:
    """Gradescope's results.json for one graded submission."""
    tests = [{"name": part.grade_id, "score": part.points, "max_score": part.max_points,
              "output": "passed" if part.passed else part_outcome(part),
              "visibility": part_visibility(part.passed, part.feedback)} for part in result.parts]
    return {"score": result.score, "execution_time": round(seconds), "output": result.reason,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def failed_json(message: str, seconds: float) -> dict:
    return {"score": 0, "execution_time": round(seconds), "output": message, "visibility": "visible",
            "stdout_visibility": "hidden", "tests": []}


def _copy_submission(source: Path, target: Path) -> str:
    """The submission's regular files (no links, pipes, devices) under `target`; the problem, if any."""
    read = read_submission(source)
    for relative, content in read.files.items():
        path = target.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return read.problem


def grade_for_gradescope(assignment: str, submission: Path, results: Path) -> dict:
    from .grading.runner import grade_class, make_sandbox

    started = time.monotonic()
    course = Course.here()
    try:
        make_sandbox(course, unsafe=False)
        unsafe = False
    except Exception as exc:  # noqa: BLE001 - Gradescope's own container is then the only isolation
        unsafe = True
        print(f"warning: graded without the bubblewrap sandbox ({exc})", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        folder = Path(tmp) / "submitted" / STUDENT / assignment
        folder.mkdir(parents=True)
        problem = _copy_submission(submission, folder)
        graded = grade_class(course, Path(tmp) / "submitted", Path(tmp) / "out", workers=1,
                             unsafe_no_sandbox=unsafe, progress=lambda line: print(line, flush=True))
    rows = [r for r in graded if r.student == STUDENT and r.assignment == assignment]
    if not rows:
        return failed_json(problem or "no submission was found to grade", time.monotonic() - started)
    return results_json(rows[0], time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="autograder.gradescope_run", description=__doc__)
    parser.add_argument("--assignment", required=True)
    parser.add_argument("--submission", type=Path, default=Path("/autograder/submission"))
    parser.add_argument("--results", type=Path, default=Path("/autograder/results/results.json"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        data = grade_for_gradescope(args.assignment, args.submission, args.results)
    except Exception as exc:  # noqa: BLE001 - Gradescope must always get a results.json
        data = failed_json(f"the autograder failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}",
                           time.monotonic() - started)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    partial = args.results.with_name(args.results.name + ".tmp")
    partial.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
