"""``linux.seccomp``: checked here, compiled to BPF by the native core.

The compiler is pure Rust (``pyrunc_core::seccomp``, no libseccomp needed on
the host) with libseccomp's and runc's semantics. Stage 0 calls
:func:`compile_program` so that a bad profile fails ``create`` early with a
field path, and hands the result to the init in the plan; the init only
loads it, last before execve.

Every function takes the spec model's ``Seccomp`` (``spec.linux.seccomp``)
or the config.json dict (``spec.to_dict()["linux"]["seccomp"]``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Union

from pyrunc.errors import SpecError, field_path

__all__ = [
    "ACTIONS",
    "ARCHES",
    "FLAGS",
    "OPERATORS",
    "compile_bpf",
    "compile_program",
    "info",
    "listener_message",
    "send_to_listener",
    "supported_flags",
    "to_json",
    "validate",
]

# runtime-spec v1.3 (libseccomp 2.6) names.
ACTIONS = (
    "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
)  # fmt: skip
OPERATORS = (
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)  # fmt: skip
ARCHES = (
    "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
)  # fmt: skip
FLAGS = (
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
)  # fmt: skip
_ERRNO_ACTIONS = ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE")
_BASE = ("linux", "seccomp")
_U32 = 2**32 - 1
_U64 = 2**64 - 1

# snake_case model attribute -> config.json key
_KEYS = {
    "default_action": "defaultAction",
    "default_errno_ret": "defaultErrnoRet",
    "architectures": "architectures",
    "flags": "flags",
    "listener_path": "listenerPath",
    "listener_metadata": "listenerMetadata",
    "syscalls": "syscalls",
}
_SYSCALL_KEYS = {"names": "names", "action": "action", "errno_ret": "errnoRet", "args": "args"}
_ARG_KEYS = {"index": "index", "value": "value", "value_two": "valueTwo", "op": "op"}

Profile = Union[Mapping[str, Any], Any]


def _from_obj(obj: Any, keys: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr, key in keys.items():
        v = getattr(obj, attr, None)
        if v is not None:
            out[key] = v
    return out


def to_json(seccomp: Profile) -> dict[str, Any]:
    """The config.json form (camelCase keys) of a model or dict profile;
    absent optional keys stay absent (``flags`` absent and ``flags: []``
    differ: runc adds SPEC_ALLOW only when it is absent)."""
    if isinstance(seccomp, Mapping):
        return json.loads(json.dumps(seccomp))
    to_dict = getattr(seccomp, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    out = _from_obj(seccomp, _KEYS)
    calls = []
    for sc in out.get("syscalls", []):
        c = sc if isinstance(sc, Mapping) else _from_obj(sc, _SYSCALL_KEYS)
        c = dict(c)
        c["args"] = [a if isinstance(a, Mapping) else _from_obj(a, _ARG_KEYS) for a in c.get("args", [])]
        calls.append(c)
    if "syscalls" in out:
        out["syscalls"] = calls
    return out


def _err(*parts: str | int, msg: str) -> SpecError:
    return SpecError(field_path(*_BASE, *parts), msg)


def _uint(v: Any, limit: int, *parts: str | int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= limit:
        raise _err(*parts, msg=f"must be an integer from 0 to {limit}")
    return v


def _str(v: Any, *parts: str | int) -> str:
    if not isinstance(v, str):
        raise _err(*parts, msg="must be a string")
    return v


def _list(d: Mapping[str, Any], key: str, *parts: str | int) -> list[Any]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise _err(*parts, key, msg="must be an array")
    return v


def _action(d: Mapping[str, Any], key: str, errno_key: str, *parts: str | int) -> str:
    if d.get(key) is None:
        raise _err(*parts, key, msg="is required")
    act = _str(d[key], *parts, key)
    if act not in ACTIONS:
        raise _err(*parts, key, msg=f'unknown action "{act}"')
    if d.get(errno_key) is not None:
        _uint(d[errno_key], _U32, *parts, errno_key)
        if act not in _ERRNO_ACTIONS:
            # runtime-spec: an errno on an action that has none is an error.
            raise _err(
                *parts,
                errno_key,
                msg=f"{act} does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)",
            )
    return act


def validate(seccomp: Profile) -> dict[str, Any]:
    """Checks the profile the way the compiler will and returns its
    config.json form; raises :class:`SpecError` naming the field, e.g.
    ``linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"``."""
    d = to_json(seccomp)
    if not isinstance(d, dict):
        raise SpecError(field_path(*_BASE), "must be an object")
    default = _action(d, "defaultAction", "defaultErrnoRet")
    if default == "SCMP_ACT_NOTIFY":
        raise _err("defaultAction", msg="SCMP_ACT_NOTIFY cannot be used as the default action")
    for i, a in enumerate(_list(d, "architectures")):
        if _str(a, "architectures", i) not in ARCHES:
            raise _err("architectures", i, msg=f'unknown architecture "{a}"')
    for i, f in enumerate(_list(d, "flags")):
        if _str(f, "flags", i) not in FLAGS:
            raise _err("flags", i, msg=f'unknown flag "{f}"')
    path = d.get("listenerPath")
    if path is not None:
        _str(path, "listenerPath")
    meta = d.get("listenerMetadata")
    if meta is not None and _str(meta, "listenerMetadata") and not path:
        raise _err("listenerMetadata", msg="must not be set without listenerPath")
    notify = False
    for i, sc in enumerate(_list(d, "syscalls")):
        if not isinstance(sc, Mapping):
            raise _err("syscalls", i, msg="must be an object")
        names = _list(sc, "names", "syscalls", i)
        if not names:
            raise _err("syscalls", i, "names", msg="must contain at least one syscall name")
        for j, n in enumerate(names):
            if not isinstance(n, str) or not n:
                raise _err("syscalls", i, "names", j, msg="must be a non-empty string")
        act = _action(sc, "action", "errnoRet", "syscalls", i)
        if act == "SCMP_ACT_NOTIFY":
            notify = True
            if "write" in names:
                # the init still write()s to its sync socket after the load
                raise _err("syscalls", i, "names", msg="SCMP_ACT_NOTIFY cannot be used for the write syscall")
        for j, a in enumerate(_list(sc, "args", "syscalls", i)):
            p = ("syscalls", i, "args", j)
            if not isinstance(a, Mapping):
                raise _err(*p, msg="must be an object")
            for key, limit in (("index", 5), ("value", _U64)):
                if a.get(key) is None:
                    raise _err(*p, key, msg="is required")
                _uint(a[key], limit, *p, key)
            if a.get("valueTwo") is not None:
                _uint(a["valueTwo"], _U64, *p, "valueTwo")
            op = a.get("op")
            if op is None:
                raise _err(*p, "op", msg="is required")
            if _str(op, *p, "op") not in OPERATORS:
                raise _err(*p, "op", msg=f'unknown operator "{op}"')
    if notify and not path:
        raise _err("listenerPath", msg="is required when SCMP_ACT_NOTIFY is used")
    return d


def _native() -> Any:
    from pyrunc import _native

    if not hasattr(_native, "seccomp_program"):
        raise SpecError(field_path(*_BASE), "this build of pyrunc has no seccomp compiler")
    return _native


def _call(fn: Any, d: dict[str, Any]) -> Any:
    try:
        return fn(json.dumps(d))
    except ValueError as e:
        if len(e.args) == 2:
            raise SpecError(str(e.args[0]), str(e.args[1])) from None
        raise


def compile_program(seccomp: Profile) -> dict[str, Any]:
    """Compiles for this machine; returns what the plan's ``seccomp`` field
    carries: ``{"filter": [[code, jt, jf, k], ...], "flags": n, "notify":
    bool, "skipped": [names unknown on this arch]}``."""
    d = validate(seccomp)
    prog: dict[str, Any] = json.loads(_call(_native().seccomp_program, d))
    return prog


def compile_bpf(seccomp: Profile) -> bytes:
    """The filter as ``struct sock_filter[]`` bytes, native byte order."""
    d = validate(seccomp)
    out: bytes = _call(_native().seccomp_compile, d)
    return out


def supported_flags() -> list[str]:
    """The spec's seccomp flags this kernel accepts (empty without the
    native probe)."""
    from pyrunc import _native

    probe = getattr(_native, "seccomp_supported_flags", None)
    return list(probe()) if probe else []


def info() -> dict[str, Any] | None:
    """The ``linux.seccomp`` object of ``pyrunc features``, None when the
    native module has no seccomp support."""
    from pyrunc import _native

    probe = getattr(_native, "seccomp_info", None)
    if probe is None:
        return None
    d: dict[str, Any] = dict(probe())
    d.pop("availableActions", None)
    return d


def listener_message(*, pid: int, state: Mapping[str, Any], metadata: str | None = None) -> bytes:
    """The container process state (config-linux.md) sent to ``listenerPath``
    with the notify fd; ``state`` is the container's runtime state."""
    msg: dict[str, Any] = {
        "ociVersion": state.get("ociVersion", "1.0.2"),
        "fds": ["seccompFd"],
        "pid": pid,
    }
    if metadata:
        msg["metadata"] = metadata
    msg["state"] = dict(state)
    return json.dumps(msg).encode()


def send_to_listener(
    listener_path: str,
    notify_fd: int,
    *,
    pid: int,
    state: Mapping[str, Any],
    metadata: str | None = None,
) -> None:
    """Hands a SCMP_ACT_NOTIFY listener fd to the seccomp agent: one
    connection to the ``AF_UNIX``/``SOCK_STREAM`` socket, one ``sendmsg``
    with the JSON state and the fd in ``SCM_RIGHTS``, then close (runc's
    seccomp agent protocol). Failure raises :class:`SyscallError` naming
    ``linux.seccomp.listenerPath``, which must fail the create."""
    import socket

    from pyrunc.errors import SyscallError

    data = listener_message(pid=pid, state=state, metadata=metadata)
    field = field_path(*_BASE, "listenerPath")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as s:
            s.connect(listener_path)
            sent = socket.send_fds(s, [data], [notify_fd])
            if sent < len(data):
                s.sendall(data[sent:])
    except OSError as e:
        raise SyscallError(
            "sendmsg", e.errno or 0, f"send seccomp fd to {listener_path}", field=field
        ) from None
