"""Running a student's kernel in a bubblewrap sandbox.

Inside the sandbox the kernel sees the system's programs and libraries, Python, the
venv and our two packages (read-only), its own scratch folder (read-write) and the
folder of its IPC sockets. It does not see the course's solutions, the gradebook, the
output folder, other submissions or the network (loopback included). Limits:

* memory: RLIMIT_DATA per process, and a memory cgroup for the whole sandbox when the
  machine lets us create one;
* processes and threads: a pids cgroup when available, otherwise a watchdog in the
  grader that counts the sandbox's processes;
* CPU seconds, open files and the size of any file written (rlimits);
* output size: counted in the grader as messages arrive (see execute.py).
"""
from __future__ import annotations

import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

SANDBOX_HOME = "/home/student"
_CGROUP_V1 = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class SandboxLimits:
    memory_mb: int = 3072
    #: Tasks (processes and threads); TensorFlow alone starts a few dozen threads.
    max_tasks: int = 512
    cpu_seconds: int = 900
    open_files: int = 1024
    file_size_mb: int = 256
    scratch_mb: int = 512


class SandboxUnavailable(RuntimeError):
    """No sandbox can be set up here; the message says why and what to install."""


def find_bwrap() -> str:
    """The bwrap binary, after checking that it can start a sandbox on this machine."""
    import subprocess

    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable("bubblewrap is not installed (Debian package `bubblewrap`, binary `bwrap`)")
    probe = subprocess.run([path, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        detail = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise SandboxUnavailable(f"bwrap cannot create a sandbox here ({detail})")
    return path


class CgroupLimit:
    """A pids + memory cgroup (v1) for one sandbox, when the machine lets us create it."""

    def __init__(self, limits: SandboxLimits):
        self.paths: list[Path] = []
        name = f"autograder-{uuid.uuid4().hex[:12]}"
        # The cgroup is a backstop for the whole sandbox, set above the per-process RLIMIT_DATA so
        # that one greedy process gets a MemoryError rather than the kernel being killed.
        memory = str((limits.memory_mb + 1024) * 2**20)
        settings = {"pids": {"pids.max": str(limits.max_tasks)},
                    "memory": {"memory.limit_in_bytes": memory, "memory.swappiness": "0"}}
        for controller, values in settings.items():
            base = _CGROUP_V1 / controller
            if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
                continue
            try:
                path = base / name
                path.mkdir()
                for key, value in values.items():
                    if (path / key).exists():
                        (path / key).write_text(value)
                self.paths.append(path)
            except OSError:
                continue

    @property
    def active(self) -> bool:
        return bool(self.paths)

    def join_moves(self) -> str:
        """Shell commands that move the shell running them into the cgroups ("" without any)."""
        import shlex

        return " && ".join(f"echo $$ > {shlex.quote(str(p / 'cgroup.procs'))}" for p in self.paths)

    def memory_failures(self) -> int:
        """How often the memory cgroup refused an allocation so far (memory.failcnt)."""
        total = 0
        for path in self.paths:
            try:
                total += int((path / "memory.failcnt").read_text())
            except (OSError, ValueError):
                pass
        return total

    def remove(self) -> None:
        """Kill what is left in the cgroups and delete them (a cgroup can only go once it is empty)."""
        import time

        for path in self.paths:
            deadline = time.monotonic() + 5
            while True:
                try:
                    for pid in (path / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), 9)
                        except (ProcessLookupError, ValueError):
                            pass
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)


def sandbox_command(bwrap: str, *, files: Path, channel_dir: Path, readonly: list[Path],
                    limits: SandboxLimits, cgroup: CgroupLimit | None, as_pid_1: bool = False) -> list[str]:
    """The command prefix that runs a kernel command inside the sandbox.

    Everything is read-only (the root and every folder bwrap creates for a mount included)
    except the kernel's working folder `SANDBOX_WORK`, /tmp, /dev/shm, /home, /run and the
    socket folder `channel_dir`. All but the last are tmpfs mounts with a size, so what a
    kernel writes is capped by the kernel, and the socket folder is watched by the grader
    (execute.py). The submission's files are bound read-only at `SANDBOX_FILES` (from the
    host folder `files`); `stage_files` copies them into the working folder before the
    kernel starts. A seccomp filter refuses keyrings and POSIX message queues (seccomp.py).

    `as_pid_1` runs the command as the sandbox's PID 1 (bwrap's own init left out), as the
    zygote needs: only then does its kill(-1) reach every other process in the sandbox.
    """
    import shlex

    from .seccomp import filter_file

    size = str(limits.scratch_mb * 2**20)
    rlimits = ["prlimit", f"--data={limits.memory_mb * 2**20}", f"--cpu={limits.cpu_seconds}",
               f"--nofile={limits.open_files}", f"--fsize={limits.file_size_mb * 2**20}", "--core=0", "--"]
    args = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--disable-userns",
            "--cap-drop", "ALL"] + (["--as-pid-1"] if as_pid_1 else [])
    for system_dir in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"):
        if os.path.lexists(system_dir):
            args += ["--ro-bind", system_dir, system_dir]
    # /dev is read-only apart from /dev/shm, so nothing there can be replaced for a later kernel.
    args += ["--ro-bind", "/sys", "/sys", "--proc", "/proc", "--dev", "/dev",
             "--size", size, "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", "/home", "--dir", SANDBOX_HOME,
             "--size", str(16 * 2**20), "--tmpfs", "/run"]
    python_dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.prefix)}
    for path in sorted({*python_dirs, *(Path(p) for p in readonly)}, key=lambda p: len(str(p))):
        args += ["--ro-bind", str(path), str(path)]
    # Bound after the tmpfs mounts above, so they are not hidden by them; then the root and every
    # folder bwrap made for a mount point become read-only.
    args += ["--size", size, "--tmpfs", SANDBOX_WORK, "--ro-bind", str(files), SANDBOX_FILES,
             "--bind", str(channel_dir), str(channel_dir), "--remount-ro", "/",
             "--chdir", SANDBOX_WORK, "--unsetenv", "JPY_PARENT_PID",
             "--setenv", "HOME", SANDBOX_HOME, "--setenv", "MPLCONFIGDIR", f"{SANDBOX_HOME}/.matplotlib",
             "--setenv", "TMPDIR", "/tmp"]
    seccomp = filter_file()
    redirect = ""
    if seccomp is not None:
        args += ["--seccomp", str(_SECCOMP_FD)]
        redirect = f" {_SECCOMP_FD}<{shlex.quote(str(seccomp))}"
    args += ["--"]
    moves = cgroup.join_moves() if cgroup else ""
    shell = f'{moves + " && " if moves else ""}exec "$@"{redirect}'
    return ["/bin/sh", "-c", shell, "sandbox"] + rlimits + args


#: The kernel's working folder inside the sandbox (a tmpfs), and where the submission's files are bound.
SANDBOX_WORK = "/submission"
SANDBOX_FILES = "/submission-files"
_SECCOMP_FD = 9
#: The command that copies the submission's files into the working folder, then runs the kernel.
STAGE_FILES = ["/bin/sh", "-c", f'cp -R {SANDBOX_FILES}/. {SANDBOX_WORK}/ 2>/dev/null; exec "$@"', "stage"]


def count_tasks(root_pid: int, skip_root: bool = False) -> tuple[int, int]:
    """(processes, resident MiB) of a process and all its descendants (or only the latter), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    stack, count, rss_pages = [root_pid], 0, 0
    if skip_root:
        stack = list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        count += 1
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss_pages += int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, []))
    return count, rss_pages * os.sysconf("SC_PAGE_SIZE") // 2**20
