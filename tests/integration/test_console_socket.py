"""--console-socket: the pty master arrives in one message with exactly one
SCM_RIGHTS fd (what go-runc's receiver insists on), and it is the
container's terminal."""
from __future__ import annotations

import array
import os
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Bundle, Runtime, wait_for


class Receiver:
    """An AF_UNIX listener that takes one connection and keeps its message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.result: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(60)
        conn, _ = self.sock.accept()
        with conn:
            fd_size = array.array("i").itemsize
            data, anc, flags, _ = conn.recvmsg(4096, socket.CMSG_SPACE(8 * fd_size))
            fds: list[int] = []
            for level, typ, cdata in anc:
                if (level, typ) == (socket.SOL_SOCKET, socket.SCM_RIGHTS):
                    a = array.array("i")
                    a.frombytes(cdata)
                    fds.extend(a)
            rest = conn.recv(16)  # the sender closes after one message
            self.result = {"data": data, "cmsgs": len(anc), "fds": fds, "flags": flags, "rest": rest}

    def master(self) -> int:
        self.thread.join(60)
        r = self.result
        assert r, "nothing arrived on the console socket"
        assert r["cmsgs"] == 1 and len(r["fds"]) == 1, r
        assert not r["flags"] & socket.MSG_CTRUNC
        assert r["rest"] == b""
        return r["fds"][0]

    def close(self) -> None:
        self.sock.close()
        for fd in self.result.get("fds", []):
            try:
                os.close(fd)
            except OSError:
                pass


@pytest.fixture
def receiver(tmp_path: Path) -> Any:
    r = Receiver(tmp_path / "console.sock")
    yield r
    r.close()


def read_until(fd: int, want: bytes, timeout: float = 20) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while want not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"{want!r} not in {buf!r}"
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            assert chunk, f"EOF before {want!r}: {buf!r}"
            buf += chunk
    return buf


def tty_bundle(make_bundle: Any, *args: str) -> Bundle:
    return make_bundle(*(args or ("sh",))).update(lambda c: c["process"].update(terminal=True))


def test_console_socket_create_start_talk(runtime: Runtime, make_bundle: Any, receiver: Receiver) -> None:
    b = tty_bundle(make_bundle)
    cid = runtime.new_id()
    runtime.ok("create", "--console-socket", str(receiver.path), "-b", str(b.path), cid)
    try:
        master = receiver.master()
        assert os.isatty(master)
        runtime.ok("start", cid)
        os.write(master, b"tty; echo hello-$((1+2))\n")
        out = read_until(master, b"hello-3")
        assert b"\n/dev/pts/" in out
        os.write(master, b"exit 5\n")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    finally:
        runtime("delete", "-f", cid)


def test_console_socket_run_detached(runtime: Runtime, make_bundle: Any, receiver: Receiver) -> None:
    b = tty_bundle(make_bundle, "sh", "-c", "stty size; read x; echo got-$x")
    b.update(lambda c: c["process"].update(consoleSize={"height": 21, "width": 77}))
    cid = runtime.new_id()
    r = runtime.ok("run", "-d", "--console-socket", str(receiver.path), "-b", str(b.path), cid)
    assert r.out == ""
    try:
        master = receiver.master()
        read_until(master, b"21 77")  # process.consoleSize applied to the pty
        os.write(master, b"abc\n")
        read_until(master, b"got-abc")
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
    finally:
        runtime("delete", "-f", cid)


def test_console_socket_exec_detached(runtime: Runtime, make_bundle: Any, receiver: Receiver,
                                      tmp_path: Path) -> None:
    b = make_bundle("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    try:
        pid_file = tmp_path / "exec.pid"
        runtime.ok("exec", "-d", "-t", "--console-socket", str(receiver.path), "--pid-file", str(pid_file),
                   cid, "sh")
        master = receiver.master()
        os.write(master, b"tty; echo done-$((2+3))\n")
        out = read_until(master, b"done-5")
        assert b"\n/dev/pts/" in out
        pid = int(pid_file.read_text())
        os.write(master, b"exit\n")
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or
                 Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", what="exec'd shell gone")
    finally:
        runtime("delete", "-f", cid)


def test_console_socket_required_for_detached_terminal(runtime: Runtime, make_bundle: Any) -> None:
    b = tty_bundle(make_bundle)
    for args in (["create"], ["run", "-d"]):
        cid = runtime.new_id()
        r = runtime(*args, "-b", str(b.path), cid)
        assert r.rc == 1
        assert r.error_text().endswith("cannot allocate tty if runc will detach without setting console socket")
        assert not (runtime.root / cid).exists()


def test_console_socket_without_terminal(runtime: Runtime, make_bundle: Any, tmp_path: Path) -> None:
    b = make_bundle("true")
    cid = runtime.new_id()
    r = runtime("create", "--console-socket", str(tmp_path / "sock"), "-b", str(b.path), cid)
    assert r.rc == 1
    assert r.error_text().endswith("cannot use console socket if runc will not detach or allocate tty")
    # Foreground run with a terminal does not take one either.
    b2 = tty_bundle(make_bundle)
    r = runtime("run", "--console-socket", str(tmp_path / "sock"), "-b", str(b2.path), runtime.new_id())
    assert r.rc == 1
    assert r.error_text().endswith("cannot use console socket if runc will not detach or allocate tty")


def test_console_socket_exec_tty_detached_needs_socket(runtime: Runtime, make_bundle: Any) -> None:
    b = make_bundle("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    try:
        r = runtime("exec", "-d", "-t", cid, "sh")
        assert r.rc == 255
        assert r.error_text().endswith("cannot allocate tty if runc will detach without setting console socket")
    finally:
        runtime("delete", "-f", cid)
