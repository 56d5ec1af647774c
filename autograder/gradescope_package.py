"""`autograder gradescope ASSIGNMENT --out DIR`: one assignment as a Gradescope autograder zip.

Gradescope's format (gradescope/autograder_samples, "Autograder Specifications"): a zip with
`setup.sh`, run once as root on Gradescope's Ubuntu image to install what grading needs, and
`run_autograder`, run for each submission with the student's files in /autograder/submission;
it writes /autograder/results/results.json. The zip is unpacked in /autograder/source.

The zip holds the course's code (autograder/, coursekit/), the assignment's source notebook and
released exercise, and the pinned requirements: nothing of the other assignments, no tests.
Grading inside Gradescope is `gradescope_run.py`: the same `grade` as on an instructor's machine.
"""
from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from .course import Course, CourseError

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder is built (Ubuntu image; choose 24.04).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null
cd /autograder/source
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation .
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission; it always leaves /autograder/results/results.json.
cd /autograder/source
export TF_CPP_MIN_LOG_LEVEL=3 TF_ENABLE_ONEDNN_OPTS=0 PATH="/autograder/source/.venv/bin:$PATH"
exec /autograder/source/.venv/bin/python -m autograder.gradescope_run --assignment {assignment} \\
    --submission /autograder/submission --results /autograder/results/results.json
"""

#: What of the checkout the zip carries besides the assignment's own folders.
COURSE_FILES = ("requirements.txt", "pyproject.toml", "README.md")
COURSE_PACKAGES = ("autograder", "coursekit")


def _course_entries(course: Course, assignment: str) -> list[tuple[Path, str]]:
    entries = [(course.root / name, name) for name in COURSE_FILES if (course.root / name).is_file()]
    folders = [course.root / p for p in COURSE_PACKAGES] + [course.solutions / assignment, course.exercises / assignment]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(course.root)
            if path.is_file() and not path.is_symlink() and "__pycache__" not in relative.parts \
                    and not any(part.startswith(".") for part in relative.parts):
                entries.append((path, relative.as_posix()))
    return entries


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def build_gradescope_zip(course: Course, assignment: str, out_dir: Path) -> Path:
    """Write `out_dir`/autograder.zip for `assignment`; return its path."""
    if assignment not in course.assignments():
        raise CourseError(f"unknown assignment {assignment!r} (known: {', '.join(course.assignments())})")
    release = course.exercises / assignment / course.source_notebook(assignment).name
    if not release.is_file():
        raise CourseError(f"{release} is missing: run `python -m autograder generate` first")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "autograder.zip"
    with zipfile.ZipFile(target, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(assignment=assignment).encode(), executable=True)
        for path, name in _course_entries(course, assignment):
            _add(archive, name, path.read_bytes())
    return target
