"""`bench`: the figures README records. Wall times on this machine, and ratios from one run.

* every solution notebook and every lesson executed in a fresh kernel, against its budget
  (45 s and 90 s; 60 s and 120 s for the architectures, 10_cnn onwards; 180 s and 120 s for the capstone);
* grading the same submissions with and without the sandbox, interleaved, as a ratio.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from .course import Course
from .demo import make_submission, reference_answers
from .grading.execute import execute, kernel_environment
from .notebooks import read_notebook

#: Seconds on a 2-core CPU, TensorFlow import included: (solution, lesson). The architectures
#: (10_cnn onwards, Curriculum III) train bigger models and get more.
#: The capstone (issue #16) trains on 32,000 real rows and gets 180 s for its solution.
BUDGETS_S = {"default": (45, 90), "architectures": (60, 120), "capstone": (180, 120)}


def budget(kind: str, name: str) -> int:
    if name.endswith("_capstone"):
        group = "capstone"
    else:
        group = "architectures" if name[:2].isdigit() and int(name[:2]) >= 10 else "default"
    return BUDGETS_S[group][0 if kind == "solution" else 1]


def time_notebook(path: Path, course: Course) -> tuple[float, str]:
    started = time.monotonic()
    executed = execute(read_notebook(path), workdir=path.parent, env=kernel_environment(None, course.root))
    errors = [o.get("ename") for c in executed.notebook.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    return time.monotonic() - started, executed.problem or (f"errors: {errors}" if errors else "")


def sandbox_ratio(course: Course, assignments: list[str], rounds: int = 2) -> tuple[float, float, float]:
    """(median s with sandbox, median s without, ratio) grading the reference of each assignment."""
    from .grading.reference import build_reference
    from .grading.runner import make_sandbox
    from .grading.submission import grade_submission

    # Fresh kernels on both sides: this measures the sandbox, not the zygote (see bench-class).
    sandbox = make_sandbox(course, unsafe=False, warm=False)
    with_box, without = [], []
    with tempfile.TemporaryDirectory(prefix="autograder-bench-") as tmp:
        for assignment in assignments:
            reference = build_reference(course, assignment)
            path = make_submission(course, assignment, reference_answers(course, assignment),
                                   Path(tmp) / assignment / f"{assignment}.ipynb")
            for _ in range(rounds):
                for spec, bucket in ((sandbox, with_box), (None, without)):
                    started = time.monotonic()
                    grade_submission(reference, path, "bench", course.root, sandbox=spec)
                    bucket.append(time.monotonic() - started)
    a, b = statistics.median(with_box), statistics.median(without)
    return a, b, a / b


def run(course: Course, out=print) -> int:
    over = 0
    out(f"{'notebook':<48} {'wall s':>7} {'budget':>7}  problem")
    for kind, paths in (("solution", [course.source_notebook(a) for a in course.assignments()]),
                        ("lesson", sorted(course.lessons.glob("*.ipynb")))):
        for path in paths:
            seconds, problem = time_notebook(path, course)
            limit = budget(kind, path.stem)
            flag = "" if seconds <= limit else "  OVER BUDGET"
            over += bool(flag)
            out(f"{kind + ' ' + path.stem:<48} {seconds:>7.1f} {limit:>7}  {problem}{flag}")
    sample = course.assignments()[:5]
    with_box, without, ratio = sandbox_ratio(course, sample)
    out(f"\ngrading one reference submission: {with_box:.1f} s in the sandbox, {without:.1f} s without "
        f"(median over {', '.join(sample)} and 2 rounds); sandbox cost ratio {ratio:.2f}")
    return 1 if over else 0
