//! Making arrays from Python: `from_array` over any array-like (HDF5-backed objects read
//! one block at a time), `zeros`, `ones`, `empty`, `full`, `arange`, `linspace`, `eye` and
//! the random generators.

use std::sync::Arc;

use floe::array::{self as fa, DType, DynArray};
use floe_graph::TaskError;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyInt, PySlice, PyTuple};

use crate::array::{PyArray, describe, wrap};
use crate::convert::{chunks_arg, dtype_arg, from_numpy, scalar_arg, shape_arg};
use crate::to_py;

/// Reads block `b` of `obj` (`obj[slices]`) with the GIL held.
fn read_block(
    obj: &Py<PyAny>,
    b: &fa::BlockInfo,
    dtype: DType,
    lock: &ReadLock,
) -> Result<DynArray, TaskError> {
    Python::attach(|py| {
        // HDF5 (under netCDF4, h5py, h5netcdf) is not thread-safe and those libraries
        // release the GIL while they read: one read at a time, the lock taken without the
        // GIL (a reader holding it needs the GIL back to return).
        let lock = match lock {
            ReadLock::None => None,
            ReadLock::Hdf5 => Some(hdf5_lock(py).map_err(|e| TaskError::msg(e.to_string()))?),
            ReadLock::Given(l) => Some(l.bind(py)),
        };
        let lock = if let Some(lock) = lock {
            // `acquire` waits with the GIL released.
            lock.call_method0("acquire")
                .map_err(|e| TaskError::msg(e.to_string()))?;
            Some(lock)
        } else {
            None
        };
        let block = read_block_locked(py, obj, b, dtype);
        if let Some(lock) = lock {
            lock.call_method0("release")
                .map_err(|e| TaskError::msg(e.to_string()))?;
        }
        block
    })
}

/// [`read_block`] with any lock held.
fn read_block_locked(
    py: Python<'_>,
    obj: &Py<PyAny>,
    b: &fa::BlockInfo,
    dtype: DType,
) -> Result<DynArray, TaskError> {
    {
        let key = block_key(py, b).map_err(|e| TaskError::msg(e.to_string()))?;
        let part = obj
            .bind(py)
            .get_item(key)
            .map_err(|e| TaskError::new(describe(py, &e)))?;
        let block = from_numpy(&part).map_err(|e| TaskError::new(describe(py, &e)))?;
        if block.shape() != b.shape.as_slice() {
            return Err(TaskError::msg(format!(
                "reading block {:?} gave shape {:?}, expected {:?}",
                b.index,
                block.shape(),
                b.shape
            )));
        }
        Ok(block.astype(dtype))
    }
}

/// Block `b`'s place in its array as a tuple of slices (`x[key]` is the block).
pub(crate) fn block_key<'py>(py: Python<'py>, b: &fa::BlockInfo) -> PyResult<Bound<'py, PyTuple>> {
    let slices = b
        .offset
        .iter()
        .zip(&b.shape)
        .map(|(&o, &n)| PySlice::new(py, o as isize, (o + n) as isize, 1));
    PyTuple::new(py, slices)
}

/// `from_array(x, chunks="auto")`: a lazy array over anything with `shape`, `dtype` and
/// NumPy-style `__getitem__` (NumPy arrays, `netCDF4.Variable`, `h5py.Dataset`, Zarr
/// arrays). Blocks are read when computed, each by the worker that needs it, with the GIL
/// held only around the read; nothing is copied up front. A NumPy array is shared, not
/// copied: each block is copied out of its memory when needed (so, as with Dask, writing
/// to the array before computing changes the result). Objects of netCDF4, h5py and
/// h5netcdf are read one block at a time (HDF5 is not thread-safe), as are all with
/// `lock=True`; `lock=False` reads in parallel; a lock object (`threading.Lock()`) is held
/// around each read, as Dask's `lock=`.
#[pyfunction]
#[pyo3(signature = (x, chunks=None, name=None, lock=None))]
fn from_array(
    x: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    name: Option<String>,
    lock: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    if x.cast::<PyArray>().is_ok() {
        return Err(PyTypeError::new_err("from_array: already a floe array"));
    }
    let (shape, dtype) =
        if x.hasattr("shape")? && x.hasattr("dtype")? && x.hasattr("__getitem__")? {
            let shape: Vec<usize> = x.getattr("shape")?.extract()?;
            (shape, dtype_arg(Some(&x.getattr("dtype")?), DType::F64)?)
        } else {
            // Lists and scalars: convert once.
            let block = from_numpy(x)?;
            let a = floe_array::with_array!(block, v => fa::from_ndarray(v, chunks_arg(chunks)?))
                .map_err(to_py)?;
            return Ok(wrap(a));
        };
    let obj: Arc<Py<PyAny>> = Arc::new(x.clone().unbind());
    // NumPy arrays of floe's dtypes in native byte order: blocks are copied straight out of
    // the array's memory (no Python-level slicing, no intermediate array); others go
    // through `obj[slices]`.
    let native = x.is_instance(&x.py().import("numpy")?.getattr("ndarray")?)?
        && x.getattr("dtype")?.getattr("isnative")?.extract::<bool>()?;
    // Objects of libraries over HDF5 are read one at a time (see `read_block`), as are all
    // with `lock=True`; `lock=False` reads in parallel; a lock object is held around reads.
    let module: String = x
        .get_type()
        .getattr("__module__")
        .and_then(|m| m.extract())
        .unwrap_or_default();
    let hdf5 = ["netCDF4", "h5py", "h5netcdf"]
        .iter()
        .any(|m| module == *m || module.starts_with(&format!("{m}.")));
    let serial = match lock {
        None => {
            if hdf5 {
                ReadLock::Hdf5
            } else {
                ReadLock::None
            }
        }
        Some(l) if l.is_instance_of::<pyo3::types::PyBool>() => {
            if l.extract::<bool>()? {
                ReadLock::Hdf5
            } else {
                ReadLock::None
            }
        }
        Some(l) if l.hasattr("acquire")? && l.hasattr("release")? => {
            ReadLock::Given(l.clone().unbind())
        }
        Some(l) => {
            return Err(PyTypeError::new_err(format!(
                "from_array: lock is True, False or an object with acquire() and release(), not {}",
                l.get_type().name()?
            )));
        }
    };
    // A NumPy array's blocks travel as data when the graph runs on a cluster; other
    // objects (files behind h5py, netCDF4, zarr…) travel with the graph, with their
    // lock, and are read where the task runs.
    let a = if native {
        fa::try_from_memory_fn(&shape, chunks_arg(chunks)?, dtype, move |b| {
            copy_block(&obj, b, dtype)
        })
    } else {
        let py = x.py();
        let lock = match &serial {
            ReadLock::None => py.None(),
            ReadLock::Hdf5 => pyo3::types::PyBool::new(py, true)
                .to_owned()
                .into_any()
                .unbind(),
            ReadLock::Given(l) => l.clone_ref(py),
        };
        let pair = PyTuple::new(py, [obj.clone_ref(py), lock])?
            .into_any()
            .unbind();
        let (op, pair) = crate::pyfuncs::read_op(pair, dtype);
        fa::try_from_fn_op(
            &shape,
            chunks_arg(chunks)?,
            dtype,
            move |b| {
                // The pair lives as long as the array's tasks do.
                let _ = &pair;
                read_block(&obj, b, dtype, &serial)
            },
            op,
        )
    }
    .map_err(to_py)?;
    Ok(wrap(a.named(name.as_deref().unwrap_or("from-array"))))
}

/// Which lock a block read holds.
enum ReadLock {
    None,
    /// The one lock of all HDF5-backed reads ([`HDF5_READS`]).
    Hdf5,
    /// The user's (`from_array(x, lock=...)`), as Dask's.
    Given(Py<PyAny>),
}

/// Serializes reads of objects of libraries over HDF5, which is not thread-safe: a
/// `threading.Lock` (waiting on it releases the GIL, which the reader holding it needs).
static HDF5_READS: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();

/// The lock of [`HDF5_READS`], made on first use.
fn hdf5_lock(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    Ok(HDF5_READS
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("threading")?.call_method0("Lock")?.unbind())
        })?
        .bind(py))
}

/// The lock every read of an object over HDF5 holds in this process (floe's tasks and
/// `floe.dask._read_block` alike).
#[pyfunction]
fn _hdf5_lock(py: Python<'_>) -> PyResult<Py<PyAny>> {
    hdf5_lock(py).map(|l| l.clone().unbind())
}

/// Block `b` of a NumPy array, copied from its memory with the GIL held.
fn copy_block(obj: &Py<PyAny>, b: &fa::BlockInfo, dtype: DType) -> Result<DynArray, TaskError> {
    use numpy::PyReadonlyArrayDyn;
    Python::attach(|py| {
        let arr = obj.bind(py);
        let fail = |e: PyErr| TaskError::new(describe(py, &e));
        // Complex blocks arrive as `num_complex`'s type, which has floe's layout.
        macro_rules! copy {
            ($($d:ident => $t:ty as $o:ty),+) => {
                match dtype {
                    $(DType::$d => {
                        let ro: PyReadonlyArrayDyn<'_, $t> = arr.extract().map_err(fail)?;
                        let view = ro.as_array();
                        let block = view.slice_each_axis(|ax| {
                            let a = ax.axis.index();
                            ndarray::Slice::from(b.offset[a]..b.offset[a] + b.shape[a])
                        });
                        DynArray::from(block.mapv(<$o>::from))
                    })+
                    other => return Err(TaskError::msg(format!("internal error: a NumPy {other} array"))),
                }
            };
        }
        Ok(
            copy!(Bool => bool as bool, I8 => i8 as i8, I16 => i16 as i16, I32 => i32 as i32,
            I64 => i64 as i64, U8 => u8 as u8, U16 => u16 as u16, U32 => u32 as u32,
            U64 => u64 as u64, F32 => f32 as f32, F64 => f64 as f64,
            C64 => num_complex::Complex<f32> as fa::Complex64,
            C128 => num_complex::Complex<f64> as fa::Complex128),
        )
    })
}

#[pyfunction]
#[pyo3(signature = (shape, chunks=None, dtype=None))]
fn zeros(
    shape: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    fa::zeros(
        &shape_arg(shape)?,
        chunks_arg(chunks)?,
        dtype_arg(dtype, DType::F64)?,
    )
    .map(wrap)
    .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (shape, chunks=None, dtype=None))]
fn ones(
    shape: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    fa::ones(
        &shape_arg(shape)?,
        chunks_arg(chunks)?,
        dtype_arg(dtype, DType::F64)?,
    )
    .map(wrap)
    .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (shape, chunks=None, dtype=None))]
fn empty(
    shape: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    fa::empty(
        &shape_arg(shape)?,
        chunks_arg(chunks)?,
        dtype_arg(dtype, DType::F64)?,
    )
    .map(wrap)
    .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (shape, fill_value, chunks=None, dtype=None))]
fn full(
    shape: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let value = scalar_arg(fill_value)?;
    let default = match value {
        fa::Scalar::Bool(_) => DType::Bool,
        fa::Scalar::Int(_) => DType::I64,
        fa::Scalar::Complex(..) => DType::C128,
        _ => DType::F64,
    };
    fa::full_scalar(
        &shape_arg(shape)?,
        chunks_arg(chunks)?,
        value,
        dtype_arg(dtype, default)?,
    )
    .map(wrap)
    .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (start, stop=None, step=1.0, chunks=None, dtype=None))]
fn arange(
    start: &Bound<'_, PyAny>,
    stop: Option<f64>,
    step: f64,
    chunks: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let all_int = start.is_instance_of::<PyInt>()
        && stop.is_none_or(|s| s.fract() == 0.0)
        && step.fract() == 0.0;
    let first: f64 = start.extract()?;
    let (start, stop) = match stop {
        Some(s) => (first, s),
        None => (0.0, first),
    };
    let default = if all_int { DType::I64 } else { DType::F64 };
    fa::arange(
        start,
        stop,
        step,
        chunks_arg(chunks)?,
        dtype_arg(dtype, default)?,
    )
    .map(wrap)
    .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (start, stop, num=50, endpoint=true, chunks=None))]
fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    endpoint: bool,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    fa::linspace(start, stop, num, endpoint, chunks_arg(chunks)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (n, m=None, k=0, chunks=None, dtype=None))]
fn eye(
    n: usize,
    m: Option<usize>,
    k: isize,
    chunks: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    fa::eye(
        n,
        m.unwrap_or(n),
        k,
        chunks_arg(chunks)?,
        dtype_arg(dtype, DType::F64)?,
    )
    .map(wrap)
    .map_err(to_py)
}

/// Uniform random numbers in `[low, high)`, reproducible from `seed` whatever the chunks.
#[pyfunction]
#[pyo3(signature = (shape, chunks=None, seed=0, low=0.0, high=1.0))]
fn random_uniform(
    shape: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    seed: u64,
    low: f64,
    high: f64,
) -> PyResult<PyArray> {
    fa::random::uniform(&shape_arg(shape)?, chunks_arg(chunks)?, seed, low, high)
        .map(wrap)
        .map_err(to_py)
}

/// Normal random numbers, reproducible from `seed` whatever the chunks.
#[pyfunction]
#[pyo3(signature = (shape, chunks=None, seed=0, loc=0.0, scale=1.0))]
fn random_normal(
    shape: &Bound<'_, PyAny>,
    chunks: Option<&Bound<'_, PyAny>>,
    seed: u64,
    loc: f64,
    scale: f64,
) -> PyResult<PyArray> {
    fa::random::normal(&shape_arg(shape)?, chunks_arg(chunks)?, seed, loc, scale)
        .map(wrap)
        .map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_hdf5_lock, m)?)?;
    m.add_function(wrap_pyfunction!(from_array, m)?)?;
    m.add_function(wrap_pyfunction!(zeros, m)?)?;
    m.add_function(wrap_pyfunction!(ones, m)?)?;
    m.add_function(wrap_pyfunction!(empty, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(linspace, m)?)?;
    m.add_function(wrap_pyfunction!(eye, m)?)?;
    m.add_function(wrap_pyfunction!(random_uniform, m)?)?;
    m.add_function(wrap_pyfunction!(random_normal, m)?)?;
    Ok(())
}
