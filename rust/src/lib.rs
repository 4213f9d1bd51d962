//! `pyrunc._native`: the Python extension. Exports only; the pyo3 code is in
//! `py/`, the logic in the pyrunc-core crate.
use pyo3::prelude::*;

mod py;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)?;
    py::low::register(m)?;
    py::seccomp::register(m)?;
    Ok(())
}
