"""NOTIFY_SOCKET: the container gets /run/notify/notify.sock, and a READY=
sent there reaches the caller's socket followed by MAINPID=<init pid>, as
runc proxies it. busybox cannot send a unix datagram, so the test sends it
to the same socket from the host side, after the container saw it."""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Runtime, is_pyrunc, wait_for

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="uses pyrunc's state dir layout")


@pytest.fixture
def notify_sock(tmp_path: Path) -> Any:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    s.bind(str(path))
    s.settimeout(30)
    yield s, path
    s.close()


def test_notify_ready_reaches_caller(runtime: Runtime, make_bundle: Any, notify_sock: Any,
                                     tmp_path: Path) -> None:
    sock, path = notify_sock
    out = tmp_path / "out"
    b = make_bundle("sh", "-c", 'while ! test -S "$NOTIFY_SOCKET"; do sleep 0.05; done; '
                    'echo "$NOTIFY_SOCKET" > /out/seen; sleep 300')
    b.add_bind(out, "/out")
    cid = runtime.new_id()
    env = {**os.environ, "NOTIFY_SOCKET": str(path)}
    # Files, not pipes: the container keeps the runtime's stdio open.
    err = (tmp_path / "stderr").open("w+")
    p = subprocess.Popen([*runtime.argv, "--root", str(runtime.root), "run", "-d", "-b", str(b.path), cid],
                         env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        # The container sees the socket at /run/notify/notify.sock ...
        wait_for(lambda: (out / "seen").exists(), what="the container to see its notify socket")
        assert (out / "seen").read_text() == "/run/notify/notify.sock\n"
        # ... and `run -d` waits for READY before it returns.
        assert p.poll() is None
        inner = runtime.root / cid / "notify" / "notify.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
            c.sendto(b"STATUS=starting\nREADY=1", str(inner))
        assert p.wait(timeout=30) == 0, (tmp_path / "stderr").read_text()
        init = runtime.state(cid)["pid"]
        assert sock.recv(4096) == b"READY=1\n"
        assert sock.recv(4096) == f"MAINPID={init}\n".encode()
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        err.close()
        runtime("delete", "-f", cid)


def test_notify_init_exits_without_ready(runtime: Runtime, make_bundle: Any, notify_sock: Any) -> None:
    _, path = notify_sock
    b = make_bundle("sh", "-c", 'test "$NOTIFY_SOCKET" = /run/notify/notify.sock')
    cid = runtime.new_id()
    env = {**os.environ, "NOTIFY_SOCKET": str(path)}
    p = subprocess.run([*runtime.argv, "--root", str(runtime.root), "run", "-b", str(b.path), cid],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60,
                       check=False)
    assert p.returncode == 0, p.stderr
    assert not (runtime.root / cid).exists()
