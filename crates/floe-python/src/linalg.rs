//! `floe.array.linalg` and the products: blocked `matmul`, `tensordot`, SVDs, QR,
//! Cholesky, solves, inverses, least squares and norms.

use floe::array as fa;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::array::{PyArray, as_array, wrap};
use crate::to_py;

#[pyfunction]
fn matmul(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::matmul(&as_array(a)?, &as_array(b)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (a, b, axes=None))]
fn tensordot(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let (a, b) = (as_array(a)?, as_array(b)?);
    let n_default = 2_usize;
    let (xa, xb): (Vec<usize>, Vec<usize>) =
        if let Some(n) = axes.map_or(Some(n_default), |x| x.extract::<usize>().ok()) {
            (
                (a.ndim().saturating_sub(n)..a.ndim()).collect(),
                (0..n).collect(),
            )
        } else {
            axes.expect("an int was handled above").extract()?
        };
    fa::linalg::tensordot(&a, &b, &xa, &xb)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
fn svd(a: &Bound<'_, PyAny>) -> PyResult<(PyArray, PyArray, PyArray)> {
    let (u, s, v) = fa::linalg::svd(&as_array(a)?).map_err(to_py)?;
    Ok((wrap(u), wrap(s), wrap(v)))
}

#[pyfunction]
#[pyo3(signature = (a, k, n_power_iter=0, n_oversamples=10, seed=0))]
fn svd_compressed(
    a: &Bound<'_, PyAny>,
    k: usize,
    n_power_iter: usize,
    n_oversamples: usize,
    seed: u64,
) -> PyResult<(PyArray, PyArray, PyArray)> {
    let (u, s, v) = fa::linalg::svd_compressed(&as_array(a)?, k, n_power_iter, n_oversamples, seed)
        .map_err(to_py)?;
    Ok((wrap(u), wrap(s), wrap(v)))
}

#[pyfunction]
fn qr(a: &Bound<'_, PyAny>) -> PyResult<(PyArray, PyArray)> {
    let (q, r) = fa::linalg::qr(&as_array(a)?).map_err(to_py)?;
    Ok((wrap(q), wrap(r)))
}

#[pyfunction]
fn tsqr(a: &Bound<'_, PyAny>) -> PyResult<(PyArray, PyArray)> {
    let (q, r) = fa::linalg::tsqr(&as_array(a)?).map_err(to_py)?;
    Ok((wrap(q), wrap(r)))
}

#[pyfunction]
fn cholesky(a: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::cholesky(&as_array(a)?).map(wrap).map_err(to_py)
}

#[pyfunction]
fn solve(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::solve(&as_array(a)?, &as_array(b)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
fn inv(a: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::inv(&as_array(a)?).map(wrap).map_err(to_py)
}

#[pyfunction]
fn lstsq(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<(PyArray, PyArray, PyArray, PyArray)> {
    let r = fa::linalg::lstsq(&as_array(a)?, &as_array(b)?).map_err(to_py)?;
    Ok((wrap(r.x), wrap(r.residuals), wrap(r.rank), wrap(r.s)))
}

#[pyfunction]
#[pyo3(signature = (x, ord=None))]
fn norm(x: &Bound<'_, PyAny>, ord: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    use fa::linalg::Norm;
    let ord = match ord.filter(|o| !o.is_none()) {
        None => Norm::Default,
        Some(o) => {
            if let Ok(s) = o.extract::<String>() {
                match s.as_str() {
                    "fro" => Norm::Fro,
                    "nuc" => Norm::Nuclear,
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "invalid norm order {other:?}"
                        )));
                    }
                }
            } else {
                let p: f64 = o.extract()?;
                if p == f64::INFINITY {
                    Norm::Inf
                } else if p == f64::NEG_INFINITY {
                    Norm::NegInf
                } else {
                    Norm::P(p)
                }
            }
        }
    };
    fa::linalg::norm(&as_array(x)?, ord)
        .map(wrap)
        .map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    m.add_function(wrap_pyfunction!(tensordot, m)?)?;
    m.add_function(wrap_pyfunction!(svd, m)?)?;
    m.add_function(wrap_pyfunction!(svd_compressed, m)?)?;
    m.add_function(wrap_pyfunction!(qr, m)?)?;
    m.add_function(wrap_pyfunction!(tsqr, m)?)?;
    m.add_function(wrap_pyfunction!(cholesky, m)?)?;
    m.add_function(wrap_pyfunction!(solve, m)?)?;
    m.add_function(wrap_pyfunction!(inv, m)?)?;
    m.add_function(wrap_pyfunction!(lstsq, m)?)?;
    m.add_function(wrap_pyfunction!(norm, m)?)?;
    Ok(())
}
