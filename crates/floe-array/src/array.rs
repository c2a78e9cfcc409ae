//! [`Array`]: shape, dtype, chunks and a lazy expression.

use std::fmt;
use std::sync::Arc;

use floe_graph::{Graph, GraphBuilder, TaskId, human_bytes};

use crate::expr::{Expr, Node};
use crate::lower::Lowering;
use crate::{Chunks, DType, Result};

/// A chunked n-d array: a grid of blocks, each an in-memory [`DynArray`](crate::DynArray),
/// defined lazily by an expression. Operations build new arrays in microseconds; nothing is
/// computed until the array is lowered to a task graph and run (`floe::compute`).
///
/// Cloning shares the expression.
///
/// # Examples
///
/// ```
/// use floe_array::{Array, DType};
///
/// let x = floe_array::ones(&[5000, 1000], [1000_usize, 1000], DType::F64)?;
/// assert_eq!(x.shape(), &[5000, 1000]);
/// assert_eq!(x.numblocks(), vec![5, 1]);
/// let y = x.sum(0)?;
/// assert_eq!(y.shape(), &[1000]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
#[derive(Clone)]
pub struct Array {
    pub(crate) node: Arc<Node>,
}

impl Array {
    pub(crate) fn from_node(
        name: &str,
        shape: Vec<usize>,
        dtype: DType,
        chunks: Chunks,
        expr: Expr,
    ) -> Array {
        debug_assert_eq!(shape.len(), chunks.ndim());
        Array {
            node: Arc::new(Node {
                name: Arc::from(name),
                shape,
                dtype,
                chunks,
                expr,
            }),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.node.shape
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        self.node.shape.len()
    }

    /// The number of elements.
    pub fn size(&self) -> usize {
        self.node.shape.iter().product()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.node.dtype
    }

    /// The block sizes along each axis.
    pub fn chunks(&self) -> &Chunks {
        &self.node.chunks
    }

    /// The number of blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.node.chunks.numblocks()
    }

    /// The bytes the whole array occupies when computed.
    pub fn nbytes(&self) -> usize {
        self.size() * self.dtype().itemsize()
    }

    /// A copy of this array whose blocks are computed again, all the way down to its sources,
    /// instead of being shared with this one.
    ///
    /// Within one computation every block is normally computed once and held until its
    /// last consumer has run. An algorithm that reads a large array twice with a global
    /// step in between (a randomized SVD: `Y = A Ω`, then `Q = qr(Y)`, then `Qᵀ A`) would
    /// then hold all of `A`; reading the second pass from `a.recomputed()` re-reads (or
    /// re-generates) each block instead, keeping memory to a few blocks.
    pub fn recomputed(&self) -> Array {
        let mut memo = std::collections::HashMap::new();
        self.recomputed_with(&mut memo)
    }

    fn recomputed_with(&self, memo: &mut std::collections::HashMap<usize, Array>) -> Array {
        let id = Arc::as_ptr(&self.node) as usize;
        if let Some(a) = memo.get(&id) {
            return a.clone();
        }
        let out = self.rebuild(&self.node.name, &mut |a: &Array| a.recomputed_with(memo));
        memo.insert(id, out.clone());
        out
    }

    /// This array under another operation name (shown in task keys, profiles and graph
    /// pictures): `floe_array::try_from_fn(...)?.named("read-sensor")`.
    ///
    /// The renamed array is a new node: use it instead of the original, not beside it, or
    /// its blocks are computed twice.
    pub fn named(&self, name: &str) -> Array {
        self.rebuild(name, &mut Clone::clone)
    }

    /// A new node with this one's shape, dtype, chunks and expression, named `name`, its
    /// inputs replaced by `input(old)`.
    fn rebuild(&self, name: &str, input: &mut dyn FnMut(&Array) -> Array) -> Array {
        let expr = match &self.node.expr {
            Expr::Source(f) => Expr::Source(f.clone()),
            Expr::Blockwise { inputs, f } => Expr::Blockwise {
                inputs: inputs.iter().map(&mut *input).collect(),
                f: f.clone(),
            },
            Expr::Reduce(plan) => {
                let mut plan = plan.clone();
                plan.input = input(&plan.input);
                Expr::Reduce(plan)
            }
            Expr::Gather(plan) => {
                let mut plan = plan.clone();
                plan.inputs = plan.inputs.iter().map(&mut *input).collect();
                Expr::Gather(plan)
            }
            Expr::Scan(plan) => {
                let mut plan = plan.clone();
                plan.input = input(&plan.input);
                Expr::Scan(plan)
            }
            Expr::Transpose { input: i, perm } => Expr::Transpose {
                input: input(i),
                perm: perm.clone(),
            },
            Expr::Reshape { input: i, keep } => Expr::Reshape {
                input: input(i),
                keep: *keep,
            },
            Expr::Custom { inputs, deps, f } => Expr::Custom {
                inputs: inputs.iter().map(&mut *input).collect(),
                deps: deps.clone(),
                f: f.clone(),
            },
        };
        let n = &self.node;
        Array::from_node(name, n.shape.clone(), n.dtype, n.chunks.clone(), expr)
    }

    /// The name of the operation that made this array (`ones`, `add`, `sum`…).
    pub fn name(&self) -> &str {
        &self.node.name
    }

    /// The task graph computing this array: one task per needed block, and a last task
    /// that assembles the blocks into one [`DynArray`](crate::DynArray) (its id is returned).
    ///
    /// # Errors
    ///
    /// If the graph cannot be built (more than 2³² tasks).
    pub fn graph(&self) -> Result<(Graph, TaskId)> {
        let mut builder = GraphBuilder::default();
        let out = Lowering::new(&mut builder).assemble(self)?;
        Ok((builder.build(), out))
    }

    /// The number of tasks computing this array would run.
    ///
    /// # Errors
    ///
    /// As [`Array::graph`].
    pub fn task_count(&self) -> Result<usize> {
        Ok(self.graph()?.0.len())
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `floe.Array<name, shape=(1464, 721, 1440), dtype=float32, chunksize=(4, 200, 200),
/// blocks=11712, bytes=5.7 GiB, tasks=11713>`
impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tuple = |v: &[usize]| {
            let inner: Vec<String> = v.iter().map(usize::to_string).collect();
            if v.len() == 1 {
                format!("({},)", inner[0])
            } else {
                format!("({})", inner.join(", "))
            }
        };
        let tasks = self
            .task_count()
            .map_or_else(|_| "?".to_owned(), |n| n.to_string());
        write!(
            f,
            "floe.Array<{}, shape={}, dtype={}, chunksize={}, blocks={}, bytes={}, tasks={}>",
            self.name(),
            tuple(self.shape()),
            self.dtype(),
            tuple(&self.chunks().max_block()),
            self.chunks().nblocks(),
            human_bytes(self.nbytes()),
            tasks
        )
    }
}
