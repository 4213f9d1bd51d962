"""``pyrunc ps <id> [ps options]``: the host's ps(1) lines for the container's processes."""
from __future__ import annotations

import sys

from pyrunc.cli.command import command, option
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.cli.jsonout import go_json
from pyrunc.errors import PyruncError


@command(
    "ps",
    "ps displays the processes running inside a container",
    nargs=(1, None),
    args_usage="<container-id> [ps options]",
    reorder=False,
)
@option("--format", "-f", default="table", help="select one of: table or json")
def cli(opts: GlobalOptions, args: list[str], format: str) -> None:
    do_ps(opts, args[0], args[1:], format=format)


def do_ps(opts: GlobalOptions, cid: str, ps_args: list[str], *, format: str = "table") -> None:
    validate_id(cid)
    if format == "table":
        from pyrunc.container import ps as ps_mod

        sys.stdout.write(ps_mod.table(opts.root, cid, ps_args))
        return
    pids = [int(p) for p in call("ps", opts.root, cid) or ()]
    if format != "json":
        raise PyruncError("invalid format option")
    sys.stdout.write(go_json(pids) + "\n")
