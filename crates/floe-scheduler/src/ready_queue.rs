//! Where ready tasks wait: one priority heap per worker, and one shared queue of sources.
//!
//! A task made ready by a finished task goes on the finishing worker's own heap: its inputs
//! are hot in that core's cache. Sources (tasks without dependencies) wait in one shared
//! queue sorted by priority, claimed with a single atomic increment. A worker takes whichever
//! of its heap's best task and the next source has the lower priority; only when its heap is
//! empty does it look at the other workers' heaps (stealing their best task) before taking a
//! source, so new data is loaded only when nothing loaded can make progress.
//!
//! A heap entry packs `priority << 32 | task` in a `u64`, so comparisons are single integer
//! comparisons and ties cannot occur.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering};

use floe_graph::TaskId;
use parking_lot::Mutex;

/// Keeps each worker's heap on its own cache lines.
#[repr(align(128))]
struct Padded<T>(T);

pub(crate) struct ReadyQueues {
    heaps: Vec<Padded<Mutex<BinaryHeap<Reverse<u64>>>>>,
    sources: Vec<u64>,
    next_source: Padded<AtomicUsize>,
}

fn pack(priority: u32, task: TaskId) -> u64 {
    (u64::from(priority) << 32) | task.index() as u64
}

fn unpack(entry: u64) -> TaskId {
    TaskId::from_index((entry & 0xffff_ffff) as usize)
}

impl ReadyQueues {
    /// Queues for `workers` workers; `sources` are (priority, task) pairs in any order.
    pub(crate) fn new(workers: usize, sources: impl Iterator<Item = (u32, TaskId)>) -> Self {
        let mut sources: Vec<u64> = sources.map(|(p, t)| pack(p, t)).collect();
        sources.sort_unstable();
        Self {
            heaps: (0..workers)
                .map(|_| Padded(Mutex::new(BinaryHeap::new())))
                .collect(),
            sources,
            next_source: Padded(AtomicUsize::new(0)),
        }
    }

    /// Puts ready tasks on `worker`'s heap; returns how many tasks the heap now holds.
    pub(crate) fn push(&self, worker: usize, ready: &[(u32, TaskId)]) -> usize {
        let mut heap = self.heaps[worker].0.lock();
        heap.extend(ready.iter().map(|&(p, t)| Reverse(pack(p, t))));
        heap.len()
    }

    /// The next task for `worker` (see the module docs for the policy).
    pub(crate) fn pop(&self, worker: usize) -> Option<TaskId> {
        {
            let mut heap = self.heaps[worker].0.lock();
            if let Some(&Reverse(best)) = heap.peek() {
                if let Some(source) = self.claim_source_before(best) {
                    return Some(source);
                }
                heap.pop();
                return Some(unpack(best));
            }
        }
        self.steal(worker)
            .or_else(|| self.claim_source_before(u64::MAX))
    }

    /// The best waiting task of all: every worker's heap and the sources (the slow path of
    /// a budgeted run, which must not run a worse task while a better one waits elsewhere).
    pub(crate) fn pop_global(&self) -> Option<TaskId> {
        let mut heaps: Vec<_> = self.heaps.iter().map(|h| h.0.lock()).collect();
        let best_heap = heaps
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.peek().map(|&Reverse(e)| (e, i)))
            .min();
        let limit = best_heap.map_or(u64::MAX, |(e, _)| e);
        if let Some(source) = self.claim_source_before(limit) {
            return Some(source);
        }
        let (_, i) = best_heap?;
        heaps[i].pop().map(|Reverse(e)| unpack(e))
    }

    /// Claims the next source if its entry sorts before `limit`.
    fn claim_source_before(&self, limit: u64) -> Option<TaskId> {
        let cursor = &self.next_source.0;
        let mut i = cursor.load(Ordering::Relaxed);
        loop {
            let &entry = self.sources.get(i)?;
            if entry >= limit {
                return None;
            }
            match cursor.compare_exchange_weak(i, i + 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return Some(unpack(entry)),
                Err(now) => i = now,
            }
        }
    }

    /// Takes the best task from another worker's heap, if one has any.
    fn steal(&self, thief: usize) -> Option<TaskId> {
        let n = self.heaps.len();
        (1..n)
            .map(|k| (thief + k) % n)
            .find_map(|victim| self.heaps[victim].0.lock().pop())
            .map(|Reverse(entry)| unpack(entry))
    }

    /// Whether any task is waiting anywhere.
    pub(crate) fn has_work(&self) -> bool {
        self.next_source.0.load(Ordering::Relaxed) < self.sources.len()
            || self.heaps.iter().any(|h| !h.0.lock().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: usize) -> TaskId {
        TaskId::from_index(i)
    }

    #[test]
    fn lowest_priority_first_across_heap_and_sources() {
        let q = ReadyQueues::new(2, [(5, id(0)), (1, id(1))].into_iter());
        q.push(0, &[(3, id(2)), (0, id(3))]);
        let order: Vec<_> = std::iter::from_fn(|| q.pop(0)).collect();
        assert_eq!(order, [id(3), id(1), id(2), id(0)]);
        assert!(!q.has_work());
    }

    #[test]
    fn an_idle_worker_steals_before_loading_a_source() {
        let q = ReadyQueues::new(2, [(0, id(0))].into_iter());
        q.push(0, &[(9, id(1))]);
        assert_eq!(q.pop(1), Some(id(1)));
        assert_eq!(q.pop(1), Some(id(0)));
        assert_eq!(q.pop(1), None);
    }
}
