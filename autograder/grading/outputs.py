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
from .sanitize import body_of, clean_text, exporter, inert_notebook, safe_page
from .deadlines import describe_lateness
from .submission import AWAITING, SubmissionResult, part_outcome

BASE_COLUMNS = ["student_id", "assignment", "score", "max_score"]


#: Added to grades.csv when any submission has a timestamp, a due date or a late penalty.
DEADLINE_COLUMNS = ["raw_score", "late_penalty", "timestamp", "duedate", "seconds_late"]


def grades_table(results: Iterable[SubmissionResult]) -> tuple[list[str], list[dict]]:
    """Header and rows of grades.csv: one row per student and assignment, one column per graded part.

    `score` is what the student gets: every part, manual ones included, less the late penalty
    (nbgrader export's `score`). A manual part without a score reads "awaiting manual grading".
    The deadline columns (nbgrader's raw_score, late_submission_penalty, timestamp and duedate,
    in UTC, and seconds_late) appear when a submission has a timestamp, a due date or a penalty.
    """
    results = sorted(results, key=lambda r: (r.assignment, r.student))
    part_columns: list[str] = []
    for result in results:
        for part in [*result.parts, *result.manual_parts]:
            if part.grade_id not in part_columns:
                part_columns.append(part.grade_id)
    deadlines = any(r.timestamp or r.duedate or r.late_penalty for r in results)
    rows = []
    for result in results:
        row = {"student_id": result.student, "assignment": result.assignment,
               "score": _num(result.score), "max_score": _num(result.max_score)}
        row.update({p.grade_id: _num(p.points) for p in result.parts})
        row.update({p.grade_id: AWAITING if p.awaiting else _num(p.points) for p in result.manual_parts})
        if deadlines:
            row.update(raw_score=_num(result.raw_score), late_penalty=_num(result.late_penalty),
                       timestamp=result.timestamp, duedate=result.duedate,
                       seconds_late=_num(round(result.seconds_late, 3)))
        row["reason"] = result.reason
        row["sandbox"] = "bwrap" if result.sandboxed else "NONE (unsafe)"
        rows.append(row)
    return BASE_COLUMNS + part_columns + (DEADLINE_COLUMNS if deadlines else []) + ["reason", "sandbox"], rows


def _num(value: float) -> str:
    return f"{value:g}"


#: A spreadsheet (Excel, LibreOffice, Google Sheets) reads a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value) -> str:
    """`value` as a CSV cell a spreadsheet shows as text, never runs as a formula (OWASP "CSV injection").

    Text starting with = + - @ tab or CR gets a leading single quote; numbers (-1, -0.5, +2) are left
    alone. Lone surrogates (an undecodable folder name) become U+FFFD, so the file can be UTF-8.
    """
    text = clean_text(value if isinstance(value, str) else str(value))
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv_rows(rows: Iterable[Iterable], path: Path) -> None:
    """Write rows atomically as CSV, every cell through `spreadsheet_cell`.

    Lines end in CRLF (RFC 4180): the csv module then quotes a cell holding a lone CR, which with
    "\n" endings it writes bare, and a spreadsheet would start a new row (and maybe a formula) there.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([spreadsheet_cell(cell) for cell in row] for row in rows)
    atomic_write_text(path, buffer.getvalue())


def write_grades_csv(results: Iterable[SubmissionResult], path: Path) -> None:
    """Write grades.csv atomically: readers see the old file or the new one, never half of one."""
    header, rows = grades_table(results)
    write_csv_rows([header, *([row.get(column, "") for column in header] for row in rows)], path)


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


def _markdown_text(text: str) -> str:
    """`text` as literal Markdown text on one line, also inside a table cell: every ASCII punctuation
    mark is backslash-escaped and & < > are entities, so `beta_1**t` stays `beta_1**t` and
    `<img onerror=...>` stays text (in nbconvert and in JupyterLab alike)."""
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(clean_text(str(text)).split()))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MARKDOWN_PUNCTUATION = re.compile(r"([!-%'-/:;=?@\[-`{-~])")
markdown_text = _markdown_text


def _deadline_lines(result: SubmissionResult) -> list[str]:
    """When it was submitted and due, and how late (nothing when neither is known)."""
    if not (result.timestamp or result.duedate):
        return []
    due = f"due {_markdown_text(result.duedate)} UTC" if result.duedate else "no due date"
    if not result.timestamp:
        return [f"**Submitted:** time unknown ({due})  "]
    when = f"**Submitted:** {_markdown_text(result.timestamp)} UTC"
    if result.seconds_late > 0:
        when += f", {_markdown_text(describe_lateness(result.seconds_late))} late ({due})"
    elif result.duedate:
        when += f", on time ({due})"
    return [when + "  "]


def _manual_row(part) -> str:
    """A manually graded part's row in the summary table."""
    if part.awaiting:
        return f"| <code>{_markdown_text(part.grade_id)}</code> | – / {_num(part.max_points)} | ⏳ {AWAITING} |"
    outcome = ("✓ graded by hand" if part.by_hand else
               ("✓ passed" if part.passed else "✗ " + _markdown_text(part.feedback or "no points")))
    return f"| <code>{_markdown_text(part.grade_id)}</code> | {_num(part.points)} / {_num(part.max_points)} | {outcome} |"


def summary_markdown(result: SubmissionResult) -> str:
    """The feedback's first cell. Every value in it (student id, reason, messages) is escaped text."""
    score = f"**Score:** {_num(result.score)} / {_num(result.max_score)}"
    if result.late_penalty:
        score += f" (late penalty: {_num(result.late_penalty)} points)"
    lines = [f"# Feedback: {_markdown_text(result.assignment)}", "",
             f"**Student:** {_markdown_text(result.student)}  ", *_deadline_lines(result), score, ""]
    awaiting = [p for p in result.manual_parts if p.awaiting]
    if awaiting:
        lines += [f"**Awaiting manual grading:** {len(awaiting)} part(s), "
                  f"{_num(sum(p.max_points for p in awaiting))} points, counted as 0 until a person grades them.", ""]
    if result.reason:
        lines += [f"**Note:** {_markdown_text(result.reason)}", ""]
    lines += ["| Part | Points | Result |", "|---|---|---|"]
    for part in result.parts:
        outcome = "✓ passed" if part.passed else "✗ " + _markdown_text(part_outcome(part))
        lines.append(f"| <code>{_markdown_text(part.grade_id)}</code> | {_num(part.points)} / "
                     f"{_num(part.max_points)} | {outcome} |")
    lines += [_manual_row(part) for part in result.manual_parts]
    return "\n".join(lines)


@dataclass(frozen=True)
class RenderedFeedback:
    """A submission's feedback as the student gets it: a notebook and its HTML page."""
    notebook: str
    html: str


def render_feedback(result: SubmissionResult) -> RenderedFeedback:
    """The feedback notebook (a summary table on top of the student's notebook) and its HTML.

    Rendered where the submission was graded, so that grading workers share the work. The student's
    notebook is made inert first and the page is cleaned (see `sanitize`): nothing in it runs or
    loads anything. Never raises for what the notebook holds: if nbconvert fails on it, the page
    shows the summary and says the notebook could not be shown.
    """
    student = result.feedback_notebook if isinstance(result.feedback_notebook, dict) else {}
    cells = student.get("cells") if isinstance(student.get("cells"), list) else []
    nb = inert_notebook({"metadata": student.get("metadata", {}),
                         "cells": [nbformat.v4.new_markdown_cell(summary_markdown(result)), *cells]})
    title = f"Feedback: {result.assignment} ({result.student})"
    html_exporter = exporter()
    try:
        page, _ = html_exporter.from_notebook_node(nb)
    except Exception as exc:  # noqa: BLE001 - a notebook nbconvert chokes on still gets its summary
        note = nbformat.v4.new_markdown_cell(
            f"*Your notebook could not be shown here ({_markdown_text(type(exc).__name__)}).*")
        page, _ = html_exporter.from_notebook_node(nbformat.v4.new_notebook(cells=[nb.cells[0], note]))
    return RenderedFeedback(dumps(nb), safe_page(body_of(page), title, maths=html_exporter.maths))


def feedback_folder(out_dir: Path, student: str, assignment: str) -> Path:
    """`<out>/feedback/<student>/<assignment>`, as safe names (names.py): `alice` stays `alice`."""
    from .names import safe_name

    return out_dir / "feedback" / safe_name(student) / safe_name(assignment)


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

