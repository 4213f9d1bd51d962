"""The contracts with the Rust init: the plan built from config.json (names
resolved, fields tagged, plan.rs's keys only) and stage 0's side of sync.rs."""
from __future__ import annotations

import json as _json
import os
import re
import socket as _socket
import threading as _threading
from pathlib import Path
from typing import Any

import pytest
from pyrunc.container import plan as P
from pyrunc.container import spawn as S
from pyrunc.errors import InitError, PyruncError, SpecError, SyscallError

PLAN_RS = Path(__file__).resolve().parents[2] / "rust" / "core" / "src" / "plan.rs"


def _rust_fields() -> dict[str, set[str]]:
    """struct name -> serde field names, read from plan.rs (the contract)."""
    text = PLAN_RS.read_text()
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", text, re.DOTALL):
        names = set()
        body = m.group(2)
        for fm in re.finditer(r'(?:#\[serde\(rename = "(\w+)"\)\]\s*)?pub (\w+):', body):
            names.add(fm.group(1) or fm.group(2))
        out[m.group(1)] = names
    return out


def _config(tmp_path: Path, **over: Any) -> dict[str, Any]:
    (tmp_path / "rootfs").mkdir(exist_ok=True)
    cfg: dict[str, Any] = {
        "ociVersion": "1.3.0",
        "root": {"path": "rootfs", "readonly": True},
        "process": {
            "args": ["sh"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 1, "gid": 2, "additionalGids": [3], "umask": 18},
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL", "CAP_CHOWN"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
            "noNewPrivileges": True,
            "oomScoreAdj": 5,
        },
        "hostname": "h",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        ],
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}, {"type": "mount"}],
            "maskedPaths": ["/proc/kcore"],
            "readonlyPaths": ["/proc/sys"],
            "sysctl": {"net.ipv4.ip_forward": "1"},
        },
    }
    cfg.update(over)
    return cfg


def _check_keys(obj: dict[str, Any], struct: str, fields: dict[str, set[str]]) -> None:
    extra = set(obj) - fields[struct]
    assert not extra, f"{struct}: keys plan.rs does not know: {extra}"


def test_plan_only_plan_rs_keys(tmp_path: Path) -> None:
    fields = _rust_fields()
    plan = P.build_create_plan(_config(tmp_path), str(tmp_path), preserve_fds=2)
    _check_keys(plan, "Plan", fields)
    _check_keys(plan["rootfs"], "Rootfs", fields)
    _check_keys(plan["process"], "Process", fields)
    _check_keys(plan["process"]["capabilities"], "Capabilities", fields)
    for m in plan["rootfs"]["mounts"]:
        _check_keys(m, "Mount", fields)
    for d in plan["rootfs"]["devices"]:
        _check_keys(d, "Device", fields)
    for n in plan["namespaces"]:
        _check_keys(n, "Namespace", fields)
    for r in plan["process"]["rlimits"]:
        _check_keys(r, "Rlimit", fields)
    for s in plan["sysctl"]:
        _check_keys(s, "Sysctl", fields)


def test_plan_values(tmp_path: Path) -> None:
    plan = P.build_create_plan(_config(tmp_path), str(tmp_path), preserve_fds=2)
    assert plan["mode"] == "create"
    assert plan["sync_fd"] == 5 and plan["fifo_fd"] == 6
    assert plan["rootfs"]["path"] == os.path.realpath(tmp_path / "rootfs")
    assert plan["rootfs"]["readonly"] is True
    assert plan["rootfs"]["propagation"] == P.MS_SLAVE | P.MS_REC
    assert plan["namespaces"] == [
        {"type": "pid", "field": "linux.namespaces[0]"},
        {"type": "network", "path": "/proc/1/ns/net", "field": "linux.namespaces[1]"},
        {"type": "mount", "field": "linux.namespaces[2]"},
    ]
    proc = plan["process"]
    assert proc["uid"] == 1 and proc["gid"] == 2 and proc["additional_gids"] == [3] and proc["umask"] == 18
    assert proc["capabilities"]["bounding"] == [5]  # CAP_KILL
    assert proc["capabilities"]["effective"] == [5, 0]
    assert proc["capabilities"]["ambient"] == []
    assert proc["rlimits"] == [{"resource": 7, "soft": 512, "hard": 1024, "field": "process.rlimits[0]"}]
    assert proc["preserve_fds"] == 2 and proc["no_new_privileges"] is True
    assert plan["oom_score_adj"] == 5 and plan["hostname"] == "h"
    assert plan["sysctl"] == [{"key": "net.ipv4.ip_forward", "value": "1",
                               "field": 'linux.sysctl["net.ipv4.ip_forward"]'}]
    dev = plan["rootfs"]["mounts"][1]
    assert dev["field"] == "mounts[1]" and dev["fstype"] == "tmpfs"
    assert dev["flags"] & 0x2 and dev["data"] == "mode=755,size=65536k"
    assert plan["hooks_roundtrip"] is False


def test_plan_default_devices_merged(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    cfg["linux"]["devices"] = [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o20600},
                               {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
    devs = P.build_create_plan(cfg, str(tmp_path))["rootfs"]["devices"]
    paths = [d["path"] for d in devs]
    assert paths.count("/dev/null") == 1
    assert set(paths) == {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                          "/dev/fuse"}
    null = next(d for d in devs if d["path"] == "/dev/null")
    assert null["field"] == "linux.devices[0]" and null["file_mode"] == 0o600
    tty = next(d for d in devs if d["path"] == "/dev/tty")
    assert (tty["major"], tty["minor"], tty["file_mode"], tty["uid"]) == (5, 0, 0o666, 0)
    assert tty["field"] == "default device /dev/tty"


def test_plan_bind_mounts(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "file").write_text("x")
    cfg = _config(tmp_path, mounts=[
        {"destination": "/app", "type": "bind", "source": str(tmp_path / "data"), "options": ["rbind", "rw"]},
        {"destination": "/etc/f", "source": "file", "options": ["bind", "ro"]},
    ])
    ms = P.build_create_plan(cfg, str(tmp_path))["rootfs"]["mounts"]
    assert ms[0]["fstype"] == "bind" and ms[0]["flags"] & (P.MS_BIND | P.MS_REC) == P.MS_BIND | P.MS_REC
    assert ms[0]["dest_is_file"] is False
    assert ms[1]["source"] == str(tmp_path / "file")  # relative to the bundle
    assert ms[1]["dest_is_file"] is True and ms[1]["flags"] & P.MS_RDONLY


def test_plan_missing_bind_source_names_field(tmp_path: Path) -> None:
    cfg = _config(tmp_path, mounts=[{"destination": "/app", "type": "bind", "source": "/nonexistent/x",
                                     "options": ["rbind"]}])
    with pytest.raises(PyruncError) as e:
        P.build_create_plan(cfg, str(tmp_path))
    assert str(e.value).startswith("mounts[0].source: ")
    assert "No such file or directory" in str(e.value)


def test_plan_missing_rootfs_names_field(tmp_path: Path) -> None:
    cfg = _config(tmp_path, root={"path": "nope"})
    with pytest.raises(PyruncError) as e:
        P.build_create_plan(cfg, str(tmp_path))
    assert str(e.value).startswith("root.path: ")


def test_plan_unknown_capability_names_field(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    cfg["process"]["capabilities"] = {"permitted": ["CAP_KILL", "CAP_BOGUS"]}
    with pytest.raises(SpecError) as e:
        P.build_create_plan(cfg, str(tmp_path))
    assert e.value.field == "process.capabilities.permitted[1]"


def test_plan_unknown_rlimit(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    cfg["process"]["rlimits"] = [{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]
    with pytest.raises(SpecError) as e:
        P.build_create_plan(cfg, str(tmp_path))
    assert e.value.field == "process.rlimits[0].type"


@pytest.mark.parametrize("name,flags", [("", P.MS_SLAVE | P.MS_REC), ("private", P.MS_PRIVATE),
                                        ("rshared", P.MS_SHARED | P.MS_REC)])
def test_plan_rootfs_propagation(tmp_path: Path, name: str, flags: int) -> None:
    cfg = _config(tmp_path)
    cfg["linux"]["rootfsPropagation"] = name
    assert P.build_create_plan(cfg, str(tmp_path))["rootfs"]["propagation"] == flags


def test_plan_user_namespace_binds_devices(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    assert P.build_create_plan(cfg, str(tmp_path))["rootfs"]["bind_devices"] is False
    cfg["linux"]["namespaces"].append({"type": "user"})
    assert P.build_create_plan(cfg, str(tmp_path))["rootfs"]["bind_devices"] is True


def test_plan_hooks(tmp_path: Path) -> None:
    cfg = _config(tmp_path, hooks={
        "createContainer": [{"path": "/bin/true", "args": ["true", "x"], "timeout": 3}],
        "startContainer": [{"path": "/bin/false", "env": ["A=B"]}],
        "poststop": [{"path": "/bin/true"}],
    })
    plan = P.build_create_plan(cfg, str(tmp_path))
    assert plan["hooks_roundtrip"] is True
    assert plan["create_container_hooks"] == [
        {"field": "hooks.createContainer[0]", "path": "/bin/true", "args": ["true", "x"], "timeout": 3}]
    assert plan["start_container_hooks"] == [
        {"field": "hooks.startContainer[0]", "path": "/bin/false", "env": ["A=B"]}]
    only_poststop = _config(tmp_path, hooks={"poststop": [{"path": "/bin/true"}]})
    assert P.build_create_plan(only_poststop, str(tmp_path))["hooks_roundtrip"] is False


class _FakeCgroups:
    def mounts_for_container(self, cgroupns: bool, flags: int = 0) -> list[dict[str, Any]]:
        return [{"destination": "/sys/fs/cgroup", "source": "tmpfs", "fstype": "tmpfs", "flags": 0, "data": ""},
                {"destination": "/sys/fs/cgroup/memory", "source": "/sys/fs/cgroup/memory/x", "fstype": "bind",
                 "flags": P.MS_BIND | P.MS_REC | flags, "data": ""}]


def test_plan_cgroup_mount_expanded(tmp_path: Path) -> None:
    cfg = _config(tmp_path, mounts=[{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                                     "options": ["ro"]}])
    ms = P.build_create_plan(cfg, str(tmp_path), cgroup_manager=_FakeCgroups())["rootfs"]["mounts"]
    # tmpfs, the hierarchy, then the tmpfs remounted read-only (config "ro").
    assert [m["destination"] for m in ms] == ["/sys/fs/cgroup", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"]
    assert all(m["field"] == "mounts[0]" for m in ms)
    assert ms[1]["flags"] & P.MS_RDONLY
    assert ms[2]["flags"] & P.MS_REMOUNT and ms[2]["flags"] & P.MS_RDONLY


# ---------------------------------------------------------------- the sync contract (spawn.py <-> sync.rs)

def _fake_init(script: list[Any]) -> tuple[S.Channel, _threading.Thread, list[dict[str, Any]]]:
    """A fake init on a real SEQPACKET pair: sends each message of ``script``
    (a dict, or (dict, fd) to attach an fd), recording what stage 0 answers."""
    ours, theirs = S.socketpair()
    got: list[dict[str, Any]] = []

    def run() -> None:
        with theirs:
            for item in script:
                msg, fd = item if isinstance(item, tuple) else (item, None)
                data = _json.dumps(msg).encode()
                if fd is None:
                    theirs.send(data)
                else:
                    _socket.send_fds(theirs, [data], [fd])
                if msg["type"] in ("map_ids", "child_pid", "hooks", "console", "seccomp_fd"):
                    got.append(_json.loads(theirs.recv(65536)))

    t = _threading.Thread(target=run)
    t.start()
    return S.Channel(ours), t, got


class _Recorder(S.Handlers):
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def map_ids(self, pid: int) -> None:
        self.calls.append(("map_ids", pid))

    def child_pid(self, pid: int) -> None:
        self.calls.append(("child_pid", pid))

    def hooks(self) -> str:
        self.calls.append(("hooks",))
        return '{"id":"x"}'

    def log(self, level: str, msg: str) -> None:
        self.calls.append(("log", level, msg))


def test_sync_names_match_rust() -> None:
    from pyrunc import _native

    handled = {"go", "map_ids", "map_ids_done", "child_pid", "child_pid_ack", "hooks", "hooks_done", "console",
               "console_done", "seccomp_fd", "seccomp_fd_done", "ready", "error", "log"}
    assert set(_native.SYNC_MESSAGES) == handled
    assert S.FD_MESSAGES <= handled


def test_sync_dispatch_answers_each_request() -> None:
    chan, t, got = _fake_init([
        {"type": "map_ids", "pid": 10},
        {"type": "log", "level": "debug", "msg": "m"},
        {"type": "child_pid", "pid": 11},
        {"type": "hooks"},
        {"type": "ready"},
    ])
    h = _Recorder()
    S.dispatch(chan, h)
    t.join()
    chan.close()
    assert h.calls == [("map_ids", 10), ("log", "debug", "m"), ("child_pid", 11), ("hooks",)]
    assert got == [{"type": "map_ids_done"}, {"type": "child_pid_ack"},
                   {"type": "hooks_done", "state": '{"id":"x"}'}]


def test_sync_error_message_names_field() -> None:
    chan, t, _ = _fake_init([{"type": "error", "stage": "stage2", "syscall": "mount", "errno": 2,
                              "field": "mounts[3]", "detail": "mount /a to /b"}])
    with pytest.raises(SyscallError) as e:
        S.dispatch(chan, _Recorder())
    t.join()
    chan.close()
    assert (e.value.stage, e.value.field, e.value.errno) == ("stage2", "mounts[3]", 2)
    assert str(e.value) == "mounts[3]: mount /a to /b: No such file or directory"


def test_sync_stray_fd_is_rejected() -> None:
    r, w = os.pipe()
    try:
        chan, t, _ = _fake_init([({"type": "ready"}, r)])
        with pytest.raises(InitError, match="ready with 1 fds"):
            S.dispatch(chan, _Recorder())
        t.join()
        chan.close()
    finally:
        os.close(r)
        os.close(w)


def test_sync_unexpected_type_and_eof() -> None:
    chan, t, _ = _fake_init([{"type": "go"}])
    with pytest.raises(InitError, match="expected ready, got go"):
        S.dispatch(chan, _Recorder())
    t.join()
    chan.close()
    chan, t, _ = _fake_init([])
    with pytest.raises(InitError, match="exited before it was ready"):
        S.dispatch(chan, _Recorder())
    t.join()
    chan.close()
