//! The scheduler's errors.

use floe_graph::{GraphError, Key, TaskError};

/// A result whose error is the scheduler's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task's operation returned an error. `key` names the operation that failed (for a
    /// fused task, the stage inside it).
    #[error("task `{key}` failed: {source}")]
    TaskFailed {
        /// The failing operation's key.
        key: Key,
        /// What it returned.
        source: TaskError,
    },
    /// A task's operation panicked.
    #[error("task `{key}` panicked: {message}")]
    TaskPanicked {
        /// The panicking operation's key.
        key: Key,
        /// The panic message.
        message: String,
    },
    /// A memory-budgeted run could not write a held value to its spill file, or read it
    /// back (a full disk, an unwritable spill directory, a file removed under the run).
    #[error("spill file {}: {source}", path.display())]
    Spill {
        /// The file (or the directory that could not be created).
        path: std::path::PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A task whose inputs and output alone exceed the memory budget; refused before the
    /// run starts.
    #[error("{}", too_large(key, *footprint, *inputs, *limit, *fits, *output))]
    TaskTooLarge {
        /// The task.
        key: Key,
        /// Its inputs' and output's bytes together.
        footprint: usize,
        /// How many inputs it reads.
        inputs: usize,
        /// The budget.
        limit: usize,
        /// The block size at which inputs and output would fit: the budget shared by them.
        fits: usize,
        /// Whether the task makes a requested output (a result to be returned whole).
        output: bool,
    },
    /// The run was cancelled through its [`CancelToken`](crate::CancelToken).
    #[error("the run was cancelled")]
    Cancelled,
    /// The graph or the requested outputs are invalid.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// The scheduler was configured with impossible settings.
    #[error("invalid scheduler configuration: {0}")]
    Config(String),
    /// An event subscriber panicked; the run was stopped.
    #[error("an event subscriber panicked: {0}")]
    SubscriberPanicked(String),
    /// A bug in floe, not in the graph or its operations.
    #[error("internal error (a bug in floe; please report it): {0}")]
    Internal(String),
}

fn too_large(
    key: &Key,
    footprint: usize,
    inputs: usize,
    limit: usize,
    fits: usize,
    output: bool,
) -> String {
    let needs = format!(
        "task `{key}` needs {footprint} bytes (its {inputs} inputs and its output) but the \
         memory budget is {limit} bytes"
    );
    if output {
        format!(
            "{needs}: the result is returned whole, so write it to a file instead (store_npy, \
             to_zarr), compute a smaller part, or raise the budget"
        )
    } else {
        format!(
            "{needs}: rechunk so that its blocks hold at most {fits} bytes each, or raise the budget"
        )
    }
}

impl Error {
    /// The error for a task `key` whose operation failed with `err`.
    pub(crate) fn from_task(key: &Key, err: TaskError) -> Self {
        let stage = err.stage().cloned();
        let key = stage.unwrap_or_else(|| key.clone());
        if err.is_panic() {
            let (kind, _) = err.into_parts();
            let message = match kind {
                floe_graph::TaskErrorKind::Panicked(m) => m,
                other => format!("{other:?}"),
            };
            Error::TaskPanicked { key, message }
        } else {
            Error::TaskFailed { key, source: err }
        }
    }

    /// The key of the task that failed, for task errors.
    pub fn task_key(&self) -> Option<&Key> {
        match self {
            Error::TaskFailed { key, .. } | Error::TaskPanicked { key, .. } => Some(key),
            _ => None,
        }
    }
}
