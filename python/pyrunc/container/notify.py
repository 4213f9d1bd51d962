"""NOTIFY_SOCKET (sd_notify(3)) for containers, as runc proxies it.

When pyrunc itself runs with NOTIFY_SOCKET (a systemd unit of
Type=notify), ``create`` bind-mounts ``<state dir>/notify`` read-only at
/run/notify in the container and sets NOTIFY_SOCKET=/run/notify/notify.sock
for its process. ``start`` binds that datagram socket before the process
runs, waits for a ``READY=`` line (or for the init to go), and passes it on
to the caller's socket followed by ``MAINPID=<init pid>``, so systemd
watches the container's init.
"""
from __future__ import annotations

import contextlib
import os

from pyrunc.container.state import StateDir, proc_start_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    # `start` imports this module on every call; socket (and typing) only
    # matter with NOTIFY_SOCKET set, so they are imported where used.
    import socket
    from typing import Any

ENV = "NOTIFY_SOCKET"
DIR = "notify"
SOCK = "notify.sock"
IN_CONTAINER_DIR = "/run/notify"
POLL = 0.1  # seconds between checks that the init still lives (runc's ticker)


def host_socket() -> str | None:
    return os.environ.get(ENV) or None


def _address(path: str) -> str:
    # systemd writes abstract sockets with a leading "@".
    return "\0" + path[1:] if path.startswith("@") else path


def add_to_plan(plan: dict[str, Any], config: dict[str, Any], sd: StateDir) -> None:
    """create: the socket's directory, its mount and the process's env. Call
    after the state dir exists and before the init is spawned."""
    if not host_socket():
        return
    from pyrunc.container.plan import _mount_options

    d = os.path.join(sd.path, DIR)
    os.mkdir(d, 0o755)
    opts = ["bind", "nosuid", "noexec", "nodev", "ro"]
    mount = {"field": ENV, "destination": IN_CONTAINER_DIR, "source": d, "fstype": "bind",
             "dest_is_file": False, **_mount_options(opts, ENV)}
    plan["rootfs"]["mounts"].append(mount)
    env = f"{ENV}={IN_CONTAINER_DIR}/{SOCK}"
    plan["process"]["env"].append(env)
    # state.json keeps what the container really got (runc saves its edited spec).
    config.setdefault("mounts", []).append({"destination": IN_CONTAINER_DIR, "type": "bind", "source": d,
                                            "options": opts})
    config.setdefault("process", {}).setdefault("env", []).append(env)


class Proxy:
    """The container side's socket, bound in the state dir."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self.sock = sock
        self.host = host

    @classmethod
    def listen(cls, sd: StateDir) -> Proxy | None:
        """start: bind the socket, None when there is nothing to proxy (no
        NOTIFY_SOCKET now, or the container was created without one)."""
        host = host_socket()
        d = os.path.join(sd.path, DIR)
        if not host or not os.path.isdir(d):
            return None
        path = os.path.join(d, SOCK)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        import socket

        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        try:
            s.bind(path)
            # The container's process may run as any user.
            os.chmod(path, 0o777)
        except BaseException:
            s.close()
            raise
        return cls(s, host)

    def close(self) -> None:
        self.sock.close()

    def forward(self, pid: int, start_time: int) -> bool:
        """Wait for READY= from the container, then tell the host; returns
        False when the init went first."""
        try:
            self.sock.settimeout(POLL)
            while True:
                try:
                    data = self.sock.recv(4096)
                except TimeoutError:
                    if proc_start_time(pid) != start_time:
                        return False
                    continue
                for line in data.split(b"\n"):
                    if line.startswith(b"READY="):
                        self._send([line + b"\n", f"MAINPID={pid}\n".encode()])
                        return True
        finally:
            self.close()

    def _send(self, msgs: list[bytes]) -> None:
        import socket

        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as c:
            c.connect(_address(self.host))
            for m in msgs:
                c.send(m)


__all__ = ["Proxy", "add_to_plan", "host_socket"]
