"""The fs driver on a real cgroup v2 (unified) host (root only). This machine
is hybrid, so run it in the VM:

    ../shared/vm/cgroup2-vm -- $(readlink -f .venv/bin/python) -m pytest tests/integration/test_cgroups_v2.py
"""
from __future__ import annotations

import os
import signal
import time
import uuid

import pytest
from cgroup_util import (
    MiB,
    check_deny_all_devices,
    check_kill_all_reaches_grandchildren,
    check_oom_kill_is_counted,
    child_in,
    cpu_ticks,
    finish_manager,
    go,
)
from pyrunc import cgroups
from pyrunc.errors import CgroupError

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(cgroups.detect_version() != 2, reason="needs a cgroup v2 (unified) host"),
]

@pytest.fixture
def mgr():
    m = cgroups.new_manager(f"/pyrunc-test-{uuid.uuid4().hex[:12]}/ctr", "pyrunc-test")
    m.create()
    procs: list = []
    yield m, procs
    finish_manager(m, procs)
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
    p = child_in(m, procs)
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
    p = child_in(m, procs, "b = bytearray(32 << 20); sys.stdout.write('x'); sys.stdout.flush(); import time; time.sleep(300)")
    go(p)
    assert p.stdout is not None and p.stdout.read(1) == b"x"
    with pytest.raises(CgroupError, match=r"^linux\.resources\.memory\.limit: cannot set below current usage"):
        m.update({"memory": {"limit": 8 * MiB, "checkBeforeUpdate": True}})
    assert _read(m, "memory.max") == "max"
    assert p.poll() is None


def test_device_filter_is_enforced(mgr):
    m, procs = mgr
    check_deny_all_devices(m, procs, timeout=60)


def test_freeze_thaw_stats_kill(mgr):
    m, procs = mgr
    p = child_in(m, procs, "while True: pass")
    go(p)
    time.sleep(0.3)
    m.freeze()
    assert m.frozen() and _read(m, "cgroup.freeze") == "1"
    t0 = cpu_ticks(p.pid)
    time.sleep(0.3)
    assert cpu_ticks(p.pid) == t0
    cgroups.from_state(m.to_state()).thaw()
    assert not m.frozen()
    time.sleep(0.5)
    assert cpu_ticks(p.pid) > t0
    st = m.stats()
    assert st["pids"]["current"] == 1 and st["cpu"]["usage"]["total"] > 0
    assert st["memory"]["usage"]["usage"] > 0
    m.kill_all(signal.SIGKILL)  # cgroup.kill
    assert p.wait(timeout=30) == -signal.SIGKILL


def test_kill_all_term_reaches_grandchildren(mgr):
    m, procs = mgr
    check_kill_all_reaches_grandchildren(m, procs, timeout=30)


def test_mount_data(mgr):
    m, _ = mgr
    assert m.mounts_for_container(False)[0]["source"] == m.path
    assert m.mounts_for_container(True)[0]["fstype"] == "cgroup2"


def test_oom_kill_is_counted(mgr):
    m, procs = mgr
    check_oom_kill_is_counted(m, procs, timeout=60)
