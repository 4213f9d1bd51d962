"""`create`: the init waits on exec.fifo; pid file; errors; nothing left on failure."""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from conftest import Bundle, Runtime, is_pyrunc


def test_create_leaves_init_waiting(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    bundle.set_args("sh", "-c", "echo should-not-run-yet")
    cid = runtime.new_id()
    pid_file = tmp_path / "pid"
    r = runtime("create", "--pid-file", str(pid_file), "-b", str(bundle.path), cid)
    try:
        assert r.rc == 0 and r.out == "", r
        st = runtime.state(cid)
        assert st["status"] == "created"
        assert pid_file.read_bytes() == str(st["pid"]).encode()  # no newline
        assert os.path.exists(f"/proc/{st['pid']}")
        # The init runs inside the rootfs already, waiting.
        root, rootfs = os.stat(f"/proc/{st['pid']}/root"), os.stat(bundle.rootfs)
        assert (root.st_dev, root.st_ino) == (rootfs.st_dev, rootfs.st_ino)
        assert sorted(os.listdir(runtime.root / cid)) == ["exec.fifo", "state.json"]
    finally:
        runtime.ok("delete", "-f", cid)


def test_create_existing_id(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        r = runtime("create", "-b", str(bundle.path), cid)
        assert r.rc == 1
        assert r.error_text().endswith("container with given ID already exists")
        assert runtime.state(cid)["status"] == "created"  # the first one is untouched
    finally:
        runtime.ok("delete", "-f", cid)


def test_create_bad_id(runtime: Runtime, bundle: Bundle) -> None:
    r = runtime("create", "-b", str(bundle.path), "bad/id")
    assert r.rc == 1
    assert r.error_text().endswith("invalid container ID format")


def test_create_stdio_is_the_containers(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """The container's stdout is create's stdout."""
    bundle.set_args("echo", "from the container")
    cid = runtime.new_id()
    out = tmp_path / "out"
    with open(out, "wb") as f:
        p = runtime.popen("create", "-b", str(bundle.path), cid, stdout=f)
        assert p.wait(timeout=60) == 0
    try:
        runtime.ok("start", cid)
        from conftest import wait_for

        wait_for(lambda: out.read_text() == "from the container\n", what="output")
    finally:
        runtime.ok("delete", "-f", cid)


def test_create_preserve_fds(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """--preserve-fds 1 keeps fd 3 open for the process (and only it)."""
    bundle.set_args("sh", "-c", "echo through-fd3 >&3; ls /proc/self/fd")
    cid = runtime.new_id()
    extra = tmp_path / "extra"
    out = tmp_path / "out"
    argv = " ".join(shlex.quote(a) for a in [*runtime.argv, "--root", str(runtime.root), "run",
                                              "--preserve-fds", "1", "-b", str(bundle.path), cid])
    with open(out, "wb") as o:
        # The shell puts the file at fd 3, where --preserve-fds looks.
        p = subprocess.Popen(["sh", "-c", f"exec 3>{shlex.quote(str(extra))}; exec {argv}"],
                             stdin=subprocess.DEVNULL, stdout=o)
        assert p.wait(timeout=60) == 0
    assert extra.read_text() == "through-fd3\n"
    # ls itself opens one directory fd: 0 1 2 3 and that one.
    fds = out.read_text().split()
    assert fds[:4] == ["0", "1", "2", "3"] and len(fds) == 5, fds


def test_create_via_python_api(runtime: Runtime, bundle: Bundle) -> None:
    """pyrunc.Runtime: the same containers as the CLI's (the CLI lists them)."""
    if not is_pyrunc():
        return
    from pyrunc import Runtime as Api
    from pyrunc.errors import ContainerNotExist, StateError

    api = Api(root=str(runtime.root))
    bundle.set_args("sh", "-c", "exit 5")
    cid = runtime.new_id()
    c = api.create(cid, str(bundle.path))
    try:
        st = c.state()
        assert (st.id, st.status, st.bundle) == (cid, "created", str(bundle.path))
        assert [s.id for s in api.list()] == [cid]
        assert runtime.ok("list", "-q").out == f"{cid}\n"
        c.start()
        assert c.wait(timeout=30) == 5  # the init is this process's child
        assert c.status == "stopped"
        try:
            c.start()
        except StateError as e:
            assert str(e) == "cannot start a container that has stopped"
        else:
            raise AssertionError("start of a stopped container worked")
    finally:
        c.delete(force=True)
    try:
        api.state(cid)
    except ContainerNotExist as e:
        assert str(e) == "container does not exist"
    else:
        raise AssertionError("state of a deleted container worked")
    bundle.set_args("sh", "-c", "exit 4")
    assert api.run(runtime.new_id(), str(bundle.path)) == 4
    assert api.list() == []
