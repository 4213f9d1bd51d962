"""``pyrunc list``: the containers under --root, as runc's table, JSON or ids."""
from __future__ import annotations

import os
import sys

from pyrunc.cli.command import command, flag, option
from pyrunc.cli.context import GlobalOptions, call
from pyrunc.cli.jsonout import go_json
from pyrunc.errors import PyruncError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from collections.abc import Sequence
    from typing import Any

# runc's containerState field order; annotations only when present.
LIST_KEYS = ("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner")
HEADER = ("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")


@command(
    "list",
    "lists containers started by pyrunc with the given root",
    nargs=(0, 0),
    args_usage="",
    description='List the containers under the state root given with the global option "--root"\n'
    "(default: /run/pyrunc), e.g. `pyrunc --root /run/other list`.",
)
@option("--format", "-f", default="table", help="select one of: table or json")
@flag("--quiet", "-q", help="display only container IDs")
def cli(opts: GlobalOptions, args: list[str], format: str, quiet: bool) -> None:
    do_list(opts, format=format, quiet=quiet)


def ordered(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: d.get(k, 0 if k == "pid" else "") for k in LIST_KEYS}
    if not out["annotations"]:
        del out["annotations"]
    return out


def format_table(rows: Sequence[Sequence[str]], minwidth: int = 12, padding: int = 3) -> str:
    """Go's tabwriter.NewWriter(w, 12, 1, 3, ' ', 0), as runc uses it: every
    column but the last is max(widest cell + 3, 12) wide."""
    if not rows:
        return ""
    ncols = len(rows[0])
    widths = [max(minwidth, max(len(r[i]) for r in rows) + padding) for i in range(ncols - 1)]
    lines = []
    for r in rows:
        cells = [r[i].ljust(widths[i]) for i in range(ncols - 1)] + [r[-1]]
        lines.append("".join(cells) + "\n")
    return "".join(lines)


def render(containers: Sequence[dict[str, Any]], fmt: str = "table", quiet: bool = False) -> str:
    items = [ordered(c) for c in containers]
    if quiet:
        return "".join(f"{c['id']}\n" for c in items)
    if fmt == "table":
        rows = [HEADER] + [
            (c["id"], str(c["pid"]), c["status"], c["bundle"], c["created"], c["owner"]) for c in items
        ]
        return format_table(rows)
    if fmt == "json":
        # runc encodes a nil slice when there is no container: "null".
        return go_json(items or None) + "\n"
    raise PyruncError("invalid format option")


def do_list(opts: GlobalOptions, *, format: str = "table", quiet: bool = False) -> None:
    if opts.root_set and not os.path.isdir(opts.root):
        # runc 1.2: a missing default root just means no containers yet, but
        # a missing --root given by hand is reported.
        if not os.path.exists(opts.root):
            raise PyruncError(f"open {opts.root}: no such file or directory")
        raise PyruncError(f"readdirent {opts.root}: not a directory")
    containers = call("list_containers", opts.root)
    sys.stdout.write(render(list(containers or ()), format, quiet))
    sys.stdout.flush()
