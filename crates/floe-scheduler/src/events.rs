//! Events a run emits, for progress bars, profilers and memory curves.
//!
//! Subscribers are called synchronously on the worker threads, so they must be quick and
//! thread-safe (count with atomics, buffer per thread, draw from another thread). When a run
//! has no subscribers no event is built and no clock is read.

use std::time::{Duration, Instant};

use floe_graph::{Graph, Key, TaskId};

use crate::{Error, RunStats};

/// Something that happened during a run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// The run starts: `tasks` tasks will run on `threads` workers.
    RunStarted {
        /// The graph being run.
        graph: &'a Graph,
        /// The number of tasks the outputs need.
        tasks: usize,
        /// The number of workers.
        threads: usize,
        /// When the run started.
        at: Instant,
    },
    /// A worker starts a task.
    TaskStarted {
        /// The task.
        task: TaskId,
        /// Its key.
        key: &'a Key,
        /// The worker running it, `0..threads`.
        worker: usize,
        /// When it started.
        at: Instant,
    },
    /// A task finished successfully.
    TaskFinished {
        /// The task.
        task: TaskId,
        /// Its key.
        key: &'a Key,
        /// The worker that ran it.
        worker: usize,
        /// When it started.
        start: Instant,
        /// How long it ran.
        duration: Duration,
        /// The size of its output.
        nbytes: usize,
        /// Bytes held by the scheduler once its output was stored and its spent inputs freed.
        held_bytes: usize,
    },
    /// The run is over, successfully or not.
    RunFinished {
        /// What the run did.
        stats: &'a RunStats,
        /// Why it failed, if it did.
        error: Option<&'a Error>,
    },
}

/// Receives a run's [`Event`]s.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use floe_scheduler::{Event, Subscriber};
///
/// #[derive(Default)]
/// struct CountTasks(AtomicUsize);
///
/// impl Subscriber for CountTasks {
///     fn on_event(&self, event: &Event<'_>) {
///         if let Event::TaskFinished { .. } = event {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
/// ```
pub trait Subscriber: Send + Sync {
    /// Called for every event, on the thread where it happened.
    fn on_event(&self, event: &Event<'_>);
}
