//! Chunked NetCDF4 variables (HDF5 chunked layout, with the deflate and shuffle filters or
//! none) read directly, block by block, in bounded memory.
//!
//! # Why not through `netcdf-reader`
//!
//! `netcdf-reader` (through `hdf5-reader`) decodes chunks through a cache owned by the
//! open file: a 64 MiB LRU of decoded chunks, and a copy of every whole variable it decoded
//! (up to 256 MiB). A block's read closure that captures the open file keeps both alive as
//! long as the array's graph exists, so a directory of daily files held every decoded file
//! until the end of the run (issue 11: 1.46 GB for 60 files of 16.6 MB). Here nothing that
//! holds decoded data outlives a block read.
//!
//! # How a block is read
//!
//! [`ChunkedLayout::new`] walks the variable's chunk index once, when the variable is
//! opened, through `hdf5-reader`'s public index walkers (v1 and v2 B-trees, fixed and
//! extensible arrays, implicit and single-chunk indexes), and keeps only where each chunk's
//! bytes lie: 24 bytes a chunk. [`ChunkedLayout::read`] then reads a block: for each stored
//! chunk it overlaps, one positioned read of the compressed bytes, inflate, unshuffle, and
//! into the block's own memory. A chunk that lies whole and contiguous inside the block (a
//! day of a daily file read one block per file) is decoded straight into the block's memory;
//! other chunks go through one chunk-sized scratch buffer and are copied row by row. Blocks
//! are read by the scheduler's workers in parallel, each with its own buffers, freed when the
//! block is made.
//!
//! # When the general reader is used instead
//!
//! [`ChunkedLayout::new`] answers `None` (and `netcdf-reader` reads the variable, without a
//! cache) for: filters other than deflate and shuffle (Fletcher-32, szip, n-bit, …) or
//! deflate applied twice; chunks that were never written (their values are fill values);
//! a stored extent that differs from the NetCDF dimensions; a stored type that is not the
//! plain number floe reads; an index that cannot be walked, chunks outside the file, or
//! chunks larger than [`hdf5_reader::DEFAULT_MAX_CHUNK_BYTES`].
//!
//! A file that is corrupt in ways seen only when a chunk is decoded (a bad deflate stream, a
//! chunk that inflates to the wrong size, a file truncated after it was opened) fails that
//! block's read with an [`IoError::Format`] naming the file and the chunk.
//!
//! Tests: the unit tests below and in `netcdf::tests`; `tests/it/netcdf.rs` (every layout of
//! `layouts.nc`, which Python's netCDF4 wrote, in blocks that cut and straddle chunks;
//! corrupted and truncated files); `tests/it/netcdf_c.rs` (files the C library writes, and
//! `memory_does_not_grow_with_the_number_of_files`: a child process's peak RSS).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use floe_array::BlockInfo;
use hdf5_reader::Hdf5File;
use hdf5_reader::btree_v1::BTreeV1Key;
use hdf5_reader::chunk_index::ChunkEntry;
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::messages::layout::{ChunkIndexing, DataLayout};

use crate::IoError;
use crate::npy::Endian;

const FORMAT: &str = "NetCDF";

/// One step of a chunk's filter pipeline that floe decodes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// zlib (HDF5 filter 1).
    Deflate,
    /// Byte shuffle (HDF5 filter 2): byte `j` of every element, then byte `j + 1`, ….
    Shuffle,
}

/// Where one stored chunk's bytes lie.
#[derive(Debug, Clone, Copy)]
struct StoredChunk {
    /// File offset of its first byte (HDF5 address plus the superblock's base).
    offset: u64,
    /// Its size in the file (after filtering).
    size: u64,
    /// Bit `i` set: filter `i` of the pipeline was not applied to this chunk.
    mask: u32,
}

/// The chunk index of a chunked variable: where each chunk lies and how it is encoded.
#[derive(Debug)]
pub(crate) struct ChunkedLayout {
    /// The variable's name, for errors.
    name: String,
    shape: Vec<usize>,
    chunk: Vec<usize>,
    /// Chunks along each axis.
    grid: Vec<usize>,
    /// Every chunk of the grid, in row-major grid order.
    chunks: Vec<StoredChunk>,
    /// The filters in the order they were applied when writing.
    pipeline: Vec<Filter>,
    itemsize: usize,
    /// The byte order of the stored numbers.
    pub(crate) endian: Endian,
}

/// The element counts and byte size of one chunk, if they fit the limits.
fn chunk_bytes(chunk: &[usize], itemsize: usize) -> Option<usize> {
    let bytes = chunk
        .iter()
        .try_fold(itemsize, |acc, &n| acc.checked_mul(n))?;
    (bytes > 0 && bytes <= hdf5_reader::DEFAULT_MAX_CHUNK_BYTES).then_some(bytes)
}

impl ChunkedLayout {
    /// The layout of dataset `var` in `h5` if it is chunked, fully written, and encoded only
    /// with deflate and shuffle; `None` otherwise (see the module's documentation).
    ///
    /// `shape` is variable `name`'s NetCDF shape, `itemsize` and `endian` its stored numbers.
    pub(crate) fn new(
        h5: &Hdf5File,
        header: &hdf5_reader::object_header::ObjectHeader,
        name: &str,
        shape: &[usize],
        itemsize: usize,
        endian: Endian,
        file_len: u64,
    ) -> Option<Self> {
        let mut layout = None;
        let mut pipeline = Vec::new();
        let mut deflates = 0;
        let mut stored_shape = None;
        let mut max_dims = None;
        for m in &header.messages {
            match m {
                HdfMessage::DataLayout(l) => layout = Some(l.layout.clone()),
                HdfMessage::Dataspace(s) => {
                    stored_shape = Some(s.dims.clone());
                    max_dims = s.max_dims.clone();
                }
                HdfMessage::FilterPipeline(p) => {
                    for f in &p.filters {
                        pipeline.push(match f.id {
                            hdf5_reader::filters::FILTER_DEFLATE => {
                                deflates += 1;
                                Filter::Deflate
                            }
                            hdf5_reader::filters::FILTER_SHUFFLE => Filter::Shuffle,
                            _ => return None,
                        });
                    }
                }
                HdfMessage::ExternalFiles(_) => return None,
                _ => {}
            }
        }
        // Deflate twice would need the size of the inner stream, which HDF5 does not keep.
        if deflates > 1 || pipeline.len() > 32 {
            return None;
        }
        let Some(DataLayout::Chunked {
            address,
            mut dims,
            chunk_indexing,
            ..
        }) = layout
        else {
            return None;
        };
        let stored: Vec<u64> = stored_shape?;
        if stored.len() != shape.len()
            || stored.iter().zip(shape).any(|(&s, &n)| s != n as u64)
            || shape.is_empty()
            || shape.contains(&0)
        {
            return None;
        }
        // Layout messages before version 4 list the element size as a last chunk dimension.
        if dims.len() == shape.len() + 1 {
            dims.pop();
        }
        if dims.len() != shape.len() || dims.contains(&0) {
            return None;
        }
        let chunk: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
        let bytes = chunk_bytes(&chunk, itemsize)?;
        let sb = h5.superblock();
        let undefined = match sb.offset_size {
            8 => u64::MAX,
            n @ 1..=7 => (1_u64 << (8 * u32::from(n))) - 1,
            _ => return None,
        };
        if address == undefined {
            return None; // nothing written: all fill values
        }
        let storage = h5.storage();
        let (os, ls) = (sb.offset_size, sb.length_size);
        let ndim = shape.len();
        let entries: Vec<ChunkEntry> = match &chunk_indexing {
            None => hdf5_reader::btree_v1::collect_btree_v1_leaves_storage(
                storage,
                address,
                os,
                ls,
                Some(ndim as u32),
                &dims,
                None,
            )
            .ok()?
            .into_iter()
            .map(|(key, addr)| match key {
                BTreeV1Key::RawData {
                    chunk_size,
                    filter_mask,
                    offsets,
                } if offsets.len() >= ndim => Some(ChunkEntry {
                    address: addr,
                    size: u64::from(chunk_size),
                    filter_mask,
                    offsets: offsets[..ndim].to_vec(),
                }),
                _ => None,
            })
            .collect::<Option<_>>()?,
            Some(ChunkIndexing::SingleChunk {
                filtered_size,
                filters,
            }) => vec![hdf5_reader::chunk_index::single_chunk_entry(
                address,
                if pipeline.is_empty() {
                    bytes as u64
                } else {
                    *filtered_size
                },
                *filters,
                ndim,
            )],
            Some(ChunkIndexing::BTreeV2) => {
                hdf5_reader::chunk_index::collect_v2_chunk_entries_storage(
                    storage,
                    address,
                    os,
                    ls,
                    ndim as u32,
                    &dims,
                    None,
                )
                .ok()?
            }
            Some(ChunkIndexing::Implicit) => {
                hdf5_reader::chunk_index::collect_implicit_chunk_entries(
                    address,
                    &stored,
                    &dims,
                    itemsize,
                    None,
                    storage.len(),
                )
                .ok()?
            }
            Some(ChunkIndexing::FixedArray { .. }) => {
                hdf5_reader::fixed_array::collect_fixed_array_chunk_entries_storage(
                    storage, address, os, ls, &stored, &dims, None,
                )
                .ok()?
            }
            Some(ChunkIndexing::ExtensibleArray { .. }) => {
                hdf5_reader::extensible_array::collect_extensible_array_chunk_entries_storage(
                    storage,
                    address,
                    os,
                    ls,
                    &stored,
                    max_dims.as_deref(),
                    &dims,
                    None,
                )
                .ok()?
            }
        };
        let grid: Vec<usize> = shape
            .iter()
            .zip(&chunk)
            .map(|(&n, &c)| n.div_ceil(c))
            .collect();
        let count = grid.iter().try_fold(1_usize, |a, &g| a.checked_mul(g))?;
        if entries.len() < count {
            return None; // some chunks were never written
        }
        let unset = StoredChunk {
            offset: u64::MAX,
            size: 0,
            mask: 0,
        };
        let mut chunks = vec![unset; count];
        let base = sb.base_address;
        for e in entries {
            if e.offsets.len() != ndim {
                return None;
            }
            // Chunks wholly past the extent (left by a shrink) are not part of the variable.
            if e.offsets.iter().zip(shape).any(|(&o, &n)| o >= n as u64) {
                continue;
            }
            let mut flat = 0;
            for (k, (&o, &c)) in e.offsets.iter().zip(&chunk).enumerate() {
                if o % c as u64 != 0 {
                    return None;
                }
                flat = flat * grid[k] + (o / c as u64) as usize;
            }
            let size = if pipeline.is_empty() {
                bytes as u64
            } else {
                e.size
            };
            let offset = base.checked_add(e.address)?;
            if size == 0 || offset.checked_add(size)? > file_len || chunks[flat].offset != u64::MAX
            {
                return None;
            }
            // A chunk stored unfiltered must hold exactly the chunk's bytes.
            let active = (0..pipeline.len()).any(|i| e.filter_mask & (1 << i) == 0);
            if !active && size != bytes as u64 {
                return None;
            }
            chunks[flat] = StoredChunk {
                offset,
                size,
                mask: e.filter_mask,
            };
        }
        if chunks.iter().any(|c| c.offset == u64::MAX) {
            return None;
        }
        Some(ChunkedLayout {
            name: name.to_owned(),
            shape: shape.to_vec(),
            chunk,
            grid,
            chunks,
            pipeline,
            itemsize,
            endian,
        })
    }

    /// The chunk shape.
    pub(crate) fn chunk_shape(&self) -> &[usize] {
        &self.chunk
    }

    /// Bytes of one decoded chunk.
    fn chunk_bytes(&self) -> usize {
        self.chunk.iter().product::<usize>() * self.itemsize
    }

    /// Fills `out` (the block `b` of the variable, C order, in the file's byte order) from
    /// the chunks it overlaps.
    ///
    /// # Errors
    ///
    /// [`IoError::Os`] if a read fails (a file truncated since it was opened),
    /// [`IoError::Format`] if a chunk does not decode to its size.
    pub(crate) fn read(
        &self,
        file: &File,
        path: &Path,
        b: &BlockInfo,
        out: &mut [u8],
    ) -> Result<(), IoError> {
        let n = self.shape.len();
        let fits = b.offset.len() == n
            && b.shape.len() == n
            && (0..n).all(|k| b.offset[k] + b.shape[k] <= self.shape[k])
            && out.len() == b.shape.iter().product::<usize>() * self.itemsize;
        if !fits {
            return Err(IoError::Format {
                path: path.to_path_buf(),
                format: FORMAT,
                reason: format!(
                    "internal error: block {:?} at {:?} of shape {:?} ({} bytes) is not in `{}` of shape {:?}",
                    b.index,
                    b.offset,
                    b.shape,
                    out.len(),
                    self.name,
                    self.shape
                ),
            });
        }
        if b.shape.contains(&0) {
            return Ok(());
        }
        // Chunks along each axis that the block overlaps.
        let first: Vec<usize> = (0..n).map(|k| b.offset[k] / self.chunk[k]).collect();
        let last: Vec<usize> = (0..n)
            .map(|k| (b.offset[k] + b.shape[k] - 1) / self.chunk[k])
            .collect();
        let mut bufs = Buffers::default();
        let mut at = first.clone();
        loop {
            self.read_chunk(file, path, &at, b, out, &mut bufs)?;
            // Next chunk, row-major.
            let mut k = n;
            loop {
                if k == 0 {
                    return Ok(());
                }
                k -= 1;
                if at[k] < last[k] {
                    at[k] += 1;
                    at[k + 1..].copy_from_slice(&first[k + 1..]);
                    break;
                }
            }
        }
    }

    /// Decodes chunk `at` (grid coordinates) into its part of block `b`.
    fn read_chunk(
        &self,
        file: &File,
        path: &Path,
        at: &[usize],
        b: &BlockInfo,
        out: &mut [u8],
        bufs: &mut Buffers,
    ) -> Result<(), IoError> {
        let n = self.shape.len();
        let isz = self.itemsize;
        let flat = at
            .iter()
            .zip(&self.grid)
            .fold(0, |acc, (&i, &g)| acc * g + i);
        let stored = self.chunks[flat];
        // The chunk's extent in the variable, and its overlap with the block.
        let origin: Vec<usize> = (0..n).map(|k| at[k] * self.chunk[k]).collect();
        let lo: Vec<usize> = (0..n).map(|k| origin[k].max(b.offset[k])).collect();
        let hi: Vec<usize> = (0..n)
            .map(|k| (origin[k] + self.chunk[k]).min(b.offset[k] + b.shape[k]))
            .collect();
        // The chunk goes straight into the block when all of it lies inside the block and
        // its elements are contiguous there: after its first axis longer than 1, it spans the
        // block's whole extent.
        let whole = (0..n).all(|k| lo[k] == origin[k] && hi[k] == origin[k] + self.chunk[k]);
        let contiguous = match (0..n).find(|&k| self.chunk[k] > 1) {
            Some(j) => (j + 1..n).all(|k| self.chunk[k] == b.shape[k]),
            None => true,
        };
        let bytes = self.chunk_bytes();
        if whole && contiguous {
            let start: usize = (0..n)
                .map(|k| (origin[k] - b.offset[k]) * b.shape[k + 1..].iter().product::<usize>())
                .sum::<usize>()
                * isz;
            return self.decode(file, path, at, stored, &mut out[start..start + bytes], bufs);
        }
        let mut scratch = std::mem::take(&mut bufs.chunk);
        scratch.resize(bytes, 0);
        let done = self.decode(file, path, at, stored, &mut scratch, bufs);
        if done.is_ok() {
            // Copy the overlap row by row (rows along the last axis).
            let run = (hi[n - 1] - lo[n - 1]) * isz;
            let outer: Vec<usize> = (0..n - 1).map(|k| hi[k] - lo[k]).collect();
            let mut idx = vec![0_usize; n - 1];
            for _ in 0..outer.iter().product::<usize>() {
                let (mut src, mut dst) = (0, 0);
                for k in 0..n {
                    let i = lo[k] + idx.get(k).copied().unwrap_or(0);
                    src = src * self.chunk[k] + (i - origin[k]);
                    dst = dst * b.shape[k] + (i - b.offset[k]);
                }
                let (src, dst) = (src * isz, dst * isz);
                out[dst..dst + run].copy_from_slice(&scratch[src..src + run]);
                for k in (0..n - 1).rev() {
                    idx[k] += 1;
                    if idx[k] < outer[k] {
                        break;
                    }
                    idx[k] = 0;
                }
            }
        }
        bufs.chunk = scratch;
        done
    }

    /// Reads stored chunk `at` and undoes its filters into `out` (one chunk's bytes).
    fn decode(
        &self,
        file: &File,
        path: &Path,
        at: &[usize],
        stored: StoredChunk,
        out: &mut [u8],
        bufs: &mut Buffers,
    ) -> Result<(), IoError> {
        let corrupt = |reason: String| IoError::Format {
            path: path.to_path_buf(),
            format: FORMAT,
            reason: format!("chunk {at:?} of `{}`: {reason}", self.name),
        };
        let read = |dst: &mut [u8]| {
            file.read_exact_at(dst, stored.offset).map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    corrupt(format!(
                        "{} bytes at {} lie past the end of the file",
                        dst.len(),
                        stored.offset
                    ))
                } else {
                    IoError::os(path, e)
                }
            })
        };
        // The filters to undo, last applied first.
        let steps: Vec<Filter> = self
            .pipeline
            .iter()
            .enumerate()
            .rev()
            .filter(|&(i, _)| stored.mask & (1 << i) == 0)
            .map(|(_, &f)| f)
            .collect();
        if steps.is_empty() {
            return read(out);
        }
        let size = usize::try_from(stored.size).map_err(|_| corrupt("too large".into()))?;
        let mut input = std::mem::take(&mut bufs.stored);
        if input.capacity() < size {
            input = Vec::new(); // a fresh buffer: growing would copy the old bytes
        }
        input.resize(size, 0);
        let mut result = read(&mut input);
        let mut spare = std::mem::take(&mut bufs.spare);
        for (i, &f) in steps.iter().enumerate() {
            if result.is_err() {
                break;
            }
            let last = i + 1 == steps.len();
            result = match (f, last) {
                (Filter::Deflate, true) => {
                    inflate(&input, out, &mut bufs.inflater).map_err(corrupt)
                }
                // Inflated into spare capacity: no zeroing of bytes about to be written.
                (Filter::Deflate, false) => {
                    if spare.capacity() < out.len() {
                        spare = Vec::with_capacity(out.len());
                    }
                    spare.clear();
                    inflate_vec(&input, &mut spare, out.len(), &mut bufs.inflater).map_err(corrupt)
                }
                (Filter::Shuffle, _) if input.len() != out.len() => Err(corrupt(format!(
                    "{} bytes to unshuffle, expected {}",
                    input.len(),
                    out.len()
                ))),
                (Filter::Shuffle, true) => {
                    unshuffle(&input, out, self.itemsize);
                    Ok(())
                }
                (Filter::Shuffle, false) => {
                    spare.resize(out.len(), 0);
                    unshuffle(&input, &mut spare, self.itemsize);
                    Ok(())
                }
            };
            if !last {
                std::mem::swap(&mut input, &mut spare);
            }
        }
        bufs.stored = input;
        bufs.spare = spare;
        result
    }
}

/// The buffers one block read reuses across its chunks; freed when the block is made.
#[derive(Default)]
struct Buffers {
    /// A chunk's stored (compressed) bytes.
    stored: Vec<u8>,
    /// An intermediate decoding step.
    spare: Vec<u8>,
    /// A decoded chunk that is copied into the block in parts.
    chunk: Vec<u8>,
    inflater: Option<flate2::Decompress>,
}

/// Inflates the zlib stream `input` into exactly `out`.
fn inflate(
    input: &[u8],
    out: &mut [u8],
    inflater: &mut Option<flate2::Decompress>,
) -> Result<(), String> {
    let z = inflater.get_or_insert_with(|| flate2::Decompress::new(true));
    z.reset(true);
    let status = z
        .decompress(input, out, flate2::FlushDecompress::Finish)
        .map_err(|e| format!("bad deflate stream: {e}"))?;
    inflated(status, z.total_out(), out.len())
}

/// Inflates the zlib stream `input` into `out`'s spare capacity, which must be `len` bytes,
/// and must come out as exactly `len` bytes.
fn inflate_vec(
    input: &[u8],
    out: &mut Vec<u8>,
    len: usize,
    inflater: &mut Option<flate2::Decompress>,
) -> Result<(), String> {
    let z = inflater.get_or_insert_with(|| flate2::Decompress::new(true));
    z.reset(true);
    let status = z
        .decompress_vec(input, out, flate2::FlushDecompress::Finish)
        .map_err(|e| format!("bad deflate stream: {e}"))?;
    inflated(status, z.total_out(), len)
}

/// Whether an inflate that ended with `status` after `got` bytes produced exactly `len`.
fn inflated(status: flate2::Status, got: u64, len: usize) -> Result<(), String> {
    let got = usize::try_from(got).unwrap_or(usize::MAX);
    match status {
        flate2::Status::StreamEnd if got == len => Ok(()),
        flate2::Status::StreamEnd => Err(format!("inflates to {got} bytes, expected {len}")),
        _ if got == len => Err(format!("inflates to more than {got} bytes")),
        _ => Err(format!(
            "the deflate stream ends early, after {got} of {len} bytes"
        )),
    }
}

/// Undoes HDF5's shuffle: `input` holds byte 0 of every element, then byte 1, …; trailing
/// bytes that do not make a whole element are stored as they are.
fn unshuffle(input: &[u8], out: &mut [u8], itemsize: usize) {
    let n = input.len() / itemsize.max(1);
    if itemsize <= 1 || n <= 1 {
        out.copy_from_slice(input);
        return;
    }
    let body = n * itemsize;
    match itemsize {
        4 => {
            let (p0, rest) = input.split_at(n);
            let (p1, rest) = rest.split_at(n);
            let (p2, p3) = rest.split_at(n);
            for (i, e) in out[..body].chunks_exact_mut(4).enumerate() {
                e.copy_from_slice(&[p0[i], p1[i], p2[i], p3[i]]);
            }
        }
        8 => {
            let p: Vec<&[u8]> = input[..body].chunks_exact(n).collect();
            for (i, e) in out[..body].chunks_exact_mut(8).enumerate() {
                e.copy_from_slice(&[
                    p[0][i], p[1][i], p[2][i], p[3][i], p[4][i], p[5][i], p[6][i], p[7][i],
                ]);
            }
        }
        _ => {
            for (j, plane) in input[..body].chunks_exact(n).enumerate() {
                for (i, &v) in plane.iter().enumerate() {
                    out[i * itemsize + j] = v;
                }
            }
        }
    }
    out[body..].copy_from_slice(&input[body..]);
}

/// Blocks to read a variable in so that each stored chunk is decoded once: the `wanted`
/// block boundaries along each axis, moved up to the next chunk boundary. Each read block
/// then covers whole wanted blocks and whole chunks, and is cut into the wanted blocks after.
pub(crate) fn chunk_aligned(
    wanted: &[Vec<usize>],
    chunk: &[usize],
    shape: &[usize],
) -> Vec<Vec<usize>> {
    wanted
        .iter()
        .zip(chunk)
        .zip(shape)
        .map(|((sizes, &c), &n)| {
            let mut out = Vec::new();
            let (mut end, mut start) = (0, 0);
            for &s in sizes {
                end += s;
                let aligned = end.div_ceil(c).saturating_mul(c).min(n);
                if aligned > start {
                    out.push(aligned - start);
                    start = aligned;
                }
            }
            if out.is_empty() {
                out.push(n);
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{chunk_aligned, unshuffle};

    #[test]
    fn unshuffle_interleaves_byte_planes_and_keeps_a_tail() {
        for itemsize in [2, 4, 8, 3] {
            let n = 5;
            // Five elements and a tail too short for a sixth.
            let values: Vec<u8> = (0..(n * itemsize + itemsize - 1) as u8).collect();
            // Shuffle as HDF5 does, then undo.
            let mut shuffled = values.clone();
            for i in 0..n {
                for j in 0..itemsize {
                    shuffled[j * n + i] = values[i * itemsize + j];
                }
            }
            let mut out = vec![0; values.len()];
            unshuffle(&shuffled, &mut out, itemsize);
            assert_eq!(out, values, "itemsize {itemsize}");
        }
    }

    #[test]
    fn read_blocks_cover_whole_chunks_and_whole_wanted_blocks() {
        // One block per daily file, chunks of one time step: unchanged.
        let w = vec![vec![4], vec![721], vec![1440]];
        assert_eq!(chunk_aligned(&w, &[1, 721, 1440], &[4, 721, 1440]), w);
        // (4, 200, 200) blocks over chunks of a whole time step: one read block per step run.
        let w = vec![
            vec![4],
            vec![200, 200, 200, 121],
            vec![200; 7].into_iter().chain([40]).collect(),
        ];
        assert_eq!(
            chunk_aligned(&w, &[1, 721, 1440], &[4, 721, 1440]),
            vec![vec![4], vec![721], vec![1440]]
        );
        // Blocks of 3 over chunks of 2: boundaries 3, 6, 9, 10 move to 4, 6, 10.
        assert_eq!(
            chunk_aligned(&[vec![3, 3, 3, 1]], &[2], &[10]),
            vec![vec![4, 2, 4]]
        );
    }
}
