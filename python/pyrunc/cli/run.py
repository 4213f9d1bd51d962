"""``pyrunc run``: create and start a container; exits with its status unless detached."""
from __future__ import annotations

from pyrunc.cli.command import command, flag
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.cli.options import absolute, create_kwargs, create_options

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from typing import Any


@command(
    "run",
    "create and run a container",
    description='Create a container from a bundle (a directory with a "config.json" and a root\n'
    "filesystem) and start it: `create` followed by `start`. Without --detach, pyrunc\n"
    "waits for the container and exits with its status (128+N when killed by signal N).",
)
@create_options
@flag("--detach", "-d", help="detach from the container's process")
@flag("--keep", help="do not delete the container after it exits")
@flag("--no-subreaper", help="disable the use of the subreaper used to reap reparented processes")
def cli(
    opts: GlobalOptions, args: list[str], bundle: str, detach: bool, keep: bool, no_subreaper: bool, **flags: Any
) -> int | None:
    return do_run(opts, args[0], bundle, detach=detach, keep=keep, no_subreaper=no_subreaper, **flags)


def do_run(
    opts: GlobalOptions,
    cid: str,
    bundle: str = "",
    *,
    detach: bool = False,
    keep: bool = False,
    no_subreaper: bool = False,
    **flags: Any,
) -> int:
    validate_id(cid)
    bundle_dir = absolute(bundle or ".")
    kw = create_kwargs(opts, bundle_dir, flags)
    rc = call("run", opts.root, cid, bundle_dir, detach=detach, keep=keep, no_subreaper=no_subreaper, **kw)
    return int(rc or 0)
