"""Manually graded cells: which cells of a source notebook a person scores, and whether a student answered.

nbgrader has two kinds (its cell toolbar's "Manually graded answer" and "Manually graded task"):
an answer cell is `solution` and `grade` (markdown, such as a written analysis, or code); a task
cell is `task`, and the student answers it anywhere. The grader never scores them: formgrader
does. Like nbgrader's `SaveAutoGrades`, an answer left exactly as released (or deleted) gets
0 points with the comment "No response."; every other one waits for a person, and says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..notebooks import nbgrader_meta

#: nbgrader's automatic comment on an answer left as it was released.
NO_RESPONSE = "No response."


@dataclass(frozen=True)
class ManualCell:
    grade_id: str
    points: float
    #: "answer" (solution and grade) or "task".
    kind: str
    cell_type: str


def is_manual_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade_id")) and (bool(meta.get("task")) or (bool(meta.get("grade")) and
                                                                        bool(meta.get("solution"))))


def manual_cells(nb) -> list[ManualCell]:
    """The manually graded cells of a source notebook, in order (the first of a repeated id only)."""
    found, seen = [], set()
    for cell in nb.get("cells", []):
        if not is_manual_cell(cell):
            continue
        meta = nbgrader_meta(cell)
        if meta["grade_id"] in seen:
            continue
        seen.add(meta["grade_id"])
        try:
            points = float(meta.get("points", 0) or 0)
        except (TypeError, ValueError):
            points = 0.0
        found.append(ManualCell(meta["grade_id"], points, "task" if meta.get("task") else "answer",
                                str(cell.get("cell_type", "markdown"))))
    return found


def _text(cell) -> str:
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def answered(cell: ManualCell, release, submitted) -> bool:
    """Whether the student wrote an answer: their cell differs from the released one.

    A task is answered elsewhere in the notebook, so it always counts as answered. The
    submission's own metadata is not trusted: its cell is found by id, its text compared.
    """
    if cell.kind == "task":
        return True
    released = next((c for c in release.get("cells", []) if nbgrader_meta(c).get("grade_id") == cell.grade_id), None)
    mine = next((c for c in submitted.get("cells", []) if nbgrader_meta(c).get("grade_id") == cell.grade_id
                 and nbgrader_meta(c).get("solution")), None)
    if mine is None:
        return False
    return released is None or _text(mine) != _text(released)
