"""Real container engines driving pyrunc: podman (``--runtime``) and containerd
(``ctr --runc-binary``), each confined to a temp dir of its own.

No image registry is reachable, so the busybox image is built here: a rootfs tar
from /bin/busybox, imported into podman as is and into containerd as an OCI image
archive written by hand. Engines exec the runtime by path, so a tiny ``pyrunc``
shell wrapper execs this interpreter's pyrunc (or ``$PYRUNC_RUNTIME``, to check
the tests against runc) and logs every command line it gets: tests assert the
engine really went through it.

Everything lives in temp dirs except what these engine versions hard-code:
containerd 1.6's shim sockets (/run/containerd/s, removed with the shims) and
podman's blob info cache (/var/lib/containers/cache).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BUSYBOX = "/bin/busybox"
IMAGE = "localhost/busybox:test"
CGROUP_ROOT = "/sys/fs/cgroup"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Result:
    def __init__(self, argv: list[str], rc: int, out: str, err: str) -> None:
        self.argv = argv
        self.rc = rc
        self.out = out
        self.err = err

    def __repr__(self) -> str:
        return f"Result({shlex.join(self.argv)!r}, rc={self.rc}, out={self.out!r}, err={self.err!r})"


def run_to_files(argv: list[str], *, input: bytes | None = None, timeout: float = 60,
                 **popen_kw: Any) -> tuple[int, str, str]:
    """(status, stdout, stderr) of ``argv``, killed on timeout. Output goes to
    files, not pipes: a detached container keeps its stdio, and conmon or a
    shim may hold a pipe open long after the CLI exits, so a pipe would never
    reach EOF."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err,
                             stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL, **popen_kw)
        try:
            p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def run(argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 60,
        input: bytes | None = None) -> Result:
    return Result(argv, *run_to_files(argv, env=env, input=input, timeout=timeout))


# ---------------------------------------------------------------- the image


def busybox_rootfs_tar() -> bytes:
    """An uncompressed tar of a minimal rootfs: busybox and one symlink per applet."""
    applets = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.mode = mode
            ti.mtime = 0
            ti.linkname = link
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data) if data else None)

        for d in ("bin", "dev", "proc", "sys", "etc", "root"):
            add(d, tarfile.DIRTYPE, 0o755)
        add("tmp", tarfile.DIRTYPE, 0o1777)
        add("bin/busybox", tarfile.REGTYPE, 0o755, Path(BUSYBOX).read_bytes())
        for a in applets:
            if a != "busybox" and "/" not in a:
                add(f"bin/{a}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/passwd", tarfile.REGTYPE, 0o644,
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
        add("etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")
        add("etc/notexec", tarfile.REGTYPE, 0o644, b"not a program\n")
    return buf.getvalue()


def _go_arch() -> str:
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(m, m)


def oci_image_archive(layer: bytes, name: str = IMAGE) -> bytes:
    """An OCI image layout (image-spec v1) in a tar, one uncompressed layer,
    named by the annotations ``ctr images import`` reads."""
    blobs: dict[str, bytes] = {}

    def blob(data: bytes, media_type: str) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layer_desc = blob(layer, "application/vnd.oci.image.layer.v1.tar")
    config = {
        "architecture": _go_arch(),
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": ["sh"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
        "history": [{"created_by": "pyrunc tests: busybox rootfs"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": blob(json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json"),
        "layers": [layer_desc],
    }
    manifest_desc = blob(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {
        "io.containerd.image.name": name,
        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1],
    }
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_desc]}

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(path: str, data: bytes) -> None:
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = 0o644
            tar.addfile(ti, io.BytesIO(data))

        add("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        add("index.json", json.dumps(index).encode())
        for digest, data in blobs.items():
            add("blobs/sha256/" + digest.split(":", 1)[1], data)
    return buf.getvalue()


# ---------------------------------------------------------------- the runtime wrapper


class Wrapper:
    """``<dir>/pyrunc``: execs the runtime under test; every call is logged."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "pyrunc"
        self.calls_log = directory / "calls.log"
        target = os.environ.get("PYRUNC_RUNTIME")
        exe = shlex.quote(target) if target else f"{shlex.quote(sys.executable)} -m pyrunc"
        self.path.write_text(
            "#!/bin/sh\n"
            f"printf '%s\\n' \"$*\" >> {shlex.quote(str(self.calls_log))}\n"
            f"exec {exe} \"$@\"\n"
        )
        self.path.chmod(0o755)

    def calls(self, containing: str = "") -> list[str]:
        """The logged command lines (optionally only those containing a string)."""
        try:
            lines = self.calls_log.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [c for c in lines if containing in c]

    def parsed(self, containing: str = "") -> list[list[str]]:
        """The logged calls as words from the subcommand on (global flags skipped)."""
        out = []
        for line in self.calls(containing):
            words = line.split()
            i = 0
            while i < len(words) and words[i].startswith("-"):
                # --log FILE / --root DIR take a value; --log-format=json does not.
                i += 1 if "=" in words[i] or words[i] in ("--debug", "--systemd-cgroup") else 2
            out.append(words[i:])
        return out

    def commands(self, containing: str = "") -> list[str]:
        """The runtime subcommand of each logged call."""
        return [w[0] if w else "" for w in self.parsed(containing)]


def wait_signal_handled(pid: int, signum: int, timeout: float = 20) -> None:
    """Wait until process ``pid`` has a handler for ``signum`` (SigCgt), so a
    test's signal is not sent before the container's shell set its trap."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/status") as f:
            caught = int(next(line.split()[1] for line in f if line.startswith("SigCgt:")), 16)
        if caught & (1 << (signum - 1)):
            return
        assert time.monotonic() < deadline, f"pid {pid} never set a handler for signal {signum}"
        time.sleep(0.05)


# ---------------------------------------------------------------- leftovers


def processes_mentioning(text: str) -> list[int]:
    """Pids whose command line contains ``text`` (conmon, shims, the engines)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            out.append(int(name))
    return out


def mounts_under(path: str) -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == path or mp.startswith(path.rstrip("/") + "/"):
                out.append(mp)
    return out


def _own_cgroups() -> list[str]:
    """This process's cgroup in each mounted hierarchy: a relative or empty
    cgroupsPath puts a container under it (on v1 runc's fs driver does)."""
    out: list[str] = []
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        if path in ("", "/"):
            continue
        names = [c.split("=", 1)[-1] for c in controllers.split(",") if c] or ["unified", ""]
        for n in names:
            base = os.path.join(CGROUP_ROOT, n) if n else CGROUP_ROOT
            if os.path.isdir(base):
                out.append(base + path)
    return out


def cgroup_dirs(name: str) -> list[str]:
    """``name`` in every hierarchy where it exists: at the top, and under this
    process's own cgroup (where a relative cgroupsPath lands)."""
    out: list[str] = []
    try:
        hierarchies = [os.path.join(CGROUP_ROOT, d) for d in os.listdir(CGROUP_ROOT)]
    except OSError:
        return out
    for h in [*hierarchies, CGROUP_ROOT, *_own_cgroups()]:
        p = os.path.join(h, name.strip("/"))
        if os.path.isdir(p) and p not in out:
            out.append(p)
    return out


def remove_cgroup_tree(path: str) -> None:
    for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda t: -len(t[0])):
        for _ in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


def clean_up(base: Path, cgroup_name: str, problems: list[str], keeps: tuple[str, ...] = ()) -> None:
    """Kill what still runs from ``base``, unmount, remove cgroups; record each
    thing found in ``problems`` (the engine should have removed it), except
    the child cgroups named in ``keeps`` (the engine's own, kept by design)."""
    procs = processes_mentioning(str(base))
    if procs:
        problems.append(f"processes {procs}")
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    mounts = mounts_under(str(base))
    if mounts:
        problems.append(f"mounts {mounts}")
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False, capture_output=True)
    leftover_cgroups = []
    # A container whose engine lost track of it (say a failed start) is found
    # by its cgroup: kill what is inside before removing it.
    stray: set[int] = set()
    for c in cgroup_dirs(cgroup_name):
        for dirpath, _dirs, files in os.walk(c):
            if "cgroup.procs" in files:
                stray.update(int(p) for p in Path(dirpath, "cgroup.procs").read_text().split())
    if stray:
        problems.append(f"processes in cgroups {sorted(stray)}")
        for pid in stray:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    for c in cgroup_dirs(cgroup_name):
        children = [d for d, _, _ in os.walk(c) if d != c and os.path.basename(d) not in keeps]
        if children:
            leftover_cgroups += children
        remove_cgroup_tree(c)
    if leftover_cgroups:
        problems.append(f"cgroups {leftover_cgroups}")


# ---------------------------------------------------------------- podman


class Podman:
    """podman with storage, run and tmp dirs, containers.conf and cgroup parent
    of its own; every container runs with ``--runtime`` = the wrapper."""

    def __init__(self, base: Path, wrapper: Wrapper) -> None:
        self.base = base
        self.wrapper = wrapper
        self.cgroup_parent = f"/pyrunc-podman-{uuid.uuid4().hex[:8]}"
        self.conf = base / "containers.conf"
        # Podman gives --log-format=json only to runtimes named in
        # runtime_supports_json (by the runtime path's basename). The hard
        # RLIMIT_NOFILE here is 20000 and podman's defaults ask for more.
        self.conf.write_text(
            "[containers]\n"
            'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
            'netns = "none"\n'
            "[engine]\n"
            'runtime_supports_json = ["crun", "runc", "kata", "runsc", "youki", "krun", "pyrunc"]\n'
            "[network]\n"
            f'network_config_dir = "{base / "networks"}"\n'
        )
        self.env = {**os.environ, "CONTAINERS_CONF": str(self.conf)}
        self.argv = [
            "podman", "--root", str(base / "storage"), "--runroot", str(base / "run"),
            "--tmpdir", str(base / "tmp"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
            "--events-backend", "none", "--runtime", str(wrapper.path),
        ]

    def __call__(self, *args: str, timeout: float = 60, input: bytes | None = None) -> Result:
        return run([*self.argv, *args], env=self.env, timeout=timeout, input=input)

    def ok(self, *args: str, **kw: Any) -> Result:
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r

    def run_args(self, *args: str) -> list[str]:
        """``podman run`` flags every test container gets, then ``args``."""
        return ["run", "--network", "none", "--cgroup-parent", self.cgroup_parent, *args]

    def spawn_argv(self, *args: str) -> list[str]:
        """The full command line, for tests that run podman themselves (pty)."""
        return [*self.argv, *args]

    def close(self) -> list[str]:
        problems = []
        r = self("ps", "-aq")
        if r.out.strip():
            problems.append(f"podman containers {r.out.split()}")
        self("rm", "-af", "-t", "0", timeout=120)
        self("rmi", "-af", timeout=120)
        # conmon's cgroup (<parent>/conmon) is podman's and outlives containers.
        clean_up(self.base, self.cgroup_parent, problems, keeps=("conmon",))
        shutil.rmtree(self.base, ignore_errors=True)
        return problems


def have(*commands: str) -> str | None:
    """The reason to skip when a command is missing, else None."""
    missing = [c for c in commands if not shutil.which(c)]
    return f"{', '.join(missing)} not installed (scripts/install.sh installs it)" if missing else None


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Podman]:
    reason = have("podman", "conmon")
    if reason:
        pytest.skip(reason)
    if os.geteuid() != 0:
        pytest.skip("engine tests need root")
    base = tmp_path_factory.mktemp("podman")
    pm = Podman(base, Wrapper(base / "bin"))
    tar = base / "busybox.tar"
    tar.write_bytes(busybox_rootfs_tar())
    pm.ok("import", "--change", f"ENV {PATH_ENV}", "--change", "CMD sh", str(tar), IMAGE, timeout=120)
    yield pm
    problems = pm.close()
    if problems:
        pytest.fail("podman left behind: " + "; ".join(problems))


# ---------------------------------------------------------------- containerd


class Containerd:
    """A containerd of its own (config, root, state, socket in a temp dir),
    driven with ``ctr``; containers run with ``--runc-binary`` = the wrapper."""

    def __init__(self, base: Path, wrapper: Wrapper) -> None:
        self.base = base
        self.wrapper = wrapper
        self.namespace = f"pyrunc-{uuid.uuid4().hex[:8]}"  # also the cgroup parent ctr uses
        self.address = str(base / "c.sock")
        self.config = base / "config.toml"
        self.log = base / "containerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        # Plugins that would touch host paths (/opt/containerd) or are not
        # needed (CRI, other snapshotters) are off.
        disabled = [
            "io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
            "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
            "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
            "io.containerd.tracing.processor.v1.otlp",
        ]
        self.config.write_text(
            "version = 2\n"
            f'root = "{base / "root"}"\n'
            f'state = "{base / "state"}"\n'
            f"disabled_plugins = {json.dumps(disabled)}\n"
            "[grpc]\n"
            f'  address = "{self.address}"\n'
            "[ttrpc]\n"
            f'  address = "{self.address}.ttrpc"\n'
        )

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["containerd", "--config", str(self.config), "--log-level", "debug"],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            if os.path.exists(self.address) and self("version", timeout=10).rc == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"containerd did not come up: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def __call__(self, *args: str, timeout: float = 60, input: bytes | None = None) -> Result:
        return run(self.spawn_argv(*args), timeout=timeout, input=input)

    def ok(self, *args: str, **kw: Any) -> Result:
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r

    def spawn_argv(self, *args: str) -> list[str]:
        return ["ctr", "--address", self.address, "--namespace", self.namespace, *args]

    def run_args(self, *args: str) -> list[str]:
        """``ctr run`` flags every test container gets, then ``args``."""
        return ["run", "--runc-binary", str(self.wrapper.path), "--runc-root", str(self.base / "runc"),
                "--fifo-dir", str(self.base / "fifo"), *args]

    def exec_args(self, *args: str) -> list[str]:
        """``ctr task exec`` with the fifos in the temp dir, then ``args``."""
        return ["task", "exec", "--fifo-dir", str(self.base / "fifo"), *args]

    def close(self) -> list[str]:
        problems = []
        tasks = [line.split()[0] for line in self("task", "ls", "-q").out.splitlines() if line.strip()]
        if tasks:
            problems.append(f"tasks {tasks}")
            for t in tasks:
                self("task", "kill", "-s", "SIGKILL", t)
                self("task", "delete", "-f", t, timeout=30)
        containers = self("container", "ls", "-q").out.split()
        if containers:
            problems.append(f"containers {containers}")
            self("container", "delete", *containers, timeout=30)
        self("image", "rm", IMAGE)
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        clean_up(self.base, f"/{self.namespace}", problems)
        shutil.rmtree(self.base, ignore_errors=True)
        return problems


@pytest.fixture(scope="module")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    reason = have("containerd", "ctr", "containerd-shim-runc-v2")
    if reason:
        pytest.skip(reason)
    if os.geteuid() != 0:
        pytest.skip("engine tests need root")
    # The socket path must fit in sun_path (108 bytes): keep the base short.
    base = Path(tempfile.mkdtemp(prefix="pyrunc-ctrd-"))
    cd = Containerd(base, Wrapper(base / "bin"))
    try:
        cd.start()
        archive = base / "busybox-oci.tar"
        archive.write_bytes(oci_image_archive(busybox_rootfs_tar()))
        cd.ok("images", "import", str(archive), timeout=120)
        yield cd
    finally:
        problems = cd.close()
    if problems:
        pytest.fail("containerd left behind: " + "; ".join(problems))
