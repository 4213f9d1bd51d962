//! createContainer and startContainer hooks, run by the init itself (they
//! execute in the container's namespaces; the path resolves where we are).
use crate::error::{InitError, SysError};
use crate::plan::Hook;
use std::ffi::CString;
use std::time::{Duration, Instant};

pub fn run_all(hooks: &[Hook], state: &str) -> Result<(), InitError> {
    for h in hooks {
        run_one(h, state)?;
    }
    Ok(())
}

fn run_one(h: &Hook, state: &str) -> Result<(), InitError> {
    let cstr = |s: &str| CString::new(s).unwrap_or_default();
    let path = cstr(&h.path);
    let args: Vec<CString> = if h.args.is_empty() { vec![cstr(&h.path)] } else { h.args.iter().map(|a| cstr(a)).collect() };
    let env: Vec<CString> = h.env.iter().map(|e| cstr(e)).collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let (r, w) = super::stage1::pipe()?;
    use std::os::fd::AsRawFd;
    // SAFETY: fork; the child only dup2s, execs or _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(InitError::sys(&h.field, "fork hook", SysError::last("fork", h.path.clone())));
    }
    if pid == 0 {
        // SAFETY: raw syscalls in the child, then exec.
        unsafe {
            libc::dup2(r.as_raw_fd(), 0);
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    drop(r);
    // The hook may not read its stdin: ignore EPIPE (SIGPIPE is default here,
    // so block it around the write).
    write_ignoring_epipe(w.as_raw_fd(), state.as_bytes());
    drop(w);
    let deadline = h.timeout.map(|t| Instant::now() + Duration::from_secs(t as u64));
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, if deadline.is_some() { libc::WNOHANG } else { 0 }) };
        if r == pid {
            break;
        }
        if r < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return Err(InitError::sys(&h.field, "wait hook", SysError::last("waitpid", h.path.clone())));
        }
        if let Some(d) = deadline {
            if Instant::now() >= d {
                // SAFETY: killing and reaping our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                return Err(InitError::msg(&h.field, format!("hook {} timed out after {}s", h.path, h.timeout.unwrap_or(0))));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    let why = if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else {
        format!("signal: {}", libc::WTERMSIG(status))
    };
    Err(InitError::msg(&h.field, format!("error running hook {}: {why}", h.path)))
}

fn write_ignoring_epipe(fd: i32, mut buf: &[u8]) {
    // SAFETY: signal mask manipulation and writes from a live buffer.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::sigprocmask(libc::SIG_BLOCK, &set, &mut old);
        while !buf.is_empty() {
            let n = libc::write(fd, buf.as_ptr().cast(), buf.len());
            if n <= 0 {
                if nix::errno::Errno::last() == nix::errno::Errno::EINTR {
                    continue;
                }
                break;
            }
            buf = &buf[n as usize..];
        }
        // Drop a pending SIGPIPE before unblocking.
        let ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::sigtimedwait(&set, &mut info, &ts);
        libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}
