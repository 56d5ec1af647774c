"""The student's view: JupyterLab in Chromium, an exercise run cell by cell, its check messages read from the page.

A real `jupyter lab` serves a scratch copy of exercises/01_neuron on a free loopback port with a token.
The untouched exercise shows a failure for every TODO part; a completed copy shows every check passed,
and nbgrader's Validate button (its lab and server extensions) agrees.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.demo import make_submission, reference_answers

from .conftest import BROWSER, PageLog

pytestmark = BROWSER

ASSIGNMENT = "01_neuron"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

#: JupyterLab settings for a predictable page: every cell rendered (no windowing), no news or update pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, course):
    """A `jupyter lab` on 127.0.0.1 serving a scratch folder: the untouched exercise and a completed copy."""
    root = tmp_path_factory.mktemp("lab")
    work = root / "course"
    shutil.copytree(course.exercises / ASSIGNMENT, work / "untouched")
    make_submission(course, ASSIGNMENT, reference_answers(course, ASSIGNMENT), work / "completed" / NOTEBOOK)
    settings = root / "settings"
    for name, value in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    port, token = _free_port(), "course-test-token"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "config"), "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
           "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1", "OMP_NUM_THREADS": "1"}
    jupyter = Path(sys.executable).parent / "jupyter"
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={root / 'workspaces'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("jupyter lab did not start:\n" + (root / "lab.log").read_text()[-3000:])
            time.sleep(0.5)
    try:
        yield {"base": base, "token": token, "root": work, "log": root / "lab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _test_cells(course) -> dict[str, int]:
    """{grade_id: index among the notebook's cells} of the graded check cells."""
    nb = json.loads((course.exercises / ASSIGNMENT / NOTEBOOK).read_text())
    return {c["metadata"]["nbgrader"]["grade_id"]: i for i, c in enumerate(nb["cells"])
            if c["metadata"].get("nbgrader", {}).get("grade")}


def _open(browser, lab, folder: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    log = PageLog(page)
    page.goto(f"{lab['base']}/lab/tree/{folder}/{NOTEBOOK}?reset&token={lab['token']}")  # reset: no tabs restored
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    # When the notebook opens before JupyterLab has its list of kernels, it asks which kernel to start
    # (a race in JupyterLab, more likely on a busy machine). Answer as a student would: the course's kernel.
    kernel_ready = """() => {
        const toolbar = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar');
        const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
        return toolbar && toolbar.innerText.includes('Python 3 (course)') && ind
            && ind.getAttribute('data-status') === 'idle';
    }"""
    page.wait_for_function(f"() => document.querySelector('.jp-Dialog') || ({kernel_ready})()", timeout=120_000)
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and "Select Kernel" in dialog.inner_text():
        dialog.locator("select").first.select_option(label="Python 3 (course)")
        dialog.get_by_role("button", name="Select", exact=True).click()
    page.wait_for_function(kernel_ready, timeout=120_000)
    _wait_idle(page, 120)
    return context, page, log


_IDLE = """() => {
    const ind = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
        .map(p => p.textContent);
    return ind && ind.getAttribute('data-status') === 'idle' && !prompts.some(t => t.includes('*'))
        && prompts.join('|');
}"""


def _wait_idle(page, timeout_s: float) -> None:
    """Wait until the kernel is idle and no cell is queued or running ("[*]"), and stays so for 2 s:
    JupyterLab sends the cells of a run one after another, so the kernel can be idle between two of them."""
    deadline = time.monotonic() + timeout_s
    while True:
        page.wait_for_function(_IDLE, timeout=max(1.0, deadline - time.monotonic()) * 1000, polling=250)
        first = page.evaluate(_IDLE)
        page.wait_for_timeout(2000)
        if first and page.evaluate(_IDLE) == first:
            return
        if time.monotonic() > deadline:
            raise AssertionError("the notebook did not settle: cells kept running")


def _menu(page, menu: str, command: str) -> None:
    # A menu command never navigates, so the click does not wait for navigations: on a loaded machine
    # Playwright's after-click wait ("waiting for scheduled navigations to finish") once outlasted 30 s.
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click(no_wait_after=True)
    page.locator(f"li.lm-Menu-item[data-command='{command}']").click(no_wait_after=True)


PROMPTS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt"


def _run(page, command: str) -> None:
    """Run a command from the Run menu and wait until a cell is queued or its prompt changes."""
    before = page.locator(PROMPTS).all_text_contents()
    for _ in range(3):
        _menu(page, "Run", command)
        try:
            page.wait_for_function("""([selector, before]) => {
                const now = [...document.querySelectorAll(selector)].map(p => p.textContent);
                return now.some(t => t.includes('*')) || now.join('|') !== before.join('|');
            }""", arg=[PROMPTS, before], timeout=15_000, polling=100)
            return
        except Exception:
            page.keyboard.press("Escape")  # the click landed before the app was ready: try again
    raise AssertionError(f"{command} started nothing; prompts: {before}")


def _run_everything(page, code_cells: int, timeout_s: float = 240) -> int:
    """Run All Cells; where a failing cell stops the run, select the next cell not run and run it and all below,
    as a student would. Returns how many runs that took."""
    _run(page, "runmenu:run-all")
    deadline = time.monotonic() + timeout_s
    runs = 1
    while True:
        _wait_idle(page, max(1, deadline - time.monotonic()))
        dialogs = page.locator(".jp-Dialog")
        assert not dialogs.count(), f"JupyterLab opened a dialog: {dialogs.first.inner_text()[:500]!r}"
        prompts = page.locator(PROMPTS).all_text_contents()
        assert len(prompts) == code_cells, prompts
        not_run = [i for i, text in enumerate(prompts) if re.search(r"\[\s*\]", text)]
        if not not_run:
            return runs
        assert runs <= code_cells, f"cells still not run after {runs} runs: {prompts}"
        page.locator(PROMPTS).nth(not_run[0]).click()
        _run(page, "notebook:run-all-below")
        runs += 1


def _outputs(page, indices: dict[str, int]) -> dict[str, str]:
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    return {gid: cells.nth(i).locator(".jp-OutputArea").inner_text() for gid, i in indices.items()}


def _shot(page, cell, path: Path) -> None:
    cell.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


def _run_exercise(browser, lab, course, folder: str):
    """Open `folder`'s copy of the exercise, run every cell as a student would, and read the check cells.

    Returns (context, page, log, runs, {grade_id: output text}, the first check cell's locator)."""
    indices = _test_cells(course)
    nb = json.loads((course.exercises / ASSIGNMENT / NOTEBOOK).read_text())
    code_cells = sum(c["cell_type"] == "code" for c in nb["cells"])
    context, page, log = _open(browser, lab, folder)
    runs = _run_everything(page, code_cells)
    first = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(min(indices.values()))
    return context, page, log, runs, _outputs(page, indices), first


def test_untouched_exercise_shows_a_failure_for_every_todo(browser, lab, course, screenshots):
    context, page, log, runs, outputs, first = _run_exercise(browser, lab, course, "untouched")
    try:
        assert runs > 1, "a TODO left as `raise NotImplementedError()` should stop Run All Cells"
        for gid, text in outputs.items():
            assert text.strip().startswith("✗") and "is not implemented yet" in text, f"{gid} shows: {text[:500]!r}"
            assert "✓" not in text
        _shot(page, first, screenshots / "lab-01_neuron-untouched.png")
        assert not [e for e in log.errors], log.errors
    finally:
        context.close()


def test_completed_exercise_passes_every_check_and_validate(browser, lab, course, screenshots):
    context, page, log, runs, outputs, first = _run_exercise(browser, lab, course, "completed")
    try:
        errors = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) [data-mime-type='application/vnd.jupyter.stderr']")
        assert runs == 1 and not errors.count(), (
            f"the completed exercise should run from top to bottom without an error ({runs} runs): "
            + " | ".join(errors.all_inner_texts())[:1500])
        for gid, text in outputs.items():
            assert text.strip().startswith("✓") and "passed" in text, f"{gid} shows: {text[:500]!r}"
            assert "Error" not in text
        _shot(page, first, screenshots / "lab-01_neuron-completed.png")

        # nbgrader's lab extension: the Validate button asks the server extension to run the notebook.
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        dialog.get_by_text(re.compile("Success|passes all the tests|failed|error", re.I)).first.wait_for(timeout=180_000)
        message = dialog.inner_text()
        page.screenshot(path=str(screenshots / "lab-01_neuron-validate.png"))
        assert "Success" in message and "passes all the tests" in message, message[:800]
        assert not log.errors, log.errors
    finally:
        context.close()
