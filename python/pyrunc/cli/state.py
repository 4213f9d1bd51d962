"""``pyrunc state <id>``: the container's state JSON."""
from __future__ import annotations

import json
import sys

from pyrunc.cli.command import command
from pyrunc.cli.context import GlobalOptions, lifecycle, validate_id

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from typing import Any

# runc's containerState field order (annotations only when present).
STATE_KEYS = ("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner")


def ordered_state(d: dict[str, Any]) -> dict[str, Any]:
    out = {k: d.get(k, "" if k != "pid" else 0) for k in STATE_KEYS}
    if not out["annotations"]:
        del out["annotations"]
    return out


@command(
    "state",
    "output the state of a container",
    description="Print the state of the container as JSON: status, init pid, bundle, creation time.",
)
def cli(opts: GlobalOptions, args: list[str]) -> None:
    do_state(opts, args[0])


def do_state(opts: GlobalOptions, cid: str) -> None:
    validate_id(cid)
    state = ordered_state(lifecycle("state")(opts.root, cid))
    # runc leaves owner empty here (only `list` fills it) and writes no
    # trailing newline.
    state["owner"] = ""
    sys.stdout.write(json.dumps(state, indent=2, ensure_ascii=False))
    sys.stdout.flush()
