"""Warm kernels: forked from a sandboxed zygote, they must be as isolated as fresh ones.

One zygote grades many submissions in turn, so these attacks aim at the *next* student: files
planted where a kernel reads them at start, a daemon left running, System V objects, and the
zygote itself (ptrace, its memory and file descriptors, signals). Each kernel runs through
`execute`, the way grading runs it, and reports what it could see or do in its outputs.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder.demo import make_submission, reference_answers
from autograder.grading import zygote as zygote_module
from autograder.grading.execute import execute, kernel_environment
from autograder.grading.reference import build_reference
from autograder.grading.runner import make_sandbox
from autograder.grading.submission import grade_submission

pytestmark = [pytest.mark.kernel, pytest.mark.xdist_group("warm_kernels")]


@pytest.fixture(scope="module")
def sandbox(course):
    return make_sandbox(course, unsafe=False)


@pytest.fixture(scope="module")
def env(course):
    return kernel_environment(None, course.root, 1)


@pytest.fixture
def zygote(sandbox, env):
    found = zygote_module.zygote_for(sandbox, env)
    assert found is not None, f"the zygote did not start: {zygote_module._FAILED}"
    return found


def run_cells(zygote, sandbox, env, *sources: str) -> list[str]:
    """Run code cells in one forked kernel; the stdout of each cell (errors as 'ERROR name: value')."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in sources])
    executed = execute(nb, workdir=zygote.files, env=env, sandbox=sandbox, zygote=zygote)
    assert not executed.problem, executed.problem
    texts = []
    for cell in executed.notebook.cells:
        text = ""
        for output in cell.outputs:
            if output.output_type == "stream":
                text += output.text
            elif output.output_type == "error":
                text += f"ERROR {output.ename}: {output.evalue}"
        texts.append(text.strip())
    return texts


PLANT = """
import os, subprocess, sys, ctypes, time
home = os.path.expanduser("~")
for folder in (f"{home}/.ipython/profile_default/startup", f"{home}/.keras", f"{home}/.config/matplotlib", "/tmp/x"):
    os.makedirs(folder, exist_ok=True)
open(f"{home}/.ipython/profile_default/startup/00-evil.py", "w").write("import numpy; numpy.exp = lambda x: 0 * x\\nPLANTED = 1\\n")
open(f"{home}/.keras/keras.json", "w").write('{"backend": "jax"}')
open("/tmp/x/left.txt", "w").write("left")
open("/dev/shm/left", "w").write("left")
open("left-in-scratch.py", "w").write("PLANTED = 1")
os.chmod("/tmp/x", 0o000)
shm = ctypes.CDLL(None).shmget(0x1234, 4096, 0o1666)
daemon = '''
import os, signal, time
mine = os.getpid()
while True:
    time.sleep(0.05)
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) not in (1, mine, os.getppid()):
            try:
                os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass
'''
subprocess.Popen([sys.executable, "-c", "import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n    time.sleep(3)\\n    exec(" + repr(daemon) + ")"],
                 start_new_session=True)
print("planted", shm >= 0)
"""

LOOK = """
import os, json
home = os.path.expanduser("~")
mounts = [line.split()[4] for line in open("/proc/self/mountinfo")]
def mine(path):  # not a bound folder and not on the way to one (a checkout under /tmp, the zygote's folders)
    return not any(m == path or m.startswith(path + "/") for m in mounts)
found = {folder: sorted(n for n in os.listdir(folder) if mine(os.path.join(os.path.abspath(folder), n)))
         for folder in ("/tmp", "/dev/shm", ".")}
found["home"] = sorted(os.path.relpath(os.path.join(d, f), home) for d, _, files in os.walk(home) for f in files)
mine = {str(os.getpid())} | set(os.listdir(f"/proc/{os.getpid()}/task"))
others = [p for p in os.listdir("/proc") if p.isdigit() and p not in mine and p != "1"]
names = [open(f"/proc/{p}/cmdline").read().replace("\\0", " ")[:60] for p in others if os.path.exists(f"/proc/{p}/cmdline")]
print(json.dumps({"found": found, "processes": names, "planted": "PLANTED" in globals(),
                  "shm": open("/proc/sysvipc/shm").read().splitlines()[1:]}))
"""


def test_nothing_a_kernel_leaves_reaches_the_next_kernel(zygote, sandbox, env):
    planted = run_cells(zygote, sandbox, env, PLANT, "import time; time.sleep(0.5)")
    assert planted[0] == "planted True", planted
    seen = json.loads(run_cells(zygote, sandbox, env, LOOK)[0])
    assert seen["found"]["/tmp"] == [] and seen["found"]["/dev/shm"] == [] and seen["found"]["."] == [], seen
    # The kernel's own IPython profile is all there is in HOME.
    assert not [f for f in seen["found"]["home"] if not f.startswith(".ipython/")], seen
    assert not [f for f in seen["found"]["home"] if "evil" in f or "keras" in f], seen
    assert seen["processes"] == [] and seen["shm"] == [] and not seen["planted"], seen
    # The daemon would have killed this kernel 3 s after it was planted; wait past that.
    later = run_cells(zygote, sandbox, env, "import time; time.sleep(4); import numpy; print(float(numpy.exp(0.0)))")
    assert later == ["1.0"]


#: The folders a reset keeps (each writable place, every folder on the way to a bound one under /tmp or
#: /home, the writable channel folder), found from inside, and what the next kernel could read on them.
KEPT = """
import os, json
mounts = [line.split()[4] for line in open("/proc/self/mountinfo")]
kept = {"/tmp", "/home", "/run", "/dev/shm", os.getcwd()}
for m in mounts:
    if m.startswith(("/tmp/", "/home/")):
        parts = m.split("/")
        kept.update("/".join(parts[:i]) for i in range(3, len(parts)))
        if os.access(m, os.W_OK):
            kept.add(m)
def state(path):
    info = os.lstat(path)
    return {"mode": info.st_mode & 0o7777, "mtime": info.st_mtime_ns, "atime": info.st_atime_ns,
            "xattrs": {n: os.getxattr(path, n).hex() for n in os.listxattr(path)}}
"""

MARK = KEPT + """
done = {}
for path in sorted(kept, key=len, reverse=True):
    done[path] = []
    for name, action in (("xattr", lambda: os.setxattr(path, "user.note", b"for the next one")),
                         ("times", lambda: os.utime(path, ns=(86400 * 10**9 * 365, 86400 * 10**9 * 366))),
                         ("mode", lambda: os.chmod(path, 0o705))):
        try:
            action()
            done[path].append(name)
        except OSError:
            pass
print(json.dumps({"done": done, "state": {p: state(p) for p in kept}}))
"""

LOOK_KEPT = KEPT + """
print(json.dumps({p: state(p) for p in kept}))
"""


def test_the_folders_a_reset_keeps_carry_no_message(zygote, sandbox, env):
    """Permissions, times and extended attributes of the folders that stay are put back between kernels."""
    before = json.loads(run_cells(zygote, sandbox, env, LOOK_KEPT)[0])
    marked = json.loads(run_cells(zygote, sandbox, env, MARK)[0])
    # The attack reached the writable places, the folders on the way to the zygote's own, and the channel.
    assert marked["done"]["/tmp"] == ["xattr", "times", "mode"], marked["done"]
    assert any(len(done) == 3 for path, done in marked["done"].items() if path.startswith("/tmp/")), marked["done"]
    after = json.loads(run_cells(zygote, sandbox, env, LOOK_KEPT)[0])
    assert after.keys() == before.keys()
    for path in before:
        assert after[path]["xattrs"] == {} and after[path]["mode"] == before[path]["mode"], (path, after[path])
        assert 365 * 86400 * 10**9 not in (after[path]["atime"], after[path]["mtime"]), (path, after[path])
        assert 366 * 86400 * 10**9 != after[path]["mtime"], (path, after[path])


def test_a_renamed_folder_on_the_way_to_a_bound_one_ends_the_sandbox(zygote, sandbox, env):
    """A name is a message too: moving a folder that holds a bound one cannot be undone from inside, so
    that sandbox is not reused, and the next kernel does not see the name."""
    rename = KEPT + """
parent = min((p for p in kept if p.startswith("/tmp/") and any(m.startswith(p + "/") for m in mounts)), key=len)
os.rename(parent, "/tmp/answers-for-the-next-one")
print("renamed", sorted(os.listdir("/tmp")))
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(rename))])
    executed = execute(nb, workdir=zygote.files, env=env, sandbox=sandbox, zygote=zygote)
    assert "answers-for-the-next-one" in executed.notebook.cells[0].outputs[0].text
    assert "was renamed" in executed.problem and "replaced" in executed.problem, executed.problem
    assert not zygote.alive
    replacement = zygote_module.zygote_for(sandbox, env)
    assert replacement is not None and replacement is not zygote
    listing = run_cells(replacement, sandbox, env, "import os; print(sorted(os.listdir('/tmp')))")
    assert "answers" not in listing[0], listing


ZYGOTE_ATTACKS = """
import ctypes, os, signal, json
results = {}
def attempt(name, action):
    try:
        value = action()
        results[name] = "ok" if value in (None, 0) or isinstance(value, (bytes, str, list)) else f"returned {value}"
    except Exception as exc:
        results[name] = type(exc).__name__
attempt("read memory", lambda: open("/proc/1/mem", "rb").read(1))
attempt("read environ", lambda: open("/proc/1/environ", "rb").read())
attempt("write requests", lambda: [open(f"/proc/1/fd/{fd}", "w").write("{}") for fd in os.listdir("/proc/1/fd")])
attempt("read replies", lambda: [open(f"/proc/1/fd/{fd}").read(1) for fd in os.listdir("/proc/1/fd")])
attempt("ptrace", lambda: ctypes.CDLL(None, use_errno=True).ptrace(16, 1, 0, 0))
for name in ("SIGSTOP", "SIGTERM", "SIGKILL"):
    attempt(name, lambda: os.kill(1, getattr(signal, name)))
print(json.dumps(results))
"""


def test_a_kernel_cannot_touch_the_zygote(zygote, sandbox, env):
    results = json.loads(run_cells(zygote, sandbox, env, ZYGOTE_ATTACKS)[0])
    # Reading or writing the zygote's memory, environment or descriptors, or tracing it, fails.
    for name in ("read memory", "read environ", "write requests", "read replies"):
        assert results[name] == "PermissionError", results
    assert results["ptrace"] == "returned -1", results
    # Signals are sent but PID 1 ignores them: the same zygote forks the next kernel.
    pid = zygote.pid
    assert run_cells(zygote, sandbox, env, "print('next')") == ["next"]
    assert zygote.alive and zygote.pid == pid
    assert zygote_module.zygote_for(sandbox, env) is zygote


def test_a_killed_zygote_is_replaced_and_grading_goes_on(course, sandbox, env, zygote, tmp_path):
    os.kill(zygote.pid, signal.SIGKILL)
    reference = build_reference(course, "01_neuron")
    path = make_submission(course, "01_neuron", reference_answers(course, "01_neuron"), tmp_path / "01_neuron.ipynb")
    result = grade_submission(reference, path, "s", course.root, sandbox=sandbox)
    assert (result.score, result.reason) == (result.max_score, "")
    replacement = zygote_module.zygote_for(sandbox, kernel_environment(None, course.root, 2))
    assert replacement is not None and replacement is not zygote and not zygote.alive


def test_warm_and_fresh_kernels_grade_alike_and_see_the_same_world(course, sandbox, env, zygote, tmp_path):
    world = """
    import os, sys, json, numpy, matplotlib
    print(json.dumps({"env": dict(os.environ), "cwd": os.getcwd() == os.path.realpath("."), "path": sys.path,
                      "backend": matplotlib.get_backend(), "draw": float(numpy.random.rand())}))
    """
    warm = [json.loads(run_cells(zygote, sandbox, env, world)[0]) for _ in range(2)]
    fresh_spec = dataclasses.replace(sandbox, warm=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(textwrap.dedent(world))])
    fresh = json.loads(execute(nb, workdir=tmp_path, env=env, sandbox=fresh_spec).notebook.cells[0].outputs[0].text)
    assert warm[0]["draw"] != warm[1]["draw"], "every kernel must draw its own random numbers"
    for key in ("cwd", "path", "backend"):
        assert warm[0][key] == fresh[key], key
    # The same variables with the same values; only the scratch folder's path (PWD) differs.
    assert warm[0]["env"].keys() == fresh["env"].keys()
    assert {k: v for k, v in warm[0]["env"].items() if k != "PWD"} == {k: v for k, v in fresh["env"].items() if k != "PWD"}

    reference = build_reference(course, "01_neuron")
    answers = reference_answers(course, "01_neuron")
    wrong = make_submission(course, "01_neuron", {**answers, next(iter(answers)): "def neuron_forward(X, w, b):\n    return X @ w\n"},
                            tmp_path / "wrong" / "01_neuron.ipynb")
    for path in (wrong, Path(course.exercises / "01_neuron" / "01_neuron.ipynb")):
        results = [grade_submission(reference, path, "s", course.root, sandbox=spec) for spec in (sandbox, fresh_spec)]
        assert [(p.grade_id, p.points, p.feedback) for p in results[0].parts] == \
               [(p.grade_id, p.points, p.feedback) for p in results[1].parts]
        assert results[0].reason == results[1].reason == ""


def test_a_zygote_that_cannot_start_leaves_fresh_kernels(monkeypatch, sandbox):
    def broken(*args, **kwargs):
        raise zygote_module.ZygoteError("no")

    monkeypatch.setattr(zygote_module, "Zygote", broken)
    monkeypatch.setattr(zygote_module, "_ZYGOTES", {})
    monkeypatch.setattr(zygote_module, "_FAILED", {})
    env = {"X": "1"}
    assert zygote_module.zygote_for(sandbox, env) is None
    assert zygote_module.zygote_for(sandbox, env) is None
    assert zygote_module._FAILED[next(iter(zygote_module._FAILED))].count("\n") == 2
