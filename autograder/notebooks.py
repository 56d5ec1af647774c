"""Reading, writing and normalising notebooks, and reading nbgrader's cell metadata."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
_KEPT_CELL_METADATA = ("nbgrader", "tags")


class NotebookError(ValueError):
    """A notebook that cannot be read; the message is one line naming the file."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook, or raise NotebookError with a one-line reason."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for bad JSON or schema
        raise NotebookError(f"{path}: not a valid notebook ({_first_line(exc)})") from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path}: not a valid notebook (no cell list)")
    return nb


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else exc.__class__.__name__)[:200]


def normalized(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """No outputs, no execution counts, stable ids, and only the metadata Jupyter and nbgrader need."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        cell.metadata = nbformat.from_dict({k: cell.metadata[k] for k in _KEPT_CELL_METADATA if k in cell.metadata})
        meta = cell.metadata.get("nbgrader")
        if meta is not None:
            meta.pop("checksum", None)  # nbgrader recomputes it; it only adds churn to diffs
        cell.id = (meta or {}).get("grade_id") or f"cell-{index}"
        if isinstance(cell.source, list):
            cell.source = "".join(cell.source)
        cell.source = cell.source.rstrip("\n")
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            cell.pop("attachments", None)
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """nbformat's own layout (sorted keys, sources split into lines) with a final newline."""
    return nbformat.writes(nb, version=4).rstrip("\n") + "\n"


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(normalized(nb)), encoding="utf-8")


# ----------------------------------------------------------------- nbgrader cell metadata
@dataclass(frozen=True)
class GradedPart:
    """A graded test cell of a source notebook."""
    grade_id: str
    points: float
    index: int


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_solution_cell(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def graded_parts(nb) -> list[GradedPart]:
    return [GradedPart(nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)), i)
            for i, c in enumerate(nb.cells) if is_test_cell(c)]
