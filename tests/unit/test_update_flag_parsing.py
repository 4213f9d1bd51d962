"""Every `pyrunc update` flag -> the linux.resources object handed to
lifecycle.update (runc's parsing: Go strconv errors, go-units sizes, -1 for
the memory flags, unset flags left out), and merge_resources, which gives
the values the state records after an update."""
from __future__ import annotations

from typing import Any

import pytest
from pyrunc.cli import update as update_cmd
from pyrunc.container.control import merge_resources
from pyrunc.errors import PyruncError

MiB = 1 << 20


def parse(*args: str) -> dict[str, Any]:
    ctx = update_cmd.cli.make_context("update", [*args, "ctr"])
    return update_cmd.resources_from_flags(ctx.params, ctx.meta["pyrunc.given"])


@pytest.mark.parametrize("args,want", [
    (["--blkio-weight", "500"], {"blockIO": {"weight": 500}}),
    (["--cpu-period", "100000"], {"cpu": {"period": 100000}}),
    (["--cpu-quota", "-1"], {"cpu": {"quota": -1}}),
    (["--cpu-quota", "50000"], {"cpu": {"quota": 50000}}),
    (["--cpu-burst", "0"], {"cpu": {"burst": 0}}),
    (["--cpu-share", "512"], {"cpu": {"shares": 512}}),
    (["--cpu-rt-period", "1000000"], {"cpu": {"realtimePeriod": 1000000}}),
    (["--cpu-rt-runtime", "-1"], {"cpu": {"realtimeRuntime": -1}}),
    (["--cpuset-cpus", "0-1,3"], {"cpu": {"cpus": "0-1,3"}}),
    (["--cpuset-mems", "0"], {"cpu": {"mems": "0"}}),
    (["--cpu-idle", "1"], {"cpu": {"idle": 1}}),
    (["--memory", "512m"], {"memory": {"limit": 512 * MiB}}),
    (["--memory", "-1"], {"memory": {"limit": -1}}),
    (["--memory-reservation", "1.5G"], {"memory": {"reservation": 3 << 29}}),
    (["--memory-swap=-1"], {"memory": {"swap": -1}}),
    (["--memory-swap", "1g"], {"memory": {"swap": 1 << 30}}),
    (["--pids-limit", "10"], {"pids": {"limit": 10}}),
    (["--pids-limit", "0"], {"pids": {"limit": 0}}),  # spec 1.3: a real limit
    (["--pids-limit", "-1"], {"pids": {"limit": -1}}),
    ([], {}),
])
def test_update_flag(args: list[str], want: dict[str, Any]) -> None:
    assert parse(*args) == want


@pytest.mark.parametrize("text,value", [
    ("1024", 1024), ("1k", 1 << 10), ("1K", 1 << 10), ("1KiB", 1 << 10), ("1kb", 1 << 10),
    ("2 MB", 2 * MiB), ("1.5g", 3 << 29), ("1t", 1 << 40), ("3b", 3),
])
def test_update_memory_units(text: str, value: int) -> None:
    assert parse("--memory", text) == {"memory": {"limit": value}}


@pytest.mark.parametrize("args,msg", [
    (["--memory", "lots"], "invalid value for memory: invalid size: 'lots'"),
    (["--memory-swap", "-2"], "invalid value for memory-swap: invalid size: '-2'"),
    (["--memory-reservation", "1x"], "invalid value for memory-reservation: invalid size: '1x'"),
    (["--cpu-period", "-5"], 'invalid value for cpu-period: strconv.ParseUint: parsing "-5": invalid syntax'),
    (["--cpu-share", "1.5"], 'invalid value for cpu-share: strconv.ParseUint: parsing "1.5": invalid syntax'),
    (["--cpu-quota", "x"], 'invalid value for cpu-quota: strconv.ParseInt: parsing "x": invalid syntax'),
    (["--cpu-rt-runtime", "1e3"], 'invalid value for cpu-rt-runtime: strconv.ParseInt: parsing "1e3": invalid syntax'),
    (["--cpu-idle", "yes"], 'invalid value for cpu-idle: strconv.ParseInt: parsing "yes": invalid syntax'),
])
def test_update_bad_flag_values(args: list[str], msg: str) -> None:
    with pytest.raises(PyruncError) as e:
        parse(*args)
    assert str(e.value) == msg


def test_update_everything_at_once() -> None:
    assert parse("--memory", "64M", "--memory-swap", "128M", "--memory-reservation", "32M", "--cpu-share", "2",
                 "--cpu-quota", "1000", "--cpu-period", "10000", "--pids-limit", "5", "--blkio-weight", "10") == {
        "memory": {"limit": 64 * MiB, "swap": 128 * MiB, "reservation": 32 * MiB},
        "cpu": {"shares": 2, "quota": 1000, "period": 10000},
        "pids": {"limit": 5},
        "blockIO": {"weight": 10},
    }


def test_merge_keeps_what_the_update_leaves_alone() -> None:
    old = {"devices": [{"allow": False, "access": "rwm"}], "memory": {"limit": 64 * MiB, "swap": 128 * MiB},
           "cpu": {"shares": 512, "cpus": "0"}, "pids": {"limit": 10}}
    new = {"memory": {"limit": 32 * MiB, "reservation": 0, "swap": 0}, "cpu": {"shares": 0, "quota": 5000, "cpus": ""},
           "pids": {"limit": 0}, "devices": [{"allow": True, "access": "rwm"}]}
    assert merge_resources(old, new) == {
        "devices": [{"allow": False, "access": "rwm"}],  # never updated
        "memory": {"limit": 32 * MiB, "swap": 128 * MiB},
        "cpu": {"shares": 512, "cpus": "0", "quota": 5000},
        "pids": {"limit": 0},
    }
    assert old["memory"]["limit"] == 64 * MiB  # not modified in place


def test_merge_device_lists_by_device_and_maps_by_key() -> None:
    old = {"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100},
                                                 {"major": 8, "minor": 16, "rate": 200}]},
           "hugepageLimits": [{"pageSize": "2MB", "limit": 0}], "unified": {"memory.high": "max"}}
    new = {"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 16, "rate": 300}]},
           "hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}, {"pageSize": "1GB", "limit": 0}],
           "unified": {"memory.low": "1000"}}
    got = merge_resources(old, new)
    assert got["blockIO"]["throttleReadBpsDevice"] == [{"major": 8, "minor": 0, "rate": 100},
                                                       {"major": 8, "minor": 16, "rate": 300}]
    assert got["hugepageLimits"] == [{"pageSize": "2MB", "limit": 4 * MiB}, {"pageSize": "1GB", "limit": 0}]
    assert got["unified"] == {"memory.high": "max", "memory.low": "1000"}


def test_merge_into_nothing() -> None:
    assert merge_resources(None, {"pids": {"limit": 3}, "memory": None}) == {"pids": {"limit": 3}}
