"""A submission is data: its folder is read without following links, and student ids become safe names.

The file-layer tests need no kernel: hostile folders (links to the solution and to a classmate,
named pipes, sockets, names that are not UTF-8, a tree 3,000 deep, 245-character ids) go through
`find_submissions`, `folder_hash`, `pack_submission`, `safe_name`, the journal, the feedback folder
and the gradebook directly. One test grades such a class end to end through the sandbox.
"""
from __future__ import annotations

import csv
import json
import os
import re
import socket
import stat
import threading
from pathlib import Path

import pytest

from autograder.grading.journal import Journal, folder_hash
from autograder.grading.names import folder_id, printable, safe_name
from autograder.grading.outputs import RenderedFeedback, feedback_folder, write_feedback, write_grades_csv
from autograder.grading.runner import _write_details, find_submissions
from autograder.grading.submission import PartResult, SubmissionResult
from autograder.grading.submission_files import (MAX_SUBMISSION_BYTES, SYMLINK_PROBLEM, _why_not_regular,
                                                 read_submission, skipped_reason)
from autograder.grading.workers import _unpack, pack_submission

SECRET = b"SECRET-SOLUTION-BYTES"
LONG_ID = "s" + "0123456789" * 24 + "abcd"  # 245 characters
ODD_IDS = [LONG_ID, "o'neil", 'say "hi"', "a;DROP TABLE student;--", "first last", "Zoë 学生", "\\xff.bad",
           "=cmd|' /C calc'!A0", "alice"]
#: A spreadsheet formula as a folder name (a folder name cannot hold the "/" of the usual one).
CMD_ID = "=cmd|' \\C calc'!A0"


def run_with_timeout(function, *args, seconds: float = 5):
    """function(*args) in a thread; fail instead of hanging (a FIFO opened for reading blocks forever)."""
    box = {}

    def target():
        try:
            box["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} did not return within {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def result(student: str, assignment: str = "01_neuron", points: float = 2.0, reason: str = "") -> SubmissionResult:
    return SubmissionResult(student, assignment, "01_neuron", [PartResult("part0", 2.0, points)], reason, 1.0)


@pytest.fixture
def hostile(tmp_path) -> tuple[Path, Path]:
    """A submission folder full of things that are not the student's own regular files."""
    outside = tmp_path / "outside"
    (outside / "secret_dir").mkdir(parents=True)
    secret = outside / "solution.ipynb"
    secret.write_bytes(SECRET)
    (outside / "secret_dir" / "answers.csv").write_bytes(SECRET)
    folder = tmp_path / "submitted" / "mallory" / "01_neuron"
    (folder / "data").mkdir(parents=True)
    (folder / "01_neuron.ipynb").write_bytes(b'{"own": "notebook"}')
    (folder / "data" / "x.csv").write_bytes(b"1,2\n")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "old.ipynb").write_bytes(b"hidden")
    os.symlink(secret, folder / "solution.ipynb")
    os.symlink(secret, folder / "data" / "y.csv")
    os.symlink(outside / "secret_dir", folder / "linked_dir")
    os.symlink("/dev/zero", folder / "zeros")
    os.symlink(folder / "nowhere", folder / "dangling")
    os.mkfifo(folder / "pipe")
    return folder, outside


def test_links_pipes_and_hidden_files_are_never_read(hostile):
    folder, _ = hostile
    packed = run_with_timeout(pack_submission, "mallory", "01_neuron", folder)
    assert packed.problem == ""
    assert set(packed.files) == {"01_neuron.ipynb", "data/x.csv"}
    assert all(SECRET not in content for content in packed.files.values())
    assert packed.skipped == ("'dangling' (symbolic link)", "'data/y.csv' (symbolic link)",
                              "'linked_dir' (symbolic link)", "'pipe' (named pipe)",
                              "'solution.ipynb' (symbolic link)", "'zeros' (symbolic link)")
    reason = skipped_reason(packed.skipped)
    assert reason.startswith("skipped 6 entries that are not regular files: 'dangling' (symbolic link), ")
    assert reason.endswith(" and 3 more")
    assert skipped_reason(packed.skipped[:1]) == \
        "skipped 1 entry that is not a regular file: 'dangling' (symbolic link)"


def test_the_hash_covers_what_is_packed_not_what_links_point_at(hostile):
    folder, outside = hostile
    first = run_with_timeout(folder_hash, folder)
    (outside / "solution.ipynb").write_bytes(b"something else entirely")
    (outside / "secret_dir" / "answers.csv").write_bytes(b"changed")
    os.unlink(folder / "zeros")
    os.symlink(outside / "solution.ipynb", folder / "zeros")  # same name, new target
    assert folder_hash(folder) == first
    (folder / "data" / "x.csv").write_bytes(b"1,3\n")
    assert folder_hash(folder) != first
    second = folder_hash(folder)
    os.unlink(folder / "pipe")  # what was skipped is part of the row's reason, so of the hash too
    assert folder_hash(folder) != second


def test_an_ordinary_folder_hashes_as_before(tmp_path):
    """Journal records written by the previous folder_hash stay valid for folders with nothing skipped."""
    import hashlib

    (tmp_path / "a.ipynb").write_text("one")
    (tmp_path / "a.b").write_text("dot")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").write_text("nested")
    digest = hashlib.sha256()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):  # the previous implementation
        digest.update(str(path.relative_to(tmp_path)).encode() + b"\0" + path.read_bytes() + b"\0")
    assert folder_hash(tmp_path) == digest.hexdigest()


def test_sockets_and_devices_are_not_opened(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok")
    here = os.getcwd()
    os.chdir(folder)  # a short relative path: AF_UNIX names are limited to 108 bytes
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("sock")
        packed = run_with_timeout(pack_submission, "s", "a", folder)
    finally:
        server.close()
        os.chdir(here)
    assert set(packed.files) == {"ok.txt"} and packed.skipped == ("'sock' (socket)",)
    # Device files cannot be made without root; their type is named from the mode.
    assert _why_not_regular(stat.S_IFCHR | 0o666) == _why_not_regular(stat.S_IFBLK | 0o666) == "device"


def test_names_that_are_not_utf8_survive_packing_hashing_and_unpacking(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    raw = os.fsencode(folder)
    fd = os.open(raw + b"/\xff.csv", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"bytes,name\n")
    os.close(fd)
    os.symlink(b"/etc/passwd", raw + b"/\xfelink")
    (folder / "nb.ipynb").write_text("{}")
    packed = pack_submission("s", "a", folder)
    assert packed.files == {"\udcff.csv": b"bytes,name\n", "nb.ipynb": b"{}"}
    assert packed.skipped == ("'\\xfelink' (symbolic link)",)
    skipped_reason(packed.skipped).encode("utf-8")  # a reason is always encodable
    assert len(folder_hash(folder)) == 64
    target = tmp_path / "unpacked"
    _unpack(packed.files, target)
    assert sorted(os.listdir(os.fsencode(target))) == [b"nb.ipynb", b"\xff.csv"]
    assert printable("\udcff.csv") == "\\xff.csv" and printable("a\nb") == "a\\nb"


def test_unpacking_refuses_names_outside_the_folder(tmp_path):
    target = tmp_path / "up" / "s" / "a"
    files = {"../escape.txt": b"x", "/abs.txt": b"x", "a/../../b.txt": b"x", "nul\0.txt": b"x", "./dot.txt": b"x",
             "a//b.txt": b"x", "ok/fine.txt": b"fine"}
    _unpack(files, target)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["up/s/a/ok/fine.txt"]


def _deep_tree(top: Path, depth: int) -> None:
    """`top/d/d/.../d/bottom.txt`, built with relative paths (the full path is longer than PATH_MAX)."""
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(top)
        for _ in range(depth):
            os.mkdir("d")
            os.chdir("d")
        Path("bottom.txt").write_text("deep")
    finally:
        os.fchdir(here)
        os.close(here)


def _remove_deep_tree(top: Path, depth: int) -> None:
    """shutil.rmtree (and so pytest's cleanup) raises RecursionError on such a tree: take it down by hand."""
    here = os.open(".", os.O_RDONLY)
    try:
        os.chdir(top)
        for _ in range(depth):
            os.chdir("d")
        os.unlink("bottom.txt")
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.fchdir(here)
        os.close(here)


def test_a_tree_3000_deep_is_cut_not_recursed(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "nb.ipynb").write_text("{}")
    _deep_tree(folder, 3000)
    try:
        packed = run_with_timeout(pack_submission, "s", "a", folder, seconds=30)
        assert set(packed.files) == {"nb.ipynb"} and packed.problem == ""
        assert len(packed.skipped) == 1 and packed.skipped[0].endswith("' (too deep)")
        assert packed.skipped[0].startswith("'d/d/d/d/")
        assert len(run_with_timeout(folder_hash, folder, seconds=30)) == 64
    finally:
        _remove_deep_tree(folder, 3000)


def test_too_many_entries_or_bytes_is_a_problem_not_a_hang(tmp_path):
    for i in range(30):
        (tmp_path / f"f{i}.txt").write_text("x" * 10)
    assert read_submission(tmp_path, max_entries=20).problem == \
        "the submission folder has more than 20 entries; not graded"
    assert read_submission(tmp_path, max_bytes=100).problem.startswith("the submission folder is larger than")
    assert read_submission(tmp_path).problem == "" and MAX_SUBMISSION_BYTES == 64 * 2**20


def test_symlinked_student_and_assignment_folders_get_a_row_but_are_not_read(tmp_path):
    submitted = tmp_path / "submitted"
    alice = submitted / "alice" / "01_neuron"
    alice.mkdir(parents=True)
    (alice / "01_neuron.ipynb").write_bytes(SECRET)
    os.symlink(submitted / "alice", submitted / "mallory")  # the whole student folder
    (submitted / "eve").mkdir()
    os.symlink(alice, submitted / "eve" / "01_neuron")  # one assignment folder
    os.symlink(tmp_path / "nowhere", submitted / "ghost")  # dangling: not a folder, no row
    found = {(s.student, s.assignment): s for s in find_submissions(tmp_path)}
    assert set(found) == {("alice", "01_neuron"), ("mallory", "01_neuron"), ("eve", "01_neuron")}
    assert found[("alice", "01_neuron")].problem == ""
    for key in [("mallory", "01_neuron"), ("eve", "01_neuron")]:
        submission = found[key]
        assert submission.problem == SYMLINK_PROBLEM
        packed = pack_submission(submission.student, submission.assignment, submission.folder, submission.problem)
        assert packed.files == {} and packed.problem == SYMLINK_PROBLEM
        assert folder_hash(submission.folder, submission.problem) == folder_hash(tmp_path / "x", SYMLINK_PROBLEM)
    # Given the link itself, the reader refuses it too.
    assert read_submission(submitted / "eve" / "01_neuron").problem == SYMLINK_PROBLEM


def test_folder_names_that_are_not_utf8_become_encodable_ids(tmp_path):
    submitted = os.fsencode(tmp_path / "submitted")
    for student, assignment in [(b"\xff", b"01_neuron"), (b"\\xff", b"01_neuron"), (b"ok", b"99_\xfe odd")]:
        os.makedirs(submitted + b"/" + student + b"/" + assignment)
    found = find_submissions(tmp_path)
    ids = sorted((s.student, s.assignment) for s in found)
    assert ids == [("\\xff", "01_neuron"), ("\\xff~ff", "01_neuron"), ("ok", "99_\\xfe odd")]
    for student, assignment in ids:
        (student + assignment).encode("utf-8")
    results = [result(s.student, s.assignment) for s in found]
    write_grades_csv(results, tmp_path / "grades.csv")
    with (tmp_path / "grades.csv").open(encoding="utf-8", newline="") as handle:
        assert sorted((r["student_id"], r["assignment"]) for r in csv.DictReader(handle)) == ids
    _write_details(results, {"01_neuron": 1}, tmp_path / "details.json", found)
    details = {(d["student_id"], d["assignment"]): d for d in json.loads((tmp_path / "details.json").read_text())
               ["submissions"]}
    assert details[("\\xff~ff", "01_neuron")]["submitted_folder_hex"] == b"\xff/01_neuron".hex()
    assert "submitted_folder_hex" not in details[("\\xff", "01_neuron")]  # that folder is named \xff literally
    assert details[("ok", "99_\\xfe odd")]["submitted_folder_hex"] == b"ok/99_\xfe odd".hex()
    assert folder_id(b"caf\xc3\xa9") == "café"


def test_unknown_assignments_with_odd_names_get_their_rows(course, tmp_path):
    """No kernel runs: every assignment here is unknown, one of them a name that is not UTF-8."""
    from autograder.grading.runner import grade_class

    submitted = os.fsencode(tmp_path / "submitted")
    for student, assignment in [(b"\xff\xfe", b"99_\x80 odd;'\""), (LONG_ID.encode(), b"98_x"), (b"zoe", b"x..y"),
                                (b"\xc3\xa9l\xc3\xa8ve", b"97_\xff")]:
        os.makedirs(submitted + b"/" + student + b"/" + assignment)
        os.symlink(b"/etc/passwd", submitted + b"/" + student + b"/" + assignment + b"/nb.ipynb")
    results = grade_class(course, tmp_path, tmp_path / "out", progress=lambda line: None)
    assert sorted((r.student, r.assignment) for r in results) == sorted(
        [("\\xff\\xfe", "99_\\x80 odd;'\""), (LONG_ID, "98_x"), ("zoe", "x..y"), ("élève", "97_\\xff")])
    assert all(r.reason.startswith("unknown assignment ") and r.score == 0 for r in results)
    with (tmp_path / "out" / "grades.csv").open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 4
    assert len(json.loads((tmp_path / "out" / "details.json").read_text(encoding="utf-8"))["submissions"]) == 4


SAFE = re.compile(r"[A-Za-z0-9._-]+")
NAMES = [LONG_ID, "../x", ".", "..", "", "a/b", "a\\b", "a:b", "a b", "a_b", "a_b-12345678", "CON", "con.txt",
         "lpt1", "José", "学生", "Zoë 学生", ".hidden", "trailing.", "=cmd|' /C calc'!A0", "\\xff", "x" * 81,
         "x" * 80, "a\0b", "\udcff"]


def test_safe_names_are_single_path_components_and_never_collide(tmp_path):
    names = {student: safe_name(student) for student in NAMES}
    assert safe_name("alice") == "alice" and safe_name("ada_reference") == "ada_reference"
    assert safe_name("01_neuron") == "01_neuron" and safe_name("x" * 80) == "x" * 80
    assert re.fullmatch(r"a_b-[0-9a-f]{8}", safe_name("a/b"))
    assert re.fullmatch("s0123456789" + "0123456789" * 5 + "012-[0-9a-f]{8}", names[LONG_ID])
    assert len(set(names.values())) == len(NAMES)
    for student, name in names.items():
        assert SAFE.fullmatch(name) and not name.startswith(".") and not name.endswith("."), (student, name)
        assert len(name.encode()) <= 100
        assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1", "COM1"}
        (tmp_path / name).mkdir()  # one component each, all distinct
    assert len(os.listdir(tmp_path)) == len(NAMES)
    # Ids that differ only in unsafe characters differ once safe.
    assert len({safe_name(s) for s in ["a b", "a/b", "a:b", "a?b", "a*b", "a_b"]}) == 6


def test_journal_and_feedback_use_safe_names_and_keep_the_original_id(tmp_path):
    journal = Journal(tmp_path)
    for student in ODD_IDS + ["../x", ".", ".."]:
        journal.record(result(student), "hash", "fp")
        loaded = journal.load(student, "01_neuron", "hash", "fp")
        assert loaded is not None and loaded.student == student
        html = write_feedback(result(student), tmp_path / "out", RenderedFeedback("{}", "<html></html>"))
        assert html.parent == feedback_folder(tmp_path / "out", student, "01_neuron")
        assert html.parent.parent.parent == tmp_path / "out" / "feedback"
    records = list((tmp_path / ".journal").rglob("*.json"))
    assert len(records) == len(ODD_IDS) + 3
    assert all(p.parent == tmp_path / ".journal" / "01_neuron" and len(p.name.encode()) <= 100 for p in records)
    assert feedback_folder(tmp_path, "alice", "01_neuron") == tmp_path / "feedback" / "alice" / "01_neuron"
    # A record is only ever taken for its own id (a safe name shared by accident returns nothing).
    (tmp_path / ".journal" / "01_neuron" / f"{safe_name('bob')}.json").write_text(
        (tmp_path / ".journal" / "01_neuron" / "alice.json").read_text())
    assert journal.load("bob", "01_neuron", "hash", "fp") is None


def test_journal_finds_records_written_before_safe_names(tmp_path):
    legacy = tmp_path / ".journal" / "01_neuron" / "first last.json"
    legacy.parent.mkdir(parents=True)
    Journal(tmp_path).record(result("first last"), "hash", "fp")
    (tmp_path / ".journal" / "01_neuron" / f"{safe_name('first last')}.json").rename(legacy)
    loaded = Journal(tmp_path).load("first last", "01_neuron", "hash", "fp")
    assert loaded is not None and loaded.student == "first last"


def test_details_json_maps_each_student_to_their_feedback_folder(tmp_path):
    results = [result(s) for s in ODD_IDS] + [SubmissionResult("zoe", "99_nothing", "", [], "unknown assignment")]
    _write_details(results, {"01_neuron": 1}, tmp_path / "details.json")
    entries = json.loads((tmp_path / "details.json").read_text(encoding="utf-8"))["submissions"]
    folders = {e["student_id"]: e.get("feedback_folder") for e in entries}
    assert folders["alice"] == "feedback/alice/01_neuron"
    assert folders[LONG_ID] == f"feedback/{safe_name(LONG_ID)}/01_neuron"
    assert folders["zoe"] is None
    assert set(folders) == set(ODD_IDS) | {"zoe"}


def test_every_odd_id_lands_in_the_gradebook(course, tmp_path):
    from autograder.grading.gradebook import GradebookWriter, write_gradebook
    from autograder.notebooks import graded_parts, read_notebook

    parts = graded_parts(read_notebook(course.source_notebook("01_neuron")))
    full = [PartResult(p.grade_id, p.points, p.points) for p in parts]
    results = [SubmissionResult(s, "01_neuron", "01_neuron", full) for s in ODD_IDS]
    write_gradebook(tmp_path / "gradebook.db", course, results)
    with GradebookWriter(tmp_path / "gradebook.db") as gradebook:
        assert {s: gradebook.score("01_neuron", s) for s in ODD_IDS} == {s: 11.0 for s in ODD_IDS}
        assert sorted(s.id for s in gradebook.gradebook.students) == sorted(ODD_IDS)


# --- end to end, through the sandbox ---------------------------------------------------------

@pytest.mark.kernel
def test_a_hostile_class_is_graded_row_by_row(course, tmp_path):
    from autograder.demo import make_submission, reference_answers
    from autograder.grading.execute import KernelLimits
    from autograder.grading.gradebook import GradebookWriter
    from autograder.grading.runner import grade_class

    ref = reference_answers(course, "01_neuron")
    solution = course.source_notebook("01_neuron")
    submitted = tmp_path / "submitted"

    def own(student: str) -> Path:
        return make_submission(course, "01_neuron", ref, submitted / student / "01_neuron" / "01_neuron.ipynb")

    honest = own("honest_with_link")
    os.symlink(solution, honest.parent / "solution.ipynb")
    (submitted / "only_a_link" / "01_neuron").mkdir(parents=True)
    os.symlink(solution, submitted / "only_a_link" / "01_neuron" / "01_neuron.ipynb")
    os.symlink(honest, own("data_links_classmate").parent / "data.csv")
    own(LONG_ID)
    own(CMD_ID)
    fd = os.open(os.fsencode(own("odd_data_name").parent) + b"/\xff.csv", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"1,2\n")
    os.close(fd)
    students = {"honest_with_link", "only_a_link", "data_links_classmate", LONG_ID, CMD_ID, "odd_data_name"}

    out = tmp_path / "out"
    results = grade_class(course, submitted, out, workers=2, limits=KernelLimits(cell_timeout=60),
                          progress=lambda line: None)
    by_student = {r.student: r for r in results}
    assert set(by_student) == students
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        # (grades.csv may quote a formula-like id for spreadsheets: '=cmd...)
        rows = {row["student_id"][1:] if row["student_id"].startswith("'=") else row["student_id"]: row
                for row in csv.DictReader(handle)}
    assert set(rows) == students

    only = rows["only_a_link"]
    assert float(only["score"]) == 0 and "no notebook submitted" in only["reason"]
    assert "'01_neuron.ipynb' (symbolic link)" in only["reason"]
    assert float(rows["honest_with_link"]["score"]) == 11, rows["honest_with_link"]["reason"]
    assert "'solution.ipynb' (symbolic link)" in rows["honest_with_link"]["reason"]
    assert "'data.csv' (symbolic link)" in rows["data_links_classmate"]["reason"]
    for student in [LONG_ID, CMD_ID, "odd_data_name"]:
        assert float(rows[student]["score"]) == 11, (student, rows[student]["reason"])

    assert (out / "feedback" / safe_name(LONG_ID) / "01_neuron" / "01_neuron.html").is_file()
    details = {d["student_id"]: d
               for d in json.loads((out / "details.json").read_text(encoding="utf-8"))["submissions"]}
    assert details[LONG_ID]["feedback_folder"] == f"feedback/{safe_name(LONG_ID)}/01_neuron"
    with GradebookWriter(out / "gradebook.db") as gradebook:
        assert {s.id for s in gradebook.gradebook.students} == students
        assert gradebook.score("01_neuron", "honest_with_link") == 11
    # The same command again grades nothing: every folder hashes the same, every record is found by safe name.
    lines: list[str] = []
    again = grade_class(course, submitted, out, workers=2, limits=KernelLimits(cell_timeout=60), progress=lines.append)
    assert any(line.startswith("6 submission(s) already graded") for line in lines), lines
    assert [(r.student, r.score, r.reason) for r in again] == [(r.student, r.score, r.reason) for r in results]
