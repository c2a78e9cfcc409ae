//! Python functions over blocks as data: `map_blocks` and `apply_gufunc`-style blockwise
//! functions are registered block functions (`python.call`, see
//! `floe::array::BlockOp`) whose parameters name the function in this process's table.
//! Locally the task calls it; a graph handed to dask carries the function object itself
//! (pickled by dask, as Dask's own `map_blocks` does), called by `floe.dask._call_blocks`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use floe::array::serde_json::{Value as Json, json};
use floe::array::{BlockInfo, BlockOp, DType, DynArray, GraphFn};
use floe_graph::TaskError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::describe;
use crate::convert::{from_numpy, to_numpy};

/// The registered block function's name.
pub(crate) const PYTHON_CALL: &str = "python.call";

/// The functions of live arrays, by number: an array's tasks hold its function, the
/// table only a weak reference (dropped arrays' functions are freed).
fn table() -> &'static Mutex<HashMap<u64, Weak<Py<PyAny>>>> {
    static FUNCS: OnceLock<Mutex<HashMap<u64, Weak<Py<PyAny>>>>> = OnceLock::new();
    FUNCS.get_or_init(Default::default)
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<u64, Weak<Py<PyAny>>>> {
    table().lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers `python.call` (done when the module is imported).
pub(crate) fn register() {
    floe::array::register_block_op(PYTHON_CALL, open);
}

/// This process's mark on the functions it numbers: a number read in another process (a
/// spec run elsewhere) never names one of that process's functions.
fn process_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{}-{nanos:x}", std::process::id())
    })
}

/// `func` as a block function giving blocks of `dtype`: `func(*blocks)` on the blocks as
/// NumPy arrays, its result converted to `dtype`. The op names the function; the returned
/// `Arc` holds it, and must be kept until the op is opened (the arrays built with the op
/// then keep the function alive).
pub(crate) fn block_op(func: Py<PyAny>, dtype: DType) -> (BlockOp, Arc<Py<PyAny>>) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let func = Arc::new(func);
    let mut funcs = lock();
    funcs.retain(|_, f| f.strong_count() > 0);
    funcs.insert(id, Arc::downgrade(&func));
    drop(funcs);
    let params = json!({"fn": id, "process": process_token(), "dtype": dtype.name()});
    (BlockOp::new(PYTHON_CALL, params), func)
}

/// The function a `python.call` op names, if it is alive in this process.
pub(crate) fn function(params: &Json) -> Option<Arc<Py<PyAny>>> {
    if params.get("process")?.as_str()? != process_token() {
        return None;
    }
    let id = params.get("fn")?.as_u64()?;
    lock().get(&id)?.upgrade()
}

/// The registered opener: the named function, called on blocks under the GIL.
fn open(params: &Json) -> Result<GraphFn, TaskError> {
    let func = function(params).ok_or_else(|| {
        TaskError::msg(format!(
            "a Python function of this process's arrays ({params}) is gone or was never here: \
             Python functions travel with the graph, not by number"
        ))
    })?;
    let dtype = params
        .get("dtype")
        .and_then(Json::as_str)
        .and_then(DType::from_name)
        .ok_or_else(|| TaskError::msg(format!("no dtype in {params}")))?;
    Ok(Arc::new(move |blocks: &[&DynArray], _: &BlockInfo| {
        call(&func, blocks, dtype).map_err(TaskError::new)
    }))
}

/// `func(*blocks)` under the GIL, the blocks as NumPy arrays and the result converted to
/// `dtype`; a Python exception kept whole (see `describe`).
pub(crate) fn call(
    func: &Py<PyAny>,
    blocks: &[&DynArray],
    dtype: DType,
) -> Result<DynArray, Box<dyn std::error::Error + Send + Sync>> {
    Python::attach(|py| {
        let args = PyTuple::new(py, blocks.iter().map(|b| to_numpy(py, (*b).clone())))
            .map_err(|e| describe(py, &e))?;
        let out = func.call1(py, args).map_err(|e| describe(py, &e))?;
        let block = from_numpy(out.bind(py)).map_err(|e| describe(py, &e))?;
        Ok(block.astype(dtype))
    })
}
