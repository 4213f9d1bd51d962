//! linux.seccomp compiled to a BPF program and loaded last before execve.
//!
//! A pure-Rust compiler (no libseccomp on the host, the wheel stays
//! self-contained) with libseccomp's and runc's semantics; syscall numbers
//! come from the `syscalls` crate's kernel-generated tables.
//!
//! - `compile(&json)` turns the config.json `linux.seccomp` object into a
//!   [`Program`]; it runs anywhere (stage 0 calls it through `_native` to
//!   report errors early, with field paths).
//! - A `Program` serializes to JSON (`{"filter": [[code,jt,jf,k]...],
//!   "flags": n, "notify": b, "skipped": [...]}`), which is what the plan
//!   carries to the init; [`from_plan`] takes either that or a raw profile.
//! - `load(&prog, 0)` installs it in the init, returning the notify fd.
//! - `supported_flags()`, `available_actions()`, `ACTIONS`, ... feed
//!   `pyrunc features`.
mod bpf;
mod compile;
mod load;
mod profile;
mod syscalls;

#[cfg(test)]
mod interp;
#[cfg(test)]
mod tests;

pub use bpf::{to_bytes, Insn, MAX_INSNS};
pub use load::{available_actions, effective_flags, enabled, load, supported_flags};
pub use profile::{parse, Action, ActionKind, Profile};
pub use syscalls::Arch;

use serde::{Deserialize, Serialize};

/// A compiled filter, ready for seccomp(SECCOMP_SET_MODE_FILTER).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub filter: Vec<Insn>,
    /// SECCOMP_FILTER_FLAG_* bits from `linux.seccomp.flags`.
    pub flags: u32,
    /// The filter returns SCMP_ACT_NOTIFY somewhere: load with
    /// NEW_LISTENER and hand the fd to the listener.
    pub notify: bool,
    /// Syscall names the profile has but this architecture does not know;
    /// they are skipped (runc logs them at debug level).
    #[serde(default)]
    pub skipped: Vec<String>,
}

impl Program {
    /// `struct sock_filter[]` bytes in native byte order.
    pub fn to_bytes(&self) -> Vec<u8> {
        bpf::to_bytes(&self.filter)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeccompError {
    /// The profile is wrong: `field` is its config.json path.
    #[error("{field}: {msg}")]
    Invalid { field: String, msg: String },
    #[error("linux.seccomp: the filter needs {0} BPF instructions, more than the kernel's limit of 4096")]
    TooLong(usize),
    #[error("linux.seccomp: internal compiler error: {0}")]
    Internal(String),
}

impl SeccompError {
    /// The config field the error is about.
    pub fn field(&self) -> &str {
        match self {
            SeccompError::Invalid { field, .. } => field,
            _ => "linux.seccomp",
        }
    }
}

/// Compiles the config.json `linux.seccomp` object for this machine.
///
/// Like runc, a profile without a `flags` key gets
/// SECCOMP_FILTER_FLAG_SPEC_ALLOW when this kernel supports it (so the
/// container is not forced into the speculative-store-bypass mitigation).
pub fn compile(profile: &serde_json::Value) -> Result<Program, SeccompError> {
    let p = parse(profile)?;
    let mut prog = compile::compile_for(&p, Arch::native())?;
    if !p.flags_given && supported_flags().contains(&SPEC_ALLOW) {
        prog.flags |= profile::flag_bit(SPEC_ALLOW);
    }
    Ok(prog)
}

const SPEC_ALLOW: &str = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";

/// Compiles as if `native` were the machine's arch (tests, tools).
pub fn compile_for(profile: &serde_json::Value, native: Arch) -> Result<Program, SeccompError> {
    compile::compile_for(&parse(profile)?, native)
}

/// What the plan's `seccomp` field holds: a compiled [`Program`] (has
/// "filter") or, failing that, a raw `linux.seccomp` profile to compile.
pub fn from_plan(v: &serde_json::Value) -> Result<Program, SeccompError> {
    if v.get("filter").is_some() {
        return serde_json::from_value(v.clone())
            .map_err(|e| SeccompError::Internal(format!("bad compiled program in plan: {e}")));
    }
    compile(v)
}

/// The spec's action names (runtime-spec v1.3 order), for `features`.
pub fn actions() -> Vec<&'static str> {
    profile::ACTIONS.iter().map(|(n, _)| *n).collect()
}

/// The spec's operator names, for `features`.
pub fn operators() -> Vec<&'static str> {
    profile::OPERATORS.iter().map(|(n, _)| *n).collect()
}

/// The flags pyrunc knows (`features` knownFlags).
pub fn known_flags() -> Vec<&'static str> {
    profile::FLAGS.iter().map(|(n, _)| *n).collect()
}

/// The architectures pyrunc has syscall tables for (`features` archs).
pub fn archs() -> Vec<&'static str> {
    syscalls::ALL_ARCHES
        .iter()
        .filter(|(_, a)| a.has_table())
        .map(|(n, _)| *n)
        .collect()
}
