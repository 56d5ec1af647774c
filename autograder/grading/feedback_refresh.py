"""Bring a feedback page's summary up to date with the gradebook after a run.

Workers render feedback before the gradebook is read, so they know neither the scores a person
gave in formgrader nor the submission's lateness. When the summary they wrote differs from what
is now known, the page is rendered again from the feedback notebook on disk (the student's
notebook, already inert, under the old summary), through the same `render_feedback`.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..notebooks import read_notebook
from .outputs import feedback_folder, summary_markdown, write_feedback
from .submission import SubmissionResult


def refresh_feedback(result: SubmissionResult, out_dir: Path) -> bool:
    """Rewrite the feedback of `result` if its summary is out of date; return whether it was.

    Raises OSError or NotebookError when the feedback notebook cannot be read.
    """
    folder = feedback_folder(out_dir, result.student, result.assignment)
    nb = read_notebook(folder / f"{result.notebook}.ipynb")
    if not nb.cells or nb.cells[0].get("cell_type") != "markdown":
        return False
    if nb.cells[0].source == summary_markdown(result) and (folder / f"{result.notebook}.html").is_file():
        return False
    student = {"metadata": dict(nb.metadata), "cells": nb.cells[1:]}
    write_feedback(replace(result, feedback_notebook=student), out_dir)
    return True
