"""The ``pyrunc`` root command: runc's global flags, dispatch, and the single
place where exceptions become one log line and an exit code.

Exit codes follow runc: 0 on success, 1 for any error (usage errors too, not
click's 2), 3 for an unknown command (urfave/cli's "No help topic"), and
whatever a command returns (``run`` and ``exec`` return the payload's status;
``exec`` failures are 255).
"""
from __future__ import annotations

import os
import stat
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

import pyrunc
from pyrunc import log
from pyrunc.cli.command import RuncCommand, RuncOption, flag, format_flag_table, option
from pyrunc.cli.context import PROG, GlobalOptions, default_root, parse_rootless
from pyrunc.cli.goflag import FlagError, FlagSpec, parse
from pyrunc.cli.lazy import SHORT_HELP, LazyGroup
from pyrunc.errors import PyruncError, UsageError

__all__ = ["cli", "main", "run_cli", "version_text"]

_EXTRA_SPECS = [
    FlagSpec(names=["help", "h"], kind="bool", dest="__help__"),
    FlagSpec(names=["version", "v"], kind="bool", dest="__version__"),
]

_ABOUT = """\
pyrunc is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format, with the command line of runc.

Containers are configured using bundles: a directory holding a "config.json"
specification file and a root filesystem. To start a new container:

    # pyrunc run [ -b bundle ] <container-id>

The container id must be unique on the host; the bundle defaults to the
current directory."""


def version_text() -> str:
    commit = getattr(pyrunc, "__commit__", None) or "unknown"
    py = ".".join(str(x) for x in sys.version_info[:3])
    return (
        f"{PROG} version {pyrunc.__version__}\ncommit: {commit}\nspec: {pyrunc.OCI_VERSION}\npython: {py}\n"
    )


class RootGroup(LazyGroup):
    """Global flags parsed with Go's rules (they stop at the command name)."""

    def runc_options(self) -> list[RuncOption]:
        return [p for p in self.params if isinstance(p, RuncOption)]

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        specs = [o.flag_spec() for o in self.runc_options()] + _EXTRA_SPECS
        try:
            values, rest = parse(specs, args, reorder_args=False)
        except FlagError as e:
            sys.stdout.write(f"Incorrect Usage. {e}\n\n{self.root_help()}")
            raise UsageError(str(e)) from None
        if values.pop("__help__", False) or (not rest and not values.get("__version__")):
            click.echo(self.root_help(), nl=False)
            ctx.exit(0)
        if values.pop("__version__", False):
            click.echo(version_text(), nl=False)
            ctx.exit(0)
        # Logging is set up before the command is looked up, so even an
        # unknown command's error lands in --log (as with runc).
        _configure_log(
            values.get("log", ""), values.get("log_format", "text"), bool(values.get("debug", False))
        )
        if rest[0] in ("help", "h"):
            self.show_help_topic(ctx, rest[1:])
        # click resolves the command from what is left; "--" keeps it from
        # reading a dash-led command name as one of its options.
        super().parse_args(ctx, ["--", *rest])
        for o in self.runc_options():
            name = str(o.name)
            ctx.params[name] = values[name] if name in values else o.get_default(ctx, call=True)
        ctx.meta["pyrunc.set"] = set(values)
        return ctx.args

    def show_help_topic(self, ctx: click.Context, topic: Sequence[str]) -> NoReturn:
        if not topic:
            click.echo(self.root_help(), nl=False)
            ctx.exit(0)
        cmd = self.get_command(ctx, topic[0])
        if cmd is None:
            _no_topic(topic[0])
        assert isinstance(cmd, RuncCommand)
        click.echo(cmd.runc_help(), nl=False)
        ctx.exit(0)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        cmd = self.get_command(ctx, name)
        if cmd is None:
            _no_topic(name)
        return name, cmd, args[1:]

    def root_help(self) -> str:
        cmds = format_flag_table(list(SHORT_HELP.items()) + [("help, h", "Shows a list of commands or help for one command")])
        rows = []
        for o in self.runc_options():
            if o.hidden:
                continue
            right = o.help or ""
            if o.shown_default:
                right += f" (default: {o.shown_default})"
            spec = o.flag_spec()
            left = ", ".join(("--" if len(n) > 1 else "-") + n + ("" if spec.kind == "bool" else " value") for n in spec.names)
            rows.append((left, right))
        rows += [("--help, -h", "show help"), ("--version, -v", "print the version")]
        version = version_text().split("\n", 1)[1]
        return (
            f"NAME:\n   {PROG} - Open Container Initiative runtime\n\n{_ABOUT}\n\n"
            f"USAGE:\n   {PROG} [global options] command [command options] [arguments...]\n\n"
            f"VERSION:\n   {pyrunc.__version__}\n{version}\n"
            f"COMMANDS:\n{cmds}\nGLOBAL OPTIONS:\n{format_flag_table(rows)}"
        )

    def get_help(self, ctx: click.Context) -> str:
        return self.root_help().rstrip("\n")


def _no_topic(name: str) -> NoReturn:
    # urfave/cli's wording, trailing newline included, and its exit code 3.
    err = UsageError(f"No help topic for '{name}'\n")
    err.exit_code = 3
    raise err


@click.group(cls=RootGroup, add_help_option=False, context_settings={"ignore_unknown_options": True})
@flag("--debug", help="enable debug logging")
@option("--log", help="set the log file to write pyrunc logs to (default is '/dev/stderr')")
@option("--log-format", default="text", help="set the log format ('text' (default), or 'json')")
@option(
    "--root",
    default=default_root,
    shown_default='"/run/pyrunc"',
    help="root directory for storage of container state (this should be located in tmpfs)",
)
@option("--criu", default="criu", help="path to the criu binary used for checkpoint and restore (ignored)")
@flag(
    "--systemd-cgroup",
    help='enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" '
    'for e.g. "system.slice:pyrunc:434234"',
)
@option("--rootless", default="auto", help="ignore cgroup permission errors ('true', 'false', or 'auto')")
@click.pass_context
def cli(
    ctx: click.Context,
    debug: bool,
    log: str,
    log_format: str,
    root: str,
    criu: str,
    systemd_cgroup: bool,
    rootless: str,
) -> None:
    """Open Container Initiative runtime."""
    given = ctx.meta.get("pyrunc.set", set())
    opts = GlobalOptions(
        root=_revise_root(root) if "root" in given else root,
        log=log or None,
        log_format=log_format or "text",
        debug=debug,
        systemd_cgroup=systemd_cgroup,
        rootless=parse_rootless(rootless),
        root_set="root" in given,
    )
    if "root" not in given and opts.root != "/run/pyrunc":
        _make_xdg_root(opts.root)
    if "criu" in given:
        _log().warning("--criu option is ignored: pyrunc does not do checkpoint/restore")
    ctx.obj = opts


def _log() -> Any:
    return log


def _configure_log(path: str, fmt: str, debug: bool) -> None:
    try:
        log.configure(path or None, fmt, debug)
    except ValueError as e:
        raise PyruncError(str(e)) from None
    except OSError as e:
        raise PyruncError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None


def _revise_root(root: str) -> str:
    """runc's reviseRootDir: an explicit --root is made absolute, and never /."""
    absolute = os.path.normpath(os.path.abspath(root)) if root else os.getcwd()
    if absolute == "/":
        raise PyruncError("Option --root argument should not be set to /")
    return absolute


def _make_xdg_root(root: str) -> None:
    # The XDG base-dir spec: files there without the sticky bit may be pruned.
    try:
        os.makedirs(root, 0o700, exist_ok=True)
        os.chmod(root, 0o700 | stat.S_ISVTX)
    except OSError as e:
        raise PyruncError(f"the path in $XDG_RUNTIME_DIR must be writable by the user: {e}") from None


def _report(msg: str) -> None:
    log.error(msg)
    if not log.logs_to_stderr():
        # runc's fatal(): with --log elsewhere, the user still sees the reason.
        try:
            sys.stderr.write(msg.rstrip("\n") + "\n")
            sys.stderr.flush()
        except OSError:
            pass


def run_cli(args: Sequence[str]) -> int:
    """Run the CLI on ``args`` (without the program name); returns the exit code."""
    try:
        rv = cli.main(args=list(args), prog_name=PROG, standalone_mode=False)
    except PyruncError as e:
        _report(str(e))
        return int(getattr(e, "exit_code", 1))
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        _report(e.format_message())
        return 1
    except click.exceptions.Abort:
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the one place unexpected errors end up
        if log.is_debug():
            traceback.print_exc()
        _report(str(e) or type(e).__name__)
        return 1
    return rv if isinstance(rv, int) else 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    code = run_cli(sys.argv[1:] if argv is None else argv)
    try:
        sys.stdout.flush()
    except OSError:
        # A reader that went away (`pyrunc list | head -1`): keep the
        # interpreter's own final flush from reporting it again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    sys.exit(code)
