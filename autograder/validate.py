"""`validate NOTEBOOK`: a student's self-check, run exactly as the notebook's own check cells run."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .grading.execute import KernelLimits, execute, kernel_environment
from .notebooks import is_test_cell, nbgrader_meta, read_notebook


@dataclass(frozen=True)
class PartCheck:
    grade_id: str
    points: float
    passed: bool
    message: str


def validate(path: Path, code_root: Path, limits: KernelLimits = KernelLimits()) -> tuple[list[PartCheck], str]:
    """Run the notebook with the public checks; return each graded part's outcome and any run problem.

    `code_root` is the folder the kernel imports the checks from: the course checkout, or the
    site-packages of the student wheel (self_check.py).
    """
    nb = read_notebook(path)
    executed = execute(nb, workdir=path.parent.resolve(), env=kernel_environment(None, code_root), limits=limits)
    results = []
    for cell in executed.notebook.cells:
        if not is_test_cell(cell):
            continue
        meta = nbgrader_meta(cell)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if cell.get("execution_count") is None and not errors:
            results.append(PartCheck(meta["grade_id"], float(meta.get("points", 0)), False,
                                     "not run: " + (executed.problem or "execution stopped before this cell")))
        elif errors:
            results.append(PartCheck(meta["grade_id"], float(meta.get("points", 0)), False, _message(errors[0])))
        else:
            results.append(PartCheck(meta["grade_id"], float(meta.get("points", 0)), True, ""))
    return results, executed.problem


def _message(error: dict) -> str:
    name, value = error.get("ename", "Error"), str(error.get("evalue", ""))
    if name == "CheckFailed":
        return value
    if name == "NotImplementedError":
        return "not implemented yet: replace `raise NotImplementedError()` with your code"
    if name == "NameError":
        return f"{value}: run the cells above this one (or fix the error in them) first"
    return f"{name}: {value}"


def format_report(results: list[PartCheck], problem: str) -> str:
    lines = []
    for part in results:
        mark = "PASS" if part.passed else "FAIL"
        points = f"{part.points if part.passed else 0:g}/{part.points:g}"
        lines.append(f"{mark}  {part.grade_id:<28} {points:>7}" + ("" if part.passed else f"  {part.message}"))
    earned = sum(p.points for p in results if p.passed)
    total = sum(p.points for p in results)
    lines.append(f"Public checks: {earned:g}/{total:g} points. The grader also tests inputs you have not seen.")
    if problem:
        lines.append(f"Note: {problem}")
    return "\n".join(lines)
