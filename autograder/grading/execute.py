"""Run a notebook in a fresh Jupyter kernel and collect what its check cells reported."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..checks.core import INPUTS_ENV, REPORT_MIME
from ..notebooks import is_test_cell, nbgrader_meta


@dataclass(frozen=True)
class KernelLimits:
    """How long a kernel may take. Sandbox limits (memory, processes, ...) live with the sandbox."""
    cell_timeout: int = 120
    startup_timeout: int = 90


@dataclass
class ExecutedNotebook:
    notebook: nbformat.NotebookNode
    #: One line describing what stopped execution early (dead kernel, ...), or "".
    problem: str = ""
    timed_out_cells: list[int] = field(default_factory=list)

    def reports_by_grade_id(self) -> dict[str, dict[str, list[dict]]]:
        """{grade_id: {report key: results}} from the outputs of graded test cells only.

        Reports published by any other cell are ignored, and within a test cell the
        last report for a key wins.
        """
        found: dict[str, dict[str, list[dict]]] = {}
        for cell in self.notebook.cells:
            if not is_test_cell(cell):
                continue
            reports = found.setdefault(nbgrader_meta(cell)["grade_id"], {})
            for output in cell.get("outputs", []):
                payload = output.get("data", {}).get(REPORT_MIME) if output.get("output_type") == "display_data" else None
                if isinstance(payload, dict) and isinstance(payload.get("check"), str):
                    reports[payload["check"]] = payload
        return found


def kernel_environment(inputs_file: Path | None, course_root: Path) -> dict[str, str]:
    """The environment of a grading kernel: quiet TensorFlow, bounded threads, no display."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "JPY_"))}
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "TF_NUM_INTRAOP_THREADS": env.get("TF_NUM_INTRAOP_THREADS", "2"),
        "TF_NUM_INTEROP_THREADS": env.get("TF_NUM_INTEROP_THREADS", "1"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(course_root), env.get("PYTHONPATH", "")])),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
    })
    if inputs_file is not None:
        env[INPUTS_ENV] = str(inputs_file)
    return env


def execute(nb: nbformat.NotebookNode, *, workdir: Path, env: dict[str, str],
            limits: KernelLimits = KernelLimits()) -> ExecutedNotebook:
    """Execute every cell (errors allowed) and return the notebook with its outputs.

    A dead kernel or a failed start never raises: it is described in `problem`, and the
    outputs of the cells that did run are kept.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict(nb)
    timed_out: list[int] = []
    current = [0]

    def note_start(cell, cell_index):
        current[0] = cell_index + 1

    def note_timeout(cell, cell_index, execute_reply):
        if (execute_reply or {}).get("content", {}).get("ename") == "CellTimeoutError":
            timed_out.append(cell_index)

    problem = ""
    # IPC sockets in a private folder: no TCP port, nothing reachable from the network.
    with tempfile.TemporaryDirectory(prefix="autograder-kernel-") as channel_dir:
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(channel_dir, "kernel"),
                           connection_file=os.path.join(channel_dir, "kernel.json"))
        client = NotebookClient(
            nb, km=km, timeout=limits.cell_timeout, startup_timeout=limits.startup_timeout, allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": f"ran longer than {limits.cell_timeout} s",
                              "traceback": []},
            kernel_name="python3", resources={"metadata": {"path": str(workdir)}},
            record_timing=False, on_cell_error=note_timeout, on_cell_start=note_start,
        )
        try:
            client.execute(env=env, cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except DeadKernelError:
            problem = f"the kernel died while running {describe_cell(nb, current[0] - 1)}"
        except CellTimeoutError:
            problem = f"{describe_cell(nb, current[0] - 1)} ran longer than {limits.cell_timeout} s"
        except RuntimeError as exc:  # e.g. the kernel failed to start
            problem = f"the kernel could not run the notebook ({' '.join(str(exc).split())[:200]})"
        finally:
            _shutdown(km)
    for index in timed_out:
        problem = problem or f"{describe_cell(nb, index)} ran longer than {limits.cell_timeout} s and was interrupted"
    return ExecutedNotebook(nb, problem, timed_out)


def _shutdown(km) -> None:
    """Stop the kernel we started (nbclient leaves a kernel manager it was given running)."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - already dead is fine
        pass
    try:
        run_sync(km.cleanup_resources)()
    except Exception:  # noqa: BLE001
        pass


def describe_cell(nb, index: int) -> str:
    """Name a cell so a student can find it: by its grade_id, or as the cell they added after one."""
    if not 0 <= index < len(nb.cells):
        return "the notebook"
    grade_id = nbgrader_meta(nb.cells[index]).get("grade_id")
    if grade_id:
        return f"cell '{grade_id}'"
    for before in range(index - 1, -1, -1):
        previous = nbgrader_meta(nb.cells[before]).get("grade_id")
        if previous:
            return f"the cell you added after '{previous}'"
    return "a cell you added at the top"
