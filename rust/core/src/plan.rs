//! The plan: a reduced, pre-validated config.json for the init.
//!
//! Stage 0 (Python, `pyrunc/container/plan.py`) builds it from the spec model,
//! resolving every name to a number (capabilities, rlimits, mount flags) and
//! tagging each item with its config.json field path, so the init only
//! executes and every error it reports can name the field. It travels as JSON
//! in a memfd (argv[1] of the init). Unknown keys are rejected: the two sides
//! ship in one wheel and must agree.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A new container: make namespaces, set up the rootfs, wait on exec.fifo.
    Create,
    /// A process joining a running container's namespaces (`pyrunc exec`).
    Exec,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub mode: Mode,
    /// fd of the init's end of the sync socketpair.
    pub sync_fd: i32,
    /// O_PATH fd of `<state dir>/exec.fifo` (create mode).
    #[serde(default)]
    pub fifo_fd: Option<i32>,
    /// Namespaces in config order; the init handles `user` first. With `path`
    /// the namespace is joined, without it a new one is made.
    #[serde(default)]
    pub namespaces: Vec<Namespace>,
    /// linux.timeOffsets, written after unshare(CLONE_NEWTIME).
    #[serde(default)]
    pub time_offsets: Vec<TimeOffset>,
    /// Create mode only.
    #[serde(default)]
    pub rootfs: Option<Rootfs>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub domainname: Option<String>,
    /// linux.sysctl, written under /proc/sys after pivot_root.
    #[serde(default)]
    pub sysctl: Vec<Sysctl>,
    /// process.oomScoreAdj.
    #[serde(default)]
    pub oom_score_adj: Option<i32>,
    /// linux.personality domain as the personality(2) value.
    #[serde(default)]
    pub personality: Option<u64>,
    pub process: Process,
    /// Ask stage 0 to run prestart + createRuntime hooks (sync `hooks`).
    #[serde(default)]
    pub hooks_roundtrip: bool,
    #[serde(default)]
    pub create_container_hooks: Vec<Hook>,
    #[serde(default)]
    pub start_container_hooks: Vec<Hook>,
    /// Join a new session keyring with this name (runc's "_ses.<id>"),
    /// unless --no-new-keyring; None for exec and --no-new-keyring.
    #[serde(default)]
    pub session_keyring: Option<String>,
    /// A compiled seccomp filter (see seccomp.rs), loaded last before execve.
    #[serde(default)]
    pub seccomp: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    /// The spec's name: pid, network, mount, ipc, uts, user, cgroup, time.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub path: Option<String>,
    /// `linux.namespaces[3]`.
    pub field: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeOffset {
    /// "monotonic" or "boottime".
    pub clock: String,
    pub secs: i64,
    pub nanosecs: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rootfs {
    /// Absolute host path of root.path.
    pub path: String,
    pub readonly: bool,
    /// linux.rootfsPropagation as MS_* flags (default MS_SLAVE|MS_REC, as runc).
    pub propagation: u64,
    /// --no-pivot: MS_MOVE + chroot instead of pivot_root.
    #[serde(default)]
    pub no_pivot: bool,
    #[serde(default)]
    pub mounts: Vec<Mount>,
    /// The default devices and linux.devices, merged by stage 0.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// Bind devices from the host instead of mknod (inside a user namespace).
    #[serde(default)]
    pub bind_devices: bool,
    #[serde(default)]
    pub masked_paths: Vec<String>,
    #[serde(default)]
    pub readonly_paths: Vec<String>,
    /// linux.mountLabel (SELinux context= for mounts), empty when unset.
    #[serde(default)]
    pub mount_label: String,
    /// Symlinks made after the mounts (cgroup v1 comounts: cpu -> cpu,cpuacct).
    #[serde(default)]
    pub symlinks: Vec<Symlink>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Symlink {
    /// Container path of the link.
    pub path: String,
    /// What it points to (kept as given, usually relative).
    pub target: String,
    pub field: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mount {
    /// `mounts[2]`.
    pub field: String,
    /// Absolute path inside the container.
    pub destination: String,
    /// Host path for binds, or the fs source ("proc", "tmpfs").
    #[serde(default)]
    pub source: String,
    /// Filesystem type; "bind" when the options asked for a bind.
    #[serde(default)]
    pub fstype: String,
    /// MS_* flags from the options (MS_BIND|MS_REC for rbind, MS_RDONLY, ...).
    /// With MS_REMOUNT the entry changes the flags of what is already
    /// mounted at `destination` (the cgroup v1 tmpfs made read-only last).
    #[serde(default)]
    pub flags: u64,
    /// Propagation changes applied after the mount, in order (MS_PRIVATE|MS_REC ...).
    #[serde(default)]
    pub propagation: Vec<u64>,
    /// The comma-joined fs data options ("mode=755,size=65536k").
    #[serde(default)]
    pub data: String,
    /// mount_setattr(AT_RECURSIVE) attributes from rro, rnosuid, ...: MOUNT_ATTR_* bits.
    #[serde(default)]
    pub rec_attr_set: u64,
    #[serde(default)]
    pub rec_attr_clr: u64,
    /// Idmapped mount (mounts[].uidMappings, idmap, ridmap): the fd of a
    /// detached bind mount of `source` that stage 0 already idmapped
    /// (open_tree + mount_setattr need CAP_SYS_ADMIN over the filesystem's
    /// user namespace, which a user-namespaced init lacks); the init only
    /// move_mount()s it onto the destination.
    #[serde(default)]
    pub idmap_fd: Option<i32>,
    /// Make the destination a file (not a directory) when it is missing:
    /// stage 0 sets this for binds whose source is not a directory.
    #[serde(default)]
    pub dest_is_file: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// `linux.devices[0]`, or `default device /dev/null`.
    pub field: String,
    /// Absolute path inside the container.
    pub path: String,
    /// "c", "b", "p" (or "u", same as "c").
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub major: u64,
    #[serde(default)]
    pub minor: u64,
    /// Permission bits (fileMode), 0o666 when unset.
    pub file_mode: u32,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sysctl {
    pub key: String,
    pub value: String,
    /// `linux.sysctl["net.ipv4.ip_forward"]`.
    pub field: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Process {
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    pub cwd: String,
    #[serde(default)]
    pub uid: u32,
    #[serde(default)]
    pub gid: u32,
    #[serde(default)]
    pub additional_gids: Vec<u32>,
    #[serde(default)]
    pub umask: Option<u32>,
    #[serde(default)]
    pub rlimits: Vec<Rlimit>,
    /// None: leave the capability sets as they are (only for tests).
    #[serde(default)]
    pub capabilities: Option<Capabilities>,
    #[serde(default)]
    pub no_new_privileges: bool,
    #[serde(default)]
    pub terminal: bool,
    /// process.consoleSize, applied to the pty.
    #[serde(default)]
    pub console_size: Option<ConsoleSize>,
    /// The number of fds from 3 up kept for the process (--preserve-fds and
    /// LISTEN_FDS); everything else above 2 is closed before execve.
    #[serde(default)]
    pub preserve_fds: u32,
    #[serde(default)]
    pub apparmor_profile: String,
    #[serde(default)]
    pub selinux_label: String,
    /// process.ioPriority: class is IOPRIO_CLASS_* number.
    #[serde(default)]
    pub io_priority: Option<IoPriority>,
    /// process.scheduler, passed to sched_setattr.
    #[serde(default)]
    pub scheduler: Option<Scheduler>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rlimit {
    /// RLIMIT_* number.
    pub resource: i32,
    pub soft: u64,
    pub hard: u64,
    /// `process.rlimits[0]`.
    pub field: String,
}

/// Capability numbers (CAP_CHOWN = 0 ...), per set.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    #[serde(default)]
    pub bounding: Vec<u32>,
    #[serde(default)]
    pub effective: Vec<u32>,
    #[serde(default)]
    pub inheritable: Vec<u32>,
    #[serde(default)]
    pub permitted: Vec<u32>,
    #[serde(default)]
    pub ambient: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSize {
    pub height: u16,
    pub width: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoPriority {
    pub class: i32,
    pub priority: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheduler {
    /// SCHED_* number.
    pub policy: u32,
    #[serde(default)]
    pub nice: i32,
    #[serde(default)]
    pub priority: u32,
    /// SCHED_FLAG_* bits.
    #[serde(default)]
    pub flags: u64,
    #[serde(default)]
    pub runtime: u64,
    #[serde(default)]
    pub deadline: u64,
    #[serde(default)]
    pub period: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    /// `hooks.createContainer[0]`.
    pub field: String,
    pub path: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub timeout: Option<u32>,
}

impl Plan {
    pub fn from_json(bytes: &[u8]) -> Result<Plan, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("plan: {e}"))
    }
}
