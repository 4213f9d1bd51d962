"""Every flag runc lists for a command (and globally) is one pyrunc accepts,
with the same kind (bool or value)."""
from __future__ import annotations

import importlib
import re
import shutil
import subprocess

import pytest
from pyrunc.cli.command import RuncOption
from pyrunc.cli.lazy import SHORT_HELP

pytestmark = pytest.mark.skipif(shutil.which("runc") is None, reason="runc not installed")

FLAG_LINE = re.compile(r"^\s{3}(--[\w-]+(?: value)?(?:, -{1,2}[\w-]+(?: value)?)*)\s{2,}")


def runc_flags(args: list[str]) -> dict[str, str]:
    out = subprocess.run(["runc", *args, "--help"], capture_output=True, text=True, timeout=60, check=False).stdout
    flags: dict[str, str] = {}
    in_options = False
    for line in out.splitlines():
        if line.endswith("OPTIONS:"):
            in_options = True
            continue
        m = FLAG_LINE.match(line) if in_options else None
        if not m:
            continue
        for part in m.group(1).split(", "):
            name, _, value = part.partition(" ")
            flags[name.lstrip("-")] = "value" if value else "bool"
    return flags


def our_flags(params) -> dict[str, str]:
    out = {}
    for p in params:
        if isinstance(p, RuncOption):
            for name in p.flag_spec().names:
                out[name] = "bool" if p.go_kind == "bool" else "value"
    return out


@pytest.mark.parametrize("cmd", [c for c in SHORT_HELP if c != "features"])
def test_flags_parity_with_runc(cmd):
    theirs = runc_flags([cmd])
    ours = our_flags(importlib.import_module(f"pyrunc.cli.{cmd}").cli.params)
    if not theirs:  # start, state, pause, resume: runc has no flags there
        assert ours == {}
    missing = {k: v for k, v in theirs.items() if ours.get(k) != v and k not in ("help", "h")}
    assert missing == {}


def test_flags_parity_global():
    from pyrunc.cli.main import cli

    theirs = runc_flags([])
    ours = our_flags(cli.params)
    missing = {k: v for k, v in theirs.items() if ours.get(k) != v and k not in ("help", "h", "version", "v")}
    assert missing == {}
