"""Helpers for the resource tests: the host's cgroup layout and a container's
cgroup files, found from /proc/PID/cgroup so they work for any runtime
(``PYRUNC_RUNTIME=runc`` included); and the checks test_cgroups_v1.py and
test_cgroups_v2.py both make on pyrunc's fs drivers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
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


# ---------------------------------------------------------------- the fs drivers (test_cgroups_v1/v2.py)

MiB = 1 << 20


def child(code: str = "import time; time.sleep(300)") -> subprocess.Popen:
    """A python child that waits for a line on stdin before running ``code``,
    so it is in the cgroup before it does anything."""
    return subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdin.readline()\n{code}"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def go(p: subprocess.Popen) -> None:
    assert p.stdin is not None
    p.stdin.write(b"go\n")
    p.stdin.flush()


def child_in(m: Any, procs: list, code: str = "import time; time.sleep(300)") -> subprocess.Popen:
    """child(code), added to the manager's cgroup; the ``mgr`` fixture reaps it."""
    p = child(code)
    procs.append(p)
    m.add_pid(p.pid)
    return p


def finish_manager(m: Any, procs: list) -> None:
    """The ``mgr`` fixtures' teardown: reap the children, then remove the cgroup."""
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    if m.exists() and m.frozen():
        m.thaw()
    m.kill_all(signal.SIGKILL)
    m.destroy()
    assert not m.exists()


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid``, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def check_deny_all_devices(m: Any, procs: list, timeout: float) -> None:
    """With every device denied, the default rules still allow /dev/null and
    nothing else (/dev/kmsg: EPERM)."""
    p = child_in(m, procs, "import os\n"
                 "for d in ('/dev/null', '/dev/kmsg'):\n"
                 "    try:\n"
                 "        os.close(os.open(d, os.O_RDONLY)); print(d, 'ok')\n"
                 "    except OSError as e:\n"
                 "        print(d, e.errno)\n")
    m.apply({"devices": [{"allow": False, "access": "rwm"}]})
    go(p)
    out, _ = p.communicate(timeout=timeout)
    assert out.decode().split("\n")[:2] == ["/dev/null ok", "/dev/kmsg 1"]  # EPERM


def check_kill_all_reaches_grandchildren(m: Any, procs: list, timeout: float) -> None:
    """kill_all(SIGTERM) reaches a grandchild too, and leaves the cgroup thawed."""
    p = child_in(m, procs, "import subprocess, time\n"
                 "subprocess.Popen(['sleep', '300'])\n"
                 "print('forked', flush=True); time.sleep(300)")
    go(p)
    assert p.stdout is not None and p.stdout.readline() == b"forked\n"
    pids = m.pids()
    assert len(pids) == 2 and p.pid in pids
    m.kill_all(signal.SIGTERM)
    p.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while m.pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert m.pids() == []
    assert not m.frozen()


def check_oom_kill_is_counted(m: Any, procs: list, timeout: float) -> None:
    p = child_in(m, procs, "b = bytearray(96 << 20)")
    m.apply({"memory": {"limit": 32 * MiB, "swap": 32 * MiB}}, devices=False)
    assert m.oom_kills() == 0
    go(p)
    assert p.wait(timeout=timeout) == -signal.SIGKILL
    assert m.oom_kills() == 1
