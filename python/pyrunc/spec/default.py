"""The starter config.json that ``pyrunc spec`` writes: runc's example spec.

Kept equal to runc 1.2+'s (libcontainer/specconv Example/ToRootless) with our
ociVersion, because tests, docs and users start from it. Differences from
runc 1.1 (what Debian ships): no ambient capabilities, /sys/devices/virtual/tpm
masked, and a cgroup namespace when the host runs the unified cgroup v2
hierarchy.
"""
from __future__ import annotations

import json
import os
from typing import Any

from pyrunc import OCI_VERSION

__all__ = ["default_spec", "dumps", "to_rootless"]

_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def _cgroup2_unified() -> bool:
    # cgroup.controllers only exists at the root of a cgroup2 mount.
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def default_spec(rootless: bool = False) -> dict[str, Any]:
    """A fresh spec dict, keys in the runtime-spec (Go struct) order."""
    spec: dict[str, Any] = {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": list(_CAPS),
                "effective": list(_CAPS),
                "permitted": list(_CAPS),
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "runc",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
                "/sys/devices/virtual/tpm",
            ],
            "readonlyPaths": [
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ],
        },
    }
    if _cgroup2_unified():
        spec["linux"]["namespaces"].append({"type": "cgroup"})
    if rootless:
        to_rootless(spec)
    return spec


def to_rootless(spec: dict[str, Any]) -> None:
    """Make ``spec`` runnable by an unprivileged user, in place (runc's rules):
    a user namespace mapping the caller to root, no network namespace (it
    could not be configured), /sys bind-mounted (sysfs needs a netns owned by
    the userns), no uid=/gid= mount options (unmapped ids) and no cgroup
    resources (no permission to apply them)."""
    linux = spec.setdefault("linux", {})
    namespaces = [ns for ns in linux.get("namespaces", []) if ns.get("type") not in ("network", "user")]
    namespaces.append({"type": "user"})
    # uid/gid mappings come first in the Go struct, before resources/namespaces.
    rebuilt: dict[str, Any] = {
        "uidMappings": [{"containerID": 0, "hostID": os.geteuid(), "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": os.getegid(), "size": 1}],
    }
    for key, value in linux.items():
        if key in ("uidMappings", "gidMappings", "resources"):
            continue
        rebuilt[key] = namespaces if key == "namespaces" else value
    if "namespaces" not in rebuilt:
        rebuilt["namespaces"] = namespaces
    spec["linux"] = rebuilt

    mounts: list[dict[str, Any]] = []
    for m in spec.get("mounts", []):
        if os.path.normpath(m.get("destination", "")) == "/sys":
            mounts.append(
                {
                    "destination": "/sys",
                    "type": "none",
                    "source": "/sys",
                    "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
                }
            )
            continue
        m = dict(m)
        opts = [o for o in m.get("options") or [] if not o.startswith(("gid=", "uid="))]
        if opts:
            m["options"] = opts
        else:
            m.pop("options", None)
        mounts.append(m)
    spec["mounts"] = mounts


def dumps(spec: dict[str, Any]) -> str:
    """Tab-indented JSON without a trailing newline (Go's MarshalIndent)."""
    return json.dumps(spec, indent="\t", ensure_ascii=False)
