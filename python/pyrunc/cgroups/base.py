"""The Manager interface both drivers implement, and what they share:
waiting on the freezer and signalling every process of the cgroup."""
from __future__ import annotations

import errno
import os
import time

from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FREEZE_TIMEOUT = 10.0  # seconds; a cgroup that cannot freeze by then is thawed and reported


class Manager:
    """One container's cgroup. See ``pyrunc.cgroups`` for the life cycle."""

    version = 0
    driver = "fs"

    def __init__(self, container_id: str, cgroups_path: str | None, root: str, rootless: bool) -> None:
        self.container_id = container_id
        self.cgroups_path = cgroups_path or ""
        self.root = root
        self.rootless = rootless

    # -- the interface ---------------------------------------------------------
    def create(self) -> None:
        raise NotImplementedError

    def add_pid(self, pid: int) -> None:
        raise NotImplementedError

    def apply(self, resources: Any, *, devices: bool = True) -> None:
        """Write linux.resources; ``devices`` also programs the device rules
        (the spec's then runc's default allow list), done once at create."""
        raise NotImplementedError

    def update(self, resources: Any) -> None:
        """`pyrunc update`: like apply, but devices are never changed (as runc)."""
        self.apply(resources, devices=False)

    def destroy(self) -> None:
        raise NotImplementedError

    def freeze(self) -> None:
        raise NotImplementedError

    def thaw(self) -> None:
        raise NotImplementedError

    def frozen(self) -> bool:
        raise NotImplementedError

    def pids(self) -> list[int]:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        raise NotImplementedError

    def exists(self) -> bool:
        raise NotImplementedError

    def oom_kills(self) -> int:
        """How many processes the OOM killer killed in this cgroup so far
        (`events` polls it to emit "oom" events)."""
        raise NotImplementedError

    def path_for(self, controller: str) -> str | None:
        raise NotImplementedError

    def creatable(self, path: str) -> bool:
        """Whether create() can make (or find) ``path``: a rootless caller
        without a delegated cgroup cannot, and its container stays in the
        caller's cgroup, so there is nothing of its own to bind (runc)."""
        if not self.rootless or os.path.isdir(path):
            return True
        parent = os.path.dirname(path)
        while parent and not os.path.isdir(parent):
            parent = os.path.dirname(parent)
        return bool(parent) and os.access(parent, os.W_OK)

    def mounts_for_container(self, cgroupns: bool, flags: int = 0) -> list[dict[str, Any]]:
        raise NotImplementedError

    def symlinks_for_container(self) -> list[tuple]:
        """(target, link) pairs to create after the mounts (v1 comounts)."""
        return []

    def to_state(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Manager:
        from pyrunc.cgroups import from_state

        return from_state(d)

    # -- shared ----------------------------------------------------------------
    def _kill_with_freezer(self, sig: int) -> None:
        """Signal every process while the cgroup is frozen, so none can fork
        a child we would miss (runc's signalAllProcesses)."""
        can_freeze = self._can_freeze()
        if can_freeze:
            try:
                self.freeze()
            except CgroupError:
                can_freeze = False
        try:
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        finally:
            if can_freeze:
                self.thaw()

    def _can_freeze(self) -> bool:
        return True

    def kill_all(self, sig: int) -> None:
        self._kill_with_freezer(sig)

    def _wait(self, check: Any, what: str, retry: Any = None) -> None:
        """Poll ``check()`` until true; call ``retry()`` now and then."""
        deadline = time.monotonic() + FREEZE_TIMEOUT
        delay = 0.001
        n = 0
        while not check():
            if time.monotonic() > deadline:
                raise CgroupError(f"{what}: timed out", err=errno.ETIMEDOUT)
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
            n += 1
            if retry is not None and n % 20 == 0:
                retry()
