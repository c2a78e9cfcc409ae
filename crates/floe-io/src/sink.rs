//! Writing an array block by block: the part every file writer shares.

use std::sync::Arc;

use floe_array::{Array, Axes, BlockInfo, DType, DynArray};

use crate::Result;

/// The regular chunk shape a file stores `array` in: its largest block, at least 1 per axis.
pub(crate) fn regular_chunk(array: &Array) -> Vec<usize> {
    array
        .chunks()
        .max_block()
        .iter()
        .map(|&c| c.max(1))
        .collect()
}

/// A lazy computation that calls `write` with every block of `array` (in parallel, each block
/// once) and yields `true` when all are written. A failed write fails the computation with the
/// block's key, its error kept as the task error's source; blocks already written stay
/// written. Every file writer here is one; so is storing into any other target (Python's
/// `store` into an object with `__setitem__`).
///
/// Each block task returns one `true` (an array with one element per block, freed as soon
/// as the final `all` has consumed it), so the result is an ordinary reduction and nothing
/// the size of a block outlives its write.
///
/// # Errors
///
/// As [`floe_array::from_blocks`].
pub fn sink<F, E>(array: &Array, write: F) -> Result<Array>
where
    F: Fn(&DynArray, &BlockInfo) -> std::result::Result<(), E> + Send + Sync + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let grid = array.numblocks();
    let chunks = array.chunks().clone();
    let shape = array.shape().to_vec();
    let written = floe_array::from_blocks(
        &format!("store-{}", array.name()),
        &grid,
        1_usize,
        DType::Bool,
        &[array],
        Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
        Arc::new(move |blocks: &[&DynArray], at: &BlockInfo| {
            // Where the written block sits in `array` (`at` is its place in the grid).
            let info = BlockInfo {
                index: at.index.clone(),
                shape: chunks.block_shape(&at.index),
                offset: (0..chunks.ndim())
                    .map(|a| chunks.axis(a)[..at.index[a]].iter().sum())
                    .collect(),
                array_shape: shape.clone(),
            };
            write(blocks[0], &info).map_err(floe_graph::TaskError::new)?;
            Ok(DynArray::full(DType::Bool, &at.shape, 1.0))
        }),
    )?;
    Ok(written.all(Axes::All)?)
}
