//! Python functions over aligned blocks whose results may change shape: the primitive
//! under `floe.array.apply_gufunc` (and xarray's `apply_ufunc(..., dask="parallelized")`).

use std::sync::Arc;

use floe::array::{self as fa, DType};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::array::{PyArray, wrap};
use crate::convert::dtype_arg;
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
    // A registered block function: the graph can be handed to dask with `func` in it.
    let (op, _func) = crate::pyfuncs::block_op(func, dtype);
    let refs: Vec<&fa::Array> = arrays.iter().collect();
    let spec = fa::ChunkSpec::Axes(chunks.into_iter().map(fa::AxisChunks::Sizes).collect());
    fa::from_blocks_op("blockwise", &shape, spec, dtype, &refs, deps, op)
        .map(wrap)
        .map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_blockwise, m)?)?;
    Ok(())
}
