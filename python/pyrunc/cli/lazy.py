"""A click group that imports ``pyrunc.cli.<cmd>`` only when that command runs.

The root help comes from SHORT_HELP, so ``pyrunc --help`` and ``--version``
import no command module (and so nothing heavy).
"""
from __future__ import annotations

import importlib

import click

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


class LazyGroup(click.Group):
    """Commands are the modules named in SHORT_HELP, loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SHORT_HELP)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SHORT_HELP:
            return None
        module = importlib.import_module(f"pyrunc.cli.{cmd_name}")
        cmd: click.Command = module.cli
        return cmd
