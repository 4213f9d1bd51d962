"""Terminals: the runc tutorial's interactive `run`, `exec -t`, window size,
and the caller's terminal left as it was."""
from __future__ import annotations

import shlex
import subprocess
import time

import pexpect
import pytest
from conftest import Bundle, Runtime, is_pyrunc

PROMPT = "/ # "


def tty_bundle(make_bundle, *args: str) -> Bundle:
    b = make_bundle(*(args or ("sh",)))
    return b.update(lambda c: c["process"].update(terminal=True))


def spawn_in_terminal(runtime: Runtime, *args: str, rows: int = 24, cols: int = 80) -> pexpect.spawn:
    """The runtime in a fresh pty, wrapped in a shell that prints the
    terminal's settings before and after it and its exit status."""
    cmd = shlex.join([*runtime.argv, "--root", str(runtime.root), *args])
    script = f"stty -g; {cmd}; echo \"rc=$?\"; stty -g"
    child = pexpect.spawn("/bin/sh", ["-c", script], dimensions=(rows, cols), encoding="utf-8",
                          timeout=30)
    child.expect(r"([0-9a-f:]+)\r\n")
    child.settings_before = child.match.group(1)
    return child


def finish(child: pexpect.spawn) -> int:
    """The runtime's exit status; checks the terminal settings came back."""
    child.expect(r"rc=(\d+)\r\n([0-9a-f:]+)\r\n")
    rc = int(child.match.group(1))
    after = child.match.group(2)
    child.expect(pexpect.EOF)
    child.close()
    assert after == child.settings_before, "the caller's terminal settings were not restored"
    return rc


def test_tty_tutorial_run(runtime: Runtime, make_bundle) -> None:
    b = tty_bundle(make_bundle)
    cid = runtime.new_id()
    child = spawn_in_terminal(runtime, "run", "-b", str(b.path), cid)
    try:
        child.expect_exact(PROMPT)
        child.sendline("ls /")
        child.expect("bin")
        child.expect_exact(PROMPT)
        child.sendline("env")
        child.expect("PATH=/usr/local/sbin")
        child.expect_exact(PROMPT)
        child.sendline("tty; readlink /proc/self/fd/0")
        child.expect(r"/dev/pts/\d+")
        child.expect_exact(PROMPT)
        child.sendline("exit 3")
        assert finish(child) == 3
    finally:
        child.close(force=True)
    assert not (runtime.root / cid).exists()


def test_tty_raw_mode_passes_control_chars(runtime: Runtime, make_bundle) -> None:
    # In raw mode ^C reaches the container's shell (its line discipline
    # makes it SIGINT there) instead of killing the runtime.
    b = tty_bundle(make_bundle)
    cid = runtime.new_id()
    child = spawn_in_terminal(runtime, "run", "-b", str(b.path), cid)
    try:
        child.expect_exact(PROMPT)
        child.sendline("sleep 100")
        child.expect_exact("sleep 100\r\n")
        time.sleep(0.5)  # sleep is the pty's foreground job now
        child.sendcontrol("c")
        # The container's pty echoes it and interrupts sleep: the prompt is back
        # well before 100 seconds, and the runtime is still there.
        child.expect_exact("^C", timeout=10)
        child.expect_exact(PROMPT, timeout=10)
        child.sendline("echo still-$((40+2))")
        child.expect("still-42")
        child.expect_exact(PROMPT)
        child.sendline("exit 6")
        assert finish(child) == 6
    finally:
        child.close(force=True)


def test_tty_window_size_and_resize(runtime: Runtime, make_bundle) -> None:
    b = tty_bundle(make_bundle)
    cid = runtime.new_id()
    child = spawn_in_terminal(runtime, "run", "-b", str(b.path), cid, rows=30, cols=100)
    try:
        child.expect_exact(PROMPT)
        child.sendline("stty size")
        child.expect(r"30 100")
        child.expect_exact(PROMPT)
        child.setwinsize(40, 132)  # SIGWINCH to the runtime, copied to the container's pty
        child.sendline("stty size")
        child.expect(r"40 132")
        child.expect_exact(PROMPT)
        child.sendline("exit 0")
        assert finish(child) == 0
    finally:
        child.close(force=True)


def test_tty_console_is_the_pty(runtime: Runtime, make_bundle) -> None:
    b = tty_bundle(make_bundle, "sh", "-c", "tty; stat -c %t:%T /dev/console $(tty)")
    child = spawn_in_terminal(runtime, "run", "-b", str(b.path), runtime.new_id())
    try:
        child.expect(r"(/dev/pts/\d+)\r\n(\w+:\w+)\r\n(\w+:\w+)\r\n")
        assert child.match.group(2) == child.match.group(3)  # /dev/console is that pty
        assert finish(child) == 0
    finally:
        child.close(force=True)


def test_tty_output_without_a_host_terminal(runtime: Runtime, make_bundle) -> None:
    # No terminal on our side at all: the relay still carries the output.
    b = tty_bundle(make_bundle, "sh", "-c", "echo out-$((6*7)); exit 4")
    cid = runtime.new_id()
    p = runtime.popen("run", "-b", str(b.path), cid, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                      start_new_session=True)
    out, err = p.communicate(timeout=60)
    if not is_pyrunc() and p.returncode != 4:
        pytest.skip(f"runc needs a terminal: {err!r}")
    assert p.returncode == 4, err
    assert b"out-42" in out


def test_tty_exec_interactive(runtime: Runtime, make_bundle) -> None:
    b = make_bundle("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    try:
        child = spawn_in_terminal(runtime, "exec", "-t", cid, "sh", rows=33, cols=91)
        try:
            child.expect_exact(PROMPT)
            child.sendline("tty; stty size; ps -o pid,comm")
            child.expect(r"/dev/pts/\d+")
            child.expect("33 91")
            child.expect(r"1 sleep")
            child.expect_exact(PROMPT)
            child.sendline("exit 5")
            assert finish(child) == 5
        finally:
            child.close(force=True)
    finally:
        runtime("delete", "-f", cid)


def test_tty_exec_without_tty_flag_has_no_terminal(runtime: Runtime, make_bundle) -> None:
    b = make_bundle("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    try:
        r = runtime("exec", cid, "tty")
        assert (r.rc, r.out) == (1, "not a tty\n")
    finally:
        runtime("delete", "-f", cid)

