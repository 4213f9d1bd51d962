"""Commands that act on a live container's cgroup: pause, resume, update,
and events (stats and OOM notifications).

:mod:`pyrunc.container.lifecycle` exposes these under the same names; the
CLI and :mod:`pyrunc.api` call them through it. Error texts are runc's,
word for word, because engines match them:

- ``pause`` of anything but a running or created container: "container not running";
- ``resume`` of anything but a paused container: "container not paused";
- ``update`` of a stopped container: "container not running";
- ``events`` of a stopped container: "container with id ID is not running".
"""
from __future__ import annotations

import contextlib
import copy
import os
import select
import time
from collections.abc import Iterator
from typing import Any

from pyrunc.container.state import ContainerState, StateDir, current_status
from pyrunc.container.status import Status, can_pause, can_resume
from pyrunc.errors import CgroupError, NotImplementedYet, PyruncError, StateError

__all__ = ["events", "merge_resources", "oom_watch", "pause", "resume", "stats", "update"]

# How often the events stream checks that the container still runs, at the
# longest (an OOM notification wakes it at once).
LIVENESS_POLL = 0.25
RESCTRL = "/sys/fs/resctrl"


# --------------------------------------------------------------------------- helpers


def _manager(st: ContainerState) -> Any:
    if not st.cgroup:
        return None
    from pyrunc import cgroups

    return cgroups.from_state(st.cgroup)


def _status(sd: StateDir, st: ContainerState, mgr: Any) -> Status:
    frozen = False
    if mgr is not None and Status(st.status) is not Status.CREATING:
        try:
            frozen = bool(mgr.frozen())
        except (OSError, PyruncError):
            frozen = False
    return current_status(sd, st, frozen)


def _need_manager(mgr: Any, what: str) -> Any:
    if mgr is None:
        raise CgroupError(f"{what}: the container has no cgroup")
    return mgr


def _thaw_quietly(mgr: Any) -> None:
    with contextlib.suppress(Exception):
        mgr.thaw()


# --------------------------------------------------------------------------- pause, resume


def pause(root: str, cid: str) -> None:
    """Freeze every process of the container (v1 freezer.state, v2
    cgroup.freeze), wait until the kernel reports it frozen, record
    ``paused``. Any failure after the freeze started thaws again, so no
    error leaves a container stuck in a frozen cgroup."""
    sd = StateDir(root, cid)
    with sd.lock():
        st = sd.load()
        mgr = _manager(st)
        if not can_pause(_status(sd, st, mgr)):
            raise StateError("container not running")
        mgr = _need_manager(mgr, "pause")
        try:
            # The manager thaws itself when the freeze times out.
            mgr.freeze()
            st.status = Status.PAUSED.value
            sd.save(st)
        except BaseException:
            _thaw_quietly(mgr)
            raise


def resume(root: str, cid: str) -> None:
    """Thaw a paused container and wait until the kernel reports it thawed."""
    sd = StateDir(root, cid)
    with sd.lock():
        st = sd.load()
        mgr = _manager(st)
        if not can_resume(_status(sd, st, mgr)):
            raise StateError("container not paused")
        mgr = _need_manager(mgr, "resume")
        mgr.thaw()
        # A container paused before `start` still waits on exec.fifo.
        st.status = (Status.CREATED if os.path.exists(sd.fifo) else Status.RUNNING).value
        sd.save(st)


# --------------------------------------------------------------------------- update

# Keys whose zero value means "leave as is" for runc's update (and for the
# cgroup writers): a LinuxResources JSON from an engine is full of them.
_ZERO_KEEPS = {
    "memory": {"limit", "reservation", "swap", "kernel", "kernelTCP"},
    "cpu": {"shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems"},
    "blockIO": {"weight", "leafWeight"},
}
_DEVICE_LISTS = ("weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
                 "throttleReadIOPSDevice", "throttleWriteIOPSDevice")


def _merge_list(old: Any, new: list[Any], key: Any) -> list[Any]:
    """Entries of ``new`` replace those of ``old`` with the same key (a
    device, a page size): the kernel keeps per-device values the same way."""
    out = [x for x in (old if isinstance(old, list) else []) if isinstance(x, dict)]
    for item in new:
        if not isinstance(item, dict):
            continue
        out = [x for x in out if key(x) != key(item)]
        out.append(dict(item))
    return out


def merge_resources(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The linux.resources object a container has after ``update`` with
    ``new`` applied on top of ``old``: unset (null) and "unchanged" (zero)
    values keep the old ones; devices never change (runc never updates them)."""
    out = copy.deepcopy(old) if isinstance(old, dict) else {}
    for section, val in new.items():
        if section == "devices" or val is None:
            continue
        if section in ("memory", "cpu", "pids", "blockIO", "network") and isinstance(val, dict):
            cur = out.get(section)
            dst = out[section] = dict(cur) if isinstance(cur, dict) else {}
            keeps = _ZERO_KEEPS.get(section, set())
            for k, v in val.items():
                if v is None or (k in keeps and v in (0, "")):
                    continue
                if section == "blockIO" and k in _DEVICE_LISTS:
                    dst[k] = _merge_list(dst.get(k), v, lambda d: (d.get("major"), d.get("minor")))
                elif section == "network" and k == "priorities":
                    dst[k] = _merge_list(dst.get(k), v, lambda d: d.get("name"))
                else:
                    dst[k] = v
        elif section == "hugepageLimits" and isinstance(val, list):
            out[section] = _merge_list(out.get(section), val, lambda d: d.get("pageSize"))
        elif section in ("rdma", "unified") and isinstance(val, dict):
            cur = out.get(section)
            out[section] = {**(cur if isinstance(cur, dict) else {}), **val}
        else:
            out[section] = val
    return out


def _parse_resources(resources: dict[str, Any]) -> Any:
    """Type-check the JSON (field paths as in config.json) into the spec model."""
    from pyrunc.spec import from_dict

    if not isinstance(resources, dict):
        raise PyruncError("unable to parse resources: not a JSON object")
    # ociVersion only satisfies the loader; nothing else of the spec is read
    spec = from_dict({"ociVersion": "1.0.0", "linux": {"resources": resources}})
    return spec.linux.resources if spec.linux is not None else None


def _check_intel_rdt(intel_rdt: dict[str, Any] | None, config: dict[str, Any]) -> None:
    """runc refuses schemas the host's resctrl cannot take, and containers
    made without linux.intelRdt, with these texts."""
    if not intel_rdt:
        return
    info = os.path.join(RESCTRL, "info")
    if intel_rdt.get("l3CacheSchema") and not os.path.isdir(os.path.join(info, "L3")):
        raise PyruncError("Intel RDT/CAT: l3 cache schema is not enabled")
    if intel_rdt.get("memBwSchema") and not os.path.isdir(os.path.join(info, "MB")):
        raise PyruncError("Intel RDT/MBA: memory bandwidth schema is not enabled")
    if not (config.get("linux") or {}).get("intelRdt"):
        raise PyruncError("updating a non-existent Intel RDT configuration is not supported")
    raise NotImplementedYet("update --l3-cache-schema/--mem-bw-schema: Intel RDT is not implemented yet")


def update(root: str, cid: str, resources: dict[str, Any] | None = None,
           intel_rdt: dict[str, Any] | None = None) -> None:
    """Apply a (partial) linux.resources object to a running, created or
    paused container, then record the merged values in its state. Devices
    are never touched. A memory limit below the current usage is refused on
    v1 (by the kernel); on v2 only with memory.checkBeforeUpdate (runc's
    default is false, and the kernel then reclaims or OOM-kills)."""
    if resources is not None and not isinstance(resources, dict):
        raise PyruncError("unable to parse resources: not a JSON object")
    resources = {k: v for k, v in (resources or {}).items() if k != "devices"}
    sd = StateDir(root, cid)
    with sd.lock():
        st = sd.load()
        # runc: the container first, then the values, then its status
        model = _parse_resources(resources)
        mgr = _manager(st)
        if _status(sd, st, mgr) is Status.STOPPED:
            raise StateError("container not running")
        _check_intel_rdt(intel_rdt, st.config)
        if model is not None:
            _need_manager(mgr, "update").update(model)
        linux = st.config.setdefault("linux", {})
        linux["resources"] = merge_resources(linux.get("resources"), resources)
        sd.save(st)


# --------------------------------------------------------------------------- stats, events

# runc's types.Stats key order; intel_rdt is empty and network_interfaces null
# without veth interfaces in the config (runc's OCI path never has any).
_STATS_ORDER = ("cpu", "cpuset", "memory", "pids", "blkio", "hugetlb")


def _stats_data(mgr: Any) -> dict[str, Any]:
    raw = mgr.stats()
    data = {k: raw[k] for k in _STATS_ORDER if k in raw}
    data.update({k: v for k, v in raw.items() if k not in data})
    data.setdefault("intel_rdt", {})
    data.setdefault("network_interfaces", None)
    return data


def _event(kind: str, cid: str, data: Any = None) -> dict[str, Any]:
    ev: dict[str, Any] = {"type": kind, "id": cid}
    if data is not None:  # Go's omitempty
        ev["data"] = data
    return ev


def _running(root: str, cid: str, interval: float = 1.0) -> tuple[StateDir, ContainerState, Any]:
    sd = StateDir(root, cid)
    st = sd.load()
    # runc's order: the container, the interval, then the status
    if interval <= 0:
        raise PyruncError("duration interval must be greater than 0")
    mgr = _manager(st)
    if _status(sd, st, mgr) is Status.STOPPED:
        raise StateError(f"container with id {cid} is not running")
    return sd, st, mgr


def stats(root: str, cid: str) -> dict[str, Any]:
    """The "data" object of ``events --stats`` (runc's types.Stats)."""
    _sd, _st, mgr = _running(root, cid)
    return _stats_data(_need_manager(mgr, "stats"))


def events(root: str, cid: str, *, interval: float = 5.0, stats: bool = False) -> Iterator[dict[str, Any]]:
    """runc's ``events``: with ``stats`` one stats event; otherwise a stats
    event every ``interval`` seconds and an ``oom`` event whenever the OOM
    killer acts in the container's cgroup. The checks run before anything is
    yielded; the stream ends once the container stops (runc's goes on until
    the cgroup is removed, printing stats of an empty cgroup)."""
    _sd, st, mgr = _running(root, cid, interval)
    mgr = _need_manager(mgr, "events")
    if stats:
        return iter([_event("stats", cid, _stats_data(mgr))])
    watch = oom_watch(mgr)
    return _stream(cid, st, mgr, interval, watch)


def _stream(cid: str, st: ContainerState, mgr: Any, interval: float, watch: Any) -> Iterator[dict[str, Any]]:
    from pyrunc import log

    try:
        next_tick = time.monotonic() + interval
        while True:
            timeout = max(0.0, min(next_tick - time.monotonic(), LIVENESS_POLL))
            for _ in range(watch.wait(timeout)):
                yield _event("oom", cid)
            now = time.monotonic()
            if now >= next_tick:
                next_tick = max(next_tick + interval, now)
                try:
                    data = _stats_data(mgr)
                except (OSError, PyruncError) as e:
                    log.error(str(e))  # runc logs and goes on
                else:
                    yield _event("stats", cid, data)
            if not st.init_alive() or not mgr.exists():
                # an OOM kill of the init is counted before the init dies
                for _ in range(watch.wait(0)):
                    yield _event("oom", cid)
                return
    finally:
        watch.close()


# --------------------------------------------------------------------------- OOM notification


class _CounterWatch:
    """Fallback: poll the manager's OOM-kill counter (memory.oom_control's
    oom_kill on v1, memory.events on v2) whenever the stream wakes."""

    def __init__(self, mgr: Any) -> None:
        self.mgr = mgr
        self.last = self._count()

    def _count(self) -> int:
        try:
            return int(self.mgr.oom_kills())
        except (OSError, PyruncError, ValueError):
            return 0

    def wait(self, timeout: float) -> int:
        if timeout > 0:
            time.sleep(timeout)
        cur = self._count()
        fired = 1 if cur > self.last else 0
        self.last = max(cur, self.last)
        return fired

    def close(self) -> None:
        pass


class _V1Watch:
    """cgroup v1: an eventfd registered on memory.oom_control through
    cgroup.event_control; the kernel signals it on each OOM in the cgroup,
    and once more when the cgroup is removed (then event_control is gone).
    See Documentation/admin-guide/cgroup-v1/memory.rst, "OOM Control"."""

    def __init__(self, memdir: str) -> None:
        from pyrunc.cgroups import common

        self.memdir = memdir
        self.efd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self.ofd = -1
        try:
            self.ofd = os.open(os.path.join(memdir, "memory.oom_control"), os.O_RDONLY | os.O_CLOEXEC)
            common.write_raw(memdir, "cgroup.event_control", f"{self.efd} {self.ofd}")
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float) -> int:
        ready, _, _ = select.select([self.efd], [], [], timeout)
        if not ready:
            return 0
        try:
            os.eventfd_read(self.efd)
        except BlockingIOError:
            return 0
        if not os.path.exists(os.path.join(self.memdir, "cgroup.event_control")):
            return 0  # the cgroup was removed, not an OOM
        return 1

    def close(self) -> None:
        for fd in (self.efd, self.ofd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.efd = self.ofd = -1


class _V2Watch:
    """cgroup v2: memory.events is a kernfs file that notifies pollers
    (POLLPRI) when a counter changes; reading it re-arms the notification.
    An event is reported when oom_kill grows (see cgroup-v2.rst, memory.events)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(os.path.join(path, "memory.events"), os.O_RDONLY | os.O_CLOEXEC)
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLPRI | select.POLLERR)
        self.last = self._count()

    def _count(self) -> int:
        try:
            os.lseek(self.fd, 0, os.SEEK_SET)
            text = os.read(self.fd, 4096).decode()
        except OSError:
            return self.last
        for line in text.splitlines():
            k, _, v = line.partition(" ")
            if k == "oom_kill" and v.strip().isdigit():
                return int(v)
        return 0

    def wait(self, timeout: float) -> int:
        self.poller.poll(int(timeout * 1000))
        cur = self._count()
        fired = 1 if cur > self.last else 0
        self.last = max(cur, self.last)
        return fired

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.fd = -1


def oom_watch(mgr: Any) -> Any:
    """The best OOM notifier the host has for ``mgr``'s cgroup, with
    ``wait(timeout) -> events`` and ``close()``."""
    try:
        if mgr.version == 2:
            return _V2Watch(mgr.path)
        memdir = mgr.path_for("memory")
        if memdir:
            return _V1Watch(memdir)
    except (OSError, PyruncError):
        pass
    return _CounterWatch(mgr)
