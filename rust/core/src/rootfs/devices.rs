//! /dev: the default devices and linux.devices (mknod, or bind from the
//! host inside a user namespace), the standard symlinks and /dev/ptmx.
use super::resolve::{fd_path, mkdir_all, open_in_root, split, touch};
use super::sys::mount;
use crate::error::{InitError, SysError};
use crate::plan::{Device, Rootfs};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

pub fn create_devices(root: &OwnedFd, rootfs: &Rootfs) -> Result<(), InitError> {
    for d in &rootfs.devices {
        create_device(root, d, rootfs.bind_devices)?;
    }
    Ok(())
}

fn create_device(root: &OwnedFd, d: &Device, bind: bool) -> Result<(), InitError> {
    let field = d.field.as_str();
    let (parent, name) = split(&d.path);
    let pfd = mkdir_all(root, parent, 0o755).map_err(|e| InitError::sys(field, format!("create {parent}"), e))?;
    let cname = CString::new(name).map_err(|_| InitError::msg(field, "bad device path"))?;
    // Replace whatever the image has there (not following symlinks).
    // SAFETY: dir fd and C name.
    unsafe { libc::unlinkat(pfd.as_raw_fd(), cname.as_ptr(), 0) };
    if bind {
        let target = touch(root, &d.path).map_err(|e| InitError::sys(field, format!("create {}", d.path), e))?;
        return mount(Some(&d.path), &fd_path(&target), None, libc::MS_BIND, None)
            .map_err(|e| InitError::sys(field, format!("bind device {}", d.path), e));
    }
    let kind = match d.kind.as_str() {
        "c" | "u" => libc::S_IFCHR,
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        other => return Err(InitError::msg(format!("{field}.type"), format!("unknown device type {other:?}"))),
    };
    let dev = libc::makedev(d.major as u32, d.minor as u32);
    // SAFETY: dir fd, C name, mode and device number.
    if unsafe { libc::mknodat(pfd.as_raw_fd(), cname.as_ptr(), kind | (d.file_mode & 0o7777) as libc::mode_t, dev) } < 0 {
        return Err(InitError::sys(field, format!("mknod {}", d.path), SysError::last("mknodat", d.path.clone())));
    }
    // SAFETY: dir fd and C name; AT_SYMLINK_NOFOLLOW.
    if unsafe { libc::fchownat(pfd.as_raw_fd(), cname.as_ptr(), d.uid, d.gid, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
        return Err(InitError::sys(field, format!("chown {}", d.path), SysError::last("fchownat", d.path.clone())));
    }
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx -> pts/ptmx.
pub fn dev_symlinks(root: &OwnedFd) -> Result<(), InitError> {
    let dev = open_in_root(root, "/dev", libc::O_PATH | libc::O_DIRECTORY).map_err(|e| InitError::sys("", "open /dev", e))?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if std::path::Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    for (target, name) in links {
        symlink(&dev, target, name, false)?;
    }
    symlink(&dev, "pts/ptmx", "ptmx", true)
}

fn symlink(dir: &OwnedFd, target: &str, name: &str, replace: bool) -> Result<(), InitError> {
    let t = CString::new(target).expect("target");
    let n = CString::new(name).expect("name");
    // SAFETY: dir fd and C strings.
    unsafe {
        if replace {
            libc::unlinkat(dir.as_raw_fd(), n.as_ptr(), 0);
        }
        if libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), n.as_ptr()) < 0 && nix::errno::Errno::last() != nix::errno::Errno::EEXIST {
            return Err(InitError::sys("", format!("symlink /dev/{name}"), SysError::last("symlinkat", format!("/dev/{name}"))));
        }
    }
    Ok(())
}

/// A symlink at a container path (parents created in the rootfs).
pub fn symlink_in_root(root: &OwnedFd, path: &str, target: &str) -> Result<(), SysError> {
    let (parent, name) = split(path);
    let pfd = mkdir_all(root, parent, 0o755)?;
    let t = CString::new(target).map_err(|_| SysError::new("symlinkat", path, nix::errno::Errno::EINVAL))?;
    let n = CString::new(name).map_err(|_| SysError::new("symlinkat", path, nix::errno::Errno::EINVAL))?;
    // SAFETY: dir fd and C strings.
    if unsafe { libc::symlinkat(t.as_ptr(), pfd.as_raw_fd(), n.as_ptr()) } < 0 && nix::errno::Errno::last() != nix::errno::Errno::EEXIST {
        return Err(SysError::last("symlinkat", path));
    }
    Ok(())
}
