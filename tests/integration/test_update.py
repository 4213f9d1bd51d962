"""`update`: flags and -r (file or stdin) change the limits of a live
container, read back from its cgroup files and felt from inside; the state
keeps the new values; devices never change; runc's errors."""
from __future__ import annotations

import json
import os

import pytest
from cgroup_util import (
    V2,
    MiB,
    cg_exists,
    cg_read,
    cgroup_dirs,
    init_pid,
    run_detached,
    set_resources,
)
from conftest import Bundle, Runtime, is_pyrunc, wait_for

V1_UNLIMITED = "9223372036854771712"  # LONG_MAX rounded down to a page


def _running(runtime: Runtime, bundle: Bundle) -> tuple[str, dict[str, str]]:
    bundle.set_args("sleep", "600")
    cid = run_detached(runtime, bundle)
    return cid, cgroup_dirs(init_pid(runtime, cid))


def _mem_limit(dirs: dict[str, str]) -> str:
    return cg_read(dirs, "", "memory.max") if V2 else cg_read(dirs, "memory", "memory.limit_in_bytes")


def _pids_max(dirs: dict[str, str]) -> str:
    return cg_read(dirs, "pids", "pids.max")


def test_update_flags_are_written_live(runtime: Runtime, bundle: Bundle) -> None:
    cid, dirs = _running(runtime, bundle)
    try:
        runtime.ok("update", "--memory", "64M", "--memory-reservation", "32m", "--memory-swap", "128M",
                   "--pids-limit", "42", "--cpu-share", "512", "--cpu-period", "100000",
                   "--cpu-quota", "50000", "--cpuset-cpus", "0", cid)
        assert _mem_limit(dirs) == str(64 * MiB)
        assert _pids_max(dirs) == "42"
        if V2:
            assert cg_read(dirs, "", "memory.low") == str(32 * MiB)
            if cg_exists(dirs, "", "memory.swap.max"):
                assert cg_read(dirs, "", "memory.swap.max") == str(64 * MiB)  # memsw - memory
            assert cg_read(dirs, "", "cpu.weight") == str(1 + (512 - 2) * 9999 // 262142)
            assert cg_read(dirs, "", "cpu.max") == "50000 100000"
            assert cg_read(dirs, "", "cpuset.cpus") == "0"
        else:
            assert cg_read(dirs, "memory", "memory.soft_limit_in_bytes") == str(32 * MiB)
            if cg_exists(dirs, "memory", "memory.memsw.limit_in_bytes"):
                assert cg_read(dirs, "memory", "memory.memsw.limit_in_bytes") == str(128 * MiB)
            assert cg_read(dirs, "cpu", "cpu.shares") == "512"
            assert cg_read(dirs, "cpu", "cpu.cfs_quota_us") == "50000"
            assert cg_read(dirs, "cpu", "cpu.cfs_period_us") == "100000"
            assert cg_read(dirs, "cpuset", "cpuset.cpus") == "0"
        # one flag leaves the others alone
        runtime.ok("update", "--pids-limit", "43", cid)
        assert _mem_limit(dirs) == str(64 * MiB)
        assert _pids_max(dirs) == "43"
        # -1: unlimited (swap follows the memory limit)
        runtime.ok("update", "--memory", "-1", "--pids-limit", "-1", cid)
        assert _mem_limit(dirs) == ("max" if V2 else V1_UNLIMITED)
        assert _pids_max(dirs) == "max"
    finally:
        runtime.ok("delete", "-f", cid)


def test_update_blkio_weight(runtime: Runtime, bundle: Bundle) -> None:
    cid, dirs = _running(runtime, bundle)
    try:
        names = ["io.bfq.weight", "io.weight"] if V2 else ["blkio.weight", "blkio.bfq.weight"]
        have = [n for n in names if cg_exists(dirs, "blkio", n)]
        if not have:
            pytest.skip(f"no {' or '.join(names)} on this kernel (no CFQ/BFQ io scheduler)")
        runtime.ok("update", "--blkio-weight", "300", cid)
        got = cg_read(dirs, "blkio", have[0])
        want = "300" if "bfq" in have[0] else str(1 + (300 - 10) * 9999 // 990)
        assert got.split()[-1] == want
    finally:
        runtime.ok("delete", "-f", cid)


def test_update_resources_from_stdin_and_file(runtime: Runtime, bundle: Bundle, tmp_path) -> None:
    cid, dirs = _running(runtime, bundle)
    try:
        # containerd's shape: a full LinuxResources, zeros for what it leaves alone
        full = {"memory": {"limit": 48 * MiB, "reservation": 0, "swap": 0},
                "cpu": {"shares": 0, "quota": 0, "period": 0, "realtimeRuntime": 0, "realtimePeriod": 0,
                        "cpus": "", "mems": ""},
                "blockIO": {"weight": 0}, "pids": {"limit": 30}}
        runtime.ok("update", "--resources=-", cid, input=json.dumps(full).encode())
        assert _mem_limit(dirs) == str(48 * MiB)
        assert _pids_max(dirs) == "30"
        path = tmp_path / "res.json"
        path.write_text(json.dumps({"pids": {"limit": 31}}))
        # with -r the other flags are ignored (runc)
        runtime.ok("update", "-r", str(path), "--pids-limit", "99", cid)
        assert _pids_max(dirs) == "31"
        assert _mem_limit(dirs) == str(48 * MiB)
        if is_pyrunc():
            state = json.loads((runtime.root / cid / "state.json").read_text())
            res = state["config"]["linux"]["resources"]
            assert res["memory"]["limit"] == 48 * MiB and res["pids"]["limit"] == 31
            assert "shares" not in res.get("cpu", {})  # a zero meant "unchanged"
    finally:
        runtime.ok("delete", "-f", cid)


def test_update_limit_is_felt_inside(runtime: Runtime, bundle: Bundle) -> None:
    out = bundle.path / "out"
    bundle.add_bind(out, "/out")
    # a child shell forks 10 sleeps once told to; pids.max 4 stops it (busybox
    # sh gives up at the first failed fork), and the init carries on
    bundle.set_args("sh", "-c", "while [ ! -e /out/go ]; do sleep 0.05; done; "
                                "sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 600 & done; wait'; "
                                "exec sleep 600")
    cid = run_detached(runtime, bundle)
    try:
        dirs = cgroup_dirs(init_pid(runtime, cid))
        runtime.ok("update", "--pids-limit", "4", cid)
        (out / "go").write_text("")
        wait_for(lambda: "max 0" not in cg_read(dirs, "pids", "pids.events"), what="a refused fork")
        assert int(cg_read(dirs, "pids", "pids.current")) <= 4
        runtime.ok("update", "--pids-limit", "100", cid)
        r = runtime.ok("exec", cid, "sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 0.1 & done; wait; echo ok")
        assert r.out.strip() == "ok"
    finally:
        runtime.ok("delete", "-f", cid)


def test_update_below_usage_names_the_field(runtime: Runtime, bundle: Bundle) -> None:
    set_resources(bundle, memory={"limit": 64 * MiB})
    bundle.set_args("sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=12 2>/dev/null; sleep 600")
    cid = run_detached(runtime, bundle)
    try:
        dirs = cgroup_dirs(init_pid(runtime, cid))
        usage = "memory.current" if V2 else "memory.usage_in_bytes"
        wait_for(lambda: int(cg_read(dirs, "memory", usage)) > 10 * MiB, what="memory in use")
        # v1's kernel refuses by itself; v2 only with checkBeforeUpdate
        # (runc's update sends false, letting the kernel OOM-kill instead)
        res = {"memory": {"limit": 2 * MiB, "checkBeforeUpdate": True}}
        r = runtime("update", "-r", "-", cid, input=json.dumps(res).encode())
        assert r.rc == 1
        if is_pyrunc():
            assert r.error_text().startswith("linux.resources.memory.limit: cannot set below current usage")
        assert _mem_limit(dirs) == str(64 * MiB)
        assert runtime.state(cid)["status"] == "running"
    finally:
        runtime.ok("delete", "-f", cid)


def test_update_never_changes_devices(runtime: Runtime, bundle: Bundle) -> None:
    # /dev/kmsg (1:11) exists in the container but no rule allows it
    bundle.update(lambda c: c["linux"].setdefault("devices", []).append(
        {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o644}))
    cid, dirs = _running(runtime, bundle)
    try:
        before = None if V2 else cg_read(dirs, "devices", "devices.list")
        res = {"devices": [{"allow": True, "access": "rwm"}], "pids": {"limit": 50}}
        runtime.ok("update", "-r", "-", cid, input=json.dumps(res).encode())
        assert _pids_max(dirs) == "50"
        if before is not None:
            assert cg_read(dirs, "devices", "devices.list") == before
        r = runtime("exec", cid, "head", "-c", "1", "/dev/kmsg")
        assert r.rc != 0 and "Operation not permitted" in r.err, r
    finally:
        runtime.ok("delete", "-f", cid)


def test_update_stopped_container_like_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("true")
    results = []
    for rt in (runtime, runc) if is_pyrunc() else (runtime,):
        cid = rt.new_id()
        rt.ok("run", "--keep", "-b", str(bundle.path), cid)
        stopped = rt("update", "--memory", "10M", cid)
        missing = rt("update", "--memory", "10M", "nonexistent")
        rt.ok("delete", cid)
        results.append([(stopped.rc, stopped.error_text()), (missing.rc, missing.error_text())])
    assert results[0] == [(1, "container not running"), (1, "container does not exist")]
    assert all(r == results[0] for r in results)


def test_update_bad_values(runtime: Runtime, bundle: Bundle) -> None:
    cid, _dirs = _running(runtime, bundle)
    try:
        r = runtime("update", "--memory", "lots", cid)
        assert r.rc == 1 and "invalid value for memory" in r.error_text()
        r = runtime("update", "--cpu-period", "-5", cid)
        assert r.rc == 1 and 'invalid value for cpu-period: strconv.ParseUint: parsing "-5"' in r.error_text()
        r = runtime("update", "-r", "-", cid, input=b'{"memory": {"limit": "x"}}')
        assert r.rc == 1
        if is_pyrunc():
            assert r.error_text() == "linux.resources.memory.limit: expected an integer, got string"
        r = runtime("update", "-r", os.devnull + ".missing", cid)
        assert r.rc == 1 and "no such file or directory" in r.error_text().lower()
    finally:
        runtime.ok("delete", "-f", cid)
