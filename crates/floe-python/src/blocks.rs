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
#[pyfunction]
#[pyo3(signature = (inputs, func, dtype, shape, chunks, loop_ndim))]
fn _blockwise(
    inputs: Vec<PyRef<'_, PyArray>>,
    func: Py<PyAny>,
    dtype: &Bound<'_, PyAny>,
    shape: Vec<usize>,
    chunks: Vec<Vec<usize>>,
    loop_ndim: usize,
) -> PyResult<PyArray> {
    let dtype = dtype_arg(Some(dtype), DType::F64)?;
    let arrays: Vec<fa::Array> = inputs.iter().map(|a| a.inner.clone()).collect();
    let numblocks: Vec<Vec<usize>> = arrays.iter().map(fa::Array::numblocks).collect();
    for (j, nb) in numblocks.iter().enumerate() {
        if nb.len() < loop_ndim || nb[loop_ndim..].iter().any(|&n| n > 1) {
            return Err(PyValueError::new_err(format!(
                "blockwise: input {j} needs its {loop_ndim} loop axes first and its other axes in one block, has blocks {nb:?}"
            )));
        }
    }
    let deps: fa::DepsFn = Arc::new(move |i: &[usize]| {
        numblocks
            .iter()
            .enumerate()
            .map(|(j, nb)| {
                let idx = (0..nb.len())
                    .map(|a| if a < loop_ndim && nb[a] > 1 { i[a] } else { 0 })
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
