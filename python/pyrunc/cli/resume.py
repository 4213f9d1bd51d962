"""``pyrunc resume``: thaw a paused container."""
from __future__ import annotations

from pyrunc.cli.command import command
from pyrunc.cli.context import GlobalOptions, call, validate_id


@command(
    "resume",
    "resumes all processes that have been previously paused",
    description="Thaw all processes of a container frozen by `pyrunc pause`.",
)
def cli(opts: GlobalOptions, args: list[str]) -> None:
    do_resume(opts, args[0])


def do_resume(opts: GlobalOptions, cid: str) -> None:
    validate_id(cid)
    call("resume", opts.root, cid)
