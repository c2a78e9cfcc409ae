//! Where partitions come from: byte ranges of CSV files, Parquet files, batches in memory.
//! Each source reads only the columns the frame's graph needs.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::csv::reader::Format;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::error::{Error, Result, invalid};
use crate::expr::{Expr, not_found};

/// Rows of one partition, as Arrow record batches of one schema (read in batches, never
/// concatenated unless asked).
#[derive(Clone, Debug)]
pub struct Partition {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Partition {
    /// A partition of no rows and no columns (what a task without a neighbour reads).
    pub fn empty() -> Self {
        Self::new(Arc::new(Schema::empty()), Vec::new())
    }

    /// A partition of `batches`, all of `schema`.
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self { schema, batches }
    }

    /// The schema of every batch.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The batches.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// The number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The bytes the batches hold (of a slice of a larger batch, the slice's share).
    pub fn nbytes(&self) -> usize {
        self.batches
            .iter()
            .flat_map(|b| b.columns())
            .map(|c| {
                let d = c.to_data();
                d.get_slice_memory_size()
                    .unwrap_or_else(|_| c.get_array_memory_size())
            })
            .sum()
    }

    /// The rows as one record batch.
    ///
    /// # Errors
    ///
    /// Arrow's, if the batches do not fit together (they always do: one schema).
    pub fn concat(&self) -> Result<RecordBatch> {
        Ok(arrow::compute::concat_batches(&self.schema, &self.batches)?)
    }

    /// `self` split into `n` partitions: `piece(batch)` gives the piece of each row of a
    /// batch (below `n`); rows keep their order within a piece.
    pub(crate) fn scatter(
        &self,
        n: usize,
        mut piece: impl FnMut(&RecordBatch) -> Result<Vec<usize>>,
    ) -> Result<Vec<Partition>> {
        let mut pieces: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
        for batch in self.batches() {
            let mut idx: Vec<Vec<u32>> = vec![Vec::new(); n];
            for (i, k) in piece(batch)?.into_iter().enumerate() {
                idx[k].push(i as u32);
            }
            for (k, ix) in idx.into_iter().enumerate() {
                if !ix.is_empty() {
                    pieces[k].push(take_rows(batch, &arrow::array::UInt32Array::from(ix))?);
                }
            }
        }
        Ok(pieces
            .into_iter()
            .map(|b| Partition::new(self.schema.clone(), b))
            .collect())
    }

    /// The rows of `parts` as one batch (`None` when there are no partitions).
    pub(crate) fn concat_all(parts: &[&Partition]) -> Result<Option<RecordBatch>> {
        let Some(schema) = parts.first().map(|p| p.schema().clone()) else {
            return Ok(None);
        };
        let batches: Vec<RecordBatch> = parts
            .iter()
            .flat_map(|p| p.batches().iter().cloned())
            .collect();
        Ok(Some(arrow::compute::concat_batches(&schema, &batches)?))
    }

    /// The partition with only `columns`, in that order.
    pub(crate) fn project(&self, columns: &[String]) -> Result<Partition> {
        let idx = indices(&self.schema, columns)?;
        if idx.iter().copied().eq(0..self.schema.fields().len()) {
            return Ok(self.clone());
        }
        let schema = Arc::new(self.schema.project(&idx)?);
        let batches = self
            .batches
            .iter()
            .map(|b| b.project(&idx))
            .collect::<std::result::Result<_, _>>()?;
        Ok(Partition { schema, batches })
    }
}

/// The rows `ix` of `batch`, in that order.
pub(crate) fn take_rows(
    batch: &RecordBatch,
    ix: &arrow::array::UInt32Array,
) -> Result<RecordBatch> {
    let cols = batch
        .columns()
        .iter()
        .map(|c| Ok(arrow::compute::take(c.as_ref(), ix, None)?))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new_with_options(
        batch.schema(),
        cols,
        &arrow::array::RecordBatchOptions::new().with_row_count(Some(ix.len())),
    )?)
}

/// The last `n` rows of `batches` (all of them if fewer), as slices, in order.
pub(crate) fn last_rows(batches: &[&RecordBatch], n: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut left = n;
    for batch in batches.iter().rev() {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        out.push(batch.slice(batch.num_rows() - take, take));
        left -= take;
    }
    out.reverse();
    out
}

/// The first `n` rows of `batches` (all of them if fewer), as slices, in order.
pub(crate) fn first_rows(batches: &[&RecordBatch], n: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut left = n;
    for batch in batches {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        out.push(batch.slice(0, take));
        left -= take;
    }
    out
}

/// The positions of `columns` in `schema`.
pub(crate) fn indices(schema: &Schema, columns: &[String]) -> Result<Vec<usize>> {
    columns
        .iter()
        .map(|c| schema.index_of(c).map_err(|_| not_found(c, schema)))
        .collect()
}

/// The files a path names: the file itself, the `*.parquet`/`*.csv`… files of a directory
/// (sorted), or the files matching a pattern with `*` and `?` in its last component.
pub(crate) fn expand(path: &str, extension: &str) -> Result<Vec<PathBuf>> {
    let p = Path::new(path);
    let io = |e| Error::Io {
        path: p.to_path_buf(),
        source: e,
    };
    let mut files = Vec::new();
    if p.is_dir() {
        for entry in std::fs::read_dir(p).map_err(io)? {
            let f = entry.map_err(io)?.path();
            if f.is_file() && f.extension().is_some_and(|e| e == extension) {
                files.push(f);
            }
        }
    } else if path.contains(['*', '?']) {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        let pattern = p
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::NoFiles(path.to_owned()))?;
        for entry in std::fs::read_dir(dir).map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })? {
            let f = entry
                .map_err(|e| Error::Io {
                    path: dir.to_path_buf(),
                    source: e,
                })?
                .path();
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if f.is_file() && glob_match(pattern.as_bytes(), name.as_bytes()) {
                files.push(f);
            }
        }
    } else {
        if !p.exists() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file",
            )));
        }
        files.push(p.to_path_buf());
    }
    // part.2 before part.10, as the files of a write are numbered.
    files.sort_by_cached_key(|f| (natural_key(f), f.clone()));
    if files.is_empty() {
        return Err(Error::NoFiles(path.to_owned()));
    }
    Ok(files)
}

/// `path` as runs of digits (compared as numbers) and of other characters.
fn natural_key(path: &Path) -> Vec<(String, u128)> {
    let s = path.to_string_lossy();
    let mut out: Vec<(String, u128)> = Vec::new();
    let mut text = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = String::from(c);
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            // Too many digits for a number: compared as text, after the numbers.
            let n = digits.parse::<u128>().unwrap_or(u128::MAX);
            out.push((std::mem::take(&mut text), n));
            if n == u128::MAX {
                text = digits;
            }
        } else {
            text.push(c);
        }
    }
    out.push((text, 0));
    out
}

/// Whether `name` matches `pattern` (`*`: any run, `?`: any one byte).
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|i| glob_match(rest, &name[i..])),
        Some((&c, rest)) => name
            .split_first()
            .is_some_and(|(&n, tail)| (c == b'?' || c == n) && glob_match(rest, tail)),
    }
}

// ---------------------------------------------------------------------------------------
// CSV

/// How [`read_csv`](crate::read_csv) reads: pandas' and Dask's options by their names.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// Bytes per partition (Dask's `blocksize`; default 64 MiB). Each partition holds the
    /// lines that start in its byte range, so a quoted field holding a line end must not
    /// straddle a boundary (as with Dask): give such files a blocksize above their size.
    pub blocksize: usize,
    /// The columns to read (`usecols`); all when `None`.
    pub usecols: Option<Vec<String>>,
    /// Types that replace the inferred ones (`dtype=`).
    pub dtypes: Vec<(String, DataType)>,
    /// Columns parsed as timestamps (`parse_dates=`); other date-like columns stay strings,
    /// as pandas reads them.
    pub parse_dates: Vec<String>,
    /// The field separator (`sep`).
    pub delimiter: u8,
    /// Rows read from the first file to infer the types.
    pub sample_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            blocksize: 64 << 20,
            usecols: None,
            dtypes: Vec::new(),
            parse_dates: Vec::new(),
            delimiter: b',',
            sample_rows: 10_000,
        }
    }
}

#[derive(Debug)]
pub(crate) struct CsvSource {
    files: Vec<CsvFile>,
    /// Every column of the files, typed.
    file_schema: SchemaRef,
    /// The columns the frame has (`usecols`).
    pub(crate) schema: SchemaRef,
    pub(crate) parts: Vec<CsvPart>,
    delimiter: u8,
}

#[derive(Debug)]
struct CsvFile {
    path: PathBuf,
    /// The first byte after the header line.
    data_start: u64,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct CsvPart {
    file: usize,
    start: u64,
    end: u64,
}

impl CsvSource {
    pub(crate) fn open(path: &str, opts: &CsvOptions) -> Result<Self> {
        if opts.blocksize == 0 {
            return Err(invalid("blocksize must be at least one byte"));
        }
        let paths = expand(path, "csv")?;
        let mut files = Vec::with_capacity(paths.len());
        let mut file_schema: Option<(SchemaRef, PathBuf)> = None;
        let mut parts = Vec::new();
        for (i, p) in paths.into_iter().enumerate() {
            let io = |e| Error::Io {
                path: p.clone(),
                source: e,
            };
            let mut f = File::open(&p).map_err(io)?;
            let len = f.metadata().map_err(io)?.len();
            let mut head = Vec::new();
            (&mut f).take(4 << 20).read_to_end(&mut head).map_err(io)?;
            let header_end = head
                .iter()
                .position(|&b| b == b'\n')
                .map_or(head.len(), |n| n + 1) as u64;
            let schema = infer(&head, &p, opts)?;
            file_schema = Some(match file_schema {
                None => (schema, p.clone()),
                Some((first, first_path)) => {
                    let unified = unify(&first, &first_path, &schema, &p)?;
                    (unified, first_path)
                }
            });
            let mut start = header_end;
            while start < len {
                let end = start.saturating_add(opts.blocksize as u64).min(len);
                parts.push(CsvPart {
                    file: i,
                    start,
                    end,
                });
                start = end;
            }
            files.push(CsvFile {
                path: p,
                data_start: header_end,
            });
        }
        let (file_schema, _) = file_schema.ok_or_else(|| Error::NoFiles(path.to_owned()))?;
        // A column empty in every sample: strings, until `dtype=` says otherwise.
        let file_schema = Arc::new(Schema::new(
            file_schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Null => Field::new(f.name(), DataType::Utf8, true),
                    _ => f.as_ref().clone(),
                })
                .collect::<Vec<_>>(),
        ));
        // `usecols` picks columns; they keep the file's order, as pandas keeps it.
        let schema = match &opts.usecols {
            None => file_schema.clone(),
            Some(cols) => {
                let mut idx = indices(&file_schema, cols)?;
                idx.sort_unstable();
                idx.dedup();
                Arc::new(file_schema.project(&idx)?)
            }
        };
        Ok(Self {
            files,
            file_schema,
            schema,
            parts,
            delimiter: opts.delimiter,
        })
    }

    /// Reads partition `i`'s lines, only `columns`.
    pub(crate) fn read(&self, i: usize, columns: &[String]) -> Result<Partition> {
        let part = self.parts[i];
        let file = &self.files[part.file];
        let io = |e| Error::Io {
            path: file.path.clone(),
            source: e,
        };
        let mut f = File::open(&file.path).map_err(io)?;
        let begin = line_start_at(&mut f, part.start, file.data_start).map_err(io)?;
        let finish = line_start_at(&mut f, part.end, file.data_start).map_err(io)?;
        let idx = indices(&self.file_schema, columns)?;
        let schema = Arc::new(self.file_schema.project(&idx)?);
        if finish <= begin {
            return Ok(Partition::new(schema, Vec::new()));
        }
        let mut buf = vec![0_u8; (finish - begin) as usize];
        f.seek(SeekFrom::Start(begin)).map_err(io)?;
        f.read_exact(&mut buf).map_err(io)?;
        const BATCH_ROWS: usize = 65_536;
        if let Some(batches) =
            crate::csv::decode_unquoted(&buf, &self.file_schema, &idx, self.delimiter, BATCH_ROWS)
        {
            return Ok(Partition::new(schema, batches));
        }
        // Quoted fields, or something to report: Arrow's reader.
        let mut decoder = arrow::csv::ReaderBuilder::new(self.file_schema.clone())
            .with_header(false)
            .with_delimiter(self.delimiter)
            .with_projection(idx)
            .with_batch_size(BATCH_ROWS)
            .build_decoder();
        let mut batches = Vec::new();
        let mut at = 0;
        let located = |e: arrow::error::ArrowError| self.located(part.file, begin, &buf, &e);
        // Arrow's decoder takes bytes until a batch is full (then it is flushed); an empty
        // slice at the end completes a last line without a line end.
        loop {
            let n = decoder.decode(&buf[at..]).map_err(located)?;
            at += n;
            if n == 0 || decoder.capacity() == 0 {
                if let Some(b) = decoder.flush().map_err(located)? {
                    batches.push(b);
                } else if n == 0 {
                    break;
                }
            }
        }
        Ok(Partition::new(schema, batches))
    }

    /// A parse error of the partition starting at byte `begin` (its bytes `buf`), with
    /// its line counted from the top of the file and its column named.
    fn located(
        &self,
        file: usize,
        begin: u64,
        buf: &[u8],
        err: &arrow::error::ArrowError,
    ) -> Error {
        let file = &self.files[file];
        let message = err.to_string();
        // Arrow numbers the partition's records: from 0 in a value's parse error ("at
        // line N"), from 1 in a count of fields ("for line N"). Records skip blank lines
        // and may span lines inside quotes, so the record is found in the bytes.
        let record = number_after_last(&message, " at line ")
            .or_else(|| number_after_last(&message, "for line ").map(|n| n.saturating_sub(1)));
        let line_in_part = record.map_or(0, |r| record_line(buf, r));
        let lines_before = count_lines(&file.path, begin).unwrap_or(0);
        let mut message = message;
        if let Some(c) = number_after_last(&message, " for column ")
            && let Some(field) = self.file_schema.fields().get(c as usize)
        {
            message = format!("column '{}': {message}", field.name());
        }
        Error::Csv {
            path: file.path.clone(),
            line: lines_before + line_in_part + 1,
            message,
        }
    }
}

/// The number after the last `prefix` in `s` (a value quoted earlier in the message may
/// contain the prefix too).
fn number_after_last(s: &str, prefix: &str) -> Option<u64> {
    let at = s.rfind(prefix)? + prefix.len();
    let digits: String = s[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The line (from 0) of `buf` on which record `r` (from 0) starts: records are the
/// non-blank lines, a quoted field's line ends belonging to its record.
fn record_line(buf: &[u8], r: u64) -> u64 {
    let (mut line, mut record, mut quoted, mut blank) = (0_u64, 0_u64, false, true);
    let mut start_line = 0_u64;
    for &b in buf {
        match b {
            b'\n' => {
                line += 1;
                if !quoted {
                    if !blank {
                        if record == r {
                            return start_line;
                        }
                        record += 1;
                    }
                    blank = true;
                    start_line = line;
                }
            }
            b'\r' => {}
            _ => {
                if blank {
                    start_line = line;
                }
                blank = false;
                if b == b'"' {
                    quoted = !quoted;
                }
            }
        }
    }
    start_line
}

/// The number of line ends in the first `n` bytes of `path`.
fn count_lines(path: &Path, n: u64) -> std::io::Result<u64> {
    let mut f = File::open(path)?.take(n);
    let mut buf = vec![0_u8; 1 << 20];
    let mut lines = 0;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok(lines);
        }
        lines += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}

/// The first line start at or after byte `at` (lines start after a `\n`; the data starts
/// at `data_start`).
fn line_start_at(f: &mut File, at: u64, data_start: u64) -> std::io::Result<u64> {
    if at <= data_start {
        return Ok(data_start);
    }
    f.seek(SeekFrom::Start(at - 1))?;
    let mut pos = at - 1;
    let mut buf = [0_u8; 64 << 10];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(pos);
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok(pos + i as u64 + 1);
        }
        pos += n as u64;
    }
}

/// The typed columns of a CSV file from its first bytes: Arrow's inference, then dates
/// kept as strings unless `parse_dates` names them, then the `dtypes` given.
fn infer(head: &[u8], path: &Path, opts: &CsvOptions) -> Result<SchemaRef> {
    // Whole lines only: the sample ends at its last line end.
    let upto = head
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(head.len(), |n| n + 1);
    let (schema, _) = Format::default()
        .with_header(true)
        .with_delimiter(opts.delimiter)
        .infer_schema(&head[..upto], Some(opts.sample_rows))
        .map_err(|e| {
            let message = e.to_string();
            // Arrow numbers records from 1 here, the header first; records skip blank
            // lines, so the record is found in the bytes.
            let line = number_after_last(&message, " at line ")
                .map(|n| record_line(&head[..upto], n.saturating_sub(1)) + 1)
                .unwrap_or(1);
            Error::Csv {
                path: path.to_path_buf(),
                line,
                message,
            }
        })?;
    for (name, _) in &opts.dtypes {
        schema
            .index_of(name)
            .map_err(|_| not_found(name, &schema))?;
    }
    for name in &opts.parse_dates {
        schema
            .index_of(name)
            .map_err(|_| not_found(name, &schema))?;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name();
            let t = if let Some((_, t)) = opts.dtypes.iter().find(|(n, _)| n == name) {
                t.clone()
            } else if opts.parse_dates.contains(name) {
                DataType::Timestamp(TimeUnit::Nanosecond, None)
            } else {
                match f.data_type() {
                    DataType::Timestamp(..)
                    | DataType::Date32
                    | DataType::Date64
                    | DataType::Time32(_)
                    | DataType::Time64(_) => DataType::Utf8,
                    t => t.clone(),
                }
            };
            Field::new(name, t, true)
        })
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

/// The columns of two CSV files of one frame, typed to hold both: the same names in the
/// same order; integers in one file and floats in another read as floats; a column all
/// missing in one sample takes the other's type.
fn unify(a: &Schema, a_path: &Path, b: &Schema, b_path: &Path) -> Result<SchemaRef> {
    if a.fields().len() == b.fields().len() {
        let mut fields = Vec::with_capacity(a.fields().len());
        let mut clash = None;
        for (fa, fb) in a.fields().iter().zip(b.fields()) {
            let t = match (fa.data_type(), fb.data_type()) {
                (x, y) if x == y => x.clone(),
                (DataType::Int64, DataType::Float64) | (DataType::Float64, DataType::Int64) => {
                    DataType::Float64
                }
                (DataType::Null, t) | (t, DataType::Null) => t.clone(),
                _ => {
                    clash.get_or_insert(());
                    fa.data_type().clone()
                }
            };
            fields.push(Field::new(fa.name(), t, true));
        }
        if clash.is_none()
            && a.fields()
                .iter()
                .zip(b.fields())
                .all(|(x, y)| x.name() == y.name())
        {
            return Ok(Arc::new(Schema::new(fields)));
        }
    }
    same_columns(a, a_path, b, b_path)?;
    Err(invalid("internal: schemas differ but no difference found"))
}

/// Two files of one frame must have the same columns, of the same types.
fn same_columns(a: &Schema, a_path: &Path, b: &Schema, b_path: &Path) -> Result<()> {
    let names = |s: &Schema| {
        s.fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
    };
    if names(a) != names(b) {
        return Err(invalid(format!(
            "{} has columns [{}] but {} has [{}]",
            a_path.display(),
            names(a).join(", "),
            b_path.display(),
            names(b).join(", ")
        )));
    }
    for (fa, fb) in a.fields().iter().zip(b.fields()) {
        if fa.data_type() != fb.data_type() {
            return Err(Error::TypeClash {
                column: fa.name().clone(),
                left: a_path.to_path_buf(),
                left_type: fa.data_type().to_string(),
                right: b_path.to_path_buf(),
                right_type: fb.data_type().to_string(),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Parquet

#[derive(Debug)]
pub(crate) struct ParquetSource {
    files: Vec<(PathBuf, ArrowReaderMetadata)>,
    pub(crate) schema: SchemaRef,
}

impl ParquetSource {
    /// Reads every file's footer (not its data) and checks that they agree.
    pub(crate) fn open(path: &str, columns: Option<&[String]>) -> Result<Self> {
        let paths = expand(path, "parquet")?;
        let mut files: Vec<(PathBuf, ArrowReaderMetadata)> = Vec::with_capacity(paths.len());
        for p in paths {
            let f = File::open(&p).map_err(|e| Error::Io {
                path: p.clone(),
                source: e,
            })?;
            let meta = ArrowReaderMetadata::load(&f, ArrowReaderOptions::new()).map_err(|e| {
                Error::Parquet {
                    path: p.clone(),
                    message: e.to_string(),
                }
            })?;
            if let Some((first, first_meta)) = files.first() {
                same_columns(first_meta.schema(), first, meta.schema(), &p)?;
            }
            files.push((p, meta));
        }
        // Nullable: a column one file declares non-null may hold nulls in another.
        let full = Arc::new(Schema::new(
            files[0]
                .1
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let schema = match columns {
            None => full,
            Some(cols) => Arc::new(full.project(&indices(&full, cols)?)?),
        };
        Ok(Self { files, schema })
    }

    pub(crate) fn npartitions(&self) -> usize {
        self.files.len()
    }

    /// Reads file `i`, only `columns`, and of its row groups only those that rows
    /// matching `predicate` may be in (by the file's statistics).
    pub(crate) fn read(
        &self,
        i: usize,
        columns: &[String],
        predicate: Option<&Expr>,
    ) -> Result<Partition> {
        let (path, meta) = &self.files[i];
        let groups = predicate.map(|p| crate::prune::row_groups(meta, p));
        let file_schema = meta.schema();
        let idx = indices(file_schema, columns)?;
        let f = File::open(path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        let bad = |e: parquet::errors::ParquetError| Error::Parquet {
            path: path.clone(),
            message: e.to_string(),
        };
        let mask = ProjectionMask::roots(meta.parquet_schema(), idx.iter().copied());
        let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(f, meta.clone())
            .with_projection(mask)
            .with_batch_size(65_536);
        if let Some(groups) = groups {
            builder = builder.with_row_groups(groups);
        }
        let reader = builder.build().map_err(bad)?;
        let mut batches = Vec::new();
        for b in reader {
            let b = b.map_err(|e| Error::Parquet {
                path: path.clone(),
                message: e.to_string(),
            })?;
            batches.push(b);
        }
        // The mask keeps the file's column order; the frame's is `columns`'.
        let read_schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| {
            Arc::new(
                file_schema
                    .project(&sorted(&idx))
                    .unwrap_or_else(|_| Schema::empty()),
            )
        });
        Partition::new(read_schema, batches).project(columns)
    }
}

fn sorted(idx: &[usize]) -> Vec<usize> {
    let mut v = idx.to_vec();
    v.sort_unstable();
    v
}
