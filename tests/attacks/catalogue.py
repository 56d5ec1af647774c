"""Attacks on the grader: each is code a submission adds to one exercise's solution cell.

Placeholders: {name} the attacked function, {check} its check, {module} the check module,
{root} the course checkout, {out} the grading output folder, {others} the class folder,
{port} a loopback port the test listens on.
"""

ALWAYS_EQUAL = '''
class _AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
def {name}(*args, **kwargs):
    return _AlwaysEqual()
'''

FAKE_ARRAY = '''
import numpy as _np
class _FakeArray(_np.ndarray):
    def __eq__(self, other): return _np.ones(_np.shape(other), dtype=bool)
    def __ne__(self, other): return _np.zeros(_np.shape(other), dtype=bool)
def {name}(*args, **kwargs):
    return _np.full((3,), 7.0).view(_FakeArray)
'''

PATCHED_COMPARISONS = '''
import builtins, math, numpy as _np, keras as _keras
_np.allclose = lambda *a, **k: True
_np.array_equal = lambda *a, **k: True
_np.isclose = lambda a, b, *r, **k: _np.ones(_np.shape(a), dtype=bool)
_np.testing.assert_allclose = lambda *a, **k: None
_np.testing.assert_array_equal = lambda *a, **k: None
math.isclose = lambda *a, **k: True
_keras.ops.all = lambda *a, **k: True
builtins.AssertionError = type("AssertionError", (Exception,), {{}})
def {name}(*args, **kwargs):
    return None
'''

PATCHED_AUTOGRADER = '''
import autograder.checks.core as _core, autograder.checks.compare as _cmp
import autograder.checks.{module} as _mod
_target = type(_mod.CHECKS["{check}"])
_target.compare = lambda self, inputs, got, expected: None
_target.judge = lambda self, *a, **k: _core.Verdict(True)
_cmp.close = lambda *a, **k: True
_cmp.compare_array = lambda *a, **k: None
def {name}(*args, **kwargs):
    return None
'''

INPUT_TRANSFORMER = '''
get_ipython().input_transformers_post.append(
    lambda lines: ["print('✓ passed')\\n"] if any("checks.{check}(" in l for l in lines) else lines)
def {name}(*args, **kwargs):
    return None
'''

SILENCED_ERRORS = '''
import sys, io
_ip = get_ipython()
_ip.showtraceback = lambda *a, **k: None
sys.excepthook = lambda *a: None
sys.stderr = io.StringIO()
_ip.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
def {name}(*args, **kwargs):
    raise ValueError("hidden")
'''

FORGED_REPORT = '''
from IPython.display import display as _display
import json as _json, os as _os
def _forge(result):
    cell = getattr(result.info, "raw_cell", "") or ""
    if "checks.{check}(" in cell:
        path = _os.environ.get("AUTOGRADER_INPUTS")
        n = len(_json.load(open(path)).get("{check}", [])) if path else 0
        fake = {{"check": "{check}", "results": [{{"ok": 1.0}}] * n, "public": [{{"ok": 1.0}}] * 3,
                 "verdict": "passed", "score": 100}}
        _display({{"application/vnd.autograder.report+json": fake, "text/plain": "forged"}}, raw=True)
get_ipython().events.register("post_run_cell", _forge)
def {name}(*args, **kwargs):
    return None
'''

SYS_EXIT = '''
def {name}(*args, **kwargs):
    import sys
    sys.exit(0)
'''

OS_EXIT = '''
def {name}(*args, **kwargs):
    import os
    os._exit(0)
'''

SELF_SIGNAL = '''
def {name}(*args, **kwargs):
    import os, signal
    os.kill(os.getpid(), signal.SIGKILL)
'''

SEGFAULT = '''
def {name}(*args, **kwargs):
    import ctypes
    return ctypes.string_at(0)
'''

INFINITE_LOOP = '''
def {name}(*args, **kwargs):
    while True:
        try:
            pass
        except BaseException:
            pass
'''

MEMORY_BOMB = '''
def {name}(*args, **kwargs):
    hoard = []
    while True:
        hoard.append(bytearray(200 * 2**20))
'''

FORK_BOMB = '''
def {name}(*args, **kwargs):
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
'''

OUTPUT_FLOOD = '''
def {name}(*args, **kwargs):
    import sys, base64
    from IPython.display import display
    for _ in range(20):
        sys.stdout.write("flood " * 20000 + "\\n")
    display({{"image/png": base64.b64encode(b"\\x89PNG" + b"0" * (48 * 2**20)).decode()}}, raw=True)
    return None
'''

READ_SOLUTIONS = '''
import json as _json, glob as _glob
def _steal():
    for path in _glob.glob("{root}/solutions/*/*.ipynb") + _glob.glob("{out}/**", recursive=True):
        try:
            nb = _json.load(open(path))
        except Exception:
            continue
        scope = {{}}
        for cell in nb.get("cells", []):
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and "def {name}(" in src:
                exec(src, globals(), scope)
                return scope.get("{name}")
_stolen = _steal()
def {name}(*args, **kwargs):
    return _stolen(*args, **kwargs) if _stolen else None
'''

WRITE_ESCAPE = '''
import glob as _glob, os as _os
for _target in ["{out}/grades.csv", "{out}/gradebook.db", "{root}/solutions/HACKED",
                *_glob.glob("{others}/*/*/*.ipynb")]:
    try:
        with open(_target, "a") as _f:
            _f.write("HACKED")
    except OSError:
        pass
def {name}(*args, **kwargs):
    return None
'''

NETWORK = '''
import socket as _socket
for _host in ("127.0.0.1", "localhost", "::1"):
    try:
        _s = _socket.create_connection((_host, {port}), timeout=2)
        _s.sendall(b"HELLO FROM THE SANDBOX")
        _s.close()
    except OSError:
        pass
def {name}(*args, **kwargs):
    return None
'''

HARDCODED = '''
import numpy as _np
import autograder.checks.{module} as _mod
def {name}(*args, **kwargs):
    for case in _mod.CHECKS["{check}"].public_cases:
        return case.expected
'''

FORGED_SIGNATURE = '''
_kernel = get_ipython().kernel
_kernel.iopub_socket.send_multipart([b"status", b"<IDS|MSG>", b"0" * 64, b"{{}}", b"{{}}", b"{{}}", b"{{}}"])
import time as _time
_time.sleep(1)
def {name}(*args, **kwargs):
    return None
'''

#: name -> (code, the kernel survives the attack). None: it may or may not. A memory bomb ends in a
#: MemoryError at the sandbox's RLIMIT_DATA, but IPython keeps the failed frame (and the hoard) alive,
#: so a later part that trains a model may run out of memory too, or the hoarding may outlast the cell
#: timeout on a loaded machine; either way the row must say why. "own": the kernel survives, but the
#: attack breaks the libraries in the student's own kernel (Keras itself calls np.array_equal on shapes,
#: so a patched one breaks `fit`), so a later part may lose points; each such part must say why in the
#: student's feedback, and no other student is touched (test_nothing_escaped_the_sandbox, and the
#: honest student's full marks).
ATTACKS = {
    "always-equal object": (ALWAYS_EQUAL, True),
    "fake ndarray": (FAKE_ARRAY, True),
    "patched numpy/math/keras/assert": (PATCHED_COMPARISONS, "own"),
    "patched autograder checks": (PATCHED_AUTOGRADER, True),
    "input transformer rewrites the check": (INPUT_TRANSFORMER, True),
    "silenced errors and tracebacks": (SILENCED_ERRORS, True),
    "forged report": (FORGED_REPORT, True),
    "sys.exit": (SYS_EXIT, True),
    "os._exit": (OS_EXIT, False),
    "SIGKILL to itself": (SELF_SIGNAL, False),
    "segfault": (SEGFAULT, False),
    "infinite loop": (INFINITE_LOOP, False),
    "memory bomb": (MEMORY_BOMB, None),
    "fork bomb": (FORK_BOMB, False),
    "a kernel message with a forged signature": (FORGED_SIGNATURE, None),
    "output flood": (OUTPUT_FLOOD, True),
    "reads solutions and gradebook": (READ_SOLUTIONS, True),
    "writes outside its folder": (WRITE_ESCAPE, True),
    "network, loopback included": (NETWORK, True),
    "hard-coded public answers": (HARDCODED, True),
}
