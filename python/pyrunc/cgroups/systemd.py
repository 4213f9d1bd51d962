"""The systemd cgroup driver (`--systemd-cgroup`): cgroupsPath "slice:prefix:name".

runc asks systemd over D-Bus for a transient scope (<prefix>-<name>.scope,
Delegate=yes) in the slice and then uses the scope's directory like the fs
driver. Here: the path, the check that systemd runs (sd_booted(3):
/run/systemd/system exists; without it the error says so) and the manager,
which starts the scope through `busctl` (systemd_bus.py) and hands the
scope's directories to the fs manager for everything else.

Life cycle: the scope needs a process when it is started, and lifecycle
adds the stage-1 pid after create() and apply(), so create() only makes
sure the unit can be started and apply() keeps the resources until
add_pid(pid) starts the unit with PIDs=[pid] and them as properties, waits
until it is active, and then lets the fs manager write every value.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from pyrunc.cgroups.base import Manager
from pyrunc.cgroups.systemd_bus import Bus, resource_props, unit_props
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


def parse(cgroups_path: str | None, container_id: str, rootless: bool = False) -> SystemdPath:
    """Parse "slice:prefix:name" as runc does: exactly three ':'-separated
    fields, an empty slice meaning system.slice (user.slice rootless). Empty
    cgroupsPath gives "system.slice:pyrunc:<id>" (runc's default prefix is
    "runc"; ours names the runtime that made the scope)."""
    default = "user.slice" if rootless else "system.slice"
    if not cgroups_path:
        return SystemdPath(default, "pyrunc", container_id)
    parts = cgroups_path.split(":")
    if len(parts) != 3:
        raise CgroupError(
            f"linux.cgroupsPath: expected \"slice:prefix:name\" for systemd cgroups, got {cgroups_path!r}")
    sl, prefix, name = parts
    if not name:
        raise CgroupError(f"linux.cgroupsPath: empty name in {cgroups_path!r}")
    sl = sl or default
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


def check_available(rundir: str | None = None) -> None:
    rundir = rundir or SYSTEMD_RUNDIR
    if not running(rundir):
        raise CgroupError(f"systemd cgroup driver: systemd not running ({rundir} does not exist); "
                          "use the default cgroupfs driver (drop --systemd-cgroup)")


class SystemdManager(Manager):
    """A transient scope made by systemd; the cgroup files are the wrapped
    fs manager's (``inner``, built on the scope's directories)."""

    driver = "systemd"

    def __init__(self, inner: Manager, unit: str, slice_: str, *, started: bool = False,
                 bus: Bus | None = None) -> None:
        super().__init__(inner.container_id, inner.cgroups_path, inner.root, inner.rootless)
        self.inner = inner
        self.unit = unit
        self.slice = slice_
        self.started = started
        self.bus = bus or Bus(user=inner.rootless)
        self._pending: tuple[Any, bool] | None = None
        self._stopped = False

    @property
    def version(self) -> int:  # type: ignore[override]
        return self.inner.version

    def __getattr__(self, name: str) -> Any:
        # fs-manager attributes other code reads (path, paths, hierarchies)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- life cycle -------------------------------------------------------------------
    def create(self) -> None:
        check_available()

    def apply(self, resources: Any, *, devices: bool = True) -> None:
        if not self.started:
            self._pending = (resources, devices)
            return
        self.bus.set_properties(self.unit, resource_props(resources, self.version))
        self.inner.apply(resources, devices=devices)

    def add_pid(self, pid: int) -> None:
        if self.started:
            self.inner.add_pid(pid)
            return
        resources, devices = self._pending or (None, True)
        self.bus.start_unit(self.unit, unit_props(self.unit, self.slice, pid, self.version,
                                                  self.container_id, resources))
        self.started = True
        if self.version == 1:
            # systemd makes the scope only in the hierarchies it manages
            # (not cpuset, freezer, net_cls, ...): the fs driver joins the rest
            self.inner.create()
            self.inner.add_pid(pid)
        if resources is not None:
            self.inner.apply(resources, devices=devices)
            self._pending = None

    def destroy(self) -> None:
        if not self._stopped:
            self.bus.stop_unit(self.unit)
            self._stopped = True
        self.inner.destroy()

    # -- the rest is the fs manager's ----------------------------------------------------
    def update(self, resources: Any) -> None:
        self.apply(resources, devices=False)

    def freeze(self) -> None:
        self.inner.freeze()

    def thaw(self) -> None:
        self.inner.thaw()

    def frozen(self) -> bool:
        return self.inner.frozen()

    def pids(self) -> list[int]:
        return self.inner.pids()

    def stats(self) -> dict[str, Any]:
        return self.inner.stats()

    def exists(self) -> bool:
        return self.inner.exists()

    def oom_kills(self) -> int:
        return self.inner.oom_kills()

    def path_for(self, controller: str) -> str | None:
        return self.inner.path_for(controller)

    def creatable(self, path: str) -> bool:
        return self.inner.creatable(path)

    def kill_all(self, sig: int) -> None:
        self.inner.kill_all(sig)

    def mounts_for_container(self, cgroupns: bool, flags: int = 0) -> list[dict[str, Any]]:
        return self.inner.mounts_for_container(cgroupns, flags)

    def symlinks_for_container(self) -> list[tuple]:
        return self.inner.symlinks_for_container()

    def to_state(self) -> dict[str, Any]:
        d = self.inner.to_state()
        # no "started": state.json is read by commands that run after create
        d.update(driver="systemd", unit=self.unit, slice=self.slice)
        return d


def inner_path(p: SystemdPath, rootless: bool, bus: Bus) -> str:
    """The scope's cgroup path from the hierarchy root. A rootless user's
    systemd places its units below its own cgroup (its ControlGroup)."""
    rel = unit_path(p)
    if rootless:
        base = bus.manager_property("ControlGroup").rstrip("/")
        rel = base + rel
    return rel


def wrap_from_state(inner: Manager, d: dict[str, Any]) -> SystemdManager:
    return SystemdManager(inner, str(d.get("unit", "")), str(d.get("slice", "")), started=True)
