"""Recording results in nbgrader's own gradebook, so `nbgrader export` and formgrader keep working.

Only the grading process writes here, and all of a run's updates are one transaction: the
gradebook holds the previous run or this one, never half of a class. Nothing that formgrader
records is lost or overwritten: manual scores, extra credit, comments, flags, extensions and
students' names are never written; an autograded part that a person re-scored keeps that
score (and, as in nbgrader's `SaveAutoGrades`, is flagged for review). Manually graded cells
get no score from the grader: they are marked `needs_manual_grade`, except an answer left as
released, which gets 0 with the comment "No response.", as nbgrader does.

Hidden tests are never stored: nbgrader keeps source cells in its gradebook and shows them
again in feedback.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..course import Course, venv_bin_on_path
from ..notebooks import graded_parts, is_solution_cell, nbgrader_meta, read_notebook
from .deadlines import LatePolicy, format_time
from .manual_parts import NO_RESPONSE, manual_cells
from .submission import SubmissionResult

#: How long a write waits for formgrader (or anyone) holding the gradebook, in milliseconds.
BUSY_TIMEOUT_MS = 60_000


@dataclass
class GradeState:
    """One graded cell of one submission, as the gradebook has it after the run."""
    score: float
    auto_score: float | None
    manual_score: float | None
    needs_manual_grade: bool


@dataclass
class RecordedSubmission:
    """What the gradebook says about one submission once the run's updates are in."""
    grades: dict[str, GradeState] = field(default_factory=dict)
    timestamp: datetime | None = None
    duedate: datetime | None = None
    seconds_late: float = 0.0
    late_penalty: float = 0.0
    #: Why the late penalty could not be applied ("" when it was).
    problem: str = ""


class GradebookWriter:
    def __init__(self, db: str | Path, course_id: str = "default_course"):
        """`db` is a database URL (nbgrader's `db_url`) or the path of an sqlite file."""
        import warnings

        from nbgrader.api import Gradebook
        from sqlalchemy.exc import SAWarning

        # nbgrader's add_submission triggers harmless autoflush warnings in SQLAlchemy 2.
        warnings.filterwarnings("ignore", category=SAWarning)
        venv_bin_on_path()
        if isinstance(db, Path) or "://" not in db:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
            db = f"sqlite:///{db}"
        self.db_url = db
        self.gradebook = Gradebook(db, course_id)

    def close(self) -> None:
        self.gradebook.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self):
        """Every write inside is one transaction, committed at the end or rolled back on any error.

        nbgrader's Gradebook commits after each call; inside, those commits only flush. On sqlite
        the transaction starts with BEGIN IMMEDIATE, so formgrader's writes wait for it (and it
        waits up to BUSY_TIMEOUT_MS for theirs) rather than interleave with it.
        """
        from sqlalchemy import text

        session = self.gradebook.db
        commit = session.commit
        if self.db_url.startswith("sqlite"):
            session.execute(text(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}"))
            session.execute(text("BEGIN IMMEDIATE"))
        session.commit = session.flush
        try:
            yield self
        except BaseException:
            del session.commit
            session.rollback()
            raise
        del session.commit
        commit()

    def record_assignment(self, assignment: str, notebook: str, source, release) -> None:
        """Declare an assignment's graded cells (from its `source`) and solution cells (from its `release`)."""
        gb = self.gradebook
        try:
            gb.find_assignment(assignment)
        except Exception:  # nbgrader.api.MissingEntry: created here (generate_assignment normally has)
            gb.update_or_create_assignment(assignment)
        gb.update_or_create_notebook(notebook, assignment)
        for part in graded_parts(source):
            gb.update_or_create_grade_cell(part.grade_id, notebook, assignment, max_score=part.points,
                                           cell_type="code")
        for cell in manual_cells(source):
            if cell.kind == "task":
                gb.update_or_create_task_cell(cell.grade_id, notebook, assignment, max_score=cell.points,
                                              cell_type=cell.cell_type)
            else:
                gb.update_or_create_grade_cell(cell.grade_id, notebook, assignment, max_score=cell.points,
                                               cell_type=cell.cell_type)
        for cell in release.cells:
            if is_solution_cell(cell):
                gb.update_or_create_solution_cell(nbgrader_meta(cell)["grade_id"], notebook, assignment)

    def _submission(self, result: SubmissionResult, timestamp: datetime | None):
        from nbgrader.api import MissingEntry

        gb = self.gradebook
        try:
            gb.find_student(result.student)
        except MissingEntry:  # nbgrader's autograde creates unknown students too (create_student)
            gb.add_student(result.student)
        try:
            submission = gb.find_submission(result.assignment, result.student)
        except MissingEntry:
            submission = gb.add_submission(result.assignment, result.student)
        submission.timestamp = timestamp
        return submission

    def _notebook(self, submission, result: SubmissionResult):
        """The submission's notebook, created if the assignment gained it after the submission was added."""
        from nbgrader.api import MissingEntry, SubmittedNotebook

        gb = self.gradebook
        try:
            return gb.find_submission_notebook(result.notebook, result.assignment, result.student)
        except MissingEntry:
            notebook = SubmittedNotebook(notebook=gb.find_notebook(result.notebook, result.assignment),
                                         assignment=submission)
            gb.db.add(notebook)
            gb.db.flush()
            return notebook

    def _grade(self, notebook, result: SubmissionResult, grade_id: str):
        """The grade row of a cell, created if the cell was declared after the submission was added."""
        from nbgrader.api import Grade, GradeCell, MissingEntry, TaskCell

        gb = self.gradebook
        try:
            return gb.find_grade(grade_id, result.notebook, result.assignment, result.student)
        except MissingEntry:
            cell = next((c for c in [*notebook.notebook.grade_cells, *notebook.notebook.task_cells]
                         if c.name == grade_id), None)
            if not isinstance(cell, (GradeCell, TaskCell)):
                raise
            grade = Grade(cell_id=cell.id, notebook=notebook)
            gb.db.add(grade)
            gb.db.flush()
            return grade

    def _comment(self, notebook, result: SubmissionResult, grade_id: str):
        from nbgrader.api import Comment, MissingEntry

        gb = self.gradebook
        try:
            return gb.find_comment(grade_id, result.notebook, result.assignment, result.student)
        except MissingEntry:
            cell = next((c for c in [*notebook.notebook.solution_cells, *notebook.notebook.task_cells]
                         if c.name == grade_id), None)
            if cell is None:
                return None
            comment = Comment(cell_id=cell.id, notebook=notebook)
            gb.db.add(comment)
            gb.db.flush()
            return comment

    def record_result(self, result: SubmissionResult, timestamp: datetime | None = None, fresh: bool = True):
        """Write the grader's scores; keep every score, comment and flag a person gave.

        A `fresh` result (graded in this run) is flagged as nbgrader's `SaveAutoGrades` flags an
        autograded submission: a cell needs manual grading if a person scored it before (to review)
        or if it has no automatic score (a manual answer). A result reused from an earlier run
        changes no flag, so a run over unchanged submissions undoes nothing done in formgrader.
        Returns the gradebook's submission and notebook.
        """
        submission = self._submission(result, timestamp)
        notebook = self._notebook(submission, result)
        for part in [*result.parts, *result.manual_parts]:
            grade = self._grade(notebook, result, part.grade_id)
            auto = None if part.awaiting else part.points
            if fresh or grade.auto_score != auto:
                grade.auto_score = auto
                grade.needs_manual_grade = grade.manual_score is not None or auto is None
            if part.manual and fresh:
                comment = self._comment(notebook, result, part.grade_id)
                if comment is not None:
                    comment.auto_comment = NO_RESPONSE if part.feedback == NO_RESPONSE else None
        return submission, notebook

    def recorded(self, result: SubmissionResult, submission, notebook, problem: str = "") -> RecordedSubmission:
        """The submission as the gradebook now has it (scores with formgrader's, lateness, penalty)."""
        self.gradebook.db.flush()
        for item in (submission, notebook):
            self.gradebook.db.refresh(item)
        grades = {}
        for part in [*result.parts, *result.manual_parts]:
            grade = self._grade(notebook, result, part.grade_id)
            self.gradebook.db.refresh(grade)
            grades[part.grade_id] = GradeState(float(grade.score or 0.0), grade.auto_score, grade.manual_score,
                                               bool(grade.needs_manual_grade))
        return RecordedSubmission(grades, submission.timestamp, submission.duedate,
                                  float(submission.total_seconds_late or 0.0),
                                  float(notebook.late_submission_penalty or 0.0), problem)

    def score(self, assignment: str, student: str) -> float:
        return float(self.gradebook.find_submission(assignment, student).score)


def record_results(db_url: str, course: Course, results: list[SubmissionResult], *, course_id: str = "default_course",
                   timestamps: dict[tuple[str, str], datetime | None] | None = None,
                   late_policy: LatePolicy | None = None,
                   reused: set[tuple[str, str]] | frozenset = frozenset()) -> dict[tuple[str, str], RecordedSubmission]:
    """Record every graded result in the gradebook at `db_url`, in one transaction; return what it holds.

    `reused` names the results taken from an earlier run (the journal), whose flags are left as
    they are (see `record_result`). Each submission's late penalty is then set by `late_policy`
    (nbgrader's plugin), from the scores now recorded, manual ones included.
    """
    timestamps = timestamps or {}
    graded = [r for r in results if r.parts or r.manual_parts]
    recorded: dict[tuple[str, str], RecordedSubmission] = {}
    policy = late_policy or LatePolicy()
    with GradebookWriter(db_url, course_id) as gradebook, gradebook.transaction():
        for assignment in sorted({r.assignment for r in graded}):
            source = course.source_notebook(assignment)
            release = course.exercises / assignment / source.name
            gradebook.record_assignment(assignment, source.stem, read_notebook(source), read_notebook(release))
        for result in graded:
            key = (result.student, result.assignment)
            submission, notebook = gradebook.record_result(result, timestamps.get(key), fresh=key not in reused)
            gradebook.gradebook.db.flush()
            gradebook.gradebook.db.refresh(notebook)
            gradebook.gradebook.db.refresh(submission)
            problem = ""
            try:
                policy.apply(submission, notebook)
            except Exception as exc:  # noqa: BLE001 - the instructor's plugin failed for this student
                notebook.late_submission_penalty = None
                problem = (f"the late-submission plugin {policy.name} failed ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:120]}), so no late penalty was applied")
            recorded[key] = gradebook.recorded(result, submission, notebook, problem)
    return recorded


def write_gradebook(db_path: Path, course: Course, results: list[SubmissionResult], **kwargs
                    ) -> dict[tuple[str, str], RecordedSubmission]:
    """Record every result in the gradebook file of a grading output folder, all or nothing.

    The updates go to a copy, which then replaces the gradebook in one rename: a run that is
    killed leaves the previous gradebook whole, never one with half a class in it. (A course
    directory's gradebook, which formgrader may have open, is written in place instead, in one
    transaction: see `record_results`.)
    """
    import shutil
    import tempfile

    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        if db_path.exists():
            shutil.copyfile(db_path, tmp_path)
        else:
            tmp_path.unlink()
        recorded = record_results(f"sqlite:///{tmp_path}", course, results, **kwargs)
        os.replace(tmp_path, db_path)
        return recorded
    finally:
        tmp_path.unlink(missing_ok=True)


def apply_recorded(result: SubmissionResult, recorded: RecordedSubmission | None, timestamp: datetime | None = None,
                   timestamp_problem: str = "") -> None:
    """Give `result` what the gradebook holds: scores a person gave, the due date, lateness, penalty.

    Without `recorded` (the gradebook could not be written, or the row was not graded) only the
    submission time read from timestamp.txt is kept. Problems with either are added to the reason.
    """
    notes = [timestamp_problem]
    result.timestamp = format_time(recorded.timestamp if recorded is not None else timestamp)
    if recorded is not None:
        result.duedate = format_time(recorded.duedate)
        result.seconds_late = recorded.seconds_late
        result.late_penalty = recorded.late_penalty
        notes.append(recorded.problem)
        if recorded.duedate is not None and recorded.timestamp is None and not timestamp_problem:
            notes.append("no timestamp.txt, so lateness was not checked")
        for part in result.parts:
            state = recorded.grades.get(part.grade_id)
            if state is not None and (state.manual_score is not None or state.score != (state.auto_score or 0.0)):
                part.points, part.by_hand = state.score, True
        for part in result.manual_parts:
            state = recorded.grades.get(part.grade_id)
            if state is None:
                continue
            if state.manual_score is not None:
                part.points, part.awaiting, part.by_hand = state.score, False, True
            elif state.auto_score is None:
                part.points, part.awaiting = 0.0, True
    result.reason = "; ".join(filter(None, [result.reason, *notes]))
