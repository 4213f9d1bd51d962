"""``pyrunc start``: let a created container's process run."""
from __future__ import annotations

from pyrunc.cli.command import command
from pyrunc.cli.context import GlobalOptions, call, validate_id


@command(
    "start",
    "executes the user defined process in a created container",
    description="Run the process of a container made by `pyrunc create`.",
)
def cli(opts: GlobalOptions, args: list[str]) -> None:
    do_start(opts, args[0])


def do_start(opts: GlobalOptions, cid: str) -> None:
    validate_id(cid)
    call("start", opts.root, cid)
