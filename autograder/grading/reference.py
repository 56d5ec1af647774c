"""The reference side of grading: inputs chosen for this run and the solution's reports on them."""
from __future__ import annotations

import importlib
import json
import secrets
from dataclasses import dataclass

import nbformat

from ..checks.core import CheckSet, dump_inputs
from ..checks.plain import from_plain
from ..course import Course, CourseError
from ..notebooks import GradedPart, graded_parts, read_notebook
from .execute import KernelLimits, SandboxSpec
from .judge import judge_part
from .kernel_run import run_with_inputs


class ReferenceError(CourseError):
    """The reference solution does not pass its own checks: a course bug, not a student's."""


@dataclass
class ReferenceOutputs:
    """Everything the grader needs to judge submissions of one assignment in one run."""
    assignment: str
    notebook_name: str
    seed: int
    checks: CheckSet
    inputs: dict[str, list[dict]]
    inputs_json: str
    parts: list[GradedPart]
    #: {grade_id: {report key: reference payload}}
    expected: dict[str, dict[str, dict]]
    source: nbformat.NotebookNode
    release: nbformat.NotebookNode

    @property
    def max_score(self) -> float:
        return sum(part.points for part in self.parts)

    # Sent to grading workers by pickle: the checks travel as their module's name, and each
    # worker imports them from its own checkout of the course.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["checks"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        from ..course import CHECK_MODULES

        self.__dict__.update(state)
        self.checks = importlib.import_module(CHECK_MODULES[self.assignment]).CHECKS


def new_seed() -> int:
    return secrets.randbits(63)


def build_reference(course: Course, assignment: str, seed: int | None = None,
                    limits: KernelLimits = KernelLimits(), sandbox: SandboxSpec | None = None) -> ReferenceOutputs:
    """Pick this run's inputs, run the reference solution on them, and check it against itself.

    Without `sandbox` the solution (trusted code) runs in a fresh, unsandboxed kernel. A grading
    worker passes its sandbox instead, so the reference runs on the same warm kernels as the class,
    before any submission has run on them.
    """
    seed = new_seed() if seed is None else seed
    source_path = course.source_notebook(assignment)
    release_path = course.exercises / assignment / source_path.name
    if not release_path.exists():
        raise CourseError(f"{release_path} is missing: run `python -m autograder generate` first")
    checks = course.checks(assignment)
    chosen = checks.secret_inputs(seed)
    # The grader keeps the full inputs (round-tripped, so both sides see the same numbers);
    # kernels get them without the grader-only keys.
    inputs = {key: [from_plain(i) for i in lst] for key, lst in json.loads(dump_inputs(chosen)).items()}
    inputs_json = dump_inputs(chosen, for_kernel=True)
    source = read_notebook(source_path)
    executed = run_with_inputs(source, source_path.parent, inputs_json, course.root, limits, sandbox)
    if executed.problem:
        raise ReferenceError(f"the reference solution of {assignment} did not run: {executed.problem}")
    expected = executed.reports_by_grade_id()
    parts = graded_parts(source)
    for part in parts:
        reports = expected.get(part.grade_id, {})
        if not reports:
            raise ReferenceError(f"{assignment}: test cell {part.grade_id} reported nothing for the reference solution")
        for key, payload in reports.items():
            bad = [r for r in payload["results"] if "ok" not in r]
            if bad:
                raise ReferenceError(f"{assignment}: the reference solution failed to run check {key}: {bad[0]}")
        verdict = judge_part(checks, inputs, reports, reports, executed.cell_seconds)
        if not verdict.passed:
            raise ReferenceError(f"{assignment}: the reference solution fails its own check ({verdict.detail})")
    return ReferenceOutputs(assignment, source_path.stem, seed, checks, inputs, inputs_json, parts, expected,
                            source, read_notebook(release_path))
