//! Solvers: Cholesky, LU solves and inverses of whole matrices, and least squares by TSQR.

use std::sync::Arc;

use floe_array::serde_json::json;
use floe_array::{Array, ArrayError, AxisChunks, ChunkSpec, DType, Result, s};

use crate::matmul::matmul_2d;
use crate::ops::{none, op};
use crate::qr::tsqr;
use crate::{as_f64, cast, need_2d, need_numeric, result_dtype};

fn need_square(op: &'static str, a: &Array) -> Result<usize> {
    need_2d(op, a)?;
    need_numeric(op, a)?;
    if a.shape()[0] != a.shape()[1] {
        return Err(ArrayError::invalid(
            op,
            format!("needs a square matrix, got shape {:?}", a.shape()),
        ));
    }
    Ok(a.shape()[0])
}

fn whole(a: &Array) -> Result<Array> {
    a.rechunk(ChunkSpec::Axes(vec![AxisChunks::Whole; a.ndim()]))
}

/// The lower-triangular `L` with `a = L Lᵀ` for a symmetric positive-definite `a`
/// (NumPy's `cholesky`), chunked like `a`. The matrix is factored as one block, so it
/// must fit in memory.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a non-square or boolean array; computing fails,
/// naming the task, if `a` is not positive definite.
pub fn cholesky(a: &Array) -> Result<Array> {
    let n = need_square("cholesky", a)?;
    let dtype = result_dtype(&[a]);
    let l = floe_array::from_blocks_op(
        "cholesky",
        &[n, n],
        ChunkSpec::from(vec![vec![n], vec![n]]),
        DType::F64,
        &[&whole(&as_f64(a))?],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
        op("linalg.cholesky", none()),
    )?;
    Ok(cast(l.rechunk(a.chunks())?, dtype))
}

/// The solution `x` of `a x = b` for a square `a` (LU with partial pivoting, factored once
/// as one block) and `b` of shape `(n,)` or `(n, k)`; `x` is chunked like `b` and each
/// block of right-hand-side columns is solved by its own task.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for a non-square `a`, a `b` whose length differs, or
/// boolean operands. A singular `a` gives infinities or NaN, as LAPACK's `gesv` would
/// not; check the result where that matters.
pub fn solve(a: &Array, b: &Array) -> Result<Array> {
    let n = need_square("solve", a)?;
    need_numeric("solve", b)?;
    if b.ndim() == 0 || b.ndim() > 2 || b.shape()[0] != n {
        return Err(ArrayError::invalid(
            "solve",
            format!(
                "b of shape {:?} does not match a of shape {:?}",
                b.shape(),
                a.shape()
            ),
        ));
    }
    let dtype = result_dtype(&[a, b]);
    let b2 = if b.ndim() == 1 {
        b.expand_dims(1)?
    } else {
        b.clone()
    };
    let b2 = as_f64(&b2).rechunk(ChunkSpec::Axes(vec![
        AxisChunks::Whole,
        AxisChunks::Sizes(b2.chunks().axis(1).to_vec()),
    ]))?;
    let aw = whole(&as_f64(a))?;
    let x = floe_array::from_blocks_op(
        "solve",
        &[n, b2.shape()[1]],
        ChunkSpec::from(vec![vec![n], b2.chunks().axis(1).to_vec()]),
        DType::F64,
        &[&aw, &b2],
        Arc::new(|i: &[usize]| vec![(0, vec![0, 0]), (1, vec![0, i[1]])]),
        op("linalg.solve", none()),
    )?;
    let x = x.rechunk(b2.chunks())?;
    let x = if b.ndim() == 1 {
        x.squeeze(Some(&[1]))?
    } else {
        x
    };
    Ok(cast(x, dtype))
}

/// The inverse of a square matrix (see [`solve`]), chunked like `a`.
///
/// # Errors
///
/// As [`solve`].
pub fn inv(a: &Array) -> Result<Array> {
    let n = need_square("inv", a)?;
    let dtype = result_dtype(&[a]);
    let aw = whole(&as_f64(a))?;
    let x = floe_array::from_blocks_op(
        "inv",
        &[n, n],
        ChunkSpec::from(vec![vec![n], vec![n]]),
        DType::F64,
        &[&aw],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0])]),
        op("linalg.inv", none()),
    )?;
    Ok(cast(x.rechunk(a.chunks())?, dtype))
}

/// What [`lstsq`] returns, as NumPy's `lstsq` does.
#[derive(Clone)]
pub struct Lstsq {
    /// The least-squares solution, `(n,)` or `(n, k)`.
    pub x: Array,
    /// The squared residual norms `‖a x − b‖²`, `(1,)` or `(k,)`.
    pub residuals: Array,
    /// The rank of `a` (a 0-d `int64` array): singular values above
    /// `max(m, n) · ε · s_max`.
    pub rank: Array,
    /// The singular values of `a`, descending.
    pub s: Array,
}

/// The least-squares solution of `a x ≈ b` for a tall-and-skinny `a` with one block of
/// columns: `a = Q R` by TSQR, then `x = R⁻¹ Qᵀ b`. `b` is `(m,)` or `(m, k)`.
///
/// # Errors
///
/// As [`tsqr`] for `a`; [`ArrayError::InvalidArgument`] for a `b` whose length differs.
pub fn lstsq(a: &Array, b: &Array) -> Result<Lstsq> {
    need_2d("lstsq", a)?;
    need_numeric("lstsq", a)?;
    need_numeric("lstsq", b)?;
    let (m, n) = (a.shape()[0], a.shape()[1]);
    if b.ndim() == 0 || b.ndim() > 2 || b.shape()[0] != m {
        return Err(ArrayError::invalid(
            "lstsq",
            format!(
                "b of shape {:?} does not match a of shape {:?}",
                b.shape(),
                a.shape()
            ),
        ));
    }
    let dtype = result_dtype(&[a, b]);
    let (q, r) = tsqr(&as_f64(a))?;
    let b2 = as_f64(&if b.ndim() == 1 {
        b.expand_dims(1)?
    } else {
        b.clone()
    });
    let qtb = matmul_2d(&q.t(), &b2)?
        .rechunk(ChunkSpec::Axes(vec![AxisChunks::Whole, AxisChunks::Whole]))?;
    let k = b2.shape()[1];
    let x = floe_array::from_blocks_op(
        "lstsq",
        &[n, k],
        ChunkSpec::from(vec![vec![n], vec![k]]),
        DType::F64,
        &[&r, &qtb],
        Arc::new(|_: &[usize]| vec![(0, vec![0, 0]), (1, vec![0, 0])]),
        op("linalg.solve-upper", none()),
    )?;
    let resid = matmul_2d(&as_f64(a), &x)?.sub(&b2)?.square()?.sum(0)?;
    let (_, s, _) = crate::svd::svd(&r)?;
    let eps = f64::EPSILON * m.max(n) as f64;
    let rank = floe_array::from_blocks_op(
        "lstsq-rank",
        &[],
        ChunkSpec::Axes(vec![]),
        DType::I64,
        &[&s],
        Arc::new(|_: &[usize]| vec![(0, vec![0])]),
        op("linalg.rank", json!({ "eps": eps })),
    )?;
    let x = if b.ndim() == 1 {
        x.slice(&s![.., 0])?
    } else {
        x
    };
    Ok(Lstsq {
        x: cast(x, dtype),
        residuals: cast(resid, dtype),
        rank,
        s: cast(s, dtype),
    })
}
