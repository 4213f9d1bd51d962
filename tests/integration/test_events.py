"""`events`: runc's JSON lines; --stats once, --interval repeatedly, `oom`
events as the OOM killer acts, runc's error for a stopped container."""
from __future__ import annotations

import subprocess
import tempfile
import time

from cgroup_util import V2, MiB, read_json_lines, run_detached, set_resources
from conftest import Bundle, Runtime, is_pyrunc, wait_for

STATS_KEYS = ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt", "network_interfaces"]


def test_events_stats_shape_and_usage(runtime: Runtime, bundle: Bundle) -> None:
    # 12 MiB in the container's /dev/shm (tmpfs, charged to its memory cgroup), 3 processes
    set_resources(bundle, memory={"limit": 128 * MiB}, pids={"limit": 100})
    bundle.set_args("sh", "-c", "dd if=/dev/zero of=/dev/shm/f bs=1M count=12 2>/dev/null; "
                                "sleep 600 & sleep 600 & touch /dev/shm/ready; wait")
    cid = run_detached(runtime, bundle)
    try:
        wait_for(lambda: runtime("exec", cid, "test", "-e", "/dev/shm/ready").rc == 0, what="container ready")
        r = runtime.ok("events", "--stats", cid)
        (ev,) = read_json_lines(r.out)
        assert list(ev) == ["type", "id", "data"]
        assert ev["type"] == "stats" and ev["id"] == cid
        data = ev["data"]
        assert list(data) == STATS_KEYS
        assert data["network_interfaces"] is None
        mem = data["memory"]["usage"]
        assert mem["limit"] == 128 * MiB
        assert mem["usage"] >= 12 * MiB
        assert data["pids"]["current"] == 3 and data["pids"]["limit"] == 100
        assert data["cpu"]["usage"]["total"] > 0
    finally:
        runtime.ok("delete", "-f", cid)


def test_events_interval_repeats(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "600")
    cid = run_detached(runtime, bundle)
    try:
        with tempfile.TemporaryFile() as out:
            p = runtime.popen("events", "--interval", "300ms", cid, stdout=out, stderr=subprocess.DEVNULL)

            def lines() -> list[dict]:
                out.seek(0)
                return read_json_lines(out.read().decode().rpartition("\n")[0])
            try:
                started = time.monotonic()
                wait_for(lambda: len(lines()) >= 3, timeout=60, what="3 stats events")
                elapsed = time.monotonic() - started
            finally:
                p.kill()
                p.wait()
            events = lines()
        # one per interval, not a burst: 3 events take at least 2 intervals
        assert elapsed >= 0.6
        assert {e["type"] for e in events} == {"stats"}
        assert all(e["id"] == cid and "pids" in e["data"] for e in events)
    finally:
        runtime.ok("delete", "-f", cid)


def test_events_oom(runtime: Runtime, bundle: Bundle) -> None:
    # A child shell grows a variable past the 16 MiB limit and is OOM-killed;
    # the init survives and says so.
    out = bundle.path / "out"
    bundle.add_bind(out, "/out")
    set_resources(bundle, memory={"limit": 16 * MiB})
    bundle.set_args("sh", "-c", "while [ ! -e /out/go ]; do sleep 0.05; done; "
                                "sh -c 'x=$(head -c 64000000 /dev/zero | tr \"\\0\" a)'; "
                                "echo $? > /out/status; sleep 600")
    cid = run_detached(runtime, bundle)
    try:
        with tempfile.TemporaryFile() as evout:
            p = runtime.popen("events", "--interval", "60s", cid, stdout=evout, stderr=subprocess.DEVNULL)
            try:
                time.sleep(1.0)  # let events register its OOM notification first
                (out / "go").write_text("")
                wait_for(lambda: (out / "status").exists() and (out / "status").read_text().strip(),
                         timeout=120, what="the memory hog finished")  # slow under load

                def oom_seen() -> bool:
                    evout.seek(0)
                    return any(e["type"] == "oom" for e in read_json_lines(evout.read().decode()))
                wait_for(oom_seen, timeout=30, what="an oom event")
            finally:
                p.kill()
                p.wait()
            evout.seek(0)
            events = read_json_lines(evout.read().decode())
        assert {"type": "oom", "id": cid} in events  # no "data" (Go's omitempty)
        assert (out / "status").read_text().strip() == "137"  # SIGKILLed by the OOM killer
        assert runtime.state(cid)["status"] == "running"
    finally:
        runtime.ok("delete", "-f", cid)


def test_events_stream_ends_when_the_container_stops(runtime: Runtime, bundle: Bundle) -> None:
    if not is_pyrunc():
        return  # runc's stream lasts until the cgroup is removed
    bundle.set_args("sleep", "600")
    cid = run_detached(runtime, bundle)
    try:
        with tempfile.TemporaryFile() as out:
            p = runtime.popen("events", "--interval", "200ms", cid, stdout=out, stderr=subprocess.DEVNULL)
            try:
                # the stream is running once it has printed something
                wait_for(lambda: out.tell() > 0 or out.seek(0, 2) > 0, timeout=60, what="a first event")
                runtime.ok("kill", cid, "KILL")
                assert p.wait(timeout=30) == 0
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    finally:
        runtime.ok("delete", "-f", cid)


def _errors(rt: Runtime, bundle: Bundle) -> list[tuple[int, str]]:
    bundle.set_args("true")
    cid = rt.new_id()
    rt.ok("run", "--keep", "-b", str(bundle.path), cid)
    got = []
    try:
        for args in (["--stats", cid], [cid], ["--interval", "0s", cid], ["--stats", "nonexistent"]):
            r = rt("events", *args, timeout=20)
            got.append((r.rc, r.error_text()))
    finally:
        rt.ok("delete", cid)
    return got


def test_events_errors_like_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    ours = _errors(runtime, bundle)
    cid = runtime.ids[-1]
    assert ours == [
        (1, f"container with id {cid} is not running"),
        (1, f"container with id {cid} is not running"),
        (1, "duration interval must be greater than 0"),
        (1, "container does not exist"),
    ]
    if is_pyrunc():
        theirs = _errors(runc, bundle)
        rid = runc.ids[-1]
        assert [(rc, t.replace(rid, cid)) for rc, t in theirs] == ours


def test_events_oom_notifier_is_the_kernels(runtime: Runtime, bundle: Bundle) -> None:
    """The OOM events come from the kernel's notification (v1 eventfd on
    memory.oom_control, v2 poll on memory.events), not the polling fallback."""
    if not is_pyrunc():
        return
    from pyrunc.container import control
    from pyrunc.container.state import StateDir

    bundle.set_args("sleep", "600")
    cid = run_detached(runtime, bundle)
    try:
        st = StateDir(str(runtime.root), cid).load()
        watch = control.oom_watch(control._manager(st))
        try:
            assert type(watch).__name__ == ("_V2Watch" if V2 else "_V1Watch")
            assert watch.wait(0) == 0
        finally:
            watch.close()
    finally:
        runtime.ok("delete", "-f", cid)
