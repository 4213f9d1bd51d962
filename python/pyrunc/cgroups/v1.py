"""The cgroup v1 (and hybrid) fs driver: one directory per mounted hierarchy.

Paths follow runc's fs driver: an absolute cgroupsPath is taken from each
hierarchy's root, a relative one (and the default, the container id) from
the runtime's own cgroup in that hierarchy (/proc/self/cgroup). The
container joins every mounted v1 hierarchy, named ones (name=systemd)
included; the hybrid cgroup2 mount ("unified") is left alone, as runc does.
"""
from __future__ import annotations

import errno
import os
import posixpath

from pyrunc.cgroups import common
from pyrunc.cgroups.base import Manager
from pyrunc.cgroups.common import Hierarchy, read, read_opt, warn_once, write
from pyrunc.errors import CgroupError

# Limits and device rules load with apply(): state, start, kill and delete
# only need the paths.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

KNOWN = {
    "cpuset", "cpu", "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls", "perf_event",
    "net_prio", "hugetlb", "pids", "rdma", "misc", "debug",
}

MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC = 0x2, 0x4, 0x8, 0x1000, 0x4000


def subsystems_of(super_opts: str) -> list[str]:
    return [o for o in super_opts.split(",") if o in KNOWN or o.startswith("name=")]


def detect(root: str) -> list[Hierarchy]:
    """The v1 hierarchies mounted directly under ``root``; for a plain
    directory (unit tests) each subdirectory is a hierarchy named by its
    subsystems ("cpu,cpuacct", "systemd" meaning name=systemd)."""
    root = root.rstrip("/") or "/"
    found = []
    for m in common.parse_mountinfo():
        if m["fstype"] == "cgroup" and posixpath.dirname(m["mountpoint"]) == root:
            subs = subsystems_of(m["super"])
            if subs:
                found.append(Hierarchy(m["mountpoint"], subs, m["root"]))
    if found or os.path.ismount(root):
        return found
    for name in sorted(os.listdir(root)):
        p = os.path.join(root, name)
        if name == "unified" or os.path.islink(p) or not os.path.isdir(p):
            continue
        subs = ["name=systemd"] if name == "systemd" else name.split(",")
        found.append(Hierarchy(p, subs, "/"))
    return found


def resolve_paths(hierarchies: list[Hierarchy], inner: str) -> dict[str, str]:
    """{subsystem: directory}. Comounted subsystems share one directory."""
    own = common.own_cgroups() if not inner.startswith("/") else {}
    out: dict[str, str] = {}
    for h in hierarchies:
        if inner.startswith("/"):
            d = os.path.join(h.mountpoint, inner.lstrip("/"))
        else:
            mine = own.get(h.subsystems[0], "/")
            # /proc/self/cgroup paths are from the hierarchy's root, the mount
            # may show a subtree of it (mountinfo root): strip that prefix.
            if h.root != "/" and (mine == h.root or mine.startswith(h.root.rstrip("/") + "/")):
                mine = mine[len(h.root.rstrip("/")):] or "/"
            d = os.path.join(h.mountpoint, mine.lstrip("/"), inner)
        d = os.path.normpath(d)
        for s in h.subsystems:
            out[s] = d
    return out


class V1Manager(Manager):
    version = 1

    def __init__(self, container_id: str, cgroups_path: str | None, root: str, rootless: bool,
                 hierarchies: list[Hierarchy], paths: dict[str, str]) -> None:
        super().__init__(container_id, cgroups_path, root, rootless)
        self.hierarchies = hierarchies
        self.paths = paths

    # -- paths -------------------------------------------------------------------
    def path_for(self, controller: str) -> str | None:
        return self.paths.get(controller)

    def _dirs(self) -> list[str]:
        return sorted(set(self.paths.values()))

    def exists(self) -> bool:
        return any(os.path.isdir(d) for d in self._dirs())

    # -- create / join / remove -----------------------------------------------------
    def create(self) -> None:
        if "devices" not in self.paths and not self.rootless:
            # without a devices hierarchy the container could open any device
            raise CgroupError("cgroup: the devices cgroup hierarchy is not mounted", controller="devices")
        for sub in list(self.paths):
            d = self.paths[sub]
            try:
                if sub == "cpuset":
                    self._make_cpuset(d)
                else:
                    os.makedirs(d, exist_ok=True)
            except OSError as e:
                if self.rootless and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    warn_once(f"rootless-{sub}", f"rootless: no write access to the {sub} cgroup, skipping it")
                    del self.paths[sub]
                    continue
                raise CgroupError(f"create cgroup `{d}`", controller=sub, err=e.errno) from e

    def _make_cpuset(self, d: str) -> None:
        """mkdir each level; a new v1 cpuset has empty cpus/mems and refuses
        tasks, so copy them down from the parent where empty."""
        mount = next(h.mountpoint for h in self.hierarchies if "cpuset" in h.subsystems)
        rel = os.path.relpath(d, mount)
        cur = mount
        for part in [] if rel == "." else rel.split("/"):
            parent, cur = cur, os.path.join(cur, part)
            os.makedirs(cur, exist_ok=True)
            for f in ("cpuset.cpus", "cpuset.mems"):
                if common.exists(cur, f) and not read_opt(cur, f):
                    val = read_opt(parent, f) or ""
                    if val:
                        write(cur, f, val, controller="cpuset")

    def add_pid(self, pid: int) -> None:
        for d in self._dirs():
            try:
                common.write_procs(d, pid)
            except CgroupError:
                if not self.rootless:
                    raise

    def destroy(self) -> None:
        errors = []
        for d in self._dirs():
            try:
                common.rmdir_tree(d)
            except CgroupError as e:
                errors.append(str(e))
        if errors:
            raise CgroupError("; ".join(errors))

    # -- resources ---------------------------------------------------------------------
    def apply(self, resources: Any, *, devices: bool = True) -> None:
        try:
            from pyrunc.cgroups.v1_set import set_all

            set_all(self.paths, resources)
            if devices:
                self._set_devices(common.get(resources, "devices") or [])
        except CgroupError as e:
            if self.rootless:
                raise CgroupError(f"{e} (rootless: is this cgroup delegated to the user?)") from e
            raise

    def _set_devices(self, spec_devices: list[Any]) -> None:
        from pyrunc.cgroups import devices

        d = self.paths.get("devices")
        rules = devices.container_rules(spec_devices)
        if d is None:
            if self.rootless:
                return
            raise CgroupError(f"{common.RES}.devices: no devices cgroup hierarchy")
        for i, (f, line) in enumerate(devices.v1_writes(rules)):
            fld = f"{common.RES}.devices[{i}]" if i < len(spec_devices) else ""
            write(d, f, line, fld=fld or f"{common.RES}.devices (default rule {line!r})",
                  controller="devices")

    # -- freezer ----------------------------------------------------------------------
    def _can_freeze(self) -> bool:
        d = self.paths.get("freezer")
        return d is not None and common.exists(d, "freezer.state")

    def _freezer(self) -> str:
        d = self.paths.get("freezer")
        if d is None:
            raise CgroupError("cgroup: the freezer hierarchy is not mounted", controller="freezer")
        return d

    def freeze(self) -> None:
        d = self._freezer()
        write(d, "freezer.state", "FROZEN", controller="freezer")
        try:
            # FREEZING can stall while a task sits in an uninterruptible sleep;
            # writing FROZEN again retries the freeze (runc does the same).
            self._wait(lambda: read(d, "freezer.state") == "FROZEN", f"freeze `{d}`",
                       retry=lambda: write(d, "freezer.state", "FROZEN", controller="freezer"))
        except CgroupError:
            self.thaw()
            raise

    def thaw(self) -> None:
        d = self._freezer()
        write(d, "freezer.state", "THAWED", controller="freezer")
        self._wait(lambda: read(d, "freezer.state") == "THAWED", f"thaw `{d}`")

    def frozen(self) -> bool:
        d = self.paths.get("freezer")
        return d is not None and read_opt(d, "freezer.state") == "FROZEN"

    # -- queries -------------------------------------------------------------------------
    def pids(self) -> list[int]:
        for sub in ("freezer", "pids", "devices", "memory"):
            d = self.paths.get(sub)
            if d and os.path.isdir(d):
                return sorted(set(common.read_pids(d)))
        for d in self._dirs():
            if os.path.isdir(d):
                return sorted(set(common.read_pids(d)))
        return []

    def oom_kills(self) -> int:
        d = self.paths.get("memory")
        # memory.oom_control has an "oom_kill N" line since Linux 4.13
        return common.read_kv(d, "memory.oom_control").get("oom_kill", 0) if d else 0

    def stats(self) -> dict[str, Any]:
        from pyrunc.cgroups.stats import v1_stats

        return v1_stats(self.paths)

    # -- the container's /sys/fs/cgroup -------------------------------------------------
    def mounts_for_container(self, cgroupns: bool, flags: int = 0) -> list[dict[str, Any]]:
        """A tmpfs on /sys/fs/cgroup, then one mount per hierarchy named like
        on the host: with a cgroup namespace a real cgroup mount (data = the
        subsystems), without one a bind of the container's directory.
        ``flags`` are the config mount's MS_* bits (nosuid, ro...); the caller
        remounts the tmpfs read-only at the end when they hold MS_RDONLY."""
        out = [{
            "destination": "/sys/fs/cgroup", "source": "tmpfs", "fstype": "tmpfs",
            "flags": MS_NOSUID | MS_NODEV | MS_NOEXEC, "data": "mode=755",
        }]
        for h in self.hierarchies:
            d = self.paths.get(h.subsystems[0])
            if d is None or not (cgroupns or self.creatable(d)):
                continue
            dest = "/sys/fs/cgroup/" + h.name
            if cgroupns:
                data = ",".join(h.subsystems)
                out.append({"destination": dest, "source": "cgroup", "fstype": "cgroup",
                            "flags": flags & ~(MS_BIND | MS_REC), "data": data})
            else:
                out.append({"destination": dest, "source": d, "fstype": "bind",
                            "flags": flags | MS_BIND | MS_REC, "data": ""})
        return out

    def symlinks_for_container(self) -> list[tuple]:
        """cpu -> cpu,cpuacct style links for comounted hierarchies."""
        out = []
        for h in self.hierarchies:
            if "," in h.name:
                for s in h.name.split(","):
                    out.append((h.name, "/sys/fs/cgroup/" + s))
        return out

    # -- state ------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "version": 1, "driver": self.driver, "root": self.root, "container_id": self.container_id,
            "cgroups_path": self.cgroups_path, "rootless": self.rootless, "paths": dict(self.paths),
            "hierarchies": [h.to_dict() for h in self.hierarchies],
        }

    @classmethod
    def _from_state(cls, d: dict[str, Any]) -> V1Manager:
        hs = [Hierarchy(h["mountpoint"], list(h["subsystems"]), h.get("root", "/"))
              for h in d.get("hierarchies", [])]
        return cls(d.get("container_id", ""), d.get("cgroups_path"), d.get("root", "/sys/fs/cgroup"),
                   bool(d.get("rootless")), hs, dict(d.get("paths", {})))
