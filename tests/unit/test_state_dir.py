"""The state dir: ids, atomic state.json, lock, status from the kernel, formats."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from pyrunc.container import execfifo
from pyrunc.container.state import (
    ContainerState,
    StateDir,
    current_status,
    dumps_go,
    list_ids,
    proc_start_time,
    rfc3339nano,
    validate_id,
    write_pid_file,
)
from pyrunc.container.status import Status
from pyrunc.errors import ContainerExists, ContainerNotExist, PyruncError


@pytest.mark.parametrize("cid", ["a", "abc-1_2.3+x", "A" * 100])
def test_state_valid_ids(cid: str) -> None:
    validate_id(cid)


@pytest.mark.parametrize("cid", ["", ".", "..", "a/b", "a b", "../x", "é"])
def test_state_invalid_ids(cid: str) -> None:
    with pytest.raises(PyruncError) as e:
        validate_id(cid)
    assert str(e.value) == "invalid container ID format"


def test_state_rfc3339nano_like_go() -> None:
    assert rfc3339nano(0) == "1970-01-01T00:00:00Z"
    assert rfc3339nano(1_500_000_000) == "1970-01-01T00:00:01.5Z"
    assert rfc3339nano(1_000_000_123) == "1970-01-01T00:00:01.000000123Z"
    assert rfc3339nano().endswith("Z")


def test_state_dumps_go_escapes_html_not_unicode() -> None:
    assert dumps_go({"a": "<é&>"}) == '{"a":"\\u003cé\\u0026\\u003e"}'
    assert dumps_go([1], indent=2) == "[\n  1\n]"


def _state(cid: str = "c1", **kw: object) -> ContainerState:
    return ContainerState(id=cid, bundle="/b", rootfs="/b/rootfs", created=rfc3339nano(), **kw)  # type: ignore[arg-type]


def test_state_dir_make_save_load_remove(tmp_path: os.PathLike[str]) -> None:
    root = os.path.join(tmp_path, "root")
    sd = StateDir(root, "c1")
    sd.make()
    assert os.stat(root).st_mode & 0o777 == 0o700
    assert os.stat(sd.path).st_mode & 0o777 == 0o711
    with pytest.raises(ContainerExists) as e:
        StateDir(root, "c1").make()
    assert str(e.value) == "container with given ID already exists"
    with pytest.raises(ContainerNotExist):
        sd.load()
    st = _state(annotations={"k": "v"}, init_pid=5)
    sd.save(st)
    assert os.stat(sd.state_file).st_mode & 0o777 == 0o600
    assert sd.load() == st
    assert os.listdir(sd.path) == ["state.json"]  # no tmp file left behind
    assert list_ids(root) == ["c1"]
    execfifo.create(sd.fifo)
    sd.remove()
    assert not os.path.exists(sd.path)
    assert list_ids(root) == []


def test_state_load_ignores_unknown_keys(tmp_path: os.PathLike[str]) -> None:
    sd = StateDir(str(tmp_path), "c1")
    sd.make()
    d = _state().to_dict()
    d["future_key"] = 1
    with open(sd.state_file, "w") as f:
        json.dump(d, f)
    assert sd.load().id == "c1"


def test_state_lock_excludes_other_processes(tmp_path: os.PathLike[str]) -> None:
    sd = StateDir(str(tmp_path), "c1")
    sd.make()
    code = (
        f"import sys,time; sys.path[:0]={sys.path!r}\n"
        "from pyrunc.container.state import StateDir\n"
        f"sd=StateDir({str(tmp_path)!r},'c1')\n"
        "t=time.monotonic()\n"
        "with sd.lock(): print(time.monotonic()-t)\n"
    )
    with sd.lock():
        assert not sd.try_lock_free()
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        time.sleep(0.5)
    out, _ = p.communicate(timeout=10)
    assert float(out) >= 0.3
    assert sd.try_lock_free()


def test_state_proc_start_time_self_and_missing() -> None:
    me = proc_start_time(os.getpid())
    assert isinstance(me, int) and me > 0
    assert proc_start_time(0) is None
    assert proc_start_time(2**22 + 1) is None  # above pid_max's hard limit


def test_state_zombie_counts_as_dead() -> None:
    p = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while proc_start_time(p.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc_start_time(p.pid) is None  # still unreaped: a zombie
    p.wait()


def test_state_status_from_kernel(tmp_path: os.PathLike[str]) -> None:
    sd = StateDir(str(tmp_path), "c1")
    sd.make()
    p = subprocess.Popen(["sleep", "30"])
    try:
        start = proc_start_time(p.pid)
        assert start is not None
        st = _state(status="created", init_pid=p.pid, init_start=start)
        sd.save(st)
        execfifo.create(sd.fifo)
        assert current_status(sd, st) is Status.CREATED
        assert current_status(sd, st, frozen=True) is Status.PAUSED
        os.unlink(sd.fifo)
        assert current_status(sd, st) is Status.RUNNING
        # A reused pid: same pid, other start time.
        reused = _state(status="running", init_pid=p.pid, init_start=start + 1)
        assert current_status(sd, reused) is Status.STOPPED
    finally:
        p.kill()
        p.wait()
    assert current_status(sd, st) is Status.STOPPED


def test_state_creating_with_dead_creator(tmp_path: os.PathLike[str]) -> None:
    sd = StateDir(str(tmp_path), "c1")
    sd.make()
    st = _state(status="creating")
    sd.save(st)
    with sd.lock():
        assert current_status(sd, st) is Status.CREATING
    # Nobody holds the lock: the create died, no init.
    assert current_status(sd, st) is Status.STOPPED


def test_state_pid_file_atomic_no_newline(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "pid")
    write_pid_file(path, 1234)
    with open(path, "rb") as f:
        assert f.read() == b"1234"
    assert os.listdir(tmp_path) == ["pid"]


def test_state_oci_state_shape() -> None:
    st = _state(init_pid=42, annotations={"a": "b"})
    d = st.oci_state(Status.CREATING)
    assert list(d) == ["ociVersion", "id", "status", "pid", "bundle", "annotations"]
    assert d["pid"] == 42 and d["status"] == "creating"
    stopped = _state(init_pid=42).oci_state(Status.STOPPED)
    assert "pid" not in stopped and "annotations" not in stopped


def test_execfifo_release(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "exec.fifo")
    execfifo.create(path)
    assert os.stat(path).st_mode & 0o777 == 0o622
    # A writer like the init: blocks opening for write, writes one byte.
    w = subprocess.Popen(["sh", "-c", f"printf 0 > {path}"])
    execfifo.release(path, lambda: w.poll() is None)
    w.wait(timeout=5)
    assert not os.path.exists(path)


def test_execfifo_release_dead_init(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "exec.fifo")
    execfifo.create(path)
    with pytest.raises(PyruncError, match="container process is already dead"):
        execfifo.release(path, lambda: False, poll_ms=10)
