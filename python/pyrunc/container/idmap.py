"""User namespace id maps, written by stage 0 on the init's ``map_ids`` message.

The init cannot write its own maps with more than its single id (and root in
the parent namespace can map any range), so the parent writes
/proc/PID/{setgroups,uid_map,gid_map} for it; see user_namespaces(7).
"""
from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Sequence

from pyrunc.errors import SyscallError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is only for the checker: `create` need not import it
    from typing import Any


def format_map(mappings: Iterable[Any]) -> str:
    """``containerID hostID size`` lines; one write() must carry all of them."""
    lines = []
    for m in mappings:
        cid = _get(m, "container_id", "containerID")
        hid = _get(m, "host_id", "hostID")
        size = _get(m, "size", "size")
        lines.append(f"{cid} {hid} {size}\n")
    return "".join(lines)


def _get(m: Any, attr: str, key: str) -> int:
    if isinstance(m, dict):
        return int(m[key])
    return int(getattr(m, attr))


def _write(pid: int, name: str, data: str, field: str) -> None:
    path = f"/proc/{pid}/{name}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise SyscallError("open", e.errno or errno.EIO, f"open {path}", field, "stage0") from None
    try:
        os.write(fd, data.encode())
    except OSError as e:
        raise SyscallError("write", e.errno or errno.EIO, f"write {path} {data.strip()!r}", field,
                           "stage0") from None
    finally:
        os.close(fd)


def write_id_maps(
    pid: int,
    uid_mappings: Sequence[Any],
    gid_mappings: Sequence[Any],
    *,
    rootless: bool | None = None,
) -> None:
    """Write the maps of the user namespace of ``pid``.

    Root writes any map itself and leaves setgroups allowed, as runc does.
    A non-root caller can only map its own single id itself, after denying
    setgroups(2) (user_namespaces(7), since Linux 3.19); anything more (other
    ids, several ranges) goes through the setuid helpers newuidmap and
    newgidmap, which check /etc/subuid and /etc/subgid (runc does the same)."""
    if rootless is None:
        rootless = os.geteuid() != 0
    if not rootless:
        if uid_mappings:
            _write(pid, "uid_map", format_map(uid_mappings), "linux.uidMappings")
        if gid_mappings:
            _write(pid, "gid_map", format_map(gid_mappings), "linux.gidMappings")
        return
    helper_uid = bool(uid_mappings) and not _only_self(uid_mappings, os.geteuid())
    helper_gid = bool(gid_mappings) and not _only_self(gid_mappings, os.getegid())
    if not helper_gid and os.path.exists(f"/proc/{pid}/setgroups"):
        _write(pid, "setgroups", "deny", "linux.gidMappings")
    if helper_uid:
        _run_helper("newuidmap", pid, uid_mappings, "linux.uidMappings")
    elif uid_mappings:
        _write(pid, "uid_map", format_map(uid_mappings), "linux.uidMappings")
    if helper_gid:
        _run_helper("newgidmap", pid, gid_mappings, "linux.gidMappings")
    elif gid_mappings:
        _write(pid, "gid_map", format_map(gid_mappings), "linux.gidMappings")


def _only_self(mappings: Sequence[Any], own: int) -> bool:
    """The one map an unprivileged process may write: its own id, size 1."""
    return len(mappings) == 1 and _get(mappings[0], "host_id", "hostID") == own and \
        _get(mappings[0], "size", "size") == 1


def _run_helper(name: str, pid: int, mappings: Sequence[Any], field: str) -> None:
    """``newuidmap PID cid hid size ...``: shadow's setuid helper."""
    import shutil
    import subprocess

    path = shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.path.exists(p)), None)
    if path is None:
        raise SyscallError("execve", errno.ENOENT,
                           f"{name} not found: a rootless user namespace with more than the caller's own id "
                           "needs it (package uidmap)", field, "stage0")
    args = [str(pid)]
    for m in mappings:
        args += [str(_get(m, "container_id", "containerID")), str(_get(m, "host_id", "hostID")),
                 str(_get(m, "size", "size"))]
    r = subprocess.run([path, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SyscallError(name, errno.EPERM, f"{name} {' '.join(args)}: exit status {r.returncode}: "
                           f"{r.stderr.strip()}", field, "stage0")


# --------------------------------------------------------------------------- idmapped mounts


def userns_with_maps(uid_mappings: Sequence[Any], gid_mappings: Sequence[Any], field: str) -> int:
    """An fd of a new user namespace holding these maps. A forked child
    unshares it and waits while we write its maps and open /proc/PID/ns/user;
    the namespace outlives the child through the fd (and, after
    mount_setattr, through the mount)."""
    from pyrunc import low

    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only unshares and waits
        code = 1
        try:
            os.close(ready_r)
            os.close(done_w)
            low.unshare(low.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.read(done_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(done_r)
    try:
        if os.read(ready_r, 1) != b"1":
            raise SyscallError("unshare", errno.EPERM, "unshare CLONE_NEWUSER for an idmapped mount", field,
                               "stage0")
        _write(pid, "uid_map", format_map(uid_mappings), f"{field}.uidMappings")
        _write(pid, "gid_map", format_map(gid_mappings), f"{field}.gidMappings")
        try:
            return os.open(f"/proc/{pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            raise SyscallError("open", e.errno or errno.EIO, f"open /proc/{pid}/ns/user", field,
                               "stage0") from None
    finally:
        os.close(ready_r)
        os.close(done_w)
        os.waitpid(pid, 0)


def idmapped_clone(source: str, recursive_bind: bool, ridmap: bool, userns_fd: int, field: str) -> int:
    """open_tree(OPEN_TREE_CLONE) of ``source`` with the userns's mapping on it
    (mount_setattr(MOUNT_ATTR_IDMAP), recursively for ``ridmap``)."""
    from pyrunc import low

    flags = low.OPEN_TREE_CLONE | low.OPEN_TREE_CLOEXEC | (low.AT_RECURSIVE if recursive_bind else 0)
    try:
        fd = low.open_tree(low.AT_FDCWD, source, flags)
    except OSError as e:
        raise SyscallError("open_tree", e.errno or errno.EIO, f"open_tree {source} (OPEN_TREE_CLONE)", field,
                           "stage0") from None
    try:
        low.mount_setattr(fd, "", low.AT_EMPTY_PATH | (low.AT_RECURSIVE if ridmap else 0),
                          attr_set=low.MOUNT_ATTR_IDMAP, userns_fd=userns_fd)
    except OSError as e:
        os.close(fd)
        raise SyscallError("mount_setattr", e.errno or errno.EIO, f"idmap mount of {source} (MOUNT_ATTR_IDMAP)",
                           field, "stage0") from None
    return fd


def idmapped_mounts(plan: dict[str, Any], config: dict[str, Any], first_fd: int) -> list[int]:
    """Prepare every idmapped bind mount of the plan in stage 0 and return
    the detached mount fds to pass to the init, in order; the plan's mounts
    get ``idmap_fd`` = the number each fd will have there (``first_fd`` on).

    The mapping is the mount's uidMappings/gidMappings, or, for a bare
    ``idmap``/``ridmap``, the container's own (runc 1.2). The caller closes
    the fds once the init has them."""
    from pyrunc.spec import mountopts

    mounts = config.get("mounts") or []
    linux = config.get("linux") or {}
    out: list[int] = []
    userns_cache: dict[str, int] = {}
    try:
        for item in (plan.get("rootfs") or {}).get("mounts") or []:
            field = item.get("field", "")
            if not field.startswith("mounts[") or item.get("fstype") != "bind":
                continue
            m = mounts[int(field[len("mounts["):-1])]
            opts = mountopts.parse(list(m.get("options") or []))
            uids, gids = m.get("uidMappings") or [], m.get("gidMappings") or []
            if not (uids or opts.idmap):
                continue
            if not uids:
                uids, gids = linux.get("uidMappings") or [], linux.get("gidMappings") or []
            key = format_map(uids) + "|" + format_map(gids)
            if not uids:
                # Joining a user namespace by path: map with that one.
                path = next((ns.get("path") for ns in linux.get("namespaces") or []
                             if ns.get("type") == "user" and ns.get("path")), None)
                if not path:
                    from pyrunc.errors import SpecError

                    raise SpecError(f"{field}.options", "idmap needs uidMappings/gidMappings or a user namespace")
                key = path
                if key not in userns_cache:
                    userns_cache[key] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            elif key not in userns_cache:
                userns_cache[key] = userns_with_maps(uids, gids, field)
            out.append(idmapped_clone(item["source"], bool(item.get("flags", 0) & 0x4000), opts.ridmap,
                                       userns_cache[key], field))
            item["idmap_fd"] = first_fd + len(out) - 1
    except BaseException:
        close_fds(out)
        raise
    finally:
        close_fds(list(userns_cache.values()))
    return out


def close_fds(fds: Sequence[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
