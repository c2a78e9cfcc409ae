//! Means and variances of complex arrays, from their real and imaginary parts.
//!
//! The mean of `z` is `mean(re) + mean(im)·i`, and its variance `var(re) + var(im)` (the
//! mean squared distance `|z - mean|²` splits into the two parts), so the float reductions'
//! accurate partials (compensated sums, Chan's merge of moments) serve complex arrays too.
//! For the `nan` reductions an element is missing when either part is NaN, as in NumPy:
//! both of its parts are masked before the parts are reduced.

use super::{Axes, ReduceOp};
use crate::block::BlockRef;
use crate::kernels::elementwise::with_view;
pub(crate) use crate::kernels::reduction::by_parts;
use crate::{Array, BinaryOp, Complex, DType, DynArray, Result, UnaryOp};

/// `op` over `axes` (normalized, ascending) of the complex array `z`.
pub(super) fn reduce_by_parts(
    z: &Array,
    op: ReduceOp,
    axes: &[usize],
    keepdims: bool,
    split_every: Option<usize>,
) -> Result<Array> {
    let known = axes.iter().all(|&a| !z.node.unknown[a]);
    let count: usize = axes.iter().map(|&a| z.shape()[a]).product();
    let axes = Axes::Some(axes.iter().map(|&a| a as isize).collect());
    if op == ReduceOp::Mean && known {
        // The complex sum divided by n + 0j, as NumPy computes a mean: one pass over `z`
        // with complex partials (no parts held beside it), and NumPy's NaN where a part of
        // the sum is not finite.
        return z
            .reduce(ReduceOp::Sum, axes, keepdims, split_every)?
            .binary_scalar(BinaryOp::Div, crate::Scalar::Complex(count as f64, 0.0));
    }
    by_parts_with(z, op, |x, op| {
        x.reduce(op, axes.clone(), keepdims, split_every)
    })
}

/// `op` of the complex array `z` from `reduce` (any reduction of a real array by a
/// [`ReduceOp`]: over axes, or over windows as `coarsen`) of its parts.
pub(crate) fn by_parts_with(
    z: &Array,
    op: ReduceOp,
    reduce: impl Fn(&Array, ReduceOp) -> Result<Array>,
) -> Result<Array> {
    let masked = matches!(
        op,
        ReduceOp::NanMean | ReduceOp::NanVar { .. } | ReduceOp::NanStd { .. }
    );
    let (re, im) = (part(z, false, masked)?, part(z, true, masked)?);
    let variance = |op: ReduceOp| reduce(&re, op)?.binary(BinaryOp::Add, &reduce(&im, op)?);
    match op {
        ReduceOp::Mean | ReduceOp::NanMean => mean_of_parts(&reduce(&re, op)?, &reduce(&im, op)?),
        ReduceOp::Var { .. } | ReduceOp::NanVar { .. } => variance(op),
        ReduceOp::Std { ddof } => variance(ReduceOp::Var { ddof })?.unary(UnaryOp::Sqrt),
        ReduceOp::NanStd { ddof } => variance(ReduceOp::NanVar { ddof })?.unary(UnaryOp::Sqrt),
        _ => unreachable!("only `by_parts` reductions come here"),
    }
}

/// The complex mean from the means of the parts, as NumPy's division of the complex sum by
/// `n + 0j` gives it: a part that is not finite makes the other part NaN.
fn mean_of_parts(re: &Array, im: &Array) -> Result<Array> {
    crate::elementwise::from_parts(re, im, true)
}

/// The real (or imaginary) part of `z`; with `masked`, NaN wherever either part is.
fn part(z: &Array, imag: bool, masked: bool) -> Result<Array> {
    let out = z.dtype().real();
    crate::elementwise::blockwise_kernel(&[z], crate::Kernel::Part { imag, masked, out })
}

/// The part of a complex block (see [`Kernel::Part`](crate::Kernel::Part)).
pub(crate) fn part_block(block: &BlockRef<'_>, imag: bool, masked: bool, out: DType) -> DynArray {
    with_view::<Complex<f64>, _>(block, |x| {
        DynArray::from(x.mapv(|z| match (masked && z.is_nan(), imag) {
            (true, _) => f64::NAN,
            (false, false) => z.re,
            (false, true) => z.im,
        }))
        .astype(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn parts_are_float_reductions_of_the_matching_precision() {
        let z = crate::ones(&[4], 2, DType::C64).unwrap();
        assert_eq!(
            z.reduce(ReduceOp::Mean, Axes::All, false, None)
                .unwrap()
                .dtype(),
            DType::C64
        );
        let v = z
            .reduce(ReduceOp::Var { ddof: 0 }, Axes::All, false, None)
            .unwrap();
        assert_eq!(v.dtype(), DType::F32);
    }
}
