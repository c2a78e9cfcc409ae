//! `order`: static priorities that keep memory small.
//!
//! The scheduler runs ready tasks lowest priority first, so the priorities decide which
//! results are alive at the same time. [`order`] fixes a *sequence* — the order a single
//! worker would run the graph in — and a task's priority is its position in it. Because any
//! task that is ready but not yet run comes later in the sequence, a worker that always picks
//! the ready task of lowest priority reproduces the sequence exactly.
//!
//! # Policy
//!
//! The sequence is built by simulating a run with two rules:
//!
//! 1. **Finish what is started.** When a task completes, the dependents it made ready go on
//!    a stack and run next, most recently readied first (depth first). They consume data
//!    that is already in memory, so running them frees memory, or at least does not load new
//!    data.
//! 2. **Otherwise follow a depth-first walk from the outputs.** When nothing is ready on the
//!    stack, the next task is the first not-yet-run task of a post-order walk that starts at
//!    the outputs (in the order requested) and visits each task's dependencies heaviest
//!    first, where a dependency's weight is the number of tasks below it (counted with
//!    repetition, saturating). Heavy subtrees first means that the small leftovers — a
//!    freshly loaded block that an anomaly waits on — are loaded late, just before they are
//!    consumed. The first unrun task in a post-order walk always has all its dependencies
//!    run, so this never stalls.
//!
//! What this achieves on the shapes that matter (pinned by the tests in `tests.rs`, each
//! with its graph drawn):
//!
//! - a tree reduction finishes each subtree before loading new leaves: the results held at
//!   once grow with the tree's depth, not its width;
//! - two reductions over the same blocks (`compute(x.sum(), x.max())`) consume each block in
//!   both before the next block is loaded;
//! - independent chains run one after another;
//! - `x - x.mean()` holds every block of `x` until the mean is known — unavoidable without
//!   recomputing `x` — but nothing more than that.
//!
//! # Cost
//!
//! Linear in tasks and edges, plus sorting each task's own dependencies and readied
//! dependents (small lists): O(V + E log d). No hashing, one pass per rule.

use crate::{Graph, TaskId, cull::needed};

#[cfg(test)]
mod tests;

/// The static order of a graph's tasks: a priority per task and the sequence it encodes.
///
/// # Examples
///
/// ```
/// use floe_graph::{order, Graph, Key, Value};
///
/// // Two leaves and their sum: both leaves before the sum.
/// let mut b = Graph::builder();
/// let x = b.add_fn(Key::new("x", &[0]), &[], |_| Ok(Value::unit()))?;
/// let y = b.add_fn(Key::new("x", &[1]), &[], |_| Ok(Value::unit()))?;
/// let s = b.add_fn(Key::named("sum"), &[x, y], |_| Ok(Value::unit()))?;
/// let g = b.build();
/// let o = order(&g, &[s]);
/// assert_eq!(o.sequence(), &[x, y, s]);
/// assert!(o.priority(x) < o.priority(s));
/// assert_eq!(o.max_results_held(&g, &[s]), 3);
/// # Ok::<(), floe_graph::GraphError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Order {
    priority: Vec<u32>,
    sequence: Vec<TaskId>,
}

impl Order {
    /// The priority of task `id` (lower runs first); `u32::MAX` for tasks the outputs do
    /// not need.
    ///
    /// # Panics
    ///
    /// If `id` is not a task of the ordered graph.
    pub fn priority(&self, id: TaskId) -> u32 {
        self.priority[id.index()]
    }

    /// The priorities of all tasks, indexed by task id.
    pub fn priorities(&self) -> &[u32] {
        &self.priority
    }

    /// The tasks the outputs need, in the order one worker would run them.
    pub fn sequence(&self) -> &[TaskId] {
        &self.sequence
    }

    /// Whether task `id` is needed by the outputs this order was made for.
    pub fn is_needed(&self, id: TaskId) -> bool {
        self.priority[id.index()] != u32::MAX
    }

    /// The largest number of results held at once when one worker runs the sequence,
    /// freeing each result as soon as its last dependent has run (outputs are kept).
    /// A task's output and its inputs are counted together, as they coexist while it runs.
    ///
    /// # Panics
    ///
    /// If `graph` or `outputs` are not the ones this order was made for.
    pub fn max_results_held(&self, graph: &Graph, outputs: &[TaskId]) -> usize {
        let mut is_output = vec![false; graph.len()];
        for o in outputs {
            is_output[o.index()] = true;
        }
        let mut waiting = vec![0_u32; graph.len()];
        for &t in &self.sequence {
            for d in graph.dependencies(t) {
                waiting[d.index()] += 1;
            }
        }
        let (mut held, mut peak) = (0_usize, 0_usize);
        for &t in &self.sequence {
            held += 1;
            peak = peak.max(held);
            for d in graph.dependencies(t) {
                waiting[d.index()] -= 1;
                if waiting[d.index()] == 0 && !is_output[d.index()] {
                    held -= 1;
                }
            }
        }
        peak
    }
}

/// Computes the static order of the tasks `outputs` need (see the module docs for the policy).
///
/// # Panics
///
/// If an output is not a task of `graph` (check with [`Graph::check_ids`] first).
pub fn order(graph: &Graph, outputs: &[TaskId]) -> Order {
    let n = graph.len();
    let needed = needed(graph, outputs);
    let post = postorder(graph, outputs, &needed);

    let mut post_rank = vec![u32::MAX; n];
    for (i, t) in post.iter().enumerate() {
        post_rank[t.index()] = i as u32;
    }
    let mut waiting: Vec<u32> = graph
        .ids()
        .map(|t| graph.dependencies(t).len() as u32)
        .collect();
    let mut done = vec![false; n];
    let mut sequence = Vec::with_capacity(post.len());
    let mut stack: Vec<TaskId> = Vec::new();
    let mut readied: Vec<TaskId> = Vec::new();
    let mut cursor = 0;
    while sequence.len() < post.len() {
        let t = match stack.pop() {
            Some(t) => t,
            None => {
                while done[post[cursor].index()] {
                    cursor += 1;
                }
                post[cursor]
            }
        };
        done[t.index()] = true;
        sequence.push(t);
        readied.clear();
        for &d in graph.dependents(t) {
            if !needed[d.index()] {
                continue;
            }
            waiting[d.index()] -= 1;
            if waiting[d.index()] == 0 {
                readied.push(d);
            }
        }
        // Pushed so that the earliest in the walk is popped first.
        readied.sort_unstable_by_key(|d| std::cmp::Reverse(post_rank[d.index()]));
        stack.extend_from_slice(&readied);
    }

    let mut priority = vec![u32::MAX; n];
    for (i, t) in sequence.iter().enumerate() {
        priority[t.index()] = i as u32;
    }
    Order { priority, sequence }
}

/// The post-order walk from the outputs, heaviest dependency first.
fn postorder(graph: &Graph, outputs: &[TaskId], needed: &[bool]) -> Vec<TaskId> {
    let n = graph.len();
    // Ids are topological, so one pass computes each task's weight from its dependencies'.
    let mut weight = vec![0_u64; n];
    for t in graph.ids().filter(|t| needed[t.index()]) {
        let below = graph
            .dependencies(t)
            .iter()
            .fold(0_u64, |acc, d| acc.saturating_add(weight[d.index()]));
        weight[t.index()] = below.saturating_add(1);
    }

    let mut visited = vec![false; n];
    let mut post = Vec::with_capacity(needed.iter().filter(|x| **x).count());
    // Each frame: a task and its dependencies still to visit, lightest at the end.
    let mut frames: Vec<(TaskId, usize)> = Vec::new();
    let mut pending: Vec<TaskId> = Vec::new();
    for &root in outputs {
        if visited[root.index()] {
            continue;
        }
        visited[root.index()] = true;
        push_frame(graph, root, &weight, &mut frames, &mut pending);
        while let Some(&(task, base)) = frames.last() {
            if pending.len() > base {
                let next = pending
                    .pop()
                    .expect("pending holds this frame's dependencies");
                if !visited[next.index()] {
                    visited[next.index()] = true;
                    push_frame(graph, next, &weight, &mut frames, &mut pending);
                }
            } else {
                frames.pop();
                post.push(task);
            }
        }
    }
    post
}

fn push_frame(
    graph: &Graph,
    task: TaskId,
    weight: &[u64],
    frames: &mut Vec<(TaskId, usize)>,
    pending: &mut Vec<TaskId>,
) {
    let base = pending.len();
    pending.extend_from_slice(graph.dependencies(task));
    // Popped from the end: lightest first in the slice, heaviest popped first; among equal
    // weights the first-listed dependency is visited first (stable sort, then reversed).
    let deps = &mut pending[base..];
    deps.reverse();
    deps.sort_by_key(|d| weight[d.index()]);
    frames.push((task, base));
}
