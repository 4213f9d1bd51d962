//! The container process: limits, identity, capabilities, cwd, executable.
use crate::capabilities;
use crate::low;
use crate::error::{Field, InitError, SysError};
use crate::plan::Plan;
use crate::rlimits::apply_rlimits;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;

/// rlimits, oomScoreAdj, personality, ioPriority, scheduler, noNewPrivileges:
/// everything set while we still hold every capability.
pub fn apply_limits(plan: &Plan) -> Result<(), InitError> {
    let p = &plan.process;
    apply_rlimits(&p.rlimits)?;
    if let Some(adj) = plan.oom_score_adj {
        write_proc("/proc/self/oom_score_adj", &adj.to_string(), "process.oomScoreAdj")?;
    }
    if let Some(persona) = plan.personality {
        // SAFETY: plain syscall.
        if unsafe { libc::personality(persona as libc::c_ulong) } < 0 {
            return Err(InitError::sys("linux.personality", "", SysError::last("personality", persona.to_string())));
        }
    }
    if let Some(io) = &p.io_priority {
        let value = (io.class << 13) | io.priority;
        // IOPRIO_WHO_PROCESS = 1, who = 0: this process.
        // SAFETY: plain syscall.
        if unsafe { libc::syscall(libc::SYS_ioprio_set, 1, 0, value) } < 0 {
            return Err(InitError::sys("process.ioPriority", "", SysError::last("ioprio_set", value.to_string())));
        }
    }
    if let Some(s) = &p.scheduler {
        set_scheduler(s)?;
    }
    if p.no_new_privileges {
        low::set_no_new_privs().map_err(|e| InitError::sys("process.noNewPrivileges", "", e))?;
    }
    Ok(())
}

#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
}

fn set_scheduler(s: &crate::plan::Scheduler) -> Result<(), InitError> {
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: s.policy,
        flags: s.flags,
        nice: s.nice,
        priority: s.priority,
        runtime: s.runtime,
        deadline: s.deadline,
        period: s.period,
    };
    // SAFETY: a sched_attr of the size we announce.
    if unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) } < 0 {
        return Err(InitError::sys("process.scheduler", "", SysError::last("sched_setattr", s.policy.to_string())));
    }
    Ok(())
}

fn write_proc(path: &str, value: &str, field: &str) -> Result<(), InitError> {
    std::fs::write(path, value).map_err(|e| {
        let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
        InitError::sys(field, format!("write {path}"), SysError::new("write", path.to_string(), errno))
    })
}

/// Switch to the process user with its capabilities, enter cwd, set umask,
/// find the executable. Returns the executable's path.
pub fn prepare(plan: &Plan) -> Result<String, InitError> {
    let p = &plan.process;
    let caps = p.capabilities.clone().unwrap_or_default();
    if p.capabilities.is_some() {
        capabilities::limit_bounding(&caps.bounding).field("process.capabilities.bounding", String::new)?;
        // Keep the permitted set across the uid change; capset below trims it.
        capabilities::set_keepcaps(true).field("process.user", String::new)?;
    }
    set_ids(p.uid, p.gid, &p.additional_gids)?;
    if let Some(c) = &p.capabilities {
        capabilities::set_keepcaps(false).field("process.user", String::new)?;
        capabilities::set_caps(&c.effective, &c.permitted, &c.inheritable)
            .field("process.capabilities", || "capset".into())?;
        // The kernel only raises an ambient capability that is permitted and
        // inheritable; like runc, the others are skipped rather than fatal.
        let ambient: Vec<u32> =
            c.ambient.iter().copied().filter(|a| c.permitted.contains(a) && c.inheritable.contains(a)).collect();
        capabilities::set_ambient(&ambient).field("process.capabilities.ambient", String::new)?;
    }
    enter_cwd(&p.cwd)?;
    if let Some(m) = p.umask {
        // SAFETY: plain syscall.
        unsafe { libc::umask(m as libc::mode_t) };
    }
    lookup_executable(p)
}

fn set_ids(uid: u32, gid: u32, groups: &[u32]) -> Result<(), InitError> {
    // setgroups is refused (EPERM) in a user namespace whose setgroups is
    // "deny"; without extra groups that is fine, as runc treats it.
    if let Err(e) = low::setgroups(groups) {
        if !(groups.is_empty() && e.errno == nix::errno::Errno::EPERM) {
            let err = SysError { arg: format!("{groups:?}"), ..e };
            return Err(InitError::sys("process.user.additionalGids", "", err));
        }
    }
    // The error names the one id, as the field does.
    low::setresgid(gid, gid, gid)
        .map_err(|e| InitError::sys("process.user.gid", "", SysError { arg: gid.to_string(), ..e }))?;
    low::setresuid(uid, uid, uid)
        .map_err(|e| InitError::sys("process.user.uid", "", SysError { arg: uid.to_string(), ..e }))?;
    Ok(())
}

/// chdir into process.cwd and check that it is inside the container: a cwd
/// reached through a leaked host fd (CVE-2024-21626) makes getcwd() return
/// a path that does not start with "/".
fn enter_cwd(cwd: &str) -> Result<(), InitError> {
    nix::unistd::chdir(cwd).map_err(|e| InitError::sys("process.cwd", format!("chdir {cwd}"), SysError::new("chdir", cwd, e)))?;
    match nix::unistd::getcwd() {
        Ok(p) if p.to_string_lossy().starts_with('/') => Ok(()),
        Ok(p) => Err(InitError::msg("process.cwd", format!("current working directory is outside of container mount namespace root: {}", p.display()))),
        Err(e) => Err(InitError::sys("process.cwd", "getcwd", SysError::new("getcwd", cwd, e))),
    }
}

fn env_get<'a>(env: &'a [String], key: &str) -> Option<&'a str> {
    env.iter().rev().find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn is_executable(path: &str) -> bool {
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Resolve args[0] on the container's PATH, as Go's exec.LookPath in runc.
fn lookup_executable(p: &crate::plan::Process) -> Result<String, InitError> {
    let name = p.args.first().ok_or_else(|| InitError::msg("process.args", "args must not be empty"))?;
    if name.contains('/') {
        if is_executable(name) {
            return Ok(name.clone());
        }
        let err = std::fs::metadata(name).err().and_then(|e| e.raw_os_error()).unwrap_or(libc::EACCES);
        return Err(InitError::sys(
            "process.args",
            format!("exec: {name:?}: stat {name}"),
            SysError::new("stat", name.clone(), nix::errno::Errno::from_raw(err)),
        ));
    }
    for dir in env_get(&p.env, "PATH").unwrap_or("").split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let cand = format!("{dir}/{name}");
        if is_executable(&cand) {
            return Ok(cand);
        }
    }
    Err(InitError::msg("process.args", format!("exec: {name:?}: executable file not found in $PATH")))
}

/// Mark every fd from `first` up close-on-exec (host fds never reach the
/// container; stdio and the preserved fds stay).
pub fn close_fds(first: i32) -> Result<(), InitError> {
    // SAFETY: plain syscall.
    let r = unsafe { libc::syscall(libc::SYS_close_range, first as libc::c_uint, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if r == 0 {
        return Ok(());
    }
    // Older kernels: walk /proc/self/fd.
    let dir = std::fs::read_dir("/proc/self/fd")
        .map_err(|_| InitError::msg("", "cannot list /proc/self/fd to close inherited fds"))?;
    let fds: Vec<i32> = dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
    for fd in fds.into_iter().filter(|&fd| fd >= first) {
        // SAFETY: setting a flag on an fd number.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    Ok(())
}

/// HOME from the container's /etc/passwd when the config does not set it.
fn with_home(env: &[String], uid: u32) -> Vec<String> {
    let mut env = env.to_vec();
    if env_get(&env, "HOME").is_none() {
        let home = std::fs::read_to_string("/etc/passwd")
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    (f.len() >= 6 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[5].to_string())
                })
            })
            .unwrap_or_else(|| "/".into());
        env.push(format!("HOME={home}"));
    }
    env
}

/// execve the process; returns only on failure.
pub fn exec(exe: &str, plan: &Plan) -> InitError {
    let p = &plan.process;
    let cstr = |s: &str| CString::new(s).unwrap_or_default();
    let path = cstr(exe);
    let args: Vec<CString> = p.args.iter().map(|a| cstr(a)).collect();
    let env: Vec<CString> = with_home(&p.env, p.uid).iter().map(|e| cstr(e)).collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: null-terminated arrays of live C strings.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    InitError::sys("process.args", format!("exec {exe}"), SysError::last("execve", exe.to_string()))
}

/// Load linux.seccomp, returning the notify listener fd if there is one.
pub fn load_seccomp(filter: &serde_json::Value) -> Result<Option<OwnedFd>, InitError> {
    let prog = crate::seccomp::from_plan(filter).map_err(|e| InitError::msg(e.field(), e.to_string()))?;
    crate::seccomp::load(&prog, 0).map_err(|e| InitError::sys("linux.seccomp", "load seccomp filter", e))
}
