//! floe's scheduler: runs a task graph on all cores, by priority, in small memory.
//!
//! # Task selection policy
//!
//! - Priorities come from [`floe_graph::order`]: a task's position in the sequence one
//!   worker would run. Lower runs first.
//! - A finished task's newly ready dependents go on its worker's own heap (their inputs
//!   are hot in that core's cache). A worker pops whichever is lower: its heap's best task
//!   or the next source (task without dependencies) from the shared, priority-sorted source
//!   queue. An idle worker steals the best task of another worker's heap before it loads a
//!   new source.
//! - With one worker this reproduces the static order exactly.
//! - A worker with no task to pop takes pieces a running task offers
//!   ([`floe_graph::split`]: a large block generated or reduced in parallel) before it
//!   sleeps: one large task uses every idle worker of the run, no second pool.
//! - A result is dropped the moment its last dependent finishes, unless it is a requested
//!   output. A meter counts the bytes held now and at peak ([`RunStats::peak_bytes`]).
//! - The first task that returns an error or panics stops the run: nothing new starts, the
//!   error names the task's key, every worker is joined, and every result is freed. A
//!   [`CancelToken`] stops a run from another thread the same way.
//!
//! See `run.rs` for the state machine and `ready_queue.rs` and `sleep.rs` for the
//! mechanics; the integration tests (`tests/it`) pin the behaviour with property tests over
//! random graphs.

mod budget;
mod cancel;
mod error;
mod events;
mod plan;
mod ready_queue;
mod run;
mod scheduler;
mod sleep;
mod spill;
mod stats;

pub use cancel::CancelToken;
pub use error::{Error, Result};
pub use events::{Event, Subscriber};
pub use plan::{Plan, plan};
pub use scheduler::{Executor, RunOptions, Scheduler, SchedulerBuilder, available_threads};
pub use stats::{RunOutput, RunStats};
