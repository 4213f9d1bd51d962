"""pyrunc.seccomp through the native compiler: compiled programs, early errors
with field paths, the features probes, and real filters loaded in a forked
child (no root needed: no_new_privs allows an unprivileged filter)."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import socket
import struct
from pathlib import Path
from typing import Any, Callable

import pytest
from pyrunc import _native as _native_module
from pyrunc import seccomp
from pyrunc.errors import SpecError, SyscallError

# Any: the seccomp bindings may be missing from the stubs of older builds.
_native: Any = _native_module

pytestmark = pytest.mark.skipif(
    not hasattr(_native, "seccomp_program"), reason="native module built without the seccomp bindings"
)

PR_SET_NO_NEW_PRIVS = 38
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000


def test_seccomp_compile_program_shape() -> None:
    prog = seccomp.compile_program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "no_such_call"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}],
        }
    )
    assert prog["notify"] is False
    assert prog["skipped"] == ["no_such_call"]
    filt = prog["filter"]
    assert 3 < len(filt) <= 4096
    assert all(len(i) == 4 for i in filt)
    # the program ends in a return, and returns ERRNO(5) somewhere
    assert filt[-1][0] == 0x06
    assert [0x06, 0, 0, RET_ERRNO | 5] in filt
    raw = seccomp.compile_bpf({"defaultAction": "SCMP_ACT_ALLOW", "flags": []})
    assert len(raw) % 8 == 0


def test_seccomp_flags_default_to_spec_allow_like_runc() -> None:
    p: dict[str, Any] = {"defaultAction": "SCMP_ACT_ALLOW"}
    spec_allow = 1 << 2
    if "SECCOMP_FILTER_FLAG_SPEC_ALLOW" in seccomp.supported_flags():
        assert seccomp.compile_program(p)["flags"] == spec_allow
    assert seccomp.compile_program({**p, "flags": []})["flags"] == 0
    assert seccomp.compile_program({**p, "flags": ["SECCOMP_FILTER_FLAG_LOG"]})["flags"] == 1 << 1


def test_seccomp_notify_program() -> None:
    prog = seccomp.compile_program(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": "/run/a.sock",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}],
        }
    )
    assert prog["notify"] is True


def test_seccomp_native_errors_carry_the_field() -> None:
    # Bypass the Python checks: the Rust compiler names the field as well.
    with pytest.raises(ValueError) as ei:
        _native.seccomp_program(
            '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["a"], "action": "X"}]}'
        )
    assert ei.value.args == ("linux.seccomp.syscalls[0].action", 'unknown action "X"')
    with pytest.raises(SpecError, match=r"^linux.seccomp.syscalls\[0\].args\[0\].op: unknown operator"):
        seccomp.compile_program(
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {"names": ["a"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 0, "op": "EQ"}]}
                ],
            }
        )


def test_seccomp_info_for_features() -> None:
    info = seccomp.info()
    assert info is not None
    assert set(info) == {"enabled", "actions", "operators", "archs", "knownFlags", "supportedFlags"}
    assert info["enabled"] is True  # this kernel has seccomp filters
    assert set(info["actions"]) == set(seccomp.ACTIONS)
    assert set(info["operators"]) == set(seccomp.OPERATORS)
    assert set(info["archs"]) <= set(seccomp.ARCHES)
    assert {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"} <= set(info["archs"])
    assert info["knownFlags"] == list(seccomp.FLAGS)
    assert set(info["supportedFlags"]) <= set(seccomp.FLAGS)
    assert "SECCOMP_FILTER_FLAG_TSYNC" in info["supportedFlags"]  # since Linux 3.17


def _in_child(profile: dict[str, Any], body: Callable[[], int]) -> int:
    """Loads the compiled filter in a forked child, runs body there and
    returns its exit status (or -signal)."""
    if not hasattr(_native, "seccomp_load_bpf"):
        pytest.skip("no seccomp_load_bpf in the native module")
    bpf = seccomp.compile_bpf(profile)
    flags = seccomp.compile_program(profile)["flags"]
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:
        code = 100
        try:
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
                _native.seccomp_load_bpf(bpf, flags)
                code = body()
        except BaseException:  # noqa: BLE001 - the forked child must always _exit
            code = 101
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _errno_of(fn: Callable[[], Any]) -> int:
    try:
        fn()
    except OSError as e:
        return e.errno or 102
    return 0


def test_seccomp_real_filter_denies_mkdir_with_eperm(tmp_path: Path) -> None:
    target = tmp_path / "d"
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
    }
    assert _in_child(profile, lambda: _errno_of(lambda: os.mkdir(target))) == errno.EPERM
    assert not target.exists()


def test_seccomp_real_errno_ret_and_masked_arg(tmp_path: Path) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV},
            # kill(pid, sig) with (sig & 0xff) == 0: the signal-0 probe only
            {
                "names": ["kill"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EDOM,
                "args": [{"index": 1, "value": 0xFF, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            },
        ],
    }

    def body() -> int:
        if _errno_of(lambda: os.mkdir(tmp_path / "x")) != errno.EXDEV:
            return 1
        if _errno_of(lambda: os.kill(os.getpid(), 0)) != errno.EDOM:
            return 2
        if _errno_of(lambda: os.kill(os.getpid(), signal.SIGCONT)) != 0:
            return 3
        return 0

    assert _in_child(profile, body) == 0


def test_seccomp_real_kill_process_on_unshare() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_KILL_PROCESS"}],
    }
    libc = ctypes.CDLL(None, use_errno=True)
    assert _in_child(profile, lambda: libc.unshare(0) + 7) == -signal.SIGSYS


# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) and
# _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101
NEW_LISTENER = 1 << 3


def test_seccomp_notify_agent_answers_mkdir(tmp_path: Path) -> None:
    """The listener fd travels to an agent over listenerPath with the
    container process state; the agent answers the notified mkdir."""
    if not hasattr(_native, "seccomp_load_bpf"):
        pytest.skip("no seccomp_load_bpf in the native module")
    sock_path = str(tmp_path / "agent.sock")
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock_path,
        "listenerMetadata": "hello",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bpf = seccomp.compile_bpf(profile)
    prog = seccomp.compile_program(profile)
    assert prog["notify"]
    libc = ctypes.CDLL(None, use_errno=True)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    srv.settimeout(10)
    pid = os.fork()
    if pid == 0:
        code = 100
        try:
            srv.close()
            if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0:
                fd = _native.seccomp_load_bpf(bpf, prog["flags"] | NEW_LISTENER)
                state = {
                    "ociVersion": "1.0.2",
                    "id": "c1",
                    "status": "creating",
                    "pid": os.getpid(),
                    "bundle": "/b",
                }
                seccomp.send_to_listener(sock_path, fd, pid=os.getpid(), state=state, metadata="hello")
                os.close(fd)
                code = _errno_of(lambda: os.mkdir(tmp_path / "n"))
        except BaseException:  # noqa: BLE001 - the forked child must always _exit
            code = 101
        os._exit(code)
    reaped = False
    try:
        conn, _ = srv.accept()
        with conn:
            msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
        assert len(fds) == 1
        st = json.loads(msg)
        assert st["fds"] == ["seccompFd"]
        assert st["pid"] == pid
        assert st["metadata"] == "hello"
        assert st["state"]["id"] == "c1"
        notif = ctypes.create_string_buffer(80)
        assert libc.ioctl(fds[0], ctypes.c_ulong(NOTIF_RECV), notif) == 0, ctypes.get_errno()
        nid, npid = struct.unpack_from("=QI", notif.raw, 0)
        assert npid == pid
        resp = ctypes.create_string_buffer(struct.pack("=QqiI", nid, 0, -errno.EXDEV, 0), 24)
        assert libc.ioctl(fds[0], ctypes.c_ulong(NOTIF_SEND), resp) == 0, ctypes.get_errno()
        os.close(fds[0])
        _, status = os.waitpid(pid, 0)
        reaped = True
        assert os.waitstatus_to_exitcode(status) == errno.EXDEV
        assert not (tmp_path / "n").exists()
    finally:
        srv.close()
        if not reaped:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_seccomp_send_to_listener_error_names_the_field(tmp_path: Path) -> None:
    r, w = os.pipe()
    try:
        with pytest.raises(SyscallError) as ei:
            seccomp.send_to_listener(str(tmp_path / "none.sock"), r, pid=1, state={"id": "x"})
        assert ei.value.field == "linux.seccomp.listenerPath"
        assert ei.value.errno == errno.ENOENT
    finally:
        os.close(r)
        os.close(w)
