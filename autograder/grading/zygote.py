"""Warm kernels: a sandboxed process imports TensorFlow once and forks one kernel per submission.

A fresh kernel spends most of a submission importing TensorFlow (about 3-5 s of 5). The
zygote pays that once per grading worker. It runs inside the same bubblewrap sandbox a
fresh kernel would (same read-only view, limits and cgroup) and it never runs student code:
it imports trusted libraries, then only forks. Each child becomes one student's kernel.

What keeps one student's kernel from reaching the next one:

* One kernel at a time. After each, `reset` runs in the zygote, the sandbox's PID 1:
  kill(-1) reaches every other process in the sandbox (daemons included), and every
  writable place is emptied (/tmp, /home, /run, /dev/shm, System V IPC objects). The
  grader empties the scratch, channel and inputs folders from outside. /dev is read-only.
  The folders that stay (those places themselves, the folders on the way to a bound one, the
  channel folder) get back the permissions, times and extended attributes they had before the
  first kernel, so none can carry a message; a renamed one ends the sandbox.
* The zygote is not dumpable, so a kernel can neither ptrace it nor read its memory or
  file descriptors; as PID 1 it receives no signal from inside the sandbox that it does not
  handle, and it handles only SIGCHLD. Its request pipe is closed in every child.
* Every child starts from the zygote's untouched memory, with its own environment, a
  reseeded numpy generator and fresh import caches.
* Anything unexpected (a reply that does not come, a wipe that fails, a process that does
  not die) ends that sandbox; the next submission gets a new one. A zygote that cannot
  start leaves the worker on fresh kernels, which grade the same way, only slower.

Run as `python -m autograder.grading.zygote MODULE...` inside the sandbox; `Zygote` is the
grader's side.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Imported once in the zygote; anything missing is skipped.
PRELOAD = ("numpy", "tensorflow", "keras", "sklearn", "matplotlib.pyplot", "ipykernel.kernelapp")
#: What ipykernel would set in a fresh kernel; matplotlib reads it when first imported.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Writable places inside the sandbox, emptied between kernels by the zygote.
SANDBOX_WRITABLE = ("/submission", "/tmp", "/home", "/run", "/dev/shm")
#: Variables the sandbox sets for itself; a kernel keeps the sandbox's values.
SANDBOX_ENV = ("HOME", "MPLCONFIGDIR", "TMPDIR")
_PR_SET_DUMPABLE = 4


class ZygoteError(RuntimeError):
    """The zygote did not do what was asked; it has been stopped."""


# --- inside the sandbox ----------------------------------------------------------------------

def _prctl(option: int, value: int) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _reap(*_args) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _other_processes() -> list[int]:
    me = os.getpid()
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]


def _kill_others() -> bool:
    """Kill every other process in the sandbox (we are its PID 1); True once none is left."""
    for _ in range(100):
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _reap()
        if not _other_processes():
            return True
        time.sleep(0.02)
    return False


def _mount_points() -> set[str]:
    points = set()
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 4:
                points.add(fields[4].encode().decode("unicode_escape"))
    return points


def _empty(folder: str, mounts: set[str]) -> list[str]:
    """Delete everything inside `folder` except mount points (the folders bound into the sandbox,
    which the grader empties from outside) and the folders leading to them; what could not go.

    Never recursive and never raises: a tree thousands of folders deep, folders without
    permissions, odd names and files that vanish meanwhile are all handled (see `empty_tree`).
    """
    left = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [f"{folder} ({exc.strerror})"]
    for entry in entries:
        path = entry.path
        if path in mounts:
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and any(m.startswith(path + "/") for m in mounts):
                left += _empty(path, mounts)
            elif is_dir:
                if not empty_tree(path):
                    left.append(path)
            else:
                os.unlink(path)
        except OSError:
            left.append(path)
    return [os.fsencode(p).decode("utf-8", "backslashreplace") for p in left]


def empty_tree(path: str, budget: int = 2_000_000) -> bool:
    """Remove the folder `path` and everything in it, iteratively, with O(1) open files.

    Each step opens one folder, unlinks its files and moves each of its sub-folders up into
    `path` itself, so depth never grows a stack or a path: a tree 100,000 folders deep goes as
    easily as a flat one. Permissions are restored on the way. False if anything is left.
    """
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            os.chmod(path, 0o700)
        root = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    counter = 0
    try:
        while budget > 0:
            try:
                os.chmod(root, 0o700)
            except OSError:
                pass
            names = os.listdir(root)
            if not names:
                break
            for name in names:
                budget -= 1
                try:
                    info = os.stat(name, dir_fd=root, follow_symlinks=False)
                    if not stat.S_ISDIR(info.st_mode):
                        os.unlink(name, dir_fd=root)
                        continue
                    os.chmod(name, 0o700, dir_fd=root)  # no process is left to swap it for a link
                    child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root)
                    try:
                        for inner in os.listdir(child):
                            budget -= 1
                            inner_info = os.stat(inner, dir_fd=child, follow_symlinks=False)
                            if stat.S_ISDIR(inner_info.st_mode):
                                counter += 1
                                # Moving a folder to a new parent needs write permission on the folder itself.
                                os.chmod(inner, 0o700, dir_fd=child)
                                os.rename(inner, f".up-{os.getpid()}-{counter}", src_dir_fd=child, dst_dir_fd=root)
                            else:
                                os.unlink(inner, dir_fd=child)
                    finally:
                        os.close(child)
                    os.rmdir(name, dir_fd=root)
                except FileNotFoundError:
                    continue
                except OSError:
                    budget -= 1000
    except OSError:
        return False
    finally:
        os.close(root)
    try:
        os.rmdir(path)
    except OSError:
        return False
    return True


def _remove_ipc_objects() -> None:
    """Remove System V shared memory, semaphores and message queues left in the sandbox."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    for kind, remove in (("shm", lambda i: libc.shmctl(i, ipc_rmid, None)),
                         ("sem", lambda i: libc.semctl(i, 0, ipc_rmid)),
                         ("msg", lambda i: libc.msgctl(i, ipc_rmid, None))):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 1 and fields[1].isdigit():
                remove(int(fields[1]))


def kept_folders(mounts: set[str]) -> list[str]:
    """The folders a reset keeps instead of deleting, shallowest first: each writable place, and every
    folder on the way from one to a mount point inside it (the zygote's own folders under /tmp, a
    checkout under /tmp or /home). The mount points themselves are not in it."""
    kept = set()
    for root in SANDBOX_WRITABLE:
        if not os.path.isdir(root):
            continue
        kept.add(root)
        for mount in mounts:
            if mount.startswith(root + "/"):
                parts = mount[len(root) + 1:].split("/")[:-1]
                kept.update(f"{root}/{'/'.join(parts[:i])}" for i in range(1, len(parts) + 1))
    return sorted(kept, key=lambda path: (path.count("/"), path))


def folder_state(path: str) -> dict:
    """What a process could change on a folder it may not delete, and the next one could read back:
    its permissions, its times and its extended attributes (user.*, POSIX ACLs)."""
    info = os.lstat(path)
    xattrs = {}
    try:
        for name in os.listxattr(path, follow_symlinks=False):
            xattrs[name] = os.getxattr(path, name, follow_symlinks=False)
    except OSError:
        pass  # a file system without extended attributes
    return {"mode": stat.S_IMODE(info.st_mode), "times": (info.st_atime_ns, info.st_mtime_ns), "xattrs": xattrs}


def restore_folder(path: str, state: dict) -> None:
    """Put back the extended attributes and permissions `folder_state` saw (OSError if it cannot).
    The times go back separately, with `os.utime`, once the folder has been emptied."""
    try:
        present = os.listxattr(path, follow_symlinks=False)
    except OSError:
        if state["xattrs"]:
            raise
        present = []  # a file system without extended attributes
    for name in present:
        if name not in state["xattrs"]:
            os.removexattr(path, name, follow_symlinks=False)
    for name, value in state["xattrs"].items():
        os.setxattr(path, name, value, follow_symlinks=False)
    os.chmod(path, state["mode"], follow_symlinks=False)


#: The kept folders' state and the mount points as the sandbox started, taken before any kernel ran.
_AT_START: dict = {}


def _remember_start() -> None:
    mounts = _mount_points()
    _AT_START.update(mounts=mounts, folders={path: folder_state(path) for path in kept_folders(mounts)})


def _reset(home: str) -> list[str]:
    """Kill every other process, empty every writable place and put back what a kernel changed on
    the folders that stay (their names, permissions, times and extended attributes); the problems
    (none means clean)."""
    try:
        problems = [] if _kill_others() else ["processes survived SIGKILL"]
        mounts = _mount_points()
        if mounts != _AT_START["mounts"]:
            problems.append("a folder on the way to a bound folder was renamed")
        folders = _AT_START["folders"]
        for path, state in folders.items():
            try:
                restore_folder(path, state)
            except OSError as exc:
                problems.append(f"could not restore {path} ({exc.strerror})")
        for folder in SANDBOX_WRITABLE:
            problems += [f"could not delete {p}" for p in _empty(folder, mounts)]
        os.makedirs(home, exist_ok=True)
        _remove_ipc_objects()
        for path in sorted(folders, key=lambda p: -p.count("/")):  # emptying a folder changes its parent's times
            try:
                os.utime(path, ns=folders[path]["times"], follow_symlinks=False)
            except OSError as exc:
                problems.append(f"could not restore the times of {path} ({exc.strerror})")
    except BaseException as exc:  # noqa: BLE001 - any failure means the sandbox is not known clean
        problems = [f"the reset failed ({type(exc).__name__})"]
    return problems


def _become_kernel(request: dict, protocol_fds: tuple[int, int]) -> None:
    """In the forked child: drop the zygote's pipe, take the kernel's environment, run ipykernel."""
    import importlib

    for fd in protocol_fds:
        os.close(fd)
    for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    env = {k: str(v) for k, v in request["env"].items()}
    env.update({k: os.environ[k] for k in SANDBOX_ENV if k in os.environ})
    env.pop("JPY_PARENT_PID", None)
    env["PWD"] = request["cwd"]  # as bwrap's --chdir sets it for a fresh kernel
    os.environ.clear()
    os.environ.update(env)
    # The submission's files, staged read-only by the grader, become the kernel's own copy.
    try:
        shutil.copytree(request["files"], request["cwd"], dirs_exist_ok=True, symlinks=True)
    except (OSError, shutil.Error):
        pass  # a working folder too small for the files: the notebook finds what was copied
    os.chdir(request["cwd"])
    importlib.invalidate_caches()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
    IPKernelApp.launch_instance(argv=["-f", request["connection_file"]])


def serve(preload: list[str]) -> None:
    """The zygote's loop: preload, say ready, then answer one JSON request per line."""
    # As ipykernel_launcher does: the scratch folder is not on the path (IPython adds '' itself).
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    requests_fd, replies_fd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(2, 1)  # a library's print must not reach the grader's pipe
    _prctl(_PR_SET_DUMPABLE, 0)
    signal.signal(signal.SIGCHLD, _reap)
    home = os.environ.get("HOME", "/home/student")
    _remember_start()
    loaded = []
    for name in preload:
        try:
            __import__(name)
            loaded.append(name)
        except Exception:  # noqa: BLE001 - a missing library is imported by the kernel, as before
            pass
    requests = os.fdopen(requests_fd, "r", encoding="utf-8")
    replies = os.fdopen(replies_fd, "w", encoding="utf-8")

    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    # The preloading wrote caches (matplotlib's fonts) into HOME; the first kernel starts clean too.
    problems = _reset(home)
    reply({"ready": not problems, "preloaded": loaded, "problems": problems})
    for line in requests:
        request = json.loads(line)
        if request.get("op") == "spawn":
            pid = os.fork()
            if pid == 0:
                try:
                    _become_kernel(request, (requests_fd, replies_fd))
                finally:
                    os._exit(1)
            reply({"pid": pid})
        elif request.get("op") == "reset":
            problems = _reset(home)
            reply({"ok": not problems, "problems": problems})
        else:
            break


# --- the grader's side ------------------------------------------------------------------------

def _ns_pid(pid: int) -> tuple[int, int] | None:
    """(parent's host pid, pid inside the innermost namespace) of a host pid, or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        return int(fields["PPid"]), int(fields["NSpid"].split()[-1])
    except (OSError, KeyError, ValueError, IndexError):
        return None


def _find_in_sandbox(parent_host_pid: int, ns_pid: int) -> int | None:
    """The host pid of the child of `parent_host_pid` whose pid in the sandbox is `ns_pid`."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _ns_pid(int(entry))
            if found == (parent_host_pid, ns_pid):
                return int(entry)
    return None


class ZygoteKernel:
    """One forked kernel, seen from the grader; quacks like the Popen jupyter_client expects."""
    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self.returncode = -signal.SIGKILL
            os.close(self._pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("kernel", timeout)
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class Zygote:
    """A sandboxed zygote for one grading worker, with its scratch, channel and inputs folders."""

    def __init__(self, sandbox, env: dict[str, str], startup_timeout: float = 120):
        from .sandbox import CgroupLimit, sandbox_command

        self.limits = sandbox.limits
        self.home = Path(tempfile.mkdtemp(prefix="autograder-zygote-"))
        self.files, self.channel, self.inputs = (self.home / n for n in ("files", "channel", "inputs"))
        for folder in (self.files, self.channel, self.inputs):
            folder.mkdir()
        self._bound_state = {str(folder): folder_state(str(folder)) for folder in (self.files, self.channel, self.inputs)}
        self.cgroup = CgroupLimit(sandbox.limits)
        command = sandbox_command(sandbox.bwrap, files=self.files, channel_dir=self.channel,
                                  readonly=[*sandbox.readonly, self.inputs], limits=sandbox.limits,
                                  cgroup=self.cgroup, as_pid_1=True)
        command += [sys.executable, "-m", "autograder.grading.zygote", *PRELOAD]
        self._log = open(self.home / "zygote.log", "wb")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                        env={**env, "MPLBACKEND": INLINE_BACKEND}, cwd=self.files)
        self._buffer = b""
        self.pid: int | None = None
        self.kernel: ZygoteKernel | None = None
        try:
            ready = self._reply(startup_timeout)
            if not ready.get("ready"):
                raise ZygoteError(f"the zygote could not start clean: {ready.get('problems')}")
            self.preloaded = ready.get("preloaded", [])
            self.pid = self._sandbox_init()
        except BaseException:
            self.close()
            raise

    def _sandbox_init(self) -> int:
        """The zygote's host pid: PID 1 of the sandbox, under bwrap."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for entry in os.listdir("/proc"):
                if entry.isdigit() and _ns_pid(int(entry)) is not None:
                    if _ns_pid(int(entry))[1] == 1 and self._descends_from(int(entry), self.process.pid):
                        return int(entry)
            time.sleep(0.05)
        raise ZygoteError("cannot find the zygote's process")

    @staticmethod
    def _descends_from(pid: int, ancestor: int) -> bool:
        for _ in range(8):
            found = _ns_pid(pid)
            if found is None:
                return False
            pid = found[0]
            if pid == ancestor:
                return True
        return False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _send(self, message: dict) -> None:
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except OSError as exc:
            self.close()
            raise ZygoteError(f"the zygote is gone ({exc})") from None

    def _reply(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        out = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                self.close()
                raise ZygoteError(f"the zygote did not answer within {timeout:.0f} s{self._last_log_line()}")
            chunk = os.read(out, 65536)
            if not chunk:
                self.close()
                raise ZygoteError(f"the zygote exited{self._last_log_line()}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _last_log_line(self) -> str:
        try:
            lines = (self.home / "zygote.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return f": {lines[-1][:200]}" if lines else ""

    def spawn(self, connection_file: str, env: dict[str, str]) -> ZygoteKernel:
        """Fork one kernel in the sandbox's working folder, with the files staged in `self.files`;
        the previous kernel must have been reset away."""
        from .sandbox import SANDBOX_FILES, SANDBOX_WORK

        if self.kernel is not None:
            raise ZygoteError("a kernel is still running in this zygote")
        self._send({"op": "spawn", "connection_file": connection_file, "env": env, "cwd": SANDBOX_WORK,
                    "files": SANDBOX_FILES})
        ns_pid = self._reply(30)["pid"]
        host_pid = _find_in_sandbox(self.pid, ns_pid)
        if host_pid is None:
            self.close()
            raise ZygoteError("the forked kernel vanished before it could be watched")
        self.kernel = ZygoteKernel(host_pid)
        return self.kernel

    def reset(self) -> None:
        """Kill the kernel and all it started, and empty every writable place, inside and out.

        Any failure, of any kind, stops this zygote (ZygoteError): a sandbox not known to be
        clean never runs another kernel.
        """
        self.kernel = None
        try:
            self._send({"op": "reset"})
            answer = self._reply(120)
            problems = answer.get("problems", []) if isinstance(answer, dict) else ["no answer"]
            if not (isinstance(answer, dict) and answer.get("ok")):
                raise ZygoteError(f"the sandbox could not be cleaned: {'; '.join(map(str, problems))[:200]}")
            # Empty the bound folders in place: a new folder would not be the one mounted in the sandbox.
            # The kernel could write on the channel folder itself: its permissions, times and attributes go back.
            for folder, state in self._bound_state.items():
                restore_folder(folder, state)
            left = [p for folder in self._bound_state for p in _empty(folder, set())]
            if left:
                raise ZygoteError(f"could not empty {left[0][:200]}")
            for folder, state in self._bound_state.items():
                os.utime(folder, ns=state["times"], follow_symlinks=False)
        except BaseException as exc:
            self.close()
            if isinstance(exc, ZygoteError):
                raise
            raise ZygoteError(f"the sandbox could not be cleaned ({type(exc).__name__})") from None

    def close(self) -> None:
        for pid in filter(None, (self.pid, self.process.pid if self.process.poll() is None else None)):
            try:
                os.kill(pid, signal.SIGKILL)  # PID 1 of the sandbox takes every process in it along
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout, self._log):
            try:
                stream.close()
            except OSError:
                pass
        self.cgroup.remove()
        shutil.rmtree(self.home, ignore_errors=True)


# --- one zygote per worker process ----------------------------------------------------------------

_ZYGOTES: dict[tuple, Zygote] = {}
_FAILED: dict[tuple, str] = {}
_FINALIZER: list = []


def zygote_for(sandbox, env: dict[str, str], startup_timeout: float = 120) -> Zygote | None:
    """This worker thread's live zygote for this sandbox and environment; None means use a fresh kernel.

    Each thread has its own (a Dask worker runs one kernel per thread). A zygote that failed to
    start twice is not tried again in this process.
    """
    import threading
    from multiprocessing import util

    key = (threading.get_ident(), sandbox, tuple(sorted(env.items())))
    zygote = _ZYGOTES.get(key)
    if zygote is not None and zygote.alive:
        return zygote
    _ZYGOTES.pop(key, None)
    if _FAILED.get(key, "").count("\n") >= 2:
        return None
    if not _FINALIZER:
        # A pool worker leaves through os._exit, which skips atexit; this runs before it.
        _FINALIZER.append(util.Finalize(None, close_all, exitpriority=10))
    try:
        _ZYGOTES[key] = Zygote(sandbox, env, startup_timeout)
    except (ZygoteError, OSError) as exc:
        _FAILED[key] = _FAILED.get(key, "") + f"{exc}\n"
        return None
    return _ZYGOTES[key]


@atexit.register
def close_all() -> None:
    while _ZYGOTES:
        _ZYGOTES.popitem()[1].close()


if __name__ == "__main__":
    serve(sys.argv[1:])
