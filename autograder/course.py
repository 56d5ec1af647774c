"""Where things live in the course repository, and which checks belong to which assignment."""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .checks.core import CheckSet

#: Assignment name -> module holding its CheckSet as CHECKS.
CHECK_MODULES = {
    "00_first_model": "autograder.checks.first_model",
    "01_neuron": "autograder.checks.neuron",
    "02_activations": "autograder.checks.activations",
    "03_feedforward": "autograder.checks.feedforward",
    "04_losses": "autograder.checks.losses",
    "05_backprop": "autograder.checks.backprop",
    "06_optimizers": "autograder.checks.optimizers",
    "07_fitting": "autograder.checks.fitting",
    "08_dropout": "autograder.checks.dropout",
    "09_regularization": "autograder.checks.regularization",
    "10_cnn": "autograder.checks.cnn",
    "11_rnn": "autograder.checks.rnn",
    "12_attention": "autograder.checks.attention",
    "13_autoencoders": "autograder.checks.autoencoders",
    "14_debugging": "autograder.checks.debugging",
    "15_transfer": "autograder.checks.transfer",
    "16_text": "autograder.checks.text",
    "17_training_loops": "autograder.checks.training_loops",
    "18_capstone": "autograder.checks.capstone",
}


class CourseError(Exception):
    """A usage problem with a one-line message (missing folder, unknown assignment, ...)."""


@dataclass(frozen=True)
class Course:
    root: Path
    #: Where the source (instructor) notebooks live, when not in `root/solutions`: an nbgrader
    #: course directory's `source/` when grading that course (grading/course_directory.py).
    source_root: Path | None = None
    #: Where the released exercises live, when not in `root/exercises`: that course's `release/`.
    release_root: Path | None = None

    @classmethod
    def here(cls) -> "Course":
        """The course checkout this package was installed from (or the working directory)."""
        package_root = Path(__file__).resolve().parent.parent
        if (package_root / "solutions").is_dir():
            return cls(package_root)
        return cls(Path.cwd())

    @property
    def solutions(self) -> Path:
        return self.source_root or self.root / "solutions"

    @property
    def exercises(self) -> Path:
        return self.release_root or self.root / "exercises"

    @property
    def lessons(self) -> Path:
        return self.root / "lessons"

    def assignments(self) -> list[str]:
        if not self.solutions.is_dir():
            raise CourseError(f"no solutions/ folder in {self.root}")
        return sorted(p.name for p in self.solutions.iterdir() if p.is_dir() and list(p.glob("*.ipynb")))

    def source_notebook(self, assignment: str) -> Path:
        folder = self.solutions / assignment
        notebooks = sorted(folder.glob("*.ipynb"))
        if not notebooks:
            known = ", ".join(self.assignments()) or "none"
            raise CourseError(f"unknown assignment {assignment!r} (known: {known})")
        return notebooks[0]

    def checks(self, assignment: str) -> CheckSet:
        if assignment not in CHECK_MODULES:
            raise CourseError(f"no checks registered for assignment {assignment!r}")
        return importlib.import_module(CHECK_MODULES[assignment]).CHECKS


def venv_bin_on_path() -> None:
    """nbgrader shells out to `alembic`; make sure this interpreter's bin/ is on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
