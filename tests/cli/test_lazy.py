"""`pyrunc --help` and `--version` import no command module and nothing heavy."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from pyrunc.cli.lazy import SHORT_HELP

PROBE = """
import sys
from pyrunc.cli.main import run_cli
code = run_cli(sys.argv[1:])
sys.stdout.flush()
print(repr({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""

HEAVY = ["pyrunc._native", "pyrunc.container", "pyrunc.spec", "pyrunc.cgroups", "pyrunc.api", "subprocess"]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["-v"], []])
def test_lazy_root_imports_nothing_heavy(args):
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, check=False)
    info = ast.literal_eval(proc.stderr.strip().splitlines()[-1])
    assert info["code"] == 0
    modules = set(info["modules"])
    loaded_cmds = [c for c in SHORT_HELP if f"pyrunc.cli.{c}" in modules]
    assert loaded_cmds == []
    assert [m for m in HEAVY if m in modules] == []


def test_lazy_command_imports_only_itself():
    proc = subprocess.run([sys.executable, "-c", PROBE, "state", "--help"], capture_output=True, text=True, timeout=60, check=False)
    modules = set(ast.literal_eval(proc.stderr.strip().splitlines()[-1])["modules"])
    assert "pyrunc.cli.state" in modules
    assert [c for c in SHORT_HELP if c != "state" and f"pyrunc.cli.{c}" in modules] == []
