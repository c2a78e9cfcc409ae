//! `floe.array.Array` and the module functions of `floe.array` (creation, ufunc-style
//! functions, joins, linear algebra, files, compute).

use std::path::PathBuf;
use std::sync::Arc;

use floe::array::{
    self as fa, Array, Axes, BinaryOp, DType, DynArray, Idx, ReduceOp, Scalar, UnaryOp,
};
use floe_graph::TaskError;
use pyo3::exceptions::{PyIndexError, PyNotImplementedError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyEllipsis, PyFloat, PyInt, PyList, PySlice, PyTuple};

use crate::convert::{axes_arg, chunks_arg, dtype_arg, from_numpy, shape_arg, to_numpy, tuple};
use crate::{run, to_py};

/// A lazy, chunked n-d array (floe's `dask.array.Array`): operations build a task graph;
/// `compute()` (or `numpy.asarray(x)`) runs it on all cores and returns a NumPy array.
#[pyclass(name = "Array", module = "floe.array")]
pub struct PyArray {
    pub(crate) inner: Array,
}

pub(crate) fn wrap(a: Array) -> PyArray {
    PyArray { inner: a }
}

/// What an operand of an arithmetic operator is.
enum Operand {
    Array(Array),
    Scalar(Scalar),
}

fn operand(obj: &Bound<'_, PyAny>) -> PyResult<Operand> {
    if let Ok(a) = obj.cast::<PyArray>() {
        return Ok(Operand::Array(a.borrow().inner.clone()));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Operand::Scalar(Scalar::Bool(obj.extract()?)));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(Operand::Scalar(Scalar::Int(obj.extract()?)));
    }
    // Exactly a Python float: `np.float64` subclasses `float` but is strongly typed.
    if obj.is_exact_instance_of::<PyFloat>() {
        return Ok(Operand::Scalar(Scalar::Float(obj.extract()?)));
    }
    // NumPy scalars and arrays, 0-d included, are arrays of their own dtype: unlike Python
    // numbers they are not weak (NumPy 2: `float32 array + np.float64(1)` is float64).
    let block = from_numpy(obj)?;
    let a = floe_array::with_array!(block, x => fa::from_ndarray(x, fa::ChunkSpec::Auto))
        .map_err(to_py)?;
    Ok(Operand::Array(a))
}

/// `a op other`, or `other op a` when `reflected`.
fn binop(a: &Array, other: &Bound<'_, PyAny>, op: BinaryOp, reflected: bool) -> PyResult<PyArray> {
    let out = match operand(other)? {
        Operand::Array(b) if reflected => b.binary(op, a),
        Operand::Array(b) => a.binary(op, &b),
        // floe-array's one rule for Python numbers, on either side (integers exactly).
        Operand::Scalar(s) if reflected => a.scalar_binary(s, op),
        Operand::Scalar(s) => a.binary_scalar(op, s),
    };
    out.map(wrap).map_err(to_py)
}

/// A Python index (an int, slice, `None`, `...`, or a tuple of them) as floe's.
fn basic_index(item: &Bound<'_, PyAny>) -> PyResult<Option<Idx>> {
    if item.is_none() {
        return Ok(Some(Idx::NewAxis));
    }
    if item.is_instance_of::<PyEllipsis>() {
        return Ok(Some(Idx::Ellipsis));
    }
    if let Ok(s) = item.cast::<PySlice>() {
        let get = |name: &str| -> PyResult<Option<isize>> {
            let v = s.getattr(name)?;
            if v.is_none() {
                Ok(None)
            } else {
                v.extract().map(Some)
            }
        };
        let step = get("step")?.unwrap_or(1);
        if step == 0 {
            return Err(PyValueError::new_err("slice step cannot be zero"));
        }
        return Ok(Some(Idx::Slice {
            start: get("start")?,
            stop: get("stop")?,
            step,
        }));
    }
    if !item.is_instance_of::<PyBool>()
        && let Ok(i) = item.extract::<isize>()
    {
        return Ok(Some(Idx::Int(i)));
    }
    Ok(None)
}

fn reduce(
    a: &Array,
    op: ReduceOp,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    split_every: Option<usize>,
) -> PyResult<PyArray> {
    a.reduce(op, axes_arg(axis)?, keepdims, split_every)
        .map(wrap)
        .map_err(to_py)
}

/// `a` rounded to `decimals` places: scaled, rounded half to even, scaled back.
fn round(a: &Array, decimals: i32) -> PyResult<PyArray> {
    let float = matches!(a.dtype(), DType::F32 | DType::F64);
    if decimals == 0 || (!float && decimals > 0) {
        return if float {
            unary(a, UnaryOp::Round)
        } else {
            Ok(wrap(a.clone()))
        };
    }
    if !float {
        return Err(PyNotImplementedError::new_err(
            "floe rounds integers to 0 or more decimals only",
        ));
    }
    let scale =
        fa::full(&[], fa::ChunkSpec::Auto, 10f64.powi(decimals), a.dtype()).map_err(to_py)?;
    a.mul(&scale)
        .and_then(|x| x.unary(UnaryOp::Round))
        .and_then(|x| x.div(&scale))
        .map(wrap)
        .map_err(to_py)
}

fn unary(a: &Array, op: UnaryOp) -> PyResult<PyArray> {
    a.unary(op).map(wrap).map_err(to_py)
}

/// Computes arrays together (shared work runs once) with the GIL released.
fn compute_all<'py>(py: Python<'py>, arrays: Vec<Array>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let blocks: Vec<DynArray> = run(py, move || floe::compute(&arrays))?;
    Ok(blocks.into_iter().map(|b| to_numpy(py, b)).collect())
}

#[pymethods]
impl PyArray {
    /// The shape, as a tuple.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        // NaN along axes of unknown size (a boolean mask's selection), as Dask.
        let unknown = self.inner.unknown_axes();
        let dims = self.inner.shape().iter().enumerate().map(|(a, &n)| {
            if unknown.contains(&a) {
                Ok(f64::NAN.into_pyobject(py)?.into_any())
            } else {
                Ok(n.into_pyobject(py)?.into_any())
            }
        });
        PyTuple::new(py, dims.collect::<PyResult<Vec<_>>>()?)
    }

    /// The NumPy dtype.
    #[getter]
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("numpy")?
            .call_method1("dtype", (self.inner.dtype().name(),))
    }

    /// Block sizes per axis, as Dask's tuple of tuples.
    #[getter]
    fn chunks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let unknown = self.inner.unknown_axes();
        let axes = (0..self.inner.ndim())
            .map(|a| {
                let sizes = self.inner.chunks().axis(a);
                if unknown.contains(&a) {
                    PyTuple::new(py, vec![f64::NAN; sizes.len()])
                } else {
                    tuple(py, sizes)
                }
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, axes)
    }

    /// The largest block's size along each axis (Dask's `chunksize`).
    #[getter]
    fn chunksize<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let unknown = self.inner.unknown_axes();
        let dims = self
            .inner
            .chunks()
            .max_block()
            .into_iter()
            .enumerate()
            .map(|(a, n)| {
                if unknown.contains(&a) {
                    Ok(f64::NAN.into_pyobject(py)?.into_any())
                } else {
                    Ok(n.into_pyobject(py)?.into_any())
                }
            });
        PyTuple::new(py, dims.collect::<PyResult<Vec<_>>>()?)
    }

    /// The number of blocks along each axis.
    #[getter]
    fn numblocks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        tuple(py, &self.inner.numblocks())
    }

    /// The number of blocks.
    #[getter]
    fn npartitions(&self) -> usize {
        self.inner.chunks().nblocks()
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.inner.ndim()
    }

    /// The number of elements (NaN when some axis has unknown size, as Dask).
    #[getter]
    fn size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.has_unknown_chunks() {
            return Ok(f64::NAN.into_pyobject(py)?.into_any());
        }
        Ok(self.inner.size().into_pyobject(py)?.into_any())
    }

    /// The bytes the array occupies (NaN when some axis has unknown size).
    #[getter]
    fn nbytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.inner.has_unknown_chunks() {
            return Ok(f64::NAN.into_pyobject(py)?.into_any());
        }
        Ok(self.inner.nbytes().into_pyobject(py)?.into_any())
    }

    /// Measures the block sizes of an array of unknown sizes (computing it, keeping
    /// nothing) so that slicing, rechunking and the rest work on it; updates this array
    /// in place and returns it, as Dask's `compute_chunk_sizes`.
    fn compute_chunk_sizes(mut slf: PyRefMut<'_, Self>) -> PyResult<PyRefMut<'_, Self>> {
        let measured = crate::select::compute_chunk_sizes(slf.py(), &slf.inner)?;
        slf.inner = measured;
        Ok(slf)
    }

    /// Pointwise indexing, as Dask's: `x.vindex[[0, 3], [2, 1]]` is the elements at (0, 2)
    /// and (3, 1).
    #[getter]
    fn vindex<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("floe.array")?
            .getattr("_VIndex")?
            .call1((slf,))
    }

    /// Draws the task graph computing this array into `filename` (see `floe.visualize`);
    /// returns the path written.
    #[pyo3(signature = (filename="mydask", color=None, collapse_above=500))]
    fn visualize(
        slf: &Bound<'_, Self>,
        filename: &str,
        color: Option<&str>,
        collapse_above: usize,
    ) -> PyResult<String> {
        let values = PyTuple::new(slf.py(), [slf])?;
        crate::diagnostics::visualize(&values, filename, color, collapse_above)
    }

    /// The indices of the non-zero elements, one int64 array per axis (NumPy's `nonzero`).
    fn nonzero<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let parts = self.inner.nonzero().map_err(to_py)?;
        PyTuple::new(py, parts.into_iter().map(wrap))
    }

    #[getter]
    fn itemsize(&self) -> usize {
        self.inner.dtype().itemsize()
    }

    /// The operation that made this array.
    #[getter]
    fn name(&self) -> String {
        self.inner.name().to_owned()
    }

    #[getter(T)]
    fn transposed(&self) -> PyArray {
        wrap(self.inner.t())
    }

    fn __len__(&self) -> PyResult<usize> {
        if self.inner.unknown_axes().first() == Some(&0) {
            return Err(PyValueError::new_err(
                "len() of an array whose first axis has unknown size (a boolean mask's selection); call compute_chunk_sizes() first",
            ));
        }
        self.inner
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of a 0-d array"))
    }

    fn __repr__(&self) -> String {
        format!("{}\n{}", self.inner, self.inner.chunk_table())
    }

    fn _repr_html_(&self) -> String {
        format!(
            "<table><tr><td><pre>{}</pre></td><td>{}</td></tr></table>",
            self.inner.chunk_table(),
            self.inner.to_svg()
        )
    }

    /// The chunk grid as an SVG picture.
    fn to_svg(&self) -> String {
        self.inner.to_svg()
    }

    /// Computes the array (all cores, GIL released) and returns a NumPy array.
    fn compute<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(compute_all(py, vec![self.inner.clone()])?.remove(0))
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if copy == Some(false) {
            return Err(PyValueError::new_err(
                "a floe array cannot become a NumPy array without computing (copy=False)",
            ));
        }
        let a = self.compute(py)?;
        match dtype.filter(|d| !d.is_none()) {
            Some(d) => a.call_method1("astype", (d,)),
            None => Ok(a),
        }
    }

    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        let items: Vec<Bound<'_, PyAny>> = match key.cast::<PyTuple>() {
            Ok(t) => t.iter().collect(),
            Err(_) => vec![key.clone()],
        };
        if let [item] = items.as_slice()
            && let Ok(mask) = item.cast::<PyArray>()
        {
            // A lazy mask: of the whole array (row-major), or of the first axis.
            let mask = mask.borrow().inner.clone();
            return crate::select::mask_index(&self.inner, &mask, 0, true).map(wrap);
        }
        let mut basic = Vec::with_capacity(items.len());
        let mut advanced: Option<(usize, Bound<'_, PyAny>)> = None;
        for (pos, item) in items.iter().enumerate() {
            match basic_index(item)? {
                Some(idx) => basic.push(idx),
                None => {
                    if advanced.is_some() {
                        return Err(PyIndexError::new_err(
                            "floe supports one list, array or mask index per selection",
                        ));
                    }
                    advanced = Some((pos, item.clone()));
                    basic.push(Idx::Slice {
                        start: None,
                        stop: None,
                        step: 1,
                    });
                }
            }
        }
        let mut out = self.inner.slice(&basic).map_err(to_py)?;
        if let Some((pos, item)) = advanced {
            // The axis the list or mask applies to, after the basic indexing above.
            if basic[..pos]
                .iter()
                .any(|i| matches!(i, Idx::Ellipsis | Idx::NewAxis))
                || basic[..pos].iter().any(|i| matches!(i, Idx::Int(_)))
            {
                return Err(PyIndexError::new_err(
                    "a list, array or mask index must come before any int, None or ... index",
                ));
            }
            if let Ok(mask) = item.cast::<PyArray>() {
                let mask = mask.borrow().inner.clone();
                return crate::select::mask_index(&out, &mask, pos, false).map(wrap);
            }
            let block = from_numpy(&item)?;
            out = match block.dtype() {
                DType::Bool => {
                    let mask = block.into_bool().map_err(to_py)?;
                    if mask.ndim() != 1 {
                        return Err(PyIndexError::new_err(
                            "boolean masks must be 1-d (one axis at a time)",
                        ));
                    }
                    out.mask(&mask.iter().copied().collect::<Vec<_>>(), pos as isize)
                }
                d if !d.is_float() => {
                    let idx = block.astype(DType::I64).into_i64().map_err(to_py)?;
                    if idx.ndim() != 1 {
                        return Err(PyIndexError::new_err("index lists must be 1-d"));
                    }
                    let idx: Vec<isize> = idx.iter().map(|&i| i as isize).collect();
                    out.take(&idx, pos as isize)
                }
                d => {
                    return Err(PyIndexError::new_err(format!(
                        "arrays used as indices must be of integer or boolean type, not {d}"
                    )));
                }
            }
            .map_err(to_py)?;
        }
        Ok(wrap(out))
    }

    fn __add__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Add, false)
    }
    fn __radd__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Add, true)
    }
    fn __sub__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Sub, false)
    }
    fn __rsub__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Sub, true)
    }
    fn __mul__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Mul, false)
    }
    fn __rmul__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Mul, true)
    }
    fn __truediv__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Div, false)
    }
    fn __rtruediv__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Div, true)
    }
    fn __floordiv__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::FloorDiv, false)
    }
    fn __rfloordiv__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::FloorDiv, true)
    }
    fn __mod__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Rem, false)
    }
    fn __rmod__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Rem, true)
    }
    fn __pow__(
        &self,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Pow, false)
    }
    fn __rpow__(
        &self,
        o: &Bound<'_, PyAny>,
        _modulo: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Pow, true)
    }
    fn __and__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::And, false)
    }
    fn __rand__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::And, true)
    }
    fn __or__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Or, false)
    }
    fn __ror__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Or, true)
    }
    fn __xor__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Xor, false)
    }
    fn __rxor__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        binop(&self.inner, o, BinaryOp::Xor, true)
    }
    fn __matmul__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        match operand(o)? {
            Operand::Array(b) => fa::linalg::matmul(&self.inner, &b).map(wrap).map_err(to_py),
            Operand::Scalar(_) => Err(PyValueError::new_err("matmul: an operand is a scalar")),
        }
    }
    fn __rmatmul__(&self, o: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        match operand(o)? {
            Operand::Array(b) => fa::linalg::matmul(&b, &self.inner).map(wrap).map_err(to_py),
            Operand::Scalar(_) => Err(PyValueError::new_err("matmul: an operand is a scalar")),
        }
    }

    fn __richcmp__(&self, o: &Bound<'_, PyAny>, op: pyo3::basic::CompareOp) -> PyResult<PyArray> {
        use pyo3::basic::CompareOp as C;
        let op = match op {
            C::Lt => BinaryOp::Lt,
            C::Le => BinaryOp::Le,
            C::Eq => BinaryOp::Eq,
            C::Ne => BinaryOp::Ne,
            C::Gt => BinaryOp::Gt,
            C::Ge => BinaryOp::Ge,
        };
        binop(&self.inner, o, op, false)
    }

    fn __neg__(&self) -> PyResult<PyArray> {
        unary(&self.inner, UnaryOp::Neg)
    }
    fn __pos__(&self) -> PyArray {
        wrap(self.inner.clone())
    }
    fn __abs__(&self) -> PyResult<PyArray> {
        unary(&self.inner, UnaryOp::Abs)
    }
    fn __invert__(&self) -> PyResult<PyArray> {
        unary(&self.inner, UnaryOp::Not)
    }

    /// NumPy's ufuncs on floe arrays stay lazy (`np.sqrt(x)`, `np.add(x, 1)`); what floe
    /// cannot do lazily (`out=`, `ufunc.reduce`…) is `NotImplemented`, so NumPy raises a
    /// `TypeError` rather than computing the whole array. The table is in `floe.array`.
    #[pyo3(signature = (ufunc, method, *inputs, **kwargs))]
    fn __array_ufunc__<'py>(
        slf: &Bound<'py, Self>,
        ufunc: &Bound<'py, PyAny>,
        method: &str,
        inputs: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("floe.array")?
            .getattr("_array_ufunc")?
            .call1((slf, ufunc, method, inputs, kwargs))
    }

    /// NumPy's functions on floe arrays (`np.mean(x, axis=0)`, `np.concatenate([x, y])`)
    /// return floe arrays; the others are `NotImplemented`, and NumPy raises a `TypeError`.
    fn __array_function__<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        types: &Bound<'py, PyAny>,
        args: &Bound<'py, PyAny>,
        kwargs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("floe.array")?
            .getattr("_array_function")?
            .call1((func, types, args, kwargs))
    }

    fn __bool__(&self) -> PyResult<bool> {
        Err(PyValueError::new_err(
            "the truth value of a lazy array is unknown until computed; use .compute() or any()/all()",
        ))
    }

    /// The array in blocks of `chunks` (Dask's forms: an int, a tuple with -1/None for a
    /// whole axis, explicit sizes, "auto", "128 MiB").
    fn rechunk(&self, chunks: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        self.inner
            .rechunk(chunks_arg(Some(chunks))?)
            .map(wrap)
            .map_err(to_py)
    }

    fn astype(&self, dtype: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        Ok(wrap(
            self.inner
                .astype(dtype_arg(Some(dtype), self.inner.dtype())?),
        ))
    }

    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyArray> {
        let shape: Vec<isize> =
            if shape.len() == 1 && shape.get_item(0)?.extract::<isize>().is_err() {
                shape.get_item(0)?.extract()?
            } else {
                shape.extract()?
            };
        self.inner.reshape(&shape).map(wrap).map_err(to_py)
    }

    #[pyo3(signature = (*axes))]
    fn transpose(&self, axes: &Bound<'_, PyTuple>) -> PyResult<PyArray> {
        if axes.is_empty() {
            return Ok(wrap(self.inner.t()));
        }
        let axes: Vec<usize> = if axes.len() == 1 && axes.get_item(0)?.extract::<usize>().is_err() {
            axes.get_item(0)?.extract()?
        } else {
            axes.extract()?
        };
        self.inner.permute(&axes).map(wrap).map_err(to_py)
    }

    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn sum(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::Sum, axis, keepdims, split_every)
    }
    /// Cumulative sum along `axis` (`None`: of the flattened array), as a blocked scan.
    #[pyo3(signature = (axis=None, dtype=None))]
    fn cumsum(&self, axis: Option<isize>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
        scan(&self.inner, fa::ScanOp::Sum, axis, dtype)
    }

    /// Cumulative product along `axis` (`None`: of the flattened array), as a blocked scan.
    #[pyo3(signature = (axis=None, dtype=None))]
    fn cumprod(&self, axis: Option<isize>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
        scan(&self.inner, fa::ScanOp::Prod, axis, dtype)
    }

    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn prod(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::Prod, axis, keepdims, split_every)
    }
    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn mean(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::Mean, axis, keepdims, split_every)
    }
    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn min(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::Min, axis, keepdims, split_every)
    }
    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn max(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::Max, axis, keepdims, split_every)
    }
    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn any(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::Any, axis, keepdims, split_every)
    }
    #[pyo3(signature = (axis=None, keepdims=false, split_every=None))]
    fn all(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(&self.inner, ReduceOp::All, axis, keepdims, split_every)
    }
    #[pyo3(signature = (axis=None, ddof=0, keepdims=false, split_every=None))]
    fn var(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        ddof: u32,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(
            &self.inner,
            ReduceOp::Var { ddof },
            axis,
            keepdims,
            split_every,
        )
    }
    #[pyo3(signature = (axis=None, ddof=0, keepdims=false, split_every=None))]
    fn std(
        &self,
        axis: Option<&Bound<'_, PyAny>>,
        ddof: u32,
        keepdims: bool,
        split_every: Option<usize>,
    ) -> PyResult<PyArray> {
        reduce(
            &self.inner,
            ReduceOp::Std { ddof },
            axis,
            keepdims,
            split_every,
        )
    }
    #[pyo3(signature = (axis=None))]
    fn argmin(&self, axis: Option<isize>) -> PyResult<PyArray> {
        self.inner
            .reduce(ReduceOp::ArgMin, Axes::from(axis), false, None)
            .map(wrap)
            .map_err(to_py)
    }
    #[pyo3(signature = (axis=None))]
    fn argmax(&self, axis: Option<isize>) -> PyResult<PyArray> {
        self.inner
            .reduce(ReduceOp::ArgMax, Axes::from(axis), false, None)
            .map(wrap)
            .map_err(to_py)
    }

    #[pyo3(signature = (min=None, max=None))]
    fn clip(&self, min: Option<f64>, max: Option<f64>) -> PyResult<PyArray> {
        self.inner
            .clip(
                min.unwrap_or(f64::NEG_INFINITY),
                max.unwrap_or(f64::INFINITY),
            )
            .map(wrap)
            .map_err(to_py)
    }

    /// The matrix product `self @ other` (NumPy's `dot` for 1-d and 2-d arrays).
    fn dot(&self, other: &Bound<'_, PyAny>) -> PyResult<PyArray> {
        fa::linalg::matmul(&self.inner, &as_array(other)?)
            .map(wrap)
            .map_err(to_py)
    }

    /// Rounded to `decimals` places (NumPy's half-to-even); integers are returned as they
    /// are for `decimals >= 0`.
    #[pyo3(signature = (decimals=0))]
    fn round(&self, decimals: i32) -> PyResult<PyArray> {
        round(&self.inner, decimals)
    }

    /// Without length-1 axes: `axis` (an int or a tuple), or all of them.
    #[pyo3(signature = (axis=None))]
    fn squeeze(&self, axis: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
        let axes: Option<Vec<isize>> = match axis {
            None => None,
            Some(a) if a.is_none() => None,
            Some(a) => Some(match a.extract::<isize>() {
                Ok(one) => vec![one],
                Err(_) => a.extract()?,
            }),
        };
        self.inner.squeeze(axes.as_deref()).map(wrap).map_err(to_py)
    }

    /// Axes `axis1` and `axis2` interchanged.
    fn swapaxes(&self, axis1: isize, axis2: isize) -> PyResult<PyArray> {
        self.inner.swapaxes(axis1, axis2).map(wrap).map_err(to_py)
    }

    /// The elements as one axis, in row-major order.
    fn ravel(&self) -> PyResult<PyArray> {
        self.inner.reshape(&[-1]).map(wrap).map_err(to_py)
    }

    /// As [`ravel`](Self::ravel) (a lazy array never shares memory with its input anyway).
    fn flatten(&self) -> PyResult<PyArray> {
        self.ravel()
    }

    /// The complex conjugate: the array itself, as floe has no complex dtypes.
    fn conj(&self) -> PyArray {
        wrap(self.inner.clone())
    }

    /// As [`conj`](Self::conj).
    fn conjugate(&self) -> PyArray {
        self.conj()
    }

    /// The real part: the array itself.
    #[getter]
    fn real(&self) -> PyArray {
        self.conj()
    }

    /// The imaginary part: zeros shaped and chunked like the array.
    #[getter]
    fn imag(&self) -> PyResult<PyArray> {
        fa::zeros(
            self.inner.shape(),
            fa::ChunkSpec::from(self.inner.chunks()),
            self.inner.dtype(),
        )
        .map(wrap)
        .map_err(to_py)
    }

    /// `func` applied to every block (a NumPy array) under the GIL; it must return a block of
    /// the same shape, of `dtype` (default: this array's).
    #[pyo3(signature = (func, dtype=None))]
    fn map_blocks(&self, func: Py<PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
        let dtype = dtype_arg(dtype, self.inner.dtype())?;
        py_map_blocks(&self.inner, func, dtype).map(wrap)
    }

    /// This array computed and its blocks kept in memory (Dask's `persist`): later
    /// computations of it, or of arrays made from it, start from the kept blocks.
    fn persist(&self, py: Python<'_>) -> PyResult<PyArray> {
        let a = self.inner.clone();
        let kept = run(py, move || floe::persist(&[a]))?;
        kept.into_iter()
            .next()
            .map(wrap)
            .ok_or_else(|| PyValueError::new_err("persist returned nothing"))
    }

    /// `x.blocks[i, j]`: the array of the selected blocks, dimensions kept (Dask's
    /// `blocks`); see `floe.array.BlockView`.
    #[getter]
    fn blocks<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("floe.array")?
            .getattr("BlockView")?
            .call1((slf,))
    }

    /// Dask's `topk`: the `k` largest along `axis`, largest first (negative `k`: smallest).
    #[pyo3(signature = (k, axis=-1, split_every=None))]
    fn topk(&self, k: isize, axis: isize, split_every: Option<usize>) -> PyResult<PyArray> {
        let _ = split_every; // one combine of every block's survivors
        self.inner.topk(k, axis).map(wrap).map_err(to_py)
    }

    /// Dask's `argtopk`: the positions of `topk`'s values along `axis`, in its order.
    #[pyo3(signature = (k, axis=-1, split_every=None))]
    fn argtopk(&self, k: isize, axis: isize, split_every: Option<usize>) -> PyResult<PyArray> {
        let _ = split_every; // one combine of every block's survivors
        self.inner.argtopk(k, axis).map(wrap).map_err(to_py)
    }

    /// NumPy's `diagonal`: the two axes removed, the diagonal appended last.
    #[pyo3(signature = (offset=0, axis1=0, axis2=1))]
    fn diagonal(&self, offset: isize, axis1: isize, axis2: isize) -> PyResult<PyArray> {
        self.inner
            .diagonal(offset, axis1, axis2)
            .map(wrap)
            .map_err(to_py)
    }

    /// NumPy's `trace`: the sums along the diagonals, in `dtype` if given.
    #[pyo3(signature = (offset=0, axis1=0, axis2=1, dtype=None))]
    fn trace(
        &self,
        offset: isize,
        axis1: isize,
        axis2: isize,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyArray> {
        let t = self.inner.trace(offset, axis1, axis2).map_err(to_py)?;
        Ok(wrap(match dtype.filter(|d| !d.is_none()) {
            Some(d) => t.astype(dtype_arg(Some(d), t.dtype())?),
            None => t,
        }))
    }

    /// NumPy's `repeat` along `axis` (`None`: of the flattened array); see
    /// `floe.array.repeat`.
    #[pyo3(signature = (repeats, axis=None))]
    fn repeat<'py>(
        slf: &Bound<'py, Self>,
        repeats: &Bound<'py, PyAny>,
        axis: Option<isize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        slf.py()
            .import("floe.array")?
            .getattr("repeat")?
            .call1((slf, repeats, axis))
    }

    /// Every block extended by `depth` elements of its neighbours (an int, one per axis, or
    /// `{axis: depth}`), and past the array's edges by `boundary` (`"none"`, `"reflect"`,
    /// `"periodic"`, `"nearest"` or a constant; one for all axes or per axis).
    #[pyo3(signature = (depth, boundary=None))]
    fn overlap(
        &self,
        depth: &Bound<'_, PyAny>,
        boundary: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyArray> {
        crate::overlap::overlap(&self.inner, depth, boundary).map(wrap)
    }

    /// `func` on every block extended by `depth` (see `overlap`), the margins cut from its
    /// results unless `trim=False`: stencils and filters computed block by block.
    #[pyo3(signature = (func, depth, boundary=None, trim=true, dtype=None))]
    fn map_overlap(
        &self,
        func: Py<PyAny>,
        depth: &Bound<'_, PyAny>,
        boundary: Option<&Bound<'_, PyAny>>,
        trim: bool,
        dtype: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyArray> {
        let dtype = dtype_arg(dtype, self.inner.dtype())?;
        crate::overlap::map_overlap(
            std::slice::from_ref(&self.inner),
            func,
            depth,
            boundary,
            trim,
            dtype,
        )
        .map(wrap)
    }
}

/// `func` (a Python function of a NumPy block) over every block of `x`, under the GIL.
pub(crate) fn py_map_blocks(x: &Array, func: Py<PyAny>, dtype: DType) -> PyResult<Array> {
    py_map_blocks_with(x, &[], func, dtype)
}

/// `func(block_of_x, block_of_each_other)` on aligned blocks, as NumPy arrays.
pub(crate) fn py_map_blocks_with(
    x: &Array,
    others: &[&Array],
    func: Py<PyAny>,
    dtype: DType,
) -> PyResult<Array> {
    let func = Arc::new(func);
    x.map_blocks(others, dtype, move |blocks, _info| {
        Python::attach(|py| {
            let args = PyTuple::new(py, blocks.iter().map(|b| to_numpy(py, (*b).clone())))
                .map_err(|e| describe(py, &e))?;
            let out = func.call1(py, args).map_err(|e| describe(py, &e))?;
            let block = from_numpy(out.bind(py)).map_err(|e| describe(py, &e))?;
            Ok(block.astype(dtype))
        })
    })
    .map_err(to_py)
}

/// A Python exception as a task error message: `TypeName: message`.
pub(crate) fn describe(py: Python<'_>, e: &PyErr) -> Box<dyn std::error::Error + Send + Sync> {
    let name = e
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    Box::new(PyTaskError {
        text: format!("{name}: {}", e.value(py)),
        err: e.clone_ref(py),
    })
}

/// A Python exception raised inside a task, kept whole: the run's error carries it, and
/// the binding raises it again as itself (a `ValueError` stays a `ValueError`), with the
/// task named in a note, as Dask re-raises a task's exception.
#[derive(Debug)]
pub(crate) struct PyTaskError {
    pub(crate) err: PyErr,
    text: String,
}

impl std::fmt::Display for PyTaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for PyTaskError {}

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
            ReadLock::Hdf5 => Some(
                HDF5_READS
                    .get_or_try_init(py, || {
                        Ok::<_, PyErr>(py.import("threading")?.call_method0("Lock")?.unbind())
                    })
                    .map_err(|e| TaskError::msg(e.to_string()))?
                    .bind(py),
            ),
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
fn block_key<'py>(py: Python<'py>, b: &fa::BlockInfo) -> PyResult<Bound<'py, PyTuple>> {
    let slices = b
        .offset
        .iter()
        .zip(&b.shape)
        .map(|(&o, &n)| PySlice::new(py, o as isize, (o + n) as isize, 1));
    PyTuple::new(py, slices)
}

/// Writes `x` into `target` (anything whose `__setitem__` takes a tuple of slices) as one
/// computation: each block once, by the worker that made it, with the GIL held while it is
/// assigned; work shared between blocks runs once, and the budget bounds what is held.
#[pyfunction]
fn _store(py: Python<'_>, x: &Bound<'_, PyAny>, target: Py<PyAny>) -> PyResult<()> {
    let write = floe::io::sink(&as_array(x)?, move |block, info| {
        Python::attach(|py| {
            let key = block_key(py, info).map_err(|e| describe(py, &e))?;
            target
                .bind(py)
                .set_item(key, to_numpy(py, block.clone()))
                .map_err(|e| describe(py, &e))
        })
    })
    .map_err(to_py)?;
    compute_all(py, vec![write]).map(drop)
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
    let a = fa::try_from_fn(&shape, chunks_arg(chunks)?, dtype, move |b| {
        if native {
            copy_block(&obj, b, dtype)
        } else {
            read_block(&obj, b, dtype, &serial)
        }
    })
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

/// Block `b` of a NumPy array, copied from its memory with the GIL held.
fn copy_block(obj: &Py<PyAny>, b: &fa::BlockInfo, dtype: DType) -> Result<DynArray, TaskError> {
    use numpy::PyReadonlyArrayDyn;
    Python::attach(|py| {
        let arr = obj.bind(py);
        let fail = |e: PyErr| TaskError::new(describe(py, &e));
        macro_rules! copy {
            ($($d:ident => $t:ty),+) => {
                match dtype {
                    $(DType::$d => {
                        let ro: PyReadonlyArrayDyn<'_, $t> = arr.extract().map_err(fail)?;
                        let view = ro.as_array();
                        let block = view.slice_each_axis(|ax| {
                            let a = ax.axis.index();
                            ndarray::Slice::from(b.offset[a]..b.offset[a] + b.shape[a])
                        });
                        DynArray::from(block.to_owned())
                    })+
                    other => return Err(TaskError::msg(format!("internal error: a NumPy {other} array"))),
                }
            };
        }
        Ok(
            copy!(Bool => bool, I8 => i8, I16 => i16, I32 => i32, I64 => i64, U8 => u8,
            U16 => u16, U32 => u32, U64 => u64, F32 => f32, F64 => f64),
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
    let default = if fill_value.is_instance_of::<PyBool>() {
        DType::Bool
    } else if fill_value.is_instance_of::<PyInt>() {
        DType::I64
    } else {
        DType::F64
    };
    let v: f64 = if fill_value.is_instance_of::<PyBool>() {
        f64::from(u8::from(fill_value.extract::<bool>()?))
    } else {
        fill_value.extract()?
    };
    fa::full(
        &shape_arg(shape)?,
        chunks_arg(chunks)?,
        v,
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

fn arrays(seq: &Bound<'_, PyAny>) -> PyResult<Vec<Array>> {
    seq.try_iter()?
        .map(|item| match operand(&item?)? {
            Operand::Array(a) => Ok(a),
            Operand::Scalar(_) => Err(PyTypeError::new_err("expected arrays, got a scalar")),
        })
        .collect()
}

#[pyfunction]
#[pyo3(signature = (seq, axis=0))]
fn concatenate(seq: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyArray> {
    fa::concatenate(&arrays(seq)?, axis)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (seq, axis=0))]
fn stack(seq: &Bound<'_, PyAny>, axis: isize) -> PyResult<PyArray> {
    fa::stack(&arrays(seq)?, axis).map(wrap).map_err(to_py)
}

pub(crate) fn as_array(obj: &Bound<'_, PyAny>) -> PyResult<Array> {
    match operand(obj)? {
        Operand::Array(a) => Ok(a),
        Operand::Scalar(s) => s.to_array(DType::Bool).map_err(to_py),
    }
}

#[pyfunction(name = "where")]
fn where_(
    cond: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    y: &Bound<'_, PyAny>,
) -> PyResult<PyArray> {
    fa::where_(&as_array(cond)?, &as_array(x)?, &as_array(y)?)
        .map(wrap)
        .map_err(to_py)
}

/// A reduction by NumPy's name (`nansum`, `nanmean`…, with `ddof` for the variances).
/// NumPy's `cumsum`, `cumprod`, `nancumsum` or `nancumprod` of `x` along `axis` (`None`:
/// of the flattened array), accumulated in `dtype` when given.
#[pyfunction]
#[pyo3(signature = (name, x, axis=None, dtype=None))]
fn _scan(
    name: &str,
    x: &Bound<'_, PyAny>,
    axis: Option<isize>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let op = fa::ScanOp::from_numpy_name(name)
        .ok_or_else(|| PyNotImplementedError::new_err(format!("floe has no scan {name}")))?;
    scan(&as_array(x)?, op, axis, dtype)
}

fn scan(
    x: &fa::Array,
    op: fa::ScanOp,
    axis: Option<isize>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let dtype = dtype
        .filter(|d| !d.is_none())
        .map(|d| dtype_arg(Some(d), x.dtype()))
        .transpose()?;
    let x = dtype.map_or_else(|| x.clone(), |d| x.astype(d));
    let (x, axis) = match axis {
        Some(a) => (x, a),
        None => (x.reshape(&[-1]).map_err(to_py)?, 0),
    };
    let y = x.scan(op, axis).map_err(to_py)?;
    Ok(wrap(dtype.map_or_else(|| y.clone(), |d| y.astype(d))))
}

#[pyfunction]
#[pyo3(signature = (name, x, axis=None, keepdims=false, ddof=0, split_every=None))]
fn _reduce(
    name: &str,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ddof: u32,
    split_every: Option<usize>,
) -> PyResult<PyArray> {
    let op = match name {
        "sum" => ReduceOp::Sum,
        "prod" => ReduceOp::Prod,
        "mean" => ReduceOp::Mean,
        "min" => ReduceOp::Min,
        "max" => ReduceOp::Max,
        "nansum" => ReduceOp::NanSum,
        "nanmean" => ReduceOp::NanMean,
        "nanmin" => ReduceOp::NanMin,
        "nanmax" => ReduceOp::NanMax,
        "var" => ReduceOp::Var { ddof },
        "std" => ReduceOp::Std { ddof },
        "nanvar" => ReduceOp::NanVar { ddof },
        "nanstd" => ReduceOp::NanStd { ddof },
        other => {
            return Err(PyNotImplementedError::new_err(format!(
                "floe has no reduction {other}"
            )));
        }
    };
    reduce(&as_array(x)?, op, axis, keepdims, split_every)
}

/// An elementwise function by NumPy's name (`sqrt`, `exp`, `isnan`…).
#[pyfunction]
fn _unary(name: &str, x: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    let op = UnaryOp::from_numpy_name(name)
        .ok_or_else(|| PyNotImplementedError::new_err(format!("floe has no elementwise {name}")))?;
    unary(&as_array(x)?, op)
}

/// A binary elementwise function by NumPy's name (`maximum`, `minimum`, `power`…).
#[pyfunction]
fn _binary(name: &str, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    let op = BinaryOp::from_numpy_name(name)
        .ok_or_else(|| PyNotImplementedError::new_err(format!("floe has no elementwise {name}")))?;
    let x = as_array(x)?;
    binop(&x, y, op, false)
}

/// The floe arrays among `*args`; a `TypeError` naming `what` for anything else.
fn arrays_arg(args: &Bound<'_, PyTuple>, what: &str) -> PyResult<Vec<Array>> {
    args.iter()
        .map(|a| {
            a.cast::<PyArray>()
                .map(|a| a.borrow().inner.clone())
                .map_err(|_| PyTypeError::new_err(format!("{what} takes floe arrays")))
        })
        .collect()
}

/// Computes arrays together (shared work runs once), returning NumPy arrays.
#[pyfunction]
#[pyo3(signature = (*arrays))]
fn compute<'py>(py: Python<'py>, arrays: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, compute_all(py, arrays_arg(arrays, "compute")?)?)
}

/// Computes arrays together and keeps their blocks in memory (Dask's `persist`): arrays
/// over the kept blocks, whose later computations start from them.
#[pyfunction]
#[pyo3(signature = (*arrays))]
fn persist<'py>(py: Python<'py>, arrays: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyTuple>> {
    let arrays = arrays_arg(arrays, "persist")?;
    let kept = run(py, move || floe::persist(&arrays))?;
    PyTuple::new(py, kept.into_iter().map(wrap))
}

/// Sets the worker threads, the memory budget (`"auto"`, `None` for none, bytes or a size),
/// the spill directory for every later computation and the block size of `"auto"` chunks
/// (`None`: following the budget) for arrays made later.
#[pyfunction]
#[pyo3(signature = (threads=None, memory_limit=None, spill_dir=None, chunk_size=None))]
fn _set_config(
    threads: Option<usize>,
    memory_limit: Option<&Bound<'_, PyAny>>,
    spill_dir: Option<std::path::PathBuf>,
    chunk_size: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    let mut cfg = floe::Config::default();
    if let Some(t) = threads {
        if t == 0 {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        cfg = cfg.threads(t);
    }
    if let Some(dir) = spill_dir {
        cfg = cfg.spill_dir(dir);
    }
    match memory_limit {
        None => {}
        Some(m) if m.is_none() => cfg = cfg.no_memory_limit(),
        Some(m) if m.extract::<String>().is_ok_and(|s| s == "auto") => {}
        Some(m) => cfg = cfg.memory_limit(size_bytes(m, "memory_limit")?),
    }
    if let Some(c) = chunk_size.filter(|c| !c.is_none()) {
        match size_bytes(c, "chunk_size")? {
            0 => return Err(PyValueError::new_err("chunk_size must be at least 1 byte")),
            b => cfg = cfg.chunk_size(b),
        }
    }
    floe::config::set(cfg);
    Ok(())
}

/// The bytes of setting `what` given as an int or a size such as `"4GB"`.
fn size_bytes(m: &Bound<'_, PyAny>, what: &str) -> PyResult<usize> {
    if let Ok(b) = m.extract::<usize>() {
        return Ok(b);
    }
    let text: String = m.extract().map_err(|_| {
        PyTypeError::new_err(format!("{what} takes bytes (an int) or a size like '4GB'"))
    })?;
    fa::parse_bytes(&text)
        .ok_or_else(|| PyValueError::new_err(format!("{what}: cannot read {text:?} as a size")))
}

#[pyfunction]
fn matmul(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::matmul(&as_array(a)?, &as_array(b)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (a, b, axes=None))]
fn tensordot(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let (a, b) = (as_array(a)?, as_array(b)?);
    let n_default = 2_usize;
    let (xa, xb): (Vec<usize>, Vec<usize>) =
        if let Some(n) = axes.map_or(Some(n_default), |x| x.extract::<usize>().ok()) {
            (
                (a.ndim().saturating_sub(n)..a.ndim()).collect(),
                (0..n).collect(),
            )
        } else {
            axes.expect("an int was handled above").extract()?
        };
    fa::linalg::tensordot(&a, &b, &xa, &xb)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
fn svd(a: &Bound<'_, PyAny>) -> PyResult<(PyArray, PyArray, PyArray)> {
    let (u, s, v) = fa::linalg::svd(&as_array(a)?).map_err(to_py)?;
    Ok((wrap(u), wrap(s), wrap(v)))
}

#[pyfunction]
#[pyo3(signature = (a, k, n_power_iter=0, n_oversamples=10, seed=0))]
fn svd_compressed(
    a: &Bound<'_, PyAny>,
    k: usize,
    n_power_iter: usize,
    n_oversamples: usize,
    seed: u64,
) -> PyResult<(PyArray, PyArray, PyArray)> {
    let (u, s, v) = fa::linalg::svd_compressed(&as_array(a)?, k, n_power_iter, n_oversamples, seed)
        .map_err(to_py)?;
    Ok((wrap(u), wrap(s), wrap(v)))
}

#[pyfunction]
fn qr(a: &Bound<'_, PyAny>) -> PyResult<(PyArray, PyArray)> {
    let (q, r) = fa::linalg::qr(&as_array(a)?).map_err(to_py)?;
    Ok((wrap(q), wrap(r)))
}

#[pyfunction]
fn tsqr(a: &Bound<'_, PyAny>) -> PyResult<(PyArray, PyArray)> {
    let (q, r) = fa::linalg::tsqr(&as_array(a)?).map_err(to_py)?;
    Ok((wrap(q), wrap(r)))
}

#[pyfunction]
fn cholesky(a: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::cholesky(&as_array(a)?).map(wrap).map_err(to_py)
}

#[pyfunction]
fn solve(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::solve(&as_array(a)?, &as_array(b)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
fn inv(a: &Bound<'_, PyAny>) -> PyResult<PyArray> {
    fa::linalg::inv(&as_array(a)?).map(wrap).map_err(to_py)
}

#[pyfunction]
fn lstsq(
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> PyResult<(PyArray, PyArray, PyArray, PyArray)> {
    let r = fa::linalg::lstsq(&as_array(a)?, &as_array(b)?).map_err(to_py)?;
    Ok((wrap(r.x), wrap(r.residuals), wrap(r.rank), wrap(r.s)))
}

#[pyfunction]
#[pyo3(signature = (x, ord=None))]
fn norm(x: &Bound<'_, PyAny>, ord: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    use fa::linalg::Norm;
    let ord = match ord.filter(|o| !o.is_none()) {
        None => Norm::Default,
        Some(o) => {
            if let Ok(s) = o.extract::<String>() {
                match s.as_str() {
                    "fro" => Norm::Fro,
                    "nuc" => Norm::Nuclear,
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "invalid norm order {other:?}"
                        )));
                    }
                }
            } else {
                let p: f64 = o.extract()?;
                if p == f64::INFINITY {
                    Norm::Inf
                } else if p == f64::NEG_INFINITY {
                    Norm::NegInf
                } else {
                    Norm::P(p)
                }
            }
        }
    };
    fa::linalg::norm(&as_array(x)?, ord)
        .map(wrap)
        .map_err(to_py)
}

/// Variable `var` of a NetCDF file (one block per file by default).
#[pyfunction]
#[pyo3(signature = (path, var, chunks=None))]
fn open_netcdf(path: PathBuf, var: &str, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    let chunks = match chunks {
        Some(c) => chunks_arg(Some(c))?,
        None => ONE_BLOCK,
    };
    floe::io::open_netcdf(path, var, chunks)
        .map(wrap)
        .map_err(to_py)
}

/// One block per file: near-square blocks of unbounded size.
const ONE_BLOCK: fa::ChunkSpec = fa::ChunkSpec::Bytes(usize::MAX / 2);

/// Variable `var` of several NetCDF files concatenated along the first axis (sorted paths).
#[pyfunction]
#[pyo3(signature = (paths, var, chunks=None))]
fn open_mfnetcdf(
    paths: Vec<PathBuf>,
    var: &str,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArray> {
    let chunks = match chunks {
        Some(c) => chunks_arg(Some(c))?,
        None => ONE_BLOCK,
    };
    floe::io::open_mfnetcdf(&paths, var, chunks)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (path, chunks=None))]
fn from_zarr(path: PathBuf, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    floe::io::from_zarr(path, chunks_arg(chunks)?)
        .map(wrap)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (path, chunks=None))]
fn from_npy(path: PathBuf, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArray> {
    floe::io::from_npy(path, chunks_arg(chunks)?)
        .map(wrap)
        .map_err(to_py)
}

/// Writes `x` as a Zarr v3 array, chunk by chunk in parallel (GIL released).
#[pyfunction]
fn to_zarr(py: Python<'_>, x: &Bound<'_, PyArray>, path: PathBuf) -> PyResult<()> {
    let a = x.borrow().inner.clone();
    run(py, move || floe::io::store_zarr(&a, path))
}

/// What computing the arrays together will do, without running: a dict of the plan's
/// figures (see `floe::plan`).
#[pyfunction]
#[pyo3(signature = (*arrays))]
fn _plan<'py>(
    py: Python<'py>,
    arrays: &Bound<'py, PyTuple>,
) -> PyResult<(Bound<'py, pyo3::types::PyDict>, String)> {
    let arrays = arrays_arg(arrays, "plan")?;
    let plan = run(py, move || floe::plan(&arrays))?;
    let d = pyo3::types::PyDict::new(py);
    d.set_item("tasks", plan.tasks)?;
    d.set_item("source_bytes", plan.source_bytes)?;
    d.set_item("output_bytes", plan.output_bytes)?;
    d.set_item("memory_limit", plan.memory_limit)?;
    d.set_item("peak_bytes", plan.peak_bytes)?;
    d.set_item("unbounded_peak_bytes", plan.unbounded_peak_bytes)?;
    d.set_item("recomputed_bytes", plan.recomputed_bytes)?;
    d.set_item("spilled_bytes", plan.spilled_bytes)?;
    d.set_item("largest_task_bytes", plan.largest_task_bytes)?;
    Ok((d, plan.to_string()))
}

/// Writes `x` as a `.npy` file, block by block in parallel (GIL released).
#[pyfunction]
fn to_npy(py: Python<'_>, x: &Bound<'_, PyArray>, path: PathBuf) -> PyResult<()> {
    let a = x.borrow().inner.clone();
    run(py, move || floe::io::store_npy(&a, path))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),+ $(,)?) => { $(m.add_function(wrap_pyfunction!($f, m)?)?;)+ };
    }
    add!(
        from_array,
        zeros,
        ones,
        empty,
        full,
        arange,
        linspace,
        eye,
        random_uniform,
        random_normal,
        concatenate,
        stack,
        where_,
        _unary,
        _binary,
        compute,
        _plan,
        _set_config,
        matmul,
        tensordot,
        svd,
        svd_compressed,
        qr,
        tsqr,
        cholesky,
        solve,
        inv,
        lstsq,
        norm,
        open_netcdf,
        open_mfnetcdf,
        from_zarr,
        _reduce,
        _scan,
        persist,
        _store,
        from_npy,
        to_zarr,
        to_npy,
    );
    let _ = PyList::empty(m.py());
    Ok(())
}
