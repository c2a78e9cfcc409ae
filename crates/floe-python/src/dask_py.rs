//! Floe graphs on dask: every task written down as data (`floe::array::TaskSpec`), and the
//! one function a dask worker calls to run a task, `_dask_run(spec, *inputs)`.
//!
//! Values travel between workers as NumPy arrays (array blocks) or `bytes` (a reduction's
//! partial result, which has no array form); a block held in memory travels as the NumPy
//! array itself, a literal of the dask graph.

use floe::array::{Array, DynArray, Lowering, TaskSpec};
use floe::graph::{GraphBuilder, TaskId, Value};
use pyo3::exceptions::{PyNotImplementedError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::array::PyArray;
use crate::convert::{from_numpy, to_numpy};

/// One task of an exported graph: its number, its name (the operation), its spec (JSON
/// text; a NumPy array for a block in memory; `(JSON text, function)` for a Python
/// function's task; `(JSON text, object, lock)` for a block read from a Python object) and
/// the numbers of the tasks it reads.
type ExportedTask<'py> = (usize, String, Bound<'py, PyAny>, Vec<usize>);

/// The tasks computing every block of `arrays`, as data: a list of
/// `(number, name, spec, dependencies)` in an order where each task comes after what it
/// reads, and per array the `(block index, task number)` of its blocks.
///
/// Raises `NotImplementedError` naming the first operation that has no description as
/// data (an array made in Rust from a closure).
#[pyfunction]
#[pyo3(signature = (*arrays))]
#[allow(clippy::type_complexity)]
fn _dask_graph<'py>(
    py: Python<'py>,
    arrays: &Bound<'py, PyTuple>,
) -> PyResult<(Vec<ExportedTask<'py>>, Vec<Vec<(Vec<usize>, usize)>>)> {
    let arrays: Vec<Array> = arrays
        .iter()
        .map(|a| {
            a.cast::<PyArray>()
                .map(|a| a.borrow().inner.clone())
                .map_err(|_| PyTypeError::new_err("to_dask takes floe arrays"))
        })
        .collect::<PyResult<_>>()?;
    let (specs, outputs, graph) =
        crate::run(py, || lower_recording(&arrays).map_err(floe::Error::from))?;
    let name = |i: usize| graph.key(TaskId::from_index(i)).name().to_string();
    if let Some(i) = specs.iter().position(Option::is_none) {
        return Err(no_spec(&name(i)));
    }
    let specs: Vec<TaskSpec> = specs.into_iter().flatten().collect();
    let mut tasks = Vec::new();
    for (last, stages) in chains(&graph, &specs, &outputs) {
        let first = TaskId::from_index(stages[0]);
        let spec = match &specs[last] {
            TaskSpec::Block(b) => to_numpy(py, DynArray::clone(b)),
            // A Python function travels as itself, next to its task's description; an
            // object read block by block, as the pair of it and its lock.
            TaskSpec::Blocks { op, .. } if crate::pyfuncs::is_python(op) => {
                let obj =
                    crate::pyfuncs::function(op.params()).ok_or_else(|| no_spec(&name(last)))?;
                let json = specs[last].to_json().ok_or_else(|| no_spec(&name(last)))?;
                if op.name() == crate::pyfuncs::PYTHON_READ {
                    let (obj, lock): (Py<PyAny>, Py<PyAny>) = obj.extract(py)?;
                    (json.to_string(), obj, lock).into_pyobject(py)?.into_any()
                } else {
                    (json.to_string(), obj.clone_ref(py))
                        .into_pyobject(py)?
                        .into_any()
                }
            }
            _ => {
                let spec = if stages.len() == 1 {
                    specs[last].clone()
                } else {
                    TaskSpec::Chain(stages.iter().map(|&s| specs[s].clone()).collect())
                };
                match spec.to_json() {
                    Some(json) => json.to_string().into_pyobject(py)?.into_any(),
                    None => return Err(no_spec(&name(last))),
                }
            }
        };
        let deps = graph
            .dependencies(first)
            .iter()
            .map(|d| d.index())
            .collect();
        tasks.push((last, name(last), spec, deps));
    }
    Ok((tasks, outputs))
}

/// The graph's linear chains, as floe's scheduler fuses them (see `floe::graph::fuse`):
/// a task joins its one dependent when it is that task's one dependency and no output
/// (blocks in memory stay apart: they travel as data). Each chain as its last task and
/// its tasks in order, in graph order.
fn chains(
    graph: &floe::graph::Graph,
    specs: &[TaskSpec],
    outputs: &[Vec<(Vec<usize>, usize)>],
) -> Vec<(usize, Vec<usize>)> {
    let mut is_output = vec![false; graph.len()];
    for &(_, t) in outputs.iter().flatten() {
        is_output[t] = true;
    }
    let joins_next: Vec<bool> = graph
        .ids()
        .map(|a| {
            let next = graph.dependents(a);
            !is_output[a.index()]
                && next.len() == 1
                && graph.dependencies(next[0]).len() == 1
                && !matches!(specs[a.index()], TaskSpec::Block(_))
                && !python_call(&specs[a.index()])
                && !python_call(&specs[next[0].index()])
        })
        .collect();
    graph
        .ids()
        .filter(|a| !joins_next[a.index()])
        .map(|last| {
            let mut stages = vec![last.index()];
            let mut cur = last;
            while let [dep] = graph.dependencies(cur) {
                if !joins_next[dep.index()] {
                    break;
                }
                cur = *dep;
                stages.push(cur.index());
            }
            stages.reverse();
            (last.index(), stages)
        })
        .collect()
}

/// Whether a task calls a Python function or reads a Python object (run by
/// `floe.dask._call_blocks` or `_read_block`, never in a chain).
fn python_call(spec: &TaskSpec) -> bool {
    matches!(spec, TaskSpec::Blocks { op, .. } if crate::pyfuncs::is_python(op))
}

fn no_spec(name: &str) -> PyErr {
    PyNotImplementedError::new_err(format!(
        "the `{name}` tasks have no description as data yet, so this graph cannot run on dask; \
         compute it with floe's own scheduler (no `scheduler=` argument)"
    ))
}

type Lowered = (
    Vec<Option<TaskSpec>>,
    Vec<Vec<(Vec<usize>, usize)>>,
    floe::graph::Graph,
);

/// Lowers every block of `arrays` with specs recorded.
fn lower_recording(arrays: &[Array]) -> Result<Lowered, floe::array::ArrayError> {
    let mut builder = GraphBuilder::default();
    let mut lowering = Lowering::recording_specs(&mut builder);
    let mut outputs = Vec::with_capacity(arrays.len());
    for a in arrays {
        let mut blocks = Vec::new();
        for index in a.chunks().block_indices() {
            let id = lowering.block(a, &index)?;
            blocks.push((index, id.index()));
        }
        outputs.push(blocks);
    }
    let n = lowering.builder().len();
    let specs = (0..n)
        .map(|i| lowering.spec(TaskId::from_index(i)).cloned())
        .collect();
    drop(lowering);
    Ok((specs, outputs, builder.build()))
}

/// Runs one task of an exported graph (see `_dask_graph`) on its inputs' values (NumPy
/// arrays or `bytes`), with the GIL released: a NumPy array, or `bytes` for a reduction's
/// partial result.
#[pyfunction]
#[pyo3(signature = (spec, *inputs))]
fn _dask_run<'py>(
    py: Python<'py>,
    spec: &str,
    inputs: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    // A panic would reach dask as a `BaseException`, which its workers do not treat as a
    // task's failure: it becomes the task's error instead.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_task(py, spec, inputs)))
        .unwrap_or_else(|panic| {
            Err(PyRuntimeError::new_err(format!(
                "internal error: a floe task failed: {}",
                floe::graph::TaskError::from_panic(panic)
            )))
        })
}

fn run_task<'py>(
    py: Python<'py>,
    spec: &str,
    inputs: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let values = inputs
        .iter()
        .map(|v| {
            if let Ok(b) = v.cast::<PyBytes>() {
                TaskSpec::value_from_bytes(b.as_bytes())
                    .map_err(|e| PyValueError::new_err(e.to_string()))
            } else {
                let block = from_numpy(&v)?;
                let n = block.nbytes();
                Ok(Value::with_nbytes(block, n))
            }
        })
        .collect::<PyResult<Vec<Value>>>()?;
    let json: floe::array::serde_json::Value = floe::array::serde_json::from_str(spec)
        .map_err(|e| PyValueError::new_err(format!("a task spec is JSON: {e}")))?;
    let spec = TaskSpec::from_json(&json).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = py
        .detach(|| spec.run(&values))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    if let Some(block) = out.downcast_ref::<DynArray>() {
        return Ok(to_numpy(py, block.clone()));
    }
    match TaskSpec::value_to_bytes(&out) {
        Some(bytes) => Ok(PyBytes::new(py, &bytes).into_any()),
        None => Err(PyValueError::new_err(
            "internal error: a task made a value that is neither a block nor a partial result",
        )),
    }
}

/// Registers the functions.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_dask_graph, m)?)?;
    m.add_function(wrap_pyfunction!(_dask_run, m)?)?;
    Ok(())
}
