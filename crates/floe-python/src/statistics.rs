//! Histograms, bin counts and bin indices: NumPy's signatures over `floe::array`'s
//! (the Python side in `floe/array.py` normalises NumPy's many spellings of `bins`).

use floe::array::{self as fa, Bins};
use pyo3::prelude::*;

use crate::array::{PyArray, as_array, wrap};
use crate::to_py;

/// One dimension's bins: a count or the edges.
fn bins_arg(b: &Bound<'_, PyAny>) -> PyResult<Bins> {
    if let Ok(n) = b.extract::<usize>() {
        return Ok(Bins::Count(n));
    }
    b.extract::<Vec<f64>>().map(Bins::Edges).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(
            "bins must be an int or a sequence of edges (floe has no named bin rules such as 'auto')",
        )
    })
}

/// `histogramdd` over samples of one shape: (counts, edges per dimension); `one_d` gives
/// `histogram`'s dtypes (int64 or the weights') instead of float64.
#[pyfunction]
#[pyo3(signature = (samples, bins, ranges, weights=None, density=false, one_d=false))]
fn _histogramdd(
    samples: Vec<Bound<'_, PyAny>>,
    bins: Vec<Bound<'_, PyAny>>,
    ranges: Vec<Option<(f64, f64)>>,
    weights: Option<&Bound<'_, PyAny>>,
    density: bool,
    one_d: bool,
) -> PyResult<(PyArray, Vec<PyArray>)> {
    let samples = samples.iter().map(as_array).collect::<PyResult<Vec<_>>>()?;
    let bins = bins.iter().map(bins_arg).collect::<PyResult<Vec<_>>>()?;
    let weights = weights.filter(|w| !w.is_none()).map(as_array).transpose()?;
    if one_d {
        let (Some(x), [b], [r]) = (samples.first(), bins.as_slice(), ranges.as_slice()) else {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "histogram takes one sample, one bins and one range",
            ));
        };
        let (counts, edges) =
            fa::histogram(x, b.clone(), *r, weights.as_ref(), density).map_err(to_py)?;
        return Ok((wrap(counts), vec![wrap(edges)]));
    }
    let refs: Vec<&fa::Array> = samples.iter().collect();
    let (counts, edges) =
        fa::histogramdd(&refs, &bins, &ranges, weights.as_ref(), density).map_err(to_py)?;
    Ok((wrap(counts), edges.into_iter().map(wrap).collect()))
}

/// NumPy's `bincount` with the number of bins known before the data is read.
#[pyfunction]
#[pyo3(signature = (x, weights=None, minlength=0))]
fn bincount(
    x: &Bound<'_, PyAny>,
    weights: Option<&Bound<'_, PyAny>>,
    minlength: usize,
) -> PyResult<PyArray> {
    let weights = weights.filter(|w| !w.is_none()).map(as_array).transpose()?;
    fa::bincount(&as_array(x)?, weights.as_ref(), minlength)
        .map(wrap)
        .map_err(to_py)
}

/// NumPy's `digitize`: the bin index of every element, lazily.
#[pyfunction]
#[pyo3(signature = (x, bins, right=false))]
fn digitize(x: &Bound<'_, PyAny>, bins: Vec<f64>, right: bool) -> PyResult<PyArray> {
    as_array(x)?.digitize(&bins, right).map(wrap).map_err(to_py)
}

/// The quantiles `q` (in `[0, 1]`) along `axis`, exact: shape `(len(q), *other axes)`;
/// `skip_nan` ignores NaN (`nanquantile`).
#[pyfunction]
#[pyo3(signature = (x, q, axis, skip_nan=false, mean=false))]
fn _quantile(
    x: &Bound<'_, PyAny>,
    q: Vec<f64>,
    axis: isize,
    skip_nan: bool,
    mean: bool,
) -> PyResult<PyArray> {
    as_array(x)?
        .quantile_with(&q, axis, skip_nan, how(mean))
        .map(wrap)
        .map_err(to_py)
}

/// The quantiles `q` of all the elements, exactly, in two passes (no block is gathered).
#[pyfunction]
#[pyo3(signature = (x, q, skip_nan=false, mean=false))]
fn _quantile_all(
    x: &Bound<'_, PyAny>,
    q: Vec<f64>,
    skip_nan: bool,
    mean: bool,
) -> PyResult<PyArray> {
    as_array(x)?
        .quantile_all_with(&q, skip_nan, how(mean))
        .map(wrap)
        .map_err(to_py)
}

/// `mean`: the two middle values averaged, as NumPy's `median`; else NumPy's `linear`.
fn how(mean: bool) -> floe::array::Interpolation {
    if mean {
        floe::array::Interpolation::Mean
    } else {
        floe::array::Interpolation::Linear
    }
}

/// Dask's `topk`: the `k` largest along `axis`, largest first (negative `k`: smallest).
#[pyfunction]
#[pyo3(signature = (a, k, axis=-1, split_every=None))]
fn topk(
    a: &Bound<'_, PyAny>,
    k: isize,
    axis: isize,
    split_every: Option<usize>,
) -> PyResult<PyArray> {
    let _ = split_every; // one combine of every block's survivors
    as_array(a)?.topk(k, axis).map(wrap).map_err(to_py)
}

/// Dask's `argtopk`: the positions of `topk`'s values along `axis`, in its order.
#[pyfunction]
#[pyo3(signature = (a, k, axis=-1, split_every=None))]
fn argtopk(
    a: &Bound<'_, PyAny>,
    k: isize,
    axis: isize,
    split_every: Option<usize>,
) -> PyResult<PyArray> {
    let _ = split_every; // one combine of every block's survivors
    as_array(a)?.argtopk(k, axis).map(wrap).map_err(to_py)
}

/// Dask's `coarsen` with the reduction by NumPy name and a factor per axis.
#[pyfunction]
#[pyo3(signature = (name, x, factors, trim_excess=false))]
fn _coarsen(
    name: &str,
    x: &Bound<'_, PyAny>,
    factors: Vec<usize>,
    trim_excess: bool,
) -> PyResult<PyArray> {
    let op = fa::ReduceOp::from_numpy_name(name).ok_or_else(|| {
        pyo3::exceptions::PyNotImplementedError::new_err(format!(
            "coarsen: floe has no reduction {name:?}"
        ))
    })?;
    as_array(x)?
        .coarsen(op, &factors, trim_excess)
        .map(wrap)
        .map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(topk, m)?)?;
    m.add_function(wrap_pyfunction!(argtopk, m)?)?;
    m.add_function(wrap_pyfunction!(_coarsen, m)?)?;
    m.add_function(wrap_pyfunction!(_quantile, m)?)?;
    m.add_function(wrap_pyfunction!(_quantile_all, m)?)?;
    m.add_function(wrap_pyfunction!(_histogramdd, m)?)?;
    m.add_function(wrap_pyfunction!(bincount, m)?)?;
    m.add_function(wrap_pyfunction!(digitize, m)?)?;
    Ok(())
}
