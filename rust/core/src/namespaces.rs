//! Namespace types, their clone flags, and joining by path.
use crate::error::{Ctx, InitError, SysError};
use crate::plan::Namespace;
use nix::fcntl::{open, OFlag};
use nix::sched::{setns, CloneFlags};
use nix::sys::stat::Mode;
use std::os::fd::{FromRawFd, OwnedFd};

/// CLONE_NEWTIME is missing from nix 0.29.
pub const CLONE_NEWTIME: i32 = 0x80;

/// The clone flag of a spec namespace type, None for an unknown type.
pub fn clone_flag(kind: &str) -> Option<CloneFlags> {
    Some(match kind {
        "pid" => CloneFlags::CLONE_NEWPID,
        "network" => CloneFlags::CLONE_NEWNET,
        "mount" => CloneFlags::CLONE_NEWNS,
        "ipc" => CloneFlags::CLONE_NEWIPC,
        "uts" => CloneFlags::CLONE_NEWUTS,
        "user" => CloneFlags::CLONE_NEWUSER,
        "cgroup" => CloneFlags::CLONE_NEWCGROUP,
        "time" => CloneFlags::from_bits_retain(CLONE_NEWTIME),
        _ => return None,
    })
}

/// The namespaces of a plan, split into what is joined and what is made.
pub struct NsPlan {
    /// Namespaces joined by path, the user namespace first, opened before any
    /// setns so that paths resolve in the caller's mount namespace.
    pub join: Vec<(OwnedFd, CloneFlags, String)>,
    /// A new user namespace is made (the parent writes the id maps).
    pub new_user: bool,
    /// The other namespaces to unshare, after the user namespace.
    pub new_flags: CloneFlags,
}

pub fn plan(namespaces: &[Namespace]) -> Result<NsPlan, InitError> {
    let mut join = Vec::new();
    let mut new_user = false;
    let mut new_flags = CloneFlags::empty();
    for ns in namespaces {
        let flag = clone_flag(&ns.kind)
            .ok_or_else(|| InitError::msg(&ns.field, format!("unknown namespace type {:?}", ns.kind)))?;
        match &ns.path {
            Some(path) if !path.is_empty() => {
                let raw = open(path.as_str(), OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
                    .ctx("open", path.clone())
                    .map_err(|e| InitError::sys(format!("{}.path", ns.field), format!("open namespace {path}"), e))?;
                // SAFETY: open returned a fresh fd that we own.
                let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                join.push((fd, flag, ns.field.clone()));
            }
            _ if flag == CloneFlags::CLONE_NEWUSER => new_user = true,
            _ => new_flags |= flag,
        }
    }
    // The user namespace is joined first: the others are owned by it.
    join.sort_by_key(|(_, f, _)| if *f == CloneFlags::CLONE_NEWUSER { 0 } else { 1 });
    Ok(NsPlan { join, new_user, new_flags })
}

/// setns() into each namespace of `join`.
pub fn join_all(join: &[(OwnedFd, CloneFlags, String)]) -> Result<(), InitError> {
    for (fd, flag, field) in join {
        setns(fd, *flag).map_err(|e| {
            InitError::sys(format!("{field}.path"), "setns", SysError::new("setns", field.clone(), e))
        })?;
    }
    Ok(())
}
