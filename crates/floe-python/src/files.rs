//! Files from Python: NetCDF, Zarr and `.npy` readers and writers, and `store` into any
//! object with `__setitem__`.

use std::path::PathBuf;

use floe::array as fa;
use pyo3::prelude::*;

use crate::array::{PyArray, as_array, compute_all, describe, wrap};
use crate::convert::{chunks_arg, to_numpy};
use crate::creation::block_key;
use crate::{run, to_py};

/// Writes `x` into `target` (anything whose `__setitem__` takes a tuple of slices) as one
/// computation: each block once, by the worker that made it, with the GIL held while it is
/// assigned; work shared between blocks runs once, and the budget bounds what is held.
#[pyfunction]
fn _store(py: Python<'_>, x: &Bound<'_, PyAny>, target: Py<PyAny>) -> PyResult<()> {
    let write = floe::io::sink(&as_array(x)?, move |block, info| {
        Python::attach(|py| {
            let key = block_key(py, info).map_err(|e| describe(py, &e))?;
            target
                .bind(py)
                .set_item(key, to_numpy(py, block.clone()))
                .map_err(|e| describe(py, &e))
        })
    })
    .map_err(to_py)?;
    compute_all(py, vec![write]).map(drop)
}

/// Variable `var` of a NetCDF file (one block per file by default).
#[pyfunction]
#[pyo3(signature = (path, var, chunks=None))]
fn open_netcdf(path: PathBuf, var: &str, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    let chunks = match chunks {
        Some(c) => chunks_arg(Some(c))?,
        None => ONE_BLOCK,
    };
    floe::io::open_netcdf(path, var, chunks)
        .map(wrap)
        .map_err(to_py)
}

/// One block per file: near-square blocks of unbounded size.
const ONE_BLOCK: fa::ChunkSpec = fa::ChunkSpec::Bytes(usize::MAX / 2);

/// Variable `var` of several NetCDF files concatenated along the first axis (sorted paths).
#[pyfunction]
#[pyo3(signature = (paths, var, chunks=None))]
fn open_mfnetcdf(
    paths: Vec<PathBuf>,
    var: &str,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let chunks = match chunks {
        Some(c) => chunks_arg(Some(c))?,
        None => ONE_BLOCK,
    };
    floe::io::open_mfnetcdf(&paths, var, chunks)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (path, chunks=None))]
fn from_zarr(path: PathBuf, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    floe::io::from_zarr(path, chunks_arg(chunks)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (path, chunks=None))]
fn from_npy(path: PathBuf, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    floe::io::from_npy(path, chunks_arg(chunks)?)
        .map(wrap)
        .map_err(to_py)
}

/// Writes `x` as a Zarr v3 array, chunk by chunk in parallel (GIL released).
#[pyfunction]
fn to_zarr(py: Python<'_>, x: &Bound<'_, PyArray>, path: PathBuf) -> PyResult<()> {
    let a = x.borrow().inner.clone();
    run(py, move || floe::io::store_zarr(&a, path))
}

/// Writes `x` as a `.npy` file, block by block in parallel (GIL released).
#[pyfunction]
fn to_npy(py: Python<'_>, x: &Bound<'_, PyArray>, path: PathBuf) -> PyResult<()> {
    let a = x.borrow().inner.clone();
    run(py, move || floe::io::store_npy(&a, path))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_store, m)?)?;
    m.add_function(wrap_pyfunction!(open_netcdf, m)?)?;
    m.add_function(wrap_pyfunction!(open_mfnetcdf, m)?)?;
    m.add_function(wrap_pyfunction!(from_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(from_npy, m)?)?;
    m.add_function(wrap_pyfunction!(to_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(to_npy, m)?)?;
    Ok(())
}
