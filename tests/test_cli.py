"""The command line: usage errors are one clear line and exit code 2; good runs exit 0."""
from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_generate_check_passes():
    result = run("generate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


def test_tidy_check_passes():
    result = run("tidy", "--check")
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("args,needle", [
    (("grade", "no/such/folder", "--out", "x"), "submissions folder not found"),
    (("validate", "no/such.ipynb"), "notebook not found"),
])
def test_usage_errors_are_one_line_with_exit_code_2(tmp_path, args, needle):
    result = run(*[a if a != "x" else str(tmp_path / "out") for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_empty_submissions_folder_is_a_usage_error(tmp_path):
    (tmp_path / "submitted").mkdir()
    result = run("grade", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no submissions" in result.stderr


def test_unknown_assignment_gets_a_row_not_a_crash(tmp_path):
    folder = tmp_path / "submitted" / "zoe" / "99_nothing"
    folder.mkdir(parents=True)
    (folder / "99_nothing.ipynb").write_text("{}")
    result = run("grade", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert rows[1].startswith("zoe,99_nothing,0,0,") and "unknown assignment" in rows[1]


def test_malformed_notebook_is_a_one_line_error_for_validate(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{ nope")
    result = run("validate", str(bad))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "not a valid notebook" in result.stderr
