"""Grading a class: find submissions, grade each, record every row, write the outputs."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..course import Course, CourseError
from .execute import KernelLimits, SandboxSpec
from .gradebook import GradebookWriter
from .outputs import write_feedback, write_grades_csv
from .reference import ReferenceOutputs, build_reference
from .sandbox import SandboxLimits, SandboxUnavailable, find_bwrap
from .submission import SubmissionResult, grade_submission, zero_result


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    folder: Path


def find_submissions(submissions: Path) -> list[Submission]:
    """Submissions laid out as nbgrader's submitted/<student>/<assignment>/*.ipynb.

    SUBMISSIONS may be the `submitted` folder itself or a course folder containing it.
    """
    if not submissions.is_dir():
        raise CourseError(f"submissions folder not found: {submissions}")
    root = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    found = []
    for student in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment in sorted(p for p in student.iterdir() if p.is_dir() and not p.name.startswith(".")):
            found.append(Submission(student.name, assignment.name, assignment))
    if not found:
        raise CourseError(f"no submissions in {root} (expected <student>/<assignment>/<notebook>.ipynb)")
    return found


def _notebook_for(submission: Submission, reference: ReferenceOutputs) -> tuple[Path | None, str]:
    """The submitted notebook to grade, or None and the reason none can be graded."""
    expected = submission.folder / f"{reference.notebook_name}.ipynb"
    if expected.is_file():
        return expected, ""
    notebooks = sorted(submission.folder.glob("*.ipynb"))
    if len(notebooks) == 1:
        return notebooks[0], ""
    if not notebooks:
        return None, f"no notebook submitted (expected {expected.name})"
    return None, f"{expected.name} not found among {len(notebooks)} notebooks"


UNSAFE_WARNING = "graded WITHOUT a sandbox (--unsafe-no-sandbox): student code could read or change anything"


def make_sandbox(course: Course, unsafe: bool, limits: SandboxLimits = SandboxLimits()) -> SandboxSpec | None:
    """The sandbox every student kernel runs in; refuse to go on without one unless told to."""
    if unsafe:
        return None
    try:
        bwrap = find_bwrap()
    except SandboxUnavailable as exc:
        raise CourseError(f"cannot grade safely: {exc}. Install bubblewrap, or pass --unsafe-no-sandbox "
                          "to grade without a sandbox") from None
    readonly = tuple(p for p in (course.root / "autograder", course.root / "coursekit") if p.is_dir())
    return SandboxSpec(bwrap, limits, readonly)


def _grade_one(course: Course, reference: ReferenceOutputs, submission: Submission,
               limits: KernelLimits, sandbox: SandboxSpec | None) -> SubmissionResult:
    notebook, problem = _notebook_for(submission, reference)
    if notebook is None:
        return zero_result(reference, submission.student, problem)
    try:
        return grade_submission(reference, notebook, submission.student, course.root, limits, sandbox)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not cost the student their row
        return zero_result(reference, submission.student, f"grader error: {type(exc).__name__}: {exc}")


def grade_class(course: Course, submissions: Path, out_dir: Path, *, seed: int | None = None,
                limits: KernelLimits = KernelLimits(), unsafe_no_sandbox: bool = False,
                sandbox_limits: SandboxLimits = SandboxLimits(), progress=print) -> list[SubmissionResult]:
    """Grade every submission; every submission gets a row, whatever happens to its kernel."""
    sandbox = make_sandbox(course, unsafe_no_sandbox, sandbox_limits)
    if sandbox is None:
        progress(f"WARNING: {UNSAFE_WARNING}")
    found = find_submissions(submissions)
    known = set(course.assignments())
    out_dir.mkdir(parents=True, exist_ok=True)
    references: dict[str, ReferenceOutputs] = {}
    for assignment in sorted({s.assignment for s in found} & known):
        progress(f"reference: running the {assignment} solution on this run's inputs")
        references[assignment] = build_reference(course, assignment, seed, limits)

    results: list[SubmissionResult] = []
    with GradebookWriter(out_dir / "gradebook.db") as gradebook:
        for reference in references.values():
            gradebook.record_assignment(reference)
        for index, submission in enumerate(found, 1):
            reference = references.get(submission.assignment)
            if reference is None:
                result = SubmissionResult(submission.student, submission.assignment, "", [],
                                          f"unknown assignment {submission.assignment!r}")
            else:
                result = _grade_one(course, reference, submission, limits, sandbox)
                result.sandboxed = sandbox is not None
                gradebook.record_result(result)
                write_feedback(result, out_dir)
            results.append(result)
            progress(f"[{index}/{len(found)}] {submission.student}/{submission.assignment}: "
                     f"{result.score:g}/{result.max_score:g}" + (f" ({result.reason})" if result.reason else ""))
            write_grades_csv(results, out_dir / "grades.csv")
    write_grades_csv(results, out_dir / "grades.csv")
    _write_details(results, references, out_dir / "details.json")
    return results


def _write_details(results: list[SubmissionResult], references: dict[str, ReferenceOutputs], path: Path) -> None:
    """For the instructor only: the run's seeds and the full message of every failed part."""
    details = {
        "seeds": {name: ref.seed for name, ref in sorted(references.items())},
        "submissions": [
            {"student_id": r.student, "assignment": r.assignment, "score": r.score, "reason": r.reason,
             "seconds": round(r.seconds, 2),
             "failed_parts": {p.grade_id: p.detail for p in r.parts if not p.passed}}
            for r in sorted(results, key=lambda r: (r.assignment, r.student))
        ],
    }
    path.write_text(json.dumps(details, indent=1, sort_keys=True) + "\n", encoding="utf-8")
