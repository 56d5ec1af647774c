"""One notebook run with this grading run's inputs: the step a submission and a reference share.

The kernel gets a copy of one folder's data files and the grader's inputs file (without the
grader-only keys). When the sandbox is warm, the kernel is forked from this worker's zygote,
which has imported TensorFlow already; otherwise it starts afresh, sandboxed unless `sandbox`
is None (the reference solution outside the pool, or --unsafe-no-sandbox).
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from dataclasses import replace
from pathlib import Path

import nbformat

from ..checks.core import INPUTS_ENV
from .execute import ExecutedNotebook, KernelLimits, SandboxSpec, execute, kernel_environment
from .zygote import zygote_for


def not_data_files(folder: str, names: list[str]) -> set[str]:
    """What the kernel's copy leaves out: notebooks, hidden entries, and anything that is not a
    regular file or folder (symbolic links, pipes, devices are never followed or opened)."""
    left_out = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            left_out.add(name)
            continue
        if name.startswith(".") or name.endswith(".ipynb") or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            left_out.add(name)
    return left_out


def run_with_inputs(nb: nbformat.NotebookNode, files_from: Path, inputs_json: str, course_root: Path,
                    limits: KernelLimits, sandbox: SandboxSpec | None) -> ExecutedNotebook:
    """Execute `nb` with `files_from`'s data files in its working folder and `inputs_json` as its inputs."""
    env = kernel_environment(None, course_root, limits.threads)
    zygote = zygote_for(sandbox, env, limits.startup_timeout) if sandbox is not None and sandbox.warm else None
    with tempfile.TemporaryDirectory(prefix="autograder-run-") as tmp:
        workdir, inputs_dir = (zygote.files, zygote.inputs) if zygote else (Path(tmp) / "work", Path(tmp) / "inputs")
        shutil.copytree(files_from, workdir, ignore=not_data_files, dirs_exist_ok=True)
        inputs_dir.mkdir(exist_ok=True)
        inputs_file = inputs_dir / "inputs.json"
        inputs_file.write_text(inputs_json, encoding="utf-8")
        if sandbox is not None and zygote is None:
            sandbox = replace(sandbox, readonly=(*sandbox.readonly, inputs_dir))
        # The inputs file is not part of the zygote's key: one zygote serves every assignment.
        return execute(nb, workdir=workdir, env={**env, INPUTS_ENV: str(inputs_file)}, limits=limits,
                       sandbox=sandbox, zygote=zygote)
