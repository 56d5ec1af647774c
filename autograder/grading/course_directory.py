"""An nbgrader course directory: how `grade` recognises one, and where its parts are.

A folder holding `nbgrader_config.py` (or the `submitted/` folder inside one) is an nbgrader
course directory. Its configuration is read as nbgrader reads it when run from that folder:
the `nbgrader_config.py` files of Jupyter's config path, then the course's own; the course root
is `c.CourseDirectory.root`, or that folder when the config does not set it. Grading it means:

* the source notebooks are `source/<assignment>/`, the released ones `release/<assignment>/`
  (what `nbgrader generate_assignment` wrote and students fetched), checked with this course
  package's checks for the assignment of that name;
* submissions are `submitted/<student>/<assignment>/` (what `nbgrader collect` wrote);
* scores go to the course's own gradebook (`c.CourseDirectory.db_url`, by default
  `<root>/gradebook.db`), the one formgrader opens, and graded notebooks to
  `autograded/<student>/<assignment>/`, where `nbgrader generate_feedback` finds them.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ..course import CHECK_MODULES, Course, CourseError

CONFIG_FILE = "nbgrader_config.py"
DEFAULT_STRUCTURE = os.path.join("{nbgrader_step}", "{student_id}", "{assignment_id}")


@dataclass(frozen=True)
class CourseDirectory:
    root: Path
    #: The folder holding the course's nbgrader_config.py (nbgrader's working directory).
    config_folder: Path
    config: object  # traitlets.config.Config
    db_url: str
    course_id: str
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path

    @property
    def db_path(self) -> Path | None:
        """The gradebook's file, for an sqlite gradebook."""
        prefix = "sqlite:///"
        return Path(self.db_url[len(prefix):]) if self.db_url.startswith(prefix) else None

    @property
    def default_out(self) -> Path:
        """Where `grade` writes its own files (grades.csv, details.json, the report) by default."""
        return self.root / "graded"

    @property
    def lock_file(self) -> Path:
        return self.root / ".autograder-grading.lock"

    def grading_course(self, course: Course) -> Course:
        """`course` (this package's checkout: its checks and helpers) with this course's notebooks."""
        return replace(course, source_root=self.source, release_root=self.release)

    def assignments(self) -> list[str]:
        """The assignments of source/ that this course package has checks for."""
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir()
                      if p.is_dir() and p.name in CHECK_MODULES and list(p.glob("*.ipynb")))

    def check_released(self, assignment: str) -> None:
        """A one-line error unless the assignment has been generated into release/."""
        source = sorted((self.source / assignment).glob("*.ipynb"))
        if source and not (self.release / assignment / source[0].name).is_file():
            raise CourseError(f"{self.release / assignment / source[0].name} is missing: run "
                              f"`nbgrader generate_assignment {assignment}` in {self.config_folder} first")

    @contextmanager
    def importable(self):
        """Modules in the course folder importable, as for nbgrader run there (late-penalty plugins)."""
        folder = str(self.config_folder)
        sys.path.insert(0, folder)
        try:
            yield
        finally:
            try:
                sys.path.remove(folder)
            except ValueError:
                pass


def find_course_directory(path: Path) -> CourseDirectory | None:
    """The nbgrader course directory at `path` (or whose `submitted/` folder `path` is), else None."""
    path = Path(path)
    for folder in (path, path.parent):
        if (folder / CONFIG_FILE).is_file() and (folder == path or path.name == "submitted"):
            return load_course_directory(folder.resolve())
    return None


def load_config(folder: Path):
    """nbgrader's configuration for a command run in `folder`: Jupyter's config path, then the folder."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    config = Config()
    for directory in [*reversed(jupyter_config_path()), str(folder)]:
        try:
            loaded = PyFileConfigLoader(CONFIG_FILE, path=directory).load_config()
        except ConfigFileNotFound:
            continue
        except Exception as exc:  # noqa: BLE001 - the instructor's file: say which and why, in one line
            detail = " ".join(str(exc).split())[:200]
            raise CourseError(f"{Path(directory) / CONFIG_FILE} could not be read ({type(exc).__name__}: "
                              f"{detail})") from None
        config.merge(loaded)
    return config


def load_course_directory(folder: Path) -> CourseDirectory:
    from nbgrader.coursedir import CourseDirectory as NbgraderCourseDirectory

    config = load_config(folder)
    # nbgrader resolves a relative root or sqlite path against the folder it runs in: this one.
    root = config.CourseDirectory.root if "root" in config.CourseDirectory else ""
    config.CourseDirectory.root = str(folder / os.path.expanduser(root)) if root else str(folder)
    db_url = config.CourseDirectory.db_url if "db_url" in config.CourseDirectory else ""
    if isinstance(db_url, str) and db_url.startswith("sqlite:///") and not os.path.isabs(db_url[10:]):
        config.CourseDirectory.db_url = f"sqlite:///{folder / db_url[10:]}"
    try:
        coursedir = NbgraderCourseDirectory(config=config)
    except Exception as exc:  # noqa: BLE001 - a bad value in the config (a trait error)
        raise CourseError(f"{folder / CONFIG_FILE}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") \
            from None
    if os.path.normpath(coursedir.directory_structure) != os.path.normpath(DEFAULT_STRUCTURE):
        raise CourseError(f"{folder / CONFIG_FILE} sets CourseDirectory.directory_structure to "
                          f"{coursedir.directory_structure!r}; grade only knows nbgrader's default {DEFAULT_STRUCTURE!r}")
    root = Path(coursedir.root)
    if not root.is_dir():
        raise CourseError(f"the course root {root} (c.CourseDirectory.root in {folder / CONFIG_FILE}) is not a folder")
    return CourseDirectory(
        root=root, config_folder=folder, config=config, db_url=coursedir.db_url,
        course_id=coursedir.course_id,
        source=root / coursedir.source_directory, release=root / coursedir.release_directory,
        submitted=root / coursedir.submitted_directory, autograded=root / coursedir.autograded_directory,
        feedback=root / coursedir.feedback_directory)
