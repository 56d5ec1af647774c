"""The reference solution runs on the grading pool's own warm kernels, before the class, and gives
the same reports as a fresh, unsandboxed kernel on the same seed."""
from __future__ import annotations

import pytest

from autograder.demo import make_submission, reference_answers
from autograder.grading.reference import ReferenceOutputs, build_reference
from autograder.grading.workers import ReferenceJob, WorkerOptions, pack_submission, run_local

pytestmark = [pytest.mark.kernel]

ASSIGNMENT, SEED = "01_neuron", 424242


def _numbers_only(expected: dict) -> dict:
    """The reports of parts judged on plain numbers (a trained model's weights may differ in the last bit)."""
    return {grade_id: reports for grade_id, reports in expected.items()
            if not any("keras_config" in str(r)[:2000] for r in reports.values())}


def test_reference_runs_first_on_the_pool_and_matches_a_fresh_kernel(course, tmp_path):
    answers = reference_answers(course, ASSIGNMENT)
    first = next(iter(answers))
    folders = {}
    for student, given in (("right", answers), ("blank", {k: v for k, v in answers.items() if k != first})):
        path = make_submission(course, ASSIGNMENT, given, tmp_path / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
        folders[student] = path.parent
    work = [pack_submission(s, ASSIGNMENT, f) for s, f in folders.items()]
    order, outcomes = [], {}
    for job, outcome in run_local({}, work, WorkerOptions(), 2, [ReferenceJob(ASSIGNMENT, SEED)]):
        name = "reference" if isinstance(job, ReferenceJob) else job.student
        order.append(name)
        outcomes[name] = outcome
    assert order[0] == "reference" and sorted(order[1:]) == ["blank", "right"], order
    on_pool = outcomes["reference"]
    assert isinstance(on_pool, ReferenceOutputs), on_pool
    assert outcomes["right"].result.score == on_pool.max_score, outcomes["right"].result
    assert outcomes["blank"].result.score < on_pool.max_score
    fresh = build_reference(course, ASSIGNMENT, SEED)
    assert on_pool.inputs_json == fresh.inputs_json
    assert _numbers_only(on_pool.expected) == _numbers_only(fresh.expected)
    assert _numbers_only(fresh.expected), "the comparison must cover some parts"
