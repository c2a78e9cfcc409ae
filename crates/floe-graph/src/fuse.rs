//! `fuse`: merge linear chains of tasks into one task each.
//!
//! A task `a` is fused into `b` when `b` is `a`'s only dependent, `a` is `b`'s only
//! dependency, and `a` is not a requested output. A chain `a1 → a2 → … → ak` becomes one
//! task with `ak`'s key and `a1`'s dependencies that runs the operations in turn, dropping
//! each intermediate as soon as the next stage has consumed it. This saves the scheduler a
//! round trip per stage and keeps intermediates out of the memory meter's way.
//!
//! Errors and panics inside a fused task still name the stage that failed
//! ([`TaskError::stage`](crate::TaskError::stage)).

use std::sync::Arc;

use crate::task::run_caught;
use crate::{
    Graph, GraphBuilder, Key, Operation, Result, Task, TaskHints, TaskId, TaskResult, Value,
};

/// Fuses linear chains of `graph`; returns the new graph and the outputs' ids in it.
///
/// # Examples
///
/// ```
/// use floe_graph::{fuse, Graph, Key, Value};
///
/// // load → clean → scale, and scale is the output: one task remains.
/// let mut b = Graph::builder();
/// let load = b.add_fn(Key::named("load"), &[], |_| Ok(Value::new(2_i64)))?;
/// let clean = b.add_fn(Key::named("clean"), &[load], |v| {
///     Ok(Value::new(*v[0].downcast_ref::<i64>().unwrap() + 1))
/// })?;
/// let scale = b.add_fn(Key::named("scale"), &[clean], |v| {
///     Ok(Value::new(*v[0].downcast_ref::<i64>().unwrap() * 10))
/// })?;
/// let (g, outs) = fuse(&b.build(), &[scale])?;
/// assert_eq!(g.len(), 1);
/// assert_eq!(g.key(outs[0]).name(), "scale");
/// let out = g.task(outs[0]).run(&[]).unwrap();
/// assert_eq!(out.downcast_ref::<i64>(), Some(&30));
/// # Ok::<(), floe_graph::GraphError>(())
/// ```
///
/// # Errors
///
/// [`GraphError::UnknownTask`](crate::GraphError::UnknownTask) if an output is not in `graph`.
pub fn fuse(graph: &Graph, outputs: &[TaskId]) -> Result<(Graph, Vec<TaskId>)> {
    graph.check_ids(outputs)?;
    let n = graph.len();
    let mut is_output = vec![false; n];
    for o in outputs {
        is_output[o.index()] = true;
    }
    // merges_into_next[a]: a is fused into its single dependent.
    let merges_into_next: Vec<bool> = graph
        .ids()
        .map(|a| {
            let ds = graph.dependents(a);
            !is_output[a.index()] && ds.len() == 1 && graph.dependencies(ds[0]).len() == 1
        })
        .collect();

    let tails = merges_into_next.iter().filter(|m| !**m).count();
    let mut builder = GraphBuilder::with_capacity(tails, graph.edge_count());
    let mut new_id = vec![TaskId::from_index(0); n];
    let mut chain: Vec<TaskId> = Vec::new();
    let mut deps = Vec::new();
    for tail in graph.ids().filter(|t| !merges_into_next[t.index()]) {
        chain.clear();
        chain.push(tail);
        let mut head = tail;
        while let [d] = graph.dependencies(head) {
            if !merges_into_next[d.index()] {
                break;
            }
            head = *d;
            chain.push(head);
        }
        chain.reverse();
        deps.clear();
        // A head's dependencies are tails of earlier chains, already renumbered.
        deps.extend(graph.dependencies(head).iter().map(|d| new_id[d.index()]));
        let task = graph.task(tail);
        let fused = if chain.len() == 1 {
            task.clone()
        } else {
            // The chain's output is the tail's; while stage i+1 runs, stage i's output is
            // alive too (and, before the tail, stage i+1's): that is its scratch. It can be
            // rebuilt only if every stage can.
            let mut hints = TaskHints::new();
            if let Some(n) = task.hints().nbytes() {
                hints = hints.output_bytes(n);
            }
            let size = |t: TaskId| graph.task(t).hints().nbytes().unwrap_or(0);
            let k = chain.len();
            let scratch = (0..k - 1)
                .map(|i| size(chain[i]) + if i + 2 < k { size(chain[i + 1]) } else { 0 })
                .max()
                .unwrap_or(0);
            hints = hints.scratch_bytes(scratch);
            if chain.iter().all(|&t| graph.task(t).hints().is_repeatable()) {
                hints = hints.repeatable();
            }
            let op = compose(chain.iter().map(|&t| graph.task(t)));
            Task::new(task.key().clone(), op).with_hints(hints)
        };
        new_id[tail.index()] = builder.add_task(fused, &deps)?;
    }
    let outputs = outputs.iter().map(|o| new_id[o.index()]).collect();
    Ok((builder.build(), outputs))
}

/// One operation running `stages` in turn, each on the previous one's output.
fn compose<'a>(stages: impl Iterator<Item = &'a crate::Task>) -> Operation {
    let stages: Vec<(Key, Operation)> = stages.map(|t| (t.key().clone(), t.op().clone())).collect();
    Arc::new(move |inputs: &[Value]| -> TaskResult {
        let run = |(key, op): &(Key, Operation), inputs: &[Value]| {
            run_caught(op, inputs).map_err(|e| e.at_stage(key))
        };
        let (first, rest) = stages
            .split_first()
            .expect("a fused chain has two or more stages");
        let mut value = run(first, inputs)?;
        for stage in rest {
            value = run(stage, std::slice::from_ref(&value))?;
        }
        Ok(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add_one(b: &mut GraphBuilder, name: &str, deps: &[TaskId]) -> TaskId {
        b.add_fn(Key::named(name), deps, |v| {
            let s: i64 = v.iter().map(|x| *x.downcast_ref::<i64>().unwrap()).sum();
            Ok(Value::new(s + 1))
        })
        .unwrap()
    }

    /// ```text
    ///  a → b → c ─┐
    ///             e → f     a, b, c become one task named c; d stays;
    ///  d ─────────┘         e (two inputs) and f become one task named f.
    /// ```
    #[test]
    fn chains_fuse_and_joins_stay() {
        let mut b = Graph::builder();
        let a = add_one(&mut b, "a", &[]);
        let bb = add_one(&mut b, "b", &[a]);
        let c = add_one(&mut b, "c", &[bb]);
        let d = add_one(&mut b, "d", &[]);
        let e = add_one(&mut b, "e", &[c, d]);
        let f = add_one(&mut b, "f", &[e]);
        let (g, outs) = fuse(&b.build(), &[f]).unwrap();
        let names: Vec<&str> = g.ids().map(|t| g.key(t).name()).collect();
        assert_eq!(names, ["c", "d", "f"]);
        assert_eq!(g.dependencies(outs[0]).len(), 2);
    }

    #[test]
    fn outputs_are_never_fused_away() {
        let mut b = Graph::builder();
        let a = add_one(&mut b, "a", &[]);
        let c = add_one(&mut b, "c", &[a]);
        let (g, outs) = fuse(&b.build(), &[a, c]).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g.key(outs[0]).name(), "a");
    }

    #[test]
    fn a_failing_stage_is_named() {
        let mut b = Graph::builder();
        let a = add_one(&mut b, "a", &[]);
        let bad = b
            .add_fn(Key::new("bad", &[3]), &[a], |_| panic!("boom"))
            .unwrap();
        let c = add_one(&mut b, "c", &[bad]);
        let (g, outs) = fuse(&b.build(), &[c]).unwrap();
        assert_eq!(g.len(), 1);
        let err = g.task(outs[0]).run(&[]).unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.stage(), Some(&Key::new("bad", &[3])));
    }
}
