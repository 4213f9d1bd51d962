"""runc's argument parsing rules (Go's ``flag`` package under urfave/cli v1).

Engines build runc command lines that rely on these rules, so they are
reproduced rather than approximated with click's parser:

- ``-name`` and ``--name`` are the same flag, for long and short names alike;
  a value is given as ``-name=v`` or ``-name v``; short flags never combine
  (``-dt`` is an unknown flag).
- bool flags take a value only with ``=``: ``--detach=false``; any value Go's
  ``strconv.ParseBool`` accepts (1, t, T, TRUE, true, True, 0, f, ...).
- parsing stops at the first argument that is not a flag, at ``-`` and after
  ``--`` (which is consumed).
- before parsing, urfave/cli moves every known flag found after the
  positional arguments to the front (``reorder``), together with the argument
  that follows it when that one is not a flag itself, even for bool flags;
  a ``--`` moves to the front of the remaining arguments. So
  ``runc kill ID --all KILL`` reads KILL as the container id, like runc.
  ``exec`` and ``ps`` skip the reordering: what follows the id is the
  payload's command line.
- values are never split on commas (string-slice flags repeat instead).
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, dataclasses and re cost more than a command's whole run
    from collections.abc import Sequence
    from typing import Any

__all__ = ["FlagError", "FlagSpec", "parse", "parse_bool", "parse_duration", "parse_int", "reorder"]


class FlagError(Exception):
    """A Go flag-parsing error; the message is Go's wording."""


class FlagSpec:
    """One flag: ``names`` without dashes (``["bundle", "b"]``); ``kind`` is
    bool, string, int, uint, slice, intslice or duration; ``dest`` the parameter name."""

    __slots__ = ("default", "dest", "extra", "help", "hidden", "kind", "metavar", "names")

    def __init__(
        self,
        names: list[str],
        kind: str,
        dest: str,
        default: Any = None,
        help: str = "",
        hidden: bool = False,
        metavar: str = "value",
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.names = names
        self.kind = kind
        self.dest = dest
        self.default = default
        self.help = help
        self.hidden = hidden
        self.metavar = metavar
        self.extra = {} if extra is None else extra

    def __repr__(self) -> str:
        return f"FlagSpec(names={self.names!r}, kind={self.kind!r}, dest={self.dest!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FlagSpec):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces


_BOOL_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_BOOL_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bool(s: str) -> bool:
    if s in _BOOL_TRUE:
        return True
    if s in _BOOL_FALSE:
        return False
    raise ValueError("parse error")


_INT_RE = r"^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]*|[1-9][0-9_]*)$"


def parse_int(s: str, *, unsigned: bool = False, bits: int = 64) -> int:
    """strconv.ParseInt/ParseUint with base 0, as Go's flag package uses."""
    import re  # only int flags need it (re caches the compiled pattern)

    if not re.match(_INT_RE, s) or (unsigned and s[0] in "+-") or "__" in s or s.endswith("_"):
        raise ValueError("parse error")
    sign = -1 if s[0] == "-" else 1
    body = s.lstrip("+-").replace("_", "")
    if len(body) > 1 and body[0] == "0" and body[1] in "0123456789_":
        body = "0o" + body[1:]  # Go's base-0 leading-zero octal
    value = sign * int(body, 0)
    lo, hi = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not lo <= value <= hi:
        raise ValueError("value out of range")
    return value


_DUR_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DUR_RE = r"([0-9]*\.?[0-9]*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)"


def parse_duration(s: str) -> float:
    """Go's time.ParseDuration, in seconds (``5s``, ``1m30s``, ``250ms``)."""
    import re

    dur_re = re.compile(_DUR_RE)
    orig = s
    sign = 1.0
    if s and s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {_q(orig)}")
    total = 0.0
    pos = 0
    while pos < len(s):
        m = dur_re.match(s, pos)
        if not m or m.group(1) in ("", "."):
            if not m and re.match(r"[0-9.]+$", s[pos:]):
                raise ValueError(f"time: missing unit in duration {_q(orig)}")
            raise ValueError(f"time: invalid duration {_q(orig)}")
        total += float(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def _q(s: str) -> str:
    from pyrunc.log import go_quote

    return go_quote(s)


def _flag_name(arg: str) -> str | None:
    """The name urfave's argIsFlag would look up, or None if ``arg`` cannot be a flag."""
    if arg in ("-", "--") or not arg.startswith("-"):
        return None
    name = arg[2:] if arg.startswith("--") else arg[1:]
    return name.split("=", 1)[0]


def reorder(specs: Sequence[FlagSpec], args: Sequence[str]) -> list[str]:
    """urfave/cli v1's reorderArgs: known flags (and a following non-flag
    argument) go first, the rest keep their order, ``--`` heads the rest."""
    known = {n for s in specs for n in s.names}

    def is_flag(a: str) -> bool:
        return _flag_name(a) in known

    moved: list[str] = []
    rest: list[str] = []
    expect_value = False
    for i, arg in enumerate(args):
        if expect_value and not is_flag(arg):
            expect_value = False
            moved.append(arg)
        elif arg == "--":
            rest = ["--"] + rest + list(args[i + 1 :])
            break
        elif is_flag(arg):
            moved.append(arg)
            expect_value = "=" not in arg
        else:
            rest.append(arg)
    return moved + rest


def _convert(spec: FlagSpec, name: str, value: str) -> Any:
    try:
        if spec.kind in ("int", "uint", "intslice"):
            return parse_int(value, unsigned=spec.kind == "uint")
        if spec.kind == "duration":
            return parse_duration(value)
    except ValueError as e:
        raise FlagError(f"invalid value {_q(value)} for flag -{name}: {e}") from None
    return value


def parse(
    specs: Sequence[FlagSpec], args: Sequence[str], *, reorder_args: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """Parse ``args``; returns ({dest: value} for the flags given, positionals).
    Slice flags accumulate into lists. Raises FlagError with Go's messages."""
    by_name = {n: s for s in specs for n in s.names}
    todo = reorder(specs, args) if reorder_args else list(args)
    values: dict[str, Any] = {}
    i = 0
    while i < len(todo):
        s = todo[i]
        if len(s) < 2 or s[0] != "-":
            break
        dashes = 2 if s[1] == "-" else 1
        if s == "--":
            i += 1
            break
        name = s[dashes:]
        if not name or name[0] in "-=":
            raise FlagError(f"bad flag syntax: {s}")
        i += 1
        has_value = "=" in name
        value = ""
        if has_value:
            name, value = name.split("=", 1)
        spec = by_name.get(name)
        if spec is None:
            raise FlagError(f"flag provided but not defined: -{name}")
        if spec.kind == "bool":
            if has_value:
                try:
                    values[spec.dest] = parse_bool(value)
                except ValueError as e:
                    raise FlagError(f"invalid boolean value {_q(value)} for -{name}: {e}") from None
            else:
                values[spec.dest] = True
            continue
        if not has_value:
            if i >= len(todo):
                raise FlagError(f"flag needs an argument: -{name}")
            value = todo[i]
            i += 1
        converted = _convert(spec, name, value)
        if spec.kind in ("slice", "intslice"):
            values.setdefault(spec.dest, []).append(converted)
        else:
            values[spec.dest] = converted
    return values, list(todo[i:])
