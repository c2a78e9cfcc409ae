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
        let unknown = crate::select::derived_unknown(&shape, &expr);
        Array {
            node: Arc::new(Node {
                id: crate::expr::next_node_id(),
                name: Arc::from(name),
                shape,
                dtype,
                chunks,
                unknown,
                expr,
            }),
        }
    }

    /// This array with `unknown` as its axes of unknown block sizes (for operations whose
    /// output sizes depend on the data).
    pub(crate) fn with_unknown(mut self, unknown: Vec<bool>) -> Array {
        debug_assert_eq!(unknown.len(), self.ndim());
        match Arc::get_mut(&mut self.node) {
            Some(node) => node.unknown = unknown,
            None => unreachable!("with_unknown is called on a node just built"),
        }
        self
    }

    /// The shape. Along an axis of unknown block sizes (see [`Array::unknown_axes`]) it is
    /// an upper bound: the length before a mask's selection.
    pub fn shape(&self) -> &[usize] {
        &self.node.shape
    }

    /// The axes whose block sizes are not known until the blocks are computed: those a
    /// boolean mask selected along (`x.select(&mask)`), as Dask's NaN chunks. Along them
    /// [`Array::shape`] and [`Array::chunks`] hold upper bounds; operations that need the
    /// exact sizes (slicing, rechunking, reshaping, concatenation…) return
    /// [`ArrayError::UnknownChunks`](crate::ArrayError::UnknownChunks) until
    /// `floe::compute_chunk_sizes` has measured them.
    pub fn unknown_axes(&self) -> Vec<usize> {
        (0..self.ndim()).filter(|&a| self.node.unknown[a]).collect()
    }

    /// Whether some axis has unknown block sizes.
    pub fn has_unknown_chunks(&self) -> bool {
        self.node.unknown.iter().any(|&u| u)
    }

    /// `Ok` if every block size is known, else [`ArrayError::UnknownChunks`] naming `op`.
    ///
    /// # Errors
    ///
    /// As described.
    pub fn require_known(&self, op: &'static str) -> Result<()> {
        if self.has_unknown_chunks() {
            return Err(crate::ArrayError::UnknownChunks {
                op,
                array: self.name().to_owned(),
                axes: self.unknown_axes(),
            });
        }
        Ok(())
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

    /// Whether this array is made from sources alone: file reads, generators (`random`),
    /// constants and blocks already in memory, through elementwise operations, slices,
    /// rechunks, concatenations, transposes and reshapes — no reduction, scan or block
    /// function.
    /// Making such a block again costs about what holding it costs (its fresh pages are
    /// written either way), so an algorithm that reads it twice reads it twice
    /// ([`Array::recomputed`]), and holds any other array between the passes, within the
    /// memory budget.
    ///
    /// ```
    /// use floe_array::random;
    ///
    /// let x = random::uniform(&[1000, 100], [100_usize, 100], 0, 0.0, 1.0)?;
    /// assert!(x.rechunk([250_usize, 50])?.mul_scalar(2.0)?.made_from_sources());
    /// assert!(!x.sub(&x.mean(0)?)?.made_from_sources(), "reads the means");
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn made_from_sources(&self) -> bool {
        match &self.node.expr {
            Expr::Source(..) | Expr::Boxes(..) | Expr::Full { .. } | Expr::Held(_) => true,
            Expr::Blockwise {
                inputs,
                elementwise: true,
                ..
            } => inputs.iter().all(Array::made_from_sources),
            Expr::Gather(plan) => plan.inputs.iter().all(Array::made_from_sources),
            Expr::Transpose { input, .. } | Expr::Reshape { input, .. } => {
                input.made_from_sources()
            }
            Expr::Blockwise { .. } | Expr::Reduce(_) | Expr::Scan(_) | Expr::Custom { .. } => false,
        }
    }

    fn recomputed_with(&self, memo: &mut std::collections::HashMap<u64, Array>) -> Array {
        let id = self.id();
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
            Expr::Source(f, d) => Expr::Source(f.clone(), d.clone()),
            Expr::Boxes(f, d) => Expr::Boxes(f.clone(), d.clone()),
            Expr::Held(blocks) => Expr::Held(blocks.clone()),
            Expr::Full { value } => Expr::Full { value: *value },
            Expr::Blockwise {
                inputs,
                f,
                elementwise,
                kernel,
            } => Expr::Blockwise {
                inputs: inputs.iter().map(&mut *input).collect(),
                f: f.clone(),
                elementwise: *elementwise,
                kernel: kernel.clone(),
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
            Expr::Custom {
                inputs,
                deps,
                f,
                op,
            } => Expr::Custom {
                inputs: inputs.iter().map(&mut *input).collect(),
                deps: deps.clone(),
                f: f.clone(),
                op: op.clone(),
            },
        };
        let n = &self.node;
        Array::from_node(name, n.shape.clone(), n.dtype, n.chunks.clone(), expr)
            .with_unknown(n.unknown.clone())
    }

    /// A new node with this one's dtype and expression (the same inputs), and `shape` and
    /// `chunks` instead of its own, all known: the measured version of an array of unknown
    /// sizes.
    pub(crate) fn rebuilt(&self, shape: Vec<usize>, chunks: Chunks) -> Array {
        let same = self.rebuild(&self.node.name, &mut Clone::clone);
        let node = Arc::into_inner(same.node).expect("a node just built has one owner");
        Array {
            node: Arc::new(Node {
                id: crate::expr::next_node_id(),
                shape,
                chunks,
                unknown: vec![false; node.shape.len()],
                ..node
            }),
        }
    }

    /// A number that identifies this array's node among all made in this process: two
    /// arrays have the same id exactly when they are the same lazy expression object
    /// (clones share it; an operation, even `named`, makes a new one).
    pub fn id(&self) -> u64 {
        self.node.id
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

    /// The number of operations (array nodes) this array is made of, itself included, each
    /// counted once however many times it is used: Dask's "graph layers". Walks the
    /// expression only, never its blocks: instant for any number of tasks.
    ///
    /// ```
    /// let x = floe_array::ones(&[1000, 1000], [100_usize, 100], floe_array::DType::F64)?;
    /// let y = x.add(&x.t())?.mean(0)?; // ones, transpose, add, mean
    /// assert_eq!(y.layers(), 4);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn layers(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![self];
        while let Some(a) = stack.pop() {
            if seen.insert(a.id()) {
                stack.extend(a.node.expr.inputs());
            }
        }
        seen.len()
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
/// blocks=11712, bytes=5.7 GiB, layers=3>`: `layers` counts the operations the array is
/// made of (see [`Array::layers`]). Showing an array never lowers its graph (that takes
/// time and memory in proportion to its tasks: [`Array::task_count`] does).
impl fmt::Display for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tuple = |v: &[usize]| self.dims_text(v);
        write!(
            f,
            "floe.Array<{}, shape={}, dtype={}, chunksize={}, blocks={}, bytes={}, layers={}>",
            self.name(),
            tuple(self.shape()),
            self.dtype(),
            tuple(&self.chunks().max_block()),
            self.chunks().nblocks(),
            self.bytes_text(),
            self.layers()
        )
    }
}

impl Array {
    /// `v` (a shape or block shape) as a Python tuple, `nan` along unknown axes.
    pub(crate) fn dims_text(&self, v: &[usize]) -> String {
        let inner: Vec<String> = v
            .iter()
            .enumerate()
            .map(|(a, n)| {
                if self.node.unknown[a] {
                    "nan".to_owned()
                } else {
                    n.to_string()
                }
            })
            .collect();
        if v.len() == 1 {
            format!("({},)", inner[0])
        } else {
            format!("({})", inner.join(", "))
        }
    }

    /// The array's bytes, or their upper bound (`≤ 1.2 GiB`) when sizes are unknown.
    pub(crate) fn bytes_text(&self) -> String {
        if self.has_unknown_chunks() {
            format!("≤ {}", human_bytes(self.nbytes()))
        } else {
            human_bytes(self.nbytes())
        }
    }
}
