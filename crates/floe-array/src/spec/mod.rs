//! Tasks as data: the kernels of array tasks described by their operation and parameters
//! alone, so that a task can be written down, sent to another process (a dask.distributed
//! worker) and run there by the same Rust kernel.
//!
//! Locally nothing changes: an operation builds its [`Kernel`], and the task's closure is
//! made from it once ([`Kernel::block_fn`]), so the description and what runs cannot
//! drift apart. Elementwise operations come first (binary, with a scalar, unary, `astype`,
//! `where`); sources, reductions, selections and the other plans follow.

mod ops;
mod read;
pub(crate) mod reduce;
mod source;

pub use ops::{BlockOp, OpenBlockOp, register_block_op};
pub(crate) use ops::{DescribeFn, Params, float_text, floats_json, same_op};
pub use read::{MAX_OPEN_READERS, OpenReader, ReadFn, Reader, close_readers, register_reader};
pub use source::Source;

use std::sync::Arc;

use floe_graph::{TaskError, Value};
use serde_json::{Value as Json, json};

use crate::block::{BlockInfo, BlockRef};
use crate::kernels::elementwise as kernels;
use crate::lower::{block_of, block_value};
use crate::reduction::Partial;
use crate::reduction::band::BandedSpec;
use crate::{ArrayError, BinaryOp, DType, DynArray, ReduceOp, Result, Scalar, UnaryOp};

/// An elementwise kernel as data: what an output block is computed from its input blocks
/// (broadcast to the block's shape, in input order).
///
/// # Examples
///
/// ```
/// use floe_array::{DType, Kernel};
///
/// let x = floe_array::ones(&[4, 4], [2_usize, 2], DType::F32)?;
/// let y = x.add_scalar(1.5)?;
/// let kernel = y.kernel().expect("an elementwise node");
/// let text = kernel.to_json().to_string();
/// assert_eq!(Kernel::from_json(&serde_json::from_str(&text).unwrap())?, kernel);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kernel {
    /// `op` of two blocks.
    #[non_exhaustive]
    Binary {
        /// The operation.
        op: BinaryOp,
        /// The dtype both operands are converted to first.
        compute_in: DType,
        /// The output's dtype.
        out: DType,
    },
    /// `op` of a block and a scalar: `x - 1`, or with `scalar_first`, `1 - x`.
    #[non_exhaustive]
    WithScalar {
        /// The operation.
        op: BinaryOp,
        /// The scalar.
        scalar: Scalar,
        /// The dtype the scalar is held in (NumPy 2's weak typing: see [`Scalar`]).
        scalar_dtype: DType,
        /// Whether the scalar is the left operand.
        scalar_first: bool,
        /// The dtype both operands are converted to first.
        compute_in: DType,
        /// The output's dtype.
        out: DType,
    },
    /// A unary function.
    #[non_exhaustive]
    Unary {
        /// The function.
        op: UnaryOp,
        /// The output's dtype.
        out: DType,
    },
    /// The elements converted to `dtype`, broadcast to the block's shape (as
    /// `broadcast_to` and `expand_dims` use it, converting to the block's own dtype).
    #[non_exhaustive]
    AsType {
        /// The output's dtype.
        dtype: DType,
    },
    /// `where(cond, x, y)`.
    #[non_exhaustive]
    Where {
        /// The output's dtype.
        out: DType,
    },
    /// The real or imaginary part of a complex block, as the complex reductions read it;
    /// with `masked`, NaN wherever either part is.
    #[non_exhaustive]
    Part {
        /// The imaginary part (else the real).
        imag: bool,
        /// NaN wherever either part is NaN.
        masked: bool,
        /// The output's dtype (the parts' real dtype).
        out: DType,
    },
    /// A complex block from two real blocks, its parts; with `mean`, as a complex mean
    /// from the means of its parts (a part that is not finite makes the other NaN).
    #[non_exhaustive]
    FromParts {
        /// A mean's parts.
        mean: bool,
        /// The output's dtype.
        out: DType,
    },
}

impl Kernel {
    /// The number of input blocks the kernel reads.
    pub fn inputs(&self) -> usize {
        match self {
            Kernel::Binary { .. } | Kernel::FromParts { .. } => 2,
            Kernel::WithScalar { .. }
            | Kernel::Unary { .. }
            | Kernel::AsType { .. }
            | Kernel::Part { .. } => 1,
            Kernel::Where { .. } => 3,
        }
    }

    /// The output's dtype.
    pub fn dtype(&self) -> DType {
        match *self {
            Kernel::Binary { out, .. }
            | Kernel::WithScalar { out, .. }
            | Kernel::Unary { out, .. }
            | Kernel::Where { out }
            | Kernel::Part { out, .. }
            | Kernel::FromParts { out, .. } => out,
            Kernel::AsType { dtype } => dtype,
        }
    }

    /// The output block `info` from `blocks`.
    ///
    /// # Errors
    ///
    /// A [`TaskError`] for the wrong number of blocks, blocks that do not broadcast to
    /// `info.shape`, or what the operation refuses (a negative integer power).
    pub fn run(&self, blocks: &[BlockRef<'_>], info: &BlockInfo) -> Result<DynArray, TaskError> {
        self.check_inputs(blocks)?;
        let out = self.compute(blocks, info)?;
        if out.shape() != info.shape.as_slice() || out.dtype() != self.dtype() {
            return Err(TaskError::msg(format!(
                "{} made a {} block of shape {:?} where {} of {:?} was described",
                self.name(),
                out.dtype(),
                out.shape(),
                self.dtype(),
                info.shape
            )));
        }
        Ok(out)
    }

    /// That `blocks` are what the kernel was made for: their number, and dtypes giving the
    /// kernel's own (a kernel read from JSON may be run on anything).
    fn check_inputs(&self, blocks: &[BlockRef<'_>]) -> Result<(), TaskError> {
        if blocks.len() != self.inputs() {
            return Err(TaskError::msg(format!(
                "{} reads {} blocks, given {}",
                self.name(),
                self.inputs(),
                blocks.len()
            )));
        }
        let d = |i: usize| blocks[i].dtype();
        let fits = match *self {
            Kernel::Binary {
                op,
                compute_in,
                out,
            } => op.dtypes(d(0), d(1)).ok() == Some((compute_in, out)),
            Kernel::WithScalar {
                op,
                scalar_dtype,
                scalar_first,
                compute_in,
                out,
                ..
            } => {
                let (a, b) = if scalar_first {
                    (scalar_dtype, d(0))
                } else {
                    (d(0), scalar_dtype)
                };
                op.dtypes(a, b).ok() == Some((compute_in, out))
            }
            Kernel::Unary { op, out } => op.dtype(d(0)).ok() == Some(out),
            Kernel::AsType { .. } => true,
            Kernel::Where { out } => d(0) == DType::Bool && d(1).promote(d(2)) == out,
            Kernel::Part { out, .. } => d(0).is_complex() && d(0).real() == out,
            Kernel::FromParts { out, .. } => {
                !d(0).is_complex() && !d(1).is_complex() && d(0).promote(d(1)).complex() == out
            }
        };
        if fits {
            return Ok(());
        }
        let dtypes: Vec<&str> = blocks.iter().map(|b| b.dtype().name()).collect();
        Err(TaskError::msg(format!(
            "{} giving {} does not take blocks of {}",
            self.name(),
            self.dtype(),
            dtypes.join(", ")
        )))
    }

    /// The output block, inputs unchecked (the local tasks', made by the operation itself).
    fn compute(&self, blocks: &[BlockRef<'_>], info: &BlockInfo) -> Result<DynArray, TaskError> {
        match *self {
            Kernel::Binary {
                op,
                compute_in,
                out,
            } => kernels::binary(op, &blocks[0], &blocks[1], compute_in, out, &info.shape),
            Kernel::WithScalar {
                op,
                scalar,
                scalar_dtype,
                scalar_first,
                compute_in,
                out,
            } => with_scalar(
                op,
                &scalar.fill(scalar_dtype, &[]),
                &blocks[0],
                scalar_first,
                (compute_in, out),
                &info.shape,
            ),
            Kernel::Unary { op, out } => kernels::unary(op, &blocks[0], out),
            Kernel::AsType { dtype } => {
                let block = blocks[0].to_owned();
                if block.shape() == info.shape.as_slice() {
                    return Ok(block.astype(dtype));
                }
                // Broadcast first (`expand_dims`, `broadcast_to`: the conversion to the
                // block's own dtype). New length-1 axes alone keep the elements in order:
                // the block is reshaped, not copied again.
                let shape = block.shape().to_vec();
                let fails = || {
                    TaskError::msg(format!(
                        "a block of shape {shape:?} does not broadcast to {:?}",
                        info.shape
                    ))
                };
                let target = ndarray::IxDyn(&info.shape);
                crate::with_array!(block, x => {
                    x.broadcast(target.clone()).ok_or_else(fails)?;
                    if x.len() == info.shape.iter().product::<usize>() && x.is_standard_layout() {
                        x.into_shape_with_order(target).map(DynArray::from).map_err(|_| fails())
                    } else {
                        x.broadcast(target).map(|v| DynArray::from(v.to_owned())).ok_or_else(fails)
                    }
                })
                .map(|b| b.astype(dtype))
            }
            Kernel::Where { out } => {
                kernels::select(&blocks[0], &blocks[1], &blocks[2], out, &info.shape)
            }
            Kernel::Part { imag, masked, out } => Ok(crate::reduction::complex::part_block(
                &blocks[0], imag, masked, out,
            )),
            Kernel::FromParts { mean, out } => {
                crate::elementwise::parts_block(&blocks[0], &blocks[1], mean, out, &info.shape)
            }
        }
    }

    /// The operation's name, as task keys show it.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Binary { op, .. } | Kernel::WithScalar { op, .. } => op.name(),
            Kernel::Unary { op, .. } => op.name(),
            Kernel::AsType { .. } => "astype",
            Kernel::Where { .. } => "where",
            Kernel::Part { imag: false, .. } => "real",
            Kernel::Part { imag: true, .. } => "imag",
            Kernel::FromParts { mean: false, .. } => "complex",
            Kernel::FromParts { mean: true, .. } => "mean",
        }
    }

    /// The closure a local task runs: this kernel, made once.
    pub(crate) fn block_fn(&self) -> crate::BlockFn {
        match self.clone() {
            // The scalar's block is made once, not per block.
            Kernel::WithScalar {
                op,
                scalar,
                scalar_dtype,
                scalar_first,
                compute_in,
                out,
            } => {
                let constant = scalar.fill(scalar_dtype, &[]);
                Arc::new(move |blocks: &[BlockRef<'_>], info: &BlockInfo| {
                    with_scalar(
                        op,
                        &constant,
                        &blocks[0],
                        scalar_first,
                        (compute_in, out),
                        &info.shape,
                    )
                })
            }
            kernel => Arc::new(move |blocks: &[BlockRef<'_>], info: &BlockInfo| {
                kernel.compute(blocks, info)
            }),
        }
    }

    /// The kernel as JSON: `{"kernel": "binary", "op": "add", ...}`, dtypes and operations
    /// by their NumPy names, floats as text (so that NaN and infinities survive).
    pub fn to_json(&self) -> Json {
        match *self {
            Kernel::Binary {
                op,
                compute_in,
                out,
            } => {
                json!({"kernel": "binary", "op": op.name(), "compute_in": compute_in.name(), "out": out.name()})
            }
            Kernel::WithScalar {
                op,
                scalar,
                scalar_dtype,
                scalar_first,
                compute_in,
                out,
            } => json!({
                "kernel": "with_scalar", "op": op.name(), "scalar": scalar_json(scalar),
                "scalar_dtype": scalar_dtype.name(), "scalar_first": scalar_first,
                "compute_in": compute_in.name(), "out": out.name(),
            }),
            Kernel::Unary { op, out } => {
                json!({"kernel": "unary", "op": op.name(), "out": out.name()})
            }
            Kernel::AsType { dtype } => json!({"kernel": "astype", "dtype": dtype.name()}),
            Kernel::Where { out } => json!({"kernel": "where", "out": out.name()}),
            Kernel::Part { imag, masked, out } => {
                json!({"kernel": "part", "imag": imag, "masked": masked, "out": out.name()})
            }
            Kernel::FromParts { mean, out } => {
                json!({"kernel": "from_parts", "mean": mean, "out": out.name()})
            }
        }
    }

    /// The kernel [`Kernel::to_json`] wrote.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] naming the field that is missing or not understood.
    pub fn from_json(v: &Json) -> Result<Kernel> {
        let text = |field: &'static str| {
            v.get(field)
                .and_then(Json::as_str)
                .ok_or_else(|| bad(format!("no text field `{field}` in {v}")))
        };
        let dtype = |field: &'static str| {
            let name = text(field)?;
            DType::from_name(name).ok_or_else(|| bad(format!("`{field}`: no dtype `{name}`")))
        };
        let binary = || {
            let name = text("op")?;
            BinaryOp::from_numpy_name(name)
                .ok_or_else(|| bad(format!("no binary operation `{name}`")))
        };
        Ok(match text("kernel")? {
            "binary" => Kernel::Binary {
                op: binary()?,
                compute_in: dtype("compute_in")?,
                out: dtype("out")?,
            },
            "with_scalar" => Kernel::WithScalar {
                op: binary()?,
                scalar: scalar_from_json(
                    v.get("scalar")
                        .ok_or_else(|| bad(format!("no field `scalar` in {v}")))?,
                )?,
                scalar_dtype: dtype("scalar_dtype")?,
                scalar_first: v
                    .get("scalar_first")
                    .and_then(Json::as_bool)
                    .ok_or_else(|| bad(format!("no boolean `scalar_first` in {v}")))?,
                compute_in: dtype("compute_in")?,
                out: dtype("out")?,
            },
            "unary" => {
                let name = text("op")?;
                Kernel::Unary {
                    op: UnaryOp::from_numpy_name(name)
                        .ok_or_else(|| bad(format!("no unary operation `{name}`")))?,
                    out: dtype("out")?,
                }
            }
            "astype" => Kernel::AsType {
                dtype: dtype("dtype")?,
            },
            "where" => Kernel::Where { out: dtype("out")? },
            "part" | "from_parts" => {
                let flag = |field: &'static str| {
                    v.get(field)
                        .and_then(Json::as_bool)
                        .ok_or_else(|| bad(format!("no boolean `{field}` in {v}")))
                };
                if text("kernel")? == "part" {
                    Kernel::Part {
                        imag: flag("imag")?,
                        masked: flag("masked")?,
                        out: dtype("out")?,
                    }
                } else {
                    Kernel::FromParts {
                        mean: flag("mean")?,
                        out: dtype("out")?,
                    }
                }
            }
            other => return Err(bad(format!("no kernel `{other}`"))),
        })
    }
}

/// `op` of `block` and the scalar's block `constant`, the scalar first or second, computed
/// in `dtypes.0` giving `dtypes.1`.
fn with_scalar(
    op: BinaryOp,
    constant: &DynArray,
    block: &BlockRef<'_>,
    scalar_first: bool,
    (compute_in, out): (DType, DType),
    shape: &[usize],
) -> Result<DynArray, TaskError> {
    let c = BlockRef::new(constant);
    let (a, b) = if scalar_first {
        (&c, block)
    } else {
        (block, &c)
    };
    kernels::binary(op, a, b, compute_in, out, shape)
}

fn bad(message: String) -> ArrayError {
    ArrayError::invalid("kernel", message)
}

fn bad_task(message: String) -> ArrayError {
    ArrayError::invalid("task spec", message)
}

/// A float as text Rust reads back exactly (`NaN`, `inf` and `-inf` included).
fn float_json(x: f64) -> Json {
    Json::String(x.to_string())
}

fn float_from_json(v: &Json) -> Result<f64> {
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or_else(|| bad(format!("not a float written as text: {v}")))
}

fn scalar_json(s: Scalar) -> Json {
    match s {
        Scalar::Bool(b) => json!({"bool": b}),
        Scalar::Int(i) => json!({"int": i}),
        Scalar::Float(x) => json!({"float": float_json(x)}),
        Scalar::Complex(re, im) => json!({"complex": [float_json(re), float_json(im)]}),
    }
}

fn scalar_from_json(v: &Json) -> Result<Scalar> {
    if let Some(b) = v.get("bool").and_then(Json::as_bool) {
        return Ok(Scalar::Bool(b));
    }
    if let Some(i) = v.get("int").and_then(Json::as_i64) {
        return Ok(Scalar::Int(i));
    }
    if let Some(x) = v.get("float") {
        return Ok(Scalar::Float(float_from_json(x)?));
    }
    if let Some([re, im]) = v.get("complex").and_then(Json::as_array).map(Vec::as_slice) {
        return Ok(Scalar::Complex(float_from_json(re)?, float_from_json(im)?));
    }
    Err(bad(format!("not a scalar: {v}")))
}

impl crate::Array {
    /// The elementwise kernel this array's blocks are computed with, as data (see
    /// [`Kernel`]); `None` for other operations (sources, reductions, maps over blocks…).
    pub fn kernel(&self) -> Option<Kernel> {
        match &self.node.expr {
            crate::expr::Expr::Blockwise { kernel, .. } => kernel.clone(),
            _ => None,
        }
    }
}

/// A task as data: what it computes from its dependencies' values (in order). The kinds:
/// constants, generators, file reads, blocks held in memory, elementwise kernels,
/// transposes, reshapes, gathers (slices, rechunks, concatenations), reductions (partials,
/// banded partials, combines, finalizes), scans (`cumsum` and the others) and registered
/// block functions ([`BlockOp`]: floe-array's own — FFTs, histograms, quantiles, `topk`,
/// `coarsen`, `vindex`, mask selections, `nonzero`, `unique`, diagonals, `digitize` — and
/// floe-linalg's TSQR, SVD, solvers and matrix products). Blocks of sizes known only once
/// computed (a mask's selection) are described too: their tasks take those sizes from
/// their blocks. [`Lowering::recording_specs`](crate::Lowering::recording_specs) records
/// one for each task, except those of nodes built from Rust closures (`map_blocks`,
/// `blockwise`, `from_fn`, `from_blocks`; [`from_blocks_op`](crate::from_blocks_op) and
/// [`try_from_fn_op`](crate::try_from_fn_op) are described). Task ids are the lowering's
/// graph's, before culling or fusion; [`TaskSpec::Chain`] describes a fused chain.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum TaskSpec {
    /// A block of `shape`, every element `value` (as `dtype`).
    #[non_exhaustive]
    Full {
        /// The value.
        value: f64,
        /// The block's dtype.
        dtype: DType,
        /// The block's shape.
        shape: Vec<usize>,
    },
    /// A block held in memory, shared (never copied): it travels as data, not as JSON.
    Block(Arc<DynArray>),
    /// An elementwise kernel over the dependencies' blocks, each seen through its axis
    /// permutation (a transposed input is its source's block, permuted).
    #[non_exhaustive]
    Elementwise {
        /// The kernel.
        kernel: Kernel,
        /// The output block.
        info: BlockInfo,
        /// Per dependency, the permutation it is seen through.
        perms: Vec<Option<Vec<usize>>>,
        /// Over blocks of unknown sizes: per axis of the output, whether its size is
        /// unknown, and the same flags per dependency (seen through its permutation); the
        /// output's size along those axes is the blocks' own (`info.shape` a bound).
        unknown: Option<(Vec<bool>, Vec<Vec<bool>>)>,
    },
    /// The dependency's block with its axes permuted (output axis `i` is input axis
    /// `perm[i]`).
    #[non_exhaustive]
    Transpose {
        /// The permutation.
        perm: Vec<usize>,
    },
    /// The dependency's block's elements in the output block's shape.
    #[non_exhaustive]
    Reshape {
        /// The output block.
        info: BlockInfo,
    },
    /// Pieces of the dependencies' blocks put together: a slice (strided or not), a
    /// rechunk, a concatenation.
    Gather(crate::gather::GatherSpec),
    /// A generator's block: the box `info` of `source`.
    #[non_exhaustive]
    Source {
        /// The generator.
        source: Source,
        /// The block.
        info: BlockInfo,
    },
    /// A reduction's partial result of one block (`info`): the block with its reduced
    /// `axes` at length 1, with what combining needs (counts, moments, indices).
    #[non_exhaustive]
    Partial {
        /// The reduction.
        op: ReduceOp,
        /// The reduced axes, ascending.
        axes: Vec<usize>,
        /// The block (a bound along axes of unknown size).
        info: BlockInfo,
        /// Per axis, whether the block's size along it is known only once computed.
        unknown: Vec<bool>,
    },
    /// The dependencies' partials combined into one.
    #[non_exhaustive]
    Combine {
        /// The reduction.
        op: ReduceOp,
        /// The reduced axes, ascending.
        axes: Vec<usize>,
    },
    /// A reduction's output block from its last partial.
    #[non_exhaustive]
    Finalize {
        /// The reduction.
        op: ReduceOp,
        /// The reduced axes, ascending.
        axes: Vec<usize>,
        /// Whether the reduced axes stay (at length 1).
        keepdims: bool,
        /// The output's dtype.
        dtype: DType,
    },
    /// The partial of one or more blocks of an elementwise chain over constants,
    /// generators and made blocks, computed a cache-sized band at a time: the chain's
    /// blocks are never made whole.
    Banded(Box<BandedSpec>),
    /// A cumulative operation's block along `axis`: the first dependency's block scanned
    /// from the second's carry (if any), every running value if `running`, else only the
    /// block's total (the axis at length 1).
    #[non_exhaustive]
    Scan {
        /// The operation.
        op: crate::ScanOp,
        /// The scanned axis.
        axis: usize,
        /// The dtype the scan runs and results in.
        dtype: DType,
        /// Whether every running value is kept (else the total).
        running: bool,
    },
    /// The carry into a scan's next block: the dependencies' carry and total combined.
    #[non_exhaustive]
    ScanCarry {
        /// The operation.
        op: crate::ScanOp,
        /// The dtype.
        dtype: DType,
    },
    /// A registered block function (see [`BlockOp`]) of the dependencies' blocks: a
    /// task of a [`from_blocks_op`](crate::from_blocks_op) array.
    #[non_exhaustive]
    Blocks {
        /// The function.
        op: BlockOp,
        /// The output block.
        info: BlockInfo,
        /// The output's dtype.
        dtype: DType,
        /// Per axis, whether the block's size along it is known only once computed (then
        /// `info.shape` is an upper bound).
        unknown: Vec<bool>,
    },
    /// Tasks run in turn, each on the one before's value (the first on the dependencies'):
    /// a linear chain fused into one task, as floe's scheduler fuses them.
    Chain(Vec<TaskSpec>),
}

impl TaskSpec {
    /// The task's value from its dependencies' values: an array block, or a reduction's
    /// partial result (which travels between processes as bytes: see
    /// [`TaskSpec::value_to_bytes`]).
    ///
    /// # Errors
    ///
    /// A [`TaskError`] for the wrong number or kinds of values, or blocks and partials of
    /// other shapes than the task describes.
    pub fn run(&self, inputs: &[Value]) -> Result<Value, TaskError> {
        let partials = || {
            inputs
                .iter()
                .map(|v| {
                    v.downcast_ref::<Partial>().ok_or_else(|| {
                        TaskError::msg(format!("a {} task reads partial results", self.kind()))
                    })
                })
                .collect::<Result<Vec<&Partial>, TaskError>>()
        };
        let blocks = || {
            inputs
                .iter()
                .map(block_of)
                .collect::<Result<Vec<&DynArray>, TaskError>>()
        };
        Ok(match self {
            TaskSpec::Partial {
                op,
                axes,
                info,
                unknown,
            } => {
                let bs = blocks()?;
                let [b] = bs.as_slice() else {
                    return Err(TaskError::msg(format!(
                        "a partial task reads one block, given {}",
                        inputs.len()
                    )));
                };
                check_axes(axes, b.shape().len())?;
                if !crate::select::fits_known(b.shape(), &info.shape, unknown)
                    || info.offset.len() != info.shape.len()
                {
                    return Err(TaskError::msg(format!(
                        "a partial task of a block of shape {:?} given one of {:?}",
                        info.shape,
                        b.shape()
                    )));
                }
                crate::spill::partial_value(crate::kernels::reduction::partial(*op, b, axes, info)?)
            }
            TaskSpec::Combine { op, axes } => {
                let parts = partials()?;
                check_partials(&parts, axes)?;
                crate::spill::partial_value(crate::kernels::reduction::combine(*op, &parts, axes)?)
            }
            TaskSpec::Finalize {
                op,
                axes,
                keepdims,
                dtype,
            } => {
                let parts = partials()?;
                if parts.len() != 1 {
                    return Err(TaskError::msg(format!(
                        "a finalize task reads one partial result, given {}",
                        parts.len()
                    )));
                }
                check_partials(&parts, axes)?;
                block_value(crate::reduction::finalize(
                    *op, parts[0], *dtype, axes, *keepdims,
                )?)
            }
            TaskSpec::Block(b) if inputs.is_empty() => {
                // Shared, never copied.
                Value::from_arc(Arc::clone(b), b.nbytes()).spillable(&crate::spill::BLOCK_CODEC)
            }
            TaskSpec::Banded(spec) => {
                let blocks = blocks()?;
                spec.check_blocks(&blocks)?;
                crate::spill::partial_value(spec.banded()?.run(&blocks)?)
            }
            TaskSpec::Chain(stages) => {
                let Some((first, rest)) = stages.split_first() else {
                    return Err(TaskError::msg("a chain of no task"));
                };
                let mut value = first.run(inputs)?;
                for stage in rest {
                    value = stage.run(std::slice::from_ref(&value))?;
                }
                value
            }
            _ => block_value(self.block(&blocks()?)?),
        })
    }

    /// The block of a task of an array kind (not a reduction's partial) from its
    /// dependencies' blocks.
    fn block(&self, inputs: &[&DynArray]) -> Result<DynArray, TaskError> {
        let one = || match inputs {
            [b] => Ok(*b),
            _ => Err(TaskError::msg(format!(
                "a {} task reads one block, given {}",
                self.kind(),
                inputs.len()
            ))),
        };
        match self {
            TaskSpec::Full {
                value,
                dtype,
                shape,
            } => {
                if crate::block::shape_bytes(shape, dtype.itemsize())
                    .is_none_or(|bytes| bytes > MAX_SPEC_BLOCK_BYTES)
                {
                    return Err(TaskError::msg(format!(
                        "a constant block of shape {shape:?} is too large"
                    )));
                }
                Ok(DynArray::full(*dtype, shape, *value))
            }
            TaskSpec::Block(b) => Ok(DynArray::clone(b)),
            TaskSpec::Elementwise {
                kernel,
                info,
                perms,
                unknown,
            } => {
                if perms.len() != inputs.len() {
                    return Err(TaskError::msg(format!(
                        "an elementwise task of {} inputs given {} blocks",
                        perms.len(),
                        inputs.len()
                    )));
                }
                for (b, p) in inputs.iter().zip(perms) {
                    if let Some(p) = p {
                        check_perm(p, b.shape().len())?;
                    }
                }
                let blocks: Vec<BlockRef<'_>> = inputs
                    .iter()
                    .zip(perms)
                    .map(|(b, p)| BlockRef::permuted(b, p.as_deref()))
                    .collect();
                match unknown {
                    None => kernel.run(&blocks, info),
                    Some((out, flags)) => {
                        let fits = out.len() == info.shape.len()
                            && flags.len() == blocks.len()
                            && flags
                                .iter()
                                .zip(&blocks)
                                .all(|(f, b)| f.len() == b.shape().len());
                        if !fits {
                            return Err(TaskError::msg(
                                "an elementwise task's flags of unknown sizes do not match its blocks",
                            ));
                        }
                        let info = crate::select::runtime_info(info, out, &blocks, flags)?;
                        kernel.run(&blocks, &info)
                    }
                }
            }
            TaskSpec::Transpose { perm } => {
                let b = one()?;
                check_perm(perm, b.shape().len())?;
                Ok(
                    crate::with_array!(b, a => DynArray::from(crate::block::transpose(a.view(), perm))),
                )
            }
            TaskSpec::Reshape { info } => crate::kernels::reshape::reshape_block(one()?, info),
            TaskSpec::Gather(g) => g.run(inputs),
            TaskSpec::Source { source, info } => {
                if !inputs.is_empty() {
                    return Err(TaskError::msg(format!(
                        "a source task reads no block, given {}",
                        inputs.len()
                    )));
                }
                // Checked before it is cut into pieces.
                source.check(info)?;
                crate::lower::box_in_pieces(&|i: &BlockInfo| source.make(i), source.dtype(), info)
            }
            TaskSpec::Scan {
                op,
                axis,
                dtype,
                running,
            } => match inputs {
                [x] => crate::scan::scan_block(x, None, *op, *axis, *dtype, *running),
                [x, carry] if *running => {
                    crate::scan::scan_block(x, Some(carry), *op, *axis, *dtype, true)
                }
                _ => Err(TaskError::msg(format!(
                    "a scan task reads a block{}, given {} blocks",
                    if *running { " and a carry" } else { "" },
                    inputs.len()
                ))),
            },
            TaskSpec::ScanCarry { op, dtype } => match inputs {
                [c, t] => crate::scan::carry_block(c, t, *op, *dtype),
                _ => Err(TaskError::msg(format!(
                    "a scan-carry task reads a carry and a total, given {} blocks",
                    inputs.len()
                ))),
            },
            TaskSpec::Blocks {
                op,
                info,
                dtype,
                unknown,
            } => {
                let f = op.open()?;
                // A registered function given other blocks than its arrays' (a task read
                // from elsewhere) may index past them: its panic is the task's error.
                let out =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(inputs, info)))
                        .map_err(TaskError::from_panic)??;
                if !crate::select::fits_known(out.shape(), &info.shape, unknown)
                    || out.dtype() != *dtype
                {
                    return Err(TaskError::msg(format!(
                        "block function `{}` made a {} block of shape {:?} where {dtype} of {:?} was described",
                        op.name(),
                        out.dtype(),
                        out.shape(),
                        info.shape
                    )));
                }
                Ok(out)
            }
            TaskSpec::Partial { .. }
            | TaskSpec::Combine { .. }
            | TaskSpec::Finalize { .. }
            | TaskSpec::Banded(_)
            | TaskSpec::Chain(_) => Err(TaskError::msg(format!(
                "internal error: a {} task run as an array task",
                self.kind()
            ))),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            TaskSpec::Full { .. } => "full",
            TaskSpec::Block(_) => "block",
            TaskSpec::Elementwise { .. } => "elementwise",
            TaskSpec::Transpose { .. } => "transpose",
            TaskSpec::Reshape { .. } => "reshape",
            TaskSpec::Gather(_) => "gather",
            TaskSpec::Source { .. } => "source",
            TaskSpec::Partial { .. } => "partial",
            TaskSpec::Combine { .. } => "combine",
            TaskSpec::Finalize { .. } => "finalize",
            TaskSpec::Banded(_) => "banded",
            TaskSpec::Scan { .. } => "scan",
            TaskSpec::ScanCarry { .. } => "scan-carry",
            TaskSpec::Blocks { .. } => "blocks",
            TaskSpec::Chain(_) => "chain",
        }
    }

    /// A task's value as bytes, for another process on a machine of the same byte order:
    /// an array block, or a reduction's partial result (which has no array form); `None`
    /// for other values.
    pub fn value_to_bytes(value: &Value) -> Option<Vec<u8>> {
        let (tag, codec) = if value.is::<DynArray>() {
            (b'B', &crate::spill::BLOCK_CODEC)
        } else if value.is::<Partial>() {
            (b'P', &crate::spill::PARTIAL_CODEC)
        } else {
            return None;
        };
        let mut out = vec![tag];
        (codec.write)(value, &mut out).ok()?;
        Some(out)
    }

    /// The value [`TaskSpec::value_to_bytes`] wrote.
    ///
    /// # Errors
    ///
    /// A [`TaskError`] naming what is wrong with bytes it did not write.
    pub fn value_from_bytes(bytes: &[u8]) -> Result<Value, TaskError> {
        let read = match bytes.first() {
            Some(b'B') => crate::spill::read_block_within,
            Some(b'P') => crate::spill::read_partial_within,
            _ => {
                return Err(TaskError::msg(
                    "not a task value: bytes start with neither a block's tag nor a partial's",
                ));
            }
        };
        let mut rest = &bytes[1..];
        let value = read(&mut rest, bytes.len())
            .map_err(|e| TaskError::msg(format!("a task value's bytes: {e}")))?;
        if !rest.is_empty() {
            return Err(TaskError::msg(format!(
                "a task value's bytes: {} bytes after the value",
                rest.len()
            )));
        }
        Ok(value)
    }

    /// The spec as JSON; `None` for a block held in memory (which travels as data).
    pub fn to_json(&self) -> Option<Json> {
        Some(match self {
            TaskSpec::Full {
                value,
                dtype,
                shape,
            } => {
                json!({"task": "full", "value": float_json(*value), "dtype": dtype.name(), "shape": shape})
            }
            TaskSpec::Block(_) => return None,
            TaskSpec::Elementwise {
                kernel,
                info,
                perms,
                unknown,
            } => {
                let mut v = json!({"task": "elementwise", "kernel": kernel.to_json(), "info": info_json(info), "perms": perms});
                if let Some((out, inputs)) = unknown {
                    v["unknown"] = json!({"out": out, "inputs": inputs});
                }
                v
            }
            TaskSpec::Transpose { perm } => json!({"task": "transpose", "perm": perm}),
            TaskSpec::Reshape { info } => json!({"task": "reshape", "info": info_json(info)}),
            TaskSpec::Gather(g) => json!({
                "task": "gather", "dtype": g.dtype.name(), "out_shape": g.out_shape,
                "squeeze": g.squeeze, "unknown": g.runtime,
                "pieces": g.pieces.iter().map(|(slot, segs)| json!([slot, segs.iter().map(|s| {
                    json!([s.source, s.block, s.lo, s.hi, s.step, s.dest, s.len])
                }).collect::<Vec<_>>()])).collect::<Vec<_>>(),
            }),
            TaskSpec::Source { source, info } => {
                json!({"task": "source", "source": source.to_json(), "info": info_json(info)})
            }
            TaskSpec::Partial {
                op,
                axes,
                info,
                unknown,
            } => {
                json!({"task": "partial", "op": reduce::op_json(*op), "axes": axes, "info": info_json(info), "unknown": unknown})
            }
            TaskSpec::Combine { op, axes } => {
                json!({"task": "combine", "op": reduce::op_json(*op), "axes": axes})
            }
            TaskSpec::Finalize {
                op,
                axes,
                keepdims,
                dtype,
            } => json!({
                "task": "finalize", "op": reduce::op_json(*op), "axes": axes,
                "keepdims": keepdims, "dtype": dtype.name(),
            }),
            TaskSpec::Banded(spec) => reduce::banded_json(spec),
            TaskSpec::Scan {
                op,
                axis,
                dtype,
                running,
            } => json!({
                "task": "scan", "op": op.name(), "axis": axis, "dtype": dtype.name(),
                "running": running,
            }),
            TaskSpec::ScanCarry { op, dtype } => {
                json!({"task": "scan-carry", "op": op.name(), "dtype": dtype.name()})
            }
            TaskSpec::Blocks {
                op,
                info,
                dtype,
                unknown,
            } => json!({
                "task": "blocks", "op": op.to_json(), "info": info_json(info), "dtype": dtype.name(),
                "unknown": unknown,
            }),
            TaskSpec::Chain(stages) => json!({
                "task": "chain",
                "stages": stages.iter().map(TaskSpec::to_json).collect::<Option<Vec<_>>>()?,
            }),
        })
    }

    /// The spec [`TaskSpec::to_json`] wrote.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] naming what is missing or not understood.
    pub fn from_json(v: &Json) -> Result<TaskSpec> {
        let field = |name: &'static str| {
            v.get(name)
                .ok_or_else(|| bad_task(format!("no field `{name}` in {v}")))
        };
        let task = field("task")?
            .as_str()
            .ok_or_else(|| bad_task(format!("`task` is not text in {v}")))?;
        Ok(match task {
            "full" => TaskSpec::Full {
                value: float_from_json(field("value")?)?,
                dtype: dtype_from_json(field("dtype")?)?,
                shape: usizes(field("shape")?)?,
            },
            "elementwise" => TaskSpec::Elementwise {
                kernel: Kernel::from_json(field("kernel")?)?,
                info: info_from_json(field("info")?)?,
                perms: field("perms")?
                    .as_array()
                    .ok_or_else(|| bad_task(format!("`perms` is not a list in {v}")))?
                    .iter()
                    .map(|p| {
                        if p.is_null() {
                            Ok(None)
                        } else {
                            usizes(p).map(Some)
                        }
                    })
                    .collect::<Result<_>>()?,
                unknown: match v.get("unknown") {
                    None => None,
                    Some(u) => {
                        let flags = |f: &Json| -> Option<Vec<bool>> {
                            f.as_array()?.iter().map(Json::as_bool).collect()
                        };
                        let out = u.get("out").and_then(flags);
                        let inputs = u
                            .get("inputs")
                            .and_then(Json::as_array)
                            .and_then(|i| i.iter().map(flags).collect::<Option<Vec<_>>>());
                        match (out, inputs) {
                            (Some(out), Some(inputs)) => Some((out, inputs)),
                            _ => {
                                return Err(bad_task(format!(
                                    "`unknown` is not flags of the output and inputs in {v}"
                                )));
                            }
                        }
                    }
                },
            },
            "transpose" => TaskSpec::Transpose {
                perm: usizes(field("perm")?)?,
            },
            "reshape" => TaskSpec::Reshape {
                info: info_from_json(field("info")?)?,
            },
            "gather" => {
                let segment = |s: &Json| -> Result<crate::gather::Segment> {
                    let f = s
                        .as_array()
                        .filter(|f| f.len() == 7)
                        .ok_or_else(|| bad_task(format!("a segment is seven numbers, not {s}")))?;
                    let n = |i: usize| {
                        f[i].as_u64()
                            .and_then(|x| usize::try_from(x).ok())
                            .ok_or_else(|| bad_task(format!("not a size in segment {s}")))
                    };
                    Ok(crate::gather::Segment {
                        source: n(0)?,
                        block: n(1)?,
                        lo: n(2)?,
                        hi: n(3)?,
                        step: f[4]
                            .as_i64()
                            .and_then(|x| isize::try_from(x).ok())
                            .ok_or_else(|| bad_task(format!("not a step in segment {s}")))?,
                        dest: n(5)?,
                        len: n(6)?,
                    })
                };
                let piece = |p: &Json| -> Result<(usize, Vec<crate::gather::Segment>)> {
                    match p.as_array().map(Vec::as_slice) {
                        Some([slot, segs]) => Ok((
                            slot.as_u64()
                                .and_then(|x| usize::try_from(x).ok())
                                .ok_or_else(|| bad_task(format!("not a block number in {p}")))?,
                            segs.as_array()
                                .ok_or_else(|| bad_task(format!("no segments in {p}")))?
                                .iter()
                                .map(segment)
                                .collect::<Result<_>>()?,
                        )),
                        _ => Err(bad_task(format!("a piece is [block, segments], not {p}"))),
                    }
                };
                let out_shape = usizes(field("out_shape")?)?;
                TaskSpec::Gather(crate::gather::GatherSpec {
                    dtype: dtype_from_json(field("dtype")?)?,
                    runtime: unknown_flags(v, out_shape.len())?,
                    out_shape,
                    squeeze: usizes(field("squeeze")?)?,
                    pieces: field("pieces")?
                        .as_array()
                        .ok_or_else(|| bad_task(format!("`pieces` is not a list in {v}")))?
                        .iter()
                        .map(piece)
                        .collect::<Result<_>>()?,
                })
            }
            "source" => TaskSpec::Source {
                source: Source::from_json(field("source")?)?,
                info: info_from_json(field("info")?)?,
            },
            "partial" => {
                let info = info_from_json(field("info")?)?;
                TaskSpec::Partial {
                    op: reduce::op_from_json(field("op")?)?,
                    axes: usizes(field("axes")?)?,
                    unknown: unknown_flags(v, info.shape.len())?,
                    info,
                }
            }
            "combine" => TaskSpec::Combine {
                op: reduce::op_from_json(field("op")?)?,
                axes: usizes(field("axes")?)?,
            },
            "finalize" => TaskSpec::Finalize {
                op: reduce::op_from_json(field("op")?)?,
                axes: usizes(field("axes")?)?,
                keepdims: field("keepdims")?
                    .as_bool()
                    .ok_or_else(|| bad_task(format!("`keepdims` is not a boolean in {v}")))?,
                dtype: dtype_from_json(field("dtype")?)?,
            },
            "banded" => TaskSpec::Banded(Box::new(reduce::banded_from_json(v)?)),
            "scan" => TaskSpec::Scan {
                op: scan_op(field("op")?)?,
                axis: field("axis")?
                    .as_u64()
                    .and_then(|a| usize::try_from(a).ok())
                    .ok_or_else(|| bad_task(format!("`axis` is not an axis in {v}")))?,
                dtype: dtype_from_json(field("dtype")?)?,
                running: field("running")?
                    .as_bool()
                    .ok_or_else(|| bad_task(format!("`running` is not a boolean in {v}")))?,
            },
            "blocks" => {
                let info = info_from_json(field("info")?)?;
                let unknown = unknown_flags(v, info.shape.len())?;
                TaskSpec::Blocks {
                    op: BlockOp::from_json(field("op")?)?,
                    info,
                    dtype: dtype_from_json(field("dtype")?)?,
                    unknown,
                }
            }
            "scan-carry" => TaskSpec::ScanCarry {
                op: scan_op(field("op")?)?,
                dtype: dtype_from_json(field("dtype")?)?,
            },
            "chain" => TaskSpec::Chain(
                field("stages")?
                    .as_array()
                    .ok_or_else(|| bad_task(format!("`stages` is not a list in {v}")))?
                    .iter()
                    .map(|stage| match stage.get("task").and_then(Json::as_str) {
                        // One level: a chain's stages are tasks of other kinds.
                        Some("chain") => Err(bad_task("a chain inside a chain".into())),
                        _ => TaskSpec::from_json(stage),
                    })
                    .collect::<Result<_>>()?,
            ),
            other => return Err(bad_task(format!("no task kind `{other}`"))),
        })
    }
}

/// A scan's operation by NumPy's name.
fn scan_op(v: &Json) -> Result<crate::ScanOp> {
    v.as_str()
        .and_then(crate::ScanOp::from_numpy_name)
        .ok_or_else(|| bad_task(format!("no scan `{v}`")))
}

/// That `axes` are distinct axes of a block of `ndim`, ascending.
fn check_axes(axes: &[usize], ndim: usize) -> Result<(), TaskError> {
    if axes.windows(2).all(|w| w[0] < w[1]) && axes.iter().all(|&a| a < ndim) {
        Ok(())
    } else {
        Err(TaskError::msg(format!(
            "{axes:?} are not ascending axes of a block of {ndim}"
        )))
    }
}

/// That partial results can be combined over `axes`: at least one, all of one shape, of
/// length 1 along `axes`.
fn check_partials(parts: &[&Partial], axes: &[usize]) -> Result<(), TaskError> {
    let Some(first) = parts.first() else {
        return Err(TaskError::msg("no partial result to combine"));
    };
    let shape = first
        .shape()
        .ok_or_else(|| TaskError::msg("a partial result whose arrays differ in shape"))?;
    check_axes(axes, shape.len())?;
    if axes.iter().any(|&a| shape[a] != 1) {
        return Err(TaskError::msg(format!(
            "a partial result of shape {shape:?} is not reduced along {axes:?}"
        )));
    }
    for p in &parts[1..] {
        if p.shape().as_deref() != Some(shape.as_slice()) {
            return Err(TaskError::msg(format!(
                "partial results of shapes {shape:?} and {:?}",
                p.shape()
            )));
        }
    }
    Ok(())
}

/// That `perm` lists each of `ndim` axes once.
pub(crate) fn check_perm(perm: &[usize], ndim: usize) -> Result<(), TaskError> {
    let mut seen = vec![false; ndim];
    let ok = perm.len() == ndim
        && perm
            .iter()
            .all(|&a| a < ndim && !std::mem::replace(&mut seen[a], true));
    if ok {
        Ok(())
    } else {
        Err(TaskError::msg(format!(
            "{perm:?} is not a permutation of a block's {ndim} axes"
        )))
    }
}

/// The task's flags of axes of unknown size (`unknown`, one per axis; absent: none).
fn unknown_flags(v: &Json, ndim: usize) -> Result<Vec<bool>> {
    match v.get("unknown") {
        None => Ok(vec![false; ndim]),
        Some(u) => u
            .as_array()
            .and_then(|u| u.iter().map(Json::as_bool).collect::<Option<Vec<_>>>())
            .filter(|u| u.len() == ndim)
            .ok_or_else(|| bad_task(format!("`unknown` is not one flag per axis in {v}"))),
    }
}

fn dtype_from_json(v: &Json) -> Result<DType> {
    let name = v
        .as_str()
        .ok_or_else(|| bad_task(format!("a dtype is text, not {v}")))?;
    DType::from_name(name).ok_or_else(|| bad_task(format!("no dtype `{name}`")))
}

fn usizes(v: &Json) -> Result<Vec<usize>> {
    v.as_array()
        .and_then(|a| {
            a.iter()
                .map(|x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
                .collect::<Option<Vec<usize>>>()
        })
        .ok_or_else(|| bad(format!("not a list of sizes: {v}")))
}

fn info_json(info: &BlockInfo) -> Json {
    json!({"index": info.index, "shape": info.shape, "offset": info.offset, "array_shape": info.array_shape})
}

/// The largest block a task spec may describe: a block of floe's own graphs is a few
/// hundred megabytes at most; a spec read from elsewhere cannot make a task allocate more
/// than this (an allocation the machine cannot make ends the process, not the task).
pub const MAX_SPEC_BLOCK_BYTES: usize = 64 << 30;

fn info_from_json(v: &Json) -> Result<BlockInfo> {
    let get = |name: &'static str| {
        v.get(name)
            .ok_or_else(|| bad(format!("no field `{name}` in block {v}")))
            .and_then(usizes)
    };
    let info = BlockInfo {
        index: get("index")?,
        shape: get("shape")?,
        offset: get("offset")?,
        array_shape: get("array_shape")?,
    };
    check_info(&info).map_err(|e| bad_task(e.to_string()))?;
    Ok(info)
}

/// That a block lies in its array (as many offsets, index numbers and array sizes as axes,
/// `offset + shape <= array_shape`), that the array's elements can be counted, and that
/// the block is at most [`MAX_SPEC_BLOCK_BYTES`] of 16-byte elements.
pub(crate) fn check_info(info: &BlockInfo) -> Result<(), TaskError> {
    let ndim = info.shape.len();
    let inside = info.offset.len() == ndim
        && info.index.len() == ndim
        && info.array_shape.len() == ndim
        && (0..ndim).all(|a| {
            info.offset[a]
                .checked_add(info.shape[a])
                .is_some_and(|end| end <= info.array_shape[a])
        });
    if !inside {
        return Err(TaskError::msg(format!(
            "a block at {:?} of shape {:?} does not lie in an array of shape {:?}",
            info.offset, info.shape, info.array_shape
        )));
    }
    if crate::block::shape_bytes(&info.array_shape, 1).is_none() {
        return Err(TaskError::msg(format!(
            "an array of shape {:?} is too large",
            info.array_shape
        )));
    }
    if crate::block::shape_bytes(&info.shape, 16).is_none_or(|bytes| bytes > MAX_SPEC_BLOCK_BYTES) {
        return Err(TaskError::msg(format!(
            "a block of shape {:?} is larger than a task spec may describe",
            info.shape
        )));
    }
    Ok(())
}
