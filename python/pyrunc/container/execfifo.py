"""exec.fifo: how ``start`` releases a created container.

The init opens the fifo for write (through the O_PATH fd it got at spawn) and
blocks there until a reader comes; it then writes one byte and execve()s.
``start`` opens the read end without blocking, waits for that byte while
checking that the init is still alive, and removes the fifo: from then on the
container is ``running`` (a fifo that is gone means started).
"""
from __future__ import annotations

import os
import select

from pyrunc.errors import StateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable


def create(path: str, uid: int = 0, gid: int = 0) -> None:
    """mkfifo 0622 (the init may run as another user in a user namespace)."""
    old = os.umask(0)
    try:
        os.mkfifo(path, 0o622)
    finally:
        os.umask(old)
    if uid or gid:
        os.chown(path, uid, gid)


def open_path(path: str) -> int:
    """The O_PATH fd passed to the init: it reopens it for write through
    /proc/self/fd, so it needs no path into the state dir."""
    return os.open(path, os.O_PATH | os.O_CLOEXEC)


def release(path: str, init_alive: Callable[[], bool], poll_ms: int = 100) -> None:
    """Let the waiting init go on to execve, then remove the fifo."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise StateError("cannot start an already running container") from None
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        while True:
            if p.poll(poll_ms):
                data = _read_all(fd)
                if data:
                    break
                # POLLHUP without data: the writer went away without writing.
                raise StateError("container process is already dead")
            if not init_alive():
                # The init may have written and exited between two polls.
                if _read_all(fd):
                    break
                raise StateError("container process is already dead")
    finally:
        os.close(fd)
    os.unlink(path)


def _read_all(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out += chunk
