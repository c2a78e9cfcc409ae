//! Overlapping blocks from Python: Dask's spellings of depths and boundaries, translated.

use floe::array::{Array, Boundary, DType, PadMode, Scalar};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::to_py;

/// Per-axis values from `v` (one for all axes, a sequence of `ndim`, or `{axis: value}`
/// with `missing` elsewhere), each read by `read`.
fn per_axis<T: Clone>(
    v: &Bound<'_, PyAny>,
    ndim: usize,
    missing: T,
    what: &str,
    read: impl Fn(&Bound<'_, PyAny>) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    if let Ok(d) = v.cast::<PyDict>() {
        let mut out = vec![missing; ndim];
        for (k, val) in d.iter() {
            let a: isize = k.extract()?;
            let i = if a < 0 { a + ndim as isize } else { a };
            let slot = usize::try_from(i)
                .ok()
                .filter(|&i| i < ndim)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "{what}: axis {a} is out of bounds for {ndim} dimensions"
                    ))
                })?;
            out[slot] = read(&val)?;
        }
        return Ok(out);
    }
    if !v.is_instance_of::<PyString>()
        && let Ok(items) = v.extract::<Vec<Bound<'_, PyAny>>>()
    {
        if items.len() != ndim {
            return Err(PyValueError::new_err(format!(
                "{what}: {} values for {ndim} dimensions",
                items.len()
            )));
        }
        return items.iter().map(&read).collect();
    }
    Ok(vec![read(v)?; ndim])
}

fn depths(x: &Array, depth: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    per_axis(depth, x.ndim(), 0, "depth", |d| {
        d.extract::<usize>()
            .map_err(|_| PyTypeError::new_err("depth takes non-negative ints"))
    })
}

fn boundaries(x: &Array, boundary: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<Boundary>> {
    let read = |b: &Bound<'_, PyAny>| -> PyResult<Boundary> {
        if b.is_none() {
            return Ok(Boundary::None);
        }
        if let Ok(name) = b.extract::<String>() {
            return Boundary::from_name(&name).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "boundary {name:?}: expected 'none', 'reflect', 'periodic', 'nearest' or a number"
                ))
            });
        }
        if crate::convert::is_complex_number(b)? {
            return Err(PyTypeError::new_err(
                "boundary constants are real numbers (pad complex arrays with fa.pad)",
            ));
        }
        b.extract::<f64>()
            .map(Boundary::Constant)
            .map_err(|_| PyTypeError::new_err("boundary takes a name ('reflect', ...) or a number"))
    };
    match boundary {
        None => Ok(vec![Boundary::None; x.ndim()]),
        Some(b) => per_axis(b, x.ndim(), Boundary::None, "boundary", read),
    }
}

/// `f` of `x` with the depths and boundaries read from Python (a 0-d array has no margins).
fn with_margins(
    x: &Array,
    depth: &Bound<'_, PyAny>,
    boundary: Option<&Bound<'_, PyAny>>,
    f: fn(&Array, &[usize], &[Boundary]) -> floe::array::Result<Array>,
) -> PyResult<Array> {
    if x.ndim() == 0 {
        return Ok(x.clone());
    }
    f(x, &depths(x, depth)?, &boundaries(x, boundary)?).map_err(to_py)
}

pub(crate) fn overlap(
    x: &Array,
    depth: &Bound<'_, PyAny>,
    boundary: Option<&Bound<'_, PyAny>>,
) -> PyResult<Array> {
    with_margins(x, depth, boundary, Array::overlap)
}

pub(crate) fn trim(
    x: &Array,
    depth: &Bound<'_, PyAny>,
    boundary: Option<&Bound<'_, PyAny>>,
) -> PyResult<Array> {
    with_margins(x, depth, boundary, Array::trim_overlap)
}

pub(crate) fn map_overlap(
    xs: &[Array],
    func: Py<PyAny>,
    depth: &Bound<'_, PyAny>,
    boundary: Option<&Bound<'_, PyAny>>,
    trim_result: bool,
    dtype: DType,
) -> PyResult<Array> {
    let Some(x) = xs.first() else {
        return Err(PyValueError::new_err("map_overlap: no array"));
    };
    // Several arrays: one shape, the first one's blocks, the same margins; `func` gets
    // their extended blocks together.
    let mut extended = Vec::with_capacity(xs.len());
    for y in xs {
        if y.shape() != x.shape() {
            return Err(PyValueError::new_err(format!(
                "map_overlap: arrays of shapes {:?} and {:?}; they must have one shape",
                x.shape(),
                y.shape()
            )));
        }
        let y = if y.chunks() == x.chunks() {
            y.clone()
        } else {
            y.rechunk(x.chunks().axes().to_vec()).map_err(to_py)?
        };
        extended.push(overlap(&y, depth, boundary)?);
    }
    let others: Vec<&Array> = extended[1..].iter().collect();
    let mapped = crate::array::py_map_blocks_with(&extended[0], &others, func, dtype)?;
    if trim_result {
        trim(&mapped, depth, boundary)
    } else {
        Ok(mapped)
    }
}

/// Cuts the margins `overlap` added with the same `depth` and `boundary` (Dask's
/// `trim_internal`).
#[pyfunction]
#[pyo3(signature = (x, depth, boundary=None))]
fn trim_internal(
    x: &Bound<'_, PyAny>,
    depth: &Bound<'_, PyAny>,
    boundary: Option<&Bound<'_, PyAny>>,
) -> PyResult<crate::array::PyArray> {
    trim(&crate::array::as_array(x)?, depth, boundary).map(crate::array::wrap)
}

/// NumPy's `pad` with `widths` (before, after) per axis, `mode` by name, the constant for
/// `"constant"`.
#[pyfunction]
#[pyo3(signature = (x, widths, mode, constant=None))]
fn _pad(
    x: &Bound<'_, PyAny>,
    widths: Vec<(usize, usize)>,
    mode: &str,
    constant: Option<&Bound<'_, PyAny>>,
) -> PyResult<crate::array::PyArray> {
    let mode = match mode {
        "constant" => PadMode::Constant(match constant {
            None => Scalar::Int(0),
            Some(c) => crate::convert::scalar_arg(c)?,
        }),
        other => PadMode::from_name(other).ok_or_else(|| {
            pyo3::exceptions::PyNotImplementedError::new_err(format!(
                "mode {other:?}: floe pads with 'constant', 'edge', 'reflect', 'symmetric' or 'wrap'"
            ))
        })?,
    };
    crate::array::as_array(x)?
        .pad(&widths, mode)
        .map(crate::array::wrap)
        .map_err(to_py)
}

/// NumPy's `repeat` along `axis` (one count, or one per element).
#[pyfunction]
fn _repeat(
    x: &Bound<'_, PyAny>,
    repeats: Vec<usize>,
    axis: isize,
) -> PyResult<crate::array::PyArray> {
    crate::array::as_array(x)?
        .repeat(&repeats, axis)
        .map(crate::array::wrap)
        .map_err(to_py)
}

/// `map_overlap` over several arrays of one shape: `func(*extended_blocks)`.
#[pyfunction]
#[pyo3(signature = (arrays, func, depth, boundary=None, trim=true, dtype=None))]
fn _map_overlap(
    arrays: Vec<Bound<'_, PyAny>>,
    func: Py<PyAny>,
    depth: &Bound<'_, PyAny>,
    boundary: Option<&Bound<'_, PyAny>>,
    trim: bool,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<crate::array::PyArray> {
    let xs = arrays
        .iter()
        .map(crate::array::as_array)
        .collect::<PyResult<Vec<Array>>>()?;
    let first = xs
        .first()
        .ok_or_else(|| PyValueError::new_err("map_overlap: no array"))?;
    let dtype = crate::convert::dtype_arg(dtype, first.dtype())?;
    map_overlap(&xs, func, depth, boundary, trim, dtype).map(crate::array::wrap)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_map_overlap, m)?)?;
    m.add_function(wrap_pyfunction!(trim_internal, m)?)?;
    m.add_function(wrap_pyfunction!(_pad, m)?)?;
    m.add_function(wrap_pyfunction!(_repeat, m)?)?;
    Ok(())
}
