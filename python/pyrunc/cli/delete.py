"""``pyrunc delete``: remove a stopped (or, with -f, any) container's resources."""
from __future__ import annotations

from pyrunc.cli.command import command, flag
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.errors import ContainerNotExist


@command(
    "delete",
    "delete any resources held by the container often used with detached container",
    description="Remove the state, cgroup and other resources of a stopped container;\n"
    "with --force, kill a running one first.",
)
@flag("--force", "-f", help="Forcibly deletes the container if it is still running (uses SIGKILL)")
def cli(opts: GlobalOptions, args: list[str], force: bool) -> None:
    do_delete(opts, args[0], force=force)


def do_delete(opts: GlobalOptions, cid: str, *, force: bool = False) -> None:
    validate_id(cid)
    try:
        call("delete", opts.root, cid, force=force)
    except ContainerNotExist:
        # runc: deleting a missing container is not an error with --force.
        if not force:
            raise
