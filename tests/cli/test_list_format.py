"""`pyrunc list` output: runc's tabwriter table, JSON (null when empty), -q."""
from __future__ import annotations

import json

import pytest
from pyrunc.cli.list import render
from pyrunc.errors import PyruncError

C1 = {
    "ociVersion": "1.3.0",
    "id": "tst",
    "pid": 7682,
    "status": "running",
    "bundle": "/tmp/rb",
    "rootfs": "/tmp/rb/rootfs",
    "created": "2026-11-28T18:26:59.026729232Z",
    "owner": "root",
}
C2 = dict(C1, id="a-much-longer-container-id", pid=0, status="stopped", annotations={"k": "v"})


def test_list_table_empty_matches_runc():
    # `runc list` with no containers, byte for byte.
    assert render([]) == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"


def test_list_table_one_row_matches_runc():
    # Captured from `runc list` (runc 1.1.5) for the same state.
    assert render([C1]) == (
        "ID          PID         STATUS      BUNDLE      CREATED                          OWNER\n"
        "tst         7682        running     /tmp/rb     2026-11-28T18:26:59.026729232Z   root\n"
    )


def test_list_table_wide_column_gets_three_spaces():
    lines = render([C1, C2]).splitlines()
    assert lines[2].startswith("a-much-longer-container-id   0 ")
    assert lines[0].startswith("ID" + " " * (len("a-much-longer-container-id") + 3 - 2) + "PID")


def test_list_json():
    assert render([], "json") == "null\n"
    out = render([C2, C1], "json")
    assert out.endswith("\n") and "\n" not in out[:-1]
    data = json.loads(out)
    assert list(data[0]) == ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner"]
    assert "annotations" not in data[1]


def test_list_quiet_and_bad_format():
    assert render([C1, C2], "table", quiet=True) == "tst\na-much-longer-container-id\n"
    # runc checks -q before the format.
    assert render([C1], "yaml", quiet=True) == "tst\n"
    with pytest.raises(PyruncError, match="invalid format option"):
        render([C1], "yaml")


def test_list_cli_empty_root(cli):
    r = cli("list")
    assert r.code == 0
    assert r.out == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n"
    r = cli("list", "-f", "json")
    assert (r.code, r.out) == (0, "null\n")
    r = cli("list", "--format=yaml")
    assert r.code == 1 and "invalid format option" in r.err


def test_list_missing_explicit_root_is_an_error(cli, tmp_path):
    r = cli("--root", str(tmp_path / "missing"), "list", root=False)
    assert r.code == 1
    assert f"open {tmp_path / 'missing'}: no such file or directory" in r.err
