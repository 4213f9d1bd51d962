"""process.apparmorProfile, process.selinuxLabel and linux.mountLabel.

What this host can prove: it has neither AppArmor nor SELinux. So a profile
is refused before anything starts (naming the field), SELinux labels are a
no-op with a debug line, and, with the stage-0 check switched off by the
PYRUNC_FORCE_LSM test switch, the init's write goes to the container's real
procfs and is refused where /proc is a symlink or another filesystem
(CVE-2019-16884, CVE-2023-27561)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import Bundle, Runtime, is_pyrunc
from pyrunc import lsm

no_apparmor = pytest.mark.skipif(lsm.apparmor_enabled(), reason="AppArmor is enabled on this host")
no_selinux = pytest.mark.skipif(lsm.selinux_enabled(), reason="SELinux is enabled on this host")
pyrunc_only = pytest.mark.skipif(not is_pyrunc(), reason="PYRUNC_FORCE_LSM is pyrunc's test switch")


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYRUNC_FORCE_LSM", "1")


@no_apparmor
def test_apparmor_profile_without_apparmor_is_an_error(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    bundle.add_bind(tmp_path / "out", "/out")
    bundle.config["process"]["apparmorProfile"] = "pyrunc-test"
    bundle.set_args("touch", "/out/ran")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    msg = r.error_text()
    assert "apparmor" in msg.lower()
    if is_pyrunc():
        assert msg.startswith("process.apparmorProfile: "), msg
        assert "not enabled" in msg
    assert not marker.exists()
    assert not (tmp_path / "out" / "ran").exists()
    assert list(runtime.root.iterdir()) == [] if runtime.root.exists() else True


@no_apparmor
def test_exec_apparmor_without_apparmor_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        r = runtime("exec", "--apparmor", "pyrunc-test", cid, "true")
        assert r.rc != 0, r
        assert "apparmor" in r.error_text().lower()
        if is_pyrunc():
            assert "process.apparmorProfile" in r.error_text()
        # The container itself is untouched.
        assert runtime.ok("exec", cid, "echo", "ok").out == "ok\n"
    finally:
        runtime("delete", "-f", cid)


@no_selinux
def test_selinux_label_without_selinux_is_an_error(runtime: Runtime, bundle: Bundle) -> None:
    """runc 1.2's validator: a process label needs SELinux."""
    bundle.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0:c1,c2"
    bundle.write()
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    assert "selinux" in r.error_text().lower()
    if is_pyrunc():
        assert r.error_text().startswith("process.selinuxLabel: ")


@no_selinux
def test_mount_label_is_a_noop_where_selinux_is_disabled(runtime: Runtime, bundle: Bundle) -> None:
    bundle.config["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    bundle.set_args("sh", "-c", "grep -c context= /proc/self/mountinfo; true")
    r = runtime("--debug", "run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert r.out == "0\n"  # no context= on any mount, and every mount worked
    if is_pyrunc():
        assert "linux.mountLabel" in r.err and "SELinux is disabled" in r.err


@pyrunc_only
@no_apparmor
def test_forced_apparmor_write_reaches_the_containers_procfs(runtime: Runtime, bundle: Bundle,
                                                            forced: None) -> None:
    """Past the stage-0 check the init really writes "exec <profile>" to the
    container's /proc; with no LSM to take it the kernel says EINVAL."""
    bundle.config["process"]["apparmorProfile"] = "pyrunc-test"
    bundle.set_args("true")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    msg = r.error_text()
    assert msg.startswith("process.apparmorProfile: "), msg
    assert "/proc/thread-self/attr/exec" in msg
    assert "Invalid argument" in msg


def _fake_proc(tmp_path: Path) -> Path:
    fake = tmp_path / "fakeproc"
    (fake / "thread-self" / "attr" / "apparmor").mkdir(parents=True)
    for rel in ("thread-self/attr/exec", "thread-self/attr/apparmor/exec"):
        (fake / rel).write_text("")
    return fake


@pyrunc_only
def test_lsm_write_refuses_a_proc_that_is_not_procfs(runtime: Runtime, bundle: Bundle, forced: None,
                                                    tmp_path: Path) -> None:
    """/proc in the container is a bind mount of a plain directory that looks
    like procfs: the init refuses it instead of writing the label there.
    (selinuxLabel takes the same path in the init, see lsm.rs's unit tests;
    the validator refuses it earlier on this host.)"""
    field = "apparmorProfile"
    fake = _fake_proc(tmp_path)
    for m in bundle.config["mounts"]:
        if m["destination"] == "/proc":
            m.update({"type": "bind", "source": str(fake), "options": ["rbind", "rw"]})
    bundle.config["linux"]["maskedPaths"] = []
    bundle.config["linux"]["readonlyPaths"] = []
    bundle.config["process"][field] = "pyrunc-test"
    bundle.set_args("true")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    msg = r.error_text()
    assert msg.startswith(f"process.{field}: "), msg
    assert "is not on procfs" in msg
    assert (fake / "thread-self/attr/exec").read_text() == ""
    assert (fake / "thread-self/attr/apparmor/exec").read_text() == ""


@pyrunc_only
def test_lsm_write_refuses_a_symlinked_proc(runtime: Runtime, bundle: Bundle, forced: None) -> None:
    """The image makes /proc a symlink (to a real procfs, even): never followed."""
    bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["destination"] != "/proc"]
    bundle.config["linux"]["maskedPaths"] = []
    bundle.config["linux"]["readonlyPaths"] = []
    (bundle.rootfs / "proc").rmdir()
    (bundle.rootfs / "realproc").mkdir()
    os.symlink("realproc", bundle.rootfs / "proc")
    bundle.config["mounts"].append({"destination": "/realproc", "type": "proc", "source": "proc"})
    bundle.config["process"]["apparmorProfile"] = "pyrunc-test"
    bundle.set_args("true")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    msg = r.error_text()
    assert msg.startswith("process.apparmorProfile: "), msg
    assert "open /proc" in msg
    assert "Not a directory" in msg or "Too many levels of symbolic links" in msg
