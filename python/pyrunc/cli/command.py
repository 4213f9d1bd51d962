"""How a runc command and its flags are declared, parsed and described.

``@command``, ``@option`` and ``@flag`` record a :class:`Command`: its flags
(Go flag rules, :mod:`goflag`), runc's positional-count checks and its
urfave/cli-style help. Engines run pyrunc several times per container, so
running a command needs nothing more: :mod:`pyrunc.cli.main` parses and calls
it without importing click. click is the framework for everything else: help,
usage errors, ``help <topic>`` and programmatic use go through the click
command each :class:`Command` builds on first use (``cmd.click_command``, made
in :mod:`pyrunc.cli.clickcmd`); ``cmd.params``, ``cmd.make_context`` and the
other click attributes are read from it.
"""
from __future__ import annotations

from pyrunc.cli.context import PROG
from pyrunc.cli.goflag import FlagSpec, parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, Callable

# RuncCommand and RuncOption (click classes) are here too, loaded on first use.
__all__ = [
    "Command",
    "Flag",
    "UsageProblem",
    "command",
    "flag",
    "format_flag_table",
    "given_flags",
    "option",
]

_HELP_SPEC = FlagSpec(names=["help", "h"], kind="bool", dest="__help__", help="show help")
# The flags given on the command line of the command being run.
_given: set[str] = set()


def given_flags() -> set[str]:
    """The names of the flags the running command was given (runc's IsSet)."""
    return set(_given)


def set_given(given: set[str]) -> None:
    global _given
    _given = set(given)


class UsageProblem(Exception):
    """A bad command line: ``first_line`` heads the help urfave/cli prints, and
    ``error`` is what runc then logs."""

    def __init__(self, first_line: str, error: str) -> None:
        super().__init__(error)
        self.first_line = first_line
        self.error = error


class Flag:
    """One declared flag: click-style names (``"--bundle", "-b"``), its Go kind
    (bool, string, int, uint, slice, intslice, duration), default and help."""

    __slots__ = ("default", "help", "hidden", "kind", "name", "opts", "shown_default")

    def __init__(
        self, opts: Sequence[str], kind: str, default: Any, help: str, hidden: bool, shown_default: str
    ) -> None:
        self.opts = tuple(opts)
        self.kind = kind
        self.default = default
        self.help = help
        self.hidden = hidden
        self.shown_default = shown_default
        # click's parameter name: the first long name, snake_cased.
        long = [o for o in self.opts if o.startswith("--")] or list(self.opts)
        self.name = long[0].lstrip("-").replace("-", "_").lower()

    @property
    def multiple(self) -> bool:
        return self.kind in ("slice", "intslice")

    def flag_spec(self) -> FlagSpec:
        names = [o.lstrip("-") for o in self.opts]
        # urfave lists the long name first.
        names.sort(key=lambda n: -len(n))
        return FlagSpec(names=names, kind=self.kind, dest=self.name, help=self.help, hidden=self.hidden)

    def default_value(self) -> Any:
        """What the callback gets when the flag is not given (as click's default)."""
        if self.multiple:
            return ()
        return self.default() if callable(self.default) else self.default

    def left(self) -> str:
        """The flag column of the help: ``--bundle value, -b value``."""
        spec = self.flag_spec()
        value = "" if spec.kind == "bool" else " value"
        return ", ".join(("--" if len(n) > 1 else "-") + n + value for n in spec.names)


def _add_flag(f: Callable[..., Any], fl: Flag) -> Callable[..., Any]:
    # Decorators run bottom-up: the list is reversed when the command is made.
    flags = f.__dict__.setdefault("__pyrunc_flags__", [])
    flags.append(fl)
    return f


def option(
    *names: str,
    kind: str = "string",
    default: Any = None,
    help: str = "",
    hidden: bool = False,
    shown_default: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A runc flag taking a value. ``kind``: string, int, uint, slice, duration."""
    if default is None:
        default = {"string": "", "int": 0, "uint": 0, "duration": 0.0}.get(kind)
    if shown_default is None:
        if kind in ("int", "uint"):
            shown_default = str(default)
        elif kind == "string" and default and not callable(default):
            shown_default = f'"{default}"'
        else:
            shown_default = ""
    fl = Flag(names, kind, default, help, hidden, shown_default)
    return lambda f: _add_flag(f, fl)


def flag(*names: str, help: str = "", hidden: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A runc bool flag (``--flag``, ``--flag=false``)."""
    fl = Flag(names, "bool", False, help, hidden, "")
    return lambda f: _add_flag(f, fl)


def format_flag_table(specs: Sequence[tuple[str, str]], indent: str = "   ") -> str:
    """Two columns the way Go's tabwriter (padding 2) lays them out."""
    if not specs:
        return ""
    width = max(len(left) for left, _ in specs) + 2
    return "".join(f"{indent}{left:<{width}}{right}".rstrip(" ") + "\n" for left, right in specs)


class Command:
    """A runc command: its flags, positional-count rule, help texts and the
    callback ``(opts, args=[...], **flags)``."""

    def __init__(
        self,
        name: str,
        callback: Callable[..., Any],
        *,
        help: str = "",
        nargs: tuple[int, int | None] = (1, 1),
        args_usage: str = "",
        description: str = "",
        reorder: bool = True,
    ) -> None:
        self.name = name
        self.callback = callback
        self.help = help
        self.short_help = help
        self.nargs = nargs
        self.args_usage = args_usage
        self.description = description
        self.reorder = reorder
        self.flags: list[Flag] = list(reversed(callback.__dict__.get("__pyrunc_flags__", [])))
        self._click: Any = None

    # -- running -------------------------------------------------------------

    def parse(self, args: Sequence[str]) -> tuple[dict[str, Any], set[str], list[str]] | None:
        """(the callback's flag values, the names given, positionals), or None
        when help was asked for; raises UsageProblem."""
        from pyrunc.cli.goflag import FlagError

        specs = [f.flag_spec() for f in self.flags] + [_HELP_SPEC]
        try:
            values, positional = parse(specs, args, reorder_args=self.reorder)
        except FlagError as e:
            raise UsageProblem(f"Incorrect Usage: {e}", str(e)) from None
        if values.pop("__help__", False):
            return None
        params: dict[str, Any] = {}
        for f in self.flags:
            if f.name in values:
                value = values[f.name]
                params[f.name] = tuple(value) if f.multiple else value
            else:
                params[f.name] = f.default_value()
        self.check_args(positional)
        return params, set(values), positional

    def check_args(self, positional: Sequence[str]) -> None:
        lo, hi = self.nargs
        n = len(positional)
        msg = ""
        if lo == hi and n != lo:
            msg = f"requires exactly {lo} argument(s)"
        elif n < lo:
            msg = f"requires a minimum of {lo} argument(s)"
        elif hi is not None and n > hi:
            msg = f"requires a maximum of {hi} argument(s)"
        if msg:
            raise UsageProblem("Incorrect Usage.", f'{PROG}: "{self.name}" {msg}')

    def run(self, opts: Any, params: dict[str, Any], given: set[str], positional: list[str]) -> Any:
        set_given(given)
        return self.callback(opts, args=positional, **params)

    # -- help ----------------------------------------------------------------

    def runc_help(self, ctx: Any = None) -> str:
        visible = [f for f in self.flags if not f.hidden]
        usage = f"{PROG} {self.name}"
        if visible:
            usage += " [command options]"
        usage += " " + (self.args_usage or "[arguments...]")
        out = f"NAME:\n   {PROG} {self.name} - {self.short_help or self.help or ''}\n\nUSAGE:\n   {usage}\n"
        if self.description:
            out += f"\nDESCRIPTION:\n   {self.description}\n"
        if visible:
            rows = []
            for f in visible:
                right = f.help or ""
                if f.shown_default:
                    right += f" (default: {f.shown_default})"
                rows.append((f.left(), right))
            out += "\nOPTIONS:\n" + format_flag_table(rows)
        return out

    # -- click ---------------------------------------------------------------

    @property
    def click_command(self) -> Any:
        """The click command (a clickcmd.RuncCommand), made on first use."""
        if self._click is None:
            from pyrunc.cli.clickcmd import to_click

            self._click = to_click(self)
        return self._click

    def __getattr__(self, name: str) -> Any:
        # params, make_context, main ...: the click command's.
        if name.startswith("__") or name == "_click":
            raise AttributeError(name)
        return getattr(self.click_command, name)


def command(
    name: str,
    help: str,
    *,
    nargs: tuple[int, int | None] = (1, 1),
    args_usage: str = "<container-id>",
    description: str = "",
    reorder: bool = True,
) -> Callable[[Callable[..., Any]], Command]:
    """Declare a runc command; the callback gets ``(opts, args=[...], **flags)``."""

    def deco(f: Callable[..., Any]) -> Command:
        return Command(
            name, f, help=help, nargs=nargs, args_usage=args_usage, description=description, reorder=reorder
        )

    return deco


def __getattr__(name: str) -> Any:
    # The click classes load with click, only when something asks for them.
    if name in ("RuncCommand", "RuncOption"):
        from pyrunc.cli import clickcmd

        return getattr(clickcmd, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
