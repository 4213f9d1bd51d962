"""`pyrunc update` flags -> an OCI linux.resources object (runc's parsing)."""
from __future__ import annotations

import pytest
from pyrunc.cli import update as update_cmd
from pyrunc.errors import PyruncError


def resources(args):
    ctx = update_cmd.cli.make_context("update", [*args, "ctr"])
    return update_cmd.resources_from_flags(ctx.params, ctx.meta["pyrunc.given"])


def test_update_flags_build_resources():
    res = resources(
        ["--memory", "512m", "--memory-swap=-1", "--cpu-quota", "-1", "--cpu-period", "100000", "--cpu-burst", "0",
         "--cpuset-cpus", "0-1,3", "--pids-limit", "10", "--blkio-weight", "500", "--cpu-share", "512"]
    )  # fmt: skip
    assert res == {
        "memory": {"limit": 512 << 20, "swap": -1},
        "cpu": {"quota": -1, "period": 100000, "burst": 0, "shares": 512, "cpus": "0-1,3"},
        "pids": {"limit": 10},
        "blockIO": {"weight": 500},
    }


def test_update_unset_flags_stay_out():
    assert resources([]) == {}


@pytest.mark.parametrize(
    "text,value", [("1024", 1024), ("1k", 1024), ("1KiB", 1024), ("1.5g", 3 << 29), ("2 MB", 2 << 20), ("3b", 3)]
)
def test_update_ram_in_bytes(text, value):
    assert update_cmd.ram_in_bytes(text) == value


def test_update_bad_values():
    with pytest.raises(PyruncError, match="invalid value for memory: invalid size: 'lots'"):
        resources(["--memory", "lots"])
    with pytest.raises(PyruncError, match='invalid value for cpu-period: strconv.ParseUint: parsing "-5"'):
        resources(["--cpu-period", "-5"])


def test_update_reads_resources_file(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"memory": {"limit": 1048576}}')
    assert update_cmd.read_resources(str(path)) == {"memory": {"limit": 1048576}}
    path.write_text("[1]")
    with pytest.raises(PyruncError):
        update_cmd.read_resources(str(path))
