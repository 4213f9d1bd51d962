"""``pyrunc pause``: freeze every process of a container."""
from __future__ import annotations

from pyrunc.cli.command import command
from pyrunc.cli.context import GlobalOptions, call, validate_id


@command(
    "pause",
    "pause suspends all processes inside the container",
    description="Freeze all processes of the container (cgroup freezer); `pyrunc resume` thaws them.",
)
def cli(opts: GlobalOptions, args: list[str]) -> None:
    do_pause(opts, args[0])


def do_pause(opts: GlobalOptions, cid: str) -> None:
    validate_id(cid)
    call("pause", opts.root, cid)
