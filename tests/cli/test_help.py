"""Every command answers --help (this also guards the lazy imports)."""
from __future__ import annotations

import pytest
from pyrunc.cli.lazy import SHORT_HELP

COMMANDS = list(SHORT_HELP)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_every_command(cli, cmd):
    r = cli(cmd, "--help")
    assert r.code == 0, r.err
    assert r.out.startswith(f"NAME:\n   pyrunc {cmd} - {SHORT_HELP[cmd]}\n")
    assert "USAGE:" in r.out
    assert r.err == ""


@pytest.mark.parametrize("spelling", ["-h", "-help", "--h", "--help=true"])
def test_help_spellings(cli, spelling):
    r = cli("state", spelling)
    assert r.code == 0
    assert r.out.startswith("NAME:\n   pyrunc state")


def test_help_command_and_topic(cli):
    r = cli("help", "kill")
    assert r.code == 0
    assert "pyrunc kill [command options] <container-id> [signal]" in r.out
    assert "--all, -a" in r.out


def test_help_unknown_topic_exits_3(cli):
    r = cli("help", "nosuch")
    assert r.code == 3
    assert "No help topic for 'nosuch'" in r.err


def test_root_help_lists_commands(cli):
    for args in (["--help"], ["-h"], [], ["help"], ["h"]):
        r = cli(*args, root=False)
        assert r.code == 0
        assert r.out.startswith("NAME:\n   pyrunc - Open Container Initiative runtime")
        for cmd, text in SHORT_HELP.items():
            assert f"   {cmd:<12}{text}\n" in r.out
        for flag in ("--root value", "--log value", "--log-format value", "--debug", "--systemd-cgroup", "--rootless value"):
            assert flag in r.out


def test_help_shows_runc_defaults(cli):
    assert '--format value, -f value  select one of: table or json (default: "table")' in cli("list", "-h").out
    assert "(default: 0)" in cli("create", "-h").out
    assert "--interval value  set the stats collection interval (default: 5s)" in cli("events", "-h").out


def test_help_hides_hidden_flags(cli):
    assert "--no-subreaper" not in cli("exec", "--help").out
    assert "--kernel-memory" not in cli("update", "--help").out
