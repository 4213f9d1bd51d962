"""Attacks from runc's CVE history, each against a real container.

- CVE-2019-5736: the container must not reach a host binary through
  /proc/PID/exe (the init runs from a sealed memfd, never a host file).
- fd leaks: the container's process has only its stdio (and preserved fds).
- CVE-2024-21626: a cwd of /proc/self/fd/N must not land outside the rootfs.
- CVE-2025-31133: maskedPaths are masked with the real /dev/null, not with
  whatever the rootfs put there.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyrunc
import pytest
from conftest import Bundle, Runtime, is_pyrunc


def _sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _host_binaries() -> list[str]:
    import pyrunc._native as native

    return [os.path.realpath(sys.executable), os.path.realpath(native.__file__)]


def test_security_init_exe_is_sealed_memfd(runtime: Runtime, bundle: Bundle) -> None:
    """A created container's init is not a host file: /proc/PID/exe is a memfd
    and even host root cannot open it for writing."""
    if not is_pyrunc():
        pytest.skip("pyrunc's memfd init")
    bundle.set_args("sleep", "60")
    cid = runtime.new_id()
    runtime.ok("create", "-b", str(bundle.path), cid)
    try:
        pid = runtime.state(cid)["pid"]
        exe = os.readlink(f"/proc/{pid}/exe")
        assert exe.startswith("/memfd:"), exe
        with pytest.raises(OSError):
            fd = os.open(f"/proc/{pid}/exe", os.O_WRONLY)
            try:
                os.write(fd, b"pwned")
            finally:
                os.close(fd)
    finally:
        runtime.ok("delete", "-f", cid)


def test_security_proc_self_exe_entrypoint(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """CVE-2019-5736: a `#!/proc/self/exe` entrypoint, while another process in
    the container keeps trying to write through /proc/PID/exe of every process
    it can see. No host binary may change."""
    before = {p: _sha(p) for p in _host_binaries()}
    evil = bundle.rootfs / "evil"
    evil.write_text("#!/proc/self/exe\n")
    evil.chmod(0o755)
    attack = (
        "i=0; while [ $i -lt 200 ]; do "
        "  /evil >/dev/null 2>&1 & "
        "  for p in /proc/[0-9]*; do echo pwned 2>/dev/null >> $p/exe && echo WROTE $p; done; "
        "  wait; i=$((i+1)); "
        "done; echo done"
    )
    bundle.set_args("sh", "-c", attack)
    r = runtime("run", "-b", str(bundle.path), runtime.new_id(), timeout=120)
    assert r.rc == 0, r
    assert r.out.strip().endswith("done")
    assert "WROTE" not in r.out, r.out
    assert {p: _sha(p) for p in _host_binaries()} == before


def test_security_no_leaked_fds(runtime: Runtime, bundle: Bundle) -> None:
    """The process starts with fds 0, 1 and 2 only (ls, a child, lists the
    shell's fds, so its own directory fd is not among them)."""
    bundle.set_args("sh", "-c", "ls /proc/$$/fd; true")  # "; true": sh must not exec ls
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert r.out.split() == ["0", "1", "2"], r.out


def test_security_no_leaked_fds_with_preserve(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """With --preserve-fds 2, fds 3 and 4 are kept and nothing else."""
    import shlex

    bundle.set_args("sh", "-c", "ls /proc/$$/fd; true")  # "; true": sh must not exec ls
    cid = runtime.new_id()
    argv = " ".join(shlex.quote(a) for a in [*runtime.argv, "--root", str(runtime.root), "run",
                                              "--preserve-fds", "2", "-b", str(bundle.path), cid])
    # fds 3, 4 preserved; fds 5 and 6 open in the caller too, not preserved.
    r = subprocess.run(["sh", "-c", f"exec 3</dev/null 4</dev/null 5</dev/null 6</dev/null; exec {argv}"],
                       check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r
    assert r.stdout.split() == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("fd", range(3, 10))
def test_security_cwd_through_leaked_fd(runtime: Runtime, bundle: Bundle, tmp_path: Path, fd: int) -> None:
    """CVE-2024-21626: cwd /proc/self/fd/N must not give a host directory."""
    canary = tmp_path / "canary"
    canary.write_text("HOSTSECRET\n")
    # From a cwd outside the root, ".." climbs to the host's real root.
    up = "../" * 40 + str(canary).lstrip("/")
    bundle.update(lambda c: c["process"].update(cwd=f"/proc/self/fd/{fd}"))
    bundle.set_args("sh", "-c", f"cat {up} 2>/dev/null; cat /proc/self/cwd/{up} 2>/dev/null; pwd")
    cid = runtime.new_id()
    r = runtime("run", "-b", str(bundle.path), cid)
    assert "HOSTSECRET" not in r.out, r
    assert not (runtime.root / cid).exists()


def test_security_masked_paths_use_real_dev_null(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    """CVE-2025-31133: the rootfs's /dev/null is a symlink to a host file and
    /dev is not a tmpfs; masking must not bind that file over masked paths."""
    if not is_pyrunc():
        pytest.skip("Debian's runc 1.1.5 predates the CVE-2025-31133 fix")
    target = tmp_path / "host-file"
    target.write_text("host file\n")
    (bundle.rootfs / "dev").mkdir(exist_ok=True)
    os.symlink(str(target), bundle.rootfs / "dev" / "null")
    bundle.update(lambda c: c.update(mounts=[m for m in c["mounts"] if m["destination"] not in (
        "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue")]))
    bundle.set_args("sh", "-c", 'stat -c "%F %t:%T" /dev/null; wc -c < /proc/kcore; echo ok')
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert target.read_text() == "host file\n"
    if r.rc != 0:
        assert "/dev/null" in r.err, r  # refusing is fine, if it says why
        return
    assert r.out.splitlines() == ["character special file 1:3", "0", "ok"], r


def test_security_python_not_reachable(runtime: Runtime, bundle: Bundle) -> None:
    """Nothing in the container maps the host's Python or the extension."""
    bundle.set_args("sh", "-c", "cat /proc/1/maps /proc/self/maps 2>/dev/null; ls -l /proc/*/exe 2>/dev/null")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    for needle in ("python", "_native", "pyrunc"):
        assert needle not in r.out.lower(), (needle, r.out)
    assert pyrunc.__version__  # the host side is importable, the container side is not


@pytest.mark.parametrize("link", ["absolute", "dotdot"])
def test_security_mount_destination_symlink_stays_in_rootfs(
    runtime: Runtime, bundle: Bundle, tmp_path: Path, link: str
) -> None:
    """A symlink in the image must not carry a mount destination (or the
    directories made for it) out of the rootfs onto the host."""
    host_dir = tmp_path / "host-target"
    host_dir.mkdir()
    target = str(host_dir) if link == "absolute" else "../../../../../../../../.." + str(host_dir)
    os.symlink(target, bundle.rootfs / "escape")
    bundle.update(lambda c: c["mounts"].append(
        {"destination": "/escape/sub", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}))
    bundle.update(lambda c: c["root"].update(readonly=False))
    bundle.set_args("sh", "-c", "touch /escape/sub/inside && echo ok")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert list(host_dir.iterdir()) == [], "the host directory was written through the symlink"
    assert r.rc == 0, r
    assert r.out.strip() == "ok"
    # The path resolved inside the rootfs instead.
    assert (bundle.rootfs / str(host_dir).lstrip("/") / "sub").is_dir()
