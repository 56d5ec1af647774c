"""What a grading run writes for people: grades.csv, HTML feedback and a summary table."""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import nbformat

from ..notebooks import dumps
from .submission import SubmissionResult

BASE_COLUMNS = ["student_id", "assignment", "score", "max_score"]


def grades_table(results: Iterable[SubmissionResult]) -> tuple[list[str], list[dict]]:
    """Header and rows of grades.csv: one row per student and assignment, one column per graded part."""
    results = sorted(results, key=lambda r: (r.assignment, r.student))
    part_columns: list[str] = []
    for result in results:
        for part in result.parts:
            if part.grade_id not in part_columns:
                part_columns.append(part.grade_id)
    rows = []
    for result in results:
        row = {"student_id": result.student, "assignment": result.assignment,
               "score": _num(result.score), "max_score": _num(result.max_score)}
        row.update({p.grade_id: _num(p.points) for p in result.parts})
        row["reason"] = result.reason
        row["sandbox"] = "bwrap" if result.sandboxed else "NONE (unsafe)"
        rows.append(row)
    return BASE_COLUMNS + part_columns + ["reason", "sandbox"], rows


def _num(value: float) -> str:
    return f"{value:g}"


def write_grades_csv(results: Iterable[SubmissionResult], path: Path) -> None:
    """Write grades.csv atomically: readers see the old file or the new one, never half of one."""
    header, rows = grades_table(results)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def atomic_write_text(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one (also after kill -9)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def _markdown_text(text: str) -> str:
    """Check messages as literal text in a Markdown table cell: `beta_1**t` stays `beta_1**t`."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def summary_markdown(result: SubmissionResult) -> str:
    lines = [f"# Feedback: {result.assignment}", "",
             f"**Student:** {result.student}  ", f"**Score:** {_num(result.score)} / {_num(result.max_score)}", ""]
    if result.reason:
        lines += [f"**Note:** {result.reason}", ""]
    lines += ["| Part | Points | Result |", "|---|---|---|"]
    for part in result.parts:
        outcome = "✓ passed" if part.passed else "✗ " + _markdown_text(part.feedback)
        lines.append(f"| `{part.grade_id}` | {_num(part.points)} / {_num(part.max_points)} | {outcome} |")
    return "\n".join(lines)


@dataclass(frozen=True)
class RenderedFeedback:
    """A submission's feedback as the student gets it: a notebook and its HTML page."""
    notebook: str
    html: str


def render_feedback(result: SubmissionResult) -> RenderedFeedback:
    """The feedback notebook (a summary table on top of the student's notebook) and its HTML.

    Rendered where the submission was graded, so that grading workers share the work.
    """
    from nbconvert import HTMLExporter

    if result.feedback_notebook is not None:
        nb = nbformat.from_dict(result.feedback_notebook)
    else:
        nb = nbformat.v4.new_notebook()
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(result)))
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    return RenderedFeedback(dumps(nb), body)


def feedback_folder(out_dir: Path, student: str, assignment: str) -> Path:
    return out_dir / "feedback" / student / assignment


def write_feedback(result: SubmissionResult, out_dir: Path, rendered: RenderedFeedback | None = None) -> Path:
    """Write the feedback notebook and its HTML for one submission; return the HTML path."""
    rendered = rendered or render_feedback(result)
    folder = feedback_folder(out_dir, result.student, result.assignment)
    atomic_write_text(folder / f"{result.notebook}.ipynb", rendered.notebook)
    html_path = folder / f"{result.notebook}.html"
    atomic_write_text(html_path, rendered.html)
    return html_path


def summary_table(results: Iterable[SubmissionResult]) -> str:
    """A plain-text table for the terminal."""
    results = sorted(results, key=lambda r: (r.assignment, r.student))
    rows = [("student", "assignment", "score", "time", "problems")]
    for r in results:
        failed = [p.grade_id for p in r.parts if not p.passed]
        problems = r.reason or (f"failed: {', '.join(failed)}" if failed else "")
        rows.append((r.student, r.assignment, f"{_num(r.score)}/{_num(r.max_score)}", f"{r.seconds:.1f}s",
                     problems[:70]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

