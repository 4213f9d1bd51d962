//! Credentials: capabilities (capget/capset, bounding and ambient sets),
//! prctl bits, setresuid/setresgid/setgroups.
//!
//! capset, the bounding and ambient sets and the prctl bits act on the
//! calling *thread* (capabilities(7)); in a multithreaded process use them
//! in a child. setres[ug]id/setgroups go through glibc, which applies them to
//! every thread (nptl(7) "setxid").
use super::check;
use crate::error::{SysError, SysResult};

/// The five capability sets of a process as bitmasks (bit n = capability n).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub bounding: u64,
    pub ambient: u64,
}

/// _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
const CAP_V3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn join(d: &[CapData; 2], f: fn(&CapData) -> u32) -> u64 {
    u64::from(f(&d[0])) | (u64::from(f(&d[1])) << 32)
}

/// The capability sets of `pid` (0 = the calling thread). Effective,
/// permitted and inheritable come from capget(2) v3. The kernel has no
/// syscall reading another process's bounding or ambient set, so for the
/// caller they come from prctl(PR_CAPBSET_READ / PR_CAP_AMBIENT_IS_SET) up
/// to cap_last_cap, and for another pid from `CapBnd`/`CapAmb` of
/// /proc/PID/status.
pub fn capget(pid: i32) -> SysResult<CapSets> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid,
    };
    let mut data = [CapData::default(); 2];
    let r = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    check(r, "capget", pid)?;
    let mut sets = CapSets {
        effective: join(&data, |d| d.effective),
        permitted: join(&data, |d| d.permitted),
        inheritable: join(&data, |d| d.inheritable),
        ..CapSets::default()
    };
    if pid == 0 || pid == std::process::id() as i32 {
        for cap in 0..=cap_last_cap() {
            if prctl(libc::PR_CAPBSET_READ, cap as u64, 0, "PR_CAPBSET_READ")? == 1 {
                sets.bounding |= 1 << cap;
            }
            if prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_IS_SET as u64,
                cap as u64,
                "PR_CAP_AMBIENT_IS_SET",
            )? == 1
            {
                sets.ambient |= 1 << cap;
            }
        }
    } else {
        let path = format!("/proc/{pid}/status");
        let status =
            std::fs::read_to_string(&path).map_err(|e| super::ns::io_err("open", &path, &e))?;
        sets.bounding = status_mask(&status, "CapBnd:");
        sets.ambient = status_mask(&status, "CapAmb:");
    }
    Ok(sets)
}

fn status_mask(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0)
}

/// The highest capability number the running kernel knows.
pub fn cap_last_cap() -> u32 {
    if let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap") {
        if let Ok(n) = s.trim().parse() {
            return n;
        }
    }
    // No /proc (e.g. after pivot_root): PR_CAPBSET_READ is EINVAL past the last cap.
    (0..64u32)
        .take_while(
            |&c| unsafe { libc::prctl(libc::PR_CAPBSET_READ, c as libc::c_ulong, 0, 0, 0) } >= 0,
        )
        .last()
        .unwrap_or(0)
}

/// capset(2) v3 on the calling thread.
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> SysResult<()> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let word = |v: u64, i: u32| (v >> (32 * i)) as u32;
    let data: [CapData; 2] = [0, 1].map(|i| CapData {
        effective: word(effective, i),
        permitted: word(permitted, i),
        inheritable: word(inheritable, i),
    });
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    check(
        r,
        "capset",
        format!("effective={effective:#x} permitted={permitted:#x} inheritable={inheritable:#x}"),
    )
    .map(drop)
}

/// prctl(PR_CAPBSET_DROP, cap): needs CAP_SETPCAP in the effective set.
pub fn drop_bounding(cap: u32) -> SysResult<()> {
    prctl(libc::PR_CAPBSET_DROP, cap.into(), 0, "PR_CAPBSET_DROP").map(drop)
}

/// Makes the ambient set exactly `caps`: clears it, then raises each one.
/// Each must be in the permitted and inheritable sets (EPERM otherwise).
pub fn set_ambient(caps: &[u32]) -> SysResult<()> {
    clear_ambient()?;
    for &cap in caps {
        let raise = libc::PR_CAP_AMBIENT_RAISE as u64;
        prctl(
            libc::PR_CAP_AMBIENT,
            raise,
            cap.into(),
            "PR_CAP_AMBIENT_RAISE",
        )
        .map_err(|e| SysError {
            arg: format!("PR_CAP_AMBIENT_RAISE {cap}"),
            ..e
        })?;
    }
    Ok(())
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL).
pub fn clear_ambient() -> SysResult<()> {
    prctl(
        libc::PR_CAP_AMBIENT,
        libc::PR_CAP_AMBIENT_CLEAR_ALL as u64,
        0,
        "PR_CAP_AMBIENT_CLEAR_ALL",
    )
    .map(drop)
}

/// prctl(option, a, b, 0, 0); the error argument is the option's name.
fn prctl(option: libc::c_int, a: u64, b: u64, name: &'static str) -> SysResult<i64> {
    let r = unsafe {
        libc::prctl(
            option,
            a as libc::c_ulong,
            b as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    check(r, "prctl", name)
}

/// PR_SET_NO_NEW_PRIVS: one way, inherited by children, kept across execve.
pub fn set_no_new_privs() -> SysResult<()> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, "PR_SET_NO_NEW_PRIVS").map(drop)
}

pub fn get_no_new_privs() -> SysResult<bool> {
    prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, "PR_GET_NO_NEW_PRIVS").map(|r| r == 1)
}

/// PR_SET_DUMPABLE: a non-dumpable process's /proc files are owned by root,
/// which is why runc's init stays non-dumpable until execve.
pub fn set_dumpable(on: bool) -> SysResult<()> {
    prctl(libc::PR_SET_DUMPABLE, on.into(), 0, "PR_SET_DUMPABLE").map(drop)
}

pub fn get_dumpable() -> SysResult<bool> {
    prctl(libc::PR_GET_DUMPABLE, 0, 0, "PR_GET_DUMPABLE").map(|r| r == 1)
}

/// PR_SET_PDEATHSIG: the signal this thread gets when its parent *thread*
/// exits; cleared on fork and on set-id execve.
pub fn set_pdeathsig(sig: i32) -> SysResult<()> {
    prctl(libc::PR_SET_PDEATHSIG, sig as u64, 0, "PR_SET_PDEATHSIG").map(drop)
}

pub fn get_pdeathsig() -> SysResult<i32> {
    let mut sig: libc::c_int = 0;
    let p = &mut sig as *mut libc::c_int as u64;
    prctl(libc::PR_GET_PDEATHSIG, p, 0, "PR_GET_PDEATHSIG")?;
    Ok(sig)
}

/// PR_SET_CHILD_SUBREAPER: orphaned descendants are reparented to us.
pub fn set_child_subreaper(on: bool) -> SysResult<()> {
    prctl(
        libc::PR_SET_CHILD_SUBREAPER,
        on.into(),
        0,
        "PR_SET_CHILD_SUBREAPER",
    )
    .map(drop)
}

pub fn get_child_subreaper() -> SysResult<bool> {
    let mut v: libc::c_int = 0;
    let p = &mut v as *mut libc::c_int as u64;
    prctl(libc::PR_GET_CHILD_SUBREAPER, p, 0, "PR_GET_CHILD_SUBREAPER")?;
    Ok(v != 0)
}

/// PR_SET_KEEPCAPS: keep the permitted set across a setuid away from 0.
pub fn set_keepcaps(on: bool) -> SysResult<()> {
    prctl(libc::PR_SET_KEEPCAPS, on.into(), 0, "PR_SET_KEEPCAPS").map(drop)
}

pub fn get_keepcaps() -> SysResult<bool> {
    prctl(libc::PR_GET_KEEPCAPS, 0, 0, "PR_GET_KEEPCAPS").map(|r| r == 1)
}

/// setresuid(2); `u32::MAX` (-1) leaves an id unchanged.
pub fn setresuid(ruid: u32, euid: u32, suid: u32) -> SysResult<()> {
    let r = unsafe { libc::setresuid(ruid, euid, suid) };
    check(r, "setresuid", format!("{ruid} {euid} {suid}")).map(drop)
}

/// setresgid(2); `u32::MAX` (-1) leaves an id unchanged.
pub fn setresgid(rgid: u32, egid: u32, sgid: u32) -> SysResult<()> {
    let r = unsafe { libc::setresgid(rgid, egid, sgid) };
    check(r, "setresgid", format!("{rgid} {egid} {sgid}")).map(drop)
}

/// setgroups(2). In a user namespace it is EPERM while
/// /proc/self/setgroups is "deny".
pub fn setgroups(groups: &[u32]) -> SysResult<()> {
    let r = unsafe { libc::setgroups(groups.len(), groups.as_ptr()) };
    let arg = groups
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    check(
        r,
        "setgroups",
        if arg.is_empty() {
            "[]".to_string()
        } else {
            arg
        },
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn own_caps_are_consistent() {
        let s = capget(0).unwrap();
        // The effective set is always a subset of the permitted set.
        assert_eq!(s.effective & !s.permitted, 0);
        let last = cap_last_cap();
        assert!((30..64).contains(&last));
        assert_eq!(s.bounding >> (last + 1), 0);
        // Another pid goes through /proc/PID/status.
        let parent = capget(unsafe { libc::getppid() }).unwrap();
        assert_eq!(parent.effective & !parent.permitted, 0);
        assert_ne!(parent.bounding, 0);
    }

    #[test]
    fn capget_of_missing_pid_is_esrch() {
        let e = capget(i32::MAX).unwrap_err();
        assert_eq!((e.syscall, e.errno), ("capget", Errno::ESRCH));
    }

    #[test]
    fn status_mask_parses_hex() {
        assert_eq!(
            status_mask("CapInh:\t0\nCapBnd:\t000001ffffffffff\n", "CapBnd:"),
            0x1ff_ffff_ffff
        );
        assert_eq!(status_mask("", "CapAmb:"), 0);
    }
}
