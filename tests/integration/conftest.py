"""Fixtures for real containers: a busybox rootfs, bundles, the runtime CLI, and
a leftover check that fails any test leaving state dirs, mounts, cgroups or
processes behind.

``PYRUNC_RUNTIME=runc pytest tests/integration`` runs the same tests against
another runtime binary, to check the tests themselves.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from engines import cgroup_dirs, mounts_under, remove_cgroup_tree, run_to_files

BUSYBOX = "/bin/busybox"
CGROUP_ROOT = "/sys/fs/cgroup"
ID_PREFIX = "pyt-"

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="integration tests need root")
needs_busybox = pytest.mark.skipif(not os.path.exists(BUSYBOX), reason="needs busybox-static at /bin/busybox")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(needs_root)
            item.add_marker(needs_busybox)


def runtime_argv() -> list[str]:
    other = os.environ.get("PYRUNC_RUNTIME")
    if other:
        return [other]
    return [sys.executable, "-m", "pyrunc"]


def is_pyrunc() -> bool:
    return not os.environ.get("PYRUNC_RUNTIME")


# ---------------------------------------------------------------- rootfs, bundle


@pytest.fixture(scope="session")
def rootfs_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minimal rootfs: /bin/busybox (static) and a symlink per applet."""
    root = tmp_path_factory.mktemp("rootfs-template") / "rootfs"
    for d in ("bin", "dev", "proc", "sys", "etc", "tmp", "root"):
        (root / d).mkdir(parents=True)
    os.chmod(root / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox" and "/" not in a:
            os.symlink("busybox", root / "bin" / a)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return root


class Bundle:
    """A bundle dir with config.json from ``pyrunc.spec.default.default_spec()``."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.rootfs = path / "rootfs"

    def set_args(self, *args: str) -> Bundle:
        self.config["process"]["args"] = list(args)
        return self.write()

    def update(self, fn: Callable[[dict[str, Any]], None]) -> Bundle:
        fn(self.config)
        return self.write()

    def add_bind(self, host_dir: Path, dest: str) -> Bundle:
        """A writable bind mount (the default rootfs is read-only)."""
        host_dir.mkdir(exist_ok=True)
        self.config["mounts"].append({"destination": dest, "type": "bind", "source": str(host_dir),
                                      "options": ["rbind", "rw"]})
        return self.write()

    def write(self) -> Bundle:
        (self.path / "config.json").write_text(json.dumps(self.config, indent=2))
        return self


@pytest.fixture
def make_bundle(tmp_path: Path, rootfs_template: Path) -> Callable[..., Bundle]:
    from pyrunc.spec.default import default_spec

    n = [0]

    def make(*args: str) -> Bundle:
        n[0] += 1
        path = tmp_path / f"bundle{n[0]}"
        path.mkdir()
        shutil.copytree(rootfs_template, path / "rootfs", symlinks=True)
        cfg = copy.deepcopy(default_spec())
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = list(args) or ["true"]
        return Bundle(path, cfg).write()

    return make


@pytest.fixture
def bundle(make_bundle: Callable[..., Bundle]) -> Bundle:
    return make_bundle()


# ---------------------------------------------------------------- the runtime


class Result:
    def __init__(self, rc: int, out: str, err: str) -> None:
        self.rc = rc
        self.out = out
        self.err = err

    def __repr__(self) -> str:
        return f"Result(rc={self.rc}, out={self.out!r}, err={self.err!r})"

    def error_text(self) -> str:
        """The msg of the last logrus error line on stderr (runc's and pyrunc's shape)."""
        for line in reversed(self.err.splitlines()):
            m = _MSG_RE.search(line) if "level=error" in line else None
            if m:
                v = m.group(1)
                return json.loads(v) if v.startswith('"') else v
        return self.err.strip()


_MSG_RE = re.compile(r'msg=("(?:[^"\\]|\\.)*"|\S+)')


class Runtime:
    """Runs the runtime's CLI with a --root of its own. Output always goes to
    files: a container created by ``create`` keeps its stdio, and a pipe it
    holds would never reach EOF."""

    def __init__(self, root: Path, argv: list[str], ids: list[str] | None = None) -> None:
        self.root = root
        self.argv = argv
        self.ids: list[str] = ids if ids is not None else []

    def new_id(self, name: str = "c") -> str:
        cid = f"{ID_PREFIX}{name}-{uuid.uuid4().hex[:8]}"
        self.ids.append(cid)
        return cid

    def popen(self, *args: str, stdin: Any = subprocess.DEVNULL, **kw: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*self.argv, "--root", str(self.root), *args], stdin=stdin, **kw)

    def __call__(self, *args: str, timeout: float = 60, input: bytes | None = None) -> Result:
        return Result(*run_to_files([*self.argv, "--root", str(self.root), *args], input=input, timeout=timeout))

    def ok(self, *args: str, **kw: Any) -> Result:
        r = self(*args, **kw)
        assert r.rc == 0, f"{args}: {r}"
        return r

    def state(self, cid: str) -> dict[str, Any]:
        return json.loads(self.ok("state", cid).out)


@pytest.fixture
def runtimes() -> list[Runtime]:
    """The runtimes a test used, for the leftover check (which cleans up too)."""
    return []


@pytest.fixture
def runtime(tmp_path: Path, runtimes: list[Runtime]) -> Runtime:
    rt = Runtime(tmp_path / "state-root", runtime_argv())
    runtimes.append(rt)
    return rt


@pytest.fixture
def runc(tmp_path: Path, runtimes: list[Runtime]) -> Runtime:
    """Debian's runc, for differential checks."""
    path = shutil.which("runc")
    if not path:
        pytest.skip("runc is not installed")
    rt = Runtime(tmp_path / "runc-root", [path])
    runtimes.append(rt)
    return rt


# ---------------------------------------------------------------- leftovers


def _procs_under(path: str) -> list[int]:
    """Processes whose root is one of the rootfs dirs under ``path`` (after
    pivot_root, /proc/PID/root reads as "/": compare inodes instead), or whose
    cwd is under ``path`` (hooks and helpers)."""
    roots = set()
    for dirpath, dirs, _files in os.walk(path):
        if os.path.basename(dirpath) == "rootfs":
            st = os.stat(dirpath)
            roots.add((st.st_dev, st.st_ino))
            dirs[:] = []
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            st = os.stat(f"/proc/{name}/root")
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in roots or cwd.startswith(path):
            out.append(int(name))
    return out


@pytest.fixture(autouse=True)
def no_leftovers(tmp_path: Path, runtimes: list[Runtime]) -> Iterator[None]:
    yield
    ids = [cid for rt in runtimes for cid in rt.ids]
    problems = []
    state_dirs = [str(p) for rt in runtimes if rt.root.exists() for p in rt.root.iterdir()]
    if state_dirs:
        problems.append(f"state dirs {state_dirs}")
        for rt in runtimes:
            for cid in rt.ids:
                if (rt.root / cid).exists():
                    rt("delete", "-f", cid, timeout=30)
    deadline = time.monotonic() + 5
    while True:
        procs = _procs_under(str(tmp_path))
        if not procs or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # a killed container may take a moment to go
    if procs:
        problems.append(f"processes {procs}")
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for rt in runtimes:
        if rt.root.exists():
            for p in rt.root.iterdir():
                shutil.rmtree(p, ignore_errors=True)
    mounts = mounts_under(str(tmp_path))
    if mounts:
        problems.append(f"mounts {mounts}")
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False)
    cgs = [c for cid in ids for c in cgroup_dirs(cid)]
    if cgs:
        problems.append(f"cgroups {cgs}")
        for c in cgs:
            remove_cgroup_tree(c)
    if problems:
        pytest.fail("left behind: " + "; ".join(problems))


# ---------------------------------------------------------------- helpers


@contextlib.contextmanager
def traversable_dirs(path: Path) -> Iterator[None]:
    """o+x on ``path`` and its parents for the block (pytest's temp dirs are
    0700), so a container root mapped to an unprivileged host uid, or another
    user, reaches what lies below; the modes are restored afterwards."""
    saved = []
    for p in [path, *path.parents]:
        if p == Path("/"):
            break
        mode = p.stat().st_mode & 0o7777
        if not mode & 0o001:
            saved.append((p, mode))
            os.chmod(p, mode | 0o001)
    try:
        yield
    finally:
        for p, mode in saved:
            os.chmod(p, mode)


@pytest.fixture
def traversable(tmp_path: Path) -> Iterator[None]:
    """The test's bundle dirs reachable by a container root mapped to an
    unprivileged host uid (see :func:`traversable_dirs`)."""
    with traversable_dirs(tmp_path):
        yield


def wait_for(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = check()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def wait_stopped(rt: Runtime, cid: str, timeout: float = 10) -> None:
    wait_for(lambda: rt.state(cid)["status"] == "stopped", timeout, f"{cid} stopped")


def pid_gone(pid: int) -> bool:
    """Gone or a zombie (a zombie is dead, only not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] in "ZX"
    except (OSError, IndexError):
        return True


def state_schema_validator() -> Any:
    import jsonschema

    schema_dir = Path(__file__).resolve().parents[3] / "shared" / "oci-runtime-spec" / "schema"
    if not schema_dir.exists():
        pytest.skip("runtime-spec schemas not found")
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    resources = []
    for f in schema_dir.glob("*.json"):
        contents = json.loads(f.read_text())
        resources.append((f.as_uri(), Resource.from_contents(contents, default_specification=DRAFT4)))
    schema = json.loads((schema_dir / "state-schema.json").read_text())
    # Draft 4's "id" gives the relative $refs ("defs.json#...") their base.
    schema["id"] = (schema_dir / "state-schema.json").as_uri()
    return jsonschema.Draft4Validator(schema, registry=Registry().with_resources(resources))
