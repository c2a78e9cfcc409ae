//! Chunked n-d arrays with NumPy's interface: `floe::array`.
//!
//! An [`Array`] is a grid of blocks — each an in-memory `ndarray` of a runtime
//! [`DType`] — defined by a lazy expression. Operations mimic NumPy (names, broadcasting,
//! dtype promotion, negative steps, `keepdims`, `ddof`) and build expressions in
//! microseconds; [`Lowering`] turns the blocks an output needs into tasks of a
//! [`floe_graph::Graph`], which `floe::compute` runs. Almost everything lowers through two
//! primitives, as in Dask: *blockwise* maps over aligned blocks and *tree reductions*;
//! slicing, rechunking and concatenation *gather* pieces of blocks.
//!
//! # Examples
//!
//! ```
//! use floe_array::{s, DType};
//!
//! // The talk's climate array: 1464 time steps of a quarter-degree grid.
//! let x = floe_array::zeros(&[1464, 721, 1440], [4_usize, 200, 200], DType::F32)?;
//! let mean = x.mean(0)?;
//! let anomaly = x.slice(&s![1000])?.sub(&mean)?;
//! let day_night = x.slice(&s![..;4])?.mean(0)?.sub(&x.slice(&s![2..;4])?.mean(0)?)?;
//! assert_eq!(anomaly.shape(), &[721, 1440]);
//! assert_eq!(day_night.dtype(), DType::F32);
//! # Ok::<(), floe_array::ArrayError>(())
//! ```

mod array;
mod block;
mod chunks;
mod complex;
mod creation;
mod diagonal;
mod dtype;
mod dynarray;
mod element;
mod elementwise;
mod error;
mod expr;
mod fft;
mod gather;
mod histogram;
mod indexing;
mod kernels;
mod lower;
mod overlap;
mod pad;
mod parallel;
mod quantile;
mod rechunk;
mod reduction;
mod scan;
pub mod select;
pub use gather::GatherSpec;
pub use select::Unique;
mod shape;
mod simd;
mod slicing;
mod spec;
mod spill;
mod svg;
mod topk;
mod vindex;

pub use array::Array;
pub use block::{BlockInfo, BlockRef};
pub use chunks::{
    AUTO_CHUNK_BYTES, AxisChunks, ChunkSpec, Chunks, auto_chunk_bytes, parse_bytes,
    set_auto_chunk_bytes,
};
pub use complex::{Complex, Complex64, Complex128};
pub use creation::{
    arange, empty, eye, from_fn, from_held_blocks, from_ndarray, full, full_scalar, linspace, ones,
    random, try_from_box_fn, try_from_fn, try_from_fn_op, try_from_memory_fn, try_from_reader,
    zeros,
};
pub use diagonal::diag;
pub use dtype::{DType, Kind};
pub use dynarray::{ArrayElement, DynArray};
pub use element::{Element, cast};
pub use elementwise::{BinaryOp, Scalar, UnaryOp, broadcast_shapes, complex};
pub use error::{ArrayError, Result};
pub use expr::{BlockFn, DepsFn, GraphFn};
pub use fft::{FftNorm, fftfreq, rfftfreq};
pub use floe_graph::human_bytes;
pub use histogram::{Bins, bincount, histogram, histogramdd};
pub use indexing::Index;
pub use lower::Lowering;
pub use overlap::Boundary;
pub use pad::PadMode;
pub use quantile::Interpolation;
pub use rechunk::{plan_rechunk, rechunk_footprint};
pub use reduction::band::BandedSpec;
pub use reduction::{Axes, CHAIN_PARTIAL_BYTES, DEFAULT_SPLIT_EVERY, ReduceOp};
pub use scan::ScanOp;
pub use serde_json;
pub use shape::{concatenate, stack};
pub use slicing::{Ellipsis, Idx, NewAxis};
pub use spec::{
    BlockOp, Kernel, MAX_OPEN_READERS, OpenBlockOp, OpenReader, ReadFn, Reader, Source, TaskSpec,
    close_readers, register_block_op, register_reader,
};

/// `where(cond, x, y)`; see [`Array::where_`].
///
/// # Errors
///
/// If the shapes do not broadcast.
pub fn where_(cond: &Array, x: &Array, y: &Array) -> Result<Array> {
    Array::where_(cond, x, y)
}

/// The blockwise primitive most operations lower to: output block `i` is `f` of block `i`
/// of each input, the inputs broadcast against each other (NumPy's rules) and rechunked to
/// common blocks where they differ. `f` gets each input block (possibly a permuted view,
/// see [`BlockRef`]) and where the output block sits, and must return a block of that
/// shape and `dtype`.
///
/// # Errors
///
/// [`ArrayError::ShapeMismatch`] if the inputs do not broadcast together.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_array::{BlockInfo, BlockRef, DType, DynArray};
///
/// let x = floe_array::ones(&[4, 6], 2, DType::F64)?;
/// let y = floe_array::arange(0.0, 6.0, 1.0, 3, DType::F64)?;
/// // x * y + 1, in one kernel per block.
/// let z = floe_array::blockwise("fma", &[&x, &y], DType::F64, Arc::new(|b: &[BlockRef<'_>], info: &BlockInfo| {
///     let (x, y) = (b[0].view::<f64>().unwrap(), b[1].view::<f64>().unwrap());
///     Ok(DynArray::from(&x * &y + 1.0))
/// }))?;
/// assert_eq!(z.shape(), &[4, 6]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn blockwise(name: &str, inputs: &[&Array], dtype: DType, f: BlockFn) -> Result<Array> {
    elementwise::blockwise(name, "blockwise", inputs, dtype, f, false)
}

/// An array defined by any block graph: block `i` (of the given `shape` and `chunks`) is
/// `f` of the input blocks `deps(i)` names. The general primitive behind algorithms whose
/// blocks read arbitrary blocks of their inputs (matrix products, QR, SVD); like every
/// array, only the blocks an output needs are computed, each once.
///
/// # Errors
///
/// Bad `chunks` for `shape`. A `deps` naming a missing input block is an error when the
/// graph is built; a block of the wrong shape or dtype fails its task, naming it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_array::{DType, DynArray};
///
/// // Block i of `rev` is block (n - 1 - i) of x, reversed: x[::-1] by hand.
/// let x = floe_array::arange(0.0, 6.0, 1.0, 2, DType::F64)?;
/// let n = x.numblocks()[0];
/// let rev = floe_array::from_blocks(
///     "reverse", &[6], 2, DType::F64, &[&x],
///     Arc::new(move |i: &[usize]| vec![(0, vec![n - 1 - i[0]])]),
///     Arc::new(|b: &[&DynArray], _: &floe_array::BlockInfo| {
///         let v = b[0].clone().into_f64().unwrap();
///         Ok(DynArray::from(v.slice(ndarray::s![..;-1]).to_owned().into_dyn()))
///     }),
/// )?;
/// assert_eq!(rev.shape(), &[6]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn from_blocks(
    name: &str,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
    inputs: &[&Array],
    deps: DepsFn,
    f: GraphFn,
) -> Result<Array> {
    custom(name, shape, chunks.into(), dtype, inputs, (deps, f), None)
}

/// The node of [`from_blocks`] and [`from_blocks_op`].
fn custom(
    name: &str,
    shape: &[usize],
    chunks: ChunkSpec,
    dtype: DType,
    inputs: &[&Array],
    (deps, f): (DepsFn, GraphFn),
    op: Option<spec::DescribeFn>,
) -> Result<Array> {
    for input in inputs {
        input.require_known("from_blocks")?;
    }
    let chunks = Chunks::from_spec(shape, chunks, dtype)?;
    Ok(Array::from_node(
        name,
        shape.to_vec(),
        dtype,
        chunks,
        expr::Expr::Custom {
            inputs: inputs.iter().map(|&a| a.clone()).collect(),
            deps,
            f,
            op,
        },
    ))
}

/// `op` (a registered block function, see [`BlockOp`]) on the blocks of `inputs`, aligned
/// and broadcast as [`Array::map_blocks`] aligns them (each output block from the input
/// blocks at its position; an input's axis of one block read by every output block along
/// it). The blocks may have sizes known only once computed (a mask's selection): the
/// output keeps those axes' unknown sizes. The function must return a block of the output
/// block's shape (its own size along unknown axes) and `dtype`. Unlike `map_blocks` over a
/// Rust closure, the tasks are described as data (a worker runs the same function).
///
/// # Errors
///
/// As [`Array::map_blocks`] (shapes that do not broadcast, blocks that do not line up);
/// [`ArrayError::InvalidArgument`] for no input, or if `op` is not registered or refuses
/// its parameters.
///
/// # Examples
///
/// ```
/// use floe_array::{BlockOp, DType};
///
/// // floe-array's own `array.same`: each block as it is.
/// let x = floe_array::arange(0.0, 6.0, 1.0, 4, DType::F64)?;
/// let m = x.filter(&x.gt_scalar(2.0)?)?;
/// let y = floe_array::map_blocks_op(&[&m], DType::F64, BlockOp::new("array.same", serde_json::json!({})))?;
/// assert_eq!(y.unknown_axes(), vec![0]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn map_blocks_op(inputs: &[&Array], dtype: DType, op: BlockOp) -> Result<Array> {
    let Some(first) = inputs.first() else {
        return Err(ArrayError::invalid("map_blocks_op", "no input array"));
    };
    let f = op
        .open()
        .map_err(|e| ArrayError::invalid("map_blocks_op", e.to_string()))?;
    // The alignment, broadcast and unknown sizes of an elementwise operation of the
    // inputs, checked as for any other.
    let aligned = first.map_blocks(&inputs[1..], dtype, |_, _| {
        Err("internal error: an alignment's node is never computed".into())
    })?;
    // The inputs as the alignment has them: rechunked to the output's blocks where an
    // input's differ along an axis it does not broadcast along.
    let inputs: Vec<Array> = match &aligned.node.expr {
        expr::Expr::Blockwise { inputs, .. } => inputs.clone(),
        _ => inputs.iter().map(|&a| a.clone()).collect(),
    };
    let ndim = aligned.ndim();
    let numblocks: Vec<Vec<usize>> = inputs.iter().map(Array::numblocks).collect();
    let deps: DepsFn = std::sync::Arc::new(move |i: &[usize]| {
        numblocks
            .iter()
            .enumerate()
            .map(|(j, nb)| {
                let lead = ndim - nb.len();
                let idx = nb
                    .iter()
                    .enumerate()
                    .map(|(a, &n)| if n == 1 { 0 } else { i[lead + a] })
                    .collect();
                (j, idx)
            })
            .collect()
    });
    Ok(Array::from_node(
        "map_blocks",
        aligned.shape().to_vec(),
        dtype,
        aligned.chunks().clone(),
        expr::Expr::Custom {
            inputs,
            deps,
            f,
            op: Some(spec::same_op(op)),
        },
    )
    .with_unknown(aligned.node.unknown.clone()))
}

/// Like [`from_blocks`] for a block function registered by name (see [`BlockOp`] and
/// [`register_block_op`]): the function is made from `op` once, and a graph written down
/// as data ([`Lowering::recording_specs`], for a cluster) names it and its parameters,
/// so that a worker runs the same function.
///
/// # Errors
///
/// As [`from_blocks`]; [`ArrayError::InvalidArgument`] if `op` is not registered or its
/// function refuses the parameters.
pub fn from_blocks_op(
    name: &str,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
    inputs: &[&Array],
    deps: DepsFn,
    op: BlockOp,
) -> Result<Array> {
    let f = op
        .open()
        .map_err(|e| ArrayError::invalid("from_blocks_op", e.to_string()))?;
    custom(
        name,
        shape,
        chunks.into(),
        dtype,
        inputs,
        (deps, f),
        Some(spec::same_op(op)),
    )
}
