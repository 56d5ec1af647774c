"""Names that come from students, made safe: as ids in tables, as file names, and in messages.

A student id is the name of a folder in `submitted/`, so it may be anything a file system
allows: bytes that are not UTF-8, 245 characters, quotes, `CON`. Three rules, one each:

* `folder_id(name)`: the id everyone downstream sees (grades.csv, gradebook, details.json).
  A name that is valid UTF-8 is kept as it is; undecodable bytes become `\\xff` escapes, so
  the id can always be written as UTF-8.
* `safe_name(id)`: one path component, safe on Linux, macOS and Windows, for the feedback
  folder and the journal. Unchanged for ordinary ids (`alice`); anything changed or cut gets
  a short hash of the original id, so two different ids never share a folder.
* `printable(name)`: a name as it may appear in a message: no unencodable or control characters.
"""
from __future__ import annotations

import hashlib
import os
import re

#: Characters kept as they are in a safe name.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
#: The ending of a safe name that was changed; an unchanged id that looks like one is changed too.
_HASHED = re.compile(r"-[0-9a-f]{8}\Z")
#: Names Windows reserves for devices, with or without an extension.
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                    *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
MAX_SAFE_NAME = 80
_KEPT_WHEN_CHANGED = 64


def folder_id(name: str | bytes) -> str:
    """The id for a folder named `name` (as os.listdir gives it): always encodable as UTF-8."""
    raw = os.fsencode(name)
    return raw.decode("utf-8", "backslashreplace")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def safe_name(student_id: str) -> str:
    """`student_id` as a single path component: [A-Za-z0-9._-] only, at most 80 characters,
    never empty, `.`, `..`, hidden or a Windows device name; different ids, different names."""
    cleaned = _UNSAFE.sub("_", student_id)
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    cleaned = cleaned.rstrip(".")  # Windows drops trailing dots
    if cleaned.split(".")[0].upper() in _WINDOWS_DEVICES:  # CON, con.txt, LPT1.csv ...
        cleaned = "_" + cleaned
    changed = (not cleaned or cleaned != student_id or len(cleaned) > MAX_SAFE_NAME
               or bool(_HASHED.search(cleaned)))
    if not changed:
        return cleaned
    return f"{cleaned[:_KEPT_WHEN_CHANGED] or 'id'}-{_short_hash(student_id)}"


def printable(name: str | bytes, limit: int = 120) -> str:
    """`name` fit for a message: undecodable bytes and control characters as escapes, long names cut."""
    if isinstance(name, str):
        try:
            name = name.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate no file name decodes to
            name = name.encode("utf-8", "backslashreplace")
    text = name.decode("utf-8", "backslashreplace")
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit - 1] + "…"
