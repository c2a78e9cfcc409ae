//! Histograms, bin counts and bin indices: NumPy's `histogram`, `histogramdd`, `bincount`
//! and `digitize`, in one pass over the blocks.
//!
//! Each block counts its own elements into a small array of bins (its *partial*); the
//! partials are summed by a tree reduction. The bin edges are an array too: given, spaced
//! over a given range, or spaced over the data's range — then the minimum and maximum are
//! reduced first, lazily, as NumPy computes them eagerly.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, IxDyn};

use crate::block::BlockInfo;
use crate::{Array, ArrayElement, ArrayError, Axes, DType, DynArray, Element, Result, with_dtype};

/// How a histogram's bins are given along one dimension.
#[derive(Clone, Debug, PartialEq)]
pub enum Bins {
    /// This many equal-width bins, over the range given or the data's range.
    Count(usize),
    /// The bins' edges, non-decreasing: bin `i` is `[edges[i], edges[i + 1])`, the last
    /// bin including its right edge.
    Edges(Vec<f64>),
}

impl From<usize> for Bins {
    fn from(n: usize) -> Self {
        Bins::Count(n)
    }
}

impl From<Vec<f64>> for Bins {
    fn from(edges: Vec<f64>) -> Self {
        Bins::Edges(edges)
    }
}

/// NumPy's `histogram`: the counts of `x`'s elements (all of them, flattened) in `bins`,
/// and the bins' edges.
///
/// `range` limits equal-width bins (default: the data's minimum and maximum, found lazily
/// in a first pass); elements outside the edges, and NaN, are not counted. With `weights`
/// (an array of `x`'s shape) each element adds its weight instead of one. The counts are
/// `int64`, or of the weights' dtype; with `density` they are `float64`, normalised so
/// that their integral over the bins is 1.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for zero bins, edges that decrease, a reversed or
/// non-finite range, or weights of another shape. Without `range`, a computation whose
/// data's range is not finite (NaN) fails, naming it.
///
/// # Examples
///
/// ```
/// use floe_array::{Bins, DType, histogram};
///
/// let x = floe_array::arange(0.0, 10.0, 1.0, 4, DType::F64)?;
/// let (counts, edges) = histogram(&x, Bins::Count(5), Some((0.0, 10.0)), None, false)?;
/// assert_eq!(counts.shape(), &[5]);
/// assert_eq!(edges.shape(), &[6]);
/// assert_eq!(counts.dtype(), DType::I64);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn histogram(
    x: &Array,
    bins: impl Into<Bins>,
    range: Option<(f64, f64)>,
    weights: Option<&Array>,
    density: bool,
) -> Result<(Array, Array)> {
    let (counts, mut edges) = counts_dd("histogram", &[x], &[bins.into()], &[range], weights)?;
    let edges = edges.remove(0);
    let counts = counts.reshape(&[-1])?;
    if density {
        let widths = edges
            .slice(&crate::s![1..])?
            .sub(&edges.slice(&crate::s![..-1])?)?;
        let counts = counts.astype(DType::F64);
        let total = counts.sum(Axes::All)?;
        return Ok((counts.div(&widths)?.div(&total)?, edges));
    }
    let dtype = weights.map_or(DType::I64, Array::dtype);
    Ok((counts.astype(dtype), edges))
}

/// NumPy's `histogramdd`: the counts of points in bins of `samples.len()` dimensions, the
/// coordinates of point `i` being element `i` of each sample (arrays of one shape, any
/// chunks), and each dimension's edges. `bins` and `ranges` have one entry per dimension
/// (`ranges` may be empty: the data's range everywhere). The counts are `float64`, as
/// NumPy's; `density` normalises them by the total and the bins' volumes.
///
/// # Errors
///
/// As [`histogram`]; also samples of different shapes, or `bins`/`ranges` of another
/// length than `samples`.
///
/// # Examples
///
/// ```
/// use floe_array::{Bins, DType, histogramdd};
///
/// let x = floe_array::arange(0.0, 12.0, 1.0, 5, DType::F64)?;
/// let y = x.mul_scalar(2.0)?;
/// let (counts, edges) = histogramdd(&[&x, &y], &[Bins::Count(3), Bins::Count(4)], &[], None, false)?;
/// assert_eq!(counts.shape(), &[3, 4]);
/// assert_eq!(edges[1].shape(), &[5]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn histogramdd(
    samples: &[&Array],
    bins: &[Bins],
    ranges: &[Option<(f64, f64)>],
    weights: Option<&Array>,
    density: bool,
) -> Result<(Array, Vec<Array>)> {
    let op = "histogramdd";
    if bins.len() != samples.len() {
        return Err(ArrayError::invalid(
            op,
            format!(
                "{} bin specifications for {} dimensions",
                bins.len(),
                samples.len()
            ),
        ));
    }
    let ranges: Vec<Option<(f64, f64)>> = if ranges.is_empty() {
        vec![None; samples.len()]
    } else {
        ranges.to_vec()
    };
    let (counts, edges) = counts_dd(op, samples, bins, &ranges, weights)?;
    let mut counts = counts.astype(DType::F64);
    if density {
        let total = counts.sum(Axes::All)?;
        let d = samples.len();
        for (a, e) in edges.iter().enumerate() {
            let widths = e.slice(&crate::s![1..])?.sub(&e.slice(&crate::s![..-1])?)?;
            // The widths along axis `a`, broadcast over the others.
            let shape: Vec<isize> = (0..d).map(|b| if b == a { -1 } else { 1 }).collect();
            counts = counts.div(&widths.reshape(&shape)?)?;
        }
        counts = counts.div(&total)?;
    }
    Ok((counts, edges))
}

/// The counts (shaped by the bins, `int64` or `float64` with float weights) and the edges.
fn counts_dd(
    op: &'static str,
    samples: &[&Array],
    bins: &[Bins],
    ranges: &[Option<(f64, f64)>],
    weights: Option<&Array>,
) -> Result<(Array, Vec<Array>)> {
    let Some(first) = samples.first() else {
        return Err(ArrayError::invalid(op, "no samples"));
    };
    for x in samples.iter().chain(&weights) {
        x.dtype().require_real(op)?;
    }
    if ranges.len() != samples.len() {
        return Err(ArrayError::invalid(
            op,
            format!("{} ranges for {} dimensions", ranges.len(), samples.len()),
        ));
    }
    let chunks = first.chunks().clone();
    let mut inputs: Vec<Array> = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        if s.shape() != first.shape() {
            return Err(ArrayError::invalid(
                op,
                format!(
                    "sample {i} has shape {:?}, sample 0 {:?}",
                    s.shape(),
                    first.shape()
                ),
            ));
        }
        if s.dtype() == DType::Bool {
            return Err(ArrayError::invalid(
                op,
                "boolean samples have no numeric range",
            ));
        }
        inputs.push(s.rechunk(&chunks)?);
    }
    if let Some(w) = weights {
        inputs.push(aligned_weights(op, w, first)?);
    }
    let mut edges = Vec::new();
    let mut uniform = Vec::new();
    for ((s, b), r) in samples.iter().zip(bins).zip(ranges) {
        let (e, u) = edges_for(op, s, b, *r)?;
        edges.push(e);
        uniform.push(u);
    }
    let nbins: Vec<usize> = edges
        .iter()
        .map(|e| e.shape()[0].saturating_sub(1))
        .collect();
    let cells = nbins
        .iter()
        .try_fold(1_usize, |acc, &n| acc.checked_mul(n))
        .filter(|&c| c.checked_mul(8).is_some_and(|b| b <= isize::MAX as usize))
        .ok_or_else(|| ArrayError::invalid(op, format!("{nbins:?} bins are too many to count")))?;
    let partial_dtype = match weights.map(Array::dtype) {
        Some(d) if d.is_float() => DType::F64,
        _ => DType::I64,
    };
    let grid = chunks.numblocks();
    let nblocks: usize = grid.iter().product();
    let nsamples = samples.len();
    let weighted = weights.is_some();
    let mut all_inputs: Vec<&Array> = inputs.iter().collect();
    all_inputs.extend(edges.iter());
    let deps_grid = grid.clone();
    let partials = crate::from_blocks_op(
        &format!("{op}-partial"),
        &[nblocks, cells],
        [1, cells.max(1)],
        partial_dtype,
        &all_inputs,
        Arc::new(move |i: &[usize]| {
            let block = unravel(i[0], &deps_grid);
            let mut deps: Vec<(usize, Vec<usize>)> = (0..nsamples + usize::from(weighted))
                .map(|k| (k, block.clone()))
                .collect();
            let first_edges = nsamples + usize::from(weighted);
            deps.extend((0..nsamples).map(|d| (first_edges + d, vec![0])));
            deps
        }),
        crate::BlockOp::new(
            HISTOGRAM_PARTIAL,
            serde_json::json!({
                "samples": nsamples, "weighted": weighted, "uniform": uniform,
                "cells": cells, "dtype": partial_dtype.name(),
            }),
        ),
    )?;
    let shape: Vec<isize> = nbins.iter().map(|&n| n as isize).collect();
    let counts = partials.sum(Axes::Some(vec![0]))?.reshape(&shape)?;
    Ok((counts, edges))
}

/// The histogram's per-block counts, one of floe-array's own block functions (see
/// [`crate::BlockOp`]): the blocks of each sample, the weights' (if any), then each
/// sample's edges.
pub(crate) const HISTOGRAM_PARTIAL: &str = "array.histogram-partial";

pub(crate) fn open_histogram_partial(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(HISTOGRAM_PARTIAL, params);
    let (nsamples, weighted) = (p.usize("samples")?, p.bool("weighted")?);
    let (uniform, cells) = (p.bools("uniform")?, p.usize("cells")?);
    let partial_dtype = p.dtype("dtype")?;
    if uniform.len() != nsamples || nsamples == 0 {
        return Err(p.bad("uniform"));
    }
    Ok(Arc::new(move |blocks: &[&DynArray], info: &BlockInfo| {
        if info.shape.get(1) != Some(&cells) {
            return Err(TaskError::msg(format!(
                "{HISTOGRAM_PARTIAL}: {cells} cells for a block of shape {:?}",
                info.shape
            )));
        }
        if blocks.len() != 2 * nsamples + usize::from(weighted) {
            return Err(TaskError::msg(format!(
                "{HISTOGRAM_PARTIAL}: {} blocks for {nsamples} samples",
                blocks.len()
            )));
        }
        let (data, rest) = blocks.split_at(nsamples);
        let (w, edges) = if weighted {
            (Some(rest[0]), &rest[1..])
        } else {
            (None, rest)
        };
        let edges: Vec<ArrayD<f64>> = edges.iter().map(|e| e.to_typed::<f64>()).collect();
        let shape = [1, cells];
        if let ([d], None, [e]) = (data, w, edges.as_slice()) {
            // One sample, no weights: count straight from the block, in memory order.
            let binner = Binner::new(
                e.as_slice().expect("edges are one standard block"),
                uniform[0],
            );
            let mut counts = vec![0_i64; cells];
            with_dtype!(d.dtype(), T => {
                let v = T::view(d).ok_or_else(|| TaskError::msg("internal error: histogram dtype"))?;
                let mut add = |x: T| {
                    if let Some(b) = binner.bin(x.to_f64()) {
                        counts[b] += 1;
                    }
                };
                match v.as_slice_memory_order() {
                    Some(s) => s.iter().for_each(|&x| add(x)),
                    None => v.iter().for_each(|&x| add(x)),
                }
            });
            return Ok(DynArray::from(
                ArrayD::from_shape_vec(IxDyn(&shape), counts).expect("cells"),
            ));
        }
        let index = bin_indices(data, &edges, &uniform);
        Ok(match (w, partial_dtype) {
            (None, _) => {
                let mut counts = vec![0_i64; cells];
                for i in index.into_iter().flatten() {
                    counts[i] += 1;
                }
                DynArray::from(ArrayD::from_shape_vec(IxDyn(&shape), counts).expect("cells"))
            }
            (Some(w), DType::F64) => {
                let w = w.to_typed::<f64>();
                let mut counts = vec![0.0_f64; cells];
                for (i, &wt) in index.into_iter().zip(w.iter()) {
                    if let Some(i) = i {
                        counts[i] += wt;
                    }
                }
                DynArray::from(ArrayD::from_shape_vec(IxDyn(&shape), counts).expect("cells"))
            }
            (Some(w), _) => {
                let w = w.to_typed::<i64>();
                let mut counts = vec![0_i64; cells];
                for (i, &wt) in index.into_iter().zip(w.iter()) {
                    if let Some(i) = i {
                        counts[i] = counts[i].wrapping_add(wt);
                    }
                }
                DynArray::from(ArrayD::from_shape_vec(IxDyn(&shape), counts).expect("cells"))
            }
        })
    }))
}

/// `w` as the weights of `like`: of its shape (else an error naming both), in its blocks.
fn aligned_weights(op: &'static str, w: &Array, like: &Array) -> Result<Array> {
    if w.shape() != like.shape() {
        return Err(ArrayError::invalid(
            op,
            format!(
                "weights of shape {:?} for data of shape {:?}",
                w.shape(),
                like.shape()
            ),
        ));
    }
    w.rechunk(like.chunks())
}

/// The block index of linear block number `k` in a grid (row-major).
pub(crate) fn unravel(mut k: usize, grid: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; grid.len()];
    for a in (0..grid.len()).rev() {
        let n = grid[a].max(1);
        idx[a] = k % n;
        k /= n;
    }
    idx
}

/// The cell (row-major over the dimensions' bins) of each element, `None` where a
/// coordinate falls outside its edges or is NaN.
fn bin_indices(data: &[&DynArray], edges: &[ArrayD<f64>], uniform: &[bool]) -> Vec<Option<usize>> {
    let len = data.first().map_or(0, |d| d.shape().iter().product());
    let mut cells: Vec<Option<usize>> = vec![Some(0); len];
    for ((d, e), &u) in data.iter().zip(edges).zip(uniform) {
        let e = e.as_slice().expect("edges are one standard block");
        let binner = Binner::new(e, u);
        let n = binner.n;
        with_dtype!(d.dtype(), T => {
            let v = T::view(d).expect("the block's own dtype");
            for (c, &x) in cells.iter_mut().zip(v.iter()) {
                if let Some(cell) = *c {
                    *c = binner.bin(x.to_f64()).map(|b| cell * n + b);
                }
            }
        });
    }
    cells
}

/// Finds bins among edges `e`, as NumPy does: arithmetically for equal widths (corrected
/// by the edges where rounding misplaces a value), by bisection otherwise.
struct Binner<'a> {
    e: &'a [f64],
    n: usize,
    /// Bins per unit, for equal widths (0 otherwise).
    norm: f64,
}

impl<'a> Binner<'a> {
    fn new(e: &'a [f64], uniform: bool) -> Self {
        let n = e.len().saturating_sub(1);
        let norm = if uniform && n > 0 && e[n] > e[0] {
            n as f64 / (e[n] - e[0])
        } else {
            0.0
        };
        Binner { e, n, norm }
    }

    #[inline]
    fn bin(&self, v: f64) -> Option<usize> {
        let (e, n) = (self.e, self.n);
        if n == 0 || !(v >= e[0] && v <= e[n]) {
            return None;
        }
        if self.norm > 0.0 {
            let mut i = (((v - e[0]) * self.norm) as usize).min(n - 1);
            if v < e[i] {
                i = i.saturating_sub(1);
            } else if i + 1 < n && v >= e[i + 1] {
                i += 1;
            }
            return Some(i);
        }
        // The number of edges at or below v, less one; the last edge closes the last bin.
        let i = e.partition_point(|&b| b <= v);
        Some((i - 1).min(n - 1))
    }
}

#[cfg(test)]
fn bin_of(v: f64, e: &[f64], _n: usize, uniform: bool) -> Option<usize> {
    Binner::new(e, uniform).bin(v)
}

/// The edges of `bins` for `x` as a one-block array, and whether they are equally spaced.
fn edges_for(
    op: &'static str,
    x: &Array,
    bins: &Bins,
    range: Option<(f64, f64)>,
) -> Result<(Array, bool)> {
    match bins {
        Bins::Edges(e) => {
            if e.is_empty() {
                return Err(ArrayError::invalid(op, "bins must have at least one edge"));
            }
            if e.iter().any(|v| v.is_nan()) || e.windows(2).any(|w| w[0] > w[1]) {
                return Err(ArrayError::invalid(
                    op,
                    "bins must increase monotonically, when an array (and be numbers)",
                ));
            }
            let n = e.len();
            let a = ArrayD::from_shape_vec(IxDyn(&[n]), e.clone()).expect("n edges");
            Ok((crate::from_ndarray(a, n)?, false))
        }
        Bins::Count(0) => Err(ArrayError::invalid(
            op,
            "`bins` must be positive, when an integer",
        )),
        &Bins::Count(n) => match range {
            Some((lo, hi)) => {
                if !(lo.is_finite() && hi.is_finite()) {
                    return Err(ArrayError::invalid(
                        op,
                        format!("supplied range of [{lo}, {hi}] is not finite"),
                    ));
                }
                if lo > hi {
                    return Err(ArrayError::invalid(
                        op,
                        "max must be larger than min in range parameter",
                    ));
                }
                let (lo, hi) = widen(lo, hi);
                Ok((crate::linspace(lo, hi, n + 1, true, n + 1)?, true))
            }
            // No data: NumPy's range (0, 1).
            None if x.shape().contains(&0) => {
                Ok((crate::linspace(0.0, 1.0, n + 1, true, n + 1)?, true))
            }
            None => {
                // The data's range, reduced lazily; the edges follow from it in one task.
                let lo = x.min(Axes::All)?;
                let hi = x.max(Axes::All)?;
                let edges = crate::from_blocks_op(
                    &format!("{op}-edges"),
                    &[n + 1],
                    n + 1,
                    DType::F64,
                    &[&lo, &hi],
                    Arc::new(|_: &[usize]| vec![(0, vec![]), (1, vec![])]),
                    crate::BlockOp::new(HISTOGRAM_EDGES, serde_json::json!({"op": op, "n": n})),
                )?;
                Ok((edges, true))
            }
        },
    }
}

/// `n` bins' edges over the data's range (its minimum's and maximum's blocks), one of
/// floe-array's own block functions (see [`crate::BlockOp`]).
pub(crate) const HISTOGRAM_EDGES: &str = "array.histogram-edges";

pub(crate) fn open_histogram_edges(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(HISTOGRAM_EDGES, params);
    let (op, n) = (p.str("op")?.to_owned(), p.usize("n")?);
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        if info.shape != [n + 1] {
            return Err(TaskError::msg(format!(
                "{op}: {} edges for a block of shape {:?}",
                n + 1,
                info.shape
            )));
        }
        let [lo, hi] = b else {
            return Err(TaskError::msg(format!(
                "{op}: edges from two values, given {}",
                b.len()
            )));
        };
        let lo = lo.to_typed::<f64>().iter().copied().next().unwrap_or(0.0);
        let hi = hi.to_typed::<f64>().iter().copied().next().unwrap_or(0.0);
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(TaskError::msg(format!(
                "{op}: autodetected range of [{lo}, {hi}] is not finite; give a range"
            )));
        }
        let (lo, hi) = widen(lo, hi);
        Ok(DynArray::from(linspace(lo, hi, n + 1)))
    }))
}

/// A range of one value widened to one unit, as NumPy does.
fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// NumPy's `linspace(lo, hi, num)`.
fn linspace(lo: f64, hi: f64, num: usize) -> ArrayD<f64> {
    let step = (hi - lo) / (num - 1).max(1) as f64;
    ArrayD::from_shape_fn(IxDyn(&[num]), |i| {
        if i[0] + 1 == num && num > 1 {
            hi
        } else {
            lo + i[0] as f64 * step
        }
    })
}

/// NumPy's `bincount` of the non-negative integers in `x` (one-dimensional), with
/// `minlength` bins: the count of each value, or the sum of its `weights` (`float64`).
///
/// The number of bins must be known before the data is read, so `minlength` is required
/// (at least 1); a value at or past it fails the computation, naming the value, rather
/// than being dropped.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] if `x` is not one-dimensional integers (or booleans),
/// `minlength` is 0, or `weights` has another shape.
///
/// # Examples
///
/// ```
/// use floe_array::{DType, bincount};
///
/// let x = floe_array::arange(0.0, 6.0, 1.0, 4, DType::I64)?;
/// let counts = bincount(&x, None, 8)?;
/// assert_eq!(counts.shape(), &[8]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn bincount(x: &Array, weights: Option<&Array>, minlength: usize) -> Result<Array> {
    let op = "bincount";
    for w in [Some(x), weights].into_iter().flatten() {
        w.dtype().require_real(op)?;
    }
    if x.ndim() != 1 {
        return Err(ArrayError::invalid(
            op,
            format!("takes a one-dimensional array, not {}-d", x.ndim()),
        ));
    }
    if x.dtype().is_float() {
        return Err(ArrayError::invalid(
            op,
            format!("takes integers, not {}", x.dtype()),
        ));
    }
    if minlength
        .checked_mul(8)
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(ArrayError::invalid(
            op,
            format!("minlength {minlength} is too large to count into"),
        ));
    }
    if minlength == 0 {
        return Err(ArrayError::invalid(
            op,
            "needs minlength (the number of bins, at least max(x) + 1): floe knows every \
             array's shape before reading it",
        ));
    }
    let mut inputs = vec![x.clone()];
    if let Some(w) = weights {
        inputs.push(aligned_weights(op, w, x)?);
    }
    let refs: Vec<&Array> = inputs.iter().collect();
    let dtype = if weights.is_some() {
        DType::F64
    } else {
        DType::I64
    };
    let n_inputs = inputs.len();
    let partials = crate::from_blocks_op(
        "bincount-partial",
        &[x.numblocks()[0], minlength],
        [1, minlength],
        dtype,
        &refs,
        Arc::new(move |i: &[usize]| (0..n_inputs).map(|k| (k, vec![i[0]])).collect()),
        crate::BlockOp::new(
            BINCOUNT_PARTIAL,
            serde_json::json!({"minlength": minlength, "weighted": n_inputs == 2}),
        ),
    )?;
    partials.sum(Axes::Some(vec![0]))
}

/// `bincount`'s per-block counts, one of floe-array's own block functions (see
/// [`crate::BlockOp`]): the values' block, then the weights' (if any).
pub(crate) const BINCOUNT_PARTIAL: &str = "array.bincount-partial";

pub(crate) fn open_bincount_partial(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(BINCOUNT_PARTIAL, params);
    let (minlength, weighted) = (p.usize("minlength")?, p.bool("weighted")?);
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        if b.len() != 1 + usize::from(weighted) || info.shape != [1, minlength] {
            return Err(TaskError::msg(format!(
                "bincount: {} blocks for one partial",
                b.len()
            )));
        }

        let values = b[0].to_typed::<i64>();
        let slot = |v: i64| {
            usize::try_from(v)
                .ok()
                .filter(|&s| s < minlength)
                .ok_or_else(|| {
                    TaskError::msg(format!(
                        "bincount: value {v} in block {} is {}; minlength is {minlength}",
                        info.index[0],
                        if v < 0 {
                            "negative"
                        } else {
                            "not below minlength"
                        }
                    ))
                })
        };
        let shape = IxDyn(&[1, minlength]);
        Ok(match b.get(1) {
            Some(w) => {
                let mut counts = vec![0.0_f64; minlength];
                for (&v, &wt) in values.iter().zip(w.to_typed::<f64>().iter()) {
                    counts[slot(v)?] += wt;
                }
                DynArray::from(ArrayD::from_shape_vec(shape, counts).expect("minlength"))
            }
            None => {
                let mut counts = vec![0_i64; minlength];
                for &v in &values {
                    counts[slot(v)?] += 1;
                }
                DynArray::from(ArrayD::from_shape_vec(shape, counts).expect("minlength"))
            }
        })
    }))
}

impl Array {
    /// NumPy's `digitize`: for each element, the index of the bin of `bins` (increasing or
    /// decreasing edges) it falls in — `i` such that `bins[i-1] <= x < bins[i]` for
    /// increasing bins, or `bins[i-1] < x <= bins[i]` with `right` — as `int64`.
    /// Values below the first edge get 0, above the last `bins.len()`; NaN gets
    /// `bins.len()` (increasing) or 0 (decreasing), as in NumPy.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if `bins` is neither increasing nor decreasing, or
    /// `self` is boolean.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 6.0, 1.0, 4, DType::F64)?;
    /// let i = x.digitize(&[1.0, 2.5, 4.0], false)?;
    /// assert_eq!(i.dtype(), DType::I64);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn digitize(&self, bins: &[f64], right: bool) -> Result<Array> {
        let op = "digitize";
        self.dtype().require_real(op)?;
        if self.dtype() == DType::Bool {
            return Err(ArrayError::invalid(op, "takes numbers, not booleans"));
        }
        let increasing = bins.windows(2).all(|w| w[0] <= w[1]);
        let decreasing = bins.windows(2).all(|w| w[0] >= w[1]);
        if !increasing && !decreasing {
            return Err(ArrayError::invalid(
                op,
                "bins must be monotonically increasing or decreasing",
            ));
        }
        let op = digitize_op(bins, right, increasing);
        crate::from_blocks_op(
            "digitize",
            self.shape(),
            self.chunks().axes().to_vec(),
            DType::I64,
            &[self],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
            op,
        )
    }
}

/// `digitize`'s block function, one of floe-array's own (see [`crate::BlockOp`]).
pub(crate) const DIGITIZE: &str = "array.digitize";

fn digitize_op(bins: &[f64], right: bool, increasing: bool) -> crate::BlockOp {
    // Floats as text, read back exactly.
    let bins: Vec<String> = bins.iter().map(f64::to_string).collect();
    crate::BlockOp::new(
        DIGITIZE,
        serde_json::json!({"bins": bins, "right": right, "increasing": increasing}),
    )
}

/// The bin index of each element (see [`Array::digitize`]).
pub(crate) fn open_digitize(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let bad = || TaskError::msg(format!("digitize's parameters: {params}"));
    let bins: Vec<f64> = params
        .get("bins")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|b| b.as_str().and_then(|t| t.parse().ok()).ok_or_else(bad))
        .collect::<std::result::Result<_, _>>()?;
    let flag = |name: &str| {
        params
            .get(name)
            .and_then(serde_json::Value::as_bool)
            .ok_or_else(bad)
    };
    let (right, increasing) = (flag("right")?, flag("increasing")?);
    // Decreasing edges are searched reversed, as NumPy does.
    let mut sorted = bins;
    if !increasing {
        sorted.reverse();
    }
    if !sorted.windows(2).all(|w| w[0] <= w[1]) {
        return Err(TaskError::msg("digitize's bins are not monotonic"));
    }
    let n = sorted.len() as i64;
    let find = move |v: f64| -> i64 {
        // NumPy's searchsorted, NaN sorting after every number.
        let i = if v.is_nan() {
            sorted.len()
        } else if right {
            sorted.partition_point(|&b| b < v)
        } else {
            sorted.partition_point(|&b| b <= v)
        } as i64;
        if increasing { i } else { n - i }
    };
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let [x] = b else {
            return Err(TaskError::msg(format!(
                "digitize reads one block, given {}",
                b.len()
            )));
        };
        Ok(with_dtype!(x.dtype(), T => {
            let v = T::view(x).ok_or_else(|| TaskError::msg("digitize: a block of another dtype"))?;
            DynArray::from(v.mapv(|e| find(e.to_f64())))
        }))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_found_as_numpy_finds_them() {
        let e = linspace(0.0, 1.0, 11);
        let e = e.as_slice().unwrap();
        for (v, want) in [
            (0.0, Some(0)),
            (0.1, Some(1)),
            (0.3, Some(2)), // 0.3 lies below the edge 3 × 0.1, as in NumPy
            (0.35, Some(3)),
            (1.0, Some(9)),
            (1.5, None),
            (f64::NAN, None),
            (-0.0, Some(0)),
        ] {
            assert_eq!(bin_of(v, e, 10, true), want, "{v}");
            assert_eq!(bin_of(v, e, 10, false), want, "{v} by bisection");
        }
        // Repeated edges: the value goes to the last bin starting at it.
        assert_eq!(bin_of(1.0, &[0.0, 1.0, 1.0, 2.0], 3, false), Some(2));
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
    }
}
