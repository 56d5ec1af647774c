"""The instructor's view: nbgrader's formgrader in Chromium, on a course directory our `grade` graded.

The course is tests/test_manual_cells.py's: 01_neuron with one manually graded written answer
(`analysis`, 2 points), built by its `build_course`, with two students added by `nbgrader db student
add` (with names). Alice answers everything; Bob leaves out the bias and leaves the analysis as released.
`python -m autograder grade COURSE_DIR` grades them into the course's own gradebook. Then a
`jupyter server` started in the course directory, as an instructor starts it, serves formgrader (an
nbgrader server extension) on a free loopback port with a token. Chromium walks formgrader's pages
(Manage Assignments -> Manual Grading -> the assignment -> the notebook -> the submissions) and finds
both students with our scores and Alice's analysis waiting for a manual grade; on Alice's
manual-grading page it gives the analysis 1.5 points and a comment, and the gradebook, a second
`grade` run made while formgrader stays open, and formgrader's own pages all keep them.

The manual-grading page loads MathJax 2.7.7 from cdnjs (nbgrader's template hard-codes the URL, and
formgrader's script fails with "MathJax is not defined" without it). There is no network here, so
the test answers those requests with jupyter-server-mathjax's copy of MathJax 2.7 (as cdnjs's
`latest.js` does, it loads `MathJax.js` with the same query) and aborts every other request that
would leave 127.0.0.1.
"""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from autograder.demo import edited
from autograder.notebooks import nbgrader_meta

from ..nbgrader_commands import nbgrader, run_steps
from ..test_manual_cells import ALICE_ANSWER, ANALYSIS, build_course, submit
from .conftest import BROWSER, ROOT, PageLog, publish
from .test_lab import _free_port

pytestmark = BROWSER

ASSIGNMENT = NOTEBOOK = "01_neuron"
COURSE_ID = "keras101"  # build_course's
#: {student id: (first name, last name)}
STUDENTS = {"alice": ("Alice", "Liddell"), "bob": ("Bob", "Brown")}
COMMENT = "Right idea: say why no single line separates the XOR classes."
WAIT_MS = 60_000
MATHJAX_CDN = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/"


def _name(student: str) -> str:
    first, last = STUDENTS[student]
    return f"{last}, {first}"  # as formgrader shows a student with both names


def _grade(root: Path, timeout: int) -> subprocess.CompletedProcess:
    """`python -m autograder grade COURSE_DIR`, as the README's instructor path runs it."""
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(root), "--workers", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


def _grades_csv(root: Path) -> dict[str, dict[str, str]]:
    with (root / "graded" / "grades.csv").open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def _gradebook(root: Path) -> dict[str, dict]:
    """What the course's gradebook holds, per student: the notebook's scores and the analysis cell's grade."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", COURSE_ID) as gb:
        out = {}
        for student in STUDENTS:
            nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            grade = gb.find_grade(ANALYSIS, NOTEBOOK, ASSIGNMENT, student)
            out[student] = {"score": nb.score, "max_score": nb.max_score, "code_score": nb.code_score,
                            "written_score": nb.written_score, "needs_manual_grade": nb.needs_manual_grade,
                            "failed_tests": nb.failed_tests, "analysis": (grade.manual_score, grade.needs_manual_grade),
                            "comment": gb.find_comment(ANALYSIS, NOTEBOOK, ASSIGNMENT, student).manual_comment}
        return out


def _mathjax_from_local_copy(context) -> None:
    """Answer formgrader's requests for cdnjs's MathJax 2.7.7 with jupyter-server-mathjax's MathJax 2.7,
    which has the HTML-CSS output with STIX web fonts only (the course site's settings)."""
    import jupyter_server_mathjax

    from autograder.site import MATHJAX_SETTINGS

    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    #: the CommonHTML configuration is not shipped: the HTML-CSS one stands in
    renamed = {"config/TeX-AMS_CHTML-full.js": "config/TeX-AMS-MML_HTMLorMML-full.js"}

    def answer(route):
        path, _, query = route.request.url[len(MATHJAX_CDN):].partition("?")
        if path == "latest.js":
            body = (f"window.MathJax = {MATHJAX_SETTINGS};\n"
                    "var s = document.createElement('script');\n"
                    f"s.src = {json.dumps(MATHJAX_CDN + 'MathJax.js?' + query)};\ndocument.head.appendChild(s);\n")
            return route.fulfill(status=200, content_type="text/javascript", body=body)
        local = static / renamed.get(path, path)
        if local.is_file() and static.resolve() in local.resolve().parents:
            return route.fulfill(status=200, path=str(local))
        return route.fulfill(status=404, body="")

    context.route(lambda url: url.startswith(MATHJAX_CDN), answer)


def _points(value: float) -> str:
    """A score as formgrader writes it (`roundToPrecision(x, 2)` in JavaScript): 11, 12.5, 0.33."""
    return f"{round(float(value), 2):g}"


@pytest.fixture(scope="module")
def graded_course(course, tmp_path_factory):
    """The course directory, generated, submitted and graded by our `grade`."""
    tmp = tmp_path_factory.mktemp("formgrader")
    root = tmp / "course"
    build_course(course, root)
    run_steps([nbgrader("db", "student", "add", s, f"--first-name={first}", f"--last-name={last}", cwd=root)
               for s, (first, last) in STUDENTS.items()] + [nbgrader("generate_assignment", ASSIGNMENT, cwd=root)], tmp)
    submit(course, root, "alice", ALICE_ANSWER)
    submit(course, root, "bob", None)
    path = root / "submitted" / "bob" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    (cell,) = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "neuron_forward"]
    cell.source = edited(cell.source, "z = X @ w + b", "z = X @ w")
    nbformat.write(nb, path)
    _grade(root, timeout=900)
    return root, tmp


@pytest.fixture(scope="module")
def formgrader(graded_course):
    """`jupyter server` run in the course directory (its root), as an instructor runs it for formgrader."""
    root, tmp = graded_course
    port, token = _free_port(), "formgrader-test-token"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime")}
    log_path = tmp / "formgrader.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "server", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:  # the server, with the formgrader extension loaded
                urllib.request.urlopen(f"{base}/formgrader/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("formgrader (jupyter server) did not start:\n" + log_path.read_text()[-3000:])
                time.sleep(0.5)
        yield {"base": base, "port": port, "token": token, "root": root, "tmp": tmp, "log": log_path}
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the server and anything it started
                proc.wait(timeout=20)
        log.close()


def _wait_loaded(page, server, what: str) -> None:
    """Wait until the page's table has its rows from formgrader's API (`models.loaded`)."""
    try:
        page.wait_for_function("() => window.models && window.models.loaded === true", timeout=WAIT_MS)
    except Exception as exc:
        raise AssertionError(f"formgrader's {what} page never loaded its table ({exc}); server log:\n"
                             + server["log"].read_text()[-3000:]) from None


_ROWS = """() => [...document.querySelectorAll('#main-table > tr')].map(tr => {
    const cells = {};
    for (const td of tr.querySelectorAll('td')) {
        const kind = [...td.classList].find(c => !c.startsWith('text-') && !c.startsWith('sorting'));
        cells[kind] = {text: td.innerText.trim(), ok: !!td.querySelector('.glyphicon-ok'),
                       href: (td.querySelector('a.name-shown') || td.querySelector('a') || {}).href || null};
    }
    return cells;
})"""


def _rows(page) -> list[dict]:
    return page.evaluate(_ROWS)


def _submissions(page) -> dict[str, dict]:
    """The notebook's submissions table, by the student's name (after "Show All Names")."""
    if page.locator("#toggle_names").inner_text().strip() == "Show All Names":
        page.locator("#toggle_names").click()
    page.wait_for_function("() => document.querySelector('#toggle_names').innerText.trim() === 'Hide All Names'",
                           timeout=WAIT_MS)
    return {r["name"]["text"]: r for r in _rows(page)}


def _shot_table(page, path: Path) -> None:
    """A screenshot of formgrader's page down to the end of its table (the rest is blank)."""
    box = page.locator("#main-table").bounding_box()
    viewport = page.viewport_size
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": viewport["width"],
                                          "height": min(viewport["height"], box["y"] + box["height"] + 40)})


def test_formgrader_shows_our_grades_and_keeps_a_manual_grade(browser, formgrader, screenshots):
    root, base, token = formgrader["root"], formgrader["base"], formgrader["token"]
    ours, book = _grades_csv(root), _gradebook(root)
    # what `grade` left: our scores in the course gradebook; Alice's analysis waits for a person
    assert {s: (r["score"], r["max_score"]) for s, r in ours.items()} == {"alice": ("11", "13"), "bob": ("8", "13")}
    assert (ours["alice"][ANALYSIS], ours["bob"][ANALYSIS]) == ("awaiting manual grading", "0")
    assert {s: (b["score"], b["needs_manual_grade"], b["failed_tests"]) for s, b in book.items()} == \
        {"alice": (11, True, False), "bob": (8, False, True)}

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    loopback = f"http://127.0.0.1:{formgrader['port']}/"
    context.route(lambda url: not url.startswith((loopback, MATHJAX_CDN)), lambda route: route.abort())  # no network
    _mathjax_from_local_copy(context)
    page = context.new_page()
    log = PageLog(page)
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    shots = {}
    try:
        # The instructor opens /formgrader (logged in by the token) and lands on Manage Assignments.
        page.goto(f"{base}/formgrader?token={token}")
        page.wait_for_url(re.compile(r"/formgrader/manage_assignments/?$"))
        _wait_loaded(page, formgrader, "Manage Assignments")
        assert ASSIGNMENT in page.locator("#main-table").inner_text()

        # Manual Grading (the gradebook): the assignment, its two submissions and their average.
        page.locator(".nav-pills a", has_text="Manual Grading").click()
        page.wait_for_url(re.compile(r"/formgrader/gradebook/?$"))
        _wait_loaded(page, formgrader, "gradebook")
        (assignment,) = _rows(page)
        average = (book["alice"]["score"] + book["bob"]["score"]) / 2
        assert (assignment["name"]["text"], assignment["num-submissions"]["text"], assignment["score"]["text"]) == \
            (ASSIGNMENT, "2", f"{_points(average)} / {_points(book['alice']['max_score'])}")

        # The assignment's notebooks: 01_neuron, marked as needing manual grading.
        page.locator("#main-table td.name a", has_text=ASSIGNMENT).click()
        page.wait_for_url(re.compile(rf"/formgrader/gradebook/{ASSIGNMENT}/?$"))
        _wait_loaded(page, formgrader, "assignment")
        (notebook,) = _rows(page)
        assert notebook["name"]["text"] == NOTEBOOK and notebook["needs-manual-grade"]["ok"]
        assert notebook["avg-score"]["text"] == f"{_points(average)} / 13"

        # The notebook's submissions: both students, with our scores, Alice's needing a manual grade.
        page.locator("#main-table td.name a", has_text=NOTEBOOK).click()
        page.wait_for_url(re.compile(rf"/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}/?$"))
        _wait_loaded(page, formgrader, "submissions")
        rows = _submissions(page)
        assert sorted(rows) == sorted(_name(s) for s in STUDENTS), rows
        for student in STUDENTS:
            row, csv_row, gb = rows[_name(student)], ours[student], book[student]
            assert row["score"]["text"] == f"{_points(csv_row['score'])} / {_points(csv_row['max_score'])}", row
            assert row["code-score"]["text"] == f"{_points(gb['code_score'])} / 11", row
            assert row["written-score"]["text"] == "0 / 2", row
            assert row["needs-manual-grade"]["ok"] == (student == "alice"), row
            assert row["tests-failed"]["ok"] == (student == "bob"), row
        shots["gradebook"] = screenshots / "formgrader-gradebook.png"
        _shot_table(page, shots["gradebook"])

        # Alice's manual-grading page: her answer, its score box flagged, the autograded parts' scores.
        page.locator("#main-table a.name-shown", has_text=_name("alice")).click()
        page.wait_for_url(re.compile(r"/formgrader/submissions/[0-9a-f]+/?$"))
        page.wait_for_function("() => window.formgrader && formgrader.loaded && formgrader.grades.loaded"
                               " && formgrader.comments.loaded && window.MathJax && MathJax.loaded === true",
                               timeout=WAIT_MS)
        box = page.locator(f"input.score#{ANALYSIS}")
        answer = box.locator("xpath=ancestor::div[contains(@class, 'nbgrader_cell')]")
        assert ALICE_ANSWER in answer.inner_text()
        assert "needs_manual_grade" in box.get_attribute("class") and box.input_value() == ""
        assert page.locator("input.score#neuron_forward_test").get_attribute("placeholder") == "3"

        # The instructor types 1.5 and a comment; formgrader saves each when its box loses focus.
        with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT") as saved:
            box.fill("1.5")
            box.blur()
        assert saved.value.ok, saved.value.status
        comment = page.locator(f"textarea#{ANALYSIS}-comment")
        with page.expect_response(lambda r: "/formgrader/api/comment/" in r.url and r.request.method == "PUT") as saved:
            comment.fill(COMMENT)
            comment.blur()
        assert saved.value.ok, saved.value.status
        page.wait_for_function(f"() => !document.querySelector('input.score#{ANALYSIS}')"
                               ".classList.contains('needs_manual_grade')", timeout=WAIT_MS)
        answer.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -120)")  # below formgrader's fixed navigation bar
        page.wait_for_timeout(1500)  # formgrader's "saved" tick fades out
        shots["manual"] = screenshots / "formgrader-manual-grading.png"
        page.screenshot(path=str(shots["manual"]))

        # The gradebook holds the manual grade ...
        book = _gradebook(root)
        assert book["alice"]["analysis"] == (1.5, False) and book["alice"]["comment"] == COMMENT
        assert (book["alice"]["score"], book["alice"]["needs_manual_grade"]) == (12.5, False)

        # ... and keeps it through our next `grade` run, made while formgrader stays open.
        _grade(root, timeout=600)
        ours, book = _grades_csv(root), _gradebook(root)
        assert (ours["alice"][ANALYSIS], ours["alice"]["score"], ours["bob"]["score"]) == ("1.5", "12.5", "8")
        assert book["alice"]["analysis"] == (1.5, False) and book["alice"]["comment"] == COMMENT
        page.goto(f"{base}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
        _wait_loaded(page, formgrader, "submissions")
        rows = _submissions(page)
        alice, bob = rows[_name("alice")], rows[_name("bob")]
        assert (alice["score"]["text"], alice["written-score"]["text"], alice["needs-manual-grade"]["ok"]) == \
            ("12.5 / 13", "1.5 / 2", False)
        assert bob["score"]["text"] == "8 / 13"
        _shot_table(page, screenshots / "formgrader-gradebook-after-manual-grade.png")

        # Manage Students lists both, with their totals.
        page.goto(f"{base}/formgrader/manage_students")
        _wait_loaded(page, formgrader, "Manage Students")
        students = {r["id"]["text"]: (r["name"]["text"], r["score"]["text"]) for r in _rows(page)}
        assert students == {"alice": (_name("alice"), "12.5 / 13"), "bob": (_name("bob"), "8 / 13")}

        # No script error and nothing of formgrader's failed; nothing else asked for the network.
        assert not log.errors, log.errors
        assert not [b for b in bad if not b.split(" ", 1)[1].startswith(MATHJAX_CDN)], bad
        outside = {u for u in log.requests if not u.startswith((loopback, MATHJAX_CDN))}
        assert not outside, outside
    finally:
        context.close()
    for key, name in (("gradebook", "formgrader-gradebook.png"), ("manual", "formgrader-manual-grading.png")):
        publish(shots[key], name)
