"""`bench-class`: grading a class, ours against `nbgrader autograde`, measured in one run.

It builds a class across the exercises (per assignment: a correct, a partly wrong, a blank
and a broken submission, plus extra correct ones up to at least 24), then grades it
  (a) with `nbgrader autograde`, one assignment after another, as nbgrader ships, and
  (b) with our `grade` at its defaults (sandboxed, one worker per core, kernels forked from a
      zygote that has imported TensorFlow), and
  (c) the same with `--fresh-kernels` (each kernel imports TensorFlow itself: the "before"),
and prints the wall times and their ratios. It also prints the floor (each submission's
own notebook executed once in a plain kernel, summed and divided by the cores), our time
as a multiple of it, and the fixed cost of one kernel: start, TensorFlow import, sandbox.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .course import Course
from .demo import make_submission, reference_answers
from .grading.execute import execute, kernel_environment
from .grading.runner import default_workers, grade_class, make_sandbox
from .notebooks import read_notebook

KINDS = ("correct", "partly_wrong", "blank", "broken")


def build_bench_class(course: Course, submitted: Path, minimum: int = 24,
                      assignments: list[str] | None = None) -> list[tuple[str, str, str]]:
    """Write the class under submitted/; return (student, assignment, kind) for each submission."""
    assignments = assignments or course.assignments()
    made = []
    for assignment in assignments:
        ref = reference_answers(course, assignment)
        first = sorted(ref)[0]
        for kind in KINDS:
            path = submitted / f"{kind}_{assignment}" / assignment / f"{assignment}.ipynb"
            if kind == "correct":
                make_submission(course, assignment, ref, path)
            elif kind == "partly_wrong":  # one part left as released
                make_submission(course, assignment, {k: v for k, v in ref.items() if k != first}, path)
            elif kind == "blank":
                make_submission(course, assignment, {}, path)
            else:  # the kernel dies halfway through
                make_submission(course, assignment, ref, path, extra_cells={first: "import os\nos._exit(1)"})
            made.append((path.parent.parent.name, assignment, kind))
    extra = 0
    while len(made) < minimum:
        assignment = assignments[extra % len(assignments)]
        student = f"correct{extra + 2}_{assignment}"
        make_submission(course, assignment, reference_answers(course, assignment),
                        submitted / student / assignment / f"{assignment}.ipynb")
        made.append((student, assignment, "correct"))
        extra += 1
    return made


def _nbgrader_course(course: Course, root: Path, assignments: list[str]) -> None:
    """An nbgrader course folder with our sources, released as nbgrader does it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.ExecutePreprocessor.timeout = 300\n"
        "c.Exchange.root = " + repr(str(root / "exchange")) + "\n", encoding="utf-8")
    for assignment in assignments:
        shutil.copytree(course.solutions / assignment, root / "source" / assignment)
        _nbgrader(root, "generate_assignment", assignment, "--force")


def _nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    bin_dir = Path(sys.executable).parent
    return subprocess.run([str(bin_dir / "nbgrader"), *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})


def time_nbgrader(course: Course, submitted: Path, root: Path, assignments: list[str]) -> tuple[float, int]:
    _nbgrader_course(course, root, assignments)
    shutil.copytree(submitted, root / "submitted")
    started = time.monotonic()
    for assignment in assignments:
        done = _nbgrader(root, "autograde", assignment, "--create")
        if "[AutogradeApp | ERROR]" in done.stderr and "correct_" not in done.stderr:
            pass  # the broken submissions fail in nbgrader too; that is part of the class
    graded = len(list((root / "autograded").glob("*/*/*.ipynb")))
    return time.monotonic() - started, graded


def time_floor(course: Course, submitted: Path) -> tuple[float, int]:
    """Sum of each submitted notebook's own execution in a plain kernel, and how many ran."""
    total, count = 0.0, 0
    for path in sorted(submitted.glob("*/*/*.ipynb")):
        nb = read_notebook(path)
        started = time.monotonic()
        execute(nb, workdir=path.parent, env=kernel_environment(None, course.root))
        total += time.monotonic() - started
        count += 1
    return total, count


def kernel_costs(course: Course, rounds: int = 3) -> dict[str, float]:
    """Median seconds: an empty kernel, one that imports Keras, both in the sandbox, and both
    forked from the zygote (whose own start, once per worker, is reported separately)."""
    from .grading.zygote import zygote_for

    sandbox = make_sandbox(course, unsafe=False, warm=False)
    env = kernel_environment(None, course.root)
    started = time.monotonic()
    zygote = zygote_for(sandbox, env)
    zygote_start = time.monotonic() - started
    cells = {"empty kernel": "pass", "kernel + import keras": "import keras"}
    costs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="autograder-bench-") as tmp:
        for _ in range(rounds):
            for label, source in cells.items():
                for spec, suffix, warm in ((None, "", None), (sandbox, ", sandboxed", None),
                                           (sandbox, ", sandboxed warm", zygote)):
                    if suffix.endswith("warm") and zygote is None:
                        continue
                    nb = nbformat.v4.new_notebook()
                    nb.cells = [nbformat.v4.new_code_cell(source)]
                    started = time.monotonic()
                    execute(nb, workdir=warm.files if warm else Path(tmp), env=env, sandbox=spec, zygote=warm)
                    costs.setdefault(label + suffix, []).append(time.monotonic() - started)
    medians = {label: statistics.median(values) for label, values in costs.items()}
    medians["zygote start (once per worker)"] = zygote_start
    return medians


def run(course: Course, assignments: list[str] | None = None, minimum: int = 24, out=print) -> int:
    assignments = assignments or course.assignments()
    cores = default_workers()
    with tempfile.TemporaryDirectory(prefix="autograder-bench-class-") as tmp:
        tmp = Path(tmp)
        made = build_bench_class(course, tmp / "submitted", minimum, assignments)
        kinds = {kind: sum(1 for _, _, k in made if k == kind) for kind in KINDS}
        out(f"class: {len(made)} submissions over {len(assignments)} assignments "
            + ", ".join(f"{n} {k}" for k, n in kinds.items()) + f"; {cores} cores")

        nbgrader_s, autograded = time_nbgrader(course, tmp / "submitted", tmp / "nbgrader", assignments)
        out(f"(a) nbgrader autograde, as shipped:        {nbgrader_s:8.1f} s   "
            f"({autograded} of {len(made)} notebooks came out autograded)")

        timings, rows = {}, {}
        for label, warm in (("b", True), ("c", False)):
            started = time.monotonic()
            results = grade_class(course, tmp / "submitted", tmp / f"ours-{label}", progress=lambda line: None,
                                  warm_kernels=warm)
            timings[label] = time.monotonic() - started
            rows[label] = sorted((r.student, r.assignment, r.score, r.reason) for r in results)
            wrong = [(r.student, r.score, r.max_score) for r in results
                     if r.student.startswith("correct") and r.score != r.max_score]
            if wrong:
                out(f"WARNING: correct submissions without full marks: {wrong}")
        ours_s = timings["b"]
        out(f"(b) our grade, defaults ({cores} workers, sandbox, warm kernels): {ours_s:8.1f} s   "
            f"-> {nbgrader_s / ours_s:.2f}x faster than (a)")
        out(f"(c) our grade, --fresh-kernels:                  {timings['c']:8.1f} s   "
            f"-> warm kernels are {timings['c'] / ours_s:.2f}x faster; "
            + ("identical scores and reasons" if rows["b"] == rows["c"] else "SCORES DIFFER between (b) and (c)"))

        floor_total, count = time_floor(course, tmp / "submitted")
        floor = floor_total / cores
        out(f"floor: {count} notebooks' own execution {floor_total:.1f} s / {cores} cores = {floor:.1f} s; "
            f"ours is {ours_s / floor:.2f}x the floor")
    costs = kernel_costs(course)
    out("fixed cost per kernel (median of 3): " + ", ".join(f"{k} {v:.1f} s" for k, v in costs.items()))
    return 0
