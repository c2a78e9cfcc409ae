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
//!   nothing to pop: run a piece a running task offers (`floe_graph::split`), if any;
//!   else flush the finished-task count; if it reaches 0 the run is complete; otherwise
//!   spin, then sleep until woken or a few ms pass.
//! ```
//!
//! With a memory budget, a popped task is first *admitted* (see `budget.rs`): it starts when
//! its output and any evicted inputs fit, after evicting held values if needed; else the
//! worker looks a few tasks further for one that fits, and waits to be woken if none does.
//! Evicted inputs are brought back (read from their spill file, or rebuilt by running their
//! task again) by the worker that needs them, just before the task runs.
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

use floe_graph::{Board, Graph, Order, TaskError, TaskId, Value};
use parking_lot::Mutex;

use crate::budget::{Budget, Restoring, Slot};
use crate::ready_queue::ReadyQueues;
use crate::sleep::Sleep;
use crate::spill::SpillStore;
use crate::{CancelToken, Error, Event, Result, RunOutput, RunStats, Subscriber};

/// Finished-task counts are flushed to the shared counter at least this often.
const FLUSH_EVERY: usize = 256;

/// How many more ready tasks a worker tries when the best one does not fit the budget.
const LOOK_PAST: usize = 8;

pub(crate) struct RunState<'a> {
    graph: &'a Graph,
    priority: &'a [u32],
    outputs: &'a [TaskId],
    is_output: Vec<bool>,
    waiting_deps: Vec<AtomicU32>,
    waiting_dependents: Vec<AtomicU32>,
    slots: Vec<Mutex<Slot>>,
    queues: ReadyQueues,
    tasks: usize,
    remaining: AtomicUsize,
    stop: AtomicBool,
    error: Mutex<Option<Error>>,
    held: AtomicUsize,
    peak: AtomicUsize,
    /// The memory bound, when a budget is set.
    budget: Option<Budget>,
    /// Tasks executing now, across workers (kept only with a budget).
    running: AtomicUsize,
    sleep: Arc<Sleep>,
    /// Pieces of running tasks that idle workers take (see `floe_graph::split`).
    board: Arc<Board>,
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
        memory: Option<(usize, SpillStore)>,
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
        let sleep = Arc::new(Sleep::default());
        let board = Arc::new(Board::new(threads, {
            let sleep = Arc::clone(&sleep);
            move || sleep.wake_all()
        }));
        Self {
            graph,
            priority,
            outputs,
            is_output,
            waiting_deps,
            waiting_dependents,
            slots: graph.ids().map(|_| Mutex::new(Slot::Empty)).collect(),
            queues: ReadyQueues::new(threads, sources),
            tasks,
            remaining: AtomicUsize::new(tasks),
            stop: AtomicBool::new(tasks == 0),
            error: Mutex::new(None),
            held: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            budget: memory.map(|(limit, spill)| Budget::new(graph, limit, spill)),
            running: AtomicUsize::new(0),
            sleep,
            board,
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
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.board.enter(|| self.work_loop(worker));
        }));
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
            // With a budget, tasks are popped and admitted under one lock, so no worker
            // holds a task the others cannot see while they decide.
            let admitting = self.budget.as_ref().map(|b| b.admit.lock());
            let Some(popped) = self.queues.pop(worker) else {
                drop(admitting);
                // No task to start: help a running one with its pieces, if it offers any.
                self.board.set_idle(worker, true);
                if self.board.help() {
                    continue;
                }
                self.flush(&mut finished);
                self.sleep.idle(|| {
                    self.stop.load(Ordering::Acquire)
                        || self.cancel.is_some_and(CancelToken::is_cancelled)
                        || self.queues.has_work()
                        || self.board.has_work()
                });
                continue;
            };
            let (task, reserved) = match &self.budget {
                None => (popped, 0),
                Some(budget) => {
                    let seen = budget.epoch.load(Ordering::SeqCst);
                    let admitted = self.admit_some(budget, worker, popped);
                    drop(admitting);
                    match admitted {
                        Ok(Some(admitted)) => admitted,
                        Ok(None) => {
                            // Nothing fits while others run: help a running task with its
                            // pieces, or wait until one finishes or frees a value.
                            self.board.set_idle(worker, true);
                            if self.board.help() {
                                continue;
                            }
                            self.flush(&mut finished);
                            budget.waiting.fetch_add(1, Ordering::SeqCst);
                            self.sleep.idle(|| {
                                self.stop.load(Ordering::Acquire)
                                    || self.cancel.is_some_and(CancelToken::is_cancelled)
                                    || budget.epoch.load(Ordering::SeqCst) != seen
                            });
                            budget.waiting.fetch_sub(1, Ordering::SeqCst);
                            continue;
                        }
                        Err(e) => {
                            self.fail(e);
                            break;
                        }
                    }
                }
            };
            self.board.set_idle(worker, false);
            let go_on = self.execute(worker, task, &mut inputs, &mut readied);
            if let Some(budget) = &self.budget {
                budget.reserved.fetch_sub(reserved, Ordering::AcqRel);
                self.running.fetch_sub(1, Ordering::AcqRel);
                if budget.changed() {
                    self.sleep.wake_all();
                }
            }
            if !go_on {
                break;
            }
            finished += 1;
            if finished == FLUSH_EVERY {
                self.flush(&mut finished);
            }
        }
        self.flush(&mut finished);
    }

    /// Admits `popped` if it fits and no worker waits; else goes the slow way: puts it back and tries the best
    /// ready tasks of all workers in priority order, the very best of them even if it does
    /// not fit when no task is running (so a run never stalls), the next few only if they
    /// fit (looking past a task that must wait to one that frees memory). Returns the task
    /// admitted and the bytes reserved for it, or `None` if none may start now.
    fn admit_some(
        &self,
        budget: &Budget,
        worker: usize,
        popped: TaskId,
    ) -> Result<Option<(TaskId, usize)>> {
        // The fast way only while no worker waits for room: else the room that frees
        // goes to the best ready task, not to whichever a worker happens to pop.
        if budget.waiting.load(Ordering::SeqCst) == 0
            && let Some(reserved) = self.admit(budget, popped, false)?
        {
            return Ok(Some((popped, reserved)));
        }
        self.queues
            .push(worker, &[(self.priority[popped.index()], popped)]);
        let mut refused: Vec<(u32, TaskId)> = Vec::new();
        let mut outcome = Ok(None);
        while refused.len() <= LOOK_PAST {
            let Some(task) = self.queues.pop_global() else {
                break;
            };
            match self.admit(budget, task, refused.is_empty()) {
                Ok(Some(reserved)) => {
                    outcome = Ok(Some((task, reserved)));
                    break;
                }
                Ok(None) => refused.push((self.priority[task.index()], task)),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if !refused.is_empty() {
            self.queues.push(worker, &refused);
        }
        outcome
    }

    /// Admits `task` if its need fits the budget, evicting held values needed after it to
    /// make room (see `budget.rs`). If `best` (it is the best ready task) and no task is
    /// running, evicts whatever can be and admits it even if it still does not fit. Pins
    /// its inputs until it has read them. Returns the bytes reserved, or `None` if it must
    /// wait. The caller holds the admission lock.
    fn admit(&self, budget: &Budget, task: TaskId, best: bool) -> Result<Option<usize>> {
        let graph = self.graph;
        let deps = graph.dependencies(task);
        let mut need = budget.expected_output(graph.task(task).hints(), task);
        for d in deps {
            budget.pin(*d);
            need = need.saturating_add(self.slots[d.index()].lock().evicted_bytes());
        }
        let alone = best && self.running.load(Ordering::Acquire) == 0;
        let fits = || {
            self.held
                .load(Ordering::Acquire)
                .saturating_add(budget.reserved.load(Ordering::Acquire))
                .saturating_add(need)
                <= budget.limit
        };
        if !fits() {
            let before = self.priority[task.index()];
            let victims = budget.candidates(graph, self.priority, before, alone);
            // Evict only if that makes the task fit (or it must run anyway): a refused
            // task must not spill what it then leaves behind.
            let evictable: usize = victims
                .iter()
                .map(|(_, v)| budget.evictable_bytes(graph, *v, &self.slots[v.index()].lock()))
                .sum();
            let room = self
                .held
                .load(Ordering::Acquire)
                .saturating_sub(evictable)
                .saturating_add(budget.reserved.load(Ordering::Acquire))
                .saturating_add(need)
                <= budget.limit;
            let victims = if room || alone { victims } else { Vec::new() };
            for (_, victim) in victims {
                let freed = budget.evict(graph, victim, &mut self.slots[victim.index()].lock());
                match freed {
                    Ok(0) => {}
                    Ok(freed) => {
                        self.held.fetch_sub(freed, Ordering::AcqRel);
                        budget.remove_resident(victim);
                        if fits() {
                            break;
                        }
                    }
                    Err(e) => {
                        deps.iter().for_each(|d| budget.unpin(*d));
                        return Err(e);
                    }
                }
            }
        }
        if fits() || alone {
            budget.reserved.fetch_add(need, Ordering::AcqRel);
            budget.started[task.index()].store(true, Ordering::Release);
            self.running.fetch_add(1, Ordering::AcqRel);
            Ok(Some(need))
        } else {
            deps.iter().for_each(|d| budget.unpin(*d));
            Ok(None)
        }
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
        let mut read = Ok(());
        for d in deps {
            match self.input(*d) {
                Ok(v) if read.is_ok() => inputs.push(v),
                Ok(_) => {}
                Err(e) => read = read.and(Err(e)),
            }
            if let Some(budget) = &self.budget {
                budget.unpin(*d);
            }
        }
        if let Err(e) = read {
            inputs.clear();
            self.fail(e);
            return false;
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
        // A budgeted run times its sources: the cost of rebuilding a dropped output.
        let source_clock = self
            .budget
            .as_ref()
            .filter(|_| deps.is_empty())
            .map(|_| start.unwrap_or_else(Instant::now));
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
        self.hold(task, value);
        if let Some(budget) = &self.budget {
            let micros =
                source_clock.map(|at| at.elapsed().as_micros().min(u32::MAX as u128) as u32);
            budget.observe(task, nbytes, micros);
        }

        for d in deps {
            let left = self.waiting_dependents[d.index()].fetch_sub(1, Ordering::AcqRel);
            if left == 1 && !self.is_output[d.index()] {
                self.release(*d);
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

    /// Counts `bytes` more held, and the peak.
    fn add_held(&self, bytes: usize) {
        if bytes > 0 {
            let now = self.held.fetch_add(bytes, Ordering::Relaxed) + bytes;
            self.peak.fetch_max(now, Ordering::Relaxed);
        }
    }

    /// Stores `task`'s output in its slot.
    fn hold(&self, task: TaskId, value: Value) {
        self.add_held(value.nbytes());
        *self.slots[task.index()].lock() = Slot::Held(value);
        if let Some(budget) = &self.budget
            && !self.is_output[task.index()]
        {
            budget.add_resident(task);
        }
    }

    /// Frees `task`'s output: its last dependent has finished.
    fn release(&self, task: TaskId) {
        let freed = std::mem::replace(&mut *self.slots[task.index()].lock(), Slot::Empty);
        match freed {
            Slot::Held(v) => {
                if v.nbytes() > 0 {
                    self.held.fetch_sub(v.nbytes(), Ordering::Relaxed);
                }
            }
            Slot::Spilled(s) => {
                if let Some(budget) = &self.budget {
                    budget.spill.remove(&s);
                }
            }
            Slot::Dropped(_) | Slot::Restoring(_) | Slot::Empty => {}
        }
        if let Some(budget) = &self.budget {
            budget.remove_resident(task);
        }
    }

    /// The output of `dep`, for a task about to run: shared if held, else brought back
    /// from its spill file or rebuilt by running its task again. The slot is not locked
    /// while that runs (admission looks at slots and must not wait on a disk read): it
    /// says `Restoring`, and a second task needing the value meanwhile waits for the first
    /// to bring it back rather than reading it again.
    fn input(&self, dep: TaskId) -> Result<Value> {
        let mut slot = self.slots[dep.index()].lock();
        let evicted = match &*slot {
            Slot::Held(v) => return Ok(v.clone()),
            Slot::Empty => {
                return Err(Error::Internal(format!(
                    "the output of `{}` is missing",
                    self.graph.key(dep)
                )));
            }
            Slot::Restoring(cell) => {
                let cell = Arc::clone(cell);
                drop(slot);
                let restored = cell.lock();
                return match &*restored {
                    Some(Ok(v)) => Ok(v.clone()),
                    Some(Err(e)) => Err(Error::Internal(format!(
                        "restoring `{}` failed: {e}",
                        self.graph.key(dep)
                    ))),
                    None => Err(Error::Internal(format!(
                        "`{}` was left half restored",
                        self.graph.key(dep)
                    ))),
                };
            }
            Slot::Spilled(_) | Slot::Dropped(_) => {
                let cell: Restoring = Arc::new(Mutex::new(None));
                let evicted = std::mem::replace(&mut *slot, Slot::Restoring(Arc::clone(&cell)));
                // Locked before the slot is released: whoever finds `Restoring` waits here.
                let mut restoring = cell.lock();
                drop(slot);
                let value = self.restore(dep, evicted);
                *restoring = Some(
                    value
                        .as_ref()
                        .map(Value::clone)
                        .map_err(ToString::to_string),
                );
                value?
            }
        };
        self.add_held(evicted.nbytes());
        *self.slots[dep.index()].lock() = Slot::Held(evicted.clone());
        if let Some(budget) = &self.budget {
            budget.add_resident(dep);
        }
        Ok(evicted)
    }

    /// Brings back a spilled or dropped value.
    fn restore(&self, dep: TaskId, evicted: Slot) -> Result<Value> {
        let budget = self.budget.as_ref().ok_or_else(|| {
            Error::Internal("a value was evicted in a run without a budget".into())
        })?;
        match evicted {
            Slot::Spilled(spilled) => budget.spill.read(&spilled),
            Slot::Dropped(_) => {
                let v = self
                    .graph
                    .task(dep)
                    .run(&[])
                    .map_err(|e| Error::from_task(self.graph.key(dep), e))?;
                budget.count_recomputed(v.nbytes());
                Ok(v)
            }
            _ => Err(Error::Internal(format!(
                "`{}` is not evicted",
                self.graph.key(dep)
            ))),
        }
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
        let mut values = Vec::new();
        let mut error = error;
        if error.is_none() {
            for o in self.outputs {
                match self.input(*o) {
                    Ok(v) => values.push(v),
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
        }
        if error.is_some() {
            // Free what the failed run still holds now, through the meter, so the statistics
            // show it returning to zero.
            values.clear();
            for slot in &self.slots {
                if let Slot::Held(v) = std::mem::replace(&mut *slot.lock(), Slot::Empty) {
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
            memory_limit: self.budget.as_ref().map(|b| b.limit),
            spilled_bytes: self.budget.as_ref().map_or(0, |b| b.spill.written()),
            recomputed_bytes: self.budget.as_ref().map_or(0, Budget::recomputed),
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
