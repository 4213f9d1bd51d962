//! The stage-0 <-> init sync protocol.
//!
//! Transport: a `SOCK_SEQPACKET` socketpair made by stage 0 (Python). One
//! datagram is one message: a UTF-8 JSON object with a `"type"` key (the wire
//! names below), at most 64 KiB. `console` and `seccomp_fd` carry exactly one
//! fd as SCM_RIGHTS. Every read names the type it expects; anything else
//! (including a stray fd) is a protocol error. The plan (see `plan.rs`) is not
//! a message: it arrives as a memfd whose number is the init's argv[1].
//!
//! ```text
//! step  direction  type            payload            meaning
//! ----  ---------  --------------  -----------------  -------------------------------------------------
//!  1    0 -> 1     go              -                  stage 1 is in the cgroup; go on
//!  2    1 -> 0     map_ids         pid                stage 1 unshared CLONE_NEWUSER: write its
//!                                                     setgroups/uid_map/gid_map (only with a new userns)
//!  3    0 -> 1     map_ids_done    -
//!  4    1 -> 0     child_pid       pid                stage 2 (the container init) was cloned with
//!                                                     CLONE_PARENT: it is stage 0's child; host pid
//!  5    0 -> 1     child_pid_ack   -                  stage 1 exits after this; stage 0 reaps it
//!  6    2 -> 0     hooks           -                  mounts are done, before pivot_root: run the
//!                                                     prestart and createRuntime hooks (create only,
//!                                                     only when plan.hooks_roundtrip)
//!  7    0 -> 2     hooks_done      state              state JSON for the hooks stage 2 runs itself
//!                                                     (createContainer, startContainer)
//!  8    2 -> 0     console         - (+ 1 fd)         process.terminal: the pty master, made in the
//!                                                     container's devpts
//!  9    0 -> 2     console_done    -
//! 10    2 -> 0     seccomp_fd      - (+ 1 fd)         a SCMP_ACT_NOTIFY listener fd (after load)
//! 11    0 -> 2     seccomp_fd_done -
//! 12    2 -> 0     ready           -                  all set up. create: stage 2 closes the socket and
//!                                                     blocks opening exec.fifo for write; exec: stage 2
//!                                                     execve()s at once, the socket is CLOEXEC so EOF
//!                                                     tells stage 0 the execve worked
//!  *    1|2 -> 0   error           InitError fields   the one failure report; the sender _exit(1)s
//!  *    1|2 -> 0   log             level, msg         fire and forget (debug, warning)
//! ```
//!
//! In `exec` mode steps 2-3 and 6-7 do not happen (the user namespace is joined,
//! never made, and hooks do not run for exec).
use crate::error::{InitError, SysError, SysResult};
use nix::errno::Errno;
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Largest message either side sends.
pub const MAX_MSG: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SyncMsg {
    Go,
    MapIds { pid: i32 },
    MapIdsDone,
    ChildPid { pid: i32 },
    ChildPidAck,
    Hooks,
    HooksDone { state: String },
    Console,
    ConsoleDone,
    SeccompFd,
    SeccompFdDone,
    Ready,
    Error(InitError),
    Log { level: String, msg: String },
}

impl SyncMsg {
    /// The wire name, for "expected X, got Y" errors.
    pub fn name(&self) -> &'static str {
        match self {
            SyncMsg::Go => "go",
            SyncMsg::MapIds { .. } => "map_ids",
            SyncMsg::MapIdsDone => "map_ids_done",
            SyncMsg::ChildPid { .. } => "child_pid",
            SyncMsg::ChildPidAck => "child_pid_ack",
            SyncMsg::Hooks => "hooks",
            SyncMsg::HooksDone { .. } => "hooks_done",
            SyncMsg::Console => "console",
            SyncMsg::ConsoleDone => "console_done",
            SyncMsg::SeccompFd => "seccomp_fd",
            SyncMsg::SeccompFdDone => "seccomp_fd_done",
            SyncMsg::Ready => "ready",
            SyncMsg::Error(_) => "error",
            SyncMsg::Log { .. } => "log",
        }
    }
}

/// Every wire name, exported to Python as `_native.SYNC_MESSAGES`.
pub const MESSAGE_NAMES: &[&str] = &[
    "go", "map_ids", "map_ids_done", "child_pid", "child_pid_ack", "hooks", "hooks_done", "console",
    "console_done", "seccomp_fd", "seccomp_fd_done", "ready", "error", "log",
];

/// One end of the socketpair, in the init.
pub struct SyncSocket {
    fd: OwnedFd,
}

impl SyncSocket {
    /// # Safety
    /// `fd` must be an open SOCK_SEQPACKET socket that nothing else owns.
    pub unsafe fn from_raw(fd: RawFd) -> Self {
        SyncSocket { fd: OwnedFd::from_raw_fd(fd) }
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn send(&self, msg: &SyncMsg) -> SysResult<()> {
        self.send_with_fd(msg, None)
    }

    /// Send a message, with one fd as SCM_RIGHTS when given.
    pub fn send_with_fd(&self, msg: &SyncMsg, fd: Option<BorrowedFd<'_>>) -> SysResult<()> {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
        let body = serde_json::to_vec(msg).map_err(|_| SysError::new("sendmsg", "sync", Errno::EINVAL))?;
        let iov = [std::io::IoSlice::new(&body)];
        let fds;
        let cmsgs: Vec<ControlMessage> = match fd {
            Some(f) => {
                fds = [f.as_raw_fd()];
                vec![ControlMessage::ScmRights(&fds)]
            }
            None => vec![],
        };
        loop {
            match sendmsg::<()>(self.raw(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(SysError::new("sendmsg", format!("sync {}", msg.name()), e)),
                Ok(_) => return Ok(()),
            }
        }
    }

    /// Read one message; EOF is reported as ECONNRESET. Rejects attached fds.
    pub fn recv(&self) -> SysResult<SyncMsg> {
        let mut buf = vec![0u8; MAX_MSG];
        let n = loop {
            match nix::sys::socket::recv(self.raw(), &mut buf, nix::sys::socket::MsgFlags::MSG_CMSG_CLOEXEC) {
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(SysError::new("recv", "sync", e)),
                Ok(0) => return Err(SysError::new("recv", "sync: stage 0 closed the socket", Errno::ECONNRESET)),
                Ok(n) => break n,
            }
        };
        serde_json::from_slice(&buf[..n]).map_err(|_| SysError::new("recv", "sync: malformed message", Errno::EPROTO))
    }

    /// Read one message and insist on its type: runc's readSync.
    pub fn expect(&self, want: &'static str) -> Result<SyncMsg, InitError> {
        let msg = self.recv()?;
        if msg.name() != want {
            return Err(InitError::msg("", format!("sync: expected {want}, got {}", msg.name())));
        }
        Ok(msg)
    }

    /// Report the one fatal error. When stage 0 is gone (after `ready` the
    /// socket is closed), stderr is the only place left to say it.
    pub fn send_error(&self, e: &InitError) {
        if self.send(&SyncMsg::Error(e.clone())).is_err() {
            eprintln!("pyrunc-init: {e}");
        }
    }

    pub fn log(&self, level: &str, msg: impl Into<String>) {
        let _ = self.send(&SyncMsg::Log { level: level.into(), msg: msg.into() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_serde_tags() {
        let msgs = [
            SyncMsg::Go,
            SyncMsg::MapIds { pid: 1 },
            SyncMsg::MapIdsDone,
            SyncMsg::ChildPid { pid: 2 },
            SyncMsg::ChildPidAck,
            SyncMsg::Hooks,
            SyncMsg::HooksDone { state: "{}".into() },
            SyncMsg::Console,
            SyncMsg::ConsoleDone,
            SyncMsg::SeccompFd,
            SyncMsg::SeccompFdDone,
            SyncMsg::Ready,
            SyncMsg::Error(InitError::msg("mounts[0]", "x")),
            SyncMsg::Log { level: "debug".into(), msg: "m".into() },
        ];
        for (m, name) in msgs.iter().zip(MESSAGE_NAMES) {
            let v: serde_json::Value = serde_json::to_value(m).unwrap();
            assert_eq!(v["type"], *name);
            assert_eq!(m.name(), *name);
            let back: SyncMsg = serde_json::from_value(v).unwrap();
            assert_eq!(&back, m);
        }
    }

    #[test]
    fn error_payload_is_flat() {
        let e = InitError { stage: "stage2".into(), syscall: "mount".into(), errno: 2, field: "mounts[1]".into(), detail: "d".into() };
        let v = serde_json::to_value(SyncMsg::Error(e)).unwrap();
        assert_eq!(v["field"], "mounts[1]");
        assert_eq!(v["errno"], 2);
    }
}
