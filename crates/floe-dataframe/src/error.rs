//! What can go wrong building or computing a dataframe.

use std::path::PathBuf;

use arrow::error::ArrowError;

/// A dataframe error: bad input named precisely (the column, the file and line), never a
/// panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A column that the frame does not have.
    #[error("no column named '{name}' (the columns are: {available})")]
    ColumnNotFound {
        /// The name asked for.
        name: String,
        /// The frame's columns, comma-separated.
        available: String,
    },
    /// A file that could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A CSV row that does not parse: the file, the line (1-based, counting the header) and
    /// what was wrong.
    #[error("{}, line {line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line, counted from 1 at the top of the file.
        line: u64,
        /// What was wrong (the column, the value).
        message: String,
    },
    /// A Parquet file that could not be read (truncated, corrupt, not Parquet).
    #[error("{}: not a readable Parquet file: {message}", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        message: String,
    },
    /// Two partitions (files) disagree on a column's type.
    #[error("column '{column}' is {left_type} in {} but {right_type} in {}", left.display(), right.display())]
    TypeClash {
        /// The column.
        column: String,
        /// The first file.
        left: PathBuf,
        /// Its type there.
        left_type: String,
        /// The file that disagrees.
        right: PathBuf,
        /// Its type there.
        right_type: String,
    },
    /// No file matched a path or pattern.
    #[error("no files match '{0}'")]
    NoFiles(String),
    /// An argument that does not fit (an expression over incompatible types, an empty
    /// list of keys…).
    #[error("{0}")]
    Invalid(String),
    /// An error of Arrow's kernels.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// The graph could not be built.
    #[error(transparent)]
    Graph(#[from] floe_graph::GraphError),
}

/// A dataframe result.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}
