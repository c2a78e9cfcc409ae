//! One run of a graph: the state machine every executor drives.
//!
//! # State
//!
//! Per task, fixed before the run starts:
//! - `waiting_deps`: dependencies not finished yet. A task is *ready* when it reaches 0.
//! - `waiting_dependents`: needed dependents not finished yet. When it reaches 0 the
//!   task's result is freed, unless the task is a requested output.
//! - `slot`: the result, written once by the task, cloned (shared) by each dependent, taken
//!   out when the last dependent finishes.
//!
//! # Transitions of a worker
//!
//! ```text
//!            ┌──────── pop (own heap / steal / next source) ◄───────────┐
//!            ▼                                                          │
//!   run task: read inputs ─► call op ─► ok: store result, free spent     │
//!                                       inputs, push readied dependents ─┘
//!                                    └► error or panic: record the first error,
//!                                       stop every worker, free everything
//!   nothing to pop: flush the finished-task count; if it reaches 0 the run is
//!   complete; otherwise spin, then sleep until woken or a few ms pass.
//! ```
//!
//! The run ends when every needed task has finished, on the first failure, or when the
//! cancel token is set. Workers are scoped threads joined before the run returns, so no
//! thread outlives it; results still held are dropped with the state, so a failed run leaves
//! nothing behind.
//!
//! # Hot path
//!
//! Per task: one lock of the worker's own heap (uncontended unless someone steals), one
//! atomic decrement per edge in each direction, one lock per input slot to share the
//! input, no allocation beyond what the operation itself makes, and no clock read or event
//! unless someone subscribed. The finished-task count is flushed to the shared counter in
//! batches.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Instant;

use floe_graph::{Graph, Order, TaskError, TaskId, Value};
use parking_lot::Mutex;

use crate::ready_queue::ReadyQueues;
use crate::sleep::Sleep;
use crate::{CancelToken, Error, Event, Result, RunOutput, RunStats, Subscriber};

/// Finished-task counts are flushed to the shared counter at least this often.
const FLUSH_EVERY: usize = 256;

pub(crate) struct RunState<'a> {
    graph: &'a Graph,
    priority: &'a [u32],
    outputs: &'a [TaskId],
    is_output: Vec<bool>,
    waiting_deps: Vec<AtomicU32>,
    waiting_dependents: Vec<AtomicU32>,
    slots: Vec<Mutex<Option<Value>>>,
    queues: ReadyQueues,
    tasks: usize,
    remaining: AtomicUsize,
    stop: AtomicBool,
    error: Mutex<Option<Error>>,
    held: AtomicUsize,
    peak: AtomicUsize,
    /// Held bytes past which no new sources start while other work can run.
    memory_limit: Option<usize>,
    /// Tasks executing now, across workers.
    running: AtomicUsize,
    /// Sources (tasks without inputs) executing now.
    loading: AtomicUsize,
    /// The largest output of a source so far (0: none finished yet): the size a budgeted
    /// run expects of the next load.
    load_bytes: AtomicUsize,
    sleep: Sleep,
    subscribers: &'a [Arc<dyn Subscriber>],
    cancel: Option<&'a CancelToken>,
    threads: usize,
    start: Instant,
}

impl<'a> RunState<'a> {
    pub(crate) fn new(
        graph: &'a Graph,
        outputs: &'a [TaskId],
        order: &'a Order,
        threads: usize,
        memory_limit: Option<usize>,
        subscribers: &'a [Arc<dyn Subscriber>],
        cancel: Option<&'a CancelToken>,
    ) -> Self {
        let priority = order.priorities();
        let needed = |t: &TaskId| priority[t.index()] != u32::MAX;
        let mut is_output = vec![false; graph.len()];
        for o in outputs {
            is_output[o.index()] = true;
        }
        let waiting_deps = graph
            .ids()
            .map(|t| AtomicU32::new(graph.dependencies(t).len() as u32))
            .collect();
        let waiting_dependents = graph
            .ids()
            .map(
                |t| AtomicU32::new(graph.dependents(t).iter().filter(|d| needed(d)).count() as u32),
            )
            .collect();
        let sources = order
            .sequence()
            .iter()
            .filter(|t| graph.dependencies(**t).is_empty())
            .map(|&t| (priority[t.index()], t));
        let tasks = order.sequence().len();
        Self {
            graph,
            priority,
            outputs,
            is_output,
            waiting_deps,
            waiting_dependents,
            slots: graph.ids().map(|_| Mutex::new(None)).collect(),
            queues: ReadyQueues::new(threads, sources),
            tasks,
            remaining: AtomicUsize::new(tasks),
            stop: AtomicBool::new(tasks == 0),
            error: Mutex::new(None),
            held: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            memory_limit,
            running: AtomicUsize::new(0),
            loading: AtomicUsize::new(0),
            load_bytes: AtomicUsize::new(0),
            sleep: Sleep::default(),
            subscribers,
            cancel,
            threads,
            start: Instant::now(),
        }
    }

    pub(crate) fn announce(&self) {
        self.emit(|| Event::RunStarted {
            graph: self.graph,
            tasks: self.tasks,
            threads: self.threads,
            at: self.start,
        });
    }

    /// A worker's loop; returns when the run is over.
    pub(crate) fn work(&self, worker: usize) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.work_loop(worker)));
        if let Err(payload) = outcome {
            // Task panics are caught around the operation, so this is a subscriber's panic
            // or a bug of ours; either way the run stops and says so.
            let message = TaskError::from_panic(payload).to_string();
            let err = if self.subscribers.is_empty() {
                Error::Internal(format!("worker {worker} panicked: {message}"))
            } else {
                Error::SubscriberPanicked(message)
            };
            self.fail(err);
        }
    }

    fn work_loop(&self, worker: usize) {
        let mut inputs: Vec<Value> = Vec::new();
        let mut readied: Vec<(u32, TaskId)> = Vec::new();
        let mut finished = 0_usize;
        loop {
            if self.stop.load(Ordering::Acquire) {
                break;
            }
            if self.cancel.is_some_and(CancelToken::is_cancelled) {
                self.fail(Error::Cancelled);
                break;
            }
            match self.queues.pop(worker, self.may_load()) {
                Some(task) if !self.may_start(task) => {
                    // Over the budget, a task that frees nothing waits for one that does.
                    self.queues
                        .push(worker, &[(self.priority[task.index()], task)]);
                    self.flush(&mut finished);
                    self.sleep.idle(|| {
                        self.stop.load(Ordering::Acquire)
                            || self.cancel.is_some_and(CancelToken::is_cancelled)
                            || self.may_load()
                    });
                }
                Some(task) => {
                    // The counters serve the budget only: without one, no shared atomics.
                    let budgeted = self.memory_limit.is_some();
                    let source = budgeted && self.graph.dependencies(task).is_empty();
                    if budgeted {
                        self.running.fetch_add(1, Ordering::AcqRel);
                    }
                    if source {
                        self.loading.fetch_add(1, Ordering::AcqRel);
                    }
                    let go_on = self.execute(worker, task, &mut inputs, &mut readied);
                    if source {
                        self.loading.fetch_sub(1, Ordering::AcqRel);
                    }
                    if budgeted {
                        self.running.fetch_sub(1, Ordering::AcqRel);
                    }
                    if !go_on {
                        break;
                    }
                    finished += 1;
                    if finished == FLUSH_EVERY {
                        self.flush(&mut finished);
                    }
                }
                None => {
                    self.flush(&mut finished);
                    self.sleep.idle(|| {
                        self.stop.load(Ordering::Acquire)
                            || self.cancel.is_some_and(CancelToken::is_cancelled)
                            || (self.queues.has_work() && self.may_load())
                            || self.queues.has_non_source_work()
                    });
                }
            }
        }
        self.flush(&mut finished);
    }

    /// Whether a worker may start a source (load new data). Always without a memory budget.
    /// With one: when nothing else is running (so a run always makes progress: a budget
    /// throttles, it never deadlocks), or when the held bytes plus the loads in flight and
    /// this one — each expected as large as the largest load so far — stay within it. Until
    /// a first load has finished its size is unknown, so only one runs at a time.
    fn may_load(&self) -> bool {
        let Some(limit) = self.memory_limit else {
            return true;
        };
        if self.running.load(Ordering::Acquire) == 0 {
            return true;
        }
        let expected = self.load_bytes.load(Ordering::Relaxed);
        if expected == 0 {
            return self.loading.load(Ordering::Acquire) == 0
                && self.held.load(Ordering::Relaxed) <= limit;
        }
        let loads = self.loading.load(Ordering::Acquire) + 1;
        self.held
            .load(Ordering::Relaxed)
            .saturating_add(loads.saturating_mul(expected))
            <= limit
    }

    /// Whether `task` may start now: always within the budget (or without one); over it,
    /// only if it is the last consumer of one of its inputs (running it frees memory), or if
    /// nothing else is running. Tasks that only add data — loads, and loads fused with their
    /// first use — wait until the held bytes fall.
    fn may_start(&self, task: TaskId) -> bool {
        if self.may_load() {
            return true;
        }
        self.graph.dependencies(task).iter().any(|d| {
            !self.is_output[d.index()]
                && self.waiting_dependents[d.index()].load(Ordering::Acquire) == 1
        })
    }

    /// Adds `finished` to the shared count; the worker that brings it to zero ends the run.
    fn flush(&self, finished: &mut usize) {
        let n = std::mem::take(finished);
        if n == 0 {
            return;
        }
        let before = self.remaining.fetch_sub(n, Ordering::AcqRel);
        if before < n {
            self.fail(Error::Internal("more tasks finished than were run".into()));
        } else if before == n {
            self.stop.store(true, Ordering::Release);
            self.sleep.wake_all();
        }
    }

    /// Runs one task; false if the run must stop.
    fn execute(
        &self,
        worker: usize,
        task: TaskId,
        inputs: &mut Vec<Value>,
        readied: &mut Vec<(u32, TaskId)>,
    ) -> bool {
        let graph = self.graph;
        let key = graph.key(task);
        let deps = graph.dependencies(task);
        inputs.clear();
        for d in deps {
            match self.slots[d.index()].lock().clone() {
                Some(v) => inputs.push(v),
                None => {
                    self.fail(Error::Internal(format!(
                        "input {} of task `{key}` is missing",
                        graph.key(*d)
                    )));
                    return false;
                }
            }
        }
        let timed = !self.subscribers.is_empty();
        let start = timed.then(|| {
            let at = Instant::now();
            self.emit(|| Event::TaskStarted {
                task,
                key,
                worker,
                at,
            });
            at
        });
        let result = graph.task(task).run(inputs);
        inputs.clear();
        let value = match result {
            Ok(value) => value,
            Err(err) => {
                self.fail(Error::from_task(key, err));
                return false;
            }
        };

        let nbytes = value.nbytes();
        if deps.is_empty() && self.memory_limit.is_some() {
            self.load_bytes.fetch_max(nbytes.max(1), Ordering::Relaxed);
        }
        if nbytes > 0 {
            let now = self.held.fetch_add(nbytes, Ordering::Relaxed) + nbytes;
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
        *self.slots[task.index()].lock() = Some(value);

        for d in deps {
            let left = self.waiting_dependents[d.index()].fetch_sub(1, Ordering::AcqRel);
            if left == 1 && !self.is_output[d.index()] {
                let freed = self.slots[d.index()].lock().take();
                if let Some(bytes) = freed.map(|v| v.nbytes()).filter(|b| *b > 0) {
                    self.held.fetch_sub(bytes, Ordering::Relaxed);
                }
            }
        }

        readied.clear();
        for &d in graph.dependents(task) {
            let p = self.priority[d.index()];
            if p != u32::MAX && self.waiting_deps[d.index()].fetch_sub(1, Ordering::AcqRel) == 1 {
                readied.push((p, d));
            }
        }
        if !readied.is_empty() && self.queues.push(worker, readied) > 1 {
            self.sleep.wake_one();
        }

        if let Some(start) = start {
            self.emit(|| Event::TaskFinished {
                task,
                key,
                worker,
                start,
                duration: start.elapsed(),
                nbytes,
                held_bytes: self.held.load(Ordering::Relaxed),
            });
        }
        true
    }

    /// Records the first error and stops every worker.
    fn fail(&self, err: Error) {
        {
            let mut slot = self.error.lock();
            if slot.is_none() {
                *slot = Some(err);
            }
        }
        self.stop.store(true, Ordering::Release);
        self.sleep.wake_all();
    }

    fn emit<'e>(&'e self, event: impl FnOnce() -> Event<'e>) {
        if self.subscribers.is_empty() {
            return;
        }
        let event = event();
        for s in self.subscribers {
            s.on_event(&event);
        }
    }

    /// Ends the run: the outputs, or the first error; every other result is dropped.
    pub(crate) fn finish(self) -> Result<RunOutput> {
        let error = self.error.lock().take();
        let error = error.or_else(|| {
            (self.remaining.load(Ordering::Acquire) != 0)
                .then(|| Error::Internal("the run stopped before every task finished".into()))
        });
        let values = match &error {
            Some(_) => Vec::new(),
            None => self
                .outputs
                .iter()
                .map(|o| self.slots[o.index()].lock().clone().unwrap_or_default())
                .collect(),
        };
        if error.is_some() {
            // Free what the failed run still holds now, through the meter, so the statistics
            // show it returning to zero.
            for slot in &self.slots {
                if let Some(v) = slot.lock().take() {
                    self.held.fetch_sub(v.nbytes(), Ordering::Relaxed);
                }
            }
        }
        let held_bytes_at_end = self.held.load(Ordering::Relaxed);
        let stats = RunStats {
            tasks: self.tasks - self.remaining.load(Ordering::Acquire).min(self.tasks),
            threads: self.threads,
            wall: self.start.elapsed(),
            peak_bytes: self.peak.load(Ordering::Relaxed),
            held_bytes_at_end,
        };
        let caught = catch_unwind(AssertUnwindSafe(|| {
            self.emit(|| Event::RunFinished {
                stats: &stats,
                error: error.as_ref(),
            })
        }));
        if let Err(payload) = caught {
            let message = TaskError::from_panic(payload).to_string();
            return Err(error.unwrap_or(Error::SubscriberPanicked(message)));
        }
        match error {
            Some(e) => Err(e),
            None => Ok(RunOutput { values, stats }),
        }
    }
}
