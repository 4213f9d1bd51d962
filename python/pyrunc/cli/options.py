"""Flags shared by several commands (create/run/restore, exec), with runc's names."""
from __future__ import annotations

import os

from pyrunc.cli.command import flag, option

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs more than a command's own work
    from typing import Any, Callable

    F = Callable[..., Any]


# Each is a decorator; a Flag is never changed after it is made, so commands share them.
bundle_option = option("--bundle", "-b", help="path to the root of the bundle directory, defaults to the current directory")
console_socket_option = option(
    "--console-socket",
    help="path to an AF_UNIX socket which will receive a file descriptor referencing "
    "the master end of the console's pseudoterminal",
)
pidfd_socket_option = option(
    "--pidfd-socket",
    help="path to an AF_UNIX socket which will receive a file descriptor referencing the init process",
)
pid_file_option = option("--pid-file", help="specify the file to write the process id to")
preserve_fds_option = option(
    "--preserve-fds",
    kind="int",
    default=0,
    help="Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)",
)
no_pivot_option = flag(
    "--no-pivot",
    help="do not use pivot root to jail process inside rootfs.  This should be used "
    "whenever the rootfs is on top of a ramdisk",
)
no_new_keyring_option = flag(
    "--no-new-keyring",
    help="do not create a new session keyring for the container.  This will cause the "
    "container to inherit the calling processes session key",
)


def create_options(f: F) -> F:
    """The flags `create` and `run` share, in runc's help order (applied bottom-up)."""
    for deco in reversed(
        [
            bundle_option,
            console_socket_option,
            pidfd_socket_option,
            pid_file_option,
            no_pivot_option,
            no_new_keyring_option,
            preserve_fds_option,
        ]
    ):
        f = deco(f)
    return f


def absolute(path: str, base: str | None = None) -> str:
    """``path`` made absolute against ``base`` (default: the cwd); "" stays ""."""
    if not path:
        return ""
    return os.path.normpath(os.path.join(base or os.getcwd(), path))


def create_kwargs(opts: Any, bundle: str, flags: dict[str, Any]) -> dict[str, Any]:
    """lifecycle.create()'s keyword arguments from the CLI flags.

    runc chdirs into the bundle before it dials the sockets, so relative
    socket paths are relative to the bundle; the pid file is made absolute
    against the caller's cwd first (runc's revisePidFile)."""
    kw: dict[str, Any] = {
        "pid_file": absolute(flags.get("pid_file") or "") or None,
        "console_socket": absolute(flags.get("console_socket") or "", bundle) or None,
        "no_pivot": bool(flags.get("no_pivot")),
        "no_new_keyring": bool(flags.get("no_new_keyring")),
        "preserve_fds": int(flags.get("preserve_fds") or 0),
        "systemd_cgroup": opts.systemd_cgroup,
        "rootless": opts.rootless,
    }
    if flags.get("pidfd_socket"):
        kw["pidfd_socket"] = absolute(flags["pidfd_socket"], bundle)
    return kw
