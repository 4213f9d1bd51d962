//! The rootfs code's mount(2)-family calls on `&str` paths, over the raw
//! helpers in `low::mount` (what `pyrunc.low` exposes too). Errors name the
//! syscall and target.
use crate::error::{SysError, SysResult};
use crate::low;
use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

pub fn mount(source: Option<&str>, target: &str, fstype: Option<&str>, flags: u64, data: Option<&str>) -> SysResult<()> {
    low::mount(source.map(OsStr::new), Path::new(target), fstype, flags, data)
}

pub fn umount2(target: &str, flags: i32) -> SysResult<()> {
    low::umount2(Path::new(target), flags)
}

/// mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE) for rro, rnosuid, ...
pub fn mount_setattr_recursive(fd: &OwnedFd, set: u64, clr: u64) -> SysResult<()> {
    const AT_RECURSIVE: u32 = 0x8000;
    let flags = (libc::AT_EMPTY_PATH as u32) | AT_RECURSIVE;
    low::mount_setattr(fd.as_raw_fd(), Path::new(""), flags, set, clr, 0, 0)
        .map_err(|e| SysError { arg: format!("fd {}", fd.as_raw_fd()), ..e })
}

/// The MS_* flags of the mount under `fd` that a bind remount must keep.
pub fn statvfs_locked_flags(fd: &OwnedFd) -> SysResult<u64> {
    let st = nix::sys::statvfs::fstatvfs(fd).map_err(|e| SysError::new("fstatvfs", format!("fd {}", fd.as_raw_fd()), e))?;
    use nix::sys::statvfs::FsFlags;
    let f = st.flags();
    let mut out = 0u64;
    for (ff, ms) in [
        (FsFlags::ST_RDONLY, libc::MS_RDONLY),
        (FsFlags::ST_NOSUID, libc::MS_NOSUID),
        (FsFlags::ST_NODEV, libc::MS_NODEV),
        (FsFlags::ST_NOEXEC, libc::MS_NOEXEC),
        (FsFlags::ST_NOATIME, libc::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, libc::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if f.contains(ff) {
            out |= ms;
        }
    }
    Ok(out)
}
