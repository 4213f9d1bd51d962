"""pyrunc.low against the real kernel, as root.

Every helper that changes the process (namespaces, mounts, caps, seccomp)
runs in a forked child (`in_child`), which reports its result through a pipe
and exits, so the test process and the host are never touched. The host side
then checks that nothing leaked.
"""

from __future__ import annotations

import errno
import os
import pickle
import platform
import signal
import socket
import struct
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import pytest
from pyrunc import low

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")

CAP_CHOWN = 0
CAP_NET_BIND_SERVICE = 10
CAP_NET_RAW = 13
CAP_SETUID = 7
CAP_SYS_ADMIN = 21


def in_child(fn: Callable[[], Any]) -> Any:
    """Run fn in a forked child; return its result or fail with its traceback."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 0
        try:
            os.close(r)
            try:
                out = ("ok", fn())
            except BaseException:  # noqa: BLE001 - reported to the parent
                out = ("error", traceback.format_exc())
            os.write(w, pickle.dumps(out))
        except BaseException:  # noqa: BLE001 - a child must always _exit
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0, f"child exited with status {status:#x}"
    kind, value = pickle.loads(data)
    if kind == "error":
        pytest.fail(f"in child:\n{value}")
    return value


def oserror(fn: Callable[[], Any]) -> tuple[int, str]:
    """(errno, message) of the OSError fn raises; fails if it raises none."""
    try:
        fn()
    except OSError as e:
        return e.errno or 0, e.strerror or ""
    raise AssertionError("no OSError raised")


def private_mount_ns() -> None:
    """A new mount namespace whose mounts do not propagate back to the host."""
    low.unshare(low.CLONE_NEWNS)
    low.mount(None, "/", None, low.MS_REC | low.MS_PRIVATE)


def mountinfo_mentions(path: Path) -> bool:
    return any(f" {path} " in line for line in Path("/proc/self/mountinfo").read_text().splitlines())


def test_low_uts_namespace_hostname_stays_inside() -> None:
    host = os.uname()

    def child() -> tuple[str, str]:
        low.unshare(low.CLONE_NEWUTS)
        low.sethostname("pyrunc-low-uts")
        low.setdomainname("pyrunc.test")
        return socket.gethostname(), Path("/proc/sys/kernel/domainname").read_text().strip()

    assert in_child(child) == ("pyrunc-low-uts", "pyrunc.test")
    assert os.uname().nodename == host.nodename != "pyrunc-low-uts"
    assert Path("/proc/sys/kernel/domainname").read_text().strip() != "pyrunc.test"
    name = "x" * 65  # over __NEW_UTS_LEN

    def too_long() -> tuple[int, str]:
        low.unshare(low.CLONE_NEWUTS)
        return oserror(lambda: low.sethostname(name))

    assert in_child(too_long) == (
        errno.EINVAL,
        f"sethostname {name}: Invalid argument",
    )


def test_low_mount_namespace_tmpfs_is_invisible_to_host(tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()

    def child() -> tuple[bool, list[str], bool]:
        private_mount_ns()
        low.mount("tmpfs", mnt, "tmpfs", low.MS_NOSUID | low.MS_NODEV, "size=1m,mode=755")
        (mnt / "inside").write_text("x")
        return os.path.ismount(mnt), os.listdir(mnt), mountinfo_mentions(mnt)

    assert in_child(child) == (True, ["inside"], True)
    assert not os.path.ismount(mnt)
    assert os.listdir(mnt) == []
    assert not mountinfo_mentions(mnt)


def test_low_mount_and_umount_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing"

    def child() -> list[tuple[int, str]]:
        private_mount_ns()
        return [
            oserror(lambda: low.mount("tmpfs", missing, "tmpfs")),
            oserror(lambda: low.mount("none", tmp_path, "pyrunc-nosuchfs")),
            oserror(lambda: low.umount2(tmp_path)),
            oserror(lambda: low.pivot_root(missing, missing)),
            oserror(lambda: low.move_mount(-1, "", low.AT_FDCWD, tmp_path, low.MOVE_MOUNT_F_EMPTY_PATH)),
            oserror(lambda: low.mount_setattr(low.AT_FDCWD, tmp_path, 0, attr_set=1 << 40)),
            oserror(lambda: low.fsopen("pyrunc-nosuchfs")),
        ]

    got = in_child(child)
    assert got[0] == (errno.ENOENT, f"mount {missing}: No such file or directory")
    assert got[1][0] == errno.ENODEV and got[1][1].startswith(f"mount {tmp_path}: ")
    assert got[2][0] == errno.EINVAL and got[2][1].startswith(f"umount2 {tmp_path}: ")
    assert got[3] == (errno.ENOENT, f"pivot_root {missing}: No such file or directory")
    assert got[4][0] == errno.EBADF and got[4][1].startswith(f"move_mount {tmp_path}: ")
    assert got[5][0] == errno.EINVAL and got[5][1].startswith(f"mount_setattr {tmp_path}: ")
    assert got[6][0] == errno.ENODEV and got[6][1].startswith("fsopen pyrunc-nosuchfs: ")


def test_low_pivot_root_into_tmpfs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()

    def child() -> tuple[list[str], str, bool]:
        private_mount_ns()
        low.mount("tmpfs", root, "tmpfs", 0, "size=1m")
        (root / "marker").write_text("new root")
        (root / "old").mkdir()
        low.pivot_root(root, root / "old")
        os.chdir("/")
        low.umount2("/old", low.MNT_DETACH)
        os.rmdir("/old")
        return sorted(os.listdir("/")), Path("/marker").read_text(), os.path.exists(str(tmp_path))

    def child_dot() -> tuple[list[str], bool]:
        # The put_old == new_root form (pivot_root(2) NOTES): the old root is
        # stacked on "." and detached, no directory for it needed.
        private_mount_ns()
        low.mount("tmpfs", root, "tmpfs", 0, "size=1m")
        (root / "marker").write_text("dot")
        os.chdir(root)
        low.pivot_root(".", ".")
        low.umount2(".", low.MNT_DETACH)
        os.chdir("/")
        return os.listdir("/"), os.path.exists(str(tmp_path))

    assert in_child(child) == (["marker"], "new root", False)
    assert in_child(child_dot) == (["marker"], False)
    assert os.listdir(root) == []
    assert not mountinfo_mentions(root)


def test_low_open_tree_move_mount_and_fsmount(tmp_path: Path) -> None:
    src, dst, fsdst = tmp_path / "src", tmp_path / "dst", tmp_path / "fs"
    for d in (src, dst, fsdst):
        d.mkdir()

    def child() -> tuple[list[str], bool, str]:
        private_mount_ns()
        low.mount("tmpfs", src, "tmpfs", 0, "size=1m")
        (src / "f").write_text("tree")
        fd = low.open_tree(low.AT_FDCWD, src, low.OPEN_TREE_CLONE | low.OPEN_TREE_CLOEXEC)
        try:
            low.move_mount(fd, "", low.AT_FDCWD, dst, low.MOVE_MOUNT_F_EMPTY_PATH)
        finally:
            os.close(fd)
        ctx = low.fsopen("tmpfs", low.FSOPEN_CLOEXEC)
        try:
            low.fsconfig(ctx, low.FSCONFIG_SET_STRING, "size", "1m")
            low.fsconfig(ctx, low.FSCONFIG_CMD_CREATE)
            mfd = low.fsmount(ctx, low.FSMOUNT_CLOEXEC, low.MOUNT_ATTR_NODEV | low.MOUNT_ATTR_NOEXEC)
        finally:
            os.close(ctx)
        try:
            low.move_mount(mfd, "", low.AT_FDCWD, fsdst, low.MOVE_MOUNT_F_EMPTY_PATH)
        finally:
            os.close(mfd)
        opts = next(
            line for line in Path("/proc/self/mountinfo").read_text().splitlines() if f" {fsdst} " in line
        )
        return os.listdir(dst), os.path.ismount(dst), opts.split()[5]

    listing, is_mount, opts = in_child(child)
    assert (listing, is_mount) == (["f"], True)
    assert {"nodev", "noexec"} <= set(opts.split(","))
    assert os.listdir(dst) == [] and not os.path.ismount(fsdst)


def test_low_mount_setattr_makes_bind_read_only(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()

    def child() -> tuple[int, bool, bool]:
        private_mount_ns()
        low.mount(src, dst, None, low.MS_BIND)
        low.mount_setattr(low.AT_FDCWD, dst, 0, attr_set=low.MOUNT_ATTR_RDONLY)
        err = oserror(lambda: (dst / "x").write_text("no"))[0]
        (src / "y").write_text("yes")  # the source stays writable
        return err, bool(os.statvfs(dst).f_flag & os.ST_RDONLY), (dst / "y").exists()

    assert in_child(child) == (errno.EROFS, True, True)
    assert not os.path.ismount(dst)
    (src / "y").unlink()


def test_low_caps_read_set_and_drop_bounding() -> None:
    before = low.capget()
    assert before["bounding"] & (1 << CAP_NET_RAW)

    def child() -> dict[str, Any]:
        out: dict[str, Any] = {}
        low.drop_bounding(CAP_NET_RAW)
        out["bounding"] = low.capget()["bounding"]
        caps = low.capget()
        inh = caps["inheritable"] | (1 << CAP_NET_BIND_SERVICE)
        low.capset(caps["effective"], caps["permitted"], inh)
        low.set_ambient([CAP_NET_BIND_SERVICE])
        out["ambient"] = low.capget()["ambient"]
        out["raise_err"] = oserror(lambda: low.set_ambient([CAP_CHOWN]))  # not inheritable
        low.clear_ambient()
        out["cleared"] = low.capget()["ambient"]
        eff = caps["effective"] & ~(1 << CAP_CHOWN)
        low.capset(eff, caps["permitted"], inh)
        out["effective"] = low.capget()["effective"]
        out["capset_err"] = oserror(lambda: low.capset(caps["effective"], 0, 0))  # eff not within perm
        return out

    got = in_child(child)
    assert got["bounding"] == before["bounding"] & ~(1 << CAP_NET_RAW)
    assert got["ambient"] == 1 << CAP_NET_BIND_SERVICE
    assert got["raise_err"][0] == errno.EPERM and got["raise_err"][1].startswith(
        f"prctl PR_CAP_AMBIENT_RAISE {CAP_CHOWN}: "
    )
    assert got["cleared"] == 0
    assert got["effective"] == before["effective"] & ~(1 << CAP_CHOWN)
    assert got["capset_err"][0] == errno.EPERM and got["capset_err"][1].startswith("capset ")
    assert low.capget() == before


def test_low_capget_of_another_process_sees_its_dropped_bounding_cap() -> None:
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        low.drop_bounding(CAP_NET_RAW)
        os.write(w, b"x")
        os.read(go_r, 1)
        os._exit(0)
    try:
        os.read(r, 1)
        other = low.capget(pid)
        assert not other["bounding"] & (1 << CAP_NET_RAW)
        assert low.capget()["bounding"] & (1 << CAP_NET_RAW)
    finally:
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        for fd in (r, w, go_r, go_w):
            os.close(fd)


def test_low_prctl_bits_round_trip() -> None:
    assert not low.get_no_new_privs()

    def child() -> list[Any]:
        got: list[Any] = [low.get_no_new_privs()]
        low.set_no_new_privs()
        got.append(low.get_no_new_privs())
        low.set_dumpable(False)
        got.append(low.get_dumpable())
        low.set_dumpable(True)
        got.append(low.get_dumpable())
        low.set_pdeathsig(signal.SIGKILL)
        got.append(low.get_pdeathsig())
        low.set_child_subreaper(True)
        got.append(low.get_child_subreaper())
        low.set_keepcaps(True)
        got.append(low.get_keepcaps())
        got.append(oserror(lambda: low.set_pdeathsig(999)))
        return got

    got = in_child(child)
    assert got[:7] == [False, True, False, True, signal.SIGKILL, True, True]
    assert got[7][0] == errno.EINVAL and got[7][1].startswith("prctl PR_SET_PDEATHSIG: ")
    assert not low.get_no_new_privs()


def test_low_write_id_map_for_user_namespace_child() -> None:
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            # An unprivileged host user (nobody) creates the user namespace.
            low.setgroups([])
            low.setresgid(65534, 65534, 65534)
            low.setresuid(65534, 65534, 65534)
            low.unshare(low.CLONE_NEWUSER)
            os.write(ready_w, b"x")
            os.read(go_r, 1)
            res = (
                os.getuid(),
                os.getgid(),
                Path("/proc/self/uid_map").read_text().split(),
                Path("/proc/self/setgroups").read_text().strip(),
                oserror(lambda: low.setgroups([0])),
                oserror(lambda: low.setresuid(1, 1, 1)),  # ns uid 1 is unmapped
            )
            os.write(out_w, pickle.dumps(res))
        finally:
            os._exit(0)
    try:
        os.read(ready_r, 1)
        low.write_id_map(pid, [(0, 65534, 1)], "0 65534 1", deny_setgroups=True)
        # A map can be written once only.
        second = oserror(lambda: low.write_id_map(pid, "0 0 1"))
        os.write(go_w, b"x")
        os.close(out_w)
        data = os.read(out_r, 65536)
    finally:
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, go_r, go_w, out_r):
            os.close(fd)
    uid, gid, uid_map, setgroups, sg_err, su_err = pickle.loads(data)
    assert (uid, gid) == (0, 0)
    assert uid_map == ["0", "65534", "1"]
    assert setgroups == "deny"
    assert sg_err == (errno.EPERM, "setgroups 0: Operation not permitted")
    assert su_err == (errno.EINVAL, "setresuid 1 1 1: Invalid argument")
    assert second == (errno.EPERM, f"write /proc/{pid}/uid_map: Operation not permitted")


def test_low_spawn_in_namespaces_with_id_maps(tmp_path: Path) -> None:
    out = tmp_path / "out"
    flags = low.CLONE_NEWUSER | low.CLONE_NEWPID | low.CLONE_NEWUTS | low.CLONE_NEWNS | low.CLONE_NEWIPC
    script = (
        "hostname pyrunc-spawn; "
        f"echo $$ $(id -u) $(id -g) $(hostname) $(cat /proc/self/setgroups) $(wc -l < /proc/self/uid_map) > {out}"
    )
    # Root stays root inside (it keeps its caps over execve, so it may set
    # the hostname); the second line shows the maps are the ones written.
    pid = low.spawn_in_namespaces(
        ["busybox", "sh", "-c", script],
        flags,
        env={"PATH": "/bin"},
        uid_map="0 0 1\n1 100000 1000",
        gid_map=[(0, 0, 1), (1, 100000, 1000)],
        deny_setgroups=True,
    )
    assert os.waitpid(pid, 0) == (pid, 0)
    assert out.read_text().split() == ["1", "0", "0", "pyrunc-spawn", "deny", "2"]
    assert socket.gethostname() != "pyrunc-spawn"


def my_children() -> set[int]:
    """Pids of this process's children, living or zombie (proc(5) children)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        pids.update(int(p) for p in (task / "children").read_text().split())
    return pids


def test_low_spawn_in_namespaces_bad_map_kills_child() -> None:
    before = my_children()
    e = oserror(
        lambda: low.spawn_in_namespaces(["/bin/busybox", "true"], low.CLONE_NEWUSER, uid_map="0 0 1\n0 0 1")
    )
    assert e[0] == errno.EINVAL and e[1].startswith("write /proc/")
    assert e[1].endswith("/uid_map: Invalid argument")
    # The half-started child was killed and reaped by the helper.
    assert my_children() <= before


def hostname_after_setns(target: int | str, nstype: int = 0) -> str:
    low.setns(target, nstype)
    return socket.gethostname()


def test_low_setns_joins_a_spawned_childs_uts_namespace(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    pid = low.spawn_in_namespaces(
        ["/bin/busybox", "sh", "-c", f"hostname pyrunc-setns; touch {ready}; exec sleep 30"], low.CLONE_NEWUTS
    )
    try:
        for _ in range(500):
            if ready.exists():
                break
            time.sleep(0.01)
        fd = os.open(f"/proc/{pid}/ns/uts", os.O_RDONLY)
        try:
            by_fd = in_child(lambda: hostname_after_setns(fd, low.CLONE_NEWUTS))
        finally:
            os.close(fd)
        by_path = in_child(lambda: hostname_after_setns(f"/proc/{pid}/ns/uts"))
        wrong = in_child(lambda: oserror(lambda: low.setns(f"/proc/{pid}/ns/uts", low.CLONE_NEWNET)))
        pidfd = low.pidfd_open(pid)
        try:
            by_pidfd = in_child(lambda: hostname_after_setns(pidfd, low.CLONE_NEWUTS))
        finally:
            os.close(pidfd)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert by_fd == by_path == by_pidfd == "pyrunc-setns"
    assert wrong == (errno.EINVAL, f"setns /proc/{pid}/ns/uts: Invalid argument")
    assert socket.gethostname() != "pyrunc-setns"


def _chdir_filter() -> bytes:
    """BPF: chdir(2) fails with EPERM, everything else is allowed."""
    arch, nr = {"x86_64": (0xC000003E, 80), "aarch64": (0xC00000B7, 49)}[platform.machine()]
    ld_abs, jeq_k, ret_k = 0x20, 0x15, 0x06
    insns = [
        (ld_abs, 0, 0, 4),  # A = seccomp_data.arch
        (jeq_k, 0, 3, arch),  # other arch: allow
        (ld_abs, 0, 0, 0),  # A = seccomp_data.nr
        (jeq_k, 0, 1, nr),
        (ret_k, 0, 0, low.SECCOMP_RET_ERRNO | errno.EPERM),
        (ret_k, 0, 0, low.SECCOMP_RET_ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *i) for i in insns)


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "aarch64"), reason="filter is hand-assembled per arch"
)
def test_low_seccomp_filter_returns_eperm_for_one_syscall(tmp_path: Path) -> None:
    prog = _chdir_filter()

    def child() -> tuple[Any, ...]:
        os.chdir(tmp_path)  # works before the filter
        low.set_no_new_privs()
        rc = low.seccomp_load_bpf(prog)
        blocked = oserror(lambda: os.chdir("/"))
        status = next(
            line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("Seccomp:")
        )
        return rc, blocked[0], os.getcwd() == str(tmp_path), status.split()[1]

    assert in_child(child) == (0, errno.EPERM, True, "2")
    os.chdir(os.getcwd())  # the test process is unfiltered


def test_low_seccomp_errors() -> None:
    def child() -> list[tuple[int, str]]:
        caps = low.capget()
        bad = struct.pack("=HBBI", 0x20, 0, 0, 0)  # no return instruction
        out = [oserror(lambda: low.seccomp_load_bpf(bad))]
        # Without CAP_SYS_ADMIN the kernel insists on no_new_privs.
        low.capset(caps["effective"] & ~(1 << CAP_SYS_ADMIN), caps["permitted"], caps["inheritable"])
        out.append(oserror(lambda: low.seccomp_load_bpf(_chdir_filter())))
        return out

    bad, nonnp = in_child(child)
    assert bad[0] == errno.EINVAL and bad[1].startswith("seccomp SECCOMP_SET_MODE_FILTER 0x0: ")
    assert nonnp[0] == errno.EACCES and nonnp[1].startswith("seccomp ")


def test_low_close_range_in_child_leaves_parent_fds() -> None:
    fd = os.open("/dev/null", os.O_RDONLY)
    try:

        def close_one() -> tuple[int, str]:
            low.close_range(fd, fd)
            return oserror(lambda: os.fstat(fd))

        assert in_child(close_one)[0] == errno.EBADF
        os.fstat(fd)  # still open here
    finally:
        os.close(fd)
