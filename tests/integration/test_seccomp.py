"""linux.seccomp from inside real containers: errno and kill actions,
errnoRet, masked argument filters, runc's ENOSYS stub, a notify agent of our
own on listenerPath, and the profile on `exec`'d processes."""
from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import re
import select
import shutil
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Bundle, Runtime, wait_for

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="syscall numbers below are x86_64's")

# A static payload that makes one raw syscall: `sysno NR [ARG...]` prints
# "<return value> <errno>"; an ARG that is not a number is passed as a string
# pointer. busybox cannot make a syscall it has no applet for.
SYSNO_C = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long a[6] = {0};
    for (int i = 2; i < argc && i < 8; i++) {
        char *end;
        long v = strtol(argv[i], &end, 0);
        a[i - 2] = *end ? (long)argv[i] : v;
    }
    errno = 0;
    long r = syscall(strtol(argv[1], 0, 0), a[0], a[1], a[2], a[3], a[4], a[5]);
    printf("%ld %d\n", r, r < 0 ? errno : 0);
    return 0;
}
"""

NR_MKDIR = 83
NR_ACCT = 163
NR_CLONE3 = 435
CLONE_NEWUSER = 0x10000000
CLONE_NEWUTS = 0x04000000
SIGSYS = 31


@pytest.fixture(scope="session")
def sysno(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("needs a C compiler for the payload")
    d = tmp_path_factory.mktemp("sysno")
    (d / "sysno.c").write_text(SYSNO_C)
    r = subprocess.run([cc, "-static", "-O1", "-o", str(d / "sysno"), str(d / "sysno.c")],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot build a static payload: {r.stderr[-300:]}")
    return d / "sysno"


def _with_profile(bundle: Bundle, profile: dict[str, Any], *args: str) -> Bundle:
    bundle.config["linux"]["seccomp"] = profile
    return bundle.set_args(*args)


def _run(runtime: Runtime, bundle: Bundle) -> Any:
    return runtime("run", "-b", str(bundle.path), runtime.new_id())


def _syscall_result(out: str) -> tuple[int, int]:
    ret, err = out.split()
    return int(ret), int(err)


def test_seccomp_mkdir_denied_with_eperm(runtime: Runtime, bundle: Bundle) -> None:
    script = "mkdir /dev/shm/a; echo rc=$?; touch /dev/shm/f && echo touched"
    # Without the profile the same mkdir works: the filter is what denies it.
    bundle.set_args("sh", "-c", script)
    r = _run(runtime, bundle)
    assert (r.rc, r.out) == (0, "rc=0\ntouched\n"), r
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                           "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]},
                  "sh", "-c", script)
    r = _run(runtime, bundle)
    assert r.rc == 0, r
    assert r.out == "rc=1\ntouched\n"
    assert "Operation not permitted" in r.err


def test_seccomp_kill_on_unshare(runtime: Runtime, bundle: Bundle) -> None:
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                           "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_KILL"}]},
                  "sh", "-c", "echo before; unshare -u true; echo after=$?")
    r = _run(runtime, bundle)
    # The shell survives: only the child that called unshare dies of SIGSYS.
    assert r.rc == 0, r
    assert r.out == f"before\nafter={128 + SIGSYS}\n"
    # The container's process itself killed: run exits 128+SIGSYS.
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                           "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_KILL_PROCESS"}]},
                  "unshare", "-u", "true")
    r = _run(runtime, bundle)
    assert r.rc == 128 + SIGSYS, r


def test_seccomp_errno_ret(runtime: Runtime, bundle: Bundle) -> None:
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW",
                           "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                                         "errnoRet": errno.EXDEV},
                                        {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}]},
                  "sh", "-c", "mkdir /dev/shm/a; echo mkdir=$?; rmdir /nonexistent; echo rmdir=$?")
    r = _run(runtime, bundle)
    assert r.rc == 0, r
    assert "Invalid cross-device link" in r.err
    # errnoRet 0 makes the call "succeed" without running (rmdir of nothing).
    assert r.out == "mkdir=1\nrmdir=0\n"


def test_seccomp_masked_argument_filter(runtime: Runtime, bundle: Bundle, sysno: Path) -> None:
    shutil.copy2(sysno, bundle.rootfs / "bin" / "sysno")
    # value is the mask, valueTwo the datum (runtime-spec, as libseccomp's
    # SCMP_A0(SCMP_CMP_MASKED_EQ, mask, datum)): any flags with CLONE_NEWUSER set.
    rule = {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV,
            "args": [{"index": 0, "value": CLONE_NEWUSER, "valueTwo": CLONE_NEWUSER, "op": "SCMP_CMP_MASKED_EQ"}]}
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]},
                  "sh", "-c", f"sysno 272 {CLONE_NEWUSER}; sysno 272 {CLONE_NEWUSER | CLONE_NEWUTS}; "
                              f"sysno 272 {CLONE_NEWUTS}")
    r = _run(runtime, bundle)
    assert r.rc == 0, r
    lines = [_syscall_result(line) for line in r.out.splitlines()]
    assert lines[0] == (-1, errno.EXDEV)
    assert lines[1] == (-1, errno.EXDEV)
    # Not matched: the kernel decides (no CAP_SYS_ADMIN in the default caps).
    assert lines[2] == (-1, errno.EPERM)


def _x86_64_syscalls() -> dict[str, int]:
    path = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
    if not path.exists():
        pytest.skip("no asm/unistd_64.h to list syscall names")
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"#define __NR_(\w+) (\d+)", path.read_text())}


def test_seccomp_newer_syscall_gets_enosys(runtime: Runtime, bundle: Bundle, sysno: Path) -> None:
    """A profile written for an older kernel: an allowlist up to rseq (334)
    with default EPERM. clone3 (435) is newer than all of it and gets ENOSYS,
    so glibc falls back to clone; acct (163), left out, gets the default."""
    shutil.copy2(sysno, bundle.rootfs / "bin" / "sysno")
    names = sorted(n for n, nr in _x86_64_syscalls().items() if nr <= 334 and n != "acct")
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                           "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]},
                  "sh", "-c", f"sysno {NR_CLONE3} 0 0; sysno {NR_ACCT} 0; sysno {NR_MKDIR} /dev/shm/d 511")
    r = _run(runtime, bundle)
    assert r.rc == 0, r
    clone3, acct, mkdir = (_syscall_result(line) for line in r.out.splitlines())
    assert clone3 == (-1, errno.ENOSYS)
    assert acct == (-1, errno.EPERM)
    assert mkdir == (0, 0)
    # defaultErrnoRet changes the default, not the stub (runc's patchbpf).
    bundle.config["linux"]["seccomp"]["defaultErrnoRet"] = errno.EXDEV
    bundle.write()
    r = _run(runtime, bundle)
    assert r.rc == 0, r
    assert [_syscall_result(line) for line in r.out.splitlines()][:2] == [(-1, errno.ENOSYS), (-1, errno.EXDEV)]


# linux/seccomp.h: struct seccomp_notif is 80 bytes, seccomp_notif_resp 24.
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101


class Agent:
    """A seccomp agent on a unix socket: takes each notify fd with the
    container process state and answers every notified syscall with EXDEV."""

    def __init__(self, path: Path) -> None:
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(str(path))
        self.srv.listen(4)
        self.states: list[dict[str, Any]] = []
        self.answered: list[tuple[int, int]] = []  # (pid, syscall nr)
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        self.srv.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.srv.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
            self.states.append(json.loads(msg))
            if len(fds) != 1:
                self.errors.append(f"got {len(fds)} fds")
                continue
            t = threading.Thread(target=self._serve, args=(fds[0],), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, fd: int) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            while not self.stop.is_set():
                ready = select.poll()
                ready.register(fd, select.POLLIN)
                ev = ready.poll(200)
                if not ev:
                    continue
                if ev[0][1] & select.POLLHUP:
                    return  # every task using the filter is gone
                notif = ctypes.create_string_buffer(80)
                if libc.ioctl(fd, ctypes.c_ulong(NOTIF_RECV), notif) != 0:
                    if ctypes.get_errno() in (errno.ENOENT, errno.EINTR):
                        continue
                    self.errors.append(f"NOTIF_RECV errno {ctypes.get_errno()}")
                    return
                nid, pid, _flags, nr = struct.unpack_from("=QIIi", notif.raw, 0)
                self.answered.append((pid, nr))
                resp = ctypes.create_string_buffer(struct.pack("=QqiI", nid, 0, -errno.EXDEV, 0), 24)
                if libc.ioctl(fd, ctypes.c_ulong(NOTIF_SEND), resp) != 0 and ctypes.get_errno() != errno.ENOENT:
                    self.errors.append(f"NOTIF_SEND errno {ctypes.get_errno()}")
        finally:
            os.close(fd)

    def close(self) -> None:
        self.stop.set()
        self.srv.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Agent]:
    a = Agent(tmp_path / "agent.sock")
    yield a
    a.close()


def test_seccomp_notify_agent_answers_mkdir(runtime: Runtime, bundle: Bundle, agent: Agent,
                                            tmp_path: Path) -> None:
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "agent.sock"),
                           "listenerMetadata": "meta-1",
                           "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]},
                  "sh", "-c", "mkdir /dev/shm/a; echo rc=$?; ls /dev/shm")
    cid = runtime.new_id()
    r = runtime("run", "-b", str(bundle.path), cid)
    assert r.rc == 0, r
    assert r.out == "rc=1\n"  # the agent said EXDEV, and no directory was made
    assert "Invalid cross-device link" in r.err
    assert agent.errors == []
    assert [nr for _, nr in agent.answered] == [NR_MKDIR]
    [st] = agent.states
    assert st["fds"] == ["seccompFd"]
    assert st["metadata"] == "meta-1"
    assert st["state"]["id"] == cid
    assert st["state"]["status"] == "creating"
    assert st["state"]["bundle"] == str(bundle.path)
    assert st["pid"] == st["state"]["pid"] > 0


def test_seccomp_notify_without_listener_fails_create(runtime: Runtime, bundle: Bundle, tmp_path: Path) -> None:
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "nobody.sock"),
                           "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}, "true")
    r = runtime("run", "-b", str(bundle.path), runtime.new_id())
    assert r.rc == 1, r
    assert "linux.seccomp.listenerPath" in r.error_text()
    assert list(runtime.root.iterdir()) == []


def test_seccomp_profile_applies_to_exec(runtime: Runtime, bundle: Bundle, agent: Agent, tmp_path: Path) -> None:
    _with_profile(bundle, {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "agent.sock"),
                           "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
                                        {"names": ["rmdir"], "action": "SCMP_ACT_NOTIFY"}]},
                  "sleep", "300")
    cid = runtime.new_id()
    runtime.ok("run", "-d", "-b", str(bundle.path), cid)
    try:
        r = runtime("exec", cid, "sh", "-c", "grep ^Seccomp: /proc/self/status; mkdir /dev/shm/x; echo rc=$?")
        assert r.rc == 0, r
        assert r.out == "Seccomp:\t2\nrc=1\n"
        assert "Operation not permitted" in r.err
        # exec gets a listener fd of its own for its own filter.
        r = runtime("exec", cid, "sh", "-c", "rmdir /dev/shm; echo rc=$?")
        assert r.out == "rc=1\n", r
        assert "Invalid cross-device link" in r.err
        # create and both execs each handed over a listener fd.
        wait_for(lambda: len(agent.states) == 3, what="three listener connections")
        assert agent.errors == []
        assert all(s["state"]["id"] == cid for s in agent.states)
        assert len([a for a in agent.answered if a[1] == 84]) == 1  # rmdir
    finally:
        runtime("delete", "-f", cid)
