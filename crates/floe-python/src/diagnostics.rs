//! Graph pictures from Python: `floe.visualize(*values)`, `x.visualize()`.

use floe::array::Array;
use floe::diagnostics::{Color, DotOptions};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::PyArray;
use crate::delayed::{Obj, PyDelayed};
use crate::to_py;

/// Draws the graph computing `values` (floe arrays and delayed values, lowered together as
/// `floe.compute` would run them) into `filename`: `.svg`, `.png` or `.pdf` through
/// Graphviz's `dot`, `.dot` as Graphviz source; a name without a suffix gets `.png`, as
/// Dask's. Returns the path written.
pub(crate) fn visualize(
    values: &Bound<'_, PyTuple>,
    filename: Option<std::path::PathBuf>,
    color: Option<&str>,
    collapse_above: usize,
) -> PyResult<String> {
    let color = match color {
        None | Some("none") => Color::None,
        Some("order") => Color::Order,
        Some("memory") | Some("memoryfreed") | Some("memory-freed") => Color::MemoryFreed,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "visualize: color is None, 'order' or 'memory', not {other:?}"
            )));
        }
    };
    let mut arrays: Vec<Array> = Vec::new();
    let mut lazies: Vec<floe::Delayed<Obj>> = Vec::new();
    for v in values.iter() {
        if let Ok(a) = v.cast::<PyArray>() {
            arrays.push(a.borrow().inner.clone());
        } else if let Ok(d) = v.cast::<PyDelayed>() {
            lazies.push(d.borrow().inner.clone());
        } else {
            return Err(PyTypeError::new_err(format!(
                "visualize draws floe arrays and delayed values, not {}",
                v.get_type().name()?
            )));
        }
    }
    if arrays.is_empty() && lazies.is_empty() {
        return Err(PyValueError::new_err("visualize: nothing to draw"));
    }
    let mut path = filename.unwrap_or_else(|| "mydask".into());
    if path.extension().is_none() {
        path.set_extension("png");
    }
    let options = DotOptions {
        color,
        collapse_above,
    };
    let written = values
        .py()
        .detach(|| floe::visualize(&(arrays, lazies), &path, &options))
        .map_err(to_py)?;
    Ok(written.to_string_lossy().into_owned())
}

/// `floe.visualize(*values, filename=, color=, collapse_above=)`.
#[pyfunction]
#[pyo3(signature = (*values, filename=None, color=None, collapse_above=500))]
fn _visualize(
    values: &Bound<'_, PyTuple>,
    filename: Option<std::path::PathBuf>,
    color: Option<&str>,
    collapse_above: usize,
) -> PyResult<String> {
    visualize(values, filename, color, collapse_above)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_visualize, m)?)?;
    Ok(())
}
