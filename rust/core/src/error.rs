//! Errors of the syscall layer and of the init path.
//!
//! `SysError` is what every raw helper returns: the syscall, its main argument
//! and the errno. `InitError` is what the init sends to stage 0 as the single
//! `error` message before it exits; it adds the stage and the config field.
use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A failed syscall: `mount /proc: EPERM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysError {
    pub syscall: &'static str,
    pub arg: String,
    pub errno: Errno,
}

impl SysError {
    pub fn new(syscall: &'static str, arg: impl Into<String>, errno: Errno) -> Self {
        SysError { syscall, arg: arg.into(), errno }
    }
    /// The calling thread's errno after a libc call returned -1.
    pub fn last(syscall: &'static str, arg: impl Into<String>) -> Self {
        Self::new(syscall, arg, Errno::last())
    }
}

/// The C library's text for an errno ("Bad file descriptor"), as Python's
/// os.strerror and runc print it.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a static or thread-local string.
    unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }.to_string_lossy().into_owned()
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.arg.is_empty() {
            write!(f, "{}: {}", self.syscall, strerror(self.errno as i32))
        } else {
            write!(f, "{} {}: {}", self.syscall, self.arg, strerror(self.errno as i32))
        }
    }
}

impl std::error::Error for SysError {}

pub type SysResult<T> = Result<T, SysError>;

/// Adds the syscall name and argument to a nix result.
pub trait Ctx<T> {
    fn ctx(self, syscall: &'static str, arg: impl Into<String>) -> SysResult<T>;
}

impl<T> Ctx<T> for nix::Result<T> {
    fn ctx(self, syscall: &'static str, arg: impl Into<String>) -> SysResult<T> {
        self.map_err(|e| SysError::new(syscall, arg, e))
    }
}

/// The one error the init reports to stage 0 (sync message `error`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct InitError {
    /// "stage1", "stage2" or "exec".
    pub stage: String,
    /// The failing syscall, empty when the error is not a syscall's.
    pub syscall: String,
    /// errno, 0 when not a syscall error.
    pub errno: i32,
    /// The config.json field the step came from (`mounts[2]`), may be empty.
    pub field: String,
    /// What was being done: `mount proc to /proc (flags=MS_NOSUID)`.
    pub detail: String,
}

impl InitError {
    pub fn msg(field: impl Into<String>, detail: impl Into<String>) -> Self {
        InitError { field: field.into(), detail: detail.into(), ..Default::default() }
    }
    pub fn sys(field: impl Into<String>, detail: impl Into<String>, e: SysError) -> Self {
        let detail = detail.into();
        let detail = if detail.is_empty() { format!("{} {}", e.syscall, e.arg) } else { detail };
        InitError {
            stage: String::new(),
            syscall: e.syscall.to_string(),
            errno: e.errno as i32,
            field: field.into(),
            detail,
        }
    }
}

impl From<SysError> for InitError {
    fn from(e: SysError) -> Self {
        InitError::sys("", "", e)
    }
}

impl fmt::Display for InitError {
    /// `<field>: <detail>: <errno text>`, the shape the CLI prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        write!(f, "{}", self.detail)?;
        if self.errno != 0 {
            write!(f, ": {}", strerror(self.errno))?;
        }
        Ok(())
    }
}

/// Attach a config field and a description to a syscall failure.
pub trait Field<T> {
    fn field(self, field: &str, detail: impl FnOnce() -> String) -> Result<T, InitError>;
}

impl<T> Field<T> for SysResult<T> {
    fn field(self, field: &str, detail: impl FnOnce() -> String) -> Result<T, InitError> {
        self.map_err(|e| InitError::sys(field, detail(), e))
    }
}
