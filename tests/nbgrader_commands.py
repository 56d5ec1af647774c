"""Real nbgrader commands for the tests, run the way nbgrader's own test suite runs them.

nbgrader's tests call `nbgrader.tests.run_nbgrader(args)`: the `nbgrader` command's own
application (`NbGraderApp`), initialised from `args` and started in-process. Here a batch of
such commands runs in one child process, each in its own working directory and environment
(a student gets their own HOME, Jupyter data and config folders, so their own exchange cache),
so that nbgrader is imported once per batch instead of once per command (several seconds each).
A step may instead fill a fetched notebook's solution cells, as a student would between
`fetch_assignment` and `submit`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

DRIVER = r'''
import json, os, sys
import nbformat
from nbgrader.tests import run_nbgrader

for step in json.load(open(sys.argv[1])):
    if step["fill"]:
        nb = nbformat.read(step["fill"], as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in step["answers"]:
                cell.source = step["answers"][grade_id]
        nbformat.write(nb, step["fill"])
        print("## filled", step["fill"], flush=True)
        continue
    os.chdir(step["cwd"])
    env = dict(os.environ)
    env.update(step["env"])
    try:
        log = run_nbgrader(step["args"], env=env, retcode=step["retcode"])
    except AssertionError as exc:
        print(f"## FAILED: nbgrader {' '.join(step['args'])} in {step['cwd']}: {exc}", flush=True)
        sys.exit(1)
    print(f"## nbgrader {' '.join(step['args'])}\n{log}", flush=True)
'''


@dataclass
class Step:
    args: list[str] = field(default_factory=list)
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    retcode: int = 0
    #: A notebook whose solution cells get `answers` ({grade_id: source}) instead of a command.
    fill: str = ""
    answers: dict[str, str] = field(default_factory=dict)


def student_env(home: Path) -> dict[str, str]:
    """A student's own HOME and Jupyter folders (so their own nbgrader exchange cache)."""
    return {"HOME": str(home), "JUPYTER_DATA_DIR": str(home / ".local" / "share" / "jupyter"),
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter")}


def nbgrader(*args: str, cwd: Path, env: dict[str, str] | None = None, retcode: int = 0) -> Step:
    return Step([str(a) for a in args], str(cwd), dict(env or {}), retcode)


def fill(notebook: Path, answers: dict[str, str]) -> Step:
    return Step(fill=str(notebook), answers=dict(answers))


def run_steps(steps: list[Step], scratch: Path, timeout: int = 300) -> str:
    """Run the steps in order in one child process; return its log, or fail the test with it."""
    scratch.mkdir(parents=True, exist_ok=True)
    plan = scratch / f"nbgrader-steps-{len(list(scratch.glob('nbgrader-steps-*')))}.json"
    plan.write_text(json.dumps([asdict(s) for s in steps]))
    done = subprocess.run([sys.executable, "-c", DRIVER, str(plan)], capture_output=True, text=True, timeout=timeout)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    return log
