//! The I/O layer's errors: each names the file.

use std::path::PathBuf;

/// A result whose error is an [`IoError`].
pub type Result<T, E = IoError> = std::result::Result<T, E>;

/// What went wrong with a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The operating system refused (missing file, permissions, disk full…).
    #[error("{path}: {source}")]
    Os {
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// The file is not in the expected format, or is corrupt or truncated.
    #[error("{path}: not a valid {format} file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The format expected.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The file is valid but uses something floe does not support (a structured dtype…).
    #[error("{path}: unsupported {what}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        what: String,
    },
    /// The file has no variable of that name.
    #[error("{path}: no variable `{name}` (it has: {})", available.join(", "))]
    MissingVariable {
        /// The file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The variables it has.
        available: Vec<String>,
    },
    /// A file of a collection does not match the first one.
    #[error("{path}: does not match {reference}: {detail}")]
    Mismatch {
        /// The file that differs.
        path: PathBuf,
        /// The file it was compared with.
        reference: PathBuf,
        /// How they differ.
        detail: String,
    },
    /// The array side refused (bad chunks for the file's shape…).
    #[error(transparent)]
    Array(#[from] floe_array::ArrayError),
}

impl IoError {
    pub(crate) fn os(path: &std::path::Path, source: std::io::Error) -> Self {
        IoError::Os {
            path: path.to_path_buf(),
            source,
        }
    }
}
