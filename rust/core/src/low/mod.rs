//! Raw syscall helpers behind `pyrunc.low`.
//!
//! One function per syscall (or per prctl bit), no policy: callers decide
//! ordering and cleanup. Every failure is a `SysError` naming the syscall and
//! its main argument, so Python sees `OSError(1, "pivot_root /x: Operation
//! not permitted")`. Several of these act on the calling *thread* (setns,
//! unshare, capset, seccomp without TSYNC); the man pages are linked where it
//! matters. Nothing here touches Python; `rust/src/py/low.rs` wraps it.
use crate::error::{SysError, SysResult};
use nix::errno::Errno;
use std::ffi::{CString, OsStr};
use std::fmt::Display;
use std::os::unix::ffi::OsStrExt;

pub mod consts;
pub mod creds;
pub mod mount;
pub mod ns;
pub mod proc;
pub mod spawn;

pub use consts::{flag_names, CONSTANTS};
pub use creds::*;
pub use mount::*;
pub use ns::*;
pub use proc::*;
pub use spawn::spawn_in_namespaces;

/// `Ok(ret)` or the errno of the call that just returned -1. `arg` is only
/// formatted on failure, after errno has been read.
pub(crate) fn check<T: Into<i64>>(
    ret: T,
    syscall: &'static str,
    arg: impl Display,
) -> SysResult<i64> {
    let ret: i64 = ret.into();
    if ret == -1 {
        let errno = Errno::last();
        Err(SysError::new(syscall, arg.to_string(), errno))
    } else {
        Ok(ret)
    }
}

/// EINVAL for an argument rejected before any syscall is made.
pub(crate) fn invalid(syscall: &'static str, arg: impl Into<String>) -> SysError {
    SysError::new(syscall, arg, Errno::EINVAL)
}

/// A C string for `syscall`; an interior NUL is EINVAL naming the argument.
pub(crate) fn cstr(s: impl AsRef<OsStr>, syscall: &'static str) -> SysResult<CString> {
    let s = s.as_ref();
    CString::new(s.as_bytes())
        .map_err(|_| SysError::new(syscall, s.to_string_lossy(), Errno::EINVAL))
}

/// `NULL` for `None`, the string's pointer otherwise.
pub(crate) fn opt_ptr(s: &Option<CString>) -> *const libc::c_char {
    s.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
}

/// The path to show in an error: lossy, `(null)` when absent.
pub(crate) fn show(s: Option<&OsStr>) -> String {
    s.map_or_else(
        || "(null)".to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_keeps_errno_and_arg() {
        Errno::set_raw(libc::EPERM);
        let e = check(-1i32, "pivot_root", "/x").unwrap_err();
        assert_eq!(e.to_string(), "pivot_root /x: Operation not permitted");
        assert_eq!(check(3i64, "open", "/x").unwrap(), 3);
    }

    #[test]
    fn cstr_rejects_nul() {
        let e = cstr("a\0b", "mount").unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL);
        assert_eq!(e.syscall, "mount");
    }
}
