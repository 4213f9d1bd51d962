//! Process-level helpers: seccomp filters, pidfds, close_range.
use super::{check, flag_names, invalid};
use crate::error::SysResult;

/// Size of one `struct sock_filter` { u16 code; u8 jt; u8 jf; u32 k }.
pub const SOCK_FILTER_SIZE: usize = 8;

/// Decodes a native-endian array of `struct sock_filter` (what Python's
/// `struct.pack("=HBBI", ...)` produces). Empty, ragged or over BPF_MAXINSNS
/// (4096) programs are EINVAL before the syscall.
pub fn parse_bpf(program: &[u8]) -> SysResult<Vec<libc::sock_filter>> {
    let chunks = program.chunks_exact(SOCK_FILTER_SIZE);
    if program.is_empty() || !chunks.remainder().is_empty() || chunks.len() > 4096 {
        return Err(invalid(
            "seccomp",
            format!("program of {} bytes", program.len()),
        ));
    }
    Ok(chunks
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) on the calling thread (all
/// threads with SECCOMP_FILTER_FLAG_TSYNC). Needs no_new_privs or
/// CAP_SYS_ADMIN. Returns the syscall's result: 0, or the notify fd with
/// SECCOMP_FILTER_FLAG_NEW_LISTENER (the caller owns it).
pub fn seccomp_load_bpf(program: &[u8], flags: u32) -> SysResult<i32> {
    let mut filter = parse_bpf(program)?;
    let prog = libc::sock_fprog {
        len: filter.len() as libc::c_ushort,
        filter: filter.as_mut_ptr(),
    };
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        )
    };
    let arg = format!(
        "SECCOMP_SET_MODE_FILTER {}",
        flag_names(flags.into(), "SECCOMP_FILTER_FLAG_")
    );
    check(r, "seccomp", arg).map(|r| r as i32)
}

/// pidfd_open(2) (Linux 5.3); `flags` 0 or PIDFD_NONBLOCK. Returns a
/// close-on-exec fd the caller owns.
pub fn pidfd_open(pid: i32, flags: u32) -> SysResult<i32> {
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags as libc::c_uint) };
    check(r, "pidfd_open", pid).map(|fd| fd as i32)
}

/// pidfd_send_signal(2) (Linux 5.1): a signal that cannot hit a recycled pid.
pub fn pidfd_send_signal(pidfd: i32, sig: i32, flags: u32) -> SysResult<()> {
    let null: *const libc::siginfo_t = std::ptr::null();
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd,
            sig,
            null,
            flags as libc::c_uint,
        )
    };
    check(r, "pidfd_send_signal", pidfd).map(drop)
}

/// close_range(2) (Linux 5.9): closes, or with CLOSE_RANGE_CLOEXEC marks
/// close-on-exec, every fd in `first..=last`.
pub fn close_range(first: u32, last: u32, flags: u32) -> SysResult<()> {
    let r = unsafe { libc::syscall(libc::SYS_close_range, first, last, flags as libc::c_uint) };
    check(r, "close_range", first).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn bpf_decoding() {
        let mut b = Vec::new();
        b.extend_from_slice(&0x06u16.to_ne_bytes());
        b.extend_from_slice(&[1, 2]);
        b.extend_from_slice(&0x7fff_0000u32.to_ne_bytes());
        let f = parse_bpf(&b).unwrap();
        assert_eq!(
            (f[0].code, f[0].jt, f[0].jf, f[0].k),
            (6, 1, 2, 0x7fff_0000)
        );
        assert_eq!(parse_bpf(&b[..7]).unwrap_err().errno, Errno::EINVAL);
        assert_eq!(parse_bpf(&[]).unwrap_err().syscall, "seccomp");
    }

    #[test]
    fn pidfd_of_self_and_errors() {
        let fd = pidfd_open(std::process::id() as i32, 0).unwrap();
        // Signal 0: permission and existence check only.
        pidfd_send_signal(fd, 0, 0).unwrap();
        unsafe { libc::close(fd) };
        let e = pidfd_send_signal(-1, 0, 0).unwrap_err();
        assert_eq!(e.errno, Errno::EBADF);
        assert_eq!(pidfd_open(-1, 0).unwrap_err().errno, Errno::EINVAL);
    }

    #[test]
    fn close_range_rejects_reversed_range() {
        let e = close_range(10, 5, 0).unwrap_err();
        assert_eq!(e.to_string(), "close_range 10: Invalid argument");
    }
}
