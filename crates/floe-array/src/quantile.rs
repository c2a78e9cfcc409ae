//! Quantiles along an axis (NumPy's `quantile`, `percentile`, `median` and their `nan`
//! forms), exact: the axis is brought into one block (as Dask's `median` does), then each
//! lane is sorted and interpolated as NumPy's default `linear` method does.

use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn};

use crate::error::normalize_axis;
use crate::expr::BlockInfo;
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
        let op = if skip_nan { "nanquantile" } else { "quantile" };
        let axis = normalize_axis(op, axis, self.ndim())?;
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
        let dtype = if self.dtype().is_float() {
            self.dtype()
        } else {
            DType::F64
        };
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
        let q = q.to_vec();
        crate::from_blocks(
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
            Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
                let x = b[0].to_typed::<f64>();
                let out = lane_quantiles(&x, axis, &q, skip_nan, &info.shape);
                Ok(with_dtype!(dtype, T => DynArray::from(out.mapv(T::from_f64))))
            }),
        )
    }
}

/// The quantiles of every lane of `x` along `axis`, into an array of `shape` (the
/// quantiles first, then the other axes).
fn lane_quantiles(
    x: &ArrayD<f64>,
    axis: usize,
    q: &[f64],
    skip_nan: bool,
    shape: &[usize],
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
                linear(&values, p)
            };
            flat[j * per_q + k] = r;
        }
    }
    out
}

/// NumPy's `linear` quantile of sorted `v` at `p`: the virtual index `(n - 1) p`,
/// interpolated between its neighbours as NumPy's `_lerp` does.
fn linear(v: &[f64], p: f64) -> f64 {
    let n = v.len();
    let h = (n - 1) as f64 * p;
    let lo = (h.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = h - lo as f64;
    let (a, b) = (v[lo], v[hi]);
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
