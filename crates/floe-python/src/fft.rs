//! Fourier transforms from Python (`floe.array.fft`): one-line translations of
//! `floe::array`'s.

use floe::array as fa;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::array::{PyArray, as_array, wrap};
use crate::convert::chunks_arg;
use crate::to_py;

fn norm_arg(norm: Option<&str>) -> PyResult<fa::FftNorm> {
    match norm {
        None => Ok(fa::FftNorm::Backward),
        Some(name) => fa::FftNorm::from_name(name).ok_or_else(|| {
            PyValueError::new_err(format!(
                "Invalid norm value {name}; should be \"backward\", \"ortho\" or \"forward\"."
            ))
        }),
    }
}

/// A one-dimensional transform by NumPy's name (`fft`, `ifft`, `rfft`, `irfft`).
#[pyfunction]
#[pyo3(signature = (kind, a, n=None, axis=-1, norm=None))]
fn _fft(
    kind: &str,
    a: &Bound<'_, PyAny>,
    n: Option<usize>,
    axis: isize,
    norm: Option<&str>,
) -> PyResult<PyArray> {
    let (a, norm) = (as_array(a)?, norm_arg(norm)?);
    match kind {
        "fft" => a.fft(n, axis, norm),
        "ifft" => a.ifft(n, axis, norm),
        "rfft" => a.rfft(n, axis, norm),
        "irfft" => a.irfft(n, axis, norm),
        other => return Err(PyValueError::new_err(format!("no transform {other}"))),
    }
    .map(wrap)
    .map_err(to_py)
}

/// An n-dimensional transform by NumPy's name (`fftn`, `ifftn`, `rfftn`, `irfftn`).
#[pyfunction]
#[pyo3(signature = (kind, a, s=None, axes=None, norm=None))]
fn _fftn(
    kind: &str,
    a: &Bound<'_, PyAny>,
    s: Option<Vec<usize>>,
    axes: Option<Vec<isize>>,
    norm: Option<&str>,
) -> PyResult<PyArray> {
    let (a, norm) = (as_array(a)?, norm_arg(norm)?);
    let (s, axes) = (s.as_deref(), axes.as_deref());
    match kind {
        "fftn" => a.fftn(s, axes, norm),
        "ifftn" => a.ifftn(s, axes, norm),
        "rfftn" => a.rfftn(s, axes, norm),
        "irfftn" => a.irfftn(s, axes, norm),
        other => return Err(PyValueError::new_err(format!("no transform {other}"))),
    }
    .map(wrap)
    .map_err(to_py)
}

/// NumPy's `fft.fftfreq` (`real=False`) or `fft.rfftfreq`, lazily.
#[pyfunction]
#[pyo3(signature = (n, d=1.0, chunks=None, real=false))]
fn _fftfreq(n: usize, d: f64, chunks: Option<&Bound<'_, PyAny>>, real: bool) -> PyResult<PyArray> {
    let chunks = chunks_arg(chunks)?;
    if real {
        fa::rfftfreq(n, d, chunks)
    } else {
        fa::fftfreq(n, d, chunks)
    }
    .map(wrap)
    .map_err(to_py)
}

/// NumPy's `fft.fftshift` (or `ifftshift` with `inverse`), lazily.
#[pyfunction]
#[pyo3(signature = (x, axes=None, inverse=false))]
fn _fftshift(x: &Bound<'_, PyAny>, axes: Option<Vec<isize>>, inverse: bool) -> PyResult<PyArray> {
    let x = as_array(x)?;
    if inverse {
        x.ifftshift(axes.as_deref())
    } else {
        x.fftshift(axes.as_deref())
    }
    .map(wrap)
    .map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_fft, m)?)?;
    m.add_function(wrap_pyfunction!(_fftn, m)?)?;
    m.add_function(wrap_pyfunction!(_fftfreq, m)?)?;
    m.add_function(wrap_pyfunction!(_fftshift, m)?)?;
    Ok(())
}
