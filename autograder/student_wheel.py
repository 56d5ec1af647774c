"""`autograder student-wheel --out DIR`: the checks a student needs, as a wheel of their own.

A student working on a laptop or a hosted notebook service needs the exercise notebook and the
code its cells import: the checks (`autograder.checks`), the course's helpers (`coursekit`) and
the self-check command `course-check NOTEBOOK` (validate.py). Nothing of the grader: no
nbgrader, sandbox, gradebook or sanitiser. TensorFlow is not a dependency, so that a hosted
service's own TensorFlow (often a GPU build) is kept rather than replaced; Keras 3 is, at the
version the course is tested with or newer.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .course import Course, CourseError

DISTRIBUTION = "dl-course-checks"
#: Modules of this package the exercises and the self-check import, and nothing else.
MODULES = ("autograder/__init__.py", "autograder/notebooks.py", "autograder/validate.py",
           "autograder/self_check.py", "autograder/grading/__init__.py", "autograder/grading/execute.py",
           "autograder/grading/zygote.py")
PACKAGES = ("autograder/checks", "coursekit")
#: What the exercises and the self-check import, with the lowest versions the course supports.
REQUIRES = ("keras>=3.5", "numpy>=1.26", "scikit-learn>=1.3", "matplotlib>=3.7", "nbformat>=5.9",
            "nbclient>=0.10", "ipykernel>=6.25")

PYPROJECT = """[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "The checks and helpers of the Keras course's exercises, for students (no grader)."
requires-python = ">=3.10"
dependencies = [{requires}]

[project.scripts]
course-check = "autograder.self_check:main"

[tool.setuptools.packages.find]
include = ["autograder", "autograder.checks", "autograder.grading", "coursekit"]

[tool.setuptools.package-data]
coursekit = ["datasets/*"]
"""


def _version(course: Course) -> str:
    found = re.search(r'^version\s*=\s*"([^"]+)"', (course.root / "pyproject.toml").read_text(), re.M)
    return found.group(1) if found else "0.0.0"


def build_student_wheel(course: Course, out_dir: Path) -> Path:
    """Build the student wheel into `out_dir`; return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="student-wheel-") as tmp:
        stage = Path(tmp) / "stage"
        for relative in MODULES:
            (stage / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(course.root / relative, stage / relative)
        for relative in PACKAGES:
            shutil.copytree(course.root / relative, stage / relative,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
        (stage / "pyproject.toml").write_text(PYPROJECT.format(
            name=DISTRIBUTION, version=_version(course), requires=", ".join(f'"{r}"' for r in REQUIRES)))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                               "--wheel-dir", str(out_dir), str(stage)], capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            raise CourseError(f"the student wheel did not build: {lines[-1]}")
    wheels = sorted(out_dir.glob(f"{DISTRIBUTION.replace('-', '_')}-{_version(course)}-*.whl"))
    if not wheels:
        raise CourseError(f"the student wheel did not appear in {out_dir}")
    return wheels[-1]
