"""The OCI runtime-spec config model: load, type-check and validate config.json.

``load_bundle(bundle)`` is what ``create``/``run`` use; ``from_dict`` and
``Spec.to_dict()`` convert to and from decoded JSON. Submodules: ``model``
(dataclasses and value tables), ``load``, ``validate``, ``mountopts``,
``caps``, ``default`` (``pyrunc spec``).
"""
from __future__ import annotations

from pyrunc.spec.load import from_dict, load, load_bundle, load_process
from pyrunc.spec.model import (
    CPU,
    NAMESPACE_TYPES,
    RLIMITS,
    BlockIO,
    Box,
    Capabilities,
    CPUAffinity,
    Device,
    DeviceCgroup,
    HugepageLimit,
    Hook,
    Hooks,
    IDMapping,
    IntelRdt,
    InterfacePriority,
    IOPriority,
    Linux,
    Memory,
    MemoryPolicy,
    Mount,
    Namespace,
    NetDevice,
    Network,
    Personality,
    Pids,
    Process,
    Rdma,
    Resources,
    Rlimit,
    Root,
    Scheduler,
    Seccomp,
    Spec,
    Syscall,
    SyscallArg,
    ThrottleDevice,
    TimeOffset,
    User,
    WeightDevice,
    json_key,
)
from pyrunc.spec.validate import validate, validate_process

__all__ = [
    "CPU", "NAMESPACE_TYPES", "RLIMITS", "BlockIO", "Box", "CPUAffinity", "Capabilities", "Device",
    "DeviceCgroup", "HugepageLimit", "Hook", "Hooks", "IDMapping", "IOPriority", "IntelRdt",
    "InterfacePriority", "Linux", "Memory", "MemoryPolicy", "Mount", "Namespace", "NetDevice", "Network",
    "Personality", "Pids", "Process", "Rdma", "Resources", "Rlimit", "Root", "Scheduler", "Seccomp",
    "Spec", "Syscall", "SyscallArg", "ThrottleDevice", "TimeOffset", "User", "WeightDevice",
    "from_dict", "json_key", "load", "load_bundle", "load_process", "validate", "validate_process",
]
