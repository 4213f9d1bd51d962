"""The ``pyrunc`` root command: runc's global flags, dispatch, and the single
place where exceptions become one log line and an exit code.

Exit codes follow runc: 0 on success, 1 for any error (usage errors too, not
click's 2), 3 for an unknown command (urfave/cli's "No help topic"), and
whatever a command returns (``run`` and ``exec`` return the payload's status;
``exec`` failures are 255).
"""
from __future__ import annotations

import os
import sys

import pyrunc
from pyrunc import log
from pyrunc.cli.command import Command, Flag, UsageProblem, flag, format_flag_table, option
from pyrunc.cli.context import PROG, GlobalOptions, default_root, parse_rootless
from pyrunc.cli.goflag import FlagError, FlagSpec, parse
from pyrunc.cli.lazy import SHORT_HELP
from pyrunc.errors import PyruncError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

# ``cli`` (the click root group) is here too, made on first use.
__all__ = ["GLOBAL_FLAGS", "main", "run_cli", "version_text"]

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
def _global_flags() -> None:
    """runc's global options, declared the way commands declare theirs."""


GLOBAL_FLAGS: list[Flag] = list(reversed(_global_flags.__dict__["__pyrunc_flags__"]))


def version_text() -> str:
    commit = getattr(pyrunc, "__commit__", None) or "unknown"
    py = ".".join(str(x) for x in sys.version_info[:3])
    return (
        f"{PROG} version {pyrunc.__version__}\ncommit: {commit}\nspec: {pyrunc.OCI_VERSION}\npython: {py}\n"
    )


def root_help() -> str:
    cmds = format_flag_table(list(SHORT_HELP.items()) + [("help, h", "Shows a list of commands or help for one command")])
    rows = []
    for f in GLOBAL_FLAGS:
        if f.hidden:
            continue
        right = f.help or ""
        if f.shown_default:
            right += f" (default: {f.shown_default})"
        rows.append((f.left(), right))
    rows += [("--help, -h", "show help"), ("--version, -v", "print the version")]
    version = version_text().split("\n", 1)[1]
    return (
        f"NAME:\n   {PROG} - Open Container Initiative runtime\n\n{_ABOUT}\n\n"
        f"USAGE:\n   {PROG} [global options] command [command options] [arguments...]\n\n"
        f"VERSION:\n   {pyrunc.__version__}\n{version}\n"
        f"COMMANDS:\n{cmds}\nGLOBAL OPTIONS:\n{format_flag_table(rows)}"
    )


def parse_globals(args: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Global flags by Go's rules (they stop at the command name); raises FlagError."""
    return parse([f.flag_spec() for f in GLOBAL_FLAGS] + _EXTRA_SPECS, args, reorder_args=False)


def global_params(values: dict[str, Any]) -> dict[str, Any]:
    """Every global flag's value: the parsed one, else its default."""
    return {f.name: values[f.name] if f.name in values else f.default_value() for f in GLOBAL_FLAGS}


def global_options(params: dict[str, Any], given: set[str]) -> GlobalOptions:
    """What the root command does with its flags before any command runs."""
    root = params["root"]
    opts = GlobalOptions(
        root=_revise_root(root) if "root" in given else root,
        log=params["log"] or None,
        log_format=params["log_format"] or "text",
        debug=params["debug"],
        systemd_cgroup=params["systemd_cgroup"],
        rootless=parse_rootless(params["rootless"]),
        root_set="root" in given,
    )
    if "root" not in given and opts.root != "/run/pyrunc":
        _make_xdg_root(opts.root)
    if "criu" in given:
        log.warning("--criu option is ignored: pyrunc does not do checkpoint/restore")
    return opts


def configure_log(values: dict[str, Any]) -> None:
    path = values.get("log", "")
    try:
        log.configure(path or None, values.get("log_format", "text"), bool(values.get("debug", False)))
    except ValueError as e:
        raise PyruncError(str(e)) from None
    except OSError as e:
        raise PyruncError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None


def no_topic(name: str) -> NoReturn:
    # urfave/cli's wording, trailing newline included, and its exit code 3.
    err = UsageError(f"No help topic for '{name}'\n")
    err.exit_code = 3
    raise err


def _revise_root(root: str) -> str:
    """runc's reviseRootDir: an explicit --root is made absolute, and never /."""
    absolute = os.path.normpath(os.path.abspath(root)) if root else os.getcwd()
    if absolute == "/":
        raise PyruncError("Option --root argument should not be set to /")
    return absolute


def _make_xdg_root(root: str) -> None:
    import stat

    # The XDG base-dir spec: files there without the sticky bit may be pruned.
    try:
        os.makedirs(root, 0o700, exist_ok=True)
        os.chmod(root, 0o700 | stat.S_ISVTX)
    except OSError as e:
        raise PyruncError(f"the path in $XDG_RUNTIME_DIR must be writable by the user: {e}") from None


def report(msg: str) -> None:
    log.error(msg)
    if not log.logs_to_stderr():
        # runc's fatal(): with --log elsewhere, the user still sees the reason.
        try:
            sys.stderr.write(msg.rstrip("\n") + "\n")
            sys.stderr.flush()
        except OSError:
            pass


_CLICK = object()


def _run_direct(args: Sequence[str]) -> Any:
    """A well-formed command line, run without click; ``_CLICK`` for anything
    else (help, usage errors, unknown commands), which click then handles.
    Nothing is printed and no command runs before that decision."""
    try:
        values, rest = parse_globals(args)
    except FlagError:
        return _CLICK
    if values.pop("__help__", False) or (not rest and not values.get("__version__")):
        return _CLICK
    if values.pop("__version__", False):
        sys.stdout.write(version_text())
        sys.stdout.flush()
        return 0
    if rest[0] not in SHORT_HELP:  # help topics, unknown commands
        return _CLICK
    configure_log(values)
    import importlib

    module = importlib.import_module(f"pyrunc.cli.{rest[0]}")
    cmd = module.cli
    if not isinstance(cmd, Command) or hasattr(module, "click"):
        # A command module that uses click itself (its context...) runs under click.
        return _CLICK
    try:
        parsed = cmd.parse(rest[1:])
    except UsageProblem:
        return _CLICK
    if parsed is None:  # --help
        return _CLICK
    opts = global_options(global_params(values), set(values))
    return cmd.run(opts, *parsed)


def run_cli(args: Sequence[str]) -> int:
    """Run the CLI on ``args`` (without the program name); returns the exit code."""
    try:
        rv = _run_direct(args)
        if rv is _CLICK:
            from pyrunc.cli.clickcmd import click_main

            rv = click_main(args, PROG)
    except PyruncError as e:
        report(str(e))
        return int(getattr(e, "exit_code", 1))
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # noqa: BLE001 - the one place unexpected errors end up
        if log.is_debug():
            import traceback

            traceback.print_exc()
        report(str(e) or type(e).__name__)
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


def __getattr__(name: str) -> Any:
    # ``cli``, the click root group, is made (and click imported) on first use.
    if name == "cli":
        from pyrunc.cli.clickcmd import root_group

        return root_group()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
