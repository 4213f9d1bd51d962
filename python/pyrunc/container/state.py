"""The per-container state dir: layout, state.json, the lock, status from the kernel.

Layout (runc's names): ``<root>/<id>/state.json`` and ``<root>/<id>/exec.fifo``.
The root is made 0700 and each container dir 0711, as runc does. state.json is
written to a temporary file, fsynced and renamed, so readers (``state``,
``list``) never see half a file and need no lock; commands that change a
container take an exclusive flock on its directory for their whole run.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import pwd
import re
import time
from collections.abc import Iterator
from typing import Any

from pyrunc.container.status import Status
from pyrunc.errors import ContainerExists, ContainerNotExist, PyruncError, StateError

STATE_FILE = "state.json"
FIFO_FILE = "exec.fifo"

# runc's container id rule; "." and ".." are also refused.
_ID_RE = re.compile(r"^[\w+.-]+$", re.ASCII)


def validate_id(cid: str) -> None:
    if not cid or not _ID_RE.match(cid) or cid in (".", ".."):
        raise PyruncError("invalid container ID format")


def exists_error(cid: str) -> ContainerExists:
    """runc 1.1 and 1.2 say "container with given ID already exists"."""
    e = ContainerExists(cid)
    e.args = ("container with given ID already exists",)
    return e


def rfc3339nano(ns: int | None = None) -> str:
    """UTC time formatted like Go's time.RFC3339Nano (trailing zeros of the
    fraction dropped, no fraction when it is zero)."""
    if ns is None:
        ns = time.time_ns()
    secs, frac = divmod(ns, 1_000_000_000)
    out = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        out += "." + f"{frac:09d}".rstrip("0")
    return out + "Z"


def dumps_go(obj: Any, indent: int | None = None) -> str:
    """JSON as Go's encoding/json writes it: no ASCII escaping, but <, >, & and
    U+2028/9 escaped; compact separators unless indented."""
    if indent is None:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=indent)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks), None when the
    process is gone or a zombie: the pair (pid, start) names one process even
    after the pid is reused."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = data[data.rfind(b")") + 2:].split()
    if not rest or rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


@dataclasses.dataclass
class ContainerState:
    """What state.json holds: everything later commands need."""

    id: str
    bundle: str
    rootfs: str
    created: str
    oci_version: str = ""
    status: str = Status.CREATING.value
    init_pid: int = 0
    init_start: int = 0
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)
    cgroup: dict[str, Any] = dataclasses.field(default_factory=dict)
    systemd_cgroup: bool = False
    rootless: bool = False
    config_path: str = ""
    # The validated config.json as a dict (hooks, namespaces for exec ...).
    config: dict[str, Any] = dataclasses.field(default_factory=dict)
    # The uid that made the container (runc lists the state dir's owner).
    owner_uid: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerState:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def init_alive(self) -> bool:
        """True when the recorded init is still that process (not a reused pid)."""
        return self.init_pid > 0 and proc_start_time(self.init_pid) == self.init_start

    def oci_state(self, status: Status) -> dict[str, Any]:
        """The runtime-spec state object, as hooks get it on stdin (runc leaves
        out pid when it is 0 and annotations when empty)."""
        from pyrunc import OCI_VERSION

        d: dict[str, Any] = {"ociVersion": OCI_VERSION, "id": self.id, "status": status.value}
        if status is not Status.STOPPED and self.init_pid:
            d["pid"] = self.init_pid
        d["bundle"] = self.bundle
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        return d


def atomic_write(path: str, data: bytes, mode: int = 0o600) -> None:
    """tmp file in the same dir + fsync + rename: readers see the old or the
    new file, never part of one. The dir is not fsynced: the state root
    lives in /run and does not outlive a reboot anyway."""
    d = os.path.dirname(path) or "."
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.rename(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise


class StateDir:
    """``<root>/<id>``: the paths and operations on one container's state."""

    def __init__(self, root: str, cid: str) -> None:
        validate_id(cid)
        self.root = os.path.abspath(root)
        self.id = cid
        self.path = os.path.join(self.root, cid)
        self.state_file = os.path.join(self.path, STATE_FILE)
        self.fifo = os.path.join(self.path, FIFO_FILE)
        self._lock_fd: int | None = None

    def exists(self) -> bool:
        return os.path.isdir(self.path)

    def make(self) -> None:
        """Create the dir; the container exists from here on."""
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        try:
            os.mkdir(self.path, 0o711)
        except FileExistsError:
            raise exists_error(self.id) from None
        os.chmod(self.path, 0o711)  # not subject to the umask, as runc

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive flock on the dir, held by commands that change the container.
        A killed holder releases it with its fds."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContainerNotExist() from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            os.close(fd)

    def try_lock_free(self) -> bool:
        """True when nobody holds the lock (used to spot a create that died)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    def has_state(self) -> bool:
        return os.path.exists(self.state_file)

    def load(self) -> ContainerState:
        try:
            with open(self.state_file, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise ContainerNotExist() from None
        try:
            return ContainerState.from_dict(json.loads(raw))
        except (ValueError, TypeError) as e:
            raise StateError(f"{self.state_file}: invalid state: {e}") from None

    def save(self, st: ContainerState) -> None:
        atomic_write(self.state_file, json.dumps(st.to_dict()).encode())

    def remove(self) -> None:
        """Remove the dir and what it holds (state.json, exec.fifo, tmp files)."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return
        for n in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.path, n))
        with contextlib.suppress(FileNotFoundError):
            os.rmdir(self.path)

    def owner(self) -> str:
        """The user name of the dir's owner, ``#UID`` when unknown (runc's list)."""
        try:
            uid = os.stat(self.path).st_uid
        except OSError:
            return ""
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"#{uid}"


def list_ids(root: str) -> list[str]:
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    return [n for n in names if os.path.isdir(os.path.join(root, n)) and _ID_RE.match(n)]


def current_status(sd: StateDir, st: ContainerState, frozen: bool | None = None) -> Status:
    """The status from the kernel, not from the file: a dead or replaced init
    is stopped; a frozen cgroup is paused; a live init that has not been
    started still has its exec.fifo. ``frozen`` comes from the cgroup manager."""
    stored = Status(st.status)
    if stored is Status.CREATING:
        # The create that writes this status holds the lock; if nobody does,
        # the create died: what is left is stopped or an orphaned init.
        if not sd.try_lock_free():
            return Status.CREATING
        return Status.CREATED if st.init_alive() and os.path.exists(sd.fifo) else Status.STOPPED
    if not st.init_alive():
        return Status.STOPPED
    if frozen:
        return Status.PAUSED
    if os.path.exists(sd.fifo):
        return Status.CREATED
    return Status.RUNNING


def write_pid_file(path: str, pid: int) -> None:
    """Decimal, no newline, atomic (containerd reads it as soon as create exits)."""
    path = os.path.abspath(path)
    atomic_write(path, str(pid).encode(), mode=0o666)
