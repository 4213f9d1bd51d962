"""``pyrunc spec``: write a starter config.json (runc's example spec)."""
from __future__ import annotations

import os

from pyrunc.cli.command import command, flag, option
from pyrunc.cli.context import GlobalOptions
from pyrunc.errors import PyruncError

SPEC_CONFIG = "config.json"


@command(
    "spec",
    "create a new specification file",
    nargs=(0, 0),
    args_usage="",
    description='Write a starter "config.json" into the bundle directory. It runs "sh" in\n'
    '   "rootfs" with a read-only root, the usual /proc, /dev and /sys mounts, and new\n'
    "   pid, network, ipc, uts and mount namespaces; edit it to fit. With --rootless the\n"
    "   spec maps the caller's uid and gid to root in a new user namespace, so it\n"
    "   can run without privileges.",
)
@option("--bundle", "-b", help="path to the root of the bundle directory")
@flag("--rootless", help="generate a configuration for a rootless container")
def cli(opts: GlobalOptions, args: list[str], bundle: str, rootless: bool) -> None:
    do_spec(bundle=bundle, rootless=rootless)


def do_spec(bundle: str = "", rootless: bool = False) -> str:
    """Write config.json; returns its path. Refuses to overwrite one."""
    from pyrunc.spec.default import default_spec, dumps

    data = dumps(default_spec(rootless=rootless))
    path = os.path.join(bundle, SPEC_CONFIG) if bundle else SPEC_CONFIG
    if bundle and not os.path.isdir(bundle):
        raise PyruncError(f"chdir {bundle}: no such file or directory" if not os.path.exists(bundle) else f"chdir {bundle}: not a directory")
    if os.path.lexists(path):
        raise PyruncError(f"File {SPEC_CONFIG} exists. Remove it first")
    # O_EXCL: a file that appears meanwhile is not overwritten; 0666 & ~umask.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except FileExistsError:
        raise PyruncError(f"File {SPEC_CONFIG} exists. Remove it first") from None
    except OSError as e:
        raise PyruncError(f"open {SPEC_CONFIG}: {(e.strerror or str(e)).lower()}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(data)
    return path
