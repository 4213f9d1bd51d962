"""Type stubs for the native extension pyrunc._native (checked by mypy.stubtest)."""
import os
from typing import Any, Optional, Sequence, Union

# --- spawn ---
VERSION: str
SYNC_MESSAGES: list[str]
INIT_BINARY_SIZE: int

def spawn(
    plan: bytes,
    pass_fds: Sequence[int],
    preserve_fds: int = 0,
    argv0: str = "pyrunc:[1:INIT]",
    stdio: Optional[tuple[int, int, int]] = None,
) -> int:
    """Fork and fexecve the pyrunc-init binary from a sealed memfd; return stage 1's pid.

    In the child fds 0-2 and 3..3+preserve_fds-1 stay, pass_fds[i] becomes fd
    3+preserve_fds+i, the plan JSON (a memfd) follows them; every other fd is
    closed on exec. With stdio, those three fds become the init's 0-2 (this
    process's own 0-2 are not touched). See rust/core/src/plan.rs and sync.rs.
    """

# --- seccomp ---
def seccomp_compile(profile_json: str) -> bytes: ...
def seccomp_program(profile_json: str) -> str: ...
def seccomp_supported() -> bool: ...
def seccomp_supported_flags() -> list[str]: ...
def seccomp_flags() -> list[str]: ...
def seccomp_archs() -> list[str]: ...
def seccomp_info() -> dict[str, Any]: ...

# --- low ---
# Raw syscall helpers; documented in pyrunc/low.py, implemented in
# rust/src/py/low.rs over rust/core/src/low/.

_Path = Union[str, os.PathLike[str]]

LOW_CONSTANTS: dict[str, int]
CLONE_NEWNS: int
CLONE_NEWCGROUP: int
CLONE_NEWUTS: int
CLONE_NEWIPC: int
CLONE_NEWUSER: int
CLONE_NEWPID: int
CLONE_NEWNET: int
CLONE_NEWTIME: int
MS_RDONLY: int
MS_NOSUID: int
MS_NODEV: int
MS_NOEXEC: int
MS_SYNCHRONOUS: int
MS_REMOUNT: int
MS_MANDLOCK: int
MS_DIRSYNC: int
MS_NOSYMFOLLOW: int
MS_NOATIME: int
MS_NODIRATIME: int
MS_BIND: int
MS_MOVE: int
MS_REC: int
MS_SILENT: int
MS_POSIXACL: int
MS_UNBINDABLE: int
MS_PRIVATE: int
MS_SLAVE: int
MS_SHARED: int
MS_RELATIME: int
MS_I_VERSION: int
MS_STRICTATIME: int
MS_LAZYTIME: int
MNT_FORCE: int
MNT_DETACH: int
MNT_EXPIRE: int
UMOUNT_NOFOLLOW: int
AT_FDCWD: int
AT_SYMLINK_NOFOLLOW: int
AT_NO_AUTOMOUNT: int
AT_EMPTY_PATH: int
AT_RECURSIVE: int
OPEN_TREE_CLONE: int
OPEN_TREE_CLOEXEC: int
MOVE_MOUNT_F_SYMLINKS: int
MOVE_MOUNT_F_AUTOMOUNTS: int
MOVE_MOUNT_F_EMPTY_PATH: int
MOVE_MOUNT_T_SYMLINKS: int
MOVE_MOUNT_T_AUTOMOUNTS: int
MOVE_MOUNT_T_EMPTY_PATH: int
MOVE_MOUNT_SET_GROUP: int
MOVE_MOUNT_BENEATH: int
MOUNT_ATTR_RDONLY: int
MOUNT_ATTR_NOSUID: int
MOUNT_ATTR_NODEV: int
MOUNT_ATTR_NOEXEC: int
MOUNT_ATTR__ATIME: int
MOUNT_ATTR_RELATIME: int
MOUNT_ATTR_NOATIME: int
MOUNT_ATTR_STRICTATIME: int
MOUNT_ATTR_NODIRATIME: int
MOUNT_ATTR_IDMAP: int
MOUNT_ATTR_NOSYMFOLLOW: int
FSOPEN_CLOEXEC: int
FSCONFIG_SET_FLAG: int
FSCONFIG_SET_STRING: int
FSCONFIG_SET_BINARY: int
FSCONFIG_SET_PATH: int
FSCONFIG_SET_PATH_EMPTY: int
FSCONFIG_SET_FD: int
FSCONFIG_CMD_CREATE: int
FSCONFIG_CMD_RECONFIGURE: int
FSCONFIG_CMD_CREATE_EXCL: int
FSMOUNT_CLOEXEC: int
CLOSE_RANGE_UNSHARE: int
CLOSE_RANGE_CLOEXEC: int
PIDFD_NONBLOCK: int
SECCOMP_FILTER_FLAG_TSYNC: int
SECCOMP_FILTER_FLAG_LOG: int
SECCOMP_FILTER_FLAG_SPEC_ALLOW: int
SECCOMP_FILTER_FLAG_NEW_LISTENER: int
SECCOMP_FILTER_FLAG_TSYNC_ESRCH: int
SECCOMP_RET_KILL_PROCESS: int
SECCOMP_RET_KILL_THREAD: int
SECCOMP_RET_TRAP: int
SECCOMP_RET_ERRNO: int
SECCOMP_RET_USER_NOTIF: int
SECCOMP_RET_TRACE: int
SECCOMP_RET_LOG: int
SECCOMP_RET_ALLOW: int

def unshare(flags: int) -> None: ...
def setns(target: Union[int, _Path], nstype: int = 0) -> None: ...
def spawn_in_namespaces(
    argv: Sequence[_Path],
    flags: int = 0,
    *,
    env: Optional[Sequence[str]] = None,
    uid_map: Optional[str] = None,
    gid_map: Optional[str] = None,
    deny_setgroups: bool = False,
) -> int: ...
def pivot_root(new_root: _Path, put_old: _Path) -> None: ...
def mount(
    source: Optional[_Path],
    target: _Path,
    fstype: Optional[str] = None,
    flags: int = 0,
    data: Optional[str] = None,
) -> None: ...
def umount2(target: _Path, flags: int = 0) -> None: ...
def open_tree(dirfd: int, path: _Path, flags: int = 0) -> int: ...
def move_mount(from_dirfd: int, from_path: _Path, to_dirfd: int, to_path: _Path, flags: int = 0) -> None: ...
def mount_setattr(
    dirfd: int,
    path: _Path,
    flags: int = 0,
    attr_set: int = 0,
    attr_clr: int = 0,
    propagation: int = 0,
    userns_fd: int = 0,
) -> None: ...
def fsopen(fsname: str, flags: int = 0) -> int: ...
def fsconfig(fd: int, cmd: int, key: Optional[str] = None, value: Optional[str] = None, aux: int = 0) -> None: ...
def fsmount(fd: int, flags: int = 0, attr_flags: int = 0) -> int: ...
def sethostname(name: str) -> None: ...
def setdomainname(name: str) -> None: ...
def capget(pid: int = 0) -> dict[str, int]: ...
def capset(effective: int, permitted: int, inheritable: int) -> None: ...
def cap_last_cap() -> int: ...
def drop_bounding(cap: int) -> None: ...
def set_ambient(caps: Sequence[int]) -> None: ...
def clear_ambient() -> None: ...
def set_no_new_privs() -> None: ...
def get_no_new_privs() -> bool: ...
def set_dumpable(on: bool) -> None: ...
def get_dumpable() -> bool: ...
def set_pdeathsig(sig: int) -> None: ...
def get_pdeathsig() -> int: ...
def set_child_subreaper(on: bool) -> None: ...
def get_child_subreaper() -> bool: ...
def set_keepcaps(on: bool) -> None: ...
def get_keepcaps() -> bool: ...
def setresuid(ruid: int, euid: int, suid: int) -> None: ...
def setresgid(rgid: int, egid: int, sgid: int) -> None: ...
def setgroups(groups: Sequence[int]) -> None: ...
def write_id_map(
    pid: int, uid_map: Optional[str] = None, gid_map: Optional[str] = None, deny_setgroups: bool = False
) -> None: ...
def seccomp_load_bpf(program: Union[bytes, bytearray], flags: int = 0) -> int: ...
def pidfd_open(pid: int, flags: int = 0) -> int: ...
def pidfd_send_signal(pidfd: int, sig: int, flags: int = 0) -> None: ...
def close_range(first: int, last: int = 4294967295, flags: int = 0) -> None: ...
