"""Helpers shared by the v1 and v2 managers: cgroup file I/O that names the
config field on failure, a resources accessor that takes the spec model or
plain JSON, cgroupsPath cleaning, and /proc/self/{cgroup,mountinfo} parsing.

Module-level ``PROC_SELF_CGROUP`` and ``PROC_SELF_MOUNTINFO`` are the test
seam for the runtime's own cgroup (unit tests monkeypatch them to files in
tmp_path).
"""
from __future__ import annotations

import errno
import os
import posixpath
import time

from pyrunc.errors import CgroupError

# Every lifecycle command reads its cgroup (paused?): logging, re,
# dataclasses and typing load only when used.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PROC_SELF_CGROUP = "/proc/self/cgroup"
PROC_SELF_MOUNTINFO = "/proc/self/mountinfo"

RES = "linux.resources"

_warned: set = set()


def warn_once(key: str, msg: str) -> None:
    if key not in _warned:
        _warned.add(key)
        import logging

        logging.getLogger("pyrunc.cgroups").warning(msg)


# --- resources accessor -----------------------------------------------------

_CAMEL1 = r"(.)([A-Z][a-z]+)"
_CAMEL2 = r"([a-z0-9])([A-Z])"


def snake(name: str) -> str:
    """JSON key -> model attribute: disableOOMKiller -> disable_oom_killer,
    throttleReadIOPSDevice -> throttle_read_iops_device, classID -> class_id."""
    import re

    return re.sub(_CAMEL2, r"\1_\2", re.sub(_CAMEL1, r"\1_\2", name)).lower()


def get(obj: Any, key: str) -> Any:
    """``obj[key]`` for JSON dicts, ``obj.<snake(key)>`` for the spec model;
    None when missing. ``key`` is the JSON (camelCase) name."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        return obj.get(snake(key))
    val = getattr(obj, snake(key), None)
    if val is None:
        val = getattr(obj, key, None)
    return val


def items(obj: Any) -> list[tuple]:
    """(key, value) pairs of a JSON object field (rdma, unified)."""
    if obj is None:
        return []
    if isinstance(obj, dict):
        return list(obj.items())
    return list(vars(obj).items())


# --- file I/O ----------------------------------------------------------------


def read(path: str, name: str) -> str:
    with open(os.path.join(path, name)) as f:
        return f.read().strip()


def read_opt(path: str, name: str) -> str | None:
    try:
        return read(path, name)
    except OSError:
        return None


def read_int(path: str, name: str) -> int:
    """Read a number; "max" (v2) is the largest u64 as runc reports it."""
    v = read_opt(path, name)
    if v is None or v == "":
        return 0
    if v == "max":
        return 2**64 - 1
    try:
        return int(v)
    except ValueError:
        return 0


def read_kv(path: str, name: str) -> dict[str, int]:
    """A flat keyed file (memory.stat, cpu.stat, memory.events)."""
    out: dict[str, int] = {}
    for line in (read_opt(path, name) or "").splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                pass
    return out


def write_raw(path: str, name: str, value: str) -> None:
    """One write(2) of the whole value: cgroup files act on each write."""
    fd = os.open(os.path.join(path, name), os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def write(path: str, name: str, value: Any, fld: str = "", controller: str = "") -> None:
    """Write ``value`` to ``path/name``; failure -> CgroupError naming the field."""
    text = str(value)
    try:
        write_raw(path, name, text)
    except OSError as e:
        where = f"{fld}: " if fld else ""
        raise CgroupError(
            f"{where}write `{os.path.join(path, name)}` ({text!r})",
            controller=controller, file=name, err=e.errno,
        ) from e


def exists(path: str, name: str) -> bool:
    return os.path.exists(os.path.join(path, name))


def write_procs(path: str, pid: int) -> None:
    """Add a pid to cgroup.procs. EINVAL can mean the task is still TASK_NEW
    (just forked), so retry a few times as runc does."""
    for attempt in range(5):
        try:
            write_raw(path, "cgroup.procs", str(pid))
            return
        except OSError as e:
            if e.errno != errno.EINVAL or attempt == 4:
                raise CgroupError(
                    f"add pid {pid} to `{path}/cgroup.procs`", file="cgroup.procs", err=e.errno
                ) from e
            time.sleep(0.03)


def read_pids(path: str, recursive: bool = True) -> list[int]:
    """Pids in cgroup.procs of ``path`` and, recursively, its children."""
    out: list[int] = []
    if not os.path.isdir(path):
        return out
    walker = os.walk(path) if recursive else [(path, [], [])]
    for dirpath, _dirs, _files in walker:
        for line in (read_opt(dirpath, "cgroup.procs") or "").split():
            try:
                out.append(int(line))
            except ValueError:
                pass
    return out


def rmdir_tree(path: str) -> None:
    """Remove a cgroup directory and its child cgroups, deepest first, with
    retries: rmdir fails with EBUSY while the kernel still holds exiting tasks."""
    if not os.path.isdir(path):
        return
    delay = 0.01
    last: OSError | None = None
    for _ in range(7):
        last = None
        for dirpath, _dirs, _files in os.walk(path, topdown=False):
            try:
                os.rmdir(dirpath)
            except FileNotFoundError:
                pass
            except OSError as e:
                # rmdir of a cgroup fails with EBUSY (tasks or children), never
                # ENOTEMPTY: that only happens on a plain directory (tmp_path fakes).
                if e.errno == errno.ENOTEMPTY:
                    _remove_plain(dirpath)
                    continue
                last = e
        if last is None and not os.path.exists(path):
            return
        time.sleep(delay)
        delay *= 2
    raise CgroupError(f"remove cgroup `{path}`", err=last.errno if last else errno.EBUSY)


def _remove_plain(path: str) -> None:
    for dirpath, _dirs, files in os.walk(path, topdown=False):
        for f in files:
            os.unlink(os.path.join(dirpath, f))
        os.rmdir(dirpath)


# --- paths ---------------------------------------------------------------------


def clean_path(p: str) -> str:
    """runc's CleanPath: lexically clean, never climbing above "/" (a relative
    path stays relative)."""
    if not p:
        return ""
    if p.startswith("/"):
        return posixpath.normpath(p).replace("//", "/")
    cleaned = posixpath.normpath("/" + p)
    return posixpath.relpath(cleaned, "/")


def parse_mountinfo(path: str | None = None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    try:
        with open(path or PROC_SELF_MOUNTINFO) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        pre, _, post = line.partition(" - ")
        a, b = pre.split(), post.split()
        if len(a) < 5 or len(b) < 3:
            continue
        out.append({
            "root": _unescape(a[3]), "mountpoint": _unescape(a[4]),
            "fstype": b[0], "source": b[1], "super": b[2],
        })
    return out


def _unescape(s: str) -> str:
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def own_cgroups(path: str | None = None) -> dict[str, str]:
    """/proc/self/cgroup as {controller: path}; each controller of a comounted
    line maps to the same path, named hierarchies keep "name=", v2 is ""."""
    out: dict[str, str] = {}
    try:
        with open(path or PROC_SELF_CGROUP) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        ctrls = parts[1].split(",") if parts[1] else [""]
        for c in ctrls:
            out[c] = parts[2]
    return out


class Hierarchy:
    """One v1 hierarchy: where it is mounted and which subsystems it holds."""

    __slots__ = ("mountpoint", "root", "subsystems")

    def __init__(self, mountpoint: str, subsystems: list[str] | None = None, root: str = "/") -> None:
        self.mountpoint = mountpoint
        self.subsystems = [] if subsystems is None else subsystems
        self.root = root

    def __repr__(self) -> str:
        return f"Hierarchy(mountpoint={self.mountpoint!r}, subsystems={self.subsystems!r}, root={self.root!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hierarchy):
            return NotImplemented
        return (self.mountpoint, self.subsystems, self.root) == (other.mountpoint, other.subsystems, other.root)

    __hash__ = None  # type: ignore[assignment]

    @property
    def name(self) -> str:
        return posixpath.basename(self.mountpoint)

    def to_dict(self) -> dict[str, Any]:
        return {"mountpoint": self.mountpoint, "subsystems": self.subsystems, "root": self.root}
