"""Cgroup managers for a container: the fs driver on cgroup v1 (and hybrid)
and v2 (unified) hosts, and the systemd driver's path handling.

Life cycle (as runc): ``m = new_manager(spec.linux.cgroups_path, cid)``;
``m.create()`` before the init runs; ``m.add_pid(stage1_pid)``;
``m.apply(spec.linux.resources)`` (limits and device rules); persist
``m.to_state()`` in state.json; later commands use ``from_state(d)`` for
``freeze``/``thaw``/``frozen``/``pids``/``stats``/``kill_all``/``update``;
``destroy()`` on delete.

cgroupsPath, fs driver (runc's semantics): absolute -> from the hierarchy
root; relative -> from the runtime's own cgroup (v1) or its parent (v2, see
v2.py); empty -> the container id, relative. The resolved directories are
what ``to_state`` stores, so later commands run from any cgroup find them.
"""
from __future__ import annotations

import os

from pyrunc.cgroups import common
from pyrunc.cgroups.base import Manager
from pyrunc.cgroups.common import clean_path
from pyrunc.cgroups.v1 import V1Manager, detect, resolve_paths
from pyrunc.cgroups.v2 import V2Manager, resolve_path
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_ROOT = "/sys/fs/cgroup"

__all__ = [
    "DEFAULT_ROOT",
    "Manager",
    "V1Manager",
    "V2Manager",
    "detect_version",
    "from_state",
    "new_manager",
]


def detect_version(root: str = DEFAULT_ROOT) -> int:
    """2 when ``root`` is a cgroup2 mount (or a fake one: has cgroup.controllers), else 1."""
    root = root.rstrip("/") or "/"
    for m in common.parse_mountinfo():
        if m["mountpoint"] == root and m["fstype"] == "cgroup2":
            return 2
    return 2 if os.path.exists(os.path.join(root, "cgroup.controllers")) else 1


def new_manager(cgroups_path: str | None, container_id: str, *, systemd: bool = False,
                rootless: bool = False, root: str = DEFAULT_ROOT) -> Manager:
    """The manager for a new container. ``root`` is where the cgroup
    filesystems are mounted (unit tests point it at a fake tree)."""
    if systemd:
        return _new_systemd(cgroups_path, container_id, rootless, root)
    inner = clean_path(cgroups_path or "") or container_id
    if not inner or inner in (".", "/"):
        raise CgroupError(f"linux.cgroupsPath: invalid cgroup path {cgroups_path!r}")
    if detect_version(root) == 2:
        return V2Manager(container_id, cgroups_path, root, rootless, resolve_path(root, inner))
    hs = detect(root)
    if not hs:
        raise CgroupError(f"no cgroup hierarchy is mounted under `{root}`")
    return V1Manager(container_id, cgroups_path, root, rootless, hs, resolve_paths(hs, inner))


def _new_systemd(cgroups_path: str | None, container_id: str, rootless: bool, root: str) -> Manager:
    """The systemd driver: the scope's directories (known before systemd
    makes them) handed to an fs manager that the systemd manager wraps."""
    from pyrunc.cgroups import systemd as systemd_mod

    # validates the path first, so a malformed one is reported as such
    p = systemd_mod.parse(cgroups_path, container_id, rootless)
    systemd_mod.check_available()
    version = detect_version(root)
    if rootless and version != 2:
        raise CgroupError("systemd cgroup driver: rootless needs cgroup v2")
    bus = systemd_mod.Bus(user=rootless)
    rel = systemd_mod.inner_path(p, rootless, bus)
    inner: Manager
    if version == 2:
        inner = V2Manager(container_id, cgroups_path, root, rootless,
                          os.path.normpath(os.path.join(root, rel.lstrip("/"))))
    else:
        hs = detect(root)
        if not hs:
            raise CgroupError(f"no cgroup hierarchy is mounted under `{root}`")
        inner = V1Manager(container_id, cgroups_path, root, rootless, hs, resolve_paths(hs, rel))
    return systemd_mod.SystemdManager(inner, p.unit, p.slice, bus=bus)


def from_state(d: dict[str, Any]) -> Manager:
    """Rebuild a manager from ``Manager.to_state()`` (state.json)."""
    if not isinstance(d, dict) or d.get("version") not in (1, 2):
        raise CgroupError(f"invalid cgroup state {d!r}")
    m: Manager = V2Manager._from_state(d) if d.get("version") == 2 else V1Manager._from_state(d)
    if d.get("driver") == "systemd":
        from pyrunc.cgroups import systemd as systemd_mod

        return systemd_mod.wrap_from_state(m, d)
    return m
