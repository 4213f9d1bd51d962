//! Compiler tests: programs are checked like the kernel would and run
//! through the interpreter in interp.rs on many `seccomp_data` cases.
use super::interp::{run, verify, Data};
use super::profile::ret;
use super::syscalls::{Arch, X32_SYSCALL_BIT};
use super::*;
use serde_json::json;

const EPERM: u32 = ret::ERRNO | 1;
const ENOSYS: u32 = ret::ERRNO | 38;
const X86_64: Arch = Arch::X86_64;

fn prog(p: serde_json::Value) -> Program {
    prog_for(p, X86_64)
}

fn prog_for(p: serde_json::Value, native: Arch) -> Program {
    let prog = compile_for(&p, native).unwrap_or_else(|e| panic!("{e}"));
    verify(&prog.filter).unwrap();
    prog
}

fn nr(arch: Arch, name: &str) -> u32 {
    arch.resolve(name).unwrap()
}

/// Verdict for syscall `name` on `arch` with `args`.
fn call(p: &Program, arch: Arch, name: &str, args: [u64; 6]) -> u32 {
    run(&p.filter, &Data::new(arch.audit(), nr(arch, name), args))
}

fn call0(p: &Program, name: &str) -> u32 {
    call(p, X86_64, name, [0; 6])
}

fn err_of(p: serde_json::Value) -> String {
    compile_for(&p, X86_64).unwrap_err().to_string()
}

#[test]
fn deny_mkdir_with_eperm() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]
    }));
    assert_eq!(call0(&p, "mkdir"), EPERM);
    assert_eq!(call0(&p, "mkdirat"), EPERM);
    assert_eq!(call0(&p, "rmdir"), ret::ALLOW);
    assert_eq!(call0(&p, "read"), ret::ALLOW);
    // Default ALLOW: no ENOSYS stub.
    assert_eq!(
        run(&p.filter, &Data::new(X86_64.audit(), 1000, [0; 6])),
        ret::ALLOW
    );
    assert!(!p.notify);
}

#[test]
fn errno_ret_everywhere() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 13,
        "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
            {"names": ["rmdir"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
            {"names": ["chdir"], "action": "SCMP_ACT_TRACE"},
            {"names": ["getpid", "exit_group"], "action": "SCMP_ACT_ALLOW"}
        ]
    }));
    assert_eq!(call0(&p, "mkdir"), ret::ERRNO | 18);
    assert_eq!(call0(&p, "rmdir"), ret::TRACE | 7);
    assert_eq!(call0(&p, "chdir"), ret::TRACE | 1);
    assert_eq!(call0(&p, "getpid"), ret::ALLOW);
    assert_eq!(call0(&p, "read"), ret::ERRNO | 13);
}

#[test]
fn every_action() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/agent.sock",
        "syscalls": [
            {"names": ["unshare"], "action": "SCMP_ACT_KILL"},
            {"names": ["setns"], "action": "SCMP_ACT_KILL_THREAD"},
            {"names": ["mount"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["umount2"], "action": "SCMP_ACT_TRAP"},
            {"names": ["chroot"], "action": "SCMP_ACT_LOG"},
            {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
            {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"}
        ]
    }));
    assert_eq!(call0(&p, "unshare"), ret::KILL_THREAD);
    assert_eq!(call0(&p, "setns"), ret::KILL_THREAD);
    assert_eq!(call0(&p, "mount"), ret::KILL_PROCESS);
    assert_eq!(call0(&p, "umount2"), ret::TRAP);
    assert_eq!(call0(&p, "chroot"), ret::LOG);
    assert_eq!(call0(&p, "mkdir"), ret::USER_NOTIF);
    assert_eq!(call0(&p, "rmdir"), EPERM);
    assert!(p.notify);
}

#[test]
fn enosys_stub_for_newer_syscalls() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["read", "write", "openat", "close_range"], "action": "SCMP_ACT_ALLOW"}]
    }));
    let max = nr(X86_64, "close_range"); // 436
    assert_eq!(call0(&p, "read"), ret::ALLOW);
    // Below the highest named syscall: the default errno.
    assert_eq!(call0(&p, "clone3"), EPERM); // 435
    assert_eq!(call0(&p, "mkdir"), EPERM);
    // Newer than anything the profile knows: ENOSYS.
    assert_eq!(call0(&p, "faccessat2"), ENOSYS); // 439
    assert_eq!(
        run(&p.filter, &Data::new(X86_64.audit(), max + 1, [0; 6])),
        ENOSYS
    );
    assert_eq!(
        run(&p.filter, &Data::new(X86_64.audit(), 100_000, [0; 6])),
        ENOSYS
    );
}

#[test]
fn enosys_stub_skipped_like_runc() {
    for (default, errno, expect) in [
        ("SCMP_ACT_LOG", None, ret::LOG),
        ("SCMP_ACT_TRACE", None, ret::TRACE | 1),
        ("SCMP_ACT_ALLOW", None, ret::ALLOW),
        ("SCMP_ACT_ERRNO", Some(38), ENOSYS),
        ("SCMP_ACT_ERRNO", Some(5), ENOSYS),
    ] {
        let mut p = json!({
            "defaultAction": default,
            "syscalls": [{"names": ["read", "close_range"], "action": "SCMP_ACT_KILL"}]
        });
        if let Some(e) = errno {
            p["defaultErrnoRet"] = json!(e);
        }
        let prog = prog(p);
        assert_eq!(call0(&prog, "read"), ret::KILL_THREAD);
        assert_eq!(call0(&prog, "faccessat2"), expect, "{default} {errno:?}");
        let below = if default == "SCMP_ACT_ERRNO" {
            ret::ERRNO | errno.unwrap()
        } else {
            expect
        };
        assert_eq!(call0(&prog, "write"), below, "{default} {errno:?}");
    }
    // Default KILL: the stub applies (nothing gets killed for being new).
    let p = prog(json!({"defaultAction": "SCMP_ACT_KILL_PROCESS",
        "syscalls": [{"names": ["read", "close_range"], "action": "SCMP_ACT_ALLOW"}]}));
    assert_eq!(call0(&p, "write"), ret::KILL_PROCESS);
    assert_eq!(call0(&p, "faccessat2"), ENOSYS);
    // Nothing named on this arch: no stub.
    let p = prog(
        json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["nope"], "action": "SCMP_ACT_ALLOW"}]}),
    );
    assert_eq!(call0(&p, "faccessat2"), EPERM);
}

#[test]
fn architectures_and_bad_arch() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "socketcall"], "action": "SCMP_ACT_ERRNO"}]
    }));
    // mkdir is 83 on x86_64, 39 on i386, 83|X32 bit on x32.
    assert_eq!(call(&p, Arch::X86_64, "mkdir", [0; 6]), EPERM);
    assert_eq!(call(&p, Arch::X86, "mkdir", [0; 6]), EPERM);
    assert_eq!(call(&p, Arch::X32, "mkdir", [0; 6]), EPERM);
    assert_eq!(call(&p, Arch::X86, "socketcall", [0; 6]), EPERM);
    // 39 is getpid on x86_64: allowed there.
    assert_eq!(
        run(&p.filter, &Data::new(X86_64.audit(), 39, [0; 6])),
        ret::ALLOW
    );
    assert_eq!(call(&p, Arch::X86, "rmdir", [0; 6]), ret::ALLOW);
    // An arch not in the filter is killed (libseccomp's bad-arch action).
    assert_eq!(call(&p, Arch::Aarch64, "mkdirat", [0; 6]), ret::KILL_THREAD);

    // Native only: i386 and x32 are bad arches.
    let p = prog(
        json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}),
    );
    assert_eq!(call(&p, Arch::X86_64, "mkdir", [0; 6]), EPERM);
    assert_eq!(call(&p, Arch::X86, "mkdir", [0; 6]), ret::KILL_THREAD);
    assert_eq!(call(&p, Arch::X32, "mkdir", [0; 6]), ret::KILL_THREAD);
    assert_eq!(
        run(
            &p.filter,
            &Data::new(X86_64.audit(), X32_SYSCALL_BIT, [0; 6])
        ),
        ret::KILL_THREAD
    );
}

#[test]
fn native_arch_is_always_filtered() {
    // A profile for other arches still filters this one (libseccomp adds
    // the native arch to every filter).
    let p = prog_for(
        json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_ARM"],
            "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]
        }),
        Arch::Aarch64,
    );
    assert_eq!(call(&p, Arch::Aarch64, "mkdirat", [0; 6]), ret::ERRNO | 5);
    assert_eq!(call(&p, Arch::Arm, "mkdirat", [0; 6]), ret::ERRNO | 5);
    assert_eq!(call(&p, Arch::Arm, "mkdir", [0; 6]), ret::ALLOW);
    assert_eq!(call(&p, Arch::X86_64, "mkdir", [0; 6]), ret::KILL_THREAD);
}

#[test]
fn other_arches_compile_and_run() {
    for native in [
        Arch::Aarch64,
        Arch::Riscv64,
        Arch::S390x,
        Arch::Ppc64le,
        Arch::Arm,
        Arch::X86,
        Arch::Loongarch64,
        Arch::Mips64,
    ] {
        let p = prog_for(
            json!({
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {"names": ["read", "write", "close", "openat", "close_range"], "action": "SCMP_ACT_ALLOW"},
                    {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                     "args": [{"index": 0, "value": 0x10000000u64, "op": "SCMP_CMP_MASKED_EQ", "valueTwo": 0x10000000u64}]}
                ]
            }),
            native,
        );
        assert_eq!(call(&p, native, "read", [0; 6]), ret::ALLOW, "{native:?}");
        assert_eq!(
            call(&p, native, "unshare", [0x1000_0000, 0, 0, 0, 0, 0]),
            ret::ERRNO | 22,
            "{native:?}"
        );
        assert_eq!(
            call(&p, native, "unshare", [0x0002_0000, 0, 0, 0, 0, 0]),
            EPERM,
            "{native:?}"
        );
        let enosys = if native == Arch::Mips64 {
            ret::ERRNO | 89
        } else {
            ENOSYS
        };
        assert_eq!(call(&p, native, "faccessat2", [0; 6]), enosys, "{native:?}");
    }
}

fn reference(op: &str, a: u64, v: u64, v2: u64) -> bool {
    match op {
        "SCMP_CMP_NE" => a != v,
        "SCMP_CMP_LT" => a < v,
        "SCMP_CMP_LE" => a <= v,
        "SCMP_CMP_EQ" => a == v,
        "SCMP_CMP_GE" => a >= v,
        "SCMP_CMP_GT" => a > v,
        "SCMP_CMP_MASKED_EQ" => a & v == v2,
        _ => unreachable!(),
    }
}

const EDGES: &[u64] = &[
    0,
    1,
    2,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_fffe,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x1_ffff_ffff,
    0x2_0000_0000,
    0xdead_beef_0000_0010,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - 1,
    u64::MAX,
];

#[test]
fn every_operator_on_64_bit_values() {
    for (op, _) in profile::OPERATORS {
        for &v in EDGES {
            for &v2 in [0u64, 0x10, v & 0xffff_0000_ffff_0000].iter() {
                let p = prog(json!({
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99,
                                  "args": [{"index": 2, "value": v, "valueTwo": v2, "op": op}]}]
                }));
                for &a in EDGES.iter().chain(
                    [
                        v,
                        v.wrapping_add(1),
                        v.wrapping_sub(1),
                        v2,
                        v ^ 0x1_0000_0000,
                    ]
                    .iter(),
                ) {
                    let got = call(&p, X86_64, "personality", [0, 0, a, 0, 0, 0]);
                    let want = if reference(op, a, v, v2) {
                        ret::ERRNO | 99
                    } else {
                        ret::ALLOW
                    };
                    assert_eq!(got, want, "{op} arg={a:#x} value={v:#x} valueTwo={v2:#x}");
                }
            }
        }
    }
}

#[test]
fn operators_on_32_bit_arch_compare_the_low_half() {
    for (op, _) in profile::OPERATORS {
        for &v in EDGES {
            let p = prog_for(
                json!({
                    "defaultAction": "SCMP_ACT_ALLOW",
                    "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                                  "args": [{"index": 0, "value": v, "valueTwo": 0x10, "op": op}]}]
                }),
                Arch::X86,
            );
            for &a in EDGES {
                let a32 = a & 0xffff_ffff;
                let got = call(&p, Arch::X86, "personality", [a32, 0, 0, 0, 0, 0]);
                let want = reference(op, a32, v & 0xffff_ffff, 0x10);
                assert_eq!(got == EPERM, want, "{op} arg={a32:#x} value={v:#x}");
            }
        }
    }
}

#[test]
fn args_anded_same_index_ored_rules_ored() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            // AND: arg0 == 1 and arg1 > 10
            {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                {"index": 1, "value": 10, "op": "SCMP_CMP_GT"}]},
            // Same index twice: OR (runc splits them), e.g. docker's personality rules.
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            // Two rules for one syscall: OR.
            {"names": ["tkill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 5, "op": "SCMP_CMP_EQ"}]},
            {"names": ["tkill"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 6, "op": "SCMP_CMP_EQ"}]}
        ]
    }));
    let k = |a0, a1| call(&p, X86_64, "kill", [a0, a1, 0, 0, 0, 0]);
    assert_eq!(k(1, 11), ret::ALLOW);
    assert_eq!(k(1, 10), EPERM);
    assert_eq!(k(2, 11), EPERM);
    let per = |a0| call(&p, X86_64, "personality", [a0, 0, 0, 0, 0, 0]);
    assert_eq!(per(0), ret::ALLOW);
    assert_eq!(per(8), ret::ALLOW);
    assert_eq!(per(9), EPERM);
    let t = |a0, a1| call(&p, X86_64, "tkill", [a0, a1, 0, 0, 0, 0]);
    assert_eq!(t(5, 0), ret::ALLOW);
    assert_eq!(t(0, 6), ret::ALLOW);
    assert_eq!(t(0, 0), EPERM);
}

#[test]
fn conditional_rules_before_unconditional_and_default_rules_dropped() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97},
            {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
            {"names": ["socket"], "action": "SCMP_ACT_LOG", "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}
        ]
    }));
    // The ALLOW rule equals the default and is dropped (runc), so AF_UNIX
    // gets the unconditional errno; the LOG rule is more specific.
    assert_eq!(
        call(&p, X86_64, "socket", [1, 0, 0, 0, 0, 0]),
        ret::ERRNO | 97
    );
    assert_eq!(call(&p, X86_64, "socket", [2, 0, 0, 0, 0, 0]), ret::LOG);
    assert_eq!(
        call(&p, X86_64, "socket", [10, 0, 0, 0, 0, 0]),
        ret::ERRNO | 97
    );
}

#[test]
fn unknown_names_are_skipped_and_reported() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "no_such_syscall", "arm_fadvise64_64"], "action": "SCMP_ACT_ERRNO"}]
    }));
    assert_eq!(call0(&p, "mkdir"), EPERM);
    assert_eq!(
        p.skipped,
        vec![
            "no_such_syscall".to_string(),
            "arm_fadvise64_64".to_string()
        ]
    );
}

/// Every syscall of the arch named, many with argument checks: the program
/// needs long jumps, must stay valid, and still answer right for each.
#[test]
fn big_profile_with_long_jumps() {
    let names: Vec<&str> = ::syscalls::x86_64::Sysno::iter()
        .map(|s| s.name())
        .collect();
    let mut rules = vec![json!({"names": names, "action": "SCMP_ACT_ALLOW"})];
    for (i, n) in names.iter().enumerate().step_by(3) {
        rules.push(
            json!({"names": [n], "action": "SCMP_ACT_ERRNO", "errnoRet": 100 + (i % 50),
            "args": [{"index": i % 6, "value": i as u64 * 0x1_0000_0001, "op": "SCMP_CMP_EQ"}]}),
        );
    }
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_KILL_PROCESS",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": rules
    }));
    assert!(
        p.filter.len() > 256 && p.filter.len() <= MAX_INSNS,
        "{}",
        p.filter.len()
    );
    assert!(p.filter.iter().any(|i| i.code == bpf::JA && i.k > 255));
    for (i, n) in names.iter().enumerate() {
        let mut args = [0u64; 6];
        args[i % 6] = i as u64 * 0x1_0000_0001;
        let want = if i % 3 == 0 {
            ret::ERRNO | (100 + (i % 50)) as u32
        } else {
            ret::ALLOW
        };
        assert_eq!(call(&p, X86_64, n, args), want, "{n}");
        assert_eq!(call(&p, X86_64, n, [7; 6]), ret::ALLOW, "{n}");
        if let Some(x) = Arch::X86.resolve(n) {
            assert_eq!(
                run(&p.filter, &Data::new(Arch::X86.audit(), x, [7; 6])),
                ret::ALLOW,
                "i386 {n}"
            );
        }
    }
    // Holes in the x86_64 table (335..423) get the default; past the end ENOSYS.
    assert_eq!(
        run(&p.filter, &Data::new(X86_64.audit(), 400, [0; 6])),
        ret::KILL_PROCESS
    );
    assert_eq!(
        run(&p.filter, &Data::new(X86_64.audit(), 2000, [0; 6])),
        ENOSYS
    );
}

/// A docker-style allow list (every syscall, three ABIs) collapses into a
/// few runs per arch.
#[test]
fn allow_lists_stay_small() {
    let names: Vec<&str> = ::syscalls::x86_64::Sysno::iter()
        .map(|s| s.name())
        .collect();
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    }));
    // ~100 per ABI: the runs break at the holes of the tables.
    assert!(p.filter.len() < 400, "{}", p.filter.len());
    for n in &names {
        assert_eq!(call0(&p, n), ret::ALLOW, "{n}");
    }
}

#[test]
fn too_long_is_an_error() {
    let names: Vec<&str> = ::syscalls::x86_64::Sysno::iter()
        .map(|s| s.name())
        .collect();
    let rules: Vec<_> = names
        .iter()
        .map(|n| json!({"names": [n], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_GT"}, {"index": 1, "value": 1, "op": "SCMP_CMP_LT"},
            {"index": 2, "value": 1, "op": "SCMP_CMP_GE"}]}))
        .collect();
    let e = compile_for(
        &json!({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": rules}),
        X86_64,
    )
    .unwrap_err();
    assert!(matches!(e, SeccompError::TooLong(_)), "{e}");
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (json!({}), "linux.seccomp.defaultAction: is required"),
        (
            json!({"defaultAction": "SCMP_ACT_FOO"}),
            "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_NOTIFY"}),
            "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as the default action",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}),
            "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not take an errno",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]}),
            "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_NOPE"]}),
            "linux.seccomp.flags[0]: unknown flag",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerMetadata": "x"}),
            "linux.seccomp.listenerMetadata: must not be set without listenerPath",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["a"], "action": "SCMP_ACT_FOO"}]}),
            "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}),
            "linux.seccomp.syscalls[0].names: must contain at least one",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 3}]}),
            "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not take an errno",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}),
            "linux.seccomp.syscalls[0].args[0].index: must be an integer from 0 to 5",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_XX"}]}]}),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_XX\"",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}),
            "linux.seccomp.syscalls[0].args[0].value: must be an integer",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/s", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_NOTIFY"}]}),
            "linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for the write syscall",
        ),
        (
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
            "linux.seccomp.listenerPath: is required when SCMP_ACT_NOTIFY is used",
        ),
        (json!("x"), "linux.seccomp: must be an object"),
    ];
    for (p, want) in cases {
        let got = err_of(p.clone());
        assert!(got.starts_with(want), "{p}: got {got:?}, want {want:?}");
    }
}

#[test]
fn flags_and_program_json() {
    let p = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]
    }));
    assert_eq!(p.flags, (1 << 1) | (1 << 2) | (1 << 5));
    // No notify rule: WAIT_KILLABLE_RECV is dropped at load.
    assert_eq!(effective_flags(&p, 0), (1 << 1) | (1 << 2));
    let v = serde_json::to_value(&p).unwrap();
    assert!(v["filter"][0].is_array());
    assert_eq!(from_plan(&v).unwrap(), p);
    assert_eq!(p.to_bytes().len(), p.filter.len() * 8);
    // A raw profile in the plan is compiled.
    let raw = json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]});
    assert_eq!(
        from_plan(&raw).unwrap().filter,
        compile(&raw).unwrap().filter
    );

    // No flags key: runc's default SPEC_ALLOW (this kernel has it); an
    // empty list means none.
    if supported_flags().contains(&"SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
        assert_eq!(compile(&raw).unwrap().flags, 1 << 2);
    }
    let mut empty = raw.clone();
    empty["flags"] = json!([]);
    assert_eq!(compile(&empty).unwrap().flags, 0);

    let n = prog(json!({
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/a",
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]
    }));
    assert_eq!(effective_flags(&n, 0), 1 | (1 << 3) | (1 << 4) | (1 << 5));
}

#[test]
fn feature_lists() {
    assert_eq!(actions().len(), 9);
    assert_eq!(operators().len(), 7);
    assert_eq!(known_flags().len(), 4);
    assert!(archs().contains(&"SCMP_ARCH_X86_64") && archs().contains(&"SCMP_ARCH_AARCH64"));
    // Probing is unprivileged and installs nothing. TSYNC exists since 3.17.
    if enabled() {
        assert!(supported_flags().contains(&"SECCOMP_FILTER_FLAG_TSYNC"));
        assert!(available_actions().contains(&"SCMP_ACT_ALLOW"));
    }
}

// ---- real kernel: filters loaded in a forked child ----

/// Forks; the child runs `f` (which must not allocate: the test harness is
/// multi-threaded) and `_exit`s with its result. Returns the wait status.
fn in_child(f: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only makes raw syscalls and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = f();
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

fn errno() -> i32 {
    nix::errno::Errno::last_raw()
}

fn nnp_and_load(p: &Program) -> Option<i32> {
    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    match load(p, 0) {
        Ok(fd) => Some(fd.map(std::os::fd::IntoRawFd::into_raw_fd).unwrap_or(-1)),
        Err(_) => None,
    }
}

fn tmpdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pyrunc-seccomp-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir(&d).unwrap();
    d
}

#[test]
fn real_filter_denies_mkdir_with_eperm() {
    if !enabled() {
        return;
    }
    let p = compile(&json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]
    }))
    .unwrap();
    let dir = tmpdir("mkdir");
    let target = std::ffi::CString::new(dir.join("x").to_str().unwrap()).unwrap();
    let status = in_child(|| {
        if nnp_and_load(&p).is_none() {
            return 100;
        }
        let rc = unsafe { libc::mkdir(target.as_ptr(), 0o755) };
        if rc == 0 {
            0
        } else {
            errno()
        }
    });
    assert!(libc::WIFEXITED(status));
    assert_eq!(libc::WEXITSTATUS(status), libc::EPERM);
    assert!(!dir.join("x").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn real_filter_kills_on_unshare_and_stubs_enosys() {
    if !enabled() {
        return;
    }
    let native = Arch::native();
    let Some(getpid) = native.resolve("getpid") else {
        return;
    };
    let p = compile(&json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["exit", "exit_group", "getpid", "close_range"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["unshare"], "action": "SCMP_ACT_KILL_PROCESS"}
        ]
    }))
    .unwrap();
    let max = native.resolve("close_range").unwrap();
    let status = in_child(|| {
        if nnp_and_load(&p).is_none() {
            return 100;
        }
        if unsafe { libc::syscall(getpid as libc::c_long) } <= 0 {
            return 101;
        }
        // Newer than anything the profile names: ENOSYS.
        if unsafe { libc::syscall((max + 3) as libc::c_long, 0, 0) } != -1
            || errno() != libc::ENOSYS
        {
            return 102;
        }
        // An older syscall the profile does not name: the default EPERM.
        if unsafe { libc::syscall(libc::SYS_umask, 0) } != -1 || errno() != libc::EPERM {
            return 103;
        }
        unsafe { libc::unshare(libc::CLONE_NEWUTS) };
        104
    });
    assert!(libc::WIFSIGNALED(status), "status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGSYS);
}

#[test]
fn real_notify_listener_answers_mkdir() {
    if !enabled() || !available_actions().contains(&"SCMP_ACT_NOTIFY") {
        return;
    }
    let p = compile(&json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/unused-here",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    }))
    .unwrap();
    let dir = tmpdir("notify");
    let target = std::ffi::CString::new(dir.join("y").to_str().unwrap()).unwrap();
    // The child loads the filter, forks a grandchild that calls mkdir, and
    // answers the notification itself with EXDEV.
    let status = in_child(|| {
        let Some(fd) = nnp_and_load(&p) else {
            return 100;
        };
        if fd < 0 {
            return 101;
        }
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            unsafe { libc::close(fd) };
            let rc = unsafe { libc::mkdir(target.as_ptr(), 0o755) };
            unsafe { libc::_exit(if rc == 0 { 0 } else { errno() }) };
        }
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) } != 0 {
            return 102;
        }
        let mut resp: libc::seccomp_notif_resp = unsafe { std::mem::zeroed() };
        resp.id = req.id;
        resp.error = -libc::EXDEV;
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) } != 0 {
            return 103;
        }
        let mut st = 0;
        unsafe { libc::waitpid(pid, &mut st, 0) };
        if libc::WIFEXITED(st) {
            libc::WEXITSTATUS(st)
        } else {
            104
        }
    });
    assert!(libc::WIFEXITED(status));
    assert_eq!(libc::WEXITSTATUS(status), libc::EXDEV);
    std::fs::remove_dir_all(dir).unwrap();
}
