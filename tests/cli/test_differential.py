"""Exit codes and error messages against runc itself, for errors that need no
container. Each case runs only when pyrunc.container.lifecycle has the
function the command calls (it is written alongside the CLI)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("runc") is None, reason="runc not installed")


def _lifecycle_has(name: str | None) -> bool:
    if name is None:
        return True
    try:
        from pyrunc.container import lifecycle
    except ImportError:
        return False
    return hasattr(lifecycle, name)


def _run(prog: list[str], root: str, logfile: str, args: list[str]):
    argv = [*prog, "--root", root, "--log", logfile, "--log-format", "json", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    try:
        with open(logfile) as f:
            lines = [json.loads(x) for x in f.read().splitlines() if x.strip()]
    except FileNotFoundError:
        lines = []
    errors = [x["msg"] for x in lines if x.get("level") == "error"]
    return proc.returncode, proc.stdout, errors


CASES = [
    # (args, lifecycle function the command needs)
    (["state", "nonexistent"], "state"),
    (["delete", "nonexistent"], "delete"),
    (["delete", "-f", "nonexistent"], "delete"),
    (["delete", "--force=true", "nonexistent"], "delete"),
    (["kill", "nonexistent"], "kill"),
    (["kill", "nonexistent", "FOO"], "kill"),
    (["kill", "nonexistent", "--all", "a/b"], "kill"),
    (["kill", "a/b", "-a", "nonexistent"], "kill"),
    (["start", "nonexistent"], "start"),
    (["pause", "nonexistent"], "pause"),
    (["resume", "nonexistent"], "resume"),
    (["exec", "nonexistent", "ls"], "exec_process"),
    (["events", "--stats", "nonexistent"], "events"),
    (["ps", "nonexistent"], "ps"),
    (["list"], "list_containers"),
    (["list", "-f", "json"], "list_containers"),
    (["list", "-q"], "list_containers"),
    (["start"], None),
    (["kill"], None),
    (["kill", "a", "b", "c"], None),
    (["exec"], None),
    (["state", "a/b"], None),
    (["state", ".."], None),
    (["delete", "--", "a/b"], None),
    (["delete", "a/b", "--", "-x"], None),
    (["exec", "a/b", "ls"], None),
    (["state", "--bogus", "x"], None),
    (["delete", "-ff", "x"], None),
    (["delete", "--force=maybe", "x"], None),
    (["create", "--preserve-fds", "abc", "x"], None),
    (["list", "extra"], None),
    (["list", "-f"], None),
    (["nosuch"], None),
    (["--bogus", "list"], None),
    (["--log-format", "xml", "list"], None),
]


@pytest.mark.parametrize("args,needs", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_differential_error_cases(tmp_path, args, needs):
    if not _lifecycle_has(needs):
        pytest.skip(f"pyrunc.container.lifecycle.{needs} not there yet")
    (tmp_path / "runc").mkdir()
    (tmp_path / "ours").mkdir()
    rc_runc, out_runc, err_runc = _run(["runc"], str(tmp_path / "runc"), str(tmp_path / "runc.log"), args)
    rc_ours, out_ours, err_ours = _run(
        [sys.executable, "-m", "pyrunc"], str(tmp_path / "ours"), str(tmp_path / "ours.log"), args
    )
    assert rc_ours == rc_runc
    # The same single error line (containerd keeps the last), modulo the name.
    assert [m.replace("runc", "pyrunc") for m in err_runc[-1:]] == err_ours[-1:]
    assert len(err_ours) == len(err_runc)
    # stdout: the "Incorrect Usage" line, or the command's output.
    first = lambda s: s.split("\n", 1)[0]
    assert first(out_ours) == first(out_runc).replace("runc", "pyrunc")
