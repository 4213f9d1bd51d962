//! Stage 0's side of starting the init: fork, arrange fds, fexecve the
//! pyrunc-init binary from a sealed memfd.
//!
//! Runs inside the Python process. After fork() only raw syscalls run in the
//! child (no allocation, no locks): the caller may have threads, and the
//! child of a multithreaded fork may only make async-signal-safe calls.
use crate::error::{SysError, SysResult};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

const F_SEAL_ALL: libc::c_int = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

fn memfd(name: &str, bytes: &[u8], seal: bool) -> SysResult<OwnedFd> {
    let cname = CString::new(name).expect("memfd name");
    let flags = libc::MFD_CLOEXEC | if seal { libc::MFD_ALLOW_SEALING } else { 0 };
    // SAFETY: a valid C string and flags.
    let raw = unsafe { libc::memfd_create(cname.as_ptr(), flags) };
    if raw < 0 {
        return Err(SysError::last("memfd_create", name));
    }
    // SAFETY: memfd_create returned a fresh fd.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut off = 0;
    while off < bytes.len() {
        // SAFETY: writing from a live slice.
        let n = unsafe { libc::write(raw, bytes[off..].as_ptr().cast(), bytes.len() - off) };
        if n < 0 {
            if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                continue;
            }
            return Err(SysError::last("write", name));
        }
        off += n as usize;
    }
    // The reader starts at the beginning (dups share this offset).
    // SAFETY: lseek on our own fd.
    unsafe { libc::lseek(raw, 0, libc::SEEK_SET) };
    if seal {
        // Sealed: nothing in a container can write through /proc/PID/exe
        // (CVE-2019-5736), and the bytes cannot change under a running init.
        // SAFETY: fcntl on our own fd.
        if unsafe { libc::fcntl(raw, libc::F_ADD_SEALS, F_SEAL_ALL) } < 0 {
            return Err(SysError::last("fcntl", "F_ADD_SEALS"));
        }
    }
    Ok(fd)
}

static INIT_FD: OnceLock<OwnedFd> = OnceLock::new();

/// The sealed memfd holding the init binary, made once per process.
fn init_fd(init_binary: &[u8]) -> SysResult<RawFd> {
    if let Some(fd) = INIT_FD.get() {
        return Ok(fd.as_raw_fd());
    }
    let fd = memfd("pyrunc-init", init_binary, true)?;
    Ok(INIT_FD.get_or_init(|| fd).as_raw_fd())
}

/// Fork and exec the init. In the child, fds 0-2 and 3..3+preserve_fds stay
/// as they are, `pass_fds[i]` becomes fd 3+preserve_fds+i, the plan (a memfd)
/// comes right after them and its number is argv[1]; every other fd is closed
/// on exec. With `stdio`, those fds become the init's 0-2 (the caller's own
/// 0-2 are left alone). Returns the child's pid.
pub fn spawn(
    init_binary: &[u8],
    plan: &[u8],
    pass_fds: &[RawFd],
    preserve_fds: u32,
    argv0: &str,
    stdio: Option<[RawFd; 3]>,
) -> SysResult<i32> {
    let exe = init_fd(init_binary)?;
    let plan_fd = memfd("pyrunc-plan", plan, false)?;
    let first = 3 + preserve_fds as RawFd;
    let plan_target = first + pass_fds.len() as RawFd;
    let end = plan_target + 1;
    let mut sources: Vec<RawFd> = pass_fds.to_vec();
    sources.push(plan_fd.as_raw_fd());
    // Then the stdio replacements, and last the init memfd: either may sit in
    // the target range, so they are moved up too (the memfd is exec'd from
    // its high copy).
    let n_placed = sources.len();
    if let Some(io) = stdio {
        sources.extend_from_slice(&io);
    }
    sources.push(exe);

    let arg0 = CString::new(argv0).map_err(|_| SysError::new("execve", "argv0", nix::errno::Errno::EINVAL))?;
    let arg1 = CString::new(plan_target.to_string()).expect("number");
    let argv = [arg0.as_ptr(), arg1.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null::<libc::c_char>()];
    let empty = CString::new("").expect("empty");
    let mut high = vec![0 as RawFd; sources.len()];

    // SAFETY: fork; the child below only makes raw syscalls on memory that
    // was prepared before the fork and then _exit()s or execs.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(SysError::last("fork", ""));
    }
    if pid > 0 {
        return Ok(pid);
    }
    // Child.
    unsafe {
        // Python ignores SIGPIPE and may block signals: the container must
        // start with default dispositions and an empty mask.
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in 1..libc::SIGRTMAX() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        // Move every source above the target range first, so that placing
        // one cannot clobber another.
        for (i, &src) in sources.iter().enumerate() {
            let h = libc::fcntl(src, libc::F_DUPFD_CLOEXEC, end);
            if h < 0 {
                libc::_exit(126);
            }
            high[i] = h;
        }
        let exe_high = high[high.len() - 1];
        for (i, &h) in high[..n_placed].iter().enumerate() {
            if libc::dup2(h, first + i as RawFd) < 0 {
                libc::_exit(126);
            }
        }
        for (i, &h) in high[n_placed..high.len() - 1].iter().enumerate() {
            if libc::dup2(h, i as RawFd) < 0 {
                libc::_exit(126);
            }
        }
        // Everything from `end` up closes on exec (CLOSE_RANGE_CLOEXEC, 5.11+);
        // fall back to marking them one by one.
        if libc::syscall(libc::SYS_close_range, end as libc::c_uint, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) < 0 {
            for fd in end..4096 {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
        libc::syscall(libc::SYS_execveat, exe_high, empty.as_ptr(), argv.as_ptr(), envp.as_ptr(), libc::AT_EMPTY_PATH);
        libc::_exit(127);
    }
}
