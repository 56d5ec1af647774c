"""A seccomp filter for student kernels: system calls that would outlive a kernel are refused.

A Linux keyring (`add_key`, `keyctl`, `request_key`) belongs to the user, not to a process, and a
POSIX message queue (`mq_open`, ...) to the IPC namespace: both would survive one kernel and be
there for the next one forked from the same zygote. Nothing the course runs needs them, so the
filter makes them fail with EPERM. System calls of another ABI (32-bit `int 0x80` on x86_64, x32)
fail the same way, so the list cannot be bypassed through a second syscall table.

bubblewrap loads the filter (`--seccomp FD`) from the classic-BPF program written here.
"""
from __future__ import annotations

import atexit
import errno
import hashlib
import os
import platform
import stat
import struct
import tempfile
from pathlib import Path

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
#: keyrings, then POSIX message queues, per architecture.
_DENIED = {
    "x86_64": {"add_key": 248, "request_key": 249, "keyctl": 250, "mq_open": 240, "mq_unlink": 241,
               "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245},
    "aarch64": {"add_key": 217, "request_key": 218, "keyctl": 219, "mq_open": 180, "mq_unlink": 181,
                "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185},
}
_X32_SYSCALL_BIT = 0x40000000

_LD_W_ABS, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_OFFSET_NR, _OFFSET_ARCH = 0, 4


def denied_syscalls(machine: str | None = None) -> dict[str, int]:
    return dict(_DENIED.get(machine or platform.machine(), {}))


def filter_program(machine: str | None = None) -> bytes | None:
    """The BPF program (struct sock_filter[]) for this machine, or None where we have no table."""
    machine = machine or platform.machine()
    if machine not in _DENIED:
        return None
    deny = _RET_ERRNO | errno.EPERM
    numbers = sorted(_DENIED[machine].values())
    # Layout: [load arch, arch check, load nr, (x32 check), one jeq per number, allow, deny].
    body: list[tuple[int, int, int, int]] = []
    checks = len(numbers) + (1 if machine == "x86_64" else 0)
    # From the arch check, jump to "deny" (the last instruction) when the arch differs.
    body.append((_LD_W_ABS, 0, 0, _OFFSET_ARCH))
    body.append((_JEQ_K, 0, checks + 2, _AUDIT_ARCH[machine]))
    body.append((_LD_W_ABS, 0, 0, _OFFSET_NR))
    remaining = checks
    if machine == "x86_64":
        remaining -= 1
        body.append((_JGE_K, remaining + 1, 0, _X32_SYSCALL_BIT))
    for number in numbers:
        remaining -= 1
        body.append((_JEQ_K, remaining + 1, 0, number))
    body.append((_RET_K, 0, 0, _RET_ALLOW))
    body.append((_RET_K, 0, 0, deny))
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in body)


_WRITTEN: dict[str, Path] = {}


def _trusted(path: Path, program: bytes) -> bool:
    """True when `path` is a regular file of ours, writable by nobody, holding exactly `program`."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o222:
            return False
        return path.read_bytes() == program
    except OSError:
        return False


def filter_file() -> Path | None:
    """A file holding this machine's filter (None: no filter here).

    One file per user and filter, named by the filter's hash in the temporary folder and reused by every
    process, so grading runs leave nothing behind. It is trusted only if it is a regular file owned by this
    user, writable by nobody, holding exactly this filter (the sticky temporary folder keeps other users from
    replacing it); otherwise it is written anew, atomically.
    """
    program = filter_program()
    if program is None:
        return None
    key = platform.machine()
    path = _WRITTEN.get(key)
    if path is not None and _trusted(path, program):
        return path
    digest = hashlib.sha256(program).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"autograder-seccomp-{os.getuid()}-{digest}.bpf"
    if not _trusted(path, program):
        descriptor, staged = tempfile.mkstemp(prefix="autograder-seccomp-", dir=path.parent)
        with os.fdopen(descriptor, "wb") as out:
            out.write(program)
        os.chmod(staged, 0o444)
        try:
            os.replace(staged, path)  # refused when another user owns that name: keep the private copy then
        except OSError:
            path = Path(staged)
            atexit.register(path.unlink, missing_ok=True)
        if not _trusted(path, program):
            raise OSError(f"the seccomp filter file {path} could not be written safely")
    _WRITTEN[key] = path
    return path
