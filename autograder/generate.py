"""`generate`: solutions/ (nbgrader source) -> exercises/ (release), through nbgrader."""
from __future__ import annotations

import filecmp
import logging
import shutil
import tempfile
from pathlib import Path

from .course import Course, CourseError, venv_bin_on_path
from .notebooks import dumps, normalized, read_notebook


def _nbgrader_generate(course: Course, assignment: str, release_root: Path, db_dir: Path) -> Path:
    """Run nbgrader's generate_assignment for one assignment into release_root/<assignment>."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    venv_bin_on_path()
    config = Config()
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.source_directory = "solutions"
    config.CourseDirectory.release_directory = str(release_root)
    config.CourseDirectory.db_url = f"sqlite:///{db_dir / 'generate.db'}"
    # Student-facing release: solutions stripped, hidden tests removed, outputs cleared.
    api = NbGraderAPI(config=config)
    api.log.setLevel(logging.ERROR)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        detail = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()
        raise CourseError(f"nbgrader could not generate {assignment}: {detail[-1] if detail else ''}")
    return release_root / assignment


def _selected(course: Course, assignments: list[str] | None) -> list[str]:
    known = course.assignments()
    for name in assignments or []:
        if name not in known:
            raise CourseError(f"unknown assignment {name!r} (known: {', '.join(known) or 'none'})")
    return list(assignments) if assignments else known


def render_exercises(course: Course, out_root: Path, assignments: list[str] | None = None) -> list[Path]:
    """Write the normalised release of the assignments under out_root; return the files written."""
    written = []
    with tempfile.TemporaryDirectory(prefix="autograder-generate-") as tmp:
        tmp = Path(tmp)
        for assignment in _selected(course, assignments):
            released = _nbgrader_generate(course, assignment, tmp / "release", tmp)
            for src in sorted(released.rglob("*")):
                if src.is_dir():
                    continue
                dest = out_root / assignment / src.relative_to(released)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if src.suffix == ".ipynb":
                    dest.write_text(dumps(normalized(read_notebook(src))), encoding="utf-8")
                else:
                    shutil.copyfile(src, dest)
                written.append(dest)
    return written


def generate(course: Course, assignments: list[str] | None = None) -> list[Path]:
    """Regenerate exercises/ from solutions/ (idempotent). Returns the paths that changed.

    With `assignments`, only those folders of exercises/ are rewritten.
    """
    selected = _selected(course, assignments)
    with tempfile.TemporaryDirectory(prefix="autograder-exercises-") as tmp:
        fresh = Path(tmp)
        render_exercises(course, fresh, selected)
        changed = []
        for assignment in selected:
            changed += [assignment / p for p in drift(fresh / assignment, course.exercises / assignment)]
            target = course.exercises / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(fresh / assignment, target)
        if not assignments and course.exercises.exists():  # drop exercises whose source is gone
            for stale in sorted(p for p in course.exercises.iterdir() if p.name not in selected):
                changed.append(Path(stale.name))
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return sorted(changed)


def drift(fresh: Path, committed: Path) -> list[Path]:
    """Paths (relative to the exercises folder) that differ between two trees."""
    def files(root: Path) -> set[Path]:
        return {p.relative_to(root) for p in root.rglob("*") if p.is_file()} if root.exists() else set()

    fresh_files, committed_files = files(fresh), files(committed)
    changed = {p for p in fresh_files ^ committed_files}
    changed |= {p for p in fresh_files & committed_files
                if not filecmp.cmp(fresh / p, committed / p, shallow=False)}
    return sorted(changed)


def check_generated(course: Course, assignments: list[str] | None = None) -> list[Path]:
    """The exercise files that `generate` would change (empty when up to date)."""
    selected = _selected(course, assignments)
    with tempfile.TemporaryDirectory(prefix="autograder-exercises-") as tmp:
        fresh = Path(tmp)
        render_exercises(course, fresh, selected)
        if assignments:
            return sorted(a / p for a in map(Path, selected) for p in drift(fresh / a, course.exercises / a))
        return drift(fresh, course.exercises)
