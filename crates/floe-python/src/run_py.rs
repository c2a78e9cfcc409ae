//! Running computations from Python: `compute`, `persist`, `plan` and the configuration.

use floe::array::{self as fa, Array};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::{PyArray, compute_all, wrap};
use crate::run;

/// The floe arrays among `*args`; a `TypeError` naming `what` for anything else.
fn arrays_arg(args: &Bound<'_, PyTuple>, what: &str) -> PyResult<Vec<Array>> {
    args.iter()
        .map(|a| {
            a.cast::<PyArray>()
                .map(|a| a.borrow().inner.clone())
                .map_err(|_| PyTypeError::new_err(format!("{what} takes floe arrays")))
        })
        .collect()
}

/// Computes arrays together (shared work runs once), returning NumPy arrays.
#[pyfunction]
#[pyo3(signature = (*arrays))]
fn compute<'py>(py: Python<'py>, arrays: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, compute_all(py, arrays_arg(arrays, "compute")?)?)
}

/// Computes arrays together and keeps their blocks in memory (Dask's `persist`): arrays
/// over the kept blocks, whose later computations start from them.
#[pyfunction]
#[pyo3(signature = (*arrays))]
fn persist<'py>(py: Python<'py>, arrays: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyTuple>> {
    let arrays = arrays_arg(arrays, "persist")?;
    let kept = run(py, move || floe::persist(&arrays))?;
    PyTuple::new(py, kept.into_iter().map(wrap))
}

/// Sets the worker threads, the memory budget (`"auto"`, `None` for none, bytes or a size),
/// the spill directory for every later computation and the block size of `"auto"` chunks
/// (`None`: following the budget) for arrays made later.
#[pyfunction]
#[pyo3(signature = (threads=None, memory_limit=None, spill_dir=None, chunk_size=None))]
fn _set_config(
    threads: Option<usize>,
    memory_limit: Option<&Bound<'_, PyAny>>,
    spill_dir: Option<std::path::PathBuf>,
    chunk_size: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let mut cfg = floe::Config::default();
    if let Some(t) = threads {
        if t == 0 {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        cfg = cfg.threads(t);
    }
    if let Some(dir) = spill_dir {
        cfg = cfg.spill_dir(dir);
    }
    match memory_limit {
        None => {}
        Some(m) if m.is_none() => cfg = cfg.no_memory_limit(),
        Some(m) if m.extract::<String>().is_ok_and(|s| s == "auto") => {}
        Some(m) => cfg = cfg.memory_limit(size_bytes(m, "memory_limit")?),
    }
    if let Some(c) = chunk_size.filter(|c| !c.is_none()) {
        match size_bytes(c, "chunk_size")? {
            0 => return Err(PyValueError::new_err("chunk_size must be at least 1 byte")),
            b => cfg = cfg.chunk_size(b),
        }
    }
    floe::config::set(cfg);
    Ok(())
}

/// The bytes of setting `what` given as an int or a size such as `"4GB"`.
fn size_bytes(m: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    if let Ok(b) = m.extract::<usize>() {
        return Ok(b);
    }
    let text: String = m.extract().map_err(|_| {
        PyTypeError::new_err(format!("{what} takes bytes (an int) or a size like '4GB'"))
    })?;
    fa::parse_bytes(&text)
        .ok_or_else(|| PyValueError::new_err(format!("{what}: cannot read {text:?} as a size")))
}

/// What computing the arrays together will do, without running: a dict of the plan's
/// figures (see `floe::plan`).
#[pyfunction]
#[pyo3(signature = (*arrays))]
fn _plan<'py>(
    py: Python<'py>,
    arrays: &Bound<'py, PyTuple>,
) -> PyResult<(Bound<'py, pyo3::types::PyDict>, String)> {
    let arrays = arrays_arg(arrays, "plan")?;
    let plan = run(py, move || floe::plan(&arrays))?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("tasks", plan.tasks)?;
    d.set_item("source_bytes", plan.source_bytes)?;
    d.set_item("output_bytes", plan.output_bytes)?;
    d.set_item("memory_limit", plan.memory_limit)?;
    d.set_item("peak_bytes", plan.peak_bytes)?;
    d.set_item("unbounded_peak_bytes", plan.unbounded_peak_bytes)?;
    d.set_item("recomputed_bytes", plan.recomputed_bytes)?;
    d.set_item("spilled_bytes", plan.spilled_bytes)?;
    d.set_item("largest_task_bytes", plan.largest_task_bytes)?;
    Ok((d, plan.to_string()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compute, m)?)?;
    m.add_function(wrap_pyfunction!(persist, m)?)?;
    m.add_function(wrap_pyfunction!(_set_config, m)?)?;
    m.add_function(wrap_pyfunction!(_plan, m)?)?;
    Ok(())
}
