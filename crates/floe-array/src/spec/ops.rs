//! Block functions as data: the kernels of [`from_blocks`](crate::from_blocks) arrays that a
//! library registers by name (floe-linalg's QR, SVD and matrix-product kernels), so that
//! their tasks are written down as the name and a few parameters and run on a worker by
//! the same function.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use floe_graph::TaskError;
use serde_json::{Value as Json, json};

use crate::GraphFn;

/// Makes a block function from its parameters, as [`register_block_op`] records it.
pub type OpenBlockOp = fn(&Json) -> Result<GraphFn, TaskError>;

/// The description of each block's task of a `Custom` node: the block function and its
/// parameters for the block at an index (most nodes: one function for every block).
pub(crate) type DescribeFn = std::sync::Arc<dyn Fn(&[usize]) -> BlockOp + Send + Sync>;

/// A description naming `op` for every block.
pub(crate) fn same_op(op: BlockOp) -> DescribeFn {
    std::sync::Arc::new(move |_: &[usize]| op.clone())
}

/// A block function's parameters, read field by field; a missing or malformed field is
/// a [`TaskError`] naming the function, the field and the parameters.
pub(crate) struct Params<'a> {
    op: &'a str,
    v: &'a Json,
}

impl<'a> Params<'a> {
    pub(crate) fn new(op: &'a str, v: &'a Json) -> Params<'a> {
        Params { op, v }
    }

    pub(crate) fn bad(&self, field: &str) -> TaskError {
        TaskError::msg(format!(
            "{}: parameter `{field}` is missing or malformed in {}",
            self.op, self.v
        ))
    }

    pub(crate) fn get(&self, field: &str) -> Result<&'a Json, TaskError> {
        self.v.get(field).ok_or_else(|| self.bad(field))
    }

    pub(crate) fn usize(&self, field: &str) -> Result<usize, TaskError> {
        self.get(field)?
            .as_u64()
            .and_then(|x| usize::try_from(x).ok())
            .ok_or_else(|| self.bad(field))
    }

    pub(crate) fn bool(&self, field: &str) -> Result<bool, TaskError> {
        self.get(field)?.as_bool().ok_or_else(|| self.bad(field))
    }

    pub(crate) fn str(&self, field: &str) -> Result<&'a str, TaskError> {
        self.get(field)?.as_str().ok_or_else(|| self.bad(field))
    }

    /// A float written by [`floats_json`] (as text: read back exactly).
    pub(crate) fn f64(&self, field: &str) -> Result<f64, TaskError> {
        self.str(field)?.parse().map_err(|_| self.bad(field))
    }

    pub(crate) fn dtype(&self, field: &str) -> Result<crate::DType, TaskError> {
        crate::DType::from_name(self.str(field)?).ok_or_else(|| self.bad(field))
    }

    fn list<T>(&self, field: &str, item: impl Fn(&Json) -> Option<T>) -> Result<Vec<T>, TaskError> {
        self.get(field)?
            .as_array()
            .and_then(|a| a.iter().map(item).collect::<Option<Vec<T>>>())
            .ok_or_else(|| self.bad(field))
    }

    pub(crate) fn usizes(&self, field: &str) -> Result<Vec<usize>, TaskError> {
        self.list(field, |x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
    }

    pub(crate) fn bools(&self, field: &str) -> Result<Vec<bool>, TaskError> {
        self.list(field, Json::as_bool)
    }

    pub(crate) fn f64s(&self, field: &str) -> Result<Vec<f64>, TaskError> {
        self.list(field, |x| x.as_str().and_then(|t| t.parse().ok()))
    }

    /// A list of lists of sizes.
    pub(crate) fn usize_lists(&self, field: &str) -> Result<Vec<Vec<usize>>, TaskError> {
        self.list(field, |x| {
            x.as_array()?
                .iter()
                .map(|x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
                .collect()
        })
    }
}

/// Floats as text, which [`Params::f64s`] reads back exactly (NaN and infinities too).
pub(crate) fn floats_json(xs: &[f64]) -> Json {
    Json::Array(xs.iter().map(|x| Json::String(x.to_string())).collect())
}

/// A float as text (see [`floats_json`]).
pub(crate) fn float_text(x: f64) -> Json {
    Json::String(x.to_string())
}

fn registry() -> &'static RwLock<HashMap<String, OpenBlockOp>> {
    static OPS: OnceLock<RwLock<HashMap<String, OpenBlockOp>>> = OnceLock::new();
    // floe-array's own block functions are there in every process from the start: a
    // worker runs them without having built the array.
    OPS.get_or_init(|| {
        let builtin: &[(&str, OpenBlockOp)] = &[
            (crate::histogram::DIGITIZE, crate::histogram::open_digitize),
            (crate::diagonal::DIAGONAL, crate::diagonal::open_diagonal),
            (crate::diagonal::DIAG, crate::diagonal::open_diag),
            (crate::fft::FFT, crate::fft::open_fft),
            (crate::fft::FREQ, crate::fft::open_freq),
            (
                crate::histogram::HISTOGRAM_PARTIAL,
                crate::histogram::open_histogram_partial,
            ),
            (
                crate::histogram::HISTOGRAM_EDGES,
                crate::histogram::open_histogram_edges,
            ),
            (
                crate::histogram::BINCOUNT_PARTIAL,
                crate::histogram::open_bincount_partial,
            ),
            (
                crate::quantile::QUANTILE_LANES,
                crate::quantile::open_quantile_lanes,
            ),
            (
                crate::quantile::QUANTILE_SKETCH,
                crate::quantile::open_quantile_sketch,
            ),
            (
                crate::quantile::QUANTILE_BRACKET,
                crate::quantile::open_quantile_bracket,
            ),
            (
                crate::quantile::QUANTILE_KEEP,
                crate::quantile::open_quantile_keep,
            ),
            (
                crate::quantile::QUANTILE_FINISH,
                crate::quantile::open_quantile_finish,
            ),
            (crate::select::MASK, crate::select::open_mask),
            (crate::select::COMPRESS, crate::select::open_compress),
            (crate::select::POSITIONS, crate::select::open_positions),
            (crate::select::NONZERO, crate::select::open_nonzero),
            (
                crate::select::UNIQUE_BLOCK,
                crate::select::open_unique_block,
            ),
            (
                crate::select::UNIQUE_MERGE,
                crate::select::open_unique_merge,
            ),
            (
                crate::select::UNIQUE_TALLY,
                crate::select::open_unique_tally,
            ),
            (
                crate::select::UNIQUE_TALLY_MERGE,
                crate::select::open_unique_tally_merge,
            ),
            (
                crate::select::UNIQUE_INVERSE,
                crate::select::open_unique_inverse,
            ),
            (
                crate::select::BLOCK_SHAPES,
                crate::select::open_block_shapes,
            ),
            (crate::select::SAME, crate::select::open_same),
            (crate::topk::TOP, crate::topk::open_top),
            (crate::topk::COARSEN, crate::topk::open_coarsen),
            (crate::vindex::VINDEX, crate::vindex::open_vindex),
        ];
        RwLock::new(
            builtin
                .iter()
                .map(|&(name, open)| (name.to_owned(), open))
                .collect(),
        )
    })
}

/// Registers `open` as the block function called `name` (see [`BlockOp`]). Registering a
/// name again replaces it.
pub fn register_block_op(name: &str, open: OpenBlockOp) {
    let mut ops = registry().write().unwrap_or_else(|e| e.into_inner());
    ops.insert(name.to_owned(), open);
}

/// A registered block function and its parameters: what a task of a
/// [`from_blocks_op`](crate::from_blocks_op) array runs, as data.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_array::{BlockInfo, BlockOp, DType, DynArray, GraphFn};
/// use floe_graph::TaskError;
///
/// // Each block times a factor.
/// fn scaled(params: &serde_json::Value) -> Result<GraphFn, TaskError> {
///     let by = params["by"].as_f64().ok_or_else(|| TaskError::msg("no factor"))?;
///     Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
///         Ok(DynArray::from(b[0].clone().into_f64().map_err(TaskError::new)? * by))
///     }))
/// }
/// floe_array::register_block_op("scaled", scaled);
/// let x = floe_array::arange(0.0, 6.0, 1.0, 2, DType::F64)?;
/// let y = floe_array::from_blocks_op(
///     "scaled", &[6], 2, DType::F64, &[&x],
///     Arc::new(|i: &[usize]| vec![(0, i.to_vec())]),
///     BlockOp::new("scaled", serde_json::json!({"by": 3.0})),
/// )?;
/// let (g, out) = y.graph()?;
/// let r = floe_scheduler::Scheduler::default().run(&g, &[out]).unwrap();
/// let v = r.values[0].downcast_ref::<DynArray>().unwrap().clone().into_typed::<f64>();
/// assert_eq!(v.as_slice().unwrap(), &[0.0, 3.0, 6.0, 9.0, 12.0, 15.0]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BlockOp {
    name: String,
    params: Json,
}

impl BlockOp {
    /// The block function registered as `name`, with `params`.
    pub fn new(name: &str, params: Json) -> BlockOp {
        BlockOp {
            name: name.to_owned(),
            params,
        }
    }

    /// The function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The function's parameters.
    pub fn params(&self) -> &Json {
        &self.params
    }

    /// The function, made from its parameters by what was registered under its name.
    ///
    /// # Errors
    ///
    /// A [`TaskError`] if nothing is registered under the name, or the registered
    /// function refuses the parameters.
    pub fn open(&self) -> Result<GraphFn, TaskError> {
        let open = registry()
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.name)
            .copied()
            .ok_or_else(|| {
                TaskError::msg(format!(
                    "no block function `{}` is registered in this process: floe's are \
                     registered by the libraries that define them (floe-linalg's by \
                     `register_block_ops()` or on first use; all of them when the Python \
                     package `floe` is imported)",
                    self.name
                ))
            })?;
        open(&self.params)
    }

    pub(crate) fn to_json(&self) -> Json {
        json!({"name": self.name, "params": self.params})
    }

    pub(crate) fn from_json(v: &Json) -> crate::Result<BlockOp> {
        let name = v
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| super::bad_task(format!("a block function has no name: {v}")))?;
        let params = v
            .get("params")
            .ok_or_else(|| super::bad_task(format!("a block function has no params: {v}")))?;
        Ok(BlockOp::new(name, params.clone()))
    }
}
