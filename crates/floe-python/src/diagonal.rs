//! Diagonals from Python (`diag`; `diagonal` and `trace` are `Array` methods).

use floe::array as fa;
use pyo3::prelude::*;

use crate::array::{PyArray, as_array, wrap};
use crate::to_py;

/// NumPy's `diag`: a 1-d array on diagonal `k` of a square array, or diagonal `k` of a
/// 2-d array.
#[pyfunction]
#[pyo3(signature = (v, k=0))]
fn diag(v: &Bound<'_, PyAny>, k: isize) -> PyResult<PyArray> {
    fa::diag(&as_array(v)?, k).map(wrap).map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(diag, m)?)?;
    Ok(())
}
