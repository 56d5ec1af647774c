"""Grading a class: find submissions, grade what is new on parallel workers, record every row."""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from ..course import Course, CourseError
from ..notebooks import read_notebook
from .execute import KernelLimits, SandboxSpec
from .autograded import write_autograded
from .course_directory import CourseDirectory, find_course_directory
from .deadlines import LatePolicy, read_timestamp
from .feedback_refresh import refresh_feedback
from .gradebook import apply_recorded, record_results, write_gradebook
from .journal import Journal, assignment_fingerprint, folder_hash
from .names import folder_id
from .outputs import atomic_write_text, feedback_folder, write_feedback, write_grades_csv
from .progress import GradingProgress
from .run_lock import exclusive_run
from .reference import ReferenceError, ReferenceOutputs, build_reference, new_seed
from .sandbox import SandboxLimits, SandboxUnavailable, find_bwrap
from .submission import AWAITING, SubmissionResult, zero_result
from .submission_files import SYMLINK_PROBLEM
from .workers import GradedSubmission, ReferenceJob, WorkerOptions, pack_submission, run_dask, run_local


@dataclass(frozen=True)
class Submission:
    #: The id everyone downstream sees (grades.csv, gradebook): the folder's name, always encodable (names.py).
    student: str
    assignment: str
    #: The folder as it is on disk (its names may be bytes that are not UTF-8).
    folder: Path
    #: Set when the submission is found but must not be read (a symbolic link); its row says why.
    problem: str = ""


def find_submissions(submissions: Path) -> list[Submission]:
    """Submissions laid out as nbgrader's submitted/<student>/<assignment>/*.ipynb.

    SUBMISSIONS may be the `submitted` folder itself or a course folder containing it. A student
    or assignment folder that is a symbolic link is found, so it gets its row, but not graded.
    """
    if not submissions.is_dir():
        raise CourseError(f"submissions folder not found: {submissions}")
    root = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    found = []
    for student_id, student_name, student_link in _subfolders(root):
        for assignment_id, assignment_name, assignment_link in _subfolders(root / student_name):
            problem = SYMLINK_PROBLEM if student_link or assignment_link else ""
            found.append(Submission(student_id, assignment_id, root / student_name / assignment_name, problem))
    if not found:
        raise CourseError(f"no submissions in {root} (expected <student>/<assignment>/<notebook>.ipynb)")
    return found


def _subfolders(folder: Path) -> list[tuple[str, str, bool]]:
    """(id, name on disk, is a symbolic link) of each visible folder in `folder`, in order of id.

    A name that is not UTF-8 gets an id with `\\xff` escapes (names.folder_id); should that id be
    another folder's name already, the raw bytes in hex are added, so no submission is lost.
    """
    entries = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir():  # a link to a folder too: found, and refused when packed
                        entries.append((entry.name, entry.is_symlink()))
                except OSError:
                    continue
    except OSError:
        return []
    taken = {name for name, _ in entries if folder_id(name) == name}
    named = []
    for name, link in entries:
        ident = folder_id(name)
        if ident != name:
            if ident in taken:
                ident = f"{ident}~{os.fsencode(name).hex()}"
            while ident in taken:
                ident += "~"
            taken.add(ident)
        named.append((ident, name, link))
    return sorted(named)


UNSAFE_WARNING = "graded WITHOUT a sandbox (--unsafe-no-sandbox): student code could read or change anything"


def make_sandbox(course: Course, unsafe: bool, limits: SandboxLimits = SandboxLimits(),
                 warm: bool = True) -> SandboxSpec | None:
    """The sandbox every student kernel runs in; refuse to go on without one unless told to."""
    if unsafe:
        return None
    try:
        bwrap = find_bwrap()
    except SandboxUnavailable as exc:
        raise CourseError(f"cannot grade safely: {exc}. Install bubblewrap, or pass --unsafe-no-sandbox "
                          "to grade without a sandbox") from None
    readonly = tuple(p for p in (course.root / "autograder", course.root / "coursekit") if p.is_dir())
    return SandboxSpec(bwrap, limits, readonly, warm)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@dataclass
class _Planned:
    submission: Submission
    content_hash: str = ""
    fingerprint: str = ""


def grade_class(course: Course, submissions: Path, out_dir: Path | None = None, *, seed: int | None = None,
                limits: KernelLimits = KernelLimits(), unsafe_no_sandbox: bool = False,
                sandbox_limits: SandboxLimits = SandboxLimits(), workers: int | None = None,
                scheduler: str | None = None, regrade: bool = False, warm_kernels: bool = True,
                assignments: list[str] | None = None, plain_folder: bool = False,
                progress: Callable[[str], None] | None = None) -> list[SubmissionResult]:
    """Grade every submission; every submission gets a row, whatever happens to its kernel.

    Submissions already graded into `out_dir` from the same files, against the same assignment
    and inputs, are not graded again unless `regrade`. `progress` receives one line per event;
    without it a bar is drawn on a terminal (plain lines otherwise). `assignments` limits the run
    to those assignments.

    When `submissions` is an nbgrader course directory (it holds nbgrader_config.py, or it is the
    `submitted/` folder of one) and not `plain_folder`, the course's own notebooks, gradebook and
    autograded/ folder are used (course_directory.py); `out_dir` then defaults to `<root>/graded`.
    """
    workers = workers or default_workers()
    if workers < 1:
        raise CourseError("--workers must be at least 1")
    if not Path(submissions).is_dir():
        raise CourseError(f"submissions folder not found: {submissions}")
    directory = None if plain_folder else find_course_directory(Path(submissions))
    if directory is not None:
        course = directory.grading_course(course)
        out_dir = Path(out_dir) if out_dir is not None else directory.default_out
        submissions = directory.submitted
        known = set(directory.assignments())
        lock_file, locked = directory.lock_file, f"the course directory {directory.root}"
    else:
        if out_dir is None:
            raise CourseError("--out is required unless SUBMISSIONS is an nbgrader course directory "
                              "(a folder holding nbgrader_config.py)")
        out_dir = Path(out_dir)
        known = set(course.assignments())
        lock_file, locked = out_dir / ".autograder-grading.lock", f"the output folder {out_dir}"
    for name in assignments or []:
        if name not in known:
            raise CourseError(f"unknown assignment {name!r} (known: {', '.join(sorted(known)) or 'none'})")
    if scheduler is None:
        make_sandbox(course, unsafe_no_sandbox, sandbox_limits)  # refuse early, before any work
    found = find_submissions(submissions)
    if assignments:
        found = [s for s in found if s.assignment in assignments]
        if not found:
            raise CourseError(f"no submissions of {', '.join(assignments)} in {submissions}")
    if directory is not None:
        for assignment in sorted({s.assignment for s in found} & known):
            directory.check_released(assignment)
    # The course's late-submission plugin is loaded now, so that a broken one stops the run before any work.
    late_policy = LatePolicy(directory.config, directory.importable) if directory is not None else LatePolicy()
    with exclusive_run(lock_file, locked):
        return _grade_found(course, found, known, out_dir, directory, late_policy, seed=seed, limits=limits,
                            unsafe_no_sandbox=unsafe_no_sandbox, sandbox_limits=sandbox_limits, workers=workers,
                            scheduler=scheduler, regrade=regrade, warm_kernels=warm_kernels, progress=progress)


def _grade_found(course: Course, found: list[Submission], known: set[str], out_dir: Path,
                 directory: CourseDirectory | None, late_policy: LatePolicy, *, seed, limits, unsafe_no_sandbox,
                 sandbox_limits, workers, scheduler, regrade, warm_kernels, progress) -> list[SubmissionResult]:
    out_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal(out_dir)
    if regrade:
        journal.clear()
    seeds = {a: s for a, s in journal.seeds().items() if a in known}
    for assignment in sorted({s.assignment for s in found} & known):
        if seed is not None:
            seeds[assignment] = seed
        seeds.setdefault(assignment, new_seed())
    journal.save_seeds(seeds)
    fingerprints = {a: assignment_fingerprint(course, a, seeds[a]) for a in sorted({s.assignment for s in found} & known)}

    report = GradingProgress(len(found), lines=progress)
    if unsafe_no_sandbox:
        report.message(f"WARNING: {UNSAFE_WARNING}")
    results: dict[tuple[str, str], SubmissionResult] = {}
    reused: set[tuple[str, str]] = set()
    pending: list[_Planned] = []
    for submission in found:
        key = (submission.student, submission.assignment)
        if submission.assignment not in known:
            results[key] = SubmissionResult(submission.student, submission.assignment, "", [],
                                            f"unknown assignment {submission.assignment!r}")
            report.update(results[key])
            continue
        planned = _Planned(submission, folder_hash(submission.folder, submission.problem),
                           fingerprints[submission.assignment])
        cached = journal.load(*key, planned.content_hash, planned.fingerprint)
        if cached is not None and _feedback_exists(out_dir, cached):
            results[key] = cached
            reused.add(key)
        else:
            pending.append(planned)
    report.skipped(sum(1 for r in results.values() if r.parts))

    references: dict[str, ReferenceOutputs] = {}
    try:
        needed = sorted({p.submission.assignment for p in pending})
        if needed:
            report.message(f"reference: running the solution of {', '.join(needed)} on this run's inputs")
        options = WorkerOptions(replace(limits, threads=max(1, default_workers() // workers)), sandbox_limits,
                                unsafe_no_sandbox, warm_kernels)
        by_key = {(p.submission.student, p.submission.assignment): p for p in pending}
        packed = (pack_submission(p.submission.student, p.submission.assignment, p.submission.folder,
                                  p.submission.problem) for p in pending)
        if scheduler:
            references = _build_references(course, needed, seeds, limits, workers) if needed else {}
            report.start_clock()
            finished = run_dask(scheduler, references, packed, options)
        elif directory is not None:
            # A course directory's notebooks are not this checkout's, which the workers read:
            # its references are built here, from its source/ and release/, and travel to them.
            references = _build_references(course, needed, seeds, limits, workers) if needed else {}
            report.start_clock()
            finished = run_local(references, packed, options, workers)
        else:
            # The references run on the pool's own workers and kernels, first, and each assignment's
            # submissions start as soon as its reference is known.
            report.start_clock()
            finished = run_local({}, packed, options, workers, [ReferenceJob(a, seeds[a]) for a in needed])
        last_csv = 0.0
        for item, outcome in finished:
            if isinstance(item, ReferenceJob):
                if not isinstance(outcome, ReferenceOutputs):
                    raise outcome if isinstance(outcome, CourseError) else ReferenceError(
                        f"the reference solution of {item.assignment} could not be run: "
                        f"{type(outcome).__name__}: {outcome}")
                references[item.assignment] = outcome
                continue
            planned = by_key[(item.student, item.assignment)]
            reference = references[item.assignment]
            if isinstance(outcome, GradedSubmission):
                result = outcome.result
                try:
                    write_feedback(result, out_dir, outcome.feedback)
                    journal.record(result, planned.content_hash, planned.fingerprint)
                except Exception as exc:  # noqa: BLE001 - the row stands; it is graded again next run
                    result.reason = "; ".join(filter(None, [result.reason, f"its feedback could not be written "
                                                                           f"({type(exc).__name__})"]))
            else:  # the grader failed, not the student: keep the row, and grade it again next run
                result = zero_result(reference, item.student, f"grader error: {type(outcome).__name__}: {outcome}")
                result.sandboxed = not unsafe_no_sandbox
            results[(item.student, item.assignment)] = result
            report.update(result)
            if time.monotonic() - last_csv > 2:
                write_grades_csv(results.values(), out_dir / "grades.csv")
                last_csv = time.monotonic()
    except BaseException:
        report.close()
        _finish(course, results, reused, seeds, out_dir, found, directory, late_policy, report)
        raise
    report.close()
    return _finish(course, results, reused, seeds, out_dir, found, directory, late_policy, report, strict=True)


def _finish(course: Course, results: dict, reused: set, seeds: dict[str, int], out_dir: Path,
            found: list[Submission], directory: CourseDirectory | None, late_policy: LatePolicy,
            report: GradingProgress, strict: bool = False) -> list[SubmissionResult]:
    """Record the run everywhere, whatever happened: gradebook, grades.csv, details.json, feedback.

    The gradebook comes first, because the rows show what it holds (scores a person gave,
    lateness, penalties); if it cannot be written, every row is still written without them, and
    (with `strict`) a one-line error says why.
    """
    ordered = sorted(results.values(), key=lambda r: (r.assignment, r.student))
    if not ordered:
        return ordered
    folders = {(s.student, s.assignment): s for s in found}
    stamps = {key: read_timestamp(s.folder) if not s.problem else (None, "") for key, s in folders.items()}
    problem = None
    recorded = {}
    try:
        options = dict(timestamps={k: v[0] for k, v in stamps.items()}, late_policy=late_policy, reused=reused)
        if directory is not None:
            options.update(course_id=directory.course_id)
            recorded = record_results(directory.db_url, course, ordered, **options)
        else:
            recorded = write_gradebook(out_dir / "gradebook.db", course, ordered, **options)
    except Exception as exc:  # noqa: BLE001 - the rows are written all the same
        problem = exc
    for result in ordered:
        apply_recorded(result, recorded.get((result.student, result.assignment)),
                       *stamps.get((result.student, result.assignment), (None, "")))
    write_grades_csv(ordered, out_dir / "grades.csv")
    _write_details(ordered, seeds, out_dir / "details.json", found)
    for result in ordered:
        if not result.notebook:
            continue
        try:
            refresh_feedback(result, out_dir)
            if directory is not None and (result.student, result.assignment) in recorded:
                submission = folders[(result.student, result.assignment)]
                release = read_notebook(course.exercises / result.assignment / f"{result.notebook}.ipynb")
                write_autograded(directory.autograded, result, out_dir, release, submission.folder,
                                 readable=not submission.problem)
        except Exception as exc:  # noqa: BLE001 - that one page stays as it was; the row stands
            report.message(f"{result.student}/{result.assignment}: its feedback could not be brought up to date "
                           f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]})")
    if problem is not None and strict:
        where = directory.db_url if directory is not None else out_dir / "gradebook.db"
        if isinstance(problem, CourseError):
            raise problem
        raise CourseError(f"the gradebook {where} could not be written ({type(problem).__name__}: "
                          f"{' '.join(str(problem).split())[:200]}); grades.csv and details.json hold every row")
    return ordered


def _build_references(course: Course, assignments: list[str], seeds: dict[str, int], limits: KernelLimits,
                      workers: int) -> dict[str, ReferenceOutputs]:
    """The reference solutions run side by side (trusted code, no sandbox), one kernel per worker."""
    from concurrent.futures import ThreadPoolExecutor

    parallel = max(1, min(workers, len(assignments)))
    kernel_limits = replace(limits, threads=max(1, default_workers() // parallel))
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        built = pool.map(lambda a: build_reference(course, a, seeds[a], kernel_limits), assignments)
        return dict(zip(assignments, built))


def _feedback_exists(out_dir: Path, result: SubmissionResult) -> bool:
    return (feedback_folder(out_dir, result.student, result.assignment) / f"{result.notebook}.html").is_file()


def _write_details(results: list[SubmissionResult], seeds: dict[str, int], path: Path,
                   found: Iterable[Submission] = ()) -> None:
    """For the instructor only: the run's seeds and the full message of every failed part.

    `feedback_folder` says where each student's feedback is (ids that are not safe file names
    are mapped, names.py); `submitted_folder_hex` gives the raw bytes of a folder name that is
    not the student's id (not UTF-8), relative to submitted/.
    """
    raw = {}
    for submission in found:
        on_disk = os.fsencode(submission.folder.parent.name) + b"/" + os.fsencode(submission.folder.name)
        if on_disk != f"{submission.student}/{submission.assignment}".encode("utf-8", "surrogateescape"):
            raw[(submission.student, submission.assignment)] = on_disk.hex()

    def entry(r: SubmissionResult) -> dict:
        item = {"student_id": r.student, "assignment": r.assignment, "score": r.score, "max_score": r.max_score,
                "reason": r.reason, "seconds": round(r.seconds, 2),
                "parts": {p.grade_id: [p.points, p.max_points] for p in r.parts},
                "failed_parts": {p.grade_id: p.detail for p in r.parts if not p.passed},
                # What the report counts: each lost part's diagnosis key and the message the student saw.
                "diagnoses": {p.grade_id: {"key": p.diagnosis or "other", "message": p.feedback}
                              for p in r.parts if not p.passed}}
        if r.manual_parts:  # scored in formgrader; counted in score and max_score
            item["manual_parts"] = {p.grade_id: {"points": p.points, "max_points": p.max_points,
                                                 "status": AWAITING if p.awaiting else
                                                 "graded by hand" if p.by_hand else p.feedback or "scored"}
                                    for p in r.manual_parts}
            item["awaiting_manual_grading"] = r.awaiting
        if r.timestamp or r.duedate or r.late_penalty:  # UTC, as nbgrader export writes them
            item.update(raw_score=r.raw_score, late_penalty=r.late_penalty, timestamp=r.timestamp,
                        duedate=r.duedate, seconds_late=r.seconds_late)
        if r.notebook:
            item["feedback_folder"] = feedback_folder(Path(), r.student, r.assignment).as_posix()
        if (r.student, r.assignment) in raw:
            item["submitted_folder_hex"] = raw[(r.student, r.assignment)]
        return item

    from ..misconceptions import count_mistakes, counts_for_details

    entries = [entry(r) for r in sorted(results, key=lambda r: (r.assignment, r.student))]
    details = {
        "seeds": dict(sorted(seeds.items())),
        "submissions": entries,
        # {assignment: {grade_id: {diagnosis key: submissions}}}: what the class got wrong.
        "mistakes": counts_for_details(count_mistakes(entries)),
    }
    atomic_write_text(path, json.dumps(details, indent=1, sort_keys=True) + "\n")
