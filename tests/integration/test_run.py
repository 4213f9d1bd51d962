"""`run`: the foreground container's output, exit status, env, mounts, cleanup."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import Bundle, Runtime, is_pyrunc, wait_for


def test_run_echo_hello(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("echo", "hello")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert (r.rc, r.out) == (0, "hello\n"), r
    assert os.listdir(runtime.root) == []  # deleted after it exited


def test_run_exit_code(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sh", "-c", "exit 3")
    assert runtime("run", "-b", str(bundle.path), runtime.new_id()).rc == 3


def test_run_false(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("false")
    assert runtime("run", "-b", str(bundle.path), runtime.new_id()).rc == 1


def test_run_env_and_bind_mount(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "from-host").write_text("host data\n")

    def cfg(c: dict) -> None:
        c["process"]["env"].append("ABC=EFG")
        c["process"]["args"] = ["sh", "-c", "echo $ABC; cat /app/from-host; echo inside > /app/from-container"]
        c["mounts"].append({"destination": "/app", "type": "bind", "source": str(shared),
                            "options": ["rbind", "rw"]})

    bundle.update(cfg)
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert (r.rc, r.out) == (0, "EFG\nhost data\n"), r
    assert (shared / "from-container").read_text() == "inside\n"


def test_run_hostname_and_pid1(runtime: Runtime, bundle: Bundle) -> None:
    bundle.update(lambda c: c.update(hostname="pyrunc-test"))
    bundle.set_args("sh", "-c", "hostname; echo $$")
    r = runtime.ok("run", "-b", str(bundle.path), runtime.new_id())
    assert r.out == "pyrunc-test\n1\n"


def test_run_cwd_user_and_readonly_root(runtime: Runtime, bundle: Bundle) -> None:
    def cfg(c: dict) -> None:
        c["process"]["cwd"] = "/work/dir"  # created when missing
        c["process"]["user"] = {"uid": 65534, "gid": 65534}
        c["process"]["args"] = ["sh", "-c", "pwd; id -u; id -g; touch /x 2>/dev/null || echo ro"]

    bundle.update(cfg)
    r = runtime.ok("run", "-b", str(bundle.path), runtime.new_id())
    assert r.out == "/work/dir\n65534\n65534\nro\n"


def _run_and_kill(runtime: Runtime, bundle: Bundle, sig: str) -> int:
    cid = runtime.new_id()
    p = runtime.popen("run", "-b", str(bundle.path), cid, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: runtime("state", cid).rc == 0 and runtime.state(cid)["status"] == "running",
                 what="running")
        runtime.ok("kill", cid, sig)
        return p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_run_killed_exit_code_137(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    assert _run_and_kill(runtime, bundle, "KILL") == 137


def test_run_terminated_exit_code_143(runtime: Runtime, bundle: Bundle) -> None:
    # Without a pid namespace `sleep` is not an init, so SIGTERM's default
    # action applies (a pid 1 without a handler ignores it).
    bundle.update(lambda c: c["linux"].update(
        namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "pid"]))
    bundle.set_args("sleep", "60")
    assert _run_and_kill(runtime, bundle, "TERM") == 143


def test_run_forwards_signals(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """A signal sent to `run` reaches the container's process."""
    bundle.set_args("sh", "-c", "trap 'echo got-usr1; exit 7' USR1; echo ready; while :; do sleep 0.1; done")
    out = tmp_path / "out"
    cid = runtime.new_id()
    with open(out, "wb") as f:
        p = runtime.popen("run", "-b", str(bundle.path), cid, stdout=f)
    try:
        wait_for(lambda: "ready" in out.read_text(), what="ready")
        p.send_signal(signal.SIGUSR1)
        assert p.wait(timeout=30) == 7
        assert out.read_text() == "ready\ngot-usr1\n"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_run_detach_then_delete(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    t = time.monotonic()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    assert time.monotonic() - t < 30
    st = runtime.state(cid)
    assert st["status"] == "running" and st["pid"] > 0
    runtime.ok("delete", "-f", cid)
    assert not (runtime.root / cid).exists()


def test_run_keep(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("true")
    cid = runtime.new_id()
    runtime.ok("run", "--keep", "-b", str(bundle.path), cid)
    st = runtime.state(cid)
    assert (st["status"], st["pid"]) == ("stopped", 0)
    runtime.ok("delete", cid)


def test_run_pid_file(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    pid_file = tmp_path / "pidfile"
    runtime.ok("run", "-d", "--pid-file", str(pid_file), "-b", str(bundle.path), cid)
    try:
        text = pid_file.read_text()
        assert text == str(runtime.state(cid)["pid"])  # decimal, no newline
    finally:
        runtime.ok("delete", "-f", cid)


def test_run_no_subreaper_flag(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("echo", "x")
    r = runtime("run", "--no-subreaper", "-b", str(bundle.path), runtime.new_id())
    assert (r.rc, r.out) == (0, "x\n")


def test_run_stdin_is_passed(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("cat")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id(), input=b"through stdin\n")
    assert (r.rc, r.out) == (0, "through stdin\n")


def test_run_missing_executable(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("/no/such/binary")
    cid = runtime.new_id()
    r = runtime("run", "-b", str(bundle.path), cid)
    assert r.rc != 0
    if is_pyrunc():
        assert "process.args" in r.err, r
    assert not (runtime.root / cid).exists()


def test_run_user_namespace(runtime: Runtime, bundle: Bundle) -> None:
    """A new user namespace: stage 0 writes the maps, devices are bound from
    the host (mknod is not allowed there)."""
    def cfg(c: dict) -> None:
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        # The host's cgroup dirs belong to host root, unmapped in here.
        c["mounts"] = [m for m in c["mounts"] if m["type"] != "cgroup"]
        c["process"]["args"] = ["sh", "-c", ("id -u; cat /proc/self/uid_map /proc/self/gid_map; "
                                "stat -c '%F %t:%T' /dev/null; echo x > /dev/null && echo null-ok")]

    bundle.update(cfg)
    # Container root (host uid 100000) must be able to reach the rootfs:
    # pytest's base dir is 0700.
    dirs = [p for p in bundle.path.parents if str(p).startswith("/tmp/") and p != Path("/tmp")]
    modes = {p: p.stat().st_mode & 0o7777 for p in dirs}
    try:
        for p in dirs:
            os.chmod(p, modes[p] | 0o011)
        r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    finally:
        for p, m in modes.items():
            os.chmod(p, m)
    assert r.rc == 0, r
    lines = [" ".join(line.split()) for line in r.out.splitlines()]
    assert lines == ["0", "0 100000 65536", "0 100000 65536", "character special file 1:3", "null-ok"]


def test_run_exit_codes_same_as_runc(runtime: Runtime, runc: Runtime, bundle: Bundle) -> None:
    """The payload's code, 128+signal when killed, 1 for a bad bundle: as runc.
    No pid namespace: a pid 1 cannot kill itself with a signal it has no handler for."""
    bundle.update(lambda c: c["linux"].update(
        namespaces=[n for n in c["linux"]["namespaces"] if n["type"] != "pid"]))
    codes = []
    for rt in (runtime, runc):
        got = []
        for script in ("exit 0", "exit 3", "exit 255", "kill -KILL $$", "kill -SEGV $$"):
            bundle.set_args("sh", "-c", script)
            got.append(rt("run", "-b", str(bundle.path), rt.new_id()).rc)
        bundle.update(lambda c: c["root"].update(path="missing"))
        got.append(rt("run", "-b", str(bundle.path), rt.new_id()).rc)
        bundle.update(lambda c: c["root"].update(path="rootfs"))
        codes.append(got)
    assert codes[0] == codes[1] == [0, 3, 255, 137, 139, 1]
