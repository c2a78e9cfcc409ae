//! Lowering expressions to tasks: only the blocks an output needs, each once.
//!
//! [`Lowering::block`] returns the task computing block `index` of an array, creating it
//! (and, recursively, the tasks of the input blocks it needs) on first request and reusing
//! it afterwards. So `x[1000]` on a 1464-block array creates tasks for one block, and
//! computing `x.mean(0)` and `x[5] - x.mean(0)` together reads each block once.

use std::collections::HashMap;
use std::sync::Arc;

use floe_graph::{GraphBuilder, Key, TaskError, TaskHints, TaskId, Value};
use ndarray::{IxDyn, SliceInfoElem};

use crate::block::{BlockInfo, BlockRef, transpose, transposed_index};
use crate::expr::Expr;
use crate::{Array, DynArray, Result, with_array, with_dtype};

/// Identifies a lowered task: the array node's [`id`](Array::id) (never its address: a
/// node made and dropped while lowering may leave its address to another), the tree level
/// (0: the array's own blocks; reductions use higher levels, the assembled result
/// `u32::MAX`) and the block index.
pub(crate) type MemoKey = (u64, u32, Vec<usize>);

/// The plan of an operation whose blocks take several tasks each (a reduction's tree, a
/// gather's pieces, a scan's totals and carries): what it reads, and how one output block
/// becomes tasks. Every such plan lowers through this trait alone.
pub(crate) trait Plan {
    /// The arrays the plan reads, in order.
    fn inputs(&self) -> Vec<&Array>;

    /// The task computing block `index` of `array` (the plan's node), added under `key`
    /// and memoized as `memo`, after the tasks it needs; with its description as data
    /// where `lowering` records them.
    fn lower_block(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        index: &[usize],
        key: Key,
        memo: MemoKey,
    ) -> Result<TaskId>;
}

/// Appends array tasks to a graph under construction.
pub struct Lowering<'b> {
    builder: &'b mut GraphBuilder,
    memo: HashMap<MemoKey, TaskId>,
    /// Each task's description as data, where recorded (see [`Lowering::recording_specs`]).
    specs: Option<HashMap<TaskId, crate::TaskSpec>>,
}

/// A block value: its bytes for the scheduler's meter, and the codec that lets a budgeted
/// run spill it.
pub(crate) fn block_value(a: DynArray) -> Value {
    let n = a.nbytes();
    Value::with_nbytes(a, n).spillable(&crate::spill::BLOCK_CODEC)
}

/// The block inside a task input.
pub(crate) fn block_of(v: &Value) -> std::result::Result<&DynArray, TaskError> {
    v.downcast_ref::<DynArray>()
        .ok_or_else(|| TaskError::msg("internal error: an array task received a non-array input"))
}

/// Box `info` of a box function `f`; a large one in pieces of rows, each a box, that idle
/// workers may share (see `crate::parallel`).
pub(crate) fn box_in_pieces(
    f: &(dyn Fn(&BlockInfo) -> std::result::Result<DynArray, TaskError> + Send + Sync),
    dtype: crate::DType,
    info: &BlockInfo,
) -> std::result::Result<DynArray, TaskError> {
    match crate::parallel::pieces(&info.shape, dtype) {
        Some(n) => {
            crate::parallel::rows_in_pieces(
                dtype,
                &info.shape,
                n,
                |lo, hi| f(&info.band(0, lo, hi)),
            )
        }
        None => f(info),
    }
}

/// The tasks of a blockwise block's inputs, and the permutation each is viewed through.
pub(crate) type BlockwiseInputs = (Vec<TaskId>, Vec<Option<Vec<usize>>>);

impl<'b> Lowering<'b> {
    /// Lowers into `builder`.
    pub fn new(builder: &'b mut GraphBuilder) -> Self {
        Self {
            builder,
            memo: HashMap::new(),
            specs: None,
        }
    }

    /// Lowers into `builder`, recording each task's [`TaskSpec`](crate::TaskSpec) where
    /// its kind has one (see [`Lowering::spec`]): the graph as data, for another process
    /// to run.
    pub fn recording_specs(builder: &'b mut GraphBuilder) -> Self {
        Self {
            specs: Some(HashMap::new()),
            ..Self::new(builder)
        }
    }

    /// Task `id` as data, if specs are recorded and its kind has one (see
    /// [`TaskSpec`](crate::TaskSpec): constants, generators, blocks in memory, elementwise
    /// kernels, transposes, reshapes, gathers and reductions so far).
    pub fn spec(&self, id: TaskId) -> Option<&crate::TaskSpec> {
        self.specs.as_ref()?.get(&id)
    }

    /// `spec()` when specs are recorded (only then is it made: lowering a graph of a
    /// million tasks allocates nothing more for it otherwise).
    pub(crate) fn spec_if_recording(
        &self,
        spec: impl FnOnce() -> Option<crate::TaskSpec>,
    ) -> Option<crate::TaskSpec> {
        self.specs.as_ref().and_then(|_| spec())
    }

    /// Records task `id`'s spec, if any.
    pub(crate) fn record(&mut self, id: TaskId, spec: Option<crate::TaskSpec>) -> TaskId {
        if let (Some(specs), Some(spec)) = (&mut self.specs, spec) {
            specs.insert(id, spec);
        }
        id
    }

    /// The graph under construction (to add tasks of other collections to the same graph).
    pub fn builder(&mut self) -> &mut GraphBuilder {
        self.builder
    }

    pub(crate) fn memo_key(array: &Array, level: u32, index: &[usize]) -> MemoKey {
        (array.id(), level, index.to_vec())
    }

    pub(crate) fn lookup(&self, key: &MemoKey) -> Option<TaskId> {
        self.memo.get(key).copied()
    }

    /// Records that `memo`'s block is computed by an existing task (a pass-through).
    pub(crate) fn alias(&mut self, memo: MemoKey, id: TaskId) -> TaskId {
        self.memo.insert(memo, id);
        id
    }

    pub(crate) fn add(
        &mut self,
        memo: MemoKey,
        key: Key,
        deps: &[TaskId],
        op: floe_graph::Operation,
    ) -> Result<TaskId> {
        // Every array operation is a pure function of its inputs (sources read files or
        // generate seeded data), so a budgeted run may run any of them again.
        let id = self
            .builder
            .add_hinted(key, deps, op, TaskHints::new().repeatable())
            .map_err(|e| crate::ArrayError::invalid("graph", e.to_string()))?;
        self.memo.insert(memo, id);
        Ok(id)
    }

    /// Declares that task `id` (repeatable, as every array task) outputs `nbytes` bytes.
    pub(crate) fn hint_bytes(&mut self, id: TaskId, nbytes: usize) {
        self.builder
            .set_hints(id, TaskHints::new().output_bytes(nbytes).repeatable());
    }

    /// The tasks of the input blocks of block `index` of blockwise `array`, and the axis
    /// permutation to view each through: a transposed input is read through a permuted
    /// view of its source block.
    pub(crate) fn blockwise_inputs(
        &mut self,
        array: &Array,
        inputs: &[Array],
        index: &[usize],
    ) -> Result<BlockwiseInputs> {
        let mut deps = Vec::with_capacity(inputs.len());
        let mut perms = Vec::with_capacity(inputs.len());
        for input in inputs {
            let (dep, perm) = self.viewed_block(input, &broadcast_index(array, input, index))?;
            deps.push(dep);
            perms.push(perm);
        }
        Ok((deps, perms))
    }

    /// The task of block `index` of `input` as a blockwise kernel reads it, and the axis
    /// permutation to view it through: a transposed input is its source's block, permuted.
    pub(crate) fn viewed_block(
        &mut self,
        input: &Array,
        index: &[usize],
    ) -> Result<(TaskId, Option<Vec<usize>>)> {
        Ok(match &input.node.expr {
            Expr::Transpose { input: inner, perm } => (
                self.block(inner, &transposed_index(perm, index))?,
                Some(perm.clone()),
            ),
            _ => (self.block(input, index)?, None),
        })
    }

    /// The task computing block `index` of `array`.
    ///
    /// # Errors
    ///
    /// If the graph grows past 2³² tasks.
    pub fn block(&mut self, array: &Array, index: &[usize]) -> Result<TaskId> {
        let memo = Self::memo_key(array, 0, index);
        if let Some(id) = self.lookup(&memo) {
            return Ok(id);
        }
        let id = self.lower_block(array, index, memo)?;
        // The block's size is known from the chunks: the budget plans with it. A block of
        // unknown size declares none (its upper bound would refuse tasks that fit); the
        // budget expects what blocks of the same name came out as.
        if !array.has_unknown_chunks() && !matches!(array.node.expr, Expr::Held(_)) {
            let nbytes = array.chunks().block_shape(index).iter().product::<usize>()
                * array.dtype().itemsize();
            self.hint_bytes(id, nbytes);
        }
        Ok(id)
    }

    fn lower_block(&mut self, array: &Array, index: &[usize], memo: MemoKey) -> Result<TaskId> {
        let node = &array.node;
        let key = Key::with_shared_name(
            node.name.clone(),
            &index.iter().map(|&i| i as u32).collect::<Vec<_>>(),
        );
        match &node.expr {
            Expr::Source(f, described) => {
                let f = f.clone();
                let info = block_info(array, index);
                let spec = self.spec_if_recording(|| match described.as_ref()? {
                    crate::expr::Described::Spec(source) => Some(crate::TaskSpec::Source {
                        source: source.clone(),
                        info: info.clone(),
                    }),
                    // Cut now: the block travels as data.
                    crate::expr::Described::Memory => {
                        f(&info).ok().map(|b| crate::TaskSpec::Block(Arc::new(b)))
                    }
                    crate::expr::Described::Op(op) => Some(crate::TaskSpec::Blocks {
                        op: op.clone(),
                        info: info.clone(),
                        dtype: node.dtype,
                        unknown: vec![false; info.shape.len()],
                    }),
                });
                let id = self.add(memo, key, &[], Arc::new(move |_| f(&info).map(block_value)))?;
                Ok(self.record(id, spec))
            }
            Expr::Boxes(f, source) => {
                let (f, dtype) = (f.clone(), node.dtype);
                let info = block_info(array, index);
                let spec = self.spec_if_recording(|| {
                    source.as_ref().map(|source| crate::TaskSpec::Source {
                        source: source.clone(),
                        info: info.clone(),
                    })
                });
                let id = self.add(
                    memo,
                    key,
                    &[],
                    Arc::new(move |_| box_in_pieces(&*f, dtype, &info).map(block_value)),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Full { value } => {
                let (dtype, value) = (node.dtype, *value);
                let shape = block_info(array, index).shape;
                let spec = self.spec_if_recording(|| {
                    Some(crate::TaskSpec::Full {
                        value,
                        dtype,
                        shape: shape.clone(),
                    })
                });
                let id = self.add(
                    memo,
                    key,
                    &[],
                    Arc::new(move |_| Ok(block_value(DynArray::full(dtype, &shape, value)))),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Held(blocks) => {
                let block = blocks.get(index).cloned();
                let spec = self.spec_if_recording(|| {
                    block
                        .clone()
                        .and_then(|b| b.downcast_arc::<DynArray>().ok())
                        .map(crate::TaskSpec::Block)
                });
                let id = self.add(
                    memo,
                    key,
                    &[],
                    Arc::new(move |_| {
                        block.clone().ok_or_else(|| {
                            TaskError::msg("internal error: a held block is missing")
                        })
                    }),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Blockwise {
                inputs,
                f,
                elementwise,
                kernel,
            } => {
                let info = block_info(array, index);
                let (deps, perms) = self.blockwise_inputs(array, inputs, index)?;
                // Kernels over blocks of unknown sizes take their shapes at run time, from
                // the blocks' own along the unknown axes.
                let spec = self.spec_if_recording(|| {
                    kernel.as_ref().map(|kernel| crate::TaskSpec::Elementwise {
                        kernel: kernel.clone(),
                        info: info.clone(),
                        perms: perms.clone(),
                        unknown: array.has_unknown_chunks().then(|| {
                            // Each input's block is seen in the input's own axis order.
                            let flags = inputs.iter().map(|a| a.node.unknown.clone()).collect();
                            (node.unknown.clone(), flags)
                        }),
                    })
                });
                let f = f.clone();
                let (elementwise, dtype) = (*elementwise, node.dtype);
                let unknown = array.has_unknown_chunks().then(|| {
                    let flags: Vec<Vec<bool>> =
                        inputs.iter().map(|a| a.node.unknown.clone()).collect();
                    (node.unknown.clone(), flags)
                });
                let id = self.add(
                    memo,
                    key,
                    &deps,
                    Arc::new(move |values: &[Value]| {
                        let blocks = values
                            .iter()
                            .zip(&perms)
                            .map(|(v, p)| Ok(BlockRef::permuted(block_of(v)?, p.as_deref())))
                            .collect::<std::result::Result<Vec<_>, TaskError>>()?;
                        match &unknown {
                            // A large block in pieces of rows (see `crate::parallel`), each
                            // from the same rows of the inputs as long as the block along its
                            // first axis; the others (fewer axes, or broadcast along it) are
                            // seen whole by every piece.
                            None if elementwise => {
                                match crate::parallel::pieces(&info.shape, dtype) {
                                    Some(n) => crate::parallel::rows_in_pieces(
                                        dtype,
                                        &info.shape,
                                        n,
                                        |lo, hi| {
                                            let rows: Vec<BlockRef<'_>> = blocks
                                                .iter()
                                                .map(|b| {
                                                    let s = b.shape();
                                                    if s.len() == info.shape.len()
                                                        && s[0] == info.shape[0]
                                                    {
                                                        b.rows(lo, hi)
                                                    } else {
                                                        *b
                                                    }
                                                })
                                                .collect();
                                            f(&rows, &info.band(0, lo, hi))
                                        },
                                    ),
                                    None => f(&blocks, &info),
                                }
                                .map(block_value)
                            }
                            None => f(&blocks, &info).map(block_value),
                            // Sizes along unknown axes are the input blocks' own.
                            Some((unknown, flags)) => {
                                let info =
                                    crate::select::runtime_info(&info, unknown, &blocks, flags)?;
                                f(&blocks, &info).map(block_value)
                            }
                        }
                    }),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Transpose { input, perm } => {
                let dep = self.block(input, &transposed_index(perm, index))?;
                let perm = perm.clone();
                let spec = self
                    .spec_if_recording(|| Some(crate::TaskSpec::Transpose { perm: perm.clone() }));
                let id = self.add(
                    memo,
                    key,
                    &[dep],
                    Arc::new(move |values: &[Value]| {
                        let b = block_of(&values[0])?;
                        Ok(block_value(
                            with_array!(b, a => DynArray::from(transpose(a.view(), &perm))),
                        ))
                    }),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Reshape { input, keep } => {
                let info = block_info(array, index);
                let mut idx = index[..*keep].to_vec();
                idx.resize(input.ndim(), 0);
                let dep = self.block(input, &idx)?;
                let spec = self
                    .spec_if_recording(|| Some(crate::TaskSpec::Reshape { info: info.clone() }));
                let id = self.add(
                    memo,
                    key,
                    &[dep],
                    Arc::new(move |values: &[Value]| {
                        crate::kernels::reshape::reshape_block(block_of(&values[0])?, &info)
                            .map(block_value)
                    }),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Custom {
                inputs,
                deps,
                f,
                op,
            } => {
                let info = block_info(array, index);
                let mut ids = Vec::new();
                for (i, idx) in deps(index) {
                    let input = inputs.get(i).ok_or_else(|| {
                        crate::ArrayError::invalid(
                            "from_blocks",
                            format!(
                                "`{}` block {index:?} reads input {i} of {}",
                                array.name(),
                                inputs.len()
                            ),
                        )
                    })?;
                    let nb = input.numblocks();
                    if idx.len() != nb.len() || idx.iter().zip(&nb).any(|(&j, &n)| j >= n) {
                        return Err(crate::ArrayError::invalid(
                            "from_blocks",
                            format!(
                                "`{}` block {index:?} reads block {idx:?} of input {i}, which has {nb:?} blocks",
                                array.name()
                            ),
                        ));
                    }
                    ids.push(self.block(input, &idx)?);
                }
                let f = f.clone();
                let (name, dtype) = (node.name.clone(), node.dtype);
                let unknown = node.unknown.clone();
                let spec = self.spec_if_recording(|| {
                    op.as_ref().map(|op| crate::TaskSpec::Blocks {
                        op: op(index),
                        info: info.clone(),
                        dtype,
                        unknown: unknown.clone(),
                    })
                });
                let id = self.add(
                    memo,
                    key,
                    &ids,
                    Arc::new(move |values: &[Value]| {
                        let blocks = values
                            .iter()
                            .map(block_of)
                            .collect::<std::result::Result<Vec<_>, TaskError>>()?;
                        let out = f(&blocks, &info)?;
                        if !crate::select::fits_known(out.shape(), &info.shape, &unknown)
                            || out.dtype() != dtype
                        {
                            return Err(TaskError::msg(format!(
                                "{name}: block {:?} came out {} of shape {:?}, expected {dtype} of shape {:?}",
                                info.index,
                                out.dtype(),
                                out.shape(),
                                info.shape
                            )));
                        }
                        Ok(block_value(out))
                    }),
                )?;
                Ok(self.record(id, spec))
            }
            Expr::Reduce(_) | Expr::Gather(_) | Expr::Scan(_) => {
                let plan = node.expr.plan().expect("a plan's expression");
                plan.lower_block(self, array, index, key, memo)
            }
        }
    }

    /// A task assembling every block of `array` into one `DynArray`.
    ///
    /// # Errors
    ///
    /// As [`Lowering::block`].
    pub fn assemble(&mut self, array: &Array) -> Result<TaskId> {
        let memo = Self::memo_key(array, u32::MAX, &[]);
        if let Some(id) = self.lookup(&memo) {
            return Ok(id);
        }
        let indices: Vec<Vec<usize>> = array.chunks().block_indices().collect();
        let mut deps = Vec::with_capacity(indices.len());
        for idx in &indices {
            deps.push(self.block(array, idx)?);
        }
        let chunks = array.chunks().clone();
        let shape = array.shape().to_vec();
        let dtype = array.dtype();
        let unknown = array.has_unknown_chunks();
        let result_bytes = shape.iter().product::<usize>() * dtype.itemsize();
        let key = Key::named(&format!("{}-result", array.name()));
        let id = self.add(
            memo,
            key,
            &deps,
            Arc::new(move |values: &[Value]| {
                if values.len() == 1 {
                    return Ok(values[0].clone());
                }
                if unknown {
                    // Sizes are the blocks' own.
                    let blocks = values
                        .iter()
                        .map(block_of)
                        .collect::<std::result::Result<Vec<_>, TaskError>>()?;
                    let out = crate::select::assemble_runtime(&chunks.numblocks(), &blocks, dtype)?;
                    return Ok(block_value(out));
                }
                let offsets: Vec<Vec<usize>> = (0..chunks.ndim()).map(|a| chunks.offsets(a)).collect();
                let out = with_dtype!(dtype, T => {
                    let mut out = ndarray::ArrayD::<T>::from_elem(IxDyn(&shape), <T as crate::Element>::zero());
                    for (idx, v) in indices.iter().zip(values) {
                        let b = block_of(v)?;
                        let b = <T as crate::ArrayElement>::view(b).ok_or_else(|| {
                            TaskError::msg("internal error: a block has the wrong dtype")
                        })?;
                        let region: Vec<SliceInfoElem> = idx
                            .iter()
                            .enumerate()
                            .map(|(a, &i)| SliceInfoElem::Slice {
                                start: offsets[a][i] as isize,
                                end: Some(offsets[a][i + 1] as isize),
                                step: 1,
                            })
                            .collect();
                        out.slice_mut(region.as_slice()).assign(&b);
                    }
                    DynArray::from(out)
                });
                Ok(block_value(out))
            }),
        )?;
        // Several blocks are copied into the result; one is passed through, and the meter
        // counts it again as the result all the same. (Unknown sizes: no declaration.)
        if !unknown {
            self.hint_bytes(id, result_bytes);
        }
        Ok(id)
    }
}

/// Where block `index` of `array` sits.
pub(crate) fn block_info(array: &Array, index: &[usize]) -> BlockInfo {
    let chunks = array.chunks();
    BlockInfo {
        index: index.to_vec(),
        shape: chunks.block_shape(index),
        offset: (0..chunks.ndim())
            .map(|a| chunks.axis(a)[..index[a]].iter().sum())
            .collect(),
        array_shape: array.shape().to_vec(),
    }
}

/// The block of `input` that output block `index` of `out` uses in a blockwise operation:
/// `input` is aligned to the right, and its length-1 axes broadcast.
pub(crate) fn broadcast_index(out: &Array, input: &Array, index: &[usize]) -> Vec<usize> {
    let lead = out.ndim() - input.ndim();
    (0..input.ndim())
        .map(|a| {
            if input.shape()[a] == 1 && out.shape()[a + lead] != 1 {
                0
            } else {
                index[a + lead]
            }
        })
        .collect()
}
