"""Terminals: the console-socket client, the host terminal's raw mode and
window size, and the relay between the caller's stdio and a pty master.

The pty itself is made by the init inside the container's devpts (see
rust/core/src/init/console.rs); stage 0 only ever holds the master. With
``--console-socket`` the master goes to that socket and pyrunc is done with it;
in the foreground (``run``/``exec`` without ``-d``) pyrunc relays it itself.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import selectors
import signal
import socket
import struct
import termios
import tty as _tty
from collections.abc import Callable, Iterator

from pyrunc.errors import PyruncError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any

# runc's texts (utils_linux.go checkTerminal); engines match on them.
NEED_SOCKET = "cannot allocate tty if runc will detach without setting console socket"
SOCKET_WITHOUT_TTY = "cannot use console socket if runc will not detach or allocate tty"

# What runc names the master in the console-socket message (go-runc reads it
# but only needs the one fd).
MASTER_NAME = b"/dev/ptmx"
BUFSIZE = 32 * 1024


def check_terminal(terminal: bool, detach: bool, console_socket: str | None) -> None:
    """A detached process with a terminal needs somebody to take the master;
    a console socket is only for that case."""
    if detach and terminal and not console_socket:
        raise PyruncError(NEED_SOCKET)
    if (not detach or not terminal) and console_socket:
        raise PyruncError(SOCKET_WITHOUT_TTY)


def send_console(socket_path: str, fd: int) -> None:
    """Connect to ``socket_path`` and send the master: one sendmsg, one
    SCM_RIGHTS control message holding exactly one fd (go-runc's receiver
    rejects any other control size). ``fd`` is closed in every case."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as s:
            s.connect(socket_path)
            s.sendmsg([MASTER_NAME], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", fd))])
    except OSError as e:
        raise SyscallError("sendmsg", e.errno or errno.EIO, f"send console to {socket_path}",
                           "--console-socket", "stage0") from None
    finally:
        os.close(fd)


def recv_console(conn: socket.socket) -> tuple[bytes, int]:
    """The receiving side (tests, the API): (name, master fd); insists on one
    message with exactly one fd, like go-runc."""
    size = struct.calcsize("i")
    data, anc, flags, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * size), socket.MSG_CMSG_CLOEXEC)
    fds = [fd for level, typ, cdata in anc if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS
           for (fd,) in struct.iter_unpack("i", cdata[: len(cdata) - len(cdata) % size])]
    if len(anc) != 1 or len(fds) != 1 or flags & socket.MSG_CTRUNC:
        for fd in fds:
            os.close(fd)
        raise PyruncError(f"console socket: expected one message with one fd, got {len(anc)} "
                          f"control messages and {len(fds)} fds")
    return data, fds[0]


# --------------------------------------------------------------------------- host terminal


@contextlib.contextmanager
def host_console() -> Iterator[int | None]:
    """The caller's terminal, as runc finds it: stderr, stdout or stdin, else
    the controlling terminal /dev/tty; None when there is none (the relay
    still works, without raw mode)."""
    for fd in (2, 1, 0):
        with contextlib.suppress(OSError):
            if os.isatty(fd):
                yield fd
                return
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def raw_mode(fd: int | None) -> Iterator[None]:
    """Raw mode on the host terminal, restored on every way out (exceptions,
    signals turned into exceptions, the process's exit)."""
    if fd is None:
        yield
        return
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        yield
        return
    try:
        _tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def get_winsize(fd: int) -> tuple[int, int]:
    """(rows, cols) of a terminal."""
    buf = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    rows, cols, _, _ = struct.unpack("HHHH", buf)
    return rows, cols


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def copy_winsize(src: int | None, master: int) -> None:
    """The host terminal's size onto the pty (TIOCSWINSZ on the master
    signals SIGWINCH to the pty's foreground process group)."""
    if src is None:
        return
    with contextlib.suppress(OSError):
        rows, cols = get_winsize(src)
        if rows and cols:
            set_winsize(master, rows, cols)


# --------------------------------------------------------------------------- relay


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            # A non-blocking output (the master after _drain): wait until it takes more.
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_WRITE)
                sel.select()
            continue
        view = view[n:]


def _drain(master: int, out: int) -> None:
    """What the container wrote before it went: read until the pty is empty
    (EAGAIN) or has no slave left (EIO)."""
    os.set_blocking(master, False)
    while True:
        try:
            data = os.read(master, BUFSIZE)
        except (BlockingIOError, OSError):
            return
        if not data:
            return
        with contextlib.suppress(OSError):
            _write_all(out, data)


def relay(master: int, pid: int, stdin: int = 0, stdout: int = 1) -> None:
    """Copy ``stdin`` to the master and the master to ``stdout`` until the
    process ``pid`` exits (its pidfd turns readable) or the pty has no slave
    left; then drain what is left in the pty."""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except OSError:
        pidfd = None
    sel = selectors.DefaultSelector()
    try:
        sel.register(master, selectors.EVENT_READ, "master")
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ, "pid")
        with contextlib.suppress(ValueError, OSError, PermissionError):
            sel.register(stdin, selectors.EVENT_READ, "stdin")
        while True:
            for key, _ in sel.select():
                if key.data == "pid":
                    _drain(master, stdout)
                    return
                if key.data == "master":
                    try:
                        data = os.read(master, BUFSIZE)
                    except OSError as e:
                        if e.errno == errno.EIO:  # every slave fd is closed
                            return
                        raise
                    if not data:
                        return
                    _write_all(stdout, data)
                else:
                    try:
                        data = os.read(stdin, BUFSIZE)
                    except OSError:
                        data = b""
                    if not data:
                        # The caller's input ended: stop reading it, keep the output.
                        sel.unregister(stdin)
                        continue
                    with contextlib.suppress(OSError):
                        _write_all(master, data)
    finally:
        sel.close()
        if pidfd is not None:
            os.close(pidfd)


def foreground(master: int, pid: int, wait: Callable[[], int]) -> int:
    """Run a foreground terminal session: the host terminal in raw mode and
    its size copied to the pty (now and on every SIGWINCH), the relay until
    the process exits, the terminal restored; then ``wait()`` for the status.
    Closes ``master``."""
    try:
        with host_console() as host:
            copy_winsize(host, master)
            old: Any = None

            def on_winch(_sig: int, _frame: Any) -> None:
                copy_winsize(host, master)

            with contextlib.suppress(ValueError):  # not the main thread: no SIGWINCH
                old = signal.signal(signal.SIGWINCH, on_winch)
            try:
                with raw_mode(host):
                    relay(master, pid)
            finally:
                if old is not None:
                    signal.signal(signal.SIGWINCH, old)
    finally:
        os.close(master)
    return wait()


__all__ = [
    "NEED_SOCKET",
    "SOCKET_WITHOUT_TTY",
    "check_terminal",
    "copy_winsize",
    "foreground",
    "get_winsize",
    "host_console",
    "raw_mode",
    "recv_console",
    "relay",
    "send_console",
    "set_winsize",
]
