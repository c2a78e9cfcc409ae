//! Padding and repeating: NumPy's `pad` and `repeat`, as gathers of positions per axis
//! (a constant pad is concatenated). The original blocks stay blocks; each pad is one more
//! block at its end of the axis.

use crate::gather::{GatherPlan, take_axis_grouped};

/// The most positions `pad` and `repeat` list along one axis (their gathers list every
/// position when the graph is built).
const MAX_POSITIONS: usize = 1 << 32;
use crate::{Array, ArrayError, AxisChunks, ChunkSpec, Result, Scalar};

/// How `pad` fills the margins (NumPy's `mode`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PadMode {
    /// A constant (`"constant"`), cast to the array's dtype as NumPy casts it.
    Constant(Scalar),
    /// The edge value repeated (`"edge"`).
    Edge,
    /// Mirrored about the edge element, which is not repeated (`"reflect"`).
    Reflect,
    /// Mirrored with the edge element repeated (`"symmetric"`).
    Symmetric,
    /// Continued from the other end (`"wrap"`).
    Wrap,
}

impl PadMode {
    /// NumPy's name, for the modes without a parameter (`"constant"` pads zeros).
    pub fn from_name(name: &str) -> Option<PadMode> {
        match name {
            "constant" => Some(PadMode::Constant(Scalar::Int(0))),
            "edge" => Some(PadMode::Edge),
            "reflect" => Some(PadMode::Reflect),
            "symmetric" => Some(PadMode::Symmetric),
            "wrap" => Some(PadMode::Wrap),
            _ => None,
        }
    }

    /// The input position that position `p` (maybe outside `0..n`, `n > 0`) repeats, as
    /// NumPy pads repeatedly when the pad is wider than the axis.
    fn source(self, p: isize, n: usize) -> usize {
        let n = n as isize;
        let q = match self {
            PadMode::Constant(_) => unreachable!("constant pads are concatenated"),
            PadMode::Edge => p.clamp(0, n - 1),
            PadMode::Wrap => p.rem_euclid(n),
            PadMode::Symmetric => {
                let q = p.rem_euclid(2 * n);
                if q < n { q } else { 2 * n - 1 - q }
            }
            PadMode::Reflect if n == 1 => 0,
            PadMode::Reflect => {
                let q = p.rem_euclid(2 * (n - 1));
                if q < n { q } else { 2 * (n - 1) - q }
            }
        };
        q as usize
    }
}

impl Array {
    /// NumPy's `pad`: `widths[a]` (before, after) elements added along each axis `a` (one
    /// pair: every axis), filled by `mode`. Each margin is one new block; the array's
    /// blocks are unchanged.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] for widths of the wrong length, or a non-constant
    /// pad of an empty axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{DType, PadMode};
    ///
    /// let x = floe_array::arange(0.0, 6.0, 1.0, 3, DType::F64)?;
    /// let y = x.pad(&[(2, 1)], PadMode::Reflect)?;
    /// assert_eq!(y.shape(), &[9]);
    /// assert_eq!(y.chunks().axis(0), &[2, 3, 3, 1]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn pad(&self, widths: &[(usize, usize)], mode: PadMode) -> Result<Array> {
        let op = "pad";
        let nd = self.ndim();
        let widths: Vec<(usize, usize)> = match widths.len() {
            1 => vec![widths[0]; nd],
            n if n == nd => widths.to_vec(),
            n => {
                return Err(ArrayError::invalid(
                    op,
                    format!("{n} pad widths for an array of {nd} dimensions"),
                ));
            }
        };
        if let PadMode::Constant(v) = mode {
            let mut out = self.clone();
            for (a, &(before, after)) in widths.iter().enumerate() {
                let mut parts = Vec::new();
                let margin = |w: usize, x: &Array| -> Result<Array> {
                    let mut shape = x.shape().to_vec();
                    shape[a] = w;
                    let mut rules: Vec<AxisChunks> = x.chunks().rules();
                    rules[a] = AxisChunks::Whole;
                    // The constant as a generator: described as data, as `full` is.
                    crate::full_scalar(&shape, ChunkSpec::Axes(rules), v, x.dtype())
                        .map(|m| m.named("pad"))
                };
                if before > 0 {
                    parts.push(margin(before, &out)?);
                }
                parts.push(out.clone());
                if after > 0 {
                    parts.push(margin(after, &out)?);
                }
                if parts.len() > 1 {
                    out = crate::concatenate(&parts, a as isize)?;
                }
            }
            return Ok(out);
        }
        let mut axes = Vec::with_capacity(nd);
        for (a, &(before, after)) in widths.iter().enumerate() {
            let n = self.shape()[a];
            if before
                .checked_add(after)
                .and_then(|w| w.checked_add(n))
                .is_none_or(|len| len > MAX_POSITIONS)
            {
                return Err(ArrayError::invalid(
                    op,
                    format!(
                        "pad widths ({before}, {after}) make axis {a} longer than {MAX_POSITIONS}"
                    ),
                ));
            }
            if n == 0 && before + after > 0 {
                return Err(ArrayError::invalid(
                    op,
                    format!("can't extend empty axis {a} using modes other than 'constant'"),
                ));
            }
            let mut groups: Vec<Vec<usize>> = Vec::new();
            if before > 0 {
                groups.push((-(before as isize)..0).map(|p| mode.source(p, n)).collect());
            }
            let mut off = 0;
            for &c in self.chunks().axis(a) {
                groups.push((off..off + c).collect());
                off += c;
            }
            if after > 0 {
                groups.push(
                    (n as isize..(n + after) as isize)
                        .map(|p| mode.source(p, n))
                        .collect(),
                );
            }
            let refs: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
            axes.push(take_axis_grouped(self.chunks().axis(a), &refs));
        }
        GatherPlan::single(self, axes, op)
    }

    /// NumPy's `repeat` along `axis`: element `i` repeated `repeats[i]` times (one value:
    /// every element). Block `k` of the result holds block `k`'s repeated elements.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if `repeats` is neither one value nor one per
    /// element; a bad axis.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 4.0, 1.0, 2, DType::F64)?;
    /// assert_eq!(x.repeat(&[3], 0)?.chunks().axis(0), &[6, 6]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn repeat(&self, repeats: &[usize], axis: isize) -> Result<Array> {
        let op = "repeat";
        let axis = crate::error::normalize_axis(op, axis, self.ndim())?;
        let n = self.shape()[axis];
        let count = |i: usize| {
            if repeats.len() == 1 {
                repeats[0]
            } else {
                repeats[i]
            }
        };
        if repeats.len() != 1 && repeats.len() != n {
            return Err(ArrayError::invalid(
                op,
                format!(
                    "operands could not be broadcast together: {} repeats for an axis of {n}",
                    repeats.len()
                ),
            ));
        }
        let total = (0..n).try_fold(0_usize, |acc, i| acc.checked_add(count(i)));
        if total.is_none_or(|t| t > MAX_POSITIONS) {
            return Err(ArrayError::invalid(
                op,
                format!("the repeated axis would be longer than {MAX_POSITIONS}"),
            ));
        }
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut off = 0;
        for &c in self.chunks().axis(axis) {
            groups.push(
                (off..off + c)
                    .flat_map(|i| std::iter::repeat_n(i, count(i)))
                    .collect(),
            );
            off += c;
        }
        // A block repeated no times leaves no block; an axis left empty has one empty block.
        groups.retain(|g| !g.is_empty());
        if groups.is_empty() {
            groups.push(Vec::new());
        }
        let axes = (0..self.ndim())
            .map(|a| {
                let chunks = self.chunks().axis(a);
                if a == axis {
                    let refs: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
                    take_axis_grouped(chunks, &refs)
                } else {
                    crate::gather::identity_axis(chunks)
                }
            })
            .collect();
        GatherPlan::single(self, axes, op)
    }
}
