//! Test-only: a checker and interpreter for the cBPF subset seccomp allows,
//! written from the kernel's rules (net/core/filter.c bpf_check_classic,
//! kernel/seccomp.c seccomp_check_filter), to run compiled programs on
//! hand-made `struct seccomp_data`.
use super::bpf::{Insn, ALU_AND_K, JA, JEQ_K, JGE_K, JGT_K, JSET_K, LD_W_ABS, MAX_INSNS, RET_K};

/// `struct seccomp_data`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Data {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl Data {
    pub fn new(arch: u32, nr: u32, args: [u64; 6]) -> Self {
        Data {
            nr,
            arch,
            ip: 0x1000,
            args,
        }
    }

    fn bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.ip.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b
    }
}

/// What the kernel would refuse at load time.
pub fn verify(prog: &[Insn]) -> Result<(), String> {
    if prog.is_empty() || prog.len() > MAX_INSNS {
        return Err(format!("bad length {}", prog.len()));
    }
    for (pc, i) in prog.iter().enumerate() {
        let next = pc + 1;
        match i.code {
            LD_W_ABS => {
                if i.k % 4 != 0 || i.k >= 64 {
                    return Err(format!("{pc}: bad load offset {}", i.k));
                }
            }
            ALU_AND_K | RET_K => {}
            JA => {
                if next as u64 + i.k as u64 >= prog.len() as u64 {
                    return Err(format!("{pc}: ja out of range"));
                }
            }
            JEQ_K | JGT_K | JGE_K | JSET_K => {
                if next + i.jt as usize >= prog.len() || next + i.jf as usize >= prog.len() {
                    return Err(format!("{pc}: jump out of range"));
                }
            }
            c => return Err(format!("{pc}: opcode {c:#x} not allowed")),
        }
    }
    if prog[prog.len() - 1].code != RET_K {
        return Err("last instruction is not ret".into());
    }
    Ok(())
}

/// Runs the program and returns the filter's verdict.
pub fn run(prog: &[Insn], d: &Data) -> u32 {
    let mem = d.bytes();
    let mut a: u32 = 0;
    let mut pc = 0usize;
    // Forward-only jumps: at most len steps.
    for _ in 0..=prog.len() {
        let i = prog[pc];
        pc += 1;
        match i.code {
            LD_W_ABS => {
                let k = i.k as usize;
                a = u32::from_ne_bytes(mem[k..k + 4].try_into().unwrap());
            }
            ALU_AND_K => a &= i.k,
            RET_K => return i.k,
            JA => pc += i.k as usize,
            JEQ_K | JGT_K | JGE_K | JSET_K => {
                let t = match i.code {
                    JEQ_K => a == i.k,
                    JGT_K => a > i.k,
                    JGE_K => a >= i.k,
                    _ => a & i.k != 0,
                };
                pc += if t { i.jt } else { i.jf } as usize;
            }
            c => panic!("opcode {c:#x}"),
        }
    }
    panic!("program did not return");
}
