"""Signal names for ``pyrunc kill`` (runc's parseSignal rules).

A number is taken as is; otherwise the name is upper-cased and given a
``SIG`` prefix when it has none, then looked up in the Linux signal table
(the names Go's golang.org/x/sys/unix knows, plus SIGIOT/SIGPOLL/SIGCLD
aliases). Real-time signals are accepted as ``SIGRTMIN``, ``SIGRTMIN+N``,
``SIGRTMAX`` and ``SIGRTMAX-N`` (an addition: runc only takes their numbers).
"""
from __future__ import annotations

import re
import signal as _signal

from pyrunc.errors import PyruncError

__all__ = ["SIGNALS", "parse_signal", "signal_name"]

# Linux numbering (x86, arm, most architectures; not alpha/mips/sparc).
SIGNALS: dict[str, int] = {
    "SIGHUP": 1,
    "SIGINT": 2,
    "SIGQUIT": 3,
    "SIGILL": 4,
    "SIGTRAP": 5,
    "SIGABRT": 6,
    "SIGIOT": 6,
    "SIGBUS": 7,
    "SIGFPE": 8,
    "SIGKILL": 9,
    "SIGUSR1": 10,
    "SIGSEGV": 11,
    "SIGUSR2": 12,
    "SIGPIPE": 13,
    "SIGALRM": 14,
    "SIGTERM": 15,
    "SIGSTKFLT": 16,
    "SIGCHLD": 17,
    "SIGCLD": 17,
    "SIGCONT": 18,
    "SIGSTOP": 19,
    "SIGTSTP": 20,
    "SIGTTIN": 21,
    "SIGTTOU": 22,
    "SIGURG": 23,
    "SIGXCPU": 24,
    "SIGXFSZ": 25,
    "SIGVTALRM": 26,
    "SIGPROF": 27,
    "SIGWINCH": 28,
    "SIGIO": 29,
    "SIGPOLL": 29,
    "SIGPWR": 30,
    "SIGSYS": 31,
}

_ALIASES = {"SIGIOT", "SIGCLD", "SIGPOLL"}
_NUM = re.compile(r"^[+-]?[0-9]+$", re.ASCII)  # strconv.Atoi: no spaces, no "_"
_RT = re.compile(r"^SIGRT(MIN|MAX)(?:([+-])(\d+))?$")


def _rt_range() -> tuple[int, int]:
    # glibc reserves the first two kernel RT signals for itself; the
    # container's libc may not, but SIGRTMIN means what it means on the host.
    lo = int(getattr(_signal, "SIGRTMIN", 34))
    hi = int(getattr(_signal, "SIGRTMAX", 64))
    return lo, hi


def parse_signal(raw: str) -> int:
    """``"9"``, ``"KILL"``, ``"sigkill"``, ``"SIGRTMIN+3"`` -> signal number."""
    if _NUM.match(raw):
        return int(raw, 10)
    name = raw.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    if name in SIGNALS:
        return SIGNALS[name]
    m = _RT.match(name)
    if m:
        lo, hi = _rt_range()
        base = lo if m.group(1) == "MIN" else hi
        off = int(m.group(3) or 0)
        if m.group(2) == "-":
            off = -off
        num = base + off
        if lo <= num <= hi:
            return num
    raise PyruncError(f'unknown signal "{raw}"')


def signal_name(num: int) -> str:
    """The canonical name of a signal number (``SIGRTMIN+N`` for RT signals)."""
    for name, n in SIGNALS.items():
        if n == num and name not in _ALIASES:
            return name
    lo, hi = _rt_range()
    if lo <= num <= hi:
        return "SIGRTMIN" if num == lo else f"SIGRTMIN+{num - lo}"
    return str(num)
