//! Thin mount(2)-family wrappers that name the syscall and target on error.
use crate::error::{SysError, SysResult};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

fn cstr(s: &str, call: &'static str) -> SysResult<CString> {
    CString::new(s).map_err(|_| SysError::new(call, s, nix::errno::Errno::EINVAL))
}

pub fn mount(source: Option<&str>, target: &str, fstype: Option<&str>, flags: u64, data: Option<&str>) -> SysResult<()> {
    let src = source.map(|s| cstr(s, "mount")).transpose()?;
    let tgt = cstr(target, "mount")?;
    let fst = fstype.map(|s| cstr(s, "mount")).transpose()?;
    let dat = data.map(|s| cstr(s, "mount")).transpose()?;
    let p = |c: &Option<CString>| c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: valid C strings or nulls.
    let r = unsafe { libc::mount(p(&src), tgt.as_ptr(), p(&fst), flags as libc::c_ulong, p(&dat).cast()) };
    if r < 0 {
        return Err(SysError::last("mount", target));
    }
    Ok(())
}

pub fn umount2(target: &str, flags: i32) -> SysResult<()> {
    let t = cstr(target, "umount2")?;
    // SAFETY: valid C string.
    if unsafe { libc::umount2(t.as_ptr(), flags) } < 0 {
        return Err(SysError::last("umount2", target));
    }
    Ok(())
}

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// mount_setattr(fd, "", AT_EMPTY_PATH|AT_RECURSIVE) for rro, rnosuid, ...
pub fn mount_setattr_recursive(fd: &OwnedFd, set: u64, clr: u64) -> SysResult<()> {
    let attr = MountAttr { attr_set: set, attr_clr: clr, propagation: 0, userns_fd: 0 };
    const AT_RECURSIVE: u32 = 0x8000;
    // SAFETY: an O_PATH fd, empty path and a mount_attr of the announced size.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            (libc::AT_EMPTY_PATH as u32) | AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(SysError::last("mount_setattr", format!("fd {}", fd.as_raw_fd())));
    }
    Ok(())
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
            out |= ms as u64;
        }
    }
    Ok(out)
}
