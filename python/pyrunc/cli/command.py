"""The click command class every runc command uses, and its flag decorators.

click declares the flags (so ``--help`` and introspection work as usual), but
``RuncCommand.parse_args`` parses with runc's rules (:mod:`goflag`), checks
the positional count with runc's messages, and prints urfave/cli-style help.
A usage error prints ``Incorrect Usage...`` and the help on stdout, then
raises UsageError, which ``main`` logs and turns into exit code 1.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Callable

import click

from pyrunc.cli.context import PROG, GlobalOptions
from pyrunc.cli.goflag import FlagError, FlagSpec, parse
from pyrunc.errors import UsageError

__all__ = ["RuncCommand", "RuncOption", "command", "flag", "format_flag_table", "option"]

_HELP_SPEC = FlagSpec(names=["help", "h"], kind="bool", dest="__help__", help="show help")


class RuncOption(click.Option):
    """A click option that also knows its Go flag kind (bool, string, int,
    uint, slice, duration) and how runc shows its default."""

    def __init__(self, *args: Any, go_kind: str = "string", shown_default: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.go_kind = go_kind
        self.shown_default = shown_default

    def flag_spec(self) -> FlagSpec:
        names = [o.lstrip("-") for o in self.opts]
        # urfave lists the long name first.
        names.sort(key=lambda n: -len(n))
        return FlagSpec(
            names=names, kind=self.go_kind, dest=str(self.name), help=self.help or "", hidden=self.hidden
        )


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
        elif kind == "string" and default:
            shown_default = f'"{default}"'
        else:
            shown_default = ""
    kwargs: dict = {"cls": RuncOption, "go_kind": kind, "help": help, "hidden": hidden, "shown_default": shown_default}
    if kind in ("slice", "intslice"):
        kwargs.update(multiple=True, default=())
    else:
        kwargs.update(default=default)
    return click.option(*names, **kwargs)


def flag(*names: str, help: str = "", hidden: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A runc bool flag (``--flag``, ``--flag=false``)."""
    return click.option(
        *names, cls=RuncOption, go_kind="bool", is_flag=True, default=False, help=help, hidden=hidden
    )


def format_flag_table(specs: Sequence[tuple[str, str]], indent: str = "   ") -> str:
    """Two columns the way Go's tabwriter (padding 2) lays them out."""
    if not specs:
        return ""
    width = max(len(left) for left, _ in specs) + 2
    return "".join(f"{indent}{left:<{width}}{right}".rstrip(" ") + "\n" for left, right in specs)


def _flag_left(opt: RuncOption) -> str:
    spec = opt.flag_spec()
    value = "" if spec.kind == "bool" else " value"
    return ", ".join(("--" if len(n) > 1 else "-") + n + value for n in spec.names)


class RuncCommand(click.Command):
    """A runc command: Go flag rules, runc's argument checks and help layout."""

    def __init__(
        self,
        *args: Any,
        nargs: tuple[int, int | None] = (0, 0),
        args_usage: str = "",
        description: str = "",
        reorder: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("add_help_option", False)
        kwargs.setdefault("context_settings", {"ignore_unknown_options": True})
        super().__init__(*args, **kwargs)
        self.nargs = nargs
        self.args_usage = args_usage
        self.description = description
        self.reorder = reorder

    # -- parsing -------------------------------------------------------------

    def runc_options(self) -> list[RuncOption]:
        return [p for p in self.params if isinstance(p, RuncOption)]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        specs = [o.flag_spec() for o in self.runc_options()] + [_HELP_SPEC]
        try:
            values, positional = parse(specs, args, reorder_args=self.reorder)
        except FlagError as e:
            self._usage_error(ctx, f"Incorrect Usage: {e}")
            raise UsageError(str(e)) from None
        if values.pop("__help__", False):
            click.echo(self.runc_help(ctx), nl=False)
            ctx.exit(0)
        for opt in self.runc_options():
            if opt.name in values:
                value = values[opt.name]
                ctx.params[str(opt.name)] = tuple(value) if opt.multiple else value
            else:
                ctx.params[str(opt.name)] = opt.get_default(ctx, call=True)
        ctx.meta["pyrunc.given"] = set(values)
        self.check_args(ctx, positional)
        ctx.params["args"] = positional
        return []

    def check_args(self, ctx: click.Context, positional: list[str]) -> None:
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
            self._usage_error(ctx, "Incorrect Usage.")
            raise UsageError(f'{PROG}: "{self.name}" {msg}')

    def _usage_error(self, ctx: click.Context, first_line: str) -> None:
        # urfave/cli prints these on stdout, before runc logs the error.
        sys.stdout.write(f"{first_line}\n\n{self.runc_help(ctx)}")
        sys.stdout.flush()

    def invoke(self, ctx: click.Context) -> Any:
        opts = ctx.find_object(GlobalOptions) or GlobalOptions()
        assert self.callback is not None
        return ctx.invoke(self.callback, opts, **ctx.params)

    # -- help ----------------------------------------------------------------

    def runc_help(self, ctx: click.Context | None = None) -> str:
        visible = [o for o in self.runc_options() if not o.hidden]
        usage = f"{PROG} {self.name}"
        if visible:
            usage += " [command options]"
        usage += " " + (self.args_usage or "[arguments...]")
        out = f"NAME:\n   {PROG} {self.name} - {self.short_help or self.help or ''}\n\nUSAGE:\n   {usage}\n"
        if self.description:
            out += f"\nDESCRIPTION:\n   {self.description}\n"
        if visible:
            rows = []
            for o in visible:
                right = o.help or ""
                if o.shown_default:
                    right += f" (default: {o.shown_default})"
                rows.append((_flag_left(o), right))
            out += "\nOPTIONS:\n" + format_flag_table(rows)
        return out

    def get_help(self, ctx: click.Context) -> str:
        return self.runc_help(ctx).rstrip("\n")


def command(
    name: str,
    help: str,
    *,
    nargs: tuple[int, int | None] = (1, 1),
    args_usage: str = "<container-id>",
    description: str = "",
    reorder: bool = True,
) -> Callable[[Callable[..., Any]], RuncCommand]:
    """Declare a runc command; the callback gets ``(opts, args=[...], **flags)``."""

    def deco(f: Callable[..., Any]) -> RuncCommand:
        cmd = click.command(
            name,
            cls=RuncCommand,
            help=help,
            short_help=help,
            nargs=nargs,
            args_usage=args_usage,
            description=description,
            reorder=reorder,
        )(f)
        return cmd  # type: ignore[return-value]

    return deco
