//! `floe.delayed`: Python functions as lazy tasks. They run on floe's workers under the GIL
//! (so pure-Python work does not run in parallel; NumPy and other code that releases the
//! GIL does).

use std::sync::Arc;

use floe::Delayed;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::run;

/// A Python object held by the task graph.
pub(crate) type Obj = Arc<Py<PyAny>>;

/// A lazy call of a Python function (or a lazy value): compute it with `.compute()` or
/// `floe.compute(...)`.
#[pyclass(name = "Delayed", module = "floe.delayed", frozen)]
pub struct PyDelayed {
    pub(crate) inner: Delayed<Obj>,
    /// The call as Python objects (function, arguments with `Delayed` values among them,
    /// keyword arguments), or the value: what a dask graph of it is made of.
    parts: Parts,
}

/// A delayed value's Python side.
enum Parts {
    Call {
        func: Py<PyAny>,
        args: Py<PyTuple>,
        kwargs: Option<Py<PyDict>>,
    },
    Value(Py<PyAny>),
    /// A value passed through `delayed(value)` of a `Delayed`: the same task.
    Same(Py<PyDelayed>),
}

fn lift(obj: &Bound<'_, PyAny>) -> Delayed<Obj> {
    match obj.cast::<PyDelayed>() {
        Ok(d) => d.borrow().inner.clone(),
        Err(_) => Delayed::value(Arc::new(obj.clone().unbind())),
    }
}

#[pymethods]
impl PyDelayed {
    /// Runs the graph this value needs (GIL released while floe schedules) and returns it.
    fn compute(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let d = self.inner.clone();
        let out: Obj = run(py, move || d.compute())?;
        Ok(out.clone_ref(py))
    }

    /// Draws the task graph computing this value into `filename` (see
    /// `floe.visualize`); returns the path written.
    #[pyo3(signature = (filename=None, color=None, collapse_above=500))]
    fn visualize(
        slf: &Bound<'_, Self>,
        filename: Option<std::path::PathBuf>,
        color: Option<&str>,
        collapse_above: usize,
    ) -> PyResult<String> {
        let values = PyTuple::new(slf.py(), [slf])?;
        crate::diagnostics::visualize(&values, filename, color, collapse_above)
    }

    /// The task's key.
    #[getter]
    fn key(&self) -> String {
        self.inner.key().to_string()
    }

    fn __repr__(&self) -> String {
        format!("Delayed('{}')", self.inner.key())
    }

    /// What a dask graph of this value is made of: `("call", func, args, kwargs)`,
    /// `("value", obj)` or `("same", delayed)` (see `floe.dask`).
    fn _dask_parts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        match &self.parts {
            Parts::Call { func, args, kwargs } => PyTuple::new(
                py,
                [
                    "call".into_pyobject(py)?.into_any(),
                    func.bind(py).clone(),
                    args.bind(py).clone().into_any(),
                    match kwargs {
                        Some(k) => k.bind(py).clone().into_any(),
                        None => py.None().into_bound(py),
                    },
                ],
            ),
            Parts::Value(v) => PyTuple::new(
                py,
                ["value".into_pyobject(py)?.into_any(), v.bind(py).clone()],
            ),
            Parts::Same(d) => PyTuple::new(
                py,
                [
                    "same".into_pyobject(py)?.into_any(),
                    d.bind(py).clone().into_any(),
                ],
            ),
        }
    }

    fn __bool__(&self) -> PyResult<bool> {
        Err(PyTypeError::new_err(
            "the truth value of a Delayed is unknown until computed",
        ))
    }
}

/// `func(*args, **kwargs)` as a lazy task named `name`: arguments may be `Delayed` values
/// (their tasks run first) or plain objects.
#[pyfunction]
#[pyo3(signature = (func, name, args, kwargs=None))]
fn _delayed_call(
    func: Py<PyAny>,
    name: &str,
    args: &Bound<'_, PyTuple>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyDelayed> {
    let mut items: Vec<Delayed<Obj>> = args.iter().map(|a| lift(&a)).collect();
    let positional = items.len();
    let mut names = Vec::new();
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            names.push(k.extract::<String>()?);
            items.push(lift(&v));
        }
    }
    let parts = Parts::Call {
        func: func.clone_ref(args.py()),
        args: args.clone().unbind(),
        kwargs: kwargs.map(|k| k.clone().unbind()),
    };
    let func = Arc::new(func);
    type Failure = Box<dyn std::error::Error + Send + Sync>;
    let call = floe::try_delayed(move |xs: &Vec<Obj>| -> Result<Obj, Failure> {
        Python::attach(|py| {
            let describe = |e: PyErr| crate::array::describe(py, &e);
            let args =
                PyTuple::new(py, xs[..positional].iter().map(|o| o.bind(py))).map_err(describe)?;
            let kw = PyDict::new(py);
            for (k, v) in names.iter().zip(&xs[positional..]) {
                kw.set_item(k, v.bind(py)).map_err(describe)?;
            }
            func.call(py, args, Some(&kw))
                .map(Arc::new)
                .map_err(describe)
        })
    });
    Ok(PyDelayed {
        inner: call(Delayed::collect(items)).named(name),
        parts,
    })
}

/// A plain object as a lazy value.
#[pyfunction]
fn _delayed_value(obj: &Bound<'_, PyAny>) -> PyDelayed {
    let parts = match obj.cast::<PyDelayed>() {
        Ok(d) => Parts::Same(d.clone().unbind()),
        Err(_) => Parts::Value(obj.clone().unbind()),
    };
    PyDelayed {
        inner: lift(obj),
        parts,
    }
}

/// Computes several delayed values together (shared tasks run once).
#[pyfunction]
#[pyo3(signature = (*values))]
fn _compute_delayed<'py>(
    py: Python<'py>,
    values: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyTuple>> {
    let ds: Vec<Delayed<Obj>> = values
        .iter()
        .map(|v| {
            v.cast::<PyDelayed>()
                .map(|d| d.borrow().inner.clone())
                .map_err(|_| PyTypeError::new_err("expected Delayed values"))
        })
        .collect::<PyResult<_>>()?;
    let out: Vec<Obj> = run(py, move || floe::compute(&ds))?;
    PyTuple::new(py, out.iter().map(|o| o.clone_ref(py)))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDelayed>()?;
    m.add_function(wrap_pyfunction!(_delayed_call, m)?)?;
    m.add_function(wrap_pyfunction!(_delayed_value, m)?)?;
    m.add_function(wrap_pyfunction!(_compute_delayed, m)?)?;
    Ok(())
}
