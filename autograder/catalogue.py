"""Trying answers against the checks in one process, for the course's own tests.

Each assignment's tests keep a catalogue of common wrong answers (which must fail with
a message that teaches) and alternative correct answers (which must get full marks).
They run here, in-process and without a kernel: the reference functions come from
executing the source notebook's code once, and grading is simulated with the same
`Check.report_payload` and `judge_part` the real grader uses.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import json
import re
from typing import Any

from .checks.core import Check, CheckFailed, CheckSet, dump_inputs
from .checks.plain import from_plain
from .course import Course
from .grading.judge import MEASURED_SECONDS, PartVerdict, judge_part
from .notebooks import is_test_cell, read_notebook


def reference_namespace(course: Course, assignment: str) -> dict[str, Any]:
    """Run every code cell of the source notebook except its test cells; return the namespace."""
    nb = read_notebook(course.source_notebook(assignment))
    namespace: dict[str, Any] = {"__name__": f"reference_{assignment}"}
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in nb.cells:
            if cell.cell_type == "code" and not is_test_cell(cell):
                exec(compile(cell.source, f"<{assignment} reference>", "exec"), namespace)
    return namespace


def define(code: str, name: str, namespace: dict[str, Any]) -> Any:
    """Execute an answer's code in a copy of `namespace` and return the object it defines as `name`."""
    scope = dict(namespace)
    exec(compile(code, f"<answer {name}>", "exec"), scope)
    return scope[name]


def _no_grader_exception(verdict: PartVerdict, public: str | None = None) -> PartVerdict:
    """`verdict`, after asserting that neither its feedback nor `public` shows the grader's own exception.

    Every verdict the harness produces goes through here (see grader_exception_in), so each catalogue test,
    partial-credit, forged-report and build-share tests included, asserts it, not only expect_wrong."""
    for text in (verdict.feedback, public):
        name = grader_exception_in(text or "")
        assert name is None, f"the grader's own exception ({name}) reached the student: {text}"
    return verdict


def simulate_grading(checks: CheckSet, check: Check, subject: Any, reference: Any, seed: int,
                     cell_seconds: dict[str, float] | None = None) -> PartVerdict:
    """Grade one answer as the grader would for a test cell that calls `check` and `check.hidden`.

    `cell_seconds` stands for the grader's own timing of the notebook's cells (`ExecutedNotebook.cell_seconds`).
    """
    inputs = {k: [from_plain(i) for i in lst] for k, lst in json.loads(dump_inputs(checks.secret_inputs(seed))).items()}
    keys = [k for k in (check.name, check.hidden_name) if k in inputs]
    with contextlib.redirect_stdout(io.StringIO()):
        expected = {k: check.report_payload(reference, k, inputs[k]) for k in keys}
        reported = {k: check.report_payload(subject, k, inputs[k]) for k in keys}
    return _no_grader_exception(judge_part(checks, inputs, expected, reported, cell_seconds))


def grade_trained_part(checks: CheckSet, check: Check, subject: Any, reference: Any, seed: int,
                       cache: dict[int, dict], cell_seconds: dict[str, float] | None = None
                       ) -> tuple[PartVerdict, str | None]:
    """(grading verdict, public message) for a part that fits models, with each model fitted once.

    The same steps as simulate_grading and public_message, but the reference's report is kept in
    `cache` per seed, and the public message comes from the public results the answer's own report
    already holds, judged by the check's Check.judge. (Parts with hidden tests use simulate_grading.)
    """
    name = check.name
    inputs = {k: [from_plain(i) for i in lst] for k, lst in json.loads(dump_inputs(checks.secret_inputs(seed))).items()}
    with contextlib.redirect_stdout(io.StringIO()):
        if seed not in cache:
            cache[seed] = check.report_payload(reference, name, inputs[name])
        reported = cache[seed] if subject is reference else check.report_payload(subject, name, inputs[name])
    verdict = judge_part(checks, inputs, {name: cache[seed]}, {name: reported}, cell_seconds)
    measured = {MEASURED_SECONDS: dict(cell_seconds or {})}
    messages = [check.judge({**case.inputs, **measured}, record, case.expected)
                for case, record in zip(check.public_cases, reported["public"])]
    public = next((m.message for m in messages if not m.passed), None)
    return _no_grader_exception(verdict, public), public


def public_message(check: Check, subject: Any) -> str | None:
    """What the student sees in Jupyter: None when the public checks pass, else the message."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(subject)
    except CheckFailed as exc:
        message = str(exc)
        name = grader_exception_in(message)
        assert name is None, f"the grader's own exception ({name}) reached the student: {message}"
        return message
    return None


# ------------------------------------------------------------- what every catalogue test asserts
def wrong_cases(table: dict) -> list:
    """pytest params (name, label, code, advice) from {name: [(label, code, advice), ...]}."""
    import pytest

    return [pytest.param(name, *entry, id=f"{name}-{entry[0]}") for name, entries in table.items() for entry in entries]


def alternative_cases(table: dict) -> list:
    """pytest params (name, code) from {name: [code, ...]}."""
    import pytest

    return [pytest.param(name, code, id=f"{name}-{i}") for name, codes in table.items() for i, code in enumerate(codes)]


#: Python's own exception names (KeyError, ValueError, …) and tracebacks: what the grader's code raises.
_EXCEPTION_NAME = re.compile(r"(?<![.\w])(?:%s|Traceback)\b" % "|".join(sorted(
    name for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException) and name[0].isupper())))


def grader_exception_in(message: str) -> str | None:
    """The name of a Python exception a message shows that the student's code did not raise, or None.

    An exception the student's own code raised is quoted after "raised" and is theirs to read, and the
    stub's own `raise NotImplementedError()` is quoted after "raise"; any other exception name in a message
    comes from the grader's code and must never reach a student.
    """
    for match in _EXCEPTION_NAME.finditer(message or ""):
        if message.startswith(" encountered when calling", match.end()):
            continue  # Keras's own account of a student's model that cannot run, not the grader's exception
        if "raise" not in message[:match.start()]:
            return match.group(0)
    return None


def expect_wrong(label: str, verdicts: list[PartVerdict], public: str | None, advice: str | None) -> None:
    """A wrong answer fails grading on every seed, and what the student sees names the mistake.

    `advice` None marks an answer that passes the public examples only: grading must catch it
    with the generic message, which quotes none of the grader's inputs.
    """
    from .grading.judge import SECRET_FAILURE

    for verdict in verdicts:
        assert not verdict.passed, f"{label} passed grading"
        assert verdict.feedback, f"{label} failed without a message"
        assert grader_exception_in(verdict.feedback) is None, f"{label}: the grader's own exception " \
                                                              f"reached the student: {verdict.feedback}"
    assert grader_exception_in(public or "") is None, f"{label}: the grader's own exception reached the " \
                                                      f"student: {public}"
    if advice is None:
        assert public is None, public
        assert all(v.feedback.startswith(SECRET_FAILURE.split("(")[0]) for v in verdicts), verdicts
    else:
        assert public is not None and advice in public, public
        assert all(advice in v.feedback for v in verdicts), [v.feedback for v in verdicts]


def expect_correct(verdicts: list[PartVerdict], public: str | None) -> None:
    """A correct answer passes the public checks and grading on every seed."""
    assert public is None, public
    for verdict in verdicts:
        assert verdict.passed, verdict.detail


# ------------------------------------------------------------- attacks on what a kernel reports
def grader_inputs(checks: CheckSet, seed: int) -> dict[str, list[dict]]:
    """Every report key's inputs for `seed`, as the grader holds them ("_" keys included)."""
    return {k: [from_plain(i) for i in lst] for k, lst in json.loads(dump_inputs(checks.secret_inputs(seed))).items()}


def forged_verdict(checks: CheckSet, check: Check, reference: Any, forge, seed: int) -> PartVerdict:
    """Grade a part as if the kernel's check `run` had been replaced by `forge(inputs)` for every case,
    hidden and public ones included. `forge` gets the grader's full inputs ("_" keys included), so it can
    claim perfect facts: the strongest lie a kernel can tell."""
    from .checks.core import probe

    inputs = grader_inputs(checks, seed)
    keys = [k for k in (check.name, check.hidden_name) if k in inputs]
    with contextlib.redirect_stdout(io.StringIO()):
        expected = {k: check.report_payload(reference, k, inputs[k]) for k in keys}
    reported = {k: {"check": k, "results": [probe(lambda inp=inp: forge(inp)) for inp in inputs[k]]} for k in keys}
    reported[check.name]["public"] = [probe(lambda case=case: forge(case.inputs)) for case in check.public_cases]
    return _no_grader_exception(judge_part(checks, inputs, expected, reported))


#: Reports of the wrong shape or type a forged kernel might send for a model part: each must get a message.
ODD_MODEL_RECORDS = (
    "a string", 10 ** 30, None, [1, 2], {"is_model": True}, {"is_model": True, "keras_config": "{"},
    {"is_model": True, "keras_config": "[]", "weights": 3},
    {"is_model": True, "keras_config": json.dumps({"class_name": "Sequential", "config": 5})},
    {"is_model": True, "keras_config": "[" * 10 ** 5, "weights": []},
    {"is_model": True, "keras_config": json.dumps({"class_name": "Dense", "module": "keras.layers",
                                                   "config": {"units": 10 ** 9}}), "weights": []},
)


def odd_report_failures(checks: CheckSet, names: tuple[str, ...], seed: int, expected: Any = None) -> list:
    """(check, report) pairs of ODD_MODEL_RECORDS for which `compare` gave no message, or one showing the
    grader's own exception; [] is right.

    `compare` raising fails the test by itself: it must never raise on data of the wrong type."""
    inputs = grader_inputs(checks, seed)
    return [(name, odd) for odd in ODD_MODEL_RECORDS for name in names
            if not (isinstance(message := checks[name].compare(inputs[name][0], odd, expected), str) and message
                    and grader_exception_in(message) is None)]
