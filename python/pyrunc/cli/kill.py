"""``pyrunc kill <id> [signal]``: signal the container's init (default SIGTERM)."""
from __future__ import annotations

from pyrunc.cli.command import command, flag
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.errors import PyruncError
from pyrunc.signals import parse_signal


@command(
    "kill",
    "kill sends the specified signal (default: SIGTERM) to the container's init process",
    nargs=(1, 2),
    args_usage="<container-id> [signal]",
    description='Send [signal] (a name like KILL or SIGKILL, or a number) to the init process\n'
    "of the container, e.g. `pyrunc kill ubuntu01 KILL`.",
)
@flag("--all", "-a", help="send the specified signal to all processes inside the container")
def cli(opts: GlobalOptions, args: list[str], all: bool) -> None:
    do_kill(opts, args[0], args[1] if len(args) > 1 else "SIGTERM", all=all)


def do_kill(opts: GlobalOptions, cid: str, signal: str = "SIGTERM", *, all: bool = False) -> None:
    validate_id(cid)
    try:
        sig = parse_signal(signal)
    except PyruncError:
        # runc loads the container before it parses the signal: a missing
        # container is the error it reports first.
        call("state", opts.root, cid)
        raise
    call("kill", opts.root, cid, sig, all=all)
