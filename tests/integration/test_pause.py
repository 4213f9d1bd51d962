"""`pause` / `resume`: the freezer stops every process, the state says paused,
runc's error texts for containers that cannot be paused or resumed."""
from __future__ import annotations

import time
from pathlib import Path

from cgroup_util import V2, cg_read, cgroup_dirs, init_pid, out_file, run_detached, share_host_pidns, wait_for
from conftest import Bundle, Runtime, is_pyrunc

COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /out/n.tmp; mv /out/n.tmp /out/n; sleep 0.02; done"


def _count(out: Path) -> int:
    def read() -> int:
        try:
            return int((out / "n").read_text())
        except (OSError, ValueError):
            return 0
    return int(wait_for(read, what="counter written"))


def _frozen(dirs: dict[str, str]) -> bool:
    if V2:
        return cg_read(dirs, "", "cgroup.freeze") == "1"
    return cg_read(dirs, "freezer", "freezer.state") == "FROZEN"


def test_pause_stops_a_counter_and_resume_restarts_it(runtime: Runtime, bundle: Bundle) -> None:
    out = out_file(bundle)
    bundle.set_args("sh", "-c", COUNTER)
    cid = run_detached(runtime, bundle)
    try:
        dirs = cgroup_dirs(init_pid(runtime, cid))
        start = _count(out)
        wait_for(lambda: _count(out) > start + 2, what="counter running")
        runtime.ok("pause", cid)
        assert runtime.state(cid)["status"] == "paused"
        assert _frozen(dirs)
        frozen_at = _count(out)
        time.sleep(0.5)
        assert _count(out) == frozen_at, "the counter moved while paused"
        runtime.ok("resume", cid)
        assert runtime.state(cid)["status"] == "running"
        assert not _frozen(dirs)
        wait_for(lambda: _count(out) > frozen_at + 2, what="counter running again")
    finally:
        runtime.ok("delete", "-f", cid)


def test_pause_freezes_every_process_without_a_pid_namespace(runtime: Runtime, bundle: Bundle) -> None:
    # The counter runs in a child of the init: the freezer must reach it too.
    out = out_file(bundle)
    share_host_pidns(bundle).set_args("sh", "-c", f"sh -c '{COUNTER}' & wait")
    cid = run_detached(runtime, bundle)
    try:
        start = _count(out)
        wait_for(lambda: _count(out) > start + 2, what="counter running")
        runtime.ok("pause", cid)
        frozen_at = _count(out)
        time.sleep(0.4)
        assert _count(out) == frozen_at
        runtime.ok("resume", cid)
        wait_for(lambda: _count(out) > frozen_at, what="counter running again")
    finally:
        runtime.ok("delete", "-f", cid)


def test_pause_a_created_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        runtime.ok("pause", cid)
        assert runtime.state(cid)["status"] == "paused"
        runtime.ok("resume", cid)
        # thawed before start: still waiting for `start`
        assert runtime.state(cid)["status"] == "created"
        runtime.ok("start", cid)
        assert runtime.state(cid)["status"] == "running"
    finally:
        runtime.ok("delete", "-f", cid)


def test_delete_force_and_kill_of_a_paused_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = run_detached(runtime, bundle)
    dirs = cgroup_dirs(init_pid(runtime, cid))
    runtime.ok("pause", cid)
    runtime.ok("kill", cid, "KILL")
    wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    runtime.ok("delete", cid)
    assert [d for d in dirs.values() if cid in d and Path(d).exists()] == []

    cid = run_detached(runtime, bundle)
    runtime.ok("pause", cid)
    runtime.ok("delete", "-f", cid)
    assert runtime("state", cid).rc == 1


def _error_texts(rt: Runtime, bundle: Bundle) -> list[tuple[int, str]]:
    bundle.set_args("sleep", "60")
    cid = rt.new_id()
    rt.ok("run", "-d", "-b", str(bundle.path), cid)
    got = []
    try:
        r = rt("resume", cid)  # running
        got.append((r.rc, r.error_text()))
        rt.ok("pause", cid)
        r = rt("pause", cid)  # already paused
        got.append((r.rc, r.error_text()))
        rt.ok("resume", cid)
        rt.ok("kill", cid, "KILL")
        wait_for(lambda: rt.state(cid)["status"] == "stopped", what="stopped")
        for cmd in ("pause", "resume"):
            r = rt(cmd, cid)
            got.append((r.rc, r.error_text()))
        for cmd in ("pause", "resume"):
            r = rt(cmd, "nonexistent")
            got.append((r.rc, r.error_text()))
    finally:
        rt.ok("delete", "-f", cid)
    return got


def test_pause_resume_errors_like_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    ours = _error_texts(runtime, bundle)
    assert ours == [
        (1, "container not paused"),
        (1, "container not running"),
        (1, "container not running"),
        (1, "container not paused"),
        (1, "container does not exist"),
        (1, "container does not exist"),
    ]
    if is_pyrunc():
        assert _error_texts(runc, bundle) == ours
