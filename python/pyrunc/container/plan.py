"""Build the init's plan (rust/core/src/plan.rs) from a validated config.json.

The plan is built from ``Spec.to_dict()`` (the config.json keys), so it follows
the runtime-spec names exactly. Every name is resolved to a number here
(capabilities, rlimits, mount flags, scheduler policy), paths are made
absolute, and each item carries its config.json field path so the init can
name the field in any error. The Rust side rejects unknown keys: only keys
plan.rs declares are emitted.
"""
from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence

from pyrunc import lsm
from pyrunc.container import hooks as hooks_mod
from pyrunc.errors import SpecError, SyscallError, field_path
from pyrunc.spec.mountopts import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    MS_SHARED,
    MS_SLAVE,
    MS_UNBINDABLE,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any

# linux.rootfsPropagation, as runc maps it; unset means MS_SLAVE|MS_REC so
# mounts made inside the container never reach the host.
ROOTFS_PROPAGATION = {
    "shared": MS_SHARED,
    "rshared": MS_SHARED | MS_REC,
    "slave": MS_SLAVE,
    "rslave": MS_SLAVE | MS_REC,
    "private": MS_PRIVATE,
    "rprivate": MS_PRIVATE | MS_REC,
    "unbindable": MS_UNBINDABLE,
    "runbindable": MS_UNBINDABLE | MS_REC,
}
DEFAULT_ROOTFS_PROPAGATION = MS_SLAVE | MS_REC

RLIMITS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}
IOPRIO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
SCHED_POLICIES = {
    "SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_ISO": 4,
    "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
}
SCHED_FLAGS = {
    "SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
    "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10, "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
    "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
}
PERSONALITY = {"LINUX": 0x0000, "LINUX32": 0x0008}

# The devices every container gets (runtime-spec config-linux.md "Default Devices").
DEFAULT_DEVICES = [
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
]

CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def rootfs_path(config: Mapping[str, Any], bundle: str) -> str:
    """The absolute realpath of root.path (relative to the bundle)."""
    root = (config.get("root") or {}).get("path") or ""
    if not root:
        raise SpecError("root.path", "must be set")
    path = os.path.realpath(os.path.join(os.path.abspath(bundle), root))
    try:
        st = os.stat(path)
    except OSError as e:
        raise SyscallError("stat", e.errno or 2, f"stat {path}", "root.path") from None
    if not stat.S_ISDIR(st.st_mode):
        raise SpecError("root.path", f"{path} is not a directory")
    return path


def _namespaces(linux: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, ns in enumerate(linux.get("namespaces") or []):
        item: dict[str, Any] = {"type": ns["type"], "field": field_path("linux", "namespaces", i)}
        if ns.get("path"):
            item["path"] = ns["path"]
        out.append(item)
    return out


def _has_ns(linux: Mapping[str, Any], kind: str) -> bool:
    return any(ns.get("type") == kind for ns in linux.get("namespaces") or [])


def _mount_options(options: Sequence[str], field: str) -> dict[str, Any]:
    """flags, propagation, data and recursive attributes of one mount's options."""
    from pyrunc.spec import mountopts

    mo = mountopts.parse(list(options))
    return {
        "flags": mo.flags,
        "propagation": list(mo.propagation),
        "data": mo.data,
        "rec_attr_set": mo.rec_attr_set,
        "rec_attr_clr": mo.rec_attr_clr,
    }


def _bind_source(source: str, bundle: str, field: str) -> str:
    # Relative bind sources are relative to the bundle, as in runc.
    src = source if os.path.isabs(source) else os.path.join(os.path.abspath(bundle), source)
    try:
        os.stat(src)
    except OSError as e:
        raise SyscallError("stat", e.errno or 2, f"bind source {src}", field) from None
    return src


def _mounts(config: Mapping[str, Any], bundle: str, cgroup_manager: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    linux = config.get("linux") or {}
    for i, m in enumerate(config.get("mounts") or []):
        field = field_path("mounts", i)
        dest = m.get("destination") or ""
        if not dest:
            raise SpecError(field_path("mounts", i, "destination"), "must be set")
        # runc 1.2 takes a relative destination as relative to "/".
        dest = "/" + dest.lstrip("/") if not os.path.isabs(dest) else dest
        fstype = m.get("type") or ""
        if fstype == "cgroup" and cgroup_manager is not None:
            flags = _mount_options(m.get("options") or [], field)["flags"]
            cms = cgroup_manager.mounts_for_container(_has_ns(linux, "cgroup"), flags)
            for cm in cms:
                out.append(_cgroup_mount(cm, field, dest))
            # v1: the tmpfs holding the hierarchies becomes read-only last, as
            # the config's "ro" asks (the binds under it already are).
            if flags & MS_RDONLY and cms and out[-len(cms)]["fstype"] == "tmpfs":
                out.append({"field": field, "destination": dest, "source": "", "fstype": "",
                            "flags": MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC})
            continue
        opts = _mount_options(m.get("options") or [], field_path("mounts", i, "options"))
        source = m.get("source") or ""
        item: dict[str, Any] = {"field": field, "destination": dest}
        if opts["flags"] & MS_BIND or fstype == "bind":
            opts["flags"] |= MS_BIND
            fstype = "bind"
            source = _bind_source(source, bundle, field_path("mounts", i, "source"))
            item["dest_is_file"] = not os.path.isdir(source)
        item["source"] = source
        item["fstype"] = fstype
        item.update(opts)
        out.append(item)
    return out


def _cgroup_symlinks(config: Mapping[str, Any], cgroup_manager: Any) -> list[dict[str, Any]]:
    """cpu -> cpu,cpuacct links for comounted v1 hierarchies under the cgroup mount."""
    links = getattr(cgroup_manager, "symlinks_for_container", None)
    if links is None:
        return []
    for i, m in enumerate(config.get("mounts") or []):
        if m.get("type") == "cgroup":
            dest = m.get("destination") or "/sys/fs/cgroup"
            return [{"path": os.path.join(dest, os.path.basename(link)), "target": target,
                     "field": field_path("mounts", i)} for target, link in links()]
    return []


def _cgroup_mount(cm: Any, field: str, dest: str) -> dict[str, Any]:
    """A mount from the cgroup manager, in the plan's shape, under the config's destination."""
    d = dict(cm) if isinstance(cm, Mapping) else {k: getattr(cm, k) for k in vars(cm)}
    item: dict[str, Any] = {"field": field}
    rel = d.get("destination", dest)
    # The manager may give paths relative to the cgroup mount ("cpu,cpuacct").
    item["destination"] = rel if os.path.isabs(rel) else os.path.join(dest, rel)
    for key in ("source", "fstype", "flags", "propagation", "data", "rec_attr_set", "rec_attr_clr",
                "dest_is_file"):
        if key in d and d[key] is not None:
            item[key] = d[key]
    if "fstype" not in item and "type" in d:
        item["fstype"] = d["type"]
    return item


def _devices(linux: Mapping[str, Any]) -> list[dict[str, Any]]:
    configured = linux.get("devices") or []
    paths = {d.get("path") for d in configured}
    out = [
        {"field": f"default device {path}", "path": path, "type": "c", "major": major, "minor": minor,
         "file_mode": 0o666, "uid": 0, "gid": 0}
        for path, major, minor in DEFAULT_DEVICES
        if path not in paths
    ]
    for i, d in enumerate(configured):
        mode = d.get("fileMode")
        out.append({
            "field": field_path("linux", "devices", i),
            "path": d["path"],
            "type": d.get("type", "c"),
            "major": int(d.get("major", 0)),
            "minor": int(d.get("minor", 0)),
            # The type bits are the kernel's business (mknod's mode argument).
            "file_mode": (int(mode) & 0o7777) if mode is not None else 0o666,
            "uid": int(d.get("uid", 0)),
            "gid": int(d.get("gid", 0)),
        })
    return out


def _capabilities(caps: Mapping[str, Any] | None) -> dict[str, list[int]]:
    """Strict: an unknown name is an error naming its field (runc 1.2 only
    warns and drops it; a silently weaker or stronger set is worse)."""
    from pyrunc.spec import caps as caps_mod

    caps = caps or {}
    return {s: caps_mod.parse_caps(list(caps.get(s) or []), field_path("process", "capabilities", s))
            for s in CAP_SETS}


def _rlimits(rlimits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, r in enumerate(rlimits):
        num = RLIMITS.get(r.get("type", ""))
        if num is None:
            raise SpecError(field_path("process", "rlimits", i, "type"), f"unknown rlimit {r.get('type')!r}")
        out.append({"resource": num, "soft": int(r.get("soft", 0)), "hard": int(r.get("hard", 0)),
                    "field": field_path("process", "rlimits", i)})
    return out


def _scheduler(s: Mapping[str, Any]) -> dict[str, Any]:
    policy = SCHED_POLICIES.get(s.get("policy", ""))
    if policy is None:
        raise SpecError("process.scheduler.policy", f"unknown policy {s.get('policy')!r}")
    flags = 0
    for i, f in enumerate(s.get("flags") or []):
        if f not in SCHED_FLAGS:
            raise SpecError(field_path("process", "scheduler", "flags", i), f"unknown flag {f!r}")
        flags |= SCHED_FLAGS[f]
    return {"policy": policy, "nice": int(s.get("nice", 0)), "priority": int(s.get("priority", 0)),
            "flags": flags, "runtime": int(s.get("runtime", 0)), "deadline": int(s.get("deadline", 0)),
            "period": int(s.get("period", 0))}


def build_process(proc: Mapping[str, Any], *, preserve_fds: int = 0) -> dict[str, Any]:
    """The plan's process part (shared with exec, which has no rootfs)."""
    user = proc.get("user") or {}
    out: dict[str, Any] = {
        "args": list(proc.get("args") or []),
        "env": list(proc.get("env") or []),
        "cwd": proc.get("cwd") or "/",
        "uid": int(user.get("uid", 0)),
        "gid": int(user.get("gid", 0)),
        "additional_gids": [int(g) for g in user.get("additionalGids") or []],
        "rlimits": _rlimits(proc.get("rlimits") or []),
        "no_new_privileges": bool(proc.get("noNewPrivileges", False)),
        "terminal": bool(proc.get("terminal", False)),
        "preserve_fds": int(preserve_fds),
        # Checked against the host in stage 0 (pyrunc.lsm), before anything starts.
        "apparmor_profile": lsm.apparmor_profile(proc.get("apparmorProfile") or ""),
        "selinux_label": lsm.selinux_label(proc.get("selinuxLabel") or ""),
    }
    if not out["args"]:
        raise SpecError("process.args", "must not be empty")
    if user.get("umask") is not None:
        out["umask"] = int(user["umask"])
    # Without a capabilities object the process gets none, as runc does.
    out["capabilities"] = _capabilities(proc.get("capabilities"))
    if proc.get("consoleSize"):
        cs = proc["consoleSize"]
        out["console_size"] = {"height": int(cs.get("height", 0)), "width": int(cs.get("width", 0))}
    if proc.get("ioPriority"):
        iop = proc["ioPriority"]
        cls = IOPRIO_CLASSES.get(iop.get("class", ""))
        if cls is None:
            raise SpecError("process.ioPriority.class", f"unknown class {iop.get('class')!r}")
        out["io_priority"] = {"class": cls, "priority": int(iop.get("priority", 0))}
    if proc.get("scheduler"):
        out["scheduler"] = _scheduler(proc["scheduler"])
    return out


def build_create_plan(
    config: Mapping[str, Any],
    bundle: str,
    *,
    preserve_fds: int = 0,
    no_pivot: bool = False,
    rootless: bool = False,
    cgroup_manager: Any = None,
    cid: str = "",
    no_new_keyring: bool = False,
) -> dict[str, Any]:
    """The plan for ``create``: config is ``Spec.to_dict()`` of a validated spec."""
    linux = config.get("linux") or {}
    proc = config.get("process") or {}
    if not proc:
        raise SpecError("process", "must be set for create")
    sync_fd = 3 + preserve_fds
    rootfs: dict[str, Any] = {
        "path": rootfs_path(config, bundle),
        "readonly": bool((config.get("root") or {}).get("readonly", False)),
        "propagation": _rootfs_propagation(linux.get("rootfsPropagation") or ""),
        "no_pivot": bool(no_pivot),
        "mounts": _mounts(config, bundle, cgroup_manager),
        "devices": _devices(linux),
        "bind_devices": bool(rootless or _has_ns(linux, "user")),
        "masked_paths": list(linux.get("maskedPaths") or []),
        "readonly_paths": list(linux.get("readonlyPaths") or []),
        "mount_label": lsm.mount_label(linux.get("mountLabel") or ""),
        "symlinks": _cgroup_symlinks(config, cgroup_manager),
    }
    plan: dict[str, Any] = {
        "mode": "create",
        "sync_fd": sync_fd,
        "fifo_fd": sync_fd + 1,
        "namespaces": _namespaces(linux),
        "time_offsets": [
            {"clock": clock, "secs": int(v.get("secs", 0)), "nanosecs": int(v.get("nanosecs", 0))}
            for clock, v in sorted((linux.get("timeOffsets") or {}).items())
        ],
        "rootfs": rootfs,
        "sysctl": [
            {"key": k, "value": str(v), "field": field_path("linux", "sysctl", k)}
            for k, v in (linux.get("sysctl") or {}).items()
        ],
        "process": build_process(proc, preserve_fds=preserve_fds),
        "hooks_roundtrip": hooks_mod.has_roundtrip_hooks(config),
        "create_container_hooks": hooks_mod.plan_hooks(config, "createContainer"),
        "start_container_hooks": hooks_mod.plan_hooks(config, "startContainer"),
    }
    if config.get("hostname"):
        plan["hostname"] = config["hostname"]
    if config.get("domainname"):
        plan["domainname"] = config["domainname"]
    if proc.get("oomScoreAdj") is not None:
        plan["oom_score_adj"] = int(proc["oomScoreAdj"])
    pers = linux.get("personality")
    if pers:
        dom = pers.get("domain", "")
        if dom not in PERSONALITY:
            raise SpecError("linux.personality.domain", f"unknown domain {dom!r}")
        plan["personality"] = PERSONALITY[dom]
    if cid and not no_new_keyring:
        plan["session_keyring"] = f"_ses.{cid}"
    if linux.get("seccomp"):
        plan["seccomp"] = seccomp_plan(linux["seccomp"])
    return plan


def seccomp_plan(profile: Mapping[str, Any]) -> dict[str, Any]:
    """linux.seccomp compiled in stage 0, so a bad profile fails create with
    its field path before anything starts; the init only loads it."""
    from pyrunc import log, seccomp

    prog = seccomp.compile_program(profile)
    for name in prog.get("skipped") or []:
        log.debug(f"unknown seccomp syscall {name!r} ignored")
    return prog


def _rootfs_propagation(name: str) -> int:
    if not name:
        return DEFAULT_ROOTFS_PROPAGATION
    try:
        return ROOTFS_PROPAGATION[name]
    except KeyError:
        raise SpecError("linux.rootfsPropagation", f"unknown propagation {name!r}") from None
