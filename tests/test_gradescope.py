"""The Gradescope autograder zip, run the way Gradescope runs it.

The zip is unpacked into a scratch root laid out like Gradescope's /autograder (source/,
submission/, results/, run_autograder), and `run_autograder` runs under bubblewrap with that
root bound at /autograder and without the course checkout in sight. The venv stands in for
what setup.sh installs (no network in tests). results.json is then checked against the fields
Gradescope documents, for a correct, a blank and a wrong submission.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.demo import make_submission, reference_answers

from .conftest import ROOT

pytestmark = [pytest.mark.kernel]

ASSIGNMENT = "01_neuron"
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
VENV = Path(sys.prefix)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gradescope-zip")
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope", ASSIGNMENT, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out / "autograder.zip"


def test_the_zip_holds_setup_run_and_only_this_assignment(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml"} <= names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    assert f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in names and f"exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb" in names
    assert "autograder/gradescope_run.py" in names and "coursekit/__init__.py" in names
    others = [n for n in names if n.startswith(("solutions/", "exercises/")) and f"/{ASSIGNMENT}/" not in n]
    assert others == [] and not any(n.startswith(("tests/", "build/", "lessons/")) or "__pycache__" in n for n in names)
    assert "pip install" in setup and "-r requirements.txt" in setup and "bubblewrap" in setup
    assert "/autograder/submission" in run and "/autograder/results/results.json" in run


def run_like_gradescope(autograder_zip: Path, root: Path, notebook: Path) -> dict:
    """Unpack, lay out /autograder, run run_autograder under bwrap; return results.json."""
    source, submission = root / "source", root / "submission"
    for folder in (source, submission, root / "results"):
        folder.mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(source)
        for info in archive.infolist():
            os.chmod(source / info.filename, (info.external_attr >> 16) & 0o777)
    shutil.copy2(source / "run_autograder", root / "run_autograder")  # where Gradescope puts it
    shutil.copy2(notebook, submission / notebook.name)
    (source / ".venv").mkdir()
    # The kernel spec setup.sh would write: this venv's python, seen at /autograder/source/.venv.
    spec = json.loads((VENV / "share/jupyter/kernels/python3/kernel.json").read_text())
    spec["argv"][0] = "/autograder/source/.venv/bin/python"
    (root / "kernel.json").write_text(json.dumps(spec))
    binds = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--ro-bind", "/sys", "/sys",
             "--bind", "/proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    for link in ("bin", "lib", "lib64", "sbin"):
        if os.path.islink(f"/{link}"):
            binds += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    python_home = Path(os.path.realpath(sys.executable)).parents[1]  # the interpreter the venv was made from
    if not str(python_home).startswith("/usr"):
        binds += ["--ro-bind", str(python_home), str(python_home)]
    # Script shebangs in the venv name its real path; the checkout itself stays out of sight.
    binds += ["--bind", str(root), "/autograder", "--ro-bind", str(VENV), "/autograder/source/.venv",
              "--ro-bind", str(VENV), str(VENV),
              "--ro-bind", str(root / "kernel.json"), "/autograder/source/.venv/share/jupyter/kernels/python3/kernel.json"]
    done = subprocess.run(["bwrap", *binds, "--die-with-parent", "--chdir", "/", "/autograder/run_autograder"],
                          capture_output=True, text=True, timeout=600)
    results = root / "results" / "results.json"
    assert results.is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(results.read_text())


def check_documented_fields(results: dict) -> None:
    assert isinstance(results["score"], (int, float)) and isinstance(results["tests"], list)
    assert results["visibility"] in VISIBILITY and results["stdout_visibility"] in VISIBILITY
    for test in results["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility"}, test
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"] and test["visibility"] in VISIBILITY
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


@pytest.mark.parametrize("kind", ["correct", "blank", "wrong"])
def test_run_autograder_writes_documented_results(course, autograder_zip, tmp_path, kind):
    answers = reference_answers(course, ASSIGNMENT)
    if kind == "blank":
        notebook = course.exercises / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    else:
        if kind == "wrong":
            answers = {**answers, "neuron_forward": "def neuron_forward(X, w, b):\n    return 1 / (1 + np.exp(-(X @ w)))\n"}
        notebook = make_submission(course, ASSIGNMENT, answers, tmp_path / "made" / f"{ASSIGNMENT}.ipynb")
    results = run_like_gradescope(autograder_zip, tmp_path / "autograder", notebook)
    check_documented_fields(results)
    tests = {t["name"]: t for t in results["tests"]}
    maximum = sum(t["max_score"] for t in results["tests"])
    assert len(tests) == 4 and maximum == 11, tests
    if kind == "correct":
        assert results["score"] == maximum and all(t["output"] == "passed" for t in tests.values())
    elif kind == "blank":
        assert results["score"] == 0 and all("not implemented yet" in t["output"] for t in tests.values())
    else:
        first = tests["neuron_forward_test"]
        assert first["score"] == 0 and "bias b is missing" in first["output"] and first["visibility"] == "visible"
        assert results["score"] == maximum - first["max_score"]
    assert all(t["visibility"] == "visible" for t in tests.values() if t["score"] == t["max_score"])


def test_messages_about_the_grader_s_own_inputs_wait_until_published():
    """Public-example failures and passes are visible; a failure only on the grader's inputs is not, yet."""
    from autograder.gradescope_run import results_json
    from autograder.grading.judge import SECRET_FAILURE
    from autograder.grading.submission import PartResult, SubmissionResult

    secret = SECRET_FAILURE.format(wrong=2, total=5)
    result = SubmissionResult("s", ASSIGNMENT, ASSIGNMENT, [
        PartResult("a", 3, 3), PartResult("b", 2, 0, "d", "neuron_forward(X, w, b): the bias b is missing"),
        PartResult("c", 3, 0, "d", secret), PartResult("d", 3, 2, "d", "the optimizer is not SGD")], "")
    data = results_json(result, 12.3)
    check_documented_fields(data)
    seen = {t["name"]: (t["visibility"], t["output"]) for t in data["tests"]}
    assert seen["a"] == ("visible", "passed") and seen["b"][0] == "visible"
    assert seen["c"] == ("after_published", secret)
    assert seen["d"] == ("visible", "2 of 3 points: the optimizer is not SGD")
    assert data["score"] == 5
