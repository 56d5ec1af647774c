"""The attack suite: every attack scores 0 on the part it attacks, honest parts keep their points
where the kernel survives, other students are untouched, and the grader never crashes.

Each assignment's class is graded once, in the sandbox, with a short cell timeout. The table of
attack x outcome is printed and written to build/attack-report-<assignment>.txt.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import socket
import threading
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.demo import make_submission, reference_answers
from autograder.grading.execute import KernelLimits
from autograder.grading.runner import grade_class
from autograder.notebooks import graded_parts, nbgrader_meta, read_notebook

from ..conftest import ROOT
from .catalogue import ATTACKS

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("attacks")]


def attack_target(course: Course, assignment: str) -> tuple[str, str, str] | None:
    """(solution grade_id, function name, check name) of the first part whose check is named after its function.

    The first part, because later parts may call earlier functions (a broken earlier part then
    rightly costs them too)."""
    checks = course.checks(assignment)
    names = {c.name for c in checks.checks}
    targets = []
    for grade_id, code in reference_answers(course, assignment).items():
        for function in re.findall(r"^def (\w+)\(", code, re.M):
            if function in names:
                targets.append((grade_id, function, function))
    return targets[0] if targets else None


#: Three exercises with cheap NumPy notebooks, whose attacked first part no later part calls (05_backprop's
#: backward calls forward, so a broken forward rightly costs it; 06_optimizers has no part named after its
#: function): each class is about 20 sandboxed kernels. 03_feedforward replaced 04_losses, whose Keras cells made
#: its class take 157 s against 97-108 s for each of the others (junit of a full run, 2026-12-02).
ASSIGNMENTS = [a for a in Course(ROOT).assignments() if a in {"01_neuron", "02_activations", "03_feedforward"}]


class LoopbackListener:
    """A TCP server on 127.0.0.1 that records whether anything connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def attacked_class(request, course, tmp_path_factory):
    assignment = request.param
    target = attack_target(course, assignment)
    if target is None:
        pytest.fail(f"{assignment}: no part whose check is named after its function; attack another exercise")
    grade_id, function, check = target
    root = tmp_path_factory.mktemp(f"attacks-{assignment}")
    submitted, out = root / "submitted", root / "out"
    ref = reference_answers(course, assignment)
    module = course.checks(assignment).checks[0].__class__.__module__.rsplit(".", 1)[1]
    listener = LoopbackListener()
    students = {}
    nb_name = f"{assignment}.ipynb"
    make_submission(course, assignment, ref, submitted / "honest" / assignment / nb_name)
    for index, (attack, (code, _)) in enumerate(ATTACKS.items()):
        student = f"attack{index:02d}"
        students[student] = attack
        filled = code.format(name=function, check=check, module=module, root=course.root, out=out,
                             others=submitted, port=listener.port)
        make_submission(course, assignment, {**ref, grade_id: ref[grade_id] + "\n" + filled},
                        submitted / student / assignment / nb_name)
    tampered = make_submission(course, assignment, {**ref, grade_id: "def {0}(*a, **k):\n    return None".format(function)},
                               submitted / "tampered" / assignment / nb_name)
    nb = json.loads(tampered.read_text())
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 100
            cell["source"] = "print('✓ all public checks passed')"
    nb["cells"].append(json.loads(json.dumps(nb["cells"][-2])))
    tampered.write_text(json.dumps(nb))
    students["tampered"] = "edited metadata, edited and duplicated test cells"
    before = digest(submitted / "honest")
    results = grade_class(course, submitted, out, limits=KernelLimits(cell_timeout=40, notebook_timeout=300),
                          progress=lambda line: None)
    listener.close()
    rows = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open())}
    parts = graded_parts(read_notebook(course.source_notebook(assignment)))
    nb_src = read_notebook(course.source_notebook(assignment))
    order = [nbgrader_meta(c).get("grade_id") for c in nb_src.cells]
    test_after = [p for p in parts if order.index(p.grade_id) > order.index(grade_id)][0]
    context = dict(assignment=assignment, rows=rows, students=students, parts=parts, attacked=test_after,
                   listener=listener, honest_before=before, honest_after=digest(submitted / "honest"),
                   out=out, results=results)
    write_table(context)
    return context


def write_table(ctx):
    lines = [f"Attacks on {ctx['assignment']} (attacked part: {ctx['attacked'].grade_id})",
             f"{'attack':<40} {'attacked part':>13} {'other parts':>11}  reason"]
    for student, attack in ctx["students"].items():
        row = ctx["rows"][student]
        others = sum(float(row[p.grade_id]) for p in ctx["parts"] if p.grade_id != ctx["attacked"].grade_id)
        lines.append(f"{attack:<40} {row[ctx['attacked'].grade_id]:>13} {others:>11g}  {row['reason'][:70]}")
    table = "\n".join(lines)
    print("\n" + table)
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / f"attack-report-{ctx['assignment']}.txt").write_text(table + "\n")


def test_honest_student_scores_full_marks(attacked_class):
    row = attacked_class["rows"]["honest"]
    assert row["score"] == row["max_score"] and row["reason"] == "" and row["sandbox"] == "bwrap"


@pytest.mark.parametrize("attack", list(ATTACKS) + ["edited metadata, edited and duplicated test cells"])
def test_attack_scores_zero_on_its_part_and_keeps_honest_parts(attacked_class, attack):
    ctx = attacked_class
    student = next(s for s, a in ctx["students"].items() if a == attack)
    row = ctx["rows"][student]
    attacked = ctx["attacked"]
    assert float(row[attacked.grade_id]) == 0, f"{attack} earned points"
    assert not row["reason"].startswith("grader error"), f"{attack}: the grader's own code failed: {row['reason']}"
    survives = ATTACKS.get(attack, ("", True))[1]
    order = [p.grade_id for p in ctx["parts"]]
    lost_later = False
    for part in ctx["parts"]:
        if part.grade_id == attacked.grade_id:
            continue
        before = order.index(part.grade_id) < order.index(attacked.grade_id)
        lost = float(row[part.grade_id]) < part.points
        if survives == "own" and not before and lost:
            message = failed_parts(ctx, student).get(part.grade_id, "")
            assert message.strip(), f"{attack}: {part.grade_id} lost points without a message"
        elif survives or before:
            assert not lost, f"{attack} cost the honest part {part.grade_id}"
        lost_later |= not before and lost
    if survives is False or (survives is None and lost_later):
        assert row["reason"], f"{attack}: the row must say why grading stopped"


def failed_parts(ctx, student: str) -> dict[str, str]:
    """The feedback messages grade wrote for one student's lost parts (details.json)."""
    details = json.loads((ctx["out"] / "details.json").read_text())
    return next(s for s in details["submissions"] if s["student_id"] == student).get("failed_parts", {})


def test_tampering_is_named(attacked_class):
    assert "tampering" in attacked_class["rows"]["tampered"]["reason"]


def test_nothing_escaped_the_sandbox(attacked_class):
    ctx = attacked_class
    assert ctx["listener"].connections == 0
    assert ctx["honest_before"] == ctx["honest_after"]
    assert not (ROOT / "solutions" / "HACKED").exists()
    assert "HACKED" not in (ctx["out"] / "grades.csv").read_text()
    assert len(ctx["rows"]) == len(ctx["students"]) + 1
