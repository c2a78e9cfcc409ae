//! The facade's error type.

use floe_graph::{GraphError, Key};

/// A result whose error is floe's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a computation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Running the graph failed: a task returned an error or panicked, the run was
    /// cancelled, or the scheduler is misconfigured. Task errors name the task's key.
    #[error(transparent)]
    Run(#[from] floe_scheduler::Error),
    /// An array operation got bad input (shapes, axes, chunks, indices, dtypes).
    #[error(transparent)]
    Array(#[from] floe_array::ArrayError),
    /// A file could not be read or written (the error names it).
    #[error(transparent)]
    Io(#[from] floe_io::IoError),
    /// Building the graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A dataframe operation got bad input (a missing column, a file that does not parse).
    #[cfg(feature = "dataframe")]
    #[error(transparent)]
    DataFrame(#[from] floe_dataframe::Error),
    /// A graph picture could not be written.
    #[error(transparent)]
    Visualize(#[from] floe_diagnostics::VisualizeError),
    /// A task produced a value of another type than its collection declares.
    #[error("task `{key}` produced a value that is not a {expected}")]
    TypeMismatch {
        /// The task.
        key: Key,
        /// The type the collection expected.
        expected: &'static str,
    },
}

impl Error {
    /// The key of the task that failed, for task errors.
    pub fn task_key(&self) -> Option<&Key> {
        match self {
            Error::Run(e) => e.task_key(),
            Error::TypeMismatch { key, .. } => Some(key),
            _ => None,
        }
    }
}
