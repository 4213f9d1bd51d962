//! pyrunc-core: the container init path and the raw syscall helpers.
//!
//! No pyo3 here: this crate is linked into the extension (`rust/`, for
//! `spawn` and `pyrunc.low`) and into the static `pyrunc-init` binary that
//! the extension fexecve()s from a sealed memfd. See `sync.rs` for the
//! protocol and `plan.rs` for what the init is told to do.
pub mod capabilities;
pub mod error;
pub mod init;
pub mod low;
pub mod namespaces;
pub mod plan;
pub mod rlimits;
pub mod rootfs;
pub mod seccomp;
pub mod spawn;
pub mod sync;
