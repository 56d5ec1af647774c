"""The check protocol shared by the student's Jupyter and the grader.

A `Check` is called from a locked test cell, e.g. ``checks.neuron_forward(neuron_forward)``.

* In the student's own Jupyter it runs the public cases, whose expected values are
  written in the check module, and prints a pass line or raises `CheckFailed` with a
  message that teaches.
* When the grader runs a notebook it sets ``AUTOGRADER_INPUTS`` to a JSON file of
  inputs it chose for this run. The check then only *reports*: it calls the student's
  code on those inputs and publishes the results as plain data (a display output with
  the `REPORT_MIME` type). It decides nothing. The grader compares the report with the
  reference solution's report for the same inputs, in a process that never ran
  student code, using the same `Check.compare` that gives students their messages.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .plain import NotPlainData, describe_type, from_plain, to_plain

INPUTS_ENV = "AUTOGRADER_INPUTS"
REPORT_MIME = "application/vnd.autograder.report+json"


class CheckFailed(AssertionError):
    """A public check failed; the message says what was expected and what usually causes it."""

    def _render_traceback_(self):  # IPython shows this instead of a long traceback
        return [f"\x1b[1;31m✗ {self}\x1b[0m"]


@dataclass(frozen=True)
class Case:
    """A public case: inputs and the expected result, both visible to students."""
    inputs: dict
    expected: Any
    label: str = ""


class Mistake(str):
    """A message that names a diagnosed mistake, with a stable `key` for counting it across a class.

    Behaves as the message everywhere a str is expected; the key (e.g. "neuron_forward:no_bias")
    is what the class report counts, so rewording a message never splits or merges the counts.
    """
    key: str

    def __new__(cls, message: str, key: str = "other"):
        made = super().__new__(cls, message)
        made.key = key
        return made

    def __reduce__(self):  # verdicts travel from grading workers by pickle
        return (Mistake, (str(self), self.key))


def mistake_key(message: Any, default: str = "other") -> str:
    """The diagnosis key of a compare result: a Mistake's own key, else `default`."""
    return getattr(message, "key", "") or default


@dataclass
class Verdict:
    passed: bool
    message: str = ""
    #: The share of the part's points a failed verdict still earns (see `Partial`); 0 for all-or-nothing.
    credit: float = 0.0
    #: What went wrong, as a stable key the class report counts ("" when passed; see `Mistake`).
    key: str = ""


@dataclass(frozen=True)
class Partial:
    """What `Check.compare` returns for a part with separable requirements when some are unmet.

    `earned` of `of` requirements hold; `message` names the unmet ones. The part then scores
    points × earned / of, nbgrader's partial-credit convention (a score between 0 and the cell's
    points), and the feedback reads "2 of 3 points: …". Use it only where the requirements are
    independent, e.g. a model's layers and its compile settings; one wrong piece that makes the
    whole answer wrong stays all-or-nothing (return a plain message). The message may reach the
    student for the grader's own inputs too, so it names settings and never quotes input values.
    """
    earned: int
    of: int
    message: str


def requirements(items: Sequence[tuple[bool, str]]) -> "Partial | None":
    """None when every (met, message) item is met, else a Partial naming the unmet ones.

    With nothing met this is still a Partial with earned 0, which scores like a plain failure.
    """
    unmet = [message for met, message in items if not met]
    if not unmet:
        return None
    return Partial(len(items) - len(unmet), len(items), " ".join(unmet))


def describe_value(value: Any) -> str:
    """A student's value in a few words for a message: its type, and its shape or length."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        kind = "a list" if isinstance(value, list) else "a tuple"
        return f"{kind} of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:5])
        return f"a dict with keys {keys}" if value else "an empty dict"
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float, str)):
        text = repr(value)
        return f"the {type(value).__name__} {text if len(text) <= 40 else text[:39] + '…'}"
    return f"a value of type {describe_type(value)}"


# ---------------------------------------------------------------- results as plain data
def probe(run: Callable[[], Any]) -> dict:
    """Call student code and capture its result or error as plain data. Never raises."""
    try:
        value = run()
    except NotImplementedError as exc:
        # Only the exercise stub's bare `raise NotImplementedError()` means "not written yet";
        # TensorFlow raises it with a message for real errors (numpy inside model.fit, ...).
        return {"error": "NotImplementedError", "detail": _short(str(exc))}
    except BaseException as exc:  # noqa: BLE001 - sys.exit and friends are student errors too
        return {"error": type(exc).__name__, "detail": _short(str(exc))}
    try:
        return {"ok": json.loads(json.dumps(to_plain(value)))}
    except NotPlainData as exc:
        return {"unplain": str(exc)}
    except (TypeError, ValueError, OverflowError) as exc:
        return {"unplain": f"{describe_type(value)} ({_short(str(exc))})"}


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Check:
    """One graded behaviour of one function or object. Subclasses set the fields and `compare`."""

    name: str = ""
    #: How the call reads in messages, e.g. "neuron_forward(X, w, b)".
    signature: str = ""
    public_cases: Sequence[Case] = ()
    #: What the part must return, in words, for the message when a value cannot be read,
    #: e.g. "a float" or "a pair (w, b)"; "" leaves it out.
    expected_form: str = ""

    # -- grader side ------------------------------------------------------------------
    def secret_inputs(self, rng: np.random.Generator) -> list[dict]:
        """Inputs the grader picks at grading time. Never shown in an exercise."""
        raise NotImplementedError

    def hidden_inputs(self, rng: np.random.Generator) -> list[dict]:
        """Edge cases probed only by the hidden tests of the source notebook (`Check.hidden`)."""
        return []

    @property
    def hidden_name(self) -> str:
        return f"{self.name}:hidden"

    # -- kernel side -------------------------------------------------------------------
    def run(self, subject: Any, inputs: dict) -> Any:
        """Call the student's function or object on one set of inputs (never sees grader-only keys)."""
        return subject(**copy.deepcopy(inputs))

    # -- both sides --------------------------------------------------------------------
    def compare(self, inputs: dict, got: Any, expected: Any) -> str | None:
        """Return None when `got` is right for `inputs`, else a message that teaches."""
        raise NotImplementedError

    def error_advice(self, inputs: dict, error: str, detail: str) -> str:
        """A hint to add when the student's code raised `error` (its name) with `detail`; "" for none."""
        return ""

    def judge(self, inputs: dict, record: dict, expected: Any) -> Verdict:
        """Judge one probe record against the expected value (decoded plain data)."""
        if "error" in record:
            # What a kernel says about an error is shortened here too: a report is not trusted to be short.
            error, detail = _short(str(record["error"]), 80), _short(str(record.get("detail", "")))
            if error == "NotImplementedError" and not detail:
                return Verdict(False, f"{self.signature} is not implemented yet: replace "
                                      "`raise NotImplementedError()` with your code.", key="not_implemented")
            message = f"{self.signature} raised {error}: {detail}".rstrip(": ")
            advice = "" if error == "NotImplementedError" else self.error_advice(inputs, error, detail)
            if advice:
                message = f"{message.rstrip()}{'' if message.rstrip().endswith(('.', '!', '?')) else '.'} {advice}"
            key = "raised " + (error if error.isidentifier() else "an error")
            return Verdict(False, message, key=mistake_key(advice, key))
        if "unplain" in record:
            return Verdict(False, f"{self.signature} returned {_short(str(record['unplain']), 200)}, which is not a "
                                  "number, array or string the grader can check.", key="not_plain_data")
        if "ok" not in record:
            return Verdict(False, f"{self.signature} produced no result.", key="no_result")
        try:
            got = from_plain(record["ok"])
        except (ValueError, TypeError, OverflowError, RecursionError, MemoryError):
            return Verdict(False, f"{self.signature} returned data the grader cannot read: the report is not "
                                  "the plain numbers, arrays or strings a check writes.", key="unreadable_report")
        try:
            message = self.compare(inputs, got, expected)
        except Exception:  # noqa: BLE001 - an odd value must fail the part, not the grader
            # The grader's own exception is never shown: it names the grader's code, not the student's mistake.
            message = Mistake(self.unreadable(got), "unreadable_value")
        if isinstance(message, Partial):
            key = mistake_key(message.message, "partial")
            if not 0 <= message.earned < message.of:
                return Verdict(False, message.message, key=key)
            return Verdict(False, message.message, message.earned / message.of, key=key)
        return Verdict(message is None, message or "", key=mistake_key(message) if message else "")

    def unreadable(self, got: Any) -> str:
        """The honest message for a value whose shape or type this check cannot read."""
        wanted = f" It should return {self.expected_form}." if self.expected_form else ""
        return (f"{self.signature} returned {describe_value(got)}, which this check cannot read.{wanted} "
                "Check the return statement against the statement's description.")

    def __call__(self, subject: Any) -> None:
        inputs_file = os.environ.get(INPUTS_ENV)
        if inputs_file:
            self._report(subject, inputs_file)
        else:
            self._check_public(subject)

    def hidden(self, subject: Any) -> None:
        """Hidden test: probe edge cases at grading time. Outside grading it does nothing."""
        inputs_file = os.environ.get(INPUTS_ENV)
        if inputs_file:
            self._report(subject, inputs_file, self.hidden_name)

    def _report(self, subject: Any, inputs_file: str, key: str | None = None) -> None:
        from IPython.display import display
        key = key or self.name
        payload = self.report_payload(subject, key, load_inputs(inputs_file).get(key, []))
        display({REPORT_MIME: payload, "text/plain": f"[{key}: results reported to the grader]"}, raw=True)

    def report_payload(self, subject: Any, key: str, inputs: list[dict]) -> dict:
        """What a kernel reports for one report key: plain results only, no verdict."""
        payload = {"check": key,
                   "results": [probe(lambda inp=inp: self.run(subject, kernel_view(inp))) for inp in inputs]}
        if key == self.name:  # the public cases are judged by the grader too, from their literal values
            payload["public"] = [probe(lambda case=case: self.run(subject, kernel_view(case.inputs)))
                                 for case in self.public_cases]
        return payload

    def _check_public(self, subject: Any) -> None:
        for case in self.public_cases:
            record = probe(lambda: self.run(subject, kernel_view(case.inputs)))
            verdict = self.judge(case.inputs, record, case.expected)
            if not verdict.passed:
                where = f" [{case.label}]" if case.label else ""
                raise CheckFailed(verdict.message + where)
        count = len(self.public_cases)
        print(f"✓ {self.signature}: " + ("the public check passed." if count == 1 else f"all {count} public checks passed."))


_inputs_cache: dict[str, dict] = {}


def load_inputs(path: str) -> dict[str, list[dict]]:
    """Read the grader's inputs file (in the kernel), decoding arrays."""
    if path not in _inputs_cache:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        _inputs_cache[path] = {name: [from_plain(inp) for inp in lst] for name, lst in raw.items()}
    return _inputs_cache[path]


def kernel_view(inputs: dict) -> dict:
    """The inputs a kernel may see: keys starting with "_" (labels, thresholds) stay with the grader."""
    return {k: v for k, v in inputs.items() if not k.startswith("_")}


def dump_inputs(inputs: dict[str, list[dict]], *, for_kernel: bool = False) -> str:
    """Serialise grader-chosen inputs as JSON; `for_kernel` drops the grader-only keys."""
    view = kernel_view if for_kernel else (lambda inp: inp)
    return json.dumps({name: [to_plain(view(inp)) for inp in lst] for name, lst in inputs.items()},
                      sort_keys=True)


@dataclass
class CheckSet:
    """The checks of one assignment, looked up by name."""
    assignment: str
    checks: list[Check] = field(default_factory=list)

    def __post_init__(self):
        names = [c.name for c in self.checks]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate check names in {self.assignment}: {names}")

    def __getitem__(self, key: str) -> Check:
        """Look up a check by a report key: its name, or its hidden name."""
        for check in self.checks:
            if key in (check.name, check.hidden_name):
                return check
        raise KeyError(key)

    def secret_inputs(self, seed: int) -> dict[str, list[dict]]:
        """Every report key's inputs for one grading run, derived from the run's seed."""
        out = {}
        for index, check in enumerate(self.checks):
            out[check.name] = check.secret_inputs(np.random.default_rng([seed, index, 0]))
            hidden = check.hidden_inputs(np.random.default_rng([seed, index, 1]))
            if hidden:
                out[check.hidden_name] = hidden
        return out
