"""The command table: ``pyrunc.cli.<cmd>`` is imported only when that command runs.

The root help comes from SHORT_HELP, so ``pyrunc --help`` and ``--version``
import no command module (and so nothing heavy). The click group that loads
commands this way is :class:`pyrunc.cli.clickcmd.LazyGroup` (also reachable
here as ``LazyGroup``); this module does not import click.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# runc's command list, in runc's order, with its one-line help texts.
SHORT_HELP: dict[str, str] = {
    "checkpoint": "checkpoint a running container",
    "create": "create a container",
    "delete": "delete any resources held by the container often used with detached container",
    "events": "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
    "exec": "execute new process inside the container",
    "kill": "kill sends the specified signal (default: SIGTERM) to the container's init process",
    "list": "lists containers started by pyrunc with the given root",
    "pause": "pause suspends all processes inside the container",
    "ps": "ps displays the processes running inside a container",
    "restore": "restore a container from a previous checkpoint",
    "resume": "resumes all processes that have been previously paused",
    "run": "create and run a container",
    "spec": "create a new specification file",
    "start": "executes the user defined process in a created container",
    "state": "output the state of a container",
    "update": "update container resource constraints",
    "features": "show the enabled features",
}


def __getattr__(name: str) -> Any:
    if name == "LazyGroup":
        from pyrunc.cli.clickcmd import LazyGroup

        return LazyGroup
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
