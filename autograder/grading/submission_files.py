"""Reading a submission folder as data: its regular files, and nothing a link or a device points at.

A submission folder comes from students (often unpacked from a zip), so it may hold symbolic
links to the solutions or to a classmate's notebook, named pipes that block a reader forever,
device files, a folder tree thousands deep or names that are not UTF-8. `read_submission`
walks it once, iteratively, relative to open directory descriptors, and never follows a link:
every folder is opened with O_NOFOLLOW | O_DIRECTORY and every file with O_NOFOLLOW | O_NONBLOCK,
then checked with fstat on the descriptor itself, so nothing can be swapped between the check
and the read. Hidden entries are left out silently, as nbgrader does; everything else that is
not read is named in `skipped`, with why.

The packed files (`workers.pack_submission`) and the journal's content hash
(`journal.folder_hash`) both come from this one reading, so the hash covers exactly what is graded.
"""
from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .names import printable

#: A submission folder bigger than this is not sent to a worker (its row says why).
MAX_SUBMISSION_BYTES = 64 * 2**20
#: More entries than this (files, folders, links, hidden ones too) and the folder is not graded.
MAX_ENTRIES = 10_000
#: Folders nested deeper than this are skipped.
MAX_DEPTH = 64

SYMLINK_PROBLEM = "the submission folder is a symbolic link; not graded"

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


@dataclass(frozen=True)
class SubmissionFiles:
    #: Relative name ("/"-separated, as os.listdir gives names: undecodable bytes surrogate-escaped) -> bytes.
    files: dict[str, bytes] = field(repr=False)
    #: Entries left out, each as "'printable name' (why)".
    skipped: tuple[str, ...] = ()
    #: Set when the folder as a whole cannot be graded (then `files` is empty).
    problem: str = ""

    def content_hash(self) -> str:
        """sha256 of the names (as bytes) and contents of `files`, plus what was skipped and why.

        For a folder with nothing skipped it equals the hash earlier versions computed over
        the same files, so their journal records stay valid.
        """
        digest = hashlib.sha256()
        if self.problem:
            digest.update(b"problem\0" + self.problem.encode("utf-8", "backslashreplace") + b"\0")
            return digest.hexdigest()
        for name, content in self.files.items():
            digest.update(os.fsencode(name) + b"\0")
            digest.update(content)
            digest.update(b"\0")
        for entry in self.skipped:
            digest.update(b"skipped\0" + entry.encode("utf-8", "backslashreplace") + b"\0")
        return digest.hexdigest()


def _why_not_regular(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "folder"
    return "not a regular file"


def _unreadable(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link"  # it became one between listing and opening
    return f"unreadable: {exc.strerror or type(exc).__name__}"


def _sort_key(name: str) -> tuple[bytes, ...]:
    return tuple(os.fsencode(part) for part in name.split("/"))


def read_submission(folder: Path | str, max_bytes: int = MAX_SUBMISSION_BYTES, max_entries: int = MAX_ENTRIES,
                    max_depth: int = MAX_DEPTH) -> SubmissionFiles:
    """The regular files under `folder` (hidden ones left out), never following a symbolic link."""
    folder = os.fspath(folder)
    try:
        if stat.S_ISLNK(os.lstat(folder).st_mode):
            return SubmissionFiles({}, (), SYMLINK_PROBLEM)
        top = os.open(folder, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return SubmissionFiles({}, (), SYMLINK_PROBLEM)
        return SubmissionFiles({}, (), f"the submission folder cannot be read ({exc.strerror or exc})")
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    total = entries = 0
    # Depth-first, one open descriptor per level: (directory fd, its relative name, names still to visit).
    stack: list[tuple[int, str, list[str]]] = []
    problem = ""
    try:
        stack.append((top, "", _list(top, max_entries)))
        while stack and not problem:
            fd, prefix, names = stack[-1]
            if not names:
                os.close(fd)
                stack.pop()
                continue
            name = names.pop()
            entries += 1
            if entries > max_entries:
                problem = f"the submission folder has more than {max_entries} entries; not graded"
                break
            if name.startswith("."):
                continue
            relative = f"{prefix}{name}"
            try:
                mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            except OSError as exc:
                skipped.append(f"'{printable(relative)}' ({_unreadable(exc)})")
                continue
            if stat.S_ISDIR(mode):
                if len(stack) >= max_depth:
                    skipped.append(f"'{printable(relative)}' (too deep)")
                    continue
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    skipped.append(f"'{printable(relative)}' ({_unreadable(exc)})")
                    continue
                try:
                    children = _list(child, max_entries)
                except OSError as exc:
                    os.close(child)
                    skipped.append(f"'{printable(relative)}' ({_unreadable(exc)})")
                    continue
                stack.append((child, relative + "/", children))
                continue
            if not stat.S_ISREG(mode):
                skipped.append(f"'{printable(relative)}' ({_why_not_regular(mode)})")
                continue
            try:
                content, why = _read_regular(name, fd, max_bytes - total)
            except OSError as exc:
                skipped.append(f"'{printable(relative)}' ({_unreadable(exc)})")
                continue
            if why:
                skipped.append(f"'{printable(relative)}' ({why})")
                continue
            if content is None:
                problem = f"the submission folder is larger than {max_bytes // 2**20} MB"
                break
            total += len(content)
            files[relative] = content
    finally:
        for fd, _, _ in stack:
            os.close(fd)
    if problem:
        return SubmissionFiles({}, (), problem)
    ordered = {name: files[name] for name in sorted(files, key=_sort_key)}
    return SubmissionFiles(ordered, tuple(sorted(skipped)))


def _list(fd: int, limit: int) -> list[str]:
    """The names in an open directory, in reverse byte order (the walk pops from the end)."""
    with os.scandir(fd) as it:
        names = []
        for entry in it:
            names.append(entry.name)
            if len(names) > limit:  # the walk stops at `limit` anyway: don't hold a million names
                break
    return sorted(names, key=os.fsencode, reverse=True)


def _read_regular(name: str, dir_fd: int, budget: int) -> tuple[bytes | None, str]:
    """(content, "") for a regular file; (None, "") when it is bigger than `budget`;
    (b"", why) when the opened entry turns out not to be a regular file."""
    fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return b"", _why_not_regular(info.st_mode)
        if info.st_size > budget:
            return None, ""
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, budget - size + 1))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > budget:  # it grew while being read
                return None, ""
        return b"".join(chunks), ""
    finally:
        os.close(fd)


def skipped_reason(skipped: tuple[str, ...] | list[str], shown: int = 3) -> str:
    """"skipped 2 entries that are not regular files: 'data.csv' (symbolic link), 'pipe' (named pipe)"."""
    if not skipped:
        return ""
    count = len(skipped)
    head = (f"skipped {count} entries that are not regular files" if count > 1
            else "skipped 1 entry that is not a regular file")
    names = ", ".join(skipped[:shown])
    more = f" and {count - shown} more" if count > shown else ""
    return f"{head}: {names}{more}"
