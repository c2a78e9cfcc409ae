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

/// The block function reading a block of an object (`from_array` over what is not a NumPy
/// array): its parameters name the pair `(object, lock)` in the same table; a graph
/// handed to dask carries the pair itself, read by `floe.dask._read_block`.
pub(crate) const PYTHON_READ: &str = "python.read";

/// Whether `op` is one of this module's: its task names a Python object, which travels
/// with a graph handed to dask (never inside a chain of tasks run from their specs).
pub(crate) fn is_python(op: &BlockOp) -> bool {
    op.name() == PYTHON_CALL || op.name() == PYTHON_READ
}

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
    floe::array::register_block_op(PYTHON_READ, open_read);
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
    numbered(PYTHON_CALL, func, dtype)
}

/// The `python.read` op of `pair`, `(object, lock)` (the lock `None`, `True` for the one
/// lock of HDF5 reads, or an object with `acquire` and `release`), for blocks of `dtype`;
/// the returned `Arc` holds the pair, as [`block_op`]'s holds the function.
pub(crate) fn read_op(pair: Py<PyAny>, dtype: DType) -> (BlockOp, Arc<Py<PyAny>>) {
    numbered(PYTHON_READ, pair, dtype)
}

/// `obj` numbered in the table, and the op `name` naming it.
fn numbered(name: &str, obj: Py<PyAny>, dtype: DType) -> (BlockOp, Arc<Py<PyAny>>) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let obj = Arc::new(obj);
    let mut objs = lock();
    objs.retain(|_, f| f.strong_count() > 0);
    objs.insert(id, Arc::downgrade(&obj));
    drop(objs);
    let params = json!({"fn": id, "process": process_token(), "dtype": dtype.name()});
    (BlockOp::new(name, params), obj)
}

/// The registered opener of `python.read`: the pair read by `floe.dask._read_block`, as a
/// worker reads it.
fn open_read(params: &Json) -> Result<GraphFn, TaskError> {
    let pair = function(params).ok_or_else(|| {
        TaskError::msg(format!(
            "an object read by this process's arrays ({params}) is gone or was never here: \
             objects travel with the graph, not by number"
        ))
    })?;
    let dtype = params
        .get("dtype")
        .and_then(Json::as_str)
        .ok_or_else(|| TaskError::msg(format!("no dtype in {params}")))?
        .to_owned();
    Ok(Arc::new(move |_: &[&DynArray], info: &BlockInfo| {
        let task = json!({
            "dtype": dtype,
            "info": {"index": info.index, "shape": info.shape, "offset": info.offset,
                     "array_shape": info.array_shape},
        });
        Python::attach(|py| {
            let fail = |e: PyErr| TaskError::new(describe(py, &e));
            let (obj, lock): (Py<PyAny>, Py<PyAny>) = pair.extract(py).map_err(fail)?;
            let out = py
                .import("floe.dask")
                .and_then(|m| m.call_method1("_read_block", (obj, lock, task.to_string())))
                .map_err(fail)?;
            from_numpy(&out).map_err(fail)
        })
    }))
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
