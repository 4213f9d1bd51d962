//! process.rlimits, applied with prlimit(2) on the init itself.
use crate::error::{Field, InitError, SysError};
use crate::plan::Rlimit;

pub fn apply_rlimits(rlimits: &[Rlimit]) -> Result<(), InitError> {
    for r in rlimits {
        let new = libc::rlimit64 { rlim_cur: r.soft, rlim_max: r.hard };
        // SAFETY: a valid rlimit64 and a null old-limit pointer.
        let rc = unsafe { libc::prlimit64(0, r.resource as _, &new, std::ptr::null_mut()) };
        let res = if rc < 0 { Err(SysError::last("prlimit", r.resource.to_string())) } else { Ok(()) };
        res.field(&r.field, || format!("setrlimit {} soft={} hard={}", r.resource, r.soft, r.hard))?;
    }
    Ok(())
}
