//! The lazy expression behind an [`Array`](crate::Array): what each node is and how its
//! blocks map to its inputs' blocks.
//!
//! Building an array builds a node (microseconds, whatever the size); only
//! [`lower`](crate::lower) turns the blocks an output needs into tasks.

use std::sync::Arc;

use floe_graph::TaskError;

use crate::block::{BlockInfo, BlockRef};
use crate::reduction::ReducePlan;
use crate::{Array, Chunks, DType, DynArray};

/// Makes a source block.
pub type SourceFn = Arc<dyn Fn(&BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// Computes an output block from its input blocks (in input order) and its output info.
pub type BlockFn =
    Arc<dyn Fn(&[BlockRef<'_>], &BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// Which input blocks a block of a [`from_blocks`](crate::from_blocks) array reads, given
/// its index: `(input number, block index)` pairs, in the order the kernel receives them.
pub type DepsFn = Arc<dyn Fn(&[usize]) -> Vec<(usize, Vec<usize>)> + Send + Sync>;

/// Computes a block of a [`from_blocks`](crate::from_blocks) array from the input blocks
/// its [`DepsFn`] named, in that order.
pub type GraphFn =
    Arc<dyn Fn(&[&DynArray], &BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// A new node's [`Array::id`](crate::Array::id): never reused within a process.
pub(crate) fn next_node_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// What a source's blocks are, as data (see [`crate::spec`]).
#[derive(Clone)]
pub(crate) enum Described {
    /// Made by a generator: a block's task is the generator and the block's position.
    Spec(crate::spec::Source),
    /// Cut from an array in memory (`from_ndarray`): each block travels as data, cut when
    /// the graph is written down.
    Memory,
    /// Made by a registered block function reading no blocks (see
    /// [`try_from_fn_op`](crate::try_from_fn_op)).
    Op(crate::BlockOp),
}

pub(crate) struct Node {
    /// See [`Array::id`](crate::Array::id).
    pub(crate) id: u64,
    pub(crate) name: Arc<str>,
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: DType,
    pub(crate) chunks: Chunks,
    /// Axes whose block sizes are not known until the blocks are computed (a boolean mask's
    /// selection): `chunks` holds upper bounds along them.
    pub(crate) unknown: Vec<bool>,
    pub(crate) expr: Expr,
}

pub(crate) enum Expr {
    /// Blocks made from nothing but their position; with a description, where the
    /// function is one of the library's (see [`Described`]).
    Source(SourceFn, Option<Described>),
    /// Blocks made by a function that makes any box of the array from a [`BlockInfo`]
    /// (offset and shape), not only the blocks of the chunking: `random`'s generator, a
    /// file's reader (see [`try_from_box_fn`](crate::try_from_box_fn)). Where a reduction
    /// reads them, only the cache-sized bands it needs are made, one at a time. With the
    /// function as data, where it is one of the library's generators.
    Boxes(SourceFn, Option<crate::spec::Source>),
    /// Every element `value` (converted to the node's dtype): blocks made as constants, and
    /// only a band at a time where a reduction reads them (see `ReducePlan::banded_partial`).
    Full { value: f64 },
    /// Blocks already in memory (see [`from_held_blocks`](crate::from_held_blocks)): each
    /// task hands out a shared reference to its block, never a copy.
    Held(Arc<std::collections::HashMap<Vec<usize>, floe_graph::Value>>),
    /// Blockwise: output block `i` from block `i` of each input, where an input may have
    /// fewer dimensions (aligned to the right) or a length-1 axis that broadcasts (block 0).
    /// Inputs' chunks equal the output's along every axis that does not broadcast.
    ///
    /// With `elementwise`, `f` computes each output element from the input elements at
    /// the same (broadcast) position alone, so any box of the output block can be computed
    /// from the same box of the inputs: a reduction then computes its input band by band
    /// instead of whole (see `ReducePlan::banded_partial`).
    Blockwise {
        inputs: Vec<Array>,
        f: BlockFn,
        elementwise: bool,
        /// `f` as data, where `f` is one of the elementwise kernels (see [`crate::spec`]).
        kernel: Option<crate::Kernel>,
    },
    /// A tree reduction.
    Reduce(Box<ReducePlan>),
    /// Output block `i` assembled from the pieces of input blocks that overlap it:
    /// used by slicing with steps, rechunking and concatenation.
    Gather(Box<crate::gather::GatherPlan>),
    /// Axes permuted.
    Transpose { input: Array, perm: Vec<usize> },
    /// Each block reshaped on its own: output block `i` is the input block whose index is
    /// `i[..keep]` followed by zeros (the input's other axes are single blocks).
    Reshape { input: Array, keep: usize },
    /// A cumulative operation along an axis.
    Scan(Box<crate::scan::ScanPlan>),
    /// Any block graph: output block `i` from the input blocks `deps(i)` names; with
    /// `op`, `f` computes what the registered block function `op(i)` names (see
    /// [`crate::BlockOp`]).
    Custom {
        inputs: Vec<Array>,
        deps: DepsFn,
        f: GraphFn,
        op: Option<crate::spec::DescribeFn>,
    },
}

impl Expr {
    /// The arrays this expression reads, in order.
    pub(crate) fn inputs(&self) -> Vec<&Array> {
        match self {
            Expr::Source(..) | Expr::Boxes(..) | Expr::Full { .. } | Expr::Held(_) => Vec::new(),
            Expr::Blockwise { inputs, .. } | Expr::Custom { inputs, .. } => inputs.iter().collect(),
            Expr::Reduce(_) | Expr::Gather(_) | Expr::Scan(_) => {
                self.plan().map_or_else(Vec::new, |plan| plan.inputs())
            }
            Expr::Transpose { input, .. } | Expr::Reshape { input, .. } => vec![input],
        }
    }

    /// The expression's plan, if its blocks take several tasks each (see
    /// [`Plan`](crate::lower::Plan)).
    pub(crate) fn plan(&self) -> Option<&dyn crate::lower::Plan> {
        match self {
            Expr::Reduce(plan) => Some(plan.as_ref()),
            Expr::Gather(plan) => Some(plan.as_ref()),
            Expr::Scan(plan) => Some(plan.as_ref()),
            _ => None,
        }
    }
}
