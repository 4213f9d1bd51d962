"""linux.resources -> cgroup v1 files, one function per controller.

Each takes the controller's directory (None when its hierarchy is not
mounted: asking for a limit there is an error, as in runc) and the spec
object (model or JSON dict). Write orders follow the kernel's checks.
"""
from __future__ import annotations

import errno

from pyrunc.cgroups.common import RES, exists, get, items, read_int, write, write_raw
from pyrunc.cgroups.convert import pagesize_bytes
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any


def _need(path: str | None, controller: str, fld: str) -> str:
    if path is None:
        raise CgroupError(f"{fld}: cannot set: the {controller} cgroup hierarchy is not mounted",
                          controller=controller)
    return path


def _isset(obj: Any, *keys: str) -> bool:
    return any(get(obj, k) is not None for k in keys)


# -- memory ------------------------------------------------------------------------


def _set_limit(p: str, limit: int) -> None:
    fld = f"{RES}.memory.limit"
    try:
        write_raw(p, "memory.limit_in_bytes", str(limit))
    except OSError as e:
        if e.errno == errno.EBUSY:
            usage = read_int(p, "memory.usage_in_bytes")
            peak = read_int(p, "memory.max_usage_in_bytes")
            raise CgroupError(
                f"{fld}: cannot set below current usage: limit {limit}, current usage {usage}, "
                f"peak usage {peak}", controller="memory", file="memory.limit_in_bytes") from e
        raise CgroupError(f"{fld}: write `{p}/memory.limit_in_bytes` ({limit})", controller="memory",
                          file="memory.limit_in_bytes", err=e.errno) from e


def _set_swap(p: str, swap: int) -> None:
    if not exists(p, "memory.memsw.limit_in_bytes"):
        if swap == -1:
            return  # no swap accounting: unlimited is what we have
        raise CgroupError(f"{RES}.memory.swap: swap accounting is not enabled in the kernel "
                          "(memory.memsw.limit_in_bytes missing)", controller="memory")
    write(p, "memory.memsw.limit_in_bytes", swap, fld=f"{RES}.memory.swap", controller="memory")


def set_memory(p: str | None, mem: Any) -> None:
    # kernel and kernelTCP are deprecated by the spec and ignored, as runc 1.2 does
    if mem is None or not _isset(mem, "limit", "reservation", "swap", "swappiness", "disableOOMKiller"):
        return
    p = _need(p, "memory", f"{RES}.memory")
    limit, swap = get(mem, "limit") or 0, get(mem, "swap") or 0
    # memory unlimited with swap unset: swap unlimited too (v1 rejects
    # memory > memsw otherwise)
    if limit == -1 and swap == 0 and exists(p, "memory.memsw.limit_in_bytes"):
        swap = -1
    if limit and swap:
        # memsw must stay >= memory at every step: raise memsw first when growing
        cur = read_int(p, "memory.limit_in_bytes")
        if swap == -1 or cur < swap:
            _set_swap(p, swap)
            _set_limit(p, limit)
        else:
            _set_limit(p, limit)
            _set_swap(p, swap)
    else:
        if limit:
            _set_limit(p, limit)
        if swap:
            _set_swap(p, swap)
    res = get(mem, "reservation")
    if res:
        write(p, "memory.soft_limit_in_bytes", res, fld=f"{RES}.memory.reservation", controller="memory")
    if get(mem, "disableOOMKiller"):
        write(p, "memory.oom_control", "1", fld=f"{RES}.memory.disableOOMKiller", controller="memory")
    sw = get(mem, "swappiness")
    if sw is not None:
        if not 0 <= int(sw) <= 100:
            raise CgroupError(f"{RES}.memory.swappiness: invalid value {sw} (valid range is 0-100)")
        write(p, "memory.swappiness", sw, fld=f"{RES}.memory.swappiness", controller="memory")


# -- cpu ---------------------------------------------------------------------------------


def _write_retry(p: str, name: str, value: int, fld: str, later: bool) -> bool:
    """Write; on EINVAL return True ("retry after the partner value") when
    ``later``, since period/quota/burst are checked against each other."""
    try:
        write_raw(p, name, str(value))
        return False
    except OSError as e:
        if e.errno == errno.EINVAL and later:
            return True
        if e.errno == errno.ENOENT and name == "cpu.cfs_burst_us":
            return False  # kernel without CFS burst
        raise CgroupError(f"{fld}: write `{p}/{name}` ({value})", controller="cpu", file=name,
                          err=e.errno) from e


def set_cpu(p: str | None, cpu: Any) -> None:
    if cpu is None or not _isset(cpu, "shares", "quota", "period", "burst", "realtimeRuntime",
                                 "realtimePeriod", "idle"):
        return
    p = _need(p, "cpu", f"{RES}.cpu")
    shares = get(cpu, "shares")
    if shares:
        write(p, "cpu.shares", shares, fld=f"{RES}.cpu.shares", controller="cpu")
        got = read_int(p, "cpu.shares")
        # the kernel clamps out-of-range shares silently
        if got != shares:
            edge = "maximum" if shares > got else "minimum"
            raise CgroupError(f"{RES}.cpu.shares: the {edge} allowed cpu-shares is {got}")
    quota, period, burst = get(cpu, "quota") or 0, get(cpu, "period") or 0, get(cpu, "burst")
    retry_period = bool(period) and _write_retry(
        p, "cpu.cfs_period_us", period, f"{RES}.cpu.period", later=bool(quota))
    retry_burst = burst is not None and _write_retry(
        p, "cpu.cfs_burst_us", burst, f"{RES}.cpu.burst", later=bool(quota))
    if quota:
        write(p, "cpu.cfs_quota_us", quota, fld=f"{RES}.cpu.quota", controller="cpu")
        if retry_period:
            write(p, "cpu.cfs_period_us", period, fld=f"{RES}.cpu.period", controller="cpu")
        if retry_burst:
            write(p, "cpu.cfs_burst_us", burst, fld=f"{RES}.cpu.burst", controller="cpu")
    idle = get(cpu, "idle")
    if idle is not None:
        write(p, "cpu.idle", idle, fld=f"{RES}.cpu.idle", controller="cpu")
    set_rt(p, cpu)


def set_rt(p: str, cpu: Any) -> None:
    """rt_period and rt_runtime are checked against each other (and the
    parent's): a period the runtime does not fit yet is retried after it."""
    rt_rt, rt_period = get(cpu, "realtimeRuntime"), get(cpu, "realtimePeriod")
    retry = bool(rt_period) and _write_retry(
        p, "cpu.rt_period_us", rt_period, f"{RES}.cpu.realtimePeriod", later=bool(rt_rt))
    if rt_rt:
        write(p, "cpu.rt_runtime_us", rt_rt, fld=f"{RES}.cpu.realtimeRuntime", controller="cpu")
        if retry:
            write(p, "cpu.rt_period_us", rt_period, fld=f"{RES}.cpu.realtimePeriod", controller="cpu")


def set_cpuset(p: str | None, cpu: Any) -> None:
    if cpu is None or not _isset(cpu, "cpus", "mems"):
        return
    p = _need(p, "cpuset", f"{RES}.cpu")
    for key in ("cpus", "mems"):
        v = get(cpu, key)
        if v:
            write(p, f"cpuset.{key}", v, fld=f"{RES}.cpu.{key}", controller="cpuset")


# -- pids, blkio, hugetlb, network, rdma ---------------------------------------------------


def set_pids(p: str | None, pids: Any) -> None:
    limit = get(pids, "limit")
    if limit is None:
        return
    p = _need(p, "pids", f"{RES}.pids.limit")
    # spec 1.3.0: 0 is a real limit (runc <= 1.2 treated it as unset)
    write(p, "pids.max", "max" if limit < 0 else limit, fld=f"{RES}.pids.limit", controller="pids")


THROTTLES = (
    ("throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"),
    ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"),
    ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"),
    ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"),
)


def set_blkio(p: str | None, bio: Any) -> None:
    if bio is None or not (_isset(bio, "weight", "leafWeight") or any(
            get(bio, k) for k in ["weightDevice"] + [t[0] for t in THROTTLES])):
        return
    p = _need(p, "blkio", f"{RES}.blockIO")
    # CFQ's blkio.weight is gone from current kernels; BFQ has blkio.bfq.weight
    weight_file, dev_file = "blkio.weight", "blkio.weight_device"
    if not exists(p, weight_file) and exists(p, "blkio.bfq.weight"):
        weight_file, dev_file = "blkio.bfq.weight", "blkio.bfq.weight_device"
    w = get(bio, "weight")
    if w:
        write(p, weight_file, w, fld=f"{RES}.blockIO.weight", controller="blkio")
    lw = get(bio, "leafWeight")
    if lw:
        write(p, "blkio.leaf_weight", lw, fld=f"{RES}.blockIO.leafWeight", controller="blkio")
    for i, wd in enumerate(get(bio, "weightDevice") or []):
        dev = f"{get(wd, 'major')}:{get(wd, 'minor')}"
        fld = f"{RES}.blockIO.weightDevice[{i}]"
        if get(wd, "weight"):
            write(p, dev_file, f"{dev} {get(wd, 'weight')}", fld=fld + ".weight", controller="blkio")
        if get(wd, "leafWeight"):
            write(p, "blkio.leaf_weight_device", f"{dev} {get(wd, 'leafWeight')}",
                  fld=fld + ".leafWeight", controller="blkio")
    for key, fname, _v2 in THROTTLES:
        for i, td in enumerate(get(bio, key) or []):
            line = f"{get(td, 'major')}:{get(td, 'minor')} {get(td, 'rate')}"
            write(p, fname, line, fld=f"{RES}.blockIO.{key}[{i}]", controller="blkio")


def set_hugetlb(p: str | None, limits: Any) -> None:
    for i, hl in enumerate(limits or []):
        fld = f"{RES}.hugepageLimits[{i}]"
        p = _need(p, "hugetlb", fld)
        size = get(hl, "pageSize") or ""
        try:
            pagesize_bytes(size)
        except ValueError as e:
            raise CgroupError(f"{fld}.pageSize: {e}") from None
        f = f"hugetlb.{size}.limit_in_bytes"
        if not exists(p, f):
            raise CgroupError(f"{fld}.pageSize: hugepage size {size} is not supported by the kernel")
        write(p, f, get(hl, "limit"), fld=fld + ".limit", controller="hugetlb")
        rsvd = f"hugetlb.{size}.rsvd.limit_in_bytes"
        if exists(p, rsvd):
            write(p, rsvd, get(hl, "limit"), fld=fld + ".limit", controller="hugetlb")


def set_network(paths: dict[str, str], net: Any) -> None:
    if net is None:
        return
    cls = get(net, "classID")
    if cls is not None:
        p = _need(paths.get("net_cls"), "net_cls", f"{RES}.network.classID")
        write(p, "net_cls.classid", cls, fld=f"{RES}.network.classID", controller="net_cls")
    for i, pr in enumerate(get(net, "priorities") or []):
        fld = f"{RES}.network.priorities[{i}]"
        p = _need(paths.get("net_prio"), "net_prio", fld)
        write(p, "net_prio.ifpriomap", f"{get(pr, 'name')} {get(pr, 'priority')}", fld=fld,
              controller="net_prio")


def rdma_lines(rdma: Any) -> list:
    """{"mlx5_1": {hcaHandles, hcaObjects}} -> ["mlx5_1 hca_handle=3 hca_object=10000"]."""
    out = []
    for dev, lim in items(rdma):
        parts = [dev]
        if get(lim, "hcaHandles") is not None:
            parts.append(f"hca_handle={get(lim, 'hcaHandles')}")
        if get(lim, "hcaObjects") is not None:
            parts.append(f"hca_object={get(lim, 'hcaObjects')}")
        if len(parts) == 1:
            raise CgroupError(f'{RES}.rdma["{dev}"]: set at least one of hcaHandles or hcaObjects')
        out.append((dev, " ".join(parts)))
    return out


def set_rdma(p: str | None, rdma: Any) -> None:
    for dev, line in rdma_lines(rdma):
        fld = f'{RES}.rdma["{dev}"]'
        write(_need(p, "rdma", fld), "rdma.max", line, fld=fld, controller="rdma")


def set_all(paths: dict[str, str], r: Any) -> None:
    """Every controller, in runc's subsystem order (cpuset first: the others
    do not depend on it, but tasks cannot run without cpus/mems)."""
    if r is None:
        return
    if get(r, "unified"):
        raise CgroupError(f"{RES}.unified: cannot use unified on cgroup v1")
    cpu = get(r, "cpu")
    set_cpuset(paths.get("cpuset"), cpu)
    set_memory(paths.get("memory"), get(r, "memory"))
    set_cpu(paths.get("cpu"), cpu)
    set_pids(paths.get("pids"), get(r, "pids"))
    set_blkio(paths.get("blkio"), get(r, "blockIO"))
    set_hugetlb(paths.get("hugetlb"), get(r, "hugepageLimits"))
    set_network(paths, get(r, "network"))
    set_rdma(paths.get("rdma"), get(r, "rdma"))


__all__ = [
    "THROTTLES",

    "rdma_lines",
    "set_all",
    "set_blkio",
    "set_cpu",
    "set_cpuset",
    "set_hugetlb",
    "set_memory",
    "set_network",
    "set_pids",
    "set_rdma",
]
