//! The block functions of the blocked algorithms, registered by name (see
//! [`floe_array::BlockOp`]): a QR or SVD task is written down as its function's name and
//! a few sizes, and a dask worker runs the same function.

use std::sync::{Arc, Once};

use floe_array::serde_json::{Value as Json, json};
use floe_array::{BlockInfo, BlockOp, DType, DynArray, GraphFn};
use floe_graph::TaskError;

use crate::kernels::{self, block, thin_qr, thin_svd, vector, with_mat};
use crate::qr::stack;

/// Registers floe-linalg's block functions in this process, so that tasks describing them
/// run here. Building any of floe-linalg's arrays registers them too; the Python package
/// registers them when imported. Calling it again does nothing.
///
/// ```
/// floe_linalg::register_block_ops();
/// ```
pub fn register_block_ops() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let ops: [(&str, floe_array::OpenBlockOp); 15] = [
            ("linalg.cholesky", |_| Ok(Arc::new(cholesky))),
            ("linalg.solve", |_| Ok(Arc::new(solve))),
            ("linalg.inv", |_| Ok(Arc::new(inv))),
            ("linalg.solve-upper", |_| Ok(Arc::new(solve_upper))),
            ("linalg.rank", rank),
            ("linalg.qr-block", |_| Ok(Arc::new(qr_block))),
            ("linalg.qr-q", |_| Ok(Arc::new(qr_q))),
            ("linalg.rows", rows_op),
            ("linalg.stack", |_| {
                Ok(Arc::new(|b: &[&DynArray], _: &BlockInfo| stack(b)))
            }),
            ("linalg.tsqr-q", tsqr_q),
            ("linalg.svd-r", |_| Ok(Arc::new(svd_r))),
            ("linalg.svd-u", svd_u),
            ("linalg.svd-s", svd_s),
            ("linalg.matmul", |_| Ok(Arc::new(matmul_block))),
            ("linalg.upper", |_| Ok(Arc::new(upper))),
        ];
        for (name, open) in ops {
            floe_array::register_block_op(name, open);
        }
    });
}

/// The block function `name` with `params`, registered first.
pub(crate) fn op(name: &str, params: Json) -> BlockOp {
    register_block_ops();
    BlockOp::new(name, params)
}

fn one<'a>(b: &[&'a DynArray], what: &str) -> Result<&'a DynArray, TaskError> {
    match b {
        [x] => Ok(x),
        _ => Err(TaskError::msg(format!(
            "{what} reads one block, given {}",
            b.len()
        ))),
    }
}

fn size(params: &Json, name: &str) -> Result<usize, TaskError> {
    params
        .get(name)
        .and_then(Json::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| TaskError::msg(format!("no size `{name}` in {params}")))
}

/// The rows a `linalg.rows` op takes of a block of `len` rows: `{"last": k}` the last
/// `k`, `{"drop_last": k}` all but the last `k`, `{"from": a, "to": b}` rows `a..b`.
fn row_range(params: &Json, len: usize) -> Result<(usize, usize), TaskError> {
    let fits =
        |what: &str| TaskError::msg(format!("rows {what} of a block of {len} rows ({params})"));
    if params.get("last").is_some() {
        let k = size(params, "last")?;
        let from = len.checked_sub(k).ok_or_else(|| fits("at the end"))?;
        Ok((from, len))
    } else if params.get("drop_last").is_some() {
        let k = size(params, "drop_last")?;
        Ok((0, len.checked_sub(k).ok_or_else(|| fits("before the end"))?))
    } else {
        let (from, to) = (size(params, "from")?, size(params, "to")?);
        if from > to || to > len {
            return Err(fits(&format!("{from}..{to}")));
        }
        Ok((from, to))
    }
}

/// `Q_i` stacked on `R_i` of a row block.
fn qr_block(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    let (q, r) = with_mat(one(b, "a QR block")?, thin_qr)?;
    stack(&[&block(q.as_ref()), &block(r.as_ref())])
}

/// The `Q` of a block's thin QR.
fn qr_q(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    let (q, _) = with_mat(one(b, "a QR")?, thin_qr)?;
    Ok(block(q.as_ref()))
}

/// Rows of the block (see [`row_range`]).
fn rows_op(params: &Json) -> Result<GraphFn, TaskError> {
    let params = params.clone();
    row_range(&params, usize::MAX)?;
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let x = one(b, "a rows task")?;
        let (from, to) = row_range(&params, x.shape().first().copied().unwrap_or(0))?;
        kernels::rows(x, from, to)
    }))
}

/// TSQR's `Q` block `i`: `Q_i` (the top of the QR block) times the rows of the stacked
/// `R`s' `Q` that belong to block `i` (its place `i % group` in a group of `group`).
fn tsqr_q(params: &Json) -> Result<GraphFn, TaskError> {
    let (group, n) = (size(params, "group")?, size(params, "n")?);
    if group == 0 {
        return Err(TaskError::msg("a TSQR group of no block"));
    }
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        let [qr, q2] = b else {
            return Err(TaskError::msg(format!(
                "a TSQR Q block reads two blocks, given {}",
                b.len()
            )));
        };
        let (&[i, _], &[mi, _]) = (info.index.as_slice(), info.shape.as_slice()) else {
            return Err(TaskError::msg("a TSQR Q block of other than 2 axes"));
        };
        let qi = kernels::rows(qr, 0, mi)?;
        let at = (i % group)
            .checked_mul(n)
            .ok_or_else(|| TaskError::msg("a TSQR Q block's rows overflow"))?;
        let q2i = kernels::rows(q2, at, at.saturating_add(n))?;
        let prod = kernels::sum_of_products(&[&qi], &[&q2i], mi, n)?;
        Ok(block(prod.as_ref()))
    }))
}

/// The SVD of the small `R`: `U_r` (n × n) over `s` (1 × n) over `Vᵀ` (n × n).
fn svd_r(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    let (u, s, v) = with_mat(one(b, "an SVD")?, thin_svd)??;
    let n = s.len();
    let s = DynArray::from(
        ndarray::Array2::from_shape_vec((1, n), s)
            .expect("n values")
            .into_dyn(),
    );
    stack(&[&block(u.as_ref()), &s, &block(v.transpose())])
}

/// `U`'s row block: `Q`'s row block times `U_r`.
fn svd_u(params: &Json) -> Result<GraphFn, TaskError> {
    let n = size(params, "n")?;
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        let [q, usv] = b else {
            return Err(TaskError::msg(format!(
                "an SVD U block reads two blocks, given {}",
                b.len()
            )));
        };
        let ur = kernels::rows(usv, 0, n)?;
        let mi = info.shape.first().copied().unwrap_or(0);
        let p = kernels::sum_of_products(&[q], &[&ur], mi, n)?;
        Ok(block(p.as_ref()))
    }))
}

/// The singular values: row `n` of the SVD block, as a vector.
fn svd_s(params: &Json) -> Result<GraphFn, TaskError> {
    let n = size(params, "n")?;
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let row = kernels::rows(one(b, "singular values")?, n, n.saturating_add(1))?
            .into_f64()
            .map_err(TaskError::new)?;
        Ok(vector(row.iter().copied().collect()))
    }))
}

/// `Σ_l A_il B_lj` of the first half of the blocks (`A`'s) and the second (`B`'s): a
/// block of the product (2 axes) or of a group's partial sum (3 axes, the middle one 1).
fn matmul_block(blocks: &[&DynArray], info: &BlockInfo) -> Result<DynArray, TaskError> {
    if blocks.is_empty() {
        return Ok(DynArray::full(DType::F64, &info.shape, 0.0));
    }
    if !blocks.len().is_multiple_of(2) || !(2..=3).contains(&info.shape.len()) {
        return Err(TaskError::msg(format!(
            "a matrix product block of shape {:?} from {} blocks",
            info.shape,
            blocks.len()
        )));
    }
    let half = blocks.len() / 2;
    let (mi, nj) = (info.shape[0], info.shape[info.shape.len() - 1]);
    let acc = kernels::sum_of_products(&blocks[..half], &blocks[half..], mi, nj)?;
    block(acc.as_ref())
        .into_typed::<f64>()
        .into_shape_with_order(ndarray::IxDyn(&info.shape))
        .map(DynArray::from)
        .map_err(|e| TaskError::msg(e.to_string()))
}

/// The block with the elements below the whole array's diagonal set to exact zeros.
fn upper(b: &[&DynArray], info: &BlockInfo) -> Result<DynArray, TaskError> {
    let mut r = one(b, "an upper-triangular block")?
        .clone()
        .into_f64()
        .map_err(TaskError::new)?;
    let (r0, c0) = match info.offset.as_slice() {
        [r0, c0] => (*r0, *c0),
        _ => {
            return Err(TaskError::msg(
                "an upper-triangular block of other than 2 axes",
            ));
        }
    };
    for ((i, j), v) in r
        .view_mut()
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|e| TaskError::msg(e.to_string()))?
        .indexed_iter_mut()
    {
        if r0 + i > c0 + j {
            *v = 0.0;
        }
    }
    Ok(DynArray::from(r))
}

/// The lower-triangular `L` of a whole matrix's Cholesky factorization.
fn cholesky(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    with_mat(one(b, "a Cholesky factorization")?, |m| {
        match m.llt(faer::Side::Lower) {
            Ok(llt) => Ok(block(llt.L())),
            Err(_) => Err(TaskError::msg(
                "cholesky: the matrix is not positive definite",
            )),
        }
    })?
}

/// Two square-and-fitting blocks: the first a whole matrix, the second right-hand sides.
fn pair<'a>(b: &[&'a DynArray], what: &str) -> Result<(&'a DynArray, &'a DynArray), TaskError> {
    match b {
        [a, rhs]
            if a.shape().len() == 2
                && a.shape()[0] == a.shape()[1]
                && rhs.shape().len() == 2
                && rhs.shape()[0] == a.shape()[0] =>
        {
            Ok((a, rhs))
        }
        _ => Err(TaskError::msg(format!(
            "{what} reads a square matrix and right-hand sides of its rows, given blocks of shapes {:?}",
            b.iter().map(|x| x.shape().to_vec()).collect::<Vec<_>>()
        ))),
    }
}

/// `a x = b` by LU with partial pivoting.
fn solve(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    use faer::linalg::solvers::Solve;
    let (a, rhs) = pair(b, "a solve")?;
    let lu = with_mat(a, |m| m.partial_piv_lu())?;
    with_mat(rhs, |r| block(lu.solve(r).as_ref()))
}

/// The inverse of a square matrix.
fn inv(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    use faer::linalg::solvers::DenseSolveCore;
    let a = one(b, "an inverse")?;
    if a.shape().len() != 2 || a.shape()[0] != a.shape()[1] {
        return Err(TaskError::msg(format!(
            "an inverse of a block of shape {:?}",
            a.shape()
        )));
    }
    with_mat(a, |m| block(m.partial_piv_lu().inverse().as_ref()))
}

/// `R x = y` for an upper-triangular `R` (least squares after TSQR).
fn solve_upper(b: &[&DynArray], _: &BlockInfo) -> Result<DynArray, TaskError> {
    let (r, y) = pair(b, "a triangular solve")?;
    let mut x = with_mat(y, |y| y.to_owned())?;
    with_mat(r, |r| {
        faer::linalg::triangular_solve::solve_upper_triangular_in_place(
            r,
            x.as_mut(),
            faer::Par::Seq,
        );
    })?;
    Ok(block(x.as_ref()))
}

/// The number of singular values above `eps` times the largest (a 0-d `int64` block).
fn rank(params: &Json) -> Result<GraphFn, TaskError> {
    let eps = params
        .get("eps")
        .and_then(Json::as_f64)
        .ok_or_else(|| TaskError::msg(format!("no tolerance `eps` in {params}")))?;
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        let s = kernels::f64_view(one(b, "a rank")?)?;
        let top = s.iter().copied().fold(0.0_f64, f64::max);
        let r = s.iter().filter(|&&v| v > eps * top).count() as i64;
        Ok(DynArray::from(ndarray::arr0(r).into_dyn()))
    }))
}

/// No parameters.
pub(crate) fn none() -> Json {
    json!({})
}
