"""Rootless: an unprivileged user made by the test runs `pyrunc spec
--rootless` and `pyrunc run` with its state under $XDG_RUNTIME_DIR/pyrunc,
as with runc: a user namespace mapping the user to root (more ranges through
newuidmap and /etc/subuid), no cgroups, devices bind-mounted from the host,
sysfs bound from the host where it cannot be mounted.

The user must be able to run pyrunc: the sources and the venv's packages
are world-readable, but the venv's interpreter may live in a private home
(pyenv under /root). Then the test runs the system's Python of the same
version on the same packages (PYTHONPATH; the extension is abi3), rather
than opening up /root or copying an interpreter."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import CGROUP_ROOT, is_pyrunc, traversable_dirs
from engines import run_to_files

pytestmark = pytest.mark.skipif(not is_pyrunc(), reason="drives pyrunc's CLI as another user")

REPO = Path(__file__).resolve().parents[2]


def _readable_by_others(path: Path) -> bool:
    path = Path(os.path.realpath(path))
    p = path.parent
    while True:
        if not p.stat().st_mode & 0o001:
            return False
        if p == p.parent:
            break
        p = p.parent
    return os.stat(path).st_mode & 0o004 != 0


def _python_for_others() -> tuple[list[str], dict[str, str]] | None:
    """An interpreter another user can run pyrunc with, and its extra env."""
    if _readable_by_others(Path(sys.executable)):
        return [sys.executable], {}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")
    purelib = Path(sysconfig.get_paths()["purelib"])
    if not system or not _readable_by_others(Path(system)) or not _readable_by_others(purelib / "click"):
        return None
    return [system, "-s"], {"PYTHONPATH": f"{REPO / 'python'}:{purelib}", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path
    runtime_dir: Path
    python: list[str]
    python_env: dict[str, str]

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(self.home),
               "XDG_RUNTIME_DIR": str(self.runtime_dir), "USER": self.name, "LOGNAME": self.name,
               **self.python_env}
        argv = [*self.python, "-m", "pyrunc", *args]
        rc, out, err = run_to_files(argv, timeout=timeout, cwd=cwd or self.home, env=env,
                                    user=self.uid, group=self.gid, extra_groups=[])
        return subprocess.CompletedProcess(argv, rc, out, err)

    def subid(self, kind: str) -> tuple[int, int]:
        for line in Path(f"/etc/sub{kind}").read_text().splitlines():
            name, start, count = line.split(":")
            if name == self.name:
                return int(start), int(count)
        raise AssertionError(f"no /etc/sub{kind} range for {self.name}")


def _remove_subids(name: str) -> None:
    for kind in ("uid", "gid"):
        path = Path(f"/etc/sub{kind}")
        if path.exists():
            lines = [ln for ln in path.read_text().splitlines() if not ln.startswith(f"{name}:")]
            path.write_text("".join(f"{ln}\n" for ln in lines))


@pytest.fixture
def user(tmp_path: Path) -> Iterator[User]:
    if not shutil.which("useradd"):
        pytest.skip("needs useradd")
    python = _python_for_others()
    if python is None or not _readable_by_others(REPO / "python" / "pyrunc" / "__init__.py"):
        pytest.skip("no Python and pyrunc sources that other users can read")
    name = f"pyrl{uuid.uuid4().hex[:8]}"
    # pytest's temp dirs are 0700: let the user through to its home.
    with traversable_dirs(tmp_path):
        home = tmp_path / "home"
        subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh",
                        "--user-group", name], check=True, capture_output=True)
        try:
            pw = pwd.getpwnam(name)
            if f"{name}:" not in Path("/etc/subuid").read_text():
                # Older shadow does not allocate ranges by itself.
                subprocess.run(["usermod", "--add-subuids", "1200000-1265535", "--add-subgids", "1200000-1265535",
                                name], check=True, capture_output=True)
            home.mkdir()
            run_dir = home / "run"
            run_dir.mkdir(mode=0o700)
            for p in (home, run_dir):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            u = User(name, pw.pw_uid, pw.pw_gid, home, run_dir, *python)
            yield u
            # Anything the test left is a failure, after it is cleaned up.
            left = u.run("list", "-q").stdout.split()
            for cid in left:
                u.run("delete", "-f", cid)
            assert left == [], f"left behind: {left}"
        finally:
            subprocess.run(["pkill", "-KILL", "-u", name], check=False, capture_output=True)
            subprocess.run(["userdel", name], check=False, capture_output=True)
            _remove_subids(name)


def _bundle(user: User, rootfs_template: Path, *args: str) -> Path:
    b = user.home / "bundle"
    shutil.copytree(rootfs_template, b / "rootfs", symlinks=True)
    for dirpath, dirs, files in os.walk(b):
        for n in [*dirs, *files]:
            os.lchown(os.path.join(dirpath, n), user.uid, user.gid)
    os.chown(b, user.uid, user.gid)
    r = user.run("spec", "--rootless", cwd=b)
    assert r.returncode == 0, r
    cfg = json.loads((b / "config.json").read_text())
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": user.uid, "size": 1}]
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = list(args)
    _write(b, cfg)
    return b


def _write(b: Path, cfg: dict[str, Any]) -> None:
    (b / "config.json").write_text(json.dumps(cfg, indent=2))


def test_rootless_run(user: User, rootfs_template: Path) -> None:
    script = ("id -u; cat /proc/self/uid_map; echo x > /dev/null && echo devnull-ok; "
              "ls /sys/kernel >/dev/null && echo sys-ok; hostname")
    b = _bundle(user, rootfs_template, "sh", "-c", script)
    cid = f"pyt-rl-{uuid.uuid4().hex[:6]}"
    r = user.run("run", cid, cwd=b)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", str(user.uid), "1"]
    assert lines[2:4] == ["devnull-ok", "sys-ok"]
    # The state lived under $XDG_RUNTIME_DIR/pyrunc, and is gone after run.
    assert (user.runtime_dir / "pyrunc").is_dir()
    assert list((user.runtime_dir / "pyrunc").iterdir()) == []
    # No cgroup was made (nothing is delegated to this user).
    assert not [p for p in Path(CGROUP_ROOT).glob(f"*/{cid}")]


def test_rootless_detached_lifecycle_and_devices(user: User, rootfs_template: Path) -> None:
    b = _bundle(user, rootfs_template, "sleep", "300")
    cid = f"pyt-rl-{uuid.uuid4().hex[:6]}"
    r = user.run("run", "-d", cid, cwd=b)
    assert r.returncode == 0, r
    try:
        st = json.loads(user.run("state", cid).stdout)
        assert st["status"] == "running"
        assert (user.runtime_dir / "pyrunc" / cid / "state.json").exists()
        with open(f"/proc/{st['pid']}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        assert uids == [str(user.uid)] * 4
        # Devices are binds of the host's nodes (mknod is not allowed in a userns).
        r = user.run("exec", cid, "grep", " /dev/null ", "/proc/self/mountinfo")
        assert r.returncode == 0 and "/dev/null" in r.stdout, r
        r = user.run("exec", cid, "sh", "-c", "echo hi > /dev/null && id -u")
        assert (r.returncode, r.stdout) == (0, "0\n"), r
    finally:
        r = user.run("delete", "-f", cid)
    assert r.returncode == 0, r


def test_rootless_sysfs_falls_back_to_a_bind(user: User, rootfs_template: Path) -> None:
    """A sysfs mount (as a non-rootless config has) cannot be made without a
    network namespace owned by the user namespace: the host's /sys is bound."""
    b = _bundle(user, rootfs_template, "sh", "-c", "grep ' /sys ' /proc/self/mountinfo; ls /sys/kernel >/dev/null")
    cfg = json.loads((b / "config.json").read_text())
    for m in cfg["mounts"]:
        if m["destination"] == "/sys":
            m.update({"type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]})
    _write(b, cfg)
    r = user.run("run", f"pyt-rl-{uuid.uuid4().hex[:6]}", cwd=b)
    assert r.returncode == 0, r
    assert " /sys " in r.stdout and "sysfs" in r.stdout


@pytest.mark.skipif(not shutil.which("newuidmap"), reason="needs newuidmap (package uidmap)")
def test_rootless_subuid_ranges_through_newuidmap(user: User, rootfs_template: Path) -> None:
    """Root is the user, uids 1..65536 come from its /etc/subuid range: the
    maps need newuidmap/newgidmap. A file made by container uid 1000 on a
    bind mount belongs to the subordinate uid on the host."""
    sub_uid, n_uid = user.subid("uid")
    sub_gid, n_gid = user.subid("gid")
    size = min(n_uid, n_gid, 65536)
    b = _bundle(user, rootfs_template, "sh", "-c", "cat /proc/self/uid_map; id -u; touch /out/f; cat /proc/self/setgroups")
    out = user.home / "out"
    out.mkdir(mode=0o777)
    os.chmod(out, 0o777)
    os.chown(out, user.uid, user.gid)
    (b / "rootfs" / "out").mkdir()
    os.chown(b / "rootfs" / "out", user.uid, user.gid)
    cfg = json.loads((b / "config.json").read_text())
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": user.uid, "size": 1},
                                   {"containerID": 1, "hostID": sub_uid, "size": size}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": user.gid, "size": 1},
                                   {"containerID": 1, "hostID": sub_gid, "size": size}]
    cfg["process"]["user"] = {"uid": 1000, "gid": 1000}
    cfg["mounts"].append({"destination": "/out", "type": "bind", "source": str(out), "options": ["rbind", "rw"]})
    _write(b, cfg)
    r = user.run("run", f"pyt-rl-{uuid.uuid4().hex[:6]}", cwd=b)
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert [ln.split() for ln in lines[:2]] == [["0", str(user.uid), "1"], ["1", str(sub_uid), str(size)]]
    assert lines[2] == "1000"
    # newgidmap wrote gid_map: setgroups stays allowed.
    assert lines[3] == "allow"
    st = os.stat(out / "f")
    assert (st.st_uid, st.st_gid) == (sub_uid + 999, sub_gid + 999)
    os.unlink(out / "f")
