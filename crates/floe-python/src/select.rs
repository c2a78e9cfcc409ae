//! Selections of data-dependent size from Python: lazy boolean masks, `compress`,
//! `argwhere`/`nonzero`/`flatnonzero`, `unique`, and measuring unknown chunk sizes.

use floe::array::{self as fa, Array};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::{PyArray, as_array, wrap};
use crate::{run, to_py};

/// Measures the block sizes of `x` (computing it) and returns `x` with them known.
pub(crate) fn compute_chunk_sizes(py: Python<'_>, x: &Array) -> PyResult<Array> {
    let x = x.clone();
    run(py, move || floe::compute_chunk_sizes(&x))
}

/// NumPy's `argwhere`: `(n, ndim)` int64 indices of the non-zero elements.
#[pyfunction]
fn argwhere(a: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    as_array(a)?.argwhere().map(wrap).map_err(to_py)
}

/// NumPy's `flatnonzero`: the flat indices of the non-zero elements.
#[pyfunction]
fn flatnonzero(a: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    as_array(a)?.flatnonzero().map(wrap).map_err(to_py)
}

/// NumPy's `nonzero`: a tuple of int64 index arrays, one per axis.
#[pyfunction]
fn nonzero<'py>(py: Python<'py>, a: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
    let parts = as_array(a)?.nonzero().map_err(to_py)?;
    PyTuple::new(py, parts.into_iter().map(wrap))
}

/// NumPy's `compress(condition, a, axis)` with a 1-d boolean condition of the axis'
/// length.
#[pyfunction]
#[pyo3(signature = (condition, a, axis))]
fn _compress(condition: &Bound<'_, PyAny>, a: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyArray> {
    let (c, a) = (as_array(condition)?, as_array(a)?);
    a.compress(&c, axis).map(wrap).map_err(to_py)
}

/// `a[mask]` for a boolean `mask` of `a`'s shape, row-major.
#[pyfunction]
fn _filter(a: &Bound<'_, PyAny>, mask: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    let (a, m) = (as_array(a)?, as_array(mask)?);
    a.getitem(&[fa::Index::Lazy(m)]).map(wrap).map_err(to_py)
}

/// The sorted unique elements, and as asked the first positions, the inverse and the
/// counts: the values alone, or a tuple in NumPy's order.
#[pyfunction]
#[pyo3(signature = (a, return_index=false, return_inverse=false, return_counts=false))]
fn _unique<'py>(
    py: Python<'py>,
    a: &Bound<'py, PyAny>,
    return_index: bool,
    return_inverse: bool,
    return_counts: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let u = as_array(a)?
        .unique_all(return_index, return_inverse, return_counts)
        .map_err(to_py)?;
    let extra: Vec<PyArray> = [u.index, u.inverse, u.counts]
        .into_iter()
        .flatten()
        .map(wrap)
        .collect();
    if extra.is_empty() {
        return Ok(Bound::new(py, wrap(u.values))?.into_any());
    }
    let mut all = vec![wrap(u.values)];
    all.extend(extra);
    Ok(PyTuple::new(py, all)?.into_any())
}

/// `x.vindex[i, j, ...]`: the points the integer index arrays (already broadcastable NumPy
/// int64 arrays, one per leading axis) name together.
#[pyfunction]
fn _vindex(x: &Bound<'_, PyAny>, indices: Vec<Bound<'_, PyAny>>) -> PyResult<PyArray> {
    let x = as_array(x)?;
    let idx = indices
        .iter()
        .map(|i| {
            crate::convert::from_numpy(i)?
                .astype(fa::DType::I64)
                .into_i64()
                .map_err(to_py)
        })
        .collect::<PyResult<Vec<_>>>()?;
    x.vindex(&idx).map(wrap).map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_vindex, m)?)?;
    m.add_function(wrap_pyfunction!(argwhere, m)?)?;
    m.add_function(wrap_pyfunction!(flatnonzero, m)?)?;
    m.add_function(wrap_pyfunction!(nonzero, m)?)?;
    m.add_function(wrap_pyfunction!(_compress, m)?)?;
    m.add_function(wrap_pyfunction!(_filter, m)?)?;
    m.add_function(wrap_pyfunction!(_unique, m)?)?;
    Ok(())
}
