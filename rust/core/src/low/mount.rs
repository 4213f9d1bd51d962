//! Mounts: mount(2), umount2(2), pivot_root(2) and the fd-based mount API
//! (open_tree, move_mount, mount_setattr, fsopen/fsconfig/fsmount, Linux
//! 5.2+, mount_setattr 5.12+). libc has no wrappers for most of these, so they
//! go through syscall(2).
use super::{check, cstr, flag_names, opt_ptr, show};
use crate::error::SysResult;
use std::ffi::OsStr;
use std::path::Path;

/// mount(2). `source`, `fstype` and `data` may be absent (NULL), as for
/// MS_REMOUNT, MS_BIND or a propagation change.
pub fn mount(
    source: Option<&OsStr>,
    target: &Path,
    fstype: Option<&str>,
    flags: u64,
    data: Option<&str>,
) -> SysResult<()> {
    let src = source.map(|s| cstr(s, "mount")).transpose()?;
    let tgt = cstr(target, "mount")?;
    let fs = fstype.map(|s| cstr(s, "mount")).transpose()?;
    let dat = data.map(|s| cstr(s, "mount")).transpose()?;
    let r = unsafe {
        libc::mount(
            opt_ptr(&src),
            tgt.as_ptr(),
            opt_ptr(&fs),
            flags as libc::c_ulong,
            opt_ptr(&dat).cast(),
        )
    };
    check(r, "mount", target.display()).map(drop)
}

/// umount2(2) with `MNT_*` / `UMOUNT_NOFOLLOW` flags.
pub fn umount2(target: &Path, flags: i32) -> SysResult<()> {
    let t = cstr(target, "umount2")?;
    let r = unsafe { libc::umount2(t.as_ptr(), flags) };
    check(r, "umount2", target.display()).map(drop)
}

/// pivot_root(2). `new_root` must be a mount point not on the caller's root
/// mount and, with a shared parent, private propagation (EINVAL otherwise).
/// `put_old` may equal `new_root` (then umount2(".", MNT_DETACH) after
/// chdir(new_root)), the trick pivot_root(2) documents.
pub fn pivot_root(new_root: &Path, put_old: &Path) -> SysResult<()> {
    let n = cstr(new_root, "pivot_root")?;
    let o = cstr(put_old, "pivot_root")?;
    let r = unsafe { libc::syscall(libc::SYS_pivot_root, n.as_ptr(), o.as_ptr()) };
    check(r, "pivot_root", new_root.display()).map(drop)
}

/// open_tree(2): an O_PATH fd for the mount at `path`, or with
/// `OPEN_TREE_CLONE` a detached copy of it (add `AT_RECURSIVE` for the whole
/// subtree). The caller owns the returned fd.
pub fn open_tree(dirfd: i32, path: &Path, flags: u32) -> SysResult<i32> {
    let p = cstr(path, "open_tree")?;
    let r = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dirfd,
            p.as_ptr(),
            flags as libc::c_uint,
        )
    };
    check(r, "open_tree", path.display()).map(|fd| fd as i32)
}

/// move_mount(2): attaches (or moves) the mount at `from` onto `to`. With an
/// fd from open_tree/fsmount pass `from_path=""` and `MOVE_MOUNT_F_EMPTY_PATH`.
pub fn move_mount(
    from_dirfd: i32,
    from_path: &Path,
    to_dirfd: i32,
    to_path: &Path,
    flags: u32,
) -> SysResult<()> {
    let f = cstr(from_path, "move_mount")?;
    let t = cstr(to_path, "move_mount")?;
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from_dirfd,
            f.as_ptr(),
            to_dirfd,
            t.as_ptr(),
            flags as libc::c_uint,
        )
    };
    check(r, "move_mount", to_path.display()).map(drop)
}

/// struct mount_attr (include/uapi/linux/mount.h, MOUNT_ATTR_SIZE_VER0 = 32).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(2): changes mount attributes (`MOUNT_ATTR_*`), propagation
/// (`MS_SHARED`...) and the idmap (`MOUNT_ATTR_IDMAP` + `userns_fd`);
/// `AT_RECURSIVE` in `flags` for the subtree. Read-only this way is atomic
/// for a whole tree, unlike a loop of MS_REMOUNT|MS_BIND.
pub fn mount_setattr(
    dirfd: i32,
    path: &Path,
    flags: u32,
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
) -> SysResult<()> {
    let p = cstr(path, "mount_setattr")?;
    let mut attr = MountAttr {
        attr_set,
        attr_clr,
        propagation,
        userns_fd,
    };
    let size = std::mem::size_of::<MountAttr>();
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            p.as_ptr(),
            flags as libc::c_uint,
            &mut attr as *mut MountAttr,
            size,
        )
    };
    check(r, "mount_setattr", path.display()).map(drop)
}

/// fsopen(2): a filesystem context fd for `fsname` ("tmpfs", "proc"...).
pub fn fsopen(fsname: &str, flags: u32) -> SysResult<i32> {
    let n = cstr(fsname, "fsopen")?;
    let r = unsafe { libc::syscall(libc::SYS_fsopen, n.as_ptr(), flags as libc::c_uint) };
    check(r, "fsopen", fsname).map(|fd| fd as i32)
}

/// fsconfig(2) with a string (or no) value: `FSCONFIG_SET_FLAG`,
/// `_SET_STRING`, `_SET_PATH`, `_CMD_CREATE`... `aux` is the dirfd or fd
/// argument of the commands that take one, else 0.
pub fn fsconfig(
    fd: i32,
    cmd: u32,
    key: Option<&str>,
    value: Option<&OsStr>,
    aux: i32,
) -> SysResult<()> {
    let k = key.map(|s| cstr(s, "fsconfig")).transpose()?;
    let v = value.map(|s| cstr(s, "fsconfig")).transpose()?;
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fd,
            cmd as libc::c_uint,
            opt_ptr(&k),
            opt_ptr(&v),
            aux,
        )
    };
    // The key is what names the failing option; a command has none.
    let arg = match (key, value) {
        (Some(k), Some(_)) => format!("{k}={}", show(value)),
        (Some(k), None) => k.to_string(),
        (None, _) => format!("cmd {cmd}"),
    };
    check(r, "fsconfig", arg).map(drop)
}

/// fsmount(2): a detached mount fd from a created context; `attr_flags` are
/// `MOUNT_ATTR_*`. Attach it with move_mount.
pub fn fsmount(fd: i32, flags: u32, attr_flags: u32) -> SysResult<i32> {
    let r = unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fd,
            flags as libc::c_uint,
            attr_flags as libc::c_uint,
        )
    };
    check(r, "fsmount", flag_names(attr_flags as u64, "MOUNT_ATTR_")).map(|fd| fd as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn missing_target_names_syscall_and_path() {
        let e = umount2(Path::new("/nonexistent/x"), 0).unwrap_err();
        assert_eq!(e.syscall, "umount2");
        assert!(matches!(e.errno, Errno::ENOENT | Errno::EPERM), "{e}");
        let e = open_tree(-1, Path::new("relative"), 0).unwrap_err();
        assert_eq!(
            (e.syscall, e.errno, e.arg.as_str()),
            ("open_tree", Errno::EBADF, "relative")
        );
    }

    #[test]
    fn nul_in_path_is_einval() {
        let e = mount(None, Path::new("/a\0b"), None, 0, None).unwrap_err();
        assert_eq!((e.syscall, e.errno), ("mount", Errno::EINVAL));
    }

    #[test]
    fn fsconfig_names_key() {
        let e = fsconfig(-1, 1, Some("size"), Some(OsStr::new("1m")), 0).unwrap_err();
        // EBADF or EINVAL depending on which check the kernel makes first.
        assert_eq!((e.syscall, e.arg.as_str()), ("fsconfig", "size=1m"));
    }
}
