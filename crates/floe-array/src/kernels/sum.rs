//! Float sums at memory speed, as accurate as NumPy's or more.
//!
//! A block in C order whose reduced axes are consecutive is a stack of `outer` slabs of
//! `red × inner` elements; each output position sums one column of a slab. Two loops cover
//! every such case, each reading the input once, in order, and writing each output once:
//!
//! - **Columns** (`inner > 1`: a mean over time of daily maps): the slab is cut into bands
//!   of [`BAND`] columns; a band's sums stay in the first-level cache while its rows stream
//!   past, plain sums over groups of [`GROUP`] rows, the group sums added with Kahan
//!   compensation. Each column's error grows with the group size and the number of groups,
//!   not with the number of rows (NumPy adds the rows of such a reduction one by one).
//! - **Runs** (`inner == 1`: a sum over the last axis, or over everything): [`LANES`]
//!   independent partial sums over blocks of [`RUN_BLOCK`] elements (one vector register
//!   each, as NumPy's pairwise sum unrolls by 8), summed pairwise, the block sums added with
//!   Kahan compensation: about 20 roundings deep whatever the length, where NumPy's pairwise
//!   sum is `16 + log2(n / 128)` deep.
//!
//! Both loops are compiled for the baseline and for AVX2 (see [`crate::simd`]). Any other
//! layout (strided views, reduced axes with kept ones between them) takes the general
//! fold in `reduction.rs`.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use super::reduction::{Kahan, kahan_add};

/// Columns summed together: three bands of `f64` (sums, compensations, group sums) fill
/// 24 KiB, within any first-level data cache.
pub(crate) const BAND: usize = 1024;
/// Rows summed plainly before the group's sums are added with compensation.
pub(crate) const GROUP: usize = 128;
/// Independent partial sums over a run.
pub(crate) const LANES: usize = 16;
/// Elements of a run summed plainly (in `LANES` lanes) before the block's sum is added
/// with compensation.
pub(crate) const RUN_BLOCK: usize = 256;

/// Where the loops put their sums, in order: appended to a vector, or written or added
/// into a slice (see [`sum_into`]).
pub(crate) trait Sink {
    fn put(&mut self, sums: &[f64]);
}

impl Sink for Vec<f64> {
    #[inline(always)]
    fn put(&mut self, sums: &[f64]) {
        self.extend_from_slice(sums);
    }
}

/// Sums written over (`add` false) or added to (`add` true) a slice's elements in order.
struct InPlace<'a> {
    dest: &'a mut [f64],
    at: usize,
    add: bool,
}

impl Sink for InPlace<'_> {
    #[inline(always)]
    fn put(&mut self, sums: &[f64]) {
        let dest = &mut self.dest[self.at..self.at + sums.len()];
        if self.add {
            for (d, &s) in dest.iter_mut().zip(sums) {
                *d += s;
            }
        } else {
            dest.copy_from_slice(sums);
        }
        self.at += sums.len();
    }
}

/// `x`'s elements as `outer` slabs of `red × inner` (see the module's notes); `None` when
/// the layout is not one the fast loops cover.
fn slabs<'a, T>(
    x: &'a ArrayViewD<'_, T>,
    axes: &[usize],
) -> Option<(&'a [T], usize, usize, usize)> {
    let (&first, &last) = (axes.first()?, axes.last()?);
    let shape = x.shape();
    let consecutive = axes.windows(2).all(|w| w[1] == w[0] + 1);
    if axes.len() == shape.len() {
        // Everything: the order of the elements does not matter.
        let data = x.as_slice_memory_order()?;
        Some((data, 1, data.len(), 1))
    } else if consecutive && x.is_standard_layout() {
        let data = x.as_slice()?;
        let outer: usize = shape[..first].iter().product();
        let red: usize = shape[first..=last].iter().product();
        let inner: usize = shape[last + 1..].iter().product();
        Some((data, outer, red, inner))
    } else {
        None
    }
}

/// The sum of `term(v)` over `axes` of `x` in `f64`, shaped like `x` with the reduced axes
/// of length 1; `None` when the layout is not one the fast loops cover.
pub(crate) fn sum<T: Copy>(
    x: &ArrayViewD<'_, T>,
    axes: &[usize],
    term: impl Fn(T) -> f64 + Copy,
) -> Option<ArrayD<f64>> {
    let (data, outer, red, inner) = slabs(x, axes)?;
    let mut kept = x.shape().to_vec();
    for &a in axes {
        kept[a] = 1;
    }
    let mut out = Vec::with_capacity(outer * inner);
    if red > 0 {
        dispatch(data, outer, red, inner, &mut out, term);
    } else {
        out.resize(outer * inner, 0.0);
    }
    Some(ArrayD::from_shape_vec(IxDyn(&kept), out).expect("one sum per kept position"))
}

/// [`sum`], its values (in C order) written over `dest` or, with `add`, added to it: no
/// array of the sums is made. `false` (nothing written) when the layout is not one the
/// fast loops cover.
///
/// # Panics
///
/// When `dest` does not hold one value per kept position.
pub(crate) fn sum_into<T: Copy>(
    x: &ArrayViewD<'_, T>,
    axes: &[usize],
    term: impl Fn(T) -> f64 + Copy,
    dest: &mut [f64],
    add: bool,
) -> bool {
    let Some((data, outer, red, inner)) = slabs(x, axes) else {
        return false;
    };
    assert_eq!(dest.len(), outer * inner, "one sum per kept position");
    if red > 0 {
        dispatch(
            data,
            outer,
            red,
            inner,
            &mut InPlace { dest, at: 0, add },
            term,
        );
    } else if !add {
        dest.fill(0.0);
    }
    true
}

/// Runs [`sum_slabs`] compiled for the widest vectors the processor has.
fn dispatch<T: Copy>(
    data: &[T],
    outer: usize,
    red: usize,
    inner: usize,
    out: &mut impl Sink,
    term: impl Fn(T) -> f64 + Copy,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::avx2() {
        #[target_feature(enable = "avx2,fma")]
        fn wide<T: Copy>(
            data: &[T],
            outer: usize,
            red: usize,
            inner: usize,
            out: &mut impl Sink,
            term: impl Fn(T) -> f64 + Copy,
        ) {
            sum_slabs(data, outer, red, inner, out, term);
        }
        // SAFETY: the processor has AVX2 and FMA (checked just above); `wide` is otherwise
        // the portable loop. Exercised by `tests::both_paths` on such processors.
        #[allow(unsafe_code)]
        return unsafe { wide(data, outer, red, inner, out, term) };
    }
    sum_slabs(data, outer, red, inner, out, term);
}

/// Puts into `out`, for each `o` and `j` in order, the sum over `r` (`red > 0`) of
/// `term(data[(o * red + r) * inner + j])` (appended to a vector, not written over zeros,
/// or written or added in place: see [`Sink`]).
#[inline(always)]
pub(crate) fn sum_slabs<T: Copy>(
    data: &[T],
    outer: usize,
    red: usize,
    inner: usize,
    out: &mut impl Sink,
    term: impl Fn(T) -> f64 + Copy,
) {
    debug_assert_eq!(data.len(), outer * red * inner);
    debug_assert!(red > 0, "sums over no element are the caller's zeros");
    for o in 0..outer {
        let slab = &data[o * red * inner..(o + 1) * red * inner];
        if inner == 1 {
            out.put(&[sum_run(slab, term)]);
        } else {
            sum_columns(slab, red, inner, out, term);
        }
    }
}

/// The sum of `term(v)` over a run (see the module's notes).
#[inline(always)]
fn sum_run<T: Copy>(run: &[T], term: impl Fn(T) -> f64 + Copy) -> f64 {
    let lanes = |block: &[T]| -> f64 {
        let mut acc = [0.0_f64; LANES];
        let mut chunks = block.chunks_exact(LANES);
        for c in &mut chunks {
            for l in 0..LANES {
                acc[l] += term(c[l]);
            }
        }
        for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
            *a += term(v);
        }
        // Pairwise: 16 → 8 → 4 → 2 → 1.
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for l in 0..width {
                acc[l] += acc[l + width];
            }
        }
        acc[0]
    };
    let mut blocks = run.chunks(RUN_BLOCK);
    let Some(first) = blocks.next() else {
        return 0.0;
    };
    let mut total: Kahan = (lanes(first), 0.0);
    for block in blocks {
        total = kahan_add(&total, lanes(block));
    }
    total.0 - total.1
}

/// Puts into `out`, for each column `j`, the sum over rows `r` of
/// `term(slab[r * width + j])`, band by band (see the module's notes).
#[inline(always)]
fn sum_columns<T: Copy>(
    slab: &[T],
    rows: usize,
    width: usize,
    out: &mut impl Sink,
    term: impl Fn(T) -> f64 + Copy,
) {
    let mut sums = [0.0_f64; BAND];
    for start in (0..width).step_by(BAND) {
        let w = BAND.min(width - start);
        let total = &mut sums[..w];
        let row = |r: usize| &slab[r * width + start..r * width + start + w];
        // The first group sums straight into the totals; later ones are added with
        // compensation.
        let first = GROUP.min(rows);
        sum_rows(total, 0..first, row, term);
        if first < rows {
            add_groups(total, first..rows, row, term);
        }
        out.put(total);
    }
}

/// Writes into `total`, for each column `j`, the plain sum over `rows` (not empty) of
/// `term(row(r)[j])`: the first row's terms added to `0.0` (a column of `-0.0` sums to
/// `0.0`, as on every other path), the others added.
#[inline(always)]
fn sum_rows<'a, T: Copy + 'a>(
    total: &mut [f64],
    rows: std::ops::Range<usize>,
    row: impl Fn(usize) -> &'a [T],
    term: impl Fn(T) -> f64 + Copy,
) {
    for (t, &v) in total.iter_mut().zip(row(rows.start)) {
        *t = 0.0 + term(v);
    }
    for r in rows.start + 1..rows.end {
        for (t, &v) in total.iter_mut().zip(row(r)) {
            *t += term(v);
        }
    }
}

/// Adds to `total` the sums of `rows`, [`GROUP`] rows at a time: each group summed
/// plainly, the group sums added with Kahan compensation.
#[inline(always)]
fn add_groups<'a, T: Copy + 'a>(
    total: &mut [f64],
    rows: std::ops::Range<usize>,
    row: impl Fn(usize) -> &'a [T] + Copy,
    term: impl Fn(T) -> f64 + Copy,
) {
    let w = total.len();
    let mut comp = [0.0_f64; BAND];
    let mut group = [0.0_f64; BAND];
    let (comp, group) = (&mut comp[..w], &mut group[..w]);
    for g in rows.clone().step_by(GROUP) {
        sum_rows(group, g..(g + GROUP).min(rows.end), row, term);
        for ((t, c), &s) in total.iter_mut().zip(comp.iter_mut()).zip(group.iter()) {
            (*t, *c) = kahan_add(&(*t, *c), s);
        }
    }
    for (t, &c) in total.iter_mut().zip(comp.iter()) {
        *t -= c;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, Axis, IxDyn};
    use proptest::prelude::*;

    use super::*;

    /// The exactly rounded sum of `xs` (Shewchuk's partials, as Python's `math.fsum`).
    pub(crate) fn exact_sum(xs: impl IntoIterator<Item = f64>) -> f64 {
        let mut partials: Vec<f64> = Vec::new();
        let mut special = 0.0;
        for mut x in xs {
            if !x.is_finite() {
                special += x;
                continue;
            }
            let mut i = 0;
            for j in 0..partials.len() {
                let mut y = partials[j];
                if x.abs() < y.abs() {
                    std::mem::swap(&mut x, &mut y);
                }
                let hi = x + y;
                let lo = y - (hi - x);
                if lo != 0.0 {
                    partials[i] = lo;
                    i += 1;
                }
                x = hi;
            }
            partials.truncate(i);
            partials.push(x);
        }
        if special != 0.0 || special.is_nan() {
            return special;
        }
        // Adding the partials from the largest is exact but for the last rounding (up to
        // the half-way correction `math.fsum` makes, irrelevant at these tolerances).
        partials.iter().rev().fold(0.0, |a, &p| a + p)
    }

    /// NumPy's pairwise summation (`pairwise_sum` in its umath loops): blocks of up to 128
    /// elements in 8 lanes, halved recursively above.
    fn numpy_pairwise(xs: &[f64]) -> f64 {
        if xs.len() < 8 {
            return xs.iter().fold(-0.0, |a, &b| a + b);
        }
        if xs.len() <= 128 {
            let mut r = [0.0; 8];
            r.copy_from_slice(&xs[..8]);
            let mut i = 8;
            while i + 8 <= xs.len() {
                for l in 0..8 {
                    r[l] += xs[i + l];
                }
                i += 8;
            }
            let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for &v in &xs[i..] {
                s += v;
            }
            return s;
        }
        let half = (xs.len() / 2) / 8 * 8;
        numpy_pairwise(&xs[..half]) + numpy_pairwise(&xs[half..])
    }

    fn ill_conditioned(n: usize, seed: u64) -> Vec<f64> {
        // Large values that nearly cancel and small ones that carry the answer, shuffled.
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|_| {
                let r = next();
                let mag = 10_f64.powi((r % 17) as i32 - 4);
                let sign = if (r >> 5) & 1 == 0 { 1.0 } else { -1.0 };
                sign * mag * (1.0 + ((r >> 11) % 1000) as f64 / 1000.0)
            })
            .collect()
    }

    fn both_paths(data: &[f64], outer: usize, red: usize, inner: usize) -> Vec<Vec<f64>> {
        let mut outs = vec![];
        let mut out = vec![];
        sum_slabs(data, outer, red, inner, &mut out, |v| v);
        outs.push(out);
        let mut out = vec![];
        dispatch(data, outer, red, inner, &mut out, |v| v);
        assert_eq!(out.len(), outer * inner);
        // The portable loop and the one the processor's vectors run (AVX2 where it has
        // them) add the same numbers in the same order: equal to the bit.
        for (a, b) in outs[0].iter().zip(&out) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} and {b}");
        }
        outs.push(out);
        outs
    }

    #[test]
    fn wide_slabs_over_several_bands_and_groups() {
        // 300 rows (three groups) of 2,500 columns (three bands, the last one partial),
        // twice over: every column against its exact sum, NaN and infinity included.
        let (outer, rows, cols) = (2, 300, 2_500);
        let mut xs = ill_conditioned(outer * rows * cols, 9);
        xs[7] = f64::NAN;
        xs[rows * cols + 2_400] = f64::INFINITY;
        for out in both_paths(&xs, outer, rows, cols) {
            for o in 0..outer {
                for j in 0..cols {
                    let column = (0..rows).map(|r| xs[(o * rows + r) * cols + j]);
                    let scale: f64 = column.clone().map(f64::abs).sum();
                    let (got, want) = (out[o * cols + j], exact_sum(column));
                    if want.is_nan() || want.is_infinite() {
                        assert_eq!(got.to_bits(), want.to_bits(), "column {o}, {j}");
                    } else {
                        assert!(
                            (got - want).abs() <= 4.0 * f64::EPSILON * scale,
                            "column {o}, {j}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn runs_are_at_least_as_accurate_as_numpy_pairwise() {
        for (n, seed) in [(1_000, 1), (100_000, 2), (1_000_003, 3)] {
            let xs = ill_conditioned(n, seed);
            let exact = exact_sum(xs.iter().copied());
            let numpy_err = (numpy_pairwise(&xs) - exact).abs();
            for ours in both_paths(&xs, 1, n, 1) {
                let err = (ours[0] - exact).abs();
                let scale: f64 = xs.iter().map(|v| v.abs()).sum();
                assert!(
                    err <= numpy_err.max(4.0 * f64::EPSILON * scale),
                    "n = {n}: error {err:e} where NumPy's is {numpy_err:e}"
                );
            }
        }
    }

    #[test]
    fn columns_are_more_accurate_than_adding_rows() {
        // 10,000 rows of 3 columns: NumPy adds the rows of an axis-0 sum one by one.
        let (rows, cols) = (10_000, 3);
        let xs = ill_conditioned(rows * cols, 7);
        for out in both_paths(&xs, 1, rows, cols) {
            for j in 0..cols {
                let column: Vec<f64> = (0..rows).map(|r| xs[r * cols + j]).collect();
                let exact = exact_sum(column.iter().copied());
                let naive_err = (column.iter().sum::<f64>() - exact).abs();
                let err = (out[j] - exact).abs();
                let scale: f64 = column.iter().map(|v| v.abs()).sum();
                assert!(
                    err <= naive_err.max(4.0 * f64::EPSILON * scale),
                    "column {j}: error {err:e} where row by row gives {naive_err:e}"
                );
            }
        }
    }

    #[test]
    fn compensation_recovers_what_plain_sums_lose() {
        // 1 + 1e-16 × 2^20: adding one by one keeps 1 (each 1e-16 is below half an ulp of
        // 1), the compensated sum is 1 + 1.05e-10 but for the few 1e-16 summed with the 1
        // before compensation starts (one block's lane, one group of a column).
        let mut xs = vec![1.0];
        xs.extend(std::iter::repeat_n(1e-16, 1 << 20));
        let exact = exact_sum(xs.iter().copied());
        assert_eq!(xs.iter().sum::<f64>(), 1.0);
        for out in both_paths(&xs, 1, xs.len(), 1) {
            assert!((out[0] - exact).abs() <= 1e-14, "{} vs {exact}", out[0]);
        }
        // The same down columns: 2^20 rows, 2 columns.
        let mut cols = vec![1.0, -1.0];
        cols.extend(std::iter::repeat_n(1e-16, 2 << 20));
        let rows = cols.len() / 2;
        for out in both_paths(&cols, 1, rows, 2) {
            let want = [
                1.0 + 1e-16 * (rows - 1) as f64,
                -1.0 + 1e-16 * (rows - 1) as f64,
            ];
            for j in 0..2 {
                assert!(
                    (out[j] - want[j]).abs() <= 1e-13,
                    "{} vs {}",
                    out[j],
                    want[j]
                );
            }
        }
    }

    proptest! {
        /// Every layout the fast loops take gives the sums of the general fold within
        /// rounding, for float32 and float64, with NaNs skipped or kept.
        #[test]
        fn fast_sums_match_a_reference(
            shape in prop::collection::vec(0_usize..7, 1..5),
            first in 0_usize..4,
            count in 1_usize..4,
            skip_nan in any::<bool>(),
            seed in any::<u64>(),
            as_f32 in any::<bool>(),
        ) {
            let ndim = shape.len();
            let first = first % ndim;
            let axes: Vec<usize> = (first..(first + count).min(ndim)).collect();
            let values = ill_conditioned(shape.iter().product(), seed);
            let values: Vec<f64> = values
                .into_iter()
                .enumerate()
                .map(|(i, v)| if skip_nan && i % 7 == 3 { f64::NAN } else { v })
                .collect();
            let x = ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap();
            let term = move |v: f64| if skip_nan && v.is_nan() { 0.0 } else { v };
            let (got, want) = if as_f32 {
                let x32 = x.mapv(|v| v as f32);
                let got = sum(&x32.view(), &axes, move |v: f32| term(f64::from(v))).unwrap();
                (got, reference(&x32.mapv(f64::from), &axes, term))
            } else {
                (sum(&x.view(), &axes, term).unwrap(), reference(&x, &axes, term))
            };
            prop_assert_eq!(got.shape(), want.shape());
            for (g, w) in got.iter().zip(want.iter()) {
                prop_assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{} vs {}", g, w);
            }
        }
    }

    /// The exact sums over `axes`, kept as length 1.
    fn reference(x: &ArrayD<f64>, axes: &[usize], term: impl Fn(f64) -> f64) -> ArrayD<f64> {
        let mut kept = x.shape().to_vec();
        for &a in axes {
            kept[a] = 1;
        }
        ArrayD::from_shape_fn(IxDyn(&kept), |idx| {
            let mut sub = x.view();
            for a in (0..x.ndim()).rev() {
                if !axes.contains(&a) {
                    sub = sub.index_axis_move(Axis(a), idx[a]);
                }
            }
            exact_sum(sub.iter().map(|&v| term(v)))
        })
    }

    #[test]
    fn strided_views_and_split_axes_are_left_to_the_general_fold() {
        let x = ArrayD::<f64>::zeros(IxDyn(&[3, 4, 5]));
        assert!(sum(&x.view(), &[0, 2], |v| v).is_none());
        assert!(sum(&x.view().reversed_axes(), &[1], |v| v).is_none());
        // Everything, in any memory order, is one run.
        assert!(sum(&x.view().reversed_axes(), &[0, 1, 2], |v| v).is_some());
    }
}
