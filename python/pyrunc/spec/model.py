"""Dataclasses for the Linux-relevant part of an OCI runtime-spec v1.3.0 config.json.

Attribute names are the snake_case of the JSON keys; :func:`json_key` maps an
attribute back to its key (one converter plus one exceptions table, so the
mapping lives in one place). Missing optional objects and scalars are
``None``; missing lists and maps are empty. ``to_dict()`` writes the JSON
form back, omitting ``None`` and empty lists/maps, so ``from_dict(x.to_dict())``
gives an equal object.

Field metadata used by the loader (``pyrunc.spec.load``):
``kind``: integer range from the schema (``uint32``, ``int64``...);
``required``: the JSON schema lists the key as required;
``keep_empty``: an empty list is meaningful and is written back (seccomp flags).
"""
from __future__ import annotations

import dataclasses
import resource
from dataclasses import field

# typing is only for the checker: `create` need not import it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass
    from typing import Any, Optional
else:

    def dataclass(cls: type) -> type:
        # `create` builds these 40 classes on every run. dataclasses would
        # compile an __init__ per class and, for a class without a docstring,
        # run inspect.signature() to write one: _Model.__init__ (from a field
        # table) and a short docstring spare both; repr and eq come from _Model.
        if cls.__doc__ is None:
            cls.__doc__ = f"{cls.__name__}({', '.join(cls.__annotations__)})"
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)
        cls._init_fields = tuple(  # type: ignore[attr-defined]
            (f.name, f.default, f.default_factory) for f in dataclasses.fields(cls)
        )
        return cls


# attribute name -> JSON key, where the plain snake->camel rule gets it wrong
_JSON_KEY_EXCEPTIONS = {
    "block_io": "blockIO",
    "class_": "class",
    "class_id": "classID",
    "clos_id": "closID",
    "container_id": "containerID",
    "host_id": "hostID",
    "disable_oom_killer": "disableOOMKiller",
    "kernel_tcp": "kernelTCP",
    "throttle_read_iops_device": "throttleReadIOPSDevice",
    "throttle_write_iops_device": "throttleWriteIOPSDevice",
    "exec_cpu_affinity": "execCPUAffinity",
}


def json_key(attr: str) -> str:
    """The config.json key of a model attribute: ``no_new_privileges`` ->
    ``noNewPrivileges``, ``block_io`` -> ``blockIO``."""
    if attr in _JSON_KEY_EXCEPTIONS:
        return _JSON_KEY_EXCEPTIONS[attr]
    head, *rest = attr.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _f(default: Any = None, *, kind: str = "", required: bool = False, keep_empty: bool = False) -> Any:
    meta = {"kind": kind, "required": required, "keep_empty": keep_empty}
    if isinstance(default, (list, dict)):
        return field(default_factory=type(default), metadata=meta)
    if isinstance(default, type):  # a nested dataclass that is always present
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


class _Model:
    """Mixin: JSON serialisation, repr and equality shared by every spec
    dataclass (what @dataclass's generated __repr__ and __eq__ do)."""

    _init_fields: tuple[tuple[str, Any, Any], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # What @dataclass's generated __init__ does (every field has a default).
        table = self._init_fields
        if len(args) > len(table):
            raise TypeError(f"{type(self).__qualname__}.__init__() takes {len(table) + 1} positional "
                            f"arguments but {len(args) + 1} were given")
        for (name, _, _), v in zip(table, args):
            if name in kwargs:
                raise TypeError(f"{type(self).__qualname__}.__init__() got multiple values for argument "
                                f"{name!r}")
            kwargs[name] = v
        for name, default, factory in table:
            if name in kwargs:
                setattr(self, name, kwargs.pop(name))
            elif factory is not dataclasses.MISSING:
                setattr(self, name, factory())
            else:
                setattr(self, name, default)
        if kwargs:
            raise TypeError(f"{type(self).__qualname__}.__init__() got an unexpected keyword argument "
                            f"{next(iter(kwargs))!r}")

    def __repr__(self) -> str:
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)  # type: ignore[arg-type]
        return f"{type(self).__qualname__}({fields})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = [f.name for f in dataclasses.fields(self) if f.compare]  # type: ignore[arg-type]
        return all(getattr(self, n) == getattr(other, n) for n in names)

    __hash__ = None  # type: ignore[assignment]  # mutable, as @dataclass(eq=True) makes it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if v is None:
                continue
            if isinstance(v, (list, dict)) and not v and not f.metadata.get("keep_empty"):
                continue
            out[json_key(f.name)] = _dump(v)
        return out


def _dump(v: Any) -> Any:
    if isinstance(v, _Model):
        return v.to_dict()
    if isinstance(v, list):
        return [_dump(x) for x in v]
    if isinstance(v, dict):
        return {k: _dump(x) for k, x in v.items()}
    return v


# ---------------------------------------------------------------- common


@dataclass
class IDMapping(_Model):
    container_id: int = _f(0, kind="uint32", required=True)
    host_id: int = _f(0, kind="uint32", required=True)
    size: int = _f(0, kind="uint32", required=True)


@dataclass
class Root(_Model):
    path: str = _f("", required=True)
    readonly: Optional[bool] = _f()


@dataclass
class Mount(_Model):
    destination: str = _f("", required=True)
    source: Optional[str] = _f()
    options: list[str] = _f([])
    type: Optional[str] = _f()
    uid_mappings: list[IDMapping] = _f([])
    gid_mappings: list[IDMapping] = _f([])


@dataclass
class Hook(_Model):
    path: str = _f("", required=True)
    args: list[str] = _f([])
    env: list[str] = _f([])
    timeout: Optional[int] = _f(kind="int64")


@dataclass
class Hooks(_Model):
    prestart: list[Hook] = _f([])
    create_runtime: list[Hook] = _f([])
    create_container: list[Hook] = _f([])
    start_container: list[Hook] = _f([])
    poststart: list[Hook] = _f([])
    poststop: list[Hook] = _f([])


# ---------------------------------------------------------------- process


@dataclass
class Box(_Model):
    height: int = _f(0, kind="uint64", required=True)
    width: int = _f(0, kind="uint64", required=True)


@dataclass
class User(_Model):
    # uid and gid are REQUIRED by the spec text (not the schema); runc treats a
    # missing value as 0 and always writes them back, so do we.
    uid: int = _f(0, kind="uint32")
    gid: int = _f(0, kind="uint32")
    umask: Optional[int] = _f(kind="uint32")
    additional_gids: list[int] = _f([], kind="uint32")
    username: Optional[str] = _f()

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.setdefault("uid", self.uid)
        out.setdefault("gid", self.gid)
        return out


@dataclass
class Capabilities(_Model):
    bounding: list[str] = _f([])
    effective: list[str] = _f([])
    inheritable: list[str] = _f([])
    permitted: list[str] = _f([])
    ambient: list[str] = _f([])


@dataclass
class Rlimit(_Model):
    type: str = _f("", required=True)
    soft: int = _f(0, kind="uint64", required=True)
    hard: int = _f(0, kind="uint64", required=True)


@dataclass
class Scheduler(_Model):
    policy: str = _f("", required=True)
    nice: Optional[int] = _f(kind="int32")
    priority: Optional[int] = _f(kind="int32")
    flags: list[str] = _f([])
    runtime: Optional[int] = _f(kind="uint64")
    deadline: Optional[int] = _f(kind="uint64")
    period: Optional[int] = _f(kind="uint64")


@dataclass
class IOPriority(_Model):
    class_: str = _f("", required=True)
    priority: Optional[int] = _f(kind="int32")


@dataclass
class CPUAffinity(_Model):
    initial: Optional[str] = _f()
    final: Optional[str] = _f()


@dataclass
class Process(_Model):
    terminal: Optional[bool] = _f()
    console_size: Optional[Box] = _f()
    user: User = _f(User)
    args: list[str] = _f([])
    command_line: Optional[str] = _f()
    env: list[str] = _f([])
    cwd: str = _f("", required=True)
    capabilities: Optional[Capabilities] = _f()
    rlimits: list[Rlimit] = _f([])
    no_new_privileges: Optional[bool] = _f()
    apparmor_profile: Optional[str] = _f()
    oom_score_adj: Optional[int] = _f(kind="int64")
    scheduler: Optional[Scheduler] = _f()
    selinux_label: Optional[str] = _f()
    io_priority: Optional[IOPriority] = _f()
    exec_cpu_affinity: Optional[CPUAffinity] = _f()


# ---------------------------------------------------------------- linux.resources


@dataclass
class DeviceCgroup(_Model):
    allow: bool = _f(False, required=True)
    type: Optional[str] = _f()
    major: Optional[int] = _f(kind="int64")
    minor: Optional[int] = _f(kind="int64")
    access: Optional[str] = _f()


@dataclass
class Memory(_Model):
    limit: Optional[int] = _f(kind="int64")
    reservation: Optional[int] = _f(kind="int64")
    swap: Optional[int] = _f(kind="int64")
    kernel: Optional[int] = _f(kind="int64")
    kernel_tcp: Optional[int] = _f(kind="int64")
    swappiness: Optional[int] = _f(kind="uint64")
    disable_oom_killer: Optional[bool] = _f()
    use_hierarchy: Optional[bool] = _f()
    check_before_update: Optional[bool] = _f()


@dataclass
class CPU(_Model):
    shares: Optional[int] = _f(kind="uint64")
    quota: Optional[int] = _f(kind="int64")
    burst: Optional[int] = _f(kind="uint64")
    period: Optional[int] = _f(kind="uint64")
    realtime_runtime: Optional[int] = _f(kind="int64")
    realtime_period: Optional[int] = _f(kind="uint64")
    cpus: Optional[str] = _f()
    mems: Optional[str] = _f()
    idle: Optional[int] = _f(kind="int64")


@dataclass
class Pids(_Model):
    # The schema requires limit but config-linux.md calls it OPTIONAL: be lenient.
    limit: Optional[int] = _f(kind="int64")


@dataclass
class WeightDevice(_Model):
    major: int = _f(0, kind="int64", required=True)
    minor: int = _f(0, kind="int64", required=True)
    weight: Optional[int] = _f(kind="uint16")
    leaf_weight: Optional[int] = _f(kind="uint16")


@dataclass
class ThrottleDevice(_Model):
    major: int = _f(0, kind="int64", required=True)
    minor: int = _f(0, kind="int64", required=True)
    rate: Optional[int] = _f(kind="uint64")


@dataclass
class BlockIO(_Model):
    weight: Optional[int] = _f(kind="uint16")
    leaf_weight: Optional[int] = _f(kind="uint16")
    weight_device: list[WeightDevice] = _f([])
    throttle_read_bps_device: list[ThrottleDevice] = _f([])
    throttle_write_bps_device: list[ThrottleDevice] = _f([])
    throttle_read_iops_device: list[ThrottleDevice] = _f([])
    throttle_write_iops_device: list[ThrottleDevice] = _f([])


@dataclass
class HugepageLimit(_Model):
    page_size: str = _f("", required=True)
    limit: int = _f(0, kind="uint64", required=True)


@dataclass
class InterfacePriority(_Model):
    name: str = _f("", required=True)
    priority: int = _f(0, kind="uint32", required=True)


@dataclass
class Network(_Model):
    class_id: Optional[int] = _f(kind="uint32")
    priorities: list[InterfacePriority] = _f([])


@dataclass
class Rdma(_Model):
    hca_handles: Optional[int] = _f(kind="uint32")
    hca_objects: Optional[int] = _f(kind="uint32")


@dataclass
class Resources(_Model):
    devices: list[DeviceCgroup] = _f([])
    memory: Optional[Memory] = _f()
    cpu: Optional[CPU] = _f()
    pids: Optional[Pids] = _f()
    block_io: Optional[BlockIO] = _f()
    hugepage_limits: list[HugepageLimit] = _f([])
    network: Optional[Network] = _f()
    rdma: dict[str, Rdma] = _f({})
    unified: dict[str, str] = _f({})


# ---------------------------------------------------------------- linux


@dataclass
class Namespace(_Model):
    type: str = _f("", required=True)
    path: Optional[str] = _f()


@dataclass
class Device(_Model):
    type: str = _f("", required=True)
    path: str = _f("", required=True)
    major: Optional[int] = _f(kind="int64")
    minor: Optional[int] = _f(kind="int64")
    file_mode: Optional[int] = _f(kind="uint32")
    uid: Optional[int] = _f(kind="uint32")
    gid: Optional[int] = _f(kind="uint32")


@dataclass
class NetDevice(_Model):
    name: Optional[str] = _f()


@dataclass
class TimeOffset(_Model):
    secs: Optional[int] = _f(kind="int64")
    nanosecs: Optional[int] = _f(kind="uint32")


@dataclass
class SyscallArg(_Model):
    index: int = _f(0, kind="uint32", required=True)
    value: int = _f(0, kind="uint64", required=True)
    value_two: Optional[int] = _f(kind="uint64")
    op: str = _f("", required=True)


@dataclass
class Syscall(_Model):
    names: list[str] = _f([], required=True)
    action: str = _f("", required=True)
    errno_ret: Optional[int] = _f(kind="uint32")
    args: list[SyscallArg] = _f([])


@dataclass
class Seccomp(_Model):
    default_action: str = _f("", required=True)
    default_errno_ret: Optional[int] = _f(kind="uint32")
    architectures: list[str] = _f([])
    # None (absent) and [] differ: runc adds SECCOMP_FILTER_FLAG_SPEC_ALLOW
    # only when flags is absent.
    flags: Optional[list[str]] = _f(keep_empty=True)
    listener_path: Optional[str] = _f()
    listener_metadata: Optional[str] = _f()
    syscalls: list[Syscall] = _f([])


@dataclass
class IntelRdt(_Model):
    clos_id: Optional[str] = _f()
    schemata: list[str] = _f([])
    l3_cache_schema: Optional[str] = _f()
    mem_bw_schema: Optional[str] = _f()
    enable_monitoring: Optional[bool] = _f()


@dataclass
class MemoryPolicy(_Model):
    mode: Optional[str] = _f()
    nodes: Optional[str] = _f()
    flags: list[str] = _f([])


@dataclass
class Personality(_Model):
    domain: Optional[str] = _f()
    flags: list[str] = _f([])


@dataclass
class Linux(_Model):
    devices: list[Device] = _f([])
    net_devices: dict[str, NetDevice] = _f({})
    uid_mappings: list[IDMapping] = _f([])
    gid_mappings: list[IDMapping] = _f([])
    namespaces: list[Namespace] = _f([])
    resources: Optional[Resources] = _f()
    cgroups_path: Optional[str] = _f()
    rootfs_propagation: Optional[str] = _f()
    seccomp: Optional[Seccomp] = _f()
    sysctl: dict[str, str] = _f({})
    masked_paths: list[str] = _f([])
    readonly_paths: list[str] = _f([])
    mount_label: Optional[str] = _f()
    intel_rdt: Optional[IntelRdt] = _f()
    memory_policy: Optional[MemoryPolicy] = _f()
    personality: Optional[Personality] = _f()
    time_offsets: dict[str, TimeOffset] = _f({})

    def namespace(self, ns_type: str) -> Optional[Namespace]:
        """The entry of type ``ns_type`` (``"pid"``...), or None."""
        for ns in self.namespaces:
            if ns.type == ns_type:
                return ns
        return None


@dataclass
class Spec(_Model):
    oci_version: str = _f("", required=True)
    root: Optional[Root] = _f()
    mounts: list[Mount] = _f([])
    process: Optional[Process] = _f()
    hostname: Optional[str] = _f()
    domainname: Optional[str] = _f()
    hooks: Optional[Hooks] = _f()
    annotations: dict[str, str] = _f({})
    linux: Optional[Linux] = _f()

    def namespace(self, ns_type: str) -> Optional[Namespace]:
        return self.linux.namespace(ns_type) if self.linux else None


# ---------------------------------------------------------------- value tables


def _rlimits() -> dict[str, int]:
    # Take the numbers from the resource module: they differ on mips/sparc.
    names = ("CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS",
             "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME")
    generic = dict(zip(names, range(len(names))))
    return {f"RLIMIT_{n}": getattr(resource, f"RLIMIT_{n}", generic[n]) for n in names}


#: rlimit name -> resource number (``RLIMIT_CPU`` .. ``RLIMIT_RTTIME``)
RLIMITS: dict[str, int] = _rlimits()

#: linux.namespaces[].type -> CLONE_NEW* flag
NAMESPACE_TYPES: dict[str, int] = {
    "mount": 0x00020000,
    "uts": 0x04000000,
    "ipc": 0x08000000,
    "user": 0x10000000,
    "pid": 0x20000000,
    "network": 0x40000000,
    "cgroup": 0x02000000,
    "time": 0x00000080,
}

SECCOMP_ACTIONS = (
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
)
SECCOMP_OPERATORS = (
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)
SECCOMP_FLAGS = (
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
)
SECCOMP_ARCHES = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
    "SCMP_ARCH_SH", "SCMP_ARCH_SHEB", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
)
#: process.scheduler.policy -> SCHED_* number (sched_setattr(2))
SCHED_POLICIES: dict[str, int] = {
    "SCHED_OTHER": 0, "SCHED_FIFO": 1, "SCHED_RR": 2, "SCHED_BATCH": 3, "SCHED_ISO": 4,
    "SCHED_IDLE": 5, "SCHED_DEADLINE": 6,
}
#: process.scheduler.flags -> SCHED_FLAG_* bit
SCHED_FLAGS: dict[str, int] = {
    "SCHED_FLAG_RESET_ON_FORK": 0x01, "SCHED_FLAG_RECLAIM": 0x02, "SCHED_FLAG_DL_OVERRUN": 0x04,
    "SCHED_FLAG_KEEP_POLICY": 0x08, "SCHED_FLAG_KEEP_PARAMS": 0x10,
    "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20, "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
}
#: process.ioPriority.class -> IOPRIO_CLASS_* number (ioprio_set(2))
IOPRIO_CLASSES: dict[str, int] = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
#: linux.personality.domain -> personality(2) value
PERSONALITY_DOMAINS: dict[str, int] = {"LINUX": 0x0000, "LINUX32": 0x0008}
#: linux.memoryPolicy.mode -> MPOL_* number (set_mempolicy(2))
MPOL_MODES: dict[str, int] = {
    "MPOL_DEFAULT": 0, "MPOL_PREFERRED": 1, "MPOL_BIND": 2, "MPOL_INTERLEAVE": 3, "MPOL_LOCAL": 4,
    "MPOL_PREFERRED_MANY": 5, "MPOL_WEIGHTED_INTERLEAVE": 6,
}
#: linux.memoryPolicy.flags -> mode flag bit
MPOL_FLAGS: dict[str, int] = {
    "MPOL_F_STATIC_NODES": 1 << 15, "MPOL_F_RELATIVE_NODES": 1 << 14, "MPOL_F_NUMA_BALANCING": 1 << 13,
}
#: rootfsPropagation values runc accepts (the schema lists the first four)
ROOTFS_PROPAGATIONS = ("private", "shared", "slave", "unbindable",
                       "rprivate", "rshared", "rslave", "runbindable")
