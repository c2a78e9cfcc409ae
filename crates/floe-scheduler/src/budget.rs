//! The memory budget: a bound on the bytes held between tasks.
//!
//! # Policy
//!
//! Without a budget none of this runs: no counters, locks or clock reads are added to the
//! hot path. With one, every task is *admitted* before it starts:
//!
//! - Its *need* is the bytes it will add: its output (the size its [`TaskHints`] declare;
//!   else the largest output seen so far of tasks with the same key name; else the largest
//!   output seen at all; else, before any task has finished, the whole budget) plus the bytes of any input that was evicted and must come back.
//! - It is admitted when `held + reserved + need ≤ limit`; `reserved` counts the needs of
//!   admitted tasks until they finish, so concurrent workers cannot overbook.
//! - Otherwise held values are *evicted* to make room, furthest next use first (the lowest
//!   priority among a value's dependents that have not started): one that a dependency-free,
//!   repeatable task made (a file read, a seeded generator, either fused with an elementwise
//!   chain) is *dropped* and rebuilt by running the task again when needed, if that took no
//!   longer than writing and reading it back would; otherwise a value with a
//!   [`SpillCodec`](floe_graph::SpillCodec) is *spilled* to a file. Values needed before the
//!   task itself are not evicted for it (that would trade one read for another), outputs are
//!   never evicted, and values in use by a running task are not either (that would free
//!   nothing).
//! - A task that still does not fit waits, unless no task is running: then it runs anyway,
//!   after evicting whatever can be (a run never stalls). The worker first looks past it, a
//!   few entries down the ready queues, for a task that fits, and sleeps only if none does;
//!   it is woken when a task finishes or a value is freed, never by polling.
//! - A task whose declared inputs and output alone exceed the budget is refused before the
//!   run starts ([`Error::TaskTooLarge`]).
//!
//! So the bytes held stay within the budget whenever each task fits alone and the output
//! sizes are known (the array library declares every block's size); memory a task uses
//! inside its operation (temporaries) is not counted.
//!
//! # Tests
//!
//! `tests/it/budget.rs`: random graphs under random budgets (same results, peak within the
//! budget, no stall), spill-file cleanup on success, error, panic and cancel, an unusable
//! spill directory, the refused task.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use floe_graph::{Graph, Order, TaskHints, TaskId, Value};
use parking_lot::Mutex;

use crate::spill::{SpillStore, Spilled};
use crate::{Error, Result};

/// What a task's output slot holds.
pub(crate) enum Slot {
    /// Not computed yet, or freed.
    Empty,
    /// In memory.
    Held(Value),
    /// On disk, read back when a dependent runs.
    Spilled(Spilled),
    /// Dropped; rebuilt by running its (repeatable, dependency-free) task again.
    Dropped(usize),
    /// Being read back or rebuilt by a worker, outside the slot's lock; the cell is
    /// locked until the value (or the failure) is in it.
    Restoring(Restoring),
}

/// Where a worker restoring a value leaves it for others that need it meanwhile.
pub(crate) type Restoring = Arc<Mutex<Option<std::result::Result<Value, String>>>>;

impl Slot {
    /// The bytes that must come back into memory before the value can be used.
    pub(crate) fn evicted_bytes(&self) -> usize {
        match self {
            Slot::Spilled(s) => s.nbytes(),
            Slot::Dropped(n) => *n,
            // A value being restored is counted by the task restoring it.
            Slot::Empty | Slot::Held(_) | Slot::Restoring(_) => 0,
        }
    }
}

/// The state of a budgeted run's memory bound (see the module docs).
pub(crate) struct Budget {
    pub(crate) limit: usize,
    /// Bytes promised to admitted tasks that have not finished.
    pub(crate) reserved: AtomicUsize,
    /// Serializes admission: pop, check, evict and reserve as one step.
    pub(crate) admit: Mutex<()>,
    /// Held values that could be evicted (not outputs), in no particular order.
    resident: Mutex<Vec<TaskId>>,
    /// Admitted tasks about to read each value: it must not be evicted under them.
    pins: Vec<AtomicU32>,
    /// Whether each task has started (its inputs' next use is past it).
    pub(crate) started: Vec<AtomicBool>,
    /// Each task's group: tasks with the same key name, whose outputs are alike in size.
    group: Vec<u32>,
    group_max: Vec<AtomicUsize>,
    largest: AtomicUsize,
    /// How long each repeatable source took, in microseconds (0: not run yet).
    source_micros: Vec<AtomicU32>,
    pub(crate) spill: SpillStore,
    recomputed: AtomicUsize,
    /// Workers waiting for room, and a count of events that may have made some.
    pub(crate) waiting: AtomicUsize,
    pub(crate) epoch: AtomicU64,
}

impl Budget {
    pub(crate) fn new(graph: &Graph, limit: usize, spill: SpillStore) -> Self {
        let mut names: HashMap<&str, u32> = HashMap::new();
        let group: Vec<u32> = graph
            .ids()
            .map(|t| {
                let next = names.len() as u32;
                *names.entry(graph.key(t).name()).or_insert(next)
            })
            .collect();
        let n = graph.len();
        let atomics = |k: usize| (0..k).map(|_| AtomicUsize::new(0)).collect();
        Self {
            limit,
            reserved: AtomicUsize::new(0),
            admit: Mutex::new(()),
            resident: Mutex::new(Vec::new()),
            pins: (0..n).map(|_| AtomicU32::new(0)).collect(),
            started: (0..n).map(|_| AtomicBool::new(false)).collect(),
            group_max: atomics(names.len()),
            group,
            largest: AtomicUsize::new(0),
            source_micros: (0..n).map(|_| AtomicU32::new(0)).collect(),
            spill,
            recomputed: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            epoch: AtomicU64::new(0),
        }
    }

    /// The bytes `task`'s output is expected to hold.
    pub(crate) fn expected_output(&self, hints: TaskHints, task: TaskId) -> usize {
        hints
            .scratch()
            .saturating_add(self.expected_result(hints, task))
    }

    fn expected_result(&self, hints: TaskHints, task: TaskId) -> usize {
        if let Some(n) = hints.nbytes() {
            return n;
        }
        match self.group_max[self.group[task.index()] as usize].load(Ordering::Relaxed) {
            // Nothing has finished yet: expect the whole budget, so tasks of unknown size
            // start one at a time until one tells how large outputs are.
            0 => match self.largest.load(Ordering::Relaxed) {
                0 => self.limit,
                n => n,
            },
            n => n,
        }
    }

    /// Records a finished task's output size (and, for a repeatable source, its duration).
    pub(crate) fn observe(&self, task: TaskId, nbytes: usize, source_micros: Option<u32>) {
        self.group_max[self.group[task.index()] as usize].fetch_max(nbytes, Ordering::Relaxed);
        self.largest.fetch_max(nbytes, Ordering::Relaxed);
        if let Some(us) = source_micros {
            self.source_micros[task.index()].store(us.max(1), Ordering::Relaxed);
        }
    }

    pub(crate) fn pin(&self, task: TaskId) {
        self.pins[task.index()].fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn unpin(&self, task: TaskId) {
        self.pins[task.index()].fetch_sub(1, Ordering::AcqRel);
    }

    /// A held value that may be evicted later.
    pub(crate) fn add_resident(&self, task: TaskId) {
        self.resident.lock().push(task);
    }

    /// A value no longer held.
    pub(crate) fn remove_resident(&self, task: TaskId) {
        let mut r = self.resident.lock();
        if let Some(i) = r.iter().rposition(|t| *t == task) {
            r.swap_remove(i);
        }
    }

    /// Something that may make room happened: wake the workers waiting for it.
    pub(crate) fn changed(&self) -> bool {
        // SeqCst against the waiter's `waiting` increment and `epoch` read: one of the two
        // sides sees the other.
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.waiting.load(Ordering::SeqCst) > 0
    }

    pub(crate) fn count_recomputed(&self, nbytes: usize) {
        self.recomputed.fetch_add(nbytes, Ordering::Relaxed);
    }

    pub(crate) fn recomputed(&self) -> usize {
        self.recomputed.load(Ordering::Relaxed)
    }

    /// Whether dropping `task`'s output and running it again is cheaper than writing it to
    /// disk and reading it back: its measured run time against the measured spill speed
    /// (twice: out and in).
    fn rebuild_is_cheaper(&self, task: TaskId, nbytes: usize) -> bool {
        let micros = self.source_micros[task.index()].load(Ordering::Relaxed);
        if micros == 0 {
            return true;
        }
        let spill_micros = 2.0 * nbytes as f64 * self.spill.nanos_per_byte() / 1000.0;
        f64::from(micros) <= spill_micros
    }

    /// The held values, most worth evicting first: (next use, task). Values needed no
    /// later than `before` are left out unless `any` is set.
    pub(crate) fn candidates(
        &self,
        graph: &Graph,
        priority: &[u32],
        before: u32,
        any: bool,
    ) -> Vec<(u32, TaskId)> {
        let resident = self.resident.lock();
        let mut out: Vec<(u32, TaskId)> = resident
            .iter()
            .filter(|t| self.pins[t.index()].load(Ordering::Acquire) == 0)
            .filter_map(|&t| {
                let next = graph
                    .dependents(t)
                    .iter()
                    .filter(|d| {
                        priority[d.index()] != u32::MAX
                            && !self.started[d.index()].load(Ordering::Acquire)
                    })
                    .map(|d| priority[d.index()])
                    .min()?;
                (any || next > before).then_some((next, t))
            })
            .collect();
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    }

    /// The bytes evicting the value in `slot` (task `task`'s output) would free: 0 if it is
    /// not held, is in use or pinned, or can be neither rebuilt nor spilled.
    pub(crate) fn evictable_bytes(&self, graph: &Graph, task: TaskId, slot: &Slot) -> usize {
        let Slot::Held(value) = slot else {
            return 0;
        };
        let free = !value.is_shared() && self.pins[task.index()].load(Ordering::Acquire) == 0;
        if free && (rebuildable(graph, task) || value.codec().is_some()) {
            value.nbytes()
        } else {
            0
        }
    }

    /// Evicts the value in `slot` (task `task`'s output) if it can be: returns the bytes
    /// freed (0 if it could not be evicted).
    ///
    /// # Errors
    ///
    /// [`Error::Spill`] if it had to be spilled and the file could not be written.
    pub(crate) fn evict(&self, graph: &Graph, task: TaskId, slot: &mut Slot) -> Result<usize> {
        let nbytes = self.evictable_bytes(graph, task, slot);
        let Slot::Held(value) = &*slot else {
            return Ok(0);
        };
        if nbytes == 0 {
            return Ok(0);
        }
        // Evictable (nbytes > 0): rebuildable, or spillable, or both.
        let rebuild = rebuildable(graph, task) && self.rebuild_is_cheaper(task, nbytes);
        let evicted = match value.codec() {
            Some(codec) if !rebuild => Slot::Spilled(self.spill.write(task, value, codec)?),
            _ => Slot::Dropped(nbytes),
        };
        *slot = evicted;
        Ok(nbytes)
    }
}

/// Whether `task`'s output can be dropped and rebuilt by running the task again: it is
/// repeatable and needs no input (a read, a seeded generator, with its fused chain).
pub(crate) fn rebuildable(graph: &Graph, task: TaskId) -> bool {
    graph.dependencies(task).is_empty() && graph.task(task).hints().is_repeatable()
}

/// Refuses, before a budgeted run starts, a needed task whose declared inputs and output
/// alone exceed the budget.
///
/// # Errors
///
/// [`Error::TaskTooLarge`] naming the first such task in the order.
pub(crate) fn check_footprints(
    graph: &Graph,
    outputs: &[TaskId],
    order: &Order,
    limit: usize,
) -> Result<()> {
    for &t in order.sequence() {
        let hints = graph.task(t).hints();
        let out = hints.nbytes().unwrap_or(0).saturating_add(hints.scratch());
        let deps = graph.dependencies(t);
        let inputs: usize = deps
            .iter()
            .filter_map(|d| graph.task(*d).hints().nbytes())
            .sum();
        let footprint = out.saturating_add(inputs);
        if footprint > limit {
            return Err(Error::TaskTooLarge {
                key: graph.key(t).clone(),
                footprint,
                inputs: deps.len(),
                limit,
                fits: limit / (deps.len() + 1),
                output: outputs.contains(&t),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_graph::Key;

    #[test]
    fn rebuilding_wins_when_the_source_is_faster_than_a_spill_round_trip() {
        let mut b = Graph::builder();
        for i in 0..3 {
            b.add_fn(Key::new("load", &[i]), &[], |_| Ok(Value::unit()))
                .unwrap();
        }
        let g = b.build();
        let budget = Budget::new(&g, 1 << 30, SpillStore::new(std::env::temp_dir()));
        let (fast, slow, unknown) = (
            TaskId::from_index(0),
            TaskId::from_index(1),
            TaskId::from_index(2),
        );
        // Before any spill, writing and reading back is taken to cost 2 ns a byte: 2 ms a MB.
        budget.observe(fast, 1 << 20, Some(300));
        budget.observe(slow, 1 << 20, Some(50_000));
        assert!(budget.rebuild_is_cheaper(fast, 1 << 20));
        assert!(!budget.rebuild_is_cheaper(slow, 1 << 20));
        assert!(
            budget.rebuild_is_cheaper(unknown, 1 << 20),
            "never timed: rebuild"
        );
        // Outputs of one name are expected to be alike.
        assert_eq!(budget.expected_output(TaskHints::new(), unknown), 1 << 20);
        assert_eq!(
            budget.expected_output(TaskHints::new().output_bytes(5), unknown),
            5
        );
    }
}
