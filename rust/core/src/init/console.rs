//! process.terminal: a pty from the container's own devpts.
//!
//! The master is opened from /dev/ptmx inside the container (after
//! pivot_root or setns), so the slave lives in the container's devpts and
//! `tty` shows the right device. The slave is obtained with TIOCGPTPEER,
//! never by path, so a process in the container cannot swap it
//! (CVE-2025-52565); /dev/console is bound to it through its fd.
use crate::error::{InitError, SysError};
use crate::plan::ConsoleSize;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const TIOCGPTPEER: libc::c_ulong = 0x5441;

pub fn setup(size: Option<&ConsoleSize>, bind_console: bool) -> Result<OwnedFd, InitError> {
    let err = |what: &str, e: SysError| InitError::sys("process.terminal", what.to_string(), e);
    // SAFETY: opening a fixed path.
    let raw = unsafe { libc::open(c"/dev/ptmx".as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(err("open /dev/ptmx", SysError::last("open", "/dev/ptmx")));
    }
    // SAFETY: fresh fd.
    let master = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut unlock: libc::c_int = 0;
    // SAFETY: ioctls on our pty master with valid arguments.
    unsafe {
        if libc::ioctl(raw, libc::TIOCSPTLCK, &mut unlock) < 0 {
            return Err(err("unlockpt", SysError::last("ioctl", "TIOCSPTLCK")));
        }
        if let Some(s) = size {
            let ws = libc::winsize { ws_row: s.height, ws_col: s.width, ws_xpixel: 0, ws_ypixel: 0 };
            libc::ioctl(raw, libc::TIOCSWINSZ, &ws);
        }
    }
    // SAFETY: TIOCGPTPEER returns a new fd for the slave.
    let slave_raw = unsafe { libc::ioctl(raw, TIOCGPTPEER as _, libc::O_RDWR | libc::O_NOCTTY) };
    if slave_raw < 0 {
        return Err(err("open pty peer", SysError::last("ioctl", "TIOCGPTPEER")));
    }
    // SAFETY: fresh fd.
    let slave = unsafe { OwnedFd::from_raw_fd(slave_raw) };
    if bind_console {
        bind_dev_console(&slave)?;
    }
    // SAFETY: making the slave our stdio and controlling terminal.
    unsafe {
        for fd in 0..3 {
            if libc::dup2(slave.as_raw_fd(), fd) < 0 {
                return Err(err("dup2 pty", SysError::last("dup2", fd.to_string())));
            }
        }
        if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
            return Err(err("set controlling terminal", SysError::last("ioctl", "TIOCSCTTY")));
        }
    }
    Ok(master)
}

/// Bind the pty slave over /dev/console (created as an empty file if missing).
fn bind_dev_console(slave: &OwnedFd) -> Result<(), InitError> {
    let err = |e: SysError| InitError::sys("process.terminal", "bind /dev/console", e);
    // SAFETY: creating a file at a fixed path; ignore EEXIST.
    let fd = unsafe { libc::open(c"/dev/console".as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY, 0o600) };
    if fd >= 0 {
        // SAFETY: our fd.
        unsafe { libc::close(fd) };
    }
    let src = format!("/proc/self/fd/{}", slave.as_raw_fd());
    crate::rootfs::sys::mount(Some(&src), "/dev/console", None, libc::MS_BIND, None).map_err(err)
}
