//! `floe.array.Array`, and the module functions that apply its operations (ufunc-style
//! functions, reductions, scans, joins, `where`). Creation, files, linear algebra and
//! running live in their own modules.

use floe::array::{
    self as fa, Array, Axes, BinaryOp, DType, DynArray, Idx, ReduceOp, Scalar, UnaryOp,
};
use pyo3::exceptions::{PyIndexError, PyNotImplementedError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyComplex, PyDict, PyEllipsis, PyFloat, PyInt, PySlice, PyTuple};

use crate::convert::{axes_arg, chunks_arg, dtype_arg, from_numpy, scalar_arg, to_numpy, tuple};
use crate::{run, to_py};

/// A lazy, chunked n-d array (floe's `dask.array.Array`): operations build a task graph;
/// `compute()` (or `numpy.asarray(x)`) runs it on all cores and returns a NumPy array.
#[pyclass(name = "Array", module = "floe.array")]
pub struct PyArray {
    pub(crate) inner: Array,
    /// How pickle rebuilds the array: `(callable, args)`, set by the Python functions that
    /// make arrays from data or files (see `floe.array._recorded`); `None` for arrays
    /// derived by operations, whose tasks are not yet describable as data.
    recipe: Option<Py<PyAny>>,
}

pub(crate) fn wrap(a: Array) -> PyArray {
    PyArray {
        inner: a,
        recipe: None,
    }
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
    // Python numbers are weak scalars. Exactly `float` and `complex`: `np.float64`
    // subclasses `float` but is strongly typed.
    if obj.is_instance_of::<PyBool>()
        || obj.is_instance_of::<PyInt>()
        || obj.is_exact_instance_of::<PyFloat>()
        || obj.is_exact_instance_of::<PyComplex>()
    {
        return scalar_arg(obj).map(Operand::Scalar);
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
/// One entry of a Python index as floe's: a basic index, a lazy (floe) mask, or a NumPy
/// array or list of integers or booleans.
fn index_entry(item: &Bound<'_, PyAny>) -> PyResult<fa::Index> {
    if let Some(idx) = basic_index(item)? {
        return Ok(fa::Index::Basic(idx));
    }
    if let Ok(mask) = item.cast::<PyArray>() {
        return Ok(fa::Index::Lazy(mask.borrow().inner.clone()));
    }
    let block = from_numpy(item).map_err(|_| {
        PyIndexError::new_err(format!(
            "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are valid indices, not {}",
            item.get_type().name().map(|n| n.to_string()).unwrap_or_default()
        ))
    })?;
    if block.is_empty() && block.shape().len() == 1 {
        // `[]`: NumPy takes an empty list as no positions (it would be float64 otherwise).
        return Ok(fa::Index::Take(Vec::new()));
    }
    match block.dtype() {
        DType::Bool => {
            let mask = block.into_bool().map_err(to_py)?;
            if mask.ndim() != 1 {
                return Err(PyIndexError::new_err(
                    "boolean masks must be 1-d (one axis at a time)",
                ));
            }
            Ok(fa::Index::Mask(mask.iter().copied().collect()))
        }
        d if d.is_integer() => {
            let idx = block.astype(DType::I64).into_i64().map_err(to_py)?;
            if idx.ndim() != 1 {
                return Err(PyIndexError::new_err("index lists must be 1-d"));
            }
            Ok(fa::Index::Take(idx.iter().map(|&i| i as isize).collect()))
        }
        d => Err(PyIndexError::new_err(format!(
            "arrays used as indices must be of integer or boolean type, not {d}"
        ))),
    }
}

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
    let float = a.dtype().is_inexact();
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
pub(crate) fn compute_all<'py>(
    py: Python<'py>,
    arrays: Vec<Array>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
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

    /// Pickling: the array is rebuilt lazily by replaying the calls of `floe.array`'s
    /// functions and methods that made it (recorded by `floe.array` as `_recipe`); an
    /// array made by a private call has no recipe and a `TypeError` says so.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.recipe {
            Some(r) => Ok(r.bind(py).clone()),
            None => Err(PyTypeError::new_err(format!(
                "cannot pickle the lazy floe array made by '{}': pickling replays the floe.array calls that made an array, and this one (or an array it was made from) came from a private call; compute it first",
                self.inner.name()
            ))),
        }
    }

    /// The recipe pickle uses (see `__reduce__`), or `None`.
    #[getter]
    fn _recipe(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.recipe.as_ref().map(|r| r.clone_ref(py))
    }

    #[setter(_recipe)]
    fn set_recipe(&mut self, recipe: Option<Py<PyAny>>) {
        self.recipe = recipe;
    }

    /// A lazy array is immutable: a copy shares its expression (as Dask's arrays do).
    fn __copy__(&self, py: Python<'_>) -> PyArray {
        PyArray {
            inner: self.inner.clone(),
            recipe: self.recipe.as_ref().map(|r| r.clone_ref(py)),
        }
    }

    fn __deepcopy__(&self, py: Python<'_>, _memo: &Bound<'_, PyAny>) -> PyArray {
        self.__copy__(py)
    }

    /// Dask's tokenize protocol: the same lazy array always gives the same token, two
    /// different expressions never do (its node's id within this process).
    fn __dask_tokenize__(&self) -> (&'static str, u64, String) {
        (
            "floe.Array",
            self.inner.id(),
            self.inner.dtype().to_string(),
        )
    }

    /// A one-line summary for xarray's and Jupyter's inline reprs (nothing is computed).
    fn _repr_inline_(&self, max_width: usize) -> String {
        let block = self.inner.chunks().max_block();
        let sizes: Vec<String> = block.iter().map(usize::to_string).collect();
        let tuple = match sizes.len() {
            1 => format!("({},)", sizes[0]),
            _ => format!("({})", sizes.join(", ")),
        };
        let text = format!(
            "floe.Array<chunksize={tuple}, dtype={}>",
            self.inner.dtype()
        );
        if text.chars().count() > max_width && max_width > 3 {
            let cut: String = text.chars().take(max_width - 3).collect();
            format!("{cut}...")
        } else {
            text
        }
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
        let index = items
            .iter()
            .map(index_entry)
            .collect::<PyResult<Vec<_>>>()?;
        self.inner.getitem(&index).map(wrap).map_err(to_py)
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
        let spec = match chunks.cast::<PyDict>() {
            // Dask's `{axis: chunks}`: the axes not named keep their blocks.
            Ok(d) => {
                let nd = self.inner.ndim();
                let mut rules: Vec<fa::AxisChunks> = (0..nd)
                    .map(|a| fa::AxisChunks::Sizes(self.inner.chunks().axis(a).to_vec()))
                    .collect();
                for (k, v) in d.iter() {
                    let axis: isize = k.extract()?;
                    let a = if axis < 0 { axis + nd as isize } else { axis };
                    let slot = usize::try_from(a).ok().filter(|&a| a < nd).ok_or_else(|| {
                        PyValueError::new_err(format!(
                            "rechunk: axis {axis} is out of bounds for an array of {nd} dimensions"
                        ))
                    })?;
                    let one = PyTuple::new(chunks.py(), [v.clone()])?;
                    match chunks_arg(Some(one.as_any()))? {
                        fa::ChunkSpec::Axes(mut r) if r.len() == 1 => rules[slot] = r.remove(0),
                        _ => {
                            return Err(PyValueError::new_err(format!(
                                "rechunk: bad chunks {v} for axis {axis}"
                            )));
                        }
                    }
                }
                fa::ChunkSpec::Axes(rules)
            }
            Err(_) => chunks_arg(Some(chunks))?,
        };
        self.inner.rechunk(spec).map(wrap).map_err(to_py)
    }

    /// The elements as `dtype`, lazily (`copy=` is accepted: a lazy array never shares
    /// memory with its input).
    #[pyo3(signature = (dtype, copy=true))]
    fn astype(&self, dtype: &Bound<'_, PyAny>, copy: bool) -> PyResult<PyArray> {
        let _ = copy;
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

    /// The complex conjugate (real arrays as they are).
    fn conj(&self) -> PyResult<PyArray> {
        self.inner.unary(fa::UnaryOp::Conj).map(wrap).map_err(to_py)
    }

    /// As [`conj`](Self::conj).
    fn conjugate(&self) -> PyResult<PyArray> {
        self.conj()
    }

    /// The real part (real arrays as they are).
    #[getter]
    fn real(&self) -> PyResult<PyArray> {
        self.inner.unary(fa::UnaryOp::Real).map(wrap).map_err(to_py)
    }

    /// The imaginary part (zeros of the same dtype for real arrays).
    #[getter]
    fn imag(&self) -> PyResult<PyArray> {
        self.inner.unary(fa::UnaryOp::Imag).map(wrap).map_err(to_py)
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
    // A registered block function, so that the graph can be handed to dask with `func`
    // in it; the arrays aligned and broadcast as elementwise operations align them.
    let (op, _func) = crate::pyfuncs::block_op(func, dtype);
    let mut inputs = vec![x];
    inputs.extend_from_slice(others);
    fa::map_blocks_op(&inputs, dtype, op).map_err(to_py)
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

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    macro_rules! add {
        ($($f:ident),+ $(,)?) => { $(m.add_function(wrap_pyfunction!($f, m)?)?;)+ };
    }
    add!(concatenate, stack, where_, _unary, _binary, _reduce, _scan,);
    Ok(())
}
