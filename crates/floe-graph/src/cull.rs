//! `cull`: keep only the tasks the requested outputs need.

use crate::{Graph, GraphBuilder, Result, TaskId};

/// Marks the tasks that `outputs` need, transitively (the outputs included).
///
/// # Panics
///
/// If an output is not a task of `graph` (check with [`Graph::check_ids`] first).
pub fn needed(graph: &Graph, outputs: &[TaskId]) -> Vec<bool> {
    let mut needed = vec![false; graph.len()];
    let mut stack: Vec<TaskId> = Vec::with_capacity(outputs.len());
    for &o in outputs {
        if !needed[o.index()] {
            needed[o.index()] = true;
            stack.push(o);
        }
    }
    while let Some(t) = stack.pop() {
        for &d in graph.dependencies(t) {
            if !needed[d.index()] {
                needed[d.index()] = true;
                stack.push(d);
            }
        }
    }
    needed
}

/// Returns the subgraph of the tasks that `outputs` need, and the outputs' ids in it.
///
/// Tasks keep their relative order, so the new ids are still a topological order.
///
/// # Examples
///
/// ```
/// use floe_graph::{cull, Graph, Key, Value};
///
/// let mut b = Graph::builder();
/// let a = b.add_fn(Key::named("a"), &[], |_| Ok(Value::unit()))?;
/// let _unused = b.add_fn(Key::named("unused"), &[a], |_| Ok(Value::unit()))?;
/// let c = b.add_fn(Key::named("c"), &[a], |_| Ok(Value::unit()))?;
/// let (g, outs) = cull(&b.build(), &[c])?;
/// assert_eq!(g.len(), 2);
/// assert_eq!(g.key(outs[0]).name(), "c");
/// # Ok::<(), floe_graph::GraphError>(())
/// ```
///
/// # Errors
///
/// [`GraphError::UnknownTask`](crate::GraphError::UnknownTask) if an output is not in `graph`.
pub fn cull(graph: &Graph, outputs: &[TaskId]) -> Result<(Graph, Vec<TaskId>)> {
    graph.check_ids(outputs)?;
    let needed = needed(graph, outputs);
    let kept = needed.iter().filter(|n| **n).count();
    let mut new_id = vec![TaskId::from_index(0); graph.len()];
    let mut builder = GraphBuilder::with_capacity(kept, graph.edge_count());
    let mut deps = Vec::new();
    for id in graph.ids().filter(|id| needed[id.index()]) {
        deps.clear();
        deps.extend(graph.dependencies(id).iter().map(|d| new_id[d.index()]));
        let task = graph.task(id);
        new_id[id.index()] = builder.add_task(task.clone(), &deps)?;
    }
    let outputs = outputs.iter().map(|o| new_id[o.index()]).collect();
    Ok((builder.build(), outputs))
}
