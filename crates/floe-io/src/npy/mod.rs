//! NumPy's `.npy` files: read lazily block by block, written block by block in parallel.
//!
//! A block of a C-order array is a set of contiguous *runs* in the file: the block's extent
//! along the first axis that it does not cover fully, times everything after it. Reads and
//! writes use positioned I/O (`pread`/`pwrite`), so workers share one open file without
//! seeking, and only the blocks an output needs are read. Fortran-order files are read as
//! the C-order transpose and transposed back (lazily, without a copy of the file).

pub(crate) mod header;

use std::borrow::Cow;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use floe_array::{
    Array, ArrayElement, BlockInfo, ChunkSpec, Chunks, Complex, DType, DynArray, with_dtype,
};
use floe_graph::TaskError;
use ndarray::{ArrayD, IxDyn};

use crate::{IoError, Result};
pub(crate) use header::Endian;

const FORMAT: &str = ".npy";

/// Element types as bytes in a file.
pub(crate) trait Bytes: ArrayElement {
    const SIZE: usize;
    fn decode(b: &[u8], endian: Endian) -> Self;
    fn encode(self, out: &mut Vec<u8>);

    /// `values` as the file's little-endian bytes without a copy, where their memory is that.
    fn as_file_bytes(_values: &[Self]) -> Option<&[u8]> {
        None
    }

    /// `len` elements whose raw bytes in `endian` order `fill` writes: into a byte buffer,
    /// then decoded (numeric types override this to read straight into their own memory).
    fn read_with(
        len: usize,
        endian: Endian,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<Vec<Self>> {
        let mut bytes = vec![0_u8; len * Self::SIZE];
        fill(&mut bytes)?;
        Ok(bytes
            .chunks_exact(Self::SIZE)
            .map(|c| Self::decode(c, endian))
            .collect())
    }

    /// `len` elements whose raw bytes in `endian` order are the byte ranges `runs` (file
    /// offset, length) of `file`, one after the other (numeric types override this to read
    /// straight into their own, uninitialised, memory).
    fn read_runs(
        file: &File,
        runs: &[(u64, usize)],
        len: usize,
        endian: Endian,
    ) -> std::io::Result<Vec<Self>> {
        Self::read_with(len, endian, |bytes| {
            let mut at = 0;
            for &(offset, n) in runs {
                file.read_exact_at(&mut bytes[at..at + n], offset)?;
                at += n;
            }
            Ok(())
        })
    }
}

/// Reads the byte ranges `runs` (file offset, length) of `file` one after the other into
/// `out`, which they must fill exactly; `out` may be uninitialised and is all written when
/// this returns `Ok`.
fn read_runs_into(
    file: &File,
    runs: &[(u64, usize)],
    out: &mut [std::mem::MaybeUninit<u8>],
) -> std::io::Result<()> {
    if runs.iter().map(|r| r.1).sum::<usize>() != out.len() {
        return Err(std::io::Error::other(
            "internal error: the runs do not cover the block",
        ));
    }
    let mut at = 0;
    for &(offset, n) in runs {
        let mut done = 0;
        while done < n {
            match rustix::io::pread(file, &mut out[at + done..at + n], offset + done as u64) {
                Ok(([], _)) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok((read, _)) => done += read.len(),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        at += n;
    }
    Ok(())
}

const NATIVE: Endian = if cfg!(target_endian = "little") {
    Endian::Little
} else {
    Endian::Big
};

macro_rules! bytes_numeric {
    ($($t:ty),+) => {
        $(
            impl Bytes for $t {
                const SIZE: usize = std::mem::size_of::<$t>();
                fn decode(b: &[u8], endian: Endian) -> Self {
                    let a: [u8; std::mem::size_of::<$t>()] = b.try_into().expect("chunks_exact yields SIZE bytes");
                    match endian {
                        Endian::Little => <$t>::from_le_bytes(a),
                        Endian::Big => <$t>::from_be_bytes(a),
                    }
                }
                fn encode(self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }
                fn as_file_bytes(values: &[Self]) -> Option<&[u8]> {
                    (NATIVE == Endian::Little).then(|| bytemuck::cast_slice(values))
                }
                fn read_with(
                    len: usize,
                    endian: Endian,
                    fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
                ) -> std::io::Result<Vec<Self>> {
                    // The file's bytes land in the values' own memory: one copy, from the
                    // page cache; swapped in place when the file's byte order differs.
                    let mut values = vec![<$t>::default(); len];
                    fill(bytemuck::cast_slice_mut(&mut values))?;
                    if endian != NATIVE {
                        for v in &mut values {
                            *v = Self::decode(&v.to_ne_bytes(), endian);
                        }
                    }
                    Ok(values)
                }
                fn read_runs(
                    file: &File,
                    runs: &[(u64, usize)],
                    len: usize,
                    endian: Endian,
                ) -> std::io::Result<Vec<Self>> {
                    // Read straight into the values' memory, never zeroed first (a band read
                    // into cache costs a memset as large as the read otherwise).
                    let mut values: Vec<$t> = Vec::with_capacity(len);
                    let spare = &mut values.spare_capacity_mut()[..len];
                    // SAFETY: the same memory seen as `len * SIZE` possibly uninitialised
                    // bytes (`u8` has no alignment or validity requirement).
                    #[allow(unsafe_code)]
                    let bytes = unsafe {
                        std::slice::from_raw_parts_mut(
                            spare.as_mut_ptr().cast::<std::mem::MaybeUninit<u8>>(),
                            len * Self::SIZE,
                        )
                    };
                    read_runs_into(file, runs, bytes)?;
                    // SAFETY: `read_runs_into` returned `Ok`, so it wrote every one of the
                    // `len * SIZE` bytes, and any bytes are a valid value of a plain numeric
                    // type. Exercised by every `.npy` and NetCDF read test.
                    #[allow(unsafe_code)]
                    unsafe {
                        values.set_len(len);
                    }
                    if endian != NATIVE {
                        for v in &mut values {
                            *v = Self::decode(&v.to_ne_bytes(), endian);
                        }
                    }
                    Ok(values)
                }
            }
        )+
    };
}

bytes_numeric!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

macro_rules! bytes_complex {
    ($($t:ty),+) => {
        $(
            /// Two parts, real first, each in the file's byte order (NumPy's `c8`/`c16`).
            impl Bytes for Complex<$t> {
                const SIZE: usize = 2 * std::mem::size_of::<$t>();
                fn decode(b: &[u8], endian: Endian) -> Self {
                    let (re, im) = b.split_at(Self::SIZE / 2);
                    Complex::new(<$t as Bytes>::decode(re, endian), <$t as Bytes>::decode(im, endian))
                }
                fn encode(self, out: &mut Vec<u8>) {
                    self.re.encode(out);
                    self.im.encode(out);
                }
            }
        )+
    };
}

bytes_complex!(f32, f64);

impl Bytes for bool {
    const SIZE: usize = 1;
    fn decode(b: &[u8], _: Endian) -> Self {
        b[0] != 0
    }
    fn encode(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

/// The contiguous runs of a block of `shape` at `offset` in a C-order array of
/// `array_shape`: (first element's flat index, run length in elements), in block order.
fn runs(array_shape: &[usize], offset: &[usize], shape: &[usize]) -> Vec<(usize, usize)> {
    let n = array_shape.len();
    if shape.contains(&0) {
        return Vec::new();
    }
    let strides: Vec<usize> = (0..n)
        .map(|a| array_shape[a + 1..].iter().product())
        .collect();
    // Scanning from the last axis, the block's runs cover every axis it spans fully, plus
    // the first one it does not.
    let mut k = n.saturating_sub(1);
    while k > 0 && shape[k] == array_shape[k] {
        k -= 1;
    }
    let run: usize = if n == 0 { 1 } else { shape[k] * strides[k] };
    let outer: Vec<usize> = shape[..k].to_vec();
    let count: usize = outer.iter().product();
    let mut out = Vec::with_capacity(count);
    let mut idx = vec![0_usize; k];
    for _ in 0..count {
        let start: usize = (0..k)
            .map(|a| (offset[a] + idx[a]) * strides[a])
            .sum::<usize>()
            + if n == 0 { 0 } else { offset[k] * strides[k] };
        out.push((start, run));
        for a in (0..k).rev() {
            idx[a] += 1;
            if idx[a] < outer[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    out
}

/// Reads block `b` of a C-order array of `file_shape` whose data starts at `data_offset`
/// in `file`, with positioned reads of its contiguous runs.
pub(crate) fn read_c_block<T: Bytes>(
    file: &File,
    path: &Path,
    data_offset: u64,
    endian: Endian,
    file_shape: &[usize],
    b: &BlockInfo,
) -> std::result::Result<DynArray, TaskError> {
    let len: usize = b.shape.iter().product();
    let byte_runs: Vec<(u64, usize)> = runs(file_shape, &b.offset, &b.shape)
        .into_iter()
        .map(|(start, run)| (data_offset + (start * T::SIZE) as u64, run * T::SIZE))
        .collect();
    let values = T::read_runs(file, &byte_runs, len, endian).map_err(|e| {
        TaskError::msg(format!(
            "{}: reading block {:?}: {e} (is the file truncated?)",
            path.display(),
            b.index
        ))
    })?;
    let a = ArrayD::from_shape_vec(IxDyn(&b.shape), values)
        .map_err(|e| TaskError::msg(format!("internal error: {e}")))?;
    Ok(T::wrap(a))
}

/// A lazy array over a `.npy` file, in blocks of `chunks`: each block is read when a
/// computation needs it, by the worker that needs it.
///
/// # Errors
///
/// [`IoError::Os`] if the file cannot be opened; [`IoError::Format`] if it is not a
/// `.npy` file or is shorter than its header says; [`IoError::Unsupported`] for dtypes
/// floe does not have; bad chunks as `floe_array`'s errors. A file that changes after it
/// was opened fails the block reads that find it short, naming the file.
///
/// # Examples
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("floe-npy-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("x.npy");
/// let x = floe_array::arange(0.0, 12.0, 1.0, 5, floe_array::DType::F64)?;
/// let store = floe_io::to_npy(&x, &path)?; // writes the header now, the data when computed
/// let (g, out) = store.graph()?;
/// # floe_scheduler::Scheduler::default().run(&g, &[out]).unwrap();
/// let y = floe_io::from_npy(&path, 4)?;
/// assert_eq!(y.shape(), &[12]);
/// assert_eq!(y.numblocks(), vec![3]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), floe_io::IoError>(())
/// ```
pub fn from_npy(path: impl AsRef<Path>, chunks: impl Into<ChunkSpec>) -> Result<Array> {
    let path: PathBuf = path.as_ref().to_path_buf();
    let npy = Arc::new(NpyFile::open(&path)?);
    let logical = Chunks::from_spec(&npy.shape, chunks, npy.dtype)?;
    let file_shape = npy.stored.clone();
    let file_chunks = if npy.fortran {
        logical.axes().iter().rev().cloned().collect::<Vec<_>>()
    } else {
        logical.axes().to_vec()
    };
    let (dtype, fortran) = (npy.dtype, npy.fortran);
    let described = crate::readers::described("npy", &path, serde_json::json!({}), dtype);
    let read = move |b: &floe_array::BlockInfo| npy.read(b);
    // Any box is read with one positioned read per contiguous run: a reduction reads its
    // blocks a band at a time, straight into cache. Not a Fortran-order file's: its
    // transpose's bands would be read a few bytes at a time.
    let array = match described {
        Some(spec) => floe_array::try_from_reader(&file_shape, file_chunks, spec, !fortran, read)?,
        None if fortran => floe_array::try_from_fn(&file_shape, file_chunks, dtype, read)?,
        None => floe_array::try_from_box_fn(&file_shape, file_chunks, dtype, read)?,
    };
    let array = array.named("read-npy");
    // A Fortran-order file holds the transpose in C order.
    Ok(if fortran { array.t() } else { array })
}

/// An opened `.npy` file: its header, checked against its size.
struct NpyFile {
    file: File,
    path: PathBuf,
    /// The array's shape (the transpose of the stored one in a Fortran-order file).
    shape: Vec<usize>,
    /// The shape of the array as stored, in C order.
    stored: Vec<usize>,
    dtype: DType,
    fortran: bool,
    data_offset: u64,
    endian: Endian,
}

impl NpyFile {
    /// `path` opened and its header read.
    ///
    /// # Errors
    ///
    /// As [`from_npy`].
    fn open(path: &Path) -> Result<NpyFile> {
        let file = File::open(path).map_err(|e| IoError::os(path, e))?;
        let size = file.metadata().map_err(|e| IoError::os(path, e))?.len();
        let mut head = vec![0_u8; size.min(1 << 16) as usize];
        file.read_exact_at(&mut head, 0)
            .map_err(|e| IoError::os(path, e))?;
        let h = header::parse(&head).map_err(|reason| {
            let unsupported = reason.contains("not supported");
            if unsupported {
                IoError::Unsupported {
                    path: path.to_path_buf(),
                    what: reason,
                }
            } else {
                IoError::Format {
                    path: path.to_path_buf(),
                    format: FORMAT,
                    reason,
                }
            }
        })?;
        let needed = h
            .shape
            .iter()
            .try_fold(h.dtype.itemsize() as u64, |acc, &s| {
                acc.checked_mul(s as u64)
            })
            .and_then(|bytes| bytes.checked_add(h.data_offset))
            .ok_or_else(|| IoError::Format {
                path: path.to_path_buf(),
                format: FORMAT,
                reason: format!("its shape {:?} is too large", h.shape),
            })?;
        if size < needed {
            return Err(IoError::Format {
                path: path.to_path_buf(),
                format: FORMAT,
                reason: format!("it is truncated: {size} bytes, but its header describes {needed}"),
            });
        }
        let stored = if h.fortran_order {
            h.shape.iter().rev().copied().collect()
        } else {
            h.shape.clone()
        };
        Ok(NpyFile {
            file,
            path: path.to_path_buf(),
            shape: h.shape,
            stored,
            dtype: h.dtype,
            fortran: h.fortran_order,
            data_offset: h.data_offset,
            endian: h.endian,
        })
    }

    /// Box `b` of the stored array.
    fn read(&self, b: &floe_array::BlockInfo) -> std::result::Result<DynArray, TaskError> {
        with_dtype!(self.dtype, T => read_c_block::<T>(&self.file, &self.path, self.data_offset, self.endian, &self.stored, b))
    }
}

/// The `npy` reader for a worker (see [`crate::register_readers`]): the array as stored
/// in the file the parameters describe (C order; a Fortran-order file's transpose).
pub(crate) fn open_reader(
    params: &serde_json::Value,
) -> std::result::Result<floe_array::Reader, TaskError> {
    let path = crate::readers::described_path(params)?;
    let npy = Arc::new(NpyFile::open(&path).map_err(TaskError::new)?);
    Ok(floe_array::Reader {
        shape: npy.stored.clone(),
        dtype: npy.dtype,
        read: crate::readers::rechecked(params, Arc::new(move |b| npy.read(b))),
    })
}

/// Prepares `path` as a `.npy` file for `array` (header written, size set) and returns a
/// lazy array whose computation writes every block of `array` into it, in parallel, with
/// positioned writes. Computing it yields `true` when all blocks are written.
///
/// Blocks already written stay written if a later block fails; the error names the block.
///
/// # Errors
///
/// [`IoError::Os`] if the file cannot be created or sized.
pub fn to_npy(array: &Array, path: impl AsRef<Path>) -> Result<Array> {
    array.require_known("to_npy")?;
    let path = path.as_ref().to_path_buf();
    let head = header::write(array.dtype(), array.shape());
    let file = File::create(&path).map_err(|e| IoError::os(&path, e))?;
    file.write_all_at(&head, 0)
        .map_err(|e| IoError::os(&path, e))?;
    file.set_len(head.len() as u64 + array.nbytes() as u64)
        .map_err(|e| IoError::os(&path, e))?;
    let file = Arc::new(file);
    let offset = head.len() as u64;
    let shape = array.shape().to_vec();
    let dtype = array.dtype();
    crate::sink::sink(
        array,
        move |block, info| -> std::result::Result<(), String> {
            let bytes = with_dtype!(dtype, T => file_bytes::<T>(block)?);
            let itemsize = dtype.itemsize();
            let mut at = 0;
            for (start, run) in runs(&shape, &info.offset, &info.shape) {
                let n = run * itemsize;
                file.write_all_at(&bytes[at..at + n], offset + (start * itemsize) as u64)
                    .map_err(|e| {
                        format!("{}: writing block {:?}: {e}", path.display(), info.index)
                    })?;
                at += n;
            }
            Ok(())
        },
    )
}

/// The bytes of `block` as the file stores them (little-endian, C order): the block's own
/// memory when it already is that, so writing a block costs no copy of it; an encoded copy
/// otherwise (a non-contiguous view, booleans, a big-endian machine).
fn file_bytes<T: Bytes>(block: &DynArray) -> std::result::Result<Cow<'_, [u8]>, String> {
    let view = T::view(block).ok_or("internal error: a block of the wrong dtype")?;
    if let Some(bytes) = view.to_slice().and_then(T::as_file_bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(view.len() * T::SIZE);
    // Logical (row-major) order, whatever the block's memory layout.
    for &v in view.iter() {
        v.encode(&mut out);
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_blocks_are_written_from_their_own_memory() {
        let a = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 4 + i[1]) as f64);
        let block = DynArray::from(a.clone());
        let bytes = file_bytes::<f64>(&block).unwrap();
        assert!(matches!(bytes, Cow::Borrowed(_)) == cfg!(target_endian = "little"));
        assert_eq!(bytes.len(), 12 * 8);
        assert_eq!(f64::decode(&bytes[8..16], Endian::Little), 1.0);
        // A transposed block is laid out in C order, in a copy.
        let t = DynArray::from(a.reversed_axes());
        let bytes = file_bytes::<f64>(&t).unwrap();
        assert!(matches!(bytes, Cow::Owned(_)));
        assert_eq!(f64::decode(&bytes[8..16], Endian::Little), 4.0);
        // Booleans are encoded as one byte each.
        let b = DynArray::from(ArrayD::from_elem(IxDyn(&[2]), true));
        assert_eq!(&*file_bytes::<bool>(&b).unwrap(), &[1, 1]);
    }

    #[test]
    fn runs_merge_fully_covered_trailing_axes() {
        // A (2, 4) block of rows 2..4 of a (6, 4) array: one run of 8.
        assert_eq!(runs(&[6, 4], &[2, 0], &[2, 4]), vec![(8, 8)]);
        // A (2, 2) block at (2, 1): two runs of 2.
        assert_eq!(runs(&[6, 4], &[2, 1], &[2, 2]), vec![(9, 2), (13, 2)]);
        // 0-d and 1-d.
        assert_eq!(runs(&[], &[], &[]), vec![(0, 1)]);
        assert_eq!(runs(&[10], &[4], &[3]), vec![(4, 3)]);
        // 3-d block spanning the last axis: runs per (axis 0, axis 1 span).
        assert_eq!(
            runs(&[3, 4, 5], &[1, 2, 0], &[2, 2, 5]),
            vec![(30, 10), (50, 10)]
        );
    }
}
