//! process.apparmorProfile and process.selinuxLabel: the label the process
//! gets at execve, written to its /proc attr "exec" file.
//!
//! The attr file must be procfs's own. A container image or a mount can make
//! /proc a symlink or put another filesystem over it, and a write meant for
//! the LSM would then land somewhere harmless while the process runs
//! unconfined (CVE-2019-16884, CVE-2023-27561). So /proc is opened without
//! following a symlink, the path below it is resolved with openat2 never
//! crossing a mount nor following a magic link, and every fd on the way is
//! checked with fstatfs to be on procfs (PROC_SUPER_MAGIC).
//!
//! Stage 0 (pyrunc/lsm.py) has already refused an AppArmor profile on a host
//! without AppArmor and dropped an SELinux label where SELinux is disabled,
//! so whatever reaches the init is meant to be applied.
use crate::error::{InitError, SysError, SysResult};
use crate::plan::Process;
use nix::errno::Errno;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// statfs(2): the f_type of procfs.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;

const RESOLVE_NO_XDEV: u64 = 0x01;
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// Apply both labels; called in stage 2 while the process is still root in
/// the container and before seccomp is loaded (as runc's ApplyProfile and
/// SetExecLabel): the kernel only uses the exec attr at the next execve.
pub fn apply(p: &Process) -> Result<(), InitError> {
    if !p.apparmor_profile.is_empty() {
        apply_apparmor("/proc", &p.apparmor_profile)?;
    }
    if !p.selinux_label.is_empty() {
        write_attr("/proc", "thread-self/attr/exec", &p.selinux_label)
            .map_err(|e| failed("process.selinuxLabel", format!("set exec label {:?}", p.selinux_label), e))?;
    }
    Ok(())
}

/// AppArmor's own attr dir (Linux 5.1+, where LSMs may stack), else the
/// shared one; the value is "exec <profile>" (change_onexec).
fn apply_apparmor(proc: &str, profile: &str) -> Result<(), InitError> {
    let value = format!("exec {profile}");
    let res = match write_attr(proc, "thread-self/attr/apparmor/exec", &value) {
        Err(e) if e.errno == Errno::ENOENT => write_attr(proc, "thread-self/attr/exec", &value),
        r => r,
    };
    res.map_err(|e| failed("process.apparmorProfile", format!("apply apparmor profile {profile:?}"), e))
}

/// The error with the syscall and the path it was on, which matter here.
fn failed(field: &str, what: String, e: SysError) -> InitError {
    let detail = format!("{what}: {} {}", e.syscall, e.arg);
    InitError::sys(field, detail, e)
}

/// fstatfs: Ok when `fd` is on procfs, EXDEV-style error naming `what` otherwise.
pub fn check_procfs(fd: &OwnedFd, what: &str) -> SysResult<()> {
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a live fd and a statfs buffer.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), &mut st) } < 0 {
        return Err(SysError::last("fstatfs", what));
    }
    if st.f_type as i64 != PROC_SUPER_MAGIC {
        return Err(SysError::new("fstatfs", format!("{what} is not on procfs (f_type {:#x})", st.f_type), Errno::EXDEV));
    }
    Ok(())
}

fn cpath(s: &str, call: &'static str) -> SysResult<CString> {
    CString::new(s).map_err(|_| SysError::new(call, s, Errno::EINVAL))
}

/// Open `proc` itself: a directory, not through a symlink, on procfs.
fn open_proc_root(proc: &str) -> SysResult<OwnedFd> {
    let c = cpath(proc, "open")?;
    // SAFETY: a valid C path.
    let raw = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(SysError::last("open", proc));
    }
    // SAFETY: fresh fd.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    check_procfs(&fd, proc)?;
    Ok(fd)
}

/// Open `rel` below the proc fd for writing, staying on that one mount.
fn open_attr(root: &OwnedFd, rel: &str, shown: &str) -> SysResult<OwnedFd> {
    let c = cpath(rel, "openat2")?;
    let how = OpenHow {
        flags: (libc::O_WRONLY | libc::O_CLOEXEC) as u64,
        mode: 0,
        // thread-self is an ordinary symlink inside procfs; the per-fd and
        // per-exe magic links are what an attacker would use.
        resolve: RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
    };
    loop {
        // SAFETY: a valid C path and an open_how of the announced size.
        let r = unsafe {
            libc::syscall(libc::SYS_openat2, root.as_raw_fd(), c.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>())
        };
        if r >= 0 {
            // SAFETY: fresh fd.
            return Ok(unsafe { OwnedFd::from_raw_fd(r as i32) });
        }
        match Errno::last() {
            Errno::EAGAIN | Errno::EINTR => continue,
            // Before Linux 5.6: a plain openat; fstatfs below still checks it.
            Errno::ENOSYS => break,
            e => return Err(SysError::new("openat2", shown, e)),
        }
    }
    // SAFETY: a valid C path relative to a live dir fd.
    let r = unsafe { libc::openat(root.as_raw_fd(), c.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW) };
    if r < 0 {
        return Err(SysError::last("openat", shown));
    }
    // SAFETY: fresh fd.
    Ok(unsafe { OwnedFd::from_raw_fd(r) })
}

/// Write `value` to `<proc>/<rel>` with every check above, in one write(2)
/// as the LSMs require.
pub fn write_attr(proc: &str, rel: &str, value: &str) -> SysResult<()> {
    let shown = format!("{}/{rel}", proc.trim_end_matches('/'));
    let root = open_proc_root(proc)?;
    let fd = open_attr(&root, rel, &shown)?;
    check_procfs(&fd, &shown)?;
    loop {
        // SAFETY: writing from a live buffer.
        let n = unsafe { libc::write(fd.as_raw_fd(), value.as_ptr().cast(), value.len()) };
        if n >= 0 {
            if n as usize != value.len() {
                return Err(SysError::new("write", format!("{shown}: short write"), Errno::EIO));
            }
            return Ok(());
        }
        if Errno::last() != Errno::EINTR {
            return Err(SysError::last("write", shown));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A directory on tmpfs (/dev/shm) laid out like /proc.
    fn fake_proc(name: &str) -> PathBuf {
        let dir = PathBuf::from(format!("/dev/shm/pyrunc-lsm-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("thread-self/attr/apparmor")).unwrap();
        std::fs::write(dir.join("thread-self/attr/exec"), "").unwrap();
        std::fs::write(dir.join("thread-self/attr/apparmor/exec"), "").unwrap();
        dir
    }

    fn on_tmpfs() -> bool {
        nix::sys::statfs::statfs("/dev/shm").map(|s| s.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC).unwrap_or(false)
    }

    #[test]
    fn refuses_an_attr_file_that_is_not_procfs() {
        if !on_tmpfs() {
            return;
        }
        let dir = fake_proc("plain");
        let err = write_attr(dir.to_str().unwrap(), "thread-self/attr/exec", "exec evil").unwrap_err();
        assert_eq!(err.syscall, "fstatfs");
        assert_eq!(err.errno, Errno::EXDEV);
        assert!(err.arg.contains("is not on procfs"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.join("thread-self/attr/exec")).unwrap(), "");
        // The AppArmor path: the fallback is never reached either.
        let e = apply_apparmor(dir.to_str().unwrap(), "p").unwrap_err();
        assert_eq!(e.field, "process.apparmorProfile");
        assert_eq!(e.errno, libc::EXDEV);
        assert_eq!(std::fs::read_to_string(dir.join("thread-self/attr/apparmor/exec")).unwrap(), "");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refuses_a_symlinked_proc() {
        // A symlink to the real /proc: the target is procfs, but a path the
        // container controls must never be followed to reach it.
        let dir = PathBuf::from(format!("/dev/shm/pyrunc-lsm-{}-link", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("/proc", dir.join("proc")).unwrap();
        let err = write_attr(dir.join("proc").to_str().unwrap(), "thread-self/attr/exec", "x").unwrap_err();
        assert_eq!(err.syscall, "open");
        // O_NOFOLLOW|O_DIRECTORY on a symlink: ENOTDIR (ELOOP without O_PATH).
        assert!(matches!(err.errno, Errno::ENOTDIR | Errno::ELOOP), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn accepts_real_procfs_and_refuses_magic_links() {
        let root = open_proc_root("/proc").unwrap();
        // Through procfs's own "self" symlink: resolves (a write-only open
        // of stat may be refused, but never for the path's sake).
        if let Err(e) = open_attr(&root, "self/stat", "/proc/self/stat") {
            assert!(!matches!(e.errno, Errno::ELOOP | Errno::EXDEV | Errno::ENOENT), "{e}");
        }
        // /proc/self/root is a magic link back to "/": never followed.
        let err = open_attr(&root, "self/root/etc/hostname", "x").unwrap_err();
        assert_eq!(err.errno, Errno::ELOOP);
    }

    #[test]
    fn fstatfs_knows_procfs() {
        let root = open_proc_root("/proc").unwrap();
        check_procfs(&root, "/proc").unwrap();
    }
}
