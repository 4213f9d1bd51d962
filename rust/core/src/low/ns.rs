//! Namespaces: unshare, setns, the UTS names and user-namespace id maps.
use super::{check, flag_names};
use crate::error::{SysError, SysResult};
use nix::errno::Errno;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::Path;

/// unshare(2). `CLONE_NEWUSER` fails with EINVAL in a multithreaded process,
/// and `CLONE_NEWPID`/`CLONE_NEWTIME` only move the caller's future children.
pub fn unshare(flags: u64) -> SysResult<()> {
    let r = unsafe { libc::unshare(flags as libc::c_int) };
    check(r, "unshare", flag_names(flags, "CLONE_NEW")).map(drop)
}

/// setns(2) on an open namespace fd or pidfd; `nstype` 0 accepts any type.
pub fn setns_fd(fd: i32, nstype: u64) -> SysResult<()> {
    let r = unsafe { libc::setns(fd, nstype as libc::c_int) };
    check(r, "setns", fd).map(drop)
}

/// setns(2) on a path like `/proc/PID/ns/net`; the fd is closed afterwards.
pub fn setns_path(path: &Path, nstype: u64) -> SysResult<()> {
    let f = OpenOptions::new()
        .read(true)
        .open(path)
        .map_err(|e| io_err("open", path.display(), &e))?;
    let r = unsafe { libc::setns(f.as_raw_fd(), nstype as libc::c_int) };
    check(r, "setns", path.display()).map(drop)
}

/// sethostname(2), in the caller's UTS namespace.
pub fn sethostname(name: &str) -> SysResult<()> {
    let r = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    check(r, "sethostname", name).map(drop)
}

/// setdomainname(2), in the caller's UTS namespace.
pub fn setdomainname(name: &str) -> SysResult<()> {
    let r = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    check(r, "setdomainname", name).map(drop)
}

/// Writes `/proc/PID/uid_map`, then `setgroups` ("deny" if asked), then
/// `gid_map`. The order matters: an unprivileged writer may only write
/// gid_map after setgroups is "deny" (user_namespaces(7), Linux 3.19,
/// CVE-2014-8989). Each file takes its whole content in one write(2), so
/// the lines are joined and written at once.
pub fn write_id_map(
    pid: i32,
    uid_map: Option<&str>,
    gid_map: Option<&str>,
    deny_setgroups: bool,
) -> SysResult<()> {
    if let Some(m) = uid_map {
        write_proc(pid, "uid_map", m)?;
    }
    if deny_setgroups {
        write_proc(pid, "setgroups", "deny")?;
    }
    if let Some(m) = gid_map {
        write_proc(pid, "gid_map", m)?;
    }
    Ok(())
}

fn write_proc(pid: i32, file: &str, content: &str) -> SysResult<()> {
    let path = format!("/proc/{pid}/{file}");
    let mut data = content.trim_end_matches('\n').to_string();
    data.push('\n');
    let mut f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| io_err("open", &path, &e))?;
    // write_all would split a short write into two, which the kernel rejects.
    match f.write(data.as_bytes()) {
        Ok(n) if n == data.len() => Ok(()),
        Ok(_) => Err(SysError::new("write", path, Errno::EIO)),
        Err(e) => Err(io_err("write", path, &e)),
    }
}

/// A std::io error (always from a syscall here) as a `SysError`.
pub(crate) fn io_err(
    syscall: &'static str,
    arg: impl std::fmt::Display,
    e: &std::io::Error,
) -> SysError {
    let errno = e.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
    SysError::new(syscall, arg.to_string(), errno)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setns_bad_fd_is_ebadf() {
        let e = setns_fd(-1, 0).unwrap_err();
        assert_eq!(
            (e.syscall, e.errno, e.arg.as_str()),
            ("setns", Errno::EBADF, "-1")
        );
    }

    #[test]
    fn setns_missing_path_names_open() {
        let e = setns_path(Path::new("/nonexistent/ns"), 0).unwrap_err();
        assert_eq!((e.syscall, e.errno), ("open", Errno::ENOENT));
        assert_eq!(
            e.to_string(),
            "open /nonexistent/ns: No such file or directory"
        );
    }

    #[test]
    fn id_map_of_missing_pid() {
        let e = write_id_map(i32::MAX, Some("0 0 1"), None, false).unwrap_err();
        assert_eq!(e.arg, format!("/proc/{}/uid_map", i32::MAX));
        assert_eq!(e.errno, Errno::ENOENT);
    }
}
