//! Errors of graph construction and the graph passes.

use crate::{Key, TaskId};

/// A result whose error is a [`GraphError`].
pub type Result<T, E = GraphError> = std::result::Result<T, E>;

/// What can go wrong while building or transforming a graph.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A task named a dependency that has not been added.
    #[error(
        "task `{task}` depends on {dependency:?}, which is not in the graph yet (dependencies must be added first)"
    )]
    UnknownDependency {
        /// The task being added.
        task: Key,
        /// The id it named.
        dependency: TaskId,
    },
    /// An id (an output, say) that is not a task of the graph.
    #[error("{id:?} is not a task of this graph ({len} tasks)")]
    UnknownTask {
        /// The id.
        id: TaskId,
        /// The number of tasks in the graph.
        len: usize,
    },
    /// More than `u32::MAX` tasks or edges.
    #[error("the graph has more than 2^32 - 1 tasks or edges")]
    TooLarge,
}
