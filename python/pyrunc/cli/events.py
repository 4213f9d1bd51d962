"""``pyrunc events``: the container's stats and OOM events as JSON lines."""
from __future__ import annotations

import sys
from typing import Any

from pyrunc.cli.command import command, flag, option
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.cli.jsonout import go_json


@command(
    "events",
    "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
    description="Print the container's resource statistics every --interval (and OOM events as\n"
    "they happen), one JSON object per line; with --stats, print them once and exit.",
)
@option("--interval", kind="duration", default=5.0, shown_default="5s", help="set the stats collection interval")
@flag("--stats", help="display the container's stats then exit")
def cli(opts: GlobalOptions, args: list[str], interval: float, stats: bool) -> None:
    do_events(opts, args[0], interval=interval, stats=stats)


def do_events(opts: GlobalOptions, cid: str, *, interval: float = 5.0, stats: bool = False) -> None:
    validate_id(cid)
    # lifecycle.events checks the interval after the container, as runc does
    events: Any = call("events", opts.root, cid, interval=interval, stats=stats)
    if events is None:
        return
    for event in events:
        sys.stdout.write(go_json(event) + "\n")
        sys.stdout.flush()
