"""Stage 0's side of the sync protocol (the table is in rust/core/src/sync.rs).

One SOCK_SEQPACKET datagram is one JSON message with a ``type``. Stage 0 runs
one dispatch loop (:func:`dispatch`) that answers each request through a
:class:`Handlers` object until ``ready``; every message carries exactly what
its type allows, and a stray fd or an unexpected type is a protocol error. A
child's ``error`` message becomes a :class:`SyscallError` or
:class:`InitError` naming the stage, syscall and config field.
"""
from __future__ import annotations

import array
import errno
import json
import os
import socket
from collections.abc import Sequence

from pyrunc.container import hooks, idmap
from pyrunc.container.idmap import close_fds
from pyrunc.container.state import ContainerState, StateDir, proc_start_time, reap
from pyrunc.container.status import Status
from pyrunc.errors import InitError, PyruncError, SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any

MAX_MSG = 64 * 1024
# The messages that carry one fd as SCM_RIGHTS.
FD_MESSAGES = frozenset({"console", "seccomp_fd"})


class ProtocolError(InitError):
    """The init broke the protocol (unexpected type, stray fd, bad JSON)."""


def native() -> Any:
    from pyrunc import _native

    if not hasattr(_native, "spawn"):
        raise PyruncError("this build of pyrunc has no init (pyrunc._native.spawn is missing)")
    return _native


class Channel:
    """Stage 0's end of the socketpair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, kind: str, **payload: Any) -> None:
        msg = {"type": kind}
        msg.update(payload)
        try:
            self.sock.send(json.dumps(msg, separators=(",", ":")).encode())
        except OSError as e:
            # The init died: the caller finds out why from the next recv/waitpid.
            raise SyscallError("send", e.errno or errno.EPIPE, f"sync: send {kind}", stage="stage0") from None

    def recv(self) -> tuple[dict[str, Any] | None, list[int]]:
        """One message and the fds it carried; (None, []) on EOF."""
        fd_size = array.array("i").itemsize
        data, anc, flags, _ = self.sock.recvmsg(MAX_MSG, socket.CMSG_SPACE(4 * fd_size), socket.MSG_CMSG_CLOEXEC)
        fds: list[int] = []
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                arr = array.array("i")
                arr.frombytes(cdata[: len(cdata) - (len(cdata) % fd_size)])
                fds.extend(arr)
        if not data and not fds:
            return None, []
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            close_fds(fds)
            raise ProtocolError("sync: message truncated")
        try:
            msg = json.loads(data)
        except ValueError:
            close_fds(fds)
            raise ProtocolError("sync: malformed message") from None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            close_fds(fds)
            raise ProtocolError("sync: message without a type")
        want_fd = msg["type"] in FD_MESSAGES
        if len(fds) != (1 if want_fd else 0):
            close_fds(fds)
            raise ProtocolError(f"sync: {msg['type']} with {len(fds)} fds")
        return msg, fds

    def close(self) -> None:
        self.sock.close()


def error_from_message(msg: dict[str, Any]) -> PyruncError:
    """The init's one ``error`` message as an exception (InitError fields of error.rs)."""
    err = int(msg.get("errno") or 0)
    field = msg.get("field") or ""
    detail = msg.get("detail") or ""
    stage = msg.get("stage") or ""
    if err:
        return SyscallError(msg.get("syscall") or "", err, detail, field, stage)
    return InitError(detail or "init failed", field, stage)


class Handlers:
    """What stage 0 does for each request; subclasses override what they support.
    The default for a request nobody expects is a protocol error."""

    def map_ids(self, pid: int) -> None:
        raise ProtocolError("sync: unexpected map_ids")

    def child_pid(self, pid: int) -> None:
        raise ProtocolError("sync: unexpected child_pid")

    def hooks(self) -> str:
        """Run prestart + createRuntime; return the state JSON for the init's hooks."""
        raise ProtocolError("sync: unexpected hooks")

    def console(self, fd: int) -> None:
        os.close(fd)
        raise ProtocolError("sync: unexpected console")

    def seccomp_fd(self, fd: int) -> None:
        # Nobody to hand a notify listener to yet: closing it makes the
        # notified syscalls fail with ENOSYS, as with no listener.
        os.close(fd)

    def log(self, level: str, msg: str) -> None:
        from pyrunc import log

        if level == "debug":
            log.debug(msg)
        elif level == "error":
            log.error(msg)
        elif level == "info":
            log.info(msg)
        else:
            log.warning(msg)

    def eof(self) -> PyruncError:
        """The error to raise when the init closed the socket before ``ready``."""
        return InitError("init exited before it was ready")


def dispatch(chan: Channel, h: Handlers, until: str = "ready") -> None:
    """runc's parseSync: answer requests until ``until`` arrives."""
    while True:
        msg, fds = chan.recv()
        if msg is None:
            raise h.eof()
        kind = msg["type"]
        if kind == until:
            return
        if kind == "error":
            raise error_from_message(msg)
        if kind == "log":
            h.log(str(msg.get("level", "")), str(msg.get("msg", "")))
        elif kind == "map_ids":
            h.map_ids(int(msg["pid"]))
            chan.send("map_ids_done")
        elif kind == "child_pid":
            h.child_pid(int(msg["pid"]))
            chan.send("child_pid_ack")
        elif kind == "hooks":
            state = h.hooks()
            chan.send("hooks_done", state=state)
        elif kind == "console":
            h.console(fds[0])
            chan.send("console_done")
        elif kind == "seccomp_fd":
            h.seccomp_fd(fds[0])
            chan.send("seccomp_fd_done")
        else:
            raise ProtocolError(f"sync: expected {until}, got {kind}")


def socketpair() -> tuple[socket.socket, socket.socket]:
    """(stage 0's end, the init's end); both CLOEXEC, spawn dup2()s the init's."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def spawn(plan: dict[str, Any], pass_fds: Sequence[int], preserve_fds: int = 0,
          stdio: Sequence[int] | None = None) -> int:
    """Start the init (stage 1); returns its pid, a child of this process.
    pass_fds[i] lands at fd 3 + preserve_fds + i in the init; ``stdio``
    (three fds) become its 0-2 instead of ours."""
    data = json.dumps(plan, separators=(",", ":")).encode()
    io = (int(stdio[0]), int(stdio[1]), int(stdio[2])) if stdio is not None else None
    try:
        return int(native().spawn(data, list(pass_fds), preserve_fds, "pyrunc:[1:INIT]", io))
    except OSError as e:
        raise SyscallError("spawn", e.errno or errno.EIO, f"spawn init: {e.strerror or e}", stage="stage0") from None


def wait_status_text(status: int) -> str:
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"wait status {status:#x}"


def send_console(socket_path: str, fd: int) -> None:
    """Hand the pty master to --console-socket (see container/tty.py)."""
    from pyrunc.container import tty

    tty.send_console(socket_path, fd)


def send_pidfd(socket_path: str, pid: int) -> None:
    """--pidfd-socket: a pidfd of the init, sent like the console."""
    try:
        fd = os.pidfd_open(pid)
    except OSError as e:
        raise SyscallError("pidfd_open", e.errno or errno.ESRCH, f"pidfd_open {pid}", "--pidfd-socket",
                           "stage0") from None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(socket_path)
            socket.send_fds(s, [b"pidfd"], [fd])
    except OSError as e:
        raise SyscallError("sendmsg", e.errno or errno.EIO, f"send pidfd to {socket_path}", "--pidfd-socket",
                           "stage0") from None
    finally:
        os.close(fd)




# --------------------------------------------------------------------------- create


class CreateHandlers(Handlers):
    """Stage 0's answers during create."""

    # Foreground `run` keeps the pty master to relay it (container/tty.py).
    on_console: Any = None

    def __init__(self, sd: StateDir, st: ContainerState, config: dict[str, Any], stage1: int,
                 console_socket: str | None, rootless: bool) -> None:
        self.sd = sd
        self.st = st
        self.config = config
        self.stage1 = stage1
        self.console_socket = console_socket
        self.rootless = rootless
        self.stage1_reaped = False

    def map_ids(self, pid: int) -> None:
        linux = self.config.get("linux") or {}
        idmap.write_id_maps(pid, linux.get("uidMappings") or [], linux.get("gidMappings") or [],
                            rootless=self.rootless)

    def child_pid(self, pid: int) -> None:
        start = proc_start_time(pid)
        if start is None:
            raise InitError(f"container init (pid {pid}) died before it was reported", stage="stage1")
        self.st.init_pid = pid
        self.st.init_start = start
        # Saved at once: a create killed from here on leaves a pid delete can kill.
        self.sd.save(self.st)

    def after_child_pid_ack(self) -> None:
        # Stage 1 exits right after the ack; reap it so it is not a zombie.
        reap(self.stage1)
        self.stage1_reaped = True

    def hooks(self) -> str:
        state = self.st.oci_state(Status.CREATING)
        hooks.run_hooks(self.config, "prestart", state)
        hooks.run_hooks(self.config, "createRuntime", state)
        return json.dumps(state, separators=(",", ":"))

    def seccomp_fd(self, fd: int) -> None:
        # SCMP_ACT_NOTIFY: the listener fd goes to the seccomp agent with the
        # container's state (runc's agent protocol); we keep no copy.
        from pyrunc import seccomp

        profile = (self.config.get("linux") or {}).get("seccomp") or {}
        try:
            seccomp.send_to_listener(
                profile["listenerPath"], fd, pid=self.st.init_pid or 0,
                state=self.st.oci_state(Status.CREATING), metadata=profile.get("listenerMetadata"),
            )
        finally:
            os.close(fd)

    def console(self, fd: int) -> None:
        if self.on_console is not None:
            self.on_console(fd)
            return
        if not self.console_socket:
            from pyrunc.container import tty

            os.close(fd)
            raise PyruncError(tty.NEED_SOCKET)
        send_console(self.console_socket, fd)

    def eof(self) -> PyruncError:
        status = None
        if not self.stage1_reaped:
            status = reap(self.stage1)
            self.stage1_reaped = True
        if status is None and self.st.init_pid:
            status = reap(self.st.init_pid)
        text = f": {wait_status_text(status)}" if status is not None else ""
        return InitError(f"container init exited before it was ready{text}")


class CreateChannel(Channel):
    """Hooks the child_pid_ack point to reap stage 1 right after it."""

    def __init__(self, sock: Any, handlers: CreateHandlers) -> None:
        super().__init__(sock)
        self.handlers = handlers

    def send(self, kind: str, **payload: Any) -> None:
        super().send(kind, **payload)
        if kind == "child_pid_ack":
            self.handlers.after_child_pid_ack()
