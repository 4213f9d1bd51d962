# ruff: noqa: F811 (the engine fixtures are imported from engines.py, then used as arguments)
"""containerd drives pyrunc through its runc shim (``ctr run --runc-binary``):
run --rm, run -d + task exec + task kill, a tty, exit codes, and the errors
containerd reads back from the runtime's JSON ``--log``. The ``containerd``
fixture (engines.py) starts a containerd of its own and imports the busybox
OCI archive the tests write."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engines import (  # noqa: F401
    CGROUP_ROOT,
    IMAGE,
    Containerd,
    busybox_rootfs_tar,
    containerd,
    processes_mentioning,
    wait_signal_handled,
)

pexpect = pytest.importorskip("pexpect")


def _id() -> str:
    return f"pyt-{uuid.uuid4().hex[:8]}"


def _task_status(cd: Containerd, cid: str) -> str:
    for line in cd.ok("task", "ls").out.splitlines()[1:]:
        words = line.split()
        if words and words[0] == cid:
            return words[-1]
    return ""


def _task_pid(cd: Containerd, cid: str) -> int:
    return int(next(ln.split()[1] for ln in cd.ok("task", "ls").out.splitlines() if ln.startswith(cid + " ")))


def _wait_status(cd: Containerd, cid: str, status: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while _task_status(cd, cid) != status:
        assert time.monotonic() < deadline, f"task {cid} is {_task_status(cd, cid)!r}, not {status}"
        time.sleep(0.1)


def _talk(child: Any) -> None:
    """Prompt, a pts, the size ctr sets, exit 3. ctr sends the window size only
    after the runtime's ``start`` (or ``exec``) returns, so the shell may be up
    before it: ask again until the size is there."""
    child.expect(r"# ")
    child.sendline("tty")
    child.expect(r"/dev/pts/\d+\r+\n")
    deadline = time.monotonic() + 10
    while True:
        child.sendline("stty size")
        i = child.expect([r"\n24 80\r+\n", r"\nstty: [^\n]*\n|\n0 0\r+\n"])
        if i == 0:
            break
        assert time.monotonic() < deadline, "the window size never reached the container's terminal"
        time.sleep(0.2)
    child.sendline("exit 3")


def _remove(cd: Containerd, cid: str) -> None:
    if _task_status(cd, cid):
        cd("task", "kill", "-s", "SIGKILL", cid)
        cd("task", "delete", "-f", cid, timeout=30)
    cd("container", "delete", cid, timeout=30)


@pytest.fixture
def task(containerd: Containerd) -> Iterator[str]:
    """A running task (``sleep`` as pid 1), removed afterwards."""
    cid = _id()
    try:
        containerd.ok(*containerd.run_args("-d", IMAGE, cid, "sleep", "1000"))
        yield cid
    finally:
        _remove(containerd, cid)


def test_run_rm_through_pyrunc(containerd: Containerd) -> None:
    cid = _id()
    r = containerd(*containerd.run_args("--rm", IMAGE, cid, "sh", "-c", "echo hello; echo err >&2"))
    assert (r.rc, r.out, r.err) == (0, "hello\n", "err\n"), r
    calls = containerd.wrapper.calls(cid)
    cmds = containerd.wrapper.commands(cid)
    assert cmds[:2] == ["create", "start"] and "delete" in cmds, calls
    # The shim always asks for JSON logs and reads errors back from that file.
    assert all("--log-format json" in c for c in calls), calls
    assert "--pid-file" in calls[0] and "--bundle" in calls[0]
    assert cid not in containerd.ok("container", "ls", "-q").out.split()


@pytest.mark.parametrize("status", [0, 7, 255])
def test_run_exit_codes(containerd: Containerd, status: int) -> None:
    r = containerd(*containerd.run_args("--rm", IMAGE, _id(), "sh", "-c", f"exit {status}"))
    assert r.rc == status, r


def test_run_killed_exit_code(containerd: Containerd) -> None:
    """pid 1 killed from outside: ``ctr run`` exits 128 + SIGKILL."""
    cid = _id()
    proc = subprocess.Popen(containerd.spawn_argv(*containerd.run_args("--rm", IMAGE, cid, "sleep", "1000")),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _task_status(containerd, cid) != "RUNNING":
            assert time.monotonic() < deadline and proc.poll() is None, "task did not start"
            time.sleep(0.1)
        containerd.ok("task", "kill", "-s", "SIGKILL", cid)
        assert proc.wait(timeout=30) == 137
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if cid in containerd("container", "ls", "-q").out.split():
            _remove(containerd, cid)


def test_run_missing_program(containerd: Containerd) -> None:
    """containerd reports the runtime's last JSON log error: runc's words."""
    cid = _id()
    try:
        r = containerd(*containerd.run_args("--rm", IMAGE, cid, "nosuchcommand"))
        assert r.rc != 0, r
        assert "executable file not found in $PATH" in r.err and "nosuchcommand" in r.err, r
    finally:
        if cid in containerd("container", "ls", "-q").out.split():
            _remove(containerd, cid)


def test_task_pid_is_the_container(containerd: Containerd, task: str) -> None:
    _wait_status(containerd, task, "RUNNING")
    pid = _task_pid(containerd, task)
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:2] == [b"sleep", b"1000"]


def test_task_exec(containerd: Containerd, task: str) -> None:
    r = containerd(*containerd.exec_args("--exec-id", "e1", task,
                                        "sh", "-c", "echo out; echo err >&2; cat /proc/1/cmdline | tr '\\0' ' '; echo"))
    assert (r.rc, r.out, r.err) == (0, "out\nsleep 1000 \n", "err\n"), r
    execs = [w for w in containerd.wrapper.parsed(task) if w[0] == "exec"]
    # containerd writes the process as JSON to a file and asks for --detach.
    assert execs and "--process" in execs[-1] and "--detach" in execs[-1] and "--pid-file" in execs[-1], execs


@pytest.mark.parametrize(("cmd", "status"), [
    (["sh", "-c", "exit 5"], 5),
    (["sh", "-c", "exit 0"], 0),
    (["sh", "-c", "kill -9 $$"], 137),  # not pid 1: the signal kills it
])
def test_task_exec_exit_codes(containerd: Containerd, task: str, cmd: list[str], status: int) -> None:
    r = containerd(*containerd.exec_args("--exec-id", _id(), task, *cmd))
    assert r.rc == status, r


def test_task_exec_missing_program(containerd: Containerd, task: str) -> None:
    r = containerd(*containerd.exec_args("--exec-id", _id(), task, "nosuchcommand"))
    assert r.rc != 0, r
    assert "executable file not found in $PATH" in r.err, r


def test_task_exec_user_cwd(containerd: Containerd, task: str) -> None:
    r = containerd(*containerd.exec_args("--exec-id", _id(), "--user", "65534", "--cwd", "/tmp", task,
                                        "sh", "-c", 'echo "$(id -u) $(pwd)"'))
    assert (r.rc, r.out) == (0, "65534 /tmp\n"), r


def test_task_exec_tty(containerd: Containerd, task: str) -> None:
    argv = containerd.spawn_argv(*containerd.exec_args("-t", "--exec-id", _id(), task, "sh"))
    child = pexpect.spawn(argv[0], argv[1:], dimensions=(24, 80), timeout=30, encoding="utf-8")
    try:
        _talk(child)
        child.expect(pexpect.EOF)
        child.close()
    finally:
        if child.isalive():
            child.close(force=True)
    assert child.exitstatus == 3, (child.exitstatus, child.signalstatus)
    assert any("--console-socket" in w for w in containerd.wrapper.calls(task) if " exec " in w)


def test_run_tty(containerd: Containerd) -> None:
    cid = _id()
    argv = containerd.spawn_argv(*containerd.run_args("-t", "--rm", IMAGE, cid, "sh"))
    child = pexpect.spawn(argv[0], argv[1:], dimensions=(24, 80), timeout=30, encoding="utf-8")
    try:
        _talk(child)
        child.expect(pexpect.EOF)
        child.close()
    finally:
        if child.isalive():
            child.close(force=True)
        if cid in containerd("container", "ls", "-q").out.split():
            _remove(containerd, cid)
    assert child.exitstatus == 3, (child.exitstatus, child.signalstatus)
    creates = [w for w in containerd.wrapper.parsed(cid) if w[0] == "create"]
    assert creates and "--console-socket" in creates[0], creates


def test_task_kill_sigterm_handled(containerd: Containerd) -> None:
    cid = _id()
    containerd.ok(*containerd.run_args("-d", IMAGE, cid, "sh", "-c",
                                       "trap 'exit 0' TERM; while :; do sleep 0.1; done"))
    try:
        _wait_status(containerd, cid, "RUNNING")
        wait_signal_handled(_task_pid(containerd, cid), signal.SIGTERM)
        containerd.ok("task", "kill", cid)
        _wait_status(containerd, cid, "STOPPED")
        r = containerd.ok("task", "delete", cid)
        assert "non-zero exit code" not in r.err, r
        assert [w[-1] for w in containerd.wrapper.parsed(cid) if w[0] == "kill"] == ["15"]
    finally:
        _remove(containerd, cid)


def test_task_kill_sigkill(containerd: Containerd, task: str) -> None:
    _wait_status(containerd, task, "RUNNING")
    containerd.ok("task", "kill", "-s", "SIGKILL", task)
    _wait_status(containerd, task, "STOPPED")
    r = containerd.ok("task", "delete", task)
    assert "exit code 137" in r.err, r
    assert [w[-1] for w in containerd.wrapper.parsed(task) if w[0] == "kill"] == ["9"]
    assert not processes_mentioning(f"{containerd.namespace} -id {task} ")


def test_task_kill_all_with_execs(containerd: Containerd, task: str) -> None:
    """``kill --all`` reaches exec'd processes too (runc kill --all)."""
    containerd.ok(*containerd.exec_args("-d", "--exec-id", _id(), task, "sleep", "999"))
    containerd.ok("task", "kill", "-a", "-s", "SIGKILL", task)
    _wait_status(containerd, task, "STOPPED")
    kills = [w for w in containerd.wrapper.parsed(task) if w[0] == "kill"]
    assert kills and "--all" in kills[-1], kills


def test_task_ps(containerd: Containerd, task: str) -> None:
    """``ctr task ps`` asks the runtime: ``ps --format json``."""
    _wait_status(containerd, task, "RUNNING")
    r = containerd.ok("task", "ps", task)
    pids = [int(line.split()[0]) for line in r.out.splitlines()[1:] if line.strip()]
    assert len(pids) == 1, r
    with open(f"/proc/{pids[0]}/cmdline", "rb") as f:
        assert f.read().startswith(b"sleep\0")


def test_task_pause_resume(containerd: Containerd, task: str) -> None:
    _wait_status(containerd, task, "RUNNING")
    containerd.ok("task", "pause", task)
    _wait_status(containerd, task, "PAUSED")
    containerd.ok("task", "resume", task)
    _wait_status(containerd, task, "RUNNING")
    cmds = containerd.wrapper.commands(task)
    assert "pause" in cmds and "resume" in cmds, cmds


def test_run_config_features(containerd: Containerd, tmp_path: Path) -> None:
    """What ctr puts in config.json reaches the container: env, cwd, a bind
    mount, a read-only rootfs, a dropped capability, the default seccomp profile."""
    (tmp_path / "in").write_text("from host\n")
    script = ('echo "$FOO $(pwd)"; cat /data/in; echo out > /data/out; '
              "touch /x 2>/dev/null && echo writable || echo read-only; "
              "grep -E '^(CapBnd|Seccomp):' /proc/self/status")
    r = containerd(*containerd.run_args(
        "--rm", "--env", "FOO=bar", "--cwd", "/tmp", "--read-only", "--seccomp",
        "--mount", f"type=bind,src={tmp_path},dst=/data,options=rbind:rw", "--cap-drop", "CAP_CHOWN",
        IMAGE, _id(), "sh", "-c", script))
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[:3] == ["bar /tmp", "from host", "read-only"], r
    status = dict(line.split(":\t") for line in lines[3:])
    assert not int(status["CapBnd"], 16) & (1 << 0), status  # CAP_CHOWN is bit 0
    assert status["Seccomp"] == "2", status  # filter mode
    assert (tmp_path / "out").read_text() == "out\n"


def test_run_memory_limit(containerd: Containerd) -> None:
    """ctr's default spec has no cgroup mount: read the limit from the host,
    in the cgroup ctr asks for (/<namespace>/<id>)."""
    if os.path.exists(f"{CGROUP_ROOT}/cgroup.controllers"):
        limit_file = f"{CGROUP_ROOT}/{containerd.namespace}/{{cid}}/memory.max"
    elif os.path.isdir(f"{CGROUP_ROOT}/memory"):
        limit_file = f"{CGROUP_ROOT}/memory/{containerd.namespace}/{{cid}}/memory.limit_in_bytes"
    else:
        pytest.skip("neither cgroup v2 nor a v1 memory hierarchy at /sys/fs/cgroup")
    cid = _id()
    try:
        containerd.ok(*containerd.run_args("-d", "--memory-limit", str(64 << 20), IMAGE, cid, "sleep", "1000"))
        assert Path(limit_file.format(cid=cid)).read_text() == f"{64 << 20}\n"
    finally:
        _remove(containerd, cid)


def _host_status(key: str) -> str:
    with open("/proc/self/status") as f:
        return next(line.split(":\t")[1].strip() for line in f if line.startswith(key + ":"))


def test_run_privileged(containerd: Containerd) -> None:
    r = containerd(*containerd.run_args("--rm", "--privileged", IMAGE, _id(), "sh", "-c",
                                        "grep -E '^(CapEff|Seccomp):' /proc/self/status"))
    assert (r.rc, r.out) == (0, f"CapEff:\t{_host_status('CapBnd')}\nSeccomp:\t0\n"), r


def test_run_joins_pid_namespace(containerd: Containerd, task: str) -> None:
    """--with-ns pid:PATH: the spec names an existing namespace to join."""
    _wait_status(containerd, task, "RUNNING")
    pid = _task_pid(containerd, task)
    r = containerd(*containerd.run_args("--rm", "--with-ns", f"pid:/proc/{pid}/ns/pid", IMAGE, _id(),
                                        "cat", "/proc/1/cmdline"))
    assert (r.rc, r.out) == (0, "sleep\x001000\x00"), r


def test_run_unmanaged_rootfs(containerd: Containerd, tmp_path: Path) -> None:
    """--rootfs DIR: no image, no snapshot; ctr's spec then has no PATH either."""
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    with tarfile.open(fileobj=io.BytesIO(busybox_rootfs_tar())) as tar:
        tar.extractall(rootfs)
    r = containerd(*containerd.run_args("--rm", "--rootfs", str(rootfs), _id(), "/bin/sh", "-c", "echo ok; exit 6"))
    assert (r.rc, r.out) == (6, "ok\n"), r


def test_task_exec_user_by_name(containerd: Containerd, task: str) -> None:
    # ctr resolves the name in the container's /etc/passwd and sends uid/gid.
    r = containerd(*containerd.exec_args("--exec-id", _id(), "--user", "nobody", task, "id"))
    assert (r.rc, r.out) == (0, "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"), r
