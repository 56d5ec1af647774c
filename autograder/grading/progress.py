"""What the instructor watches while a class is graded: a bar on a terminal, plain lines elsewhere."""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from .names import printable
from .submission import SubmissionResult


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class GradingProgress:
    """Done, total, failures and ETA.

    On a terminal it redraws one bar; when output is not a terminal (CI, a log file) or a
    `lines` callable is given, it prints one plain line per submission.
    """

    def __init__(self, total: int, *, lines: Callable[[str], None] | None = None, stream: TextIO | None = None,
                 width: int = 28):
        self.total, self.done, self.failures, self.cached = total, 0, 0, 0
        self.stream = stream or sys.stdout
        self.lines = lines
        self.bar = lines is None and self.stream.isatty()
        self.width = width
        self.started = time.monotonic()
        self._drawn = False

    def start_clock(self) -> None:
        """Measure the ETA from now: the reference runs before grading are not grading speed."""
        self.started = time.monotonic()

    def message(self, text: str) -> None:
        if self.lines is not None:
            self.lines(text)
            return
        self._clear()
        print(text, file=self.stream, flush=True)
        self._draw()

    def skipped(self, count: int) -> None:
        """Submissions already graded by an earlier run with the same files and inputs."""
        self.done += count
        self.cached += count
        if count:
            self.message(f"{count} submission(s) already graded with these files and inputs; not grading them again")

    def update(self, result: SubmissionResult) -> None:
        self.done += 1
        self.failures += bool(result.reason)
        # Ids and reasons are the student's text: control characters never reach the terminal as such.
        who = f"{printable(result.student)}/{printable(result.assignment)}"
        line = (f"[{self.done}/{self.total}] {who}: "
                f"{result.score:g}/{result.max_score:g}" + (f" ({printable(result.reason, 400)})" if result.reason else ""))
        if self.bar:
            self._draw(last=f"{who} {result.score:g}/{result.max_score:g}")
        elif self.lines is not None:
            self.lines(line + self._eta_text())
        else:
            print(line + self._eta_text(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar and self._drawn:
            print(file=self.stream, flush=True)
            self._drawn = False

    def eta(self) -> float | None:
        graded = self.done - self.cached
        remaining = self.total - self.done
        if graded <= 0 or remaining <= 0:
            return None
        return (time.monotonic() - self.started) / graded * remaining

    def _eta_text(self) -> str:
        eta = self.eta()
        return f"  ETA {_clock(eta)}" if eta is not None else ""

    def _clear(self) -> None:
        if self.bar and self._drawn:
            print("\r\033[K", end="", file=self.stream)

    def _draw(self, last: str = "") -> None:
        if not self.bar:
            return
        filled = self.width * self.done // max(1, self.total)
        eta = self.eta()
        text = (f"\r\033[K[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
                f"  failures {self.failures}  ETA {_clock(eta) if eta is not None else '--:--'}"
                + (f"  last: {last}" if last else ""))
        print(text, end="", file=self.stream, flush=True)
        self._drawn = True
