"""Helpers for the CLI tests: run pyrunc in-process (fast) or as a subprocess."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

import pytest
from pyrunc import log


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _reset_log():
    log.configure()
    yield
    log.configure()


@pytest.fixture
def state_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return str(root)


@pytest.fixture
def cli(capfd, state_root) -> Callable[..., Result]:
    """Run the CLI in this process with --root pointing at a temp dir."""
    from pyrunc.cli.main import run_cli

    def run(*args: str, root: bool = True) -> Result:
        capfd.readouterr()
        argv = (["--root", state_root] if root else []) + list(args)
        code = run_cli(argv)
        sys.stdout.flush()
        captured = capfd.readouterr()
        return Result(code, captured.out, captured.err)

    return run
