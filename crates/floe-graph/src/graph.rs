//! The frozen task graph: tasks in a `Vec`, dependencies and dependents as CSR index arrays.
//!
//! Invariant: every dependency of a task has a smaller [`TaskId`] than the task itself.
//! [`GraphBuilder::add`] refuses unknown dependencies, so a graph is acyclic by
//! construction and ids are a topological order; the passes rely on this.

use std::fmt;

use crate::{GraphError, Key, Operation, Result, Task, TaskHints, TaskResult, Value};

/// A dense task identifier: the task's position in its [`Graph`].
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u32);

impl TaskId {
    /// The id of the task at `index`.
    ///
    /// # Panics
    ///
    /// If `index` does not fit in a `u32` (graphs never hold that many tasks).
    pub fn from_index(index: usize) -> Self {
        Self(u32::try_from(index).expect("task index exceeds u32"))
    }

    /// The position of the task in its graph.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An immutable task graph.
///
/// Build one with [`Graph::builder`]; run it with `floe-scheduler`; transform it with
/// [`cull`](crate::cull), [`fuse`](crate::fuse) and [`order`](crate::order).
///
/// # Examples
///
/// ```
/// use floe_graph::{Graph, Key, Value};
///
/// let mut b = Graph::builder();
/// let x = b.add_fn(Key::named("x"), &[], |_| Ok(Value::new(2_i64)))?;
/// let y = b.add_fn(Key::named("y"), &[x, x], |v| {
///     let a = v[0].downcast_ref::<i64>().unwrap();
///     let b = v[1].downcast_ref::<i64>().unwrap();
///     Ok(Value::new(a * b))
/// })?;
/// let g = b.build();
/// assert_eq!(g.len(), 2);
/// assert_eq!(g.dependencies(y), &[x, x]);
/// assert_eq!(g.dependents(x), &[y, y]);
/// # Ok::<(), floe_graph::GraphError>(())
/// ```
pub struct Graph {
    tasks: Vec<Task>,
    dep_start: Vec<u32>,
    deps: Vec<TaskId>,
    dependent_start: Vec<u32>,
    dependents: Vec<TaskId>,
}

impl Graph {
    /// A builder for a new graph.
    pub fn builder() -> GraphBuilder {
        GraphBuilder::default()
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the graph has no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The number of dependency edges (a task that uses one input twice counts twice).
    pub fn edge_count(&self) -> usize {
        self.deps.len()
    }

    /// Whether `id` names a task of this graph.
    pub fn contains(&self, id: TaskId) -> bool {
        id.index() < self.tasks.len()
    }

    /// The ids of all tasks, in topological order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = TaskId> + use<> {
        (0..self.tasks.len() as u32).map(TaskId)
    }

    /// The task `id`.
    ///
    /// # Panics
    ///
    /// If `id` is not a task of this graph.
    pub fn task(&self, id: TaskId) -> &Task {
        &self.tasks[id.index()]
    }

    /// The key of task `id`.
    ///
    /// # Panics
    ///
    /// If `id` is not a task of this graph.
    pub fn key(&self, id: TaskId) -> &Key {
        self.tasks[id.index()].key()
    }

    /// The tasks whose outputs `id` takes as inputs, in input order.
    ///
    /// # Panics
    ///
    /// If `id` is not a task of this graph.
    pub fn dependencies(&self, id: TaskId) -> &[TaskId] {
        let i = id.index();
        &self.deps[self.dep_start[i] as usize..self.dep_start[i + 1] as usize]
    }

    /// The tasks that take `id`'s output as an input, in increasing id order.
    ///
    /// # Panics
    ///
    /// If `id` is not a task of this graph.
    pub fn dependents(&self, id: TaskId) -> &[TaskId] {
        let i = id.index();
        &self.dependents[self.dependent_start[i] as usize..self.dependent_start[i + 1] as usize]
    }

    /// Checks that every id in `ids` is a task of this graph.
    ///
    /// # Errors
    ///
    /// [`GraphError::UnknownTask`] naming the first id that is not.
    pub fn check_ids(&self, ids: &[TaskId]) -> Result<()> {
        match ids.iter().find(|id| !self.contains(**id)) {
            Some(&id) => Err(GraphError::UnknownTask {
                id,
                len: self.len(),
            }),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for id in self.ids() {
            list.entry(
                &format_args!("{id:?} {}", self.key(id)),
                &self.dependencies(id),
            );
        }
        list.finish()
    }
}

/// Builds a [`Graph`] one task at a time; a task's dependencies must already be in it.
#[derive(Default)]
pub struct GraphBuilder {
    tasks: Vec<Task>,
    dep_start: Vec<u32>,
    deps: Vec<TaskId>,
}

impl GraphBuilder {
    /// A builder with room for `tasks` tasks and `edges` dependency edges.
    pub fn with_capacity(tasks: usize, edges: usize) -> Self {
        Self {
            tasks: Vec::with_capacity(tasks),
            dep_start: Vec::with_capacity(tasks + 1),
            deps: Vec::with_capacity(edges),
        }
    }

    /// The number of tasks added so far.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task has been added yet.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Adds a task computing `op` over the outputs of `deps` (in that order).
    ///
    /// # Errors
    ///
    /// [`GraphError::UnknownDependency`] if a dependency is not already in the graph;
    /// [`GraphError::TooLarge`] past `u32::MAX` tasks or edges.
    pub fn add(&mut self, key: Key, deps: &[TaskId], op: Operation) -> Result<TaskId> {
        self.add_task(Task::new(key, op), deps)
    }

    /// Adds a task with [`TaskHints`] for the memory budget; see [`GraphBuilder::add`].
    ///
    /// # Errors
    ///
    /// As [`GraphBuilder::add`].
    pub fn add_hinted(
        &mut self,
        key: Key,
        deps: &[TaskId],
        op: Operation,
        hints: TaskHints,
    ) -> Result<TaskId> {
        self.add_task(Task::new(key, op).with_hints(hints), deps)
    }

    /// Adds `task` over the outputs of `deps`; see [`GraphBuilder::add`].
    ///
    /// # Errors
    ///
    /// As [`GraphBuilder::add`].
    pub fn add_task(&mut self, task: Task, deps: &[TaskId]) -> Result<TaskId> {
        let key = task.key().clone();
        if let Some(&bad) = deps.iter().find(|d| d.index() >= self.tasks.len()) {
            return Err(GraphError::UnknownDependency {
                task: key,
                dependency: bad,
            });
        }
        let id = u32::try_from(self.tasks.len()).map_err(|_| GraphError::TooLarge)?;
        if self.deps.len() + deps.len() >= u32::MAX as usize {
            return Err(GraphError::TooLarge);
        }
        if self.dep_start.is_empty() {
            self.dep_start.push(0);
        }
        self.deps.extend_from_slice(deps);
        self.dep_start.push(self.deps.len() as u32);
        self.tasks.push(task);
        Ok(TaskId(id))
    }

    /// Adds a task from a closure; see [`GraphBuilder::add`].
    ///
    /// # Errors
    ///
    /// As [`GraphBuilder::add`].
    pub fn add_fn<F>(&mut self, key: Key, deps: &[TaskId], f: F) -> Result<TaskId>
    where
        F: Fn(&[Value]) -> TaskResult + Send + Sync + 'static,
    {
        self.add(key, deps, std::sync::Arc::new(f))
    }

    /// Replaces the hints of task `id`, already added (a no-op for an id not in the builder).
    pub fn set_hints(&mut self, id: TaskId, hints: TaskHints) {
        if let Some(task) = self.tasks.get_mut(id.index()) {
            task.set_hints(hints);
        }
    }

    /// Freezes the graph, computing each task's dependents.
    pub fn build(mut self) -> Graph {
        if self.dep_start.is_empty() {
            self.dep_start.push(0);
        }
        let n = self.tasks.len();
        // Counting sort of the edges by dependency gives the dependents in id order.
        let mut dependent_start = vec![0_u32; n + 1];
        for d in &self.deps {
            dependent_start[d.index() + 1] += 1;
        }
        for i in 0..n {
            dependent_start[i + 1] += dependent_start[i];
        }
        let mut fill = dependent_start.clone();
        let mut dependents = vec![TaskId(0); self.deps.len()];
        for t in 0..n {
            for d in &self.deps[self.dep_start[t] as usize..self.dep_start[t + 1] as usize] {
                let slot = &mut fill[d.index()];
                dependents[*slot as usize] = TaskId(t as u32);
                *slot += 1;
            }
        }
        Graph {
            tasks: self.tasks,
            dep_start: self.dep_start,
            deps: self.deps,
            dependent_start,
            dependents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> Operation {
        std::sync::Arc::new(|_| Ok(Value::unit()))
    }

    #[test]
    fn unknown_dependencies_are_refused_so_graphs_stay_acyclic() {
        let mut b = Graph::builder();
        let a = b.add(Key::named("a"), &[], noop()).unwrap();
        let err = b.add(Key::named("b"), &[a, TaskId(7)], noop()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "task `b` depends on #7, which is not in the graph yet (dependencies must be added first)"
        );
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn dependents_are_the_transpose_of_dependencies() {
        let mut b = Graph::builder();
        let a = b.add(Key::named("a"), &[], noop()).unwrap();
        let c = b.add(Key::named("c"), &[], noop()).unwrap();
        let d = b.add(Key::named("d"), &[c, a], noop()).unwrap();
        let e = b.add(Key::named("e"), &[a, d, a], noop()).unwrap();
        let g = b.build();
        assert_eq!(g.dependents(a), &[d, e, e]);
        assert_eq!(g.dependents(c), &[d]);
        assert_eq!(g.dependents(d), &[e]);
        assert!(g.dependents(e).is_empty());
        assert_eq!(g.edge_count(), 5);
        assert!(g.check_ids(&[e]).is_ok());
        assert!(g.check_ids(&[TaskId(4)]).is_err());
    }

    #[test]
    fn an_empty_graph_is_valid() {
        let g = Graph::builder().build();
        assert!(g.is_empty());
        assert_eq!(g.ids().len(), 0);
    }
}
