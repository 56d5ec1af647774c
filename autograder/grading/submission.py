"""Grading one submitted notebook against a `ReferenceOutputs`."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..notebooks import NotebookError, is_solution_cell, is_test_cell, nbgrader_meta, read_notebook
from .execute import KernelLimits, SandboxSpec, describe_cell
from .judge import judge_part
from .reference import ReferenceOutputs
from .kernel_run import run_with_inputs
from .manual_parts import NO_RESPONSE, answered, manual_cells


#: What a manual part without a score says, wherever it is shown (grades.csv, feedback, details.json).
AWAITING = "awaiting manual grading"


@dataclass
class PartResult:
    grade_id: str
    max_points: float
    points: float
    #: Full detail for the instructor ("" when the part passed).
    detail: str = ""
    #: What the student sees in the feedback ("" when the part passed).
    feedback: str = ""
    #: A manually graded cell (nbgrader's "manually graded answer" or "task"): a person scores it
    #: in formgrader; `points` is its score so far (manual_parts.py).
    manual: bool = False
    #: A manual part with no score yet: it counts 0 until formgrader records one, and says so.
    awaiting: bool = False
    #: The score was set by a person in formgrader (nbgrader's `manual_score`), not by the grader.
    by_hand: bool = False
    #: The diagnosis behind the feedback, a stable key the class report counts (judge.PartVerdict.key).
    diagnosis: str = ""

    @property
    def passed(self) -> bool:
        return self.points == self.max_points

    @property
    def partial(self) -> bool:
        return 0 < self.points < self.max_points


def part_outcome(part: PartResult) -> str:
    """The feedback for a part that lost points; a partial one reads "2 of 3 points: …"."""
    if part.awaiting:
        return AWAITING
    if part.by_hand:
        return "scored by hand in formgrader" + (f": {part.feedback}" if part.feedback else "")
    if part.partial:
        return f"{part.points:g} of {part.max_points:g} points: {part.feedback}"
    return part.feedback


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    notebook: str
    parts: list[PartResult]
    #: Why the submission could not be graded normally ("" when it was).
    reason: str = ""
    seconds: float = 0.0
    #: False when graded with --unsafe-no-sandbox.
    sandboxed: bool = True
    feedback_notebook: nbformat.NotebookNode | None = field(default=None, repr=False)
    #: The manually graded cells (formgrader scores them); they count in every total.
    manual_parts: list[PartResult] = field(default_factory=list)
    #: When it was submitted (timestamp.txt, UTC, as nbgrader writes it) and when it was due
    #: ("" when unknown), how late it was, and nbgrader's late-submission penalty (deadlines.py).
    timestamp: str = ""
    duedate: str = ""
    seconds_late: float = 0.0
    late_penalty: float = 0.0

    @property
    def raw_score(self) -> float:
        """Every part's points, the manual ones included, before any late penalty."""
        return sum(p.points for p in self.parts) + sum(p.points for p in self.manual_parts)

    @property
    def score(self) -> float:
        """The score after the late penalty, never below 0 then (nbgrader export's `score`)."""
        if not self.late_penalty:
            return self.raw_score
        return max(0.0, self.raw_score - self.late_penalty)

    @property
    def max_score(self) -> float:
        return sum(p.max_points for p in self.parts) + sum(p.max_points for p in self.manual_parts)

    @property
    def awaiting(self) -> list[str]:
        """The manual parts that have no score yet."""
        return [p.grade_id for p in self.manual_parts if p.awaiting]


def earned_points(points: float, credit: float) -> float:
    """A part's score for a credit share, rounded to hundredths and never above the part's points."""
    return min(float(points), round(float(points) * max(0.0, min(1.0, credit)), 2))


def merge_with_source(reference: ReferenceOutputs, submitted: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook the grader runs: the source's cells, with the student's answers in the solution cells.

    Locked and test cells always come from the source (with its hidden tests), so editing,
    deleting or reordering them changes nothing. Cells the student added run after the
    nbgrader cell they followed. A solution cell the student deleted runs as the exercise stub.
    """
    answers: dict[str, nbformat.NotebookNode] = {}
    added: dict[str | None, list] = {}
    anchor = None
    source_ids = {nbgrader_meta(c).get("grade_id") for c in reference.source.cells}
    for cell in submitted.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in source_ids:
            if is_solution_cell(cell) and grade_id not in answers:
                answers[grade_id] = cell
            anchor = grade_id
        elif cell.get("cell_type") in ("code", "markdown"):
            added.setdefault(anchor, []).append(_plain_cell(cell))
    stubs = {nbgrader_meta(c).get("grade_id"): c for c in reference.release.cells if is_solution_cell(c)}
    cells = [_plain_cell(c) for c in added.get(None, [])]
    for cell in reference.source.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_solution_cell(cell):
            chosen = answers.get(grade_id) or stubs.get(grade_id) or cell
            merged = nbformat.from_dict(cell)
            merged.source = chosen.get("source", "") if isinstance(chosen.get("source", ""), str) \
                else "".join(chosen.get("source", []))
            cells.append(merged)
        else:
            cells.append(nbformat.from_dict(cell))
        cells.extend(added.get(grade_id, []))
    merged_nb = nbformat.from_dict(reference.source)
    merged_nb.cells = cells
    for cell in merged_nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return merged_nb


def _plain_cell(cell) -> nbformat.NotebookNode:
    """A student-added cell, stripped of any nbgrader metadata it claims."""
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    if cell.get("cell_type") == "code":
        return nbformat.v4.new_code_cell(source)
    return nbformat.v4.new_markdown_cell(source)


def detect_tampering(reference: ReferenceOutputs, submitted: nbformat.NotebookNode) -> list[str]:
    """Name every change to cells the student may not change, judged against the release, not the
    submission's own metadata. Grading ignores these changes anyway; this says what was tried."""
    def text(cell) -> str:
        source = cell.get("source", "")
        return "\n".join(line.rstrip() for line in ("".join(source) if isinstance(source, list) else source)
                         .strip().splitlines())

    released = {nbgrader_meta(c)["grade_id"]: c for c in reference.release.cells if nbgrader_meta(c).get("grade_id")}
    seen: dict[str, int] = {}
    found = []
    for cell in submitted.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not grade_id:
            continue
        seen[grade_id] = seen.get(grade_id, 0) + 1
        release = released.get(grade_id)
        if release is None:
            found.append(f"unknown cell id '{grade_id}'")
            continue
        release_meta, meta = nbgrader_meta(release), nbgrader_meta(cell)
        if release_meta.get("locked") and not is_solution_cell(release) and text(cell) != text(release):
            found.append(f"edited locked cell '{grade_id}'")
        if float(meta.get("points", 0) or 0) != float(release_meta.get("points", 0) or 0) or \
                bool(meta.get("grade")) != bool(release_meta.get("grade")) or \
                bool(meta.get("solution")) != bool(release_meta.get("solution")):
            found.append(f"changed grading metadata of '{grade_id}'")
    if not set(seen) & set(released):
        return [f"this is not the {reference.assignment} notebook (none of its cells are there)"]
    found += [f"duplicated cell '{g}'" for g, n in seen.items() if n > 1]
    found += [f"deleted cell '{g}'" for g, c in released.items()
              if g not in seen and (nbgrader_meta(c).get("locked") or nbgrader_meta(c).get("grade"))]
    return found


def _out_of_memory(executed, reported: dict) -> str:
    """Name the first cell or part where the kernel hit its memory limit (a MemoryError), if any.

    Memory the student's code keeps (a hoard held by a traceback, say) can starve later parts; the
    row then says so, instead of leaving those parts' failures unexplained.
    """
    for index, cell in enumerate(executed.notebook.cells):
        if any(o.get("output_type") == "error" and o.get("ename") == "MemoryError" for o in cell.get("outputs", [])):
            return f"ran out of memory (MemoryError) in {describe_cell(executed.notebook, index)}"
    for grade_id, reports in reported.items():
        for payload in reports.values():
            records = [r for key in ("results", "public") if isinstance(payload.get(key), list) for r in payload[key]]
            if any(isinstance(r, dict) and r.get("error") == "MemoryError" for r in records):
                return f"ran out of memory (MemoryError) in the checks of '{grade_id}'"
    return ""


def manual_results(source, release, submitted) -> list[PartResult]:
    """The manual parts of a submission as grading leaves them: waiting for formgrader, or 0 with
    "No response." when the answer was left as released (nbgrader's rule). Without a notebook
    (`submitted` None: it could not be read), every manual part waits for a person."""
    parts = []
    for cell in manual_cells(source):
        if submitted is not None and not answered(cell, release, submitted):
            parts.append(PartResult(cell.grade_id, cell.points, 0.0, NO_RESPONSE, NO_RESPONSE, manual=True))
        else:
            parts.append(PartResult(cell.grade_id, cell.points, 0.0, AWAITING, AWAITING, manual=True, awaiting=True))
    return parts


def zero_result(reference: ReferenceOutputs, student: str, reason: str, seconds: float = 0.0) -> SubmissionResult:
    parts = [PartResult(p.grade_id, p.points, 0.0, reason, reason) for p in reference.parts]
    result = SubmissionResult(student, reference.assignment, reference.notebook_name, parts, reason, seconds)
    result.manual_parts = manual_results(reference.source, reference.release, None)
    return result


#: The longest message kept for one part (details.json) and shown for it (feedback).
DETAIL_CHARS, FEEDBACK_CHARS = 2000, 1000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grade_submission(reference: ReferenceOutputs, notebook_path: Path, student: str, course_root: Path,
                     limits: KernelLimits = KernelLimits(), sandbox: SandboxSpec | None = None) -> SubmissionResult:
    """Run one submission in its own kernel and judge every graded part. Never raises.

    Whatever goes wrong for this submission (its notebook, its kernel, the sandbox's reset,
    judging, building its feedback) becomes its `reason`, and every part keeps its row.
    """
    started = time.monotonic()
    try:
        return _grade_submission(reference, notebook_path, student, course_root, limits, sandbox, started)
    except Exception as exc:  # noqa: BLE001 - one submission never stops the run
        return zero_result(reference, student, f"grader error while grading this submission: {type(exc).__name__}: "
                                               f"{' '.join(str(exc).split())[:200]}", time.monotonic() - started)


def _grade_submission(reference: ReferenceOutputs, notebook_path: Path, student: str, course_root: Path,
                      limits: KernelLimits, sandbox: SandboxSpec | None, started: float) -> SubmissionResult:
    try:
        submitted = read_notebook(notebook_path)
    except NotebookError as exc:
        return zero_result(reference, student, str(exc).replace(str(notebook_path), notebook_path.name),
                           time.monotonic() - started)
    tampering = detect_tampering(reference, submitted)
    merged = merge_with_source(reference, submitted)
    executed = run_with_inputs(merged, notebook_path.parent, reference.inputs_json, course_root, limits, sandbox)
    reported = executed.reports_by_grade_id()
    parts = []
    for part in reference.parts:
        verdict = judge_part(reference.checks, reference.inputs, reference.expected[part.grade_id],
                             reported.get(part.grade_id, {}), executed.cell_seconds)
        feedback = verdict.feedback
        if not verdict.passed and executed.problem and not reported.get(part.grade_id):
            feedback = f"Not checked: {executed.problem}."
        diagnosis = "" if verdict.passed else ("no_report" if feedback.startswith("Not checked:") else verdict.key)
        parts.append(PartResult(part.grade_id, part.points, earned_points(part.points, verdict.credit),
                                _clip(verdict.detail, DETAIL_CHARS) if not verdict.passed else "",
                                _clip(feedback, FEEDBACK_CHARS) if not verdict.passed else "",
                                diagnosis=diagnosis))
    reason = "; ".join(filter(None, [executed.problem, _out_of_memory(executed, reported),
                                     tampering and "tampering: " + ", ".join(tampering[:5])]))
    result = SubmissionResult(student, reference.assignment, reference.notebook_name, parts, reason,
                              time.monotonic() - started)
    result.manual_parts = manual_results(reference.source, reference.release, submitted)
    try:
        result.feedback_notebook = feedback_notebook(reference, submitted, result)
    except Exception as exc:  # noqa: BLE001 - the grades stand; the feedback falls back to the score table
        result.reason = "; ".join(filter(None, [result.reason, f"the feedback notebook could not be built "
                                                               f"({type(exc).__name__})"]))
    return result


def feedback_notebook(reference: ReferenceOutputs, submitted: nbformat.NotebookNode,
                      result: SubmissionResult) -> nbformat.NotebookNode:
    """The student's own notebook with each test cell (as released, no hidden tests) showing its verdict.

    Nothing from the grading run is copied in: not its outputs, inputs or reference values.
    """
    released = {nbgrader_meta(c).get("grade_id"): c for c in reference.release.cells if nbgrader_meta(c)}
    by_id = {p.grade_id: p for p in result.parts}
    nb = nbformat.from_dict(submitted)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        release = released.get(grade_id)
        if release is not None and not is_solution_cell(release):
            cell.source = release.source
            cell.metadata = nbformat.from_dict(dict(release.metadata))
        if is_test_cell(cell) and grade_id in by_id:
            part = by_id[grade_id]
            mark = "✓" if part.passed else "✗"
            text = f"{mark} {part.grade_id}: {part.points:g} / {part.max_points:g} points"
            text += "" if part.passed else f"\n{part_outcome(part)}"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text + "\n")]
    return nb
