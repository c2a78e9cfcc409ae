//! Spill files: where a budgeted run puts held values it has no room for.
//!
//! A run owns one [`SpillStore`]. Its directory (`floe-spill-<pid>-<n>` under the configured
//! spill directory, the system temp dir by default) is created on the first spill, so runs
//! that never spill touch no disk, and removed with everything in it when the store is
//! dropped: at the end of the run, on success, error, cancellation or a worker's panic
//! alike. Each spilled value is one file, deleted as soon as the value is read back or no
//! longer needed.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use floe_graph::{SpillCodec, TaskId, Value};
use parking_lot::Mutex;

use crate::{Error, Result};

/// Buffer size of spill reads and writes: large sequential requests.
const IO_BUFFER: usize = 1 << 20;

/// Distinguishes the spill directories of runs in one process.
static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A value on disk.
#[derive(Debug)]
pub(crate) struct Spilled {
    path: PathBuf,
    nbytes: usize,
    codec: &'static SpillCodec,
}

impl Spilled {
    pub(crate) fn nbytes(&self) -> usize {
        self.nbytes
    }
}

/// The spill directory of one run and what went through it.
pub(crate) struct SpillStore {
    parent: PathBuf,
    dir: Mutex<Option<PathBuf>>,
    written: AtomicUsize,
    write_nanos: AtomicU64,
}

impl SpillStore {
    /// A store that will create its directory under `parent` when first needed.
    pub(crate) fn new(parent: PathBuf) -> Self {
        Self {
            parent,
            dir: Mutex::new(None),
            written: AtomicUsize::new(0),
            write_nanos: AtomicU64::new(0),
        }
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> usize {
        self.written.load(Ordering::Relaxed)
    }

    /// Measured nanoseconds per byte written (1 before anything was written: 1 GB/s).
    pub(crate) fn nanos_per_byte(&self) -> f64 {
        let bytes = self.written.load(Ordering::Relaxed);
        if bytes == 0 {
            return 1.0;
        }
        self.write_nanos.load(Ordering::Relaxed) as f64 / bytes as f64
    }

    fn dir(&self) -> Result<PathBuf> {
        let mut dir = self.dir.lock();
        if let Some(d) = &*dir {
            return Ok(d.clone());
        }
        let fail = |path: &PathBuf, source| Error::Spill {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.parent).map_err(|e| fail(&self.parent, e))?;
        // A directory left by a crashed process with the same id takes a name: try the next.
        loop {
            let name = format!(
                "floe-spill-{}-{}",
                std::process::id(),
                NEXT_DIR.fetch_add(1, Ordering::Relaxed)
            );
            let path = self.parent.join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    *dir = Some(path.clone());
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(fail(&path, e)),
            }
        }
    }

    /// Writes `value` (task `task`'s output) with `codec`.
    ///
    /// # Errors
    ///
    /// [`Error::Spill`] naming the file when it cannot be created or written (a full disk,
    /// an unwritable directory); nothing is left behind.
    pub(crate) fn write(
        &self,
        task: TaskId,
        value: &Value,
        codec: &'static SpillCodec,
    ) -> Result<Spilled> {
        let path = self.dir()?.join(format!("t{}.bin", task.index()));
        let start = Instant::now();
        let written = File::create(&path).and_then(|file| {
            let mut w = BufWriter::with_capacity(IO_BUFFER, file);
            (codec.write)(value, &mut w)?;
            w.flush()
        });
        if let Err(source) = written {
            let _ = std::fs::remove_file(&path);
            return Err(Error::Spill { path, source });
        }
        let nbytes = value.nbytes();
        self.written.fetch_add(nbytes, Ordering::Relaxed);
        self.write_nanos
            .fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Ok(Spilled {
            path,
            nbytes,
            codec,
        })
    }

    /// Reads a spilled value back and deletes its file.
    ///
    /// # Errors
    ///
    /// [`Error::Spill`] naming the file when it cannot be read or decoded.
    pub(crate) fn read(&self, spilled: &Spilled) -> Result<Value> {
        let value = File::open(&spilled.path).and_then(|file| {
            let mut r = BufReader::with_capacity(IO_BUFFER, file);
            (spilled.codec.read)(&mut r)
        });
        self.remove(spilled);
        value.map_err(|source| Error::Spill {
            path: spilled.path.clone(),
            source,
        })
    }

    /// Deletes a spilled value's file (it is no longer needed).
    pub(crate) fn remove(&self, spilled: &Spilled) {
        let _ = std::fs::remove_file(&spilled.path);
    }

    /// The directory, if anything was spilled (for tests and messages).
    #[cfg(test)]
    pub(crate) fn created(&self) -> Option<PathBuf> {
        self.dir.lock().clone()
    }
}

impl Drop for SpillStore {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.get_mut().take() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// The default parent of spill directories: the system temp dir.
pub(crate) fn default_spill_dir() -> PathBuf {
    std::env::temp_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    static BYTES: SpillCodec = SpillCodec {
        write: |v, w| w.write_all(v.downcast_ref::<Vec<u8>>().expect("bytes")),
        read: |r| {
            let mut buf = Vec::new();
            r.read_to_end(&mut buf)?;
            let n = buf.len();
            Ok(Value::with_nbytes(buf, n).spillable(&BYTES))
        },
    };

    #[test]
    fn values_round_trip_and_the_directory_goes_with_the_store() {
        let parent = std::env::temp_dir().join(format!("floe-spill-test-{}", std::process::id()));
        let store = SpillStore::new(parent.clone());
        assert!(
            store.created().is_none(),
            "no directory before the first spill"
        );
        let v = Value::with_nbytes(vec![7_u8; 1000], 1000).spillable(&BYTES);
        let s = store.write(TaskId::from_index(3), &v, &BYTES).unwrap();
        let dir = store.created().unwrap();
        assert!(dir.join("t3.bin").is_file());
        assert_eq!(store.written(), 1000);
        let back = store.read(&s).unwrap();
        assert_eq!(back.downcast_ref::<Vec<u8>>(), Some(&vec![7_u8; 1000]));
        assert!(!dir.join("t3.bin").exists(), "read back, the file is gone");
        let kept = store.write(TaskId::from_index(4), &v, &BYTES).unwrap();
        drop(store);
        assert!(!dir.exists(), "dropping the store removes its directory");
        assert!(!kept.path.exists());
        let _ = std::fs::remove_dir_all(&parent);
    }

    #[test]
    fn an_unusable_parent_is_an_error_naming_the_path() {
        // A regular file cannot hold a directory.
        let file = std::env::temp_dir().join(format!("floe-spill-file-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let store = SpillStore::new(file.clone());
        let v = Value::with_nbytes(vec![1_u8], 1).spillable(&BYTES);
        let err = store.write(TaskId::from_index(0), &v, &BYTES).unwrap_err();
        assert!(
            matches!(&err, Error::Spill { path, .. } if path.starts_with(&file)),
            "{err}"
        );
        assert!(err.to_string().contains(&*file.to_string_lossy()), "{err}");
        std::fs::remove_file(&file).unwrap();
    }
}
