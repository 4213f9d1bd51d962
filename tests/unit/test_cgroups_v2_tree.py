"""The v2 manager on a fake unified tree in tmp_path (plain files stand in for
cgroupfs; each write replaces the file, so the last write is what is read)."""
from __future__ import annotations

import os

import pytest
from pyrunc import cgroups
from pyrunc.cgroups import common
from pyrunc.errors import CgroupError

CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma"
FILES = {
    "cgroup.procs": "", "cgroup.controllers": CONTROLLERS, "cgroup.subtree_control": "",
    "cgroup.freeze": "0", "cgroup.events": "populated 0\nfrozen 0", "cgroup.kill": "",
    "cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
    "cpuset.cpus": "", "cpuset.mems": "", "memory.max": "max", "memory.swap.max": "max", "memory.low": "0",
    "memory.current": "4096", "memory.peak": "8192", "memory.swap.current": "100",
    "memory.events": "low 0\nhigh 0\nmax 3\noom 0\noom_kill 0", "memory.stat": "anon 10\nfile 20",
    "pids.max": "max", "pids.current": "2", "io.weight": "default 100", "io.max": "",
    "io.stat": "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0",
    "hugetlb.2MB.max": "max", "hugetlb.2MB.current": "0", "hugetlb.2MB.events": "max 0", "rdma.max": "",
    "cpu.stat": "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 4\nnr_throttled 1\nthrottled_usec 9",
}


@pytest.fixture
def tree(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text(CONTROLLERS)
    (root / "cgroup.subtree_control").write_text("")
    own = tmp_path / "self-cgroup"
    own.write_text("0::/user.slice/session-1.scope\n")
    monkeypatch.setattr(common, "PROC_SELF_CGROUP", str(own))
    return root


def make(root, path="/pyrunc-test/c1", files=FILES):
    m = cgroups.new_manager(path, "c1", root=str(root))
    m.create()
    for name, val in files.items():
        with open(os.path.join(m.path, name), "w") as f:
            f.write(val)
    return m


def rd(m, name):
    with open(os.path.join(m.path, name)) as f:
        return f.read()


def test_paths(tree):
    m = cgroups.new_manager("/a/b", "c1", root=str(tree))
    assert isinstance(m, cgroups.V2Manager) and m.path == f"{tree}/a/b"
    # relative: under the *parent* of our own cgroup (it holds processes)
    assert cgroups.new_manager("x", "c1", root=str(tree)).path == f"{tree}/user.slice/x"
    assert cgroups.new_manager(None, "c1", root=str(tree)).path == f"{tree}/user.slice/c1"
    assert m.path_for("memory") == m.path


def test_create_enables_controllers_in_ancestors(tree):
    (tree / "a").mkdir()
    (tree / "a" / "cgroup.subtree_control").write_text("")
    m = cgroups.new_manager("/a/b", "c1", root=str(tree))
    m.create()
    want = " ".join("+" + c for c in CONTROLLERS.split())
    assert (tree / "cgroup.subtree_control").read_text() == want
    assert (tree / "a" / "cgroup.subtree_control").read_text() == want
    assert os.path.isdir(tree / "a" / "b") and not os.path.exists(tree / "a" / "b" / "cgroup.subtree_control")


def test_apply_every_resource_converted(tree):
    m = make(tree)
    m.apply({
        "memory": {"limit": 1 << 30, "reservation": 1 << 29, "swap": 3 << 29, "swappiness": 5},
        "cpu": {"shares": 1024, "quota": 50000, "period": 200000, "burst": 1000, "cpus": "0-1", "mems": "0"},
        "pids": {"limit": 0},
        "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}],
        "rdma": {"mlx5_1": {"hcaObjects": 7}},
        "network": {"classID": 5},  # no v2 equivalent: ignored with a warning
    }, devices=False)
    assert rd(m, "memory.max") == str(1 << 30)
    assert rd(m, "memory.swap.max") == str(1 << 29)  # memsw 1.5G - memory 1G
    assert rd(m, "memory.low") == str(1 << 29)
    assert rd(m, "cpu.weight") == "39"
    assert rd(m, "cpu.max") == "50000 200000"
    assert rd(m, "cpu.max.burst") == "1000"
    assert rd(m, "cpuset.cpus") == "0-1"
    assert rd(m, "pids.max") == "0"
    assert rd(m, "io.weight") == "4950"  # no BFQ: converted to io.weight's range
    assert rd(m, "io.max") == "8:16 wiops=300"  # the last of the writes
    assert rd(m, "hugetlb.2MB.max") == str(4 << 20)
    assert rd(m, "rdma.max") == "mlx5_1 hca_object=7"


def test_bfq_weights(tree):
    m = make(tree, files={**FILES, "io.bfq.weight": "100"})
    m.apply({"blockIO": {"weight": 500}}, devices=False)
    assert rd(m, "io.bfq.weight") == "500"  # BFQ keeps the blkio range
    m.apply({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 700}]}}, devices=False)
    assert rd(m, "io.bfq.weight") == "8:0 700"


def test_unlimited_values(tree):
    m = make(tree)
    m.apply({"memory": {"limit": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}}, devices=False)
    assert rd(m, "memory.max") == "max"
    assert rd(m, "memory.swap.max") == "max"
    assert rd(m, "pids.max") == "max"
    assert rd(m, "cpu.max") == "max"


def test_period_alone_keeps_quota(tree):
    m = make(tree, files={**FILES, "cpu.max": "30000 100000"})
    m.update({"cpu": {"period": 50000}})
    assert rd(m, "cpu.max") == "30000 50000"


def test_idle_skips_weight(tree):
    m = make(tree)
    m.apply({"cpu": {"idle": 1, "shares": 4096}}, devices=False)
    assert rd(m, "cpu.idle") == "1" and rd(m, "cpu.weight") == "100"


def test_unified_overrides_and_is_checked(tree):
    m = make(tree)
    m.apply({"memory": {"limit": 100}, "unified": {"memory.max": "200", "pids.max": "9"}}, devices=False)
    assert rd(m, "memory.max") == "200" and rd(m, "pids.max") == "9"
    for bad in ("cgroup.procs", "cgroup.kill", "../memory.max", "a/b.c", "nodot"):
        with pytest.raises(CgroupError, match=r'^linux\.resources\.unified\["'):
            m.apply({"unified": {bad: "1"}}, devices=False)
    with pytest.raises(CgroupError, match=r'unified\["misc.max"\]: cannot set misc.max: the misc controller is '
                                          r"not available"):
        m.apply({"unified": {"misc.max": "1"}}, devices=False)


@pytest.mark.parametrize("res,msg", [
    ({"memory": {"swap": 100}}, r"^linux\.resources\.memory\.swap: unable to set swap limit without memory"),
    ({"memory": {"limit": 200, "swap": 100}}, r"memory\.swap: memory\+swap limit should be >= memory limit"),
    ({"memory": {"limit": 1024, "checkBeforeUpdate": True}},
     r"^linux\.resources\.memory\.limit: cannot set below current usage"),
    ({"cpu": {"realtimeRuntime": 5}}, r"cpu\.realtimeRuntime: realtime scheduling is not supported"),
    ({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 5}]}}, r"weightDevice\[0\]: per-device"),
    ({"hugepageLimits": [{"pageSize": "1GB", "limit": 1}]},
     r"hugepageLimits\[0\]\.pageSize: hugepage size 1GB is not supported"),
])
def test_errors_name_the_field(tree, res, msg):
    m = make(tree)
    with pytest.raises(CgroupError, match=msg):
        m.apply(res, devices=False)


def test_freeze_kill_state(tree):
    m = make(tree, files={**FILES, "cgroup.events": "populated 1\nfrozen 1"})
    m.add_pid(99)
    assert m.pids() == [99]
    m.freeze()
    assert m.frozen()
    m2 = cgroups.from_state(m.to_state())
    assert isinstance(m2, cgroups.V2Manager) and m2.path == m.path and m2.frozen()
    import signal

    m.kill_all(signal.SIGKILL)
    assert rd(m, "cgroup.kill") == "1"


def test_stats_shape(tree):
    st = make(tree).stats()
    assert st["cpu"] == {"usage": {"total": 5000, "kernel": 2000, "user": 3000},
                         "throttling": {"periods": 4, "throttled_periods": 1, "throttled_time": 9000}}
    assert st["memory"]["usage"] == {"limit": 2**64 - 1, "usage": 4096, "max": 8192, "failcnt": 3}
    assert st["memory"]["swap"]["usage"] == 4196  # swap + memory, v1's meaning
    assert st["memory"]["cache"] == 20
    assert st["pids"] == {"current": 2}
    assert st["blkio"]["ioServiceBytesRecursive"] == [{"major": 8, "op": "Read", "value": 10},
                                                      {"major": 8, "op": "Write", "value": 20}]
    assert st["blkio"]["ioServicedRecursive"][1] == {"major": 8, "op": "Write", "value": 2}
    assert st["hugetlb"] == {"2MB": {"failcnt": 0}}


def test_mounts_for_container(tree):
    m = make(tree)
    assert m.mounts_for_container(True, flags=0x1) == [
        {"destination": "/sys/fs/cgroup", "source": "cgroup", "fstype": "cgroup2", "flags": 0x1, "data": ""}]
    assert m.mounts_for_container(False) == [
        {"destination": "/sys/fs/cgroup", "source": m.path, "fstype": "bind", "flags": 0x5000, "data": ""}]


def test_destroy(tree):
    m = make(tree)
    os.makedirs(os.path.join(m.path, "inner"))
    m.destroy()
    assert not m.exists()


def test_from_state_rejects_garbage():
    with pytest.raises(CgroupError):
        cgroups.from_state({"version": 3})


def test_oom_kills(tree):
    m = make(tree, files={**FILES, "memory.events": "low 0\nmax 9\noom 2\noom_kill 2"})
    assert m.oom_kills() == 2
