"""Command line: python -m autograder {generate,tidy,validate,grade,report,demo,bench,site}."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .course import Course, CourseError, venv_bin_on_path
from .notebooks import NotebookError


def _cmd_generate(args, course: Course) -> int:
    from .generate import check_generated, generate

    if args.check:
        changed = check_generated(course, args.assignment)
        if changed:
            print("exercises/ is out of date with solutions/; run `python -m autograder generate`. Would change:")
            for path in changed:
                print(f"  exercises/{path}")
            return 1
        print(f"exercises/ is up to date ({len(course.assignments())} assignments).")
        return 0
    changed = generate(course, args.assignment)
    print(f"generated exercises/ for {len(args.assignment or course.assignments())} assignment(s); "
          f"{len(changed)} file(s) changed" + "".join(f"\n  exercises/{p}" for p in changed))
    return 0


def _cmd_tidy(args, course: Course) -> int:
    from .notebooks import dumps, normalized, read_notebook

    untidy = []
    for folder in (course.solutions, course.lessons):
        for path in sorted(folder.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            text = dumps(normalized(read_notebook(path)))
            if path.read_text(encoding="utf-8") != text:
                untidy.append(path.relative_to(course.root))
                if not args.check:
                    path.write_text(text, encoding="utf-8")
    verb = "need tidying" if args.check else "tidied"
    print(f"{len(untidy)} notebook(s) {verb}" + "".join(f"\n  {p}" for p in untidy))
    return 1 if (args.check and untidy) else 0


def _cmd_validate(args, course: Course) -> int:
    from .validate import format_report, validate

    path = Path(args.notebook)
    if not path.is_file():
        raise CourseError(f"notebook not found: {path}")
    results, problem = validate(path, course.root, _limits(args))
    if not results:
        raise CourseError(f"{path} has no graded check cells")
    print(format_report(results, problem))
    return 0 if all(r.passed for r in results) else 1


def _cmd_grade(args, course: Course) -> int:
    from .grading.course_directory import find_course_directory
    from .grading.outputs import summary_table
    from .grading.runner import grade_class

    started = time.monotonic()
    directory = None if args.plain_folder else find_course_directory(Path(args.submissions))
    out = Path(args.out) if args.out else (directory.default_out if directory else None)
    results = grade_class(course, Path(args.submissions), out, seed=args.seed, limits=_limits(args),
                          unsafe_no_sandbox=args.unsafe_no_sandbox, sandbox_limits=_sandbox_limits(args),
                          workers=args.workers, scheduler=args.scheduler, regrade=args.regrade,
                          warm_kernels=not args.fresh_kernels, assignments=args.assignment,
                          plain_folder=args.plain_folder)
    print()
    print(summary_table(results))
    if directory is not None:
        wrote = (f"Recorded the scores in the course's gradebook ({directory.db_url}) and the graded notebooks "
                 f"in {directory.autograded}; wrote {out / 'grades.csv'} and feedback in {out / 'feedback'}. "
                 f"Next: `nbgrader generate_feedback --force ASSIGNMENT` and `nbgrader release_feedback ASSIGNMENT`"
                 f" in {directory.config_folder}, or `nbgrader formgrader` for the manual parts.")
    else:
        wrote = f"Wrote {out / 'grades.csv'}, {out / 'gradebook.db'} and feedback in {out / 'feedback'}."
    print(f"\n{len(results)} submission(s) in {time.monotonic() - started:.1f} s. {wrote} "
          f"`python -m autograder report {out}` draws the class report.")
    return 0


def _cmd_report(args, course: Course) -> int:
    from .report import write_report

    page = write_report(Path(args.graded))
    print(f"wrote {page} and {page.parent / 'lms_grades.csv'}")
    return 0


def _cmd_demo(args, course: Course) -> int:
    from .demo import neuron_class
    from .generate import generate
    from .grading.outputs import summary_table
    from .grading.runner import grade_class
    from .report import write_report

    started = time.monotonic()
    out = Path(args.out)
    changed = generate(course)
    print(f"1. regenerated exercises/ ({len(changed)} file(s) changed)")
    students = neuron_class(course, out / "submitted")
    print(f"2. built a demo class of {len(students)} in {out / 'submitted'}:")
    for student, description in students.items():
        print(f"     {student:<20} {description}")
    print("3. grading")
    results = grade_class(course, out / "submitted", out / "graded", seed=args.seed, limits=_limits(args),
                          unsafe_no_sandbox=args.unsafe_no_sandbox, regrade=True,
                          progress=lambda line: print(f"     {line}"))
    print()
    print(summary_table(results))
    page = write_report(out / "graded")
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s. Look at {out / 'graded' / 'grades.csv'}, "
          f"{out / 'graded' / 'feedback'}/<student>/01_neuron/01_neuron.html and the class report {page}")
    return 0


def _cmd_site(args, course: Course) -> int:
    from .site import build_site

    started = time.monotonic()
    out = Path(args.out)
    if out.resolve() in (course.root.resolve(), *course.root.resolve().parents):
        raise CourseError(f"--out {out} would overwrite the course; pick a folder of its own")
    index = build_site(course, out, workers=args.workers, cell_timeout=args.cell_timeout)
    print(f"Site built in {time.monotonic() - started:.1f} s. Open {index.resolve().as_uri()}")
    return 0


def _cmd_bench(args, course: Course) -> int:
    from .bench import run

    return run(course)


def _cmd_bench_class(args, course: Course) -> int:
    from .bench_class import run

    for assignment in args.assignment or []:
        course.source_notebook(assignment)  # one-line error for an unknown name
    return run(course, args.assignment, args.minimum)


def _limits(args):
    from .grading.execute import KernelLimits

    notebook_timeout = getattr(args, "notebook_timeout", None)
    return KernelLimits(cell_timeout=args.cell_timeout,
                        **({"notebook_timeout": notebook_timeout} if notebook_timeout else {}))


def _sandbox_limits(args):
    from .grading.sandbox import SandboxLimits

    return SandboxLimits(memory_mb=args.memory_mb)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _cmd_gradescope(args, course: Course) -> int:
    from .gradescope_package import build_gradescope_zip

    path = build_gradescope_zip(course, args.assignment, Path(args.out))
    print(f"{path}: upload it as the autograder of {args.assignment} (Ubuntu 24.04 base image)")
    return 0


def _cmd_student_wheel(args, course: Course) -> int:
    from .student_wheel import build_student_wheel

    print(build_student_wheel(course, Path(args.out)))
    return 0


class _OneLineErrors(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit code 2, like every other error here."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(prog="autograder", description=__doc__)
    parser.add_argument("--course", default=None, help="course root (default: this checkout)")
    verbs = parser.add_subparsers(dest="verb", required=True)

    p = verbs.add_parser("generate", help="solutions/ -> exercises/ through nbgrader")
    p.add_argument("--check", action="store_true", help="exit 1 and name the files if exercises/ would change")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable; default: all)")

    verbs.add_parser("bench", help="time every solution notebook and lesson, and the sandbox's cost")

    p = verbs.add_parser("site", help="execute every lesson and render the static course site (no server needed)")
    p.add_argument("--out", default="site", help="output folder (default site/)")
    p.add_argument("--workers", type=_positive, default=None, help="lessons run side by side (default: cores)")
    p.add_argument("--cell-timeout", type=_positive, default=600, help="seconds per cell (default 600)")

    p = verbs.add_parser("bench-class", help="grade a class with nbgrader autograde and with ours; print the ratio")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable; default: all)")
    p.add_argument("--minimum", type=_positive, default=24, help="at least this many submissions (default 24)")

    p = verbs.add_parser("report", help="class report (HTML with plots) and an LMS-ready CSV from a grading run")
    p.add_argument("graded", help="the --out folder of a `grade` run")

    p = verbs.add_parser("gradescope", help="build a Gradescope autograder zip for one assignment")
    p.add_argument("assignment")
    p.add_argument("--out", required=True, help="output folder for autograder.zip")

    p = verbs.add_parser("student-wheel", help="build the wheel students install: the checks, no grader")
    p.add_argument("--out", default="dist", help="output folder (default dist/)")

    p = verbs.add_parser("tidy", help="normalise solution and lesson notebooks (no outputs, stable metadata)")
    p.add_argument("--check", action="store_true", help="exit 1 and name the notebooks that need tidying")

    for name, help_text in (("validate", "run a notebook's public checks and report each graded part"),
                            ("grade", "grade an nbgrader course directory, or submitted/<student>/<assignment>/*.ipynb"),
                            ("demo", "regenerate, build a demo class, grade it and print a summary")):
        p = verbs.add_parser(name, help=help_text)
        p.add_argument("--cell-timeout", type=_positive, default=120, help="seconds per cell (default 120)")
        if name == "validate":
            p.add_argument("notebook")
        if name == "grade":
            p.add_argument("submissions", help="an nbgrader course directory (holding nbgrader_config.py), or a "
                                               "folder holding submitted/ (or the submitted folder itself)")
            p.add_argument("--out", default=None,
                           help="output folder: grades.csv, details.json, feedback/ (and gradebook.db for a plain "
                                "folder); default COURSE_DIR/graded for a course directory, required otherwise")
            p.add_argument("--assignment", action="append", default=None,
                           help="only this assignment (repeatable; default: every assignment submitted)")
            p.add_argument("--plain-folder", action="store_true",
                           help="grade SUBMISSIONS as a plain submitted/ folder even if it holds nbgrader_config.py "
                                "(scores then go to OUT/gradebook.db, not the course's gradebook)")
            p.add_argument("--workers", type=_positive, default=None,
                           help="submissions graded side by side (default: the number of cores)")
            p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                           help="grade on this Dask cluster instead of local worker processes")
            p.add_argument("--regrade", action="store_true",
                           help="grade everything again with new inputs (default: only what is new or changed)")
            p.add_argument("--notebook-timeout", type=_positive, default=900,
                           help="seconds per notebook (default 900)")
            p.add_argument("--memory-mb", type=_positive, default=3072,
                           help="memory per student kernel, in MB (default 3072)")
            p.add_argument("--fresh-kernels", action="store_true",
                           help="start every student kernel from scratch instead of forking it from a sandboxed "
                                "process that has imported TensorFlow (slower; same grades)")
        if name in ("grade", "demo"):
            p.add_argument("--seed", type=int, default=None, help="seed for the grader's inputs (default: random)")
            p.add_argument("--unsafe-no-sandbox", action="store_true",
                           help="grade without the bubblewrap sandbox (marked in the output and grades.csv)")
        if name == "demo":
            p.add_argument("--out", default="build/demo", help="output folder (default build/demo)")
    return parser


COMMANDS = {"generate": _cmd_generate, "tidy": _cmd_tidy, "validate": _cmd_validate, "grade": _cmd_grade,
            "demo": _cmd_demo, "bench": _cmd_bench, "bench-class": _cmd_bench_class,
            "report": _cmd_report, "site": _cmd_site, "gradescope": _cmd_gradescope,
            "student-wheel": _cmd_student_wheel}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    venv_bin_on_path()
    try:
        course = Course(Path(args.course).resolve()) if args.course else Course.here()
        return COMMANDS[args.verb](args, course)
    except (CourseError, NotebookError) as exc:
        print(f"autograder {args.verb}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"autograder {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
