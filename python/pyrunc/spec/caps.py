"""The capability table (capabilities(7), <linux/capability.h>) and name parsing.

The spec says capabilities that cannot be mapped to the kernel MUST be logged
as a warning and SHOULD NOT fail the container; runc ignores them with
``ignoring unknown or unavailable capabilities: [...]``. :func:`resolve` does
the same: it returns the numbers it can use and the names it dropped.
:func:`parse_caps` is the strict form, for callers that want an error.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from pyrunc.errors import SpecError, field_path

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Optional

_NAMES = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
    "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
    "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
    "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
    "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
    "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)

#: capability name -> number, CAP_CHOWN (0) .. CAP_CHECKPOINT_RESTORE (40)
CAPABILITIES: dict[str, int] = {f"CAP_{n}": i for i, n in enumerate(_NAMES)}
#: number -> name
CAP_NAMES: dict[int, str] = {v: k for k, v in CAPABILITIES.items()}

#: the five sets of process.capabilities, in the order runc applies them
CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")

_CAP_LAST_CAP = "/proc/sys/kernel/cap_last_cap"


@functools.cache
def last_cap(path: str = _CAP_LAST_CAP) -> int:
    """The highest capability number the running kernel knows
    (``/proc/sys/kernel/cap_last_cap``); the table's last one if unreadable."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return max(CAP_NAMES)


def known_caps(last: Optional[int] = None) -> list[str]:
    """The capability names this kernel supports, in number order (``features``)."""
    top = last_cap() if last is None else last
    return [CAP_NAMES[i] for i in sorted(CAP_NAMES) if i <= top]


def parse_caps(names: list[str], field: str, *, last: Optional[int] = None) -> list[int]:
    """Strict: map names to numbers, raising SpecError naming ``field[i]`` for
    a name that is not a capability or that this kernel does not have."""
    top = last_cap() if last is None else last
    out = []
    for i, name in enumerate(names):
        num = CAPABILITIES.get(name)
        if num is None:
            raise SpecError(f"{field}[{i}]", f'unknown capability "{name}"')
        if num > top:
            raise SpecError(f"{field}[{i}]", f'capability "{name}" is not supported by this kernel')
        out.append(num)
    return out


@dataclass
class ResolvedCaps:
    """process.capabilities as numbers, one list per set."""

    bounding: list[int] = field(default_factory=list)
    effective: list[int] = field(default_factory=list)
    inheritable: list[int] = field(default_factory=list)
    permitted: list[int] = field(default_factory=list)
    ambient: list[int] = field(default_factory=list)
    #: names dropped because they are unknown or above cap_last_cap, sorted
    unknown: list[str] = field(default_factory=list)

    def warning(self) -> str:
        """runc's warning text for the dropped names, or "" if none."""
        if not self.unknown:
            return ""
        return "ignoring unknown or unavailable capabilities: [" + " ".join(self.unknown) + "]"


def resolve(capabilities: object, *, last: Optional[int] = None) -> ResolvedCaps:
    """Lenient: map a ``Capabilities`` model (or None) to numbers, dropping
    and recording names the kernel cannot use (runc's behaviour)."""
    top = last_cap() if last is None else last
    res = ResolvedCaps()
    unknown: set[str] = set()
    if capabilities is None:
        return res
    for s in CAP_SETS:
        nums = getattr(res, s)
        for name in getattr(capabilities, s):
            num = CAPABILITIES.get(name)
            if num is None or num > top:
                unknown.add(name)
            elif num not in nums:
                nums.append(num)
    res.unknown = sorted(unknown)
    return res


def unknown_cap_fields(capabilities: object, prefix: str = "process.capabilities",
                       *, last: Optional[int] = None) -> list[tuple[str, str]]:
    """(field path, name) of every capability entry :func:`resolve` would drop."""
    top = last_cap() if last is None else last
    out: list[tuple[str, str]] = []
    if capabilities is None:
        return out
    for s in CAP_SETS:
        for i, name in enumerate(getattr(capabilities, s)):
            num = CAPABILITIES.get(name)
            if num is None or num > top:
                out.append((field_path(*prefix.split("."), s, i), name))
    return out
