//! Reductions as trees: a partial result per block, combined `split_every` at a time, then
//! finalized.
//!
//! ```text
//!   block (0,0) ─► partial ─┐
//!   block (1,0) ─► partial ─┼─► combine ─┐
//!   …                       │            ├─► combine ─► finalize ─► output block
//!   block (7,0) ─► partial ─┘   …        ┘
//! ```
//!
//! Partials are small (the block with the reduced axes collapsed), so memory is held by
//! at most `split_every` partials per level. A long reduction along one axis with large
//! partials over blocks other tasks make (a mean over a year of daily maps from a block
//! function) is combined as a chain instead, whose memory does not grow with the number of
//! blocks (see [`CHAIN_PARTIAL_BYTES`]). Over inputs that read no task's block (constants,
//! `random`, files read as boxes, elementwise chains of them) the first level reduces
//! `split_every` blocks per task band by band, or more where partials are large beside
//! the blocks (up to [`MAX_FUSED_FAN_IN`]: see [`FUSED_READ_PER_PARTIAL`]), and the tree
//! above is fused (see `ReducePlan::banded_partial`): several times fewer partials, held up
//! to `split_every - 1` per level as in any tree.
//!
//! Numerics: float sums use compensated (Kahan) accumulation in `f64` inside a block and a
//! tree (or a chain) across blocks — a chain's rounding error grows with its number of
//! links rather than its logarithm, negligible in `f64`; means and variances combine
//! (count, mean, M2) moments with Chan's formulas, never sums of squares.

pub(crate) mod band;
pub(crate) mod complex;

use crate::kernels::reduction as kernels;
pub use crate::kernels::reduction::ReduceOp;

use std::sync::Arc;

use floe_graph::{Key, TaskId, Value};

use crate::error::normalize_axis;
use crate::expr::Expr;
use crate::lower::{Lowering, block_of, block_value};
use crate::{Array, ArrayError, Chunks, DType, DynArray, Result};
use band::Band;

pub(crate) use kernels::Partial;

/// The default fan-in of reduction trees. Partials wait for their siblings, so the fan-in
/// bounds how many are held per level. Partials can be large (a mean over time keeps a
/// float64 map per block): with 4, the day−night difference of the climate analysis (two
/// means over 120 daily maps) peaks at 330 MB against 430 MB with 8, in the same time;
/// 2 costs time for little more saving.
pub const DEFAULT_SPLIT_EVERY: usize = 4;

/// Which axes to reduce: all of them, or some (negative axes count from the end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Axes {
    /// Every axis (NumPy's `axis=None`).
    All,
    /// These axes.
    Some(Vec<isize>),
}

impl From<isize> for Axes {
    fn from(a: isize) -> Self {
        Axes::Some(vec![a])
    }
}

impl From<i32> for Axes {
    fn from(a: i32) -> Self {
        Axes::Some(vec![a as isize])
    }
}

impl From<&[isize]> for Axes {
    fn from(a: &[isize]) -> Self {
        Axes::Some(a.to_vec())
    }
}

impl<const N: usize> From<[isize; N]> for Axes {
    fn from(a: [isize; N]) -> Self {
        Axes::Some(a.to_vec())
    }
}

impl<const N: usize> From<[i32; N]> for Axes {
    fn from(a: [i32; N]) -> Self {
        Axes::Some(a.iter().map(|&x| x as isize).collect())
    }
}

impl From<Option<isize>> for Axes {
    fn from(a: Option<isize>) -> Self {
        a.map_or(Axes::All, Axes::from)
    }
}

#[derive(Clone)]
pub(crate) struct ReducePlan {
    pub(crate) input: Array,
    op: ReduceOp,
    /// Reduced input axes, ascending.
    axes: Vec<usize>,
    keepdims: bool,
    /// Fan-in per reduced axis.
    factor: usize,
    /// Fan-in per reduced axis of the first level: `factor`, or more for a fused plan
    /// whose partials are large beside its blocks (see [`FUSED_READ_PER_PARTIAL`]).
    first_factor: usize,
    /// Blocks along each input axis at each tree level (level 0: the input's).
    levels: Vec<Vec<usize>>,
    /// Combined as a chain rather than a tree (see [`CHAIN_PARTIAL_BYTES`]): level 1 holds
    /// the chain's links along the one reduced axis.
    chain: bool,
    /// The input's blocks are made from nothing but their positions (constants, generated
    /// or read boxes, and elementwise chains of them: see `Band::reads_nothing`).
    reads_nothing: bool,
}

/// Reductions along one axis whose partials are at least this large (per output block) and
/// whose tree would have three levels or more, over blocks other tasks make (not a fused
/// plan: see `ReducePlan::fused`), are combined as a chain: link `k` combines
/// link `k - 1` with the next `split_every - 1` partials. A tree holds up to `split_every - 1`
/// partials waiting at every level, so its memory grows with the logarithm of the number of
/// blocks (the mean over a year of daily maps held 111 MiB where 60 days held 79); a chain
/// holds one link and the partials of one group, whatever the number of blocks. It costs the
/// same arithmetic (every partial is combined once); its links run one after the other, but
/// a link adds a few maps while each partial reads and reduces a whole block, so the links
/// keep up with the partials on any realistic core count. An explicit `split_every` keeps
/// the tree.
pub const CHAIN_PARTIAL_BYTES: usize = 1 << 20;

/// The bytes of elementwise result made at a time when a reduction computes its input in
/// bands (see `ReducePlan::banded_partial`): the band, the inputs' bands and the band's
/// partial stay in cache (a core's second level holds most of them, the shared third level
/// the rest), and a file's band is read with a few large reads (bands of a quarter of this
/// size, read in four times as many calls, took 13 % longer over the talk's files).
const BAND_BYTES: usize = 1 << 20;

/// An upper bound of the bytes of the partial of a reduction `op` over `axes` of `input` at
/// tree node `index`: the block with its reduced axes at length 1, times the partial's
/// bytes per position.
fn partial_bytes(input: &Array, op: ReduceOp, axes: &[usize], index: &[usize]) -> usize {
    let chunks = input.chunks();
    let positions: usize = (0..index.len())
        .map(|a| {
            if axes.contains(&a) {
                1
            } else {
                chunks.axis(a).get(index[a]).copied().unwrap_or(0)
            }
        })
        .product();
    let per_position = match op {
        ReduceOp::Mean => 8,
        ReduceOp::NanMean => 16,
        ReduceOp::Var { .. }
        | ReduceOp::Std { .. }
        | ReduceOp::NanVar { .. }
        | ReduceOp::NanStd { .. } => 24,
        ReduceOp::Sum
        | ReduceOp::Prod
        | ReduceOp::Min
        | ReduceOp::Max
        | ReduceOp::Any
        | ReduceOp::All
        | ReduceOp::NanSum
        | ReduceOp::NanMin
        | ReduceOp::NanMax => 8,
        // Arg reductions and anything new: a value and an index per position.
        #[allow(unreachable_patterns)]
        _ => 16,
    };
    positions * per_position
}

/// A fused plan's first-level node (see `ReducePlan::fused`) reads at least this many times
/// the bytes of its partial, where the blocks allow: the partial is written once, then read
/// and added by the level above, so beside small blocks (a mean over time of maps stored a
/// few steps per file, whose partial is half a file's bytes in float64) the default fan-in
/// would spend a fifth of the work on partials. Over the talk's files 16 files per node
/// instead of 4 took 7 % less time, warm or in a fresh process, and wrote a quarter of the
/// partials.
const FUSED_READ_PER_PARTIAL: usize = 32;

/// The most blocks a fused first-level node reduces. Each piece of such a node (one band
/// of rows, see `ReducePlan::banded_partial`) reads that band of every child, so this
/// bounds a piece to 16 bands of about 1 MiB, and keeps pieces many enough for idle
/// workers to share a level of few nodes. It also bounds the plain additions of the
/// children's sums (see `DirectSums`) and the partials a node waits for when its blocks
/// are made whole.
const MAX_FUSED_FAN_IN: usize = 16;

/// The first-level fan-in along reduced axis `axis` of a fused plan over `input` whose
/// partials are `partial` bytes: at least `factor`, and enough blocks to read
/// [`FUSED_READ_PER_PARTIAL`] times `partial` (the first block's bytes standing for all),
/// up to [`MAX_FUSED_FAN_IN`].
fn fused_fan_in(input: &Array, axis: usize, factor: usize, partial: usize) -> usize {
    let block: usize = input
        .chunks()
        .axes()
        .iter()
        .map(|sizes| sizes.first().copied().unwrap_or(0))
        .product::<usize>()
        * input.dtype().itemsize();
    let blocks = input.numblocks()[axis];
    (FUSED_READ_PER_PARTIAL * partial)
        .div_ceil(block.max(1))
        .min(MAX_FUSED_FAN_IN)
        .min(blocks)
        .max(factor)
}

/// Runs `f` for each of `pieces` pieces, on idle workers too (`floe_graph::split`), and
/// returns their results in order, or the first piece's error.
fn in_pieces<T: Send>(
    pieces: usize,
    f: impl Fn(usize) -> std::result::Result<T, floe_graph::TaskError> + Sync,
) -> std::result::Result<Vec<T>, floe_graph::TaskError> {
    let slots: Vec<std::sync::Mutex<Option<std::result::Result<T, floe_graph::TaskError>>>> =
        (0..pieces).map(|_| std::sync::Mutex::new(None)).collect();
    floe_graph::split(pieces, |i| {
        let out = f(i);
        *slots[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(out);
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .unwrap_or_else(|| {
                    Err(floe_graph::TaskError::msg(
                        "internal error: a piece did not run",
                    ))
                })
        })
        .collect()
}

/// The shortest contiguous run a band along a kept axis may be made of (see
/// `ReducePlan::band_axis`): a file reader makes each run with one read.
const MIN_RUN_BYTES: usize = 16 << 10;

impl Array {
    /// Reduces `axes` with `op`, as a tree of fan-in `split_every` (default [`DEFAULT_SPLIT_EVERY`], 4;
    /// by default a fused first level may take more blocks: see [`FUSED_READ_PER_PARTIAL`]).
    ///
    /// # Errors
    ///
    /// [`ArrayError::AxisOutOfRange`] for a bad axis, [`ArrayError::InvalidArgument`] for
    /// a repeated axis, a multi-axis `argmin`/`argmax`, or a reduction without identity
    /// (`min`, `max`, `argmin`…) over an empty axis.
    pub fn reduce(
        &self,
        op: ReduceOp,
        axes: impl Into<Axes>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> Result<Array> {
        let name = op.name();
        let mut axes: Vec<usize> = match axes.into() {
            Axes::All => (0..self.ndim()).collect(),
            Axes::Some(v) => v
                .iter()
                .map(|&a| normalize_axis(name, a, self.ndim()))
                .collect::<Result<_>>()?,
        };
        axes.sort_unstable();
        if axes.windows(2).any(|w| w[0] == w[1]) {
            return Err(ArrayError::invalid(
                name,
                format!("repeated axis in {axes:?}"),
            ));
        }
        if matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax)
            && axes.len() > 1
            && axes.len() != self.ndim()
        {
            return Err(ArrayError::invalid(name, "takes one axis or all of them"));
        }
        if matches!(op, ReduceOp::ArgMin | ReduceOp::ArgMax)
            && axes.len() > 1
            && axes.iter().any(|&a| self.node.unknown[a])
        {
            // Flat positions over several axes need the block offsets, which unknown
            // sizes leave unknown (one axis counts from each block's start instead).
            self.require_known(name)?;
        }
        if self.dtype().is_complex() && complex::by_parts(op) {
            return complex::reduce_by_parts(self, op, &axes, keepdims, split_every);
        }
        if !op.has_identity() && axes.iter().any(|&a| self.shape()[a] == 0) {
            return Err(ArrayError::invalid(
                name,
                "zero-size array to a reduction which has no identity",
            ));
        }
        if split_every.is_some_and(|n| n < 2) {
            return Err(ArrayError::invalid(name, "split_every must be at least 2"));
        }
        // The result's blocks: the input's along the kept axes.
        let mut shape = Vec::new();
        let mut sizes = Vec::new();
        for a in 0..self.ndim() {
            if axes.contains(&a) {
                if keepdims {
                    shape.push(1);
                    sizes.push(vec![1]);
                }
            } else {
                shape.push(self.shape()[a]);
                sizes.push(self.chunks().axis(a).to_vec());
            }
        }
        let chunks = Chunks::new(&shape, sizes)?;
        // Sources cut into other blocks (the talk's (4, 200, 200) blocks, cut from bands
        // of whole rows of each file) are reduced in their own blocks, read band by band,
        // and only the result is cut into the blocks asked for.
        if let Some(base) = reblocked_sources(self) {
            let by_axes = Axes::Some(axes.iter().map(|&a| a as isize).collect());
            return Ok(base
                .reduce(op, by_axes, keepdims, split_every)?
                .rechunk(&chunks)?
                .named(name));
        }
        let explicit = split_every.is_some();
        let split_every = split_every.unwrap_or(DEFAULT_SPLIT_EVERY);
        let factor = ((split_every as f64)
            .powf(1.0 / axes.len().max(1) as f64)
            .floor() as usize)
            .max(2);
        let reads_nothing = Band::reads_nothing(self);
        let first_factor = match axes[..] {
            [a] if reads_nothing && !explicit => fused_fan_in(
                self,
                a,
                factor,
                partial_bytes(self, op, &axes, &vec![0; self.ndim()]),
            ),
            _ => factor,
        };
        let mut levels = vec![self.numblocks()];
        while axes
            .iter()
            .any(|&a| levels.last().expect("one level")[a] > 1)
        {
            let prev = levels.last().expect("one level");
            let f = if levels.len() == 1 {
                first_factor
            } else {
                factor
            };
            let next = prev
                .iter()
                .enumerate()
                .map(|(a, &n)| if axes.contains(&a) { n.div_ceil(f) } else { n })
                .collect();
            levels.push(next);
        }
        let mut plan = ReducePlan {
            input: self.clone(),
            op,
            axes,
            keepdims,
            factor,
            first_factor,
            reads_nothing,
            levels,
            chain: false,
        };
        if !explicit && !plan.fused() && plan.axes.len() == 1 && plan.levels.len() > 3 {
            // The first block's partial: blocks are largest first.
            let largest = plan.partial_bytes(&vec![0; self.ndim()]);
            if largest >= CHAIN_PARTIAL_BYTES {
                let a = plan.axes[0];
                let n = self.numblocks()[a];
                // The first link takes `factor` partials, every later one `factor - 1`.
                let links = 1 + n.saturating_sub(factor).div_ceil(factor - 1);
                let mut top = self.numblocks();
                top[a] = links;
                plan.levels = vec![self.numblocks(), top];
                plan.chain = true;
            }
        }
        Ok(Array::from_node(
            name,
            shape,
            op.dtype(self.dtype()),
            chunks,
            Expr::Reduce(Box::new(plan)),
        ))
    }
}

macro_rules! reductions {
    ($($(#[$doc:meta])* $name:ident => $op:expr),+ $(,)?) => {
        impl Array {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                ///
                /// As [`Array::reduce`].
                pub fn $name(&self, axes: impl Into<Axes>) -> Result<Array> {
                    self.reduce($op, axes, false, None)
                }
            )+
        }
    };
}

reductions!(
    /// Sum over `axes` (`Axes::All` for every axis).
    sum => ReduceOp::Sum,
    /// Product over `axes`.
    prod => ReduceOp::Prod,
    /// Minimum over `axes`.
    min => ReduceOp::Min,
    /// Maximum over `axes`.
    max => ReduceOp::Max,
    /// Mean over `axes`.
    mean => ReduceOp::Mean,
    /// Whether any element over `axes` is true.
    any => ReduceOp::Any,
    /// Whether all elements over `axes` are true.
    all => ReduceOp::All,
    /// Sum ignoring NaN.
    nansum => ReduceOp::NanSum,
    /// Minimum ignoring NaN.
    nanmin => ReduceOp::NanMin,
    /// Maximum ignoring NaN.
    nanmax => ReduceOp::NanMax,
    /// Mean ignoring NaN.
    nanmean => ReduceOp::NanMean,
    /// Index of the minimum along one axis, or in the flattened array for `Axes::All`.
    argmin => ReduceOp::ArgMin,
    /// Index of the maximum along one axis, or in the flattened array for `Axes::All`.
    argmax => ReduceOp::ArgMax,
);

impl Array {
    /// Variance over `axes` with `ddof` delta degrees of freedom.
    ///
    /// # Errors
    ///
    /// As [`Array::reduce`].
    pub fn var(&self, axes: impl Into<Axes>, ddof: u32) -> Result<Array> {
        self.reduce(ReduceOp::Var { ddof }, axes, false, None)
    }

    /// Standard deviation over `axes` with `ddof`.
    ///
    /// # Errors
    ///
    /// As [`Array::reduce`].
    pub fn std(&self, axes: impl Into<Axes>, ddof: u32) -> Result<Array> {
        self.reduce(ReduceOp::Std { ddof }, axes, false, None)
    }

    /// Variance ignoring NaN.
    ///
    /// # Errors
    ///
    /// As [`Array::reduce`].
    pub fn nanvar(&self, axes: impl Into<Axes>, ddof: u32) -> Result<Array> {
        self.reduce(ReduceOp::NanVar { ddof }, axes, false, None)
    }

    /// Standard deviation ignoring NaN.
    ///
    /// # Errors
    ///
    /// As [`Array::reduce`].
    pub fn nanstd(&self, axes: impl Into<Axes>, ddof: u32) -> Result<Array> {
        self.reduce(ReduceOp::NanStd { ddof }, axes, false, None)
    }
}

impl ReducePlan {
    /// Whether each node of the tree's first level reduces its `first_factor` blocks band by band
    /// itself (the input reads nothing and the tree has such a level), so no block and no
    /// block's partial is ever made. A tree, never a chain.
    fn fused(&self) -> bool {
        self.reads_nothing && self.levels.len() > 1
    }

    /// The output's axes of unknown sizes: the input's that are not reduced.
    pub(crate) fn output_unknown(&self) -> Vec<bool> {
        let unknown = &self.input.node.unknown;
        (0..unknown.len())
            .filter_map(|a| {
                if !self.axes.contains(&a) {
                    Some(unknown[a])
                } else {
                    self.keepdims.then_some(false)
                }
            })
            .collect()
    }
}

impl crate::lower::Plan for ReducePlan {
    fn inputs(&self) -> Vec<&Array> {
        vec![&self.input]
    }

    fn lower_block(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        index: &[usize],
        key: Key,
        memo: crate::lower::MemoKey,
    ) -> Result<TaskId> {
        // The tree's top for this output block: reduced axes at 0 (a chain's last link).
        let mut top =
            crate::block::expand_index(index, self.input.ndim(), &self.axes, self.keepdims);
        if self.chain {
            // Links first to last: each finds the one before it built, so lowering never
            // recurses down the chain (a year of hourly maps has 3,000 links).
            let a = self.axes[0];
            for k in 0..self.levels[1][a] {
                top[a] = k;
                self.node_task(lowering, array, 1, &top)?;
            }
        }
        let root = self.node_task(lowering, array, self.levels.len() - 1, &top)?;
        let op = self.op;
        let axes = self.axes.clone();
        let keepdims = self.keepdims;
        let dtype = array.dtype();
        let spec = lowering.spec_if_recording(|| {
            Some(crate::TaskSpec::Finalize {
                op,
                axes: axes.clone(),
                keepdims,
                dtype,
            })
        });
        let id = lowering.add(
            memo,
            key,
            &[root],
            Arc::new(move |values: &[Value]| {
                let p = values[0]
                    .downcast_ref::<Partial>()
                    .ok_or_else(|| floe_graph::TaskError::msg("internal error: not a partial"))?;
                Ok(block_value(finalize(op, p, dtype, &axes, keepdims)?))
            }),
        )?;
        Ok(lowering.record(id, spec))
    }
}

impl ReducePlan {
    /// The task of tree node `index` (over the input's axes) at `level`.
    fn node_task(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        level: usize,
        index: &[usize],
    ) -> Result<TaskId> {
        let memo = Lowering::memo_key(array, level as u32 + 1, index);
        if let Some(id) = lowering.lookup(&memo) {
            return Ok(id);
        }
        let op = self.op;
        let axes = self.axes.clone();
        let hint = self.partial_bytes(index);
        let key = Key::new(&format!("{}-partial", op.name()), &as_u32(index));
        let banded = match level {
            0 => self.banded_partial(lowering, &[index.to_vec()], memo.clone(), key.clone())?,
            // A fused plan's first level reduces its blocks' bands itself: no block's
            // partial is ever made.
            1 if self.fused() => {
                let children = self.children(1, index);
                self.banded_partial(lowering, &children, memo.clone(), key.clone())?
            }
            _ => None,
        };
        let id = if let Some(id) = banded {
            id
        } else if level == 0 {
            let dep = lowering.block(&self.input, index)?;
            let info = crate::lower::block_info(&self.input, index);
            let spec = lowering.spec_if_recording(|| {
                Some(crate::TaskSpec::Partial {
                    op,
                    axes: axes.clone(),
                    info: info.clone(),
                    unknown: self.input.node.unknown.clone(),
                })
            });
            let id = lowering.add(
                memo,
                key,
                &[dep],
                Arc::new(move |values: &[Value]| {
                    let b = block_of(&values[0])?;
                    Ok(crate::spill::partial_value(kernels::partial(
                        op, b, &axes, &info,
                    )?))
                }),
            )?;
            lowering.record(id, spec)
        } else {
            self.combine_task(lowering, array, level, index, memo)?
        };
        lowering.hint_bytes(id, hint);
        Ok(id)
    }

    /// The partial of the input blocks `children` (one block, or a level-1 node's when the
    /// plan is [`fused`](ReducePlan::fused)) of an elementwise, constant, generated or read
    /// input (`x + x.T`, `(a - b) ** 2`, `ones`, `random`, files), computed a band at a time
    /// from the blocks below the elementwise chain: each band is made, reduced while it is
    /// in cache, and its partial merged into the running one (or, for float sums and means
    /// banded along a kept axis, its sums written into place: see `band::DirectSums`), so
    /// neither the block nor the chain's intermediates are ever made whole (see `Band`). `None` (the block is
    /// computed whole, then reduced) when the input is none of those, its sizes are
    /// unknown, a block is empty, bands would be read in short runs (see
    /// [`ReducePlan::band_axis`]), or one block that reads other tasks' blocks fits one
    /// band.
    ///
    /// Bands run along a kept axis when the output is too large to stay in cache while
    /// bands pass (a mean over time of maps: each band makes a few rows of the map whole)
    /// or when that axis comes first (row sums), and along the first reduced axis
    /// otherwise (column sums: the whole output stays in cache, each band adds to it);
    /// see [`ReducePlan::band_axis`].
    ///
    /// The choice depends on the graph's nodes alone, never on what else is computed with
    /// them, so a result is the same to the bit whatever it is computed with. Where another
    /// output needs the elementwise block too (`y - y.mean(0)`), the chain runs twice — once
    /// whole, once in bands — instead of the block being held until the mean is known; so
    /// are files read twice (`x - x.mean(0)` over files).
    fn banded_partial(
        &self,
        lowering: &mut Lowering<'_>,
        children: &[Vec<usize>],
        memo: crate::lower::MemoKey,
        key: Key,
    ) -> Result<Option<TaskId>> {
        let input = &self.input;
        let infos: Vec<crate::BlockInfo> = children
            .iter()
            .map(|c| crate::lower::block_info(input, c))
            .collect();
        // An empty block has no band: reduced whole (to the identity).
        if infos.iter().any(|i| i.shape.contains(&0)) {
            return Ok(None);
        }
        let Some((axis, rows, along_kept)) = self.band_axis(&infos[0]) else {
            return Ok(None);
        };
        if !Band::banded(input, input.shape()[axis], axis) {
            return Ok(None);
        }
        // A block of one band is made whole by its own task, unless it reads nothing: then
        // it costs nothing to make where it is reduced.
        if rows >= infos[0].shape[axis] && !self.reads_nothing {
            return Ok(None);
        }
        let mut deps = Vec::new();
        let bands = children
            .iter()
            .map(|c| Band::plan(lowering, input, c, axis, &mut deps))
            .collect::<Result<Vec<_>>>()?;
        let banded = Arc::new(band::Banded::new(
            self.op,
            self.axes.clone(),
            input.dtype(),
            (axis, rows, along_kept),
            infos,
            bands,
        ));
        let spec = lowering
            .spec_if_recording(|| banded.spec().map(|s| crate::TaskSpec::Banded(Box::new(s))));
        let id = lowering.add(
            memo,
            key,
            &deps,
            Arc::new(move |values: &[Value]| {
                let blocks = values
                    .iter()
                    .map(block_of)
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(crate::spill::partial_value(banded.run(&blocks)?))
            }),
        )?;
        lowering.record(id, spec);
        Ok(Some(id))
    }

    /// The axis a block (`info`: the largest of a node's) is cut into bands along, the rows
    /// of a band, and whether the axis is kept (see [`ReducePlan::banded_partial`]); `None`
    /// for a reduction over no axis, or where bands would be read in short runs.
    ///
    /// An axis is taken only where its bands are read in contiguous runs of the array of at
    /// least [`MIN_RUN_BYTES`], or at least half as long as the whole block's, so that a file
    /// reader makes each band with a few large reads.
    fn band_axis(&self, info: &crate::BlockInfo) -> Option<(usize, usize, bool)> {
        let &first = self.axes.first()?;
        let itemsize = self.input.dtype().itemsize();
        let block_bytes = info.shape.iter().product::<usize>() * itemsize;
        let rows_along = |a: usize| {
            let slice = block_bytes / info.shape[a].max(1);
            (BAND_BYTES / slice.max(1)).max(1)
        };
        // The elements of the longest contiguous run of a box of `shape` in the array.
        let run = |shape: &[usize]| {
            let mut run = 1;
            for (j, &n) in shape.iter().enumerate().rev() {
                run *= n;
                if n != info.array_shape[j] {
                    break;
                }
            }
            run
        };
        // Bands along `a` are read in long runs, or in runs at least half the block's: a
        // file reader makes them with a few large reads, not a read per few hundred bytes.
        let long_runs = |a: usize, rows: usize| {
            let mut band = info.shape.clone();
            band[a] = rows.min(band[a]);
            run(&band) * itemsize >= MIN_RUN_BYTES || 2 * run(&band) >= run(&info.shape)
        };
        let out_bytes: usize = (0..info.shape.len())
            .filter(|a| !self.axes.contains(a))
            .map(|a| info.shape[a])
            .product::<usize>()
            * 8;
        // The first kept axis whose bands fit and are read in long runs.
        for k in (0..info.shape.len()).filter(|a| !self.axes.contains(a)) {
            let rows = rows_along(k);
            let fits = block_bytes / info.shape[k].max(1) <= BAND_BYTES;
            if (k < first || out_bytes > BAND_BYTES) && fits && long_runs(k, rows) {
                return Some((k, rows, true));
            }
        }
        let rows = rows_along(first);
        // Else the block is made whole by its own task (row sums of blocks narrower than
        // the array, cut along their columns, would be read a few hundred bytes at a time).
        long_runs(first, rows).then_some((first, rows, false))
    }

    /// The nodes of level `level - 1` below node `index` of `level`: a tree node's
    /// `factor` along each reduced axis (`first_factor` at the first level), or a chain
    /// link's next `factor - 1` partials (the link before it aside).
    fn children(&self, level: usize, index: &[usize]) -> Vec<Vec<usize>> {
        let below = &self.levels[level - 1];
        let ranges: Vec<std::ops::Range<usize>> = (0..index.len())
            .map(|a| {
                if !self.axes.contains(&a) {
                    index[a]..index[a] + 1
                } else if self.chain {
                    // Link k: link k - 1 and the next `factor - 1` partials.
                    let k = index[a];
                    let lo = if k == 0 {
                        0
                    } else {
                        self.factor + (k - 1) * (self.factor - 1)
                    };
                    let hi = self.factor + k * (self.factor - 1);
                    lo..hi.min(below[a])
                } else {
                    let f = if level == 1 {
                        self.first_factor
                    } else {
                        self.factor
                    };
                    let lo = index[a] * f;
                    lo..(lo + f).min(below[a])
                }
            })
            .collect();
        cartesian(&ranges)
    }

    /// An upper bound of the bytes of a tree node's partial at `index` (see
    /// [`partial_bytes`]).
    fn partial_bytes(&self, index: &[usize]) -> usize {
        partial_bytes(&self.input, self.op, &self.axes, index)
    }

    /// The task combining the children of tree node `index` at `level` (> 0).
    fn combine_task(
        &self,
        lowering: &mut Lowering<'_>,
        array: &Array,
        level: usize,
        index: &[usize],
        memo: crate::lower::MemoKey,
    ) -> Result<TaskId> {
        let op = self.op;
        let axes = self.axes.clone();
        let mut deps = Vec::new();
        if self.chain && index[self.axes[0]] > 0 {
            let mut previous = index.to_vec();
            previous[self.axes[0]] -= 1;
            deps.push(self.node_task(lowering, array, level, &previous)?);
        }
        for child in self.children(level, index) {
            deps.push(self.node_task(lowering, array, level - 1, &child)?);
        }
        let key = Key::new(&format!("{}-combine", op.name()), &as_u32(index));
        let spec = lowering.spec_if_recording(|| {
            Some(crate::TaskSpec::Combine {
                op,
                axes: axes.clone(),
            })
        });
        let id = lowering.add(
            memo,
            key,
            &deps,
            Arc::new(move |values: &[Value]| {
                let parts = values
                    .iter()
                    .map(|v| {
                        v.downcast_ref::<Partial>().ok_or_else(|| {
                            floe_graph::TaskError::msg("internal error: not a partial")
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(crate::spill::partial_value(kernels::combine(
                    op, &parts, &axes,
                )?))
            }),
        )?;
        Ok(lowering.record(id, spec))
    }
}

/// The same values as `array`, a re-blocking (rechunk, concatenation) of sources (see
/// [`Band::source`]), in the sources' own blocks; `None` if `array` is not one, or is
/// blocked as they are.
fn reblocked_sources(array: &Array) -> Option<Array> {
    let Expr::Gather(plan) = &array.node.expr else {
        return None;
    };
    if array.has_unknown_chunks() || !plan.reblocks(array.chunks()) {
        return None;
    }
    let inputs: Vec<Array> = plan
        .inputs
        .iter()
        .map(|i| reblocked_sources(i).unwrap_or_else(|| i.clone()))
        .collect();
    if !inputs.iter().all(Band::source) {
        return None;
    }
    let base = match plan.concat_axis {
        Some(axis) if inputs.len() > 1 => crate::concatenate(&inputs, axis as isize).ok()?,
        _ => inputs.into_iter().next()?,
    };
    (base.chunks() != array.chunks()).then_some(base)
}

/// The output block of a reduction's root partial `p`: finalized, the reduced axes
/// dropped unless `keepdims`.
pub(crate) fn finalize(
    op: ReduceOp,
    p: &Partial,
    dtype: DType,
    axes: &[usize],
    keepdims: bool,
) -> std::result::Result<DynArray, floe_graph::TaskError> {
    let out = kernels::finalize(op, p, dtype, axes)?;
    Ok(if keepdims {
        out
    } else {
        kernels::drop_axes(out, axes)
    })
}

/// A block index as a task key's numbers.
pub(crate) fn as_u32(index: &[usize]) -> Vec<u32> {
    index.iter().map(|&i| i as u32).collect()
}

/// Every index in the product of `ranges`, row-major.
fn cartesian(ranges: &[std::ops::Range<usize>]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::with_capacity(ranges.len())];
    for r in ranges {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                r.clone().map(move |i| {
                    let mut p = prefix.clone();
                    p.push(i);
                    p
                })
            })
            .collect();
    }
    out
}
