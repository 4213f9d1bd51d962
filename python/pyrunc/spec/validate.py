"""Semantic checks of a loaded spec, the ones runc makes before it creates
anything (libcontainer/configs/validate, specconv, validateProcessSpec) plus
the MUSTs of runtime-spec v1.3.0 that runc leaves to the kernel.

:func:`validate` raises :class:`SpecError` for the first problem, naming the
field (``linux.namespaces[1].type: duplicate namespace "pid"``), and returns
warnings for what the spec says to log rather than reject (unknown
capabilities, relative mount destinations...). Where runc 1.2 and the spec
disagree, the spec wins; the docstrings of the checks say so.
"""
from __future__ import annotations

import os
import re

from pyrunc.errors import SpecError, field_path
from pyrunc.spec import caps as _caps
from pyrunc.spec import mountopts
from pyrunc.spec.model import (
    IOPRIO_CLASSES,
    MPOL_FLAGS,
    MPOL_MODES,
    NAMESPACE_TYPES,
    PERSONALITY_DOMAINS,
    RLIMITS,
    ROOTFS_PROPAGATIONS,
    SCHED_FLAGS,
    SCHED_POLICIES,
    SECCOMP_ACTIONS,
    SECCOMP_ARCHES,
    SECCOMP_FLAGS,
    SECCOMP_OPERATORS,
    IDMapping,
    Linux,
    Process,
    Resources,
    Seccomp,
    Spec,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Optional, Union

    P = Union[str, int]

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_CPU_LIST = re.compile(r"^\s*\d+\s*(?:-\s*\d+\s*)?$")
_HUGEPAGE = re.compile(r"^[1-9][0-9]*[KMG]B$")
# sysctls that live in the IPC namespace (ipc_namespaces(7))
_IPC_SYSCTLS = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
                "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}
_TIME_CLOCKS = ("boottime", "monotonic")


def _err(*parts: P, msg: str) -> SpecError:
    return SpecError(field_path(*parts), msg)


def _strerror(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


def _isabs(p: str) -> bool:
    return p.startswith("/")


def parse_cpu_list(s: str) -> list[int]:
    """``"0-3,7"`` -> [0, 1, 2, 3, 7]; ValueError if malformed (the cpuset format)."""
    out: list[int] = []
    if not s.strip():
        return out
    for part in s.split(","):
        if not _CPU_LIST.match(part):
            raise ValueError(f"invalid list {s!r}")
        lo, _, hi = part.partition("-")
        a, b = int(lo), int(hi) if hi.strip() else int(lo)
        if a > b:
            raise ValueError(f"invalid range {part.strip()!r}")
        out.extend(range(a, b + 1))
    return out


def _selinux_enabled() -> bool:
    return os.path.exists("/sys/fs/selinux/enforce")


def _cgroup2_unified() -> bool:
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def _resctrl_root() -> Optional[str]:
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                pre, _, post = line.partition(" - ")
                if post.split(" ", 1)[0] == "resctrl":
                    return pre.split(" ")[4]
    except OSError:
        pass
    return None


def _host_id(maps: list[IDMapping], cid: int) -> Optional[int]:
    for m in maps:
        if m.container_id <= cid < m.container_id + m.size:
            return m.host_id + cid - m.container_id
    return None


def _read_id_map(path: str) -> Optional[list[tuple[int, int, int]]]:
    try:
        with open(path) as f:
            return [tuple(int(x) for x in line.split()) for line in f if line.strip()]  # type: ignore[misc]
    except (OSError, ValueError):
        return None


def validate(
    spec: Spec,
    *,
    rootless: bool = False,
    bundle: Union[str, os.PathLike[str], None] = None,
    no_pivot: bool = False,
    systemd_cgroup: bool = False,
    require_process: bool = True,
) -> list[str]:
    """Check ``spec`` for ``create``/``run``; raise SpecError naming the field
    of the first problem, return the warnings (field-prefixed strings).

    ``bundle`` enables the rootfs checks (exists, is a directory, not a
    symlink); ``rootless`` adds runc's rootless checks; ``no_pivot`` and
    ``systemd_cgroup`` are the ``create`` flags that change what is valid."""
    w: list[str] = []
    _check_version(spec, w)
    if spec.root is None:
        raise _err("root", msg="root must be specified")
    if not spec.root.path:
        raise _err("root", "path", msg="must not be empty")
    if bundle is not None:
        _check_rootfs(spec.root.path, os.fspath(bundle))
    linux = spec.linux or Linux()
    _check_namespaces(linux)
    ns = {n.type: n for n in linux.namespaces}
    if spec.process is None:
        if require_process:
            raise _err("process", msg="process property must not be empty")
    else:
        w += validate_process(spec.process)
    if spec.hostname and "uts" not in ns:
        raise _err("hostname", msg="unable to set hostname without a private UTS namespace")
    if spec.domainname and "uts" not in ns:
        raise _err("domainname", msg="unable to set domainname without a private UTS namespace")
    _check_userns(linux, ns, rootless, w)
    _check_mounts(spec, linux, ns, rootless, w)
    _check_hooks(spec)
    _check_linux_paths(linux, ns)
    _check_sysctl(linux, ns)
    _check_devices(linux)
    if linux.resources is not None:
        _check_resources(linux.resources)
    _check_cgroups_path(linux, systemd_cgroup)
    if linux.rootfs_propagation is not None:
        prop = linux.rootfs_propagation
        if prop not in ROOTFS_PROPAGATIONS:
            raise _err("linux", "rootfsPropagation", msg=f'rootfsPropagation "{prop}" is not supported')
        if no_pivot and prop in ("private", "rprivate"):
            raise _err("linux", "rootfsPropagation",
                       msg="rootfsPropagation of [r]private is not safe without pivot_root")
    if linux.seccomp is not None:
        _check_seccomp(linux.seccomp)
    _check_intel_rdt(linux)
    _check_personality(linux, w)
    _check_memory_policy(linux)
    _check_net_devices(linux, ns)
    return w


def _check_version(spec: Spec, w: list[str]) -> None:
    # runc does not look at ociVersion. The spec keeps compatibility within a
    # major version, so a 2.x config is refused; 0.x (pre-1.0) only warns.
    m = _SEMVER.match(spec.oci_version)
    if not m:
        w.append(f'ociVersion: "{spec.oci_version}" is not a SemVer 2.0.0 version')
    elif int(m.group(1)) > 1:
        raise _err("ociVersion", msg=f'unsupported spec version "{spec.oci_version}"')
    elif int(m.group(1)) < 1:
        w.append(f'ociVersion: pre-1.0 spec version "{spec.oci_version}"')


def _check_rootfs(path: str, bundle: str) -> None:
    # runc resolves root.path against the (physical) bundle directory and
    # refuses a rootfs reached through a symlink.
    base = os.path.realpath(bundle)
    rootfs = os.path.normpath(path if _isabs(path) else os.path.join(base, path))
    try:
        os.stat(rootfs)
    except OSError as e:
        raise _err("root", "path", msg=f"invalid rootfs: stat {rootfs}: {_strerror(e)}") from None
    if not os.path.isdir(rootfs):
        raise _err("root", "path", msg=f"invalid rootfs: {rootfs} is not a directory")
    if os.path.realpath(rootfs) != rootfs:
        raise _err("root", "path", msg="invalid rootfs: not an absolute path, or a symlink")


def validate_process(process: Process, prefix: str = "process") -> list[str]:
    """Check a process (config.json's, or ``exec --process``'s); return warnings."""
    w: list[str] = []
    if not process.cwd:
        raise _err(prefix, "cwd", msg="cwd property must not be empty")
    if not _isabs(process.cwd):
        raise _err(prefix, "cwd", msg="cwd must be an absolute path")
    if not process.args:
        raise _err(prefix, "args", msg="args must not be empty")
    for i, kv in enumerate(process.env):
        name, eq, _ = kv.partition("=")
        if not eq:
            raise _err(prefix, "env", i, msg="invalid environment variable: missing '='")
        if not name:
            raise _err(prefix, "env", i, msg="invalid environment variable: name cannot be empty")
        if "\0" in kv:
            raise _err(prefix, "env", i, msg="invalid environment variable: contains a null byte")
    if process.selinux_label and not _selinux_enabled():
        raise _err(prefix, "selinuxLabel",
                   msg="selinux label is specified in config, but selinux is disabled or not supported")
    dropped = _caps.unknown_cap_fields(process.capabilities, f"{prefix}.capabilities")
    if dropped:
        names = sorted({n for _, n in dropped})
        w.append(f"{dropped[0][0]}: ignoring unknown or unavailable capabilities: [{' '.join(names)}]")
    seen: dict[str, int] = {}
    for i, rl in enumerate(process.rlimits):
        if rl.type not in RLIMITS:
            raise _err(prefix, "rlimits", i, "type", msg=f'unknown rlimit "{rl.type}"')
        if rl.type in seen:
            raise _err(prefix, "rlimits", i, "type", msg=f'duplicate rlimit "{rl.type}"')
        seen[rl.type] = i
        if rl.soft > rl.hard:
            raise _err(prefix, "rlimits", i,
                       msg=f"soft limit {rl.soft} is greater than hard limit {rl.hard}")
    if process.oom_score_adj is not None and not -1000 <= process.oom_score_adj <= 1000:
        raise _err(prefix, "oomScoreAdj", msg=f"{process.oom_score_adj} is out of range [-1000, 1000]")
    _check_scheduler(process, prefix)
    if process.io_priority is not None:
        iop = process.io_priority
        if iop.class_ not in IOPRIO_CLASSES:
            raise _err(prefix, "ioPriority", "class", msg=f'unknown ioPriority class "{iop.class_}"')
        if iop.priority is not None and not 0 <= iop.priority <= 7:
            raise _err(prefix, "ioPriority", "priority",
                       msg=f"invalid ioPriority priority {iop.priority} (must be 0-7)")
    if process.exec_cpu_affinity is not None:
        for key in ("initial", "final"):
            v = getattr(process.exec_cpu_affinity, key)
            if v is not None:
                try:
                    parse_cpu_list(v)
                except ValueError:
                    raise _err(prefix, "execCPUAffinity", key, msg=f'invalid CPU list "{v}"') from None
    return w


def _check_scheduler(process: Process, prefix: str) -> None:
    s = process.scheduler
    if s is None:
        return
    # sched_setattr(2) rules, as runc's validator words them
    if s.policy not in SCHED_POLICIES:
        raise _err(prefix, "scheduler", "policy", msg=f'unknown scheduler policy "{s.policy}"')
    for i, fl in enumerate(s.flags):
        if fl not in SCHED_FLAGS:
            raise _err(prefix, "scheduler", "flags", i, msg=f'unknown scheduler flag "{fl}"')
    if s.nice is not None and not -20 <= s.nice <= 19:
        raise _err(prefix, "scheduler", "nice", msg=f"invalid scheduler.nice: {s.nice}")
    if s.priority and s.policy not in ("SCHED_FIFO", "SCHED_RR"):
        raise _err(prefix, "scheduler", "priority",
                   msg="scheduler.priority can only be specified for SchedFIFO or SchedRR policy")
    if s.policy != "SCHED_DEADLINE" and (s.runtime or s.deadline or s.period):
        raise _err(prefix, "scheduler",
                   msg="scheduler runtime/deadline/period can only be specified for SchedDeadline policy")


def _check_namespaces(linux: Linux) -> None:
    seen: set[str] = set()
    for i, n in enumerate(linux.namespaces):
        if n.type not in NAMESPACE_TYPES:
            raise _err("linux", "namespaces", i, "type", msg=f'unknown namespace type "{n.type}"')
        if n.type in seen:
            raise _err("linux", "namespaces", i, "type", msg=f'duplicate namespace "{n.type}"')
        seen.add(n.type)
        if n.path is not None and n.path != "" and not _isabs(n.path):
            raise _err("linux", "namespaces", i, "path", msg="must be an absolute path")
    # runc refuses what the kernel cannot do before starting anything
    for t, probe, text in (("user", "/proc/self/ns/user", "USER namespaces"),
                           ("cgroup", "/proc/self/ns/cgroup", "cgroup namespaces"),
                           ("time", "/proc/self/timens_offsets", "time namespaces")):
        if t in seen and not os.path.exists(probe):
            idx = [n.type for n in linux.namespaces].index(t)
            raise _err("linux", "namespaces", idx, "type", msg=f"{text} aren't enabled in the kernel")


def _check_userns(linux: Linux, ns: dict, rootless: bool, w: list[str]) -> None:
    user = ns.get("user")
    if user is None:
        if rootless:
            raise _err("linux", "namespaces", msg="rootless container requires user namespaces")
        for key, maps in (("uidMappings", linux.uid_mappings), ("gidMappings", linux.gid_mappings)):
            if maps:
                raise _err("linux", key,
                           msg="user namespace mappings specified, "
                           "but USER namespace isn't enabled in the config")
        return
    for key, maps in (("uidMappings", linux.uid_mappings), ("gidMappings", linux.gid_mappings)):
        for i, idm in enumerate(maps):
            if idm.size == 0:
                raise _err("linux", key, i, "size", msg="must be greater than zero")
    if user.path:
        # Joining a userns: its own maps apply. runc tolerates identical maps in
        # config.json (containerd and CRI-O send both) and refuses others.
        if linux.uid_mappings or linux.gid_mappings:
            m = re.match(r"^/proc/(\d+|self)/ns/user$", user.path)
            same = None
            if m:
                base = f"/proc/{m.group(1)}"
                cur_u, cur_g = _read_id_map(f"{base}/uid_map"), _read_id_map(f"{base}/gid_map")
                want_u = [(x.container_id, x.host_id, x.size) for x in linux.uid_mappings]
                want_g = [(x.container_id, x.host_id, x.size) for x in linux.gid_mappings]
                if cur_u is not None and cur_g is not None:
                    same = cur_u == want_u and cur_g == want_g
            if same is False:
                raise _err("linux", "uidMappings", msg="user namespaces enabled, but both namespace path "
                           "and non-matching mapping specified -- you may only provide one")
            w.append("linux.uidMappings: config.json has both a userns path to join and a userns mapping "
                     "specified -- you may only provide one; the mapping is ignored")
        return
    for key, maps, what in (("uidMappings", linux.uid_mappings, "user"),
                            ("gidMappings", linux.gid_mappings, "group")):
        if not maps:
            if rootless:
                raise _err("linux", key,
                           msg=f"rootless containers requires at least one {key[:3].upper()} mapping")
            raise _err("linux", key, msg="user namespaces enabled, but no user mapping found")
        if _host_id(maps, 0) is None:
            raise _err("linux", key, msg=f"user namespaces enabled, but no root {what} mapping found")


def _check_linux_paths(linux: Linux, ns: dict) -> None:
    for key, paths in (("maskedPaths", linux.masked_paths), ("readonlyPaths", linux.readonly_paths)):
        if paths and "mount" not in ns:
            raise _err("linux", key, msg="unable to restrict sys entries without a private MNT namespace")
        for i, p in enumerate(paths):
            if not _isabs(p):
                raise _err("linux", key, i, msg="must be an absolute path")
    if linux.time_offsets:
        if "time" not in ns:
            raise _err("linux", "timeOffsets",
                       msg="time namespace offsets specified, but time namespace isn't enabled in the config")
        for clock, off in linux.time_offsets.items():
            if clock not in _TIME_CLOCKS:
                raise _err("linux", "timeOffsets", clock,
                           msg=f'unknown clock "{clock}" (boottime, monotonic)')
            if off.nanosecs is not None and off.nanosecs >= 1_000_000_000:
                raise _err("linux", "timeOffsets", clock, "nanosecs", msg="must be less than 1000000000")


def _is_host_netns(path: str) -> bool:
    try:
        a, b = os.stat("/proc/self/ns/net"), os.stat(path)
    except OSError as e:
        raise _err("linux", "namespaces",
                   msg=f"invalid netns path: stat {e.filename}: {_strerror(e)}") from None
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _check_sysctl(linux: Linux, ns: dict) -> None:
    # /proc/sys is only partly namespaced: a sysctl is allowed only when the
    # namespace that owns it is the container's own (runc's rules).
    hostnet: Optional[bool] = None
    for key in linux.sysctl:
        s = key
        first = min((i for i in (s.find("."), s.find("/")) if i >= 0), default=-1)
        if first >= 0 and s[first] == "/":  # sysctl.d(5) allows "/" as the separator
            s = s.translate(str.maketrans("./", "/."))
        where = ("linux", "sysctl", key)
        if s in _IPC_SYSCTLS or s.startswith("fs.mqueue."):
            if "ipc" not in ns:
                raise _err(*where, msg=f'sysctl "{s}" is not allowed in the hosts ipc namespace')
            continue
        if s.startswith("net."):
            if hostnet is None:
                net = ns.get("network")
                hostnet = net is None or bool(net.path and _is_host_netns(net.path))
            if hostnet:
                raise _err(*where, msg=f'sysctl "{s}" not allowed in host network namespace')
            continue
        if "uts" in ns:
            if s == "kernel.domainname":
                continue
            if s == "kernel.hostname":
                raise _err(*where,
                           msg=f'sysctl "{s}" is not allowed as it conflicts with the OCI "hostname" field')
        raise _err(*where, msg=f'sysctl "{s}" is not in a separate kernel namespace')


def _check_mounts(spec: Spec, linux: Linux, ns: dict, rootless: bool, w: list[str]) -> None:
    for i, m in enumerate(spec.mounts):
        if not m.destination:
            raise _err("mounts", i, "destination", msg="must not be empty")
        for key, v in (("destination", m.destination), ("source", m.source), ("type", m.type)):
            if v and "\0" in v:
                raise _err("mounts", i, key, msg="contains a null byte")
        if not _isabs(m.destination):
            # config.md: relative destinations are deprecated, relative to "/"
            w.append(f"mounts[{i}].destination: relative destination path {m.destination!r} is deprecated, "
                     "using it as relative to /")
        opts = mountopts.parse(m.options)
        if opts.is_bind and opts.data:
            # the kernel ignores data for MS_BIND (runc 1.2 refuses it too)
            raise _err("mounts", i, "options",
                       msg=f"bind mounts cannot have any filesystem-specific options applied: {opts.data}")
        if m.type == "bind" and not opts.is_bind:
            w.append(f'mounts[{i}].type: type "bind" without a "bind" or "rbind" option is not a bind mount')
        if bool(m.uid_mappings) != bool(m.gid_mappings):
            missing = "gidMappings" if m.uid_mappings else "uidMappings"
            raise _err("mounts", i, missing, msg="uidMappings and gidMappings must be specified together")
        if m.uid_mappings or opts.idmap:
            if not opts.is_bind:
                raise _err("mounts", i, msg="idmapped mounts (idmap, ridmap, uidMappings/gidMappings) "
                           "are supported only for mounts with the option 'bind'")
            if rootless:
                raise _err("mounts", i, msg="idmapped mounts are not supported when runc is being launched "
                           "with EUID != 0, needs CAP_SYS_ADMIN on the runc parent's user namespace")
            if not m.uid_mappings and "user" not in ns:
                raise _err("mounts", i, "options", msg="idmap needs uidMappings/gidMappings on the mount "
                           "or a user namespace")
            for key, maps in (("uidMappings", m.uid_mappings), ("gidMappings", m.gid_mappings)):
                for j, idm in enumerate(maps):
                    if idm.size == 0:
                        raise _err("mounts", i, key, j, "size", msg="must be greater than zero")
        joining_userns = bool(ns.get("user") and ns["user"].path)
        if rootless and not joining_userns:
            # uid=/gid= data options must name ids that exist inside the userns
            for opt in opts.data_options:
                name, eq, val = opt.partition("=")
                if not (eq and name in ("uid", "gid") and val.isdigit()):
                    continue
                maps = linux.uid_mappings if name == "uid" else linux.gid_mappings
                if _host_id(maps, int(val)) is None:
                    raise _err("mounts", i, "options", msg=f"cannot specify {opt} mount option for rootless "
                               f"container: {name} {val} is not mapped in the user namespace")


def _check_hooks(spec: Spec) -> None:
    if spec.hooks is None:
        return
    for key in ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"):
        attr = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)
        for i, h in enumerate(getattr(spec.hooks, attr)):
            if not _isabs(h.path):
                raise _err("hooks", key, i, "path", msg="must be an absolute path")
            if h.timeout is not None and h.timeout <= 0:
                raise _err("hooks", key, i, "timeout", msg="must be greater than zero")


def _check_devices(linux: Linux) -> None:
    for i, d in enumerate(linux.devices):
        if d.type not in ("c", "b", "u", "p"):
            raise _err("linux", "devices", i, "type", msg=f'invalid device type "{d.type}"')
        if not _isabs(d.path):
            raise _err("linux", "devices", i, "path", msg="must be an absolute path")
        if d.type != "p":
            for key in ("major", "minor"):
                if getattr(d, key) is None:
                    raise _err("linux", "devices", i, key, msg=f'required for device type "{d.type}"')


def _check_resources(r: Resources) -> None:
    base = ("linux", "resources")
    for i, d in enumerate(r.devices):
        if d.type not in (None, "", "a", "b", "c"):
            raise _err(*base, "devices", i, "type", msg=f'invalid cgroup device type "{d.type}"')
        if not d.access:
            raise _err(*base, "devices", i, "access", msg="device access cannot be empty")
        if set(d.access) - set("rwm"):
            raise _err(*base, "devices", i, "access", msg=f'invalid device access "{d.access}" (r, w, m)')
    if r.cpu is not None:
        c = r.cpu
        if c.burst is not None and c.quota is not None and c.quota > 0 and c.burst > c.quota:
            raise _err(*base, "cpu", "burst", msg=f"burst {c.burst} is larger than quota {c.quota}")
        for key in ("cpus", "mems"):
            v = getattr(c, key)
            if v:
                try:
                    parse_cpu_list(v)
                except ValueError:
                    raise _err(*base, "cpu", key, msg=f'invalid list "{v}"') from None
    if r.block_io is not None:
        for i, wd in enumerate(r.block_io.weight_device):
            if wd.weight is None and wd.leaf_weight is None:
                raise _err(*base, "blockIO", "weightDevice", i, msg="weight or leafWeight must be specified")
    for i, h in enumerate(r.hugepage_limits):
        if not _HUGEPAGE.match(h.page_size):
            raise _err(*base, "hugepageLimits", i, "pageSize", msg=f'invalid page size "{h.page_size}"')
    for name, rd in r.rdma.items():
        if rd.hca_handles is None and rd.hca_objects is None:
            raise _err(*base, "rdma", name, msg="hcaHandles or hcaObjects must be specified")
    if r.unified and not _cgroup2_unified():
        raise _err(*base, "unified", msg="invalid configuration: cannot use unified on cgroup v1")


def _check_cgroups_path(linux: Linux, systemd: bool) -> None:
    p = linux.cgroups_path
    if not p:
        return
    if "\0" in p:
        raise _err("linux", "cgroupsPath", msg="contains a null byte")
    if systemd and len(p.split(":")) != 3:
        raise _err("linux", "cgroupsPath", msg='expected cgroupsPath to be of format "slice:prefix:name" '
                   f'for systemd cgroups, got "{p}" instead')


def _check_seccomp(s: Seccomp) -> None:
    base = ("linux", "seccomp")
    if s.default_action not in SECCOMP_ACTIONS:
        raise _err(*base, "defaultAction", msg=f'invalid action "{s.default_action}"')
    if s.default_action == "SCMP_ACT_NOTIFY":
        # the init must still write() the notify fd out after loading the filter
        raise _err(*base, "defaultAction", msg="SCMP_ACT_NOTIFY cannot be used as default action")
    errno_actions = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")
    if s.default_errno_ret is not None and s.default_action not in errno_actions:
        raise _err(*base, "defaultErrnoRet", msg=f"{s.default_action} does not support an errno return code")
    for i, a in enumerate(s.architectures):
        if a not in SECCOMP_ARCHES:
            raise _err(*base, "architectures", i, msg=f'unknown architecture "{a}"')
    for i, fl in enumerate(s.flags or []):
        if fl not in SECCOMP_FLAGS:
            raise _err(*base, "flags", i, msg=f'seccomp flag "{fl}" is not supported')
    if s.listener_metadata and not s.listener_path:
        raise _err(*base, "listenerMetadata", msg="must not be set without listenerPath")
    notify = False
    for i, sc in enumerate(s.syscalls):
        p = (*base, "syscalls", i)
        if not sc.names:
            raise _err(*p, "names", msg="must contain at least one entry")
        if sc.action not in SECCOMP_ACTIONS:
            raise _err(*p, "action", msg=f'invalid action "{sc.action}"')
        if sc.errno_ret is not None and sc.action not in errno_actions:
            raise _err(*p, "errnoRet", msg=f"{sc.action} does not support an errno return code")
        if sc.action == "SCMP_ACT_NOTIFY":
            notify = True
            if "write" in sc.names:
                raise _err(*p, "names", sc.names.index("write"),
                           msg="SCMP_ACT_NOTIFY cannot be used for the write syscall")
        for j, arg in enumerate(sc.args):
            if arg.op not in SECCOMP_OPERATORS:
                raise _err(*p, "args", j, "op", msg=f'invalid operator "{arg.op}"')
            if arg.index >= 6:
                raise _err(*p, "args", j, "index",
                           msg=f"syscall argument index {arg.index} out of range (0-5)")
    if notify and not s.listener_path:
        raise _err(*base, "listenerPath", msg="SCMP_ACT_NOTIFY needs a listenerPath to send the notify fd to")


def _check_intel_rdt(linux: Linux) -> None:
    rdt = linux.intel_rdt
    if rdt is None:
        return
    base = ("linux", "intelRdt")
    clos = rdt.clos_id
    # "/" is the root CLOS (runtime-spec 1.3); otherwise a single directory name
    if clos is not None and clos != "/" and (clos in ("", ".", "..") or "/" in clos):
        raise _err(*base, "closID", msg=f'invalid intelRdt.ClosID "{clos}"')
    if rdt.mem_bw_schema is not None and not rdt.mem_bw_schema.startswith("MB:"):
        raise _err(*base, "memBwSchema", msg='must start with "MB:"')
    for key, v in (("l3CacheSchema", rdt.l3_cache_schema), ("memBwSchema", rdt.mem_bw_schema)):
        if v and "\n" in v:
            raise _err(*base, key, msg="must not contain newlines")
    for i, line in enumerate(rdt.schemata):
        if "\n" in line:
            raise _err(*base, "schemata", i, msg="must not contain newlines")
    root = _resctrl_root()
    if root is None:
        raise _err(*base, msg="intelRdt is specified in config, but no resctrl filesystem is mounted")
    if rdt.l3_cache_schema and not os.path.isdir(os.path.join(root, "info", "L3")):
        raise _err(*base, "l3CacheSchema",
                   msg="intelRdt.l3CacheSchema is specified in config, but Intel RDT/CAT is not enabled")
    if rdt.mem_bw_schema and not os.path.isdir(os.path.join(root, "info", "MB")):
        raise _err(*base, "memBwSchema",
                   msg="intelRdt.memBwSchema is specified in config, but Intel RDT/MBA is not enabled")


def _check_personality(linux: Linux, w: list[str]) -> None:
    p = linux.personality
    if p is None:
        return
    if p.domain not in PERSONALITY_DOMAINS:
        raise _err("linux", "personality", "domain", msg=f'invalid personality domain "{p.domain}"')
    if p.flags:
        w.append(f"linux.personality.flags: ignoring unsupported personality flags {p.flags}")


def _check_memory_policy(linux: Linux) -> None:
    mp = linux.memory_policy
    if mp is None:
        return
    base = ("linux", "memoryPolicy")
    if mp.mode not in MPOL_MODES:
        raise _err(*base, "mode", msg=f'invalid memory policy mode "{mp.mode}"')
    for i, fl in enumerate(mp.flags):
        if fl not in MPOL_FLAGS:
            raise _err(*base, "flags", i, msg=f'invalid memory policy flag "{fl}"')
    if "MPOL_F_STATIC_NODES" in mp.flags and "MPOL_F_RELATIVE_NODES" in mp.flags:
        raise _err(*base, "flags", msg="MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES are mutually exclusive")
    try:
        nodes = parse_cpu_list(mp.nodes or "")
    except ValueError:
        raise _err(*base, "nodes", msg=f'invalid node list "{mp.nodes}"') from None
    # set_mempolicy(2): these modes take no nodemask, these need a non-empty one
    if mp.mode in ("MPOL_DEFAULT", "MPOL_LOCAL") and nodes:
        raise _err(*base, "nodes", msg=f"{mp.mode} does not take nodes")
    needs_nodes = ("MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED_MANY")
    if mp.mode in needs_nodes and not nodes:
        raise _err(*base, "nodes", msg=f"{mp.mode} needs at least one node")


def _check_net_devices(linux: Linux, ns: dict) -> None:
    if not linux.net_devices:
        return
    net = ns.get("network")
    if net is None:
        raise _err("linux", "netDevices",
                   msg="unable to move network devices without a private NET namespace")
    for host_name, dev in linux.net_devices.items():
        for key, name in (("", host_name), ("name", dev.name)):
            if name is None or (key == "name" and name == ""):
                continue
            # dev_valid_name() in the kernel: IFNAMSIZ-1 bytes, no '/', ':' or space
            if (not name or len(name.encode()) > 15 or name in (".", "..")
                    or any(c in name for c in "/: \t\n")):
                parts = ("linux", "netDevices", host_name) + ((key,) if key else ())
                raise _err(*parts, msg=f'invalid network device name "{name}"')
