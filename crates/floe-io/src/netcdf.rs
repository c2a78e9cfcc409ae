//! NetCDF (classic and NetCDF4/HDF5) variables as lazy arrays, in pure Rust.
//!
//! [`open_netcdf`] maps one variable of one file to an [`Array`]; each block is a hyperslab
//! read by the worker that needs it. NetCDF4 variables of plain numbers are read directly
//! with positioned reads: contiguous ones as a raw array, chunked ones (deflate, shuffle)
//! chunk by chunk into the block's memory (see `netcdf_chunked`); other layouts (classic
//! files, packed integers, other filters, unwritten chunks) are read by `netcdf-reader`,
//! opened without its chunk cache so that no decoded data outlives a block read.
//! [`open_mfnetcdf`] concatenates the variable across files along the first axis — the
//! talk's directory of daily files — each file keeping its own blocks.
//!
//! CF conventions are applied as xarray does by default: `_FillValue` and `missing_value`
//! become NaN, `scale_factor`/`add_offset` unpack integers to floats (the dtype of
//! `scale_factor`, or `float64`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use floe_array::{Array, ChunkSpec, Chunks, DType, DynArray, Reader, concatenate, with_dtype};
use floe_graph::TaskError;
use netcdf_reader::{
    NcAttrValue, NcFile, NcOpenOptions, NcSliceInfo, NcSliceInfoElem, NcType, NcVariable,
};
use serde_json::json;

use crate::netcdf_chunked::{ChunkedLayout, chunk_aligned};
use crate::npy::{Bytes, Endian, read_c_block};
use crate::{IoError, Result};

const FORMAT: &str = "NetCDF";

/// Files read ahead of the one being read, in an [`open_mfnetcdf`] run.
const READ_AHEAD_FILES: usize = 8;

/// Read-ahead for files read in order: when the first block of file `i` is read, the kernel
/// is asked (`posix_fadvise(WILLNEED)`) to load file `i` and the next few into the page
/// cache in the background. Cold reads then arrive in large requests while workers compute,
/// instead of in small page faults that each stall a worker. On a warm cache a hint costs
/// a few microseconds.
struct ReadAhead {
    files: Vec<PathBuf>,
    hinted: Vec<AtomicBool>,
}

impl ReadAhead {
    fn new(files: Vec<PathBuf>) -> Arc<Self> {
        let hinted = files.iter().map(|_| AtomicBool::new(false)).collect();
        Arc::new(Self { files, hinted })
    }

    /// File `i` is being read: hint it and the next ones not hinted yet.
    fn reading(&self, i: usize) {
        let end = (i + 1 + READ_AHEAD_FILES).min(self.files.len());
        for j in i..end {
            if !self.hinted[j].swap(true, Ordering::Relaxed) {
                crate::will_need(&self.files[j]);
            }
        }
    }
}

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

/// `path` opened for metadata and uncached reads: `netcdf-reader`'s chunk cache (64 MiB a
/// file) and its copies of whole decoded variables are off, since an open file is kept by
/// the read closures of its blocks for as long as the array exists (issue 11).
fn open(path: &Path) -> Result<NcFile> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(IoError::os(path, e));
    }
    let options = NcOpenOptions {
        chunk_cache_bytes: 0,
        ..NcOpenOptions::default()
    };
    NcFile::open_with_options(path, options).map_err(|e| IoError::Format {
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

/// How a NetCDF4 variable's bytes are read without `netcdf-reader`.
enum Direct {
    /// Stored contiguously from `offset`, as plain numbers.
    Contiguous { offset: u64, endian: Endian },
    /// Stored in chunks, deflated and shuffled or not.
    Chunked(ChunkedLayout),
}

/// How `var` is read directly if it is stored in an HDF5 (NetCDF4) file contiguously with no
/// filters or external storage, or chunked with only deflate and shuffle, as plain numbers of
/// `raw`'s size; `None` otherwise (the general reader handles those).
fn direct_layout(path: &Path, var: &str, raw: DType, shape: &[usize]) -> Option<Direct> {
    use hdf5_reader::messages::HdfMessage;
    use hdf5_reader::messages::layout::DataLayout;
    let options = hdf5_reader::OpenOptions::default().with_chunk_cache_bytes(0);
    let h5 = hdf5_reader::Hdf5File::open_with_options(path, options).ok()?;
    let ds = h5.dataset(var).ok()?;
    let header = h5.get_or_parse_header(ds.address()).ok()?;
    let order = match ds.dtype() {
        hdf5_reader::Datatype::FloatingPoint { size, byte_order } if raw.is_float() => {
            (usize::from(*size) == raw.itemsize()).then_some(*byte_order)
        }
        hdf5_reader::Datatype::FixedPoint {
            size, byte_order, ..
        } if !raw.is_float() && raw != DType::Bool => {
            (usize::from(*size) == raw.itemsize()).then_some(*byte_order)
        }
        _ => None,
    }?;
    let endian = match order {
        hdf5_reader::ByteOrder::LittleEndian => Endian::Little,
        hdf5_reader::ByteOrder::BigEndian => Endian::Big,
    };
    let file_len = std::fs::metadata(path).ok()?.len();
    let mut layout = None;
    let mut filtered = false;
    for m in &header.messages {
        match m {
            HdfMessage::DataLayout(l) => layout = Some(l.layout.clone()),
            HdfMessage::FilterPipeline(_) | HdfMessage::ExternalFiles(_) => filtered = true,
            _ => {}
        }
    }
    match layout? {
        DataLayout::Contiguous { address, size } if !filtered => {
            let bytes = shape
                .iter()
                .try_fold(raw.itemsize() as u64, |acc, &n| acc.checked_mul(n as u64))?;
            let offset = h5.superblock().base_address.checked_add(address)?;
            if size < bytes || offset.checked_add(bytes)? > file_len {
                return None;
            }
            Some(Direct::Contiguous { offset, endian })
        }
        DataLayout::Chunked { .. } => {
            ChunkedLayout::new(&h5, &header, var, shape, raw.itemsize(), endian, file_len)
                .map(Direct::Chunked)
        }
        _ => None,
    }
}

/// The values `_FillValue` and `missing_value` mark as missing.
fn fill_values(v: &NcVariable) -> Vec<f64> {
    let mut out = Vec::new();
    for name in ["_FillValue", "missing_value"] {
        match attr(v, name) {
            Some(NcAttrValue::Floats(x)) => out.extend(x.iter().map(|&f| f64::from(f))),
            Some(NcAttrValue::Doubles(x)) => out.extend(x.iter().copied()),
            _ => {}
        }
    }
    out
}

/// Block `b` of a variable read directly; floats equal to a fill value become NaN.
fn read_direct(
    path: &Path,
    d: &Direct,
    raw: DType,
    fills: &[f64],
    shape: &[usize],
    b: &floe_array::BlockInfo,
) -> std::result::Result<DynArray, TaskError> {
    let file = std::fs::File::open(path).map_err(|e| TaskError::new(IoError::os(path, e)))?;
    let block = match d {
        Direct::Contiguous { offset, endian } => {
            with_dtype!(raw, T => read_c_block::<T>(&file, path, *offset, *endian, shape, b))?
        }
        Direct::Chunked(layout) => {
            with_dtype!(raw, T => read_chunked_block::<T>(&file, path, layout, b))?
        }
    };
    Ok(match block {
        DynArray::F32(mut a) if !fills.is_empty() => {
            let fills: Vec<f32> = fills.iter().map(|&f| f as f32).collect();
            a.mapv_inplace(|x| if fills.contains(&x) { f32::NAN } else { x });
            DynArray::F32(a)
        }
        DynArray::F64(mut a) if !fills.is_empty() => {
            a.mapv_inplace(|x| if fills.contains(&x) { f64::NAN } else { x });
            DynArray::F64(a)
        }
        other => other,
    })
}

/// Block `b` of a chunked variable: its chunks decoded into the block's own memory, swapped
/// in place if the file's byte order is not the machine's.
fn read_chunked_block<T: Bytes>(
    file: &std::fs::File,
    path: &Path,
    layout: &ChunkedLayout,
    b: &floe_array::BlockInfo,
) -> std::result::Result<DynArray, TaskError> {
    let len: usize = b.shape.iter().product();
    let mut failure = None;
    let values = T::read_with(len, layout.endian, |bytes| {
        layout.read(file, path, b, bytes).map_err(|e| {
            failure = Some(e);
            std::io::Error::other("chunk")
        })
    })
    .map_err(|e| TaskError::new(failure.take().unwrap_or_else(|| IoError::os(path, e))))?;
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&b.shape), values)
        .map_err(|e| TaskError::msg(format!("internal error: {e}")))?;
    Ok(T::wrap(a))
}

/// Bytes a band of a directly read variable may span: positioned reads cost the same
/// whatever the band, so bands stay small (memory) but span whole rows (few reads).
const DIRECT_BAND_BYTES: usize = 8 << 20;

/// Bytes a read band may span (see [`bands`]).
const BAND_BYTES: usize = 64 << 20;

/// The blocks a variable is read in, before they are cut to the `wanted` chunks.
///
/// Hyperslab reads cost about as much as reading whole rows, and a few large reads cost less
/// than many small ones, so blocks are read as *bands*: whole along the trailing axes, and
/// along the first axis that is not whole, runs of wanted chunks merged up to `budget` bytes ([`BAND_BYTES`]).
/// Each byte of the file is read once whatever the chunking.
fn bands(
    wanted: &[Vec<usize>],
    shape: &[usize],
    itemsize: usize,
    budget: usize,
) -> Vec<Vec<usize>> {
    let mut bands = wanted.to_vec();
    // Bytes of one index step along axis k with every later axis whole.
    let mut row = itemsize;
    for k in (0..shape.len()).rev() {
        let lead: usize = wanted[..k]
            .iter()
            .map(|c| c.iter().copied().max().unwrap_or(0))
            .product();
        let step = row.saturating_mul(lead.max(1));
        if k + 1 == shape.len() || step.saturating_mul(shape[k]) <= budget {
            bands[k] = vec![shape[k]];
            row = row.saturating_mul(shape[k]);
            continue;
        }
        // Merge consecutive chunks of axis k while a band stays within the budget.
        let mut merged = Vec::new();
        let mut run = 0;
        for &c in &wanted[k] {
            if run > 0 && step.saturating_mul(run + c) > budget {
                merged.push(run);
                run = 0;
            }
            run += c;
        }
        if run > 0 || merged.is_empty() {
            merged.push(run);
        }
        bands[k] = merged;
        break;
    }
    bands
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
    let path = path.as_ref().to_path_buf();
    open_one(
        &ReadAhead::new(vec![path]),
        0,
        var,
        chunks.into(),
        BAND_BYTES,
    )
}

/// A variable opened for reading: how its blocks are read, shared by the tasks that read
/// them (locally, or on a worker through [`open_reader`]).
struct NcReader {
    path: PathBuf,
    var: String,
    shape: Vec<usize>,
    /// The dtype after CF decoding.
    out: DType,
    how: How,
}

enum How {
    /// Read with positioned reads (see [`direct_layout`]); floats equal to `fills` are NaN.
    Direct {
        direct: Direct,
        raw: DType,
        fills: Vec<f64>,
    },
    /// Read by `netcdf-reader`, CF-decoded as `dec` says.
    General {
        file: NcFile,
        dec: (DType, DType, bool),
    },
}

impl NcReader {
    /// `var` of `path`, opened.
    ///
    /// # Errors
    ///
    /// As [`open_netcdf`].
    fn open(path: &Path, var: &str) -> Result<NcReader> {
        let file = open(path)?;
        let v = file.variable(var).map_err(|_| IoError::MissingVariable {
            path: path.to_path_buf(),
            name: var.to_owned(),
            available: file
                .variables()
                .map(|vs| vs.iter().map(|v| v.name.clone()).collect())
                .unwrap_or_default(),
        })?;
        let dec = decoding(v).ok_or_else(|| IoError::Unsupported {
            path: path.to_path_buf(),
            what: format!("type {:?} of variable `{var}`", v.dtype),
        })?;
        let shape: Vec<usize> = v.dimensions.iter().map(|d| d.size as usize).collect();
        let packed = attr(v, "scale_factor").is_some() || attr(v, "add_offset").is_some();
        let (raw, out, cf) = dec;
        // NetCDF4 variables that need no unpacking are read directly, straight into the
        // block's memory: contiguous ones with one positioned read per contiguous run of
        // each block, chunked ones with one positioned read and one inflate per chunk.
        let direct = if !packed && (!cf || raw.is_float()) {
            direct_layout(path, var, raw, &shape)
        } else {
            None
        };
        let how = match direct {
            Some(direct) => How::Direct {
                direct,
                raw,
                fills: if cf { fill_values(v) } else { Vec::new() },
            },
            None => How::General { file, dec },
        };
        Ok(NcReader {
            path: path.to_path_buf(),
            var: var.to_owned(),
            shape,
            out,
            how,
        })
    }

    /// Whether any box is read with one positioned read per contiguous run (a reduction
    /// then reads its blocks a band at a time, straight into cache).
    fn any_box(&self) -> bool {
        matches!(
            self.how,
            How::Direct {
                direct: Direct::Contiguous { .. },
                ..
            }
        )
    }

    /// Box `b` of the variable.
    fn read(&self, b: &floe_array::BlockInfo) -> std::result::Result<DynArray, TaskError> {
        match &self.how {
            How::Direct { direct, raw, fills } => {
                read_direct(&self.path, direct, *raw, fills, &self.shape, b)
            }
            How::General { file, dec } => read_block(
                file, &self.path, &self.var, *dec, &b.offset, &b.shape, &b.index,
            ),
        }
    }
}

/// The `netcdf` reader for a worker (see [`crate::register_readers`]): the variable
/// `var` of the file the parameters describe.
pub(crate) fn open_reader(params: &serde_json::Value) -> std::result::Result<Reader, TaskError> {
    let path = crate::readers::described_path(params)?;
    let var = crate::readers::text_param(params, "var")?;
    let reader = Arc::new(NcReader::open(&path, var).map_err(TaskError::new)?);
    Ok(Reader {
        shape: reader.shape.clone(),
        dtype: reader.out,
        read: crate::readers::rechecked(params, Arc::new(move |b| reader.read(b))),
    })
}

/// File `i` of `files` as [`open_netcdf`] opens it, hinting read-ahead as its blocks are read.
fn open_one(
    files: &Arc<ReadAhead>,
    i: usize,
    var: &str,
    chunks: ChunkSpec,
    band_bytes: usize,
) -> Result<Array> {
    let path = files.files[i].clone();
    let reader = Arc::new(NcReader::open(&path, var)?);
    let (shape, out) = (reader.shape.clone(), reader.out);
    let wanted = Chunks::from_spec(&shape, chunks, out)?;
    let bands = match &reader.how {
        // Blocks narrower than whole rows would cost a read per row: read bands of whole
        // rows (a few large reads each) and cut them.
        How::Direct {
            direct: Direct::Contiguous { .. },
            raw,
            ..
        } => bands(wanted.axes(), &shape, raw.itemsize(), DIRECT_BAND_BYTES),
        // Each chunk is decoded once: read blocks end on chunk boundaries.
        How::Direct {
            direct: Direct::Chunked(layout),
            ..
        } => chunk_aligned(wanted.axes(), layout.chunk_shape(), &shape),
        How::General { .. } => bands(wanted.axes(), &shape, out.itemsize(), band_bytes),
    };
    let any_box = reader.any_box();
    let files = Arc::clone(files);
    let read = move |b: &floe_array::BlockInfo| {
        files.reading(i);
        reader.read(b)
    };
    let described = crate::readers::described("netcdf", &path, json!({ "var": var }), out);
    let source = match described {
        Some(spec) => floe_array::try_from_reader(&shape, bands, spec, any_box, read)?,
        None if any_box => floe_array::try_from_box_fn(&shape, bands, out, read)?,
        None => floe_array::try_from_fn(&shape, bands, out, read)?,
    }
    .named("read-netcdf");
    Ok(source.rechunk(&wanted)?)
}

/// Variable `var` of several NetCDF files, concatenated along the first axis in the order
/// given (sort the paths first for dated files). Each file is split by `chunks` on its own.
///
/// While a file is read, the next few are read ahead into the page cache in the background
/// (cold reads overlap computation; see the README's performance section).
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
    let files = ReadAhead::new(paths.to_vec());
    let arrays = (0..paths.len())
        .map(|i| open_one(&files, i, var, chunks.clone(), BAND_BYTES))
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

#[cfg(test)]
mod tests {
    use super::{BAND_BYTES, ReadAhead, bands, open_one};
    use floe_array::{ChunkSpec, DynArray};
    use std::path::Path;

    fn read(name: &str, chunks: [usize; 3], band_bytes: usize) -> DynArray {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let x = open_one(
            &ReadAhead::new(vec![path]),
            0,
            "t2m",
            ChunkSpec::from(chunks),
            band_bytes,
        )
        .unwrap();
        let (g, out) = x.graph().unwrap();
        let r = floe_scheduler::Scheduler::default()
            .run(&g, &[out])
            .unwrap();
        r.values[0].downcast_ref::<DynArray>().unwrap().clone()
    }

    #[test]
    fn contiguous_and_deflated_variables_are_read_directly_and_others_are_not() {
        use super::Direct;
        use floe_array::DType;
        let fx = |n: &str| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(n)
        };
        let layout =
            |file: &str, var: &str, dtype| super::direct_layout(&fx(file), var, dtype, &[4, 9, 12]);
        let Some(Direct::Contiguous { offset, endian }) = layout("day0.nc", "t2m", DType::F32)
        else {
            panic!("day0.nc's t2m is contiguous");
        };
        assert_eq!(endian, crate::npy::Endian::Little);
        // The bytes at the offset are the values Python wrote: 250 + t + 0.5 lat + 0.25 lon.
        let bytes = std::fs::read(fx("day0.nc")).unwrap();
        let at = offset as usize;
        let second = f32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        assert_eq!(second, 250.25);
        // Chunked with deflate, shuffle or no filter, whatever the byte order or chunk index.
        for (file, var, dtype, chunk) in [
            ("chunked.nc", "t2m", DType::F32, [2, 4, 5]),
            ("layouts.nc", "deflate", DType::F32, [3, 4, 5]),
            ("layouts.nc", "shuffle_be", DType::F64, [1, 9, 12]),
            ("layouts.nc", "plain", DType::I16, [2, 3, 7]),
            ("layouts.nc", "unlimited", DType::F32, [1, 5, 12]),
        ] {
            match layout(file, var, dtype) {
                Some(Direct::Chunked(l)) => assert_eq!(l.chunk_shape(), chunk, "{file} {var}"),
                _ => panic!("{file}'s {var} is read chunk by chunk"),
            }
        }
        for (file, var, dtype) in [
            ("layouts.nc", "fletcher", DType::F32), // a filter floe does not decode
            ("layouts.nc", "sparse", DType::F32),   // chunks never written: fill values
            ("layouts.nc", "shuffle_be", DType::F32), // not the stored dtype
            ("day0.nc", "t2m", DType::F64),
            ("day0.nc", "nope", DType::F32),
            ("f8_5x7.npy", "t2m", DType::F32),
        ] {
            assert!(layout(file, var, dtype).is_none(), "{file} {var} {dtype}");
        }
    }

    #[test]
    fn narrow_bands_read_the_same_values_as_one_band() {
        for name in ["day1.nc", "chunked.nc", "packed.nc"] {
            let whole = read(name, [4, 9, 12], BAND_BYTES);
            for chunks in [[1, 2, 5], [3, 4, 12], [4, 9, 7]] {
                // 200 bytes: bands of a row or two of 12 values, hyperslabs of the variable.
                let banded = read(name, chunks, 200);
                let same = match (&whole, &banded) {
                    (DynArray::F32(a), DynArray::F32(b)) => a
                        .iter()
                        .zip(b)
                        .all(|(x, y)| x == y || (x.is_nan() && y.is_nan())),
                    _ => false,
                };
                assert!(same, "{name} in {chunks:?}");
            }
        }
    }

    #[test]
    fn a_small_variable_is_read_in_one_band() {
        let wanted = vec![
            vec![4],
            vec![200, 200, 200, 121],
            vec![200; 7].into_iter().chain([40]).collect(),
        ];
        assert_eq!(
            bands(&wanted, &[4, 721, 1440], 4, BAND_BYTES),
            vec![vec![4], vec![721], vec![1440]]
        );
    }

    #[test]
    fn a_large_variable_is_read_in_bands_of_whole_rows_within_the_budget() {
        // Rows of 1 MiB in chunks of 8 rows, merged while a band fits BAND_BYTES.
        let row = 1 << 20;
        let n = 2 * BAND_BYTES / row + 3;
        let wanted = vec![
            vec![1; 2],
            vec![8; n / 8]
                .into_iter()
                .chain([n % 8])
                .filter(|&c| c > 0)
                .collect(),
            vec![row / 4],
        ];
        let b = bands(&wanted, &[2, n, row / 4], 4, BAND_BYTES);
        assert_eq!(b[0], vec![1, 1]);
        assert_eq!(b[2], vec![row / 4]);
        assert_eq!(b[1].iter().sum::<usize>(), n);
        assert!(b[1].iter().all(|&r| r * row <= BAND_BYTES), "{:?}", b[1]);
        assert!(b[1].len() <= 4, "bands are merged: {:?}", b[1]);
    }

    #[test]
    fn a_chunk_larger_than_the_budget_is_its_own_band() {
        let wanted = vec![vec![3, 3], vec![1000]];
        let b = bands(&wanted, &[6, 1000], 1, 1000);
        assert_eq!(b, vec![vec![3, 3], vec![1000]]);
    }
}
