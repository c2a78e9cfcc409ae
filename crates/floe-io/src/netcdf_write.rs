//! Writing an array as a NetCDF4 variable, block by block, through the NetCDF C library.
//!
//! Reading NetCDF is pure Rust; writing needs `libnetcdf` (Debian `libnetcdf-dev`), so it
//! sits behind the `netcdf-write` feature. Blocks are computed in parallel; the writes
//! themselves are serialised (the C library is not thread-safe), one hyperslab per block,
//! into a variable chunked like the array's blocks so that each write fills whole chunks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use floe_array::{Array, ArrayElement, DType};
use parking_lot::Mutex;

use crate::{IoError, Result};

const FORMAT: &str = "NetCDF";

/// `$body` with `$T` the Rust type of a numeric `$dtype`; `$bool` for booleans.
macro_rules! numeric {
    ($dtype:expr, $T:ident => $body:expr, bool => $bool:expr) => {
        match $dtype {
            DType::I8 => {
                type $T = i8;
                $body
            }
            DType::I16 => {
                type $T = i16;
                $body
            }
            DType::I32 => {
                type $T = i32;
                $body
            }
            DType::I64 => {
                type $T = i64;
                $body
            }
            DType::U8 => {
                type $T = u8;
                $body
            }
            DType::U16 => {
                type $T = u16;
                $body
            }
            DType::U32 => {
                type $T = u32;
                $body
            }
            DType::U64 => {
                type $T = u64;
                $body
            }
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            _ => $bool,
        }
    };
}

/// How [`to_netcdf`] lays the variable out.
#[derive(Debug, Clone, Default)]
pub struct NetcdfOptions {
    /// Dimension names, one per axis (default `dim_0`, `dim_1`, …).
    pub dims: Vec<String>,
    /// Text attributes of the variable (`units`, `long_name`…).
    pub attributes: Vec<(String, String)>,
    /// zlib level 1–9 with the shuffle filter, or `None` (default) for raw chunks.
    pub deflate: Option<u8>,
}

impl NetcdfOptions {
    /// Options naming the dimensions.
    pub fn dims<S: Into<String>>(dims: impl IntoIterator<Item = S>) -> Self {
        Self {
            dims: dims.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Adds a text attribute.
    #[must_use]
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((name.into(), value.into()));
        self
    }

    /// Compresses chunks with zlib at `level` (1–9) and the shuffle filter.
    #[must_use]
    pub fn deflate(mut self, level: u8) -> Self {
        self.deflate = Some(level);
        self
    }
}

/// The open file, shared by the block writers.
struct Target {
    file: Mutex<netcdf::FileMut>,
    var: String,
    blocks: usize,
    written: AtomicUsize,
}

/// A lazy computation writing `array` as variable `var` of a new NetCDF4 file at `path`
/// (an existing file is replaced). Computing it writes every block and yields `true`; the
/// file is flushed when the last block is written.
///
/// ```
/// use floe_io::{NetcdfOptions, open_netcdf, to_netcdf};
///
/// let dir = std::env::temp_dir().join(format!("floe-nc-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("x.nc");
/// let x = floe_array::arange(0.0, 12.0, 1.0, 6, floe_array::DType::F32)?.reshape(&[3, 4])?;
/// let opts = NetcdfOptions::dims(["y", "x"]).attribute("units", "K");
/// let write = to_netcdf(&x, &path, "t", &opts)?;
/// let (g, out) = write.graph()?;
/// # floe_scheduler::Scheduler::default().run(&g, &[out]).unwrap();
/// let back = open_netcdf(&path, "t", 2)?;
/// assert_eq!(back.shape(), &[3, 4]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), floe_io::IoError>(())
/// ```
///
/// # Errors
///
/// [`IoError::Unsupported`] for boolean arrays (NetCDF has no boolean type),
/// [`IoError::Format`] if `dims` does not name every axis once, [`IoError::Os`] or
/// [`IoError::Format`] if the file cannot be created. A failed block write fails the
/// computation naming the block; blocks already written stay written.
pub fn to_netcdf(
    array: &Array,
    path: impl AsRef<Path>,
    var: &str,
    options: &NetcdfOptions,
) -> Result<Array> {
    array.require_known("to_netcdf")?;
    let path: PathBuf = path.as_ref().to_path_buf();
    let dtype = array.dtype();
    if dtype == DType::Bool {
        return Err(IoError::Unsupported {
            path,
            what: "bool arrays (NetCDF has no boolean type; cast with astype(u8))".into(),
        });
    }
    if dtype.is_complex() {
        return Err(IoError::Unsupported {
            path,
            what: format!(
                "{dtype} arrays (NetCDF has no complex type; write the real and imaginary parts as two variables)"
            ),
        });
    }
    let fail = |reason: String| IoError::Format {
        path: path.clone(),
        format: FORMAT,
        reason,
    };
    let dims: Vec<String> = if options.dims.is_empty() {
        (0..array.ndim()).map(|a| format!("dim_{a}")).collect()
    } else {
        options.dims.clone()
    };
    if dims.len() != array.ndim() {
        return Err(fail(format!(
            "{} dimension names for a {}-d array",
            dims.len(),
            array.ndim()
        )));
    }
    if let Some(d) = dims
        .iter()
        .enumerate()
        .find_map(|(i, d)| (d.is_empty() || dims[..i].contains(d)).then_some(d))
    {
        return Err(fail(format!("dimension name `{d}` is empty or repeated")));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::metadata(dir).map_err(|e| IoError::os(dir, e))?;
    }
    let nc_err = |e: netcdf::Error| fail(e.to_string());
    let mut file = netcdf::create(&path).map_err(nc_err)?;
    for (name, &len) in dims.iter().zip(array.shape()) {
        file.add_dimension(name, len).map_err(nc_err)?;
    }
    {
        let dim_refs: Vec<&str> = dims.iter().map(String::as_str).collect();
        let mut v = numeric!(dtype, T => file.add_variable::<T>(var, &dim_refs),
            bool => unreachable!("booleans were refused above"))
        .map_err(nc_err)?;
        let chunk = crate::sink::regular_chunk(array);
        if !array.shape().contains(&0) {
            v.set_chunking(&chunk).map_err(nc_err)?;
        }
        if let Some(level) = options.deflate {
            v.set_compression(i32::from(level.clamp(1, 9)), true)
                .map_err(nc_err)?;
        }
        for (name, value) in &options.attributes {
            v.put_attribute(name, value.as_str()).map_err(nc_err)?;
        }
    }
    let target = Arc::new(Target {
        file: Mutex::new(file),
        var: var.to_owned(),
        blocks: array.chunks().nblocks(),
        written: AtomicUsize::new(0),
    });
    crate::sink::sink(
        array,
        move |block, info| -> std::result::Result<(), String> {
            let file = &mut *target.file.lock();
            if !info.shape.contains(&0) {
                write_block(file, &target.var, dtype, block, info)?;
            }
            // Flushed once per complete pass over the blocks (a computation may run twice).
            if (target.written.fetch_add(1, Ordering::AcqRel) + 1)
                .is_multiple_of(target.blocks.max(1))
            {
                file.sync().map_err(|e| e.to_string())?;
            }
            Ok(())
        },
    )
}

fn write_block(
    file: &mut netcdf::FileMut,
    var: &str,
    dtype: DType,
    block: &floe_array::DynArray,
    info: &floe_array::BlockInfo,
) -> std::result::Result<(), String> {
    let extents: Vec<std::ops::Range<usize>> = info
        .offset
        .iter()
        .zip(&info.shape)
        .map(|(&o, &n)| o..o + n)
        .collect();
    let mut v = file
        .variable_mut(var)
        .ok_or_else(|| format!("variable `{var}` vanished from the file"))?;
    numeric!(dtype, T => put::<T>(&mut v, block, &extents),
            bool => Err("NetCDF has no boolean type".into()))
}

fn put<T: ArrayElement + netcdf::NcTypeDescriptor>(
    v: &mut netcdf::VariableMut<'_>,
    block: &floe_array::DynArray,
    extents: &[std::ops::Range<usize>],
) -> std::result::Result<(), String> {
    let view = T::view(block).ok_or("internal error: a block of the wrong dtype")?;
    // A standard-layout block is written from its own memory; any other is laid out once.
    let data = view.as_standard_layout();
    let values = data
        .as_slice()
        .ok_or("a standard-layout block is contiguous")?;
    v.put_values(values, extents).map_err(|e| e.to_string())
}
