"""`start`: releases the init; runc's errors for the other states."""
from __future__ import annotations

from conftest import Bundle, Runtime, wait_for, wait_stopped


def test_start_runs_process(runtime: Runtime, bundle: Bundle) -> None:
    out = bundle.path / "out"
    bundle.add_bind(out, "/out")
    bundle.set_args("sh", "-c", "echo started > /out/marker; sleep 60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        marker = out / "marker"
        assert not marker.exists()
        assert (runtime.root / cid / "exec.fifo").exists()
        runtime.ok("start", cid)
        assert not (runtime.root / cid / "exec.fifo").exists()
        wait_for(marker.exists, what="marker")
        assert runtime.state(cid)["status"] == "running"
    finally:
        runtime.ok("delete", "-f", cid)


def test_start_errors_like_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    results = []
    for rt in (runtime, runc):
        cid = rt.new_id()
        rt.ok("create", "-b", str(bundle.path), cid)
        rt.ok("start", cid)
        running = rt("start", cid)
        rt.ok("kill", cid, "KILL")
        wait_stopped(rt, cid)
        stopped = rt("start", cid)
        rt.ok("delete", cid)
        missing = rt("start", cid)
        results.append([(r.rc, r.error_text()) for r in (running, stopped, missing)])
    assert results[0] == results[1] == [
        (1, "cannot start an already running container"),
        (1, "cannot start a container that has stopped"),
        (1, "container does not exist"),
    ]


def test_start_process_that_exits_at_once(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("true")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    runtime.ok("start", cid)
    wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    runtime.ok("delete", cid)
