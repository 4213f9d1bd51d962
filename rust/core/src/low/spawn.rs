//! spawn_in_namespaces: clone(2) a child into new namespaces and execve(2)
//! an argv in it, optionally writing its id maps from the parent first.
//!
//! Why a raw clone and not fork+unshare: with clone the child itself is
//! created in the new namespaces, so with CLONE_NEWPID the exec'd program
//! is pid 1 (unshare would only move its future children). Why not glibc's
//! fork(): the caller is usually a multithreaded Python; the child must run
//! no atfork handler and no Python. Everything the child touches (program
//! path, argv, envp, fds) is built before the clone, and the child calls
//! only async-signal-safe syscalls until execve (signal-safety(7)).
//!
//! Protocol (two O_CLOEXEC pipes):
//!   child:  blocks reading one byte from `go` (EOF = parent gave up: exit 1)
//!   parent: writes uid_map / setgroups / gid_map, then one byte on `go`
//!   child:  execve; on failure writes its errno (4 bytes) on `err`, exit 127
//!   parent: reads `err`: EOF means execve succeeded (the pipe was closed on
//!           exec), 4 bytes is the errno, the child is reaped and it fails.
use super::{check, cstr, flag_names, invalid, write_id_map};
use crate::error::{SysError, SysResult};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::unistd::pipe2;
use std::ffi::{CString, OsStr, OsString};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What to run and how; `env` None inherits the caller's environment.
#[derive(Debug, Clone, Default)]
pub struct SpawnSpec {
    pub argv: Vec<OsString>,
    pub env: Option<Vec<OsString>>,
    /// CLONE_NEW* flags (no exit-signal byte: CLONE_NEWTIME needs unshare).
    pub flags: u64,
    pub uid_map: Option<String>,
    pub gid_map: Option<String>,
    pub deny_setgroups: bool,
}

/// Clones a child into the namespaces of `spec.flags`, writes its id maps
/// (if any) and lets it execve `spec.argv`. Returns the child's pid once
/// execve has succeeded; the caller reaps it. A failed execve is reported
/// as `execve <program>: <errno>` after the child has been reaped.
pub fn spawn_in_namespaces(spec: &SpawnSpec) -> SysResult<i32> {
    let argv0 = spec
        .argv
        .first()
        .ok_or_else(|| invalid("execve", "empty argv"))?;
    if spec.flags & 0xff != 0 {
        return Err(invalid("clone", flag_names(spec.flags, "CLONE_NEW")));
    }
    let env: Vec<OsString> = match &spec.env {
        Some(e) => e.clone(),
        None => std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k;
                kv.push("=");
                kv.push(v);
                kv
            })
            .collect(),
    };
    let path_var = env
        .iter()
        .find_map(|kv| kv.as_bytes().strip_prefix(b"PATH="))
        .map(OsStr::from_bytes);
    let program = resolve(argv0, path_var)?;

    let prog = cstr(&program, "execve")?;
    let argv = spec
        .argv
        .iter()
        .map(|a| cstr(a, "execve"))
        .collect::<SysResult<Vec<CString>>>()?;
    let envp = env
        .iter()
        .map(|a| cstr(a, "execve"))
        .collect::<SysResult<Vec<CString>>>()?;
    let argv_ptrs = null_terminated(&argv);
    let envp_ptrs = null_terminated(&envp);

    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| SysError::new("pipe2", "", e))?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| SysError::new("pipe2", "", e))?;
    let fds = ChildFds {
        go_r: go_r.as_raw_fd(),
        go_w: go_w.as_raw_fd(),
        err_r: err_r.as_raw_fd(),
        err_w: err_w.as_raw_fd(),
    };

    let clone_flags = (spec.flags | libc::SIGCHLD as u64) as libc::c_ulong;
    // Stack 0: the child runs on a copy of this stack, as with fork.
    let null = 0usize;
    let pid = unsafe { libc::syscall(libc::SYS_clone, clone_flags, null, null, null, null) };
    if pid == 0 {
        unsafe { child(&fds, prog.as_ptr(), argv_ptrs.as_ptr(), envp_ptrs.as_ptr()) }
    }
    drop(go_r);
    drop(err_w);
    let pid = check(pid, "clone", flag_names(spec.flags, "CLONE_NEW"))? as i32;

    if spec.uid_map.is_some() || spec.gid_map.is_some() || spec.deny_setgroups {
        if let Err(e) = write_id_map(
            pid,
            spec.uid_map.as_deref(),
            spec.gid_map.as_deref(),
            spec.deny_setgroups,
        ) {
            kill_and_reap(pid);
            return Err(e);
        }
    }
    let r = unsafe { libc::write(go_w.as_raw_fd(), b"g".as_ptr().cast(), 1) };
    if let Err(e) = check(r as i64, "write", "spawn sync pipe") {
        kill_and_reap(pid);
        return Err(e);
    }
    drop(go_w);

    let mut buf = [0u8; 4];
    let n = loop {
        let n = unsafe { libc::read(err_r.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n == -1 && Errno::last() == Errno::EINTR {
            continue;
        }
        break n;
    };
    match n {
        0 => Ok(pid),
        4 => {
            reap(pid);
            Err(SysError::new(
                "execve",
                program.to_string_lossy(),
                Errno::from_raw(i32::from_ne_bytes(buf)),
            ))
        }
        _ => {
            let e = Errno::last();
            kill_and_reap(pid);
            Err(SysError::new(
                "read",
                "spawn error pipe",
                if n < 0 { e } else { Errno::EIO },
            ))
        }
    }
}

struct ChildFds {
    go_r: i32,
    go_w: i32,
    err_r: i32,
    err_w: i32,
}

/// The child between clone and execve: raw syscalls only, no allocation, no
/// locks (another thread of the parent may have held malloc's lock).
unsafe fn child(
    fds: &ChildFds,
    prog: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> ! {
    libc::close(fds.go_w);
    libc::close(fds.err_r);
    let mut b = 0u8;
    loop {
        let n = libc::read(fds.go_r, (&mut b as *mut u8).cast(), 1);
        if n == 1 {
            break;
        }
        if n == -1 && *libc::__errno_location() == libc::EINTR {
            continue;
        }
        libc::_exit(1);
    }
    libc::close(fds.go_r);
    // CPython ignores SIGPIPE and SIGXFSZ; ignored dispositions survive
    // execve, so restore them (what subprocess's restore_signals does), and
    // give the program an empty signal mask.
    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    libc::execve(prog, argv, envp);
    let errno = *libc::__errno_location();
    libc::write(fds.err_w, (&errno as *const i32).cast(), 4);
    libc::_exit(127)
}

fn null_terminated(v: &[CString]) -> Vec<*const libc::c_char> {
    v.iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// execvp's lookup, done in the parent so the child needs no allocation.
fn resolve(argv0: &OsStr, path_var: Option<&OsStr>) -> SysResult<PathBuf> {
    if argv0.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(argv0));
    }
    if argv0.is_empty() {
        return Err(SysError::new("execve", "", Errno::ENOENT));
    }
    let path = path_var.unwrap_or(OsStr::new(DEFAULT_PATH));
    for dir in path.as_bytes().split(|&b| b == b':') {
        let dir = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(dir))
        };
        let cand = dir.join(argv0);
        let Ok(c) = CString::new(cand.as_os_str().as_bytes()) else {
            continue;
        };
        if cand.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0 {
            return Ok(cand);
        }
    }
    Err(SysError::new(
        "execve",
        argv0.to_string_lossy(),
        Errno::ENOENT,
    ))
}

fn reap(pid: i32) {
    let mut status = 0;
    while unsafe { libc::waitpid(pid, &mut status, 0) } == -1 && Errno::last() == Errno::EINTR {}
}

fn kill_and_reap(pid: i32) {
    unsafe { libc::kill(pid, libc::SIGKILL) };
    reap(pid);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(argv: &[&str]) -> SpawnSpec {
        SpawnSpec {
            argv: argv.iter().map(OsString::from).collect(),
            ..Default::default()
        }
    }

    fn wait(pid: i32) -> i32 {
        let mut status = 0;
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status));
        libc::WEXITSTATUS(status)
    }

    #[test]
    fn runs_without_namespaces() {
        let pid = spawn_in_namespaces(&spec(&["sh", "-c", "exit 7"])).unwrap();
        assert_eq!(wait(pid), 7);
    }

    #[test]
    fn missing_program_is_enoent() {
        let e = spawn_in_namespaces(&spec(&["/nonexistent/prog"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "execve /nonexistent/prog: No such file or directory"
        );
        let e = spawn_in_namespaces(&spec(&["no-such-program-pyrunc"])).unwrap_err();
        assert_eq!((e.syscall, e.errno), ("execve", Errno::ENOENT));
        assert_eq!(
            spawn_in_namespaces(&spec(&[])).unwrap_err().errno,
            Errno::EINVAL
        );
    }

    #[test]
    fn exit_signal_byte_is_rejected() {
        let mut s = spec(&["true"]);
        s.flags = 0x80;
        assert_eq!(spawn_in_namespaces(&s).unwrap_err().syscall, "clone");
    }
}
