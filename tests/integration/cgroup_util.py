"""Helpers for the resource tests: the host's cgroup layout and a container's
cgroup files, found from /proc/PID/cgroup so they work for any runtime
(``PYRUNC_RUNTIME=runc`` included)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Bundle, Runtime, wait_for

CGROUP_ROOT = "/sys/fs/cgroup"


def _is_v2() -> bool:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if pre.split()[4] == CGROUP_ROOT and post.split()[0] == "cgroup2":
                return True
    return False


V2 = _is_v2()
needs_v1 = pytest.mark.skipif(V2, reason="needs cgroup v1 (hybrid) hierarchies; this host is cgroup v2")
needs_v2 = pytest.mark.skipif(not V2, reason="needs cgroup v2 (unified); this host has cgroup v1 hierarchies")
MiB = 1 << 20


def _v1_mounts() -> dict[str, tuple[str, str]]:
    """controller -> (mountpoint, mount root) for each v1 hierarchy."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            a, b = pre.split(), post.split()
            if b[0] != "cgroup":
                continue
            for opt in b[2].split(","):
                out[opt] = (a[4], a[3])
    return out


def cgroup_dirs(pid: int) -> dict[str, str]:
    """{controller: host directory} of ``pid``'s cgroups; on v2 the one key is ""."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    out: dict[str, str] = {}
    mounts = {} if V2 else _v1_mounts()
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        if V2:
            if ctrls == "":
                out[""] = os.path.join(CGROUP_ROOT, path.lstrip("/"))
            continue
        for c in ctrls.split(","):
            if c in mounts:
                mp, root = mounts[c]
                rel = path[len(root.rstrip("/")):] if root != "/" and path.startswith(root) else path
                out[c] = os.path.join(mp, rel.lstrip("/"))
    return out


def cg_read(dirs: dict[str, str], controller: str, name: str) -> str:
    d = dirs[""] if V2 else dirs[controller]
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def cg_exists(dirs: dict[str, str], controller: str, name: str) -> bool:
    d = dirs.get("") if V2 else dirs.get(controller)
    return d is not None and os.path.exists(os.path.join(d, name))


def run_detached(runtime: Runtime, bundle: Bundle, name: str = "c") -> str:
    cid = runtime.new_id(name)
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    return cid


def init_pid(runtime: Runtime, cid: str) -> int:
    return int(runtime.state(cid)["pid"])


def set_resources(bundle: Bundle, **resources: Any) -> Bundle:
    def fn(c: dict[str, Any]) -> None:
        c["linux"].setdefault("resources", {}).update(resources)
    return bundle.update(fn)


def share_host_pidns(bundle: Bundle) -> Bundle:
    def fn(c: dict[str, Any]) -> None:
        c["linux"]["namespaces"] = [ns for ns in c["linux"]["namespaces"] if ns["type"] != "pid"]
    return bundle.update(fn)


def delete_and_check_gone(runtime: Runtime, cid: str, dirs: dict[str, str]) -> None:
    """delete -f, then no cgroup directory of the container is left."""
    runtime.ok("delete", "-f", cid)
    mine = {d for d in dirs.values() if cid in d}
    assert mine, f"no cgroup named after {cid} in {dirs}"
    left = sorted(d for d in mine if os.path.isdir(d))
    assert left == [], f"cgroup dirs left behind: {left}"


def read_json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def out_file(bundle: Bundle) -> Path:
    """A writable /out in the container; returns the host dir."""
    d = bundle.path / "out"
    bundle.add_bind(d, "/out")
    return d


__all__ = [
    "V2",
    "MiB",
    "cg_exists",
    "cg_read",
    "cgroup_dirs",
    "delete_and_check_gone",
    "init_pid",
    "needs_v1",
    "needs_v2",
    "out_file",
    "read_json_lines",
    "run_detached",
    "set_resources",
    "share_host_pidns",
    "wait_for",
]
