"""The status table and runc's error texts for start/kill/delete."""
from __future__ import annotations

import pytest
from pyrunc.container.status import (
    TRANSITIONS,
    Status,
    can_delete,
    can_transition,
    check_delete,
    check_kill,
    check_start,
    check_transition,
)
from pyrunc.errors import StateError


def test_status_values_are_oci_names() -> None:
    assert [s.value for s in Status] == ["creating", "created", "running", "paused", "stopped"]
    assert str(Status.RUNNING) == "running"


def test_status_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.STOPPED] == frozenset()


def test_status_transitions() -> None:
    assert can_transition(Status.CREATED, Status.RUNNING)
    assert not can_transition(Status.RUNNING, Status.CREATED)
    assert not can_transition(Status.STOPPED, Status.RUNNING)
    with pytest.raises(StateError, match="invalid state transition from stopped to running"):
        check_transition(Status.STOPPED, Status.RUNNING)


@pytest.mark.parametrize(
    "status,msg",
    [
        (Status.STOPPED, "cannot start a container that has stopped"),
        (Status.RUNNING, "cannot start an already running container"),
        (Status.PAUSED, "cannot start a container in the paused state"),
    ],
)
def test_status_start_errors_are_runcs(status: Status, msg: str) -> None:
    with pytest.raises(StateError) as e:
        check_start(status)
    assert str(e.value) == msg


def test_status_start_created_ok() -> None:
    check_start(Status.CREATED)


def test_status_kill_stopped() -> None:
    with pytest.raises(StateError) as e:
        check_kill(Status.STOPPED)
    assert str(e.value) == "container not running"
    check_kill(Status.CREATED)
    check_kill(Status.PAUSED)


def test_status_delete_rules() -> None:
    assert can_delete(Status.STOPPED)
    assert can_delete(Status.CREATED)  # runc kills a created container on delete
    assert not can_delete(Status.RUNNING)
    assert can_delete(Status.RUNNING, force=True)
    with pytest.raises(StateError) as e:
        check_delete("abc", Status.RUNNING)
    assert str(e.value) == "cannot delete container abc that is not stopped: running"
