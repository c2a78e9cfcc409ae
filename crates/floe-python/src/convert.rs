//! Conversions between Python objects and floe's: NumPy arrays, dtypes, chunk specs, axes.

use floe::array::{AxisChunks, ChunkSpec, DType, DynArray};
use numpy::{IntoPyArray, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

/// A computed block as a NumPy array (moved, not copied; complex blocks are copied into
/// `num_complex`'s layout-equal type, which NumPy's bindings know).
pub(crate) fn to_numpy<'py>(py: Python<'py>, a: DynArray) -> Bound<'py, PyAny> {
    match a {
        DynArray::C64(x) => x
            .mapv(num_complex::Complex::from)
            .into_pyarray(py)
            .into_any(),
        DynArray::C128(x) => x
            .mapv(num_complex::Complex::from)
            .into_pyarray(py)
            .into_any(),
        DynArray::Bool(x) => x.into_pyarray(py).into_any(),
        DynArray::I8(x) => x.into_pyarray(py).into_any(),
        DynArray::I16(x) => x.into_pyarray(py).into_any(),
        DynArray::I32(x) => x.into_pyarray(py).into_any(),
        DynArray::I64(x) => x.into_pyarray(py).into_any(),
        DynArray::U8(x) => x.into_pyarray(py).into_any(),
        DynArray::U16(x) => x.into_pyarray(py).into_any(),
        DynArray::U32(x) => x.into_pyarray(py).into_any(),
        DynArray::U64(x) => x.into_pyarray(py).into_any(),
        DynArray::F32(x) => x.into_pyarray(py).into_any(),
        DynArray::F64(x) => x.into_pyarray(py).into_any(),
        _ => unreachable!("every DynArray variant has an arm in to_numpy"),
    }
}

/// A NumPy-convertible object as a block (copied into floe's memory, C order).
pub(crate) fn from_numpy(obj: &Bound<'_, PyAny>) -> PyResult<DynArray> {
    let py = obj.py();
    let np = py.import("numpy")?;
    // `asarray(order="C")`, not `ascontiguousarray`: that one makes 0-d input 1-d.
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("order", "C")?;
    let mut arr = np.call_method("asarray", (obj,), Some(&kwargs))?;
    if !arr
        .getattr("dtype")?
        .getattr("isnative")?
        .extract::<bool>()?
    {
        // Big-endian data (from files): to this machine's byte order.
        let native = arr.getattr("dtype")?.call_method1("newbyteorder", ("=",))?;
        arr = arr.call_method1("astype", (native,))?;
    }
    if !arr
        .getattr("flags")?
        .getattr("aligned")?
        .extract::<bool>()?
    {
        // Arrays over a buffer at any address (one a dask worker received over the
        // network): copied to aligned memory, which reading them as typed elements needs.
        arr = arr.call_method0("copy")?;
    }
    let name: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let dtype = dtype_from_name(&name)?;
    macro_rules! take {
        ($($d:ident => $t:ty),+) => {
            match dtype {
                $(DType::$d => {
                    let a: PyReadonlyArrayDyn<'_, $t> = arr.extract()?;
                    DynArray::from(a.as_array().to_owned())
                })+
                DType::C64 => {
                    let a: PyReadonlyArrayDyn<'_, num_complex::Complex32> = arr.extract()?;
                    DynArray::from(a.as_array().mapv(floe::array::Complex::from))
                }
                DType::C128 => {
                    let a: PyReadonlyArrayDyn<'_, num_complex::Complex64> = arr.extract()?;
                    DynArray::from(a.as_array().mapv(floe::array::Complex::from))
                }
                _ => return Err(PyTypeError::new_err(format!("unsupported dtype {name}"))),
            }
        };
    }
    Ok(
        take!(Bool => bool, I8 => i8, I16 => i16, I32 => i32, I64 => i64, U8 => u8, U16 => u16,
        U32 => u32, U64 => u64, F32 => f32, F64 => f64),
    )
}

/// Whether `obj` is a complex number: a Python `complex` or a NumPy complex scalar or 0-d
/// array.
pub(crate) fn is_complex_number(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if obj.is_instance_of::<pyo3::types::PyComplex>() {
        return Ok(true);
    }
    match obj.getattr("dtype") {
        Ok(d) => Ok(d.getattr("kind")?.extract::<String>()? == "c"),
        Err(_) => Ok(false),
    }
}

/// A Python number (or NumPy scalar) as floe's scalar: booleans, integers (exactly),
/// complex numbers with both parts, floats.
pub(crate) fn scalar_arg(obj: &Bound<'_, PyAny>) -> PyResult<floe::array::Scalar> {
    use floe::array::Scalar;
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(Scalar::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<pyo3::types::PyInt>() {
        // Beyond 64 bits: pyo3's OverflowError, as NumPy raises.
        return obj.extract().map(Scalar::Int);
    }
    // NumPy scalars of integer and boolean dtypes keep their kind (np.int64(2**60) exactly).
    if let Ok(kind) = obj.getattr("dtype").and_then(|d| d.getattr("kind")) {
        match kind.extract::<String>()?.as_str() {
            "b" => return Ok(Scalar::Bool(obj.call_method0("__bool__")?.extract()?)),
            "i" | "u" => {
                return obj.call_method0("__int__")?.extract().map(Scalar::Int);
            }
            _ => {}
        }
    }
    if is_complex_number(obj)? {
        let z = obj
            .py()
            .import("builtins")?
            .getattr("complex")?
            .call1((obj,))?;
        let z = z.cast::<pyo3::types::PyComplex>()?;
        return Ok(Scalar::Complex(z.real(), z.imag()));
    }
    Ok(Scalar::Float(obj.extract()?))
}

/// A floe dtype from a NumPy dtype name (`float32`, `int64`, `bool`…).
pub(crate) fn dtype_from_name(name: &str) -> PyResult<DType> {
    DType::from_name(name).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "floe has no dtype {name} (it has bool, int8–int64, uint8–uint64, float32, float64, complex64, complex128)"
        ))
    })
}

/// A dtype argument: `None`, a name, a NumPy dtype or a type (`np.float32`, `float`).
pub(crate) fn dtype_arg(obj: Option<&Bound<'_, PyAny>>, default: DType) -> PyResult<DType> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(default);
    };
    let py = obj.py();
    let name: String = py
        .import("numpy")?
        .call_method1("dtype", (obj,))?
        .getattr("name")?
        .extract()?;
    dtype_from_name(&name)
}

/// A chunks argument as NumPy/Dask users write it: `None` or `"auto"`, a byte size
/// (`"128 MiB"`), an int for every axis (`-1`: each axis whole), a tuple with one entry per axis (an int, `-1` or
/// `None` for the whole axis, `"auto"`, or a tuple of explicit sizes), or Dask's
/// tuple-of-tuples.
pub(crate) fn chunks_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<ChunkSpec> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(ChunkSpec::Auto);
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(ChunkSpec::Text(s.to_str()?.to_owned()));
    }
    if let Ok(n) = obj.extract::<i64>() {
        return if n == -1 {
            Ok(ChunkSpec::Whole)
        } else if n <= 0 {
            Err(PyValueError::new_err(format!(
                "chunks must be positive, got {n}"
            )))
        } else {
            Ok(ChunkSpec::Every(n as usize))
        };
    }
    let items: Vec<Bound<'_, PyAny>> = obj
        .try_iter()
        .map_err(|_| PyTypeError::new_err("chunks must be an int, a string or a tuple"))?
        .collect::<PyResult<_>>()?;
    let mut axes = Vec::with_capacity(items.len());
    for item in items {
        axes.push(if item.is_none() {
            AxisChunks::Whole
        } else if let Ok(n) = item.extract::<i64>() {
            match n {
                -1 => AxisChunks::Whole,
                n if n > 0 => AxisChunks::Size(n as usize),
                n => {
                    return Err(PyValueError::new_err(format!(
                        "chunk sizes must be positive (or -1 for the whole axis), got {n}"
                    )));
                }
            }
        } else if let Ok(s) = item.cast::<PyString>() {
            match s.to_str()? {
                "auto" => AxisChunks::Auto,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "per-axis chunks take an int, -1, None, 'auto' or a tuple, got {other:?}"
                    )));
                }
            }
        } else {
            AxisChunks::Sizes(item.extract::<Vec<usize>>()?)
        });
    }
    Ok(ChunkSpec::Axes(axes))
}

/// An axis argument: `None` (all), an int or a tuple of ints.
pub(crate) fn axes_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<floe::array::Axes> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(floe::array::Axes::All);
    };
    if let Ok(a) = obj.extract::<isize>() {
        return Ok(floe::array::Axes::Some(vec![a]));
    }
    Ok(floe::array::Axes::Some(obj.extract::<Vec<isize>>()?))
}

/// A shape argument: an int or a sequence of ints.
pub(crate) fn shape_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    if let Ok(n) = obj.extract::<usize>() {
        return Ok(vec![n]);
    }
    obj.extract::<Vec<usize>>()
}

/// A tuple of Python ints.
pub(crate) fn tuple<'py>(py: Python<'py>, v: &[usize]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, v)
}
