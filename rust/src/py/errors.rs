//! Rust errors to Python exceptions, in this one place.
use pyo3::exceptions::PyOSError;
use pyo3::PyErr;
use pyrunc_core::error::SysError;

/// `OSError(errno, "mount /proc: No such file or directory")`; Python picks
/// the subclass (FileNotFoundError, PermissionError ...) from the errno.
pub fn to_py(e: SysError) -> PyErr {
    PyOSError::new_err((e.errno as i32, e.to_string()))
}
