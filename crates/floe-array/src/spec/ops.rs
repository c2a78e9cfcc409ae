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

fn registry() -> &'static RwLock<HashMap<String, OpenBlockOp>> {
    static OPS: OnceLock<RwLock<HashMap<String, OpenBlockOp>>> = OnceLock::new();
    // floe-array's own block functions are there in every process from the start: a
    // worker runs them without having built the array.
    OPS.get_or_init(|| {
        let builtin: [(&str, OpenBlockOp); 3] = [
            (crate::histogram::DIGITIZE, crate::histogram::open_digitize),
            (crate::diagonal::DIAGONAL, crate::diagonal::open_diagonal),
            (crate::diagonal::DIAG, crate::diagonal::open_diag),
        ];
        RwLock::new(
            builtin
                .into_iter()
                .map(|(name, open)| (name.to_owned(), open))
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
