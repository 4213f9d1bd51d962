"""linux.resources -> cgroup v2 files, converting the v1-style values as runc 1.2 does."""
from __future__ import annotations

import errno
from typing import Any

from pyrunc.cgroups import convert
from pyrunc.cgroups.common import RES, exists, get, items, read_int, read_opt, warn_once, write_raw
from pyrunc.cgroups.v1_set import THROTTLES, rdma_lines
from pyrunc.errors import CgroupError

# Files of the cgroup core that `unified` must not touch: writing them would
# move foreign processes in (procs, threads) or take over what the runtime
# manages itself (freeze for pause, kill for kill --all).
FORBIDDEN_UNIFIED = {"cgroup.procs", "cgroup.threads", "cgroup.freeze", "cgroup.kill"}


def w(p: str, name: str, value: Any, fld: str) -> None:
    """Write; a missing file usually means the controller is not enabled for
    this cgroup, which is said plainly."""
    text = str(value)
    try:
        write_raw(p, name, text)
    except OSError as e:
        ctrl = name.split(".", 1)[0]
        avail = (read_opt(p, "cgroup.controllers") or "").split()
        if e.errno in (errno.ENOENT, errno.EACCES, errno.EPERM) and ctrl != "cgroup" and ctrl not in avail:
            raise CgroupError(f"{fld}: cannot set {name}: the {ctrl} controller is not available "
                              f"(cgroup.controllers: {' '.join(avail) or 'none'})",
                              controller=ctrl, file=name) from e
        raise CgroupError(f"{fld}: write `{p}/{name}` ({text!r})", controller=ctrl, file=name,
                          err=e.errno) from e


def set_memory(p: str, mem: Any) -> None:
    if mem is None:
        return
    limit, swap = get(mem, "limit"), get(mem, "swap")
    try:
        swap2 = convert.memory_swap_to_v2(swap, limit)
    except ValueError as e:
        raise CgroupError(f"{RES}.memory.swap: {e}") from None
    # no swap accounting (no memory.swap.max): unlimited or none is a no-op
    if swap2 is not None and (exists(p, "memory.swap.max") or swap2 > 0):
        w(p, "memory.swap.max", convert.num_to_v2(swap2), f"{RES}.memory.swap")
    if limit:
        if get(mem, "checkBeforeUpdate") and limit > 0:
            # v2 would OOM-kill to get below a smaller limit; the spec lets
            # the user ask for v1's refusal instead
            usage = read_int(p, "memory.current")
            if usage >= limit:
                raise CgroupError(f"{RES}.memory.limit: cannot set below current usage: limit {limit}, "
                                  f"current usage {usage}")
        w(p, "memory.max", convert.num_to_v2(limit), f"{RES}.memory.limit")
    res = get(mem, "reservation")
    if res:
        w(p, "memory.low", convert.num_to_v2(res), f"{RES}.memory.reservation")
    if get(mem, "disableOOMKiller"):
        warn_once("v2-oom", f"{RES}.memory.disableOOMKiller: not supported on cgroup v2, ignored")
    # swappiness has no v2 file: ignored, as runc does


def set_cpu(p: str, cpu: Any) -> None:
    if cpu is None:
        return
    idle = get(cpu, "idle")
    if idle is not None:
        w(p, "cpu.idle", idle, f"{RES}.cpu.idle")
    shares = get(cpu, "shares")
    # an idle group has no weight of its own (the kernel refuses it)
    if shares and idle != 1:
        w(p, "cpu.weight", convert.cpu_shares_to_weight(shares), f"{RES}.cpu.shares")
    quota, period, burst = get(cpu, "quota") or 0, get(cpu, "period") or 0, get(cpu, "burst")
    retry_burst = False
    if burst is not None:
        try:
            write_raw(p, "cpu.max.burst", str(burst))
        except OSError as e:
            # a burst above the current quota is refused until the quota grows
            if e.errno == errno.EINVAL and quota:
                retry_burst = True
            else:
                w(p, "cpu.max.burst", burst, f"{RES}.cpu.burst")
    val = convert.cpu_max(quota, period, read_opt(p, "cpu.max") or "")
    if val is not None:
        w(p, "cpu.max", val, f"{RES}.cpu.quota" if quota else f"{RES}.cpu.period")
        if retry_burst:
            w(p, "cpu.max.burst", burst, f"{RES}.cpu.burst")
    if get(cpu, "realtimeRuntime") or get(cpu, "realtimePeriod"):
        raise CgroupError(f"{RES}.cpu.realtimeRuntime: realtime scheduling is not supported on cgroup v2")
    for key in ("cpus", "mems"):
        v = get(cpu, key)
        if v:
            w(p, f"cpuset.{key}", v, f"{RES}.cpu.{key}")


def set_pids(p: str, pids: Any) -> None:
    limit = get(pids, "limit")
    if limit is not None:
        # spec 1.3.0: 0 is a real limit
        w(p, "pids.max", convert.num_to_v2(limit), f"{RES}.pids.limit")


def set_io(p: str, bio: Any) -> None:
    if bio is None:
        return
    weight = get(bio, "weight")
    # BFQ takes the blkio range (10-1000) as is and is the only one with
    # per-device weights; otherwise io.weight gets the converted value
    bfq = exists(p, "io.bfq.weight")
    if weight:
        if bfq:
            w(p, "io.bfq.weight", weight, f"{RES}.blockIO.weight")
        else:
            w(p, "io.weight", convert.blkio_weight_to_io_weight(weight), f"{RES}.blockIO.weight")
    for i, wd in enumerate(get(bio, "weightDevice") or []):
        if get(wd, "weight") is None:
            continue
        fld = f"{RES}.blockIO.weightDevice[{i}]"
        if not bfq:
            raise CgroupError(f"{fld}: per-device weights need the BFQ io scheduler (no io.bfq.weight)")
        w(p, "io.bfq.weight", f"{get(wd, 'major')}:{get(wd, 'minor')} {get(wd, 'weight')}", fld)
    # leafWeight has no v2 equivalent (CFQ only): ignored
    for key, _v1, v2key in THROTTLES:
        for i, td in enumerate(get(bio, key) or []):
            line = f"{get(td, 'major')}:{get(td, 'minor')} {v2key}={get(td, 'rate')}"
            w(p, "io.max", line, f"{RES}.blockIO.{key}[{i}]")


def set_hugetlb(p: str, limits: Any) -> None:
    for i, hl in enumerate(limits or []):
        fld = f"{RES}.hugepageLimits[{i}]"
        size = get(hl, "pageSize") or ""
        try:
            convert.pagesize_bytes(size)
        except ValueError as e:
            raise CgroupError(f"{fld}.pageSize: {e}") from None
        avail = (read_opt(p, "cgroup.controllers") or "").split()
        if "hugetlb" in avail and not exists(p, f"hugetlb.{size}.max"):
            raise CgroupError(f"{fld}.pageSize: hugepage size {size} is not supported by the kernel")
        w(p, f"hugetlb.{size}.max", get(hl, "limit"), fld + ".limit")
        if exists(p, f"hugetlb.{size}.rsvd.max"):
            w(p, f"hugetlb.{size}.rsvd.max", get(hl, "limit"), fld + ".limit")


def check_unified_key(key: str) -> None:
    fld = f'{RES}.unified["{key}"]'
    if "/" in key or key.startswith(".") or "." not in key:
        raise CgroupError(f"{fld}: not a cgroup file name")
    if key in FORBIDDEN_UNIFIED:
        raise CgroupError(f"{fld}: setting {key} would break the container's confinement")


def set_unified(p: str, unified: Any) -> None:
    pairs = items(unified)
    for key, _ in pairs:
        check_unified_key(key)
    for key, val in pairs:
        w(p, key, val, f'{RES}.unified["{key}"]')


def set_all(p: str, r: Any) -> None:
    if r is None:
        return
    cpu = get(r, "cpu")
    set_cpu(p, cpu)
    set_memory(p, get(r, "memory"))
    set_pids(p, get(r, "pids"))
    set_io(p, get(r, "blockIO"))
    set_hugetlb(p, get(r, "hugepageLimits"))
    for dev, line in rdma_lines(get(r, "rdma")):
        w(p, "rdma.max", line, f'{RES}.rdma["{dev}"]')
    net = get(r, "network")
    if net is not None and (get(net, "classID") is not None or get(net, "priorities")):
        warn_once("v2-net", f"{RES}.network: net_cls/net_prio do not exist on cgroup v2, ignored")
    # unified last: its raw values override the converted ones
    set_unified(p, get(r, "unified"))
