"""``pyrunc checkpoint``: accepted with runc's flags; needs CRIU support pyrunc lacks."""
from __future__ import annotations

from typing import Any

from pyrunc.cli.command import command, flag, option
from pyrunc.cli.context import GlobalOptions, validate_id
from pyrunc.errors import NotImplementedYet


@command(
    "checkpoint",
    "checkpoint a running container",
    description="Save the state of a running container with criu(8), to be restored later.\n"
    "   Not implemented by pyrunc yet.",
)
@option("--image-path", help="path for saving criu image files")
@option("--work-path", help="path for saving work files and logs")
@option("--parent-path", help="path for previous criu image files in pre-dump")
@flag("--leave-running", help="leave the process running after checkpointing")
@flag("--tcp-established", help="allow open tcp connections")
@flag("--tcp-skip-in-flight", help="skip in-flight tcp connections")
@flag("--link-remap", help="allow one to link unlinked files back when possible")
@flag("--ext-unix-sk", help="allow external unix sockets")
@flag("--shell-job", help="allow shell jobs")
@flag("--lazy-pages", help="use userfaultfd to lazily restore memory pages")
@option("--status-fd", kind="int", default=-1, help="criu writes \\0 to this FD once lazy-pages is ready")
@option("--page-server", help="ADDRESS:PORT of the page server")
@flag("--file-locks", help="handle file locks, for safety")
@flag("--pre-dump", help="dump container's memory information only, leave the container running after this")
@option("--manage-cgroups-mode", help="cgroups mode: soft|full|strict|ignore (default: soft)")
@option("--empty-ns", kind="slice", help="create a namespace, but don't restore its properties")
@flag("--auto-dedup", help="enable auto deduplication of memory images")
def cli(opts: GlobalOptions, args: list[str], **flags: Any) -> None:
    do_checkpoint(opts, args[0], **flags)


def do_checkpoint(opts: GlobalOptions, cid: str, **flags: Any) -> None:
    validate_id(cid)
    raise NotImplementedYet("checkpoint is not implemented yet")
