"""The per-container state dir: layout, state.json, the lock, status from the kernel.

Layout (runc's names): ``<root>/<id>/state.json`` and ``<root>/<id>/exec.fifo``.
The root is made 0700 and each container dir 0711, as runc does. state.json is
written to a temporary file and renamed, so readers (``state``,
``list``) never see half a file and need no lock; commands that change a
container take an exclusive flock on its directory for their whole run.

Every lifecycle command imports this module, so it stays free of dataclasses,
typing, re and contextlib (their imports cost more than the command's work).
"""
from __future__ import annotations

import fcntl
import json
import os
import time

from pyrunc.container.status import Status
from pyrunc.errors import ContainerExists, ContainerNotExist, PyruncError, StateError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STATE_FILE = "state.json"
FIFO_FILE = "exec.fifo"

# runc's container id rule (``^[\w+-\.]+$``); "." and ".." are also refused.
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-.")


def _id_ok(cid: str) -> bool:
    return bool(cid) and _ID_CHARS.issuperset(cid)


def validate_id(cid: str) -> None:
    if not _id_ok(cid) or cid in (".", ".."):
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


def _remove_tree(path: str) -> None:
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    for n in names:
        p = os.path.join(path, n)
        try:
            os.unlink(p)
        except IsADirectoryError:
            _remove_tree(p)
        except FileNotFoundError:
            pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass


def reap(pid: int) -> int | None:
    """waitpid(pid) when it is our child; None when it is not (or already reaped)."""
    if pid <= 0:
        return None
    try:
        _, status = os.waitpid(pid, 0)
        return status
    except ChildProcessError:
        return None


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


# ContainerState's fields and defaults (a factory for the mutable ones), in order.
_FIELDS: tuple[tuple[str, Any], ...] = (
    ("id", None),
    ("bundle", None),
    ("rootfs", None),
    ("created", None),
    ("oci_version", ""),
    ("status", Status.CREATING.value),
    ("init_pid", 0),
    ("init_start", 0),
    ("annotations", dict),
    ("cgroup", dict),
    ("systemd_cgroup", False),
    ("rootless", False),
    ("config_path", ""),
    # The validated config.json as a dict (hooks, namespaces for exec ...).
    ("config", dict),
    # The uid that made the container (runc lists the state dir's owner).
    ("owner_uid", 0),
)
_NAMES = frozenset(n for n, _ in _FIELDS)


class ContainerState:
    """What state.json holds: everything later commands need. Arguments by
    keyword (or by position, in _FIELDS order); id, bundle, rootfs and created
    are required. A plain class: a dataclass costs the dataclasses import."""

    __slots__ = tuple(n for n, _ in _FIELDS)

    id: str
    bundle: str
    rootfs: str
    created: str
    oci_version: str
    status: str
    init_pid: int
    init_start: int
    annotations: dict[str, str]
    cgroup: dict[str, Any]
    systemd_cgroup: bool
    rootless: bool
    config_path: str
    config: dict[str, Any]
    owner_uid: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(_FIELDS):
            raise TypeError(f"ContainerState takes at most {len(_FIELDS)} positional arguments")
        for (name, _), value in zip(_FIELDS, args):
            if name in kwargs:
                raise TypeError(f"ContainerState got multiple values for argument {name!r}")
            kwargs[name] = value
        unknown = set(kwargs) - _NAMES
        if unknown:
            raise TypeError(f"ContainerState got unexpected arguments {sorted(unknown)}")
        for name, default in _FIELDS:
            if name in kwargs:
                value = kwargs[name]
            elif default is None:
                raise TypeError(f"ContainerState missing required argument {name!r}")
            else:
                value = default() if default is dict else default
            setattr(self, name, value)

    def __repr__(self) -> str:
        return "ContainerState(" + ", ".join(f"{n}={getattr(self, n)!r}" for n, _ in _FIELDS) + ")"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContainerState):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n, _ in _FIELDS)

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """A deep copy, as dataclasses.asdict made (callers may change it)."""
        import copy

        return copy.deepcopy(self._fields())

    def _fields(self) -> dict[str, Any]:
        return {n: getattr(self, n) for n, _ in _FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerState:
        return cls(**{k: v for k, v in d.items() if k in _NAMES})

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
    """tmp file in the same dir + rename: readers see the old or the new
    file, never part of one. No fsync: the state describes live processes,
    which a crash ends anyway, and the root belongs on tmpfs (/run) where
    fsync does nothing; on a disk it cost 1-40 ms per save (measured)
    (runc does not fsync its state.json either)."""
    d = os.path.dirname(path) or "."
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
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

    def lock(self) -> _Lock:
        """Exclusive flock on the dir, held by commands that change the container
        (``with sd.lock(): ...``). A killed holder releases it with its fds."""
        return _Lock(self)

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
        atomic_write(self.state_file, json.dumps(st._fields()).encode())

    def remove(self) -> None:
        """Remove the dir and all it holds (state.json, exec.fifo, tmp files,
        the NOTIFY_SOCKET directory), never following a symlink."""
        _remove_tree(self.path)

    def owner(self) -> str:
        """The user name of the dir's owner, ``#UID`` when unknown (runc's list)."""
        import pwd

        try:
            uid = os.stat(self.path).st_uid
        except OSError:
            return ""
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            return f"#{uid}"


class _Lock:
    """What StateDir.lock() returns (contextlib would cost an import)."""

    __slots__ = ("fd", "sd")

    def __init__(self, sd: StateDir) -> None:
        self.sd = sd
        self.fd = -1

    def __enter__(self) -> None:
        try:
            self.fd = os.open(self.sd.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise ContainerNotExist() from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            raise
        self.sd._lock_fd = self.fd

    def __exit__(self, *exc: object) -> None:
        self.sd._lock_fd = None
        os.close(self.fd)


def list_ids(root: str) -> list[str]:
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    return [n for n in names if os.path.isdir(os.path.join(root, n)) and _id_ok(n)]


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
