//! `topk` and `coarsen`: reductions whose result keeps an axis — the `k` largest values
//! along it, or every `factor` consecutive values combined.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn};

use crate::error::normalize_axis;
use crate::expr::BlockInfo;
use crate::reduction::kernels;
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

/// The `k` largest (`largest`) or smallest values of each lane of `b` along `axis`,
/// sorted that way; NaN counts as the largest value, as in NumPy's sort.
fn lane_top(b: &DynArray, axis: usize, k: usize, largest: bool) -> DynArray {
    with_dtype!(b.dtype(), T => {
        let v = T::view(b).expect("the block's own dtype");
        let n = v.shape()[axis];
        let keep = k.min(n);
        let mut shape = v.shape().to_vec();
        shape[axis] = keep;
        let mut out = ArrayD::<T>::from_elem(IxDyn(&shape), <T as crate::Element>::zero());
        let mut lane_buf: Vec<T> = Vec::with_capacity(n);
        for (src, mut dst) in v.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
            lane_buf.clear();
            lane_buf.extend(src.iter().copied());
            let cmp = |a: &T, b: &T| nan_last(a, b);
            if largest {
                lane_buf.sort_unstable_by(|a, b| cmp(b, a));
            } else {
                lane_buf.sort_unstable_by(cmp);
            }
            for (d, &x) in dst.iter_mut().zip(&lane_buf[..keep]) {
                *d = x;
            }
        }
        DynArray::from(out)
    })
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
        let op = "topk";
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
        // Each block's own top m (fewer if the block is shorter).
        let kept: Vec<usize> = self.chunks().axis(axis).iter().map(|&c| c.min(m)).collect();
        let mut rules: Vec<AxisChunks> = self.chunks().rules();
        rules[axis] = AxisChunks::Sizes(kept.clone());
        let mut shape = self.shape().to_vec();
        shape[axis] = kept.iter().sum();
        let per_block = crate::from_blocks(
            "topk-partial",
            &shape,
            ChunkSpec::Axes(rules),
            self.dtype(),
            &[self],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
            Arc::new(move |b: &[&DynArray], _: &BlockInfo| Ok(lane_top(b[0], axis, m, largest))),
        )?;
        let mut whole: Vec<AxisChunks> = per_block.chunks().rules();
        whole[axis] = AxisChunks::Whole;
        let gathered = per_block.rechunk(ChunkSpec::Axes(whole))?;
        let mut rules: Vec<AxisChunks> = gathered.chunks().rules();
        rules[axis] = AxisChunks::Whole;
        let mut out_shape = self.shape().to_vec();
        out_shape[axis] = m;
        crate::from_blocks(
            op,
            &out_shape,
            ChunkSpec::Axes(rules),
            self.dtype(),
            &[&gathered],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
            Arc::new(move |b: &[&DynArray], _: &BlockInfo| Ok(lane_top(b[0], axis, m, largest))),
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
        let factors = factors.to_vec();
        crate::from_blocks(
            name,
            &shape,
            ChunkSpec::Axes(rules),
            dtype,
            &[&x],
            Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
            Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
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
                Ok(kernels::drop_axes(kernels::finalize(op, &p, dtype)?, &axes))
            }),
        )
    }
}
