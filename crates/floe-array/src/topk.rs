//! `topk` and `coarsen`: reductions whose result keeps an axis — the `k` largest values
//! along it, or every `factor` consecutive values combined.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn};

use crate::block::BlockInfo;
use crate::error::normalize_axis;
use crate::kernels::reduction as kernels;
use crate::{
    Array, ArrayElement, ArrayError, AxisChunks, ChunkSpec, DynArray, ReduceOp, Result, with_dtype,
};

/// The order of NumPy's sort: NaN after every number.
fn nan_last<T: PartialOrd>(a: &T, b: &T) -> std::cmp::Ordering {
    a.partial_cmp(b).unwrap_or_else(|| {
        let nan = |v: &T| v.partial_cmp(v).is_none();
        nan(a).cmp(&nan(b))
    })
}

/// What a top-k pass keeps of each lane.
#[derive(Clone, Copy)]
enum Keep {
    /// The values.
    Values,
    /// Their positions along the axis, plus `offset` (the block's first position).
    Positions { offset: usize },
}

/// The `k` largest (`largest`) or smallest values of each lane of `b` along `axis`, sorted
/// that way (NaN counts as the largest value, as in NumPy's sort; ties keep their order),
/// or their positions. `labels`, if given, replaces the positions: a block of `int64` of
/// `b`'s shape whose values are kept instead (the second pass of `argtopk`).
fn lane_top(
    b: &DynArray,
    labels: Option<&DynArray>,
    axis: usize,
    k: usize,
    largest: bool,
    keep: Keep,
) -> Result<DynArray, TaskError> {
    let labels = labels.map(|l| l.to_typed::<i64>());
    Ok(with_dtype!(b.dtype(), T => {
        let v = T::view(b).ok_or_else(|| TaskError::msg("internal error: topk dtype"))?;
        let n = v.shape()[axis];
        let m = k.min(n);
        let mut shape = v.shape().to_vec();
        shape[axis] = m;
        let mut order: Vec<usize> = Vec::with_capacity(n);
        let mut vals: Vec<T> = Vec::with_capacity(n);
        let lanes = v.lanes(Axis(axis)).into_iter();
        let mut kept: Vec<(ndarray::ArrayViewD<'_, T>, Vec<usize>)> = Vec::new();
        for lane in lanes {
            // The lane copied once (a lane across rows is strided), then its top `m`
            // selected in linear time and only those sorted. Ties go to the earlier
            // position, as a stable sort would: the values' pass and the positions' pass
            // pick the same ones.
            vals.clear();
            vals.extend(lane.iter().copied());
            order.clear();
            order.extend(0..n);
            let rank = |&i: &usize, &j: &usize| {
                let by_value = if largest {
                    nan_last(&vals[j], &vals[i])
                } else {
                    nan_last(&vals[i], &vals[j])
                };
                by_value.then(i.cmp(&j))
            };
            if m < n {
                order.select_nth_unstable_by(m, rank);
            }
            order[..m].sort_unstable_by(rank);
            kept.push((lane.into_dyn(), order[..m].to_vec()));
        }
        match (keep, &labels) {
            (Keep::Values, _) => {
                let mut out = ArrayD::<T>::from_elem(IxDyn(&shape), <T as crate::Element>::zero());
                for ((lane, picked), mut dst) in kept.iter().zip(out.lanes_mut(Axis(axis))) {
                    for (d, &i) in dst.iter_mut().zip(picked) {
                        *d = lane[[i]];
                    }
                }
                DynArray::from(out)
            }
            (Keep::Positions { offset }, None) => {
                let mut out = ArrayD::<i64>::zeros(IxDyn(&shape));
                for ((_, picked), mut dst) in kept.iter().zip(out.lanes_mut(Axis(axis))) {
                    for (d, &i) in dst.iter_mut().zip(picked) {
                        *d = (offset + i) as i64;
                    }
                }
                DynArray::from(out)
            }
            (Keep::Positions { .. }, Some(labels)) => {
                let mut out = ArrayD::<i64>::zeros(IxDyn(&shape));
                let label_lanes = labels.lanes(Axis(axis));
                for (((_, picked), mut dst), lab) in kept.iter().zip(out.lanes_mut(Axis(axis))).zip(label_lanes) {
                    for (d, &i) in dst.iter_mut().zip(picked) {
                        *d = lab[i];
                    }
                }
                DynArray::from(out)
            }
        }
    }))
}

impl Array {
    /// Dask's `topk`: the `k` largest values along `axis`, largest first (negative `k`: the
    /// `|k|` smallest, smallest first). Each block keeps its own top `|k|`; the survivors
    /// are brought into one block along the axis and reduced once more.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if `k` is 0 or `|k|` exceeds the axis' length; a bad
    /// axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 10.0, 1.0, 3, DType::F64)?;
    /// assert_eq!(x.topk(3, 0)?.shape(), &[3]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn topk(&self, k: isize, axis: isize) -> Result<Array> {
        self.top("topk", k, axis, false)
    }

    /// Dask's `argtopk`: the positions along `axis` of the values [`Array::topk`] returns,
    /// in that order, as `int64`.
    ///
    /// # Errors
    ///
    /// As [`Array::topk`].
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 10.0, 1.0, 3, DType::F64)?;
    /// assert_eq!(x.argtopk(-2, 0)?.dtype(), DType::I64);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn argtopk(&self, k: isize, axis: isize) -> Result<Array> {
        self.top("argtopk", k, axis, true)
    }

    /// `topk` (`positions` false) or `argtopk`: each block's own top `|k|`, then the
    /// survivors of every block, brought into one block along the axis, once more.
    fn top(&self, op: &'static str, k: isize, axis: isize, positions: bool) -> Result<Array> {
        let axis = normalize_axis(op, axis, self.ndim())?;
        let n = self.shape()[axis];
        let m = k.unsigned_abs();
        if k == 0 || m > n {
            return Err(ArrayError::invalid(
                op,
                format!("k = {k} for an axis of {n} elements"),
            ));
        }
        let largest = k > 0;
        let kept: Vec<usize> = self.chunks().axis(axis).iter().map(|&c| c.min(m)).collect();
        let mut rules = self.chunks().rules();
        rules[axis] = AxisChunks::Sizes(kept.clone());
        let mut shape = self.shape().to_vec();
        shape[axis] = kept.iter().sum();
        let same_block: crate::DepsFn = Arc::new(|i: &[usize]| vec![(0, i.to_vec())]);
        let whole = |a: &Array| -> Result<Array> {
            let mut r = a.chunks().rules();
            r[axis] = AxisChunks::Whole;
            a.rechunk(ChunkSpec::Axes(r))
        };
        let top = |positions: bool, offsets: &[usize]| {
            crate::BlockOp::new(
                TOP,
                serde_json::json!({
                    "axis": axis, "k": m, "largest": largest, "positions": positions,
                    "offsets": offsets,
                }),
            )
        };
        let values = whole(&crate::from_blocks_op(
            &format!("{op}-values"),
            &shape,
            ChunkSpec::Axes(rules.clone()),
            self.dtype(),
            &[self],
            same_block.clone(),
            top(false, &[]),
        )?)?;
        let mut out_shape = self.shape().to_vec();
        out_shape[axis] = m;
        let mut out_rules = values.chunks().rules();
        out_rules[axis] = AxisChunks::Whole;
        if !positions {
            return crate::from_blocks_op(
                op,
                &out_shape,
                ChunkSpec::Axes(out_rules),
                self.dtype(),
                &[&values],
                same_block,
                top(false, &[]),
            );
        }
        // The same picks as positions: each block's first position along the axis added.
        let offsets = self.chunks().offsets(axis);
        let picked = whole(&crate::from_blocks_op(
            &format!("{op}-positions"),
            &shape,
            ChunkSpec::Axes(rules),
            crate::DType::I64,
            &[self],
            same_block,
            top(true, &offsets),
        )?)?;
        crate::from_blocks_op(
            op,
            &out_shape,
            ChunkSpec::Axes(out_rules),
            crate::DType::I64,
            &[&values, &picked],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec()), (1, i.to_vec())]),
            top(true, &[]),
        )
    }

    /// Dask's `coarsen`: every `factors[a]` consecutive elements along each axis `a`
    /// combined by `op` (a sum, mean, extreme… of each window), the axis shrinking by that
    /// factor. `trim_excess` drops the elements past the last whole window; otherwise every
    /// length must be a multiple of its factor. Blocks are first aligned to the windows.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] for factors of the wrong length or 0, lengths not
    /// multiples of their factor without `trim_excess`, or `argmin`/`argmax`.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{DType, ReduceOp};
    ///
    /// let x = floe_array::arange(0.0, 24.0, 1.0, 5, DType::F64)?.reshape(&[4, 6])?;
    /// let y = x.coarsen(ReduceOp::Mean, &[2, 3], false)?;
    /// assert_eq!(y.shape(), &[2, 2]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn coarsen(&self, op: ReduceOp, factors: &[usize], trim_excess: bool) -> Result<Array> {
        let name = "coarsen";
        let nd = self.ndim();
        if factors.len() != nd {
            return Err(ArrayError::invalid(
                name,
                format!("{} factors for an array of {nd} dimensions", factors.len()),
            ));
        }
        if factors.contains(&0) {
            return Err(ArrayError::invalid(name, "factors must be at least 1"));
        }
        if matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax) {
            return Err(ArrayError::invalid(name, "takes no argmin or argmax"));
        }
        if self.dtype().is_complex() && crate::reduction::complex::by_parts(op) {
            return crate::reduction::complex::by_parts_with(self, op, |x, op| {
                x.coarsen(op, factors, trim_excess)
            });
        }
        let mut x = self.clone();
        let bad: Vec<usize> = (0..nd)
            .filter(|&a| !x.shape()[a].is_multiple_of(factors[a]))
            .collect();
        if !bad.is_empty() {
            if !trim_excess {
                return Err(ArrayError::invalid(
                    name,
                    format!(
                        "factors {factors:?} do not divide the shape {:?} (pass trim_excess)",
                        x.shape()
                    ),
                ));
            }
            let index: Vec<crate::Idx> = (0..nd)
                .map(|a| crate::Idx::Slice {
                    start: None,
                    stop: Some((x.shape()[a] - x.shape()[a] % factors[a]) as isize),
                    step: 1,
                })
                .collect();
            x = x.slice(&index)?;
        }
        // Blocks aligned to whole windows: each boundary moved to a multiple of the factor.
        let rules: Vec<AxisChunks> = (0..nd)
            .map(|a| {
                let f = factors[a];
                let mut ends: Vec<usize> = x
                    .chunks()
                    .axis(a)
                    .iter()
                    .scan(0, |acc, &c| {
                        *acc += c;
                        Some(((*acc + f / 2) / f * f).min(x.shape()[a]))
                    })
                    .collect();
                ends.dedup();
                let mut sizes = Vec::new();
                let mut start = 0;
                for e in ends {
                    if e > start {
                        sizes.push(e - start);
                        start = e;
                    }
                }
                if sizes.is_empty() {
                    sizes.push(0);
                }
                AxisChunks::Sizes(sizes)
            })
            .collect();
        let x = x.rechunk(ChunkSpec::Axes(rules))?;
        let shape: Vec<usize> = (0..nd).map(|a| x.shape()[a] / factors[a]).collect();
        let rules: Vec<AxisChunks> = (0..nd)
            .map(|a| AxisChunks::Sizes(x.chunks().axis(a).iter().map(|c| c / factors[a]).collect()))
            .collect();
        let dtype = op.dtype(x.dtype());
        crate::from_blocks_op(
            name,
            &shape,
            ChunkSpec::Axes(rules),
            dtype,
            &[&x],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
            crate::BlockOp::new(
                COARSEN,
                serde_json::json!({
                    "op": crate::spec::reduce::op_json(op), "factors": factors,
                    "dtype": dtype.name(),
                }),
            ),
        )
    }
}

/// `topk`'s and `argtopk`'s block function, one of floe-array's own (see
/// [`crate::BlockOp`]): each lane's top `k` values, or their positions (plus the block's
/// offset along the axis, from `offsets`; from a second block of positions, if given).
pub(crate) const TOP: &str = "array.top";

pub(crate) fn open_top(params: &serde_json::Value) -> Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(TOP, params);
    let (axis, k, largest) = (p.usize("axis")?, p.usize("k")?, p.bool("largest")?);
    let (positions, offsets) = (p.bool("positions")?, p.usizes("offsets")?);
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        if b.is_empty() || b.len() > 2 || axis >= b[0].shape().len() || axis >= info.index.len() {
            return Err(TaskError::msg(format!(
                "{TOP}: {} blocks for lanes along axis {axis}",
                b.len()
            )));
        }
        let keep = if positions {
            let offset = match offsets.get(info.index[axis]) {
                Some(&o) => o,
                None if offsets.is_empty() => 0,
                None => {
                    return Err(TaskError::msg(format!(
                        "{TOP}: no offset for block {:?}",
                        info.index
                    )));
                }
            };
            Keep::Positions { offset }
        } else {
            Keep::Values
        };
        lane_top(b[0], b.get(1).copied(), axis, k, largest, keep)
    }))
}

/// `coarsen`'s block function, one of floe-array's own (see [`crate::BlockOp`]).
pub(crate) const COARSEN: &str = "array.coarsen";

pub(crate) fn open_coarsen(params: &serde_json::Value) -> Result<crate::GraphFn, TaskError> {
    let p = crate::spec::Params::new(COARSEN, params);
    let op = crate::spec::reduce::op_from_json(p.get("op")?).map_err(|_| p.bad("op"))?;
    let (factors, dtype) = (p.usizes("factors")?, p.dtype("dtype")?);
    if factors.contains(&0) {
        return Err(p.bad("factors"));
    }
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        if b.len() != 1 || info.shape.len() != factors.len() {
            return Err(TaskError::msg(format!("{COARSEN}: {} blocks", b.len())));
        }
        // Each axis split into (windows, factor); the factor axes reduced.
        let mut split = Vec::with_capacity(2 * factors.len());
        for (a, &f) in factors.iter().enumerate() {
            split.extend([info.shape[a], f]);
        }
        let block = with_dtype!(b[0].dtype(), T => {
            let v = T::view(b[0]).ok_or_else(|| TaskError::msg("internal error: coarsen dtype"))?;
            let v = v.as_standard_layout().into_owned();
            DynArray::from(v.into_shape_with_order(IxDyn(&split)).map_err(|e| TaskError::msg(format!("internal error: coarsen: {e}")))?)
        });
        let axes: Vec<usize> = (0..factors.len()).map(|a| 2 * a + 1).collect();
        let p = kernels::partial(op, &block, &axes, info)?;
        Ok(kernels::drop_axes(
            kernels::finalize(op, &p, dtype, &axes)?,
            &axes,
        ))
    }))
}
