//! Reductions of elementwise chains, band by band: how a block's band is made from the
//! blocks below the chain ([`Band`]), and the task that reduces a node's blocks a band at a
//! time ([`Banded`], see `ReducePlan::banded_partial`), as closures and as data.

use std::sync::Arc;

use floe_graph::{TaskError, TaskId};

use super::{Partial, ReduceOp, in_pieces, kernels};
use crate::block::BlockRef;
use crate::expr::Expr;
use crate::lower::Lowering;
use crate::{Array, DType, DynArray, Result};

/// The bytes of input a piece of a banded partial reads: the unit idle workers take from
/// the task (see `ReducePlan::banded_partial` and `floe_graph::split`).
const PIECE_BYTES: usize = 4 << 20;

/// A node's blocks reduced a band at a time: the reduction, the band's axis and rows, and
/// each block's band plan.
pub(crate) struct Banded {
    op: ReduceOp,
    axes: Vec<usize>,
    /// The input's dtype.
    dtype: DType,
    axis: usize,
    rows: usize,
    along_kept: bool,
    /// The blocks reduced (one, or a fused first level's).
    infos: Vec<crate::BlockInfo>,
    bands: Vec<Band>,
    /// Bands of about `PIECE_BYTES` of input per piece.
    per_piece: usize,
    direct: Option<DirectSums>,
}

impl Banded {
    /// The task reducing `infos`' blocks with `op` over `axes`, bands of `rows` along `axis`
    /// (a kept axis when `along_kept`), each block's band made by its plan in `bands`.
    pub(crate) fn new(
        op: ReduceOp,
        axes: Vec<usize>,
        dtype: DType,
        (axis, rows, along_kept): (usize, usize, bool),
        infos: Vec<crate::BlockInfo>,
        bands: Vec<Band>,
    ) -> Banded {
        let block_bytes = infos[0].shape.iter().product::<usize>() * dtype.itemsize();
        let band_bytes = rows * (block_bytes / infos[0].shape[axis].max(1));
        let per_piece = (PIECE_BYTES / band_bytes.max(1)).max(1);
        let direct = along_kept
            .then(|| DirectSums::new(op, dtype, &infos, &axes, axis))
            .flatten();
        Banded {
            op,
            axes,
            dtype,
            axis,
            rows,
            along_kept,
            infos,
            bands,
            per_piece,
            direct,
        }
    }

    /// The partial of the blocks, from the blocks the band plans read (in order).
    pub(crate) fn run(&self, blocks: &[&DynArray]) -> std::result::Result<Partial, TaskError> {
        let Banded {
            op,
            ref axes,
            axis,
            rows,
            along_kept,
            ref infos,
            ref bands,
            per_piece,
            ref direct,
            dtype,
        } = *self;
        // A band of the declared dtype, or an error (a plan written down elsewhere may not
        // fit the blocks it is given).
        let eval = |band: &Band, lo: usize, hi: usize, n: usize| {
            let out = band.eval(blocks, axis, lo, hi, n)?;
            if out.dtype() != dtype {
                return Err(TaskError::msg(format!(
                    "a {} reduction of {dtype} blocks made a band of {}",
                    op.name(),
                    out.dtype()
                )));
            }
            Ok(out)
        };
        // Float sums of bands are added as a block's group sums are, with Kahan
        // compensation (`comp`): a block summed in bands is as accurate as whole.
        let add = |acc: &mut Option<Partial>,
                   comp: &mut Option<ndarray::ArrayD<f64>>,
                   (band, info): (&Band, &crate::BlockInfo),
                   lo: usize,
                   hi: usize| {
            let out = eval(band, lo, hi, info.shape[axis])?;
            let p = kernels::partial(op, &out, axes, &info.band(axis, lo, hi))?;
            kernels::merge_into(op, acc, p, comp, axes)
        };
        let finished = |acc: Option<Partial>, comp| {
            acc.map(|p| kernels::finish_bands(p, comp)).ok_or_else(|| {
                floe_graph::TaskError::msg("internal error: a banded partial of no band")
            })
        };
        // The bands are cut into pieces (the same whoever runs them) that idle
        // workers may take (`floe_graph::split`): one band each for sums written
        // in place, else about `PIECE_BYTES` of input each.
        let p = if let Some(direct) = &direct {
            // Each piece (one band) puts its band of every child's sums straight
            // into its rows of the partial: the first child's written, the
            // others' added.
            let n = infos[0].shape[axis];
            let row: usize = direct.shape[axis + 1..].iter().product();
            let mut sums = vec![0.0; n * row];
            let places: Vec<std::sync::Mutex<&mut [f64]>> = sums
                .chunks_mut(rows * row)
                .map(std::sync::Mutex::new)
                .collect();
            in_pieces(places.len(), |piece| {
                let mut place = places[piece]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let lo = piece * rows;
                let hi = (lo + rows).min(n);
                for (c, (band, info)) in bands.iter().zip(infos.iter()).enumerate() {
                    let out = eval(band, lo, hi, info.shape[axis])?;
                    kernels::sums_into(op, &out, axes, &mut place, c > 0)?;
                }
                Ok(())
            })?;
            drop(places);
            let sums = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&direct.shape), sums)
                .map_err(|e| floe_graph::TaskError::msg(format!("internal error: {e}")))?;
            match direct.n {
                Some(n) => Partial::Mean { sum: sums, n },
                None => Partial::Block(DynArray::F64(sums)),
            }
        } else if along_kept {
            // Each band covers its own output positions: the children's bands of
            // those positions are merged, then the bands are put side by side.
            let n = infos[0].shape[axis];
            let steps: Vec<usize> = (0..n).step_by(rows).collect();
            let per_piece = (per_piece / infos.len()).max(1);
            let parts = in_pieces(steps.len().div_ceil(per_piece), |piece| {
                let mut parts = Vec::with_capacity(per_piece);
                for &lo in steps.iter().skip(piece * per_piece).take(per_piece) {
                    let hi = (lo + rows).min(n);
                    let (mut acc, mut comp) = (None, None);
                    for child in bands.iter().zip(infos.iter()) {
                        add(&mut acc, &mut comp, child, lo, hi)?;
                    }
                    parts.push(finished(acc, comp)?);
                }
                Ok(parts)
            })?;
            kernels::concat_bands(parts.into_iter().flatten().collect(), axis)?
        } else {
            let items: Vec<(usize, usize)> = infos
                .iter()
                .enumerate()
                .flat_map(|(c, info)| (0..info.shape[axis]).step_by(rows).map(move |lo| (c, lo)))
                .collect();
            let pieces = in_pieces(items.len().div_ceil(per_piece), |piece| {
                let (mut acc, mut comp) = (None, None);
                for &(c, lo) in items.iter().skip(piece * per_piece).take(per_piece) {
                    let hi = (lo + rows).min(infos[c].shape[axis]);
                    add(&mut acc, &mut comp, (&bands[c], &infos[c]), lo, hi)?;
                }
                finished(acc, comp)
            })?;
            // The pieces' partials merged in order, compensated as bands are.
            let (mut acc, mut comp) = (None, None);
            for p in pieces {
                kernels::merge_into(op, &mut acc, p, &mut comp, axes)?;
            }
            finished(acc, comp)?
        };
        Ok(p)
    }
}

/// A float sum or mean whose bands lie along a kept axis with only length-1 axes before
/// it in the partial (a mean over time of maps, banded by rows of latitude): each band's
/// sums occupy consecutive memory of the partial, so they are written there, the
/// children's sums of a band added plainly (a few terms each: at most the first level's
/// fan-in, [`MAX_FUSED_FAN_IN`]), instead of being merged with compensation and then
/// concatenated.
struct DirectSums {
    /// The partial's shape (reduced axes of length 1).
    shape: Vec<usize>,
    /// A mean's number of elements per position; `None` for a sum.
    n: Option<f64>,
}

impl DirectSums {
    fn new(
        op: ReduceOp,
        dtype: DType,
        infos: &[crate::BlockInfo],
        axes: &[usize],
        axis: usize,
    ) -> Option<DirectSums> {
        kernels::sums_skip_nan(op, dtype)?;
        let n = (op == ReduceOp::Mean).then(|| {
            infos
                .iter()
                .map(|i| axes.iter().map(|&a| i.shape[a]).product::<usize>() as f64)
                .sum()
        });
        let mut shape = infos[0].shape.clone();
        for &a in axes {
            shape[a] = 1;
        }
        shape[..axis]
            .iter()
            .all(|&len| len == 1)
            .then_some(DirectSums { shape, n })
    }
}

/// How a reduction makes one band of a block (see `ReducePlan::banded_partial`): the
/// elementwise chain down to the blocks it reads, each node evaluated on rows `lo..hi` of
/// its own inputs along the band's axis.
pub(crate) enum Band {
    /// The task input `dep` (a made block), seen through `perm`, with `ndim` axes aligned
    /// to the right of its consumer's.
    Block {
        dep: usize,
        perm: Option<Vec<usize>>,
        ndim: usize,
    },
    /// A constant block (`full`, `ones`, `zeros`, transposed or not), as its consumer sees
    /// it (`info`): each band made as a constant, never the block.
    Full {
        value: f64,
        dtype: DType,
        info: crate::BlockInfo,
    },
    /// A block of a box function (`random`, a file's reader), seen through `perm`, with
    /// `ndim` axes aligned to the right of its consumer's: each band made as a box of the
    /// array (`info`, in the function's own axes), never the block.
    Boxes {
        f: crate::expr::SourceFn,
        /// The function as data, where it is a generator.
        source: Option<crate::Source>,
        info: crate::BlockInfo,
        perm: Option<Vec<usize>>,
    },
    /// An elementwise node of the chain: `f` over its inputs' bands.
    Elementwise {
        f: crate::expr::BlockFn,
        /// `f` as data, where it is one of the elementwise kernels.
        kernel: Option<crate::Kernel>,
        info: crate::BlockInfo,
        inputs: Vec<Band>,
    },
}

/// A band of one input: cut from a made block, the block whole (an input broadcast along
/// the band's axis), or made by an elementwise node.
enum BandValue<'a> {
    Borrowed(&'a DynArray),
    Owned(DynArray),
}

impl BandValue<'_> {
    fn get(&self) -> &DynArray {
        match self {
            BandValue::Borrowed(b) => b,
            BandValue::Owned(b) => b,
        }
    }
}

impl Band {
    /// Whether the blocks of `array` are made band by band along `axis`, of length `n` in
    /// the blocks' consumer: an elementwise node or a source (see [`Band::source`]) of
    /// known sizes, not complex, as long as its consumer along `axis` (no broadcasting
    /// along it).
    pub(crate) fn banded(array: &Array, n: usize, axis: usize) -> bool {
        (matches!(
            array.node.expr,
            Expr::Blockwise {
                elementwise: true,
                ..
            }
        ) || Band::source(array))
            && !array.has_unknown_chunks()
            && !array.dtype().is_complex()
            && array.shape().get(axis) == Some(&n)
    }

    /// Whether every block of `array` is made from its position alone, as any box: a
    /// constant, a box function of known sizes, or blocks of those passed through whole (a
    /// concatenation of files).
    pub(crate) fn source(array: &Array) -> bool {
        let direct = |a: &Array| match a.node.expr {
            Expr::Full { .. } => true,
            Expr::Boxes(..) => !a.has_unknown_chunks(),
            _ => false,
        };
        match &array.node.expr {
            Expr::Gather(plan) => plan.all_whole() && plan.inputs.iter().all(direct),
            _ => direct(array),
        }
    }

    /// Whether the band plans of `array`'s blocks read no task's block (see
    /// [`Band::plan`]): `array` is banded and everything below its elementwise chain is a
    /// source or a transposed one. Such blocks cost nothing to hold back, so a reduction
    /// reduces several of them in one task ([`ReducePlan::fused`]).
    pub(crate) fn reads_nothing(array: &Array) -> bool {
        let Some(&n) = array.shape().first() else {
            return false;
        };
        if !Band::banded(array, n, 0) {
            return false;
        }
        match &array.node.expr {
            Expr::Blockwise { inputs, .. } => inputs.iter().all(|input| {
                let transposed = match &input.node.expr {
                    Expr::Transpose { input, .. } => Band::source(input),
                    _ => false,
                };
                transposed
                    || Band::source(input)
                    || (input.shape() == array.shape() && Band::reads_nothing(input))
            }),
            _ => true,
        }
    }

    /// The band plan of block `index` of `array` (banded: see [`Band::banded`]), the
    /// blocks it reads appended to `deps`.
    pub(crate) fn plan(
        lowering: &mut Lowering<'_>,
        array: &Array,
        index: &[usize],
        axis: usize,
        deps: &mut Vec<TaskId>,
    ) -> Result<Band> {
        let (inputs, f, kernel) = match &array.node.expr {
            Expr::Blockwise {
                inputs, f, kernel, ..
            } => (inputs, f, kernel),
            _ => return Ok(Band::constant(array, index).expect("banded: a source")),
        };
        let n = array.shape()[axis];
        let mut bands = Vec::with_capacity(inputs.len());
        for input in inputs {
            let idx = crate::lower::broadcast_index(array, input, index);
            // A box input that broadcasts along the band's axis would be made whole for
            // every band: it is made once, by its own task, instead.
            let spans = axis
                .checked_sub(array.ndim() - input.ndim())
                .is_some_and(|ax| input.shape()[ax] == n);
            let band = if input.ndim() == array.ndim() && Band::banded(input, n, axis) {
                Band::plan(lowering, input, &idx, axis, deps)?
            } else if let Some(constant) =
                Band::constant(input, &idx).filter(|c| spans || !matches!(c, Band::Boxes { .. }))
            {
                constant
            } else {
                let (id, perm) = lowering.viewed_block(input, &idx)?;
                deps.push(id);
                Band::Block {
                    dep: deps.len() - 1,
                    perm,
                    ndim: input.ndim(),
                }
            };
            bands.push(band);
        }
        Ok(Band::Elementwise {
            f: f.clone(),
            kernel: kernel.clone(),
            info: crate::lower::block_info(array, index),
            inputs: bands,
        })
    }

    /// Block `index` of `array` if `array` is a source (see [`Band::source`]) or a
    /// transposed one: made a band at a time, never whole.
    pub(crate) fn constant(array: &Array, index: &[usize]) -> Option<Band> {
        match &array.node.expr {
            Expr::Full { value } => Some(Band::Full {
                value: *value,
                dtype: array.dtype(),
                info: crate::lower::block_info(array, index),
            }),
            Expr::Boxes(f, source) if !array.has_unknown_chunks() => Some(Band::Boxes {
                f: f.clone(),
                source: source.clone(),
                info: crate::lower::block_info(array, index),
                perm: None,
            }),
            Expr::Gather(plan) if Band::source(array) => {
                let (source, block) = plan.whole_block(index)?;
                Band::constant(&plan.inputs[source], &block)
            }
            Expr::Transpose { input, perm } if Band::source(input) => {
                let stored = crate::block::transposed_index(perm, index);
                match Band::constant(input, &stored)? {
                    // A constant looks the same whichever way round.
                    Band::Full { value, dtype, .. } => Some(Band::Full {
                        value,
                        dtype,
                        info: crate::lower::block_info(array, index),
                    }),
                    Band::Boxes {
                        f,
                        source,
                        info,
                        perm: None,
                    } => Some(Band::Boxes {
                        f,
                        source,
                        info,
                        perm: Some(perm.clone()),
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The band of a box function's block along its consumer's `axis` (its own axis for
    /// it, through `perm`, unless it has none or broadcasts along it).
    fn boxes_band(
        f: &crate::expr::SourceFn,
        info: &crate::BlockInfo,
        perm: Option<&[usize]>,
        ax: Option<usize>,
        (lo, hi, n): (usize, usize, usize),
    ) -> std::result::Result<DynArray, floe_graph::TaskError> {
        let stored = ax.map(|ax| perm.map_or(ax, |p| p[ax]));
        match stored {
            Some(s) if info.shape[s] == n => f(&info.band(s, lo, hi)),
            _ => f(info),
        }
    }

    /// Rows `lo..hi` along `axis` (of length `n` in the block) of this node's block: an
    /// elementwise node, or a source at the top (never transposed there: see
    /// [`Band::banded`]).
    fn eval(
        &self,
        blocks: &[&DynArray],
        axis: usize,
        lo: usize,
        hi: usize,
        n: usize,
    ) -> std::result::Result<DynArray, floe_graph::TaskError> {
        let (f, info, inputs) = match self {
            Band::Elementwise {
                f, info, inputs, ..
            } => (f, info, inputs),
            Band::Full { value, dtype, info } => {
                let mut shape = info.shape.clone();
                shape[axis] = hi - lo;
                return Ok(DynArray::full(*dtype, &shape, *value));
            }
            Band::Boxes { f, info, perm, .. } => {
                return Band::boxes_band(f, info, perm.as_deref(), Some(axis), (lo, hi, n));
            }
            Band::Block { .. } => {
                return Err(floe_graph::TaskError::msg(
                    "internal error: a band plan whose top is a block",
                ));
            }
        };
        let ndim = info.shape.len();
        let values = inputs
            .iter()
            .map(|input| {
                Ok(match input {
                    Band::Block { dep, perm, ndim: k } => {
                        let b = blocks[*dep];
                        // The input's own axis for the band's, unless it has none or
                        // broadcasts along it: then it is used whole.
                        let cut = axis.checked_sub(ndim - k).and_then(|ax| {
                            let stored = perm.as_ref().map_or(ax, |p| p[ax]);
                            (b.shape()[stored] == n).then_some(stored)
                        });
                        match cut {
                            Some(stored) => BandValue::Owned(b.slice_axis(stored, lo, hi)),
                            None => BandValue::Borrowed(b),
                        }
                    }
                    Band::Elementwise { .. } => {
                        BandValue::Owned(input.eval(blocks, axis, lo, hi, n)?)
                    }
                    // A constant's band: as long as the consumer's along its own axis for
                    // the band's, unless it broadcasts there.
                    Band::Full { value, dtype, info } => {
                        let mut shape = info.shape.clone();
                        let k = shape.len();
                        if let Some(ax) = axis.checked_sub(ndim - k)
                            && shape[ax] == n
                        {
                            shape[ax] = hi - lo;
                        }
                        BandValue::Owned(DynArray::full(*dtype, &shape, *value))
                    }
                    Band::Boxes { f, info, perm, .. } => {
                        let ax = axis.checked_sub(ndim - info.shape.len());
                        BandValue::Owned(Band::boxes_band(
                            f,
                            info,
                            perm.as_deref(),
                            ax,
                            (lo, hi, n),
                        )?)
                    }
                })
            })
            .collect::<std::result::Result<Vec<_>, floe_graph::TaskError>>()?;
        let refs: Vec<BlockRef<'_>> = inputs
            .iter()
            .zip(&values)
            .map(|(input, v)| {
                let perm = match input {
                    Band::Block { perm, .. } | Band::Boxes { perm, .. } => perm.as_deref(),
                    Band::Elementwise { .. } | Band::Full { .. } => None,
                };
                BlockRef::permuted(v.get(), perm)
            })
            .collect();
        f(&refs, &info.band(axis, lo, hi))
    }
}

/// A band plan as data (see [`Band`]): constants, generators and elementwise kernels by
/// their descriptions.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum BandSpec {
    Block {
        dep: usize,
        perm: Option<Vec<usize>>,
        ndim: usize,
    },
    Full {
        value: f64,
        dtype: DType,
        info: crate::BlockInfo,
    },
    Source {
        source: crate::Source,
        info: crate::BlockInfo,
        perm: Option<Vec<usize>>,
    },
    Elementwise {
        kernel: crate::Kernel,
        info: crate::BlockInfo,
        inputs: Vec<BandSpec>,
    },
}

/// The task reducing blocks band by band, as data: see
/// [`TaskSpec::Banded`](crate::TaskSpec::Banded).
#[derive(Clone, Debug, PartialEq)]
pub struct BandedSpec {
    pub(crate) op: ReduceOp,
    pub(crate) axes: Vec<usize>,
    pub(crate) dtype: DType,
    pub(crate) axis: usize,
    pub(crate) rows: usize,
    pub(crate) along_kept: bool,
    pub(crate) infos: Vec<crate::BlockInfo>,
    pub(crate) bands: Vec<BandSpec>,
}

impl Band {
    /// The plan as data; `None` if a part of it is a user's function.
    fn spec(&self) -> Option<BandSpec> {
        Some(match self {
            Band::Block { dep, perm, ndim } => BandSpec::Block {
                dep: *dep,
                perm: perm.clone(),
                ndim: *ndim,
            },
            Band::Full { value, dtype, info } => BandSpec::Full {
                value: *value,
                dtype: *dtype,
                info: info.clone(),
            },
            Band::Boxes {
                source, info, perm, ..
            } => BandSpec::Source {
                source: source.clone()?,
                info: info.clone(),
                perm: perm.clone(),
            },
            Band::Elementwise {
                kernel,
                info,
                inputs,
                ..
            } => BandSpec::Elementwise {
                kernel: kernel.clone()?,
                info: info.clone(),
                inputs: inputs.iter().map(Band::spec).collect::<Option<_>>()?,
            },
        })
    }
}

impl Banded {
    /// The task as data; `None` if a band plan holds a user's function.
    pub(crate) fn spec(&self) -> Option<BandedSpec> {
        Some(BandedSpec {
            op: self.op,
            axes: self.axes.clone(),
            dtype: self.dtype,
            axis: self.axis,
            rows: self.rows,
            along_kept: self.along_kept,
            infos: self.infos.clone(),
            bands: self.bands.iter().map(Band::spec).collect::<Option<_>>()?,
        })
    }
}

impl BandSpec {
    /// The plan, its functions made from their descriptions; an error where the plan
    /// would index out of its blocks or make more than its consumer (see
    /// [`BandedSpec::banded`]). `consumer` is the shape of the node that reads this band.
    fn band(&self, consumer: &[usize], top: bool) -> std::result::Result<Band, TaskError> {
        let bad = |what: String| TaskError::msg(format!("a banded reduction's plan: {what}"));
        let ndim = |info: &crate::BlockInfo| info.shape.len();
        let aligned = |k: usize| {
            if k > consumer.len() {
                Err(bad(format!(
                    "an input of {k} axes under a node of {}",
                    consumer.len()
                )))
            } else {
                Ok(())
            }
        };
        // A node's shape as its consumer sees it broadcasts to the consumer's: no node is
        // larger than the block at the top.
        let broadcasts = |seen: &[usize]| {
            let skip = consumer.len() - seen.len();
            if seen
                .iter()
                .zip(&consumer[skip..])
                .all(|(&s, &c)| s == c || s == 1)
            {
                Ok(())
            } else {
                Err(bad(format!(
                    "a node of shape {seen:?} under one of {consumer:?}"
                )))
            }
        };
        Ok(match self {
            BandSpec::Block { .. } if top => return Err(bad("a block at the top".into())),
            BandSpec::Block { dep, perm, ndim } => {
                aligned(*ndim)?;
                if let Some(p) = perm {
                    crate::spec::check_perm(p, *ndim)?;
                }
                Band::Block {
                    dep: *dep,
                    perm: perm.clone(),
                    ndim: *ndim,
                }
            }
            BandSpec::Full { value, dtype, info } => {
                aligned(ndim(info))?;
                broadcasts(&info.shape)?;
                Band::Full {
                    value: *value,
                    dtype: *dtype,
                    info: info.clone(),
                }
            }
            BandSpec::Source { source, info, perm } => {
                aligned(ndim(info))?;
                let seen: Vec<usize> = match perm {
                    Some(p) => {
                        crate::spec::check_perm(p, ndim(info))?;
                        p.iter().map(|&a| info.shape[a]).collect()
                    }
                    None => info.shape.clone(),
                };
                broadcasts(&seen)?;
                source.check(info)?;
                Band::Boxes {
                    f: source.box_fn(),
                    source: Some(source.clone()),
                    info: info.clone(),
                    perm: perm.clone(),
                }
            }
            BandSpec::Elementwise {
                kernel,
                info,
                inputs,
            } => {
                // Nested elementwise nodes have their consumer's axes (see `Band::plan`).
                if ndim(info) != consumer.len() {
                    return Err(bad(format!(
                        "an elementwise node of {} axes under a node of {}",
                        ndim(info),
                        consumer.len()
                    )));
                }
                broadcasts(&info.shape)?;
                let k = kernel.clone();
                Band::Elementwise {
                    f: Arc::new(move |blocks: &[BlockRef<'_>], info: &crate::BlockInfo| {
                        k.run(blocks, info)
                    }),
                    kernel: Some(kernel.clone()),
                    info: info.clone(),
                    inputs: inputs
                        .iter()
                        .map(|b| b.band(&info.shape, false))
                        .collect::<std::result::Result<_, _>>()?,
                }
            }
        })
    }

    /// The task inputs the plan reads, each with the number of axes it expects.
    fn deps(&self, out: &mut Vec<(usize, usize)>) {
        match self {
            BandSpec::Block { dep, ndim, .. } => out.push((*dep, *ndim)),
            BandSpec::Elementwise { inputs, .. } => inputs.iter().for_each(|b| b.deps(out)),
            BandSpec::Full { .. } | BandSpec::Source { .. } => {}
        }
    }
}

impl BandedSpec {
    /// The task this spec describes, after checking that it cannot index out of its
    /// blocks: one plan per block, blocks of one number of axes, the same size along the
    /// axes kept, the band's axis and the reduced ones among them, and each plan's top as
    /// large as its block.
    pub(crate) fn banded(&self) -> std::result::Result<Banded, TaskError> {
        let bad = |what: String| Err(TaskError::msg(format!("a banded reduction: {what}")));
        let bad_band = |what: String| -> std::result::Result<Band, TaskError> {
            Err(TaskError::msg(format!("a banded reduction: {what}")))
        };
        let Some(first) = self.infos.first() else {
            return bad("no block".into());
        };
        let nd = first.shape.len();
        if self.bands.len() != self.infos.len() {
            return bad(format!(
                "{} band plans for {} blocks",
                self.bands.len(),
                self.infos.len()
            ));
        }
        if self.axis >= nd || self.rows == 0 || self.axes.is_empty() {
            return bad(format!(
                "bands of {} rows along axis {} of blocks of {nd} axes, reducing {:?}",
                self.rows, self.axis, self.axes
            ));
        }
        if !self.axes.windows(2).all(|w| w[0] < w[1]) || self.axes.iter().any(|&a| a >= nd) {
            return bad(format!("axes {:?} of blocks of {nd} axes", self.axes));
        }
        if self.along_kept == self.axes.contains(&self.axis) {
            return bad(format!(
                "bands along axis {} said {}to be a kept one, reducing {:?}",
                self.axis,
                if self.along_kept { "" } else { "not " },
                self.axes
            ));
        }
        // Bands of floe's own plans are about a megabyte each (`BAND_BYTES`): at most a
        // million rows of a byte each, and a million of them would be a block of a terabyte.
        let n = first.shape[self.axis];
        if self.rows > 1 << 20 || n.div_ceil(self.rows) > 1 << 20 {
            return bad(format!("bands of {} rows along an axis of {n}", self.rows));
        }
        let kept = |i: &crate::BlockInfo| -> Vec<usize> {
            (0..nd)
                .filter(|a| !self.axes.contains(a))
                .map(|a| i.shape[a])
                .collect()
        };
        for info in &self.infos {
            if info.shape.len() != nd
                || info.shape.contains(&0)
                || kept(info) != kept(first)
                || info.shape[self.axis] != first.shape[self.axis] && self.along_kept
            {
                return bad(format!(
                    "block of shape {:?} beside one of {:?}",
                    info.shape, first.shape
                ));
            }
        }
        let bands = self
            .bands
            .iter()
            .zip(&self.infos)
            .map(|(b, info)| {
                let top = match b {
                    BandSpec::Full { info, .. }
                    | BandSpec::Source { info, .. }
                    | BandSpec::Elementwise { info, .. } => Some(&info.shape),
                    BandSpec::Block { .. } => None,
                };
                if let Some(top) = top
                    && top != &info.shape
                {
                    return bad_band(format!(
                        "a plan of shape {top:?} for a block of {:?}",
                        info.shape
                    ));
                }
                b.band(&info.shape, true)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Banded::new(
            self.op,
            self.axes.clone(),
            self.dtype,
            (self.axis, self.rows, self.along_kept),
            self.infos.clone(),
            bands,
        ))
    }

    /// That `blocks` has every block the plans read, of the number of axes they expect.
    pub(crate) fn check_blocks(&self, blocks: &[&DynArray]) -> std::result::Result<(), TaskError> {
        let mut deps = Vec::new();
        self.bands.iter().for_each(|b| b.deps(&mut deps));
        for (dep, ndim) in deps {
            match blocks.get(dep) {
                Some(b) if b.shape().len() == ndim => {}
                Some(b) => {
                    return Err(TaskError::msg(format!(
                        "a banded reduction reads block {dep} as {ndim} axes; it has {}",
                        b.shape().len()
                    )));
                }
                None => {
                    return Err(TaskError::msg(format!(
                        "a banded reduction reads block {dep}, given {}",
                        blocks.len()
                    )));
                }
            }
        }
        Ok(())
    }
}
