"""Deciding a graded part from plain reports. Runs only in the grader, never in a kernel."""
from __future__ import annotations

from dataclasses import dataclass

from ..checks.core import CheckSet
from ..checks.plain import from_plain

#: Shown to students when their code passes the public cases but not the grader's own inputs.
SECRET_FAILURE = ("Your code passes the public examples but gives wrong results on other inputs the grader "
                  "chose ({wrong} of {total} wrong). Make sure nothing depends on the example's sizes or values, "
                  "and re-read the statement for the exact formula and return shape.")
MISSING_REPORT = ("The check for this part did not run: an earlier cell may have stopped the kernel, "
                  "or a cell before it changed the checks.")


@dataclass(frozen=True)
class PartVerdict:
    passed: bool
    #: Full detail for the instructor; may quote the grader's inputs and reference values.
    detail: str = ""
    #: Safe to show the student: quotes only public values.
    feedback: str = ""
    #: The share of the part's points earned (1 when passed; between 0 and 1 for partial credit).
    credit: float = 0.0
    #: The diagnosis behind the feedback, a stable key ("" when passed; see checks.core.Mistake).
    #: "grader_inputs_only" when the public examples pass and only the grader's own inputs fail.
    key: str = ""

    def __post_init__(self):
        if self.passed:
            object.__setattr__(self, "credit", 1.0)


UNREADABLE = ("The report of this part could not be read: the check cell's output was changed "
              "or is not what the check writes.")


#: The input key under which a check finds what the grader measured itself while the notebook ran
#: ({grade_id: seconds} per cell, `ExecutedNotebook.cell_seconds`). It is added here, at judging time, so
#: a kernel never sees it, and it is present (perhaps empty) whenever the grader judges.
MEASURED_SECONDS = "_cell_seconds"


def judge_part(checks: CheckSet, inputs: dict[str, list[dict]], expected: dict[str, dict],
               reported: dict[str, dict], cell_seconds: dict[str, float] | None = None) -> PartVerdict:
    """Compare what a submission reported for one test cell with what the reference reported.

    `cell_seconds` is the grader's own timing of the submission's cells; every case's inputs get it as
    `MEASURED_SECONDS`. Whatever the report holds, this returns a verdict for this part alone and never raises.
    """
    try:
        measured = {MEASURED_SECONDS: dict(cell_seconds or {})}
        inputs = {key: [{**case, **measured} for case in cases] for key, cases in inputs.items()}
        return _judge_part(checks, inputs, expected, reported, measured)
    except Exception as exc:  # noqa: BLE001 - a report is data from the student's kernel
        message = UNREADABLE
        return PartVerdict(False, f"{message} ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})", message,
                           key="unreadable_report")


def _judge_part(checks: CheckSet, inputs: dict[str, list[dict]], expected: dict[str, dict],
                reported: dict[str, dict], measured: dict) -> PartVerdict:
    public_failure = secret_failure = ""
    public_key = secret_key = ""
    wrong = total = 0
    # Partial credit is the least any failing case earned: one case with nothing right earns nothing.
    credit = 1.0
    for key, reference in expected.items():
        check = checks[key]
        got = reported.get(key)
        if not isinstance(got, dict) or not isinstance(got.get("results"), list):
            return PartVerdict(False, f"{key}: no report. {MISSING_REPORT}", MISSING_REPORT, key="no_report")
        results = got["results"]
        key_inputs = inputs.get(key, [])
        if len(results) != len(reference["results"]) or len(results) != len(key_inputs):
            return PartVerdict(False, f"{key}: {len(results)} results reported, {len(key_inputs)} expected.",
                               MISSING_REPORT, key="no_report")
        for inp, ref_record, record in zip(key_inputs, reference["results"], results):
            total += 1
            verdict = check.judge(inp, record if isinstance(record, dict) else {}, from_plain(ref_record["ok"]))
            if not verdict.passed:
                wrong += 1
                credit = min(credit, verdict.credit)
                if not secret_failure:
                    secret_failure, secret_key = f"{key}: {verdict.message}", verdict.key
        if "public" in reference:
            public = got.get("public")
            if not isinstance(public, list) or len(public) != len(check.public_cases):
                return PartVerdict(False, f"{key}: public results missing. {MISSING_REPORT}", MISSING_REPORT,
                                   key="no_report")
            for case, record in zip(check.public_cases, public):
                verdict = check.judge({**case.inputs, **measured}, record if isinstance(record, dict) else {},
                                      case.expected)
                if not verdict.passed:
                    credit = min(credit, verdict.credit)
                    where = f" [{case.label}]" if case.label else ""
                    if not public_failure:
                        public_failure, public_key = verdict.message + where, verdict.key
    if not (public_failure or secret_failure):
        return PartVerdict(True)
    if public_failure:
        feedback, diagnosis = public_failure, public_key
    elif credit > 0:
        # A partial answer's own message names what is missing; it quotes no grader input.
        feedback, diagnosis = secret_failure.split(": ", 1)[1], secret_key
    else:
        feedback, diagnosis = SECRET_FAILURE.format(wrong=wrong, total=total), "grader_inputs_only"
    detail = "; ".join(filter(None, [public_failure and f"public: {public_failure}", secret_failure]))
    return PartVerdict(False, detail, feedback, credit, diagnosis or "other")
