//! Stage 2: the container's init, from rootfs to execve.
//!
//! Order (as runc's standard init): rootfs mounts and devices; prestart and
//! createRuntime hooks in stage 0, createContainer hooks here; pivot_root;
//! console; hostname; sysctl; readonly and masked paths; root readonly;
//! rlimits, oom score, personality, no_new_privs; uid/gid and capabilities;
//! cwd and the executable lookup; seccomp; `ready`; then (create) block on
//! exec.fifo until `pyrunc start`, run startContainer hooks, execve.
use super::{console, hooks, lsm, process};
use crate::error::{Ctx, InitError, SysError};
use crate::plan::{Mode, Plan};
use crate::rootfs;
use crate::sync::{SyncMsg, SyncSocket};
use std::convert::Infallible;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub fn run(plan: &Plan, sock: &SyncSocket) -> Result<Infallible, InitError> {
    // A session of its own, as runc's init: the container never shares the
    // caller's controlling terminal.
    // SAFETY: plain syscall.
    if unsafe { libc::setsid() } < 0 {
        return Err(SysError::last("setsid", "").into());
    }
    let mut state = String::new();
    if plan.mode == Mode::Create {
        let rootfs = plan.rootfs.as_ref().ok_or_else(|| InitError::msg("root", "create without a rootfs"))?;
        let root = rootfs::prepare(rootfs, &plan.process.cwd)?;
        if plan.hooks_roundtrip {
            sock.send(&SyncMsg::Hooks)?;
            if let SyncMsg::HooksDone { state: s } = sock.expect("hooks_done")? {
                state = s;
            }
            hooks::run_all(&plan.create_container_hooks, &state)?;
        }
        rootfs::enter(rootfs, root)?;
    }
    if plan.process.terminal {
        let master = console::setup(plan.process.console_size.as_ref(), plan.mode == Mode::Create)?;
        sock.send_with_fd(&SyncMsg::Console, Some(std::os::fd::AsFd::as_fd(&master)))?;
        sock.expect("console_done")?;
    }
    if let Some(name) = &plan.session_keyring {
        join_session_keyring(name)?;
    }
    if plan.mode == Mode::Create {
        set_names(plan)?;
        write_sysctls(plan)?;
        let rootfs = plan.rootfs.as_ref().expect("checked above");
        rootfs::finalize(rootfs)?;
    }
    process::apply_limits(plan)?;
    // The exec labels take effect at execve; written now, while we are root
    // in the container and no seccomp filter can refuse the write (runc).
    lsm::apply(&plan.process)?;
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
    // while we still have it (as runc). With no_new_privs, load it last, after
    // the capabilities are dropped, so it filters as little of our own setup
    // as possible.
    let early = !plan.process.no_new_privileges;
    let mut listener = None;
    if early {
        listener = load_seccomp(plan)?;
    }
    let exe = process::prepare(plan)?;
    process::close_fds(3 + plan.process.preserve_fds as i32)?;
    if !early {
        listener = load_seccomp(plan)?;
    }
    if let Some(fd) = listener {
        sock.send_with_fd(&SyncMsg::SeccompFd, Some(std::os::fd::AsFd::as_fd(&fd)))?;
        sock.expect("seccomp_fd_done")?;
    }
    sock.send(&SyncMsg::Ready)?;
    if plan.mode == Mode::Create {
        // SAFETY: the socket is ours; stage 0 sees EOF and returns.
        unsafe { libc::close(sock.raw()) };
        wait_for_start(plan)?;
        hooks::run_all(&plan.start_container_hooks, &with_status(&state, "created"))?;
    }
    Err(process::exec(&exe, plan))
}

/// A session keyring of the container's own, so that containers do not
/// share the host's keys. Kernels without keyrings (ENOSYS) or that refuse
/// it in a user namespace (EACCES, EPERM) are tolerated, as by runc.
fn join_session_keyring(name: &str) -> Result<(), InitError> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    let c = std::ffi::CString::new(name).map_err(|_| InitError::msg("", "bad keyring name"))?;
    // SAFETY: keyctl with a valid C string.
    if unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, c.as_ptr()) } < 0 {
        let e = nix::errno::Errno::last();
        if !matches!(e, nix::errno::Errno::ENOSYS | nix::errno::Errno::EACCES | nix::errno::Errno::EPERM | nix::errno::Errno::EDQUOT) {
            return Err(InitError::sys("", format!("join session keyring {name}"), SysError::new("keyctl", name, e)));
        }
    }
    Ok(())
}

/// The state JSON with another status: startContainer hooks see "created"
/// (the state stage 0 sent was taken while "creating").
fn with_status(state: &str, status: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(state) {
        Ok(mut v) if v.is_object() => {
            v["status"] = serde_json::Value::from(status);
            v.to_string()
        }
        _ => state.to_string(),
    }
}

fn load_seccomp(plan: &Plan) -> Result<Option<OwnedFd>, InitError> {
    match &plan.seccomp {
        Some(filter) => process::load_seccomp(filter),
        None => Ok(None),
    }
}

fn set_names(plan: &Plan) -> Result<(), InitError> {
    if let Some(h) = &plan.hostname {
        nix::unistd::sethostname(h).ctx("sethostname", h.clone()).map_err(|e| InitError::sys("hostname", "", e))?;
    }
    if let Some(d) = &plan.domainname {
        crate::low::setdomainname(d).map_err(|e| InitError::sys("domainname", "", e))?;
    }
    Ok(())
}

fn write_sysctls(plan: &Plan) -> Result<(), InitError> {
    for s in &plan.sysctl {
        let path = format!("/proc/sys/{}", s.key.replace('.', "/"));
        std::fs::write(&path, &s.value).map_err(|e| {
            let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
            InitError::sys(&s.field, format!("write {path}"), SysError::new("write", path.clone(), errno))
        })?;
    }
    Ok(())
}

/// Block opening exec.fifo for write until `pyrunc start` opens it for
/// read, then write one byte so start knows we got through.
fn wait_for_start(plan: &Plan) -> Result<(), InitError> {
    let fd = plan.fifo_fd.ok_or_else(|| InitError::msg("", "create without exec.fifo"))?;
    let path = format!("/proc/self/fd/{fd}");
    let cpath = std::ffi::CString::new(path.clone()).expect("path");
    let raw = loop {
        // SAFETY: a valid C path.
        let r = unsafe { libc::open(cpath.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
        if r >= 0 || nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            break r;
        }
    };
    if raw < 0 {
        return Err(InitError::sys("", "open exec.fifo", SysError::last("open", path)));
    }
    // SAFETY: fresh fd from open.
    let f = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: writing one byte from a live buffer.
    if unsafe { libc::write(f.as_raw_fd(), b"0".as_ptr().cast(), 1) } < 0 {
        return Err(InitError::sys("", "write exec.fifo", SysError::last("write", "exec.fifo")));
    }
    drop(f);
    // SAFETY: closing the O_PATH fifo fd we no longer need.
    unsafe { libc::close(fd) };
    Ok(())
}
