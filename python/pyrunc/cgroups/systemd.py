"""The systemd cgroup driver (`--systemd-cgroup`): cgroupsPath "slice:prefix:name".

runc asks systemd over D-Bus for a transient scope (<prefix>-<name>.scope,
Delegate=yes) in the slice and then uses the scope's directory like the fs
driver. This module parses the path and checks that systemd runs
(sd_booted(3): /run/systemd/system exists); talking to systemd itself is not
done yet: without systemd (this project's machines) the error says so.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from pyrunc.errors import CgroupError, NotImplementedYet

SYSTEMD_RUNDIR = "/run/systemd/system"


@dataclass(frozen=True)
class SystemdPath:
    slice: str
    prefix: str
    name: str

    @property
    def unit(self) -> str:
        """The unit name: "<prefix>-<name>.scope", or name itself when it
        already ends in ".slice" (runc: a slice for nested containers)."""
        if self.name.endswith(".slice"):
            return self.name
        return f"{self.prefix}-{self.name}.scope" if self.prefix else f"{self.name}.scope"


def parse(cgroups_path: str | None, container_id: str) -> SystemdPath:
    """Parse "slice:prefix:name" as runc does: exactly three ':'-separated
    fields, an empty slice meaning system.slice. Empty cgroupsPath gives
    "system.slice:pyrunc:<id>" (runc's default prefix is "runc"; ours names
    the runtime that made the scope)."""
    if not cgroups_path:
        return SystemdPath("system.slice", "pyrunc", container_id)
    parts = cgroups_path.split(":")
    if len(parts) != 3:
        raise CgroupError(
            f"linux.cgroupsPath: expected \"slice:prefix:name\" for systemd cgroups, got {cgroups_path!r}")
    sl, prefix, name = parts
    if not name:
        raise CgroupError(f"linux.cgroupsPath: empty name in {cgroups_path!r}")
    sl = sl or "system.slice"
    if not sl.endswith(".slice") or "/" in sl:
        raise CgroupError(f"linux.cgroupsPath: invalid slice name {sl!r}")
    return SystemdPath(sl, prefix, name)


def slice_path(name: str) -> str:
    """systemd's slice -> cgroup path expansion: "a-b-c.slice" lives at
    /a.slice/a-b.slice/a-b-c.slice; "-.slice" is the root."""
    if name == "-.slice":
        return "/"
    if not name.endswith(".slice"):
        raise CgroupError(f"linux.cgroupsPath: invalid slice name {name!r}")
    base = name[: -len(".slice")]
    if not base or base.startswith("-") or base.endswith("-") or "--" in base or "/" in base:
        raise CgroupError(f"linux.cgroupsPath: invalid slice name {name!r}")
    path, prefix = "", ""
    for comp in base.split("-"):
        prefix = f"{prefix}-{comp}" if prefix else comp
        path += f"/{prefix}.slice"
    return path


def unit_path(p: SystemdPath) -> str:
    """The cgroup path of the unit, from the hierarchy root."""
    return slice_path(p.slice).rstrip("/") + "/" + p.unit


def running(rundir: str = SYSTEMD_RUNDIR) -> bool:
    return os.path.isdir(rundir)


def check_available(rundir: str = SYSTEMD_RUNDIR) -> None:
    if not running(rundir):
        raise CgroupError(f"systemd cgroup driver: systemd not running ({rundir} does not exist); "
                          "use the default cgroupfs driver (drop --systemd-cgroup)")
    raise NotImplementedYet("systemd cgroup driver: transient scopes over D-Bus are not implemented yet")
