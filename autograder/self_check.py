"""`course-check NOTEBOOK`: a student's self-check wherever the student wheel is installed.

The same run as `python -m autograder validate` in this checkout: the notebook runs in a fresh
kernel with the public checks, and each graded part is listed with its message. The grader
later runs the same checks on inputs it picks, outside the student's process.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .validate import format_report, validate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course-check", description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"course-check: error: notebook not found: {args.notebook}", file=sys.stderr)
        return 2
    # The checks are imported from where this package is installed, not from a course checkout.
    results, problem = validate(args.notebook, Path(__file__).resolve().parent.parent)
    if not results:
        print(f"course-check: error: {args.notebook} has no graded check cells", file=sys.stderr)
        return 2
    print(format_report(results, problem))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
