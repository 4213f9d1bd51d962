//! The kernel constants `pyrunc.low` exposes, as one name/value table.
//!
//! Values are the uapi ones (include/uapi/linux/{sched,mount,fcntl,seccomp}.h);
//! they are the same on every Linux architecture pyrunc builds for, except
//! the `O_CLOEXEC`-derived ones, which come from libc.
//! The table is also what turns flag words back into names in error messages.

/// `(name, value)`; the pyo3 layer registers every entry as a module constant.
pub const CONSTANTS: &[(&str, i64)] = &[
    // clone(2) / unshare(2) / setns(2) namespace flags
    ("CLONE_NEWNS", 0x0002_0000),
    ("CLONE_NEWCGROUP", 0x0200_0000),
    ("CLONE_NEWUTS", 0x0400_0000),
    ("CLONE_NEWIPC", 0x0800_0000),
    ("CLONE_NEWUSER", 0x1000_0000),
    ("CLONE_NEWPID", 0x2000_0000),
    ("CLONE_NEWNET", 0x4000_0000),
    // unshare(2) only: in clone(2) the low byte is the exit signal.
    ("CLONE_NEWTIME", 0x80),
    // mount(2) flags
    ("MS_RDONLY", 0x1),
    ("MS_NOSUID", 0x2),
    ("MS_NODEV", 0x4),
    ("MS_NOEXEC", 0x8),
    ("MS_SYNCHRONOUS", 0x10),
    ("MS_REMOUNT", 0x20),
    ("MS_MANDLOCK", 0x40),
    ("MS_DIRSYNC", 0x80),
    ("MS_NOSYMFOLLOW", 0x100),
    ("MS_NOATIME", 0x400),
    ("MS_NODIRATIME", 0x800),
    ("MS_BIND", 0x1000),
    ("MS_MOVE", 0x2000),
    ("MS_REC", 0x4000),
    ("MS_SILENT", 0x8000),
    ("MS_POSIXACL", 0x1_0000),
    ("MS_UNBINDABLE", 0x2_0000),
    ("MS_PRIVATE", 0x4_0000),
    ("MS_SLAVE", 0x8_0000),
    ("MS_SHARED", 0x10_0000),
    ("MS_RELATIME", 0x20_0000),
    ("MS_I_VERSION", 0x80_0000),
    ("MS_STRICTATIME", 0x100_0000),
    ("MS_LAZYTIME", 0x200_0000),
    // umount2(2) flags
    ("MNT_FORCE", 0x1),
    ("MNT_DETACH", 0x2),
    ("MNT_EXPIRE", 0x4),
    ("UMOUNT_NOFOLLOW", 0x8),
    // *at() dirfd and flags used by the new mount API
    ("AT_FDCWD", libc::AT_FDCWD as i64),
    ("AT_SYMLINK_NOFOLLOW", 0x100),
    ("AT_NO_AUTOMOUNT", 0x800),
    ("AT_EMPTY_PATH", 0x1000),
    ("AT_RECURSIVE", 0x8000),
    // open_tree(2)
    ("OPEN_TREE_CLONE", 0x1),
    ("OPEN_TREE_CLOEXEC", libc::O_CLOEXEC as i64),
    // move_mount(2)
    ("MOVE_MOUNT_F_SYMLINKS", 0x1),
    ("MOVE_MOUNT_F_AUTOMOUNTS", 0x2),
    ("MOVE_MOUNT_F_EMPTY_PATH", 0x4),
    ("MOVE_MOUNT_T_SYMLINKS", 0x10),
    ("MOVE_MOUNT_T_AUTOMOUNTS", 0x20),
    ("MOVE_MOUNT_T_EMPTY_PATH", 0x40),
    ("MOVE_MOUNT_SET_GROUP", 0x100),
    ("MOVE_MOUNT_BENEATH", 0x200),
    // mount_setattr(2) / fsmount(2) attributes
    ("MOUNT_ATTR_RDONLY", 0x1),
    ("MOUNT_ATTR_NOSUID", 0x2),
    ("MOUNT_ATTR_NODEV", 0x4),
    ("MOUNT_ATTR_NOEXEC", 0x8),
    ("MOUNT_ATTR__ATIME", 0x70),
    ("MOUNT_ATTR_RELATIME", 0x0),
    ("MOUNT_ATTR_NOATIME", 0x10),
    ("MOUNT_ATTR_STRICTATIME", 0x20),
    ("MOUNT_ATTR_NODIRATIME", 0x80),
    ("MOUNT_ATTR_IDMAP", 0x10_0000),
    ("MOUNT_ATTR_NOSYMFOLLOW", 0x20_0000),
    // fsopen(2) / fsconfig(2) / fsmount(2)
    ("FSOPEN_CLOEXEC", 0x1),
    ("FSCONFIG_SET_FLAG", 0),
    ("FSCONFIG_SET_STRING", 1),
    ("FSCONFIG_SET_BINARY", 2),
    ("FSCONFIG_SET_PATH", 3),
    ("FSCONFIG_SET_PATH_EMPTY", 4),
    ("FSCONFIG_SET_FD", 5),
    ("FSCONFIG_CMD_CREATE", 6),
    ("FSCONFIG_CMD_RECONFIGURE", 7),
    ("FSCONFIG_CMD_CREATE_EXCL", 8),
    ("FSMOUNT_CLOEXEC", 0x1),
    // close_range(2)
    ("CLOSE_RANGE_UNSHARE", 0x2),
    ("CLOSE_RANGE_CLOEXEC", 0x4),
    // pidfd_open(2)
    ("PIDFD_NONBLOCK", libc::O_NONBLOCK as i64),
    // seccomp(2) filter flags and filter return actions
    ("SECCOMP_FILTER_FLAG_TSYNC", 0x1),
    ("SECCOMP_FILTER_FLAG_LOG", 0x2),
    ("SECCOMP_FILTER_FLAG_SPEC_ALLOW", 0x4),
    ("SECCOMP_FILTER_FLAG_NEW_LISTENER", 0x8),
    ("SECCOMP_FILTER_FLAG_TSYNC_ESRCH", 0x10),
    ("SECCOMP_RET_KILL_PROCESS", 0x8000_0000),
    ("SECCOMP_RET_KILL_THREAD", 0x0),
    ("SECCOMP_RET_TRAP", 0x0003_0000),
    ("SECCOMP_RET_ERRNO", 0x0005_0000),
    ("SECCOMP_RET_USER_NOTIF", 0x7fc0_0000),
    ("SECCOMP_RET_TRACE", 0x7ff0_0000),
    ("SECCOMP_RET_LOG", 0x7ffc_0000),
    ("SECCOMP_RET_ALLOW", 0x7fff_0000),
];

/// The value of a constant of the table (panics on a typo: for tests/consts).
pub fn value(name: &str) -> i64 {
    match CONSTANTS.iter().find(|(n, _)| *n == name) {
        Some((_, v)) => *v,
        None => panic!("no constant {name}"),
    }
}

/// `CLONE_NEWNS|CLONE_NEWUTS`: the names of the set bits of `flags` among the
/// constants starting with `prefix`, the rest in hex; `0` when none.
pub fn flag_names(flags: u64, prefix: &str) -> String {
    let mut names = Vec::new();
    let mut rest = flags;
    for (name, v) in CONSTANTS {
        let v = *v as u64;
        // Single bits only: skips aliases (MS_RELATIME=0) and masks (MOUNT_ATTR__ATIME).
        if name.starts_with(prefix) && v.is_power_of_two() && rest & v != 0 {
            names.push((*name).to_string());
            rest &= !v;
        }
    }
    if rest != 0 || names.is_empty() {
        names.push(format!("{rest:#x}"));
    }
    names.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_clone_flags() {
        let f = (value("CLONE_NEWNS") | value("CLONE_NEWUTS")) as u64;
        assert_eq!(flag_names(f, "CLONE_NEW"), "CLONE_NEWNS|CLONE_NEWUTS");
        assert_eq!(flag_names(0, "CLONE_NEW"), "0x0");
        assert_eq!(flag_names(0x1000 | 0x1, "MS_"), "MS_RDONLY|MS_BIND");
        assert_eq!(flag_names(0x4000_0000_0000, "MS_"), "0x400000000000");
    }

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (n, _) in CONSTANTS {
            assert!(seen.insert(*n), "duplicate {n}");
        }
    }

    #[test]
    fn matches_libc() {
        assert_eq!(value("CLONE_NEWUSER"), libc::CLONE_NEWUSER as i64);
        assert_eq!(value("MS_NOSYMFOLLOW"), libc::MS_NOSYMFOLLOW as i64);
        assert_eq!(value("MS_LAZYTIME"), libc::MS_LAZYTIME as i64);
        assert_eq!(value("AT_RECURSIVE"), libc::AT_RECURSIVE as i64);
        assert_eq!(
            value("CLOSE_RANGE_CLOEXEC"),
            libc::CLOSE_RANGE_CLOEXEC as i64
        );
        assert_eq!(
            value("SECCOMP_FILTER_FLAG_NEW_LISTENER"),
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as i64
        );
    }
}
