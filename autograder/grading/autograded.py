"""The notebooks `grade` leaves in an nbgrader course's `autograded/` folder.

`nbgrader generate_feedback` turns `autograded/<student>/<assignment>/<notebook>.ipynb` into the
feedback page that `release_feedback` hands back, and formgrader shows it to whoever grades the
manual cells. Each one is the student's notebook as the feedback shows it: every test cell as
released (no hidden tests) with the grader's verdict as its output, no output of the grading run,
outputs made inert (sanitize.py), and raw HTML in markdown cleaned. Every nbgrader cell carries the
release's metadata (never the submission's own), once per id, so nbgrader finds each in its
gradebook. `timestamp.txt` and `submission_secret.txt` are copied from the submission: nbgrader's
feedback steps read them.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import nbformat

from ..notebooks import dumps, nbgrader_meta, read_notebook
from .outputs import atomic_write_text, feedback_folder, markdown_text
from .sanitize import clean_fragment
from .submission import SubmissionResult

#: Files of the submission that nbgrader's feedback steps need next to the notebook.
COPIED_FILES = ("timestamp.txt", "submission_secret.txt")
MAX_COPIED_BYTES = 4096
_HTML_TAG = re.compile(r"<\s*[A-Za-z!/?]")


def autograded_notebook(feedback: nbformat.NotebookNode, release: nbformat.NotebookNode,
                        result: SubmissionResult) -> nbformat.NotebookNode:
    """The autograded notebook from a feedback notebook (render_feedback's: summary cell first)."""
    released = {nbgrader_meta(c)["grade_id"]: c for c in release.cells if nbgrader_meta(c).get("grade_id")}
    cells = []
    if result.reason:
        cells.append(nbformat.v4.new_markdown_cell(f"**Note from the autograder:** {markdown_text(result.reason)}"))
    seen: set[str] = set()
    for cell in feedback.cells[1:]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        metadata = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}
        if grade_id in released and grade_id not in seen:
            seen.add(grade_id)
            metadata["nbgrader"] = json.loads(json.dumps(released[grade_id].metadata.get("nbgrader", {})))
        source = cell.get("source", "")
        if cell.get("cell_type") == "markdown":
            if _HTML_TAG.search(source):
                source = clean_fragment(source)
            new = nbformat.v4.new_markdown_cell(source, metadata=metadata)
            if cell.get("attachments"):
                new.attachments = cell.attachments
        else:
            new = nbformat.v4.new_code_cell(source, metadata=metadata, outputs=cell.get("outputs", []),
                                            execution_count=cell.get("execution_count"))
        cells.append(new)
    return nbformat.v4.new_notebook(cells=cells, metadata=dict(feedback.get("metadata", {})))


def _read_small_file(path: Path) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        data = handle.read(MAX_COPIED_BYTES + 1)
    return data if len(data) <= MAX_COPIED_BYTES else None


def _write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write_text(path, data.decode("utf-8", "replace"))


def write_autograded(autograded_root: Path, result: SubmissionResult, out_dir: Path, release: nbformat.NotebookNode,
                     submission_folder: Path, readable: bool = True) -> Path:
    """Write `autograded/<student>/<assignment>/<notebook>.ipynb` (and the copied files); return its path.

    The student and assignment folders are named as in submitted/, as nbgrader expects. Raises
    OSError or NotebookError when the feedback notebook cannot be read (the caller names it).
    """
    feedback = read_notebook(feedback_folder(out_dir, result.student, result.assignment) / f"{result.notebook}.ipynb")
    folder = autograded_root / submission_folder.parent.name / submission_folder.name
    path = folder / f"{result.notebook}.ipynb"
    _write_if_changed(path, dumps(autograded_notebook(feedback, release, result)).encode("utf-8"))
    for name in COPIED_FILES if readable else ():
        data = _read_small_file(submission_folder / name)
        if data is not None:
            _write_if_changed(folder / name, data)
    return path
