//! Blocked matrix products.
//!
//! Output block `(i, j)` is `Σ_l A[i, l] · B[l, j]`. A task multiplies a few pairs (as many
//! as fit [`GROUP_BYTES`], at most [`floe_array::DEFAULT_SPLIT_EVERY`]) into one partial
//! sum, and partial sums are added by a reduction tree, so no task ever holds a whole row
//! of `A`'s blocks times a column of `B`'s, and the scheduler frees each input block as
//! soon as its products are taken.

use std::sync::Arc;

use floe_array::{Array, ArrayError, AxisChunks, BinaryOp, ChunkSpec, DType, Result, UnaryOp};

use crate::{as_f64, cast, need_real_or_complex, result_dtype};

/// Input bytes one product task may read.
const GROUP_BYTES: usize = 256 << 20;

/// The matrix product of two arrays, as NumPy's `matmul` for 1-d and 2-d operands: a 1-d
/// left operand is a row vector and a 1-d right operand a column vector, and their axis is
/// dropped from the result.
///
/// The contracted axes are aligned (the right operand's rows are rechunked like the left
/// operand's columns) and the product is formed block by block.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for operands of more than 2 dimensions, boolean
/// operands, or contracted lengths that differ.
///
/// # Examples
///
/// ```
/// use floe_array::DType;
///
/// let a = floe_array::ones(&[6, 4], [2_usize, 3], DType::F64)?;
/// let b = floe_array::ones(&[4, 5], [2_usize, 5], DType::F64)?;
/// let c = floe_linalg::matmul(&a, &b)?;
/// assert_eq!(c.shape(), &[6, 5]); // every element is 4.0 once computed
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn matmul(a: &Array, b: &Array) -> Result<Array> {
    for x in [a, b] {
        need_real_or_complex("matmul", x)?;
        if x.ndim() == 0 || x.ndim() > 2 {
            return Err(ArrayError::invalid(
                "matmul",
                format!("takes 1-d or 2-d operands, got shape {:?}", x.shape()),
            ));
        }
    }
    if a.dtype().is_complex() || b.dtype().is_complex() {
        return complex_matmul(a, b);
    }
    let dtype = result_dtype(&[a, b]);
    let a2 = if a.ndim() == 1 {
        a.expand_dims(0)?
    } else {
        a.clone()
    };
    let b2 = if b.ndim() == 1 {
        b.expand_dims(1)?
    } else {
        b.clone()
    };
    let mut c = matmul_2d(&as_f64(&a2), &as_f64(&b2))?;
    if b.ndim() == 1 {
        c = c.squeeze(Some(&[1]))?;
    }
    if a.ndim() == 1 {
        c = c.squeeze(Some(&[0]))?;
    }
    Ok(cast(c, dtype))
}

/// `a @ b` where either is complex, from real products of the parts:
/// `(ar + ai·i)(br + bi·i) = (ar·br - ai·bi) + (ar·bi + ai·br)·i`, skipping the products
/// of a real operand's zero imaginary part.
fn complex_matmul(a: &Array, b: &Array) -> Result<Array> {
    let parts = |x: &Array| -> Result<(Array, Option<Array>)> {
        if x.dtype().is_complex() {
            Ok((x.unary(UnaryOp::Real)?, Some(x.unary(UnaryOp::Imag)?)))
        } else {
            Ok((x.clone(), None))
        }
    };
    let ((ar, ai), (br, bi)) = (parts(a)?, parts(b)?);
    let mut re = matmul(&ar, &br)?;
    if let (Some(ai), Some(bi)) = (&ai, &bi) {
        re = re.binary(BinaryOp::Sub, &matmul(ai, bi)?)?;
    }
    let im = match (&ai, &bi) {
        (Some(ai), Some(bi)) => matmul(&ar, bi)?.binary(BinaryOp::Add, &matmul(ai, &br)?)?,
        (None, Some(bi)) => matmul(&ar, bi)?,
        (Some(ai), None) => matmul(ai, &br)?,
        (None, None) => unreachable!("one operand is complex"),
    };
    floe_array::complex(&re, &im)
}

/// NumPy's `dot` for 1-d and 2-d operands (the same as [`matmul`] there).
///
/// # Errors
///
/// As [`matmul`].
pub fn dot(a: &Array, b: &Array) -> Result<Array> {
    matmul(a, b)
}

/// The sum of products over `a`'s axes `axes_a` and `b`'s axes `axes_b` (NumPy's
/// `tensordot`): the result has `a`'s other axes followed by `b`'s.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for axes out of range or repeated, lists of different
/// lengths, or contracted axes of different lengths.
pub fn tensordot(a: &Array, b: &Array, axes_a: &[usize], axes_b: &[usize]) -> Result<Array> {
    need_real_or_complex("tensordot", a)?;
    need_real_or_complex("tensordot", b)?;
    let bad = |msg: String| ArrayError::invalid("tensordot", msg);
    if axes_a.len() != axes_b.len() {
        return Err(bad(format!(
            "{} axes of the first operand against {} of the second",
            axes_a.len(),
            axes_b.len()
        )));
    }
    for (x, axes) in [(a, axes_a), (b, axes_b)] {
        for (i, &ax) in axes.iter().enumerate() {
            if ax >= x.ndim() || axes[..i].contains(&ax) {
                return Err(bad(format!(
                    "axis {ax} is out of range or repeated for shape {:?}",
                    x.shape()
                )));
            }
        }
    }
    for (&i, &j) in axes_a.iter().zip(axes_b) {
        if a.shape()[i] != b.shape()[j] {
            return Err(bad(format!(
                "shapes {:?} and {:?} differ along the contracted axes {i} and {j}",
                a.shape(),
                b.shape()
            )));
        }
    }
    let free_a: Vec<usize> = (0..a.ndim()).filter(|x| !axes_a.contains(x)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|x| !axes_b.contains(x)).collect();
    let perm_a: Vec<usize> = free_a.iter().chain(axes_a).copied().collect();
    let perm_b: Vec<usize> = axes_b.iter().chain(&free_b).copied().collect();
    let len = |x: &Array, axes: &[usize]| axes.iter().map(|&i| x.shape()[i]).product::<usize>();
    let (m, k, n) = (len(a, &free_a), len(a, axes_a), len(b, &free_b));
    let a2 = a.permute(&perm_a)?.reshape(&[m as isize, k as isize])?;
    let b2 = b.permute(&perm_b)?.reshape(&[k as isize, n as isize])?;
    let c = matmul(&a2, &b2)?;
    let shape: Vec<isize> = free_a
        .iter()
        .map(|&i| a.shape()[i])
        .chain(free_b.iter().map(|&i| b.shape()[i]))
        .map(|x| x as isize)
        .collect();
    c.reshape(&shape)
}

/// `a · b` for 2-d `float64` operands.
pub(crate) fn matmul_2d(a: &Array, b: &Array) -> Result<Array> {
    let (m, k) = (a.shape()[0], a.shape()[1]);
    let (k2, n) = (b.shape()[0], b.shape()[1]);
    if k != k2 {
        return Err(ArrayError::invalid(
            "matmul",
            format!(
                "shapes {:?} and {:?} are not aligned: {k} (axis 1) != {k2} (axis 0)",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let ka = a.chunks().axis(1).to_vec();
    let b = if b.chunks().axis(0) == ka.as_slice() {
        b.clone()
    } else {
        b.rechunk(ChunkSpec::Axes(vec![
            AxisChunks::Sizes(ka.clone()),
            AxisChunks::Sizes(b.chunks().axis(1).to_vec()),
        ]))?
    };
    let rows = a.chunks().axis(0).to_vec();
    let cols = b.chunks().axis(1).to_vec();
    let nk = ka.len();
    let pair_bytes = 8
        * (a.chunks().max_block().iter().product::<usize>()
            + b.chunks().max_block().iter().product::<usize>());
    let group = (GROUP_BYTES / pair_bytes.max(1)).clamp(1, floe_array::DEFAULT_SPLIT_EVERY);
    let groups = nk.div_ceil(group).max(1);
    // One registered function makes both: a product block, or a group's partial sum.
    let kernel = || crate::ops::op("linalg.matmul", crate::ops::none());
    if groups == 1 {
        return floe_array::from_blocks_op(
            "matmul",
            &[m, n],
            ChunkSpec::from(vec![rows, cols]),
            DType::F64,
            &[a, &b],
            Arc::new(move |i: &[usize]| {
                let lhs = (0..nk).map(|l| (0, vec![i[0], l]));
                let rhs = (0..nk).map(|l| (1, vec![l, i[1]]));
                lhs.chain(rhs).collect()
            }),
            kernel(),
        );
    }
    // Partial sums over groups of `group` block pairs, along a middle axis summed away.
    let partial = floe_array::from_blocks_op(
        "matmul-partial",
        &[m, groups, n],
        ChunkSpec::from(vec![rows, vec![1; groups], cols]),
        DType::F64,
        &[a, &b],
        Arc::new(move |i: &[usize]| {
            let ls = i[1] * group..((i[1] + 1) * group).min(nk);
            let lhs = ls.clone().map(|l| (0, vec![i[0], l]));
            let rhs = ls.map(|l| (1, vec![l, i[2]]));
            lhs.chain(rhs).collect()
        }),
        kernel(),
    )?;
    partial.sum(1)
}
