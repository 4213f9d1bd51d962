//! `pyrunc.low`: pyo3 wrappers over `pyrunc_core::low`, one per helper, plus
//! the constants table. Arguments are converted here, errors in errors.rs;
//! the documented facade is python/pyrunc/low.py.
use super::errors::to_py;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;
use pyrunc_core::error::SysResult;
use pyrunc_core::low;
use std::ffi::OsString;
use std::path::PathBuf;

fn py<T>(r: SysResult<T>) -> PyResult<T> {
    r.map_err(to_py)
}

/// unshare(2) with CLONE_NEW* flags.
#[pyfunction]
fn unshare(flags: u64) -> PyResult<()> {
    py(low::unshare(flags))
}

/// setns(2) on an fd (int) or a path such as /proc/PID/ns/net.
#[pyfunction]
#[pyo3(signature = (target, nstype=0))]
fn setns(target: &Bound<'_, PyAny>, nstype: u64) -> PyResult<()> {
    if let Ok(fd) = target.extract::<i32>() {
        return py(low::setns_fd(fd, nstype));
    }
    let path: PathBuf = target.extract()?;
    py(low::setns_path(&path, nstype))
}

/// Clone a child into new namespaces and execve argv in it; returns its pid.
#[pyfunction]
#[pyo3(signature = (argv, flags=0, *, env=None, uid_map=None, gid_map=None, deny_setgroups=false))]
fn spawn_in_namespaces(
    py_: Python<'_>,
    argv: Vec<OsString>,
    flags: u64,
    env: Option<Vec<OsString>>,
    uid_map: Option<String>,
    gid_map: Option<String>,
    deny_setgroups: bool,
) -> PyResult<i32> {
    let spec = low::spawn::SpawnSpec {
        argv,
        env,
        flags,
        uid_map,
        gid_map,
        deny_setgroups,
    };
    py(py_.allow_threads(|| low::spawn_in_namespaces(&spec)))
}

/// pivot_root(2).
#[pyfunction]
fn pivot_root(new_root: PathBuf, put_old: PathBuf) -> PyResult<()> {
    py(low::pivot_root(&new_root, &put_old))
}

/// mount(2); None passes NULL.
#[pyfunction]
#[pyo3(signature = (source, target, fstype=None, flags=0, data=None))]
fn mount(
    py_: Python<'_>,
    source: Option<PathBuf>,
    target: PathBuf,
    fstype: Option<String>,
    flags: u64,
    data: Option<String>,
) -> PyResult<()> {
    py(py_.allow_threads(|| {
        low::mount(
            source.as_deref().map(|p| p.as_os_str()),
            &target,
            fstype.as_deref(),
            flags,
            data.as_deref(),
        )
    }))
}

/// umount2(2).
#[pyfunction]
#[pyo3(signature = (target, flags=0))]
fn umount2(py_: Python<'_>, target: PathBuf, flags: i32) -> PyResult<()> {
    py(py_.allow_threads(|| low::umount2(&target, flags)))
}

/// open_tree(2); returns a new fd.
#[pyfunction]
#[pyo3(signature = (dirfd, path, flags=0))]
fn open_tree(dirfd: i32, path: PathBuf, flags: u32) -> PyResult<i32> {
    py(low::open_tree(dirfd, &path, flags))
}

/// move_mount(2).
#[pyfunction]
#[pyo3(signature = (from_dirfd, from_path, to_dirfd, to_path, flags=0))]
fn move_mount(
    from_dirfd: i32,
    from_path: PathBuf,
    to_dirfd: i32,
    to_path: PathBuf,
    flags: u32,
) -> PyResult<()> {
    py(low::move_mount(
        from_dirfd, &from_path, to_dirfd, &to_path, flags,
    ))
}

/// mount_setattr(2).
#[pyfunction]
#[pyo3(signature = (dirfd, path, flags=0, attr_set=0, attr_clr=0, propagation=0, userns_fd=0))]
fn mount_setattr(
    dirfd: i32,
    path: PathBuf,
    flags: u32,
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
) -> PyResult<()> {
    py(low::mount_setattr(
        dirfd,
        &path,
        flags,
        attr_set,
        attr_clr,
        propagation,
        userns_fd,
    ))
}

/// fsopen(2); returns a filesystem context fd.
#[pyfunction]
#[pyo3(signature = (fsname, flags=0))]
fn fsopen(fsname: &str, flags: u32) -> PyResult<i32> {
    py(low::fsopen(fsname, flags))
}

/// fsconfig(2) with a string value (or none).
#[pyfunction]
#[pyo3(signature = (fd, cmd, key=None, value=None, aux=0))]
fn fsconfig(
    fd: i32,
    cmd: u32,
    key: Option<&str>,
    value: Option<OsString>,
    aux: i32,
) -> PyResult<()> {
    py(low::fsconfig(fd, cmd, key, value.as_deref(), aux))
}

/// fsmount(2); returns a detached mount fd.
#[pyfunction]
#[pyo3(signature = (fd, flags=0, attr_flags=0))]
fn fsmount(fd: i32, flags: u32, attr_flags: u32) -> PyResult<i32> {
    py(low::fsmount(fd, flags, attr_flags))
}

/// sethostname(2).
#[pyfunction]
fn sethostname(name: &str) -> PyResult<()> {
    py(low::sethostname(name))
}

/// setdomainname(2).
#[pyfunction]
fn setdomainname(name: &str) -> PyResult<()> {
    py(low::setdomainname(name))
}

/// The five capability sets of pid (0 = this thread) as bitmasks.
#[pyfunction]
#[pyo3(signature = (pid=0))]
fn capget(py_: Python<'_>, pid: i32) -> PyResult<Bound<'_, PyDict>> {
    let s = py(low::capget(pid))?;
    let d = PyDict::new(py_);
    d.set_item("effective", s.effective)?;
    d.set_item("permitted", s.permitted)?;
    d.set_item("inheritable", s.inheritable)?;
    d.set_item("bounding", s.bounding)?;
    d.set_item("ambient", s.ambient)?;
    Ok(d)
}

/// capset(2) on this thread.
#[pyfunction]
fn capset(effective: u64, permitted: u64, inheritable: u64) -> PyResult<()> {
    py(low::capset(effective, permitted, inheritable))
}

/// The highest capability number of the running kernel.
#[pyfunction]
fn cap_last_cap() -> u32 {
    low::cap_last_cap()
}

/// prctl(PR_CAPBSET_DROP, cap).
#[pyfunction]
fn drop_bounding(cap: u32) -> PyResult<()> {
    py(low::drop_bounding(cap))
}

/// Make the ambient set exactly caps.
#[pyfunction]
fn set_ambient(caps: Vec<u32>) -> PyResult<()> {
    py(low::set_ambient(&caps))
}

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL).
#[pyfunction]
fn clear_ambient() -> PyResult<()> {
    py(low::clear_ambient())
}

#[pyfunction]
fn set_no_new_privs() -> PyResult<()> {
    py(low::set_no_new_privs())
}

#[pyfunction]
fn get_no_new_privs() -> PyResult<bool> {
    py(low::get_no_new_privs())
}

#[pyfunction]
fn set_dumpable(on: bool) -> PyResult<()> {
    py(low::set_dumpable(on))
}

#[pyfunction]
fn get_dumpable() -> PyResult<bool> {
    py(low::get_dumpable())
}

#[pyfunction]
fn set_pdeathsig(sig: i32) -> PyResult<()> {
    py(low::set_pdeathsig(sig))
}

#[pyfunction]
fn get_pdeathsig() -> PyResult<i32> {
    py(low::get_pdeathsig())
}

#[pyfunction]
fn set_child_subreaper(on: bool) -> PyResult<()> {
    py(low::set_child_subreaper(on))
}

#[pyfunction]
fn get_child_subreaper() -> PyResult<bool> {
    py(low::get_child_subreaper())
}

#[pyfunction]
fn set_keepcaps(on: bool) -> PyResult<()> {
    py(low::set_keepcaps(on))
}

#[pyfunction]
fn get_keepcaps() -> PyResult<bool> {
    py(low::get_keepcaps())
}

/// setresuid(2); -1 keeps an id.
#[pyfunction]
fn setresuid(ruid: i64, euid: i64, suid: i64) -> PyResult<()> {
    py(low::setresuid(ruid as u32, euid as u32, suid as u32))
}

/// setresgid(2); -1 keeps an id.
#[pyfunction]
fn setresgid(rgid: i64, egid: i64, sgid: i64) -> PyResult<()> {
    py(low::setresgid(rgid as u32, egid as u32, sgid as u32))
}

/// setgroups(2).
#[pyfunction]
fn setgroups(groups: Vec<u32>) -> PyResult<()> {
    py(low::setgroups(&groups))
}

/// Write /proc/PID/uid_map, setgroups, gid_map (in that order).
#[pyfunction]
#[pyo3(signature = (pid, uid_map=None, gid_map=None, deny_setgroups=false))]
fn write_id_map(
    pid: i32,
    uid_map: Option<&str>,
    gid_map: Option<&str>,
    deny_setgroups: bool,
) -> PyResult<()> {
    py(low::write_id_map(pid, uid_map, gid_map, deny_setgroups))
}

/// seccomp(SECCOMP_SET_MODE_FILTER) with a packed struct sock_filter array.
#[pyfunction]
#[pyo3(signature = (program, flags=0))]
fn seccomp_load_bpf(program: PyBackedBytes, flags: u32) -> PyResult<i32> {
    py(low::seccomp_load_bpf(&program, flags))
}

/// pidfd_open(2); returns a new fd.
#[pyfunction]
#[pyo3(signature = (pid, flags=0))]
fn pidfd_open(pid: i32, flags: u32) -> PyResult<i32> {
    py(low::pidfd_open(pid, flags))
}

/// pidfd_send_signal(2).
#[pyfunction]
#[pyo3(signature = (pidfd, sig, flags=0))]
fn pidfd_send_signal(pidfd: i32, sig: i32, flags: u32) -> PyResult<()> {
    py(low::pidfd_send_signal(pidfd, sig, flags))
}

/// close_range(2).
#[pyfunction]
#[pyo3(signature = (first, last=u32::MAX, flags=0), text_signature = "(first, last=4294967295, flags=0)")]
fn close_range(first: u32, last: u32, flags: u32) -> PyResult<()> {
    py(low::close_range(first, last, flags))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(unshare, m)?)?;
    m.add_function(wrap_pyfunction!(setns, m)?)?;
    m.add_function(wrap_pyfunction!(spawn_in_namespaces, m)?)?;
    m.add_function(wrap_pyfunction!(pivot_root, m)?)?;
    m.add_function(wrap_pyfunction!(mount, m)?)?;
    m.add_function(wrap_pyfunction!(umount2, m)?)?;
    m.add_function(wrap_pyfunction!(open_tree, m)?)?;
    m.add_function(wrap_pyfunction!(move_mount, m)?)?;
    m.add_function(wrap_pyfunction!(mount_setattr, m)?)?;
    m.add_function(wrap_pyfunction!(fsopen, m)?)?;
    m.add_function(wrap_pyfunction!(fsconfig, m)?)?;
    m.add_function(wrap_pyfunction!(fsmount, m)?)?;
    m.add_function(wrap_pyfunction!(sethostname, m)?)?;
    m.add_function(wrap_pyfunction!(setdomainname, m)?)?;
    m.add_function(wrap_pyfunction!(capget, m)?)?;
    m.add_function(wrap_pyfunction!(capset, m)?)?;
    m.add_function(wrap_pyfunction!(cap_last_cap, m)?)?;
    m.add_function(wrap_pyfunction!(drop_bounding, m)?)?;
    m.add_function(wrap_pyfunction!(set_ambient, m)?)?;
    m.add_function(wrap_pyfunction!(clear_ambient, m)?)?;
    m.add_function(wrap_pyfunction!(set_no_new_privs, m)?)?;
    m.add_function(wrap_pyfunction!(get_no_new_privs, m)?)?;
    m.add_function(wrap_pyfunction!(set_dumpable, m)?)?;
    m.add_function(wrap_pyfunction!(get_dumpable, m)?)?;
    m.add_function(wrap_pyfunction!(set_pdeathsig, m)?)?;
    m.add_function(wrap_pyfunction!(get_pdeathsig, m)?)?;
    m.add_function(wrap_pyfunction!(set_child_subreaper, m)?)?;
    m.add_function(wrap_pyfunction!(get_child_subreaper, m)?)?;
    m.add_function(wrap_pyfunction!(set_keepcaps, m)?)?;
    m.add_function(wrap_pyfunction!(get_keepcaps, m)?)?;
    m.add_function(wrap_pyfunction!(setresuid, m)?)?;
    m.add_function(wrap_pyfunction!(setresgid, m)?)?;
    m.add_function(wrap_pyfunction!(setgroups, m)?)?;
    m.add_function(wrap_pyfunction!(write_id_map, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_load_bpf, m)?)?;
    m.add_function(wrap_pyfunction!(pidfd_open, m)?)?;
    m.add_function(wrap_pyfunction!(pidfd_send_signal, m)?)?;
    m.add_function(wrap_pyfunction!(close_range, m)?)?;
    let table = PyDict::new(m.py());
    for (name, value) in low::CONSTANTS {
        m.add(*name, *value)?;
        table.set_item(*name, *value)?;
    }
    m.add("LOW_CONSTANTS", table)?;
    Ok(())
}
