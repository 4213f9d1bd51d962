"""Raw namespace, mount, credential and seccomp syscalls, typed and documented.

Each function is one syscall (or one prctl bit) implemented in Rust
(``pyrunc-core``'s ``low`` module) with no policy of its own. Every failure
raises :class:`OSError` (or the subclass Python picks for the errno) whose
``errno`` is the kernel's and whose message names the syscall and its main
argument, e.g. ``OSError(1, "pivot_root /tmp/x: Operation not permitted")``.

Many of these change the *calling thread* or process for good (unshare,
setns, pivot_root, capset, seccomp, no_new_privs): call them in a child,
e.g. after :func:`os.fork`, or use :func:`spawn_in_namespaces`, which does
the clone and execve in Rust so no Python runs in the new namespaces.

Example::

    from pyrunc import low
    pid = low.spawn_in_namespaces(["hostname"], low.CLONE_NEWUTS | low.CLONE_NEWNS)
    os.waitpid(pid, 0)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict, Union, cast

from pyrunc import _native
from pyrunc._native import (
    AT_EMPTY_PATH,
    AT_FDCWD,
    AT_NO_AUTOMOUNT,
    AT_RECURSIVE,
    AT_SYMLINK_NOFOLLOW,
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWTIME,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    CLOSE_RANGE_CLOEXEC,
    CLOSE_RANGE_UNSHARE,
    FSCONFIG_CMD_CREATE,
    FSCONFIG_CMD_CREATE_EXCL,
    FSCONFIG_CMD_RECONFIGURE,
    FSCONFIG_SET_BINARY,
    FSCONFIG_SET_FD,
    FSCONFIG_SET_FLAG,
    FSCONFIG_SET_PATH,
    FSCONFIG_SET_PATH_EMPTY,
    FSCONFIG_SET_STRING,
    FSMOUNT_CLOEXEC,
    FSOPEN_CLOEXEC,
    MNT_DETACH,
    MNT_EXPIRE,
    MNT_FORCE,
    MOUNT_ATTR__ATIME,
    MOUNT_ATTR_IDMAP,
    MOUNT_ATTR_NOATIME,
    MOUNT_ATTR_NODEV,
    MOUNT_ATTR_NODIRATIME,
    MOUNT_ATTR_NOEXEC,
    MOUNT_ATTR_NOSUID,
    MOUNT_ATTR_NOSYMFOLLOW,
    MOUNT_ATTR_RDONLY,
    MOUNT_ATTR_RELATIME,
    MOUNT_ATTR_STRICTATIME,
    MOVE_MOUNT_BENEATH,
    MOVE_MOUNT_F_AUTOMOUNTS,
    MOVE_MOUNT_F_EMPTY_PATH,
    MOVE_MOUNT_F_SYMLINKS,
    MOVE_MOUNT_SET_GROUP,
    MOVE_MOUNT_T_AUTOMOUNTS,
    MOVE_MOUNT_T_EMPTY_PATH,
    MOVE_MOUNT_T_SYMLINKS,
    MS_BIND,
    MS_DIRSYNC,
    MS_I_VERSION,
    MS_LAZYTIME,
    MS_MANDLOCK,
    MS_MOVE,
    MS_NOATIME,
    MS_NODEV,
    MS_NODIRATIME,
    MS_NOEXEC,
    MS_NOSUID,
    MS_NOSYMFOLLOW,
    MS_POSIXACL,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_RELATIME,
    MS_REMOUNT,
    MS_SHARED,
    MS_SILENT,
    MS_SLAVE,
    MS_STRICTATIME,
    MS_SYNCHRONOUS,
    MS_UNBINDABLE,
    OPEN_TREE_CLOEXEC,
    OPEN_TREE_CLONE,
    PIDFD_NONBLOCK,
    SECCOMP_FILTER_FLAG_LOG,
    SECCOMP_FILTER_FLAG_NEW_LISTENER,
    SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    SECCOMP_FILTER_FLAG_TSYNC,
    SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
    SECCOMP_RET_ALLOW,
    SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS,
    SECCOMP_RET_KILL_THREAD,
    SECCOMP_RET_LOG,
    SECCOMP_RET_TRACE,
    SECCOMP_RET_TRAP,
    SECCOMP_RET_USER_NOTIF,
    UMOUNT_NOFOLLOW,
)

StrPath = Union[str, "os.PathLike[str]"]


class CapSets(TypedDict):
    """The five capability sets as bitmasks (bit n is capability n)."""

    effective: int
    permitted: int
    inheritable: int
    bounding: int
    ambient: int


#: An id map: the file's text, its lines, or ``(inside, outside, count)`` triples.
IdMap = Union[str, Iterable[str], Iterable[tuple[int, int, int]]]

__all__ = [
    "AT_EMPTY_PATH",
    "AT_FDCWD",
    "AT_NO_AUTOMOUNT",
    "AT_RECURSIVE",
    "AT_SYMLINK_NOFOLLOW",
    "CLONE_NEWCGROUP",
    "CLONE_NEWIPC",
    "CLONE_NEWNET",
    "CLONE_NEWNS",
    "CLONE_NEWPID",
    "CLONE_NEWTIME",
    "CLONE_NEWUSER",
    "CLONE_NEWUTS",
    "CLOSE_RANGE_CLOEXEC",
    "CLOSE_RANGE_UNSHARE",
    "FSCONFIG_CMD_CREATE",
    "FSCONFIG_CMD_CREATE_EXCL",
    "FSCONFIG_CMD_RECONFIGURE",
    "FSCONFIG_SET_BINARY",
    "FSCONFIG_SET_FD",
    "FSCONFIG_SET_FLAG",
    "FSCONFIG_SET_PATH",
    "FSCONFIG_SET_PATH_EMPTY",
    "FSCONFIG_SET_STRING",
    "FSMOUNT_CLOEXEC",
    "FSOPEN_CLOEXEC",
    "MNT_DETACH",
    "MNT_EXPIRE",
    "MNT_FORCE",
    "MOUNT_ATTR_IDMAP",
    "MOUNT_ATTR_NOATIME",
    "MOUNT_ATTR_NODEV",
    "MOUNT_ATTR_NODIRATIME",
    "MOUNT_ATTR_NOEXEC",
    "MOUNT_ATTR_NOSUID",
    "MOUNT_ATTR_NOSYMFOLLOW",
    "MOUNT_ATTR_RDONLY",
    "MOUNT_ATTR_RELATIME",
    "MOUNT_ATTR_STRICTATIME",
    "MOUNT_ATTR__ATIME",
    "MOVE_MOUNT_BENEATH",
    "MOVE_MOUNT_F_AUTOMOUNTS",
    "MOVE_MOUNT_F_EMPTY_PATH",
    "MOVE_MOUNT_F_SYMLINKS",
    "MOVE_MOUNT_SET_GROUP",
    "MOVE_MOUNT_T_AUTOMOUNTS",
    "MOVE_MOUNT_T_EMPTY_PATH",
    "MOVE_MOUNT_T_SYMLINKS",
    "MS_BIND",
    "MS_DIRSYNC",
    "MS_I_VERSION",
    "MS_LAZYTIME",
    "MS_MANDLOCK",
    "MS_MOVE",
    "MS_NOATIME",
    "MS_NODEV",
    "MS_NODIRATIME",
    "MS_NOEXEC",
    "MS_NOSUID",
    "MS_NOSYMFOLLOW",
    "MS_POSIXACL",
    "MS_PRIVATE",
    "MS_RDONLY",
    "MS_REC",
    "MS_RELATIME",
    "MS_REMOUNT",
    "MS_SHARED",
    "MS_SILENT",
    "MS_SLAVE",
    "MS_STRICTATIME",
    "MS_SYNCHRONOUS",
    "MS_UNBINDABLE",
    "OPEN_TREE_CLOEXEC",
    "OPEN_TREE_CLONE",
    "PIDFD_NONBLOCK",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_NEW_LISTENER",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
    "SECCOMP_RET_ALLOW",
    "SECCOMP_RET_ERRNO",
    "SECCOMP_RET_KILL_PROCESS",
    "SECCOMP_RET_KILL_THREAD",
    "SECCOMP_RET_LOG",
    "SECCOMP_RET_TRACE",
    "SECCOMP_RET_TRAP",
    "SECCOMP_RET_USER_NOTIF",
    "UMOUNT_NOFOLLOW",
    "CapSets",
    "IdMap",
    "StrPath",
    "cap_last_cap",
    "capget",
    "capset",
    "clear_ambient",
    "close_range",
    "drop_bounding",
    "format_id_map",
    "fsconfig",
    "fsmount",
    "fsopen",
    "get_child_subreaper",
    "get_dumpable",
    "get_keepcaps",
    "get_no_new_privs",
    "get_pdeathsig",
    "mount",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "pidfd_open",
    "pidfd_send_signal",
    "pivot_root",
    "seccomp_load_bpf",
    "set_ambient",
    "set_child_subreaper",
    "set_dumpable",
    "set_keepcaps",
    "set_no_new_privs",
    "set_pdeathsig",
    "setdomainname",
    "setgroups",
    "sethostname",
    "setns",
    "setresgid",
    "setresuid",
    "spawn_in_namespaces",
    "umount2",
    "unshare",
    "write_id_map",
]


# --- namespaces ---------------------------------------------------------------


def unshare(flags: int) -> None:
    """unshare(2): move the caller into new namespaces (``CLONE_NEW*`` flags).

    ``CLONE_NEWUSER`` fails with EINVAL in a multithreaded process;
    ``CLONE_NEWPID`` and ``CLONE_NEWTIME`` only apply to later children.
    """
    _native.unshare(flags)


def setns(target: int | StrPath, nstype: int = 0) -> None:
    """setns(2): join the namespace of an open fd (or pidfd) or of a path such
    as ``/proc/PID/ns/net``. ``nstype`` 0 accepts any namespace type; with a
    pidfd it is the set of ``CLONE_NEW*`` namespaces to join.
    """
    _native.setns(target if isinstance(target, int) else os.fspath(target), nstype)


def format_id_map(id_map: IdMap) -> str:
    """The text of a uid_map/gid_map file: ``"0 1000 1\n1 100000 65536\n"``."""
    if isinstance(id_map, str):
        lines = id_map.splitlines()
    else:
        lines = [e if isinstance(e, str) else " ".join(str(int(x)) for x in e) for e in id_map]
    return "".join(line.strip() + "\n" for line in lines if line.strip())


def _map_text(id_map: IdMap | None) -> str | None:
    return None if id_map is None else format_id_map(id_map)


def write_id_map(
    pid: int,
    uid_map: IdMap | None = None,
    gid_map: IdMap | None = None,
    deny_setgroups: bool = False,
) -> None:
    """Write ``/proc/PID/uid_map``, then ``setgroups`` (``deny`` if asked),
    then ``gid_map``; each file in one write(2), as the kernel requires.

    An unprivileged writer must set ``deny_setgroups`` before it may write a
    gid_map (user_namespaces(7)). Errors name the file: ``write
    /proc/42/uid_map: Operation not permitted``.
    """
    _native.write_id_map(pid, _map_text(uid_map), _map_text(gid_map), deny_setgroups)


def spawn_in_namespaces(
    argv: Sequence[StrPath],
    flags: int = 0,
    *,
    env: Mapping[str, str] | Sequence[str] | None = None,
    uid_map: IdMap | None = None,
    gid_map: IdMap | None = None,
    deny_setgroups: bool = False,
) -> int:
    """Clone a child directly into the ``CLONE_NEW*`` namespaces of ``flags``
    and execve ``argv`` in it (``argv[0]`` is looked up in ``PATH``); return
    its pid, which the caller must reap (:func:`os.waitpid`).

    No Python runs in the child: the clone and the execve are done in Rust.
    With ``CLONE_NEWPID`` the program is pid 1 of the new namespace. With
    ``uid_map``/``gid_map`` the parent writes the child's maps before letting
    it exec (see :func:`write_id_map`). ``env`` None inherits ``os.environ``.
    The call returns once execve succeeded; a failed execve raises
    ``OSError(errno, "execve PROGRAM: ...")`` after reaping the child.
    ``CLONE_NEWTIME`` is not accepted here (it only exists for unshare).
    """
    envlist: list[str] | None
    if env is None:
        envlist = None
    elif isinstance(env, Mapping):
        envlist = [f"{k}={v}" for k, v in env.items()]
    else:
        envlist = list(env)
    return _native.spawn_in_namespaces(
        [os.fspath(a) for a in argv],
        flags,
        env=envlist,
        uid_map=_map_text(uid_map),
        gid_map=_map_text(gid_map),
        deny_setgroups=deny_setgroups,
    )


def sethostname(name: str) -> None:
    """sethostname(2) in the caller's UTS namespace."""
    _native.sethostname(name)


def setdomainname(name: str) -> None:
    """setdomainname(2) in the caller's UTS namespace."""
    _native.setdomainname(name)


# --- mounts -------------------------------------------------------------------


def mount(
    source: StrPath | None,
    target: StrPath,
    fstype: str | None = None,
    flags: int = 0,
    data: str | None = None,
) -> None:
    """mount(2) with ``MS_*`` flags; ``None`` is passed as NULL (as for
    ``MS_BIND``, ``MS_REMOUNT`` or a propagation change). Errors name the
    target: ``mount /mnt: No such device``.
    """
    _native.mount(None if source is None else os.fspath(source), os.fspath(target), fstype, flags, data)


def umount2(target: StrPath, flags: int = 0) -> None:
    """umount2(2) with ``MNT_DETACH``, ``MNT_FORCE``, ``MNT_EXPIRE`` or ``UMOUNT_NOFOLLOW``."""
    _native.umount2(os.fspath(target), flags)


def pivot_root(new_root: StrPath, put_old: StrPath) -> None:
    """pivot_root(2): make ``new_root`` (a mount point, not on a shared
    parent) the root of the caller's mount namespace and move the old root
    to ``put_old``. ``put_old`` may be ``new_root`` itself: then chdir to the
    new root and ``umount2(".", MNT_DETACH)`` drops the old one.
    """
    _native.pivot_root(os.fspath(new_root), os.fspath(put_old))


def open_tree(dirfd: int, path: StrPath, flags: int = 0) -> int:
    """open_tree(2): an fd for the mount at ``path`` (relative to ``dirfd``,
    e.g. ``AT_FDCWD``); with ``OPEN_TREE_CLONE`` a detached copy (add
    ``AT_RECURSIVE`` for submounts). Pass ``OPEN_TREE_CLOEXEC``; the caller
    closes the fd.
    """
    return _native.open_tree(dirfd, os.fspath(path), flags)


def move_mount(from_dirfd: int, from_path: StrPath, to_dirfd: int, to_path: StrPath, flags: int = 0) -> None:
    """move_mount(2): attach or move a mount. For an fd from
    :func:`open_tree` or :func:`fsmount` use ``from_path=""`` with
    ``MOVE_MOUNT_F_EMPTY_PATH``.
    """
    _native.move_mount(from_dirfd, os.fspath(from_path), to_dirfd, os.fspath(to_path), flags)


def mount_setattr(
    dirfd: int,
    path: StrPath,
    flags: int = 0,
    attr_set: int = 0,
    attr_clr: int = 0,
    propagation: int = 0,
    userns_fd: int = 0,
) -> None:
    """mount_setattr(2) (Linux 5.12): set/clear ``MOUNT_ATTR_*`` bits, change
    propagation (``MS_PRIVATE``, ``MS_SLAVE``, ``MS_SHARED``,
    ``MS_UNBINDABLE``) or idmap a mount (``MOUNT_ATTR_IDMAP`` with
    ``userns_fd``). ``flags`` takes ``AT_RECURSIVE``, ``AT_EMPTY_PATH``...
    """
    _native.mount_setattr(dirfd, os.fspath(path), flags, attr_set, attr_clr, propagation, userns_fd)


def fsopen(fsname: str, flags: int = 0) -> int:
    """fsopen(2): a filesystem context fd (``FSOPEN_CLOEXEC``); configure it
    with :func:`fsconfig`, then :func:`fsmount` it."""
    return _native.fsopen(fsname, flags)


def fsconfig(fd: int, cmd: int, key: str | None = None, value: str | None = None, aux: int = 0) -> None:
    """fsconfig(2) with a string value: ``FSCONFIG_SET_STRING``,
    ``FSCONFIG_SET_FLAG`` (no value), ``FSCONFIG_SET_PATH`` (``aux`` is the
    dirfd), ``FSCONFIG_CMD_CREATE`` (no key)."""
    _native.fsconfig(fd, cmd, key, value, aux)


def fsmount(fd: int, flags: int = 0, attr_flags: int = 0) -> int:
    """fsmount(2): a detached mount fd (``FSMOUNT_CLOEXEC``, ``MOUNT_ATTR_*``)."""
    return _native.fsmount(fd, flags, attr_flags)


# --- credentials --------------------------------------------------------------


def capget(pid: int = 0) -> CapSets:
    """The ``effective``, ``permitted``, ``inheritable``, ``bounding`` and
    ``ambient`` sets of ``pid`` (0: the calling thread) as bitmasks, bit n
    for capability n. The bounding and ambient sets of another pid come from
    ``/proc/PID/status`` (no syscall reads them)."""
    return cast(CapSets, _native.capget(pid))


def capset(effective: int, permitted: int, inheritable: int) -> None:
    """capset(2) on the calling thread (bitmasks, as :func:`capget` returns)."""
    _native.capset(effective, permitted, inheritable)


def cap_last_cap() -> int:
    """The highest capability number the running kernel knows."""
    return _native.cap_last_cap()


def drop_bounding(cap: int) -> None:
    """prctl(PR_CAPBSET_DROP): drop ``cap`` from the bounding set (needs CAP_SETPCAP)."""
    _native.drop_bounding(cap)


def set_ambient(caps: Iterable[int]) -> None:
    """Make the ambient set exactly ``caps``; each must already be permitted
    and inheritable."""
    _native.set_ambient(list(caps))


def clear_ambient() -> None:
    """prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)."""
    _native.clear_ambient()


def set_no_new_privs() -> None:
    """prctl(PR_SET_NO_NEW_PRIVS, 1): irreversible, inherited, kept over execve."""
    _native.set_no_new_privs()


def get_no_new_privs() -> bool:
    """prctl(PR_GET_NO_NEW_PRIVS)."""
    return _native.get_no_new_privs()


def set_dumpable(on: bool) -> None:
    """prctl(PR_SET_DUMPABLE); a non-dumpable process's /proc files belong to root."""
    _native.set_dumpable(on)


def get_dumpable() -> bool:
    """prctl(PR_GET_DUMPABLE)."""
    return _native.get_dumpable()


def set_pdeathsig(sig: int) -> None:
    """prctl(PR_SET_PDEATHSIG): signal sent when the parent *thread* exits (0 clears)."""
    _native.set_pdeathsig(sig)


def get_pdeathsig() -> int:
    """prctl(PR_GET_PDEATHSIG)."""
    return _native.get_pdeathsig()


def set_child_subreaper(on: bool) -> None:
    """prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants get reparented to us."""
    _native.set_child_subreaper(on)


def get_child_subreaper() -> bool:
    """prctl(PR_GET_CHILD_SUBREAPER)."""
    return _native.get_child_subreaper()


def set_keepcaps(on: bool) -> None:
    """prctl(PR_SET_KEEPCAPS): keep permitted caps when all uids leave 0."""
    _native.set_keepcaps(on)


def get_keepcaps() -> bool:
    """prctl(PR_GET_KEEPCAPS)."""
    return _native.get_keepcaps()


def setresuid(ruid: int, euid: int, suid: int) -> None:
    """setresuid(2) for the whole process; -1 leaves an id unchanged."""
    _native.setresuid(ruid, euid, suid)


def setresgid(rgid: int, egid: int, sgid: int) -> None:
    """setresgid(2) for the whole process; -1 leaves an id unchanged."""
    _native.setresgid(rgid, egid, sgid)


def setgroups(groups: Iterable[int]) -> None:
    """setgroups(2); EPERM in a user namespace whose setgroups file is ``deny``."""
    _native.setgroups(list(groups))


# --- seccomp, pidfd, fds ------------------------------------------------------


def seccomp_load_bpf(program: bytes | bytearray, flags: int = 0) -> int:
    """seccomp(SECCOMP_SET_MODE_FILTER): load a classic BPF program, the
    native-endian bytes of a ``struct sock_filter`` array (8 bytes each:
    ``struct.pack("=HBBI", code, jt, jf, k)``), on the calling thread (all
    threads with ``SECCOMP_FILTER_FLAG_TSYNC``). Needs no_new_privs or
    CAP_SYS_ADMIN. Returns 0, or the notify fd with
    ``SECCOMP_FILTER_FLAG_NEW_LISTENER``. Irreversible: use a child.
    """
    return _native.seccomp_load_bpf(bytes(program), flags)


def pidfd_open(pid: int, flags: int = 0) -> int:
    """pidfd_open(2): a close-on-exec fd referring to ``pid`` (``PIDFD_NONBLOCK``)."""
    return _native.pidfd_open(pid, flags)


def pidfd_send_signal(pidfd: int, sig: int, flags: int = 0) -> None:
    """pidfd_send_signal(2): signal the process of ``pidfd``, never a recycled pid."""
    _native.pidfd_send_signal(pidfd, sig, flags)


def close_range(first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
    """close_range(2): close (or with ``CLOSE_RANGE_CLOEXEC`` mark
    close-on-exec) every fd from ``first`` to ``last`` inclusive."""
    _native.close_range(first, last, flags)
