"""Load a device filter program and attach it to a cgroup v2 directory.

cgroup v2 has no devices.allow file: device access is decided by a
BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup (see
Documentation/admin-guide/cgroup-v2.rst, "Device controller"). The program
comes from ``devices.bpf_program``; this file only does the two bpf(2) calls
(BPF_PROG_LOAD, BPF_PROG_ATTACH) through libc's syscall(), so it needs no
compiled helper. ``_native.attach_device_filter(cgroup_dir, insns_bytes)``
is used instead when the Rust side provides it.
"""
from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Sequence

from pyrunc.cgroups import devices

_SYS_BPF = {"x86_64": 321, "aarch64": 280, "ppc64le": 361, "s390x": 351, "riscv64": 280}
BPF_PROG_LOAD = 5
BPF_PROG_ATTACH = 8
BPF_PROG_DETACH = 9
BPF_PROG_QUERY = 16
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2


def _bpf(cmd: int, attr: bytes) -> int:
    nr = _SYS_BPF.get(os.uname().machine)
    if nr is None:
        raise OSError(38, f"bpf(2) syscall number unknown on {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ret = libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), buf, ctypes.c_uint(len(attr)))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def load(prog: Sequence[devices.Insn]) -> int:
    """BPF_PROG_LOAD; returns the program fd (the verifier log is in the error)."""
    code = devices.encode(prog)
    insns = ctypes.create_string_buffer(code, len(code))
    lic = ctypes.create_string_buffer(b"Apache\0")
    log = ctypes.create_string_buffer(65536)
    # union bpf_attr, the BPF_PROG_LOAD member up to expected_attach_type
    attr = struct.pack(
        "<IIQQIIQII16sII",
        BPF_PROG_TYPE_CGROUP_DEVICE, len(prog), ctypes.addressof(insns), ctypes.addressof(lic),
        1, len(log), ctypes.addressof(log), 0, 0, b"pyrunc_devices", 0, 0,
    )
    try:
        return _bpf(BPF_PROG_LOAD, attr.ljust(128, b"\0"))
    except OSError as e:
        text = log.value.decode(errors="replace").strip()
        raise OSError(e.errno, f"{e.strerror}{': ' + text if text else ''}") from None


def attach(cgroup_dir: str, prog_fd: int) -> None:
    """BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI (a parent's filter still applies,
    as nested v1 device cgroups do). The attachment outlives our fds."""
    cg = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        attr = struct.pack("<IIII", cg, prog_fd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)
        _bpf(BPF_PROG_ATTACH, attr.ljust(128, b"\0"))
    finally:
        os.close(cg)


def attach_device_filter(cgroup_dir: str, prog: Sequence[devices.Insn]) -> None:
    """Load and attach; raises OSError."""
    from pyrunc import _native

    native = getattr(_native, "attach_device_filter", None)
    if native is not None:
        native(cgroup_dir, devices.encode(prog))
        return
    fd = load(prog)
    try:
        attach(cgroup_dir, fd)
    finally:
        os.close(fd)


def supported() -> str | None:
    """None when bpf(2) can be used, else why not."""
    if os.uname().machine not in _SYS_BPF:
        return f"unsupported architecture {os.uname().machine}"
    return None
