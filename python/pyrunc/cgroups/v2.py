"""The cgroup v2 (unified) fs driver: one directory, controllers enabled
through the ancestors' cgroup.subtree_control, devices through eBPF.

Paths follow runc's fs2 driver: an absolute cgroupsPath is taken from the
cgroup2 mount, a relative one (and the default, the container id) from the
*parent* of the runtime's own cgroup, because the runtime's own cgroup holds
processes and so (no-internal-processes rule) could not enable controllers
for a child.
"""
from __future__ import annotations

import errno
import os
import posixpath
import signal

from pyrunc.cgroups import common
from pyrunc.cgroups.base import Manager
from pyrunc.cgroups.common import read_opt, warn_once, write
from pyrunc.errors import CgroupError

# Limits, device rules and BPF load with apply(): state, start, kill and
# delete only need the path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MS_BIND, MS_REC = 0x1000, 0x4000


def resolve_path(root: str, inner: str) -> str:
    if inner.startswith("/"):
        return os.path.normpath(os.path.join(root, inner.lstrip("/")))
    own = common.own_cgroups().get("", "/")
    return os.path.normpath(os.path.join(root, posixpath.dirname(own).lstrip("/"), inner))


class V2Manager(Manager):
    version = 2

    def __init__(self, container_id: str, cgroups_path: str | None, root: str, rootless: bool,
                 path: str) -> None:
        super().__init__(container_id, cgroups_path, root, rootless)
        self.path = path
        self.skipped = False  # rootless without a writable cgroup

    def path_for(self, controller: str) -> str | None:
        return self.path

    def exists(self) -> bool:
        return os.path.isdir(self.path)

    # -- create / join / remove -----------------------------------------------------
    def create(self) -> None:
        rel = os.path.relpath(self.path, self.root)
        if rel == "." or rel.startswith(".."):
            raise CgroupError(f"cgroup path `{self.path}` is not below `{self.root}`")
        want = " ".join("+" + c for c in (read_opt(self.root, "cgroup.controllers") or "").split())
        cur = self.root
        parts = rel.split("/")
        try:
            for i, part in enumerate(parts):
                # enable every controller the root has in each ancestor, so
                # the leaf can use them; failures are not fatal here (a
                # controller that could not be enabled is reported when a
                # resource needs it)
                if want:
                    self._enable(cur, want)
                cur = os.path.join(cur, part)
                os.makedirs(cur, exist_ok=True)
        except OSError as e:
            if self.rootless and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                warn_once("rootless-v2", f"rootless: cannot create cgroup `{cur}`: not delegated, "
                                         "running without a cgroup")
                self.skipped = True
                return
            raise CgroupError(f"create cgroup `{cur}`", err=e.errno) from e

    @staticmethod
    def _enable(d: str, want: str) -> None:
        try:
            common.write_raw(d, "cgroup.subtree_control", want)
        except OSError:
            for c in want.split():
                try:
                    common.write_raw(d, "cgroup.subtree_control", c)
                except OSError:
                    pass

    def add_pid(self, pid: int) -> None:
        if self.skipped:
            return
        common.write_procs(self.path, pid)

    def destroy(self) -> None:
        common.rmdir_tree(self.path)

    # -- resources ---------------------------------------------------------------------
    def apply(self, resources: Any, *, devices: bool = True) -> None:
        if self.skipped:
            if resources is not None and any(common.get(resources, k) for k in (
                    "memory", "cpu", "pids", "blockIO", "hugepageLimits", "rdma", "unified")):
                raise CgroupError("linux.resources: cannot set limits: rootless and the cgroup is "
                                  "not delegated to this user")
            return
        from pyrunc.cgroups.v2_set import set_all

        set_all(self.path, resources)
        if devices:
            self._set_devices(common.get(resources, "devices") or [])

    def _set_devices(self, spec_devices: list[Any]) -> None:
        from pyrunc.cgroups import bpf, devices

        rules = devices.container_rules(spec_devices)
        why = bpf.supported()
        if why is None:
            try:
                bpf.attach_device_filter(self.path, devices.bpf_program(rules))
                return
            except OSError as e:
                why = f"bpf: {e.strerror or e}"
                if not self.rootless and e.errno not in (errno.ENOSYS, errno.EOPNOTSUPP):
                    raise CgroupError(f"{common.RES}.devices: attach the device filter to `{self.path}`: "
                                      f"{why}") from e
        warn_once("v2-devices", f"{common.RES}.devices: device rules not enforced on cgroup v2 ({why})")

    # -- freezer ------------------------------------------------------------------------
    def _can_freeze(self) -> bool:
        return common.exists(self.path, "cgroup.freeze")

    def _events_frozen(self) -> str | None:
        for line in (read_opt(self.path, "cgroup.events") or "").splitlines():
            k, _, v = line.partition(" ")
            if k == "frozen":
                return v
        return None

    def freeze(self) -> None:
        write(self.path, "cgroup.freeze", "1", controller="freezer")
        try:
            self._wait(lambda: self._events_frozen() in ("1", None), f"freeze `{self.path}`")
        except CgroupError:
            self.thaw()
            raise

    def thaw(self) -> None:
        write(self.path, "cgroup.freeze", "0", controller="freezer")
        self._wait(lambda: self._events_frozen() in ("0", None), f"thaw `{self.path}`")

    def frozen(self) -> bool:
        return read_opt(self.path, "cgroup.freeze") == "1"

    # -- queries ---------------------------------------------------------------------------
    def pids(self) -> list[int]:
        return sorted(set(common.read_pids(self.path)))

    def oom_kills(self) -> int:
        return common.read_kv(self.path, "memory.events").get("oom_kill", 0)

    def stats(self) -> dict[str, Any]:
        from pyrunc.cgroups.stats import v2_stats

        return v2_stats(self.path)

    def kill_all(self, sig: int) -> None:
        # cgroup.kill (Linux 5.14) kills every process of the subtree at once,
        # including ones forking right now
        if sig == signal.SIGKILL and common.exists(self.path, "cgroup.kill"):
            write(self.path, "cgroup.kill", "1", controller="cgroup")
            return
        self._kill_with_freezer(sig)

    # -- the container's /sys/fs/cgroup ----------------------------------------------------
    def mounts_for_container(self, cgroupns: bool, flags: int = 0) -> list[dict[str, Any]]:
        """With a cgroup namespace, a cgroup2 mount (its root is the
        container's cgroup); without one, a bind of the container's cgroup
        directory, so the container sees only its own subtree either way.
        (runc mounts cgroup2 in both cases, showing the host's tree without a
        cgroupns; the bind is the safer choice.) ``flags``: the config mount's
        MS_* bits."""
        if cgroupns:
            return [{"destination": "/sys/fs/cgroup", "source": "cgroup", "fstype": "cgroup2",
                     "flags": flags & ~(MS_BIND | MS_REC), "data": ""}]
        if not self.creatable(self.path):
            return []  # rootless, not delegated: no cgroup of its own to show
        return [{"destination": "/sys/fs/cgroup", "source": self.path, "fstype": "bind",
                 "flags": flags | MS_BIND | MS_REC, "data": ""}]

    # -- state ---------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "version": 2, "driver": self.driver, "root": self.root, "container_id": self.container_id,
            "cgroups_path": self.cgroups_path, "rootless": self.rootless, "path": self.path,
            "skipped": self.skipped,
        }

    @classmethod
    def _from_state(cls, d: dict[str, Any]) -> V2Manager:
        m = cls(d.get("container_id", ""), d.get("cgroups_path"), d.get("root", "/sys/fs/cgroup"),
                bool(d.get("rootless")), d["path"])
        m.skipped = bool(d.get("skipped"))
        return m
