//! Python wrappers of floe: the `floe._floe` native module behind the `floe` package.
//!
//! One helper, [`run`], releases the GIL around floe's work and maps floe's errors to
//! Python exceptions (`ValueError` for bad arguments, `IndexError` for bad indices,
//! `OSError` for files, `RuntimeError` for failed computations, naming the task). Arrays
//! cross the boundary as NumPy arrays: results are moved into NumPy without a copy, and
//! inputs are read block by block (any object with `shape`, `dtype` and `__getitem__`:
//! NumPy arrays, `netCDF4.Variable`, `h5py.Dataset`), with the GIL held only around each read.

mod array;
mod blocks;
mod convert;
mod creation;
mod dask_py;
mod dataframe;
mod delayed;
mod diagnostics;
mod diagonal;
mod fft;
mod files;
mod linalg;
mod overlap;
mod pyfuncs;
mod run_py;
mod select;
mod statistics;

use pyo3::exceptions::{
    PyFileNotFoundError, PyIOError, PyIndexError, PyKeyError, PyMemoryError, PyRuntimeError,
    PyValueError,
};
use pyo3::prelude::*;

pub use array::PyArray;
pub use delayed::PyDelayed;

/// A floe error as the Python exception users expect.
pub(crate) fn to_py(e: impl Into<floe::Error>) -> PyErr {
    match e.into() {
        floe::Error::Array(
            a @ (floe::array::ArrayError::IndexOutOfBounds { .. }
            | floe::array::ArrayError::InvalidIndex { .. }),
        ) => PyIndexError::new_err(a.to_string()),
        floe::Error::Array(a @ floe::array::ArrayError::ScalarOutOfBounds { .. }) => {
            pyo3::exceptions::PyOverflowError::new_err(a.to_string())
        }
        // NumPy refuses an operation on a dtype with a TypeError (`np.floor(1j)`).
        floe::Error::Array(a @ floe::array::ArrayError::UnsupportedDType { .. }) => {
            pyo3::exceptions::PyTypeError::new_err(a.to_string())
        }
        floe::Error::Array(a) => PyValueError::new_err(a.to_string()),
        floe::Error::Io(floe::io::IoError::Array(a)) => PyValueError::new_err(a.to_string()),
        floe::Error::Io(io) => PyIOError::new_err(io.to_string()),
        floe::Error::Run(e @ floe::scheduler::Error::TaskTooLarge { .. }) => {
            PyMemoryError::new_err(e.to_string())
        }
        floe::Error::Run(e @ floe::scheduler::Error::Spill { .. }) => {
            PyIOError::new_err(e.to_string())
        }
        floe::Error::DataFrame(e) => dataframe_error(&e),
        other => match python_cause(&other) {
            Some(err) => Python::attach(|py| {
                // A note names the task (Python 3.11+; older ones raise it without).
                let _ = err
                    .value(py)
                    .call_method1("add_note", (format!("floe: {other}"),));
                err
            }),
            // A task that failed on bad array data (an empty selection's maximum, blocks
            // of different selections) is a ValueError, as NumPy raises.
            None if array_cause(&other) => PyValueError::new_err(other.to_string()),
            // A dataframe task that failed on its input (a malformed CSV row): the
            // exception pandas raises, with the file, line and column.
            None => match dataframe_cause(&other) {
                Some(e) => dataframe_error(e),
                None => PyRuntimeError::new_err(other.to_string()),
            },
        },
    }
}

/// Whether an [`ArrayError`](floe::array::ArrayError) inside a task failed the run.
fn array_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<floe::array::ArrayError>().is_some() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// A dataframe error as the exception pandas users expect: a missing column is a
/// `KeyError`, a missing file a `FileNotFoundError`, bad data a `ValueError`.
fn dataframe_error(e: &floe::dataframe::Error) -> PyErr {
    use floe::dataframe::Error as E;
    match e {
        E::ColumnNotFound { .. } => PyKeyError::new_err(e.to_string()),
        E::NoFiles(_) => PyFileNotFoundError::new_err(e.to_string()),
        E::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        E::Io { .. } => PyIOError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// The dataframe error inside a task, if that is what failed the run.
fn dataframe_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a floe::dataframe::Error> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(d) = c.downcast_ref::<floe::dataframe::Error>() {
            return Some(d);
        }
        cause = c.source();
    }
    None
}

/// The Python exception a task raised, if that is what failed the run.
fn python_cause(e: &(dyn std::error::Error + 'static)) -> Option<PyErr> {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(p) = c.downcast_ref::<array::PyTaskError>() {
            return Some(Python::attach(|py| p.err.clone_ref(py)));
        }
        cause = c.source();
    }
    None
}

/// Runs `f` (floe's work) with the GIL released, mapping its error to a Python exception.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, floe::Error> + Send,
) -> PyResult<T> {
    py.detach(f).map_err(to_py)
}

/// Registers the native module's classes and functions.
///
/// # Errors
///
/// If Python refuses an addition to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // File reads and linear-algebra kernels described as data run in any process that
    // imports floe (a dask worker).
    floe::io::register_readers();
    floe::array::linalg::register_block_ops();
    pyfuncs::register();
    m.add_class::<PyArray>()?;
    array::register(m)?;
    blocks::register(m)?;
    delayed::register(m)?;
    dask_py::register(m)?;
    statistics::register(m)?;
    overlap::register(m)?;
    diagonal::register(m)?;
    fft::register(m)?;
    select::register(m)?;
    creation::register(m)?;
    files::register(m)?;
    linalg::register(m)?;
    run_py::register(m)?;
    diagnostics::register(m)?;
    dataframe::register(m)?;
    Ok(())
}
