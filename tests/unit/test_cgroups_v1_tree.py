"""The v1 manager on a fake hierarchy tree in tmp_path (plain files stand in
for the cgroupfs ones; each write replaces the file, so the last write is read)."""
from __future__ import annotations

import os
import shutil
import signal

import pytest
from pyrunc import cgroups
from pyrunc.cgroups import common
from pyrunc.errors import CgroupError

HIERARCHIES = ["cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
               "net_cls,net_prio", "rdma", "systemd"]

FILES = {
    "cpu,cpuacct": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1",
                    "cpu.cfs_burst_us": "0", "cpu.idle": "0", "cpu.rt_period_us": "1000000",
                    "cpu.rt_runtime_us": "0", "cpuacct.usage": "5000", "cpuacct.usage_percpu": "3000 2000",
                    "cpuacct.stat": "user 1\nsystem 2", "cpu.stat": "nr_periods 3\nnr_throttled 1\n"
                                                                   "throttled_time 7"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "0",
               "memory.soft_limit_in_bytes": "0", "memory.swappiness": "60", "memory.oom_control": "0",
               "memory.usage_in_bytes": "4096", "memory.max_usage_in_bytes": "8192", "memory.failcnt": "0",
               "memory.stat": "cache 100\ntotal_cache 200\nrss 5"},
    "devices": {"devices.allow": "", "devices.deny": ""},
    "freezer": {"freezer.state": "THAWED"},
    "blkio": {"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "", "blkio.leaf_weight": "",
              "blkio.leaf_weight_device": "", "blkio.throttle.read_bps_device": "",
              "blkio.throttle.write_bps_device": "", "blkio.throttle.read_iops_device": "",
              "blkio.throttle.write_iops_device": "",
              "blkio.throttle.io_service_bytes_recursive": "8:0 Read 10\n8:0 Write 20\nTotal 30"},
    "pids": {"pids.max": "max", "pids.current": "1"},
    "hugetlb": {"hugetlb.2MB.limit_in_bytes": "0", "hugetlb.2MB.usage_in_bytes": "0"},
    "net_cls,net_prio": {"net_cls.classid": "0", "net_prio.ifpriomap": ""},
    "rdma": {"rdma.max": ""},
    "systemd": {},
}


@pytest.fixture
def tree(tmp_path, monkeypatch):
    root = tmp_path / "cgroup"
    for h in HIERARCHIES:
        (root / h).mkdir(parents=True)
        for f in ("cgroup.procs",):
            (root / h / f).write_text("")
    (root / "cpuset" / "cpuset.cpus").write_text("0-3")
    (root / "cpuset" / "cpuset.mems").write_text("0")
    own = tmp_path / "self-cgroup"
    own.write_text("3:memory:/user/x\n2:cpu,cpuacct:/\n1:name=systemd:/sess\n0::/\n")
    monkeypatch.setattr(common, "PROC_SELF_CGROUP", str(own))
    return root


def make(root, path="/pyrunc-test/c1", **kw):
    m = cgroups.new_manager(path, "c1", root=str(root), **kw)
    m.create()
    for h, files in FILES.items():
        d = m.path_for(h.split(",")[0] if h != "systemd" else "name=systemd")
        for name, val in {"cgroup.procs": "", **files}.items():
            if not os.path.exists(os.path.join(d, name)):
                with open(os.path.join(d, name), "w") as f:
                    f.write(val)
    return m


def rd(m, ctrl, name):
    with open(os.path.join(m.path_for(ctrl), name)) as f:
        return f.read()


def test_layout_and_paths(tree):
    m = cgroups.new_manager("/a/b", "c1", root=str(tree))
    assert isinstance(m, cgroups.V1Manager)
    assert m.path_for("cpu") == m.path_for("cpuacct") == f"{tree}/cpu,cpuacct/a/b"
    assert m.path_for("name=systemd") == f"{tree}/systemd/a/b"
    assert m.path_for("misc") is None
    # relative and default paths: from the runtime's own cgroup, per hierarchy
    rel = cgroups.new_manager("x/y", "c1", root=str(tree))
    assert rel.path_for("memory") == f"{tree}/memory/user/x/x/y"
    assert rel.path_for("cpu") == f"{tree}/cpu,cpuacct/x/y"
    assert rel.path_for("name=systemd") == f"{tree}/systemd/sess/x/y"
    dflt = cgroups.new_manager("", "c1", root=str(tree))
    assert dflt.path_for("memory") == f"{tree}/memory/user/x/c1"
    # ".." cannot climb out of the hierarchy
    assert cgroups.new_manager("/../../etc", "c1", root=str(tree)).path_for("pids") == f"{tree}/pids/etc"


def test_create_copies_cpuset(tree):
    m = cgroups.new_manager("/a/b", "c1", root=str(tree))
    (tree / "cpuset" / "a").mkdir()
    (tree / "cpuset" / "a" / "cpuset.cpus").write_text("")
    (tree / "cpuset" / "a" / "cpuset.mems").write_text("")
    m.create()
    assert (tree / "cpuset" / "a" / "cpuset.cpus").read_text() == "0-3"
    assert all(os.path.isdir(m.path_for(s)) for s in m.paths)


def test_create_requires_devices(tree):
    shutil.rmtree(tree / "devices")
    m = cgroups.new_manager("/a", "c1", root=str(tree))
    with pytest.raises(CgroupError, match="devices cgroup hierarchy is not mounted"):
        m.create()


def test_apply_every_resource(tree):
    m = make(tree)
    m.apply({
        "memory": {"limit": 1 << 30, "reservation": 1 << 29, "swap": 2 << 30, "swappiness": 0,
                   "disableOOMKiller": True, "kernel": 5, "kernelTCP": 5},
        "cpu": {"shares": 512, "quota": 50000, "period": 200000, "burst": 1000, "realtimeRuntime": 900,
                "realtimePeriod": 1000, "cpus": "1", "mems": "0", "idle": 1},
        "pids": {"limit": 0},
        "blockIO": {"weight": 300, "leafWeight": 200,
                    "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300}],
                    "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                    "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 700}],
                    "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 800}],
                    "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}],
        "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
        "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
        "devices": [{"allow": False, "access": "rwm"}],
    })
    assert rd(m, "memory", "memory.limit_in_bytes") == str(1 << 30)
    assert rd(m, "memory", "memory.memsw.limit_in_bytes") == str(2 << 30)
    assert rd(m, "memory", "memory.soft_limit_in_bytes") == str(1 << 29)
    assert rd(m, "memory", "memory.swappiness") == "0"
    assert rd(m, "memory", "memory.oom_control") == "1"
    assert rd(m, "cpu", "cpu.shares") == "512"
    assert rd(m, "cpu", "cpu.cfs_quota_us") == "50000"
    assert rd(m, "cpu", "cpu.cfs_period_us") == "200000"
    assert rd(m, "cpu", "cpu.cfs_burst_us") == "1000"
    assert rd(m, "cpu", "cpu.idle") == "1"
    assert rd(m, "cpu", "cpu.rt_runtime_us") == "900"
    assert rd(m, "cpu", "cpu.rt_period_us") == "1000"
    assert rd(m, "cpuset", "cpuset.cpus") == "1"
    assert rd(m, "pids", "pids.max") == "0"
    assert rd(m, "blkio", "blkio.bfq.weight") == "300"  # no CFQ blkio.weight: BFQ's file
    assert rd(m, "blkio", "blkio.bfq.weight_device") == "8:0 500"
    assert rd(m, "blkio", "blkio.leaf_weight") == "200"
    assert rd(m, "blkio", "blkio.leaf_weight_device") == "8:0 300"
    assert rd(m, "blkio", "blkio.throttle.read_bps_device") == "8:0 600"
    assert rd(m, "blkio", "blkio.throttle.write_bps_device") == "8:0 700"
    assert rd(m, "blkio", "blkio.throttle.read_iops_device") == "8:0 800"
    assert rd(m, "blkio", "blkio.throttle.write_iops_device") == "8:16 300"
    assert rd(m, "hugetlb", "hugetlb.2MB.limit_in_bytes") == str(4 << 20)
    assert rd(m, "net_cls", "net_cls.classid") == "1048577"
    assert rd(m, "net_prio", "net_prio.ifpriomap") == "eth0 5"
    assert rd(m, "rdma", "rdma.max") == "mlx5_1 hca_handle=3 hca_object=10000"
    assert rd(m, "devices", "devices.allow") == "c 10:200 rwm"  # the last default rule
    assert rd(m, "devices", "devices.deny") == "a"


def test_apply_model_objects(tree):
    """The spec model's snake_case attributes work like the JSON keys."""

    class O:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    m = make(tree)
    m.apply(O(memory=O(limit=1234, disable_oom_killer=None), pids=O(limit=7), block_io=None,
              cpu=None, devices=[]), devices=False)
    assert rd(m, "memory", "memory.limit_in_bytes") == "1234"
    assert rd(m, "pids", "pids.max") == "7"


def test_memory_unlimited_sets_swap_unlimited(tree):
    m = make(tree)
    m.apply({"memory": {"limit": -1}}, devices=False)
    assert rd(m, "memory", "memory.limit_in_bytes") == "-1"
    assert rd(m, "memory", "memory.memsw.limit_in_bytes") == "-1"


@pytest.mark.parametrize("res,msg", [
    ({"memory": {"swappiness": 101}}, r"^linux\.resources\.memory\.swappiness: invalid value 101"),
    ({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]},
     r"^linux\.resources\.hugepageLimits\[0\]\.pageSize: hugepage size 3MB is not supported"),
    ({"hugepageLimits": [{"pageSize": "2M", "limit": 1}]}, r"hugepageLimits\[0\]\.pageSize: invalid"),
    ({"unified": {"memory.max": "5"}}, r"^linux\.resources\.unified: cannot use unified on cgroup v1"),
    ({"rdma": {"mlx": {}}}, r'^linux\.resources\.rdma\["mlx"\]: set at least one'),
    ({"devices": [{"allow": True, "type": "q"}]}, r"^linux\.resources\.devices\[0\]\.type"),
])
def test_apply_errors_name_the_field(tree, res, msg):
    m = make(tree)
    with pytest.raises(CgroupError, match=msg):
        m.apply(res)


def test_missing_hierarchy_is_an_error(tree):
    m = make(tree)
    del m.paths["pids"]
    with pytest.raises(CgroupError, match=r"linux\.resources\.pids\.limit: cannot set: the pids cgroup"):
        m.apply({"pids": {"limit": 5}}, devices=False)
    m.apply({"pids": {}}, devices=False)  # nothing asked: fine


def test_cpu_shares_clamped_by_kernel(tree):
    m = make(tree)
    real_write = common.write_raw

    def clamp(path, name, value):  # what the kernel does with too many shares
        real_write(path, name, "262144" if name == "cpu.shares" else value)

    import pyrunc.cgroups.common as c
    c.write_raw = clamp
    try:
        with pytest.raises(CgroupError, match=r"cpu\.shares: the maximum allowed cpu-shares is 262144"):
            m.apply({"cpu": {"shares": 999999}}, devices=False)
    finally:
        c.write_raw = real_write


def test_update_leaves_devices(tree):
    m = make(tree)
    m.update({"devices": [{"allow": False, "access": "rwm"}], "pids": {"limit": 3}})
    assert rd(m, "devices", "devices.deny") == ""
    assert rd(m, "pids", "pids.max") == "3"


def test_add_pid_pids_freeze_state(tree):
    m = make(tree)
    m.add_pid(4242)
    assert rd(m, "memory", "cgroup.procs") == "4242"
    os.makedirs(os.path.join(m.path_for("freezer"), "sub"))
    with open(os.path.join(m.path_for("freezer"), "sub", "cgroup.procs"), "w") as f:
        f.write("77\n78\n")
    assert m.pids() == [77, 78, 4242]
    # the fake freezer state flips at once, like an empty cgroup
    m.freeze()
    assert m.frozen() and rd(m, "freezer", "freezer.state") == "FROZEN"
    m2 = cgroups.from_state(m.to_state())
    assert m2.frozen() and m2.paths == m.paths
    m2.thaw()
    assert not m.frozen()


def test_stats_shape(tree):
    m = make(tree)
    st = m.stats()
    assert st["cpu"]["usage"]["total"] == 5000
    assert st["cpu"]["usage"]["percpu"] == [3000, 2000]
    assert st["cpu"]["throttling"] == {"periods": 3, "throttled_periods": 1, "throttled_time": 7}
    assert st["memory"]["usage"] == {"limit": 9223372036854771712, "usage": 4096, "max": 8192, "failcnt": 0}
    assert st["memory"]["cache"] == 200
    assert st["memory"]["raw"]["rss"] == 5
    assert st["pids"] == {"current": 1}  # limit "max" -> 0 -> omitted, as runc
    assert st["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 8, "op": "Read", "value": 10}, {"major": 8, "op": "Write", "value": 20}]
    assert st["hugetlb"] == {"2MB": {"failcnt": 0}}


def test_mounts_for_container(tree):
    m = make(tree)
    ms = m.mounts_for_container(False, flags=0x1)
    assert ms[0] == {"destination": "/sys/fs/cgroup", "source": "tmpfs", "fstype": "tmpfs",
                     "flags": 0x2 | 0x4 | 0x8, "data": "mode=755"}
    binds = {x["destination"]: x for x in ms[1:]}
    assert binds["/sys/fs/cgroup/cpu,cpuacct"]["source"] == m.path_for("cpu")
    assert binds["/sys/fs/cgroup/systemd"]["flags"] == 0x1 | 0x1000 | 0x4000
    ns = {x["destination"]: x for x in m.mounts_for_container(True)[1:]}
    assert ns["/sys/fs/cgroup/cpu,cpuacct"] == {"destination": "/sys/fs/cgroup/cpu,cpuacct", "source": "cgroup",
                                               "fstype": "cgroup", "flags": 0, "data": "cpu,cpuacct"}
    assert ns["/sys/fs/cgroup/systemd"]["data"] == "name=systemd"
    assert ("cpu,cpuacct", "/sys/fs/cgroup/cpu") in m.symlinks_for_container()


def test_destroy_and_kill_all_on_empty(tree):
    m = make(tree)
    m.kill_all(signal.SIGKILL)  # no pids: nothing to signal, freezer thawed again
    assert not m.frozen()
    m.destroy()
    assert not m.exists()
    m.destroy()  # idempotent


def test_rootless_skips_unwritable(tree):
    os.chmod(tree / "pids", 0o555)
    try:
        if os.access(tree / "pids", os.W_OK):
            pytest.skip("root ignores the mode")
        m = cgroups.new_manager("/a", "c1", root=str(tree), rootless=True)
        m.create()
        assert m.path_for("pids") is None and m.path_for("memory")
        with pytest.raises(CgroupError, match="rootless"):
            m.apply({"pids": {"limit": 1}}, devices=False)
    finally:
        os.chmod(tree / "pids", 0o755)


def test_oom_kills(tree):
    m = make(tree)
    with open(os.path.join(m.path_for("memory"), "memory.oom_control"), "w") as f:
        f.write("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
    assert m.oom_kills() == 3
