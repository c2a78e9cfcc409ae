//! Matrix and vector norms, as NumPy's `norm`.

use floe_array::{Array, ArrayError, Axes, Result};

use crate::svd::svd;
use crate::{need_numeric, result_dtype};

/// Which norm [`norm`] computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Norm {
    /// Vectors: the 2-norm; matrices: the Frobenius norm (NumPy's `ord=None`).
    Default,
    /// Frobenius (matrices): `sqrt(Σ x²)`.
    Fro,
    /// Nuclear (matrices): the sum of the singular values.
    Nuclear,
    /// Vectors: `(Σ |x|^p)^(1/p)`; `P(0.0)` counts non-zeros. Matrices: `P(2.0)`/`P(-2.0)`
    /// are the largest/smallest singular value, `P(1.0)`/`P(-1.0)` the max/min column sum
    /// of `|x|`.
    P(f64),
    /// Vectors: `max |x|`; matrices: the max row sum of `|x|`.
    Inf,
    /// Vectors: `min |x|`; matrices: the min row sum of `|x|`.
    NegInf,
}

/// The norm of a vector (1-d) or matrix (2-d), NumPy's `linalg.norm(x, ord)`.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for arrays of other dimensions, boolean arrays, or a
/// norm that does not apply (`Fro`/`Nuclear` of a vector, a matrix `P` other than ±1, ±2);
/// the 2- and nuclear norms of a matrix need the chunking [`svd`] takes.
///
/// # Examples
///
/// ```
/// use floe_linalg::{Norm, norm};
/// let x = floe_array::ones(&[4, 9], 2, floe_array::DType::F64)?;
/// assert_eq!(norm(&x, Norm::Fro)?.shape(), &[] as &[usize]); // sqrt(36) = 6 when computed
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn norm(x: &Array, ord: Norm) -> Result<Array> {
    need_numeric("norm", x)?;
    let dtype = result_dtype(&[x]);
    let bad = || {
        ArrayError::invalid(
            "norm",
            format!("{ord:?} is not a norm of a {}-d array", x.ndim()),
        )
    };
    let x = crate::as_f64(x);
    let out = match (x.ndim(), ord) {
        (1, Norm::Default) | (1, Norm::P(2.0)) | (2, Norm::Default) | (2, Norm::Fro) => {
            x.square()?.sum(Axes::All)?.sqrt()?
        }
        (1, Norm::Inf) => x.abs()?.max(Axes::All)?,
        (1, Norm::NegInf) => x.abs()?.min(Axes::All)?,
        (1, Norm::P(0.0)) => x
            .ne_scalar(0.0)?
            .astype(floe_array::DType::F64)
            .sum(Axes::All)?,
        (1, Norm::P(1.0)) => x.abs()?.sum(Axes::All)?,
        (1, Norm::P(p)) => x
            .abs()?
            .pow_scalar(p)?
            .sum(Axes::All)?
            .pow_scalar(1.0 / p)?,
        (2, Norm::Nuclear) => svd(&x)?.1.sum(Axes::All)?,
        (2, Norm::P(2.0)) => svd(&x)?.1.max(Axes::All)?,
        (2, Norm::P(-2.0)) => svd(&x)?.1.min(Axes::All)?,
        (2, Norm::P(1.0)) => x.abs()?.sum(0)?.max(Axes::All)?,
        (2, Norm::P(-1.0)) => x.abs()?.sum(0)?.min(Axes::All)?,
        (2, Norm::Inf) => x.abs()?.sum(1)?.max(Axes::All)?,
        (2, Norm::NegInf) => x.abs()?.sum(1)?.min(Axes::All)?,
        _ => return Err(bad()),
    };
    Ok(crate::cast(out, dtype))
}
