//! Lowering delayed nodes to a [`Graph`]: each node once, dependencies first.

use std::collections::HashMap;
use std::sync::Arc;

use floe_graph::{Graph, GraphBuilder, TaskId};

use super::Node;
use crate::Result;

/// The graph of everything `roots` depend on, and the roots' ids in it. A node reachable
/// from several roots, or along several paths, becomes one task.
pub(crate) fn lower(roots: &[&Arc<Node>]) -> Result<(Graph, Vec<TaskId>)> {
    let mut ids: HashMap<*const Node, TaskId> = HashMap::new();
    let mut builder = GraphBuilder::default();
    let mut deps: Vec<TaskId> = Vec::new();
    // (node, its dependencies have been pushed)
    let mut stack: Vec<(&Arc<Node>, bool)> = Vec::new();
    for root in roots {
        stack.push((root, false));
        while let Some((node, expanded)) = stack.pop() {
            let ptr = Arc::as_ptr(node);
            if ids.contains_key(&ptr) {
                continue;
            }
            if expanded {
                deps.clear();
                deps.extend(node.deps.iter().map(|d| ids[&Arc::as_ptr(d)]));
                let id = builder.add(node.key.clone(), &deps, node.op.clone())?;
                ids.insert(ptr, id);
            } else {
                stack.push((node, true));
                for d in node.deps.iter().rev() {
                    if !ids.contains_key(&Arc::as_ptr(d)) {
                        stack.push((d, false));
                    }
                }
            }
        }
    }
    let outputs = roots.iter().map(|r| ids[&Arc::as_ptr(r)]).collect();
    Ok((builder.build(), outputs))
}
