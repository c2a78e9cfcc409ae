//! The file readers as data (see [`floe_array::Source::Read`]): each array floe-io opens
//! is described by its reader's name and parameters — the file's absolute path, its size
//! and modification time, and what is read of it — so that another process (a
//! dask.distributed worker) reads the same blocks with [`register_readers`]' readers.
//!
//! A worker refuses a file whose size or modification time differ from the ones the graph
//! was made with (a file rewritten since, or another file at the same path on another
//! machine), checked at every read: a task error naming the file. A Zarr store is checked
//! by its metadata document (`zarr.json` or `.zarray`): chunks rewritten in place without
//! it are not detected.

use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::UNIX_EPOCH;

use floe_array::{DType, Source};
use floe_graph::TaskError;
use serde_json::{Value as Json, json};

/// Registers floe-io's readers (`netcdf`, `npy`, `zarr`) in this process, so that tasks
/// describing file reads run here. Opening a file with floe-io registers them too; the
/// Python package registers them when imported. Calling it again does nothing.
///
/// # Examples
///
/// ```
/// floe_io::register_readers();
/// ```
pub fn register_readers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        floe_array::register_reader("netcdf", crate::netcdf::open_reader);
        floe_array::register_reader("npy", crate::npy::open_reader);
        floe_array::register_reader("zarr", crate::zarr::open_reader);
    });
}

/// `path`'s size and modification time (nanoseconds since the epoch), as the description
/// of a read records them; `None` if they cannot be read.
fn stamp(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((meta.len(), u64::try_from(modified.as_nanos()).ok()?))
}

/// The file whose size and time stand for `path`'s: itself, or a Zarr store's metadata
/// document.
fn stamped(path: &Path) -> PathBuf {
    if path.is_dir() {
        for meta in ["zarr.json", ".zarray"] {
            if path.join(meta).is_file() {
                return path.join(meta);
            }
        }
    }
    path.to_path_buf()
}

/// The description of reading `path` with the reader `reader`, with `more` parameters
/// (the variable); `None` where it cannot be described (a path that is not UTF-8, a file
/// whose size or time cannot be read): such arrays run locally only.
pub(crate) fn described(reader: &str, path: &Path, more: Json, dtype: DType) -> Option<Source> {
    register_readers();
    let path = std::path::absolute(path).ok()?;
    let (bytes, modified) = stamp(&stamped(&path))?;
    let mut params = json!({"path": path.to_str()?, "bytes": bytes, "modified": modified});
    if let (Some(p), Json::Object(extra)) = (params.as_object_mut(), more) {
        p.extend(extra);
    }
    Some(Source::read(reader, params, dtype))
}

/// The path of a description's parameters, checked against the file there now.
///
/// # Errors
///
/// A task error for missing parameters, a missing file, or a file whose size or
/// modification time differ from the description's.
pub(crate) fn described_path(params: &Json) -> Result<PathBuf, TaskError> {
    let bad = || TaskError::msg(format!("a file read's parameters are incomplete: {params}"));
    let path = PathBuf::from(params.get("path").and_then(Json::as_str).ok_or_else(bad)?);
    let bytes = params.get("bytes").and_then(Json::as_u64).ok_or_else(bad)?;
    let modified = params
        .get("modified")
        .and_then(Json::as_u64)
        .ok_or_else(bad)?;
    match stamp(&stamped(&path)) {
        Some(s) if s == (bytes, modified) => Ok(path),
        Some((b, m)) => Err(TaskError::msg(format!(
            "{}: the file changed since the graph was made ({b} bytes modified at {m} ns, \
             described as {bytes} bytes modified at {modified} ns); every worker must see \
             the same file at the same path",
            path.display()
        ))),
        None => Err(TaskError::new(match std::fs::metadata(&path) {
            Err(e) => crate::IoError::os(&path, e),
            Ok(_) => crate::IoError::Unsupported {
                path: path.clone(),
                what: "a file without a modification time".into(),
            },
        })),
    }
}

/// `read`, checking before each read that the file is still the one `params` describe:
/// a process keeps its readers open, and a file may be replaced between two graphs.
pub(crate) fn rechecked(params: &Json, read: floe_array::ReadFn) -> floe_array::ReadFn {
    let params = params.clone();
    std::sync::Arc::new(move |b| {
        described_path(&params)?;
        read(b)
    })
}

/// A text parameter of a description.
pub(crate) fn text_param<'p>(params: &'p Json, name: &str) -> Result<&'p str, TaskError> {
    params.get(name).and_then(Json::as_str).ok_or_else(|| {
        TaskError::msg(format!(
            "a file read's parameters have no text `{name}`: {params}"
        ))
    })
}
