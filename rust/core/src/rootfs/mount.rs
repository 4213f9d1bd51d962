//! mounts[i]: each mount made on a destination resolved inside the rootfs
//! and reached through an O_PATH fd, so a symlink planted in the image can
//! never redirect it to the host.
use super::resolve::{fd_path, mkdir_all, open_in_root, touch};
use super::sys::{mount, mount_setattr_recursive, statvfs_locked_flags};
use crate::error::{InitError, SysError};
use crate::plan::Mount;
use std::os::fd::{AsRawFd, OwnedFd};

const MS_PROPAGATION: u64 = libc::MS_SHARED | libc::MS_PRIVATE | libc::MS_SLAVE | libc::MS_UNBINDABLE;
const MS_BIND: u64 = libc::MS_BIND;
const MS_REC: u64 = libc::MS_REC;

/// The flags in runc's mountError style: `MS_BIND|MS_REC`.
pub fn flag_names(flags: u64) -> String {
    crate::low::flag_names(flags, "MS_")
}

fn describe(m: &Mount, flags: u64) -> String {
    let mut s = format!("mount src={}, dst={}, flags={}", m.source, m.destination, flag_names(flags));
    if !m.fstype.is_empty() && m.fstype != "bind" {
        s.push_str(&format!(", type={}", m.fstype));
    }
    if !m.data.is_empty() {
        s.push_str(&format!(", data={}", m.data));
    }
    s
}

pub fn mount_one(root: &OwnedFd, m: &Mount, mount_label: &str) -> Result<(), InitError> {
    let field = m.field.as_str();
    let sys = |flags: u64| move |e: SysError| InitError::sys(field, describe(m, flags), e);
    if m.flags & libc::MS_REMOUNT != 0 {
        let mounted = open_in_root(root, &m.destination, libc::O_PATH)
            .map_err(|e| InitError::sys(format!("{field}.destination"), format!("open {}", m.destination), e))?;
        return mount(None, &fd_path(&mounted), None, m.flags, None).map_err(sys(m.flags));
    }
    let is_bind = m.flags & MS_BIND != 0 || m.fstype == "bind";
    let target = if is_bind && m.dest_is_file { touch(root, &m.destination) } else { mkdir_all(root, &m.destination, 0o755) }
        .map_err(|e| InitError::sys(format!("{field}.destination"), format!("create mount destination {}", m.destination), e))?;
    let flags = m.flags & !MS_PROPAGATION;
    if is_bind {
        if let Some(fd) = m.idmap_fd {
            move_mount_fd(fd, &target)
                .map_err(|e| InitError::sys(field, format!("move idmapped mount of {} to {}", m.source, m.destination), e))?;
        } else {
            let bind = MS_BIND | (flags & MS_REC);
            mount(Some(&m.source), &fd_path(&target), None, bind, None).map_err(sys(bind))?;
        }
        let extra = flags & !(MS_BIND | MS_REC);
        if extra != 0 {
            remount_bind(root, m, extra).map_err(sys(extra | libc::MS_REMOUNT))?;
        }
    } else {
        let mut data = m.data.clone();
        if !mount_label.is_empty() && !matches!(m.fstype.as_str(), "proc" | "sysfs" | "cgroup" | "cgroup2" | "mqueue") {
            if !data.is_empty() {
                data.push(',');
            }
            data.push_str(&format!("context=\"{mount_label}\""));
        }
        let data_opt = if data.is_empty() { None } else { Some(data.as_str()) };
        let res = mount(Some(&m.source), &fd_path(&target), Some(&m.fstype), flags, data_opt);
        match res {
            // sysfs cannot be mounted in a user namespace that does not own
            // the network namespace: bind the host's instead, as runc does.
            Err(e) if m.fstype == "sysfs" && e.errno == nix::errno::Errno::EPERM => {
                mount(Some("/sys"), &fd_path(&target), None, MS_BIND | MS_REC, None).map_err(sys(MS_BIND | MS_REC))?;
                let extra = flags & (libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC);
                if extra != 0 {
                    remount_bind(root, m, extra).map_err(sys(extra))?;
                }
            }
            other => other.map_err(sys(flags))?,
        }
    }
    drop(target);
    if !m.propagation.is_empty() || m.rec_attr_set != 0 || m.rec_attr_clr != 0 {
        let mounted = open_in_root(root, &m.destination, libc::O_PATH)
            .map_err(|e| InitError::sys(field, "reopen mount", e))?;
        for &p in &m.propagation {
            mount(None, &fd_path(&mounted), None, p, None).map_err(sys(p))?;
        }
        if m.rec_attr_set != 0 || m.rec_attr_clr != 0 {
            mount_setattr_recursive(&mounted, m.rec_attr_set, m.rec_attr_clr)
                .map_err(|e| InitError::sys(field, format!("mount_setattr {} (recursive options)", m.destination), e))?;
        }
    }
    Ok(())
}

/// Attach the detached mount `fd` (made by stage 0) on `target`, then close
/// it: move_mount(2) with both ends given as fds, so no path is resolved.
fn move_mount_fd(fd: i32, target: &OwnedFd) -> Result<(), SysError> {
    const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
    // SAFETY: stage 0 passed this fd for us alone; we own and close it.
    let src = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let empty = std::path::Path::new("");
    let flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    crate::low::move_mount(src.as_raw_fd(), empty, target.as_raw_fd(), empty, flags)
        .map_err(|e| SysError { arg: format!("fd {fd}"), ..e })
}

/// Apply ro/nosuid/... to a bind mount: MS_REMOUNT|MS_BIND on the new mount.
/// Flags the kernel locked on the source (in a user namespace) must be kept.
fn remount_bind(root: &OwnedFd, m: &Mount, extra: u64) -> Result<(), SysError> {
    let mounted = open_in_root(root, &m.destination, libc::O_PATH)?;
    let flags = MS_BIND | libc::MS_REMOUNT | extra;
    match mount(None, &fd_path(&mounted), None, flags, None) {
        Err(e) if e.errno == nix::errno::Errno::EPERM => {
            let locked = statvfs_locked_flags(&mounted)?;
            mount(None, &fd_path(&mounted), None, flags | locked, None)
        }
        r => r,
    }
}
