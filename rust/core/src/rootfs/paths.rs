//! linux.maskedPaths and linux.readonlyPaths, applied after pivot_root
//! (paths then resolve in the container, whose "/" is the rootfs).
use super::sys::{mount, statvfs_locked_flags};
use crate::error::{InitError, SysError};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// An O_PATH fd of /dev/null, checked to really be the null device: an
/// image (or a racing process) that replaces it with a symlink or another
/// file would otherwise get that bound over the masked paths (CVE-2025-31133).
fn null_device() -> Result<OwnedFd, InitError> {
    // SAFETY: fixed path.
    let raw = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(InitError::sys("linux.maskedPaths", "open /dev/null", SysError::last("open", "/dev/null")));
    }
    // SAFETY: fresh fd.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(|e| InitError::sys("linux.maskedPaths", "stat /dev/null", SysError::new("fstat", "/dev/null", e)))?;
    let is_chr = st.st_mode & libc::S_IFMT == libc::S_IFCHR;
    if !is_chr || st.st_rdev != libc::makedev(1, 3) {
        return Err(InitError::msg("linux.maskedPaths", "/dev/null is not the null device (1:3); refusing to mask paths with it"));
    }
    Ok(fd)
}

pub fn mask_paths(paths: &[String]) -> Result<(), InitError> {
    if paths.is_empty() {
        return Ok(());
    }
    let null = null_device()?;
    let null_path = format!("/proc/self/fd/{}", null.as_raw_fd());
    for (i, p) in paths.iter().enumerate() {
        let field = format!("linux.maskedPaths[{i}]");
        let meta = match std::fs::symlink_metadata(p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(InitError::msg(field, format!("stat {p}: {e}"))),
        };
        let r = if meta.is_dir() {
            mount(Some("tmpfs"), p, Some("tmpfs"), libc::MS_RDONLY, None)
        } else if meta.file_type().is_symlink() {
            continue;
        } else {
            mount(Some(&null_path), p, None, libc::MS_BIND, None)
        };
        r.map_err(|e| InitError::sys(field, format!("mask {p}"), e))?;
    }
    Ok(())
}

pub fn readonly_paths(paths: &[String]) -> Result<(), InitError> {
    for (i, p) in paths.iter().enumerate() {
        let field = format!("linux.readonlyPaths[{i}]");
        if std::fs::symlink_metadata(p).is_err() {
            continue;
        }
        let rec = libc::MS_BIND | libc::MS_REC;
        mount(Some(p), p, None, rec, None).map_err(|e| InitError::sys(&field, format!("bind {p}"), e))?;
        remount_readonly(p).map_err(|e| InitError::sys(&field, format!("remount {p} read-only"), e))?;
    }
    Ok(())
}

/// MS_REMOUNT|MS_BIND|MS_RDONLY keeping the flags a user namespace locked.
pub fn remount_readonly(path: &str) -> Result<(), SysError> {
    let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
    match mount(None, path, None, flags, None) {
        Err(e) if e.errno == nix::errno::Errno::EPERM => {
            let c = std::ffi::CString::new(path).expect("path");
            // SAFETY: fixed path.
            let raw = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
            if raw < 0 {
                return Err(SysError::last("open", path));
            }
            // SAFETY: fresh fd.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            mount(None, path, None, flags | statvfs_locked_flags(&fd)?, None)
        }
        r => r,
    }
}

