//! The init binary (`pyrunc-init <plan-fd>`): stage 1 then stage 2.
//!
//! Stage 1 joins or makes the namespaces (user first, so the parent can write
//! the id maps) and clones stage 2 with CLONE_PARENT, which makes it stage 0's
//! child and, with a new pid namespace, its pid 1. Stage 2 sets up the rootfs
//! and the process and execs the container's process.
mod console;
mod hooks;
mod lsm;
mod process;
mod stage1;
mod stage2;

use crate::error::InitError;
use crate::plan::Plan;
use crate::sync::SyncSocket;
use std::io::Read;
use std::os::fd::FromRawFd;

/// The init's entry point; returns the exit code.
pub fn main() -> i32 {
    let plan = match read_plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pyrunc-init: {e}");
            return 1;
        }
    };
    // SAFETY: stage 0 put the socket at this fd for us alone.
    let sock = unsafe { SyncSocket::from_raw(plan.sync_fd) };
    set_cloexec(plan.sync_fd);
    if let Some(fd) = plan.fifo_fd {
        set_cloexec(fd);
    }
    // Non-dumpable before anything joins the container: nothing inside may
    // ptrace us or open our /proc/PID/{exe,fd,mem} (CVE-2016-9962).
    let _ = crate::low::set_dumpable(false);
    match stage1::run(&plan, &sock) {
        Ok(()) => 0,
        Err(mut e) => {
            if e.stage.is_empty() {
                e.stage = "stage1".into();
            }
            sock.send_error(&e);
            1
        }
    }
}

fn read_plan() -> Result<Plan, String> {
    let arg = std::env::args().nth(1).ok_or("usage: pyrunc-init <plan-fd> (run by pyrunc only)")?;
    let fd: i32 = arg.parse().map_err(|_| format!("bad plan fd {arg:?}"))?;
    // SAFETY: the fd was placed for us by spawn(); we take ownership.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).map_err(|e| format!("reading plan: {e}"))?;
    Plan::from_json(&buf)
}

fn set_cloexec(fd: i32) {
    // SAFETY: fcntl on an fd number; failure is harmless here.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

/// Stage 2 runs in a cloned child and never returns: report and exit.
fn die(sock: &SyncSocket, mut e: InitError, stage: &str) -> ! {
    if e.stage.is_empty() {
        e.stage = stage.into();
    }
    sock.send_error(&e);
    // SAFETY: _exit skips atexit handlers, which belong to the parent image.
    unsafe { libc::_exit(1) }
}
