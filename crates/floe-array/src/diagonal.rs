//! Diagonals: NumPy's `diagonal`, `trace` and `diag`. A diagonal crosses the block grid of
//! its two axes; it is cut into pieces that each lie in one block, so every piece's task
//! reads one block.

use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn};

use crate::block::BlockInfo;
use crate::error::normalize_axis;
use crate::{
    Array, ArrayElement, ArrayError, Axes, AxisChunks, ChunkSpec, DType, DynArray, PadMode, Result,
    with_dtype,
};

/// The pieces of a diagonal: `(first diagonal position, length, block along axis 1,
/// block along axis 2)`, each inside one block of both axes.
fn pieces(
    c1: &[usize],
    c2: &[usize],
    start1: usize,
    start2: usize,
    len: usize,
) -> Vec<(usize, usize, usize, usize)> {
    let ends = |c: &[usize]| -> Vec<usize> {
        c.iter()
            .scan(0, |acc, &n| {
                *acc += n;
                Some(*acc)
            })
            .collect()
    };
    let (e1, e2) = (ends(c1), ends(c2));
    let mut out = Vec::new();
    let mut t = 0;
    while t < len {
        let (i1, i2) = (start1 + t, start2 + t);
        let b1 = e1.partition_point(|&e| e <= i1);
        let b2 = e2.partition_point(|&e| e <= i2);
        let n = (e1[b1] - i1).min(e2[b2] - i2).min(len - t);
        out.push((t, n, b1, b2));
        t += n;
    }
    out
}

impl Array {
    /// NumPy's `diagonal`: the elements `[.., i, .., i + offset, ..]` of axes `axis1` and
    /// `axis2`, those two axes removed and the diagonal appended as the last axis.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] for the same axis twice or an axis out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 12.0, 1.0, 5, DType::F64)?.reshape(&[3, 4])?;
    /// assert_eq!(x.diagonal(1, 0, 1)?.shape(), &[3]);
    /// assert_eq!(x.diagonal(-2, 0, 1)?.shape(), &[1]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn diagonal(&self, offset: isize, axis1: isize, axis2: isize) -> Result<Array> {
        let op = "diagonal";
        let a1 = normalize_axis(op, axis1, self.ndim())?;
        let a2 = normalize_axis(op, axis2, self.ndim())?;
        if a1 == a2 {
            return Err(ArrayError::invalid(
                op,
                "axis1 and axis2 cannot be the same",
            ));
        }
        let (n1, n2) = (self.shape()[a1], self.shape()[a2]);
        // Where the diagonal starts along each axis, and its length (0 if it misses).
        let (s1, s2) = if offset < 0 {
            (offset.unsigned_abs(), 0)
        } else {
            (0, offset.unsigned_abs())
        };
        let len = n1.saturating_sub(s1).min(n2.saturating_sub(s2));
        let (s1, s2) = (s1.min(n1), s2.min(n2));
        let others: Vec<usize> = (0..self.ndim()).filter(|&a| a != a1 && a != a2).collect();
        let parts = pieces(self.chunks().axis(a1), self.chunks().axis(a2), s1, s2, len);
        let mut shape: Vec<usize> = others.iter().map(|&a| self.shape()[a]).collect();
        shape.push(len);
        let mut rules: Vec<AxisChunks> = others
            .iter()
            .map(|&a| AxisChunks::Sizes(self.chunks().axis(a).to_vec()))
            .collect();
        rules.push(AxisChunks::Sizes(if parts.is_empty() {
            vec![0]
        } else {
            parts.iter().map(|p| p.1).collect()
        }));
        // Where each piece of the diagonal starts inside the block it lies in.
        let c1 = self.chunks().offsets(a1);
        let c2 = self.chunks().offsets(a2);
        let at: Vec<[usize; 2]> = parts
            .iter()
            .map(|&(t, _, b1, b2)| [s1 + t - c1[b1], s2 + t - c2[b2]])
            .collect();
        let params = serde_json::json!({
            "a1": a1, "a2": a2, "at": at, "dtype": self.dtype().name(),
        });
        let nd = self.ndim();
        crate::from_blocks_op(
            op,
            &shape,
            ChunkSpec::Axes(rules),
            self.dtype(),
            &[self],
            Arc::new(move |i: &[usize]| {
                let Some(&(_, _, b1, b2)) = parts.get(i[i.len() - 1]) else {
                    return Vec::new(); // the empty diagonal's one block reads nothing
                };
                let mut idx = vec![0; nd];
                for (k, &a) in others.iter().enumerate() {
                    idx[a] = i[k];
                }
                idx[a1] = b1;
                idx[a2] = b2;
                vec![(0, idx)]
            }),
            crate::BlockOp::new(DIAGONAL, params),
        )
    }

    /// NumPy's `trace`: the sums along the diagonals of `axis1` and `axis2` (see
    /// [`Array::diagonal`]), with [`Array::sum`]'s dtypes.
    ///
    /// # Errors
    ///
    /// As [`Array::diagonal`].
    pub fn trace(&self, offset: isize, axis1: isize, axis2: isize) -> Result<Array> {
        let d = self.diagonal(offset, axis1, axis2)?;
        d.sum(Axes::Some(vec![d.ndim() as isize - 1]))
    }
}

/// `diagonal`'s block function, one of floe-array's own (see [`crate::BlockOp`]): per
/// output block along the diagonal, where its piece starts in the input block (`at`), the
/// two axes `a1` and `a2`.
pub(crate) const DIAGONAL: &str = "array.diagonal";

/// `diag`'s block function: a vector block on the diagonal of a square block.
pub(crate) const DIAG: &str = "array.diag";

fn dtype_param(params: &serde_json::Value) -> std::result::Result<DType, TaskError> {
    params
        .get("dtype")
        .and_then(serde_json::Value::as_str)
        .and_then(DType::from_name)
        .ok_or_else(|| TaskError::msg(format!("no dtype in {params}")))
}

pub(crate) fn open_diagonal(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let bad = || TaskError::msg(format!("diagonal's parameters: {params}"));
    let axis = |name: &str| {
        params
            .get(name)
            .and_then(serde_json::Value::as_u64)
            .and_then(|a| usize::try_from(a).ok())
            .ok_or_else(bad)
    };
    let (a1, a2, dtype) = (axis("a1")?, axis("a2")?, dtype_param(params)?);
    let at: Vec<[usize; 2]> =
        serde_json::from_value(params.get("at").cloned().ok_or_else(bad)?).map_err(|_| bad())?;
    if a1 == a2 {
        return Err(bad());
    }
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        let Some(block) = b.first() else {
            // The empty diagonal's one block reads nothing.
            return Ok(DynArray::full(dtype, &info.shape, 0.0));
        };
        let nd = block.shape().len();
        let misplaced = || {
            TaskError::msg(format!(
                "a diagonal block {:?} outside its plan",
                info.index
            ))
        };
        let last = info.shape.len().checked_sub(1).ok_or_else(misplaced)?;
        let (j, n) = (info.index[last], info.shape[last]);
        let [p1, p2] = *at.get(j).ok_or_else(misplaced)?;
        let fits = a1.max(a2) < nd
            && info.shape.len() + 1 == nd
            && p1.checked_add(n).is_some_and(|e| e <= block.shape()[a1])
            && p2.checked_add(n).is_some_and(|e| e <= block.shape()[a2]);
        if !fits {
            return Err(TaskError::msg(format!(
                "a diagonal piece at {p1}, {p2} of {n} elements in a block of shape {:?}",
                block.shape()
            )));
        }
        let others: Vec<usize> = (0..nd).filter(|&a| a != a1 && a != a2).collect();
        Ok(with_dtype!(block.dtype(), T => {
            let v = T::view(block).ok_or_else(|| TaskError::msg("diagonal: a block of another dtype"))?;
            // The two axes last, in that order.
            let mut perm: Vec<usize> = others.clone();
            perm.extend([a1, a2]);
            let v = v.permuted_axes(IxDyn(&perm));
            let lanes: Vec<ndarray::ArrayViewD<'_, T>> = (0..n)
                .map(|k| {
                    let last = v.ndim() - 1;
                    v.index_axis(Axis(last), p2 + k).index_axis_move(Axis(last - 1), p1 + k)
                })
                .collect();
            let stacked = ndarray::stack(Axis(others.len()), &lanes)
                .map_err(|e| TaskError::msg(format!("diagonal: {e}")))?;
            DynArray::from(stacked)
        }))
    }))
}

pub(crate) fn open_diag(
    params: &serde_json::Value,
) -> std::result::Result<crate::GraphFn, TaskError> {
    let dtype = dtype_param(params)?;
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        Ok(match b.first() {
            None => DynArray::full(dtype, &info.shape, 0.0),
            Some(block) => with_dtype!(dtype, T => {
                let d = T::view(block).ok_or_else(|| TaskError::msg("diag: a block of another dtype"))?;
                let m = d.len();
                if info.shape != [m, m] {
                    return Err(TaskError::msg(format!(
                        "diag: a block of {m} values on a block of shape {:?}",
                        info.shape
                    )));
                }
                let mut out = ArrayD::<T>::from_elem(IxDyn(&[m, m]), <T as crate::Element>::zero());
                for (i, &x) in d.iter().enumerate() {
                    out[[i, i]] = x;
                }
                DynArray::from(out)
            }),
        })
    }))
}

/// NumPy's `diag`: a one-dimensional `v` placed on diagonal `k` of a square array (zeros
/// elsewhere; blocks off the diagonal read nothing), or the diagonal `k` of a
/// two-dimensional `v`.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] unless `v` has one or two dimensions.
///
/// # Examples
///
/// ```
/// use floe_array::DType;
///
/// let v = floe_array::arange(1.0, 4.0, 1.0, 2, DType::F64)?;
/// let m = floe_array::diag(&v, 1)?;
/// assert_eq!(m.shape(), &[4, 4]);
/// assert_eq!(floe_array::diag(&m, 1)?.shape(), &[3]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn diag(v: &Array, k: isize) -> Result<Array> {
    match v.ndim() {
        2 => v.diagonal(k, 0, 1),
        1 => {
            let chunks = v.chunks().axis(0).to_vec();
            let n = v.shape()[0];
            let dtype = v.dtype();
            let square = crate::from_blocks_op(
                "diag",
                &[n, n],
                ChunkSpec::Axes(vec![
                    AxisChunks::Sizes(chunks.clone()),
                    AxisChunks::Sizes(chunks),
                ]),
                dtype,
                &[v],
                Arc::new(|i: &[usize]| {
                    if i[0] == i[1] {
                        vec![(0, vec![i[0]])]
                    } else {
                        Vec::new()
                    }
                }),
                crate::BlockOp::new(DIAG, serde_json::json!({ "dtype": dtype.name() })),
            )?;
            let w = k.unsigned_abs();
            if n.checked_add(w)
                .and_then(|m| m.checked_mul(m))
                .and_then(|e| e.checked_mul(dtype.itemsize()))
                .is_none_or(|b| b > isize::MAX as usize)
            {
                return Err(ArrayError::invalid(
                    "diag",
                    format!("a diagonal offset of {k} makes an array too large to address"),
                ));
            }
            match k {
                0 => Ok(square),
                k if k > 0 => {
                    square.pad(&[(0, w), (w, 0)], PadMode::Constant(crate::Scalar::Int(0)))
                }
                _ => square.pad(&[(w, 0), (0, w)], PadMode::Constant(crate::Scalar::Int(0))),
            }
        }
        d => Err(ArrayError::invalid(
            "diag",
            format!("takes a 1-d or 2-d array, not {d}-d"),
        )),
    }
}
