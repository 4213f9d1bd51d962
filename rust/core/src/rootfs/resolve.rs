//! Paths from config.json resolved inside the rootfs, never following a
//! symlink out of it: openat2(RESOLVE_IN_ROOT) with the rootfs as root.
use crate::error::{SysError, SysResult};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// The part of an absolute container path below the root ("" for "/").
pub fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// Open `path` (a container path) with the rootfs fd as "/".
pub fn open_in_root(root: &OwnedFd, path: &str, flags: i32) -> SysResult<OwnedFd> {
    let rel = relative(path);
    let rel = if rel.is_empty() { "." } else { rel };
    let c = CString::new(rel).map_err(|_| SysError::new("openat2", path, nix::errno::Errno::EINVAL))?;
    let how = OpenHow { flags: (flags | libc::O_CLOEXEC) as u64, mode: 0, resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    loop {
        // SAFETY: a valid C path and open_how of the announced size.
        let r = unsafe {
            libc::syscall(libc::SYS_openat2, root.as_raw_fd(), c.as_ptr(), &how as *const OpenHow, std::mem::size_of::<OpenHow>())
        };
        if r >= 0 {
            // SAFETY: fresh fd.
            return Ok(unsafe { OwnedFd::from_raw_fd(r as i32) });
        }
        let e = nix::errno::Errno::last();
        if e != nix::errno::Errno::EAGAIN && e != nix::errno::Errno::EINTR {
            return Err(SysError::new("openat2", path, e));
        }
    }
}

/// Split "/a/b/c" into ("/a/b", "c").
pub fn split(path: &str) -> (&str, &str) {
    let p = path.trim_end_matches('/');
    match p.rfind('/') {
        Some(i) => (&p[..i.max(1)], &p[i + 1..]),
        None => ("/", p),
    }
}

/// mkdir -p of a container path; returns an O_PATH fd of the directory.
///
/// Walks one component at a time from the rootfs. Symlinks met on the way
/// are expanded by hand, relative to the rootfs (an absolute target starts
/// again at the rootfs, ".." stops there), so a dangling link in the image
/// makes its target inside the rootfs instead of failing or escaping.
/// Every open goes through `open_in_root`, which cannot leave the rootfs
/// even if the image changes under us.
pub fn mkdir_all(root: &OwnedFd, path: &str, mode: u32) -> SysResult<OwnedFd> {
    use std::collections::VecDeque;
    let mut todo: VecDeque<String> = path.split('/').map(str::to_string).collect();
    let mut cur: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(comp) = todo.pop_front() {
        match comp.as_str() {
            "" | "." => continue,
            ".." => {
                cur.pop();
                continue;
            }
            _ => {}
        }
        let dir = open_in_root(root, &format!("/{}", cur.join("/")), libc::O_PATH | libc::O_DIRECTORY)?;
        let c = CString::new(comp.as_str()).map_err(|_| SysError::new("mkdirat", path, nix::errno::Errno::EINVAL))?;
        // SAFETY: a plain C struct, filled by fstatat.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: dir fd, C name and a stat buffer.
        let r = unsafe { libc::fstatat(dir.as_raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
        if r < 0 {
            let e = nix::errno::Errno::last();
            if e != nix::errno::Errno::ENOENT {
                return Err(SysError::new("fstatat", path, e));
            }
            // SAFETY: dir fd and C name.
            if unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), mode as libc::mode_t) } < 0
                && nix::errno::Errno::last() != nix::errno::Errno::EEXIST
            {
                return Err(SysError::last("mkdirat", path));
            }
            cur.push(comp);
            continue;
        }
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => cur.push(comp),
            libc::S_IFLNK => {
                links += 1;
                if links > 40 {
                    return Err(SysError::new("mkdirat", path, nix::errno::Errno::ELOOP));
                }
                let target = nix::fcntl::readlinkat(Some(dir.as_raw_fd()), c.as_c_str())
                    .map_err(|e| SysError::new("readlinkat", path, e))?;
                let target = target.to_string_lossy().into_owned();
                if target.starts_with('/') {
                    cur.clear();
                }
                for t in target.split('/').rev() {
                    todo.push_front(t.to_string());
                }
            }
            _ => return Err(SysError::new("mkdirat", path, nix::errno::Errno::ENOTDIR)),
        }
    }
    open_in_root(root, &format!("/{}", cur.join("/")), libc::O_PATH | libc::O_DIRECTORY)
}

/// Create an empty regular file (and its parents) if missing; O_PATH fd of it.
pub fn touch(root: &OwnedFd, path: &str) -> SysResult<OwnedFd> {
    if let Ok(fd) = open_in_root(root, path, libc::O_PATH) {
        return Ok(fd);
    }
    let (parent, name) = split(path);
    let pfd = mkdir_all(root, parent, 0o755)?;
    let c = CString::new(name).map_err(|_| SysError::new("openat", path, nix::errno::Errno::EINVAL))?;
    // SAFETY: dir fd and C name; O_NOFOLLOW refuses a planted symlink.
    let r = unsafe { libc::openat(pfd.as_raw_fd(), c.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC, 0o644) };
    if r < 0 && nix::errno::Errno::last() != nix::errno::Errno::EEXIST {
        return Err(SysError::last("openat", path));
    }
    if r >= 0 {
        // SAFETY: our fd.
        unsafe { libc::close(r) };
    }
    open_in_root(root, path, libc::O_PATH)
}

/// The magic-link path through which mount(2) reaches an fd's file.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_paths() {
        assert_eq!(split("/a/b/c"), ("/a/b", "c"));
        assert_eq!(split("/a"), ("/", "a"));
        assert_eq!(split("/a/b/"), ("/a", "b"));
    }

    #[test]
    fn symlinks_stay_inside_root() {
        let dir = std::env::temp_dir().join(format!("pyrunc-resolve-{}", std::process::id()));
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::os::unix::fs::symlink("/", root.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../../../", root.join("up")).unwrap();
        let c = CString::new(root.to_str().unwrap()).unwrap();
        // SAFETY: opening a test directory.
        let rfd = unsafe { OwnedFd::from_raw_fd(libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY)) };
        // "/escape/newdir" lands at root/newdir, "/up/x" at root/x.
        mkdir_all(&rfd, "/escape/newdir", 0o755).unwrap();
        mkdir_all(&rfd, "/up/x", 0o755).unwrap();
        assert!(root.join("newdir").is_dir());
        assert!(root.join("x").is_dir());
        touch(&rfd, "/etc/file").unwrap();
        // A dangling link: its target is made inside the rootfs.
        std::os::unix::fs::symlink("/made/by/link", root.join("dangling")).unwrap();
        std::os::unix::fs::symlink("../../../../nowhere", root.join("dangling-up")).unwrap();
        mkdir_all(&rfd, "/dangling/sub", 0o755).unwrap();
        mkdir_all(&rfd, "/dangling-up/sub", 0o755).unwrap();
        assert!(root.join("made/by/link/sub").is_dir());
        assert!(root.join("nowhere/sub").is_dir());
        assert!(root.join("etc/file").is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
