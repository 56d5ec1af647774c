"""What a grading run has already done, so an interrupted run resumes where it stopped.

Each graded submission is recorded as one small JSON file, written atomically after its
feedback is on disk. A re-run skips a submission whose record matches both the content
hash of its folder and the fingerprint of its assignment (source, release, checks, seed);
anything else is graded again. `run.json` keeps each assignment's seed, so a resumed run
asks the same questions as the run it continues.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..course import CHECK_MODULES, Course
from .names import safe_name
from .outputs import atomic_write_text
from .submission import PartResult, SubmissionResult
from .submission_files import SubmissionFiles, read_submission

JOURNAL_VERSION = 1


def folder_hash(folder: Path, problem: str = "") -> str:
    """Content hash of exactly what is packed for grading (names as bytes, contents, what was skipped).

    Read the way `pack_submission` reads it (submission_files.py): links are not followed, so
    changing what a link points at changes nothing. With a `problem` (the folder is not read at
    all, e.g. it is a symbolic link) the hash is that of the problem alone.
    """
    if problem:
        return SubmissionFiles({}, (), problem).content_hash()
    return read_submission(folder).content_hash()


def assignment_fingerprint(course: Course, assignment: str, seed: int) -> str:
    """Changes when anything that decides a grade changes: source, release, checks module or seed."""
    digest = hashlib.sha256(f"{JOURNAL_VERSION}:{assignment}:{seed}".encode())
    source = course.source_notebook(assignment)
    paths = [source, course.exercises / assignment / source.name]
    module = CHECK_MODULES.get(assignment)
    if module:
        paths.append(course.root / (module.replace(".", "/") + ".py"))
    for path in paths:
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def _part_to_dict(part: PartResult) -> dict:
    item = {"grade_id": part.grade_id, "max_points": part.max_points, "points": part.points,
            "detail": part.detail, "feedback": part.feedback}
    if part.manual:
        item.update(manual=True, awaiting=part.awaiting)
    if part.diagnosis:
        item["diagnosis"] = part.diagnosis
    return item


def _part_from_dict(data: dict) -> PartResult:
    return PartResult(data["grade_id"], data["max_points"], data["points"], data.get("detail", ""),
                      data.get("feedback", ""), manual=bool(data.get("manual")), awaiting=bool(data.get("awaiting")),
                      diagnosis=str(data.get("diagnosis", "")))


def result_to_dict(result: SubmissionResult) -> dict:
    """What grading decided, as the worker sent it: no gradebook state (manual scores, late penalty),
    which is read from the gradebook on every run."""
    return {
        "student": result.student, "assignment": result.assignment, "notebook": result.notebook,
        "reason": result.reason, "seconds": round(result.seconds, 3), "sandboxed": result.sandboxed,
        "parts": [_part_to_dict(p) for p in result.parts],
        "manual_parts": [_part_to_dict(p) for p in result.manual_parts],
    }


def result_from_dict(data: dict) -> SubmissionResult:
    result = SubmissionResult(data["student"], data["assignment"], data["notebook"],
                              [_part_from_dict(p) for p in data["parts"]], data.get("reason", ""),
                              data.get("seconds", 0.0), data.get("sandboxed", True))
    result.manual_parts = [_part_from_dict(p) for p in data.get("manual_parts", [])]
    return result


class Journal:
    """The records of one output folder: `<out>/.journal/<assignment>/<student>.json` and `run.json`,
    with safe names (names.py) for the student and the assignment."""

    def __init__(self, out_dir: Path):
        self.folder = out_dir / ".journal"
        self.run_file = self.folder / "run.json"

    def seeds(self) -> dict[str, int]:
        try:
            return {k: int(v) for k, v in json.loads(self.run_file.read_text(encoding="utf-8"))["seeds"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}

    def save_seeds(self, seeds: dict[str, int]) -> None:
        atomic_write_text(self.run_file, json.dumps({"seeds": dict(sorted(seeds.items()))}, indent=1) + "\n")

    def _path(self, student: str, assignment: str) -> Path:
        """`<assignment>/<student>.json`, both as safe names (names.py): `alice` stays `alice.json`."""
        return self.folder / safe_name(assignment) / f"{safe_name(student)}.json"

    def _legacy_path(self, student: str, assignment: str) -> Path | None:
        """Where records were written before safe names, for an id whose safe name differs."""
        if safe_name(student) == student and safe_name(assignment) == assignment:
            return None
        names = (student, assignment)
        if any(not n or "/" in n or "\0" in n or n in (".", "..") for n in names):
            return None
        return self.folder / assignment / f"{student}.json"

    def load(self, student: str, assignment: str, content_hash: str, fingerprint: str) -> SubmissionResult | None:
        """The recorded result, if it was graded from these very files against this very assignment."""
        for path in filter(None, (self._path(student, assignment), self._legacy_path(student, assignment))):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                if record.get("content_hash") != content_hash or record.get("fingerprint") != fingerprint:
                    return None
                result = result_from_dict(record["result"])
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError, TypeError, UnicodeError):
                return None
            # Two ids never share a safe name, but a record is only ever taken for its own id.
            return result if (result.student, result.assignment) == (student, assignment) else None
        return None

    def record(self, result: SubmissionResult, content_hash: str, fingerprint: str) -> None:
        record = {"content_hash": content_hash, "fingerprint": fingerprint, "result": result_to_dict(result)}
        atomic_write_text(self._path(result.student, result.assignment), json.dumps(record, sort_keys=True) + "\n")

    def clear(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
