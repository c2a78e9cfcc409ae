//! Zarr arrays (v2 and v3, read and written) on the local filesystem, through `zarrs`.
//!
//! [`to_zarr`] rechunks the array to a regular grid (Zarr's) so that every task writes
//! whole Zarr chunks — no two tasks ever touch one chunk — and returns a lazy computation
//! that writes them in parallel. [`from_zarr`] reads each floe block as a subset of the
//! Zarr array — whole stored chunks unless the caller asks otherwise — decoded into the
//! block's memory by the worker that needs it, with the next blocks' files read ahead.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use floe_array::{Array, ArrayElement, BlockInfo, ChunkSpec, Complex, DType, DynArray, with_dtype};
use floe_graph::TaskError;
use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{
    ArrayBuilder, ArrayBytesFixedDisjointView, ArrayMetadata, ArrayMetadataV2, ArrayShardedExt,
    ArraySubset, CodecOptions, DataType, FillValue, data_type,
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
        DType::C64 => data_type::complex64(),
        DType::C128 => data_type::complex128(),
        _ => data_type::float64(),
    }
}

/// An element as `zarrs` stores it: floe's own type, or `num_complex`'s for complex ones.
trait Stored: ArrayElement {
    type Z: zarrs::array::Element + Clone;
    /// `view` in the stored type: itself for real types, a converted copy for complex ones.
    fn stored<'a>(view: ArrayViewD<'a, Self>) -> CowArray<'a, Self::Z, IxDyn>;
}

macro_rules! stored_as_is {
    ($($t:ty),+) => {
        $(impl Stored for $t {
            type Z = $t;
            fn stored<'a>(view: ArrayViewD<'a, Self>) -> CowArray<'a, Self::Z, IxDyn> {
                CowArray::from(view)
            }
        })+
    };
}

stored_as_is!(bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

macro_rules! stored_complex {
    ($($t:ty),+) => {
        $(impl Stored for Complex<$t> {
            type Z = num_complex::Complex<$t>;
            fn stored<'a>(view: ArrayViewD<'a, Self>) -> CowArray<'a, Self::Z, IxDyn> {
                CowArray::from(view.mapv(num_complex::Complex::from))
            }
        })+
    };
}

stored_complex!(f32, f64);

fn floe_type(t: &DataType) -> Option<DType> {
    DType::ALL.into_iter().find(|d| &zarr_type(*d) == t)
}

/// Zero, the fill value of arrays floe writes.
fn fill(d: DType) -> FillValue {
    if d == DType::Bool {
        FillValue::from(false)
    } else {
        FillValue::from(vec![0_u8; d.itemsize()])
    }
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
/// array's largest block (zstd-compressed, as zarr-python writes by default), and returns a
/// lazy computation that writes every
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
    array.require_known("to_zarr")?;
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
                // zarr-python's default: fast to write and to read, and every Zarr v3 reader
                // has it.
                zarrs::array::codec::ZstdCodec::new(0, false),
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
            let view = T::view(block).ok_or("internal error: a block of the wrong dtype")?;
            let stored = T::stored(view);
            write_chunk(&zarr, &index, &info.offset, &info.shape, &stored.view())
        })
    })
}

fn write_chunk<T: zarrs::array::Element>(
    zarr: &zarrs::array::Array<FilesystemStore>,
    index: &[u64],
    offset: &[usize],
    shape: &[usize],
    data: &ArrayViewD<'_, T>,
) -> std::result::Result<(), String> {
    let full: Vec<u64> = zarr
        .chunk_shape(index)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|c| c.get())
        .collect();
    // The codecs read a standard-layout block from its own memory (no copy before encoding).
    if full.iter().zip(shape).all(|(&c, &s)| c == s as u64) {
        zarr.store_chunk(index, data).map_err(|e| e.to_string())
    } else {
        // An edge chunk smaller than the grid: store its subset.
        let subset = ArraySubset::new_with_ranges(&ranges(offset, shape));
        zarr.store_array_subset(&subset, data)
            .map_err(|e| e.to_string())
    }
}

/// A Zarr array (v2 or v3) at `path` as a lazy array in blocks of `chunks`.
///
/// Blocks that `chunks` leaves to floe (`"auto"`, a byte size such as `"64MB"`, or axes
/// marked auto) are whole multiples of the store's chunks, so no stored chunk is read or
/// decompressed twice; sizes given explicitly are kept. Each block is decoded straight into
/// its own memory (no second copy of a chunk alive), by the worker that needs it, and while
/// one block is read the files of the next ones are already asked of the disk.
///
/// # Errors
///
/// [`IoError::Os`] for a missing directory, [`IoError::Format`] if it holds no readable
/// Zarr array, [`IoError::Unsupported`] for dtypes floe does not have.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("floe-zarr-auto-doc-{}", std::process::id()));
/// let x = floe_array::zeros(&[1000, 300], [100_usize, 300], floe_array::DType::F64)?;
/// let (g, out) = floe_io::to_zarr(&x, &dir)?.graph()?;
/// floe_scheduler::Scheduler::default().run(&g, &[out])?;
/// // 64 KB blocks asked for: two stored chunks (of 240 KB) can never make one, so each
/// // block is one stored chunk rather than a part of one.
/// let y = floe_io::from_zarr(&dir, "64KB")?;
/// assert_eq!(y.chunks().max_block(), vec![100, 300]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn from_zarr(path: impl AsRef<Path>, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    let path: PathBuf = path.as_ref().to_path_buf();
    let store = Store::open(&path)?;
    let (shape, dtype) = (store.shape.clone(), store.dtype);
    let spec = chunks.into();
    let mut grid = spec.resolve_aligned(&shape, dtype, &store.stored)?;
    if store.encoding == Some(Encoding::Raw) {
        // Uncompressed chunks can be read in part: they are not forced on blocks they
        // would make more than twice the size asked for.
        let asked = spec.resolve(&shape, dtype)?;
        let bytes = |c: &floe_array::Chunks| c.max_block().iter().product::<usize>();
        if bytes(&grid) > 2 * bytes(&asked) {
            grid = asked;
        }
    }
    let reader = Arc::new(Reader {
        encoding: store.encoding,
        ahead: Some(ReadAhead::new(&grid)),
        zarr: store.zarr,
        path: path.clone(),
    });
    let read = move |b: &BlockInfo| {
        reader.read_ahead(b);
        reader.read_block(dtype, b)
    };
    // A box is read as whole chunks decoded: never asked for in bands.
    Ok(
        match crate::readers::described("zarr", &path, serde_json::json!({}), dtype) {
            Some(source) => floe_array::try_from_reader(&shape, &grid, source, false, read)?,
            None => floe_array::try_from_fn(&shape, &grid, dtype, read)?,
        }
        .named("read-zarr"),
    )
}

/// A Zarr array opened: what floe reads it as.
struct Store {
    zarr: zarrs::array::Array<FilesystemStore>,
    dtype: DType,
    shape: Vec<usize>,
    /// The unit a read decodes whole: a sharded store's inner chunk (its shards are read
    /// in part), else the chunk.
    stored: Vec<usize>,
    encoding: Option<Encoding>,
}

impl Store {
    /// The array at `path`.
    ///
    /// # Errors
    ///
    /// As [`from_zarr`].
    fn open(path: &Path) -> Result<Store> {
        std::fs::metadata(path).map_err(|e| IoError::os(path, e))?;
        let format = |reason: String| IoError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            reason,
        };
        let zarr =
            zarrs::array::Array::open(store(path)?, "/").map_err(|e| format(e.to_string()))?;
        let dtype = floe_type(zarr.data_type()).ok_or_else(|| IoError::Unsupported {
            path: path.to_path_buf(),
            what: format!("Zarr data type {}", zarr.data_type()),
        })?;
        let shape: Vec<usize> = zarr.shape().iter().map(|&n| n as usize).collect();
        let unit = zarr
            .effective_subchunk_shape()
            .map(Ok)
            .unwrap_or_else(|| zarr.chunk_shape(&vec![0; shape.len()]));
        let stored: Vec<usize> = match unit {
            Ok(c) if !shape.contains(&0) => c.iter().map(|n| n.get() as usize).collect(),
            // An empty array has no chunk to align to.
            _ => shape.iter().map(|&n| n.max(1)).collect(),
        };
        let encoding = encoding(zarr.metadata(), dtype);
        Ok(Store {
            zarr,
            dtype,
            shape,
            stored,
            encoding,
        })
    }
}

/// The `zarr` reader for a worker (see [`crate::register_readers`]): the array in the
/// store the parameters describe (its metadata document's size and time checked), without
/// read-ahead.
pub(crate) fn open_reader(
    params: &serde_json::Value,
) -> std::result::Result<floe_array::Reader, TaskError> {
    let path = crate::readers::described_path(params)?;
    let store = Store::open(&path).map_err(TaskError::new)?;
    let (shape, dtype) = (store.shape.clone(), store.dtype);
    let reader = Arc::new(Reader {
        encoding: store.encoding,
        ahead: None,
        zarr: store.zarr,
        path,
    });
    Ok(floe_array::Reader {
        shape,
        dtype,
        read: crate::readers::rechecked(params, Arc::new(move |b| reader.read_block(dtype, b))),
    })
}

/// How a store's chunks are encoded when floe decodes them itself: the elements' bytes in
/// C order and native byte order, stored as they are or compressed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Raw,
    Zstd,
    Gzip,
    Zlib,
}

/// The encoding of `meta`'s chunks if floe can stream them straight into block memory;
/// `None` sends every read through `zarrs` (filters, sharding, other byte orders…).
fn encoding(meta: &ArrayMetadata, dtype: DType) -> Option<Encoding> {
    if dtype == DType::Bool {
        return None;
    }
    let native = if cfg!(target_endian = "little") {
        "little"
    } else {
        "big"
    };
    let name = |v: &serde_json::Value| v.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    match meta {
        ArrayMetadata::V3(m) => {
            if !m.storage_transformers.is_empty() {
                return None;
            }
            let codecs: Vec<serde_json::Value> = m
                .codecs
                .iter()
                .map(|c| serde_json::to_value(c).ok())
                .collect::<Option<_>>()?;
            let (first, rest) = codecs.split_first()?;
            let endian = first
                .pointer("/configuration/endian")
                .and_then(|e| e.as_str());
            if name(first)? != "bytes" || !(endian == Some(native) || dtype.itemsize() == 1) {
                return None;
            }
            match rest {
                [] => Some(Encoding::Raw),
                [c] => match name(c)?.as_str() {
                    "zstd" => Some(Encoding::Zstd),
                    "gzip" => Some(Encoding::Gzip),
                    _ => None,
                },
                _ => None,
            }
        }
        ArrayMetadata::V2(m) => {
            let v = serde_json::to_value(m).ok()?;
            let order_c = v.get("order").and_then(|o| o.as_str()) == Some("C");
            let no_filters = v
                .get("filters")
                .is_none_or(|f| f.is_null() || f.as_array().is_some_and(Vec::is_empty));
            let dt = v.get("dtype").and_then(|d| d.as_str())?;
            let byte_order = if native == "little" { '<' } else { '>' };
            let order_ok = dt.starts_with(byte_order) || dt.starts_with('|');
            if !(order_c && no_filters && order_ok) {
                return None;
            }
            match v.get("compressor") {
                None | Some(serde_json::Value::Null) => Some(Encoding::Raw),
                Some(c) => match c.get("id").and_then(|i| i.as_str())? {
                    "zstd" => Some(Encoding::Zstd),
                    "gzip" => Some(Encoding::Gzip),
                    "zlib" => Some(Encoding::Zlib),
                    _ => None,
                },
            }
        }
    }
}

/// What every block task of one [`from_zarr`] array shares.
struct Reader {
    zarr: zarrs::array::Array<FilesystemStore>,
    path: PathBuf,
    encoding: Option<Encoding>,
    /// Hints for the blocks of the local array (none on a worker, which reads what it is
    /// given).
    ahead: Option<ReadAhead>,
}

/// A stored chunk inside a block: its file and the bytes of the block it fills.
struct Piece {
    path: PathBuf,
    /// Opened while the block was planned: a chunk file that is missing sends the block
    /// to `zarrs` (which reads it as the fill value).
    file: std::fs::File,
    bytes: Range<usize>,
}

impl Reader {
    /// Box `b`, its errors naming the store and the block.
    fn read_block(&self, dtype: DType, b: &BlockInfo) -> std::result::Result<DynArray, TaskError> {
        self.read(dtype, b).map_err(|e| {
            TaskError::msg(format!(
                "{}: reading block {:?}: {e}",
                self.path.display(),
                b.index
            ))
        })
    }

    fn read(&self, dtype: DType, b: &BlockInfo) -> std::result::Result<DynArray, String> {
        let subset = ArraySubset::new_with_ranges(&ranges(&b.offset, &b.shape));
        let e = |e: zarrs::array::ArrayError| e.to_string();
        Ok(match dtype {
            DType::Bool => DynArray::from(
                self.zarr
                    .retrieve_array_subset::<ArrayD<bool>>(&subset)
                    .map_err(e)?,
            ),
            DType::I8 => DynArray::from(self.read_into::<i8>(&subset, b)?),
            DType::I16 => DynArray::from(self.read_into::<i16>(&subset, b)?),
            DType::I32 => DynArray::from(self.read_into::<i32>(&subset, b)?),
            DType::I64 => DynArray::from(self.read_into::<i64>(&subset, b)?),
            DType::U8 => DynArray::from(self.read_into::<u8>(&subset, b)?),
            DType::U16 => DynArray::from(self.read_into::<u16>(&subset, b)?),
            DType::U32 => DynArray::from(self.read_into::<u32>(&subset, b)?),
            DType::U64 => DynArray::from(self.read_into::<u64>(&subset, b)?),
            DType::F32 => DynArray::from(self.read_into::<f32>(&subset, b)?),
            DType::F64 => DynArray::from(self.read_into::<f64>(&subset, b)?),
            DType::C64 => DynArray::from(
                self.read_into::<[f32; 2]>(&subset, b)?
                    .mapv(|[re, im]| Complex::new(re, im)),
            ),
            DType::C128 => DynArray::from(
                self.read_into::<[f64; 2]>(&subset, b)?
                    .mapv(|[re, im]| Complex::new(re, im)),
            ),
            other => return Err(format!("no Zarr reader for {other}")),
        })
    }

    /// Decodes `subset` straight into a new block's memory: by floe, chunk file by chunk
    /// file, where the store's encoding and the block's alignment allow it (no copy of a
    /// chunk ever held besides the block), else by `zarrs`.
    fn read_into<T: bytemuck::Pod>(
        &self,
        subset: &ArraySubset,
        b: &BlockInfo,
    ) -> std::result::Result<ArrayD<T>, String> {
        let len: usize = b.shape.iter().product();
        // Zero pages from the allocator: no pass over the memory before the decode fills it.
        let mut data: Vec<T> = bytemuck::zeroed_vec(len);
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut data);
        let pieces = self
            .encoding
            .and_then(|enc| Some((enc, self.pieces(b, std::mem::size_of::<T>())?)));
        match pieces {
            Some((enc, pieces)) => {
                for p in pieces {
                    decode(enc, p.file, &mut bytes[p.bytes])
                        .map_err(|e| format!("{}: {e}", p.path.display()))?;
                }
            }
            None => self.decode_by_zarrs(subset, &b.shape, std::mem::size_of::<T>(), bytes)?,
        }
        ArrayD::from_shape_vec(IxDyn(&b.shape), data).map_err(|e| e.to_string())
    }

    /// The chunks that make up block `b`, each a contiguous run of its bytes — or `None`
    /// if some chunk is not (the block cuts it, or it is missing and reads as the fill
    /// value).
    fn pieces(&self, b: &BlockInfo, itemsize: usize) -> Option<Vec<Piece>> {
        let (first, rows) = (*b.offset.first()?, *b.shape.first()?);
        let end = first + rows;
        let row_bytes = b.shape[1..].iter().product::<usize>() * itemsize;
        let subset = ArraySubset::new_with_ranges(&ranges(&b.offset, &b.shape));
        let chunks = self.zarr.chunks_in_array_subset(&subset).ok()??;
        let total = *self.zarr.shape().first()? as usize;
        let mut pieces = Vec::new();
        for c in &chunks.indices() {
            // The stored chunk, padding past the array's end included.
            let chunk = self.zarr.chunk_subset(&c).ok()?;
            let (start, stored) = (chunk.start(), chunk.shape());
            // Trailing axes: the chunk spans exactly the block's extent, unpadded.
            for a in 1..b.shape.len() {
                if start[a] as usize != b.offset[a] || stored[a] as usize != b.shape[a] {
                    return None;
                }
            }
            // Leading axis: the chunk's rows within the array lie within the block's; a
            // chunk padded past the array's end gives only its first rows.
            let r0 = start[0] as usize;
            let r1 = (r0 + stored[0] as usize).min(total);
            if r0 < first || r1 > end {
                return None;
            }
            let path = self.path.join(self.zarr.chunk_key(&c).as_str());
            let file = std::fs::File::open(&path).ok()?;
            pieces.push(Piece {
                path,
                file,
                bytes: (r0 - first) * row_bytes..(r1 - first) * row_bytes,
            });
        }
        Some(pieces)
    }

    fn decode_by_zarrs(
        &self,
        subset: &ArraySubset,
        shape: &[usize],
        itemsize: usize,
        bytes: &mut [u8],
    ) -> std::result::Result<(), String> {
        let dims: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
        // SAFETY: this view is the only one ever made of `bytes` (which it borrows mutably
        // for its whole life), so no other view can overlap its subset. Exercised by the
        // Zarr tests of blocks that cut stored chunks (`tests/it/zarr.rs`).
        #[allow(unsafe_code)]
        let mut view = unsafe {
            ArrayBytesFixedDisjointView::new(
                UnsafeCellSlice::new(bytes),
                itemsize,
                &dims,
                ArraySubset::new_with_shape(dims.clone()),
            )
        }
        .map_err(|e| e.to_string())?;
        // The codecs run on this worker alone: the scheduler already keeps every core busy
        // with other blocks, and a second pool would only compete with it.
        let options = CodecOptions::default().with_concurrent_target(1);
        self.zarr
            .retrieve_array_subset_into_opt(subset, (&mut view).into(), &options)
            .map_err(|e| e.to_string())
    }

    /// Block `b` is being read: ask the disk for the chunk files of the blocks expected
    /// next, following the stride between the blocks read last (down a column of blocks
    /// for a reduction along axis 0, along rows for a row-major sweep).
    fn read_ahead(&self, b: &BlockInfo) {
        let Some(ahead) = &self.ahead else {
            return;
        };
        let numblocks = &ahead.numblocks;
        let i = flat_index(&b.index, numblocks);
        // Read now: hinted again if it is dropped and needed later.
        if let Some(flag) = ahead.hinted.get(i) {
            flag.store(false, Ordering::Relaxed);
        }
        let last = ahead.last.swap(i, Ordering::Relaxed);
        let stride = i.saturating_sub(last);
        // Only a stride seen twice in a row is a sweep worth reading ahead of (a lone
        // block, such as `x[0]`, asks for nothing more).
        if stride == 0 || ahead.stride.swap(stride, Ordering::Relaxed) != stride {
            return;
        }
        for k in 1..=READ_AHEAD_BLOCKS {
            let j = i + k * stride;
            let Some(flag) = ahead.hinted.get(j) else {
                break;
            };
            if flag.swap(true, Ordering::Relaxed) {
                continue;
            }
            let info = ahead.block(j);
            let subset = ArraySubset::new_with_ranges(&ranges(&info.0, &info.1));
            if let Ok(Some(chunks)) = self.zarr.chunks_in_array_subset(&subset) {
                for c in &chunks.indices() {
                    crate::will_need(&self.path.join(self.zarr.chunk_key(&c).as_str()));
                }
            }
        }
    }
}

/// Decodes one chunk file into `out`, which its first `out.len()` decoded bytes fill.
fn decode(enc: Encoding, f: std::fs::File, out: &mut [u8]) -> std::io::Result<()> {
    use std::io::{BufReader, Read};
    match enc {
        Encoding::Raw => (&f).read_exact(out),
        Encoding::Zstd => zstd::stream::read::Decoder::new(f)?.read_exact(out),
        Encoding::Gzip => flate2::read::GzDecoder::new(BufReader::new(f)).read_exact(out),
        Encoding::Zlib => flate2::read::ZlibDecoder::new(BufReader::new(f)).read_exact(out),
    }
}

/// The position of block `index` in row-major order of a grid of `numblocks`.
fn flat_index(index: &[usize], numblocks: &[usize]) -> usize {
    index
        .iter()
        .zip(numblocks)
        .fold(0, |acc, (&i, &n)| acc * n + i)
}

/// Blocks read ahead of the one being read.
const READ_AHEAD_BLOCKS: usize = 4;

/// Which blocks' files the disk has been asked for (`posix_fadvise(WILLNEED)`), so that
/// cold reads arrive while workers decode and compute instead of each worker waiting on
/// its own read. On a warm page cache a hint costs microseconds.
struct ReadAhead {
    /// Where each block starts along each axis (and the last one ends).
    offsets: Vec<Vec<usize>>,
    numblocks: Vec<usize>,
    hinted: Vec<AtomicBool>,
    /// The last block read, and the stride from the one before it.
    last: AtomicUsize,
    stride: AtomicUsize,
}

impl ReadAhead {
    fn new(grid: &floe_array::Chunks) -> Self {
        let numblocks = grid.numblocks();
        let count: usize = numblocks.iter().product();
        Self {
            offsets: (0..numblocks.len()).map(|a| grid.offsets(a)).collect(),
            hinted: (0..count).map(|_| AtomicBool::new(false)).collect(),
            numblocks,
            last: AtomicUsize::new(0),
            stride: AtomicUsize::new(0),
        }
    }

    /// The offset and shape of the block at row-major position `flat`.
    fn block(&self, flat: usize) -> (Vec<usize>, Vec<usize>) {
        let mut rest = flat;
        let mut index = vec![0; self.numblocks.len()];
        for (axis, &n) in self.numblocks.iter().enumerate().rev() {
            index[axis] = rest % n.max(1);
            rest /= n.max(1);
        }
        index
            .iter()
            .zip(&self.offsets)
            .map(|(&i, o)| (o[i], o[i + 1] - o[i]))
            .unzip()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn open(path: &Path) -> zarrs::array::Array<FilesystemStore> {
        zarrs::array::Array::open(store(path).unwrap(), "/").unwrap()
    }

    #[test]
    fn encodings_floe_decodes_itself() {
        let cases = [
            ("v3.zarr", Some(Encoding::Zstd)),
            ("v2.zarr", Some(Encoding::Zstd)),
            ("zlib_v2.zarr", Some(Encoding::Zlib)),
            ("gzip_v3.zarr", Some(Encoding::Gzip)),
            ("be_v2.zarr", None),
        ];
        for (name, want) in cases {
            let z = open(&fixture(name));
            assert_eq!(encoding(z.metadata(), DType::F64), want, "{name}");
        }
        let dir = std::env::temp_dir().join(format!("floe-zarr-enc-{}", std::process::id()));
        let x = floe_array::zeros(&[10, 4], [5_usize, 4], DType::I32).unwrap();
        for (v2, want) in [(false, Encoding::Zstd), (true, Encoding::Raw)] {
            let _ = std::fs::remove_dir_all(&dir);
            if v2 {
                to_zarr_v2(&x, &dir)
            } else {
                to_zarr(&x, &dir)
            }
            .unwrap();
            let z = open(&dir);
            assert_eq!(encoding(z.metadata(), DType::I32), Some(want));
            assert_eq!(encoding(z.metadata(), DType::Bool), None);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sharded_stores_align_to_inner_chunks_and_raw_stores_to_what_was_asked() {
        use zarrs::array::codec::ShardingCodecBuilder;
        let dir = std::env::temp_dir().join(format!("floe-zarr-shard-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Shards of 64 × 64 float64 (32 KiB) holding inner chunks of 8 × 64 (4 KiB).
        let nz = |v: &[u64]| -> Vec<std::num::NonZeroU64> {
            v.iter()
                .map(|&n| std::num::NonZeroU64::new(n).unwrap())
                .collect()
        };
        let sharding = ShardingCodecBuilder::new(nz(&[8, 64]), &data_type::float64()).build_arc();
        let z = ArrayBuilder::new(vec![128, 64], vec![64, 64], data_type::float64(), 0.0_f64)
            .array_to_bytes_codec(sharding)
            .build(store(&dir).unwrap(), "/")
            .unwrap();
        z.store_metadata().unwrap();
        let values: Vec<f64> = (0..128 * 64).map(f64::from).collect();
        z.store_array_subset(
            &ArraySubset::new_with_ranges(&[0..128, 0..64]),
            values.clone(),
        )
        .unwrap();
        // 10 KB blocks: two inner chunks, not a whole shard.
        let x = from_zarr(&dir, "10KB").unwrap();
        assert_eq!(x.chunks().max_block(), vec![16, 64]);
        let (g, out) = x.graph().unwrap();
        let got = floe_scheduler::Scheduler::default()
            .run(&g, &[out])
            .unwrap();
        let got = got.values[0].downcast_ref::<DynArray>().unwrap().clone();
        assert_eq!(
            got.into_f64().unwrap().iter().copied().collect::<Vec<_>>(),
            values
        );
        let _ = std::fs::remove_dir_all(&dir);

        // Uncompressed chunks of 64 × 64 (32 KiB) read in 8 KB blocks: read in part.
        let x = floe_array::zeros(&[128, 64], [64_usize, 64], DType::F64).unwrap();
        let (g, out) = to_zarr_v2(&x, &dir).unwrap().graph().unwrap();
        floe_scheduler::Scheduler::default()
            .run(&g, &[out])
            .unwrap();
        let y = from_zarr(&dir, "8KB").unwrap();
        assert!(y.chunks().max_block().iter().product::<usize>() * 8 <= 8_000);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn aligned_blocks_are_pieces_of_whole_chunks() {
        // (6, 7, 5) in chunks of (4, 7, 5): the two chunks are row ranges of any block
        // holding them; the second is padded past the array's end and gives 2 rows.
        let path = fixture("zlib_v2.zarr");
        let reader = Reader {
            zarr: open(&path),
            encoding: Some(Encoding::Zlib),
            ahead: Some(ReadAhead::new(
                &floe_array::Chunks::new(&[6, 7, 5], vec![vec![6], vec![7], vec![5]]).unwrap(),
            )),
            path,
        };
        let block = |offset: Vec<usize>, shape: Vec<usize>| BlockInfo {
            index: vec![0; 3],
            offset,
            shape,
            array_shape: vec![6, 7, 5],
        };
        let whole = reader
            .pieces(&block(vec![0, 0, 0], vec![6, 7, 5]), 8)
            .unwrap();
        let bytes: Vec<_> = whole.iter().map(|p| p.bytes.clone()).collect();
        assert_eq!(bytes, vec![0..4 * 35 * 8, 4 * 35 * 8..6 * 35 * 8]);
        assert!(
            reader
                .pieces(&block(vec![4, 0, 0], vec![2, 7, 5]), 8)
                .is_some()
        );
        // Blocks that cut a chunk go through zarrs.
        assert!(
            reader
                .pieces(&block(vec![0, 0, 0], vec![3, 7, 5]), 8)
                .is_none()
        );
        assert!(
            reader
                .pieces(&block(vec![0, 0, 0], vec![4, 7, 2]), 8)
                .is_none()
        );
    }
}
