"""Deadlines as nbgrader has them: the submission time, the due date, and the late penalty.

* The submission time is `timestamp.txt` in the submission's folder, which `nbgrader collect`
  writes, parsed by nbgrader's own `parse_utc` (so "2026-12-01 23:30:28.680733 UTC" and
  "2026-12-01 15:30:28 America/Los_Angeles" both work). A missing or empty file means "unknown",
  as in nbgrader; a file nbgrader cannot parse is named on the row (nbgrader stops there instead).
* The due date is the assignment's in the gradebook (`nbgrader db assignment add NAME
  --duedate=...`, or formgrader), plus the student's extension if one was granted.
* Lateness is nbgrader's `SubmittedAssignment.total_seconds_late`, and the penalty comes from
  the late-submission plugin the course configures (`c.AssignLatePenalties.plugin_class`,
  by default `LateSubmissionPlugin`, whose `c.LateSubmissionPlugin.penalty_method` is 'none' or
  'zero'), applied per notebook as nbgrader's `AssignLatePenalties` does: reset, then ask the
  plugin when the submission is late, then keep the penalty between 0 and the notebook's score.
"""
from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

from ..course import CourseError

TIMESTAMP_FILE = "timestamp.txt"
#: nbgrader writes one short line; anything longer is not a timestamp.
MAX_TIMESTAMP_BYTES = 256


def read_timestamp(folder: Path) -> tuple[datetime | None, str]:
    """(the submission time in UTC, "") or (None, why it could not be read; "" when there is none).

    The file is read without following links and only as a regular file: the folder holds
    what the student handed in.
    """
    from nbgrader.utils import parse_utc

    path = Path(folder) / TIMESTAMP_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, ""
    except OSError as exc:
        return None, f"{TIMESTAMP_FILE} could not be read ({type(exc).__name__}), so lateness was not checked"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None, f"{TIMESTAMP_FILE} is not a regular file, so lateness was not checked"
        raw = handle.read(MAX_TIMESTAMP_BYTES + 1)
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None, ""
    try:
        if len(raw) > MAX_TIMESTAMP_BYTES:
            raise ValueError("too long")
        return parse_utc(text), ""
    except Exception:  # noqa: BLE001 - dateutil raises ValueError, OverflowError, TypeError...
        shown = " ".join(text.split())[:40]
        return None, f"{TIMESTAMP_FILE} holds {shown!r}, which is not a time nbgrader can read, so lateness was not checked"


def format_time(moment: datetime | None) -> str:
    """A UTC time as nbgrader prints it in `nbgrader export` ("" for none)."""
    return "" if moment is None else str(moment)


def describe_lateness(seconds: float) -> str:
    """`seconds` late in words: "3 d 2 h 5 min", "2 h 0 min", "45 s"."""
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h {minutes} min"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


class LatePolicy:
    """The course's late-submission plugin, as nbgrader's `AssignLatePenalties` loads and applies it."""

    def __init__(self, config=None, importable=None):
        from contextlib import nullcontext

        from nbgrader.preprocessors import AssignLatePenalties
        from traitlets.config import Config

        try:
            with importable() if importable else nullcontext():
                self.assigner = AssignLatePenalties(config=config if config is not None else Config())
                self.assigner.init_plugin()
        except Exception as exc:  # noqa: BLE001 - a plugin named in the config that cannot be loaded
            raise CourseError(f"the late-submission plugin (c.AssignLatePenalties.plugin_class) could not be "
                              f"loaded: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None
        self.name = type(self.assigner.plugin_inst).__name__

    def apply(self, submission, notebook) -> None:
        """Set `notebook.late_submission_penalty` exactly as `AssignLatePenalties.preprocess` does.

        `submission` and `notebook` are the gradebook's SubmittedAssignment and SubmittedNotebook,
        with this run's scores already flushed. A plugin that raises leaves no penalty and the
        exception goes to the caller, which names it on the student's row.
        """
        notebook.late_submission_penalty = None
        if submission.total_seconds_late > 0:
            penalty = self.assigner.plugin_inst.late_submission_penalty(
                submission.student.id, notebook.score, submission.total_seconds_late)
            if penalty is not None:
                notebook.late_submission_penalty = self.assigner._check_late_penalty(notebook, penalty)
