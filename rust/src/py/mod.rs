//! The only pyo3 code: `spawn` and constants here, `pyrunc.low` in low.rs,
//! error conversion in errors.rs.
use pyo3::prelude::*;

pub mod errors;
pub mod low;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    m.add("SYNC_MESSAGES", pyrunc_core::sync::MESSAGE_NAMES.to_vec())?;
    Ok(())
}
