//! Architectures and their syscall name -> number tables.
//!
//! The numbers come from the `syscalls` crate, whose tables are generated
//! from the kernel's own `syscall*.tbl`/unistd headers. Two ABIs that crate
//! does not carry are derived here from kernel facts: x32 (the x86_64 table
//! with `__X32_SYSCALL_BIT`, arch/x86/entry/syscalls/syscall_64.tbl) and the
//! ARM private syscalls (`__ARM_NR_BASE`, arch/arm/include/uapi/asm/unistd.h).
use std::str::FromStr;

/// `__X32_SYSCALL_BIT`: x32 syscalls arrive with AUDIT_ARCH_X86_64 and this
/// bit set in `nr`, so the filter tells the two ABIs apart by it.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// One seccomp architecture (`SCMP_ARCH_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arch {
    X86,
    X86_64,
    X32,
    Arm,
    Aarch64,
    Mips,
    Mips64,
    Mips64N32,
    Mipsel,
    Mipsel64,
    Mipsel64N32,
    Ppc,
    Ppc64,
    Ppc64le,
    S390,
    S390x,
    Parisc,
    Parisc64,
    Riscv64,
    Loongarch64,
    M68k,
    Sh,
    Sheb,
}

/// Every `SCMP_ARCH_*` name of runtime-spec v1.3 (libseccomp 2.6), in order.
pub const ALL_ARCHES: &[(&str, Arch)] = &[
    ("SCMP_ARCH_X86", Arch::X86),
    ("SCMP_ARCH_X86_64", Arch::X86_64),
    ("SCMP_ARCH_X32", Arch::X32),
    ("SCMP_ARCH_ARM", Arch::Arm),
    ("SCMP_ARCH_AARCH64", Arch::Aarch64),
    ("SCMP_ARCH_MIPS", Arch::Mips),
    ("SCMP_ARCH_MIPS64", Arch::Mips64),
    ("SCMP_ARCH_MIPS64N32", Arch::Mips64N32),
    ("SCMP_ARCH_MIPSEL", Arch::Mipsel),
    ("SCMP_ARCH_MIPSEL64", Arch::Mipsel64),
    ("SCMP_ARCH_MIPSEL64N32", Arch::Mipsel64N32),
    ("SCMP_ARCH_PPC", Arch::Ppc),
    ("SCMP_ARCH_PPC64", Arch::Ppc64),
    ("SCMP_ARCH_PPC64LE", Arch::Ppc64le),
    ("SCMP_ARCH_S390", Arch::S390),
    ("SCMP_ARCH_S390X", Arch::S390x),
    ("SCMP_ARCH_PARISC", Arch::Parisc),
    ("SCMP_ARCH_PARISC64", Arch::Parisc64),
    ("SCMP_ARCH_RISCV64", Arch::Riscv64),
    ("SCMP_ARCH_LOONGARCH64", Arch::Loongarch64),
    ("SCMP_ARCH_M68K", Arch::M68k),
    ("SCMP_ARCH_SH", Arch::Sh),
    ("SCMP_ARCH_SHEB", Arch::Sheb),
];

// linux/audit.h: AUDIT_ARCH_* = EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
const A64: u32 = 0x8000_0000;
const LE: u32 = 0x4000_0000;
const MIPS_N32: u32 = 0x2000_0000;

impl Arch {
    pub fn from_name(name: &str) -> Option<Arch> {
        ALL_ARCHES.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }

    pub fn name(self) -> &'static str {
        ALL_ARCHES
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// The `AUDIT_ARCH_*` value the kernel puts in `seccomp_data.arch`.
    pub fn audit(self) -> u32 {
        match self {
            Arch::X86 => 3 | LE,
            Arch::X86_64 | Arch::X32 => 62 | A64 | LE,
            Arch::Arm => 40 | LE,
            Arch::Aarch64 => 183 | A64 | LE,
            Arch::Mips => 8,
            Arch::Mipsel => 8 | LE,
            Arch::Mips64 => 8 | A64,
            Arch::Mipsel64 => 8 | A64 | LE,
            Arch::Mips64N32 => 8 | A64 | MIPS_N32,
            Arch::Mipsel64N32 => 8 | A64 | LE | MIPS_N32,
            Arch::Ppc => 20,
            Arch::Ppc64 => 21 | A64,
            Arch::Ppc64le => 21 | A64 | LE,
            Arch::S390 => 22,
            Arch::S390x => 22 | A64,
            Arch::Parisc => 15,
            Arch::Parisc64 => 15 | A64,
            Arch::Riscv64 => 243 | A64 | LE,
            Arch::Loongarch64 => 258 | A64 | LE,
            Arch::M68k => 4,
            Arch::Sh => 42 | LE,
            Arch::Sheb => 42,
        }
    }

    /// ABIs whose syscall arguments are 32 bits wide: only the low half of
    /// `seccomp_data.args[i]` is compared, as libseccomp does for them.
    pub fn is_32bit(self) -> bool {
        matches!(
            self,
            Arch::X86
                | Arch::X32
                | Arch::Arm
                | Arch::Mips
                | Arch::Mipsel
                | Arch::Mips64N32
                | Arch::Mipsel64N32
                | Arch::Ppc
                | Arch::S390
                | Arch::Parisc
                | Arch::M68k
                | Arch::Sh
                | Arch::Sheb
        )
    }

    /// Whether this build has a syscall table for the arch. Profiles may
    /// name the others; they are left out of the filter (their syscalls get
    /// the bad-arch action), since no process of theirs can run here.
    pub fn has_table(self) -> bool {
        !matches!(
            self,
            Arch::Mips64N32
                | Arch::Mipsel64N32
                | Arch::S390
                | Arch::Parisc
                | Arch::Parisc64
                | Arch::M68k
                | Arch::Sh
                | Arch::Sheb
        )
    }

    /// The architecture this binary runs on (libseccomp's "native" arch,
    /// always part of a filter).
    pub fn native() -> Arch {
        if cfg!(target_arch = "x86_64") {
            if cfg!(target_pointer_width = "32") {
                Arch::X32
            } else {
                Arch::X86_64
            }
        } else if cfg!(target_arch = "x86") {
            Arch::X86
        } else if cfg!(target_arch = "aarch64") {
            Arch::Aarch64
        } else if cfg!(target_arch = "arm") {
            Arch::Arm
        } else if cfg!(target_arch = "riscv64") {
            Arch::Riscv64
        } else if cfg!(target_arch = "s390x") {
            Arch::S390x
        } else if cfg!(target_arch = "powerpc64") {
            if cfg!(target_endian = "little") {
                Arch::Ppc64le
            } else {
                Arch::Ppc64
            }
        } else if cfg!(target_arch = "powerpc") {
            Arch::Ppc
        } else if cfg!(target_arch = "loongarch64") {
            Arch::Loongarch64
        } else if cfg!(target_arch = "mips64") {
            if cfg!(target_endian = "little") {
                Arch::Mipsel64
            } else {
                Arch::Mips64
            }
        } else if cfg!(target_endian = "little") {
            Arch::Mipsel
        } else {
            Arch::Mips
        }
    }

    /// The syscall number of `name` on this arch, None when the arch does
    /// not have it (such names are skipped, as runc does).
    pub fn resolve(self, name: &str) -> Option<u32> {
        fn id<T: FromStr>(name: &str, f: impl Fn(T) -> i32) -> Option<u32> {
            T::from_str(name).ok().map(|s| f(s) as u32)
        }
        match self {
            Arch::X86 => id(name, |s: syscalls::x86::Sysno| s.id()),
            Arch::X86_64 => id(name, |s: syscalls::x86_64::Sysno| s.id()),
            Arch::X32 => x32(name),
            Arch::Arm => id(name, |s: syscalls::arm::Sysno| s.id()).or_else(|| arm_private(name)),
            Arch::Aarch64 => id(name, |s: syscalls::aarch64::Sysno| s.id()),
            Arch::Mips | Arch::Mipsel => id(name, |s: syscalls::mips::Sysno| s.id()),
            Arch::Mips64 | Arch::Mipsel64 => id(name, |s: syscalls::mips64::Sysno| s.id()),
            Arch::Ppc => id(name, |s: syscalls::powerpc::Sysno| s.id()),
            Arch::Ppc64 | Arch::Ppc64le => id(name, |s: syscalls::powerpc64::Sysno| s.id()),
            Arch::S390x => id(name, |s: syscalls::s390x::Sysno| s.id()),
            Arch::Riscv64 => id(name, |s: syscalls::riscv64::Sysno| s.id()),
            Arch::Loongarch64 => id(name, |s: syscalls::loongarch64::Sysno| s.id()),
            _ => None,
        }
    }
}

/// x32 syscalls whose x86_64 entry is 64-bit only and that x32 reaches at
/// 512 + index instead (the "x32" rows of syscall_64.tbl, in order).
const X32_SPECIFIC: &[&str] = &[
    "rt_sigaction",
    "rt_sigreturn",
    "ioctl",
    "readv",
    "writev",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "execve",
    "ptrace",
    "rt_sigpending",
    "rt_sigtimedwait",
    "rt_sigqueueinfo",
    "sigaltstack",
    "timer_create",
    "mq_notify",
    "kexec_load",
    "waitid",
    "set_robust_list",
    "get_robust_list",
    "vmsplice",
    "move_pages",
    "preadv",
    "pwritev",
    "rt_tgsigqueueinfo",
    "recvmmsg",
    "sendmmsg",
    "process_vm_readv",
    "process_vm_writev",
    "setsockopt",
    "getsockopt",
    "io_setup",
    "io_submit",
    "execveat",
    "preadv2",
    "pwritev2",
];

/// x86_64 "64"-only rows that x32 does not have at all.
const X32_ABSENT: &[&str] = &[
    "uselib",
    "_sysctl",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "nfsservctl",
    "set_thread_area",
    "get_thread_area",
];

fn x32(name: &str) -> Option<u32> {
    if let Some(i) = X32_SPECIFIC.iter().position(|n| *n == name) {
        return Some(X32_SYSCALL_BIT | (512 + i as u32));
    }
    if X32_ABSENT.contains(&name) {
        return None;
    }
    syscalls::x86_64::Sysno::from_str(name)
        .ok()
        .map(|s| X32_SYSCALL_BIT | s.id() as u32)
}

/// ARM's private syscalls at `__ARM_NR_BASE` (0x0f0000) + n.
fn arm_private(name: &str) -> Option<u32> {
    let n = match name {
        "breakpoint" => 1,
        "cacheflush" => 2,
        "usr26" => 3,
        "usr32" => 4,
        "set_tls" => 5,
        "get_tls" => 6,
        _ => return None,
    };
    Some(0x0f_0000 + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        // Spot checks against the kernel tables.
        assert_eq!(Arch::X86_64.resolve("mkdir"), Some(83));
        assert_eq!(Arch::X86_64.resolve("clone3"), Some(435));
        assert_eq!(Arch::X86.resolve("mkdir"), Some(39));
        assert_eq!(Arch::X86.resolve("socketcall"), Some(102));
        assert_eq!(Arch::Aarch64.resolve("mkdirat"), Some(34));
        assert_eq!(Arch::Aarch64.resolve("mkdir"), None);
        assert_eq!(Arch::Arm.resolve("mkdir"), Some(39));
        assert_eq!(Arch::Arm.resolve("cacheflush"), Some(0x0f0002));
        assert_eq!(Arch::X32.resolve("read"), Some(X32_SYSCALL_BIT));
        assert_eq!(Arch::X32.resolve("execve"), Some(X32_SYSCALL_BIT | 520));
        assert_eq!(Arch::X32.resolve("pwritev2"), Some(X32_SYSCALL_BIT | 547));
        assert_eq!(Arch::X32.resolve("uselib"), None);
        assert_eq!(Arch::S390x.resolve("exit"), Some(1));
        assert_eq!(Arch::Riscv64.resolve("openat"), Some(56));
        assert_eq!(Arch::Ppc64le.resolve("mkdir"), Some(39));
        assert_eq!(Arch::Mips.resolve("read"), Some(4003));
        assert_eq!(Arch::X86_64.resolve("not_a_syscall"), None);
    }

    #[test]
    fn audit_values() {
        assert_eq!(Arch::X86_64.audit(), 0xC000_003E);
        assert_eq!(Arch::X86.audit(), 0x4000_0003);
        assert_eq!(Arch::Aarch64.audit(), 0xC000_00B7);
        assert_eq!(Arch::Arm.audit(), 0x4000_0028);
        assert_eq!(Arch::S390x.audit(), 0x8000_0016);
        assert_eq!(Arch::Riscv64.audit(), 0xC000_00F3);
        assert_eq!(Arch::Ppc64le.audit(), 0xC000_0015);
    }

    #[test]
    fn names_round_trip() {
        for (n, a) in ALL_ARCHES {
            assert_eq!(Arch::from_name(n), Some(*a));
            assert_eq!(a.name(), *n);
        }
        assert_eq!(Arch::from_name("SCMP_ARCH_NOPE"), None);
    }
}
