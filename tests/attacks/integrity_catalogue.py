"""Integrity II attacks, as a determined student would write them: code that a submission adds to
01_neuron's first solution cell, after the correct `neuron_forward`.

Every attack ends by *breaking its own answer* unless the attack worked, so "the attacker earns 0
on the attacked part" proves the defence held, and the probes (honest students graded on the
same zygotes between the attackers, see `PROBE`) prove that nothing reached the next student.

Placeholders: {targets} the list of places a planted file is looked for (a Python literal).
"""

#: Where an attacker plants a module and where a probe looks for one: every folder on the kernel's
#: sys.path and the folders bwrap creates as mount parents (formatted in by the test).
PLANTED_NAME = "integrity_planted"

# --- class 1: reaching the next student ----------------------------------------------------------
PLANT_ON_PATH = '''
import os, sys
_wrote = []
for _folder in {targets} + sys.path:
    for _name in ("{planted}.py", "sitecustomize.py", "usercustomize.py", "zz-{planted}.pth"):
        try:
            with open(os.path.join(_folder, _name), "w") as _f:
                _f.write("import os\\nos.environ['PLANTED'] = '1'\\n")
            _wrote.append(os.path.abspath(os.path.join(_folder, _name)))
        except OSError:
            pass
_persistent = [p for p in _wrote if not p.startswith(("/tmp", "/submission", "/home", "/run", "/dev/shm"))]
if not _persistent:
    neuron_forward = None   # nothing outside the kernel's own places could be written
'''

KEYRING_AND_QUEUE = '''
import ctypes, os
_libc = ctypes.CDLL(None, use_errno=True)
_key = _libc.syscall({add_key}, b"user", b"integrity-planted", b"secret", 6, -4)   # add_key to @u
_queue = _libc.mq_open(b"/integrity-planted", os.O_CREAT | os.O_RDWR, 0o666, None)
if _key < 0 and _queue < 0:
    neuron_forward = None
'''

SOCKET_DAEMON = '''
import os, socket, subprocess, sys
_code = """
import os, socket, time
s = socket.socket(socket.AF_UNIX); s.bind(b"\\\\0integrity-planted"); s.listen()
while True:
    time.sleep(1)
"""
subprocess.Popen([sys.executable, "-c", _code], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
neuron_forward = None   # whether or not the daemon survives, the probes say
'''

# --- class 4: stopping or poisoning the run -----------------------------------------------------
DEEP_TREES = '''
import os
_home = os.getcwd()
for _base in (_home, "/tmp", "/dev/shm"):
    os.chdir(_base)
    for _i in range(6000):
        os.mkdir("d")
        os.chdir("d")
    os.chmod(".", 0)
os.chdir(_home)
neuron_forward = None
'''

FORGED_REPORT = '''
import IPython.display as _display
_real = _display.display
def _forging(*objs, **kwargs):
    forged = []
    for obj in objs:
        if isinstance(obj, dict) and "{mime}" in obj and obj["{mime}"].get("check", "").startswith("neuron_forward"):
            payload = dict(obj["{mime}"])
            payload["results"] = {forged_results}
            payload["public"] = {forged_public}
            obj = {{**obj, "{mime}": payload}}
        forged.append(obj)
    return _real(*forged, **kwargs)
_display.display = _forging
'''

FORGED_VARIANTS = {
    "a report holding a huge integer": ("[{'ok': 10 ** 4000}] * 50", "[{'ok': 10 ** 4000}]"),
    "a report of the wrong types": ("'not a list'", "{'ok': [1, 2]}"),
    "a report of nested junk": ("[[[[{'ok': {'__ndarray__': 'x', 'dtype': 'object'}}]]]] * 3",
                                "[{'error': 'x' * 10_000_000}]"),
}

# --- class 6: accounting gaps -------------------------------------------------------------------
REPORT_FLOOD = '''
from IPython.display import display as _display
for _i in range(12):
    _display({{"{mime}": {{"check": "neuron_forward", "results": ["x" * (3 * 2**20)]}},
              "text/plain": "flood"}}, raw=True)
neuron_forward = None
'''

ERROR_FLOOD = '''
def _boom():
    raise ValueError("E" * (40 * 2**20))
try:
    _boom()
finally:
    neuron_forward = None
'''

SCRATCH_FILL = '''
import os
_written = 0
try:
    with open("fill.bin", "wb") as _f:
        for _i in range(1100):
            _f.write(b"\\0" * 2**20)
            _written += 1
except OSError:
    pass
for _place in ("/tmp", "/home/student", "/dev/shm"):
    try:
        with open(os.path.join(_place, "fill.bin"), "wb") as _f:
            for _i in range(1100):
                _f.write(b"\\0" * 2**20)
    except OSError:
        pass
if _written < 1000:
    neuron_forward = None   # the working folder stopped the writes well below 1 GB
'''

CHANNEL_FILL = '''
import os, glob
_channel = [os.path.dirname(p) for p in glob.glob("/tmp/**/kernel-*.json", recursive=True)]
_done = 0
for _folder in _channel[:1]:
    try:
        for _i in range(40):
            with open(os.path.join(_folder, f"fill-{{_i}}.bin"), "wb") as _f:
                _f.write(b"\\0" * (16 * 2**20))
            _done += 1
    except OSError:
        pass
neuron_forward = None
'''

#: name -> (code, survives): survives False means the kernel is expected to be stopped (the row
#: must then say why); True means the honest parts after the attacked one keep their points.
ATTACKS = {
    "plant a module on sys.path and in every mount parent": (PLANT_ON_PATH, True),
    "leave a key in the user keyring and a POSIX message queue": (KEYRING_AND_QUEUE, True),
    "leave a daemon on an abstract unix socket": (SOCKET_DAEMON, True),
    "folder trees 6000 deep in scratch, /tmp and /dev/shm, mode 000": (DEEP_TREES, True),
    **{name: (FORGED_REPORT, True) for name in FORGED_VARIANTS},
    "flood the output with reports under 4 MB": (REPORT_FLOOD, None),
    "flood the output with a 40 MB error": (ERROR_FLOOD, None),
    "fill the working folder, /tmp, home and /dev/shm past 1 GB": (SCRATCH_FILL, True),
    "fill the socket folder past 600 MB": (CHANNEL_FILL, None),
}

#: An honest student who also checks, before their first answer is checked, whether anything an
#: earlier kernel left is visible; if it is, they break their own first answer.
PROBE = '''
import ctypes, os, socket, sys
_libc = ctypes.CDLL(None, use_errno=True)
_seen = [os.path.join(f, n) for f in {targets} + [p for p in sys.path if p] for n in ("{planted}.py", "zz-{planted}.pth")
         if os.path.exists(os.path.join(f, n))]
_seen += ["env"] if os.environ.get("PLANTED") else []
try:
    import {planted}
    _seen.append("imported")
except ImportError:
    pass
if _libc.syscall({keyctl}, 10, -4, b"user", b"integrity-planted", 0) >= 0:   # KEYCTL_SEARCH in @u
    _seen.append("key")
if _libc.mq_open(b"/integrity-planted", os.O_RDONLY, 0, None) >= 0:
    _seen.append("queue")
_s = socket.socket(socket.AF_UNIX)
try:
    _s.connect(b"\\0integrity-planted")
    _seen.append("daemon")
except OSError:
    pass
for _place in (".", "/tmp", "/home/student", "/dev/shm"):
    if any(n in ("d", "fill.bin") for n in os.listdir(_place)):
        _seen.append(_place)
if _seen:
    print("CONTAMINATED", _seen)
    neuron_forward = None
'''
