"""The click side of the CLI: each :class:`~pyrunc.cli.command.Command` as a
click command, the lazy root group with runc's global flags, help and usage.

Imported only when click is needed: ``--help``, ``help <topic>``, usage
errors, unknown commands, and programmatic use (``pyrunc.cli.main.cli``). A
well-formed command line runs without it (:func:`pyrunc.cli.main.run_cli`).
Both paths share the parsing in :mod:`command` and :mod:`main`.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from pyrunc.cli.command import Command, Flag, UsageProblem, set_given
from pyrunc.cli.context import GlobalOptions
from pyrunc.cli.goflag import FlagError, FlagSpec
from pyrunc.cli.lazy import SHORT_HELP
from pyrunc.errors import UsageError

__all__ = ["LazyGroup", "RootGroup", "RuncCommand", "RuncOption", "root_group", "to_click"]


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


def to_option(f: Flag) -> RuncOption:
    kwargs: dict[str, Any] = {"go_kind": f.kind, "help": f.help, "hidden": f.hidden, "shown_default": f.shown_default}
    if f.kind == "bool":
        kwargs.update(is_flag=True, default=False)
    elif f.multiple:
        kwargs.update(multiple=True, default=())
    else:
        kwargs.update(default=f.default)
    return RuncOption(list(f.opts), **kwargs)


class RuncCommand(click.Command):
    """A :class:`Command` under click: Go flag rules, runc's argument checks
    and help layout. A usage error prints ``Incorrect Usage...`` and the help
    on stdout, then raises UsageError, which ``main`` logs (exit code 1)."""

    def __init__(self, decl: Command) -> None:
        super().__init__(
            decl.name,
            callback=decl.callback,
            params=[to_option(f) for f in decl.flags],
            help=decl.help,
            short_help=decl.short_help,
            add_help_option=False,
            context_settings={"ignore_unknown_options": True},
        )
        self.decl = decl
        self.nargs = decl.nargs
        self.args_usage = decl.args_usage
        self.description = decl.description
        self.reorder = decl.reorder

    def runc_options(self) -> list[RuncOption]:
        return [p for p in self.params if isinstance(p, RuncOption)]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            parsed = self.decl.parse(args)
        except UsageProblem as p:
            # urfave/cli prints these on stdout, before runc logs the error.
            sys.stdout.write(f"{p.first_line}\n\n{self.runc_help(ctx)}")
            sys.stdout.flush()
            raise UsageError(p.error) from None
        if parsed is None:
            click.echo(self.runc_help(ctx), nl=False)
            ctx.exit(0)
        params, given, positional = parsed
        ctx.params.update(params)
        ctx.meta["pyrunc.given"] = given
        ctx.params["args"] = positional
        return []

    def invoke(self, ctx: click.Context) -> Any:
        opts = ctx.find_object(GlobalOptions) or GlobalOptions()
        assert self.callback is not None
        set_given(ctx.meta.get("pyrunc.given", set()))
        return ctx.invoke(self.callback, opts, **ctx.params)

    def runc_help(self, ctx: click.Context | None = None) -> str:
        return self.decl.runc_help(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.runc_help(ctx).rstrip("\n")


def to_click(decl: Command) -> RuncCommand:
    return RuncCommand(decl)


class LazyGroup(click.Group):
    """Commands are the modules named in SHORT_HELP, loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SHORT_HELP)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SHORT_HELP:
            return None
        module = importlib.import_module(f"pyrunc.cli.{cmd_name}")
        cmd = module.cli
        if isinstance(cmd, Command):
            return cmd.click_command  # type: ignore[no-any-return]
        assert isinstance(cmd, click.Command)
        return cmd


class RootGroup(LazyGroup):
    """Global flags parsed with Go's rules (they stop at the command name)."""

    def runc_options(self) -> list[RuncOption]:
        return [p for p in self.params if isinstance(p, RuncOption)]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from pyrunc.cli import main

        try:
            values, rest = main.parse_globals(args)
        except FlagError as e:
            sys.stdout.write(f"Incorrect Usage. {e}\n\n{main.root_help()}")
            raise UsageError(str(e)) from None
        if values.pop("__help__", False) or (not rest and not values.get("__version__")):
            click.echo(main.root_help(), nl=False)
            ctx.exit(0)
        if values.pop("__version__", False):
            click.echo(main.version_text(), nl=False)
            ctx.exit(0)
        # Logging is set up before the command is looked up, so even an
        # unknown command's error lands in --log (as with runc).
        main.configure_log(values)
        if rest[0] in ("help", "h"):
            self.show_help_topic(ctx, rest[1:])
        # click resolves the command from what is left; "--" keeps it from
        # reading a dash-led command name as one of its options.
        super().parse_args(ctx, ["--", *rest])
        ctx.params.update(main.global_params(values))
        ctx.meta["pyrunc.set"] = set(values)
        return ctx.args

    def show_help_topic(self, ctx: click.Context, topic: Sequence[str]) -> NoReturn:
        from pyrunc.cli import main

        if not topic:
            click.echo(main.root_help(), nl=False)
            ctx.exit(0)
        cmd = self.get_command(ctx, topic[0])
        if cmd is None:
            main.no_topic(topic[0])
        assert isinstance(cmd, RuncCommand)
        click.echo(cmd.runc_help(), nl=False)
        ctx.exit(0)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        from pyrunc.cli import main

        name = args[0]
        cmd = self.get_command(ctx, name)
        if cmd is None:
            main.no_topic(name)
        return name, cmd, args[1:]

    def root_help(self) -> str:
        from pyrunc.cli import main

        return main.root_help()

    def get_help(self, ctx: click.Context) -> str:
        return self.root_help().rstrip("\n")


@click.pass_context
def _root_callback(ctx: click.Context, **params: Any) -> None:
    """Open Container Initiative runtime."""
    from pyrunc.cli import main

    ctx.obj = main.global_options(params, ctx.meta.get("pyrunc.set", set()))


_root: RootGroup | None = None


def root_group() -> RootGroup:
    """The root click group (``pyrunc.cli.main.cli``), made once."""
    global _root
    if _root is None:
        from pyrunc.cli import main

        _root = RootGroup(
            "cli",
            callback=_root_callback,
            params=[to_option(f) for f in main.GLOBAL_FLAGS],
            help="Open Container Initiative runtime.",
            add_help_option=False,
            context_settings={"ignore_unknown_options": True},
        )
    return _root


def click_main(args: Sequence[str], prog: str) -> Any:
    """Run ``args`` through click; click's own exceptions become exit codes
    (runc's 1 for usage errors, not click's 2)."""
    from pyrunc.cli import main

    try:
        return root_group().main(args=list(args), prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        main.report(e.format_message())
        return 1
    except click.exceptions.Abort:
        return 1
