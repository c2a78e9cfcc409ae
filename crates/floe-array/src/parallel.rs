//! Large blocks made in parallel.
//!
//! A block of an elementwise operation or of a box function (`random`, a file's reader)
//! of at least [`SPLIT_BYTES`] is made in pieces of rows along its first axis, about
//! [`PIECE_BYTES`] each, when some worker of the run has no task when the block starts:
//! the task offers the pieces to the run's idle workers (see [`floe_graph::split`]), and
//! each piece is copied into its rows of the block while it is still in cache. That copy is
//! the price (kernels make their own output), so with every worker busy a block is made
//! whole. (Reductions put the sums of their bands straight into place in pieces too: see
//! `reduction::DirectSums`.) A piece holds the values the
//! whole block would have (an elementwise operation computes each element from the same
//! position of its inputs; a box function makes the same values in any box), so a block
//! is the same, bit for bit, whatever the number of threads.

use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use floe_graph::TaskError;
use ndarray::{ArrayD, IxDyn};

use crate::{ArrayElement, DType, DynArray, with_dtype};

/// Blocks at least this large are made in pieces.
pub(crate) const SPLIT_BYTES: usize = 8 << 20;
/// About the bytes of one piece: small enough that the piece is still in the second-level
/// cache when it is written into the block.
pub(crate) const PIECE_BYTES: usize = 1 << 20;

/// How many pieces a block of `shape` and `dtype` is made in, or `None` to make it whole:
/// a small block, a block of one row, or no idle worker in the run to help (made whole,
/// the block costs no copy; a worker that turns idle later finds no pieces to take).
pub(crate) fn pieces(shape: &[usize], dtype: DType) -> Option<usize> {
    let rows = *shape.first()?;
    let nbytes = shape.iter().product::<usize>() * dtype.itemsize();
    (nbytes >= SPLIT_BYTES && rows > 1 && floe_graph::idle_workers() > 0)
        .then(|| nbytes.div_ceil(PIECE_BYTES).min(rows))
}

/// The block of `dtype` and `shape` whose rows `lo..hi` (along its first axis) are
/// `piece(lo, hi)`, made in `pieces` pieces.
///
/// # Errors
///
/// The first error a piece returns; a piece of the wrong dtype or shape is an internal
/// error.
pub(crate) fn rows_in_pieces(
    dtype: DType,
    shape: &[usize],
    pieces: usize,
    piece: impl Fn(usize, usize) -> Result<DynArray, TaskError> + Sync,
) -> Result<DynArray, TaskError> {
    with_dtype!(dtype, T => fill::<T>(shape, pieces, &piece).map(T::wrap))
}

fn fill<T: ArrayElement>(
    shape: &[usize],
    pieces: usize,
    piece: &(dyn Fn(usize, usize) -> Result<DynArray, TaskError> + Sync),
) -> Result<ArrayD<T>, TaskError> {
    let rows = shape[0];
    let row_len: usize = shape[1..].iter().product();
    let len = rows * row_len;
    let bounds = |i: usize| (i * rows / pieces, (i + 1) * rows / pieces);
    let mut data: Vec<T> = Vec::with_capacity(len);
    let filled = AtomicUsize::new(0);
    // The error of the first failing piece in order, whichever failed first in time.
    let error: Mutex<Option<(usize, TaskError)>> = Mutex::new(None);
    {
        // Each piece's rows of the block, taken by the piece that fills them.
        let mut rest = &mut data.spare_capacity_mut()[..len];
        let mut parts: Vec<Mutex<Option<&mut [MaybeUninit<T>]>>> = Vec::with_capacity(pieces);
        for i in 0..pieces {
            let (lo, hi) = bounds(i);
            let (part, tail) = std::mem::take(&mut rest).split_at_mut((hi - lo) * row_len);
            parts.push(Mutex::new(Some(part)));
            rest = tail;
        }
        floe_graph::split(pieces, |i| {
            let (lo, hi) = bounds(i);
            let part = parts[i]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            let written = part
                .ok_or_else(|| TaskError::msg("internal error: a piece was made twice"))
                .and_then(|part| {
                    let mut band_shape = shape.to_vec();
                    band_shape[0] = hi - lo;
                    write(&piece(lo, hi)?, &band_shape, part)
                });
            match written {
                Ok(()) => {
                    filled.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    let mut first = error.lock().unwrap_or_else(PoisonError::into_inner);
                    if first.as_ref().is_none_or(|(at, _)| i < *at) {
                        *first = Some((i, e));
                    }
                }
            }
        });
    }
    if let Some((_, e)) = error.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(e);
    }
    if filled.into_inner() != pieces {
        return Err(TaskError::msg(
            "internal error: a piece of a block did not run",
        ));
    }
    // SAFETY: the first `len` elements are initialised: the parts cut from them cover them
    // exactly, and each of the `pieces` parts was written whole by `write` (counted in
    // `filled` only when it returned `Ok`). Exercised by `tests/it/parallel.rs`.
    #[allow(unsafe_code)]
    unsafe {
        data.set_len(len);
    }
    ArrayD::from_shape_vec(IxDyn(shape), data)
        .map_err(|e| TaskError::msg(format!("internal error: {e}")))
}

/// Writes `band` (of dtype `T`, shaped `shape`) into `out`, every element of it.
fn write<T: ArrayElement>(
    band: &DynArray,
    shape: &[usize],
    out: &mut [MaybeUninit<T>],
) -> Result<(), TaskError> {
    let view = T::view(band).ok_or_else(|| {
        TaskError::msg(format!(
            "internal error: a piece of {} where {} was expected",
            band.dtype(),
            T::DTYPE
        ))
    })?;
    if view.shape() != shape {
        return Err(TaskError::msg(format!(
            "internal error: a piece of shape {:?} where {shape:?} was expected",
            view.shape()
        )));
    }
    match view.as_slice() {
        Some(s) => {
            for (o, &v) in out.iter_mut().zip(s) {
                o.write(v);
            }
        }
        None => {
            for (o, &v) in out.iter_mut().zip(view.iter()) {
                o.write(v);
            }
        }
    }
    Ok(())
}
