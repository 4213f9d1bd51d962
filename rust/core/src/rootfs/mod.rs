//! The container's root filesystem.
//!
//! `prepare` (still in the host's view, new mount namespace): propagation of
//! "/", the rootfs bound onto itself, mounts[] in order, devices, cwd.
//! `enter`: pivot_root (or MS_MOVE + chroot with --no-pivot).
//! `finalize` (inside): root read-only, readonlyPaths, maskedPaths.
pub mod devices;
pub mod mount;
pub mod paths;
pub mod resolve;
pub mod sys;

use crate::error::{InitError, SysError};
use crate::plan::Rootfs;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use sys::{mount as do_mount, umount2};

/// The rootfs, opened after it was bound onto itself.
pub struct RootFd(OwnedFd);

fn open_dir(path: &str) -> Result<OwnedFd, SysError> {
    let c = CString::new(path).map_err(|_| SysError::new("open", path, nix::errno::Errno::EINVAL))?;
    // SAFETY: valid C path.
    let raw = unsafe { libc::open(c.as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(SysError::last("open", path));
    }
    // SAFETY: fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

pub fn prepare(rootfs: &Rootfs, cwd: &str) -> Result<RootFd, InitError> {
    // Mounts made from here on must not reach the host (default rslave).
    do_mount(None, "/", None, rootfs.propagation, None)
        .map_err(|e| InitError::sys("linux.rootfsPropagation", format!("make / {}", mount::flag_names(rootfs.propagation)), e))?;
    // pivot_root needs the rootfs to be a mount point.
    let rec = libc::MS_BIND | libc::MS_REC;
    do_mount(Some(&rootfs.path), &rootfs.path, Some("bind"), rec, None)
        .map_err(|e| InitError::sys("root.path", format!("bind {} onto itself", rootfs.path), e))?;
    let root = open_dir(&rootfs.path).map_err(|e| InitError::sys("root.path", "open rootfs", e))?;
    // Devices are made with exactly their fileMode.
    // SAFETY: plain syscall.
    unsafe { libc::umask(0) };
    for m in &rootfs.mounts {
        mount::mount_one(&root, m, &rootfs.mount_label)?;
    }
    for l in &rootfs.symlinks {
        devices::symlink_in_root(&root, &l.path, &l.target)
            .map_err(|e| InitError::sys(&l.field, format!("symlink {} -> {}", l.path, l.target), e))?;
    }
    // As runc: /dev is only populated when the config mounts a /dev.
    if rootfs.mounts.iter().any(|m| m.destination.trim_end_matches('/') == "/dev") {
        devices::create_devices(&root, rootfs)?;
        devices::dev_symlinks(&root)?;
    }
    resolve::mkdir_all(&root, cwd, 0o755)
        .map_err(|e| InitError::sys("process.cwd", format!("create cwd {cwd}"), e))?;
    // SAFETY: plain syscall.
    unsafe { libc::umask(0o022) };
    Ok(RootFd(root))
}

pub fn enter(rootfs: &Rootfs, root: RootFd) -> Result<(), InitError> {
    let err = |what: &str, e: SysError| InitError::sys("root.path", what.to_string(), e);
    if rootfs.no_pivot {
        nix::unistd::fchdir(root.0.as_raw_fd()).map_err(|e| err("fchdir rootfs", SysError::new("fchdir", &rootfs.path, e)))?;
        do_mount(Some(&rootfs.path), "/", None, libc::MS_MOVE, None).map_err(|e| err("move rootfs to /", e))?;
        nix::unistd::chroot(".").map_err(|e| err("chroot", SysError::new("chroot", &rootfs.path, e)))?;
    } else {
        pivot_root(&root.0).map_err(|e| err("pivot_root", e))?;
    }
    nix::unistd::chdir("/").map_err(|e| err("chdir /", SysError::new("chdir", "/", e)))?;
    Ok(())
}

/// pivot_root(".", ".") with the old root stacked on the new one, then
/// detached: no directory for the old root is needed in the image.
fn pivot_root(new_root: &OwnedFd) -> Result<(), SysError> {
    let old_root = open_dir("/")?;
    nix::unistd::fchdir(new_root.as_raw_fd()).map_err(|e| SysError::new("fchdir", "rootfs", e))?;
    crate::low::pivot_root(Path::new("."), Path::new("."))?;
    nix::unistd::fchdir(old_root.as_raw_fd()).map_err(|e| SysError::new("fchdir", "old root", e))?;
    // The unmount must not propagate to the host.
    do_mount(None, ".", None, libc::MS_SLAVE | libc::MS_REC, None)?;
    umount2(".", libc::MNT_DETACH)?;
    Ok(())
}

pub fn finalize(rootfs: &Rootfs) -> Result<(), InitError> {
    if rootfs.readonly {
        paths::remount_readonly("/").map_err(|e| InitError::sys("root.readonly", "remount / read-only", e))?;
    }
    paths::readonly_paths(&rootfs.readonly_paths)?;
    paths::mask_paths(&rootfs.masked_paths)
}
