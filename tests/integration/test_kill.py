"""`kill`: signal names and numbers, -a, runc's error texts."""
from __future__ import annotations

import pytest
from conftest import Bundle, Runtime, wait_for


@pytest.mark.parametrize("sig", ["KILL", "SIGKILL", "sigkill", "9"])
def test_kill_signal_spellings(runtime: Runtime, bundle: Bundle, sig: str) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        runtime.ok("kill", cid, sig)
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_default_is_term(runtime: Runtime, bundle: Bundle) -> None:
    out = bundle.path / "out"
    bundle.add_bind(out, "/out")
    bundle.set_args("sh", "-c", "trap 'echo term > /out/got; exit 0' TERM; while :; do sleep 0.1; done")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        runtime.ok("kill", cid)
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
        assert (out / "got").read_text() == "term\n"
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_all(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sh", "-c", "sleep 60 & sleep 60 & wait")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        runtime.ok("kill", "--all", cid, "KILL")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_errors_like_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    bundle.set_args("true")
    results = []
    for rt in (runtime, runc):
        cid = rt.new_id()
        rt.ok("run", "--keep", "-b", str(bundle.path), cid)
        stopped = rt("kill", cid, "KILL")
        missing = rt("kill", "nonexistent", "KILL")
        rt.ok("delete", cid)
        results.append([(stopped.rc, stopped.error_text()), (missing.rc, missing.error_text())])
    assert results[0] == results[1] == [(1, "container not running"), (1, "container does not exist")]


def test_kill_bad_signal(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        r = runtime("kill", cid, "NOTASIGNAL")
        assert r.rc == 1 and "NOTASIGNAL" in r.error_text()
        assert runtime.state(cid)["status"] == "running"
    finally:
        runtime.ok("delete", "-f", cid)
