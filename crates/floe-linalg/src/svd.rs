//! Singular value decompositions: exact (through TSQR) and randomized.

use std::sync::Arc;

use floe_array::serde_json::json;
use floe_array::{Array, ArrayError, AxisChunks, ChunkSpec, DType, Result, s};

use crate::matmul::matmul_2d;
use crate::ops::{none, op};
use crate::qr::tsqr;
use crate::{as_f64, cast, need_2d, need_numeric, result_dtype};

/// The thin SVD `a = u · diag(s) · v` (`v` is `Vᵀ`, as NumPy's `vh`): for `a` of shape
/// `(m, n)` and `k = min(m, n)`, `u` is `(m, k)`, `s` is `(k,)` descending and `v` is
/// `(k, n)`.
///
/// Tall-and-skinny arrays need one block of columns (TSQR, then the SVD of the small `R`);
/// short-and-fat ones one block of rows (the same on the transpose). Each right singular
/// vector's largest-magnitude entry is positive.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a non-2-d or boolean array, or one blocked along its
/// short axis — the message gives the rechunk that works (or use [`svd_compressed`]).
///
/// # Examples
///
/// ```
/// let x = floe_array::random::uniform(&[2000, 50], [500_usize, 50], 1, 0.0, 1.0)?;
/// let (u, s, v) = floe_linalg::svd(&x)?;
/// assert_eq!((u.shape(), s.shape(), v.shape()), (&[2000, 50][..], &[50][..], &[50, 50][..]));
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn svd(a: &Array) -> Result<(Array, Array, Array)> {
    need_2d("svd", a)?;
    need_numeric("svd", a)?;
    let (m, n) = (a.shape()[0], a.shape()[1]);
    let dtype = result_dtype(&[a]);
    let (short, blocks) = if m >= n {
        (1, a.numblocks()[1])
    } else {
        (0, a.numblocks()[0])
    };
    if blocks > 1 {
        let spec = if short == 1 { "[r, -1]" } else { "[-1, c]" };
        return Err(ArrayError::invalid(
            "svd",
            format!(
                "needs one block along its short axis ({short}), got chunks {:?}; rechunk with \
                 x.rechunk({spec}), or use svd_compressed for an array blocked both ways",
                a.chunks().axis(short)
            ),
        ));
    }
    let (u, s, v) = if m >= n {
        svd_tall(&as_f64(a))?
    } else {
        let (u, s, v) = svd_tall(&as_f64(&a.t()))?;
        (v.t(), s, u.t())
    };
    Ok((cast(u, dtype), cast(s, dtype), cast(v, dtype)))
}

/// SVD of a tall `float64` array with one block of columns.
fn svd_tall(a: &Array) -> Result<(Array, Array, Array)> {
    let n = a.shape()[1];
    let (q, r) = tsqr(a)?;
    // One block: U_r (n × n) over s (1 × n) over Vᵀ (n × n).
    let usv = floe_array::from_blocks_op(
        "svd-r",
        &[2 * n + 1, n],
        ChunkSpec::from(vec![vec![2 * n + 1], vec![n]]),
        DType::F64,
        &[&r],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
        op("linalg.svd-r", none()),
    )?;
    let q_rows = q.chunks().axis(0).to_vec();
    let u = floe_array::from_blocks_op(
        "svd-u",
        &[a.shape()[0], n],
        ChunkSpec::from(vec![q_rows.clone(), vec![n]]),
        DType::F64,
        &[&q, &usv],
        Arc::new(|i: &[usize]| vec![(0, vec![i[0], 0]), (1, vec![0, 0])]),
        op("linalg.svd-u", json!({ "n": n })),
    )?;
    let s = floe_array::from_blocks_op(
        "svd-s",
        &[n],
        ChunkSpec::from(vec![vec![n]]),
        DType::F64,
        &[&usv],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
        op("linalg.svd-s", json!({ "n": n })),
    )?;
    let v = floe_array::from_blocks_op(
        "svd-v",
        &[n, n],
        ChunkSpec::from(vec![vec![n], vec![n]]),
        DType::F64,
        &[&usv],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
        op("linalg.rows", json!({ "last": n })),
    )?;
    Ok((u, s, v))
}

/// The `k` leading singular triplets of `a`, by the randomized algorithm of Halko,
/// Martinsson and Tropp (2011): `Y = a Ω` for a Gaussian `Ω` of `k + n_oversamples`
/// columns drawn from `seed`, `n_power_iter` power iterations `Y = a (aᵀ Q)` each
/// re-orthonormalised by TSQR, `Q = qr(Y)`, then the exact SVD of the small `Qᵀ a`.
///
/// `a` may be blocked along both axes and is read `2 + 2·n_power_iter` times. An `a` made
/// from sources alone (file reads, generators, through elementwise operations, slices and
/// rechunks: see [`Array::made_from_sources`]) is read or generated again for each pass,
/// keeping memory to a few blocks whatever its size; any other `a` (centred data
/// `x - x.mean(0)`, a product) is held between passes within the memory budget (by
/// default half the memory available), which spills what does not fit. Results are
/// reproducible from `seed` and do not depend on the chunking.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a non-2-d or boolean array, or `k` of 0 or more than
/// `min(m, n)`.
pub fn svd_compressed(
    a: &Array,
    k: usize,
    n_power_iter: usize,
    n_oversamples: usize,
    seed: u64,
) -> Result<(Array, Array, Array)> {
    need_2d("svd_compressed", a)?;
    need_numeric("svd_compressed", a)?;
    let (m, n) = (a.shape()[0], a.shape()[1]);
    if k == 0 || k > m.min(n) {
        return Err(ArrayError::invalid(
            "svd_compressed",
            format!("k = {k} must be between 1 and min(m, n) = {}", m.min(n)),
        ));
    }
    let dtype = result_dtype(&[a]);
    let a = as_f64(a);
    let l = (k + n_oversamples).min(m.min(n));
    let omega = floe_array::random::normal(
        &[n, l],
        ChunkSpec::Axes(vec![
            AxisChunks::Sizes(a.chunks().axis(1).to_vec()),
            AxisChunks::Whole,
        ]),
        seed,
        0.0,
        1.0,
    )?;
    // Made again for each pass when that is cheap, else held (see above).
    let again = |a: &Array| {
        if a.made_from_sources() {
            a.recomputed()
        } else {
            a.clone()
        }
    };
    let orth = |y: &Array| tsqr(y).map(|(q, _)| q);
    let mut q = orth(&matmul_2d(&a, &omega)?)?;
    for _ in 0..n_power_iter {
        let z = orth(&matmul_2d(&again(&a).t(), &q)?)?;
        q = orth(&matmul_2d(&again(&a), &z)?)?;
    }
    let b = matmul_2d(&q.t(), &again(&a))?;
    let b = if b.numblocks()[0] > 1 || (l == n && b.numblocks()[1] > 1) {
        b.rechunk(ChunkSpec::Axes(vec![AxisChunks::Whole, AxisChunks::Whole]))?
    } else {
        b
    };
    let (ub, s, v) = svd(&b)?;
    let u = matmul_2d(&q, &ub)?;
    let u = u.slice(&s![.., ..k])?;
    let s = s.slice(&s![..k])?;
    let v = v.slice(&s![..k, ..])?;
    Ok((cast(u, dtype), cast(s, dtype), cast(v, dtype)))
}
