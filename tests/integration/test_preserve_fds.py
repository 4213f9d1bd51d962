"""--preserve-fds and systemd socket activation (LISTEN_FDS/LISTEN_PID),
seen from inside the container."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Runtime, is_pyrunc


def run_with_fds(runtime: Runtime, files: list[Path], *args: str, listen: int | None = None,
                 listen_pid_ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The runtime with ``files`` open at fd 3, 4, ... (a shell does the
    redirects and then execs the runtime, so its pid is the shell's $$)."""
    redirs = " ".join(f'{3 + i}<"$F{i}"' for i in range(len(files)))
    env = {**os.environ, **{f"F{i}": str(f) for i, f in enumerate(files)}}
    pre = ""
    if listen is not None:
        pre = f"export LISTEN_FDS={listen} LISTEN_PID={'$$' if listen_pid_ok else '1'}; "
    argv = [*runtime.argv, "--root", str(runtime.root), *args]
    return subprocess.run(["sh", "-c", f'{pre}exec "$@" {redirs}', "sh", *argv], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def files(tmp_path: Path, *texts: str) -> list[Path]:
    out = []
    for i, t in enumerate(texts):
        p = tmp_path / f"f{i}"
        p.write_text(t)
        out.append(p)
    return out


SHOW = "echo fds $(ls /proc/self/fd | sort -n | tr '\\n' ' '); echo env ${LISTEN_FDS:-none} ${LISTEN_PID:-none}; " \
       "for f in 3 4; do cat /proc/self/fd/$f 2>/dev/null || echo no-$f; done"


def test_preserve_fds_run(runtime: Runtime, make_bundle: Any, tmp_path: Path) -> None:
    b = make_bundle("sh", "-c", SHOW)
    r = run_with_fds(runtime, files(tmp_path, "three\n", "four\n"), "run", "--preserve-fds", "2",
                     "-b", str(b.path), runtime.new_id())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # ls's own directory fd is the one after the preserved ones.
    assert lines[0] == "fds 0 1 2 3 4 5"
    assert lines[1:] == ["env none none", "three", "four"]


def test_preserve_fds_not_asked_for_do_not_leak(runtime: Runtime, make_bundle: Any, tmp_path: Path) -> None:
    b = make_bundle("sh", "-c", SHOW)
    r = run_with_fds(runtime, files(tmp_path, "three\n", "four\n"), "run", "--preserve-fds", "1",
                     "-b", str(b.path), runtime.new_id())
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2:] == ["three", "no-4"]


@pytest.mark.skipif(not is_pyrunc(), reason="runc 1.2 checks the fds; Debian's 1.1.5 does not")
def test_preserve_fds_missing_fd(runtime: Runtime, make_bundle: Any) -> None:
    b = make_bundle("true")
    cid = runtime.new_id()
    r = runtime("run", "--preserve-fds", "3", "-b", str(b.path), cid)
    assert r.rc == 1
    assert "unable to stat preserved-fd 0 (of 3)" in r.error_text()
    assert not (runtime.root / cid).exists()


def test_listen_fds_socket_activation(runtime: Runtime, make_bundle: Any, tmp_path: Path) -> None:
    b = make_bundle("sh", "-c", SHOW)
    r = run_with_fds(runtime, files(tmp_path, "listen\n", "extra\n"), "run", "--preserve-fds", "1",
                     "-b", str(b.path), runtime.new_id(), listen=1)
    assert r.returncode == 0, r.stderr
    # The activation fd comes first, then the preserved one; LISTEN_PID is
    # the container's pid 1.
    assert r.stdout.splitlines()[1:] == ["env 1 1", "listen", "extra"]


def test_listen_fds_for_another_pid_are_ignored(runtime: Runtime, make_bundle: Any, tmp_path: Path) -> None:
    b = make_bundle("sh", "-c", SHOW)
    r = run_with_fds(runtime, files(tmp_path, "listen\n"), "run", "-b", str(b.path), runtime.new_id(),
                     listen=1, listen_pid_ok=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1:] == ["env none none", "no-3", "no-4"]
