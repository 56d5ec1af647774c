"""The seccomp filter's file: one per user and filter, reused by every grading process, never trusted blindly."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograder.grading import seccomp

pytestmark = pytest.mark.skipif(seccomp.filter_program() is None, reason="no seccomp filter for this machine")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(seccomp.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(seccomp, "_WRITTEN", {})
    return tmp_path


def test_every_process_reuses_one_file_and_leaves_nothing_else(private_tmp):
    first = seccomp.filter_file()
    assert first.parent == private_tmp and first.read_bytes() == seccomp.filter_program()
    assert not os.stat(first).st_mode & 0o222
    code = ("import tempfile, sys; tempfile.tempdir = sys.argv[1]; "
            "from autograder.grading.seccomp import filter_file; print(filter_file())")
    for _ in range(2):  # two more grading processes
        out = subprocess.run([sys.executable, "-c", code, str(private_tmp)], capture_output=True, text=True,
                             check=True).stdout.strip()
        assert out == str(first)
    assert [p.name for p in private_tmp.iterdir()] == [first.name]


@pytest.mark.parametrize("spoil", ["content", "writable", "symlink"])
def test_a_spoiled_file_is_replaced_not_used(private_tmp, spoil):
    path = seccomp.filter_file()
    seccomp._WRITTEN.clear()
    decoy = private_tmp / "decoy.bpf"
    decoy.write_bytes(b"\x06\x00\x00\x00\x00\x00\xff\x7f")  # a filter that allows everything
    if spoil == "content":
        os.chmod(path, 0o644)
        path.write_bytes(decoy.read_bytes())
        os.chmod(path, 0o444)
    elif spoil == "writable":
        os.chmod(path, 0o666)
    else:
        path.unlink()
        path.symlink_to(decoy)
    again = seccomp.filter_file()
    assert again == path and not again.is_symlink()
    assert again.read_bytes() == seccomp.filter_program() and not os.stat(again).st_mode & 0o222
    assert decoy.read_bytes() == b"\x06\x00\x00\x00\x00\x00\xff\x7f"  # the link's target was not written through
