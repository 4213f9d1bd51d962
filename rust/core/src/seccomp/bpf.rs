//! Classic BPF instructions and a tiny assembler with forward labels.
//!
//! Conditional jumps in cBPF have 8-bit offsets; `ja` has a 32-bit one. The
//! assembler lays the program out, and any conditional branch whose target is
//! more than 255 instructions away is rewritten as a short branch to one or
//! two `ja` trampolines placed right after it. Layout repeats until nothing
//! changes (a rewrite only grows the program, so this terminates).
use serde::{Deserialize, Serialize};

// linux/bpf_common.h + linux/filter.h opcodes (only what seccomp needs).
pub const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
pub const ALU_AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
pub const JA: u16 = 0x05; // BPF_JMP | BPF_JA
pub const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
pub const JGT_K: u16 = 0x25; // BPF_JMP | BPF_JGT | BPF_K
pub const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
pub const JSET_K: u16 = 0x45; // BPF_JMP | BPF_JSET | BPF_K
pub const RET_K: u16 = 0x06; // BPF_RET | BPF_K

/// BPF_MAXINSNS: the kernel refuses longer filters.
pub const MAX_INSNS: usize = 4096;

/// One `struct sock_filter` (same layout, so a `&[Insn]` is handed to the
/// kernel as is); serialized as `[code, jt, jf, k]`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u16, u8, u8, u32)", into = "(u16, u8, u8, u32)")]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl From<(u16, u8, u8, u32)> for Insn {
    fn from((code, jt, jf, k): (u16, u8, u8, u32)) -> Self {
        Insn { code, jt, jf, k }
    }
}

impl From<Insn> for (u16, u8, u8, u32) {
    fn from(i: Insn) -> Self {
        (i.code, i.jt, i.jf, i.k)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// Where a conditional branch goes: the next instruction or a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    Next,
    L(Label),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Plain(Insn),
    Ja(Label),
    Cond { code: u16, k: u32, jt: To, jf: To },
    Bind(Label),
}

#[derive(Default)]
pub struct Asm {
    ops: Vec<Op>,
    labels: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum AsmError {
    /// A label jumped to but never bound, or bound before the jump (cBPF
    /// only jumps forward): a compiler bug.
    BadLabel,
    TooLong(usize),
}

impl Asm {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }

    pub fn bind(&mut self, l: Label) {
        self.ops.push(Op::Bind(l));
    }

    pub fn load(&mut self, offset: u32) {
        self.ops.push(Op::Plain(Insn {
            code: LD_W_ABS,
            jt: 0,
            jf: 0,
            k: offset,
        }));
    }

    pub fn and(&mut self, k: u32) {
        self.ops.push(Op::Plain(Insn {
            code: ALU_AND_K,
            jt: 0,
            jf: 0,
            k,
        }));
    }

    pub fn ret(&mut self, k: u32) {
        self.ops.push(Op::Plain(Insn {
            code: RET_K,
            jt: 0,
            jf: 0,
            k,
        }));
    }

    pub fn ja(&mut self, l: Label) {
        self.ops.push(Op::Ja(l));
    }

    /// `if (A <code> k) goto jt else goto jf`.
    pub fn jump(&mut self, code: u16, k: u32, jt: To, jf: To) {
        if jt == jf {
            // Both ways lead to the same place: no test needed.
            if let To::L(l) = jt {
                self.ja(l);
            }
            return;
        }
        self.ops.push(Op::Cond { code, k, jt, jf });
    }

    pub fn assemble(&self) -> Result<Vec<Insn>, AsmError> {
        let mut long = vec![false; self.ops.len()];
        loop {
            let (pos, labels) = self.layout(&long)?;
            let mut changed = false;
            for (i, op) in self.ops.iter().enumerate() {
                if let Op::Cond { jt, jf, .. } = op {
                    if long[i] {
                        continue;
                    }
                    let far = |t: &To| match t {
                        To::Next => false,
                        To::L(l) => match labels[l.0] {
                            Some(p) => p <= pos[i] || p - pos[i] - 1 > 255,
                            None => true,
                        },
                    };
                    if far(jt) || far(jf) {
                        long[i] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                return self.emit(&long, &pos, &labels);
            }
        }
    }

    fn size(op: &Op, long: bool) -> usize {
        match op {
            Op::Bind(_) => 0,
            Op::Cond { jt, jf, .. } if long => {
                1 + [jt, jf].iter().filter(|t| matches!(t, To::L(_))).count()
            }
            _ => 1,
        }
    }

    #[allow(clippy::type_complexity)]
    fn layout(&self, long: &[bool]) -> Result<(Vec<usize>, Vec<Option<usize>>), AsmError> {
        let mut pos = Vec::with_capacity(self.ops.len());
        let mut labels = vec![None; self.labels];
        let mut at = 0usize;
        for (i, op) in self.ops.iter().enumerate() {
            pos.push(at);
            if let Op::Bind(l) = op {
                if labels[l.0].is_some() {
                    return Err(AsmError::BadLabel);
                }
                labels[l.0] = Some(at);
            }
            at += Self::size(op, long[i]);
        }
        Ok((pos, labels))
    }

    fn emit(
        &self,
        long: &[bool],
        pos: &[usize],
        labels: &[Option<usize>],
    ) -> Result<Vec<Insn>, AsmError> {
        let target = |l: &Label, from: usize| -> Result<u32, AsmError> {
            // Offsets count from the instruction after the jump.
            match labels[l.0] {
                Some(p) if p > from => Ok((p - from - 1) as u32),
                _ => Err(AsmError::BadLabel),
            }
        };
        let mut out: Vec<Insn> = Vec::new();
        for (i, op) in self.ops.iter().enumerate() {
            let here = pos[i];
            match op {
                Op::Bind(_) => {}
                Op::Plain(insn) => out.push(*insn),
                Op::Ja(l) => out.push(Insn {
                    code: JA,
                    jt: 0,
                    jf: 0,
                    k: target(l, here)?,
                }),
                Op::Cond { code, k, jt, jf } if !long[i] => {
                    let off = |t: &To| -> Result<u8, AsmError> {
                        match t {
                            To::Next => Ok(0),
                            To::L(l) => Ok(target(l, here)? as u8),
                        }
                    };
                    out.push(Insn {
                        code: *code,
                        jt: off(jt)?,
                        jf: off(jf)?,
                        k: *k,
                    });
                }
                Op::Cond { code, k, jt, jf } => {
                    // cond; [ja jt]; [ja jf]; next...
                    let n = Self::size(op, true) - 1;
                    let mut slot = 0u8;
                    let mut tramp = Vec::new();
                    let mut short = |t: &To| -> u8 {
                        match t {
                            To::Next => n as u8,
                            To::L(l) => {
                                tramp.push(*l);
                                slot += 1;
                                slot - 1
                            }
                        }
                    };
                    let (sjt, sjf) = (short(jt), short(jf));
                    out.push(Insn {
                        code: *code,
                        jt: sjt,
                        jf: sjf,
                        k: *k,
                    });
                    for (j, l) in tramp.iter().enumerate() {
                        out.push(Insn {
                            code: JA,
                            jt: 0,
                            jf: 0,
                            k: target(l, here + 1 + j)?,
                        });
                    }
                }
            }
        }
        if out.len() > MAX_INSNS {
            return Err(AsmError::TooLong(out.len()));
        }
        Ok(out)
    }
}

/// The program as the kernel reads it: `struct sock_filter[]` in native
/// byte order (8 bytes each).
pub fn to_bytes(prog: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prog.len() * 8);
    for i in prog {
        out.extend_from_slice(&i.code.to_ne_bytes());
        out.push(i.jt);
        out.push(i.jf);
        out.extend_from_slice(&i.k.to_ne_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_jumps() {
        let mut a = Asm::new();
        let l = a.label();
        a.load(0);
        a.jump(JEQ_K, 5, To::L(l), To::Next);
        a.ret(1);
        a.bind(l);
        a.ret(2);
        let p = a.assemble().unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(
            p[1],
            Insn {
                code: JEQ_K,
                jt: 1,
                jf: 0,
                k: 5
            }
        );
    }

    #[test]
    fn far_jumps_get_trampolines() {
        let mut a = Asm::new();
        let far = a.label();
        a.load(0);
        a.jump(JEQ_K, 5, To::L(far), To::Next);
        for i in 0..300 {
            a.ret(i);
        }
        a.bind(far);
        a.ret(999);
        let p = a.assemble().unwrap();
        // cond + one trampoline + 300 rets + final ret + load
        assert_eq!(p.len(), 1 + 2 + 300 + 1);
        assert_eq!(
            p[1],
            Insn {
                code: JEQ_K,
                jt: 0,
                jf: 1,
                k: 5
            }
        );
        assert_eq!(p[2].code, JA);
        assert_eq!(3 + p[2].k as usize, p.len() - 1);
        assert_eq!(p[p.len() - 1].k, 999);
    }

    #[test]
    fn unbound_label_is_an_error() {
        let mut a = Asm::new();
        let l = a.label();
        a.ja(l);
        assert_eq!(a.assemble(), Err(AsmError::BadLabel));
    }
}
