"""``pyrunc restore``: accepted with runc's flags; needs CRIU support pyrunc lacks."""
from __future__ import annotations

from typing import Any

from pyrunc.cli.command import command, flag, option
from pyrunc.cli.context import GlobalOptions, validate_id
from pyrunc.cli.options import bundle_option, console_socket_option, no_pivot_option, pid_file_option
from pyrunc.errors import NotImplementedYet


@command(
    "restore",
    "restore a container from a previous checkpoint",
    description="Restore a container saved by `pyrunc checkpoint`. Not implemented by pyrunc yet.",
)
@console_socket_option
@option("--image-path", help="path to criu image files for restoring")
@option("--work-path", help="path for saving work files and logs")
@flag("--tcp-established", help="allow open tcp connections")
@flag("--tcp-skip-in-flight", help="skip in-flight tcp connections")
@flag("--link-remap", help="allow one to link unlinked files back when possible")
@flag("--ext-unix-sk", help="allow external unix sockets")
@flag("--shell-job", help="allow shell jobs")
@flag("--file-locks", help="handle file locks, for safety")
@option("--manage-cgroups-mode", help="cgroups mode: soft|full|strict|ignore (default: soft)")
@bundle_option
@flag("--detach", "-d", help="detach from the container's process")
@pid_file_option
@flag("--no-subreaper", help="disable the use of the subreaper used to reap reparented processes")
@no_pivot_option
@option("--empty-ns", kind="slice", help="create a namespace, but don't restore its properties")
@flag("--auto-dedup", help="enable auto deduplication of memory images")
@flag("--lazy-pages", help="use userfaultfd to lazily restore memory pages")
@option("--lsm-profile", help="Specify an LSM profile to be used during restore in the form of TYPE:NAME.")
@option("--lsm-mount-context", help="Specify an LSM mount context to be used during restore.")
def cli(opts: GlobalOptions, args: list[str], **flags: Any) -> None:
    do_restore(opts, args[0], **flags)


def do_restore(opts: GlobalOptions, cid: str, **flags: Any) -> None:
    validate_id(cid)
    raise NotImplementedYet("restore is not implemented yet")
