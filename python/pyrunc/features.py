"""The OCI features document (runtime-spec features.md) for ``pyrunc features``.

Only what pyrunc really does on this host is claimed: seccomp from the
native compiler's own report (``_native.seccomp_info``), AppArmor and
SELinux from the host (:mod:`pyrunc.lsm`), idmapped mounts from a real
probe (open_tree + MOUNT_ATTR_IDMAP, root only: a rootless caller cannot
make them), namespaces and capabilities from the running kernel.
``memoryPolicy`` is left out: it is validated but not applied yet.
"""
from __future__ import annotations

import importlib.util
import os
from typing import Any

import pyrunc

__all__ = ["HOOKS", "MOUNT_OPTIONS", "features"]

HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]

# config.md's Linux mount options (mount(8) flags, recursive mount_setattr
# variants, propagation) plus runc's tmpcopyup extension.
MOUNT_OPTIONS = sorted(
    ["acl", "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud", "mand", "noacl", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable"]
)

# capability(7) numbering; the kernel's cap_last_cap says how many exist.
_CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
]  # fmt: skip

_SECCOMP_ACTIONS = [
    "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP",
]  # fmt: skip
_SECCOMP_OPERATORS = [
    "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
]  # fmt: skip
_SECCOMP_FLAGS = [
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
]  # fmt: skip

_NS_FILES = {
    "cgroup": "cgroup",
    "ipc": "ipc",
    "mount": "mnt",
    "network": "net",
    "pid": "pid",
    "time": "time",
    "user": "user",
    "uts": "uts",
}


def _namespaces() -> list[str]:
    return [t for t, f in sorted(_NS_FILES.items()) if os.path.exists(f"/proc/self/ns/{f}")]


def _capabilities() -> list[str]:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read().strip())
    except (OSError, ValueError):
        last = len(_CAPABILITIES) - 1
    return _CAPABILITIES[: last + 1]


def _seccomp() -> dict[str, Any]:
    try:
        from pyrunc import seccomp

        info = seccomp.info()
    except Exception:  # noqa: BLE001 - a broken native module means "no seccomp"
        info = None
    if not info or not info.get("enabled"):
        return {"enabled": False}
    out: dict[str, Any] = {"enabled": True}
    for key in ("actions", "operators", "archs"):
        if info.get(key):
            out[key] = list(info[key])
    out["knownFlags"] = list(info.get("knownFlags") or _SECCOMP_FLAGS)
    # Probed by the native module: the flags this kernel's seccomp(2) takes.
    out["supportedFlags"] = list(info.get("supportedFlags") or [])
    return out


def _idmap_probe_dirs() -> list[str]:
    """The filesystems bundles and volumes usually live on: the root fs and tmpfs."""
    return [d for d in ("/", "/dev/shm") if os.path.isdir(d)]


def _idmap_supported() -> bool:
    """Make a real idmapped mount (detached, never attached) on each probed
    filesystem; true only if all of them take MOUNT_ATTR_IDMAP."""
    if os.geteuid() != 0:
        return False
    try:
        from pyrunc.container import idmap

        maps = [{"containerID": 0, "hostID": 0, "size": 1}]
        userns = idmap.userns_with_maps(maps, maps, "features")
    except Exception:  # noqa: BLE001 - no userns, no idmapped mounts
        return False
    try:
        for d in _idmap_probe_dirs():
            try:
                fd = idmap.idmapped_clone(d, False, False, userns, "features")
            except Exception:  # noqa: BLE001
                return False
            os.close(fd)
        return bool(_idmap_probe_dirs())
    finally:
        os.close(userns)


def _commit() -> str:
    """The git commit of a source checkout (editable installs), else "unknown"."""
    commit = getattr(pyrunc, "__commit__", None)
    if commit:
        return str(commit)
    git = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".git")
    try:
        with open(os.path.join(git, "HEAD")) as f:
            head = f.read().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        try:
            with open(os.path.join(git, ref)) as f:
                return f.read().strip()
        except FileNotFoundError:
            with open(os.path.join(git, "packed-refs")) as f:
                for line in f:
                    if line.rstrip().endswith(" " + ref):
                        return line.split()[0]
    except OSError:
        pass
    return "unknown"


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def features() -> dict[str, Any]:
    """The features document, keys in the runtime-spec's order."""
    from pyrunc import lsm

    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": pyrunc.OCI_VERSION,
        "hooks": list(HOOKS),
        "mountOptions": list(MOUNT_OPTIONS),
        "linux": {
            "namespaces": _namespaces(),
            "capabilities": _capabilities(),
            "cgroup": {
                "v1": True,
                "v2": True,
                "systemd": _has_module("pyrunc.cgroups.systemd"),
                "systemdUser": _has_module("pyrunc.cgroups.systemd"),
                "rdma": False,
            },
            "seccomp": _seccomp(),
            "apparmor": {"enabled": lsm.apparmor_enabled()},
            "selinux": {"enabled": lsm.selinux_enabled()},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": _idmap_supported()}},
            "netDevices": {"enabled": False},
        },
        # Go marshals maps with sorted keys; so do we, for identical output.
        "annotations": dict(
            sorted(
                {
                    "org.opencontainers.runc.checkpoint.enabled": "false",
                    "io.github.pyrunc.commit": _commit(),
                    "io.github.pyrunc.version": pyrunc.__version__,
                    "io.github.pyrunc.seccomp.library": "pyrunc (built-in)",
                }.items()
            )
        ),
        # pyrunc changes no behaviour on any config.json annotation.
        "potentiallyUnsafeConfigAnnotations": [],
    }
