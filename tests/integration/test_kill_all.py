"""`kill --all` reaches every process in the container's cgroup, and SIGKILL
of a container sharing the host's pid namespace kills all of its processes
(runc 1.2); --all on a stopped container is no error and still reaches
leftovers."""
from __future__ import annotations

import time

from cgroup_util import V2, cg_read, cgroup_dirs, init_pid, run_detached, share_host_pidns
from conftest import Bundle, Runtime, is_pyrunc, pid_gone, wait_for

TWO_SLEEPS = "sleep 600 & sleep 600 & wait"


def _procs(dirs: dict[str, str]) -> list[int]:
    try:
        text = cg_read(dirs, "pids", "cgroup.procs")
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def _started(runtime: Runtime, bundle: Bundle, n: int) -> tuple[str, dict[str, str], list[int]]:
    cid = run_detached(runtime, bundle)
    dirs = cgroup_dirs(init_pid(runtime, cid))
    wait_for(lambda: len(_procs(dirs)) >= n, what=f"{n} processes")
    return cid, dirs, _procs(dirs)


def test_kill_all_term_reaches_children_in_own_pidns(runtime: Runtime, bundle: Bundle) -> None:
    # The init (pid 1 of its namespace, no TERM handler) ignores SIGTERM; the
    # sleeps do not, and once they are gone the init's `wait` returns.
    bundle.set_args("sh", "-c", TWO_SLEEPS)
    cid, _dirs, procs = _started(runtime, bundle, 3)
    try:
        runtime.ok("kill", cid, "TERM")
        time.sleep(0.5)
        assert runtime.state(cid)["status"] == "running"
        assert all(not pid_gone(p) for p in procs)
        runtime.ok("kill", "--all", cid, "TERM")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
        wait_for(lambda: all(pid_gone(p) for p in procs), what="every process gone")
    finally:
        runtime.ok("delete", "-f", cid)


def test_sigkill_without_pidns_kills_every_process(runtime: Runtime, bundle: Bundle) -> None:
    share_host_pidns(bundle).set_args("sh", "-c", TWO_SLEEPS)
    cid, dirs, procs = _started(runtime, bundle, 3)
    try:
        runtime.ok("kill", cid, "KILL")
        wait_for(lambda: all(pid_gone(p) for p in procs), what="every process gone")
        assert _procs(dirs) == []
        assert runtime.state(cid)["status"] == "stopped"
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_all_on_a_stopped_container_reaches_leftovers(runtime: Runtime, bundle: Bundle) -> None:
    # Without a pid namespace, SIGTERM ends the init only: the sleeps stay
    # behind in the cgroup of a container that is now stopped.
    share_host_pidns(bundle).set_args("sh", "-c", TWO_SLEEPS)
    cid, dirs, procs = _started(runtime, bundle, 3)
    try:
        init = init_pid(runtime, cid)
        runtime.ok("kill", cid, "TERM")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
        left = [p for p in procs if p != init]
        assert all(not pid_gone(p) for p in left)
        r = runtime("kill", cid, "KILL")
        assert (r.rc, r.error_text()) == (1, "container not running")
        runtime.ok("kill", "--all", cid, "KILL")  # runc 1.2: no error when stopped
        wait_for(lambda: all(pid_gone(p) for p in left), what="leftovers gone")
        assert _procs(dirs) == []
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_all_kill_stops_a_forking_container(runtime: Runtime, bundle: Bundle) -> None:
    # New children appear all the time: the freezer (v1) or cgroup.kill (v2)
    # must leave none of them behind.
    share_host_pidns(bundle).set_args("sh", "-c", "while :; do sleep 5 & sleep 0.01; done")
    cid, dirs, _ = _started(runtime, bundle, 5)
    try:
        runtime.ok("kill", "--all", cid, "KILL")
        wait_for(lambda: _procs(dirs) == [], what="cgroup empty")
        assert runtime.state(cid)["status"] == "stopped"
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_all_on_a_paused_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sh", "-c", TWO_SLEEPS)
    cid, dirs, procs = _started(runtime, bundle, 3)
    try:
        runtime.ok("pause", cid)
        runtime.ok("kill", "--all", cid, "TERM")
        time.sleep(0.3)
        if is_pyrunc():
            # the signal waits in the frozen tasks; the container stays paused
            # (runc's kill thaws it on the way out)
            assert runtime.state(cid)["status"] == "paused"
            assert (cg_read(dirs, "", "cgroup.freeze") == "1") if V2 else \
                (cg_read(dirs, "freezer", "freezer.state") == "FROZEN")
            runtime.ok("resume", cid)
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped after resume")
        wait_for(lambda: all(pid_gone(p) for p in procs), what="every process gone")
    finally:
        runtime.ok("delete", "-f", cid)


def test_kill_all_kill_on_a_paused_container(runtime: Runtime, bundle: Bundle) -> None:
    share_host_pidns(bundle).set_args("sh", "-c", TWO_SLEEPS)
    cid, _dirs, procs = _started(runtime, bundle, 3)
    try:
        runtime.ok("pause", cid)
        runtime.ok("kill", "--all", cid, "KILL")
        wait_for(lambda: all(pid_gone(p) for p in procs), what="every process gone")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    finally:
        runtime.ok("delete", "-f", cid)
