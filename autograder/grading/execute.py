"""Run a notebook in a fresh Jupyter kernel and collect what its check cells reported."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from ..checks.core import INPUTS_ENV, REPORT_MIME
from ..notebooks import is_test_cell, nbgrader_meta
from .zygote import ZygoteError

if TYPE_CHECKING:
    from .sandbox import SandboxLimits
    from .zygote import Zygote


@dataclass(frozen=True)
class KernelLimits:
    """Time, output and threads a kernel may use. Memory and process limits live with the sandbox."""
    cell_timeout: int = 120
    notebook_timeout: int = 900
    startup_timeout: int = 90
    output_bytes: int = 32 * 2**20
    #: Threads for TensorFlow's and BLAS's pools; the runner sets cores // workers.
    threads: int = 2


@dataclass
class ExecutedNotebook:
    notebook: nbformat.NotebookNode
    #: One line describing what stopped execution early (dead kernel, ...), or "".
    problem: str = ""
    #: {grade_id: wall-clock seconds} for each cell with an nbgrader grade_id that finished, measured here on the
    #: grader's own clock (from sending the cell to its reply), never reported by the kernel.
    cell_seconds: dict[str, float] = field(default_factory=dict)

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


_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH",
                   "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def kernel_environment(inputs_file: Path | None, course_root: Path, threads: int | None = None) -> dict[str, str]:
    """A small environment for a kernel: none of the grader's own variables (tokens, secrets).

    `threads` sizes TensorFlow's and BLAS's thread pools, so that kernels running side by side
    do not oversubscribe the cores.
    """
    env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
    intra = str(threads) if threads else os.environ.get("TF_NUM_INTRAOP_THREADS", "2")
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "TF_NUM_INTRAOP_THREADS": intra,
        "TF_NUM_INTEROP_THREADS": os.environ.get("TF_NUM_INTEROP_THREADS", "1"),
        "OMP_NUM_THREADS": intra,
        "OPENBLAS_NUM_THREADS": intra,
        "PYTHONPATH": str(course_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
    })
    if inputs_file is not None:
        env[INPUTS_ENV] = str(inputs_file)
    return env


@dataclass(frozen=True)
class SandboxSpec:
    """Run the kernel under bwrap with these limits; `readonly` are extra folders it may read.

    `warm`: fork kernels from a zygote that has imported TensorFlow (see zygote.py) instead of
    starting each one afresh.
    """
    bwrap: str
    limits: "SandboxLimits"
    readonly: tuple[Path, ...] = ()
    warm: bool = True


def execute(nb: nbformat.NotebookNode, *, workdir: Path, env: dict[str, str],
            limits: KernelLimits = KernelLimits(), sandbox: SandboxSpec | None = None,
            zygote: "Zygote | None" = None) -> ExecutedNotebook:
    """Execute every cell (errors allowed) and return the notebook with its outputs.

    `workdir` holds the notebook's files. Without a sandbox the kernel runs in it. In a sandbox
    it is bound read-only and copied into the kernel's own size-limited working folder
    (`sandbox.SANDBOX_WORK`), so nothing the kernel writes lands in it. With a `zygote` (in
    `sandbox`), the kernel is forked from it instead of started afresh: `workdir` must then be
    the zygote's `files` folder, and the zygote is reset afterwards. A reset that fails is
    named in `problem` (the zygote is then replaced).

    A dead kernel, a timeout or a failed start never raises: it is described in `problem`,
    and the outputs of the cells that did run are kept. The first cell to time out stops
    the run: a kernel that ignores interrupts could otherwise hold every later cell too.
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.from_dict(nb)
    current = [0]
    deadline = time.monotonic() + limits.notebook_timeout

    started: dict[int, float] = {}
    cell_seconds: dict[str, float] = {}

    def note_start(cell, cell_index):
        current[0] = cell_index + 1
        started[cell_index] = time.monotonic()

    def note_end(cell, cell_index, execute_reply):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if isinstance(grade_id, str) and cell_index in started:
            cell_seconds[grade_id] = round(time.monotonic() - started[cell_index], 3)

    def cell_timeout(cell):
        return max(1, int(min(limits.cell_timeout, deadline - time.monotonic())))

    problem = reset_problem = ""
    watchdog = None
    cgroup = None
    with contextlib.ExitStack() as stack:
        # IPC sockets in a private folder: no TCP port, nothing reachable from the network.
        channel_dir = str(zygote.channel) if zygote is not None else \
            stack.enter_context(tempfile.TemporaryDirectory(prefix="autograder-kernel-"))
        name = f"kernel-{os.urandom(6).hex()}"
        km = _SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(channel_dir, name),
                                     connection_file=os.path.join(channel_dir, f"{name}.json"))
        if zygote is not None:
            km.provisioner = _ZygoteProvisioner.for_manager(km, zygote)
            cgroup = zygote.cgroup
        elif sandbox is not None:
            from .sandbox import STAGE_FILES, CgroupLimit, sandbox_command
            cgroup = CgroupLimit(sandbox.limits)
            km.wrapper = sandbox_command(sandbox.bwrap, files=workdir, channel_dir=Path(channel_dir),
                                         readonly=list(sandbox.readonly), limits=sandbox.limits,
                                         cgroup=cgroup) + STAGE_FILES
        # A zygote's cgroup outlives one kernel: count only the memory failures from now on.
        memory_failures = cgroup.memory_failures() if cgroup is not None else 0
        client = _BoundedClient(
            nb, km=km, timeout_func=cell_timeout, startup_timeout=limits.startup_timeout, allow_errors=True,
            interrupt_on_timeout=False, kernel_name="python3", resources={"metadata": {"path": str(workdir)}},
            record_timing=False, on_cell_start=note_start, on_cell_executed=note_end,
            output_limit=limits.output_bytes,
        )
        if sandbox is not None:
            watchdog = _Watchdog(km, sandbox.limits, zygote, Path(channel_dir), count_tasks=not cgroup.active)
            client.on_notebook_start = lambda notebook: watchdog.start()
        try:
            client.execute(env=env, cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except DeadKernelError:
            problem = f"the kernel died while running {describe_cell(nb, current[0] - 1)}"
        except CellTimeoutError:
            over_budget = time.monotonic() >= deadline - 1
            problem = (f"the notebook ran longer than {limits.notebook_timeout} s (stopped in "
                       f"{describe_cell(nb, current[0] - 1)})" if over_budget else
                       f"{describe_cell(nb, current[0] - 1)} ran longer than {limits.cell_timeout} s")
        except (RuntimeError, ZygoteError) as exc:  # e.g. the kernel failed to start
            problem = f"the kernel could not run the notebook ({' '.join(str(exc).split())[:200]})"
        except ValueError as exc:  # jupyter_client could not read a kernel message: a bad signature, broken JSON
            what = " ".join(str(exc).split(":")[0].split())[:60] or type(exc).__name__
            problem = (f"the kernel sent a message the grader could not read ({what}) while running "
                       f"{describe_cell(nb, current[0] - 1)}")
        finally:
            if watchdog is not None:
                watchdog.stop()
            memory_hit = cgroup is not None and cgroup.memory_failures() > memory_failures
            _shutdown(km)
            if zygote is not None:
                try:
                    zygote.reset()
                except ZygoteError as exc:  # it stopped itself; the next submission gets a new sandbox
                    reset_problem = f"the sandbox could not be cleaned after this notebook and was replaced ({exc})"
            elif cgroup is not None:
                cgroup.remove()
    if watchdog is not None and watchdog.reason:
        problem = watchdog.reason
    elif memory_hit and ("died" in problem or "could not read" in problem):
        problem = f"{problem}: it used more than the {sandbox.limits.memory_mb} MB memory limit"
    if client.output_truncated:
        problem = problem or f"output beyond {limits.output_bytes // 2**20} MB was dropped"
    problem = "; ".join(filter(None, [problem, reset_problem[:300]]))
    return ExecutedNotebook(nb, problem, cell_seconds)


def _kernel_manager_base():
    from jupyter_client.manager import AsyncKernelManager
    return AsyncKernelManager


def _client_base():
    from nbclient import NotebookClient
    return NotebookClient


class _SandboxedKernelManager(_kernel_manager_base()):
    """A kernel manager whose kernel command runs behind a wrapper (the sandbox), if one is set."""
    wrapper: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return list(self.wrapper) + super().format_kernel_cmd(extra_arguments)


def _local_provisioner_base():
    from jupyter_client.provisioning import LocalProvisioner
    return LocalProvisioner


class _ZygoteProvisioner(_local_provisioner_base()):
    """Starts the kernel by asking the zygote to fork one, instead of running the kernel command."""
    zygote = None

    @classmethod
    def for_manager(cls, km, zygote) -> "_ZygoteProvisioner":
        provisioner = cls(kernel_id=os.urandom(8).hex(), kernel_spec=km.kernel_spec, parent=km)
        provisioner.zygote = zygote
        return provisioner

    async def launch_kernel(self, cmd, **kwargs):
        connection_file = cmd[cmd.index("-f") + 1]
        self.process = self.zygote.spawn(connection_file, dict(kwargs.get("env") or {}))
        # The kernel leads its own session; signals go to it alone, and reset takes care of the rest.
        self.pid, self.pgid, self.cwd = self.process.pid, None, kwargs.get("cwd")
        return self.connection_info


class _BoundedClient(_client_base()):
    """Keeps at most `output_limit` bytes of outputs, and as many again of check reports.

    Everything a kernel sends is counted: display data of every type, stream text, error
    tracebacks and metadata. Reports (display data of REPORT_MIME) have a budget of their own,
    so that a student's print flood cannot starve their honest parts' reports, while a flood
    of reports is capped all the same. Past either budget, outputs of that kind are dropped.
    """

    def __init__(self, *args, output_limit: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.output_limit = output_limit
        self.output_bytes = 0
        self.report_bytes = 0
        self.output_truncated = False

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = sum(len(str(v)) for v in content.values())
        data = content.get("data")
        if isinstance(data, dict) and REPORT_MIME in data:
            self.report_bytes += size
            over = self.report_bytes > self.output_limit
        else:
            self.output_bytes += size
            over = self.output_bytes > self.output_limit
        if over:
            self.output_truncated = True
            return None
        return super().output(outs, msg, display_id, cell_index)


class _Watchdog:
    """Watch a sandboxed kernel from outside and kill it when it goes over a limit.

    The socket folder is the one writable place shared with the grader, so no tmpfs size
    caps it: what is written there is measured here. Where no cgroup can be made, the
    sandbox's processes and memory are counted here too.
    """
    #: What the socket folder may hold: its sockets and the connection file take a few kB.
    CHANNEL_BYTES = 4 * 2**20

    def __init__(self, km, limits, zygote=None, channel: Path | None = None, count_tasks: bool = True):
        self.km, self.limits, self.reason, self.zygote = km, limits, "", zygote
        self.channel, self.watch_tasks = channel, count_tasks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()

    def _run(self):
        from .sandbox import count_tasks

        while not self._stop.wait(0.2):
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            if process is None:
                continue
            what = ""
            if self.channel is not None and folder_bytes(self.channel) > self.CHANNEL_BYTES:
                what = f"more than {self.CHANNEL_BYTES // 2**20} MB written into its socket folder"
            elif self.watch_tasks:
                # Under a zygote, count everything it forked (orphans included), not the zygote itself.
                tasks, rss_mb = count_tasks(self.zygote.pid, skip_root=True) if self.zygote else count_tasks(process.pid)
                if tasks > self.limits.max_tasks or rss_mb > self.limits.memory_mb:
                    what = f"{tasks} processes" if tasks > self.limits.max_tasks else f"{rss_mb} MB of memory"
            if what:
                self.reason = f"the sandbox was stopped after using {what}, over its limit"
                try:
                    os.kill(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
def folder_bytes(folder: Path, max_entries: int = 10_000) -> int:
    """Bytes held by the files of a folder tree (a tree too big to count counts as too big)."""
    total, stack, seen = 0, [str(folder)], 0
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > max_entries:
                return 2**62
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                continue
    return total


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
