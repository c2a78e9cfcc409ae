//! QR factorizations: direct TSQR for tall-and-skinny arrays, and the short-and-fat case.
//!
//! TSQR (Benson, Gleich, Demmel 2013): each row block `A_i = Q_i R_i`; the `R_i` are
//! stacked and factored again, `[R_1; …; R_k] = Q' R`; then `Q`'s block `i` is
//! `Q_i · Q'_i`. When the stacked `R`s would not fit one block, they are grouped into
//! blocks and factored by TSQR again (recursively), so every task stays block-sized.

use std::sync::Arc;

use floe_array::{Array, ArrayError, ChunkSpec, DType, DynArray, Result};
use floe_graph::TaskError;
use ndarray::Axis;

use crate::kernels::f64_view;
use crate::matmul::matmul_2d;
use crate::ops::{none, op};
use crate::{as_f64, cast, need_2d, need_numeric, result_dtype};
use floe_array::serde_json::json;

/// `a = Q R` for a tall-and-skinny `a` (rows ≥ columns) with one block of columns: `Q`
/// (same shape and row blocks as `a`, up to merged small blocks) has orthonormal columns,
/// `R` (`n × n`, one block) is upper triangular with a non-negative diagonal.
///
/// Row blocks with fewer rows than `a` has columns are merged with their neighbours first.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a non-2-d or boolean array, more than one block of
/// columns (the message gives the rechunk that works), or fewer rows than columns.
///
/// # Examples
///
/// ```
/// let x = floe_array::random::uniform(&[10_000, 20], [1000_usize, 20], 7, 0.0, 1.0)?;
/// let (q, r) = floe_linalg::tsqr(&x)?;
/// assert_eq!((q.shape(), r.shape()), (&[10_000, 20][..], &[20, 20][..]));
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn tsqr(a: &Array) -> Result<(Array, Array)> {
    need_2d("tsqr", a)?;
    need_numeric("tsqr", a)?;
    let (m, n) = (a.shape()[0], a.shape()[1]);
    if a.numblocks()[1] > 1 {
        return Err(ArrayError::invalid(
            "tsqr",
            format!(
                "needs one block of columns, got {} (chunks along axis 1: {:?}); \
                 rechunk with x.rechunk([{}, -1])",
                a.numblocks()[1],
                a.chunks().axis(1),
                a.chunks().axis(0).first().copied().unwrap_or(1)
            ),
        ));
    }
    if m < n {
        return Err(ArrayError::invalid(
            "tsqr",
            format!(
                "needs at least as many rows as columns, got shape {:?}; use qr() for a \
                 short-and-fat array",
                a.shape()
            ),
        ));
    }
    let dtype = result_dtype(&[a]);
    let a = tall_blocks(&as_f64(a), n)?;
    let max_rows = a.chunks().max_block()[0].max(2 * n);
    let (q, r) = tsqr_rec(&a, n, max_rows)?;
    Ok((cast(q, dtype), cast(r, dtype)))
}

/// `a` with row blocks merged so that each has at least `n` rows.
fn tall_blocks(a: &Array, n: usize) -> Result<Array> {
    let rows = a.chunks().axis(0);
    if rows.iter().all(|&r| r >= n) {
        return Ok(a.clone());
    }
    let mut merged: Vec<usize> = Vec::new();
    let mut run = 0;
    for &r in rows {
        run += r;
        if run >= n {
            merged.push(run);
            run = 0;
        }
    }
    if run > 0 {
        match merged.last_mut() {
            Some(last) => *last += run,
            None => merged.push(run),
        }
    }
    a.rechunk(ChunkSpec::from(vec![merged, vec![n]]))
}

/// TSQR of a `float64` array whose row blocks each have at least `n` rows.
pub(crate) fn tsqr_rec(a: &Array, n: usize, max_rows: usize) -> Result<(Array, Array)> {
    let rows = a.chunks().axis(0).to_vec();
    let m: usize = rows.iter().sum();
    let k = rows.len();
    // Block i of `qr` is Q_i stacked on R_i: (m_i + n) × n.
    let qr_rows: Vec<usize> = rows.iter().map(|r| r + n).collect();
    let qr = floe_array::from_blocks_op(
        "qr-block",
        &[qr_rows.iter().sum(), n],
        ChunkSpec::from(vec![qr_rows, vec![n]]),
        DType::F64,
        &[a],
        Arc::new(|i: &[usize]| vec![(0, vec![i[0], 0])]),
        op("linalg.qr-block", none()),
    )?;
    // Each QR block holds its Q_i over its R_i (n rows).
    let (q_part, r_part) = (
        op("linalg.rows", json!({ "drop_last": n })),
        op("linalg.rows", json!({ "last": n })),
    );
    if k == 1 {
        let q = floe_array::from_blocks_op(
            "tsqr-q",
            &[m, n],
            ChunkSpec::from(vec![rows.clone(), vec![n]]),
            DType::F64,
            &[&qr],
            Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
            q_part,
        )?;
        let r = floe_array::from_blocks_op(
            "tsqr-r",
            &[n, n],
            ChunkSpec::from(vec![vec![n], vec![n]]),
            DType::F64,
            &[&qr],
            Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
            r_part,
        )?;
        return Ok((q, r));
    }
    // Each R_i on its own (n × n), so that the big Q_i-and-R_i block is freed as soon as
    // its R is taken when nothing else needs its Q (computing only part of Q).
    let r_parts = floe_array::from_blocks_op(
        "tsqr-r-part",
        &[k * n, n],
        ChunkSpec::from(vec![vec![n; k], vec![n]]),
        DType::F64,
        &[&qr],
        Arc::new(|i: &[usize]| vec![(0, vec![i[0], 0])]),
        r_part,
    )?;
    // The stacked R factors, `group` per block (one block when they fit).
    let group = if k * n <= max_rows {
        k
    } else {
        (max_rows / n).max(2)
    };
    let groups = k.div_ceil(group);
    let stack_rows: Vec<usize> = (0..groups)
        .map(|g| n * (((g + 1) * group).min(k) - g * group))
        .collect();
    let stacked = floe_array::from_blocks_op(
        "tsqr-r-stack",
        &[k * n, n],
        ChunkSpec::from(vec![stack_rows, vec![n]]),
        DType::F64,
        &[&r_parts],
        Arc::new(move |g: &[usize]| {
            (g[0] * group..((g[0] + 1) * group).min(k))
                .map(|i| (0, vec![i, 0]))
                .collect()
        }),
        op("linalg.stack", none()),
    )?;
    let (q2, r) = tsqr_rec(&stacked, n, max_rows)?;
    let q = floe_array::from_blocks_op(
        "tsqr-q",
        &[m, n],
        ChunkSpec::from(vec![rows, vec![n]]),
        DType::F64,
        &[&qr, &q2],
        Arc::new(move |i: &[usize]| vec![(0, vec![i[0], 0]), (1, vec![i[0] / group, 0])]),
        op("linalg.tsqr-q", json!({"group": group, "n": n})),
    )?;
    Ok((q, r))
}

/// Blocks stacked along the first axis.
pub(crate) fn stack(parts: &[&DynArray]) -> std::result::Result<DynArray, TaskError> {
    let views = parts
        .iter()
        .map(|p| f64_view(p))
        .collect::<std::result::Result<Vec<_>, TaskError>>()?;
    ndarray::concatenate(Axis(0), &views)
        .map(DynArray::from)
        .map_err(|e| TaskError::msg(format!("internal error: stacking blocks: {e}")))
}

/// `a = Q R`: TSQR for tall-and-skinny `a` (one block of columns); for short-and-fat `a`
/// (one block of rows), `Q` (`m × m`) from the leading `m` columns and `R = Qᵀ a` block by
/// block (`m × n`, upper trapezoidal, chunked like `a`).
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a non-2-d or boolean array, or one blocked along
/// its short axis (the message gives the rechunk that works).
pub fn qr(a: &Array) -> Result<(Array, Array)> {
    need_2d("qr", a)?;
    need_numeric("qr", a)?;
    let (m, n) = (a.shape()[0], a.shape()[1]);
    if m >= n {
        return tsqr(a);
    }
    if a.numblocks()[0] > 1 {
        return Err(ArrayError::invalid(
            "qr",
            format!(
                "a short-and-fat array needs one block of rows, got chunks {:?} along axis 0; \
                 rechunk with x.rechunk([-1, {}])",
                a.chunks().axis(0),
                a.chunks().axis(1).first().copied().unwrap_or(1)
            ),
        ));
    }
    let dtype = result_dtype(&[a]);
    let a = as_f64(a);
    // Q from the QR of the leading m × m square.
    let lead = a
        .slice(&floe_array::s![.., ..m])?
        .rechunk(ChunkSpec::from(vec![vec![m], vec![m]]))?;
    let q = floe_array::from_blocks_op(
        "qr-q",
        &[m, m],
        ChunkSpec::from(vec![vec![m], vec![m]]),
        DType::F64,
        &[&lead],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
        op("linalg.qr-q", none()),
    )?;
    // Qᵀ a is upper trapezoidal up to rounding; the zeros are made exact.
    let qta = matmul_2d(&q.t(), &a)?;
    let r = floe_array::from_blocks_op(
        "qr-r",
        qta.shape(),
        qta.chunks().axes().to_vec(),
        DType::F64,
        &[&qta],
        Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
        op("linalg.upper", none()),
    )?;
    Ok((cast(q, dtype), cast(r, dtype)))
}
