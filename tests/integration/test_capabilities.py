"""process.capabilities, read back from /proc/self/status inside the
container for each set; `exec --cap` (CVE-2022-29162); capabilities inside a
user namespace."""
from __future__ import annotations

import os
from typing import Any

from conftest import Bundle, Runtime

CAP = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10,
       "CAP_NET_RAW": 13, "CAP_SYS_ADMIN": 21, "CAP_AUDIT_WRITE": 29}
SETS = {"CapInh": "inheritable", "CapPrm": "permitted", "CapEff": "effective", "CapBnd": "bounding",
        "CapAmb": "ambient"}


def mask(*names: str) -> int:
    return sum(1 << CAP[n] for n in set(names))


def read_caps(out: str) -> dict[str, int]:
    caps = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key in SETS:
            caps[key] = int(value.strip(), 16)
    assert set(caps) == set(SETS), out
    return caps


def _caps_cfg(**sets: list[str]) -> dict[str, list[str]]:
    return {name: list(sets.get(name, [])) for name in SETS.values()}



def test_capabilities_of_a_non_root_process(runtime: Runtime, bundle: Bundle) -> None:
    """uid 1000 with no file capabilities: after execve the kernel keeps
    inheritable and ambient, permitted = effective = ambient (capabilities(7))."""
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.config["process"]["capabilities"] = _caps_cfg(
        bounding=["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"],
        effective=["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        permitted=["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        inheritable=["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        ambient=["CAP_NET_BIND_SERVICE"])
    bundle.set_args("cat", "/proc/self/status")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert read_caps(r.out) == {
        "CapBnd": mask("CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"),
        "CapInh": mask("CAP_KILL", "CAP_NET_BIND_SERVICE"),
        "CapPrm": mask("CAP_NET_BIND_SERVICE"),
        "CapEff": mask("CAP_NET_BIND_SERVICE"),
        "CapAmb": mask("CAP_NET_BIND_SERVICE"),
    }


def test_capabilities_of_root(runtime: Runtime, bundle: Bundle) -> None:
    """uid 0: an exec'ing root would get its whole bounding set as permitted
    and effective, but with noNewPrivileges (the default spec) the kernel
    keeps no more than it had: exactly the configured sets."""
    bundle.config["process"]["capabilities"] = _caps_cfg(
        bounding=["CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"],
        effective=["CAP_KILL"], permitted=["CAP_KILL"], inheritable=["CAP_KILL"])
    bundle.set_args("cat", "/proc/self/status")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    bnd = mask("CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE")
    assert read_caps(r.out) == {"CapBnd": bnd, "CapInh": mask("CAP_KILL"), "CapPrm": mask("CAP_KILL"),
                                "CapEff": mask("CAP_KILL"), "CapAmb": 0}
    # Without noNewPrivileges: capabilities(7)'s root rule, bounding everywhere.
    bundle.config["process"]["noNewPrivileges"] = False
    bundle.write()
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    assert read_caps(r.out) == {"CapBnd": bnd, "CapInh": mask("CAP_KILL"), "CapPrm": bnd, "CapEff": bnd,
                                "CapAmb": 0}


def test_capabilities_enforced(runtime: Runtime, bundle: Bundle) -> None:
    """CAP_CHOWN outside the bounding set: root cannot chown."""
    bundle.config["process"]["capabilities"] = _caps_cfg(bounding=["CAP_KILL"], effective=["CAP_KILL"],
                                                         permitted=["CAP_KILL"])
    bundle.set_args("sh", "-c", "touch /dev/shm/f; chown 5 /dev/shm/f; echo rc=$?")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.out == "rc=1\n", r
    assert "Operation not permitted" in r.err


def test_exec_cap_leaves_inheritable_empty(runtime: Runtime, bundle: Bundle) -> None:
    """CVE-2022-29162: `exec --cap` adds to bounding, effective and permitted
    but never to inheritable (a setuid-less program must not gain it)."""
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    bundle.set_args("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        r = runtime.ok("exec", "--cap", "CAP_NET_RAW", cid, "cat", "/proc/self/status")
        caps = read_caps(r.out)
        assert caps["CapInh"] == 0
        assert caps["CapAmb"] == 0
        assert caps["CapBnd"] & mask("CAP_NET_RAW")
        r = runtime.ok("exec", "-u", "0", "--cap", "CAP_NET_RAW", cid, "cat", "/proc/self/status")
        caps = read_caps(r.out)
        assert caps["CapInh"] == 0
        assert caps["CapEff"] == caps["CapBnd"]
        assert caps["CapEff"] & mask("CAP_NET_RAW", "CAP_AUDIT_WRITE", "CAP_KILL") == mask(
            "CAP_NET_RAW", "CAP_AUDIT_WRITE", "CAP_KILL")
    finally:
        runtime("delete", "-f", cid)


def _userns(cfg: dict[str, Any]) -> None:
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_capabilities_inside_a_user_namespace(runtime: Runtime, bundle: Bundle, traversable: None) -> None:
    """CAP_SYS_ADMIN of the container's user namespace: mounting a tmpfs in
    its own mount namespace works, and the host is no more reachable."""
    _userns(bundle.config)
    caps = ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_CHOWN"]
    bundle.config["process"]["capabilities"] = _caps_cfg(bounding=caps, effective=caps, permitted=caps)
    bundle.set_args("sh", "-c", "grep ^Cap /proc/self/status; mount -t tmpfs t /tmp && echo mounted; "
                                "echo 1 > /proc/sys/kernel/sysrq; echo sysrq=$?")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 0, r
    got = read_caps(r.out)
    assert got["CapBnd"] == got["CapEff"] == got["CapPrm"] == mask(*caps)
    assert "mounted" in r.out.splitlines()
    # Root of a child user namespace is not root of the host's sysctls.
    assert "sysrq=1" in r.out.splitlines()
    # Without CAP_SYS_ADMIN the same mount fails.
    caps = ["CAP_KILL"]
    bundle.config["process"]["capabilities"] = _caps_cfg(bounding=caps, effective=caps, permitted=caps)
    bundle.set_args("sh", "-c", "mount -t tmpfs t /tmp; echo rc=$?")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.out == "rc=1\n", r


def test_exec_into_a_user_namespaced_container(runtime: Runtime, bundle: Bundle, traversable: None) -> None:
    _userns(bundle.config)
    bundle.set_args("sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        init = runtime.state(cid)["pid"]
        r = runtime.ok("exec", "--cap", "CAP_SYS_ADMIN", cid, "sh", "-c",
                       "readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map; grep ^Cap /proc/self/status")
        lines = r.out.splitlines()
        assert lines[0] == os.readlink(f"/proc/{init}/ns/user")
        assert lines[0] != os.readlink("/proc/self/ns/user")
        assert lines[1] == "0"
        assert lines[2].split() == ["0", "100000", "65536"]
        caps = read_caps(r.out)
        assert caps["CapEff"] & mask("CAP_SYS_ADMIN")
        assert caps["CapInh"] == 0
        # The init runs as host uid 100000.
        with open(f"/proc/{init}/status") as f:
            uid_line = next(line for line in f if line.startswith("Uid:"))
        assert uid_line.split()[1:] == ["100000"] * 4
    finally:
        runtime("delete", "-f", cid)
