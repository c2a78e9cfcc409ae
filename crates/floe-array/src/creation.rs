//! Creating arrays: constants, ranges, identity, from memory, from a block function,
//! and reproducible random numbers.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::block::BlockInfo;
use crate::expr::Expr;
use crate::{
    Array, ArrayElement, ArrayError, ChunkSpec, Chunks, DType, DynArray, Result, with_dtype,
};

fn source(
    name: &str,
    shape: &[usize],
    chunks: Chunks,
    dtype: DType,
    f: crate::expr::SourceFn,
    described: Option<crate::expr::Described>,
) -> Array {
    Array::from_node(
        name,
        shape.to_vec(),
        dtype,
        chunks,
        Expr::Source(f, described),
    )
}

/// An array of a generator's blocks (see [`crate::Source`]): its closure is the generator.
fn generated(name: &str, shape: &[usize], chunks: Chunks, spec: crate::Source) -> Array {
    let dtype = spec.dtype();
    source(
        name,
        shape,
        chunks,
        dtype,
        spec.box_fn(),
        Some(crate::expr::Described::Spec(spec)),
    )
}

/// An array of `shape` with every element `value` (converted to `dtype` as `astype` does).
///
/// # Errors
///
/// [`ArrayError::BadChunks`] if `chunks` does not fit `shape`.
///
/// # Examples
///
/// ```
/// let x = floe_array::full(&[4, 6], 2, 7.0, floe_array::DType::I32)?;
/// assert_eq!(x.numblocks(), vec![2, 3]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn full(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    value: f64,
    dtype: DType,
) -> Result<Array> {
    let c = Chunks::from_spec(shape, chunks, dtype)?;
    let name = if value == 0.0 {
        "zeros"
    } else if value == 1.0 {
        "ones"
    } else {
        "full"
    };
    Ok(Array::from_node(
        name,
        shape.to_vec(),
        dtype,
        c,
        Expr::Full { value },
    ))
}

/// An array of `shape` filled with `value` cast to `dtype` as NumPy's `astype` does:
/// [`full`] for any [`Scalar`] — integers exactly (through `i128`), complex numbers with both
/// parts.
///
/// # Errors
///
/// Bad `chunks` for `shape`.
///
/// # Examples
///
/// ```
/// use floe_array::{DType, Scalar};
///
/// let z = floe_array::full_scalar(&[3], 2, Scalar::Complex(1.0, -2.0), DType::C64)?;
/// assert_eq!(z.dtype(), DType::C64);
/// let big = floe_array::full_scalar(&[2], 2, Scalar::Int(1 << 60), DType::I64)?;
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn full_scalar(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    value: impl Into<crate::Scalar>,
    dtype: DType,
) -> Result<Array> {
    let value = value.into();
    let c = Chunks::from_spec(shape, chunks, dtype)?;
    Ok(generated(
        "full",
        shape,
        c,
        crate::Source::Scalar { value, dtype },
    ))
}

/// An array of zeros. See [`full`].
///
/// # Errors
///
/// As [`full`].
pub fn zeros(shape: &[usize], chunks: impl Into<ChunkSpec>, dtype: DType) -> Result<Array> {
    full(shape, chunks, 0.0, dtype)
}

/// An array of ones. See [`full`].
///
/// # Errors
///
/// As [`full`].
pub fn ones(shape: &[usize], chunks: impl Into<ChunkSpec>, dtype: DType) -> Result<Array> {
    full(shape, chunks, 1.0, dtype)
}

/// An array whose contents do not matter (zeros: floe never hands out uninitialised memory).
///
/// # Errors
///
/// As [`full`].
pub fn empty(shape: &[usize], chunks: impl Into<ChunkSpec>, dtype: DType) -> Result<Array> {
    full(shape, chunks, 0.0, dtype)
}

/// Evenly spaced values `start, start + step, …` below `stop` (NumPy's `arange`), as `dtype`.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a zero or non-finite step; bad chunks as [`full`].
///
/// # Examples
///
/// ```
/// let x = floe_array::arange(0.0, 10.0, 3.0, 2, floe_array::DType::I64)?;
/// assert_eq!(x.shape(), &[4]); // 0, 3, 6, 9
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn arange(
    start: f64,
    stop: f64,
    step: f64,
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
) -> Result<Array> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(ArrayError::invalid(
            "arange",
            format!("start {start}, stop {stop}, step {step} do not make a range"),
        ));
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    let c = Chunks::from_spec(&[n], chunks, dtype)?;
    Ok(generated(
        "arange",
        &[n],
        c,
        crate::Source::Arange { start, step, dtype },
    ))
}

/// The box `b` of `arange(start, _, step)` as `dtype`.
pub(crate) fn arange_box(start: f64, step: f64, dtype: DType, b: &BlockInfo) -> DynArray {
    let off = b.offset[0];
    with_dtype!(dtype, T => DynArray::from(ArrayD::<T>::from_shape_fn(IxDyn(&b.shape), |i| {
        <T as crate::Element>::from_f64(start + (off + i[0]) as f64 * step)
    })))
}

/// `num` evenly spaced `float64` values from `start` to `stop` (NumPy's `linspace`).
///
/// # Errors
///
/// Bad chunks as [`full`].
pub fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    endpoint: bool,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array> {
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let step = if div > 0 {
        (stop - start) / div as f64
    } else {
        0.0
    };
    let c = Chunks::from_spec(&[num], chunks, DType::F64)?;
    Ok(generated(
        "linspace",
        &[num],
        c,
        crate::Source::Linspace {
            start,
            stop,
            step,
            num,
            endpoint,
        },
    ))
}

/// The box `b` of `linspace` from `start` by `step` (`stop` the last of `num` values when
/// `endpoint`).
pub(crate) fn linspace_box(
    (start, stop, step): (f64, f64, f64),
    num: usize,
    endpoint: bool,
    b: &BlockInfo,
) -> DynArray {
    let off = b.offset[0];
    DynArray::from(ArrayD::<f64>::from_shape_fn(IxDyn(&b.shape), |i| {
        let k = off + i[0];
        if endpoint && k + 1 == num && num > 1 {
            stop
        } else {
            start + k as f64 * step
        }
    }))
}

/// An `n × m` array with ones on diagonal `k` (NumPy's `eye`).
///
/// # Errors
///
/// Bad chunks as [`full`].
pub fn eye(
    n: usize,
    m: usize,
    k: isize,
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
) -> Result<Array> {
    let c = Chunks::from_spec(&[n, m], chunks, dtype)?;
    Ok(generated(
        "eye",
        &[n, m],
        c,
        crate::Source::Eye { k, dtype },
    ))
}

/// The box `b` of an array with ones on diagonal `k`.
pub(crate) fn eye_box(k: isize, dtype: DType, b: &BlockInfo) -> DynArray {
    let (r0, c0) = (b.offset[0] as isize, b.offset[1] as isize);
    with_dtype!(dtype, T => DynArray::from(ArrayD::<T>::from_shape_fn(IxDyn(&b.shape), |i| {
        let on = c0 + i[1] as isize - (r0 + i[0] as isize) == k;
        if on { <T as crate::Element>::one() } else { <T as crate::Element>::zero() }
    })))
}

/// A chunked array over an in-memory `ndarray` (shared, not copied until blocks are cut).
///
/// # Errors
///
/// Bad chunks as [`full`].
///
/// # Examples
///
/// ```
/// use ndarray::ArrayD;
///
/// let a = ArrayD::<f32>::zeros(ndarray::IxDyn(&[6, 4]));
/// let x = floe_array::from_ndarray(a, [4_usize, 4])?;
/// assert_eq!(x.numblocks(), vec![2, 1]);
/// assert_eq!(x.dtype(), floe_array::DType::F32);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn from_ndarray<T: ArrayElement>(a: ArrayD<T>, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    let shape = a.shape().to_vec();
    let c = Chunks::from_spec(&shape, chunks, T::DTYPE)?;
    let a = Arc::new(a);
    Ok(source(
        "array",
        &shape,
        c,
        T::DTYPE,
        Arc::new(move |b: &BlockInfo| {
            let region: Vec<SliceInfoElem> = b
                .offset
                .iter()
                .zip(&b.shape)
                .map(|(&o, &n)| SliceInfoElem::Slice {
                    start: o as isize,
                    end: Some((o + n) as isize),
                    step: 1,
                })
                .collect();
            Ok(T::wrap(a.slice(region.as_slice()).to_owned()))
        }),
        Some(crate::expr::Described::Memory),
    ))
}

/// An array over blocks already in memory, one per block of `chunks` (keyed by block
/// index): computations read them in place, shared, as Dask's arrays over NumPy arrays
/// do — no block is copied when a task uses it (`persist` returns such arrays).
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] if a block is missing, extra, or of the wrong shape or
/// dtype.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use floe_array::{Chunks, DType, DynArray};
///
/// let chunks = Chunks::new(&[5], vec![vec![3, 2]])?;
/// let blocks = HashMap::from([
///     (vec![0], DynArray::from(ndarray::arr1(&[1.0, 2.0, 3.0]).into_dyn())),
///     (vec![1], DynArray::from(ndarray::arr1(&[4.0, 5.0]).into_dyn())),
/// ]);
/// let x = floe_array::from_held_blocks(&[5], &chunks, DType::F64, blocks)?;
/// assert_eq!(x.numblocks(), vec![2]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn from_held_blocks(
    shape: &[usize],
    chunks: &Chunks,
    dtype: DType,
    blocks: std::collections::HashMap<Vec<usize>, DynArray>,
) -> Result<Array> {
    let op = "from_held_blocks";
    let c = Chunks::from_spec(shape, chunks, dtype)?;
    let indices: Vec<Vec<usize>> = c.block_indices().collect();
    if blocks.len() != indices.len() {
        return Err(ArrayError::invalid(
            op,
            format!("{} blocks for a grid of {}", blocks.len(), indices.len()),
        ));
    }
    let mut held = std::collections::HashMap::with_capacity(blocks.len());
    let mut blocks = blocks;
    for index in indices {
        let block = blocks
            .remove(&index)
            .ok_or_else(|| ArrayError::invalid(op, format!("block {index:?} is missing")))?;
        let want = c.block_shape(&index);
        if block.shape() != want.as_slice() || block.dtype() != dtype {
            return Err(ArrayError::invalid(
                op,
                format!(
                    "block {index:?} is {} {:?} where the array's is {dtype} {want:?}",
                    block.dtype(),
                    block.shape()
                ),
            ));
        }
        // Already resident (the held array owns it): not metered, never spilled or dropped.
        held.insert(index, floe_graph::Value::with_nbytes(block, 0));
    }
    Ok(Array::from_node(
        "array",
        shape.to_vec(),
        dtype,
        c,
        Expr::Held(Arc::new(held)),
    ))
}

/// An array whose blocks are made by `f` from their position — the hook file readers use.
/// `f` runs on worker threads, once per block that an output needs.
///
/// # Errors
///
/// Bad chunks as [`full`]. At compute time, a block of the wrong shape fails the task.
///
/// # Examples
///
/// ```
/// use ndarray::ArrayD;
///
/// // Each element is its global row number.
/// let x = floe_array::from_fn(&[10, 3], [4_usize, 3], |b| {
///     ArrayD::<i64>::from_shape_fn(ndarray::IxDyn(&b.shape), |i| (b.offset[0] + i[0]) as i64)
/// })?;
/// assert_eq!(x.numblocks(), vec![3, 1]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn from_fn<T, F>(shape: &[usize], chunks: impl Into<ChunkSpec>, f: F) -> Result<Array>
where
    T: ArrayElement,
    F: Fn(&BlockInfo) -> ArrayD<T> + Send + Sync + 'static,
{
    try_from_fn(shape, chunks, T::DTYPE, move |b| Ok(T::wrap(f(b))))
}

/// Like [`from_fn`] for fallible block functions of a runtime dtype (file readers): an
/// error fails the computation naming the block's key.
///
/// # Errors
///
/// Bad chunks as [`full`].
pub fn try_from_fn<F>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
    f: F,
) -> Result<Array>
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    described_fn(shape, chunks.into(), dtype, f, None)
}

/// Like [`try_from_fn`] for blocks cut from memory the process holds (a NumPy array in
/// the Python bindings): as cheap to make as to hold, so a graph written down as data
/// ([`Lowering::recording_specs`](crate::Lowering::recording_specs), for a cluster)
/// carries each block itself, cut when the graph is written down, as `from_ndarray`'s.
///
/// # Errors
///
/// Bad chunks as [`full`].
pub fn try_from_memory_fn<F>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
    f: F,
) -> Result<Array>
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    described_fn(
        shape,
        chunks.into(),
        dtype,
        f,
        Some(crate::expr::Described::Memory),
    )
}

/// A source of `f`'s blocks, checked, described as `described` (if at all).
fn described_fn<F>(
    shape: &[usize],
    chunks: ChunkSpec,
    dtype: DType,
    f: F,
    described: Option<crate::expr::Described>,
) -> Result<Array>
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    let c = Chunks::from_spec(shape, chunks, dtype)?;
    Ok(source(
        "from_fn",
        shape,
        c,
        dtype,
        checked(dtype, f),
        described,
    ))
}

/// Like [`try_from_fn`] for a block function that a registered block function (see
/// [`BlockOp`](crate::BlockOp)) also describes: locally each block is `f`'s, and a graph
/// written down as data ([`Lowering::recording_specs`](crate::Lowering::recording_specs),
/// for a cluster) names `op` for each block (a task reading no blocks, its block's place
/// given), so that a worker reads the same block (the Python bindings' `from_array` over
/// objects that are not NumPy arrays: the object travels with the graph).
///
/// # Errors
///
/// Bad chunks as [`full`].
pub fn try_from_fn_op<F>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
    f: F,
    op: crate::BlockOp,
) -> Result<Array>
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    described_fn(
        shape,
        chunks.into(),
        dtype,
        f,
        Some(crate::expr::Described::Op(op)),
    )
}

/// Like [`try_from_fn`] for a function that makes *any* box of the array, not only the
/// blocks of `chunks`: `b.offset` and `b.shape` name the box (`b.index` stays the block
/// it lies in). A reduction then asks for cache-sized bands of each block, one at a time,
/// and reduces each while it is in cache, instead of making the block whole: a file reader
/// that can read any box (the NetCDF and `.npy` readers) feeds a mean over time straight
/// from the page cache into the sums.
///
/// The values of a box must not depend on which box they are asked for in. Bands cut a
/// block along one axis (about 1 MiB each, at least one slice of the block; a box
/// input broadcast along that axis is asked for whole), so a reader should make boxes
/// that are whole along the trailing axes with a few large reads.
///
/// # Errors
///
/// Bad chunks as [`full`].
///
/// # Examples
///
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use floe_array::{DType, DynArray};
///
/// // Element (i, j) is i + j, whatever box it is asked for in.
/// let x = floe_array::try_from_box_fn(&[600, 400], [300_usize, 400], DType::F64, |b| {
///     let (i0, j0) = (b.offset[0], b.offset[1]);
///     Ok(DynArray::from(ArrayD::from_shape_fn(IxDyn(&b.shape), |i| {
///         (i0 + i[0] + j0 + i[1]) as f64
///     })))
/// })?;
/// let column_sums = x.sum(0)?; // each block summed a band of rows at a time
/// let (g, out) = column_sums.graph()?;
/// let r = floe_scheduler::Scheduler::default().run(&g, &[out]).unwrap();
/// let v = r.values[0].downcast_ref::<DynArray>().unwrap().clone().into_typed::<f64>();
/// assert_eq!(v[[0]], (0..600).sum::<usize>() as f64);
/// assert_eq!(v[[399]], (399..999).sum::<usize>() as f64);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn try_from_box_fn<F>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    dtype: DType,
    f: F,
) -> Result<Array>
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    let c = Chunks::from_spec(shape, chunks, dtype)?;
    Ok(Array::from_node(
        "from_fn",
        shape.to_vec(),
        dtype,
        c,
        Expr::Boxes(checked(dtype, f), None),
    ))
}

/// An array of a file's blocks, read by `f` and described by `source` (a
/// [`Source::read`](crate::Source::read)): locally `f` reads the blocks; a graph written down
/// as data ([`Lowering::recording_specs`](crate::Lowering::recording_specs), for a cluster)
/// names the reader and its parameters instead, and a worker reads them with the reader
/// registered under that name. `f` must read what the registered reader opened on the
/// same parameters reads (floe-io builds both from one opened reader). With `any_box`, `f`
/// reads any box of the array, as [`try_from_box_fn`]'s function.
///
/// # Errors
///
/// Bad chunks as [`full`].
pub fn try_from_reader<F>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    source: crate::Source,
    any_box: bool,
    f: F,
) -> Result<Array>
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    let dtype = source.dtype();
    let c = Chunks::from_spec(shape, chunks, dtype)?;
    let f = checked(dtype, f);
    let expr = if any_box {
        Expr::Boxes(f, Some(source))
    } else {
        Expr::Source(f, Some(crate::expr::Described::Spec(source)))
    };
    Ok(Array::from_node("from_fn", shape.to_vec(), dtype, c, expr))
}

/// `f` as a source function that fails a box of the wrong shape or dtype, naming it.
fn checked<F>(dtype: DType, f: F) -> crate::expr::SourceFn
where
    F: Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync + 'static,
{
    Arc::new(move |b: &BlockInfo| {
        let block = f(b)?;
        if block.shape() != b.shape.as_slice() || block.dtype() != dtype {
            return Err(TaskError::msg(format!(
                "the block function returned a {} block of shape {:?}; block {:?} must be {} of shape {:?}",
                block.dtype(),
                block.shape(),
                b.index,
                dtype,
                b.shape
            )));
        }
        Ok(block)
    })
}

/// Reproducible random arrays: each element is a function of the seed and its global
/// position, so the values do not depend on the chunking or the number of threads.
pub mod random {
    use super::*;

    /// SplitMix64's output function: a fast, well-mixed bijection of 64-bit words.
    #[inline]
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

    /// Element `counter` of the SplitMix64 stream of `seed`, as a uniform number in [0, 1).
    #[inline]
    fn unit(seed: u64, counter: u64) -> f64 {
        let state =
            mix(seed.wrapping_add(GAMMA)).wrapping_add(counter.wrapping_add(1).wrapping_mul(GAMMA));
        // The top 52 bits as the mantissa of a number in [1, 2): no integer conversion.
        f64::from_bits(0x3ff0_0000_0000_0000 | (mix(state) >> 12)) - 1.0
    }

    /// An array of `spec`'s boxes (any box can be generated, not only its blocks: a
    /// reduction of `x + x.T` generates the bands it reads; see `Expr::Boxes`).
    fn generate(
        name: &str,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        spec: crate::Source,
    ) -> Result<Array> {
        let c = Chunks::from_spec(shape, chunks, DType::F64)?;
        Ok(Array::from_node(
            name,
            shape.to_vec(),
            DType::F64,
            c,
            Expr::Boxes(spec.box_fn(), Some(spec)),
        ))
    }

    /// The box `b` of the uniform numbers in `[low, high)` of `seed`.
    pub(crate) fn uniform_box(
        seed: u64,
        low: f64,
        high: f64,
        b: &BlockInfo,
    ) -> std::result::Result<DynArray, TaskError> {
        fill_box(b, seed, unit, (low, high - low))
    }

    /// The box `b` of the normal numbers of `seed` (Box–Muller on two uniforms per element).
    pub(crate) fn normal_box(
        seed: u64,
        mean: f64,
        std: f64,
        b: &BlockInfo,
    ) -> std::result::Result<DynArray, TaskError> {
        fn gauss(seed: u64, i: u64) -> f64 {
            let u1 = 1.0 - unit(seed, 2 * i);
            let u2 = unit(seed, 2 * i + 1);
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
        fill_box(b, seed, gauss, (mean, std))
    }

    /// The box `b` of `low + width * value(seed, i)` at each flat position `i` of the array.
    fn fill_box<V>(
        b: &BlockInfo,
        seed: u64,
        value: V,
        scale: (f64, f64),
    ) -> std::result::Result<DynArray, TaskError>
    where
        V: Fn(u64, u64) -> f64 + Copy,
    {
        let ndim = b.array_shape.len();
        let strides: Vec<usize> = (0..ndim)
            .map(|a| b.array_shape[a + 1..].iter().product())
            .collect();
        let len: usize = b.shape.iter().product();
        let mut out = Vec::with_capacity(len);
        if len > 0 {
            // Walk the block row by row: the flat index of a row's first element, then
            // consecutive elements along the last axis.
            let inner = if ndim == 0 { 1 } else { b.shape[ndim - 1] };
            let mut row = vec![0_usize; ndim.saturating_sub(1)];
            loop {
                let base: usize = (0..ndim)
                    .map(|a| (b.offset[a] + row.get(a).copied().unwrap_or(0)) * strides[a])
                    .sum();
                fill_row(&mut out, base as u64, inner, seed, value, scale);
                // Next row (odometer over every axis but the last).
                let mut a = row.len();
                loop {
                    if a == 0 {
                        break;
                    }
                    a -= 1;
                    row[a] += 1;
                    if row[a] < b.shape[a] {
                        break;
                    }
                    row[a] = 0;
                    if a == 0 {
                        a = usize::MAX;
                        break;
                    }
                }
                if a == usize::MAX || row.is_empty() {
                    break;
                }
            }
        }
        Ok(DynArray::from(
            ArrayD::from_shape_vec(IxDyn(&b.shape), out)
                .map_err(|e| TaskError::msg(format!("internal error: {e}")))?,
        ))
    }

    /// Appends `low + width * value(seed, i)` for the `n` positions `i` from `first`, with
    /// the widest vectors the processor has (the counter-based generator vectorises; its
    /// 64-bit multiplications are single instructions only with AVX-512).
    fn fill_row<V>(out: &mut Vec<f64>, first: u64, n: usize, seed: u64, value: V, scale: (f64, f64))
    where
        V: Fn(u64, u64) -> f64 + Copy,
    {
        #[inline(always)]
        fn row<V: Fn(u64, u64) -> f64>(
            out: &mut Vec<f64>,
            first: u64,
            n: usize,
            seed: u64,
            value: V,
            (low, width): (f64, f64),
        ) {
            out.extend((first..first + n as u64).map(|i| low + width * value(seed, i)));
        }
        #[cfg(target_arch = "x86_64")]
        {
            use crate::simd;
            if simd::avx512() {
                #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
                fn wide<V: Fn(u64, u64) -> f64>(
                    out: &mut Vec<f64>,
                    first: u64,
                    n: usize,
                    seed: u64,
                    value: V,
                    scale: (f64, f64),
                ) {
                    row(out, first, n, seed, value, scale);
                }
                // SAFETY: the processor has these extensions (checked just above); `wide`
                // is otherwise the portable loop. Exercised by the random tests on such
                // processors, the portable loop by `scripts/check-portable.sh`.
                #[allow(unsafe_code)]
                return unsafe { wide(out, first, n, seed, value, scale) };
            }
            if simd::avx2() {
                #[target_feature(enable = "avx2,fma")]
                fn wide<V: Fn(u64, u64) -> f64>(
                    out: &mut Vec<f64>,
                    first: u64,
                    n: usize,
                    seed: u64,
                    value: V,
                    scale: (f64, f64),
                ) {
                    row(out, first, n, seed, value, scale);
                }
                // SAFETY: as above, for AVX2 and FMA.
                #[allow(unsafe_code)]
                return unsafe { wide(out, first, n, seed, value, scale) };
            }
        }
        row(out, first, n, seed, value, scale);
    }

    /// Uniform `float64` values in `[low, high)`.
    ///
    /// # Errors
    ///
    /// Bad chunks as [`full`](super::full).
    ///
    /// # Examples
    ///
    /// ```
    /// let x = floe_array::random::uniform(&[1000, 1000], [250_usize, 500], 42, 0.0, 1.0)?;
    /// assert_eq!(x.dtype(), floe_array::DType::F64);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn uniform(
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        seed: u64,
        low: f64,
        high: f64,
    ) -> Result<Array> {
        generate(
            "uniform",
            shape,
            chunks,
            crate::Source::Uniform { seed, low, high },
        )
    }

    /// Normally distributed `float64` values (Box–Muller on two uniforms per element).
    ///
    /// # Errors
    ///
    /// Bad chunks as [`full`](super::full).
    pub fn normal(
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        seed: u64,
        mean: f64,
        std: f64,
    ) -> Result<Array> {
        generate(
            "normal",
            shape,
            chunks,
            crate::Source::Normal { seed, mean, std },
        )
    }
}
