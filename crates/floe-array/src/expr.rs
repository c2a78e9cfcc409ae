//! The lazy expression behind an [`Array`](crate::Array): what each node is and how its
//! blocks map to its inputs' blocks.
//!
//! Building an array builds a node (microseconds, whatever the size); only
//! [`lower`](crate::lower) turns the blocks an output needs into tasks.

use std::sync::Arc;

use floe_graph::TaskError;

use crate::reduction::ReducePlan;
use crate::{Array, Chunks, DType, DynArray};

/// Where a block sits: its index in the block grid, its shape, and its first element's
/// position in the whole array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// The block's index along each axis.
    pub index: Vec<usize>,
    /// The block's shape.
    pub shape: Vec<usize>,
    /// The global position of the block's first element.
    pub offset: Vec<usize>,
    /// The shape of the whole array.
    pub array_shape: Vec<usize>,
}

/// Makes a source block.
pub type SourceFn = Arc<dyn Fn(&BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// Computes an output block from its input blocks (in input order) and its output info.
pub type BlockFn =
    Arc<dyn Fn(&[&DynArray], &BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

pub(crate) struct Node {
    pub(crate) name: Arc<str>,
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: DType,
    pub(crate) chunks: Chunks,
    pub(crate) expr: Expr,
}

pub(crate) enum Expr {
    /// Blocks made from nothing but their position.
    Source(SourceFn),
    /// Blockwise: output block `i` from block `i` of each input, where an input may have
    /// fewer dimensions (aligned to the right) or a length-1 axis that broadcasts (block 0).
    /// Inputs' chunks equal the output's along every axis that does not broadcast.
    Blockwise { inputs: Vec<Array>, f: BlockFn },
    /// A tree reduction.
    Reduce(Box<ReducePlan>),
    /// Output block `i` assembled from the pieces of input blocks that overlap it:
    /// used by slicing with steps, rechunking and concatenation.
    Gather(Box<crate::gather::GatherPlan>),
    /// Axes permuted.
    Transpose { input: Array, perm: Vec<usize> },
}
