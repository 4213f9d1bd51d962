"""The fs driver on this host's real cgroup v1 hierarchies (root only).

Each test makes a /pyrunc-test-<random> cgroup, puts a child process in it,
and removes both. The same checks on cgroup v2 live in test_cgroups_v2.py
(run them in ../shared/vm/cgroup2-vm).
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
    pytest.mark.skipif(cgroups.detect_version() != 1, reason="needs cgroup v1 (hybrid) hierarchies"),
]

@pytest.fixture
def mgr():
    m = cgroups.new_manager(f"/pyrunc-test-{uuid.uuid4().hex[:12]}", "pyrunc-test")
    m.create()
    procs: list = []
    yield m, procs
    finish_manager(m, procs)


def _read(m, ctrl: str, name: str) -> str:
    with open(os.path.join(m.path_for(ctrl), name)) as f:
        return f.read().strip()


def test_create_makes_every_hierarchy(mgr):
    m, _ = mgr
    for sub in ("cpu", "cpuacct", "memory", "devices", "freezer", "pids", "blkio", "cpuset", "name=systemd"):
        if sub in m.paths:
            assert os.path.isdir(m.path_for(sub)), sub
    # a v1 cpuset starts empty and would refuse tasks: create copied the parent's
    assert _read(m, "cpuset", "cpuset.cpus") != ""
    assert _read(m, "cpuset", "cpuset.mems") != ""


def test_apply_reads_back_from_the_files(mgr):
    m, procs = mgr
    p = child_in(m, procs)
    assert m.pids() == [p.pid]
    res = {
        "memory": {"limit": 64 * MiB, "reservation": 32 * MiB, "swap": 128 * MiB, "swappiness": 10,
                   "disableOOMKiller": False},
        "cpu": {"shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"},
        "pids": {"limit": 10},
        "blockIO": {"throttleReadBpsDevice": [{"major": 254, "minor": 0, "rate": 1048576}]},
        "devices": [{"allow": False, "access": "rwm"}],
    }
    m.apply(res)
    assert _read(m, "memory", "memory.limit_in_bytes") == str(64 * MiB)
    assert _read(m, "memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
    assert _read(m, "memory", "memory.memsw.limit_in_bytes") == str(128 * MiB)
    assert _read(m, "memory", "memory.swappiness") == "10"
    assert _read(m, "cpu", "cpu.shares") == "512"
    assert _read(m, "cpu", "cpu.cfs_quota_us") == "20000"
    assert _read(m, "cpu", "cpu.cfs_period_us") == "100000"
    assert _read(m, "cpuset", "cpuset.cpus") == "0"
    assert _read(m, "pids", "pids.max") == "10"
    if os.path.exists("/sys/dev/block/254:0"):
        assert "254:0 1048576" in _read(m, "blkio", "blkio.throttle.read_bps_device")
    devs = _read(m, "devices", "devices.list").splitlines()
    assert "c 1:3 rwm" in devs and "c 136:* rwm" in devs and "c 10:200 rwm" in devs
    assert "a *:* rwm" not in devs

    # update: growing memory past the old memsw needs memsw written first
    m.update({"memory": {"limit": 256 * MiB, "swap": 512 * MiB}, "pids": {"limit": 0}})
    assert _read(m, "memory", "memory.limit_in_bytes") == str(256 * MiB)
    assert _read(m, "memory", "memory.memsw.limit_in_bytes") == str(512 * MiB)
    assert _read(m, "pids", "pids.max") == "0"  # spec 1.3: 0 is a limit
    m.update({"memory": {"limit": -1}, "pids": {"limit": -1}})
    assert int(_read(m, "memory", "memory.limit_in_bytes")) > 1 << 60
    assert _read(m, "pids", "pids.max") == "max"


def test_error_names_the_field(mgr):
    m, _ = mgr
    with pytest.raises(CgroupError, match=r"^linux\.resources\.cpu\.cpus: write .*cpuset\.cpus"):
        m.apply({"cpu": {"cpus": "4096"}}, devices=False)
    with pytest.raises(CgroupError, match=r"^linux\.resources\.unified: cannot use unified on cgroup v1"):
        m.apply({"unified": {"memory.max": "1"}}, devices=False)


def test_memory_limit_below_usage(mgr):
    m, procs = mgr
    # without swap the kernel cannot get the child below 1 MiB and says EBUSY
    p = child_in(m, procs, "b = bytearray(48 << 20); sys.stdout.write('x'); sys.stdout.flush(); import time; time.sleep(300)")
    m.apply({"memory": {"limit": 256 * MiB, "swap": 256 * MiB}}, devices=False)
    go(p)
    assert p.stdout is not None and p.stdout.read(1) == b"x"
    with pytest.raises(CgroupError, match=r"^linux\.resources\.memory\.limit: cannot set below current usage"):
        m.update({"memory": {"limit": 1 * MiB, "swap": 256 * MiB}})


def test_device_rules_are_enforced(mgr):
    m, procs = mgr
    check_deny_all_devices(m, procs, timeout=30)


def test_freeze_thaw_kill_all_stats(mgr):
    m, procs = mgr
    p = child_in(m, procs, "while True: pass")
    go(p)
    time.sleep(0.2)
    m.freeze()
    assert m.frozen()
    assert _read(m, "freezer", "freezer.state") == "FROZEN"
    t0 = cpu_ticks(p.pid)
    time.sleep(0.3)
    assert cpu_ticks(p.pid) == t0  # a frozen busy loop gets no cpu
    m2 = cgroups.from_state(m.to_state())  # what `pyrunc resume` does
    m2.thaw()
    assert not m.frozen()
    time.sleep(0.3)
    assert cpu_ticks(p.pid) > t0

    st = m.stats()
    assert st["pids"]["current"] == 1
    assert st["memory"]["usage"]["usage"] > 0
    assert st["cpu"]["usage"]["total"] > 0

    m.kill_all(signal.SIGKILL)
    assert p.wait(timeout=10) == -signal.SIGKILL
    assert not m.frozen()


def test_kill_all_reaches_grandchildren(mgr):
    m, procs = mgr
    check_kill_all_reaches_grandchildren(m, procs, timeout=10)


def test_destroy_with_child_cgroups(mgr):
    m, _ = mgr
    sub = os.path.join(m.path_for("memory"), "nested", "deeper")
    os.makedirs(sub)
    m.destroy()
    assert not m.exists()
    m.create()  # the fixture removes it again


def test_relative_path_is_under_own_cgroup(tmp_path, monkeypatch):
    # a fake /proc/self/cgroup: the real one may be a cgroup we must not touch
    parent = f"/pyrunc-test-{uuid.uuid4().hex[:12]}"
    fake = tmp_path / "cgroup"
    fake.write_text(f"8:pids:{parent}\n5:devices:{parent}\n4:memory:{parent}\n0::/\n")
    monkeypatch.setattr(cgroups.common, "PROC_SELF_CGROUP", str(fake))
    m = cgroups.new_manager(None, "pyrunc-test-child")
    assert m.path_for("pids") == f"/sys/fs/cgroup/pids{parent}/pyrunc-test-child"
    assert m.path_for("cpu") == "/sys/fs/cgroup/cpu/pyrunc-test-child"  # "/" in no line: the root
    m.create()
    try:
        assert os.path.isdir(m.path_for("pids"))
    finally:
        m.destroy()
        for sub in ("pids", "devices", "memory"):
            os.rmdir(f"/sys/fs/cgroup/{sub}{parent}")
    assert not m.exists()


def test_oom_kill_is_counted(mgr):
    m, procs = mgr
    check_oom_kill_is_counted(m, procs, timeout=30)
