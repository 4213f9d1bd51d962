"""User namespace id maps, written by stage 0 on the init's ``map_ids`` message.

The init cannot write its own maps with more than its single id (and root in
the parent namespace can map any range), so the parent writes
/proc/PID/{setgroups,uid_map,gid_map} for it; see user_namespaces(7).
"""
from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Sequence
from typing import Any

from pyrunc.errors import SyscallError


def format_map(mappings: Iterable[Any]) -> str:
    """``containerID hostID size`` lines; one write() must carry all of them."""
    lines = []
    for m in mappings:
        cid = _get(m, "container_id", "containerID")
        hid = _get(m, "host_id", "hostID")
        size = _get(m, "size", "size")
        lines.append(f"{cid} {hid} {size}\n")
    return "".join(lines)


def _get(m: Any, attr: str, key: str) -> int:
    if isinstance(m, dict):
        return int(m[key])
    return int(getattr(m, attr))


def _write(pid: int, name: str, data: str, field: str) -> None:
    path = f"/proc/{pid}/{name}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise SyscallError("open", e.errno or errno.EIO, f"open {path}", field, "stage0") from None
    try:
        os.write(fd, data.encode())
    except OSError as e:
        raise SyscallError("write", e.errno or errno.EIO, f"write {path} {data.strip()!r}", field,
                           "stage0") from None
    finally:
        os.close(fd)


def write_id_maps(
    pid: int,
    uid_mappings: Sequence[Any],
    gid_mappings: Sequence[Any],
    *,
    rootless: bool | None = None,
) -> None:
    """setgroups first: an unprivileged writer of gid_map must deny setgroups(2)
    (user_namespaces(7), since Linux 3.19); root keeps it allowed, as runc does."""
    if rootless is None:
        rootless = os.geteuid() != 0
    if rootless and os.path.exists(f"/proc/{pid}/setgroups"):
        _write(pid, "setgroups", "deny", "linux.gidMappings")
    if uid_mappings:
        _write(pid, "uid_map", format_map(uid_mappings), "linux.uidMappings")
    if gid_mappings:
        _write(pid, "gid_map", format_map(gid_mappings), "linux.gidMappings")
