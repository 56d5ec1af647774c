"""Integrity II: no student reaches another student, the grader, or a point they did not earn.

One class of 01_neuron mixes attackers (integrity_catalogue.py) with probes: honest students who,
before their first answer is checked, look for anything an earlier kernel left behind and break
their own answer if they find it. Every attacker is followed by a probe, and the class is graded
on 2 workers twice: on warm kernels (forked from one zygote per worker, the default) and on fresh
ones. The class also holds submissions that are hostile as data: a symlinked notebook, a data file
linked to a classmate's notebook, a lone surrogate in a markdown cell, a non-UTF-8 file name,
student ids of 245 characters and starting with "=", and markdown and outputs with active content.

The assertions: every honest student keeps full marks; every attacker earns 0 on what it attacks;
every row is present and grading returns normally; the reason names what happened.
"""
from __future__ import annotations

import csv
import json
import os
import sysconfig
import threading
from pathlib import Path

import pytest

from autograder.checks.core import REPORT_MIME
from autograder.demo import make_submission, reference_answers
from autograder.grading.execute import KernelLimits
from autograder.grading.runner import grade_class
from autograder.grading.seccomp import denied_syscalls
from autograder.notebooks import graded_parts, read_notebook

from ..conftest import ROOT
from .integrity_catalogue import ATTACKS, FORGED_VARIANTS, PLANTED_NAME, PROBE

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("integrity")]

ASSIGNMENT = "01_neuron"
TARGET = "neuron_forward"
LONG_ID = "s" * 245
FORMULA_ID = "=HYPERLINK(\"evil\")+1"


def plant_targets() -> list[str]:
    """Places a planted module would be imported from, or bwrap made as mount parents."""
    places = {"/", str(ROOT), str(ROOT.parent), str(ROOT.parent.parent), "/usr", "/tmp", "/home",
              sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"]}
    return sorted(places)


def fill(code: str) -> str:
    numbers = denied_syscalls()
    return code.format(targets=repr(plant_targets()), planted=PLANTED_NAME, mime=REPORT_MIME,
                       add_key=numbers.get("add_key", 248), keyctl=numbers.get("keyctl", 250),
                       forged_results="None", forged_public="None")


def forged(variant: str) -> str:
    results, public = FORGED_VARIANTS[variant]
    from .integrity_catalogue import FORGED_REPORT
    return FORGED_REPORT.format(mime=REPORT_MIME, forged_results=results, forged_public=public)


def hostile_data_submissions(course, submitted: Path, ref: dict, nb_name: str) -> dict[str, str]:
    """Submissions that are hostile as data rather than code; {student: what it tries}."""
    solution = course.source_notebook(ASSIGNMENT)
    students = {}
    # The notebook itself is a link to the solution notebook.
    linked = submitted / "d00_linked_notebook" / ASSIGNMENT
    linked.mkdir(parents=True)
    os.symlink(solution, linked / nb_name)
    students["d00_linked_notebook"] = "the notebook is a symbolic link to the solution"
    # An honest notebook next to a data file linked to a classmate's notebook, and a linked folder.
    honest_links = make_submission(course, ASSIGNMENT, ref, submitted / "d01_links_beside" / ASSIGNMENT / nb_name)
    os.symlink(submitted / "p00_probe" / ASSIGNMENT / nb_name, honest_links.parent / "classmate.csv")
    os.symlink(solution.parent, honest_links.parent / "solutions")
    students["d01_links_beside"] = "honest, with links to a classmate and to solutions/ beside it"
    # A lone surrogate in a markdown cell, and a file whose name is not UTF-8.
    odd = make_submission(course, ASSIGNMENT, ref, submitted / "d02_odd_text" / ASSIGNMENT / nb_name)
    nb = json.loads(odd.read_text())
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": "bad \ud800 text"})
    odd.write_text(json.dumps(nb), encoding="utf-8")  # json.dumps escapes it as \ud800
    fd = os.open(os.fsencode(odd.parent) + b"/data-\xff\xfe.csv", os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"1,2\n")
    os.close(fd)
    students["d02_odd_text"] = "honest, a lone surrogate in markdown and a non-UTF-8 file name"
    # Active content in the student's own markdown and outputs, and hostile ids.
    active = make_submission(course, ASSIGNMENT, ref, submitted / FORMULA_ID / ASSIGNMENT / nb_name)
    nb = json.loads(active.read_text())
    nb["cells"].insert(1, {"cell_type": "markdown", "metadata": {},
                           "source": "<script>window.__pwned=1</script><img src=x onerror='window.__pwned=1'>"})
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"text/html": "<script>window.__pwned=1</script>",
                                         "application/javascript": "window.__pwned=1"}}]
            break
    active.write_text(json.dumps(nb))
    students[FORMULA_ID] = "honest, an id that is a formula, active content in markdown and outputs"
    make_submission(course, ASSIGNMENT, ref, submitted / LONG_ID / ASSIGNMENT / nb_name)
    students[LONG_ID] = "honest, a 245-character id"
    return students


@pytest.fixture(scope="module")
def hostile_class(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("integrity")
    submitted = root / "submitted"
    ref = reference_answers(course, ASSIGNMENT)
    nb_name = f"{ASSIGNMENT}.ipynb"
    probe = fill(PROBE)
    attacks = {name: (fill(code) if name not in FORGED_VARIANTS else forged(name), survives)
               for name, (code, survives) in ATTACKS.items()}
    students: dict[str, str] = {}
    for index, (name, (code, _)) in enumerate(attacks.items()):
        attacker, prober = f"a{index:02d}", f"p{index:02d}_probe"
        make_submission(course, ASSIGNMENT, {**ref, TARGET: ref[TARGET] + "\n" + code},
                        submitted / attacker / ASSIGNMENT / nb_name)
        make_submission(course, ASSIGNMENT, {**ref, TARGET: ref[TARGET] + "\n" + probe},
                        submitted / prober / ASSIGNMENT / nb_name)
        students[attacker], students[prober] = name, "probe"
    students.update(hostile_data_submissions(course, submitted, ref, nb_name))
    graded = {}
    for kind in ("warm", "fresh"):
        out = root / f"out-{kind}"
        results = grade_class(course, submitted, out, workers=2, warm_kernels=kind == "warm",
                              limits=KernelLimits(cell_timeout=60, notebook_timeout=300), progress=lambda line: None)
        rows = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
        graded[kind] = dict(results=results, rows=rows, out=out)
    parts = graded_parts(read_notebook(course.source_notebook(ASSIGNMENT)))
    ctx = dict(students=students, graded=graded, parts=parts, attacks=attacks)
    write_table(ctx)
    return ctx


def write_table(ctx) -> None:
    """build/attack-report-integrity.txt: each student's scores on warm and fresh kernels, and reasons."""
    lines = [f"Integrity II attacks on {ASSIGNMENT} (attacked part: {ctx['parts'][0].grade_id})",
             f"{'student':<14} {'what':<62} {'warm':>5} {'fresh':>5}  reason (warm)"]
    for student, what in ctx["students"].items():
        warm, fresh = row_of(ctx, "warm", student), row_of(ctx, "fresh", student)
        lines.append(f"{student[:14]:<14} {what[:62]:<62} {warm['score'] if warm else '-':>5} "
                     f"{fresh['score'] if fresh else '-':>5}  {(warm or {}).get('reason', '')[:90]}")
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "attack-report-integrity.txt").write_text("\n".join(lines) + "\n")


KINDS = ("warm", "fresh")


def row_of(ctx, kind, student):
    rows = ctx["graded"][kind]["rows"]
    # grades.csv neutralises ids that would start a formula (a leading quote).
    return rows.get(student) or rows.get("'" + student)


@pytest.mark.parametrize("kind", KINDS)
def test_every_row_is_present(hostile_class, kind):
    ctx = hostile_class
    ids = {r.student for r in ctx["graded"][kind]["results"]}
    assert ids == set(ctx["students"]), set(ctx["students"]) ^ ids
    assert len(ctx["graded"][kind]["rows"]) == len(ctx["students"])
    assert (ctx["graded"][kind]["out"] / "gradebook.db").is_file()


@pytest.mark.parametrize("kind", KINDS)
def test_every_honest_student_keeps_full_marks(hostile_class, kind):
    ctx = hostile_class
    honest = [s for s, what in ctx["students"].items() if what == "probe" or what.startswith("honest")]
    assert len(honest) >= len(ATTACKS) + 3
    for student in honest:
        row = row_of(ctx, kind, student)
        assert row["score"] == row["max_score"], (student, ctx["students"][student], row)
        assert "CONTAMINATED" not in row["reason"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attack", list(ATTACKS))
def test_every_attacker_earns_nothing_on_its_part(hostile_class, kind, attack):
    ctx = hostile_class
    student = next(s for s, what in ctx["students"].items() if what == attack)
    row = row_of(ctx, kind, student)
    first = ctx["parts"][0]
    assert float(row[first.grade_id]) == 0, f"{attack} earned {row[first.grade_id]} on {first.grade_id}"
    survives = ATTACKS[attack][1]
    if survives:
        for part in ctx["parts"][1:]:
            assert float(row[part.grade_id]) == part.points, f"{attack} cost its own honest part {part.grade_id}"
    if survives is None:
        assert row["reason"], f"{attack}: the row must say what happened"


@pytest.mark.parametrize("kind", KINDS)
def test_floods_are_counted_and_named(hostile_class, kind):
    ctx = hostile_class
    for attack, needle in (("flood the output with reports under 4 MB", "output beyond"),
                           ("flood the output with a 40 MB error", "output beyond"),
                           ("fill the socket folder past 600 MB", "socket folder")):
        student = next(s for s, what in ctx["students"].items() if what == attack)
        assert needle in row_of(ctx, kind, student)["reason"], (attack, row_of(ctx, kind, student)["reason"])
    details = json.loads((ctx["graded"][kind]["out"] / "details.json").read_text())
    for submission in details["submissions"]:
        assert all(len(text) <= 2000 for text in submission["failed_parts"].values())


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_data_is_named_not_followed(hostile_class, kind):
    ctx = hostile_class
    linked = row_of(ctx, kind, "d00_linked_notebook")
    assert float(linked["score"]) == 0 and "link" in linked["reason"], linked
    beside = row_of(ctx, kind, "d01_links_beside")
    assert "link" in beside["reason"], beside
    odd = row_of(ctx, kind, "d02_odd_text")
    assert odd["score"] == odd["max_score"], odd


@pytest.mark.parametrize("kind", KINDS)
def test_feedback_of_hostile_ids_is_written_and_inert(hostile_class, kind):
    ctx = hostile_class
    feedback = ctx["graded"][kind]["out"] / "feedback"
    pages = list(feedback.rglob("*.html"))
    assert len(pages) >= len(ctx["students"]) - 1  # the linked notebook has no notebook to render
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "window.__pwned" not in text or "<script>window.__pwned" not in text
        assert "onerror=" not in text.replace("&#39;", "'").lower() or "<img" not in text.lower()
    with (ctx["graded"][kind]["out"] / "grades.csv").open(encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_injection_feedback_runs_nothing_in_chromium(hostile_class):
    """The feedback page graded for the student with active content, opened in Debian's Chromium."""
    from ..browser.conftest import CHROMIUM, MISSING, SKIP
    from ..browser.test_feedback_injection import visit, what_ran

    if SKIP:
        pytest.skip(MISSING)
    assert not MISSING, f"the browser check must run in CI: {MISSING}"
    from playwright.sync_api import sync_playwright

    pages = [p for kind in KINDS for p in (hostile_class["graded"][kind]["out"] / "feedback").rglob("*.html")
             if "HYPERLINK" in p.read_text(encoding="utf-8")]
    assert len(pages) == 2, pages
    found: dict = {}

    def open_pages():  # in a thread of its own: Playwright's sync API refuses a thread with a running loop
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
                try:
                    for page in pages:
                        found[page] = visit(browser, page.as_uri())
                finally:
                    browser.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            found["error"] = exc

    worker = threading.Thread(target=open_pages)
    worker.start()
    worker.join(180)
    assert "error" not in found, found.get("error")
    assert len(found) == len(pages)
    for page, (seen, facts) in found.items():
        assert what_ran(seen, facts, page.as_uri()) == [], page
        assert "HYPERLINK" in facts["text"] and "neuron_forward" in facts["text"]
