"""Hooks: all six kinds, each with the state JSON on stdin, at their points."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Bundle, Runtime, is_pyrunc, wait_for, wait_stopped


def _writer(path: str, marker: str, env: bool = False) -> dict[str, Any]:
    """A hook that saves its stdin (and $HOOKVAR) to ``marker``."""
    h: dict[str, Any] = {"path": path, "args": ["sh", "-c", f'cat > {marker}; echo "$HOOKVAR" > {marker}.env']}
    if env:
        h["env"] = ["HOOKVAR=set-for-hook"]
    return h


def test_hooks_all_phases_get_state(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    bundle.add_bind(markers, "/markers")
    m = str(markers)
    bundle.update(lambda c: c.update(hooks={
        "prestart": [_writer("/bin/sh", f"{m}/prestart", env=True)],
        "createRuntime": [_writer("/bin/sh", f"{m}/createRuntime")],
        "createContainer": [_writer("/bin/sh", f"{m}/createContainer")],
        # startContainer resolves in the container: the rootfs's busybox sh.
        "startContainer": [_writer("/bin/sh", "/markers/startContainer")],
        "poststart": [_writer("/bin/sh", f"{m}/poststart")],
        "poststop": [_writer("/bin/sh", f"{m}/poststop")],
    }))
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        pid = runtime.state(cid)["pid"]
        got = {p.name for p in markers.iterdir() if not p.name.endswith(".env")}
        if is_pyrunc():
            # runc 1.1 runs poststart hooks already in create (1.2 and the spec: in start).
            assert got == {"prestart", "createRuntime", "createContainer"}
        for name in ("prestart", "createRuntime"):
            st = json.loads((markers / name).read_text())
            assert st["id"] == cid and st["status"] == "creating" and st["pid"] == pid
            assert st["bundle"] == str(bundle.path) and "ociVersion" in st
        assert json.loads((markers / "createContainer").read_text())["id"] == cid
        assert (markers / "prestart.env").read_text() == "set-for-hook\n"
        runtime.ok("start", cid)
        # The .env file is written after the state: wait for it, not the first.
        wait_for((markers / "startContainer.env").exists, what="startContainer hook")
        assert json.loads((markers / "startContainer").read_text())["id"] == cid
        st = json.loads((markers / "poststart").read_text())
        assert st["pid"] == pid
        if is_pyrunc():
            assert st["status"] == "running"
        assert not (markers / "poststop").exists()
        runtime.ok("kill", cid, "KILL")
        wait_stopped(runtime, cid)
        runtime.ok("delete", cid)
        st = json.loads((markers / "poststop").read_text())
        assert st["id"] == cid and st["status"] == "stopped" and "pid" not in st
    finally:
        runtime("delete", "-f", cid)


def test_hooks_prestart_timeout(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c.update(hooks={"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"],
                                                          "timeout": 1}]}))
    cid = runtime.new_id()
    r = runtime("create", "-b", str(bundle.path), cid, timeout=25)
    assert r.rc == 1
    assert "timeout" in r.error_text() or "timed out" in r.error_text()
    if is_pyrunc():
        assert r.error_text().startswith("hooks.prestart[0]: ")
    assert not (runtime.root / cid).exists()


def test_hooks_poststart_failure_stops_container(runtime: Runtime, bundle: Bundle) -> None:
    """runtime-spec 1.3 (and runc 1.2): a failing poststart hook is an error and
    the container is stopped."""
    if not is_pyrunc():
        pytest.skip("runc 1.1 runs poststart hooks in create")
    bundle.update(lambda c: c.update(hooks={"poststart": [{"path": "/bin/false"}]}))
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    r = runtime("start", cid)
    assert r.rc == 1
    if is_pyrunc():
        assert r.error_text().startswith("hooks.poststart[0]: ")
    wait_stopped(runtime, cid)
    runtime.ok("delete", cid)


def test_hooks_poststop_failure_is_a_warning(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """The spec: a failing poststop hook is a warning and the remaining hooks
    still run (runc stops at the first failure)."""
    second = tmp_path / "second-ran"
    bundle.update(lambda c: c.update(hooks={"poststop": [
        {"path": "/bin/false"}, {"path": "/bin/touch", "args": ["touch", str(second)]}]}))
    bundle.set_args("true")
    cid = runtime.new_id()
    r = runtime("run", "-b", str(bundle.path), cid)
    assert r.rc == 0, r
    assert not (runtime.root / cid).exists()
    if is_pyrunc():
        assert second.exists()
    if is_pyrunc():
        assert "level=warning" in r.err and "hooks.poststop[0]" in r.err
