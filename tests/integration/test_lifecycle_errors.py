"""Bad bundles: a clear error naming the field, and nothing left behind."""
from __future__ import annotations

import os

import pytest
from conftest import Bundle, Runtime, is_pyrunc


def _create_fails(runtime: Runtime, bundle: Bundle) -> str:
    cid = runtime.new_id()
    r = runtime("create", "-b", str(bundle.path), cid)
    assert r.rc == 1, r
    assert not (runtime.root / cid).exists()
    return r.error_text()


def test_error_missing_rootfs(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c["root"].update(path="no-such-rootfs"))
    msg = _create_fails(runtime, bundle)
    if is_pyrunc():
        assert "root.path" in msg, msg


def test_error_bad_json(runtime: Runtime, bundle: Bundle) -> None:
    (bundle.path / "config.json").write_text('{"ociVersion": "1.0.2", "process": ')
    msg = _create_fails(runtime, bundle)
    if is_pyrunc():
        assert "config.json" in msg, msg


def test_error_missing_config(runtime: Runtime, bundle: Bundle) -> None:
    os.unlink(bundle.path / "config.json")
    _create_fails(runtime, bundle)


def test_error_missing_mount_source(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c["mounts"].append(
        {"destination": "/app", "type": "bind", "source": "/no/such/dir", "options": ["rbind"]}))
    msg = _create_fails(runtime, bundle)
    n = len(bundle.config["mounts"]) - 1
    if is_pyrunc():
        assert f"mounts[{n}]" in msg, msg
    assert "no such file or directory" in msg.lower()


def test_error_unknown_capability(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c["process"]["capabilities"]["bounding"].append("CAP_NOT_A_THING"))
    if not is_pyrunc():
        pytest.skip("runc 1.2 only warns about unknown capabilities")
    msg = _create_fails(runtime, bundle)
    assert "process.capabilities.bounding[" in msg and "CAP_NOT_A_THING" in msg, msg


def test_error_unknown_user(runtime: Runtime, bundle: Bundle) -> None:
    """A uid with no passwd entry is fine (numeric ids); a bad additional gid
    list is not. Here: the executable cannot be found."""
    bundle.set_args("no-such-command")
    msg = _create_fails(runtime, bundle)
    if is_pyrunc():
        assert "process.args" in msg, msg


def test_error_failing_create_runtime_hook(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c.setdefault("hooks", {}).update(
        createRuntime=[{"path": "/bin/true"}, {"path": "/bin/false"}]))
    msg = _create_fails(runtime, bundle)
    if is_pyrunc():
        assert msg.startswith("hooks.createRuntime[1]: "), msg


def test_error_bad_cwd_relative(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c["process"].update(cwd="relative/dir"))
    msg = _create_fails(runtime, bundle)
    if is_pyrunc():
        assert "process.cwd" in msg, msg


def test_error_start_missing(runtime: Runtime) -> None:
    for cmd in (["start"], ["state"], ["kill"], ["delete"]):
        r = runtime(*cmd, "nonexistent")
        assert r.rc == 1
        assert r.error_text() == "container does not exist", (cmd, r)


def test_error_delete_force_missing_is_ok(runtime: Runtime) -> None:
    assert runtime("delete", "-f", "nonexistent").rc == 0
