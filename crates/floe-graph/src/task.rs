//! Tasks: a key and a type-erased operation over the outputs of the task's dependencies.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::{Key, Value};

/// What a task's operation returns.
pub type TaskResult = Result<Value, TaskError>;

/// A task's operation: called with its dependencies' outputs, in the order the dependencies
/// were given when the task was added. It may be called more than once (a graph can be run
/// again), from any thread.
pub type Operation = Arc<dyn Fn(&[Value]) -> TaskResult + Send + Sync>;

/// One node of a [`Graph`](crate::Graph): its key, its operation and what the scheduler
/// may assume about it ([`TaskHints`]).
#[derive(Clone)]
pub struct Task {
    key: Key,
    op: Operation,
    hints: TaskHints,
}

/// What a task's author tells the scheduler before the task runs, for the memory budget:
/// the size of its output, and whether it may be run again to rebuild a dropped output.
/// Tasks know nothing by default.
///
/// # Examples
///
/// ```
/// use floe_graph::TaskHints;
///
/// let h = TaskHints::new().output_bytes(8 * 4000 * 1000).repeatable();
/// assert_eq!(h.nbytes(), Some(32_000_000));
/// assert!(h.is_repeatable());
/// assert!(!TaskHints::new().is_repeatable());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskHints {
    nbytes: Option<usize>,
    scratch: usize,
    repeatable: bool,
}

impl TaskHints {
    /// No hints: output size unknown, not repeatable.
    pub const fn new() -> Self {
        Self {
            nbytes: None,
            scratch: 0,
            repeatable: false,
        }
    }

    /// The task holds `n` bytes beyond its inputs and output while it runs (the
    /// intermediates of a fused chain: [`fuse`](crate::fuse) sets this).
    pub const fn scratch_bytes(mut self, n: usize) -> Self {
        self.scratch = n;
        self
    }

    /// The bytes held inside the task beyond its inputs and output.
    pub const fn scratch(&self) -> usize {
        self.scratch
    }

    /// The output will hold `n` bytes (as its [`Value::nbytes`] will say).
    pub const fn output_bytes(mut self, n: usize) -> Self {
        self.nbytes = Some(n);
        self
    }

    /// Running the operation again returns an equal value and has no other effect (a file
    /// read, a seeded generator, a kernel): a budgeted run may drop the output and rebuild it.
    pub const fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    /// The declared output size, if any.
    pub const fn nbytes(&self) -> Option<usize> {
        self.nbytes
    }

    /// Whether the task may be run again.
    pub const fn is_repeatable(&self) -> bool {
        self.repeatable
    }
}

impl Task {
    /// A task named `key` that runs `op`, with no hints.
    pub fn new(key: Key, op: Operation) -> Self {
        Self {
            key,
            op,
            hints: TaskHints::new(),
        }
    }

    /// The same task with `hints`.
    pub fn with_hints(mut self, hints: TaskHints) -> Self {
        self.set_hints(hints);
        self
    }

    /// Replaces the hints in place.
    pub(crate) fn set_hints(&mut self, hints: TaskHints) {
        self.hints = hints;
    }

    /// What the task's author declared about it.
    pub fn hints(&self) -> TaskHints {
        self.hints
    }

    /// The task's key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The task's operation.
    pub fn op(&self) -> &Operation {
        &self.op
    }

    /// Runs the operation on `inputs`, turning a panic into a [`TaskError`].
    pub fn run(&self, inputs: &[Value]) -> TaskResult {
        run_caught(&self.op, inputs)
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task({})", self.key)
    }
}

/// Calls `op`, turning a panic into [`TaskErrorKind::Panicked`].
pub(crate) fn run_caught(op: &Operation, inputs: &[Value]) -> TaskResult {
    match catch_unwind(AssertUnwindSafe(|| op(inputs))) {
        Ok(result) => result,
        Err(payload) => Err(TaskError::from_panic(payload)),
    }
}

/// Why a task failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum TaskErrorKind {
    /// The operation returned an error.
    Failed(Box<dyn StdError + Send + Sync>),
    /// The operation panicked; the panic message.
    Panicked(String),
}

/// The failure of a task's operation: an error it returned or a panic it raised.
///
/// A task that fuses several operations (see [`fuse`](crate::fuse)) records which of them
/// failed in [`TaskError::stage`], so errors name the operation the user wrote.
///
/// # Examples
///
/// ```
/// use floe_graph::{TaskError, TaskErrorKind};
///
/// let e = TaskError::msg("file is truncated");
/// assert_eq!(e.to_string(), "file is truncated");
/// assert!(matches!(e.kind(), TaskErrorKind::Failed(_)));
/// ```
#[derive(Debug)]
pub struct TaskError {
    kind: TaskErrorKind,
    stage: Option<Key>,
}

impl TaskError {
    /// Wraps an error returned by an operation.
    pub fn new(err: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind: TaskErrorKind::Failed(err.into()),
            stage: None,
        }
    }

    /// An error made of a message.
    pub fn msg(message: impl Into<String>) -> Self {
        Self::new(message.into())
    }

    /// The error for a panic payload caught by `catch_unwind`.
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic with a non-string payload".to_owned()
        };
        Self {
            kind: TaskErrorKind::Panicked(message),
            stage: None,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &TaskErrorKind {
        &self.kind
    }

    /// Whether the operation panicked (rather than returned an error).
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, TaskErrorKind::Panicked(_))
    }

    /// For a fused task, the key of the operation inside it that failed.
    pub fn stage(&self) -> Option<&Key> {
        self.stage.as_ref()
    }

    /// Records the key of the fused stage that failed, unless an inner one already did.
    pub fn at_stage(mut self, key: &Key) -> Self {
        if self.stage.is_none() {
            self.stage = Some(key.clone());
        }
        self
    }

    /// Takes the error apart: what went wrong, and the fused stage it happened in.
    pub fn into_parts(self) -> (TaskErrorKind, Option<Key>) {
        (self.kind, self.stage)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TaskErrorKind::Failed(e) => write!(f, "{e}"),
            TaskErrorKind::Panicked(m) => write!(f, "panicked: {m}"),
        }
    }
}

impl StdError for TaskError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            TaskErrorKind::Failed(e) => Some(e.as_ref()),
            TaskErrorKind::Panicked(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors_with_their_message() {
        let op: Operation = Arc::new(|_| panic!("bad block {}", 3));
        let err = Task::new(Key::named("t"), op).run(&[]).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.to_string(), "panicked: bad block 3");
    }

    #[test]
    fn the_innermost_stage_is_kept() {
        let e = TaskError::msg("x")
            .at_stage(&Key::named("inner"))
            .at_stage(&Key::named("outer"));
        assert_eq!(e.stage(), Some(&Key::named("inner")));
    }
}
