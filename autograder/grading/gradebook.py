"""Recording results in nbgrader's own gradebook, so `nbgrader export` and formgrader keep working.

Only the grading process writes here (sqlite has one writer). Hidden tests are never
stored: nbgrader keeps source cells in its gradebook and shows them again in feedback.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..course import Course, venv_bin_on_path
from ..notebooks import graded_parts, is_solution_cell, nbgrader_meta, read_notebook
from .submission import SubmissionResult


class GradebookWriter:
    def __init__(self, db_path: Path):
        import warnings

        from nbgrader.api import Gradebook
        from sqlalchemy.exc import SAWarning

        # nbgrader's add_submission triggers harmless autoflush warnings in SQLAlchemy 2.
        warnings.filterwarnings("ignore", category=SAWarning)
        venv_bin_on_path()
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db_url = f"sqlite:///{db_path}"
        self.gradebook = Gradebook(self.db_url)

    def close(self) -> None:
        self.gradebook.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def record_assignment(self, assignment: str, notebook: str, parts, release) -> None:
        """Declare an assignment's graded cells (`parts`) and solution cells (from its `release`)."""
        gb = self.gradebook
        gb.update_or_create_assignment(assignment)
        gb.update_or_create_notebook(notebook, assignment)
        for part in parts:
            gb.update_or_create_grade_cell(part.grade_id, notebook, assignment, max_score=part.points,
                                           cell_type="code")
        for cell in release.cells:
            if is_solution_cell(cell):
                gb.update_or_create_solution_cell(nbgrader_meta(cell)["grade_id"], notebook, assignment)

    def record_result(self, result: SubmissionResult) -> None:
        gb = self.gradebook
        gb.update_or_create_student(result.student)
        try:
            gb.find_submission(result.assignment, result.student)
        except Exception:  # nbgrader.api.MissingEntry
            gb.add_submission(result.assignment, result.student)
        for part in result.parts:
            grade = gb.find_grade(part.grade_id, result.notebook, result.assignment, result.student)
            grade.auto_score = part.points
            grade.manual_score = None
        gb.db.commit()

    def score(self, assignment: str, student: str) -> float:
        return float(self.gradebook.find_submission(assignment, student).score)


def write_gradebook(db_path: Path, course: Course, results: list[SubmissionResult]) -> None:
    """Record every result in the gradebook, all or nothing.

    The updates go to a copy, which then replaces the gradebook in one rename: a run that is
    killed leaves the previous gradebook whole, never one with half a class in it.
    """
    import shutil
    import tempfile

    graded = [r for r in results if r.parts]
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=db_path.parent, prefix=f".{db_path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        if db_path.exists():
            shutil.copyfile(db_path, tmp_path)
        else:
            tmp_path.unlink()
        with GradebookWriter(tmp_path) as gradebook:
            for assignment in sorted({r.assignment for r in graded}):
                source = course.source_notebook(assignment)
                release = course.exercises / assignment / source.name
                gradebook.record_assignment(assignment, source.stem, graded_parts(read_notebook(source)),
                                            read_notebook(release))
            for result in graded:
                gradebook.record_result(result)
        os.replace(tmp_path, db_path)
    finally:
        tmp_path.unlink(missing_ok=True)
