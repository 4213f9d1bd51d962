"""Semantic validation: each invalid document fails naming the exact field."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Callable

import pytest
from pyrunc.errors import SpecError
from pyrunc.spec import from_dict, validate
from pyrunc.spec.validate import parse_cpu_list, validate_process

GOOD: dict[str, Any] = {
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "hostname": "box",
    "process": {
        "cwd": "/",
        "args": ["sh"],
        "env": ["PATH=/bin", "TERM=xterm"],
        "user": {"uid": 0, "gid": 0},
        "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_KILL"]},
        "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}],
    },
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
        {"destination": "/data", "type": "none", "source": "/srv", "options": ["rbind", "ro"]},
    ],
    "hooks": {"prestart": [{"path": "/bin/true", "timeout": 5}]},
    "linux": {
        "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                       {"type": "mount"}],
        "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
        "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "1000", "fs.mqueue.msg_max": "10"},
        "resources": {"devices": [{"allow": False, "access": "rwm"}], "cpu": {"cpus": "0-1,3"}},
        "maskedPaths": ["/proc/kcore"],
        "readonlyPaths": ["/proc/sys"],
        "rootfsPropagation": "private",
        "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                    "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                  "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
    },
}

USERNS = {"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
          "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    (tmp_path / "rootfs").mkdir()
    return tmp_path


def check(doc: dict[str, Any], **kw: Any) -> list[str]:
    return validate(from_dict(doc), **kw)


def edit(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD)
    fn(doc)
    return doc


def test_good_config_is_valid(bundle: Path) -> None:
    assert check(GOOD, bundle=bundle) == []


def test_good_userns_config_is_valid(bundle: Path) -> None:
    doc = edit(lambda d: (d["linux"]["namespaces"].append({"type": "user"}), d["linux"].update(USERNS)))
    assert check(doc, bundle=bundle) == []
    assert check(doc, bundle=bundle, rootless=True) == []


def ns_add(t: str, **extra: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["linux"]["namespaces"].append({"type": t, **extra})


def ns_drop(t: str) -> Callable[[dict[str, Any]], None]:
    def fn(d: dict[str, Any]) -> None:
        d["linux"]["namespaces"] = [n for n in d["linux"]["namespaces"] if n["type"] != t]
    return fn


def setp(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def fn(d: dict[str, Any]) -> None:
        parts = [int(p) if p.isdigit() else p for p in path.split("/")]
        cur = d
        for p in parts[:-1]:
            cur = cur[p]
        if value is None:
            del cur[parts[-1]]
        else:
            cur[parts[-1]] = value
    return fn


INVALID: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("version", setp("ociVersion", "2.0.0"), 'ociVersion: unsupported spec version "2.0.0"'),
    ("no-root", setp("root", None), "root: root must be specified"),
    ("no-process", setp("process", None), "process: process property must not be empty"),
    ("cwd-empty", setp("process/cwd", ""), "process.cwd: cwd property must not be empty"),
    ("cwd-relative", setp("process/cwd", "tmp"), "process.cwd: cwd must be an absolute path"),
    ("args-empty", setp("process/args", []), "process.args: args must not be empty"),
    ("env-no-eq", setp("process/env/1", "TERM"), "process.env[1]: invalid environment variable: missing '='"),
    ("env-no-name", setp("process/env/0", "=x"),
     "process.env[0]: invalid environment variable: name cannot be empty"),
    ("rlimit-unknown", setp("process/rlimits/0/type", "RLIMIT_FOO"), 'process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"'),
    ("rlimit-dup", lambda d: d["process"]["rlimits"].append({"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}),
     'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"'),
    ("rlimit-soft>hard", setp("process/rlimits/0/soft", 2048),
     "process.rlimits[0]: soft limit 2048 is greater than hard limit 1024"),
    ("oom", setp("process/oomScoreAdj", 1001), "process.oomScoreAdj: 1001 is out of range [-1000, 1000]"),
    ("sched-policy", setp("process/scheduler", {"policy": "SCHED_FAST"}),
     'process.scheduler.policy: unknown scheduler policy "SCHED_FAST"'),
    ("sched-nice", setp("process/scheduler", {"policy": "SCHED_OTHER", "nice": 20}),
     "process.scheduler.nice: invalid scheduler.nice: 20"),
    ("sched-prio", setp("process/scheduler", {"policy": "SCHED_OTHER", "priority": 3}),
     "process.scheduler.priority: scheduler.priority can only be specified for SchedFIFO or SchedRR policy"),
    ("sched-flag", setp("process/scheduler", {"policy": "SCHED_RR", "flags": ["SCHED_FLAG_X"]}),
     'process.scheduler.flags[0]: unknown scheduler flag "SCHED_FLAG_X"'),
    ("sched-deadline", setp("process/scheduler", {"policy": "SCHED_FIFO", "runtime": 5}),
     "process.scheduler: scheduler runtime/deadline/period can only be specified for SchedDeadline policy"),
    ("ioprio-class", setp("process/ioPriority", {"class": "IOPRIO_CLASS_FAST"}),
     'process.ioPriority.class: unknown ioPriority class "IOPRIO_CLASS_FAST"'),
    ("ioprio-prio", setp("process/ioPriority", {"class": "IOPRIO_CLASS_BE", "priority": 8}),
     "process.ioPriority.priority: invalid ioPriority priority 8 (must be 0-7)"),
    ("cpu-affinity", setp("process/execCPUAffinity", {"final": "3-1"}),
     'process.execCPUAffinity.final: invalid CPU list "3-1"'),
    ("hostname-no-uts", ns_drop("uts"), "hostname: unable to set hostname without a private UTS namespace"),
    ("domainname-no-uts", lambda d: (d.pop("hostname"), d.update(domainname="x"), ns_drop("uts")(d)),
     "domainname: unable to set domainname without a private UTS namespace"),
    ("ns-unknown", ns_add("foo"), 'linux.namespaces[5].type: unknown namespace type "foo"'),
    ("ns-dup", lambda d: d["linux"]["namespaces"].insert(1, {"type": "pid"}),
     'linux.namespaces[1].type: duplicate namespace "pid"'),
    ("ns-path", ns_add("cgroup", path="proc/1/ns/cgroup"), "linux.namespaces[5].path: must be an absolute path"),
    ("maps-no-userns", lambda d: d["linux"].update(USERNS),
     "linux.uidMappings: user namespace mappings specified, but USER namespace isn't enabled in the config"),
    ("userns-no-maps", ns_add("user"), "linux.uidMappings: user namespaces enabled, but no user mapping found"),
    ("userns-no-root", lambda d: (ns_add("user")(d), d["linux"].update(
        uidMappings=[{"containerID": 1, "hostID": 1000, "size": 10}], gidMappings=USERNS["gidMappings"])),
     "linux.uidMappings: user namespaces enabled, but no root user mapping found"),
    ("userns-size0", lambda d: (ns_add("user")(d), d["linux"].update(
        uidMappings=[{"containerID": 0, "hostID": 1000, "size": 0}], gidMappings=USERNS["gidMappings"])),
     "linux.uidMappings[0].size: must be greater than zero"),
    ("time-offsets-no-timens", setp("linux/timeOffsets", {"monotonic": {"secs": 1}}),
     "linux.timeOffsets: time namespace offsets specified, but time namespace isn't enabled in the config"),
    ("masked-no-mntns", ns_drop("mount"),
     "linux.maskedPaths: unable to restrict sys entries without a private MNT namespace"),
    ("masked-relative", setp("linux/maskedPaths/0", "proc/kcore"), "linux.maskedPaths[0]: must be an absolute path"),
    ("sysctl-ipc", ns_drop("ipc"),
     'linux.sysctl["kernel.shmmax"]: sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace'),
    ("sysctl-net", ns_drop("network"),
     'linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" not allowed in host network namespace'),
    ("sysctl-hostnetns-path", lambda d: setp("linux/namespaces/1", {"type": "network", "path": "/proc/self/ns/net"})(d),
     'linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" not allowed in host network namespace'),
    ("sysctl-slash", lambda d: (setp("linux/sysctl", {"kernel/shmmax": "1"})(d), ns_drop("ipc")(d)),
     'linux.sysctl["kernel/shmmax"]: sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace'),
    ("sysctl-hostname", setp("linux/sysctl", {"kernel.hostname": "x"}),
     'linux.sysctl["kernel.hostname"]: sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field'),
    ("sysctl-not-namespaced", setp("linux/sysctl", {"vm.swappiness": "1"}),
     'linux.sysctl["vm.swappiness"]: sysctl "vm.swappiness" is not in a separate kernel namespace'),
    ("mount-empty-dest", setp("mounts/0/destination", ""), "mounts[0].destination: must not be empty"),
    ("bind-with-data", setp("mounts/2/options", ["rbind", "mode=755"]),
     "mounts[2].options: bind mounts cannot have any filesystem-specific options applied: mode=755"),
    ("idmap-not-bind", setp("mounts/1/options", ["idmap"]),
     ("mounts[1]: idmapped mounts (idmap, ridmap, uidMappings/gidMappings) are supported only for mounts with "
     "the option 'bind'")),
    ("idmap-no-maps", setp("mounts/2/options", ["rbind", "idmap"]),
     "mounts[2].options: idmap needs uidMappings/gidMappings on the mount or a user namespace"),
    ("mount-uidmap-alone", setp("mounts/2/uidMappings", USERNS["uidMappings"]),
     "mounts[2].gidMappings: uidMappings and gidMappings must be specified together"),
    ("hook-relative", setp("hooks/prestart/0/path", "true"), "hooks.prestart[0].path: must be an absolute path"),
    ("hook-timeout", setp("hooks/prestart/0/timeout", 0), "hooks.prestart[0].timeout: must be greater than zero"),
    ("device-type", setp("linux/devices/0/type", "x"), 'linux.devices[0].type: invalid device type "x"'),
    ("device-path", setp("linux/devices/0/path", "dev/fuse"), "linux.devices[0].path: must be an absolute path"),
    ("device-major", setp("linux/devices/0/major", None), 'linux.devices[0].major: required for device type "c"'),
    ("cgdev-type", setp("linux/resources/devices/0/type", "x"),
     'linux.resources.devices[0].type: invalid cgroup device type "x"'),
    ("cgdev-access", setp("linux/resources/devices/0/access", "rwx"),
     'linux.resources.devices[0].access: invalid device access "rwx" (r, w, m)'),
    ("cgdev-access-empty", setp("linux/resources/devices/0/access", None),
     "linux.resources.devices[0].access: device access cannot be empty"),
    ("cpus", setp("linux/resources/cpu/cpus", "a-b"), 'linux.resources.cpu.cpus: invalid list "a-b"'),
    ("burst", setp("linux/resources/cpu", {"quota": 1000, "burst": 2000}),
     "linux.resources.cpu.burst: burst 2000 is larger than quota 1000"),
    ("hugepage", setp("linux/resources/hugepageLimits", [{"pageSize": "2M", "limit": 1}]),
     'linux.resources.hugepageLimits[0].pageSize: invalid page size "2M"'),
    ("weight-device", setp("linux/resources/blockIO", {"weightDevice": [{"major": 8, "minor": 0}]}),
     "linux.resources.blockIO.weightDevice[0]: weight or leafWeight must be specified"),
    ("rdma", setp("linux/resources/rdma", {"mlx5_1": {}}),
     "linux.resources.rdma.mlx5_1: hcaHandles or hcaObjects must be specified"),
    ("propagation", setp("linux/rootfsPropagation", "bogus"),
     'linux.rootfsPropagation: rootfsPropagation "bogus" is not supported'),
    ("seccomp-default", setp("linux/seccomp/defaultAction", "SCMP_ACT_NOPE"),
     'linux.seccomp.defaultAction: invalid action "SCMP_ACT_NOPE"'),
    ("seccomp-default-notify", setp("linux/seccomp/defaultAction", "SCMP_ACT_NOTIFY"),
     "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action"),
    ("seccomp-errno", setp("linux/seccomp/syscalls/0/errnoRet", 1),
     "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW does not support an errno return code"),
    ("seccomp-arch", setp("linux/seccomp/architectures/0", "SCMP_ARCH_Z80"),
     'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_Z80"'),
    ("seccomp-flag", setp("linux/seccomp/flags", ["SECCOMP_FILTER_FLAG_X"]),
     'linux.seccomp.flags[0]: seccomp flag "SECCOMP_FILTER_FLAG_X" is not supported'),
    ("seccomp-op", setp("linux/seccomp/syscalls/0/args/0/op", "SCMP_CMP_ABOUT"),
     'linux.seccomp.syscalls[0].args[0].op: invalid operator "SCMP_CMP_ABOUT"'),
    ("seccomp-index", setp("linux/seccomp/syscalls/0/args/0/index", 6),
     "linux.seccomp.syscalls[0].args[0].index: syscall argument index 6 out of range (0-5)"),
    ("seccomp-names", setp("linux/seccomp/syscalls/0/names", []),
     "linux.seccomp.syscalls[0].names: must contain at least one entry"),
    ("seccomp-notify-write", setp("linux/seccomp/syscalls/0",
                                  {"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}),
     "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall"),
    ("seccomp-notify-nopath", setp("linux/seccomp/syscalls/0", {"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}),
     "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to"),
    ("seccomp-metadata", setp("linux/seccomp/listenerMetadata", "x"),
     "linux.seccomp.listenerMetadata: must not be set without listenerPath"),
    ("intelrdt-closid", setp("linux/intelRdt", {"closID": "a/b"}), 'linux.intelRdt.closID: invalid intelRdt.ClosID "a/b"'),
    ("intelrdt-mb", setp("linux/intelRdt", {"memBwSchema": "L3:0=1"}), 'linux.intelRdt.memBwSchema: must start with "MB:"'),
    ("personality", setp("linux/personality", {"domain": "LINUX64"}),
     'linux.personality.domain: invalid personality domain "LINUX64"'),
    ("mempolicy-mode", setp("linux/memoryPolicy", {"mode": "MPOL_X"}),
     'linux.memoryPolicy.mode: invalid memory policy mode "MPOL_X"'),
    ("mempolicy-flag", setp("linux/memoryPolicy", {"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_X"]}),
     'linux.memoryPolicy.flags[0]: invalid memory policy flag "MPOL_F_X"'),
    ("mempolicy-bind-nodes", setp("linux/memoryPolicy", {"mode": "MPOL_BIND"}),
     "linux.memoryPolicy.nodes: MPOL_BIND needs at least one node"),
    ("mempolicy-local-nodes", setp("linux/memoryPolicy", {"mode": "MPOL_LOCAL", "nodes": "0-1"}),
     "linux.memoryPolicy.nodes: MPOL_LOCAL does not take nodes"),
    ("netdev-no-netns", lambda d: (ns_drop("network")(d), d["linux"].update(sysctl={}, netDevices={"eth0": {}})),
     "linux.netDevices: unable to move network devices without a private NET namespace"),
    ("netdev-name", setp("linux/netDevices", {"eth0": {"name": "a/b"}}),
     'linux.netDevices.eth0.name: invalid network device name "a/b"'),
    ("systemd-path", setp("linux/cgroupsPath", "/foo/bar"),
     ('linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, '
     'got "/foo/bar" instead')),
]


@pytest.mark.parametrize("name,mutate,expected", INVALID, ids=[t[0] for t in INVALID])
def test_invalid_config_names_field(name: str, mutate: Callable[[dict[str, Any]], None], expected: str) -> None:
    doc = edit(mutate)
    with pytest.raises(SpecError) as e:
        check(doc, systemd_cgroup=True)
    assert str(e.value) == expected


def test_rootfs_checks(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        check(GOOD, bundle=tmp_path)
    assert str(e.value) == f"root.path: invalid rootfs: stat {tmp_path.resolve()}/rootfs: no such file or directory"
    (tmp_path / "rootfs").write_text("")
    with pytest.raises(SpecError, match="root.path: invalid rootfs: .* is not a directory"):
        check(GOOD, bundle=tmp_path)
    (tmp_path / "rootfs").unlink()
    (tmp_path / "real").mkdir()
    (tmp_path / "rootfs").symlink_to("real")
    with pytest.raises(SpecError, match="root.path: invalid rootfs: not an absolute path, or a symlink"):
        check(GOOD, bundle=tmp_path)
    abs_root = edit(setp("root/path", str(tmp_path / "real")))
    assert check(abs_root, bundle=tmp_path) == []


def test_rootless_needs_userns() -> None:
    with pytest.raises(SpecError) as e:
        check(GOOD, rootless=True)
    assert str(e.value) == "linux.namespaces: rootless container requires user namespaces"


def test_rootless_mount_uid_must_be_mapped() -> None:
    doc = edit(lambda d: (ns_add("user")(d), d["linux"].update(USERNS),
                          d["mounts"].append({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                                              "options": ["gid=5"]})))
    assert check(doc, rootless=True) == []
    doc["mounts"][-1]["options"] = ["gid=70000"]
    with pytest.raises(SpecError) as e:
        check(doc, rootless=True)
    assert str(e.value) == ("mounts[3].options: cannot specify gid=70000 mount option for rootless container: "
                            "gid 70000 is not mapped in the user namespace")


def test_rootless_no_idmapped_mounts() -> None:
    doc = edit(lambda d: (ns_add("user")(d), d["linux"].update(USERNS)))
    doc["mounts"][2]["options"] = ["rbind", "idmap"]
    assert check(doc) == []
    with pytest.raises(SpecError, match=r"^mounts\[2\]: idmapped mounts are not supported when runc"):
        check(doc, rootless=True)


def test_no_pivot_refuses_private_propagation() -> None:
    with pytest.raises(SpecError) as e:
        check(GOOD, no_pivot=True)
    assert str(e.value) == "linux.rootfsPropagation: rootfsPropagation of [r]private is not safe without pivot_root"
    assert check(edit(setp("linux/rootfsPropagation", "slave")), no_pivot=True) == []


def test_warnings() -> None:
    doc = edit(lambda d: (d["mounts"].append({"destination": "tmp", "type": "tmpfs", "source": "tmpfs"}),
                          d["process"]["capabilities"]["effective"].append("CAP_FOO"),
                          d.update(ociVersion="0.1.0")))
    w = check(doc)
    assert w == [
        'ociVersion: pre-1.0 spec version "0.1.0"',
        "process.capabilities.effective[1]: ignoring unknown or unavailable capabilities: [CAP_FOO]",
        "mounts[3].destination: relative destination path 'tmp' is deprecated, using it as relative to /",
    ]


def test_exec_process_only() -> None:
    p = from_dict({"cwd": "/", "args": []}, process_only=True)
    with pytest.raises(SpecError, match=r"^process.args: args must not be empty$"):
        validate_process(p)


def test_unified_needs_cgroup2() -> None:
    doc = edit(setp("linux/resources/unified", {"pids.max": "10"}))
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        assert check(doc) == []
    else:
        with pytest.raises(SpecError, match=r"^linux.resources.unified: invalid configuration: cannot use unified"):
            check(doc)


def test_selinux_label_needs_selinux() -> None:
    doc = edit(setp("process/selinuxLabel", "system_u:system_r:container_t:s0"))
    if os.path.exists("/sys/fs/selinux/enforce"):
        assert check(doc) == []
    else:
        with pytest.raises(SpecError, match="^process.selinuxLabel: selinux label is specified in config"):
            check(doc)


def test_parse_cpu_list() -> None:
    assert parse_cpu_list("0-3,7") == [0, 1, 2, 3, 7]
    assert parse_cpu_list(" 1 , 2-3 ") == [1, 2, 3]
    assert parse_cpu_list("") == []
    for bad in ("1-", "a", "3-1", "1,,2"):
        with pytest.raises(ValueError):
            parse_cpu_list(bad)


def test_join_userns_with_mappings() -> None:
    # runc: matching mappings next to a userns path only warn, others are refused
    own = [line.split() for line in Path("/proc/self/uid_map").read_text().splitlines()]
    own_g = [line.split() for line in Path("/proc/self/gid_map").read_text().splitlines()]

    def maps(rows: list[list[str]]) -> list[dict[str, int]]:
        return [{"containerID": int(a), "hostID": int(b), "size": int(c)} for a, b, c in rows]

    doc = edit(lambda d: (ns_add("user", path="/proc/self/ns/user")(d),
                          d["linux"].update(uidMappings=maps(own), gidMappings=maps(own_g))))
    w = check(doc)
    assert len(w) == 1 and w[0].startswith("linux.uidMappings: config.json has both a userns path")
    doc["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 12345, "size": 1}]
    with pytest.raises(SpecError, match="^linux.uidMappings: user namespaces enabled, but both namespace path "
                       "and non-matching mapping specified"):
        check(doc)
    del doc["linux"]["uidMappings"], doc["linux"]["gidMappings"]
    assert check(doc) == []
