"""A student's install: the wheel of checks, in a clean venv with the pinned TensorFlow, outside the checkout.

The test builds the wheel, installs it with the course's pinned TensorFlow into a new virtual
environment (nothing from this checkout's venv), copies one exercise to a folder of its own and
runs `course-check` on it there: the blank exercise, a wrong answer and a correct one.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from autograder.demo import make_submission, reference_answers

from .conftest import ROOT

pytestmark = [pytest.mark.kernel]

ASSIGNMENT = "01_neuron"
GRADER_ONLY = ("nbgrader", "nh3", "latex2mathml", "dask", "distributed", "playwright", "jupyterlab", "tensorflow")


def _pinned(name: str) -> str:
    line = next(l for l in (ROOT / "requirements.txt").read_text().splitlines() if l.startswith(name + "=="))
    return line.strip()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "autograder", "student-wheel", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return next(out.glob("*.whl"))


def test_the_wheel_holds_the_checks_and_nothing_of_the_grader(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    modules = [n for n in names if n.endswith(".py")]
    assert "autograder/checks/neuron.py" in modules and "coursekit/data.py" in modules
    assert "autograder/self_check.py" in modules
    grading = sorted(n for n in modules if n.startswith("autograder/grading/"))
    assert grading == ["autograder/grading/__init__.py", "autograder/grading/execute.py", "autograder/grading/zygote.py"]
    assert not any(n.startswith(("solutions/", "exercises/", "tests/", "autograder/cli")) for n in names)
    requires = [line.split(":", 1)[1].strip().lower() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and not [r for r in requires if re.split(r"[<>=!~ \[;]", r)[0] in GRADER_ONLY], requires
    assert "course-check" in archive_entry_points(wheel)


def archive_entry_points(wheel) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt"))).decode()


def test_a_clean_install_checks_an_exercise_outside_the_checkout(course, wheel, tmp_path):
    venv = tmp_path / "student-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home"), "TF_CPP_MIN_LOG_LEVEL": "3",
           **{k: os.environ[k] for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS",
                                         "PIP_CONFIG_FILE", "SSL_CERT_FILE") if k in os.environ}}
    # The versions the course is tested with (pip constraints take no extras such as dask[distributed]).
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(re.sub(r"\[.*?\]", "", line) for line in
                                     (ROOT / "requirements.txt").read_text().splitlines() if "==" in line))
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                              "-c", str(constraints), _pinned("tensorflow-cpu"), str(wheel)],
                             capture_output=True, text=True, timeout=1500, env=env)
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path / "laptop"
    work.mkdir()
    blank = work / f"{ASSIGNMENT}.ipynb"
    shutil.copy2(course.exercises / ASSIGNMENT / blank.name, blank)
    answers = reference_answers(course, ASSIGNMENT)
    wrong = make_submission(course, ASSIGNMENT, {**answers, "neuron_forward":
                            "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(-(X @ w)))\n"}, work / "wrong" / blank.name)
    right = make_submission(course, ASSIGNMENT, answers, work / "right" / blank.name)

    def check(notebook):
        return subprocess.run([str(venv / "bin" / "course-check"), str(notebook)], capture_output=True, text=True,
                              timeout=600, env=env, cwd=notebook.parent)

    done = check(blank)
    assert done.returncode == 1 and done.stdout.count("FAIL") == 4 and "not implemented yet" in done.stdout, done
    done = check(wrong)
    assert done.returncode == 1 and "bias b is missing" in done.stdout and done.stdout.count("PASS") == 3, done
    done = check(right)
    assert done.returncode == 0 and done.stdout.count("PASS") == 4 and "11/11" in done.stdout, done
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import autograder.checks, tensorflow; "
                            "print(autograder.checks.__file__, tensorflow.__version__)"],
                           capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout, where
