"""cgroup statistics in the shape of `runc events --stats`'s "data" object
(runc's types.Stats JSON): cpu, memory, pids, blkio, hugetlb.

Go's ``omitempty`` drops zero numbers and empty lists but never nested
structs, so the objects are always there and zero leaves are left out
where runc leaves them out.
"""
from __future__ import annotations

import os
import re
from typing import Any

from pyrunc.cgroups.common import read_int, read_kv, read_opt

MAX_U64 = 2**64 - 1


def _omit(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Drop the omitempty ``keys`` whose value is zero/empty."""
    return {k: v for k, v in d.items() if k not in keys or v}


def _cpu(total: int, percpu: list[int], kernel: int, user: int, periods: int, thr_periods: int,
         thr_time: int) -> dict[str, Any]:
    usage = _omit({"total": total, "percpu": percpu, "kernel": kernel, "user": user}, "total", "percpu")
    thr = _omit({"periods": periods, "throttled_periods": thr_periods, "throttled_time": thr_time},
                "periods", "throttled_periods", "throttled_time")
    return {"usage": usage, "throttling": thr}


def _mem_entry(limit: int, usage: int, peak: int, failcnt: int) -> dict[str, Any]:
    return _omit({"limit": limit, "usage": usage, "max": peak, "failcnt": failcnt}, "usage", "max")


def _blkio_entries(text: str | None) -> list[dict[str, Any]]:
    """v1 "8:0 Read 4096" lines (the "Total" summary lines are skipped)."""
    out = []
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[0]:
            mj, _, mn = parts[0].partition(":")
            out.append(_omit({"major": int(mj), "minor": int(mn), "op": parts[1], "value": int(parts[2])},
                             "major", "minor", "op", "value"))
        elif len(parts) == 2 and ":" in parts[0]:
            mj, _, mn = parts[0].partition(":")
            out.append(_omit({"major": int(mj), "minor": int(mn), "op": "", "value": int(parts[1])},
                             "major", "minor", "op", "value"))
    return out


def _hugetlb_sizes(p: str, pattern: str) -> list[str]:
    rx = re.compile(pattern)
    try:
        names = os.listdir(p)
    except OSError:
        return []
    return sorted({m.group(1) for n in names for m in [rx.match(n)] if m})


def v1_stats(paths: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    acct, cpu = paths.get("cpuacct"), paths.get("cpu")
    total = read_int(acct, "cpuacct.usage") if acct else 0
    percpu = [int(x) for x in (read_opt(acct, "cpuacct.usage_percpu") or "").split()] if acct else []
    # cpuacct.stat is in USER_HZ ticks; runc reports nanoseconds
    ticks = read_kv(acct, "cpuacct.stat") if acct else {}
    hz = os.sysconf("SC_CLK_TCK") or 100
    st = read_kv(cpu, "cpu.stat") if cpu else {}
    out["cpu"] = _cpu(total, percpu, ticks.get("system", 0) * 10**9 // hz, ticks.get("user", 0) * 10**9 // hz,
                      st.get("nr_periods", 0), st.get("nr_throttled", 0), st.get("throttled_time", 0))
    mem = paths.get("memory")
    if mem:
        raw = read_kv(mem, "memory.stat")

        def entry(prefix: str) -> dict[str, Any]:
            return _mem_entry(read_int(mem, prefix + "limit_in_bytes"), read_int(mem, prefix + "usage_in_bytes"),
                              read_int(mem, prefix + "max_usage_in_bytes"), read_int(mem, prefix + "failcnt"))

        out["memory"] = _omit({
            "cache": raw.get("total_cache", raw.get("cache", 0)),
            "usage": entry("memory."), "swap": entry("memory.memsw."), "kernel": entry("memory.kmem."),
            "kernelTCP": entry("memory.kmem.tcp."), "raw": raw,
        }, "cache", "raw")
    else:
        out["memory"] = {"usage": {"limit": 0, "failcnt": 0}, "swap": {"limit": 0, "failcnt": 0},
                         "kernel": {"limit": 0, "failcnt": 0}, "kernelTCP": {"limit": 0, "failcnt": 0}}
    pids = paths.get("pids")
    out["pids"] = _pids(pids, "pids.current", "pids.max") if pids else {}
    blk = paths.get("blkio")
    bl: dict[str, Any] = {}
    if blk:
        # CFQ's files are gone from current kernels: fall back to BFQ's, then
        # to the throttle layer's (which counts every bio)
        for key, names in (
            ("ioServiceBytesRecursive", ["blkio.io_service_bytes_recursive",
                                         "blkio.bfq.io_service_bytes_recursive",
                                         "blkio.throttle.io_service_bytes_recursive"]),
            ("ioServicedRecursive", ["blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive",
                                     "blkio.throttle.io_serviced_recursive"]),
        ):
            for n in names:
                ents = _blkio_entries(read_opt(blk, n))
                if ents:
                    bl[key] = ents
                    break
    out["blkio"] = bl
    hp = paths.get("hugetlb")
    out["hugetlb"] = {}
    if hp:
        for size in _hugetlb_sizes(hp, r"^hugetlb\.([0-9]+[KMGTPE]?B)\.usage_in_bytes$"):
            pre = f"hugetlb.{size}."
            out["hugetlb"][size] = _omit({
                "usage": read_int(hp, pre + "usage_in_bytes"), "max": read_int(hp, pre + "max_usage_in_bytes"),
                "failcnt": read_int(hp, pre + "failcnt")}, "usage", "max")
    cs = paths.get("cpuset")
    out["cpuset"] = _cpuset(cs, "cpuset.cpus", "cpuset.mems") if cs else {}
    return out


def _pids(p: str, cur: str, mx: str) -> dict[str, Any]:
    limit = read_int(p, mx)
    # "max" is reported as 0 (no limit), as runc does
    return _omit({"current": read_int(p, cur), "limit": 0 if limit == MAX_U64 else limit}, "current", "limit")


def _parse_list(s: str | None) -> list[int]:
    out: list[int] = []
    for part in (s or "").split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def _cpuset(p: str, cpus: str, mems: str) -> dict[str, Any]:
    return _omit({"cpus": _parse_list(read_opt(p, cpus)), "mems": _parse_list(read_opt(p, mems))},
                 "cpus", "mems")


def v2_stats(p: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    st = read_kv(p, "cpu.stat")
    out["cpu"] = _cpu(st.get("usage_usec", 0) * 1000, [], st.get("system_usec", 0) * 1000,
                      st.get("user_usec", 0) * 1000, st.get("nr_periods", 0), st.get("nr_throttled", 0),
                      st.get("throttled_usec", 0) * 1000)
    raw = read_kv(p, "memory.stat")
    events = read_kv(p, "memory.events")
    usage = _mem_entry(read_int(p, "memory.max"), read_int(p, "memory.current"),
                       read_int(p, "memory.peak"), events.get("max", 0))
    swap_limit = read_int(p, "memory.swap.max")
    # v1 reported memory+swap as "swap"; runc keeps that meaning on v2
    swap = _mem_entry(swap_limit if swap_limit == MAX_U64 else swap_limit + usage["limit"],
                      read_int(p, "memory.swap.current") + usage.get("usage", 0), 0,
                      read_kv(p, "memory.swap.events").get("max", 0))
    out["memory"] = _omit({"cache": raw.get("file", 0), "usage": usage, "swap": swap,
                           "kernel": {"limit": 0, "failcnt": 0}, "kernelTCP": {"limit": 0, "failcnt": 0},
                           "raw": raw}, "cache", "raw")
    out["pids"] = _pids(p, "pids.current", "pids.max")
    svc_bytes: list[dict[str, Any]] = []
    svc: list[dict[str, Any]] = []
    for line in (read_opt(p, "io.stat") or "").splitlines():
        parts = line.split()
        if not parts or ":" not in parts[0]:
            continue
        mj, _, mn = parts[0].partition(":")
        kv = dict(x.split("=", 1) for x in parts[1:] if "=" in x)
        for key, op, dest in (("rbytes", "Read", svc_bytes), ("wbytes", "Write", svc_bytes),
                              ("rios", "Read", svc), ("wios", "Write", svc)):
            if key in kv:
                dest.append(_omit({"major": int(mj), "minor": int(mn), "op": op, "value": int(kv[key])},
                                  "major", "minor", "op", "value"))
    out["blkio"] = _omit({"ioServiceBytesRecursive": svc_bytes, "ioServicedRecursive": svc},
                         "ioServiceBytesRecursive", "ioServicedRecursive")
    out["hugetlb"] = {}
    for size in _hugetlb_sizes(p, r"^hugetlb\.([0-9]+[KMGTPE]?B)\.current$"):
        pre = f"hugetlb.{size}."
        out["hugetlb"][size] = _omit({"usage": read_int(p, pre + "current"), "max": 0,
                                      "failcnt": read_kv(p, pre + "events").get("max", 0)}, "usage", "max")
    out["cpuset"] = _cpuset(p, "cpuset.cpus.effective", "cpuset.mems.effective")
    return out
