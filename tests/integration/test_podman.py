"""podman drives pyrunc (``--runtime``): run --rm, run -d + exec, -it through a
pty, stop, rm -f, exit codes. The image is a busybox rootfs imported by the
``podman`` fixture (engines.py); the wrapper's call log shows what podman sent."""
# ruff: noqa: F811 (the engine fixtures are imported from engines.py, then used as arguments)
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import IMAGE, Podman, podman, processes_mentioning, wait_signal_handled  # noqa: F401

pexpect = pytest.importorskip("pexpect")


def _name() -> str:
    return f"pyt-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def detached(podman: Podman) -> Iterator[str]:
    """A running container (``sleep`` as pid 1), removed afterwards."""
    name = _name()
    try:
        podman.ok(*podman.run_args("-d", "--name", name, IMAGE, "sleep", "1000"))
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name, timeout=60)


def _inspect(podman: Podman, name: str) -> dict:
    return json.loads(podman.ok("inspect", name).out)[0]


def _calls(podman: Podman, name: str) -> list[str]:
    """The runtime calls for a container (podman passes the full id, not the name)."""
    return podman.wrapper.calls(_inspect(podman, name)["Id"])


def _is_sleep(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().startswith(b"sleep\0")
    except FileNotFoundError:
        return False


def _signals(podman: Podman, name: str) -> list[str]:
    cid = _inspect(podman, name)["Id"]
    return [w[-1] for w in podman.wrapper.parsed(cid) if w[0] == "kill"]


def test_run_rm_through_pyrunc(podman: Podman) -> None:
    before = len(podman.wrapper.calls())
    name = _name()
    r = podman(*podman.run_args("--rm", "--name", name, IMAGE, "sh", "-c", "echo hello; echo err >&2"))
    assert (r.rc, r.out, r.err) == (0, "hello\n", "err\n"), r
    calls = podman.wrapper.calls()[before:]
    cmds = podman.wrapper.commands()[before:]
    # podman's order: create (with the pid file), start, then delete after the exit.
    assert cmds[:2] == ["create", "start"], calls
    assert "delete" in cmds, calls
    # pyrunc is on runtime_supports_json: podman reads create's errors as JSON.
    assert calls[0].startswith("--log-format=json --log "), calls
    assert "--pid-file" in calls[0]
    assert name not in podman.ok("ps", "-a", "--format", "{{.Names}}").out.split()


@pytest.mark.parametrize("status", [0, 7, 255])
def test_run_exit_codes(podman: Podman, status: int) -> None:
    r = podman(*podman.run_args("--rm", IMAGE, "sh", "-c", f"exit {status}"))
    assert r.rc == status, r


def test_run_killed_exit_code(podman: Podman) -> None:
    """pid 1 killed from outside: ``podman run`` exits 128 + SIGKILL. (From
    inside, a pid 1 cannot kill itself with a signal it has no handler for.)"""
    name = _name()
    proc = subprocess.Popen(podman.spawn_argv(*podman.run_args("--rm", "--name", name, IMAGE, "sleep", "1000")),
                            env=podman.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while podman("inspect", "--format", "{{.State.Status}}", name).out.strip() != "running":
            assert time.monotonic() < deadline and proc.poll() is None, "container did not start"
            time.sleep(0.1)
        podman.ok("kill", "-s", "KILL", name)
        assert proc.wait(timeout=30) == 137
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        podman("rm", "-f", "-t", "0", name)


@pytest.mark.parametrize(("cmd", "status"), [
    ("nosuchcommand", 127),    # podman maps "executable file not found" to 127
    ("/bin/nosuchfile", 127),  # ... and "no such file or directory" to 127
    ("/etc/notexec", 126),     # ... and "permission denied" to 126
])
def test_run_start_failure_exit_codes(podman: Podman, cmd: str, status: int) -> None:
    """Podman picks the exit code from the runtime's error text, the way runc
    words it: pyrunc's error for a missing or non-executable program must match."""
    r = podman(*podman.run_args("--rm", IMAGE, cmd))
    assert r.rc == status, r
    assert cmd in r.err, r


def test_run_detached_state_and_env(podman: Podman, detached: str) -> None:
    info = _inspect(podman, detached)
    assert info["State"]["Status"] == "running", info["State"]
    pid = info["State"]["Pid"]
    assert pid > 0
    # The pid podman got from the runtime's pid file is the container's sleep.
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"1000"]
    assert podman.wrapper.commands(_inspect(podman, detached)["Id"]) == ["create", "start"]


def test_exec(podman: Podman, detached: str) -> None:
    r = podman("exec", detached, "sh", "-c", "echo out; echo err >&2; cat /proc/1/cmdline | tr '\\0' ' '; echo")
    assert (r.rc, r.out, r.err) == (0, "out\nsleep 1000 \n", "err\n"), r
    execs = [c for c in _calls(podman, detached) if " exec " in c]
    assert execs and "--process " in execs[-1] and "--detach" in execs[-1], execs


@pytest.mark.parametrize(("cmd", "status"), [
    (["sh", "-c", "exit 5"], 5),
    (["sh", "-c", "kill -9 $$"], 137),
    (["nosuchcommand"], 127),
    (["/etc/notexec"], 126),
])
def test_exec_exit_codes(podman: Podman, detached: str, cmd: list[str], status: int) -> None:
    r = podman("exec", detached, *cmd)
    assert r.rc == status, r


def test_exec_user_env_workdir(podman: Podman, detached: str) -> None:
    r = podman("exec", "--user", "65534:65534", "--env", "FOO=bar baz", "--workdir", "/tmp", detached,
               "sh", "-c", 'echo "$(id -u) $(id -g) $FOO $(pwd)"')
    assert (r.rc, r.out) == (0, "65534 65534 bar baz /tmp\n"), r


def test_exec_detached(podman: Podman, detached: str) -> None:
    podman.ok("exec", "-d", detached, "sh", "-c", "echo done > /tmp/marker")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = podman("exec", detached, "cat", "/tmp/marker")
        if r.rc == 0 and r.out == "done\n":
            break
        time.sleep(0.1)
    assert r.out == "done\n", r


def _spawn(podman: Podman, *args: str) -> Any:
    return pexpect.spawn(podman.spawn_argv()[0], podman.spawn_argv(*args)[1:], env=podman.env,
                         dimensions=(24, 80), timeout=30, encoding="utf-8")


def _expect_size(child: Any, size: str) -> None:
    """``stty size`` until it shows ``size``: podman forwards a SIGWINCH to
    conmon asynchronously, so the new size may take a moment to land."""
    deadline = time.monotonic() + 10
    while True:
        child.sendline("stty size")
        if child.expect([rf"\n{size}\r+\n", r"\n\d+ \d+\r+\n"]) == 0:
            return
        assert time.monotonic() < deadline, f"the terminal never got size {size}"
        time.sleep(0.1)


def _shell_talk(child: Any) -> None:
    """Prompt, tty, size, resize, exit 3."""
    child.expect(r"# ")
    child.sendline("tty")
    child.expect(r"/dev/pts/\d+\r\n")
    _expect_size(child, "24 80")
    child.setwinsize(30, 100)
    _expect_size(child, "30 100")
    child.sendline("echo $((6*7))")
    child.expect(r"42\r\n")
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()


def test_run_interactive_tty(podman: Podman) -> None:
    name = _name()
    before = len(podman.wrapper.calls())
    child = _spawn(podman, *podman.run_args("-it", "--rm", "--name", name, IMAGE, "sh"))
    try:
        _shell_talk(child)
    finally:
        if child.isalive():
            child.close(force=True)
            podman("rm", "-f", "-t", "0", name)
    assert child.exitstatus == 3, (child.exitstatus, child.signalstatus)
    creates = [c for c in podman.wrapper.calls()[before:] if " create " in c]
    assert len(creates) == 1 and "--console-socket" in creates[0], creates


def test_exec_interactive_tty(podman: Podman, detached: str) -> None:
    child = _spawn(podman, "exec", "-it", detached, "sh")
    try:
        _shell_talk(child)
    finally:
        if child.isalive():
            child.close(force=True)
    assert child.exitstatus == 3, (child.exitstatus, child.signalstatus)


def test_stop_sigterm_handled(podman: Podman) -> None:
    """The container traps TERM and exits 0: stop needs no SIGKILL."""
    name = _name()
    podman.ok(*podman.run_args("-d", "--name", name, IMAGE, "sh", "-c",
                               "trap 'exit 0' TERM; while :; do sleep 0.1; done"))
    try:
        wait_signal_handled(_inspect(podman, name)["State"]["Pid"], signal.SIGTERM)
        start = time.monotonic()
        podman.ok("stop", "-t", "20", name)
        assert time.monotonic() - start < 15
        state = _inspect(podman, name)["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 0), state
        assert _signals(podman, name) == ["15"]
    finally:
        podman("rm", "-f", "-t", "0", name)


def test_stop_escalates_to_sigkill(podman: Podman, detached: str) -> None:
    """sleep as pid 1 ignores TERM: after the timeout podman sends KILL."""
    podman.ok("stop", "-t", "1", detached)
    state = _inspect(podman, detached)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 137), state
    assert _signals(podman, detached) == ["15", "9"]


def test_rm_force_running(podman: Podman) -> None:
    name = _name()
    cid = podman.ok(*podman.run_args("-d", "--name", name, IMAGE, "sleep", "1000")).out.strip()
    pid = _inspect(podman, name)["State"]["Pid"]
    podman.ok("rm", "-f", "-t", "0", name)
    assert name not in podman.ok("ps", "-a", "--format", "{{.Names}}").out.split()
    assert not _is_sleep(pid)
    assert not processes_mentioning(cid), "conmon or the container outlived rm -f"
    assert "delete" in podman.wrapper.commands(cid)


def test_restart_stopped_container(podman: Podman) -> None:
    """A stopped container started again: podman deletes the old runtime
    container and creates a new one with the same id."""
    name = _name()
    podman.ok(*podman.run_args("--name", name, IMAGE, "sh", "-c", "echo run"))
    try:
        r = podman("start", "-a", name)
        assert (r.rc, r.out) == (0, "run\n"), r
    finally:
        podman("rm", "-f", "-t", "0", name)


def test_run_resources_user_caps_readonly(podman: Podman) -> None:
    """What podman puts in config.json reaches the container: cgroup limits
    (v1 here), user, an empty capability set, a read-only rootfs."""
    script = ("cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; grep CapEff /proc/self/status; id -u; "
              "touch /x 2>/dev/null && echo writable || echo read-only")
    r = podman(*podman.run_args("--rm", "--pids-limit", "50", "--cap-drop", "all", "--user", "65534",
                                "--read-only", IMAGE, "sh", "-c", script))
    assert (r.rc, r.out) == (0, "50\nCapEff:\t0000000000000000\n65534\nread-only\n"), r


def test_run_memory_limit(podman: Podman) -> None:
    # cgroup v1 memory hierarchy, or v2 (where podman gives the container a cgroup namespace).
    r = podman(*podman.run_args("--rm", "--memory", "64m", IMAGE, "sh", "-c",
                                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || "
                                "cat /sys/fs/cgroup/memory.max"))
    assert (r.rc, r.out) == (0, f"{64 << 20}\n"), r


def test_run_env_workdir_hostname_mounts(podman: Podman, tmp_path: Path) -> None:
    (tmp_path / "in").write_text("from host\n")
    r = podman(*podman.run_args(
        "--rm", "--env", "FOO=bar", "--workdir", "/tmp", "--hostname", "engine-test",
        "--volume", f"{tmp_path}:/data", "--tmpfs", "/scratch", IMAGE, "sh", "-c",
        'echo "$FOO $(pwd) $(hostname)"; cat /data/in; echo out > /data/out; '
        "grep -c ' /scratch tmpfs ' /proc/mounts"))
    assert (r.rc, r.out) == (0, "bar /tmp engine-test\nfrom host\n1\n"), r
    assert (tmp_path / "out").read_text() == "out\n"


def test_kill_signal_reaches_handler(podman: Podman) -> None:
    name = _name()
    podman.ok(*podman.run_args("-d", "--name", name, IMAGE, "sh", "-c",
                               "trap 'exit 42' USR1; while :; do sleep 0.1; done"))
    try:
        wait_signal_handled(_inspect(podman, name)["State"]["Pid"], signal.SIGUSR1)
        podman.ok("kill", "-s", "USR1", name)
        assert podman.ok("wait", name, timeout=30).out.strip() == "42"
        assert _signals(podman, name) == ["10"]
    finally:
        podman("rm", "-f", "-t", "0", name)


def test_pause_unpause(podman: Podman, detached: str) -> None:
    podman.ok("pause", detached)
    assert _inspect(podman, detached)["State"]["Status"] == "paused"
    podman.ok("unpause", detached)
    assert _inspect(podman, detached)["State"]["Status"] == "running"
    cmds = podman.wrapper.commands(_inspect(podman, detached)["Id"])
    assert "pause" in cmds and "resume" in cmds, cmds


def test_run_stdin_pipe(podman: Podman) -> None:
    r = podman(*podman.run_args("-i", "--rm", IMAGE, "sh", "-c", "cat; echo end"), input=b"piped\n")
    assert (r.rc, r.out) == (0, "piped\nend\n"), r


def test_run_user_namespace(podman: Podman) -> None:
    """--uidmap/--gidmap: a user namespace whose maps the runtime writes."""
    r = podman(*podman.run_args("--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536", IMAGE,
                                "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c %u /bin/busybox"))
    assert r.rc == 0, r
    assert r.out.split() == ["0", "100000", "65536", "0", "100000", "65536", "0", "0"], r


def test_exec_preserve_fds(podman: Podman, detached: str) -> None:
    """podman exec --preserve-fds N passes fd 3.. through conmon to the runtime."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"fd three\n")
    os.close(write_end)
    try:
        # A shell puts the pipe on fd 3 of podman (and closes the stdin copy).
        argv = ["sh", "-c", 'exec "$@" 3<&0 </dev/null', "sh",
                *podman.spawn_argv("exec", "--preserve-fds", "1", detached, "sh", "-c", "cat <&3")]
        proc = subprocess.run(argv, env=podman.env, stdin=read_end, capture_output=True, timeout=60, check=False)
    finally:
        os.close(read_end)
    assert (proc.returncode, proc.stdout) == (0, b"fd three\n"), proc
    execs = [w for w in podman.wrapper.parsed(_inspect(podman, detached)["Id"]) if w[0] == "exec"]
    assert "--preserve-fds" in execs[-1], execs


def _host_status(key: str) -> str:
    with open("/proc/self/status") as f:
        return next(line.split(":\t")[1].strip() for line in f if line.startswith(key + ":"))


def test_run_privileged(podman: Podman) -> None:
    """--privileged: every capability the host has, no seccomp filter, the host's devices."""
    r = podman(*podman.run_args("--rm", "--privileged", IMAGE, "sh", "-c",
                                "grep -E '^(CapEff|Seccomp):' /proc/self/status; ls /dev"))
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].split(":\t")[1] == _host_status("CapBnd"), r
    assert lines[1] == "Seccomp:\t0", r
    host_devs = {d for d in os.listdir("/dev") if d.startswith(("tty", "loop", "vd", "sd", "nvme"))}
    assert host_devs <= set(lines[2:]), host_devs - set(lines[2:])


def test_run_host_namespaces(podman: Podman) -> None:
    """--pid/--uts/--ipc host: the runtime joins (does not create) those namespaces."""
    r = podman(*podman.run_args("--rm", "--pid", "host", "--uts", "host", "--ipc", "host", IMAGE, "sh", "-c",
                                f"hostname; test -d /proc/{os.getpid()} && echo sees-host-pids; "
                                "readlink /proc/self/ns/ipc"))
    assert r.rc == 0, r
    assert r.out.splitlines() == [os.uname().nodename, "sees-host-pids", os.readlink("/proc/self/ns/ipc")], r


def test_run_user_groups_ulimits(podman: Podman) -> None:
    # --ulimit replaces the configured defaults: nproc must stay under this host's hard limit too.
    r = podman(*podman.run_args("--rm", "--user", "1000:1000", "--group-add", "5", "--ulimit", "nofile=100:200",
                                "--ulimit", "nproc=100:100", IMAGE, "sh", "-c",
                                "id -u; id -G; ulimit -n; ulimit -Hn; ulimit -u"))
    assert (r.rc, r.out.split()) == (0, ["1000", "1000", "5", "100", "200", "100"]), r


def test_run_tty_without_stdin(podman: Podman) -> None:
    r = podman(*podman.run_args("--rm", "-t", IMAGE, "sh", "-c", "tty; exit 4"))
    assert r.rc == 4, r
    assert r.out.startswith("/dev/pts/"), r


def test_run_host_pidns_leaves_no_process(podman: Podman) -> None:
    """With the host's pid namespace nothing kills the container's other
    processes when pid 1 exits: the runtime's ``delete`` must (by cgroup)."""
    r = podman(*podman.run_args("--rm", "--pid", "host", IMAGE, "sh", "-c",
                                "sleep 1000 >/dev/null 2>&1 & echo $!"))
    assert r.rc == 0, r
    pid = int(r.out)
    deadline = time.monotonic() + 10
    while _is_sleep(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the container's background sleep outlived podman run --rm")
        time.sleep(0.05)
