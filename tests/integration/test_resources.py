"""linux.resources applied at create: every field written to the container's
cgroup files (read back here), the limits felt from inside (OOM kill, fork
bomb, devices), errors that name the field and leave nothing behind, and
delete removing every cgroup directory."""
from __future__ import annotations

import os
from typing import Any

import pytest
from cgroup_util import (
    V2,
    MiB,
    cg_exists,
    cg_read,
    cgroup_dirs,
    delete_and_check_gone,
    init_pid,
    needs_v1,
    needs_v2,
    out_file,
    run_detached,
    set_resources,
)
from conftest import Bundle, Runtime, is_pyrunc, wait_for


def _block_device() -> tuple[int, int] | None:
    """major:minor of a real disk (throttle rules need an existing device)."""
    for name in sorted(os.listdir("/sys/block")):
        if name.startswith(("loop", "ram", "zram")):
            continue
        try:
            with open(f"/sys/block/{name}/dev") as f:
                major, minor = f.read().strip().split(":")
            return int(major), int(minor)
        except OSError:
            continue
    return None


def _start(runtime: Runtime, bundle: Bundle, **resources: Any) -> tuple[str, dict[str, str]]:
    set_resources(bundle, **resources)
    bundle.set_args("sleep", "600")
    cid = run_detached(runtime, bundle)
    return cid, cgroup_dirs(init_pid(runtime, cid))


COMMON = {
    "memory": {"limit": 96 * MiB, "reservation": 48 * MiB, "swap": 192 * MiB},
    "cpu": {"shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"},
    "pids": {"limit": 77},
}


@needs_v1
def test_resources_v1_written_at_create(runtime: Runtime, bundle: Bundle) -> None:
    res: dict[str, Any] = {k: dict(v) for k, v in COMMON.items()}
    res["memory"].update(swappiness=20, disableOOMKiller=False)
    dev = _block_device()
    if dev:
        res["blockIO"] = {"throttleReadBpsDevice": [{"major": dev[0], "minor": dev[1], "rate": 1048576}],
                          "throttleWriteIOPSDevice": [{"major": dev[0], "minor": dev[1], "rate": 300}]}
    cid, dirs = _start(runtime, bundle, **res)
    try:
        m = lambda name: cg_read(dirs, "memory", name)
        assert m("memory.limit_in_bytes") == str(96 * MiB)
        assert m("memory.soft_limit_in_bytes") == str(48 * MiB)
        if cg_exists(dirs, "memory", "memory.memsw.limit_in_bytes"):
            assert m("memory.memsw.limit_in_bytes") == str(192 * MiB)
        assert m("memory.swappiness") == "20"
        assert "oom_kill_disable 0" in m("memory.oom_control")
        assert cg_read(dirs, "cpu", "cpu.shares") == "512"
        assert cg_read(dirs, "cpu", "cpu.cfs_quota_us") == "20000"
        assert cg_read(dirs, "cpu", "cpu.cfs_period_us") == "100000"
        assert cg_read(dirs, "cpuset", "cpuset.cpus") == "0"
        assert cg_read(dirs, "cpuset", "cpuset.mems") == "0"
        assert cg_read(dirs, "pids", "pids.max") == "77"
        if dev:
            assert cg_read(dirs, "blkio", "blkio.throttle.read_bps_device") == f"{dev[0]}:{dev[1]} 1048576"
            assert cg_read(dirs, "blkio", "blkio.throttle.write_iops_device") == f"{dev[0]}:{dev[1]} 300"
    finally:
        delete_and_check_gone(runtime, cid, dirs)


@needs_v2
def test_resources_v2_written_at_create(runtime: Runtime, bundle: Bundle) -> None:
    res: dict[str, Any] = {k: dict(v) for k, v in COMMON.items()}
    res["unified"] = {"memory.high": str(80 * MiB)}
    dev = _block_device()
    if dev:
        res["blockIO"] = {"throttleReadBpsDevice": [{"major": dev[0], "minor": dev[1], "rate": 1048576}]}
    cid, dirs = _start(runtime, bundle, **res)
    try:
        r = lambda name: cg_read(dirs, "", name)
        assert r("memory.max") == str(96 * MiB)
        assert r("memory.low") == str(48 * MiB)
        if cg_exists(dirs, "", "memory.swap.max"):
            assert r("memory.swap.max") == str(96 * MiB)  # memory+swap 192M minus memory 96M
        assert r("memory.high") == str(80 * MiB)  # unified, raw
        assert r("cpu.weight") == str(1 + (512 - 2) * 9999 // 262142)  # runc 1.2's shares conversion
        assert r("cpu.max") == "20000 100000"
        assert r("cpuset.cpus") == "0"
        assert r("cpuset.mems") == "0"
        assert r("pids.max") == "77"
        if dev:
            assert f"{dev[0]}:{dev[1]} rbps=1048576" in r("io.max")
    finally:
        delete_and_check_gone(runtime, cid, dirs)


def test_hugepage_limits(runtime: Runtime, bundle: Bundle) -> None:
    probe = os.path.join("/sys/fs/cgroup", "hugetlb.2MB.max" if V2 else "hugetlb")
    if V2:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            if "hugetlb" not in f.read().split():
                pytest.skip("the hugetlb controller is not enabled")
    elif not os.path.isdir(probe):
        pytest.skip("no hugetlb hierarchy is mounted")
    cid, dirs = _start(runtime, bundle, hugepageLimits=[{"pageSize": "2MB", "limit": 4 * MiB}])
    try:
        name = "hugetlb.2MB.max" if V2 else "hugetlb.2MB.limit_in_bytes"
        assert cg_read(dirs, "hugetlb", name) == str(4 * MiB)
    finally:
        delete_and_check_gone(runtime, cid, dirs)


def test_memory_limit_oom_kills_inside(runtime: Runtime, bundle: Bundle) -> None:
    out = out_file(bundle)
    set_resources(bundle, memory={"limit": 16 * MiB})
    bundle.set_args("sh", "-c", "sh -c 'x=$(head -c 64000000 /dev/zero | tr \"\\0\" a)'; echo $? > /out/status; "
                                "exec sleep 600")
    cid = run_detached(runtime, bundle)
    try:
        dirs = cgroup_dirs(init_pid(runtime, cid))

        def oom_killed() -> bool:
            if V2:
                return "oom_kill 0" not in cg_read(dirs, "", "memory.events")
            return "oom_kill 0" not in cg_read(dirs, "memory", "memory.oom_control")

        def status() -> str:
            return (out / "status").read_text().strip() if (out / "status").exists() else ""

        # The kernel's OOM killer acted in the container's cgroup. Which task it
        # picks is the kernel's choice; when it is the hog, the shell sees 137.
        wait_for(lambda: oom_killed() and (status() or not runtime.state(cid)["status"] == "running"),
                 timeout=120, what="an OOM kill in the container's cgroup")
        assert oom_killed()
        if status():
            assert status() == "137"  # SIGKILL
    finally:
        delete_and_check_gone(runtime, cid, dirs)


def test_fork_bomb_stops_at_pids_limit(runtime: Runtime, bundle: Bundle) -> None:
    out_file(bundle)
    set_resources(bundle, pids={"limit": 10})
    # each child forks two more until fork fails; then they all sit and wait
    bomb = "b() { sleep 5; b & b & wait; }; b"
    bundle.set_args("sh", "-c", f"sh -c '{bomb}' 2>/dev/null & sleep 2; touch /out/done; exec sleep 600")
    cid = run_detached(runtime, bundle)
    try:
        dirs = cgroup_dirs(init_pid(runtime, cid))
        wait_for(lambda: "max 0" not in cg_read(dirs, "pids", "pids.events"), timeout=30, what="a refused fork")
        assert int(cg_read(dirs, "pids", "pids.current")) <= 10
        assert cg_read(dirs, "pids", "pids.max") == "10"
        peak = "pids.peak"
        if cg_exists(dirs, "pids", peak):
            assert int(cg_read(dirs, "pids", peak)) <= 10
    finally:
        delete_and_check_gone(runtime, cid, dirs)


def _kmsg(bundle: Bundle, allow: bool) -> None:
    def fn(c: dict[str, Any]) -> None:
        c["linux"].setdefault("devices", []).append(
            {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o666})
        if allow:
            c["linux"]["resources"]["devices"].append(
                {"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"})
    bundle.update(fn)


@pytest.mark.parametrize("allow", [False, True], ids=["denied", "allowed"])
def test_device_rules_inside(runtime: Runtime, bundle: Bundle, allow: bool) -> None:
    # /dev/kmsg (1:11) is not in the default allow list: only a rule opens it.
    # Opened write-only, which needs no capability (reading needs CAP_SYSLOG),
    # so the device cgroup (v1) or eBPF program (v2) is the only gate.
    _kmsg(bundle, allow)
    bundle.set_args("sleep", "600")
    cid = run_detached(runtime, bundle)
    try:
        dirs = cgroup_dirs(init_pid(runtime, cid))
        r = runtime("exec", cid, "sh", "-c", "exec 3>/dev/kmsg && echo opened")
        if allow:
            assert r.rc == 0 and r.out.strip() == "opened", r
        else:
            assert r.rc != 0 and "Operation not permitted" in r.err, r
        # the default allow list still works
        assert runtime("exec", cid, "sh", "-c", "echo x > /dev/null && head -c 1 /dev/zero >/dev/null").rc == 0
        if not V2:
            listing = cg_read(dirs, "devices", "devices.list")
            assert ("c 1:11 w" in listing.splitlines()) is allow
    finally:
        delete_and_check_gone(runtime, cid, dirs)


def _create_fails(runtime: Runtime, bundle: Bundle, **resources: Any) -> str:
    set_resources(bundle, **resources)
    bundle.set_args("sleep", "600")
    cid = runtime.new_id()
    r = runtime("create", "-b", str(bundle.path), cid)
    assert r.rc == 1, r
    assert runtime("state", cid).rc == 1
    assert not (runtime.root / cid).exists()
    left = []
    for base, _dirs, _files in os.walk("/sys/fs/cgroup"):
        if os.path.basename(base) == cid:
            left.append(base)
        if base.count("/") > 7:
            _dirs[:] = []
    assert left == [], f"cgroups left behind: {left}"
    return r.error_text()


@pytest.mark.parametrize("resources,field", [
    ({"cpu": {"cpus": "99"}}, "linux.resources.cpu.cpus"),
    ({"cpu": {"mems": "7"}}, "linux.resources.cpu.mems"),
    ({"pids": {"limit": 10}, "memory": {"limit": 32 * MiB, "swap": 16 * MiB}}, "linux.resources.memory.swap"),
    ({"hugepageLimits": [{"pageSize": "3MB", "limit": 0}]}, "linux.resources.hugepageLimits[0]"),
])
def test_create_error_names_the_field(runtime: Runtime, bundle: Bundle, resources: dict[str, Any],
                                      field: str) -> None:
    text = _create_fails(runtime, bundle, **resources)
    if is_pyrunc():
        assert text.startswith(field), text


@needs_v1
def test_create_error_v1_only_fields(runtime: Runtime, bundle: Bundle) -> None:
    text = _create_fails(runtime, bundle, memory={"swappiness": 200})
    if is_pyrunc():
        assert text.startswith("linux.resources.memory.swappiness"), text
    text = _create_fails(runtime, bundle, memory={}, unified={"memory.high": "1000"})
    if is_pyrunc():
        assert text.startswith("linux.resources.unified"), text


@needs_v2
def test_create_error_v2_only_fields(runtime: Runtime, bundle: Bundle) -> None:
    text = _create_fails(runtime, bundle, unified={"cgroup.procs": "1"})
    if is_pyrunc():
        assert text.startswith('linux.resources.unified["cgroup.procs"]'), text
    text = _create_fails(runtime, bundle, unified={"memory.nonexistent": "1"})
    if is_pyrunc():
        assert text.startswith('linux.resources.unified["memory.nonexistent"]'), text
