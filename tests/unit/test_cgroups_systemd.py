"""systemd driver: cgroupsPath parsing and the "systemd not running" error."""
from __future__ import annotations

import pytest
from pyrunc import cgroups
from pyrunc.cgroups import systemd
from pyrunc.errors import CgroupError


def test_parse_default():
    p = systemd.parse("", "abc")
    assert (p.slice, p.prefix, p.name, p.unit) == ("system.slice", "pyrunc", "abc", "pyrunc-abc.scope")


@pytest.mark.parametrize("path,unit,slice_", [
    ("machine.slice:docker:abc", "docker-abc.scope", "machine.slice"),
    (":cri:xyz", "cri-xyz.scope", "system.slice"),
    ("user.slice::xyz", "xyz.scope", "user.slice"),
    ("system.slice:x:pod-1.slice", "pod-1.slice", "system.slice"),
])
def test_parse(path, unit, slice_):
    p = systemd.parse(path, "ignored")
    assert p.unit == unit and p.slice == slice_


@pytest.mark.parametrize("path", ["/abs/path", "a:b", "a:b:c:d", "x.slice:p:", "notaslice:p:n"])
def test_parse_rejects(path):
    with pytest.raises(CgroupError, match="linux.cgroupsPath"):
        systemd.parse(path, "id")


@pytest.mark.parametrize("name,path", [
    ("-.slice", "/"), ("system.slice", "/system.slice"),
    ("kubepods-burstable-pod1.slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice"),
])
def test_slice_path(name, path):
    assert systemd.slice_path(name) == path


@pytest.mark.parametrize("name", ["a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "a.scope"])
def test_slice_path_rejects(name):
    with pytest.raises(CgroupError):
        systemd.slice_path(name)


def test_unit_path():
    assert systemd.unit_path(systemd.parse("a-b.slice:p:n", "x")) == "/a.slice/a-b.slice/p-n.scope"


def test_not_running(tmp_path):
    with pytest.raises(CgroupError, match="systemd not running"):
        systemd.check_available(str(tmp_path / "nope"))


def test_new_manager_systemd_without_systemd(monkeypatch, tmp_path):
    monkeypatch.setattr(systemd, "SYSTEMD_RUNDIR", str(tmp_path / "nope"))
    monkeypatch.setattr(systemd.check_available, "__defaults__", (str(tmp_path / "nope"),))
    with pytest.raises(CgroupError, match="systemd not running"):
        cgroups.new_manager(":pyrunc:x", "x", systemd=True, root=str(tmp_path))
    with pytest.raises(CgroupError, match="slice:prefix:name"):
        cgroups.new_manager("/bad", "x", systemd=True, root=str(tmp_path))


# -- busctl argument lists (pure) -----------------------------------------------------------
from pyrunc.cgroups import systemd_bus as sb  # noqa: E402

MAXU = 2**64 - 1


@pytest.mark.parametrize("sig,val,args", [
    ("b", True, ["true"]), ("b", False, ["false"]), ("s", "x y", ["x y"]), ("t", MAXU, [str(MAXU)]),
    ("au", [12, 34], ["2", "12", "34"]), ("ay", [], ["0"]), ("as", ["a.slice"], ["1", "a.slice"]),
])
def test_value_args(sig, val, args):
    assert sb.value_args(sig, val) == args


@pytest.mark.parametrize("sig,val", [("t", "1"), ("t", True), ("a(sv)", []), ("v", 1)])
def test_value_args_rejects(sig, val):
    with pytest.raises(ValueError):
        sb.value_args(sig, val)


def test_props_args():
    assert sb.props_args([("Slice", "s", "system.slice"), ("PIDs", "au", [7]), ("Delegate", "b", True)]) == [
        "3", "Slice", "s", "system.slice", "PIDs", "au", "1", "7", "Delegate", "b", "true"]
    assert sb.props_args([]) == ["0"]


@pytest.mark.parametrize("unit,path", [
    ("pyrunc-abc.scope", "/org/freedesktop/systemd1/unit/pyrunc_2dabc_2escope"),
    ("a_b@1.service", "/org/freedesktop/systemd1/unit/a_5fb_401_2eservice"),
    ("", "/org/freedesktop/systemd1/unit/_"),
])
def test_unit_object_path(unit, path):
    assert sb.unit_object_path(unit) == path


def test_method_args():
    assert sb.start_transient_unit_args("p-x.scope", [("Delegate", "b", True)]) == [
        "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
        "StartTransientUnit", "ssa(sv)a(sa(sv))", "p-x.scope", "replace", "1", "Delegate", "b", "true", "0"]
    assert sb.stop_unit_args("p-x.scope")[4:] == ["StopUnit", "ss", "p-x.scope", "replace"]
    assert sb.reset_failed_unit_args("p-x.scope")[4:] == ["ResetFailedUnit", "s", "p-x.scope"]
    assert sb.set_unit_properties_args("p-x.scope", [("TasksMax", "t", 5)])[4:] == [
        "SetUnitProperties", "sba(sv)", "p-x.scope", "true", "1", "TasksMax", "t", "5"]
    assert sb.unit_property_args("p-x.scope", "ActiveState") == [
        "get-property", "org.freedesktop.systemd1", "/org/freedesktop/systemd1/unit/p_2dx_2escope",
        "org.freedesktop.systemd1.Unit", "ActiveState"]
    assert sb.manager_property_args("ControlGroup")[3:] == ["org.freedesktop.systemd1.Manager", "ControlGroup"]


@pytest.mark.parametrize("out,val", [('s "active"\n', "active"), ('s "a\\"b"', 'a"b'), ("u 5", "5")])
def test_parse_property(out, val):
    assert sb.parse_property(out) == val


@pytest.mark.parametrize("spec,bits", [
    ("0", [1]), ("0-3", [15]), ("1,3", [10]), ("8", [0, 1]), ("0-9", [255, 3]), ("7,16", [128, 0, 1]),
])
def test_list_to_bits(spec, bits):
    assert sb.list_to_bits(spec) == bits


@pytest.mark.parametrize("spec", ["", "a", "3-1", "-1", ","])
def test_list_to_bits_rejects(spec):
    with pytest.raises(CgroupError):
        sb.list_to_bits(spec)


@pytest.mark.parametrize("quota,period,props", [
    (None, None, []),
    (50000, 100000, [("CPUQuotaPeriodUSec", "t", 100000), ("CPUQuotaPerSecUSec", "t", 500000)]),
    (50000, None, [("CPUQuotaPerSecUSec", "t", 500000)]),  # default period 100ms
    (1234, 100000, [("CPUQuotaPeriodUSec", "t", 100000), ("CPUQuotaPerSecUSec", "t", 20000)]),  # 12340 -> 10ms steps up
    (-1, 50000, [("CPUQuotaPeriodUSec", "t", 50000), ("CPUQuotaPerSecUSec", "t", MAXU)]),
    (-1, None, [("CPUQuotaPerSecUSec", "t", MAXU)]),
])
def test_cpu_quota_props(quota, period, props):
    assert sb.cpu_quota_props(quota, period) == props


RES = {"memory": {"limit": 1 << 30, "reservation": 1 << 29, "swap": 3 << 29},
       "cpu": {"shares": 1024, "quota": 20000, "period": 100000, "cpus": "0-1", "mems": "0"},
       "pids": {"limit": 100}, "blockIO": {"weight": 500}}


def test_resource_props_v2():
    assert sb.resource_props(RES, 2) == [
        ("MemoryMax", "t", 1 << 30), ("MemoryLow", "t", 1 << 29), ("MemorySwapMax", "t", 1 << 29),
        ("CPUWeight", "t", 39), ("CPUQuotaPeriodUSec", "t", 100000), ("CPUQuotaPerSecUSec", "t", 200000),
        ("AllowedCPUs", "ay", [3]), ("AllowedMemoryNodes", "ay", [1]), ("TasksMax", "t", 100),
        ("IOWeight", "t", 4950)]


def test_resource_props_v1():
    assert sb.resource_props(RES, 1) == [
        ("MemoryLimit", "t", 1 << 30), ("CPUShares", "t", 1024), ("CPUQuotaPeriodUSec", "t", 100000),
        ("CPUQuotaPerSecUSec", "t", 200000), ("TasksMax", "t", 100), ("BlockIOWeight", "t", 500)]


def test_resource_props_edges():
    assert sb.resource_props(None, 2) == []
    assert sb.resource_props({}, 1) == []
    # unlimited is systemd's infinity; pids 0 (a real limit) is left to the file
    assert sb.resource_props({"memory": {"limit": -1}, "pids": {"limit": 0}}, 2) == [
        ("MemoryMax", "t", MAXU), ("MemorySwapMax", "t", MAXU)]
    assert sb.resource_props({"pids": {"limit": -1}}, 1) == [("TasksMax", "t", MAXU)]
    with pytest.raises(CgroupError, match="memory.swap"):
        sb.resource_props({"memory": {"limit": 100, "swap": 50}}, 2)


def test_unit_props():
    props = sb.unit_props("pyrunc-c1.scope", "system.slice", 42, 2, "c1", {"pids": {"limit": 9}})
    assert props == [
        ("Description", "s", "pyrunc container c1"), ("Slice", "s", "system.slice"), ("Delegate", "b", True),
        ("PIDs", "au", [42]), ("DefaultDependencies", "b", False), ("MemoryAccounting", "b", True),
        ("CPUAccounting", "b", True), ("TasksAccounting", "b", True), ("IOAccounting", "b", True),
        ("TasksMax", "t", 9)]
    v1 = dict((n, v) for n, _s, v in sb.unit_props("x.scope", "a.slice", 1, 1, "c"))
    assert v1["BlockIOAccounting"] is True and "IOAccounting" not in v1


def test_parse_rootless_default_slice():
    assert systemd.parse("", "c", rootless=True).slice == "user.slice"
    assert systemd.parse(":p:n", "c", rootless=True).slice == "user.slice"
    assert systemd.parse("a.slice:p:n", "c", rootless=True).slice == "a.slice"


# -- the manager against a fake busctl on PATH ---------------------------------------------
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

FAKE = r'''#!PYTHON
import json, os, shutil, sys
a = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps(a) + "\n")
scope = os.environ.get("FAKE_SCOPE", "")
if "StartTransientUnit" in a:
    if os.path.exists(os.environ["FAKE_LOG"] + ".exists"):
        os.unlink(os.environ["FAKE_LOG"] + ".exists")
        sys.stderr.write("Call failed: Unit %s already exists.\n" % a[7])
        sys.exit(1)
    os.makedirs(scope, exist_ok=True)  # systemd makes the scope's cgroup (files as cgroupfs has them)
    for name, val in [("cgroup.controllers", "cpu memory pids"), ("cgroup.procs", ""), ("memory.max", "max"),
                      ("memory.swap.max", "max"), ("cpu.max", "max 100000"), ("pids.max", "max")]:
        with open(os.path.join(scope, name), "w") as f:
            f.write(val)
    print('o "/org/freedesktop/systemd1/job/7"')
elif "StopUnit" in a:
    if not os.path.isdir(scope):
        sys.stderr.write("Call failed: Unit %s not loaded.\n" % a[7])
        sys.exit(1)
    shutil.rmtree(scope)
    print('o "/org/freedesktop/systemd1/job/8"')
elif a[-1] == "ActiveState":
    print('s "%s"' % os.environ.get("FAKE_STATE", "active"))
elif "ResetFailedUnit" in a:
    sys.stderr.write("Call failed: Unit %s not loaded.\n" % a[7])
    sys.exit(1)
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "busctl").write_text(FAKE.replace("PYTHON", sys.executable))
    os.chmod(bindir / "busctl", 0o755)
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids")
    rundir = tmp_path / "run-systemd"
    rundir.mkdir()
    log = tmp_path / "log"
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_SCOPE", str(root / "machine.slice" / "ctr-c1.scope"))
    monkeypatch.setattr(systemd, "SYSTEMD_RUNDIR", str(rundir))

    def calls():
        out = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        log.write_text("")
        return out
    return root, calls


BASE = ["org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"]
STATE = ["--system", "get-property", "org.freedesktop.systemd1",
         "/org/freedesktop/systemd1/unit/ctr_2dc1_2escope", "org.freedesktop.systemd1.Unit", "ActiveState"]


def test_manager_create_apply_destroy(fake):
    root, calls = fake
    m = cgroups.new_manager("machine.slice:ctr:c1", "c1", systemd=True, root=str(root))
    assert isinstance(m, systemd.SystemdManager) and m.version == 2
    assert m.path == f"{root}/machine.slice/ctr-c1.scope" and m.path_for("memory") == m.path
    st = m.to_state()
    assert (st["driver"], st["unit"], st["slice"], st["path"]) == ("systemd", "ctr-c1.scope", "machine.slice", m.path)
    m.create()
    m.apply({"memory": {"limit": 1 << 20}, "pids": {"limit": 10}, "cpu": {"quota": 50000, "period": 100000}},
            devices=False)
    assert calls() == []  # the scope needs a pid: it starts in add_pid
    m.add_pid(4242)
    assert calls() == [
        ["--system", "call", *BASE, "StartTransientUnit", "ssa(sv)a(sa(sv))", "ctr-c1.scope", "replace", "13",
         "Description", "s", "pyrunc container c1", "Slice", "s", "machine.slice", "Delegate", "b", "true",
         "PIDs", "au", "1", "4242", "DefaultDependencies", "b", "false", "MemoryAccounting", "b", "true",
         "CPUAccounting", "b", "true", "TasksAccounting", "b", "true", "IOAccounting", "b", "true",
         "MemoryMax", "t", str(1 << 20), "CPUQuotaPeriodUSec", "t", "100000", "CPUQuotaPerSecUSec", "t", "500000",
         "TasksMax", "t", "10", "0"],
        STATE]
    # the fs driver wrote the exact values into the scope's directory
    with open(os.path.join(m.path, "memory.max")) as f:
        assert f.read() == str(1 << 20)
    with open(os.path.join(m.path, "cpu.max")) as f:
        assert f.read() == "50000 100000"
    assert m.to_state() == st
    # a later command (update, delete) rebuilt from state.json
    m2 = cgroups.from_state(json.loads(json.dumps(st)))
    assert isinstance(m2, systemd.SystemdManager) and m2.unit == "ctr-c1.scope"
    m2.update({"pids": {"limit": 20}})
    assert calls() == [["--system", "call", *BASE, "SetUnitProperties", "sba(sv)", "ctr-c1.scope", "true",
                        "1", "TasksMax", "t", "20"]]
    with open(os.path.join(m.path, "pids.max")) as f:
        assert f.read() == "20"
    m2.destroy()
    assert calls() == [["--system", "call", *BASE, "StopUnit", "ss", "ctr-c1.scope", "replace"],
                       ["--system", "call", *BASE, "ResetFailedUnit", "s", "ctr-c1.scope"]]
    assert not os.path.exists(m.path)
    m2.destroy()  # idempotent: the unit is not asked for twice
    assert calls() == []
    # a never-started unit (create failed early) is "not loaded": no error
    systemd.SystemdManager(m2.inner, "ctr-c1.scope", "machine.slice").destroy()


def test_manager_unit_exists_and_failed(fake, monkeypatch, tmp_path):
    root, calls = fake
    (tmp_path / "log.exists").write_text("")
    m = cgroups.new_manager("machine.slice:ctr:c1", "c1", systemd=True, root=str(root))
    m.add_pid(1)
    names = [c[5] if c[1] == "call" else c[-1] for c in calls()]
    assert names == ["StartTransientUnit", "ResetFailedUnit", "StartTransientUnit", "ActiveState"]
    m.destroy()
    monkeypatch.setenv("FAKE_STATE", "failed")
    m = cgroups.new_manager("machine.slice:ctr:c1", "c1", systemd=True, root=str(root))
    with pytest.raises(CgroupError, match="ctr-c1.scope failed"):
        m.add_pid(1)
    m.destroy()
    assert not os.path.exists(m.path)
