"""One `grade` run at a time per gradebook: an exclusive lock held for the whole run.

Two runs writing one course directory (or one output folder) at once would race on its
gradebook, its journal and its autograded notebooks. The second run stops at once with a
one-line error instead. The lock is an advisory `flock` on a small file, released by the
kernel when the process ends, however it ends (kill -9 included), so it never goes stale.
It is independent of sqlite's own locks, so formgrader is never blocked by it.
"""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from ..course import CourseError


@contextmanager
def exclusive_run(lock_file: Path, what: str):
    """Hold the lock on `lock_file` for the block, or raise CourseError naming `what` if another run has it."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise CourseError(f"another `autograder grade` run{f' (pid {holder})' if holder.isdigit() else ''} "
                              f"is writing {what}; wait for it to finish (lock: {lock_file})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
