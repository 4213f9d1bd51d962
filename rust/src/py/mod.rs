//! The only pyo3 code: `spawn` and constants here, `pyrunc.low` in low.rs,
//! error conversion in errors.rs.
use pyo3::prelude::*;

pub mod errors;
pub mod low;
pub mod seccomp;

/// The pyrunc-init binary built by build.rs.
static INIT_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pyrunc-init"));

/// Start the container's init (stage 1) and return its pid. `pass_fds[i]`
/// becomes fd 3+preserve_fds+i in the init; see pyrunc_core::spawn.
#[pyfunction]
#[pyo3(signature = (plan, pass_fds, preserve_fds=0, argv0="pyrunc:[1:INIT]", stdio=None))]
fn spawn(
    py: Python<'_>,
    plan: &[u8],
    pass_fds: Vec<i32>,
    preserve_fds: u32,
    argv0: &str,
    stdio: Option<(i32, i32, i32)>,
) -> PyResult<i32> {
    let plan = plan.to_vec();
    let stdio = stdio.map(|(a, b, c)| [a, b, c]);
    py.allow_threads(|| pyrunc_core::spawn::spawn(INIT_BINARY, &plan, &pass_fds, preserve_fds, argv0, stdio))
        .map_err(errors::to_py)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(spawn, m)?)?;
    m.add("INIT_BINARY_SIZE", INIT_BINARY.len())?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("SYNC_MESSAGES", pyrunc_core::sync::MESSAGE_NAMES.to_vec())?;
    Ok(())
}
