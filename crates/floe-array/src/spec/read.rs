//! Readers as data: a file's blocks described by the reader that reads them (`netcdf`,
//! `npy`, `zarr`: floe-io registers them) and its parameters (the file's path, the
//! variable), so that a process that never opened the file — a dask.distributed worker —
//! reads the same boxes.
//!
//! A process opens each described file once: the reader is kept (at most
//! [`MAX_OPEN_READERS`] of them) and shared by every task that reads the file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use floe_graph::TaskError;
use serde_json::Value as Json;

use crate::block::BlockInfo;
use crate::{DType, DynArray};

/// Reads any box (offset and shape) of a file's array.
pub type ReadFn = Arc<dyn Fn(&BlockInfo) -> Result<DynArray, TaskError> + Send + Sync>;

/// Opens a reader from its parameters, as [`register_reader`] records it.
pub type OpenReader = fn(&Json) -> Result<Reader, TaskError>;

/// An opened reader: the array it reads and the function reading its boxes.
#[derive(Clone)]
pub struct Reader {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The array's dtype.
    pub dtype: DType,
    /// Reads a box of the array.
    pub read: ReadFn,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("shape", &self.shape)
            .field("dtype", &self.dtype)
            .finish_non_exhaustive()
    }
}

/// Readers kept open by a process, at most: past it, the kept ones are dropped and
/// reopened as tasks need them.
pub const MAX_OPEN_READERS: usize = 512;

fn registry() -> &'static RwLock<HashMap<String, OpenReader>> {
    static READERS: OnceLock<RwLock<HashMap<String, OpenReader>>> = OnceLock::new();
    READERS.get_or_init(Default::default)
}

fn opened_readers() -> &'static Mutex<HashMap<String, Arc<Reader>>> {
    static OPENED: OnceLock<Mutex<HashMap<String, Arc<Reader>>>> = OnceLock::new();
    OPENED.get_or_init(Default::default)
}

/// Registers `open` as the reader called `name`: tasks of
/// [`Source::Read`](crate::Source::Read) naming it are read by what `open` returns for
/// their parameters. Registering a name again replaces its reader (for readers opened from
/// then on).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_array::{BlockInfo, DType, DynArray, Reader, Source};
/// use floe_graph::TaskError;
///
/// // A "file" whose element i is i * step.
/// fn open(params: &serde_json::Value) -> Result<Reader, TaskError> {
///     let step = params["step"].as_f64().ok_or_else(|| TaskError::msg("no step"))?;
///     Ok(Reader {
///         shape: vec![10],
///         dtype: DType::F64,
///         read: Arc::new(move |b: &BlockInfo| {
///             let v: Vec<f64> = (b.offset[0]..b.offset[0] + b.shape[0]).map(|i| i as f64 * step).collect();
///             Ok(DynArray::from(ndarray::ArrayD::from_shape_vec(b.shape.clone(), v).unwrap()))
///         }),
///     })
/// }
/// floe_array::register_reader("steps", open);
/// let source = Source::read("steps", serde_json::json!({"step": 0.5}), DType::F64);
/// let info = BlockInfo { index: vec![1], shape: vec![3], offset: vec![4], array_shape: vec![10] };
/// let block = source.make(&info).unwrap().into_typed::<f64>();
/// assert_eq!(block.as_slice().unwrap(), &[2.0, 2.5, 3.0]);
/// ```
pub fn register_reader(name: &str, open: OpenReader) {
    let mut readers = registry().write().unwrap_or_else(|e| e.into_inner());
    readers.insert(name.to_owned(), open);
}

/// The reader `name` opened on `params`: the one this process opened before, else a new
/// one (kept for the next tasks).
pub(crate) fn opened(name: &str, params: &Json) -> Result<Arc<Reader>, TaskError> {
    let key = format!("{name}\u{0}{params}");
    if let Some(r) = lock(opened_readers()).get(&key) {
        return Ok(Arc::clone(r));
    }
    let open = registry()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .copied()
        .ok_or_else(|| {
            TaskError::msg(format!(
                "no reader `{name}` is registered in this process: floe's file readers are \
                 registered by `floe_io::register_readers()` (done when the Python package \
                 `floe` is imported)"
            ))
        })?;
    // Opened outside the lock: two tasks may open the same file at once, and one reader
    // is kept.
    let reader = Arc::new(open(params)?);
    let mut kept = lock(opened_readers());
    if kept.len() >= MAX_OPEN_READERS {
        kept.clear();
    }
    Ok(Arc::clone(kept.entry(key).or_insert(reader)))
}

/// Forgets the readers this process keeps open: files described afterwards are opened
/// again (floe-io's readers check at every read that their file is still the one
/// described, so this only frees them).
pub fn close_readers() {
    lock(opened_readers()).clear();
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
