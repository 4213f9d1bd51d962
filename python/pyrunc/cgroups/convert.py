"""v1-style linux.resources values -> cgroup v2 file values, as runc 1.2 converts them.

The spec's resources are written in v1 terms (cpu shares, blkio weight,
memory+swap); on a v2 host runc converts them with these formulas, so a
container gets the same relative weights under either runtime.
"""
from __future__ import annotations

import re

MAX_U64 = 2**64 - 1


def cpu_shares_to_weight(shares: int) -> int:
    """cpu.shares [2, 262144] -> cpu.weight [1, 10000], linearly (runc 1.2's
    formula; runc 1.3 later moved to a curve that maps 1024 to 100). 0 = unset."""
    if not shares:
        return 0
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_weight_to_io_weight(weight: int) -> int:
    """blkio.weight [10, 1000] -> io.weight [1, 10000]. 0 = unset."""
    if not weight:
        return 0
    return 1 + ((weight - 10) * 9999) // 990


def memory_swap_to_v2(swap: int | None, memory: int | None) -> int | None:
    """v1 memsw (memory+swap) -> v2 memory.swap.max (swap only).

    None/0 = leave unset, -1 = "max". Raises ValueError with runc's reasons.
    """
    swap = swap or 0
    memory = memory or 0
    # memory unlimited and swap unset: both unlimited, as v1 would behave.
    if memory == -1 and swap == 0:
        return -1
    if swap in (-1, 0):
        return swap or None
    if memory in (0, -1):
        raise ValueError("unable to set swap limit without memory limit")
    if memory < 0:
        raise ValueError(f"invalid memory value: {memory}")
    if swap < memory:
        raise ValueError("memory+swap limit should be >= memory limit")
    return swap - memory


def num_to_v2(v: int | None) -> str:
    """A spec limit -> a v2 file value: negative is "max"."""
    if v is None:
        return ""
    return "max" if v < 0 else str(v)


def cpu_max(quota: int | None, period: int | None, current: str = "") -> str | None:
    """quota/period -> cpu.max "QUOTA [PERIOD]" (a negative quota is "max").

    With only the period given, runc 1.2 writes "max PERIOD", dropping a quota
    set before; we keep the current quota instead (``current`` is cpu.max's
    content), which is what `runc update --cpu-period` users expect.
    Returns None when neither is set.
    """
    if not quota and not period:
        return None
    if quota:
        q = "max" if quota < 0 else str(quota)
    else:
        q = current.split()[0] if current.split() else "max"
    return f"{q} {period}" if period else q


_PAGESIZE = re.compile(r"^([0-9]+)([KMGTPE]?)B$")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}


def pagesize_bytes(page: str) -> int:
    """"2MB" -> 2097152 (base 1024, as the spec says). ValueError if malformed."""
    m = _PAGESIZE.match(page)
    if not m:
        raise ValueError(f"invalid hugepage size {page!r}")
    return int(m.group(1)) * _UNITS[m.group(2)]


def kb_dir_to_pagesize(name: str) -> str:
    """/sys/kernel/mm/hugepages/hugepages-2048kB -> "2MB" (the cgroup file name form)."""
    kb = int(name.split("-", 1)[1].rstrip("kB"))
    size = kb * 1024
    for unit in ("E", "P", "T", "G", "M", "K"):
        if size >= _UNITS[unit] and size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}B"
    return f"{size}B"
