//! Lowering delayed nodes to a [`Graph`]: each node once, dependencies first.

use std::collections::HashMap;
use std::sync::Arc;

use floe_graph::{GraphBuilder, TaskId};

use super::Node;
use crate::Result;

/// Adds the tasks of everything `root` depends on to `builder` and returns the root's id.
/// `ids` remembers the nodes already added: a node reachable from several roots, or along
/// several paths, becomes one task.
pub(crate) fn lower_into(
    builder: &mut GraphBuilder,
    ids: &mut HashMap<*const Node, TaskId>,
    root: &Arc<Node>,
) -> Result<TaskId> {
    let mut deps: Vec<TaskId> = Vec::new();
    // (node, its dependencies have been pushed)
    let mut stack: Vec<(&Arc<Node>, bool)> = Vec::new();
    {
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
    Ok(ids[&Arc::as_ptr(root)])
}
