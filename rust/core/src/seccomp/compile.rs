//! A parsed profile -> one cBPF program for every architecture it names.
//!
//! Layout (libseccomp's semantics, our own code):
//!
//! ```text
//!   ld arch; jeq AUDIT_ARCH_<a> -> section(a) ...; ret KILL_THREAD   (bad arch)
//!   section(x86_64 audit): ld nr; jset X32_BIT -> x32 : x86_64      (either may be "bad arch")
//!   section(a): ld nr; binary search over runs of nr -> one leaf per run:
//!     ret action | ret default | ret ERRNO(ENOSYS) (nr > highest named nr)
//!     | rule block: [arg checks -> ret action]* ; ret unconditional-or-default
//! ```
//!
//! Rules for one syscall: rules with argument checks first (in profile order,
//! first match wins), then the first rule without checks, then the default;
//! several checks in one rule are ANDed; checks on the same argument index in
//! one rule are split into separate rules (ORed), as runc does. A rule whose
//! action equals the default action is dropped, as runc does.
//!
//! The ENOSYS stub is runc's idea (libcontainer/seccomp/patchbpf): a syscall
//! newer than every syscall the profile names gets ENOSYS instead of the
//! default errno, so that new libcs fall back (clone3 -> clone, faccessat2
//! -> faccessat) instead of failing with EPERM. Like runc, it is left out when
//! the default action lets syscalls through (ALLOW, LOG, TRACE) or when the
//! default errno already is ENOSYS.
use super::bpf::{Asm, Label, To, JEQ_K, JGE_K, JGT_K, JSET_K, RET_K};
use super::profile::{ret, ActionKind, ArgCmp, CmpOp, Profile};
use super::syscalls::{Arch, X32_SYSCALL_BIT};
use super::{Program, SeccompError};
use std::collections::BTreeMap;

/// offsetof(struct seccomp_data, nr / arch / args).
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_ARGS: u32 = 16;

/// libseccomp's default bad-arch action.
const BAD_ARCH: u32 = ret::KILL_THREAD;

/// One compiled rule for one syscall: all `checks` must hold.
struct ArchRule {
    checks: Vec<ArgCmp>,
    ret: u32,
}

struct Section {
    arch: Arch,
    /// syscall nr -> rules in profile order.
    calls: BTreeMap<u32, Vec<ArchRule>>,
    /// The highest nr the profile names on this arch (the ENOSYS stub bound).
    max: Option<u32>,
}

/// ENOSYS as the task of that ABI sees it (MIPS and PA-RISC number it
/// differently from everyone else).
fn enosys(arch: Arch) -> u32 {
    match arch {
        Arch::Mips
        | Arch::Mipsel
        | Arch::Mips64
        | Arch::Mipsel64
        | Arch::Mips64N32
        | Arch::Mipsel64N32 => 89,
        Arch::Parisc | Arch::Parisc64 => 251,
        _ => 38,
    }
}

pub fn compile_for(p: &Profile, native: Arch) -> Result<Program, SeccompError> {
    let default = p.default_action.ret();

    // libseccomp always filters the native arch, then the listed ones.
    let mut arches = vec![native];
    for a in &p.architectures {
        if !arches.contains(a) && a.has_table() {
            arches.push(*a);
        }
    }

    let mut skipped: Vec<String> = Vec::new();
    let mut sections = Vec::new();
    for &arch in &arches {
        let mut s = Section {
            arch,
            calls: BTreeMap::new(),
            max: None,
        };
        for rule in &p.rules {
            for name in &rule.names {
                let Some(nr) = arch.resolve(name) else {
                    if arch == native && !skipped.contains(name) {
                        skipped.push(name.clone());
                    }
                    continue;
                };
                s.max = Some(s.max.map_or(nr, |m| m.max(nr)));
                let r = rule.action.ret();
                if r == default {
                    continue;
                }
                let entry = s.calls.entry(nr).or_default();
                if same_index_twice(&rule.args) {
                    for a in &rule.args {
                        entry.push(ArchRule {
                            checks: vec![*a],
                            ret: r,
                        });
                    }
                } else {
                    entry.push(ArchRule {
                        checks: rule.args.clone(),
                        ret: r,
                    });
                }
            }
        }
        sections.push(s);
    }

    let stub = !matches!(
        p.default_action.kind,
        ActionKind::Allow | ActionKind::Log | ActionKind::Trace
    ) && p.default_errno_ret != Some(libc::ENOSYS as u32);

    let mut asm = Asm::new();
    asm.load(OFF_ARCH);
    let mut audits: Vec<(u32, Label)> = Vec::new();
    for s in &sections {
        let audit = s.arch.audit();
        if !audits.iter().any(|(a, _)| *a == audit) {
            let l = asm.label();
            asm.jump(JEQ_K, audit, To::L(l), To::Next);
            audits.push((audit, l));
        }
    }
    asm.ret(BAD_ARCH);

    for (audit, label) in &audits {
        asm.bind(*label);
        asm.load(OFF_NR);
        let of = |a: Arch| sections.iter().position(|s| s.arch == a);
        if *audit == Arch::X86_64.audit() {
            // x86_64 and x32 share AUDIT_ARCH_X86_64; the nr tells them apart.
            let (l64, l32, bad) = (asm.label(), asm.label(), asm.label());
            let (i64, i32) = (of(Arch::X86_64), of(Arch::X32));
            let t32 = if i32.is_some() {
                To::L(l32)
            } else {
                To::L(bad)
            };
            let t64 = if i64.is_some() {
                To::L(l64)
            } else {
                To::L(bad)
            };
            asm.jump(JSET_K, X32_SYSCALL_BIT, t32, t64);
            for (i, l) in [(i64, l64), (i32, l32)] {
                if let Some(i) = i {
                    asm.bind(l);
                    section(&mut asm, &sections[i], default, stub);
                }
            }
            if i64.is_none() || i32.is_none() {
                asm.bind(bad);
                asm.ret(BAD_ARCH);
            }
        } else {
            let i = sections
                .iter()
                .position(|s| s.arch.audit() == *audit)
                .ok_or_else(internal)?;
            section(&mut asm, &sections[i], default, stub);
        }
    }

    let filter = asm.assemble().map_err(|e| match e {
        super::bpf::AsmError::TooLong(n) => SeccompError::TooLong(n),
        super::bpf::AsmError::BadLabel => internal(),
    })?;
    let notify = filter
        .iter()
        .any(|i| i.code == RET_K && i.k == ret::USER_NOTIF);
    Ok(Program {
        filter,
        flags: p.flags,
        notify,
        skipped,
    })
}

fn internal() -> SeccompError {
    SeccompError::Internal("unresolved jump label".into())
}

fn same_index_twice(args: &[ArgCmp]) -> bool {
    args.iter()
        .enumerate()
        .any(|(i, a)| args[..i].iter().any(|b| b.index == a.index))
}

/// What a run of syscall numbers gets: a plain return, or a rule block.
enum Seg<'a> {
    Ret(u32),
    Block(&'a [ArchRule]),
}

/// One architecture's part; the accumulator holds `nr` on entry.
///
/// The number space is cut into contiguous segments (a run of syscalls with
/// the same plain action is one segment, so an allow list of hundreds of
/// syscalls stays small) and found by binary search on the lower bounds.
fn section(asm: &mut Asm, s: &Section, default: u32, stub: bool) {
    let nosys = ret::ERRNO | enosys(s.arch);
    let stub_max = if stub { s.max } else { None };
    let mut segs: Vec<(u32, Seg)> = Vec::new();
    fn push<'a>(segs: &mut Vec<(u32, Seg<'a>)>, lo: u32, seg: Seg<'a>) {
        if let (Some((_, Seg::Ret(prev))), Seg::Ret(v)) = (segs.last(), &seg) {
            if prev == v {
                return; // extends the previous run
            }
        }
        segs.push((lo, seg));
    }
    let mut next: Option<u32> = Some(0); // first nr not covered yet
    if stub_max.is_some() && s.arch == Arch::S390x && !s.calls.contains_key(&0) {
        // s390 multiplexes large syscall numbers through nr 0 (the
        // long-gone setup(2)); an unknown one arrives as 0 (runc's quirk).
        push(&mut segs, 0, Seg::Ret(nosys));
        next = Some(1);
    }
    for (&nr, rules) in &s.calls {
        let Some(n) = next else { break };
        if nr < n {
            continue;
        }
        if nr > n {
            push(&mut segs, n, Seg::Ret(default));
        }
        let seg = if rules.iter().all(|r| r.checks.is_empty()) {
            Seg::Ret(rules[0].ret)
        } else {
            Seg::Block(rules)
        };
        push(&mut segs, nr, seg);
        next = nr.checked_add(1);
    }
    if let Some(n) = next {
        match stub_max {
            // Newer than every syscall the profile names: ENOSYS.
            Some(max) => {
                let above = max.saturating_add(1).max(n);
                if above > n {
                    push(&mut segs, n, Seg::Ret(default));
                }
                if max < u32::MAX {
                    push(&mut segs, above, Seg::Ret(nosys));
                }
            }
            None => push(&mut segs, n, Seg::Ret(default)),
        }
    }
    tree(asm, s.arch, &segs, default);
}

fn tree(asm: &mut Asm, arch: Arch, segs: &[(u32, Seg)], default: u32) {
    if segs.len() == 1 {
        match &segs[0].1 {
            Seg::Ret(v) => asm.ret(*v),
            Seg::Block(rules) => rule_block(asm, arch, rules, default),
        }
        return;
    }
    let mid = segs.len() / 2;
    let right = asm.label();
    asm.jump(JGE_K, segs[mid].0, To::L(right), To::Next);
    tree(asm, arch, &segs[..mid], default);
    asm.bind(right);
    tree(asm, arch, &segs[mid..], default);
}

fn rule_block(asm: &mut Asm, arch: Arch, rules: &[ArchRule], default: u32) {
    for r in rules.iter().filter(|r| !r.checks.is_empty()) {
        let fail = asm.label();
        for c in &r.checks {
            check(asm, arch, c, fail);
        }
        asm.ret(r.ret);
        asm.bind(fail);
    }
    let last = rules
        .iter()
        .find(|r| r.checks.is_empty())
        .map_or(default, |r| r.ret);
    asm.ret(last);
}

/// Falls through when `c` holds, jumps to `fail` otherwise. 64-bit
/// arguments are compared as two 32-bit halves, high half first.
fn check(asm: &mut Asm, arch: Arch, c: &ArgCmp, fail: Label) {
    let base = OFF_ARGS + 8 * c.index;
    let (lo_off, hi_off) = if cfg!(target_endian = "little") {
        (base, base + 4)
    } else {
        (base + 4, base)
    };
    let (vlo, vhi) = (c.value as u32, (c.value >> 32) as u32);
    let (dlo, dhi) = (c.value_two as u32, (c.value_two >> 32) as u32);
    let (n, f) = (To::Next, To::L(fail));

    if arch.is_32bit() {
        asm.load(lo_off);
        match c.op {
            CmpOp::Eq => asm.jump(JEQ_K, vlo, n, f),
            CmpOp::Ne => asm.jump(JEQ_K, vlo, f, n),
            CmpOp::Gt => asm.jump(JGT_K, vlo, n, f),
            CmpOp::Ge => asm.jump(JGE_K, vlo, n, f),
            CmpOp::Lt => asm.jump(JGE_K, vlo, f, n),
            CmpOp::Le => asm.jump(JGT_K, vlo, f, n),
            CmpOp::MaskedEq => {
                asm.and(vlo);
                asm.jump(JEQ_K, dlo, n, f);
            }
        }
        return;
    }

    let pass = asm.label();
    let p = To::L(pass);
    asm.load(hi_off);
    match c.op {
        CmpOp::Eq => {
            asm.jump(JEQ_K, vhi, n, f);
            asm.load(lo_off);
            asm.jump(JEQ_K, vlo, n, f);
        }
        CmpOp::Ne => {
            asm.jump(JEQ_K, vhi, n, p);
            asm.load(lo_off);
            asm.jump(JEQ_K, vlo, f, n);
        }
        CmpOp::Gt | CmpOp::Ge => {
            asm.jump(JGT_K, vhi, p, n);
            asm.jump(JEQ_K, vhi, n, f);
            asm.load(lo_off);
            asm.jump(if c.op == CmpOp::Gt { JGT_K } else { JGE_K }, vlo, n, f);
        }
        CmpOp::Lt | CmpOp::Le => {
            asm.jump(JGT_K, vhi, f, n);
            asm.jump(JEQ_K, vhi, n, p);
            asm.load(lo_off);
            asm.jump(if c.op == CmpOp::Lt { JGE_K } else { JGT_K }, vlo, f, n);
        }
        CmpOp::MaskedEq => {
            asm.and(vhi);
            asm.jump(JEQ_K, dhi, n, f);
            asm.load(lo_off);
            asm.and(vlo);
            asm.jump(JEQ_K, dlo, n, f);
        }
    }
    asm.bind(pass);
}
