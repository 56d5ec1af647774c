"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright. No browser is downloaded.

They skip, with the reason, only when Chromium or Playwright is missing; `make test` installs both
(`make system-deps` installs chromium with apt-get, requirements.txt pins playwright). With the CI
environment variable set, a missing browser fails them instead of skipping.
Screenshots go to build/screenshots/, which .gitignore lists through build/; `publish` copies one that
the README shows to docs/screenshots/ once its test has passed.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "build" / "screenshots"
#: The screenshots the README shows (checked in).
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"


def _missing() -> str:
    if not CHROMIUM.is_file():
        return (f"{CHROMIUM} is missing: install Debian's chromium and chromium-driver "
                "(`make system-deps` does it with apt-get)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed in this environment (`make install` installs requirements.txt)"
    return ""


MISSING = _missing()
#: CI installs chromium (`make test` -> system-deps): there a missing browser fails the tests instead.
SKIP = bool(MISSING) and not os.environ.get("CI")


#: Each browser test module sets `pytestmark = BROWSER`: one xdist worker, skipped with the reason above.
BROWSER = [pytest.mark.kernel, pytest.mark.xdist_group("browser"),
           pytest.mark.skipif(SKIP, reason=MISSING or "-")]


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def publish(shot: Path, name: str) -> Path:
    """Copy `shot` (taken under build/screenshots/) to docs/screenshots/NAME, where the README shows it.
    Call it after a test's last assertion, so that only a passing test replaces the published picture."""
    import shutil

    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(shot, DOCS_SCREENSHOTS / name))


@pytest.fixture(scope="session")
def browser():
    if MISSING:
        pytest.fail(f"the browser tests must run in CI: {MISSING}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # We may run as root: Playwright's default chromium_sandbox=False passes --no-sandbox.
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


class PageLog:
    """What a page printed to its console, the errors it raised and every request it made."""

    def __init__(self, page):
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.errors

