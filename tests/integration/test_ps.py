"""`ps`: json is the container's host pids (from its cgroup); table is the
host ps(1) output cut down to the container's lines."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Runtime, wait_for


@pytest.fixture
def running(runtime: Runtime, make_bundle: Any) -> Any:
    b = make_bundle("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    yield cid
    runtime("delete", "-f", cid)


def test_ps_json(runtime: Runtime, running: str, tmp_path: Path) -> None:
    init = runtime.state(running)["pid"]
    assert json.loads(runtime.ok("ps", "-f", "json", running).out) == [init]
    pid_file = tmp_path / "p"
    runtime.ok("exec", "-d", "--pid-file", str(pid_file), running, "sleep", "200")
    extra = int(pid_file.read_text())
    pids = json.loads(runtime.ok("ps", "--format", "json", running).out)
    assert sorted(pids) == sorted([init, extra])
    assert os.getpid() not in pids


def test_ps_table(runtime: Runtime, running: str) -> None:
    init = runtime.state(running)["pid"]
    lines = runtime.ok("ps", running).out.splitlines()
    assert lines[0].split()[:3] == ["UID", "PID", "PPID"]
    assert len(lines) == 2, lines
    assert int(lines[1].split()[1]) == init
    assert lines[1].endswith("sleep 300")


def test_ps_table_with_ps_args(runtime: Runtime, running: str) -> None:
    init = runtime.state(running)["pid"]
    out = runtime.ok("ps", running, "-o", "pid,args").out.splitlines()
    assert out[0].split() == ["PID", "COMMAND"]
    assert out[1:] == [f"{init:>7} sleep 300"] or [line.split() for line in out[1:]] == [[str(init), "sleep", "300"]]


def test_ps_args_without_pid_column(runtime: Runtime, running: str) -> None:
    r = runtime("ps", running, "-o", "comm")
    assert r.rc == 1
    assert r.error_text() == "couldn't find PID field in ps output"


def test_ps_stopped_container_is_empty(runtime: Runtime, make_bundle: Any) -> None:
    b = make_bundle("true")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(b.path), cid)
    try:
        wait_for(lambda: runtime.state(cid)["status"] == "stopped", what="stopped")
        assert json.loads(runtime.ok("ps", "-f", "json", cid).out) in ([], None)
    finally:
        runtime("delete", "-f", cid)


def test_ps_no_such_container(runtime: Runtime) -> None:
    r = runtime("ps", "pyt-none")
    assert r.rc == 1
    assert r.error_text() == "container does not exist"
