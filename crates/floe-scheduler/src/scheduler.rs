//! The scheduler handle and its builder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use floe_graph::{Graph, Order, TaskId, order};

use crate::budget::check_footprints;
use crate::run::RunState;
use crate::spill::{SpillStore, default_spill_dir};
use crate::{CancelToken, Error, Result, RunOutput, Subscriber};

/// How a run uses threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Executor {
    /// One worker thread per configured thread (default).
    #[default]
    Threaded,
    /// Everything on the calling thread, in exactly the static order: the same state
    /// machine with one worker. For debugging (panics and breakpoints land in the caller's
    /// stack) and for reproducing the order's memory behaviour.
    Synchronous,
}

/// Runs task graphs.
///
/// A `Scheduler` is a configuration; each run starts its workers and joins them before
/// returning, so a scheduler can be shared, reused after a failed run, and used from
/// inside a task (nested runs get workers of their own).
///
/// # Examples
///
/// ```
/// use floe_graph::{Graph, Key, Value};
/// use floe_scheduler::Scheduler;
///
/// let mut b = Graph::builder();
/// let parts: Vec<_> = (1..=4_i64)
///     .map(|i| b.add_fn(Key::new("part", &[i as u32]), &[], move |_| Ok(Value::new(i * i))))
///     .collect::<Result<_, _>>()?;
/// let total = b.add_fn(Key::named("total"), &parts, |v| {
///     Ok(Value::new(v.iter().map(|x| *x.downcast_ref::<i64>().unwrap()).sum::<i64>()))
/// })?;
/// let graph = b.build();
///
/// let scheduler = Scheduler::builder().threads(2).build()?;
/// let out = scheduler.run(&graph, &[total])?;
/// assert_eq!(out.values[0].downcast_ref::<i64>(), Some(&30));
/// assert_eq!(out.stats.tasks, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Scheduler {
    threads: usize,
    executor: Executor,
    subscribers: Vec<Arc<dyn Subscriber>>,
    memory_limit: Option<usize>,
    spill_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("threads", &self.threads)
            .field("executor", &self.executor)
            .field("subscribers", &self.subscribers.len())
            .field("memory_limit", &self.memory_limit)
            .field("spill_dir", &self.spill_dir)
            .finish()
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Self {
            threads: available_threads(),
            executor: Executor::Threaded,
            subscribers: Vec::new(),
            memory_limit: None,
            spill_dir: None,
        }
    }
}

/// The number of cores the process may use (1 if unknown).
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl Scheduler {
    /// A builder, starting from one thread per core and the threaded executor.
    pub fn builder() -> SchedulerBuilder {
        SchedulerBuilder {
            scheduler: Scheduler::default(),
            threads: None,
        }
    }

    /// The memory budget, if one is set (see [`SchedulerBuilder::memory_limit`]).
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// Where budgeted runs put their spill files: the directory set with
    /// [`SchedulerBuilder::spill_dir`], else the system temp dir.
    pub fn spill_dir(&self) -> PathBuf {
        self.spill_dir.clone().unwrap_or_else(default_spill_dir)
    }

    /// The number of worker threads a run uses (1 for the synchronous executor).
    pub fn threads(&self) -> usize {
        match self.executor {
            Executor::Threaded => self.threads,
            Executor::Synchronous => 1,
        }
    }

    /// The executor.
    pub fn executor(&self) -> Executor {
        self.executor
    }

    /// Runs the tasks `outputs` need and returns the outputs' values, in order.
    ///
    /// # Errors
    ///
    /// [`Error::Graph`] if an output is not in `graph`; [`Error::TaskFailed`] or
    /// [`Error::TaskPanicked`] naming the first task that failed (nothing new starts after
    /// it, and every result is freed).
    pub fn run(&self, graph: &Graph, outputs: &[TaskId]) -> Result<RunOutput> {
        self.run_with(graph, outputs, &RunOptions::default())
    }

    /// Runs with per-run options: a precomputed order, a cancel token, extra subscribers.
    ///
    /// # Errors
    ///
    /// As [`Scheduler::run`], plus [`Error::Cancelled`] when the token is cancelled,
    /// [`Error::SubscriberPanicked`] if a subscriber panics, and with a memory budget
    /// [`Error::TaskTooLarge`] (before anything runs) and [`Error::Spill`].
    pub fn run_with(
        &self,
        graph: &Graph,
        outputs: &[TaskId],
        options: &RunOptions<'_>,
    ) -> Result<RunOutput> {
        graph.check_ids(outputs)?;
        let computed;
        let order = match options.order {
            Some(o) if o.priorities().len() == graph.len() => o,
            Some(o) => {
                return Err(Error::Config(format!(
                    "the order given covers {} tasks but the graph has {}",
                    o.priorities().len(),
                    graph.len()
                )));
            }
            None => {
                computed = order(graph, outputs);
                &computed
            }
        };
        if options.order.is_some() {
            check_order(graph, outputs, order)?;
        }
        if let Some(limit) = self.memory_limit {
            check_footprints(graph, outputs, order, limit)?;
        }
        let memory = self
            .memory_limit
            .map(|limit| (limit, SpillStore::new(self.spill_dir())));
        let mut subscribers = self.subscribers.clone();
        subscribers.extend(options.subscribers.iter().cloned());
        let threads = self.threads();
        let state = RunState::new(
            graph,
            outputs,
            order,
            threads,
            memory,
            &subscribers,
            options.cancel.as_ref(),
        );
        state.announce();
        match self.executor {
            Executor::Synchronous => state.work(0),
            Executor::Threaded => std::thread::scope(|scope| {
                let state = &state;
                for w in 1..threads {
                    // A worker that cannot be started leaves its share to the others: the
                    // queues are shared, so the run completes with fewer threads.
                    let _ = std::thread::Builder::new()
                        .name(format!("floe-worker-{w}"))
                        .spawn_scoped(scope, move || state.work(w));
                }
                // The calling thread is worker 0, so a run on one thread spawns nothing.
                state.work(0);
            }),
        }
        state.finish()
    }
}

/// Checks that a caller's order covers the outputs and everything they need, so no task
/// waits for a dependency that will never run.
fn check_order(graph: &Graph, outputs: &[TaskId], order: &Order) -> Result<()> {
    let left_out = outputs.iter().find(|o| !order.is_needed(**o)).or_else(|| {
        order
            .sequence()
            .iter()
            .flat_map(|t| graph.dependencies(*t))
            .find(|d| !order.is_needed(**d))
    });
    match left_out {
        Some(t) => Err(Error::Config(format!(
            "the order given was made for another graph or other outputs: it leaves out `{}`",
            graph.key(*t)
        ))),
        None => Ok(()),
    }
}

/// Configures a [`Scheduler`].
#[derive(Debug)]
pub struct SchedulerBuilder {
    scheduler: Scheduler,
    threads: Option<usize>,
}

impl SchedulerBuilder {
    /// The number of worker threads (default: one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// The executor (default [`Executor::Threaded`]).
    pub fn executor(mut self, executor: Executor) -> Self {
        self.scheduler.executor = executor;
        self
    }

    /// Adds a subscriber that receives the events of every run.
    pub fn subscriber(mut self, s: Arc<dyn Subscriber>) -> Self {
        self.scheduler.subscribers.push(s);
        self
    }

    /// A memory budget, in bytes, for the results held between tasks. A task starts only
    /// when its output (and any input that must come back from disk) fits; to make room,
    /// held values needed later are dropped and rebuilt from their source when that is
    /// cheap (file reads, generators), or spilled to files under
    /// [`spill_dir`](SchedulerBuilder::spill_dir) otherwise; a task that fits nowhere waits
    /// for others to finish. A run never stalls: with nothing else running the next task
    /// starts anyway. Tasks whose declared inputs and output exceed the budget alone are
    /// refused before the run ([`Error::TaskTooLarge`]). See the crate docs for what counts.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.scheduler.memory_limit = Some(bytes);
        self
    }

    /// No memory budget (the default): held results are bounded only by the graph's order.
    pub fn no_memory_limit(mut self) -> Self {
        self.scheduler.memory_limit = None;
        self
    }

    /// The directory under which budgeted runs create their spill directories (default:
    /// the system temp dir). Each run's directory is removed when the run ends, however it
    /// ends.
    pub fn spill_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.scheduler.spill_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Builds the scheduler.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for zero threads.
    pub fn build(mut self) -> Result<Scheduler> {
        if let Some(n) = self.threads {
            if n == 0 {
                return Err(Error::Config("threads must be at least 1".into()));
            }
            self.scheduler.threads = n;
        }
        Ok(self.scheduler)
    }
}

/// Options for one run.
#[derive(Default, Clone)]
pub struct RunOptions<'a> {
    order: Option<&'a Order>,
    cancel: Option<CancelToken>,
    subscribers: Vec<Arc<dyn Subscriber>>,
}

impl<'a> RunOptions<'a> {
    /// Default options: order computed by the run, no cancel token, no extra subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses a precomputed [`Order`] of the same graph and outputs.
    pub fn order(mut self, order: &'a Order) -> Self {
        self.order = Some(order);
        self
    }

    /// Stops the run when `token` is cancelled.
    pub fn cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Adds a subscriber for this run only.
    pub fn subscriber(mut self, s: Arc<dyn Subscriber>) -> Self {
        self.subscribers.push(s);
        self
    }
}
