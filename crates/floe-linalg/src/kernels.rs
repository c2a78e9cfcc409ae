//! Block kernels: conversions between floe blocks and faer matrices, and the small dense
//! factorizations every blocked algorithm ends with.

use faer::linalg::matmul::matmul as gemm;
use faer::{Accum, Mat, MatRef, Par};
use floe_array::{ArrayElement, DynArray};
use floe_graph::TaskError;
use ndarray::{Array2, ArrayD, Ix2};

/// Runs `f` on a 2-D `float64` block viewed as a faer matrix (no copy when the block is in
/// standard layout).
pub(crate) fn with_mat<R>(
    b: &DynArray,
    f: impl FnOnce(MatRef<'_, f64>) -> R,
) -> Result<R, TaskError> {
    let a = f64_view(b)?
        .into_dimensionality::<Ix2>()
        .map_err(|_| TaskError::msg("internal error: a linear-algebra block is not 2-d"))?;
    let (m, n) = a.dim();
    Ok(match a.as_slice() {
        Some(s) => f(MatRef::from_row_major_slice(s, m, n)),
        None => {
            let owned = a.as_standard_layout().into_owned();
            let s = owned.as_slice().expect("standard layout");
            f(MatRef::from_row_major_slice(s, m, n))
        }
    })
}

/// A `float64` block's elements.
pub(crate) fn f64_view(b: &DynArray) -> Result<ndarray::ArrayViewD<'_, f64>, TaskError> {
    <f64 as ArrayElement>::view(b)
        .ok_or_else(|| TaskError::msg(format!("internal error: a {} block", b.dtype())))
}

/// A faer matrix as a 2-D `float64` block.
pub(crate) fn block(m: MatRef<'_, f64>) -> DynArray {
    let a: Array2<f64> = Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]);
    DynArray::from(a.into_dyn())
}

/// A vector as a 1-D `float64` block.
pub(crate) fn vector(v: Vec<f64>) -> DynArray {
    DynArray::from(ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v).expect("n values"))
}

/// `Σ lhs[t] · rhs[t]`.
pub(crate) fn sum_of_products(
    lhs: &[&DynArray],
    rhs: &[&DynArray],
    m: usize,
    n: usize,
) -> Result<Mat<f64>, TaskError> {
    let mut acc = Mat::<f64>::zeros(m, n);
    for (a, b) in lhs.iter().zip(rhs) {
        // Checked here: a task read from elsewhere may pair blocks that do not multiply.
        let fits = match (a.shape(), b.shape()) {
            ([am, ak], [bk, bn]) => *am == m && *bn == n && ak == bk,
            _ => false,
        };
        if !fits {
            return Err(TaskError::msg(format!(
                "blocks of shapes {:?} and {:?} do not multiply into {m} × {n}",
                a.shape(),
                b.shape()
            )));
        }
    }
    for (t, (a, b)) in lhs.iter().zip(rhs).enumerate() {
        let beta = if t == 0 { Accum::Replace } else { Accum::Add };
        with_mat(a, |a| {
            with_mat(b, |b| gemm(acc.as_mut(), beta, a, b, 1.0, Par::Seq))
        })??;
    }
    Ok(acc)
}

/// `a = Q R` with `Q` (m×k) orthonormal and `R` (k×n) upper triangular, `k = min(m, n)`.
/// Rows of `R` are scaled so its diagonal is non-negative (a unique factorization for
/// full-rank `a`).
pub(crate) fn thin_qr(a: MatRef<'_, f64>) -> (Mat<f64>, Mat<f64>) {
    let qr = a.qr();
    let mut q = qr.compute_thin_Q();
    let mut r = qr.thin_R().to_owned();
    for i in 0..r.nrows().min(r.ncols()) {
        if r[(i, i)] < 0.0 {
            for j in 0..r.ncols() {
                r[(i, j)] = -r[(i, j)];
            }
            for j in 0..q.nrows() {
                q[(j, i)] = -q[(j, i)];
            }
        }
    }
    (q, r)
}

/// `(U, s, V)` of an SVD.
pub(crate) type Usv = (Mat<f64>, Vec<f64>, Mat<f64>);

/// The thin SVD `a = U diag(s) Vᵀ`, singular values descending, each right singular vector's
/// largest-magnitude entry positive.
pub(crate) fn thin_svd(a: MatRef<'_, f64>) -> Result<Usv, TaskError> {
    let svd = a
        .thin_svd()
        .map_err(|e| TaskError::msg(format!("SVD did not converge: {e:?}")))?;
    let (mut u, mut v) = (svd.U().to_owned(), svd.V().to_owned());
    let s: Vec<f64> = (0..svd.S().dim()).map(|i| svd.S()[i]).collect();
    for j in 0..v.ncols() {
        let mut big = 0;
        for i in 0..v.nrows() {
            if v[(i, j)].abs() > v[(big, j)].abs() {
                big = i;
            }
        }
        if v.nrows() > 0 && v[(big, j)] < 0.0 {
            for i in 0..v.nrows() {
                v[(i, j)] = -v[(i, j)];
            }
            for i in 0..u.nrows() {
                u[(i, j)] = -u[(i, j)];
            }
        }
    }
    Ok((u, s, v))
}

/// Rows `from..to` of a 2-D block (a copy).
pub(crate) fn rows(b: &DynArray, from: usize, to: usize) -> Result<DynArray, TaskError> {
    let a = f64_view(b)?;
    if a.ndim() != 2 || from > to || to > a.shape()[0] {
        return Err(TaskError::msg(format!(
            "rows {from}..{to} of a block of shape {:?}",
            a.shape()
        )));
    }
    Ok(DynArray::from(
        a.slice(ndarray::s![from..to, ..]).to_owned().into_dyn(),
    ))
}
