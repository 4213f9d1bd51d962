//! Loading a compiled filter with seccomp(2), and probing what the running
//! kernel supports (for `features` and for early errors).
use super::profile::{ret, ACTIONS, FLAGS};
use super::Program;
use crate::error::SysError;
use nix::errno::Errno;
use std::os::fd::{FromRawFd, OwnedFd};

// linux/seccomp.h
const SET_MODE_FILTER: libc::c_ulong = 1;
const GET_ACTION_AVAIL: libc::c_ulong = 2;
pub const FLAG_TSYNC: u32 = 1 << 0;
pub const FLAG_NEW_LISTENER: u32 = 1 << 3;
pub const FLAG_TSYNC_ESRCH: u32 = 1 << 4;
pub const FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const super::bpf::Insn,
}

fn seccomp(op: libc::c_ulong, flags: u32, arg: *const libc::c_void) -> libc::c_long {
    // SAFETY: seccomp(2) only reads `arg` (a sock_fprog or a u32 here).
    unsafe { libc::syscall(libc::SYS_seccomp, op, flags as libc::c_ulong, arg) }
}

/// The flags actually passed to the kernel for `prog` plus the extra
/// `flags` (SECCOMP_FILTER_FLAG_* bits).
pub fn effective_flags(prog: &Program, flags: u32) -> u32 {
    let mut f = prog.flags | flags;
    if prog.notify {
        f |= FLAG_NEW_LISTENER;
        if f & FLAG_TSYNC != 0 {
            // The kernel refuses TSYNC with NEW_LISTENER unless a TSYNC
            // failure is reported as ESRCH (the return value is the fd).
            f |= FLAG_TSYNC_ESRCH;
        }
    } else {
        // WAIT_KILLABLE_RECV is only valid together with NEW_LISTENER
        // (EINVAL otherwise); without a notify rule it means nothing.
        f &= !FLAG_WAIT_KILLABLE_RECV;
    }
    f
}

/// Installs `prog` on the calling thread (all threads with TSYNC). Needs
/// no_new_privs or CAP_SYS_ADMIN, as the kernel requires. Returns the
/// listener fd when the filter has SCMP_ACT_NOTIFY rules. Allocates
/// nothing unless it fails.
pub fn load(prog: &Program, flags: u32) -> Result<Option<OwnedFd>, SysError> {
    let f = effective_flags(prog, flags);
    if prog.filter.is_empty() || prog.filter.len() > super::bpf::MAX_INSNS {
        return Err(SysError::new(
            "seccomp",
            "SECCOMP_SET_MODE_FILTER",
            Errno::EINVAL,
        ));
    }
    let fprog = SockFprog {
        len: prog.filter.len() as libc::c_ushort,
        filter: prog.filter.as_ptr(),
    };
    let rc = seccomp(
        SET_MODE_FILTER,
        f,
        &fprog as *const SockFprog as *const libc::c_void,
    );
    if rc < 0 {
        return Err(SysError::last(
            "seccomp",
            format!("SECCOMP_SET_MODE_FILTER flags={}", flag_names(f)),
        ));
    }
    if f & FLAG_NEW_LISTENER != 0 {
        // SAFETY: with NEW_LISTENER the kernel returns a new fd we own.
        return Ok(Some(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) }));
    }
    Ok(None)
}

fn flag_names(f: u32) -> String {
    let mut names: Vec<&str> = FLAGS
        .iter()
        .filter(|(_, b)| f & b != 0)
        .map(|(n, _)| *n)
        .collect();
    if f & FLAG_NEW_LISTENER != 0 {
        names.push("SECCOMP_FILTER_FLAG_NEW_LISTENER");
    }
    if f & FLAG_TSYNC_ESRCH != 0 {
        names.push("SECCOMP_FILTER_FLAG_TSYNC_ESRCH");
    }
    if names.is_empty() {
        "0".into()
    } else {
        names.join("|")
    }
}

/// Whether the kernel has seccomp filters (prctl(PR_GET_SECCOMP) is EINVAL
/// on kernels built without CONFIG_SECCOMP).
pub fn enabled() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer.
    let rc = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    rc >= 0
        && seccomp(
            GET_ACTION_AVAIL,
            0,
            &ret::ALLOW as *const u32 as *const libc::c_void,
        ) == 0
}

/// The spec's flags this kernel accepts. Probed as runc/libseccomp do: a
/// SET_MODE_FILTER with a NULL program fails with EFAULT once the flags
/// passed validation, and with EINVAL when a flag is unknown; nothing is
/// installed either way.
pub fn supported_flags() -> Vec<&'static str> {
    FLAGS
        .iter()
        .filter(|(_, bit)| {
            let mut f = *bit;
            if f == FLAG_WAIT_KILLABLE_RECV {
                f |= FLAG_NEW_LISTENER;
            }
            seccomp(SET_MODE_FILTER, f, std::ptr::null()) < 0 && Errno::last() == Errno::EFAULT
        })
        .map(|(n, _)| *n)
        .collect()
}

/// The spec's actions this kernel implements (SECCOMP_GET_ACTION_AVAIL).
pub fn available_actions() -> Vec<&'static str> {
    ACTIONS
        .iter()
        .filter(|(_, kind)| {
            let r = super::profile::Action {
                kind: *kind,
                data: 0,
            }
            .ret();
            seccomp(GET_ACTION_AVAIL, 0, &r as *const u32 as *const libc::c_void) == 0
        })
        .map(|(n, _)| *n)
        .collect()
}
