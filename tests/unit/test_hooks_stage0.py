"""Hooks run by stage 0: argv, env, stdin state, timeout, failure texts."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from pyrunc.container import hooks
from pyrunc.errors import HookError

STATE = {"ociVersion": "1.3.0", "id": "c1", "status": "creating", "pid": 1, "bundle": "/b"}


def test_hooks_get_state_args_env(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = {"hooks": {"prestart": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", f'cat > {out}; echo >> {out}; echo "$0 $1 $FOO" >> {out}', "first"],
        "env": ["FOO=bar"],
    }]}}
    hooks.run_hooks(cfg, "prestart", STATE)
    state_line, argv_line = out.read_text().splitlines()
    assert json.loads(state_line) == STATE
    assert argv_line == "first  bar"


def test_hooks_without_env_inherit_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYRUNC_HOOK_TEST", "yes")
    out = tmp_path / "out"
    cfg = {"hooks": {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c", f"echo $PYRUNC_HOOK_TEST > {out}"]}]}}
    hooks.run_hooks(cfg, "poststart", STATE)
    assert out.read_text() == "yes\n"


def test_hooks_failure_names_field(tmp_path: Path) -> None:
    cfg = {"hooks": {"createRuntime": [
        {"path": "/bin/true"},
        {"path": "/bin/sh", "args": ["sh", "-c", "echo oops >&2; exit 3"]},
    ]}}
    with pytest.raises(HookError) as e:
        hooks.run_hooks(cfg, "createRuntime", STATE)
    assert e.value.field == "hooks.createRuntime[1]"
    assert str(e.value) == "hooks.createRuntime[1]: error running hook: exit status 3, stdout: , stderr: oops\n"


def test_hooks_missing_executable() -> None:
    cfg = {"hooks": {"prestart": [{"path": "/nonexistent/hook"}]}}
    with pytest.raises(HookError, match=r"^hooks.prestart\[0\]: error running hook: /nonexistent/hook"):
        hooks.run_hooks(cfg, "prestart", STATE)


def test_hooks_timeout_kills(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    cfg = {"hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", f"echo $$ > {pidfile}; exec sleep 30"],
                                   "timeout": 1}]}}
    t = time.monotonic()
    with pytest.raises(HookError, match="timeout after 1 seconds"):
        hooks.run_hooks(cfg, "prestart", STATE)
    assert time.monotonic() - t < 10
    pid = int(pidfile.read_text())
    assert not os.path.exists(f"/proc/{pid}")  # killed and reaped


def test_hooks_poststop_failures_are_warnings(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = {"hooks": {"poststop": [{"path": "/bin/false"}, {"path": "/bin/sh", "args": ["sh", "-c", f": > {out}"]}]}}
    hooks.run_hooks(cfg, "poststop", STATE, warn_only=True)
    assert out.exists()  # the second hook still ran


def test_hooks_not_reading_stdin_is_fine() -> None:
    big = dict(STATE, annotations={"k": "x" * 200000})
    hooks.run_hooks({"hooks": {"prestart": [{"path": "/bin/true"}]}}, "prestart", big)


def test_hooks_signal_text() -> None:
    cfg = {"hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "kill -9 $$"]}]}}
    with pytest.raises(HookError, match="signal: killed"):
        hooks.run_hooks(cfg, "prestart", STATE)


def test_hooks_run_in_the_bundle(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = {"hooks": {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", f"pwd > {out}"]}]}}
    hooks.run_hooks(cfg, "prestart", dict(STATE, bundle=str(tmp_path)))
    assert out.read_text() == f"{tmp_path}\n"
