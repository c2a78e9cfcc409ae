//! Quantiles along an axis (NumPy's `quantile`, `percentile`, `median` and their `nan`
//! forms), exact: the axis is brought into one block (as Dask's `median` does), then each
//! lane is sorted and interpolated as NumPy's default `linear` method does.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn};

use crate::block::BlockInfo;
use crate::error::normalize_axis;
use crate::{
    Array, ArrayError, AxisChunks, ChunkSpec, DType, DynArray, Element, Result, with_dtype,
};

impl Array {
    /// The quantiles `q` (each in `[0, 1]`) of the lanes along `axis`, exactly, with
    /// NumPy's default (`linear`) interpolation: shape `[q.len()]` followed by the other
    /// axes. A lane holding NaN gives NaN, unless `skip_nan` (`nanquantile`), which
    /// ignores NaN (a lane of NaN only gives NaN). Floats keep their dtype; integers give
    /// `float64`.
    ///
    /// The axis is rechunked into one block; the other axes keep their blocks if the
    /// result fits [`auto_chunk_bytes`](crate::auto_chunk_bytes), else are split to fit.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] for a `q` outside `[0, 1]` or NaN, no `q`, an axis out
    /// of range, or booleans.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 12.0, 1.0, 5, DType::F64)?.reshape(&[3, 4])?;
    /// let q = x.quantile(&[0.25, 0.5], 0, false)?;
    /// assert_eq!(q.shape(), &[2, 4]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn quantile(&self, q: &[f64], axis: isize, skip_nan: bool) -> Result<Array> {
        self.quantile_with(q, axis, skip_nan, Interpolation::Linear)
    }

    /// [`Array::quantile`] with the choice of how two neighbouring values combine.
    ///
    /// # Errors
    ///
    /// As [`Array::quantile`].
    pub fn quantile_with(
        &self,
        q: &[f64],
        axis: isize,
        skip_nan: bool,
        how: Interpolation,
    ) -> Result<Array> {
        let op = if skip_nan { "nanquantile" } else { "quantile" };
        let axis = normalize_axis(op, axis, self.ndim())?;
        let dtype = self.quantile_dtype(op, q)?;
        // The axis in one block; the others as they are, if that block is not too large.
        let mut block = self.chunks().max_block();
        block[axis] = self.shape()[axis].max(1);
        let keep =
            block.iter().product::<usize>() * self.dtype().itemsize() <= crate::auto_chunk_bytes();
        let rules: Vec<AxisChunks> = (0..self.ndim())
            .map(|a| {
                if a == axis {
                    AxisChunks::Whole
                } else if keep {
                    AxisChunks::Sizes(self.chunks().axis(a).to_vec())
                } else {
                    AxisChunks::Auto
                }
            })
            .collect();
        let lanes = self.rechunk(ChunkSpec::Axes(rules))?;
        let nq = q.len();
        let mut shape = vec![nq];
        let mut chunks = vec![vec![nq]];
        for a in (0..self.ndim()).filter(|&a| a != axis) {
            shape.push(self.shape()[a]);
            chunks.push(lanes.chunks().axis(a).to_vec());
        }
        crate::from_blocks_op(
            op,
            &shape,
            ChunkSpec::Axes(chunks.into_iter().map(AxisChunks::Sizes).collect()),
            dtype,
            &[&lanes],
            Arc::new(move |i: &[usize]| {
                let mut idx = i[1..].to_vec();
                idx.insert(axis, 0);
                vec![(0, idx)]
            }),
            crate::BlockOp::new(
                QUANTILE_LANES,
                serde_json::json!({
                    "axis": axis, "q": crate::spec::floats_json(q), "skip_nan": skip_nan,
                    "how": how.name(), "dtype": dtype.name(),
                }),
            ),
        )
    }
}

impl Array {
    /// The dtype of quantiles `q` of this array, after checking `q` (each in `[0, 1]`, at
    /// least one) and the dtype (numbers): floats keep theirs, integers give `float64`.
    fn quantile_dtype(&self, op: &'static str, q: &[f64]) -> Result<DType> {
        if q.is_empty() {
            return Err(ArrayError::invalid(op, "no quantiles asked for"));
        }
        if let Some(bad) = q.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(ArrayError::invalid(
                op,
                format!("quantiles must be in the range [0, 1], got {bad}"),
            ));
        }
        if self.dtype() == DType::Bool {
            return Err(ArrayError::invalid(op, "takes numbers, not booleans"));
        }
        self.dtype().require_real(op)?;
        Ok(if self.dtype().is_float() {
            self.dtype()
        } else {
            DType::F64
        })
    }
}

/// How many order statistics each block reports in the first pass of
/// [`Array::quantile_all`]. The second pass collects about `2 / S` of the `elements` per
/// quantile: `S` is the smallest that keeps that near a quarter million values (a cheaper first
/// pass: each block is partitioned `log2 S` deep, not sorted), at most what keeps the
/// sketches together near four million values, and between 64 and 4096.
fn sketch_size(blocks: usize, elements: usize) -> usize {
    let enough = (2 * elements / (1 << 18)).next_power_of_two();
    let most = (1 << 22) / blocks.max(1);
    enough.min(most).clamp(64, 4096)
}

impl Array {
    /// The quantiles `q` of **all** the elements, exactly (NumPy's `quantile(x, q)` with
    /// `axis=None`, `linear` interpolation), in two passes over the data whatever its size —
    /// no block holds more than one of the array's blocks:
    ///
    /// 1. each block reports its count of numbers, its NaN count and `S` evenly spaced order
    ///    statistics of its sorted numbers; from these, each quantile's two ranks are
    ///    bracketed by values `[lo, hi]` that are *guaranteed* to enclose them;
    /// 2. each block counts its numbers below `lo` and keeps those in `[lo, hi]` (about
    ///    `2 / S` of the data); the kept values, sorted, hold both ranks exactly.
    ///
    /// The result is one-dimensional, `[q.len()]`; dtypes, NaN (`skip_nan`) and errors as
    /// [`Array::quantile`].
    ///
    /// # Errors
    ///
    /// As [`Array::quantile`].
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 101.0, 1.0, 10, DType::F64)?;
    /// let q = x.quantile_all(&[0.05, 0.5], false)?;
    /// assert_eq!(q.shape(), &[2]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn quantile_all(&self, q: &[f64], skip_nan: bool) -> Result<Array> {
        self.quantile_all_with(q, skip_nan, Interpolation::Linear)
    }

    /// [`Array::quantile_all`] with the choice of how two neighbouring values combine.
    ///
    /// # Errors
    ///
    /// As [`Array::quantile`].
    pub fn quantile_all_with(
        &self,
        q: &[f64],
        skip_nan: bool,
        how: Interpolation,
    ) -> Result<Array> {
        let op = if skip_nan { "nanquantile" } else { "quantile" };
        self.require_known(op)?;
        let dtype = self.quantile_dtype(op, q)?;
        let nq = q.len();
        let indices: Arc<Vec<Vec<usize>>> = Arc::new(self.chunks().block_indices().collect());
        let nb = indices.len();
        let s = sketch_size(nb, self.size());
        let block_of = |indices: &Arc<Vec<Vec<usize>>>| {
            let indices = indices.clone();
            move |k: usize| indices[k].clone()
        };
        // Pass 1: a sketch per block.
        let sketches = {
            let at = block_of(&indices);
            crate::from_blocks_op(
                "quantile-sketch",
                &[nb * (s + 3)],
                s + 3,
                DType::F64,
                &[self],
                Arc::new(move |i: &[usize]| vec![(0, at(i[0]))]),
                crate::BlockOp::new(QUANTILE_SKETCH, serde_json::json!({"s": s})),
            )?
        };
        // The brackets, from every sketch.
        let qs = crate::spec::floats_json(q);
        let brackets = crate::from_blocks_op(
            "quantile-bracket",
            &[2 + 2 * nq],
            2 + 2 * nq,
            DType::F64,
            &[&sketches],
            Arc::new(move |_: &[usize]| (0..nb).map(|k| (0, vec![k])).collect()),
            crate::BlockOp::new(QUANTILE_BRACKET, serde_json::json!({"s": s, "q": qs})),
        )?;
        // Pass 2: per block, for each quantile, the count below `lo` and the values in
        // `[lo, hi]`: `[count, kept, values...]` per quantile. Its size depends on the data.
        let bound: Vec<usize> = indices
            .iter()
            .map(|i| nq * (2 + self.chunks().block_shape(i).iter().product::<usize>()))
            .collect();
        let at = block_of(&indices);
        let kept = crate::select::data_dependent(
            "quantile-keep",
            vec![bound],
            vec![true],
            DType::F64,
            vec![self.clone(), brackets.clone()],
            Arc::new(move |i: &[usize]| vec![(0, at(i[0])), (1, vec![0])]),
            crate::BlockOp::new(QUANTILE_KEEP, serde_json::json!({"nq": nq})),
        )?;
        crate::select::data_dependent(
            op,
            vec![vec![nq]],
            vec![false],
            dtype,
            vec![kept, brackets],
            Arc::new(move |_: &[usize]| {
                let mut d: Vec<(usize, Vec<usize>)> = (0..nb).map(|k| (0, vec![k])).collect();
                d.push((1, vec![0]));
                d
            }),
            crate::BlockOp::new(
                QUANTILE_FINISH,
                serde_json::json!({
                    "q": qs, "skip_nan": skip_nan, "how": how.name(), "dtype": dtype.name(),
                }),
            ),
        )
    }
}

/// Quantiles along an axis held in one block, one of floe-array's own block functions
/// (see [`crate::BlockOp`]), as the four below are for the quantiles of all elements.
pub(crate) const QUANTILE_LANES: &str = "array.quantile-lanes";
/// A block's sketch (see [`Array::quantile_all`]).
pub(crate) const QUANTILE_SKETCH: &str = "array.quantile-sketch";
/// The brackets from every block's sketch.
pub(crate) const QUANTILE_BRACKET: &str = "array.quantile-bracket";
/// A block's count below and values inside the brackets.
pub(crate) const QUANTILE_KEEP: &str = "array.quantile-keep";
/// The quantiles from every block's kept values and the brackets.
pub(crate) const QUANTILE_FINISH: &str = "array.quantile-finish";

impl Interpolation {
    fn name(self) -> &'static str {
        match self {
            Interpolation::Linear => "linear",
            Interpolation::Mean => "mean",
        }
    }

    fn from_params(p: &crate::spec::Params<'_>) -> std::result::Result<Interpolation, TaskError> {
        match p.str("how")? {
            "linear" => Ok(Interpolation::Linear),
            "mean" => Ok(Interpolation::Mean),
            _ => Err(p.bad("how")),
        }
    }
}

/// Each block as a slice of `f64`, or an error naming `what` they should have been.
fn f64_slices<'a>(
    b: &[&'a DynArray],
    what: &str,
) -> std::result::Result<Vec<&'a [f64]>, TaskError> {
    b.iter()
        .map(|p| {
            <f64 as crate::ArrayElement>::view(p)
                .and_then(|v| v.to_slice())
                .ok_or_else(|| TaskError::msg(format!("quantile: {what} are not f64")))
        })
        .collect()
}

pub(crate) fn open_quantile_lanes(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(QUANTILE_LANES, params);
    let (axis, q, skip_nan) = (p.usize("axis")?, p.f64s("q")?, p.bool("skip_nan")?);
    let (how, dtype) = (Interpolation::from_params(&p)?, p.dtype("dtype")?);
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        let [x] = b else {
            return Err(TaskError::msg(format!(
                "quantile: one block, given {}",
                b.len()
            )));
        };
        if axis >= x.shape().len() || info.shape.len() != x.shape().len() {
            return Err(TaskError::msg(format!(
                "quantile: a block of shape {:?} for quantiles along axis {axis} of shape {:?}",
                x.shape(),
                info.shape
            )));
        }
        let x = x.to_typed::<f64>();
        let out = lane_quantiles(&x, axis, &q, skip_nan, &info.shape, how);
        Ok(with_dtype!(dtype, T => DynArray::from(out.mapv(T::from_f64))))
    }))
}

pub(crate) fn open_quantile_sketch(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let s = crate::spec::Params::new(QUANTILE_SKETCH, params).usize("s")?;
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| match b {
        [x] if info.shape == [s.saturating_add(3)] => Ok(DynArray::from(sketch(x, s))),
        _ => Err(TaskError::msg(format!(
            "quantile-sketch: one block and a sketch of {s} values, given {} blocks for {:?}",
            b.len(),
            info.shape
        ))),
    }))
}

pub(crate) fn open_quantile_bracket(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(QUANTILE_BRACKET, params);
    let (s, q) = (p.usize("s")?, p.f64s("q")?);
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let parts = f64_slices(b, "sketches")?;
        Ok(DynArray::from(bracket(&parts, s, &q)))
    }))
}

pub(crate) fn open_quantile_keep(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let nq = crate::spec::Params::new(QUANTILE_KEEP, params).usize("nq")?;
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let [x, br] = b else {
            return Err(TaskError::msg(format!(
                "quantile-keep: a block and brackets, given {} blocks",
                b.len()
            )));
        };
        let br = f64_slices(&[br], "brackets")?;
        if br[0].len() != 2 + 2 * nq {
            return Err(TaskError::msg("quantile-keep: brackets of another length"));
        }
        Ok(DynArray::from(keep_bracketed(x, br[0], nq)))
    }))
}

pub(crate) fn open_quantile_finish(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(QUANTILE_FINISH, params);
    let (q, skip_nan) = (p.f64s("q")?, p.bool("skip_nan")?);
    let (how, dtype) = (Interpolation::from_params(&p)?, p.dtype("dtype")?);
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let slices = f64_slices(b, "parts")?;
        let Some((br, parts)) = slices.split_last() else {
            return Err(TaskError::msg("quantile: no parts"));
        };
        let out = finish(parts, br, &q, skip_nan, how)?;
        Ok(with_dtype!(dtype, T => DynArray::from(out.mapv(T::from_f64))))
    }))
}

/// Position of the `j`-th of `s + 1` evenly spaced order statistics of `n` sorted values.
fn sketch_pos(j: usize, n: usize, s: usize) -> usize {
    ((j as u128 * (n as u128 - 1)) / s as u128) as usize
}

/// A block's sketch: `[numbers, NaNs, s + 1 order statistics]` (NaN when it has none).
fn sketch(block: &DynArray, s: usize) -> ArrayD<f64> {
    let mut v: Vec<f64> = crate::with_array!(block, a => {
        a.iter().map(|&e| crate::Element::to_f64(e)).filter(|v| !v.is_nan()).collect()
    });
    let nan = block.len() - v.len();
    let n = v.len();
    if n > 0 {
        // Only the sketched positions need their sorted values.
        let mut wanted: Vec<usize> = (0..=s).map(|j| sketch_pos(j, n, s)).collect();
        wanted.dedup();
        select_many(&mut v, &wanted);
    }
    let mut out = vec![n as f64, nan as f64];
    out.extend((0..=s).map(|j| {
        if n == 0 {
            f64::NAN
        } else {
            v[sketch_pos(j, n, s)]
        }
    }));
    ArrayD::from_shape_vec(IxDyn(&[s + 3]), out).expect("s + 3 values")
}

/// Partially sorts `v` so that each position in `wanted` (ascending, within `v`) holds the
/// value a full sort would put there: quickselect on the middle wanted position, then on
/// each side with the positions that fall there — `O(n log k)` for `k` positions.
fn select_many(v: &mut [f64], wanted: &[usize]) {
    if wanted.is_empty() || v.len() < 2 {
        return;
    }
    let mid = wanted.len() / 2;
    let p = wanted[mid];
    v.select_nth_unstable_by(p, f64::total_cmp);
    let (left, right) = v.split_at_mut(p);
    select_many(left, &wanted[..mid]);
    let rest: Vec<usize> = wanted[mid + 1..].iter().map(|&w| w - p - 1).collect();
    select_many(&mut right[1..], &rest);
}

/// `[numbers, NaNs, lo, hi per quantile]` from every block's sketch: `lo` is a value no
/// more numbers are below than the lower rank of the quantile, `hi` one at least the upper
/// rank's count reach — bounds that hold whatever lies between the sketched values.
fn bracket(parts: &[&[f64]], s: usize, q: &[f64]) -> ArrayD<f64> {
    let blocks: Vec<(usize, &[f64])> = parts
        .iter()
        .map(|p| (p[0] as usize, &p[2..]))
        .filter(|(n, _)| *n > 0)
        .collect();
    let total: usize = blocks.iter().map(|(n, _)| n).sum();
    let nans: f64 = parts.iter().map(|p| p[1]).sum();
    let mut out = vec![total as f64, nans];
    if total == 0 {
        out.extend(std::iter::repeat_n(f64::NAN, 2 * q.len()));
        return ArrayD::from_shape_vec(IxDyn(&[out.len()]), out).expect("values");
    }
    let mut candidates: Vec<f64> = blocks.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    candidates.sort_unstable_by(f64::total_cmp);
    candidates.dedup();
    // At most how many numbers are below `t`; at least how many are at most `t`.
    let below_at_most = |t: f64| -> usize {
        blocks
            .iter()
            .map(|&(n, v)| {
                let j = v.partition_point(|&x| x < t);
                if j > s { n } else { sketch_pos(j, n, s) }
            })
            .sum()
    };
    let upto_at_least = |t: f64| -> usize {
        blocks
            .iter()
            .map(|&(n, v)| match v.partition_point(|&x| x <= t) {
                0 => 0,
                c => sketch_pos(c - 1, n, s) + 1,
            })
            .sum()
    };
    for &p in q {
        let (lo_rank, hi_rank) = ranks(total, p);
        // The largest candidate with at most `lo_rank` numbers below it (the smallest
        // number always qualifies), and the smallest reaching past `hi_rank` (the largest
        // always does).
        let lo = candidates.partition_point(|&t| below_at_most(t) <= lo_rank);
        let hi = candidates.partition_point(|&t| upto_at_least(t) < hi_rank + 1);
        out.push(candidates[lo.max(1) - 1]);
        out.push(candidates[hi.min(candidates.len() - 1)]);
    }
    ArrayD::from_shape_vec(IxDyn(&[out.len()]), out).expect("values")
}

/// The two ranks NumPy's `linear` quantile `p` of `n` sorted numbers interpolates between,
/// and the weight of the upper one.
fn ranks(n: usize, p: f64) -> (usize, usize) {
    let h = (n - 1) as f64 * p;
    let lo = (h.floor() as usize).min(n - 1);
    (lo, (lo + 1).min(n - 1))
}

/// Per quantile, `[numbers below lo, numbers equal to lo, numbers equal to hi (when hi is
/// not lo), numbers strictly between, those numbers…]` of a block: values tied with the
/// bracket's ends are counted, not kept (constant or low-cardinality data would otherwise
/// keep everything).
fn keep_bracketed(block: &DynArray, br: &[f64], nq: usize) -> ArrayD<f64> {
    let x = block.to_typed::<f64>();
    let mut out = Vec::new();
    for j in 0..nq {
        let (lo, hi) = (br[2 + 2 * j], br[3 + 2 * j]);
        let at = out.len();
        out.extend([0.0; 4]);
        let (mut below, mut at_lo, mut at_hi) = (0_usize, 0_usize, 0_usize);
        for &v in &x {
            if v < lo {
                below += 1;
            } else if v == lo {
                at_lo += 1;
            } else if v < hi {
                out.push(v);
            } else if v == hi {
                at_hi += 1;
            }
        }
        out[at] = below as f64;
        out[at + 1] = at_lo as f64;
        out[at + 2] = at_hi as f64;
        out[at + 3] = (out.len() - at - 4) as f64;
    }
    let n = out.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), out).expect("values")
}

/// The quantiles from every block's kept numbers and the brackets.
fn finish(
    parts: &[&[f64]],
    br: &[f64],
    q: &[f64],
    skip_nan: bool,
    how: Interpolation,
) -> std::result::Result<ArrayD<f64>, TaskError> {
    let (total, nans) = (br[0] as usize, br[1]);
    let mut cursor = vec![0_usize; parts.len()];
    let mut out = Vec::with_capacity(q.len());
    for (k, &p) in q.iter().enumerate() {
        let (lo_v, hi_v) = (br[2 + 2 * k], br[3 + 2 * k]);
        let (mut below, mut at_lo, mut at_hi) = (0, 0, 0);
        let mut inside: Vec<f64> = Vec::new();
        for (part, at) in parts.iter().zip(cursor.iter_mut()) {
            below += part[*at] as usize;
            at_lo += part[*at + 1] as usize;
            at_hi += part[*at + 2] as usize;
            let n = part[*at + 3] as usize;
            inside.extend_from_slice(&part[*at + 4..*at + 4 + n]);
            *at += 4 + n;
        }
        if total == 0 || (nans > 0.0 && !skip_nan) {
            out.push(f64::NAN);
            continue;
        }
        let (lo, hi) = ranks(total, p);
        let held = at_lo + inside.len() + at_hi;
        if lo < below || hi >= below + held {
            return Err(TaskError::msg(format!(
                "internal error: quantile ranks {lo}..={hi} outside the bracket {below}..{}",
                below + held
            )));
        }
        // The bracket's values in order: `lo` repeated, the ones strictly inside, `hi`
        // repeated; only the two ranks are looked up (a selection each).
        let mut pick = |r: usize| -> f64 {
            let r = r - below;
            if r < at_lo {
                lo_v
            } else if r < at_lo + inside.len() {
                *inside.select_nth_unstable_by(r - at_lo, f64::total_cmp).1
            } else {
                hi_v
            }
        };
        let a = pick(lo);
        let b = if hi == lo { a } else { pick(hi) };
        out.push(how.between(a, b, (total - 1) as f64 * p - lo as f64));
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&[out.len()]), out).expect("values"))
}

/// The quantiles of every lane of `x` along `axis`, into an array of `shape` (the
/// quantiles first, then the other axes).
fn lane_quantiles(
    x: &ArrayD<f64>,
    axis: usize,
    q: &[f64],
    skip_nan: bool,
    shape: &[usize],
    how: Interpolation,
) -> ArrayD<f64> {
    let mut out = ArrayD::<f64>::zeros(IxDyn(shape));
    let per_q = out.len() / q.len().max(1);
    let flat = out.as_slice_mut().expect("a new array is standard");
    let mut values = Vec::with_capacity(x.shape()[axis]);
    // Lanes come in the row-major order of the other axes, as the output's positions do.
    for (k, lane) in x.lanes(Axis(axis)).into_iter().enumerate() {
        values.clear();
        let mut nan = false;
        for &v in lane {
            if v.is_nan() {
                nan = true;
            } else {
                values.push(v);
            }
        }
        let any_nan_poisons = nan && !skip_nan;
        values.sort_unstable_by(f64::total_cmp);
        for (j, &p) in q.iter().enumerate() {
            let r = if any_nan_poisons || values.is_empty() {
                f64::NAN
            } else {
                at(&values, p, how)
            };
            flat[j * per_q + k] = r;
        }
    }
    out
}

/// NumPy's `linear` quantile of sorted `v` at `p`: the virtual index `(n - 1) p`,
/// interpolated between its neighbours as NumPy's `_lerp` does.
#[cfg(test)]
fn linear(v: &[f64], p: f64) -> f64 {
    at(v, p, Interpolation::Linear)
}

/// The `p` quantile of sorted `v`: the virtual index `(n - 1) p` between its neighbours,
/// combined `how`.
fn at(v: &[f64], p: f64, how: Interpolation) -> f64 {
    let (lo, hi) = ranks(v.len(), p);
    how.between(v[lo], v[hi], (v.len() - 1) as f64 * p - lo as f64)
}

/// How a quantile between two neighbouring sorted values is formed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// NumPy's default `linear` method: `a + (b - a) t`, from the nearer end.
    Linear,
    /// The mean of the two, `(a + b) / 2` (or `a` itself on an exact position), as NumPy's
    /// `median` computes it: it differs from `linear` at infinities (`[2, inf]` has median
    /// `inf`, not NaN) and in the last bit.
    Mean,
}

impl Interpolation {
    fn between(self, a: f64, b: f64, t: f64) -> f64 {
        match self {
            Interpolation::Linear => lerp(a, b, t),
            Interpolation::Mean if t == 0.0 => a,
            Interpolation::Mean => (a + b) / 2.0,
        }
    }
}

/// NumPy's `_lerp`: `a` to `b` by `t`, from the nearer end.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two passes by hand with tiny sketches (so brackets are wide and straddle
    /// blocks), against sorting everything: ties, NaN, empty blocks, one value.
    #[test]
    fn brackets_always_hold_both_ranks() {
        let mut seed = 7_u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for case in 0..300 {
            let nblocks = 1 + case % 7;
            let blocks: Vec<DynArray> = (0..nblocks)
                .map(|b| {
                    let n = (case * 13 + b * 5) % 40;
                    let v: Vec<f64> = (0..n)
                        .map(|_| {
                            let r = next();
                            if case % 5 == 0 && r < 0.05 {
                                f64::NAN
                            } else {
                                (r * (1 + case % 9) as f64).floor()
                            }
                        })
                        .collect();
                    DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap())
                })
                .collect();
            let q = [0.0, 0.1, 0.5, 0.77, 1.0];
            for s in [1, 2, 4, 8] {
                for skip_nan in [false, true] {
                    let sketches: Vec<ArrayD<f64>> = blocks.iter().map(|b| sketch(b, s)).collect();
                    let slices: Vec<&[f64]> =
                        sketches.iter().map(|a| a.as_slice().unwrap()).collect();
                    let br = bracket(&slices, s, &q);
                    let kept: Vec<ArrayD<f64>> = blocks
                        .iter()
                        .map(|b| keep_bracketed(b, br.as_slice().unwrap(), q.len()))
                        .collect();
                    let parts: Vec<&[f64]> = kept.iter().map(|a| a.as_slice().unwrap()).collect();
                    let got = finish(
                        &parts,
                        br.as_slice().unwrap(),
                        &q,
                        skip_nan,
                        Interpolation::Linear,
                    )
                    .unwrap();
                    let mut all: Vec<f64> = blocks
                        .iter()
                        .flat_map(|b| b.to_typed::<f64>().into_iter())
                        .collect();
                    let nan = all.iter().any(|v| v.is_nan());
                    all.retain(|v| !v.is_nan());
                    all.sort_by(f64::total_cmp);
                    for (j, &p) in q.iter().enumerate() {
                        let want = if all.is_empty() || (nan && !skip_nan) {
                            f64::NAN
                        } else {
                            linear(&all, p)
                        };
                        let g = got[j];
                        assert!(
                            g == want || (g.is_nan() && want.is_nan()),
                            "case {case} s {s} q {p}: {g} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn select_many_places_every_wanted_position() {
        let mut seed = 3_u64;
        for n in [1, 2, 7, 100, 1000] {
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((seed >> 40) % 50) as f64
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_by(f64::total_cmp);
            for k in [1, 3, 8, 64] {
                let mut wanted: Vec<usize> = (0..=k).map(|j| sketch_pos(j, n, k)).collect();
                wanted.dedup();
                let mut w = v.clone();
                select_many(&mut w, &wanted);
                for &p in &wanted {
                    assert_eq!(w[p], sorted[p], "n {n} k {k} position {p}");
                }
            }
        }
    }

    #[test]
    fn linear_interpolation_is_numpys() {
        let v = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(linear(&v, 0.0), 1.0);
        assert_eq!(linear(&v, 1.0), 8.0);
        assert_eq!(linear(&v, 0.5), 3.0);
        assert_eq!(linear(&v, 0.25), 1.75);
        assert_eq!(linear(&[5.0], 0.3), 5.0);
    }
}
