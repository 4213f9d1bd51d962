"""The fs driver on a real cgroup v2 (unified) host (root only). This machine
is hybrid, so run it in the VM:

    ../shared/vm/cgroup2-vm -- $(readlink -f .venv/bin/python) -m pytest tests/integration/test_cgroups_v2.py
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from pyrunc import cgroups
from pyrunc.errors import CgroupError

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(cgroups.detect_version() != 2, reason="needs a cgroup v2 (unified) host"),
]

MiB = 1 << 20


def _child(code: str = "import time; time.sleep(300)") -> subprocess.Popen:
    """A python child that waits for a line on stdin before running ``code``."""
    return subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdin.readline()\n{code}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _go(p: subprocess.Popen) -> None:
    assert p.stdin is not None
    p.stdin.write(b"go\n")
    p.stdin.flush()


@pytest.fixture
def mgr():
    m = cgroups.new_manager(f"/pyrunc-test-{uuid.uuid4().hex[:12]}/ctr", "pyrunc-test")
    m.create()
    procs: list = []
    yield m, procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    if m.exists() and m.frozen():
        m.thaw()
    m.kill_all(signal.SIGKILL)
    m.destroy()
    assert not m.exists()
    os.rmdir(os.path.dirname(m.path))


def _read(m, name: str) -> str:
    with open(os.path.join(m.path, name)) as f:
        return f.read().strip()


def test_create_enables_controllers(mgr):
    m, _ = mgr
    avail = _read(m, "cgroup.controllers").split()
    for c in ("cpu", "memory", "pids", "io"):
        assert c in avail


def test_apply_reads_back(mgr):
    m, procs = mgr
    p = _child()
    procs.append(p)
    m.add_pid(p.pid)
    assert m.pids() == [p.pid]
    m.apply({
        "memory": {"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 96 * MiB},
        "cpu": {"shares": 1024, "quota": 20000, "period": 100000},
        "pids": {"limit": 10},
        "devices": [{"allow": False, "access": "rwm"}],
        "unified": {"memory.high": str(24414 * 4096)},
    })
    assert _read(m, "memory.max") == str(64 * MiB)
    assert _read(m, "memory.low") == str(32 * MiB)
    if os.path.exists(os.path.join(m.path, "memory.swap.max")):
        assert _read(m, "memory.swap.max") == str(32 * MiB)
    assert _read(m, "memory.high") == str(24414 * 4096)  # page-aligned: the kernel rounds down
    assert _read(m, "cpu.weight") == "39"
    assert _read(m, "cpu.max") == "20000 100000"
    assert _read(m, "pids.max") == "10"
    m.update({"pids": {"limit": 0}, "memory": {"limit": -1}, "cpu": {"period": 50000}})
    assert _read(m, "pids.max") == "0"
    assert _read(m, "memory.max") == "max"
    assert _read(m, "cpu.max") == "20000 50000"


def test_check_before_update(mgr):
    m, procs = mgr
    p = _child("b = bytearray(32 << 20); sys.stdout.write('x'); sys.stdout.flush(); import time; time.sleep(300)")
    procs.append(p)
    m.add_pid(p.pid)
    _go(p)
    assert p.stdout is not None and p.stdout.read(1) == b"x"
    with pytest.raises(CgroupError, match=r"^linux\.resources\.memory\.limit: cannot set below current usage"):
        m.update({"memory": {"limit": 8 * MiB, "checkBeforeUpdate": True}})
    assert _read(m, "memory.max") == "max"
    assert p.poll() is None


def test_device_filter_is_enforced(mgr):
    m, procs = mgr
    p = _child("import os\n"
               "for d in ('/dev/null', '/dev/kmsg'):\n"
               "    try:\n"
               "        os.close(os.open(d, os.O_RDONLY)); print(d, 'ok')\n"
               "    except OSError as e:\n"
               "        print(d, e.errno)\n")
    procs.append(p)
    m.add_pid(p.pid)
    m.apply({"devices": [{"allow": False, "access": "rwm"}]})
    _go(p)
    out, _ = p.communicate(timeout=60)
    assert out.decode().split("\n")[:2] == ["/dev/null ok", "/dev/kmsg 1"]  # EPERM


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_freeze_thaw_stats_kill(mgr):
    m, procs = mgr
    p = _child("while True: pass")
    procs.append(p)
    m.add_pid(p.pid)
    _go(p)
    time.sleep(0.3)
    m.freeze()
    assert m.frozen() and _read(m, "cgroup.freeze") == "1"
    t0 = _cpu_ticks(p.pid)
    time.sleep(0.3)
    assert _cpu_ticks(p.pid) == t0
    cgroups.from_state(m.to_state()).thaw()
    assert not m.frozen()
    time.sleep(0.5)
    assert _cpu_ticks(p.pid) > t0
    st = m.stats()
    assert st["pids"]["current"] == 1 and st["cpu"]["usage"]["total"] > 0
    assert st["memory"]["usage"]["usage"] > 0
    m.kill_all(signal.SIGKILL)  # cgroup.kill
    assert p.wait(timeout=30) == -signal.SIGKILL


def test_kill_all_term_reaches_grandchildren(mgr):
    m, procs = mgr
    p = _child("import subprocess, time\n"
               "subprocess.Popen(['sleep', '300'])\n"
               "print('forked', flush=True); time.sleep(300)")
    procs.append(p)
    m.add_pid(p.pid)
    _go(p)
    assert p.stdout is not None and p.stdout.readline() == b"forked\n"
    assert len(m.pids()) == 2
    m.kill_all(signal.SIGTERM)
    p.wait(timeout=30)
    deadline = time.monotonic() + 30
    while m.pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert m.pids() == []
    assert not m.frozen()


def test_mount_data(mgr):
    m, _ = mgr
    assert m.mounts_for_container(False)[0]["source"] == m.path
    assert m.mounts_for_container(True)[0]["fstype"] == "cgroup2"


def test_oom_kill_is_counted(mgr):
    m, procs = mgr
    p = _child("b = bytearray(96 << 20)")
    procs.append(p)
    m.add_pid(p.pid)
    m.apply({"memory": {"limit": 32 * MiB, "swap": 32 * MiB}}, devices=False)
    assert m.oom_kills() == 0
    _go(p)
    assert p.wait(timeout=60) == -signal.SIGKILL
    assert m.oom_kills() == 1
