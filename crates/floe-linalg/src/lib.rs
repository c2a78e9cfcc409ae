//! Blocked linear algebra on floe arrays: the talk's `svd` and `svd_compressed`, and the
//! products, factorizations and solvers around them.
//!
//! Every function takes lazy [`Array`]s and returns lazy arrays: nothing runs until the
//! result is computed, and then only the blocks it needs. Block kernels are `faer`'s,
//! single-threaded inside a task (the scheduler owns the cores).
//!
//! | function | algorithm | chunking it takes |
//! |---|---|---|
//! | [`matmul`], [`dot`], [`tensordot`] | per-block products summed by a tree, a few at a time | any; the contracted axes are aligned by rechunking |
//! | [`tsqr`] | direct TSQR (Benson, Gleich, Demmel 2013), recursive when the stacked `R`s do not fit one block | one block of columns |
//! | [`qr`] | TSQR for tall-and-skinny, `Q` of the leading square for short-and-fat | one block along the short axis |
//! | [`svd`] | TSQR, then the SVD of `R` | one block along the short axis |
//! | [`svd_compressed`] | randomized SVD (Halko, Martinsson, Tropp 2011) with re-orthonormalised power iterations | any 2-D blocking |
//! | [`lstsq`] | TSQR, then a triangular solve | one block of columns |
//! | [`cholesky`], [`solve`], [`inv`] | one factorization of the whole (square) matrix, right-hand sides blocked | any (the matrix must fit in memory) |
//! | [`norm`] | reductions (vector and Frobenius norms) or singular values (2-norm, nuclear) | as the algorithm used |
//!
//! Results are `float64` (`float32` for `float32` inputs, computed in `float64`), like
//! NumPy's. Singular vectors follow a deterministic sign convention: the largest-magnitude
//! entry of each right singular vector is positive.
//!
//! # Examples
//!
//! The talk's example: the SVD of a tall array of ones, in (1000, 1000) blocks.
//!
//! ```
//! use floe_array::DType;
//!
//! let x = floe_array::ones(&[5000, 1000], [1000_usize, 1000], DType::F64)?;
//! let (u, s, v) = floe_linalg::svd(&x)?;
//! assert_eq!((u.shape(), s.shape(), v.shape()), (&[5000, 1000][..], &[1000][..], &[1000, 1000][..]));
//! // And its randomized approximation, the 100 leading singular triplets.
//! let (u, s, v) = floe_linalg::svd_compressed(&x, 100, 2, 10, 0)?;
//! assert_eq!((u.shape(), s.shape(), v.shape()), (&[5000, 100][..], &[100][..], &[100, 1000][..]));
//! # Ok::<(), floe_array::ArrayError>(())
//! ```

mod kernels;
mod matmul;
mod norm;
mod ops;
mod qr;
mod solve;
mod svd;

pub use matmul::{dot, matmul, tensordot};
pub use norm::{Norm, norm};
pub use ops::register_block_ops;
pub use qr::{qr, tsqr};
pub use solve::{Lstsq, cholesky, inv, lstsq, solve};
pub use svd::{svd, svd_compressed};

use floe_array::{Array, ArrayError, DType, Result};

/// The dtype results are returned in: `float32` for `float32` inputs, `float64` otherwise.
fn result_dtype(inputs: &[&Array]) -> DType {
    if inputs.iter().all(|a| a.dtype() == DType::F32) {
        DType::F32
    } else {
        DType::F64
    }
}

/// `a` as `float64` (the dtype every kernel computes in).
fn as_f64(a: &Array) -> Array {
    if a.dtype() == DType::F64 {
        a.clone()
    } else {
        a.astype(DType::F64)
    }
}

/// `a` cast to `dtype` (a no-op when it already is).
fn cast(a: Array, dtype: DType) -> Array {
    if a.dtype() == dtype {
        a
    } else {
        a.astype(dtype)
    }
}

fn need_2d(op: &'static str, a: &Array) -> Result<()> {
    if a.ndim() == 2 {
        Ok(())
    } else {
        Err(ArrayError::invalid(
            op,
            format!("needs a 2-d array, got shape {:?}", a.shape()),
        ))
    }
}

fn need_numeric(op: &'static str, a: &Array) -> Result<()> {
    need_real_or_complex(op, a)?;
    if a.dtype().is_complex() {
        // Products (`matmul`, `dot`, `tensordot`) take complex operands; factorizations
        // compute in real floats only.
        Err(ArrayError::UnsupportedDType {
            op,
            dtype: a.dtype(),
        })
    } else {
        Ok(())
    }
}

fn need_real_or_complex(op: &'static str, a: &Array) -> Result<()> {
    if a.dtype() == DType::Bool {
        Err(ArrayError::invalid(op, "needs a numeric array, got bool"))
    } else {
        Ok(())
    }
}
