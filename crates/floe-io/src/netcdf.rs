//! NetCDF (classic and NetCDF4/HDF5) variables as lazy arrays, in pure Rust.
//!
//! [`open_netcdf`] maps one variable of one file to an [`Array`]; each block is a hyperslab
//! read by the worker that needs it (chunked and compressed NetCDF4 layouts are decoded by
//! `netcdf-reader`). [`open_mfnetcdf`] concatenates the variable across files along the
//! first axis — the talk's directory of daily files — each file keeping its own blocks.
//!
//! CF conventions are applied as xarray does by default: `_FillValue` and `missing_value`
//! become NaN, `scale_factor`/`add_offset` unpack integers to floats (the dtype of
//! `scale_factor`, or `float64`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floe_array::{Array, ChunkSpec, Chunks, DType, DynArray, concatenate};
use floe_graph::TaskError;
use netcdf_reader::{NcAttrValue, NcFile, NcSliceInfo, NcSliceInfoElem, NcType, NcVariable};

use crate::{IoError, Result};

const FORMAT: &str = "NetCDF";

/// What a variable holds, as [`describe`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableInfo {
    /// The variable's name.
    pub name: String,
    /// Its dimensions: names and lengths.
    pub dimensions: Vec<(String, usize)>,
    /// The dtype floe reads it as (after CF decoding), if it is numeric.
    pub dtype: Option<DType>,
    /// Its attributes, rendered as text.
    pub attributes: Vec<(String, String)>,
}

fn open(path: &Path) -> Result<NcFile> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(IoError::os(path, e));
    }
    NcFile::open(path).map_err(|e| IoError::Format {
        path: path.to_path_buf(),
        format: FORMAT,
        reason: e.to_string(),
    })
}

fn raw_dtype(t: &NcType) -> Option<DType> {
    Some(match t {
        NcType::Byte => DType::I8,
        NcType::Short => DType::I16,
        NcType::Int => DType::I32,
        NcType::Int64 => DType::I64,
        NcType::UByte => DType::U8,
        NcType::UShort => DType::U16,
        NcType::UInt => DType::U32,
        NcType::UInt64 => DType::U64,
        NcType::Float => DType::F32,
        NcType::Double => DType::F64,
        _ => return None,
    })
}

fn attr<'v>(v: &'v NcVariable, name: &str) -> Option<&'v NcAttrValue> {
    v.attributes
        .iter()
        .find(|a| a.name == name)
        .map(|a| &a.value)
}

/// How a variable is decoded: its raw dtype, and the dtype after CF decoding.
fn decoding(v: &NcVariable) -> Option<(DType, DType, bool)> {
    let raw = raw_dtype(&v.dtype)?;
    let packed = attr(v, "scale_factor").or_else(|| attr(v, "add_offset"));
    let masked = attr(v, "_FillValue").is_some() || attr(v, "missing_value").is_some();
    let out = match packed {
        Some(NcAttrValue::Floats(_)) => DType::F32,
        Some(_) => DType::F64,
        None if masked && !raw.is_float() => DType::F64,
        None => raw,
    };
    Some((raw, out, packed.is_some() || masked))
}

fn render(a: &NcAttrValue) -> String {
    match a {
        NcAttrValue::Chars(s) => s.clone(),
        NcAttrValue::Strings(s) => s.join(", "),
        NcAttrValue::Bytes(v) => format!("{v:?}"),
        NcAttrValue::Shorts(v) => format!("{v:?}"),
        NcAttrValue::Ints(v) => format!("{v:?}"),
        NcAttrValue::Floats(v) => format!("{v:?}"),
        NcAttrValue::Doubles(v) => format!("{v:?}"),
        NcAttrValue::UBytes(v) => format!("{v:?}"),
        NcAttrValue::UShorts(v) => format!("{v:?}"),
        NcAttrValue::UInts(v) => format!("{v:?}"),
        NcAttrValue::Int64s(v) => format!("{v:?}"),
        NcAttrValue::UInt64s(v) => format!("{v:?}"),
        other => format!("{other:?}"),
    }
}

/// The variables of a NetCDF file: dimensions, dtypes and attributes.
///
/// # Errors
///
/// If the file cannot be opened or is not a NetCDF file.
pub fn describe(path: impl AsRef<Path>) -> Result<Vec<VariableInfo>> {
    let path = path.as_ref();
    let file = open(path)?;
    let vars = file.variables().map_err(|e| IoError::Format {
        path: path.to_path_buf(),
        format: FORMAT,
        reason: e.to_string(),
    })?;
    Ok(vars
        .iter()
        .map(|v| VariableInfo {
            name: v.name.clone(),
            dimensions: v
                .dimensions
                .iter()
                .map(|d| (d.name.clone(), d.size as usize))
                .collect(),
            dtype: decoding(v).map(|(_, out, _)| out),
            attributes: v
                .attributes
                .iter()
                .map(|a| (a.name.clone(), render(&a.value)))
                .collect(),
        })
        .collect())
}

/// Reads one block (a hyperslab) of `var`, CF-decoded to `out`.
fn read_block(
    file: &NcFile,
    path: &Path,
    var: &str,
    (raw, out, cf): (DType, DType, bool),
    offset: &[usize],
    shape: &[usize],
    index: &[usize],
) -> std::result::Result<DynArray, TaskError> {
    let sel = NcSliceInfo {
        selections: offset
            .iter()
            .zip(shape)
            .map(|(&o, &n)| NcSliceInfoElem::Slice {
                start: o as u64,
                end: (o + n) as u64,
                step: 1,
            })
            .collect(),
    };
    let fail = |e: netcdf_reader::Error| {
        TaskError::msg(format!(
            "{}: reading `{var}` block {index:?}: {e}",
            path.display()
        ))
    };
    let block = if cf {
        DynArray::from(
            file.read_variable_slice_unpacked_masked(var, &sel)
                .map_err(fail)?,
        )
        .astype(out)
    } else {
        macro_rules! typed {
            ($($d:ident => $t:ty),+) => {
                match raw {
                    $(DType::$d => DynArray::from(file.read_variable_slice::<$t>(var, &sel).map_err(fail)?),)+
                    other => return Err(TaskError::msg(format!("internal error: no NetCDF type reads as {other}"))),
                }
            };
        }
        typed!(I8 => i8, I16 => i16, I32 => i32, I64 => i64, U8 => u8, U16 => u16, U32 => u32, U64 => u64, F32 => f32, F64 => f64)
    };
    if block.shape() != shape {
        return Err(TaskError::msg(format!(
            "{}: reading `{var}` block {index:?} gave shape {:?}, expected {shape:?}",
            path.display(),
            block.shape()
        )));
    }
    Ok(block)
}

/// Variable `var` of one NetCDF file as a lazy array in blocks of `chunks`.
///
/// # Errors
///
/// [`IoError::Os`] for a missing file, [`IoError::Format`] for a file that is not NetCDF or
/// is corrupt, [`IoError::MissingVariable`] (listing the file's variables),
/// [`IoError::Unsupported`] for non-numeric variables, bad chunks as `floe_array` errors.
pub fn open_netcdf(
    path: impl AsRef<Path>,
    var: &str,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array> {
    let path: PathBuf = path.as_ref().to_path_buf();
    let file = open(&path)?;
    let v = file.variable(var).map_err(|_| IoError::MissingVariable {
        path: path.clone(),
        name: var.to_owned(),
        available: file
            .variables()
            .map(|vs| vs.iter().map(|v| v.name.clone()).collect())
            .unwrap_or_default(),
    })?;
    let dec = decoding(v).ok_or_else(|| IoError::Unsupported {
        path: path.clone(),
        what: format!("type {:?} of variable `{var}`", v.dtype),
    })?;
    let shape: Vec<usize> = v.dimensions.iter().map(|d| d.size as usize).collect();
    let wanted = Chunks::from_spec(&shape, chunks, dec.1)?;
    // Hyperslab reads cost about as much as reading whole rows, so blocks are read as bands
    // spanning the last axis and cut to the requested blocks afterwards: each byte of the file
    // is read once whatever the chunking.
    let mut bands = wanted.axes().to_vec();
    if let Some(last) = bands.last_mut() {
        *last = vec![*shape.last().expect("a variable with axes has a last one")];
    }
    let file = Arc::new(file);
    let name = var.to_owned();
    let out = dec.1;
    let source = floe_array::try_from_fn(&shape, bands, out, move |b| {
        read_block(&file, &path, &name, dec, &b.offset, &b.shape, &b.index)
    })?;
    Ok(source.rechunk(&wanted)?)
}

/// Variable `var` of several NetCDF files, concatenated along the first axis in the order
/// given (sort the paths first for dated files). Each file is split by `chunks` on its own.
///
/// # Errors
///
/// As [`open_netcdf`] for each file, naming it; [`IoError::Mismatch`] if a file's other
/// axes or dtype differ from the first file's; [`IoError::Format`] for an empty list.
pub fn open_mfnetcdf(paths: &[PathBuf], var: &str, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    let chunks: ChunkSpec = chunks.into();
    let first = paths.first().ok_or_else(|| IoError::Format {
        path: PathBuf::new(),
        format: FORMAT,
        reason: "no files were given".into(),
    })?;
    let arrays = paths
        .iter()
        .map(|p| open_netcdf(p, var, chunks.clone()))
        .collect::<Result<Vec<_>>>()?;
    let a0 = &arrays[0];
    for (p, a) in paths.iter().zip(&arrays) {
        if a.ndim() == 0
            || a.ndim() != a0.ndim()
            || a.shape()[1..] != a0.shape()[1..]
            || a.dtype() != a0.dtype()
        {
            return Err(IoError::Mismatch {
                path: p.clone(),
                reference: first.clone(),
                detail: format!(
                    "`{var}` is {} {:?} there but {} {:?} in the first file",
                    a.dtype(),
                    a.shape(),
                    a0.dtype(),
                    a0.shape()
                ),
            });
        }
    }
    Ok(concatenate(&arrays, 0)?)
}
