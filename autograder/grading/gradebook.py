"""Recording results in nbgrader's own gradebook, so `nbgrader export` and formgrader keep working.

Only the grading process writes here (sqlite has one writer). Hidden tests are never
stored: nbgrader keeps source cells in its gradebook and shows them again in feedback.
"""
from __future__ import annotations

from pathlib import Path

from ..course import venv_bin_on_path
from ..notebooks import is_solution_cell, nbgrader_meta
from .reference import ReferenceOutputs
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

    def record_assignment(self, reference: ReferenceOutputs) -> None:
        gb, assignment, notebook = self.gradebook, reference.assignment, reference.notebook_name
        gb.update_or_create_assignment(assignment)
        gb.update_or_create_notebook(notebook, assignment)
        for part in reference.parts:
            gb.update_or_create_grade_cell(part.grade_id, notebook, assignment, max_score=part.points,
                                           cell_type="code")
        for cell in reference.release.cells:
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
