from __future__ import annotations

import re
import sys

import pyrunc
import pytest


@pytest.mark.parametrize("flag", ["--version", "-v", "-version", "--v"])
def test_version_shape(cli, flag):
    r = cli(flag, root=False)
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0] == f"pyrunc version {pyrunc.__version__}"
    assert re.match(r"^commit: \S+$", lines[1])
    assert lines[2] == "spec: 1.3.0"
    assert lines[3] == "python: " + ".".join(map(str, sys.version_info[:3]))


def test_version_false_runs_the_command(cli):
    r = cli("--version=false", "list")
    assert r.code in (0, 1)
    assert "pyrunc version" not in r.out
