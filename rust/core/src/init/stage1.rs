//! Stage 1: namespaces, id maps, then clone stage 2.
//!
//! Order (as runc's nsexec): wait for `go` (stage 0 has put us in the
//! cgroup), open every namespace path before joining any, join the user
//! namespace first, then the rest; or unshare a new user namespace and have
//! stage 0 write the maps; then unshare the other new namespaces. A new pid
//! or time namespace only applies to children, hence the clone.
use super::{die, stage2};
use crate::error::{Ctx, InitError, SysError};
use crate::low;
use crate::namespaces::{self, CLONE_NEWTIME};
use crate::plan::Plan;
use crate::sync::{SyncMsg, SyncSocket};
use nix::sched::{unshare, CloneFlags};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub fn run(plan: &Plan, sock: &SyncSocket) -> Result<(), InitError> {
    sock.expect("go")?;
    let ns = namespaces::plan(&plan.namespaces)?;
    namespaces::join_all(&ns.join)?;
    drop(ns.join);

    if ns.new_user {
        unshare(CloneFlags::CLONE_NEWUSER).ctx("unshare", "CLONE_NEWUSER")?;
        // Stage 0 writes /proc/PID/uid_map; a rootless stage 0 can only do
        // that while we are dumpable.
        set_dumpable(true);
        sock.send(&SyncMsg::MapIds { pid: std::process::id() as i32 })?;
        sock.expect("map_ids_done")?;
        set_dumpable(false);
    }
    if ns.new_user || plan.namespaces.iter().any(|n| n.kind == "user") {
        // Become root of the user namespace (the maps must contain 0).
        become_root()?;
    }
    if !ns.new_flags.is_empty() {
        unshare(ns.new_flags).ctx("unshare", format!("{:#x}", ns.new_flags.bits()))?;
    }
    if ns.new_flags.bits() & CLONE_NEWTIME != 0 {
        write_time_offsets(plan)?;
    }

    // Stage 2 must not talk on the socket before stage 0 has its pid: it
    // waits for this pipe to close (stage 1 exits after child_pid_ack).
    let (gate_r, gate_w) = pipe()?;
    // SAFETY: clone with a null stack behaves like fork; the child continues
    // on a copy of this stack and never returns from this function.
    let pid = unsafe {
        libc::syscall(libc::SYS_clone, (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize)
    };
    if pid < 0 {
        return Err(SysError::last("clone", "CLONE_PARENT").into());
    }
    if pid == 0 {
        drop(gate_w);
        wait_gate(&gate_r);
        drop(gate_r);
        match stage2::run(plan, sock) {
            Ok(never) => match never {},
            Err(e) => die(sock, e, "stage2"),
        }
    }
    drop(gate_r);
    sock.send(&SyncMsg::ChildPid { pid: pid as i32 })?;
    sock.expect("child_pid_ack")?;
    drop(gate_w);
    Ok(())
}

fn become_root() -> Result<(), InitError> {
    let arg0 = |e: SysError| SysError { arg: "0".into(), ..e };
    low::setresgid(0, 0, 0).map_err(arg0)?;
    low::setresuid(0, 0, 0).map_err(arg0)?;
    Ok(())
}

fn set_dumpable(on: bool) {
    // Best effort, as before: only /proc ownership depends on it.
    let _ = low::set_dumpable(on);
}

fn write_time_offsets(plan: &Plan) -> Result<(), InitError> {
    let mut text = String::new();
    for o in &plan.time_offsets {
        text.push_str(&format!("{} {} {}\n", o.clock, o.secs, o.nanosecs));
    }
    if text.is_empty() {
        return Ok(());
    }
    std::fs::write("/proc/self/timens_offsets", text).map_err(|e| {
        InitError::sys(
            "linux.timeOffsets",
            "write /proc/self/timens_offsets",
            SysError::new("write", "/proc/self/timens_offsets", nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0))),
        )
    })
}

pub(crate) fn pipe() -> Result<(OwnedFd, OwnedFd), InitError> {
    let mut fds = [0; 2];
    // SAFETY: a 2-int array for pipe2.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(SysError::last("pipe2", "").into());
    }
    // SAFETY: pipe2 returned two fresh fds.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn wait_gate(r: &OwnedFd) {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: reading into a live buffer.
        let n = unsafe { libc::read(r.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
        if n >= 0 || nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return;
        }
    }
}
