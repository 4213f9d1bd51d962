"""`exec`: every form of runc's exec against a running busybox container."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Bundle, Runtime, is_pyrunc, wait_for


@pytest.fixture
def running(runtime: Runtime, bundle: Bundle) -> str:
    """A detached container running `sleep`, deleted afterwards."""
    bundle.set_args("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    yield cid
    runtime("delete", "-f", cid)


def caps_of(status: str, field: str) -> int:
    for line in status.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    raise AssertionError(f"{field} not in {status!r}")


def test_exec_output_and_exit_code(runtime: Runtime, running: str) -> None:
    r = runtime("exec", running, "sh", "-c", "echo hi; echo err >&2; exit 7")
    assert (r.rc, r.out) == (7, "hi\n"), r
    assert "err\n" in r.err


def test_exec_args_after_id_are_the_command(runtime: Runtime, running: str) -> None:
    r = runtime.ok("exec", running, "echo", "-t", "--env", "x")
    assert r.out == "-t --env x\n"


def test_exec_joins_the_namespaces(runtime: Runtime, running: str) -> None:
    r = runtime.ok("exec", running, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname")
    assert r.out.splitlines()[0] == "sleep 300 "
    init = runtime.state(running)["pid"]
    for ns in ("pid", "mnt", "net", "uts", "ipc"):
        inside = runtime.ok("exec", running, "readlink", f"/proc/self/ns/{ns}").out.strip()
        assert inside == os.readlink(f"/proc/{init}/ns/{ns}")


def test_exec_killed_by_signal_is_128_plus(runtime: Runtime, running: str) -> None:
    assert runtime("exec", running, "sh", "-c", "kill -9 $$").rc == 137


def test_exec_env_cwd_user(runtime: Runtime, running: str) -> None:
    r = runtime.ok("exec", "-e", "FOO=bar", "-e", "BAZ=1,2", "--cwd", "/tmp", "-u", "65534:65534",
                   "-g", "10", running, "sh", "-c", "echo $FOO $BAZ; pwd; id -u; id -g; id -G")
    assert r.out.splitlines() == ["bar 1,2", "/tmp", "65534", "65534", "65534 10"]


def test_exec_missing_binary_is_255(runtime: Runtime, running: str) -> None:
    r = runtime("exec", running, "no-such-binary")
    assert r.rc == 255, r
    assert "exec failed" in r.error_text()
    assert "no-such-binary" in r.error_text()


def test_exec_bad_cwd_is_255(runtime: Runtime, running: str) -> None:
    r = runtime("exec", "--cwd", "/does/not/exist", running, "true")
    assert r.rc == 255, r


def test_exec_stopped_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("true")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    r = runtime("exec", cid, "true")
    assert r.rc == 255
    assert r.error_text() == "exec failed: cannot exec in a stopped container"
    runtime.ok("delete", cid)


def test_exec_paused_container(runtime: Runtime, running: str) -> None:
    if runtime("pause", running).rc != 0:
        pytest.skip("pause is not available")
    try:
        r = runtime("exec", running, "true")
        assert r.rc == 255
        assert r.error_text() == "exec failed: cannot exec in a paused container (use --ignore-paused to override)"
    finally:
        runtime.ok("resume", running)


def test_exec_no_such_container(runtime: Runtime) -> None:
    r = runtime("exec", "pyt-none", "true")
    assert r.rc == 255
    assert r.error_text() == "exec failed: container does not exist"


def test_exec_process_json(runtime: Runtime, running: str, tmp_path: Path) -> None:
    # The shape containerd writes: a full process object, terminal false.
    proc = {
        "terminal": False,
        "user": {"uid": 1000, "gid": 1000, "additionalGids": [1000, 20]},
        "args": ["sh", "-c", "echo $GREETING; pwd; id -u; id -G; grep CapBnd /proc/self/status"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hello"],
        "cwd": "/etc",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
        "noNewPrivileges": True,
    }
    path = tmp_path / "process.json"
    path.write_text(json.dumps(proc))
    r = runtime.ok("exec", "-p", str(path), running)
    lines = r.out.splitlines()
    assert lines[:4] == ["hello", "/etc", "1000", "1000 20"]
    # A non-root process keeps no effective caps across execve without ambient
    # ones; the bounding set shows the file's capabilities were used.
    assert int(lines[4].split()[1], 16) == 1 << 5  # CAP_KILL


def test_exec_process_json_ignores_flags(runtime: Runtime, running: str, tmp_path: Path) -> None:
    path = tmp_path / "process.json"
    path.write_text(json.dumps({"args": ["/bin/pwd"], "cwd": "/proc", "user": {"uid": 0, "gid": 0}}))
    assert runtime.ok("exec", "--cwd", "/tmp", "-p", str(path), running).out == "/proc\n"


def test_exec_process_json_invalid(runtime: Runtime, running: str, tmp_path: Path) -> None:
    path = tmp_path / "process.json"
    path.write_text(json.dumps({"args": [], "cwd": "/", "user": {"uid": 0, "gid": 0}}))
    r = runtime("exec", "-p", str(path), running)
    assert r.rc == 255
    assert "args must not be empty" in r.error_text()


def test_exec_cap_adds_without_inheritable(runtime: Runtime, running: str) -> None:
    cap_sys_admin = 1 << 21
    before = runtime.ok("exec", running, "cat", "/proc/self/status").out
    assert not caps_of(before, "CapEff") & cap_sys_admin
    after = runtime.ok("exec", "--cap", "CAP_SYS_ADMIN", running, "cat", "/proc/self/status").out
    for field in ("CapEff", "CapPrm", "CapBnd"):
        assert caps_of(after, field) & cap_sys_admin, field
    # CVE-2022-29162: --cap never fills the inheritable set.
    assert caps_of(after, "CapInh") == 0
    assert caps_of(after, "CapAmb") == 0


def test_exec_no_new_privs(runtime: Runtime, running: str) -> None:
    r = runtime.ok("exec", "--no-new-privs", running, "grep", "NoNewPrivs", "/proc/self/status")
    assert r.out.split() == ["NoNewPrivs:", "1"]


def test_exec_detach_pid_file(runtime: Runtime, running: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "exec.pid"
    r = runtime.ok("exec", "-d", "--pid-file", str(pid_file), running, "sleep", "100")
    assert r.out == ""
    pid = int(pid_file.read_text())
    assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00100\x00"
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{runtime.state(running)['pid']}/ns/pid")
    # The container's cgroup has it (ps json lists it).
    assert pid in json.loads(runtime.ok("ps", "-f", "json", running).out)


def test_exec_no_host_fds_leak(runtime: Runtime, running: str, tmp_path: Path) -> None:
    r = runtime.ok("exec", running, "ls", "/proc/self/fd")
    assert sorted(int(x) for x in r.out.split()) == [0, 1, 2, 3]  # 3 is ls's own dir fd


def with_fd3(runtime: Runtime, path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the runtime with ``path`` open at fd 3 (a shell does the redirect,
    so this process's own fds stay as they are)."""
    argv = [*runtime.argv, "--root", str(runtime.root), *args]
    return subprocess.run(["sh", "-c", 'exec "$@" 3<"$F"', "sh", *argv], env={**os.environ, "F": str(path)},
                          capture_output=True, timeout=60, check=False)


def test_exec_preserve_fds(runtime: Runtime, running: str, tmp_path: Path) -> None:
    f = tmp_path / "data"
    f.write_text("preserved\n")
    r = with_fd3(runtime, f, "exec", "--preserve-fds", "1", running, "cat", "/proc/self/fd/3")
    assert (r.returncode, r.stdout) == (0, b"preserved\n"), r.stderr
    # Without the flag fd 3 does not reach the container.
    r = with_fd3(runtime, f, "exec", running, "cat", "/proc/self/fd/3")
    assert r.returncode == 1, r


def test_exec_created_container(runtime: Runtime, bundle: Bundle) -> None:
    bundle.set_args("true")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        assert runtime.ok("exec", cid, "echo", "in-created").out == "in-created\n"
    finally:
        runtime.ok("delete", "-f", cid)


@pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's own messages")
def test_exec_unknown_sub_cgroup(runtime: Runtime, running: str) -> None:
    r = runtime("exec", "--cgroup", "nosuch:/x", running, "true")
    assert r.rc == 255


# ---------------------------------------------------------------- the Python API


@pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's Python API")
def test_exec_api_captured_output(runtime: Runtime, running: str) -> None:
    from pyrunc.api import Runtime as Api

    c = Api(root=str(runtime.root)).container(running)
    r = c.exec(["sh", "-c", "cat; echo out-$X; echo err >&2; exit 9"], input=b"from-stdin\n", env=["X=1"])
    assert (r.exit_code, r.stdout, r.stderr) == (9, b"from-stdin\nout-1\n", b"err\n")
    r = c.exec(["id", "-u"], uid=65534)
    assert (r.exit_code, r.stdout) == (0, b"65534\n")
    assert c.ps() == [runtime.state(running)["pid"]]


@pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's Python API")
def test_exec_api_pty(runtime: Runtime, running: str) -> None:
    import select

    from pyrunc.api import Runtime as Api

    with Api(root=str(runtime.root)).exec_pty(running, ["sh"]) as p:
        assert os.isatty(p.master)
        p.resize(12, 34)
        os.write(p.master, b"stty size; tty; exit 4\n")
        buf = b""
        while True:
            r, _, _ = select.select([p.master], [], [], 20)
            assert r, buf
            try:
                chunk = os.read(p.master, 4096)
            except OSError:  # EIO: the shell is gone
                break
            if not chunk:
                break
            buf += chunk
        assert b"12 34" in buf and b"/dev/pts/" in buf
        assert p.wait() == 4


@pytest.mark.skipif(not is_pyrunc(), reason="pyrunc's Python API")
def test_exec_api_errors(runtime: Runtime, running: str) -> None:
    from pyrunc.api import Runtime as Api
    from pyrunc.errors import PyruncError

    with pytest.raises(PyruncError, match="executable file not found"):
        Api(root=str(runtime.root)).exec(running, ["no-such-binary"])
    with pytest.raises(PyruncError, match="container does not exist"):
        Api(root=str(runtime.root)).exec("pyt-none", ["true"])



def test_exec_joins_user_namespace_first(runtime: Runtime, make_bundle: Any, traversable: None) -> None:
    b = make_bundle("sleep", "300")

    def userns(c: dict) -> None:
        c["linux"]["namespaces"].append({"type": "user"})
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]

    b.update(userns)
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    try:
        init = runtime.state(cid)["pid"]
        r = runtime.ok("exec", cid, "sh", "-c", "id -u; readlink /proc/self/ns/user; cat /proc/self/uid_map")
        lines = r.out.splitlines()
        assert lines[0] == "0"
        assert lines[1] == os.readlink(f"/proc/{init}/ns/user")
        assert lines[2].split() == ["0", "100000", "65536"]
        # Seen from the host, the process runs as the mapped uid.
        pid_file = Path(b.path) / "exec.pid"
        runtime.ok("exec", "-d", "--pid-file", str(pid_file), cid, "sleep", "100")
        status = Path(f"/proc/{int(pid_file.read_text())}/status").read_text()
        assert next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1] == "100000"
    finally:
        runtime("delete", "-f", cid)


def test_exec_pidfd_socket(runtime: Runtime, running: str, tmp_path: Path) -> None:
    import array
    import signal
    import socket
    import threading

    if not is_pyrunc():
        pytest.skip("--pidfd-socket is runc 1.2")
    path = tmp_path / "pidfd.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)
    got: list[int] = []

    def accept() -> None:
        conn, _ = srv.accept()
        with conn:
            _, anc, _, _ = conn.recvmsg(64, socket.CMSG_SPACE(4 * 4))
            for level, typ, data in anc:
                if (level, typ) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                    got.extend(array.array("i", data))

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    pid_file = tmp_path / "p"
    try:
        runtime.ok("exec", "-d", "--pidfd-socket", str(path), "--pid-file", str(pid_file), running, "sleep", "100")
        t.join(30)
        assert len(got) == 1
        pid = int(pid_file.read_text())
        # The pidfd is that process: it can signal it.
        assert f"Pid:\t{pid}" in Path(f"/proc/self/fdinfo/{got[0]}").read_text()
        signal.pidfd_send_signal(got[0], signal.SIGKILL)
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or
                 Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", what="killed")
    finally:
        for fd in got:
            os.close(fd)
        srv.close()


def test_exec_sub_cgroup(runtime: Runtime, running: str) -> None:
    init = runtime.state(running)["pid"]
    lines = Path(f"/proc/{init}/cgroup").read_text().splitlines()
    mem = next((ln.split(":", 2) for ln in lines if ln.split(":")[1] == "memory"), None)
    if mem is None:
        pytest.skip("needs a cgroup v1 memory hierarchy")
    sub = Path("/sys/fs/cgroup/memory") / mem[2].lstrip("/") / "sub"
    sub.mkdir()
    try:
        r = runtime.ok("exec", "--cgroup", "memory:sub", running, "cat", "/proc/self/cgroup")
        got = next(ln for ln in r.out.splitlines() if ln.split(":")[1] == "memory")
        assert got.endswith("/sub"), r.out
        if is_pyrunc():  # runc 1.2's check; 1.1.5 lets the last one win
            r = runtime("exec", "--cgroup", "memory:sub", "--cgroup", "memory:other", running, "true")
            assert r.rc == 255
            assert "controller memory specified multiple times" in r.error_text()
    finally:
        wait_for(lambda: not (sub / "cgroup.procs").read_text().strip(), what="sub-cgroup empty")
        sub.rmdir()
