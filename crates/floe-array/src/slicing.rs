//! Indexing with NumPy's semantics: integers, slices with any step (negative too),
//! ellipsis and new axes. Only the blocks the selection touches are ever computed.

use crate::gather::{GatherPlan, Segment, identity_axis, select_axis};
use crate::{Array, ArrayError, Result};

/// One entry of an index expression, as in `x[1000, ::4, ..., None]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idx {
    /// One position (negative counts from the end); the axis is removed.
    Int(isize),
    /// A slice `start:stop:step` with Python's semantics (`None` for omitted bounds).
    Slice {
        /// First position (default: 0, or the end for a negative step).
        start: Option<isize>,
        /// One past the last position (default: the end, or before 0 for a negative step).
        stop: Option<isize>,
        /// The step (not 0).
        step: isize,
    },
    /// A new axis of length 1 (`None` / `np.newaxis`).
    NewAxis,
    /// As many full slices as needed (`...`).
    Ellipsis,
}

pub use Idx::{Ellipsis, NewAxis};

impl Idx {
    /// The full slice `:`.
    pub const FULL: Idx = Idx::Slice {
        start: None,
        stop: None,
        step: 1,
    };

    /// This slice with another step (`s![2..;4]` is `Idx::from(2..).step_by(4)`).
    pub fn step_by(self, step: isize) -> Idx {
        match self {
            Idx::Slice { start, stop, .. } => Idx::Slice { start, stop, step },
            other => other,
        }
    }
}

macro_rules! idx_from_int {
    ($($t:ty),+) => {
        $(
            impl From<$t> for Idx {
                fn from(i: $t) -> Self {
                    Idx::Int(i as isize)
                }
            }
            impl From<std::ops::Range<$t>> for Idx {
                fn from(r: std::ops::Range<$t>) -> Self {
                    Idx::Slice { start: Some(r.start as isize), stop: Some(r.end as isize), step: 1 }
                }
            }
            impl From<std::ops::RangeFrom<$t>> for Idx {
                fn from(r: std::ops::RangeFrom<$t>) -> Self {
                    Idx::Slice { start: Some(r.start as isize), stop: None, step: 1 }
                }
            }
            impl From<std::ops::RangeTo<$t>> for Idx {
                fn from(r: std::ops::RangeTo<$t>) -> Self {
                    Idx::Slice { start: None, stop: Some(r.end as isize), step: 1 }
                }
            }
        )+
    };
}

idx_from_int!(i32, i64, isize, usize);

impl From<std::ops::RangeFull> for Idx {
    fn from(_: std::ops::RangeFull) -> Self {
        Idx::FULL
    }
}

/// Builds an index expression with NumPy's meaning and ndarray's `s!` syntax:
/// `s![1000]`, `s![..;4]`, `s![2..;4]`, `s![..;-1]`, `s![Ellipsis, 10..20]`, `s![.., NewAxis]`.
/// A step applies with Python's semantics: `5..1;-1` selects `5, 4, 3, 2` (clippy flags
/// such reversed ranges; write `Idx::Slice { start: Some(5), stop: Some(1), step: -1 }`
/// to avoid the lint).
///
/// # Examples
///
/// ```
/// use floe_array::{s, Idx};
///
/// assert_eq!(s![3], vec![Idx::Int(3)]);
/// assert_eq!(s![..;4], vec![Idx::Slice { start: None, stop: None, step: 4 }]);
/// assert_eq!(s![2..;4, -1], vec![Idx::Slice { start: Some(2), stop: None, step: 4 }, Idx::Int(-1)]);
/// ```
#[macro_export]
macro_rules! s {
    (@acc [$($acc:expr),*]) => { ::std::vec![$($acc),*] };
    (@acc [$($acc:expr),*] $r:expr ; $st:expr $(, $($rest:tt)*)?) => {
        $crate::s!(@acc [$($acc,)* $crate::Idx::from($r).step_by($st as isize)] $($($rest)*)?)
    };
    (@acc [$($acc:expr),*] $r:expr $(, $($rest:tt)*)?) => {
        $crate::s!(@acc [$($acc,)* $crate::Idx::from($r)] $($($rest)*)?)
    };
    ($($t:tt)*) => { $crate::s!(@acc [] $($t)*) };
}

/// Python's `slice.indices`: (first position, step, count) of `start:stop:step` on `n`.
pub(crate) fn slice_positions(
    start: Option<isize>,
    stop: Option<isize>,
    step: isize,
    n: usize,
) -> (usize, isize, usize) {
    let n = n as isize;
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clamp = |v: isize| {
        let v = if v < 0 { v + n } else { v };
        v.clamp(lo, hi)
    };
    let first = start.map_or(if step > 0 { 0 } else { n - 1 }, clamp);
    let end = stop.map_or(if step > 0 { n } else { -1 }, clamp);
    let count = if step > 0 {
        if end > first {
            (end - first + step - 1) / step
        } else {
            0
        }
    } else if first > end {
        (first - end + (-step) - 1) / (-step)
    } else {
        0
    };
    (first.max(0) as usize, step, count as usize)
}

impl Array {
    /// Selects with an index expression (see [`s!`](crate::s)).
    ///
    /// # Errors
    ///
    /// [`ArrayError::IndexOutOfBounds`] for an integer outside its axis;
    /// [`ArrayError::InvalidArgument`] for a zero step; [`ArrayError::InvalidIndex`] for
    /// more than one ellipsis or more indices than axes (NumPy's `IndexError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{s, DType};
    ///
    /// let x = floe_array::zeros(&[1464, 721, 1440], [4_usize, 200, 200], DType::F32)?;
    /// let day = x.slice(&s![1000])?;
    /// assert_eq!(day.shape(), &[721, 1440]);
    /// let every_4th = x.slice(&s![..;4])?;
    /// assert_eq!(every_4th.shape(), &[366, 721, 1440]);
    /// // Only the blocks of time step 1000 are read.
    /// assert_eq!(day.task_count()?, 4 * 8 * 2 + 1);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn slice(&self, index: &[Idx]) -> Result<Array> {
        let op = "slice";
        let ellipses = index.iter().filter(|i| **i == Idx::Ellipsis).count();
        if ellipses > 1 {
            return Err(ArrayError::InvalidIndex {
                message: format!("{op}: an index can only have a single ellipsis ('...')"),
            });
        }
        let consuming = index
            .iter()
            .filter(|i| matches!(i, Idx::Int(_) | Idx::Slice { .. }))
            .count();
        if consuming > self.ndim() {
            return Err(ArrayError::InvalidIndex {
                message: format!(
                    "{op}: too many indices: {consuming} for an array of {} dimensions",
                    self.ndim()
                ),
            });
        }
        // Expand the ellipsis (or pad at the end) with full slices.
        let mut full: Vec<Idx> = Vec::with_capacity(self.ndim() + index.len());
        let fill = self.ndim() - consuming;
        let mut filled = false;
        for i in index {
            if *i == Idx::Ellipsis {
                full.extend(std::iter::repeat_n(Idx::FULL, fill));
                filled = true;
            } else {
                full.push(*i);
            }
        }
        if !filled {
            full.extend(std::iter::repeat_n(Idx::FULL, fill));
        }

        let mut axes: Vec<Vec<Vec<Segment>>> = Vec::with_capacity(self.ndim());
        let mut squeeze = Vec::new();
        let mut new_axes = Vec::new();
        let mut axis = 0;
        let mut out_axis = 0;
        let mut trivial = true;
        for i in &full {
            match *i {
                Idx::NewAxis => {
                    new_axes.push(out_axis);
                    out_axis += 1;
                }
                Idx::Int(k) => {
                    let n = self.shape()[axis];
                    let pos = if k < 0 { k + n as isize } else { k };
                    if pos < 0 || pos >= n as isize {
                        return Err(ArrayError::IndexOutOfBounds {
                            index: k,
                            axis,
                            len: n,
                        });
                    }
                    axes.push(select_axis(self.chunks().axis(axis), pos as usize, 1, 1));
                    squeeze.push(axis);
                    trivial = false;
                    axis += 1;
                }
                Idx::Slice { start, stop, step } => {
                    if step == 0 {
                        return Err(ArrayError::invalid(op, "slice step cannot be zero"));
                    }
                    let n = self.shape()[axis];
                    let (first, step, count) = slice_positions(start, stop, step, n);
                    if step == 1 && first == 0 && count == n {
                        axes.push(identity_axis(self.chunks().axis(axis)));
                    } else {
                        axes.push(select_axis(self.chunks().axis(axis), first, step, count));
                        trivial = false;
                    }
                    axis += 1;
                    out_axis += 1;
                }
                Idx::Ellipsis => unreachable!("expanded above"),
            }
        }
        let selected = if trivial {
            self.clone()
        } else {
            GatherPlan {
                whole: Default::default(),
                inputs: vec![self.clone()],
                axes,
                concat_axis: None,
                squeeze,
            }
            .into_array("getitem")?
        };
        new_axes
            .iter()
            .try_fold(selected, |a, &ax| a.expand_dims(ax as isize))
    }
}

impl Array {
    /// Picks `indices` along `axis`, in order, repeats allowed (NumPy's `take`, or
    /// `x[[3, 1, -1]]` along the first axis). Negative indices count from the end.
    ///
    /// # Errors
    ///
    /// [`ArrayError::IndexOutOfBounds`] for an index outside the axis;
    /// [`ArrayError::AxisOutOfRange`] for a bad axis.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = floe_array::arange(0.0, 10.0, 1.0, 4, floe_array::DType::I64)?;
    /// let y = x.take(&[9, 0, -1], 0)?;
    /// assert_eq!(y.shape(), &[3]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn take(&self, indices: &[isize], axis: isize) -> Result<Array> {
        let axis = crate::error::normalize_axis("take", axis, self.ndim())?;
        let n = self.shape()[axis];
        let positions = indices
            .iter()
            .map(|&k| {
                let p = if k < 0 { k + n as isize } else { k };
                if p < 0 || p >= n as isize {
                    Err(ArrayError::IndexOutOfBounds {
                        index: k,
                        axis,
                        len: n,
                    })
                } else {
                    Ok(p as usize)
                }
            })
            .collect::<Result<Vec<usize>>>()?;
        self.gather_axis(axis, &positions, "take")
    }

    /// Keeps the positions along `axis` where `mask` is true (NumPy's `x[mask]` along an
    /// axis, or `compress`). The mask is known when the graph is built, so the result's
    /// shape is too.
    ///
    /// # Errors
    ///
    /// [`ArrayError::ShapeMismatch`] if the mask's length is not the axis' length;
    /// [`ArrayError::AxisOutOfRange`] for a bad axis.
    pub fn mask(&self, mask: &[bool], axis: isize) -> Result<Array> {
        let axis = crate::error::normalize_axis("mask", axis, self.ndim())?;
        if mask.len() != self.shape()[axis] {
            return Err(ArrayError::ShapeMismatch {
                op: "mask",
                left: self.shape().to_vec(),
                right: vec![mask.len()],
                detail: format!(" (a boolean index along axis {axis} must have its length)"),
            });
        }
        let positions: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
        self.gather_axis(axis, &positions, "mask")
    }

    fn gather_axis(&self, axis: usize, positions: &[usize], name: &'static str) -> Result<Array> {
        let axes = (0..self.ndim())
            .map(|a| {
                if a == axis {
                    crate::gather::take_axis(self.chunks().axis(a), positions)
                } else {
                    identity_axis(self.chunks().axis(a))
                }
            })
            .collect();
        GatherPlan {
            whole: Default::default(),
            inputs: vec![self.clone()],
            axes,
            concat_axis: None,
            squeeze: vec![],
        }
        .into_array(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_positions_follow_python() {
        assert_eq!(slice_positions(None, None, 1, 10), (0, 1, 10));
        assert_eq!(slice_positions(None, None, -1, 10), (9, -1, 10));
        assert_eq!(slice_positions(Some(5), Some(1), -1, 10), (5, -1, 4));
        assert_eq!(slice_positions(Some(2), None, 4, 10), (2, 4, 2));
        assert_eq!(slice_positions(Some(-3), None, 1, 10), (7, 1, 3));
        assert_eq!(slice_positions(Some(20), None, 1, 10), (10, 1, 0));
        assert_eq!(slice_positions(None, Some(-20), -1, 10), (9, -1, 10));
        assert_eq!(slice_positions(Some(3), Some(3), 1, 10), (3, 1, 0));
    }
}
