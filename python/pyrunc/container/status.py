"""Container status: the enum, the one transition table and the ``can_*`` guards.

The stored status is only a hint: :func:`pyrunc.container.state.current_status`
asks the kernel (is the init alive, is it the same process, is its cgroup
frozen, is exec.fifo still there). This module holds the rules only, so it is
unit-tested without any process.
"""
from __future__ import annotations

import enum

from pyrunc.errors import StateError


class Status(str, enum.Enum):
    """The OCI statuses plus runc's ``paused``."""

    CREATING = "creating"
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


# The single transition table: status -> statuses a command may move it to.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.CREATING: frozenset({Status.CREATED, Status.STOPPED}),
    Status.CREATED: frozenset({Status.RUNNING, Status.PAUSED, Status.STOPPED}),
    Status.RUNNING: frozenset({Status.PAUSED, Status.STOPPED}),
    Status.PAUSED: frozenset({Status.RUNNING, Status.STOPPED}),
    Status.STOPPED: frozenset(),
}


def can_transition(old: Status, new: Status) -> bool:
    return new in TRANSITIONS[old]


def check_transition(old: Status, new: Status) -> None:
    if not can_transition(old, new):
        raise StateError(f"invalid state transition from {old} to {new}")


def check_start(s: Status) -> None:
    """runc's ``start`` errors, word for word (engines match them)."""
    if s is Status.CREATED:
        return
    if s is Status.STOPPED:
        raise StateError("cannot start a container that has stopped")
    if s is Status.RUNNING:
        raise StateError("cannot start an already running container")
    raise StateError(f"cannot start a container in the {s} state")


def can_kill(s: Status) -> bool:
    # A stopped container's pid may already belong to someone else.
    return s is not Status.STOPPED


def check_kill(s: Status) -> None:
    if not can_kill(s):
        raise StateError("container not running")


def can_delete(s: Status, force: bool = False) -> bool:
    """runc deletes stopped and created containers without ``-f`` (a created
    one is killed first); running and paused ones need ``-f``."""
    return force or s in (Status.STOPPED, Status.CREATED, Status.CREATING)


def check_delete(cid: str, s: Status, force: bool = False) -> None:
    if not can_delete(s, force):
        raise StateError(f"cannot delete container {cid} that is not stopped: {s}")


def can_pause(s: Status) -> bool:
    return s in (Status.RUNNING, Status.CREATED)


def can_resume(s: Status) -> bool:
    return s is Status.PAUSED
