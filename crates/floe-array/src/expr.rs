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
    /// The global position of the block's first element. Along an axis of unknown size (a
    /// selection's, see [`Array::unknown_axes`](crate::Array::unknown_axes)) it counts the
    /// upper bounds the blocks before it declare, not their elements (unknown until they
    /// are computed); `shape` is always the block's real one.
    pub offset: Vec<usize>,
    /// The shape of the whole array (upper bounds along axes of unknown size).
    pub array_shape: Vec<usize>,
}

impl BlockInfo {
    /// Rows `lo..hi` of this box along `axis`: a band of it.
    pub(crate) fn band(&self, axis: usize, lo: usize, hi: usize) -> BlockInfo {
        let mut band = self.clone();
        band.shape[axis] = hi - lo;
        band.offset[axis] += lo;
        band
    }
}

/// Makes a source block.
pub type SourceFn = Arc<dyn Fn(&BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// Computes an output block from its input blocks (in input order) and its output info.
pub type BlockFn =
    Arc<dyn Fn(&[BlockRef<'_>], &BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// An input block as a blockwise kernel sees it: a computed block, possibly with its axes
/// permuted. A transpose feeding an elementwise operation is not materialised: the kernel
/// reads the untransposed block through a permuted view (`x + x.T` costs no copy of `x`).
#[derive(Clone, Copy)]
pub struct BlockRef<'a> {
    block: &'a DynArray,
    perm: Option<&'a [usize]>,
    /// `(stored axis, lo, hi)`: only rows `lo..hi` of the block along that axis are seen (a
    /// piece of a large block: see `crate::parallel`).
    rows: Option<(usize, usize, usize)>,
}

impl<'a> BlockRef<'a> {
    /// A block seen as it is.
    pub fn new(block: &'a DynArray) -> Self {
        Self {
            block,
            perm: None,
            rows: None,
        }
    }

    pub(crate) fn permuted(block: &'a DynArray, perm: Option<&'a [usize]>) -> Self {
        Self {
            block,
            perm,
            rows: None,
        }
    }

    /// Rows `lo..hi` of this block along its first axis as seen (through the permutation).
    pub(crate) fn rows(&self, lo: usize, hi: usize) -> Self {
        debug_assert!(self.rows.is_none(), "rows of rows");
        let stored = self.perm.map_or(0, |p| p[0]);
        Self {
            rows: Some((stored, lo, hi)),
            ..*self
        }
    }

    /// `v` (the stored block) cut to the rows seen.
    fn window<'b, T>(&self, mut v: ndarray::ArrayViewD<'b, T>) -> ndarray::ArrayViewD<'b, T> {
        if let Some((axis, lo, hi)) = self.rows {
            v.slice_axis_inplace(ndarray::Axis(axis), ndarray::Slice::from(lo..hi));
        }
        v
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.block.dtype()
    }

    /// Whether the block is seen as it is stored, in row-major order (no permutation, no
    /// other layout).
    pub(crate) fn is_standard(&self) -> bool {
        self.perm.is_none()
            && crate::with_array!(self.block, a => self.window(a.view()).is_standard_layout())
    }

    /// The shape, permutation applied.
    pub fn shape(&self) -> Vec<usize> {
        let mut s = self.block.shape().to_vec();
        if let Some((axis, lo, hi)) = self.rows {
            s[axis] = hi - lo;
        }
        match self.perm {
            Some(p) => p.iter().map(|&a| s[a]).collect(),
            None => s,
        }
    }

    /// A view of the elements as `T`, if that is the block's dtype.
    pub fn view<T: crate::ArrayElement>(&self) -> Option<ndarray::ArrayViewD<'a, T>> {
        let v = self.window(T::view(self.block)?);
        Some(match self.perm {
            Some(p) => v.permuted_axes(ndarray::IxDyn(p)),
            None => v,
        })
    }

    /// The elements as `T`: borrowed when that is the block's dtype, converted (one copy)
    /// otherwise.
    pub fn typed<T: crate::ArrayElement>(&self) -> ndarray::CowArray<'a, T, ndarray::IxDyn> {
        match self.view::<T>() {
            Some(v) => ndarray::CowArray::from(v),
            None => ndarray::CowArray::from(self.to_typed::<T>()),
        }
    }

    /// The elements converted to `T` (a new array).
    pub fn to_typed<T: crate::ArrayElement>(&self) -> ndarray::ArrayD<T> {
        let a = match self.rows {
            None => self.block.to_typed::<T>(),
            Some(_) => {
                crate::with_array!(self.block, b => DynArray::from(self.window(b.view()).to_owned()))
                    .to_typed::<T>()
            }
        };
        match self.perm {
            Some(p) => a.permuted_axes(ndarray::IxDyn(p)),
            None => a,
        }
    }

    /// The block as an owned array in standard layout (a copy).
    pub fn to_owned(&self) -> DynArray {
        match (self.perm, self.rows) {
            (None, None) => self.block.clone(),
            (None, Some(_)) => {
                crate::with_array!(self.block, a => DynArray::from(self.window(a.view()).to_owned()))
            }
            (Some(p), _) => crate::with_array!(self.block, a => {
                DynArray::from(crate::lower::transpose(self.window(a.view()), p))
            }),
        }
    }
}

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
    /// Blocks made from nothing but their position.
    Source(SourceFn),
    /// Blocks made by a function that makes any box of the array from a [`BlockInfo`]
    /// (offset and shape), not only the blocks of the chunking: `random`'s generator, a
    /// file's reader (see [`try_from_box_fn`](crate::try_from_box_fn)). Where a reduction
    /// reads them, only the cache-sized bands it needs are made, one at a time.
    Boxes(SourceFn),
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
    /// Any block graph: output block `i` from the input blocks `deps(i)` names.
    Custom {
        inputs: Vec<Array>,
        deps: DepsFn,
        f: GraphFn,
    },
}

impl Expr {
    /// The arrays this expression reads, in order.
    pub(crate) fn inputs(&self) -> Vec<&Array> {
        match self {
            Expr::Source(_) | Expr::Boxes(_) | Expr::Full { .. } | Expr::Held(_) => Vec::new(),
            Expr::Blockwise { inputs, .. } | Expr::Custom { inputs, .. } => inputs.iter().collect(),
            Expr::Reduce(plan) => vec![&plan.input],
            Expr::Gather(plan) => plan.inputs.iter().collect(),
            Expr::Scan(plan) => vec![&plan.input],
            Expr::Transpose { input, .. } | Expr::Reshape { input, .. } => vec![input],
        }
    }
}
