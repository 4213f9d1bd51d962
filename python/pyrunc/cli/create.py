"""``pyrunc create``: set up a container from a bundle, stopped before its process runs."""
from __future__ import annotations

from pyrunc.cli.command import command
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.cli.options import absolute, create_kwargs, create_options

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from typing import Any


@command(
    "create",
    "create a container",
    description='Create a container from a bundle (a directory with a "config.json" and a root\n'
    "filesystem). Its process is set up and waits until `pyrunc start` lets it run.",
)
@create_options
def cli(opts: GlobalOptions, args: list[str], bundle: str, **flags: Any) -> None:
    do_create(opts, args[0], bundle, **flags)


def do_create(opts: GlobalOptions, cid: str, bundle: str = "", **flags: Any) -> None:
    validate_id(cid)
    bundle_dir = absolute(bundle or ".")
    call("create", opts.root, cid, bundle_dir, **create_kwargs(opts, bundle_dir, flags))
