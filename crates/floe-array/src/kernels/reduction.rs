//! Per-block partials of reductions, how two partials combine, and how a partial becomes
//! the result.

use floe_graph::TaskError;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, RemoveAxis, Zip};

use super::elementwise::{Ops, with_view};
use crate::block::{BlockInfo, BlockRef};
use crate::{ArrayElement, Complex, DType, DynArray, Element, with_dtype};

/// A reduction.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ReduceOp {
    /// Sum (`int64`/`uint64` for integers and bools, as NumPy).
    Sum,
    /// Product.
    Prod,
    /// Minimum; NaN propagates.
    Min,
    /// Maximum; NaN propagates.
    Max,
    /// Arithmetic mean.
    Mean,
    /// Variance with `ddof` delta degrees of freedom.
    Var {
        /// Delta degrees of freedom (0: population, 1: sample).
        ddof: u32,
    },
    /// Standard deviation with `ddof`.
    Std {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Whether any element is true (non-zero).
    Any,
    /// Whether all elements are true (non-zero).
    All,
    /// Sum ignoring NaN.
    NanSum,
    /// Minimum ignoring NaN (NaN where every element is NaN).
    NanMin,
    /// Maximum ignoring NaN.
    NanMax,
    /// Mean ignoring NaN.
    NanMean,
    /// Variance ignoring NaN.
    NanVar {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Standard deviation ignoring NaN.
    NanStd {
        /// Delta degrees of freedom.
        ddof: u32,
    },
    /// Index of the minimum (the first one; NaN counts as the minimum, as NumPy).
    ArgMin,
    /// Index of the maximum.
    ArgMax,
}

impl ReduceOp {
    /// The reduction NumPy calls `name` (`amin`/`amax` too; `var` and `std` with
    /// `ddof` 0).
    ///
    /// ```
    /// use floe_array::ReduceOp;
    /// assert_eq!(ReduceOp::from_numpy_name("amax"), Some(ReduceOp::Max));
    /// assert_eq!(ReduceOp::from_numpy_name("median"), None);
    /// ```
    pub fn from_numpy_name(name: &str) -> Option<ReduceOp> {
        use ReduceOp::*;
        let name = match name {
            "amin" => "min",
            "amax" => "max",
            other => other,
        };
        [
            Sum,
            Prod,
            Min,
            Max,
            Mean,
            Var { ddof: 0 },
            Std { ddof: 0 },
            Any,
            All,
            NanSum,
            NanMin,
            NanMax,
            NanMean,
            NanVar { ddof: 0 },
            NanStd { ddof: 0 },
            ArgMin,
            ArgMax,
        ]
        .into_iter()
        .find(|op| op.name() == name)
    }

    /// The NumPy name.
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Min => "min",
            ReduceOp::Max => "max",
            ReduceOp::Mean => "mean",
            ReduceOp::Var { .. } => "var",
            ReduceOp::Std { .. } => "std",
            ReduceOp::Any => "any",
            ReduceOp::All => "all",
            ReduceOp::NanSum => "nansum",
            ReduceOp::NanMin => "nanmin",
            ReduceOp::NanMax => "nanmax",
            ReduceOp::NanMean => "nanmean",
            ReduceOp::NanVar { .. } => "nanvar",
            ReduceOp::NanStd { .. } => "nanstd",
            ReduceOp::ArgMin => "argmin",
            ReduceOp::ArgMax => "argmax",
        }
    }

    /// The result dtype for an input of `dtype`.
    pub fn dtype(self, dtype: DType) -> DType {
        let float = if dtype.is_inexact() {
            dtype
        } else {
            DType::F64
        };
        match self {
            ReduceOp::Var { .. }
            | ReduceOp::Std { .. }
            | ReduceOp::NanVar { .. }
            | ReduceOp::NanStd { .. } => float.real(),
            ReduceOp::Sum | ReduceOp::Prod => dtype.sum_result(),
            ReduceOp::NanSum => dtype.sum_result(),
            ReduceOp::Min | ReduceOp::Max | ReduceOp::NanMin | ReduceOp::NanMax => dtype,
            ReduceOp::Any | ReduceOp::All => DType::Bool,
            ReduceOp::ArgMin | ReduceOp::ArgMax => DType::I64,
            _ => float,
        }
    }

    pub(crate) fn has_identity(self) -> bool {
        !matches!(
            self,
            ReduceOp::Min
                | ReduceOp::Max
                | ReduceOp::NanMin
                | ReduceOp::NanMax
                | ReduceOp::ArgMin
                | ReduceOp::ArgMax
        )
    }
}

/// Whether `op` on a complex array is computed from the parts.
pub(crate) fn by_parts(op: ReduceOp) -> bool {
    matches!(
        op,
        ReduceOp::Mean
            | ReduceOp::NanMean
            | ReduceOp::Var { .. }
            | ReduceOp::Std { .. }
            | ReduceOp::NanVar { .. }
            | ReduceOp::NanStd { .. }
    )
}

/// The partial result of a reduction over some blocks, shaped like a block whose reduced
/// axes have length 1.
#[derive(Debug, PartialEq)]
pub(crate) enum Partial {
    /// Sums, products, minima, maxima, any, all: in the accumulation dtype.
    Block(DynArray),
    /// The sum in `f64` and the number of elements it adds (the same for every position):
    /// the partial of a mean, a third of the size of the general moments.
    Mean { sum: ArrayD<f64>, n: f64 },
    /// The sum in `f64` of the values that are not NaN and their number, per position: the
    /// partial of a NaN-skipping mean (two thirds of the general moments, merged by adding).
    NanMean { sum: ArrayD<f64>, n: ArrayD<f64> },
    /// Count, mean and sum of squared deviations (M2).
    Moments {
        n: ArrayD<f64>,
        mean: ArrayD<f64>,
        m2: ArrayD<f64>,
    },
    /// The best value so far and its index (-1: none yet, from empty blocks). With `span`,
    /// indices count from the start of the blocks this partial covers, `span` elements
    /// along the reduced axis (combining in block order shifts the later ones): block sizes
    /// need not be known. Without, they are global flat indices.
    Arg {
        value: DynArray,
        index: ArrayD<i64>,
        span: Option<i64>,
    },
}

impl Partial {
    /// The shape of its arrays; `None` if they differ (a partial read from elsewhere).
    pub(crate) fn shape(&self) -> Option<Vec<usize>> {
        let shapes: Vec<&[usize]> = match self {
            Partial::Block(b) => vec![b.shape()],
            Partial::Mean { sum, .. } => vec![sum.shape()],
            Partial::NanMean { sum, n } => vec![sum.shape(), n.shape()],
            Partial::Moments { n, mean, m2 } => vec![n.shape(), mean.shape(), m2.shape()],
            Partial::Arg { value, index, .. } => vec![value.shape(), index.shape()],
        };
        shapes
            .iter()
            .all(|s| *s == shapes[0])
            .then(|| shapes[0].to_vec())
    }

    pub(crate) fn nbytes(&self) -> usize {
        match self {
            Partial::Block(b) => b.nbytes(),
            Partial::Mean { sum, .. } => 8 * sum.len(),
            Partial::NanMean { sum, .. } => 2 * 8 * sum.len(),
            Partial::Moments { n, .. } => 3 * 8 * n.len(),
            Partial::Arg { value, index, .. } => value.nbytes() + 8 * index.len(),
        }
    }
}

fn internal(what: &str) -> TaskError {
    TaskError::msg(format!("internal error: {what}"))
}

/// Folds `x` over `axes` (keeping them with length 1): `f` folds an element into a state,
/// `g` merges two states; `init` is the identity of both.
fn fold_keepdims<T: Copy, S: Clone>(
    x: ArrayViewD<'_, T>,
    axes: &[usize],
    init: S,
    f: impl Fn(&S, T) -> S,
    g: impl Fn(&S, &S) -> S,
) -> ArrayD<S> {
    let mut desc: Vec<usize> = axes.to_vec();
    desc.sort_unstable_by(|a, b| b.cmp(a));
    let mut acc: ArrayD<S> = match desc.first() {
        None => return x.mapv(|v| f(&init, v)),
        Some(&a) => x.fold_axis(Axis(a), init.clone(), |s, &v| f(s, v)),
    };
    for &a in &desc[1..] {
        acc = acc.fold_axis(Axis(a), init.clone(), |s, t| g(s, t));
    }
    for &a in axes {
        acc.insert_axis_inplace(Axis(a));
    }
    acc
}

/// Kahan summation state: (sum, compensation).
pub(crate) type Kahan = (f64, f64);

#[inline(always)]
pub(crate) fn kahan_add(s: &Kahan, x: f64) -> Kahan {
    let y = x - s.1;
    let t = s.0 + y;
    let c = (t - s.0) - y;
    // Once the sum is infinite (or overflows) the compensation is meaningless (inf - inf):
    // dropped, so the sum stays what plain addition gives, as NumPy's.
    (t, if c.is_finite() { c } else { 0.0 })
}

/// Sum over `axes` in `f64`. Blocks in C order with consecutive reduced axes (nearly all)
/// take the loops of [`super::sum`]; others plain sums over groups of 128 positions along
/// the first reduced axis, the group sums combined with Kahan compensation. Either way the
/// error grows with the group size plus the number of groups rather than with the number
/// of elements, at the cost of one addition per element.
fn float_sum<T: Element>(x: ArrayViewD<'_, T>, axes: &[usize], skip_nan: bool) -> ArrayD<f64> {
    float_sum_of(x, axes, move |v: T| {
        let v = v.to_f64();
        if skip_nan && v.is_nan() { 0.0 } else { v }
    })
}

/// [`float_sum`] of `term(v)` for each element `v` (a part of a complex number, say),
/// without making an array of the terms first.
fn float_sum_of<T: Copy>(
    x: ArrayViewD<'_, T>,
    axes: &[usize],
    term: impl Fn(T) -> f64 + Copy,
) -> ArrayD<f64> {
    if let Some(sum) = super::sum::sum(&x, axes, term) {
        return sum;
    }
    const GROUP: usize = 128;
    let plain = move |s: &f64, v: T| s + term(v);
    let Some(&first) = axes.first() else {
        return x.mapv(|v| plain(&0.0, v));
    };
    let mut total: Option<ArrayD<Kahan>> = None;
    for group in x.axis_chunks_iter(Axis(first), GROUP) {
        let s = fold_keepdims(group, axes, 0.0, plain, |a, b| a + b);
        match &mut total {
            None => total = Some(s.mapv(|v| (v, 0.0))),
            Some(t) => t.zip_mut_with(&s, |k, &v| *k = kahan_add(k, v)),
        }
    }
    match total {
        Some(t) => t.mapv(|(s, c)| s - c),
        // An empty axis: the sum is 0 over the kept shape.
        None => {
            let mut shape = x.shape().to_vec();
            for &a in axes {
                shape[a] = 1;
            }
            ArrayD::zeros(IxDyn(&shape))
        }
    }
}

/// [`float_sum`] skipping NaNs, and the number of elements summed, in one pass over `x`
/// (the same groups and compensation, so the same sums).
fn nan_sum_count<T: Element>(x: ArrayViewD<'_, T>, axes: &[usize]) -> (ArrayD<f64>, ArrayD<f64>) {
    const GROUP: usize = 128;
    match *axes {
        [axis] => nan_sum_count_along(x, axis, GROUP),
        _ => nan_sum_count_folded(x, axes, GROUP),
    }
}

/// [`nan_sum_count`] over any axes, a pair of sums folded per position.
fn nan_sum_count_folded<T: Element>(
    x: ArrayViewD<'_, T>,
    axes: &[usize],
    group: usize,
) -> (ArrayD<f64>, ArrayD<f64>) {
    // Branch-free: a NaN adds zero to the sum and to the count.
    let add = |s: &(f64, f64), v: T| {
        let (v, n) = value_and_count(v);
        (s.0 + v, s.1 + n)
    };
    let Some(&first) = axes.first() else {
        let pairs = x.mapv(|v| add(&(0.0, 0.0), v));
        return (pairs.mapv(|p| p.0), pairs.mapv(|p| p.1));
    };
    let mut total: Option<(ArrayD<Kahan>, ArrayD<f64>)> = None;
    for group in x.axis_chunks_iter(Axis(first), group) {
        let s = fold_keepdims(group, axes, (0.0, 0.0), add, |a, b| (a.0 + b.0, a.1 + b.1));
        match &mut total {
            None => total = Some((s.mapv(|p| (p.0, 0.0)), s.mapv(|p| p.1))),
            Some((t, n)) => {
                t.zip_mut_with(&s, |k, p| *k = kahan_add(k, p.0));
                n.zip_mut_with(&s, |c, p| *c += p.1);
            }
        }
    }
    match total {
        Some((t, n)) => (t.mapv(|(s, c)| s - c), n),
        // An empty axis: nothing summed over the kept shape.
        None => {
            let mut shape = x.shape().to_vec();
            for &a in axes {
                shape[a] = 1;
            }
            (ArrayD::zeros(IxDyn(&shape)), ArrayD::zeros(IxDyn(&shape)))
        }
    }
}

/// What `v` adds to a NaN-skipping sum and count: `(v, 1)`, or `(0, 0)` for a NaN.
#[inline(always)]
fn value_and_count<T: Element>(v: T) -> (f64, f64) {
    let v = v.to_f64();
    let nan = v.is_nan();
    (if nan { 0.0 } else { v }, if nan { 0.0 } else { 1.0 })
}

/// [`nan_sum_count`] over one axis: the sums and counts are arrays of the kept shape,
/// each slice along `axis` added into them element by element (a loop the compiler
/// vectorises, where a pair of sums per position would not be), in the same order as the
/// general path: plain sums over groups of `group` slices, the group sums compensated.
/// Within a group the counts are bytes (`group` is at most 255), a ninth of the traffic of
/// float counts.
fn nan_sum_count_along<T: Element>(
    x: ArrayViewD<'_, T>,
    axis: usize,
    group: usize,
) -> (ArrayD<f64>, ArrayD<f64>) {
    debug_assert!(group <= usize::from(u8::MAX));
    let kept = x.raw_dim().remove_axis(Axis(axis));
    let mut count = ArrayD::<f64>::zeros(kept.clone());
    let mut group_count = ArrayD::<u8>::zeros(kept.clone());
    // The running sums, and their compensations once there are two groups.
    let mut total: Option<(ArrayD<f64>, Option<ArrayD<f64>>)> = None;
    for slices in x.axis_chunks_iter(Axis(axis), group) {
        let mut partial = ArrayD::<f64>::zeros(kept.clone());
        group_count.fill(0);
        for slice in slices.axis_iter(Axis(axis)) {
            Zip::from(&mut partial)
                .and(&mut group_count)
                .and(&slice)
                .for_each(|s, c, &v| {
                    let (v, n) = value_and_count(v);
                    *s += v;
                    *c += u8::from(n > 0.0);
                });
        }
        count.zip_mut_with(&group_count, |n, &c| *n += f64::from(c));
        match &mut total {
            // The first group's sums are the total so far, with nothing to compensate.
            None => total = Some((partial, None)),
            Some((t, c)) => Zip::from(t)
                .and(c.get_or_insert_with(|| ArrayD::zeros(partial.raw_dim())))
                .and(&partial)
                .for_each(|t, c, &p| (*t, *c) = kahan_add(&(*t, *c), p)),
        }
    }
    let sum = match total {
        Some((mut t, Some(c))) => {
            t.zip_mut_with(&c, |t, &c| *t -= c);
            t
        }
        Some((t, None)) => t,
        None => ArrayD::zeros(count.raw_dim()),
    };
    (sum.insert_axis(Axis(axis)), count.insert_axis(Axis(axis)))
}

/// The sum of complex numbers over `axes`, each part summed as floats are (grouped,
/// compensated, in `f64`); with `skip_nan`, an element with a NaN part is skipped whole.
fn complex_sum<T>(
    x: ArrayViewD<'_, Complex<T>>,
    axes: &[usize],
    skip_nan: bool,
) -> ArrayD<Complex<f64>>
where
    T: num_traits::Float + Into<f64>,
{
    let part = |f: fn(Complex<T>) -> T| {
        float_sum_of(x.view(), axes, move |z: Complex<T>| {
            if skip_nan && z.is_nan() {
                0.0
            } else {
                f(z).into()
            }
        })
    };
    let (re, im) = (part(|z| z.re), part(|z| z.im));
    Zip::from(&re)
        .and(&im)
        .map_collect(|&r, &i| Complex::new(r, i))
}

fn extreme<T: Ops>(x: ArrayViewD<'_, T>, axes: &[usize], max: bool, skip_nan: bool) -> ArrayD<T> {
    if axes.iter().any(|&a| x.shape()[a] == 0) {
        // Nothing to pick from (a block a mask left empty): an empty partial, which
        // combining skips and finalizing refuses, as NumPy refuses an empty maximum.
        let shape: Vec<usize> = (0..x.ndim())
            .map(|a| if axes.contains(&a) { 0 } else { x.shape()[a] })
            .collect();
        return ArrayD::from_shape_vec(IxDyn(&shape), vec![]).expect("an empty shape");
    }
    let pick = move |a: Option<T>, v: T| -> Option<T> {
        match a {
            None => Some(v),
            Some(a) if T::is_nan(a) => Some(if skip_nan { v } else { a }),
            Some(a) if T::is_nan(v) => Some(if skip_nan { a } else { v }),
            Some(a) => Some(if (v > a) == max && v != a { v } else { a }),
        }
    };
    fold_keepdims(
        x,
        axes,
        None,
        |s, v| pick(*s, v),
        |a, b| match b {
            Some(b) => pick(*a, *b),
            None => *a,
        },
    )
    .mapv(|v| v.unwrap_or_else(|| T::from_f64(f64::NAN)))
}

/// Whether the partial of `op` over `dtype` is float sums alone (a mean of anything but
/// complex numbers, a float sum): `Some(skip NaN)`, the sums [`sums_into`] puts in place.
pub(crate) fn sums_skip_nan(op: ReduceOp, dtype: DType) -> Option<bool> {
    match op {
        ReduceOp::Mean if !dtype.is_complex() => Some(false),
        ReduceOp::Sum | ReduceOp::NanSum if dtype.is_float() => Some(op == ReduceOp::NanSum),
        _ => None,
    }
}

/// The float sums over `axes` of `block` that a mean's or a float sum's partial holds
/// (NaNs skipped for `NanSum`), written over `dest` or, with `add`, added to it, in C
/// order: the banded partials of `ReducePlan` put their bands' sums straight into place
/// (see `DirectSums`) instead of making an array of them first.
pub(crate) fn sums_into(
    op: ReduceOp,
    block: &DynArray,
    axes: &[usize],
    dest: &mut [f64],
    add: bool,
) -> Result<(), TaskError> {
    let b = &BlockRef::new(block);
    let skip_nan = sums_skip_nan(op, b.dtype())
        .ok_or_else(|| internal("sums in place of another reduction"))?;
    let kept: usize = (0..block.shape().len())
        .filter(|a| !axes.contains(a))
        .map(|a| block.shape()[a])
        .product();
    if kept != dest.len() {
        return Err(internal("sums for a place of another size"));
    }
    with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| {
        let term = move |v: T| {
            let v = v.to_f64();
            if skip_nan && v.is_nan() { 0.0 } else { v }
        };
        if super::sum::sum_into(&x, axes, term, dest, add) {
            return Ok(());
        }
        // Any other layout: the general fold's sums, in C order.
        let sums = float_sum_of(x, axes, term);
        for (d, &s) in dest.iter_mut().zip(sums.iter()) {
            *d = if add { *d + s } else { s };
        }
        Ok(())
    }))
}

/// The partial of one block.
pub(crate) fn partial(
    op: ReduceOp,
    block: &DynArray,
    axes: &[usize],
    info: &BlockInfo,
) -> Result<Partial, TaskError> {
    let b = &BlockRef::new(block);
    if b.dtype().is_complex() && by_parts(op) {
        // Computed from the parts (see `reduction::complex`), never from one block whose
        // imaginary parts these float kernels would drop.
        return Err(internal(
            "a complex mean or variance reached the float kernels",
        ));
    }
    let float_in = b.dtype().is_float();
    Ok(match op {
        ReduceOp::Sum | ReduceOp::NanSum if float_in => {
            with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| {
                Partial::Block(DynArray::from(float_sum(x, axes, op == ReduceOp::NanSum)))
            }))
        }
        ReduceOp::Sum | ReduceOp::NanSum if b.dtype().is_complex() => {
            let skip = op == ReduceOp::NanSum;
            let sum = match b.dtype() {
                DType::C64 => with_view::<Complex<f32>, _>(b, |x| complex_sum(x, axes, skip)),
                _ => with_view::<Complex<f64>, _>(b, |x| complex_sum(x, axes, skip)),
            };
            Partial::Block(DynArray::from(sum).astype(b.dtype()))
        }
        ReduceOp::Sum | ReduceOp::NanSum => {
            with_dtype!(b.dtype().sum_result(), T => with_view::<T, _>(b, |x| {
                Partial::Block(T::wrap(fold_keepdims(x, axes, T::zero(), |s, v| T::add(*s, v), |a, c| T::add(*a, *c))))
            }))
        }
        ReduceOp::Prod if float_in => Partial::Block(DynArray::from(with_view::<f64, _>(b, |x| {
            fold_keepdims(x, axes, 1.0, |s, v| s * v, |a, c| a * c)
        }))),
        ReduceOp::Prod => with_dtype!(b.dtype().sum_result(), T => with_view::<T, _>(b, |x| {
            Partial::Block(T::wrap(fold_keepdims(x, axes, T::one(), |s, v| T::mul(*s, v), |a, c| T::mul(*a, *c))))
        })),
        ReduceOp::Min | ReduceOp::Max | ReduceOp::NanMin | ReduceOp::NanMax => {
            let max = matches!(op, ReduceOp::Max | ReduceOp::NanMax);
            let skip = matches!(op, ReduceOp::NanMin | ReduceOp::NanMax);
            with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| Partial::Block(T::wrap(extreme(x, axes, max, skip)))))
        }
        ReduceOp::Any => Partial::Block(DynArray::from(with_view::<bool, _>(b, |x| {
            fold_keepdims(x, axes, false, |s, v| *s || v, |a, c| *a || *c)
        }))),
        ReduceOp::All => Partial::Block(DynArray::from(with_view::<bool, _>(b, |x| {
            fold_keepdims(x, axes, true, |s, v| *s && v, |a, c| *a && *c)
        }))),
        ReduceOp::Mean => {
            let n: usize = axes.iter().map(|&a| block.shape()[a]).product();
            with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| Partial::Mean {
                sum: float_sum(x, axes, false),
                n: n as f64,
            }))
        }
        ReduceOp::NanMean => {
            // Read in the block's own dtype (a float32 block is not first copied to
            // float64): sums and counts accumulate in float64.
            with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| {
                let (sum, n) = nan_sum_count(x, axes);
                Partial::NanMean { sum, n }
            }))
        }
        ReduceOp::Var { .. }
        | ReduceOp::Std { .. }
        | ReduceOp::NanVar { .. }
        | ReduceOp::NanStd { .. } => {
            let skip = matches!(op, ReduceOp::NanVar { .. } | ReduceOp::NanStd { .. });
            // Read in the block's own dtype (a float32 block is not first copied to
            // float64): sums and counts accumulate in float64 either way.
            with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| {
                let (sum, n) = if skip {
                    nan_sum_count(x.view(), axes)
                } else {
                    let sum = float_sum(x.view(), axes, false);
                    let count: usize = axes.iter().map(|&a| x.shape()[a]).product();
                    let n = ArrayD::from_elem(sum.raw_dim(), count as f64);
                    (sum, n)
                };
                let mean = Zip::from(&sum)
                    .and(&n)
                    .map_collect(|&s, &n| if n > 0.0 { s / n } else { 0.0 });
                let mb = mean
                    .broadcast(x.raw_dim())
                    .ok_or_else(|| internal("moment shapes"))?;
                let dev = Zip::from(&x)
                    .and(&mb)
                    .map_collect(|&v, &m| (v.to_f64() - m) * (v.to_f64() - m));
                // NaN deviations are skipped by the `nan` reductions only: a NaN makes the
                // plain variance NaN.
                let m2 = float_sum(dev.view(), axes, skip);
                // Deviations from an infinite mean are undefined: NaN variance, as NumPy's.
                let m2 = Zip::from(&m2)
                    .and(&mean)
                    .map_collect(|&m2, &m| if m.is_finite() { m2 } else { f64::NAN });
                Ok::<_, TaskError>(Partial::Moments { n, mean, m2 })
            }))?
        }
        ReduceOp::ArgMin | ReduceOp::ArgMax => {
            with_dtype!(b.dtype(), T => with_view::<T, _>(b, |x| {
                arg_partial(x, axes, op == ReduceOp::ArgMax, info)
            }))
        }
    })
}

fn better<T: Ops>(max: bool, v: T, best: T) -> bool {
    if T::is_nan(best) {
        return false;
    }
    T::is_nan(v) || if max { v > best } else { v < best }
}

fn arg_partial<T: Ops>(
    x: ArrayViewD<'_, T>,
    axes: &[usize],
    max: bool,
    info: &BlockInfo,
) -> Partial {
    let mut keep_shape = x.shape().to_vec();
    for &a in axes {
        keep_shape[a] = 1;
    }
    if axes.len() == 1 {
        // Positions along the one axis, counted from this block's start (see `Partial::Arg`).
        let a = axes[0];
        let mut values = Vec::new();
        let mut index = Vec::new();
        for lane in x.lanes(Axis(a)) {
            let (mut bi, mut bv) = (-1_i64, T::zero());
            for (i, &v) in lane.iter().enumerate() {
                if i == 0 || better(max, v, bv) {
                    bi = i as i64;
                    bv = v;
                }
            }
            values.push(bv);
            index.push(bi);
        }
        return Partial::Arg {
            value: T::wrap(
                ArrayD::from_shape_vec(IxDyn(&keep_shape), values)
                    .expect("one lane per kept position"),
            ),
            index: ArrayD::from_shape_vec(IxDyn(&keep_shape), index)
                .expect("one lane per kept position"),
            span: Some(x.shape()[a] as i64),
        };
    }
    // Every axis: the global flat index in the whole array.
    let strides: Vec<usize> = (0..info.array_shape.len())
        .map(|a| info.array_shape[a + 1..].iter().product())
        .collect();
    let (mut best_i, mut best_v, mut first) = (-1_i64, T::zero(), true);
    for (idx, &v) in x.indexed_iter() {
        if first || better(max, v, best_v) {
            first = false;
            best_v = v;
            best_i = (0..strides.len())
                .map(|a| (info.offset[a] + idx[a]) * strides[a])
                .sum::<usize>() as i64;
        }
    }
    Partial::Arg {
        value: T::wrap(ArrayD::from_elem(IxDyn(&keep_shape), best_v)),
        index: ArrayD::from_elem(IxDyn(&keep_shape), best_i),
        span: None,
    }
}

/// Combines argmin/argmax partials `b` into `(value, index)` in place; `shift` is added to
/// `b`'s relative positions.
fn combine_arg<T: Ops>(
    max: bool,
    value: &mut DynArray,
    index: &mut ArrayD<i64>,
    vb: &DynArray,
    ib: &ArrayD<i64>,
    shift: i64,
) -> Result<(), TaskError> {
    let (Some(vb), Some(value)) = (T::view(vb), T::view_mut(value)) else {
        return Err(internal("argmin/argmax partials of different dtypes"));
    };
    Zip::from(value)
        .and(index)
        .and(&vb)
        .and(ib)
        .for_each(|v, i, &v2, &i2| {
            // Ties go to the first position: over several axes, blocks combined in block
            // order are not in flat order (a later block's first row comes before an
            // earlier block's second).
            // (Wrapping: indices read from another process's bytes cannot overflow into a
            // panic; floe's own are far below the limit.)
            let tie =
                || !better(max, v2, *v) && !better(max, *v, v2) && i2.wrapping_add(shift) < *i;
            if i2 >= 0 && (*i < 0 || better(max, v2, *v) || tie()) {
                *v = v2;
                *i = i2.wrapping_add(shift);
            }
        });
    Ok(())
}

fn combine_blocks<T: Ops>(op: ReduceOp, parts: &[&DynArray]) -> Result<DynArray, TaskError> {
    // Extremes of empty blocks are empty partials (see `extreme`): skipped.
    let kept: Vec<&DynArray> = if op.has_identity() {
        parts.to_vec()
    } else {
        let full: Vec<&DynArray> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
        if full.is_empty() {
            parts[..1].to_vec()
        } else {
            full
        }
    };
    let parts = kept
        .iter()
        .map(|p| T::view(p).ok_or_else(|| internal("partial dtype")))
        .collect::<Result<Vec<_>, _>>()?;
    let f: fn(T, T) -> T = match op {
        ReduceOp::Sum | ReduceOp::NanSum | ReduceOp::Any => T::add,
        ReduceOp::Prod | ReduceOp::All => T::mul,
        ReduceOp::Min | ReduceOp::Max | ReduceOp::NanMin | ReduceOp::NanMax => {
            let max = matches!(op, ReduceOp::Max | ReduceOp::NanMax);
            let skip = matches!(op, ReduceOp::NanMin | ReduceOp::NanMax);
            match (max, skip) {
                (true, false) => |a, b| {
                    if T::is_nan(a) || T::is_nan(b) {
                        if T::is_nan(a) { a } else { b }
                    } else if b > a {
                        b
                    } else {
                        a
                    }
                },
                (false, false) => |a, b| {
                    if T::is_nan(a) || T::is_nan(b) {
                        if T::is_nan(a) { a } else { b }
                    } else if b < a {
                        b
                    } else {
                        a
                    }
                },
                (true, true) => |a, b| {
                    if T::is_nan(a) {
                        b
                    } else if T::is_nan(b) || b <= a {
                        a
                    } else {
                        b
                    }
                },
                (false, true) => |a, b| {
                    if T::is_nan(a) {
                        b
                    } else if T::is_nan(b) || b >= a {
                        a
                    } else {
                        b
                    }
                },
            }
        }
        _ => return Err(internal("not a block reduction")),
    };
    Ok(T::wrap(fold_parts(&parts, f)))
}

/// `f` folded over equally shaped `parts` position by position, left to right. Contiguous
/// parts are folded a band at a time (the band's results stay in cache while each part's
/// band streams past), so the result is written once and each part read once.
fn fold_parts<T: Copy>(parts: &[ArrayViewD<'_, T>], f: impl Fn(T, T) -> T) -> ArrayD<T> {
    const BAND: usize = 4096;
    let slices: Option<Vec<&[T]>> = parts
        .iter()
        .map(|p| p.as_slice().filter(|_| p.shape() == parts[0].shape()))
        .collect();
    let Some(slices) = slices else {
        let mut acc = parts[0].to_owned();
        for p in &parts[1..] {
            acc.zip_mut_with(p, |a, &b| *a = f(*a, b));
        }
        return acc;
    };
    let mut out = slices[0].to_vec();
    for start in (0..out.len()).step_by(BAND) {
        let end = (start + BAND).min(out.len());
        let band = &mut out[start..end];
        for s in &slices[1..] {
            for (a, &b) in band.iter_mut().zip(&s[start..end]) {
                *a = f(*a, b);
            }
        }
    }
    ArrayD::from_shape_vec(parts[0].raw_dim(), out).expect("the parts' shape")
}

/// Merges the partials of sibling tree nodes (in block order).
pub(crate) fn combine(
    op: ReduceOp,
    parts: &[&Partial],
    _axes: &[usize],
) -> Result<Partial, TaskError> {
    match parts[0] {
        Partial::Block(first) => {
            let blocks = parts
                .iter()
                .map(|p| match p {
                    Partial::Block(b) => Ok(b),
                    _ => Err(internal("mixed partials")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Partial::Block(
                with_dtype!(first.dtype(), T => combine_blocks::<T>(op, &blocks)?),
            ))
        }
        Partial::Mean { .. } => {
            let (mut sums, mut n) = (Vec::with_capacity(parts.len()), 0.0);
            for p in parts {
                let Partial::Mean { sum: sb, n: nb } = p else {
                    return Err(internal("mixed partials"));
                };
                sums.push(sb.view());
                n += nb;
            }
            Ok(Partial::Mean {
                sum: fold_parts(&sums, |a, b| a + b),
                n,
            })
        }
        Partial::NanMean { .. } => {
            let (mut sums, mut ns) = (Vec::new(), Vec::new());
            for p in parts {
                let Partial::NanMean { sum: sb, n: nb } = p else {
                    return Err(internal("mixed partials"));
                };
                sums.push(sb.view());
                ns.push(nb.view());
            }
            Ok(Partial::NanMean {
                sum: fold_parts(&sums, |a, b| a + b),
                n: fold_parts(&ns, |a, b| a + b),
            })
        }
        Partial::Moments { n, mean, m2 } => {
            let (mut n, mut mean, mut m2) = (n.clone(), mean.clone(), m2.clone());
            for p in &parts[1..] {
                let Partial::Moments {
                    n: nb,
                    mean: mb,
                    m2: m2b,
                } = p
                else {
                    return Err(internal("mixed partials"));
                };
                Zip::from(&mut n)
                    .and(&mut mean)
                    .and(&mut m2)
                    .and(nb)
                    .and(mb)
                    .and(m2b)
                    .for_each(|na, ma, m2a, &nb, &mb, &m2b| {
                        let total = *na + nb;
                        if nb == 0.0 {
                            return;
                        }
                        if *na == 0.0 {
                            (*na, *ma, *m2a) = (nb, mb, m2b);
                            return;
                        }
                        if !ma.is_finite() || !mb.is_finite() {
                            // An infinite mean: the weighted sum gives NumPy's mean (inf, or
                            // NaN for inf - inf), where the delta update would give NaN; the
                            // deviations are undefined.
                            *ma = (*na * *ma + nb * mb) / total;
                            *m2a = f64::NAN;
                            *na = total;
                            return;
                        }
                        let delta = mb - *ma;
                        if !delta.is_finite() {
                            // Finite means whose difference overflows: weighted, no delta.
                            *ma = *ma * (*na / total) + mb * (nb / total);
                            *m2a = f64::INFINITY;
                            *na = total;
                            return;
                        }
                        *ma += delta * nb / total;
                        *m2a += m2b + delta * delta * *na * nb / total;
                        *na = total;
                    });
            }
            Ok(Partial::Moments { n, mean, m2 })
        }
        Partial::Arg { value, index, span } => {
            let (mut value, mut index, mut span) = (value.clone(), index.clone(), *span);
            let max = op == ReduceOp::ArgMax;
            for p in &parts[1..] {
                let Partial::Arg {
                    value: vb,
                    index: ib,
                    span: sb,
                } = p
                else {
                    return Err(internal("mixed partials"));
                };
                // A later part's relative positions start after the ones before it.
                let shift = span.unwrap_or(0);
                with_dtype!(value.dtype(), T => combine_arg::<T>(max, &mut value, &mut index, vb, ib, shift))?;
                span = span.zip(*sb).map(|(a, b)| a.wrapping_add(b));
            }
            Ok(Partial::Arg { value, index, span })
        }
    }
}

/// Merges the partial of a block's next band into the partial of the bands before it.
/// Float sums (of a sum, a mean, a NaN-skipping mean) are added with Kahan compensation
/// carried in `comp` (see [`finish_bands`]), as a block's group sums are; other partials
/// combine as siblings do.
pub(crate) fn merge_band(
    op: ReduceOp,
    acc: Partial,
    p: Partial,
    comp: &mut Option<ArrayD<f64>>,
    axes: &[usize],
) -> Result<Partial, TaskError> {
    fn add(total: &mut ArrayD<f64>, comp: &mut Option<ArrayD<f64>>, next: &ArrayD<f64>) {
        let c = comp.get_or_insert_with(|| ArrayD::zeros(total.raw_dim()));
        // Partials are made in C order: a loop over slices, which vectorises.
        if total.shape() == next.shape()
            && let (Some(t), Some(c), Some(s)) =
                (total.as_slice_mut(), c.as_slice_mut(), next.as_slice())
        {
            for ((t, c), &s) in t.iter_mut().zip(c).zip(s) {
                (*t, *c) = kahan_add(&(*t, *c), s);
            }
            return;
        }
        Zip::from(total)
            .and(c)
            .and(next)
            .for_each(|t, c, &s| (*t, *c) = kahan_add(&(*t, *c), s));
    }
    Ok(match (acc, p) {
        (Partial::Mean { mut sum, n }, Partial::Mean { sum: next, n: m }) => {
            add(&mut sum, comp, &next);
            Partial::Mean { sum, n: n + m }
        }
        (Partial::NanMean { mut sum, mut n }, Partial::NanMean { sum: next, n: m }) => {
            add(&mut sum, comp, &next);
            n += &m;
            Partial::NanMean { sum, n }
        }
        (Partial::Block(DynArray::F64(mut sum)), Partial::Block(DynArray::F64(next)))
            if matches!(op, ReduceOp::Sum | ReduceOp::NanSum) =>
        {
            add(&mut sum, comp, &next);
            Partial::Block(DynArray::F64(sum))
        }
        (acc, p) => combine(op, &[&acc, &p], axes)?,
    })
}

/// Merges `p` into the running partial `acc` (see [`merge_band`]); the first becomes it.
pub(crate) fn merge_into(
    op: ReduceOp,
    acc: &mut Option<Partial>,
    p: Partial,
    comp: &mut Option<ArrayD<f64>>,
    axes: &[usize],
) -> Result<(), TaskError> {
    *acc = Some(match acc.take() {
        None => p,
        Some(q) => merge_band(op, q, p, comp, axes)?,
    });
    Ok(())
}

/// The partial of a block summed in bands: the compensation [`merge_band`] carried taken
/// off the sums.
pub(crate) fn finish_bands(p: Partial, comp: Option<ArrayD<f64>>) -> Partial {
    let Some(comp) = comp else {
        return p;
    };
    let fix = |mut sum: ArrayD<f64>| {
        sum.zip_mut_with(&comp, |t, &c| *t -= c);
        sum
    };
    match p {
        Partial::Mean { sum, n } => Partial::Mean { sum: fix(sum), n },
        Partial::NanMean { sum, n } => Partial::NanMean { sum: fix(sum), n },
        Partial::Block(DynArray::F64(sum)) => Partial::Block(DynArray::F64(fix(sum))),
        other => other,
    }
}

/// The partial of a block from the partials of its bands along the kept `axis`, in order
/// (see `ReducePlan::banded_partial`): each part covers its band's output positions alone.
pub(crate) fn concat_bands(mut parts: Vec<Partial>, axis: usize) -> Result<Partial, TaskError> {
    fn cat<'a, T: Clone + 'a>(
        arrays: impl Iterator<Item = Option<&'a ArrayD<T>>>,
        axis: usize,
    ) -> Result<ArrayD<T>, TaskError> {
        let views = arrays
            .map(|a| a.map(|a| a.view()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| internal("bands of different partial kinds"))?;
        ndarray::concatenate(Axis(axis), &views).map_err(|e| internal(&e.to_string()))
    }
    fn cat_dyn<'a>(
        dtype: DType,
        arrays: impl Iterator<Item = Option<&'a DynArray>>,
        axis: usize,
    ) -> Result<DynArray, TaskError> {
        let arrays: Vec<&DynArray> = arrays
            .collect::<Option<_>>()
            .ok_or_else(|| internal("bands of different partial kinds"))?;
        with_dtype!(dtype, T => {
            let views = arrays
                .iter()
                .map(|a| T::view(a))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| internal("bands of different dtypes"))?;
            Ok(T::wrap(
                ndarray::concatenate(Axis(axis), &views).map_err(|e| internal(&e.to_string()))?,
            ))
        })
    }
    if parts.len() < 2 {
        return parts.pop().ok_or_else(|| internal("a partial of no band"));
    }
    Ok(match &parts[0] {
        Partial::Block(first) => Partial::Block(cat_dyn(
            first.dtype(),
            parts.iter().map(|p| match p {
                Partial::Block(b) => Some(b),
                _ => None,
            }),
            axis,
        )?),
        // Every band of a block adds the same number of elements per position.
        Partial::Mean { n, .. } => Partial::Mean {
            n: *n,
            sum: cat(
                parts.iter().map(|p| match p {
                    Partial::Mean { sum, .. } => Some(sum),
                    _ => None,
                }),
                axis,
            )?,
        },
        Partial::NanMean { .. } => {
            let pick = |second: bool| {
                cat(
                    parts.iter().map(move |p| match p {
                        Partial::NanMean { sum, n } => Some(if second { n } else { sum }),
                        _ => None,
                    }),
                    axis,
                )
            };
            Partial::NanMean {
                sum: pick(false)?,
                n: pick(true)?,
            }
        }
        Partial::Moments { .. } => {
            let pick = |k: usize| {
                cat(
                    parts.iter().map(move |p| match p {
                        Partial::Moments { n, mean, m2 } => Some([n, mean, m2][k]),
                        _ => None,
                    }),
                    axis,
                )
            };
            Partial::Moments {
                n: pick(0)?,
                mean: pick(1)?,
                m2: pick(2)?,
            }
        }
        Partial::Arg { value, span, .. } => {
            let span = *span;
            let value = cat_dyn(
                value.dtype(),
                parts.iter().map(|p| match p {
                    Partial::Arg { value, .. } => Some(value),
                    _ => None,
                }),
                axis,
            )?;
            let index = cat(
                parts.iter().map(|p| match p {
                    Partial::Arg { index, .. } => Some(index),
                    _ => None,
                }),
                axis,
            )?;
            Partial::Arg { value, index, span }
        }
    })
}

/// The result block (reduced axes kept with length 1) of a root partial.
pub(crate) fn finalize(
    op: ReduceOp,
    p: &Partial,
    dtype: DType,
    axes: &[usize],
) -> Result<DynArray, TaskError> {
    if let Partial::Block(b) = p
        && axes.iter().any(|&a| b.shape()[a] == 0)
    {
        // Every block was empty along the reduced axes (unknown sizes only: known empty
        // axes are refused before the graph is built).
        if b.shape()
            .iter()
            .enumerate()
            .any(|(a, &n)| n == 0 && !axes.contains(&a))
        {
            let shape: Vec<usize> = (0..b.shape().len())
                .map(|a| if axes.contains(&a) { 1 } else { b.shape()[a] })
                .collect();
            return Ok(DynArray::full(dtype, &shape, 0.0));
        }
        return Err(TaskError::new(crate::ArrayError::invalid(
            op.name(),
            "zero-size array to reduction operation which has no identity (every block of its selection is empty)",
        )));
    }
    Ok(match (op, p) {
        (_, Partial::Block(b)) => b.clone().astype(dtype),
        (ReduceOp::Mean, Partial::Mean { sum, n }) => {
            let n = *n;
            DynArray::from(sum.mapv(|s| if n > 0.0 { s / n } else { f64::NAN })).astype(dtype)
        }
        // NumPy's nanmean: the sum of the values that are not NaN over their number.
        (ReduceOp::NanMean, Partial::NanMean { sum, n }) => DynArray::from(
            Zip::from(sum)
                .and(n)
                .map_collect(|&s, &n| if n > 0.0 { s / n } else { f64::NAN }),
        )
        .astype(dtype),
        (
            ReduceOp::Var { ddof }
            | ReduceOp::Std { ddof }
            | ReduceOp::NanVar { ddof }
            | ReduceOp::NanStd { ddof },
            Partial::Moments { n, m2, .. },
        ) => {
            let sqrt = matches!(op, ReduceOp::Std { .. } | ReduceOp::NanStd { .. });
            let d = f64::from(ddof);
            DynArray::from(Zip::from(n).and(m2).map_collect(|&n, &m2| {
                let v = if n - d > 0.0 { m2 / (n - d) } else { f64::NAN };
                if sqrt { v.sqrt() } else { v }
            }))
            .astype(dtype)
        }
        (_, Partial::Arg { index, .. }) => {
            if index.iter().any(|&i| i < 0) {
                return Err(TaskError::new(crate::ArrayError::invalid(
                    op.name(),
                    "attempt to get the position of an extreme of an empty sequence (every block of its selection is empty)",
                )));
            }
            DynArray::from(index.clone())
        }
        _ => return Err(internal("partial does not match the reduction")),
    })
}

/// Removes the (length-1) reduced `axes`.
pub(crate) fn drop_axes(a: DynArray, axes: &[usize]) -> DynArray {
    crate::with_array!(a, x => {
        let mut x = x;
        for &ax in axes.iter().rev() {
            x = x.index_axis_move(Axis(ax), 0);
        }
        DynArray::from(x)
    })
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use proptest::prelude::*;

    use super::{float_sum, nan_sum_count_along, nan_sum_count_folded, sums_into};
    use crate::{DynArray, ReduceOp};

    /// Values over many magnitudes from `state` (xorshift), one in five NaN with `nan`.
    fn next(state: &mut u64, nan: bool) -> f64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        if nan && state.is_multiple_of(5) {
            f64::NAN
        } else {
            ((*state >> 11) % 2001) as f64 * 10_f64.powi((*state % 7) as i32 - 3) - 1e3
        }
    }

    proptest! {
        /// Sums put in place are, to the bit, the sums of the partial: written over the
        /// place, or each added to what it held. Any dtype a mean takes, any axes, C order
        /// or not (the general fold's path).
        #[test]
        fn sums_in_place_are_the_partials_sums(
            shape in prop::collection::vec(1_usize..6, 1..4),
            axes_mask in 1_usize..8,
            dtype in 0_usize..3,
            op in 0_usize..3,
            reversed in any::<bool>(),
            add in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let axes: Vec<usize> = (0..shape.len()).filter(|a| axes_mask >> a & 1 == 1).collect();
            prop_assume!(!axes.is_empty());
            let op = [ReduceOp::Mean, ReduceOp::Sum, ReduceOp::NanSum][op];
            // Integers take means only.
            prop_assume!(dtype != 2 || op == ReduceOp::Mean);
            let mut state = seed | 1;
            let x = ArrayD::from_shape_fn(IxDyn(&shape), |_| next(&mut state, true));
            // Laid out in reverse (not C order) and viewed back in the same shape.
            let x = if reversed {
                let mut r = ArrayD::zeros(IxDyn(&shape.iter().rev().copied().collect::<Vec<_>>()));
                r.assign(&x.view().reversed_axes());
                r.reversed_axes()
            } else {
                x
            };
            let skip = op == ReduceOp::NanSum;
            let (block, expected) = match dtype {
                0 => {
                    let x = x.mapv(|v| v as f32);
                    (DynArray::from(x.clone()), float_sum(x.view(), &axes, skip))
                }
                1 => (DynArray::from(x.clone()), float_sum(x.view(), &axes, skip)),
                _ => {
                    let x = x.mapv(|v| if v.is_nan() { -7 } else { v as i32 });
                    (DynArray::from(x.clone()), float_sum(x.view(), &axes, false))
                }
            };
            let before: Vec<f64> = (0..expected.len()).map(|_| next(&mut state, false)).collect();
            let mut place = before.clone();
            sums_into(op, &block, &axes, &mut place, add).unwrap();
            for ((got, b), e) in place.iter().zip(&before).zip(expected.iter()) {
                let want = if add { b + e } else { *e };
                prop_assert_eq!(got.to_bits(), want.to_bits(), "{} and {}", got, want);
            }
            // A place of another size is an error, not a panic.
            let mut short = vec![0.0; expected.len() + 1];
            prop_assert!(sums_into(op, &block, &axes, &mut short, add).is_err());
        }
        /// The one-axis path adds the same values in the same order as the general one:
        /// equal sums to the bit, equal counts.
        #[test]
        fn one_axis_sums_and_counts_are_the_general_ones(
            shape in prop::collection::vec(0_usize..6, 1..4),
            seed in any::<u64>(),
            axis_pick in 0_usize..3,
            group in 1_usize..5,
        ) {
            let axis = axis_pick % shape.len();
            let mut state = seed | 1;
            let x = ArrayD::from_shape_fn(IxDyn(&shape), |_| {
                // xorshift: values over many magnitudes, one in five NaN.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if state % 5 == 0 {
                    f32::NAN
                } else {
                    ((state >> 11) % 2001) as f32 * 10_f32.powi((state % 7) as i32 - 3) - 1e3
                }
            });
            let (s1, n1) = nan_sum_count_along(x.view(), axis, group);
            let (s2, n2) = nan_sum_count_folded(x.view(), &[axis], group);
            prop_assert_eq!(s1.shape(), s2.shape());
            for (a, b) in s1.iter().zip(s2.iter()) {
                prop_assert_eq!(a.to_bits(), b.to_bits(), "sums {} and {}", a, b);
            }
            prop_assert_eq!(n1, n2);
        }
    }
}
