//! Python functions over aligned blocks whose results may change shape: the primitive
//! under `floe.array.apply_gufunc` (and xarray's `apply_ufunc(..., dask="parallelized")`).

use std::sync::Arc;

use floe::array::{self as fa, DType, DynArray};
use floe_graph::TaskError;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::{PyArray, describe, wrap};
use crate::convert::{dtype_arg, from_numpy, to_numpy};
use crate::to_py;

/// `func(*blocks)` for each block of an output of `shape` in blocks of `chunks`: the first
/// `loop_ndim` axes are the inputs' own loop axes (aligned already: an input's axis has the
/// output's blocks, or one block that broadcasts), every later axis one block. Input `j`'s
/// block for output block `i` is `i` along its loop axes (0 where it has one block) and 0
/// along its other axes, which must each be one block.
///
/// `axes` names the correspondence instead: `axes[j][a]` is the output axis whose block
/// index input `j`'s axis `a` follows (its blocks those of the output along it, or one
/// block that broadcasts), or `None` for an axis read whole (one block).
#[pyfunction]
#[pyo3(signature = (inputs, func, dtype, shape, chunks, loop_ndim, axes=None))]
fn _blockwise(
    inputs: Vec<PyRef<'_, PyArray>>,
    func: Py<PyAny>,
    dtype: &Bound<'_, PyAny>,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    loop_ndim: usize,
    axes: Option<Vec<Vec<Option<usize>>>>,
) -> PyResult<PyArray> {
    let dtype = dtype_arg(Some(dtype), DType::F64)?;
    let arrays: Vec<fa::Array> = inputs.iter().map(|a| a.inner.clone()).collect();
    let numblocks: Vec<Vec<usize>> = arrays.iter().map(fa::Array::numblocks).collect();
    let axes: Vec<Vec<Option<usize>>> = match axes {
        Some(axes) => axes,
        None => numblocks
            .iter()
            .map(|nb| {
                (0..nb.len())
                    .map(|a| (a < loop_ndim).then_some(a))
                    .collect()
            })
            .collect(),
    };
    if axes.len() != arrays.len() {
        return Err(PyValueError::new_err(format!(
            "blockwise: {} inputs but {} axis maps",
            arrays.len(),
            axes.len()
        )));
    }
    for (j, (nb, map)) in numblocks.iter().zip(&axes).enumerate() {
        let fits = map.len() == nb.len()
            && nb.iter().zip(map).all(|(&n, o)| match o {
                None => n == 1,
                Some(o) => n == 1 || chunks.get(*o).is_some_and(|c| c.len() == n),
            });
        if !fits {
            return Err(PyValueError::new_err(format!(
                "blockwise: input {j} has blocks {nb:?}, which do not fit its axes {map:?} in an output of {} dimensions with {:?} blocks (axes read whole need one block)",
                chunks.len(),
                chunks.iter().map(Vec::len).collect::<Vec<_>>()
            )));
        }
    }
    let deps: fa::DepsFn = Arc::new(move |i: &[usize]| {
        numblocks
            .iter()
            .zip(&axes)
            .enumerate()
            .map(|(j, (nb, map))| {
                let idx = nb
                    .iter()
                    .zip(map)
                    .map(|(&n, o)| match o {
                        Some(o) if n > 1 => i[*o],
                        _ => 0,
                    })
                    .collect();
                (j, idx)
            })
            .collect()
    });
    let func = Arc::new(func);
    let f: fa::GraphFn = Arc::new(move |blocks: &[&DynArray], _info: &fa::BlockInfo| {
        Python::attach(|py| {
            let args = PyTuple::new(py, blocks.iter().map(|b| to_numpy(py, (*b).clone())))
                .map_err(|e| floe_graph_error(describe(py, &e)))?;
            let out = func
                .call1(py, args)
                .map_err(|e| floe_graph_error(describe(py, &e)))?;
            let block = from_numpy(out.bind(py)).map_err(|e| floe_graph_error(describe(py, &e)))?;
            Ok(block.astype(dtype))
        })
    });
    let refs: Vec<&fa::Array> = arrays.iter().collect();
    let spec = fa::ChunkSpec::Axes(chunks.into_iter().map(fa::AxisChunks::Sizes).collect());
    fa::from_blocks("blockwise", &shape, spec, dtype, &refs, deps, f)
        .map(wrap)
        .map_err(to_py)
}

fn floe_graph_error(e: Box<dyn std::error::Error + Send + Sync>) -> TaskError {
    TaskError::new(e)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_blockwise, m)?)?;
    Ok(())
}
