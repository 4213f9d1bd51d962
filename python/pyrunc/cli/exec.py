"""``pyrunc exec <id> <command> [args...]``: run a new process in a container.

Flags must come before the container id: everything after it is the
payload's command line (runc does not reorder exec's arguments), and one
``--`` right after the id is dropped. Failures exit 255 with "exec failed: ",
as runc does, so callers can tell them from the payload's own status.
"""
from __future__ import annotations

import re

from pyrunc.cli.command import command, flag, given_flags, option
from pyrunc.cli.context import GlobalOptions, call, validate_id
from pyrunc.cli.options import (
    absolute,
    console_socket_option,
    pid_file_option,
    pidfd_socket_option,
    preserve_fds_option,
)
from pyrunc.errors import PyruncError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from typing import Any

EXEC_FAILED_CODE = 255


@command(
    "exec",
    "execute new process inside the container",
    nargs=(1, None),
    args_usage="<container-id> <command> [command options]  || -p process.json <container-id>",
    description='Run <command> in the container, e.g. `pyrunc exec <container-id> ps`.\n'
    '   <command> can only be empty when -p gives a process.json (an OCI "process" object).',
    reorder=False,
)
@console_socket_option
@pidfd_socket_option
@option("--cwd", help="current working directory in the container")
@option("--env", "-e", kind="slice", help="set environment variables")
@flag("--tty", "-t", help="allocate a pseudo-TTY")
@option("--user", "-u", help="UID (format: <uid>[:<gid>])")
@option("--additional-gids", "-g", kind="intslice", help="additional gids")
@option("--process", "-p", help="path to the process.json")
@flag("--detach", "-d", help="detach from the container's process")
@pid_file_option
@option("--process-label", help="set the asm process label for the process commonly used with selinux")
@option("--apparmor", help="set the apparmor profile for the process")
@flag("--no-new-privs", help="set the no new privileges value for the process")
@option("--cap", "-c", kind="slice", help="add a capability to the bounding set for the process")
@preserve_fds_option
@option("--cgroup", kind="slice", help="run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.")
@flag("--ignore-paused", help="allow exec in a paused container")
@flag("--no-subreaper", hidden=True, help="disable the use of the subreaper used to reap reparented processes")
def cli(opts: GlobalOptions, args: list[str], **flags: Any) -> int:
    return do_exec(opts, args[0], args[1:], flags, given_flags())


def parse_user(user: str) -> tuple[int | None, int | None]:
    """``uid[:gid]`` -> (uid, gid); runc takes numbers only."""
    if not user:
        return None, None
    uid_s, sep, gid_s = user.partition(":")
    gid = None
    if sep:
        if not re.match(r"^[+-]?[0-9]+$", gid_s):
            raise PyruncError(f'bad gid: strconv.Atoi: parsing "{gid_s}": invalid syntax')
        gid = int(gid_s)
    if not re.match(r"^[+-]?[0-9]+$", uid_s):
        raise PyruncError(f'bad uid: strconv.Atoi: parsing "{uid_s}": invalid syntax')
    return int(uid_s), gid


def exec_kwargs(args: list[str], flags: dict[str, Any], given: set) -> dict[str, Any]:
    """lifecycle.exec_process() keyword arguments. ``tty`` and ``no_new_privs``
    are None unless given, so the container's config.json value stays (runc's
    IsSet checks)."""
    if args[:1] == ["--"]:
        args = args[1:]
    uid, gid = parse_user(flags.get("user") or "")
    gids = [int(g) for g in flags.get("additional_gids") or ()]
    for g in gids:
        if g < 0:
            raise PyruncError(f"additional-gids must be a positive number {g}")
    return {
        "args": list(args),
        "process": absolute(flags.get("process") or "") or None,
        "cwd": flags.get("cwd") or None,
        "env": list(flags.get("env") or ()),
        "tty": bool(flags["tty"]) if "tty" in given else None,
        "uid": uid,
        "gid": gid,
        "additional_gids": gids,
        "detach": bool(flags.get("detach")),
        "pid_file": absolute(flags.get("pid_file") or "") or None,
        "process_label": flags.get("process_label") or None,
        "apparmor": flags.get("apparmor") or None,
        "no_new_privs": bool(flags["no_new_privs"]) if "no_new_privs" in given else None,
        "caps": list(flags.get("cap") or ()),
        "preserve_fds": int(flags.get("preserve_fds") or 0),
        "cgroups": list(flags.get("cgroup") or ()),
        "ignore_paused": bool(flags.get("ignore_paused")),
        "console_socket": absolute(flags.get("console_socket") or "") or None,
        "pidfd_socket": absolute(flags.get("pidfd_socket") or "") or None,
        "no_subreaper": bool(flags.get("no_subreaper")),
    }


def do_exec(opts: GlobalOptions, cid: str, args: list[str], flags: dict[str, Any], given: set | None = None) -> int:
    try:
        validate_id(cid)
        kw = exec_kwargs(args, flags, set(given or ()))
        rc = call("exec_process", opts.root, cid, **kw)
    except (PyruncError, OSError) as e:
        err = PyruncError(f"exec failed: {e}")
        err.exit_code = EXEC_FAILED_CODE
        raise err from e
    return int(rc or 0)
