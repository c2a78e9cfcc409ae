//! `floe.dataframe` from Python: the lazy frames of `floe-dataframe` and their expressions.
//! The Python module (`floe/dataframe.py`) gives them dask.dataframe's names; here are the
//! plans, the readers, and the crossings: pandas columns in as Arrow arrays, computed Arrow
//! columns out as NumPy arrays (with a mask of the missing values) or lists of strings.

use std::sync::Arc;

use floe::dataframe::arrow::array::{
    Array as _, ArrayRef, BooleanArray, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, PrimitiveArray, RecordBatch, StringArray, TimestampNanosecondArray,
    UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use floe::dataframe::arrow::compute::cast;
use floe::dataframe::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Field, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use floe::dataframe::arrow::ffi::to_ffi;
use floe::dataframe::{Agg, AggFunc, BinaryOp, CsvOptions, DataFrame, Expr, Literal};
use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::{PyNotImplementedError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList, PyTuple};

use floe_graph::TaskError;

use crate::{run, to_py};

/// A lazy frame (Python: the `floe.dataframe.DataFrame` wrapper holds one).
#[pyclass(name = "_Frame", module = "floe.dataframe", frozen)]
pub struct PyFrame {
    inner: DataFrame,
}

/// An expression over a frame's columns (Python: a `Series` holds one).
#[pyclass(name = "_Expr", module = "floe.dataframe", frozen)]
pub struct PyExpr {
    inner: Expr,
}

fn frame(inner: DataFrame) -> PyFrame {
    PyFrame { inner }
}

fn expr(inner: Expr) -> PyExpr {
    PyExpr { inner }
}

/// The Arrow type for a NumPy/pandas dtype name (`dtype=` of `read_csv`, `astype`).
fn data_type(name: &str) -> PyResult<DataType> {
    Ok(match name {
        "float64" | "float" | "f8" | "double" => DataType::Float64,
        "float32" | "f4" => DataType::Float32,
        "int64" | "int" | "i8" | "Int64" => DataType::Int64,
        "int32" | "i4" | "Int32" => DataType::Int32,
        "int16" | "i2" => DataType::Int16,
        "int8" | "i1" => DataType::Int8,
        "uint64" | "u8" => DataType::UInt64,
        "uint32" | "u4" => DataType::UInt32,
        "uint16" | "u2" => DataType::UInt16,
        "uint8" | "u1" => DataType::UInt8,
        "bool" | "boolean" | "b1" => DataType::Boolean,
        "str" | "object" | "string" | "O" | "U" => DataType::Utf8,
        "datetime64[ns]" | "datetime64" | "M8[ns]" => {
            DataType::Timestamp(TimeUnit::Nanosecond, None)
        }
        _ => {
            return Err(PyTypeError::new_err(format!(
                "floe.dataframe has no column type for dtype '{name}' (known: float64, \
                 float32, int64, int32, int16, int8, uint64…uint8, bool, object/str, \
                 datetime64[ns])"
            )));
        }
    })
}

/// The NumPy dtype name that pandas gives a column of this Arrow type.
fn numpy_name(t: &DataType) -> &'static str {
    match t {
        DataType::Float64 | DataType::Decimal128(..) | DataType::Decimal256(..) => "float64",
        DataType::Float32 => "float32",
        DataType::Float16 => "float16",
        DataType::Int64 => "int64",
        DataType::Int32 => "int32",
        DataType::Int16 => "int16",
        DataType::Int8 => "int8",
        DataType::UInt64 => "uint64",
        DataType::UInt32 => "uint32",
        DataType::UInt16 => "uint16",
        DataType::UInt8 => "uint8",
        DataType::Boolean => "bool",
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => "datetime64[ns]",
        _ => "object",
    }
}

fn agg_func(name: &str) -> PyResult<AggFunc> {
    AggFunc::parse(name).map_err(to_py)
}

/// `(column, func, output name)` triples as aggregations (`column` `None` for `size`).
fn aggs(specs: Vec<(Option<String>, String, String)>) -> PyResult<Vec<Agg>> {
    specs
        .into_iter()
        .map(|(column, func, name)| {
            let func = agg_func(&func)?;
            Ok(match column {
                Some(c) => Agg::new(&c, func).alias(&name),
                None if func == AggFunc::Size => Agg::size(&name),
                None => {
                    return Err(PyValueError::new_err(format!(
                        "aggregation '{}' needs a column",
                        func.name()
                    )));
                }
            })
        })
        .collect()
}

#[pymethods]
impl PyFrame {
    /// The column names, in order.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.inner
            .columns()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// `(name, NumPy dtype name, Arrow type)` per column.
    #[getter]
    fn dtypes(&self) -> Vec<(String, &'static str, String)> {
        self.inner
            .schema()
            .fields()
            .iter()
            .map(|f| {
                (
                    f.name().clone(),
                    numpy_name(f.data_type()),
                    f.data_type().to_string(),
                )
            })
            .collect()
    }

    #[getter]
    fn npartitions(&self) -> usize {
        self.inner.npartitions()
    }

    /// Only the partitions `picked`, in that order.
    fn partitions(&self, picked: Vec<usize>) -> PyResult<PyFrame> {
        self.inner.partitions(&picked).map(frame).map_err(to_py)
    }

    fn select(&self, columns: Vec<String>) -> PyResult<PyFrame> {
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        self.inner.select(&names).map(frame).map_err(to_py)
    }

    fn filter(&self, predicate: &PyExpr) -> PyResult<PyFrame> {
        self.inner
            .filter(predicate.inner.clone())
            .map(frame)
            .map_err(to_py)
    }

    fn with_column(&self, name: &str, value: &PyExpr) -> PyResult<PyFrame> {
        self.inner
            .with_column(name, value.inner.clone())
            .map(frame)
            .map_err(to_py)
    }

    /// The aggregations per group of `keys` (sorted by the keys), or of the whole frame
    /// when `keys` is empty (one row).
    #[pyo3(signature = (keys, specs, split_every=8))]
    fn aggregate(
        &self,
        keys: Vec<String>,
        specs: Vec<(Option<String>, String, String)>,
        split_every: usize,
    ) -> PyResult<PyFrame> {
        let aggs = aggs(specs)?;
        if keys.is_empty() {
            return self.inner.agg(aggs).map(frame).map_err(to_py);
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.inner
            .groupby(&keys)
            .and_then(|g| g.split_every(split_every).agg(aggs))
            .map(frame)
            .map_err(to_py)
    }

    /// Moving-window aggregates `(column, func, out)`: windows of `rows` rows (centred on
    /// the row with `center`), or of `span_ns` nanoseconds measured on the datetime column
    /// `on`.
    #[pyo3(signature = (specs, rows=None, span_ns=None, on=None, min_periods=None, center=false))]
    fn rolling(
        &self,
        specs: Vec<(String, String, String)>,
        rows: Option<usize>,
        span_ns: Option<u64>,
        on: Option<String>,
        min_periods: Option<usize>,
        center: bool,
    ) -> PyResult<PyFrame> {
        let window = match (rows, span_ns) {
            (Some(n), None) if center => floe::dataframe::Window::Centered(n),
            (Some(n), None) => floe::dataframe::Window::Rows(n),
            (None, Some(_)) if center => {
                return Err(PyNotImplementedError::new_err(
                    "rolling(center=True) over a span of time is not supported yet \
                     (windows of rows are)",
                ));
            }
            (None, Some(ns)) => floe::dataframe::Window::Time(std::time::Duration::from_nanos(ns)),
            _ => {
                return Err(PyValueError::new_err(
                    "a window is a number of rows or a span of time",
                ));
            }
        };
        let specs = specs
            .iter()
            .map(|(c, f, o)| Ok((c.as_str(), agg_func(f)?, o.as_str())))
            .collect::<PyResult<Vec<_>>>()?;
        self.inner
            .rolling(window, on.as_deref(), min_periods, &specs)
            .map(frame)
            .map_err(to_py)
    }

    /// The rows of this frame and `right` whose keys match (pandas' `merge`).
    #[pyo3(signature = (right, left_on, right_on, how, suffixes))]
    fn merge(
        &self,
        right: &PyFrame,
        left_on: Vec<String>,
        right_on: Vec<String>,
        how: &str,
        suffixes: (String, String),
    ) -> PyResult<PyFrame> {
        let how = floe::dataframe::JoinHow::parse(how).map_err(to_py)?;
        let l: Vec<&str> = left_on.iter().map(String::as_str).collect();
        let r: Vec<&str> = right_on.iter().map(String::as_str).collect();
        self.inner
            .merge(&right.inner, &l, &r, how, (&suffixes.0, &suffixes.1))
            .map(frame)
            .map_err(to_py)
    }

    /// The rows sorted (stably) by `by`, each ascending or not, missing values last, in
    /// `npartitions` partitions of consecutive key ranges.
    #[pyo3(signature = (by, ascending, npartitions=None))]
    fn sort_values(
        &self,
        by: Vec<String>,
        ascending: Vec<bool>,
        npartitions: Option<usize>,
    ) -> PyResult<PyFrame> {
        let by: Vec<&str> = by.iter().map(String::as_str).collect();
        self.inner
            .sort_values(&by, &ascending, npartitions)
            .map(frame)
            .map_err(to_py)
    }

    /// The first `n` rows of the first `npartitions` partitions (all when `None`).
    #[pyo3(signature = (n, npartitions=Some(1)))]
    fn head(&self, n: usize, npartitions: Option<usize>) -> PyResult<PyFrame> {
        self.inner.head(n, npartitions).map(frame).map_err(to_py)
    }

    /// The last `n` rows of the last `npartitions` partitions (all when `None`).
    #[pyo3(signature = (n, npartitions=Some(1)))]
    fn tail(&self, n: usize, npartitions: Option<usize>) -> PyResult<PyFrame> {
        self.inner.tail(n, npartitions).map(frame).map_err(to_py)
    }

    /// A frame whose computation writes each partition to a Parquet file under `path`.
    fn to_parquet(&self, path: &str) -> PyResult<PyFrame> {
        self.inner.to_parquet(path).map(frame).map_err(to_py)
    }

    /// A frame whose computation writes each partition to a CSV file under `path`.
    fn to_csv(&self, path: &str) -> PyResult<PyFrame> {
        self.inner.to_csv(path).map(frame).map_err(to_py)
    }

    /// Runs the frame (GIL released) and returns its columns: `(name, kind, values, mask)`,
    /// `kind` a NumPy dtype name (`values` a NumPy array) or `"str"` (`values` a list of
    /// strings and `None`, or with `arrow` the capsules of an Arrow array: see
    /// [`column_to_python`]); `mask` a boolean NumPy array of the missing values, or `None`.
    #[pyo3(signature = (arrow=false))]
    fn compute<'py>(&self, py: Python<'py>, arrow: bool) -> PyResult<Bound<'py, PyList>> {
        let df = self.inner.clone();
        let batch: RecordBatch = run(py, move || floe::compute(&df))?;
        batch_to_python(py, &batch, arrow)
    }

    /// `func(i, columns)` applied to each partition `i`: `columns` as `compute` gives them,
    /// the result as `_frame_from_columns` takes them, of the columns `meta` declares
    /// (`(name, dtype)` pairs).
    #[pyo3(signature = (func, meta, arrow=false))]
    fn map_partitions(
        &self,
        func: Py<PyAny>,
        meta: Vec<(String, String)>,
        arrow: bool,
    ) -> PyResult<PyFrame> {
        let fields = meta
            .iter()
            .map(|(name, kind)| Ok(Field::new(name, data_type(kind)?, true)))
            .collect::<PyResult<Vec<_>>>()?;
        let func = Arc::new(func);
        let f: floe::dataframe::PartitionFn = Arc::new(move |i, part| {
            let batch = part.concat().map_err(TaskError::new)?;
            Python::attach(|py| {
                let call = || -> PyResult<RecordBatch> {
                    let cols = batch_to_python(py, &batch, arrow)?;
                    let out = func.call1(py, (i, cols))?;
                    let out: Vec<PandasColumn<'_>> = out.bind(py).extract()?;
                    batch_from_python(out)
                };
                call().map_err(|e| TaskError::new(crate::array::describe(py, &e)))
            })
        });
        self.inner
            .map_partitions(f, Arc::new(Schema::new(fields)))
            .map(frame)
            .map_err(to_py)
    }

    fn __repr__(&self) -> String {
        self.inner.to_string()
    }
}

/// A record batch's columns for Python: `(name, kind, values, mask)` each (see
/// `_Frame.compute`); with `arrow`, text columns as Arrow arrays (see [`column_to_python`]).
fn batch_to_python<'py>(
    py: Python<'py>,
    batch: &RecordBatch,
    arrow: bool,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let (kind, values) = column_to_python(py, column, arrow)?;
        // Arrow arrays carry their own missing values.
        let carried = values.is_instance_of::<PyTuple>();
        let mask = match column.logical_nulls() {
            Some(n) if n.null_count() > 0 && !carried => Some(
                (0..column.len())
                    .map(|i| n.is_null(i))
                    .collect::<Vec<bool>>()
                    .into_pyarray(py)
                    .into_any(),
            ),
            _ => None,
        };
        out.append(PyTuple::new(
            py,
            [
                field.name().into_pyobject(py)?.into_any(),
                kind.into_pyobject(py)?.into_any(),
                values,
                mask.unwrap_or_else(|| py.None().into_bound(py)),
            ],
        )?)?;
    }
    Ok(out)
}

fn primitive<'py, T: ArrowPrimitiveType>(
    py: Python<'py>,
    a: &ArrayRef,
) -> PyResult<Bound<'py, PyAny>>
where
    T::Native: numpy::Element,
{
    let a = a
        .as_any()
        .downcast_ref::<PrimitiveArray<T>>()
        .ok_or_else(|| PyValueError::new_err("internal: a column is not of its type"))?;
    Ok(a.values().to_vec().into_pyarray(py).into_any())
}

/// A computed column as `(kind, values)` for Python (see [`PyFrame::compute`]): numbers,
/// times and booleans as NumPy arrays (one copy, owned by NumPy, so pandas may write to
/// them), text as a list of `str`, or with `arrow` as an Arrow array — the pair of
/// capsules of Arrow's C data interface (`arrow_schema`, `arrow_array`), which pyarrow
/// imports without copying and pandas keeps as its Arrow-backed `str` column (building ten
/// million Python strings takes a second; this, milliseconds).
fn column_to_python<'py>(
    py: Python<'py>,
    a: &ArrayRef,
    arrow: bool,
) -> PyResult<(String, Bound<'py, PyAny>)> {
    let arrow_err = |e: floe::dataframe::arrow::error::ArrowError| {
        PyValueError::new_err(format!("converting a column: {e}"))
    };
    Ok(match a.data_type() {
        DataType::Float64 => ("float64".into(), primitive::<Float64Type>(py, a)?),
        DataType::Float32 => ("float32".into(), primitive::<Float32Type>(py, a)?),
        DataType::Int64 => ("int64".into(), primitive::<Int64Type>(py, a)?),
        DataType::Int32 => ("int32".into(), primitive::<Int32Type>(py, a)?),
        DataType::Int16 => ("int16".into(), primitive::<Int16Type>(py, a)?),
        DataType::Int8 => ("int8".into(), primitive::<Int8Type>(py, a)?),
        DataType::UInt64 => ("uint64".into(), primitive::<UInt64Type>(py, a)?),
        DataType::UInt32 => ("uint32".into(), primitive::<UInt32Type>(py, a)?),
        DataType::UInt16 => ("uint16".into(), primitive::<UInt16Type>(py, a)?),
        DataType::UInt8 => ("uint8".into(), primitive::<UInt8Type>(py, a)?),
        DataType::Date32 => ("datetime64[D]".into(), {
            let d = a
                .as_any()
                .downcast_ref::<PrimitiveArray<Date32Type>>()
                .ok_or_else(|| PyValueError::new_err("internal: a column is not of its type"))?;
            d.values()
                .iter()
                .map(|&v| i64::from(v))
                .collect::<Vec<i64>>()
                .into_pyarray(py)
                .into_any()
        }),
        DataType::Timestamp(unit, _) => {
            let (name, values) = match unit {
                TimeUnit::Second => ("s", primitive::<TimestampSecondType>(py, a)?),
                TimeUnit::Millisecond => ("ms", primitive::<TimestampMillisecondType>(py, a)?),
                TimeUnit::Microsecond => ("us", primitive::<TimestampMicrosecondType>(py, a)?),
                TimeUnit::Nanosecond => ("ns", primitive::<TimestampNanosecondType>(py, a)?),
            };
            (format!("datetime64[{name}]"), values)
        }
        DataType::Boolean => {
            let b = a
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| PyValueError::new_err("internal: a column is not of its type"))?;
            let v: Vec<bool> = (0..b.len()).map(|i| b.value(i)).collect();
            ("bool".into(), v.into_pyarray(py).into_any())
        }
        DataType::Null => (
            "null".into(),
            vec![f64::NAN; a.len()].into_pyarray(py).into_any(),
        ),
        DataType::Decimal128(..) | DataType::Decimal256(..) | DataType::Float16 => {
            let f = cast(a, &DataType::Float64).map_err(arrow_err)?;
            ("float64".into(), primitive::<Float64Type>(py, &f)?)
        }
        _ if arrow => {
            let s = match a.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 => a.clone(),
                _ => cast(a, &DataType::Utf8).map_err(arrow_err)?,
            };
            let (array, schema) = to_ffi(&s.to_data()).map_err(arrow_err)?;
            let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
            let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
            ("str".into(), PyTuple::new(py, [schema, array])?.into_any())
        }
        _ => {
            let s = cast(a, &DataType::Utf8).map_err(arrow_err)?;
            let s = s
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| PyValueError::new_err("internal: a cast column is not text"))?;
            let list = PyList::empty(py);
            for v in s {
                list.append(v)?;
            }
            ("str".into(), list.into_any())
        }
    })
}

/// One pandas column as an Arrow array: `kind` a NumPy dtype name (`values` a 1-d NumPy
/// array of it, `mask` marking missing values or `None`) or `"str"` (`values` a list of
/// `str` and `None`).
fn column_from_python(
    name: &str,
    kind: &str,
    values: &Bound<'_, PyAny>,
    mask: Option<PyReadonlyArray1<'_, bool>>,
) -> PyResult<ArrayRef> {
    let valid: Option<Vec<bool>> = mask.map(|m| m.as_array().iter().map(|&b| !b).collect());
    macro_rules! prim {
        ($t:ty, $arr:ty) => {{
            let v: PyReadonlyArray1<'_, $t> = values.extract()?;
            let v = v.as_array();
            let a: $arr = match &valid {
                Some(ok) => v.iter().zip(ok).map(|(&x, &ok)| ok.then_some(x)).collect(),
                None => v.iter().map(|&x| Some(x)).collect(),
            };
            Arc::new(a) as ArrayRef
        }};
    }
    Ok(match kind {
        "float64" => prim!(f64, Float64Array),
        "float32" => prim!(f32, Float32Array),
        "int64" => prim!(i64, Int64Array),
        "int32" => prim!(i32, Int32Array),
        "int16" => prim!(i16, Int16Array),
        "int8" => prim!(i8, Int8Array),
        "uint64" => prim!(u64, UInt64Array),
        "uint32" => prim!(u32, UInt32Array),
        "uint16" => prim!(u16, UInt16Array),
        "uint8" => prim!(u8, UInt8Array),
        "bool" => prim!(bool, BooleanArray),
        "datetime64[ns]" => prim!(i64, TimestampNanosecondArray),
        "str" => {
            let v: Vec<Option<String>> = values.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "column '{name}' holds values that are neither strings nor missing"
                ))
            })?;
            Arc::new(StringArray::from(v)) as ArrayRef
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "column '{name}' has dtype '{other}', which floe.dataframe does not hold"
            )));
        }
    })
}

/// A pandas column for [`_frame_from_columns`]: `(name, kind, values, mask)`.
type PandasColumn<'py> = (
    String,
    String,
    Bound<'py, PyAny>,
    Option<PyReadonlyArray1<'py, bool>>,
);

/// Pandas' columns, `(name, kind, values, mask)` each (see [`column_from_python`]), as
/// one record batch.
fn batch_from_python(columns: Vec<PandasColumn<'_>>) -> PyResult<RecordBatch> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays = Vec::with_capacity(columns.len());
    for (name, kind, values, mask) in columns {
        let a = column_from_python(&name, &kind, &values, mask)?;
        fields.push(Field::new(name, a.data_type().clone(), true));
        arrays.push(a);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| PyValueError::new_err(format!("columns of different lengths: {e}")))
}

/// A frame in memory from pandas' columns, `(name, kind, values, mask)` each (see
/// [`column_from_python`]), split into `npartitions` row ranges of near-equal length.
#[pyfunction]
fn _frame_from_columns(columns: Vec<PandasColumn<'_>>, npartitions: usize) -> PyResult<PyFrame> {
    let batch = batch_from_python(columns)?;
    let schema = batch.schema();
    let rows = batch.num_rows();
    let n = npartitions.max(1).min(rows.max(1));
    let parts = (0..n)
        .map(|i| {
            let (start, end) = (rows * i / n, rows * (i + 1) / n);
            vec![batch.slice(start, end - start)]
        })
        .collect();
    DataFrame::from_batches(schema, parts)
        .map(frame)
        .map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (path, blocksize, usecols=None, dtype=None, parse_dates=None, sep=","))]
fn _read_csv(
    py: Python<'_>,
    path: &str,
    blocksize: usize,
    usecols: Option<Vec<String>>,
    dtype: Option<Vec<(String, String)>>,
    parse_dates: Option<Vec<String>>,
    sep: &str,
) -> PyResult<PyFrame> {
    let delimiter = match sep.as_bytes() {
        [b] => *b,
        _ => {
            return Err(PyValueError::new_err(format!(
                "sep must be one byte, got {sep:?}"
            )));
        }
    };
    let dtypes = dtype
        .unwrap_or_default()
        .into_iter()
        .map(|(c, t)| Ok((c, data_type(&t)?)))
        .collect::<PyResult<Vec<_>>>()?;
    let opts = CsvOptions {
        blocksize,
        usecols,
        dtypes,
        parse_dates: parse_dates.unwrap_or_default(),
        delimiter,
        ..CsvOptions::default()
    };
    let path = path.to_owned();
    run(py, move || {
        DataFrame::read_csv(&path, &opts).map_err(floe::Error::from)
    })
    .map(frame)
}

#[pyfunction]
#[pyo3(signature = (path, columns=None))]
fn _read_parquet(py: Python<'_>, path: &str, columns: Option<Vec<String>>) -> PyResult<PyFrame> {
    let path = path.to_owned();
    run(py, move || {
        DataFrame::read_parquet(&path, columns.as_deref()).map_err(floe::Error::from)
    })
    .map(frame)
}

/// The column `name`.
#[pyfunction]
fn _col(name: &str) -> PyExpr {
    expr(floe::dataframe::col(name))
}

/// A constant: `None`, a bool, an int, a float or a str.
#[pyfunction]
fn _lit(value: &Bound<'_, PyAny>) -> PyResult<PyExpr> {
    let l = if value.is_none() {
        Literal::Null
    } else if let Ok(b) = value.cast::<pyo3::types::PyBool>() {
        Literal::Bool(b.is_true())
    } else if let Ok(i) = value.extract::<i64>() {
        Literal::Int(i)
    } else if let Ok(f) = value.extract::<f64>() {
        Literal::Float(f)
    } else if let Ok(s) = value.extract::<String>() {
        Literal::Str(s)
    } else {
        return Err(PyTypeError::new_err(format!(
            "floe.dataframe cannot use a {} as a constant",
            value.get_type().name()?
        )));
    };
    Ok(expr(Expr::Literal(l)))
}

#[pymethods]
impl PyExpr {
    /// `self op other`, `op` one of `+ - * / % == != < <= > >= & |`.
    fn binary(&self, op: &str, other: &PyExpr) -> PyResult<PyExpr> {
        let op = match op {
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            "%" => BinaryOp::Rem,
            "==" => BinaryOp::Eq,
            "!=" => BinaryOp::NotEq,
            "<" => BinaryOp::Lt,
            "<=" => BinaryOp::LtEq,
            ">" => BinaryOp::Gt,
            ">=" => BinaryOp::GtEq,
            "&" => BinaryOp::And,
            "|" => BinaryOp::Or,
            _ => return Err(PyValueError::new_err(format!("no operator {op:?}"))),
        };
        Ok(expr(Expr::Binary {
            op,
            left: Box::new(self.inner.clone()),
            right: Box::new(other.inner.clone()),
        }))
    }

    fn invert(&self) -> PyExpr {
        expr(!self.inner.clone())
    }

    fn is_null(&self) -> PyExpr {
        expr(self.inner.clone().is_null())
    }

    fn is_not_null(&self) -> PyExpr {
        expr(self.inner.clone().is_not_null())
    }

    /// A `.str` operation: `contains` (with `pattern` and `regex`), `startswith`,
    /// `endswith` (with `pattern`), `lower`, `upper`, `len`.
    #[pyo3(signature = (op, pattern=None, regex=true))]
    fn str_op(&self, op: &str, pattern: Option<String>, regex: bool) -> PyResult<PyExpr> {
        use floe::dataframe::StrOp;
        let text = |p: Option<String>| {
            p.ok_or_else(|| PyValueError::new_err(format!("str.{op} needs a pattern")))
        };
        let op = match op {
            "contains" => StrOp::Contains {
                pattern: text(pattern)?,
                regex,
            },
            "startswith" => StrOp::StartsWith(text(pattern)?),
            "endswith" => StrOp::EndsWith(text(pattern)?),
            "lower" => StrOp::Lower,
            "upper" => StrOp::Upper,
            "len" => StrOp::Len,
            _ => return Err(PyValueError::new_err(format!("no string operation {op:?}"))),
        };
        Ok(expr(self.inner.clone().str(op)))
    }

    /// A `.dt` part: `year month day hour minute second dayofweek dayofyear`, `floor` to a
    /// period of `period_ns` nanoseconds, `week_start` (weeks starting on day `first`,
    /// Monday 0) or `period_start` (periods of `months` months starting at month `first`,
    /// January 0).
    #[pyo3(signature = (op, period_ns=None, months=None, first=None))]
    fn dt_op(
        &self,
        op: &str,
        period_ns: Option<i64>,
        months: Option<u8>,
        first: Option<u8>,
    ) -> PyResult<PyExpr> {
        use floe::dataframe::DtOp;
        let op = match op {
            "year" => DtOp::Year,
            "month" => DtOp::Month,
            "day" => DtOp::Day,
            "hour" => DtOp::Hour,
            "minute" => DtOp::Minute,
            "second" => DtOp::Second,
            "dayofweek" => DtOp::DayOfWeek,
            "dayofyear" => DtOp::DayOfYear,
            "floor" => DtOp::Floor(
                period_ns.ok_or_else(|| PyValueError::new_err("dt.floor needs a period"))?,
            ),
            "week_start" => DtOp::WeekStart(first.unwrap_or(0)),
            "period_start" => DtOp::PeriodStart {
                months: months.ok_or_else(|| PyValueError::new_err("a period needs months"))?,
                offset: first.unwrap_or(0),
            },
            _ => return Err(PyValueError::new_err(format!("no date part {op:?}"))),
        };
        Ok(expr(self.inner.clone().dt(op)))
    }

    /// The values with missing ones taken from `value`.
    fn fillna(&self, value: &PyExpr) -> PyExpr {
        expr(self.inner.clone().fillna(value.inner.clone()))
    }

    fn cast(&self, dtype: &str) -> PyResult<PyExpr> {
        Ok(expr(self.inner.clone().cast(data_type(dtype)?)))
    }

    /// The columns the expression reads.
    fn columns(&self) -> Vec<String> {
        self.inner
            .columns()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// The NumPy dtype name of its values over `frame`'s columns.
    fn dtype(&self, frame: &PyFrame) -> PyResult<&'static str> {
        self.inner
            .data_type(frame.inner.schema())
            .map(|t| numpy_name(&t))
            .map_err(to_py)
    }

    fn __repr__(&self) -> String {
        self.inner.to_string()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFrame>()?;
    m.add_class::<PyExpr>()?;
    m.add_function(wrap_pyfunction!(_frame_from_columns, m)?)?;
    m.add_function(wrap_pyfunction!(_read_csv, m)?)?;
    m.add_function(wrap_pyfunction!(_read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(_col, m)?)?;
    m.add_function(wrap_pyfunction!(_lit, m)?)?;
    Ok(())
}
