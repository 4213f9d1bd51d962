"""`state`: runc's JSON, the spec's state schema, status from the kernel."""
from __future__ import annotations

import json
import os
import re
import signal

from conftest import Bundle, Runtime, is_pyrunc, state_schema_validator, wait_for

RFC3339NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def test_state_cycle_matches_schema(runtime: Runtime, bundle: Bundle) -> None:
    validator = state_schema_validator()
    bundle.update(lambda c: c.update(annotations={"org.example.key": "value"}))
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        r = runtime.ok("state", cid)
        assert not r.out.endswith("\n")  # runc writes no trailing newline
        assert r.out.startswith('{\n  "ociVersion": ')  # 2-space indent
        st = json.loads(r.out)
        assert list(st) == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations",
                            "owner"]
        validator.validate(st)
        assert st["id"] == cid and st["status"] == "created" and st["pid"] > 0
        assert st["bundle"] == str(bundle.path) and st["rootfs"] == str(bundle.rootfs)
        assert st["annotations"] == {"org.example.key": "value"} and st["owner"] == ""
        if is_pyrunc():
            from pyrunc import OCI_VERSION

            assert st["ociVersion"] == OCI_VERSION  # the runtime's, as runc
        assert RFC3339NANO.match(st["created"]), st["created"]
        runtime.ok("start", cid)
        st2 = runtime.state(cid)
        validator.validate(st2)
        assert st2["status"] == "running" and st2["pid"] == st["pid"] and st2["created"] == st["created"]
        runtime.ok("kill", cid, "KILL")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
        st3 = runtime.state(cid)
        validator.validate(st3)
        assert st3["pid"] == 0
    finally:
        runtime.ok("delete", "-f", cid)


def test_state_without_annotations_omits_them(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        assert "annotations" not in runtime.state(cid)
    finally:
        runtime.ok("delete", "-f", cid)


def test_state_init_died_is_stopped(runtime: Runtime, bundle: Bundle) -> None:
    """Status comes from the kernel: an init killed behind the runtime's back is stopped."""
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        pid = runtime.state(cid)["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    finally:
        runtime.ok("delete", cid)


def test_state_reused_pid_is_not_the_init(runtime: Runtime, bundle: Bundle) -> None:
    """A state.json whose pid now names another process (same pid, other start
    time) reports stopped and kill refuses to signal it."""
    if not is_pyrunc():
        return
    bundle.set_args("true")
    cid = runtime.new_id()
    runtime.ok("run", "--keep", "-b", str(bundle.path), cid)
    path = runtime.root / cid / "state.json"
    st = json.loads(path.read_text())
    st["init_pid"] = os.getpid()  # alive, but not the init it recorded
    st["status"] = "running"
    path.write_text(json.dumps(st))
    assert runtime.state(cid)["status"] == "stopped"
    r = runtime("kill", cid, "KILL")
    assert (r.rc, r.error_text()) == (1, "container not running")
    runtime.ok("delete", cid)


def test_state_same_keys_as_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    ours, theirs = runtime.new_id(), runc.new_id()
    runtime.ok("create", "-b", str(bundle.path), ours)
    runc.ok("create", "-b", str(bundle.path), theirs)
    try:
        a, b = runtime.ok("state", ours).out, runc.ok("state", theirs).out
        ja, jb = json.loads(a), json.loads(b)
        assert list(ja) == list(jb)
        for k in ("status", "bundle", "rootfs", "owner"):
            assert ja[k] == jb[k], k
        # Same layout, byte for byte, apart from the values that differ.
        assert a.replace(ours, "ID").replace(str(ja["pid"]), "PID").replace(ja["created"], "T") \
            .replace(ja["ociVersion"], "V") == \
            b.replace(theirs, "ID").replace(str(jb["pid"]), "PID").replace(jb["created"], "T") \
            .replace(jb["ociVersion"], "V")
    finally:
        runtime.ok("delete", "-f", ours)
        runc.ok("delete", "-f", theirs)
