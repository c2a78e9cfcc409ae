//! The library's generators and file readers as data: `random`, `arange`, `linspace`,
//! `eye`, `full_scalar` and the registered readers (see [`super::read`]) make any box of
//! their array from its position alone, so a block's task is the source and the block's
//! [`BlockInfo`].

use std::sync::Arc;

use floe_graph::TaskError;
use serde_json::{Value as Json, json};

use super::{
    bad_task, dtype_from_json, float_from_json, float_json, scalar_from_json, scalar_json,
};
use crate::block::BlockInfo;
use crate::{DType, DynArray, Result};

/// A generator as data: it makes any box (offset and shape) of its array, the same values
/// whichever box they are asked for in.
///
/// # Examples
///
/// ```
/// use floe_array::{BlockInfo, Source};
///
/// let source = Source::from_json(&serde_json::json!(
///     {"source": "uniform", "seed": 7, "low": "0", "high": "1"}
/// ))?;
/// let info = BlockInfo { index: vec![1], shape: vec![3], offset: vec![3], array_shape: vec![6] };
/// let x = floe_array::random::uniform(&[6], 3_usize, 7, 0.0, 1.0)?;
/// assert_eq!(x.source(), Some(source.clone()));
/// assert_eq!(source.make(&info).unwrap().shape(), &[3]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Source {
    /// Uniform `float64` values in `[low, high)` from the counter-based stream of `seed`
    /// (see [`random`](crate::random)).
    #[non_exhaustive]
    Uniform {
        /// The seed.
        seed: u64,
        /// The lower bound.
        low: f64,
        /// The upper bound (excluded).
        high: f64,
    },
    /// Normally distributed `float64` values.
    #[non_exhaustive]
    Normal {
        /// The seed.
        seed: u64,
        /// The mean.
        mean: f64,
        /// The standard deviation.
        std: f64,
    },
    /// `start + i * step` at position `i` of a 1-d array, as `dtype`.
    #[non_exhaustive]
    Arange {
        /// The first value.
        start: f64,
        /// The step.
        step: f64,
        /// The dtype.
        dtype: DType,
    },
    /// `num` values from `start` by `step`, the last one `stop` exactly when `endpoint`.
    #[non_exhaustive]
    Linspace {
        /// The first value.
        start: f64,
        /// The last value (with `endpoint`).
        stop: f64,
        /// The step.
        step: f64,
        /// The number of values.
        num: usize,
        /// Whether the last value is `stop`.
        endpoint: bool,
    },
    /// Every element `value`, converted to `dtype` exactly as `astype` does (see
    /// [`full_scalar`](crate::full_scalar)).
    #[non_exhaustive]
    Scalar {
        /// The value.
        value: crate::Scalar,
        /// The dtype.
        dtype: DType,
    },
    /// Ones on diagonal `k` of a 2-d array, zeros elsewhere.
    #[non_exhaustive]
    Eye {
        /// The diagonal (0: the main one, positive above it).
        k: isize,
        /// The dtype.
        dtype: DType,
    },
    /// Boxes of a file read by the reader registered as `reader` (see
    /// [`register_reader`](crate::register_reader); floe-io registers `netcdf`, `npy` and
    /// `zarr`), opened with `params` (the file's path and what to read of it).
    #[non_exhaustive]
    Read {
        /// The reader's name.
        reader: String,
        /// What the reader opens.
        params: Json,
        /// The dtype it reads.
        dtype: DType,
    },
}

impl Source {
    /// Boxes read by the reader registered as `reader`, opened with `params`, of `dtype`
    /// (see [`Source::Read`]).
    pub fn read(reader: &str, params: Json, dtype: DType) -> Source {
        Source::Read {
            reader: reader.to_owned(),
            params,
            dtype,
        }
    }

    /// The dtype of the boxes it makes.
    pub fn dtype(&self) -> DType {
        match *self {
            Source::Uniform { .. } | Source::Normal { .. } | Source::Linspace { .. } => DType::F64,
            Source::Arange { dtype, .. }
            | Source::Eye { dtype, .. }
            | Source::Scalar { dtype, .. }
            | Source::Read { dtype, .. } => dtype,
        }
    }

    /// That the generator can make box `info`: a box inside its array, of the number of
    /// axes the generator makes, whose elements (and the array's) can be counted.
    ///
    /// # Errors
    ///
    /// A [`TaskError`] saying what does not fit.
    pub fn check(&self, info: &BlockInfo) -> Result<(), TaskError> {
        let ndim = info.array_shape.len();
        let fits = info.shape.len() == ndim
            && info.offset.len() == ndim
            && (0..ndim).all(|a| {
                info.offset[a]
                    .checked_add(info.shape[a])
                    .is_some_and(|end| end <= info.array_shape[a])
            });
        let axes = match self {
            Source::Arange { .. } | Source::Linspace { .. } => Some(1),
            Source::Eye { .. } => Some(2),
            Source::Uniform { .. }
            | Source::Normal { .. }
            | Source::Scalar { .. }
            | Source::Read { .. } => None,
        };
        if !fits || axes.is_some_and(|n| n != ndim) {
            return Err(TaskError::msg(format!(
                "a {} generator cannot make the box at {:?} of shape {:?} in an array of shape {:?}",
                self.name(),
                info.offset,
                info.shape,
                info.array_shape
            )));
        }
        let bytes = |shape: &[usize], itemsize| crate::block::shape_bytes(shape, itemsize);
        if bytes(&info.shape, self.dtype().itemsize()).is_none()
            || bytes(&info.array_shape, 1).is_none()
        {
            return Err(TaskError::msg(format!(
                "a box of shape {:?} in an array of shape {:?} is too large",
                info.shape, info.array_shape
            )));
        }
        Ok(())
    }

    /// The box `info` names (its offset and shape in an array of `info.array_shape`).
    ///
    /// # Errors
    ///
    /// A [`TaskError`] if the box does not lie in the array or has another number of
    /// axes than the generator makes (`arange` and `linspace` one, `eye` two); for a
    /// reader, if it is not registered, cannot open its file, or finds another array there
    /// than the box's.
    pub fn make(&self, info: &BlockInfo) -> Result<DynArray, TaskError> {
        self.check(info)?;
        if let Source::Read {
            reader,
            params,
            dtype,
        } = self
        {
            return read_box(reader, params, *dtype, info);
        }
        match *self {
            Source::Uniform { seed, low, high } => {
                crate::random::uniform_box(seed, low, high, info)
            }
            Source::Normal { seed, mean, std } => crate::random::normal_box(seed, mean, std, info),
            Source::Arange { start, step, dtype } => {
                Ok(crate::creation::arange_box(start, step, dtype, info))
            }
            Source::Linspace {
                start,
                stop,
                step,
                num,
                endpoint,
            } => Ok(crate::creation::linspace_box(
                (start, stop, step),
                num,
                endpoint,
                info,
            )),
            Source::Eye { k, dtype } => Ok(crate::creation::eye_box(k, dtype, info)),
            Source::Scalar { value, dtype } => Ok(value.fill(dtype, &info.shape)),
            Source::Read { .. } => unreachable!("read above"),
        }
    }

    /// The generator's name (`uniform`, `normal`, `arange`, `linspace`, `eye`, `full`).
    pub fn name(&self) -> &'static str {
        match self {
            Source::Uniform { .. } => "uniform",
            Source::Normal { .. } => "normal",
            Source::Arange { .. } => "arange",
            Source::Linspace { .. } => "linspace",
            Source::Eye { .. } => "eye",
            Source::Scalar { .. } => "full",
            Source::Read { .. } => "read",
        }
    }

    /// The closure the array's tasks run: the generator itself, so what runs and what is
    /// written down cannot differ.
    pub(crate) fn box_fn(&self) -> crate::expr::SourceFn {
        let source = self.clone();
        Arc::new(move |info: &BlockInfo| source.make(info))
    }

    /// The generator as JSON (floats as text, read back exactly).
    pub fn to_json(&self) -> Json {
        if let Source::Read {
            reader,
            params,
            dtype,
        } = self
        {
            return json!({"source": "read", "reader": reader, "params": params, "dtype": dtype.name()});
        }
        match *self {
            Source::Uniform { seed, low, high } => {
                json!({"source": "uniform", "seed": seed, "low": float_json(low), "high": float_json(high)})
            }
            Source::Normal { seed, mean, std } => {
                json!({"source": "normal", "seed": seed, "mean": float_json(mean), "std": float_json(std)})
            }
            Source::Arange { start, step, dtype } => {
                json!({"source": "arange", "start": float_json(start), "step": float_json(step), "dtype": dtype.name()})
            }
            Source::Linspace {
                start,
                stop,
                step,
                num,
                endpoint,
            } => json!({
                "source": "linspace", "start": float_json(start), "stop": float_json(stop),
                "step": float_json(step), "num": num, "endpoint": endpoint,
            }),
            Source::Eye { k, dtype } => json!({"source": "eye", "k": k, "dtype": dtype.name()}),
            Source::Scalar { value, dtype } => {
                json!({"source": "full", "value": scalar_json(value), "dtype": dtype.name()})
            }
            Source::Read { .. } => unreachable!("written above"),
        }
    }

    /// The generator [`Source::to_json`] wrote.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`](crate::ArrayError::InvalidArgument) naming what is
    /// missing or not understood.
    pub fn from_json(v: &Json) -> Result<Source> {
        let field = |name: &'static str| {
            v.get(name)
                .ok_or_else(|| bad_task(format!("no field `{name}` in {v}")))
        };
        let float = |name: &'static str| field(name).and_then(float_from_json);
        let seed = || {
            field("seed")?
                .as_u64()
                .ok_or_else(|| bad_task(format!("`seed` is not a 64-bit unsigned integer in {v}")))
        };
        let dtype = || field("dtype").and_then(dtype_from_json);
        let kind = field("source")?
            .as_str()
            .ok_or_else(|| bad_task(format!("`source` is not text in {v}")))?;
        Ok(match kind {
            "uniform" => Source::Uniform {
                seed: seed()?,
                low: float("low")?,
                high: float("high")?,
            },
            "normal" => Source::Normal {
                seed: seed()?,
                mean: float("mean")?,
                std: float("std")?,
            },
            "arange" => Source::Arange {
                start: float("start")?,
                step: float("step")?,
                dtype: dtype()?,
            },
            "linspace" => Source::Linspace {
                start: float("start")?,
                stop: float("stop")?,
                step: float("step")?,
                num: field("num")?
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| bad_task(format!("`num` is not a size in {v}")))?,
                endpoint: field("endpoint")?
                    .as_bool()
                    .ok_or_else(|| bad_task(format!("`endpoint` is not a boolean in {v}")))?,
            },
            "eye" => Source::Eye {
                k: field("k")?
                    .as_i64()
                    .and_then(|k| isize::try_from(k).ok())
                    .ok_or_else(|| bad_task(format!("`k` is not an integer in {v}")))?,
                dtype: dtype()?,
            },
            "full" => Source::Scalar {
                value: scalar_from_json(field("value")?)?,
                dtype: dtype()?,
            },
            "read" => Source::Read {
                reader: field("reader")?
                    .as_str()
                    .ok_or_else(|| bad_task(format!("`reader` is not text in {v}")))?
                    .to_owned(),
                params: field("params")?.clone(),
                dtype: dtype()?,
            },
            other => return Err(bad_task(format!("no generator `{other}`"))),
        })
    }
}

/// Box `info` of the file `reader` opens with `params`, which must hold an array of
/// `dtype` and of the box's array shape.
fn read_box(
    reader: &str,
    params: &Json,
    dtype: DType,
    info: &BlockInfo,
) -> Result<DynArray, TaskError> {
    let opened = super::read::opened(reader, params)?;
    if opened.shape != info.array_shape || opened.dtype != dtype {
        return Err(TaskError::msg(format!(
            "the `{reader}` reader of {params} finds {} of shape {:?} where the task reads {dtype} of shape {:?}",
            opened.dtype, opened.shape, info.array_shape
        )));
    }
    let block = (opened.read)(info)?;
    if block.shape() != info.shape.as_slice() || block.dtype() != dtype {
        return Err(TaskError::msg(format!(
            "the `{reader}` reader of {params} read a {} box of shape {:?} where {dtype} of {:?} was asked for",
            block.dtype(),
            block.shape(),
            info.shape
        )));
    }
    Ok(block)
}

impl crate::Array {
    /// The generator this array's blocks are made by, as data; `None` for other arrays
    /// (including sources of user functions and of memory).
    pub fn source(&self) -> Option<Source> {
        match &self.node.expr {
            crate::expr::Expr::Boxes(_, spec) => spec.clone(),
            crate::expr::Expr::Source(_, Some(crate::expr::Described::Spec(spec))) => {
                Some(spec.clone())
            }
            _ => None,
        }
    }
}
