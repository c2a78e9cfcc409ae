//! Writers: each partition to its own Parquet or CSV file, written under a temporary name
//! and renamed when complete, so that a failed or interrupted write leaves no file
//! half-written under a final name.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result, invalid};
use crate::source::Partition;

/// The rows of each Parquet row group written.
const ROW_GROUP_ROWS: usize = 1 << 18;

/// A file format the frame can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileFormat {
    /// Snappy-compressed Parquet.
    Parquet,
    /// CSV with a header line.
    Csv,
}

/// Where each partition goes: `dir/part.{i}.parquet` (`part.{i}.csv`), or a pattern whose
/// `*` is replaced by the partition's number.
#[derive(Debug)]
pub(crate) struct Sink {
    format: FileFormat,
    target: Target,
}

#[derive(Debug)]
enum Target {
    Dir(PathBuf),
    Pattern(String),
}

impl Sink {
    /// A sink into `path` (a directory, created when missing, or a pattern with one `*`).
    pub(crate) fn new(path: &str, format: FileFormat) -> Result<Self> {
        let target = match path.matches('*').count() {
            0 => {
                let dir = PathBuf::from(path);
                std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
                    path: dir.clone(),
                    source: e,
                })?;
                Target::Dir(dir)
            }
            1 => {
                let p = Path::new(path);
                if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| Error::Io {
                        path: parent.to_path_buf(),
                        source: e,
                    })?;
                }
                if p.file_name()
                    .is_none_or(|n| !n.to_string_lossy().contains('*'))
                {
                    return Err(invalid(format!(
                        "the '*' of {path} must be in the file name, not a directory"
                    )));
                }
                Target::Pattern(path.to_owned())
            }
            _ => {
                return Err(invalid(format!(
                    "a path to write to has at most one '*' (the partition's number), got {path}"
                )));
            }
        };
        Ok(Self { format, target })
    }

    /// The file partition `i` is written to.
    pub(crate) fn path(&self, i: usize) -> PathBuf {
        match &self.target {
            Target::Dir(d) => d.join(match self.format {
                FileFormat::Parquet => format!("part.{i}.parquet"),
                FileFormat::Csv => format!("part.{i}.csv"),
            }),
            Target::Pattern(p) => PathBuf::from(p.replacen('*', &i.to_string(), 1)),
        }
    }

    /// The schema of what a write returns: one row per file, its path and its rows.
    pub(crate) fn result_schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("path", DataType::Utf8, false),
            Field::new("rows", DataType::Int64, false),
        ]))
    }

    /// Writes partition `i` (`schema` its columns, even when it has no batches) and
    /// returns its row of the result.
    pub(crate) fn write(
        &self,
        i: usize,
        part: &Partition,
        schema: &SchemaRef,
    ) -> Result<Partition> {
        let path = self.path(i);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Hidden and without the format's extension: a reader of the directory never
        // takes it for a part.
        let tmp = path.with_file_name(format!(".{name}.floe-tmp"));
        let written = self.write_file(&tmp, part, schema).and_then(|()| {
            std::fs::rename(&tmp, &path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })
        });
        if let Err(e) = written {
            // Best effort: the temporary file is garbage either way.
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let batch = RecordBatch::try_new(
            Self::result_schema(),
            vec![
                Arc::new(StringArray::from(vec![path.to_string_lossy().into_owned()])),
                Arc::new(Int64Array::from(vec![part.num_rows() as i64])),
            ],
        )?;
        Ok(Partition::new(Self::result_schema(), vec![batch]))
    }

    fn write_file(&self, tmp: &Path, part: &Partition, schema: &SchemaRef) -> Result<()> {
        let io = |e| Error::Io {
            path: tmp.to_path_buf(),
            source: e,
        };
        let file = BufWriter::new(File::create(tmp).map_err(io)?);
        match self.format {
            FileFormat::Parquet => {
                let pq = |e: parquet::errors::ParquetError| Error::Parquet {
                    path: tmp.to_path_buf(),
                    message: e.to_string(),
                };
                // Row groups of 2^18 rows: what the writer buffers stays small, and
                // filters can skip finer ranges by the groups' statistics.
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                    .build();
                let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(pq)?;
                for b in part.batches() {
                    w.write(b).map_err(pq)?;
                }
                let file = w.into_inner().map_err(pq)?;
                file.into_inner()
                    .map_err(|e| io(e.into_error()))?
                    .sync_all()
                    .map_err(io)?;
            }
            FileFormat::Csv => {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(file);
                if part.batches().is_empty() {
                    // The header alone: an empty part is still a table of these columns.
                    w.write(&RecordBatch::new_empty(schema.clone()))?;
                }
                for b in part.batches() {
                    w.write(b)?;
                }
                w.into_inner()
                    .into_inner()
                    .map_err(|e| io(e.into_error()))?
                    .sync_all()
                    .map_err(io)?;
            }
        }
        Ok(())
    }
}
