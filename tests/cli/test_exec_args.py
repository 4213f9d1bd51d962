"""exec and ps take what follows the container id as the payload's arguments."""
from __future__ import annotations

import click
import pytest
from pyrunc.cli import exec as exec_cmd
from pyrunc.cli import kill as kill_cmd
from pyrunc.cli import ps as ps_cmd
from pyrunc.container import ps as ps_mod
from pyrunc.errors import PyruncError


def parsed(cmd: click.Command, args):
    ctx = cmd.make_context(cmd.name, list(args))
    return ctx.params, ctx.meta.get("pyrunc.given", set())


def test_exec_args_stop_at_first_positional():
    params, _ = parsed(exec_cmd.cli, ["-t", "--env", "A=1", "ctr", "sh", "-c", "echo -t", "--tty"])
    assert params["args"] == ["ctr", "sh", "-c", "echo -t", "--tty"]
    assert params["tty"] is True
    assert params["env"] == ("A=1",)


def test_exec_args_flags_after_id_belong_to_command():
    params, given = parsed(exec_cmd.cli, ["ctr", "--detach", "ls"])
    assert params["detach"] is False and "detach" not in given
    assert params["args"] == ["ctr", "--detach", "ls"]


def test_exec_kwargs_drop_one_double_dash_after_id():
    params, given = parsed(exec_cmd.cli, ["ctr", "--", "ls", "--", "-l"])
    kw = exec_cmd.exec_kwargs(params["args"][1:], params, given)
    assert kw["args"] == ["ls", "--", "-l"]


def test_exec_kwargs_tty_and_nnp_only_when_given():
    params, given = parsed(exec_cmd.cli, ["ctr", "ls"])
    kw = exec_cmd.exec_kwargs(params["args"][1:], params, given)
    assert kw["tty"] is None and kw["no_new_privs"] is None
    params, given = parsed(exec_cmd.cli, ["--tty=false", "--no-new-privs", "ctr", "ls"])
    kw = exec_cmd.exec_kwargs(params["args"][1:], params, given)
    assert kw["tty"] is False and kw["no_new_privs"] is True


def test_exec_kwargs_user_and_gids():
    params, given = parsed(exec_cmd.cli, ["-u", "1000:100", "-g", "5", "--additional-gids=6", "ctr", "id"])
    kw = exec_cmd.exec_kwargs(params["args"][1:], params, given)
    assert (kw["uid"], kw["gid"], kw["additional_gids"]) == (1000, 100, [5, 6])
    with pytest.raises(PyruncError, match="bad uid"):
        exec_cmd.parse_user("root")
    with pytest.raises(PyruncError, match="bad gid"):
        exec_cmd.parse_user("0:wheel")


def test_exec_kwargs_caps_env_cgroup_repeat_without_comma_split():
    params, given = parsed(
        exec_cmd.cli, ["--cap", "CAP_A,CAP_B", "-c", "CAP_C", "-e", "X=1,2", "--cgroup", "cpu,memory:sub", "ctr", "x"]
    )
    kw = exec_cmd.exec_kwargs(params["args"][1:], params, given)
    assert kw["caps"] == ["CAP_A,CAP_B", "CAP_C"]
    assert kw["env"] == ["X=1,2"]
    assert kw["cgroups"] == ["cpu,memory:sub"]


def test_exec_kwargs_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params, given = parsed(exec_cmd.cli, ["--pid-file", "p", "-p", "proc.json", "ctr"])
    kw = exec_cmd.exec_kwargs(params["args"][1:], params, given)
    assert kw["pid_file"] == str(tmp_path / "p")
    assert kw["process"] == str(tmp_path / "proc.json")


def test_ps_args_after_id_are_ps_options():
    params, _ = parsed(ps_cmd.cli, ["ctr", "-f", "json"])
    assert params["format"] == "table"
    assert params["args"] == ["ctr", "-f", "json"]
    params, _ = parsed(ps_cmd.cli, ["-f", "json", "ctr"])
    assert params["format"] == "json"


def test_kill_interspersed_flags():
    params, _ = parsed(kill_cmd.cli, ["ctr", "KILL", "--all"])
    assert params["all"] is True and params["args"] == ["ctr", "KILL"]
    params, _ = parsed(kill_cmd.cli, ["-a", "ctr", "9"])
    assert params["all"] is True and params["args"] == ["ctr", "9"]


def test_ps_filter_keeps_header_and_container_pids():
    out = "UID PID PPID CMD\nroot 1 0 init\nroot 42 1 sleep\nroot 43 1 sh\n"
    assert ps_mod.filter_ps(out, [42]) == "UID PID PPID CMD\nroot 42 1 sleep\n"
    with pytest.raises(PyruncError, match="couldn't find PID field"):
        ps_mod.filter_ps("UID CMD\n", [1])
