"""Shared fixtures. TensorFlow is imported at most once per test process."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from autograder.course import Course, venv_bin_on_path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
venv_bin_on_path()


@pytest.fixture(scope="session")
def course() -> Course:
    return Course(ROOT)
