"""pyrunc.low: API shape and the error paths that need no privileges."""

from __future__ import annotations

import errno
import inspect
import os
import signal
import time

import pytest
from pyrunc import _native, low


def test_low_exports_every_native_constant() -> None:
    assert len(_native.LOW_CONSTANTS) > 80
    for name, value in _native.LOW_CONSTANTS.items():
        assert name in low.__all__, name
        assert getattr(low, name) == value
    assert low.CLONE_NEWUSER == 0x10000000
    assert low.MS_BIND | low.MS_REC == 0x5000
    assert low.AT_FDCWD == -100


def test_low_all_names_exist_and_functions_are_documented() -> None:
    for name in low.__all__:
        obj = getattr(low, name)
        if inspect.isfunction(obj):
            assert obj.__doc__ and obj.__module__ == "pyrunc.low", name


def test_low_format_id_map() -> None:
    assert low.format_id_map("0 1000 1") == "0 1000 1\n"
    assert low.format_id_map([(0, 1000, 1), (1, 100000, 65536)]) == "0 1000 1\n1 100000 65536\n"
    assert low.format_id_map(["0 0 1\n", "", "  5 5 5 "]) == "0 0 1\n5 5 5\n"


def _err(fn, *args, **kw) -> OSError:  # type: ignore[no-untyped-def]
    with pytest.raises(OSError) as info:
        fn(*args, **kw)
    return info.value


def test_low_error_names_syscall_and_argument() -> None:
    e = _err(low.setns, "/nonexistent/ns/net")
    assert isinstance(e, FileNotFoundError) and e.errno == errno.ENOENT
    assert e.strerror == "open /nonexistent/ns/net: No such file or directory"
    e = _err(low.setns, -1)
    # The text after the colon is nix's errno description ("Bad file number").
    assert e.errno == errno.EBADF and str(e.strerror).startswith("setns -1: ")
    e = _err(low.close_range, 10, 5)
    assert (e.errno, e.strerror) == (errno.EINVAL, "close_range 10: Invalid argument")
    e = _err(low.capget, 0x7FFFFFFF)
    assert e.errno == errno.ESRCH and str(e.strerror).startswith("capget 2147483647: ")
    e = _err(low.open_tree, -1, "relative")
    assert e.errno == errno.EBADF and str(e.strerror).startswith("open_tree relative: ")
    e = _err(low.write_id_map, 0x7FFFFFFF, "0 0 1")
    assert e.errno == errno.ENOENT and str(e.strerror).startswith("open /proc/2147483647/uid_map: ")
    e = _err(low.seccomp_load_bpf, b"\0" * 7)
    assert e.errno == errno.EINVAL and str(e.strerror).startswith("seccomp program of 7 bytes")
    e = _err(low.drop_bounding, 999)
    assert e.errno == errno.EINVAL and str(e.strerror).startswith("prctl PR_CAPBSET_DROP: ")
    e = _err(low.mount, None, "/a\0b")
    assert e.errno == errno.EINVAL and str(e.strerror).startswith("mount ")


def test_low_capget_self_agrees_with_proc_status() -> None:
    mine = low.capget()
    via_proc = low.capget(os.getpid())
    assert set(mine) == {"effective", "permitted", "inheritable", "bounding", "ambient"}
    assert mine == via_proc
    assert mine["effective"] & ~mine["permitted"] == 0
    assert mine["bounding"] >> (low.cap_last_cap() + 1) == 0


def test_low_spawn_without_namespaces_and_exec_errors() -> None:
    pid = low.spawn_in_namespaces(["sh", "-c", "exit 7"])
    assert os.waitpid(pid, 0) == (pid, 7 << 8)
    e = _err(low.spawn_in_namespaces, ["/nonexistent/prog"])
    assert (e.errno, e.strerror) == (errno.ENOENT, "execve /nonexistent/prog: No such file or directory")
    e = _err(low.spawn_in_namespaces, ["sh"], low.CLONE_NEWTIME)
    assert e.errno == errno.EINVAL and str(e.strerror).startswith("clone CLONE_NEWTIME: ")
    # A directory is found but not executable: the child's execve errno comes back.
    e = _err(low.spawn_in_namespaces, ["/"])
    assert e.errno == errno.EACCES and str(e.strerror).startswith("execve /: ")


def test_low_spawn_env_is_passed() -> None:
    check = ["sh", "-c", 'test "$PYRUNC_X" = yes']
    pid = low.spawn_in_namespaces(check, env={"PYRUNC_X": "yes", "PATH": "/bin:/usr/bin"})
    assert os.waitpid(pid, 0)[1] == 0
    pid = low.spawn_in_namespaces(check, env=["PYRUNC_X=no", "PATH=/bin:/usr/bin"])
    assert os.waitpid(pid, 0)[1] == 1 << 8


def test_low_pidfd_signals_a_child() -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        time.sleep(30)
        os._exit(0)
    fd = low.pidfd_open(pid)
    try:
        assert not os.get_inheritable(fd)  # pidfds are close-on-exec
        low.pidfd_send_signal(fd, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM
        # Reaped: the pidfd now refers to no process, and never to a new one.
        e = _err(low.pidfd_send_signal, fd, signal.SIGTERM)
        assert (e.errno, e.strerror) == (errno.ESRCH, f"pidfd_send_signal {fd}: No such process")
    finally:
        os.close(fd)
    e = _err(low.pidfd_open, 0x7FFFFFFF)
    assert e.errno == errno.ESRCH and str(e.strerror).startswith("pidfd_open 2147483647")


def test_low_close_range_closes_and_marks_cloexec() -> None:
    base = os.open("/dev/null", os.O_RDONLY)
    fds = [os.dup2(base, n) for n in (900, 901, 902)]
    try:
        os.set_inheritable(902, True)
        low.close_range(902, 902, low.CLOSE_RANGE_CLOEXEC)
        assert not os.get_inheritable(902)
        low.close_range(900, 901)
        for fd in (900, 901):
            with pytest.raises(OSError) as info:
                os.fstat(fd)
            assert info.value.errno == errno.EBADF
        os.fstat(902)
    finally:
        os.close(base)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
