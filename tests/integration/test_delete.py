"""`delete`: stopped, created (killed first), running (needs -f), missing."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from conftest import Bundle, Runtime, is_pyrunc, pid_gone, wait_for


def test_delete_created_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    pid = runtime.state(cid)["pid"]
    runtime.ok("delete", cid)  # runc kills a created container without -f
    assert not (runtime.root / cid).exists()
    wait_for(lambda: pid_gone(pid), what="init gone")


def test_delete_running_needs_force(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    texts = []
    for rt in (runtime, runc):
        cid = rt.new_id()
        rt.ok("run", "-d", "-b", str(bundle.path), cid)
        r = rt("delete", cid)
        texts.append((r.rc, r.error_text().replace(cid, "ID")))
        assert rt.state(cid)["status"] == "running"
        rt.ok("delete", "--force", cid)
        assert not (rt.root / cid).exists()
    assert texts[0] == texts[1] == [(1, "cannot delete container ID that is not stopped: running")][0]


def test_delete_force_missing(runtime: Runtime, runc: Runtime) -> None:
    for rt in (runtime, runc):
        assert rt("delete", "-f", "nonexistent").rc == 0
        r = rt("delete", "nonexistent")
        assert (r.rc, r.error_text()) == (1, "container does not exist")


def test_delete_force_twice(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    runtime.ok("delete", "-f", cid)
    runtime.ok("delete", "-f", cid)


def test_delete_concurrent_create_20(runtime: Runtime, bundle: Bundle) -> None:
    """20 containers created and deleted in parallel: all succeed, nothing left."""
    bundle.set_args("sleep", "60")
    ids = [runtime.new_id(f"p{i}") for i in range(20)]
    errors: list[str] = []

    def one(cid: str) -> None:
        for cmd in (("create", "-b", str(bundle.path), cid), ("start", cid), ("delete", "-f", cid)):
            r = runtime(*cmd, timeout=120)
            if r.rc != 0:
                errors.append(f"{cmd[0]} {cid}: {r}")
                return

    threads = [threading.Thread(target=one, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(runtime.root.iterdir()) == []


def test_delete_concurrent_on_one_container(runtime: Runtime, bundle: Bundle) -> None:
    """Several `delete -f` at once on one container: all exit 0 (the lock)."""
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    procs = [runtime.popen("delete", "-f", cid, stderr=subprocess.PIPE) for _ in range(5)]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.stderr.close()  # type: ignore[union-attr]
    assert all(rc == 0 for rc, _ in results), results
    assert not (runtime.root / cid).exists()


def test_delete_after_sigkill_during_create(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """SIGKILL of the runtime at several points during create; `delete -f`
    then leaves nothing (the leftover check looks for processes, cgroups,
    mounts and state)."""
    if not is_pyrunc():
        return
    gate = tmp_path / "gate"
    # A createRuntime hook that blocks: the create is mid-way (init spawned,
    # mounts done, cgroup made) when it is killed.
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {gate}\nsleep 60\n")
    hook.chmod(0o755)
    bundle.update(lambda c: c.update(hooks={"createRuntime": [{"path": str(hook)}]}))
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    p = runtime.popen("create", "-b", str(bundle.path), cid, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(gate.exists, what="hook started")
    os.killpg(p.pid, signal.SIGKILL)  # pyrunc and its hook
    p.wait()
    runtime.ok("delete", "-f", cid)
    # Killed at other moments: right after start, and a bit later.
    for delay in (0.0, 0.05, 0.15, 0.3):
        cid = runtime.new_id()
        bundle.update(lambda c: c.pop("hooks", None))
        p = runtime.popen("create", "-b", str(bundle.path), cid, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
        time.sleep(delay)
        p.kill()
        p.wait()
        r = runtime("delete", "-f", cid)
        assert r.rc == 0, r
        assert not (runtime.root / cid).exists()
