//! `plan`: what a run will do, without running it.
//!
//! The plan replays the static order as one worker would run it, with the sizes the tasks
//! declare ([`TaskHints`](floe_graph::TaskHints)), and keeps the same budget the scheduler
//! keeps: before a task starts, held values are evicted, furthest next use first, until its
//! output and evicted inputs fit; an evicted value made by a repeatable, dependency-free task
//! is counted as rebuilt when needed again, any other as spilled and read back (the plan
//! assumes it can be: every value the array library makes carries a spill codec, but a
//! value without one stays in memory, and a run holding such values can keep more than
//! planned — and more than the budget). Tasks that do
//! not declare a size count as 0 bytes and are reported. With several workers the measured
//! peak can be higher than the plan's (tasks run side by side), never above the budget
//! when every size is declared.

use std::fmt;

use floe_graph::{Graph, Order, TaskId, human_bytes};

use crate::Result;
use crate::budget::{check_footprints, rebuildable};

/// What a run of a graph will do: tasks, bytes, and the memory it will hold.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_graph::{Graph, Key, TaskHints, Value, order};
/// use floe_scheduler::plan;
///
/// // Two loads of 1000 bytes each, summed.
/// let mut b = Graph::builder();
/// let hint = TaskHints::new().output_bytes(1000).repeatable();
/// let loads: Vec<_> = (0..2)
///     .map(|i| b.add_hinted(Key::new("load", &[i]), &[], Arc::new(|_: &[Value]| {
///         Ok(Value::with_nbytes(vec![0_u8; 1000], 1000))
///     }), hint))
///     .collect::<Result<_, _>>()?;
/// let sum = b.add_hinted(Key::named("sum"), &loads, Arc::new(|_: &[Value]| {
///     Ok(Value::with_nbytes(0_u64, 8))
/// }), TaskHints::new().output_bytes(8))?;
/// let g = b.build();
/// let p = plan(&g, &[sum], &order(&g, &[sum]), None)?;
/// assert_eq!((p.tasks, p.source_bytes, p.peak_bytes), (3, 2000, 2008));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// Tasks that will run (rebuilds not counted).
    pub tasks: usize,
    /// Bytes made by tasks without inputs: read from files or generated.
    pub source_bytes: usize,
    /// Bytes of the requested outputs.
    pub output_bytes: usize,
    /// The budget planned for, if any.
    pub memory_limit: Option<usize>,
    /// The most bytes held at once under the budget (the scheduler's `peak_bytes`).
    pub peak_bytes: usize,
    /// The most bytes held at once without a budget, in the same order.
    pub unbounded_peak_bytes: usize,
    /// Bytes that will be rebuilt by running their (cheap, repeatable) tasks again.
    pub recomputed_bytes: usize,
    /// Bytes that will be written to spill files and read back.
    pub spilled_bytes: usize,
    /// Tasks that declare no output size (counted as 0 bytes).
    pub unsized_tasks: usize,
    /// The largest single task: its inputs and output together.
    pub largest_task_bytes: usize,
}

/// Plans a run of `graph` to `outputs` in `order` under `memory_limit` (see the module docs).
///
/// # Errors
///
/// [`Error::TaskTooLarge`](crate::Error::TaskTooLarge) if a task alone exceeds the budget,
/// as the run would.
pub fn plan(
    graph: &Graph,
    outputs: &[TaskId],
    order: &Order,
    memory_limit: Option<usize>,
) -> Result<Plan> {
    graph.check_ids(outputs)?;
    if let Some(limit) = memory_limit {
        check_footprints(graph, outputs, order, limit)?;
    }
    let seq = order.sequence();
    let size = |t: TaskId| graph.task(t).hints().nbytes().unwrap_or(0);
    // A task's priority is its position in the sequence (u32::MAX: not needed).
    let position = order.priorities();
    let mut is_output = vec![false; graph.len()];
    for o in outputs {
        is_output[o.index()] = true;
    }
    let mut left: Vec<usize> = graph
        .ids()
        .map(|t| {
            graph
                .dependents(t)
                .iter()
                .filter(|d| order.is_needed(**d))
                .count()
        })
        .collect();

    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Absent,
        Held,
        Evicted,
    }
    let mut state = vec![State::Absent; graph.len()];
    let mut resident: Vec<TaskId> = Vec::new();
    let mut plan = Plan {
        tasks: seq.len(),
        memory_limit,
        ..Plan::default()
    };
    let (mut held, mut unbounded) = (0_usize, 0_usize);
    for (i, &t) in seq.iter().enumerate() {
        let deps = graph.dependencies(t);
        let out = size(t);
        let need = out + graph.task(t).hints().scratch();
        if graph.task(t).hints().nbytes().is_none() {
            plan.unsized_tasks += 1;
        }
        if deps.is_empty() {
            plan.source_bytes += out;
        }
        plan.largest_task_bytes = plan
            .largest_task_bytes
            .max(need + deps.iter().map(|d| size(*d)).sum::<usize>());
        if let Some(limit) = memory_limit {
            let restore: usize = deps
                .iter()
                .filter(|d| state[d.index()] == State::Evicted)
                .map(|d| size(*d))
                .sum();
            while held + restore + need > limit {
                // Furthest next use first; never the task's own inputs.
                let next_use = |v: TaskId| {
                    graph
                        .dependents(v)
                        .iter()
                        .map(|d| position[d.index()] as usize)
                        .filter(|&p| p != u32::MAX as usize && p > i)
                        .min()
                        .unwrap_or(usize::MAX)
                };
                let victim = resident
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| !deps.contains(v) && size(**v) > 0)
                    .max_by_key(|(_, v)| next_use(**v))
                    .map(|(k, v)| (k, *v));
                let Some((k, v)) = victim else { break };
                resident.swap_remove(k);
                state[v.index()] = State::Evicted;
                held -= size(v);
            }
            for d in deps {
                if state[d.index()] == State::Evicted {
                    if rebuildable(graph, *d) {
                        plan.recomputed_bytes += size(*d);
                    } else {
                        plan.spilled_bytes += size(*d);
                    }
                    state[d.index()] = State::Held;
                    held += size(*d);
                    resident.push(*d);
                }
            }
        }
        held += out;
        unbounded += out;
        plan.peak_bytes = plan.peak_bytes.max(held);
        plan.unbounded_peak_bytes = plan.unbounded_peak_bytes.max(unbounded);
        state[t.index()] = State::Held;
        if !is_output[t.index()] {
            resident.push(t);
        } else {
            plan.output_bytes += out;
        }
        for d in deps {
            left[d.index()] -= 1;
            if left[d.index()] == 0 && !is_output[d.index()] {
                unbounded -= size(*d);
                if state[d.index()] == State::Held {
                    held -= size(*d);
                }
                state[d.index()] = State::Absent;
                if let Some(k) = resident.iter().position(|r| r == d) {
                    resident.swap_remove(k);
                }
            }
        }
    }
    if memory_limit.is_none() {
        plan.peak_bytes = plan.unbounded_peak_bytes;
    }
    Ok(plan)
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = human_bytes;
        writeln!(f, "tasks                {}", self.tasks)?;
        writeln!(f, "read or generated    {}", b(self.source_bytes))?;
        writeln!(f, "outputs              {}", b(self.output_bytes))?;
        match self.memory_limit {
            Some(l) => writeln!(f, "memory budget        {}", b(l))?,
            None => writeln!(f, "memory budget        none")?,
        }
        writeln!(f, "peak held            {}", b(self.peak_bytes))?;
        writeln!(f, "peak without budget  {}", b(self.unbounded_peak_bytes))?;
        writeln!(f, "largest task         {}", b(self.largest_task_bytes))?;
        writeln!(f, "recomputed           {}", b(self.recomputed_bytes))?;
        write!(f, "spilled              {}", b(self.spilled_bytes))?;
        if self.unsized_tasks > 0 {
            write!(
                f,
                "\n({} tasks declare no size and count as 0 bytes)",
                self.unsized_tasks
            )?;
        }
        Ok(())
    }
}
