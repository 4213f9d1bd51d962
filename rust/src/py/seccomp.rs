//! `linux.seccomp` for Python: compile in stage 0 (errors early, with field
//! paths) and the kernel probes behind `pyrunc features`. The logic is in
//! `pyrunc_core::seccomp`; python/pyrunc/seccomp.py is the facade.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use pyrunc_core::seccomp::{self, Program, SeccompError};

/// `ValueError(field, msg)`; pyrunc.seccomp turns it into SpecError.
fn to_py(e: SeccompError) -> PyErr {
    let msg = match &e {
        SeccompError::Invalid { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    PyValueError::new_err((e.field().to_string(), msg))
}

fn compile(profile_json: &str) -> PyResult<Program> {
    let v: serde_json::Value = serde_json::from_str(profile_json).map_err(|e| {
        PyValueError::new_err(("linux.seccomp".to_string(), format!("invalid JSON: {e}")))
    })?;
    seccomp::compile(&v).map_err(to_py)
}

/// The filter as `struct sock_filter[]` bytes (native byte order).
#[pyfunction]
fn seccomp_compile<'py>(py: Python<'py>, profile_json: &str) -> PyResult<Bound<'py, PyBytes>> {
    let prog = compile(profile_json)?;
    Ok(PyBytes::new(py, &prog.to_bytes()))
}

/// The compiled program as JSON, what the plan's `seccomp` field carries:
/// `{"filter": [[code, jt, jf, k], ...], "flags": n, "notify": b, "skipped": [...]}`.
#[pyfunction]
fn seccomp_program(profile_json: &str) -> PyResult<String> {
    let prog = compile(profile_json)?;
    serde_json::to_string(&prog)
        .map_err(|e| PyValueError::new_err(("linux.seccomp".to_string(), e.to_string())))
}

/// Whether this kernel can load seccomp filters.
#[pyfunction]
fn seccomp_supported() -> bool {
    seccomp::enabled()
}

/// The spec's flags this kernel accepts.
#[pyfunction]
fn seccomp_supported_flags() -> Vec<&'static str> {
    seccomp::supported_flags()
}

/// Alias kept for features.py.
#[pyfunction]
fn seccomp_flags() -> Vec<&'static str> {
    seccomp::supported_flags()
}

/// The architectures pyrunc has syscall tables for.
#[pyfunction]
fn seccomp_archs() -> Vec<&'static str> {
    seccomp::archs()
}

/// The `linux.seccomp` object of `pyrunc features` (features-linux.json),
/// plus `availableActions` (SECCOMP_GET_ACTION_AVAIL), which is not part of
/// the schema and is for callers that want it.
#[pyfunction]
fn seccomp_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    let enabled = seccomp::enabled();
    d.set_item("enabled", enabled)?;
    d.set_item("actions", seccomp::actions())?;
    d.set_item("operators", seccomp::operators())?;
    d.set_item("archs", seccomp::archs())?;
    d.set_item("knownFlags", seccomp::known_flags())?;
    let (flags, avail) = if enabled {
        (seccomp::supported_flags(), seccomp::available_actions())
    } else {
        (Vec::new(), Vec::new())
    };
    d.set_item("supportedFlags", flags)?;
    d.set_item("availableActions", avail)?;
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(seccomp_compile, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_program, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_supported, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_supported_flags, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_flags, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_archs, m)?)?;
    m.add_function(wrap_pyfunction!(seccomp_info, m)?)?;
    Ok(())
}
