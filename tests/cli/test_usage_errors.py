"""Usage errors: runc's texts, help on stdout, one error line, exit 1 (not click's 2)."""
from __future__ import annotations

import pytest
from pyrunc.cli.lazy import SHORT_HELP

ONE_ID = ["start", "state", "pause", "resume", "delete", "events", "update", "create", "run", "checkpoint", "restore"]


@pytest.mark.parametrize("cmd", ONE_ID)
def test_usage_missing_id(cli, cmd):
    r = cli(cmd)
    assert r.code == 1
    assert r.out.startswith("Incorrect Usage.\n\nNAME:\n   pyrunc " + cmd)
    assert r.err.count("level=error") == 1
    assert f'msg="pyrunc: \\"{cmd}\\" requires exactly 1 argument(s)"' in r.err


@pytest.mark.parametrize("cmd", ["start", "state", "delete"])
def test_usage_too_many_args(cli, cmd):
    r = cli(cmd, "a", "b")
    assert r.code == 1
    assert "requires exactly 1 argument(s)" in r.err


def test_usage_kill_arg_counts(cli):
    r = cli("kill")
    assert r.code == 1 and 'requires a minimum of 1 argument(s)' in r.err
    r = cli("kill", "a", "b", "c")
    assert r.code == 1 and 'requires a maximum of 2 argument(s)' in r.err


@pytest.mark.parametrize("cmd", ["exec", "ps"])
def test_usage_min_args(cli, cmd):
    r = cli(cmd)
    assert r.code == 1
    assert f'\\"{cmd}\\" requires a minimum of 1 argument(s)' in r.err


@pytest.mark.parametrize("cmd", ["list", "spec", "features"])
def test_usage_no_args_allowed(cli, cmd):
    r = cli(cmd, "extra")
    assert r.code == 1
    assert f'\\"{cmd}\\" requires exactly 0 argument(s)' in r.err


def test_usage_unknown_flag(cli):
    r = cli("state", "--bogus", "x")
    assert r.code == 1
    assert r.out.startswith("Incorrect Usage: flag provided but not defined: -bogus\n\nNAME:")
    assert 'msg="flag provided but not defined: -bogus"' in r.err


def test_usage_unknown_global_flag(cli):
    r = cli("--bogus", "list", root=False)
    assert r.code == 1
    assert r.out.startswith("Incorrect Usage. flag provided but not defined: -bogus\n\nNAME:\n   pyrunc -")
    assert r.err.count("level=error") == 1


def test_usage_combined_short_flags_are_not_split(cli):
    r = cli("delete", "-ff", "x")
    assert r.code == 1
    assert "flag provided but not defined: -ff" in r.err


def test_usage_bad_values(cli):
    r = cli("create", "--preserve-fds", "abc", "x")
    assert r.code == 1
    assert 'invalid value \\"abc\\" for flag -preserve-fds: parse error' in r.err
    r = cli("delete", "--force=maybe", "x")
    assert r.code == 1
    assert 'invalid boolean value \\"maybe\\" for -force: parse error' in r.err


def test_usage_unknown_command_exits_3(cli):
    r = cli("nosuch")
    assert r.code == 3
    assert 'msg="No help topic for \'nosuch\'\\n"' in r.err


@pytest.mark.parametrize("bad", ["a/b", ".", "..", "a b", "", "x\ny", "é"])
@pytest.mark.parametrize("cmd", ["state", "start", "delete", "kill", "pause", "resume", "create", "run", "events"])
def test_usage_invalid_container_id(cli, cmd, bad):
    r = cli(cmd, bad)
    assert r.code == 1
    assert 'msg="invalid container ID format"' in r.err


@pytest.mark.parametrize("good", ["a", "A-b_c.d+e", "-x", "1"])
def test_usage_valid_ids_pass_validation(good):
    from pyrunc.cli.context import validate_id

    assert validate_id(good) == good


def test_usage_exec_invalid_id_exits_255(cli):
    r = cli("exec", "a/b", "ls")
    assert r.code == 255
    assert 'msg="exec failed: invalid container ID format"' in r.err


def test_usage_invalid_log_format(cli):
    r = cli("--log-format", "xml", "list")
    assert r.code == 1
    assert "invalid log-format: xml" in r.err


def test_usage_root_slash_refused(cli):
    r = cli("--root", "/", "list", root=False)
    assert r.code == 1
    assert "Option --root argument should not be set to /" in r.err


def test_usage_bad_rootless_value(cli):
    r = cli("--rootless", "maybe", "list")
    assert r.code == 1
    assert "invalid --rootless value" in r.err


def test_usage_checkpoint_restore_not_implemented(cli):
    for cmd in ("checkpoint", "restore"):
        r = cli(cmd, "--image-path", "/tmp/x", "ctr")
        assert r.code == 1
        assert f"{cmd} is not implemented yet" in r.err
        assert "Traceback" not in r.err


def test_usage_every_command_is_listed():
    assert sorted(SHORT_HELP) == sorted(
        ["checkpoint", "create", "delete", "events", "exec", "features", "kill", "list", "pause", "ps", "restore", "resume", "run", "spec", "start", "state", "update"]
    )


def test_usage_relative_root_is_made_absolute(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel").mkdir()
    from pyrunc.cli.context import GlobalOptions
    from pyrunc.cli.main import cli as root_group

    ctx = root_group.make_context("pyrunc", ["--root", "rel", "list"])
    with ctx:
        ctx.invoke(root_group.callback, **ctx.params)
        assert isinstance(ctx.obj, GlobalOptions)
        assert ctx.obj.root == str(tmp_path / "rel")


def test_usage_python_dash_m(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "pyrunc", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and proc.stdout.startswith("pyrunc version ")


def test_usage_unexpected_error_traceback_only_with_debug(cli, monkeypatch):
    from pyrunc.cli import state

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(state, "do_state", boom)
    r = cli("state", "x")
    assert r.code == 1
    assert 'msg=kaboom' in r.err and "Traceback" not in r.err
    r = cli("--debug", "state", "x")
    assert r.code == 1
    assert "Traceback" in r.err and r.err.count("level=error") == 1
