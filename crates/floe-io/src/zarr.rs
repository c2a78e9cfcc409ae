//! Zarr arrays (v2 and v3, read and written) on the local filesystem, through `zarrs`.
//!
//! [`to_zarr`] rechunks the array to a regular grid (Zarr's) so that every task writes
//! whole Zarr chunks — no two tasks ever touch one chunk — and returns a lazy computation
//! that writes them in parallel. [`from_zarr`] reads each floe block as a subset of the
//! Zarr array, by the worker that needs it.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use floe_array::{Array, ArrayElement, ChunkSpec, DType, DynArray, with_dtype};
use floe_graph::TaskError;
use ndarray::ArrayD;
use zarrs::array::{
    ArrayBuilder, ArrayMetadata, ArrayMetadataV2, ArraySubset, DataType, FillValue, data_type,
};
use zarrs::filesystem::FilesystemStore;
use zarrs::metadata::v2::FillValueMetadataV2;

use crate::{IoError, Result};

const FORMAT: &str = "Zarr";

fn zarr_type(d: DType) -> DataType {
    match d {
        DType::Bool => data_type::bool(),
        DType::I8 => data_type::int8(),
        DType::I16 => data_type::int16(),
        DType::I32 => data_type::int32(),
        DType::I64 => data_type::int64(),
        DType::U8 => data_type::uint8(),
        DType::U16 => data_type::uint16(),
        DType::U32 => data_type::uint32(),
        DType::U64 => data_type::uint64(),
        DType::F32 => data_type::float32(),
        _ => data_type::float64(),
    }
}

fn floe_type(t: &DataType) -> Option<DType> {
    DType::ALL.into_iter().find(|d| &zarr_type(*d) == t)
}

fn fill(d: DType) -> FillValue {
    with_dtype!(d, T => FillValue::from(<T as floe_array::Element>::zero()))
}

fn store(path: &Path) -> Result<Arc<FilesystemStore>> {
    FilesystemStore::new(path)
        .map(Arc::new)
        .map_err(|e| IoError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            reason: e.to_string(),
        })
}

fn ranges(offset: &[usize], shape: &[usize]) -> Vec<Range<u64>> {
    offset
        .iter()
        .zip(shape)
        .map(|(&o, &n)| o as u64..(o + n) as u64)
        .collect()
}

/// Creates a Zarr v3 array at `path` (a directory) for `array`, with Zarr chunks of the
/// array's largest block (gzip-compressed), and returns a lazy computation that writes every
/// chunk; it yields `true` when all are written.
///
/// # Errors
///
/// [`IoError::Format`] if the store or its metadata cannot be written.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("floe-zarr-doc-{}", std::process::id()));
/// let x = floe_array::arange(0.0, 100.0, 1.0, 30, floe_array::DType::I32)?;
/// let write = floe_io::to_zarr(&x, &dir)?;
/// let (g, out) = write.graph()?;
/// # floe_scheduler::Scheduler::default().run(&g, &[out]).unwrap();
/// let y = floe_io::from_zarr(&dir, 50)?;
/// assert_eq!((y.shape(), y.dtype()), (&[100_usize][..], floe_array::DType::I32));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), floe_io::IoError>(())
/// ```
pub fn to_zarr(array: &Array, path: impl AsRef<Path>) -> Result<Array> {
    write(array, path.as_ref(), 3)
}

/// Like [`to_zarr`], in the Zarr v2 format (uncompressed chunks, `.zarray` metadata), for
/// tools that read only v2.
///
/// # Errors
///
/// As [`to_zarr`].
pub fn to_zarr_v2(array: &Array, path: impl AsRef<Path>) -> Result<Array> {
    write(array, path.as_ref(), 2)
}

fn write(array: &Array, path: &Path, version: u8) -> Result<Array> {
    let path: PathBuf = path.to_path_buf();
    std::fs::create_dir_all(&path).map_err(|e| IoError::os(&path, e))?;
    let chunk: Vec<usize> = crate::sink::regular_chunk(array);
    let regular = array.rechunk(chunk.clone())?;
    let fail = |e: &dyn std::fmt::Display| IoError::Format {
        path: path.clone(),
        format: FORMAT,
        reason: e.to_string(),
    };
    let shape: Vec<u64> = array.shape().iter().map(|&n| n as u64).collect();
    let chunk_shape: Vec<u64> = chunk.iter().map(|&c| c as u64).collect();
    let dtype = array.dtype();
    let zarr = if version == 2 {
        let fill = if dtype == DType::Bool {
            FillValueMetadataV2::Bool(false)
        } else {
            FillValueMetadataV2::Number(serde_json::Number::from(0))
        };
        let chunks = chunk_shape
            .iter()
            .map(|&c| std::num::NonZeroU64::new(c).ok_or_else(|| fail(&"empty chunk")))
            .collect::<Result<Vec<_>>>()?;
        let meta = ArrayMetadataV2::new(
            shape,
            chunks,
            crate::npy::header::descr(dtype).into(),
            fill,
            None,
            None,
        );
        zarrs::array::Array::new_with_metadata(store(&path)?, "/", ArrayMetadata::V2(meta))
            .map_err(|e| fail(&e))?
    } else {
        ArrayBuilder::new(shape, chunk_shape, zarr_type(dtype), fill(dtype))
            .bytes_to_bytes_codecs(vec![Arc::new(
                zarrs::array::codec::GzipCodec::new(4).map_err(|e| fail(&e))?,
            )])
            .build(store(&path)?, "/")
            .map_err(|e| fail(&e))?
    };
    zarr.store_metadata().map_err(|e| fail(&e))?;
    let zarr = Arc::new(zarr);
    crate::sink::sink(&regular, move |block, info| {
        if info.shape.contains(&0) {
            return Ok(());
        }
        let index: Vec<u64> = info.index.iter().map(|&i| i as u64).collect();
        with_dtype!(dtype, T => {
            let data: ArrayD<T> = block.clone().into_typed::<T>().as_standard_layout().into_owned();
            write_chunk::<T>(&zarr, &index, &info.offset, &info.shape, data)
        })
    })
}

fn write_chunk<T: ArrayElement + zarrs::array::Element>(
    zarr: &zarrs::array::Array<FilesystemStore>,
    index: &[u64],
    offset: &[usize],
    shape: &[usize],
    data: ArrayD<T>,
) -> std::result::Result<(), String> {
    let full: Vec<u64> = zarr
        .chunk_shape(index)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|c| c.get())
        .collect();
    let values: Vec<T> = data.into_iter().collect();
    if full.iter().zip(shape).all(|(&c, &s)| c == s as u64) {
        zarr.store_chunk(index, values).map_err(|e| e.to_string())
    } else {
        // An edge chunk smaller than the grid: store its subset.
        let subset = ArraySubset::new_with_ranges(&ranges(offset, shape));
        zarr.store_array_subset(&subset, values)
            .map_err(|e| e.to_string())
    }
}

/// A Zarr array (v2 or v3) at `path` as a lazy array in blocks of `chunks`.
///
/// # Errors
///
/// [`IoError::Os`] for a missing directory, [`IoError::Format`] if it holds no readable
/// Zarr array, [`IoError::Unsupported`] for dtypes floe does not have.
pub fn from_zarr(path: impl AsRef<Path>, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    let path: PathBuf = path.as_ref().to_path_buf();
    std::fs::metadata(&path).map_err(|e| IoError::os(&path, e))?;
    let zarr = zarrs::array::Array::open(store(&path)?, "/").map_err(|e| IoError::Format {
        path: path.clone(),
        format: FORMAT,
        reason: e.to_string(),
    })?;
    let dtype = floe_type(zarr.data_type()).ok_or_else(|| IoError::Unsupported {
        path: path.clone(),
        what: format!("Zarr data type {}", zarr.data_type()),
    })?;
    let shape: Vec<usize> = zarr.shape().iter().map(|&n| n as usize).collect();
    let zarr = Arc::new(zarr);
    Ok(floe_array::try_from_fn(&shape, chunks, dtype, move |b| {
        let subset = ArraySubset::new_with_ranges(&ranges(&b.offset, &b.shape));
        let fail = |e: zarrs::array::ArrayError| {
            TaskError::msg(format!(
                "{}: reading block {:?}: {e}",
                path.display(),
                b.index
            ))
        };
        Ok(
            with_dtype!(dtype, T => DynArray::from(zarr.retrieve_array_subset::<ArrayD<T>>(&subset).map_err(fail)?)),
        )
    })?
    .named("read-zarr"))
}
