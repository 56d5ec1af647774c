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


@pytest.fixture(scope="session")
def site(tmp_path_factory, course, worker_id) -> Path:
    """The course site, built once per test run: every lesson executed (the first error stops the
    build) and rendered. Shared by the xdist workers through a lock in their common temporary folder;
    COURSE_TEST_SITE=folder reuses a site built before."""
    import fcntl

    from autograder.site import build_site

    if os.environ.get("COURSE_TEST_SITE"):
        return Path(os.environ["COURSE_TEST_SITE"])
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    out = shared / "course-site"
    with open(shared / "course-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "index.html").is_file():
            build_site(course, out, progress=lambda line: None)
    return out


#: Modules whose tests share nothing costly (each runs its own notebook in its own kernel), so that xdist may
#: spread them over both workers one test at a time.
SPREAD_MODULES = {"test_kernels.py"}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep each test module on one worker, and make `--dist loadgroup` keep each xdist_group on one worker again.

    A module-scoped fixture is built once per worker that runs one of its module's tests: a catalogue's
    reference namespace (the solution notebook's code executed in-process, models trained), its trained models,
    a built wheel or zip. Spread over two workers, each was built twice. So every test without an xdist_group
    of its own joins its module's group, except in SPREAD_MODULES.

    pytest-xdist 3.8 tags a grouped test by assigning `item._nodeid`, which pytest 9.2 no longer
    reads (node ids live in `item._id`), so groups were spread over both workers and every
    module-scoped class (attacks, graded classes) was graded twice. Tag them the way xdist means to.
    """
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers under --dist loadgroup
        return
    for item in items:
        if item.path.name not in SPREAD_MODULES and not any(item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(f"module-{item.path.stem}"))
    try:
        from _pytest.nodeid import NodeId
    except ImportError:  # an older pytest, where xdist's own tagging works
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")
