//! `delayed`: wrap any function so that calling it on lazy values builds a task graph.
//!
//! ```text
//!   let a = delayed(load)(path);       a node: load(path), nothing runs
//!   let b = delayed(clean)(a.clone()); a node depending on a (clones share the node)
//!   b.compute()?                       lower the nodes to a graph, run it, return the value
//! ```
//!
//! A [`Delayed<T>`] is a node of an immutable expression DAG: its key, its operation, and
//! shared pointers to the nodes it consumes. Arguments are either other delayed values
//! (edges) or plain values, which are embedded in the task instead of becoming tasks of
//! their own. Nodes are shared, not copied: computing several results together
//! ([`compute`](crate::compute)) lowers each shared node once, so common work runs once.
//!
//! Functions take their arguments by reference (`Fn(&A, &B) -> R`): values flow between
//! tasks shared, never cloned. Operations run on worker threads, so they and their values
//! are `Send + Sync`. A panic in a function fails the computation with an error naming the
//! task; use the `try_` variants for functions that return `Result`.
//!
//! The memory meter counts a delayed value's shallow size (`size_of::<T>()`), as it cannot
//! see heap memory that `T` owns.

mod lower;

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use floe_graph::{Key, Operation, TaskError, Value};
use floe_scheduler::{RunStats, Scheduler};

use crate::Result;
pub(crate) use lower::lower_into;

/// A lazy value of type `T`: the result of a delayed call, computed by
/// [`Delayed::compute`].
///
/// Cloning shares the node (cheap).
///
/// # Examples
///
/// ```
/// use floe::{delayed, delayed2};
///
/// fn load(path: &String) -> Vec<f64> {
///     path.bytes().map(f64::from).collect()
/// }
/// fn total(x: &Vec<f64>) -> f64 {
///     x.iter().sum()
/// }
///
/// let a = delayed(load)("ab".to_string());
/// let b = delayed(load)("cd".to_string());
/// let both = delayed2(|x: &f64, y: &f64| x + y)(delayed(total)(a), delayed(total)(b));
/// assert_eq!(both.compute()?, f64::from(b'a' + b'b') + f64::from(b'c' + b'd'));
/// # Ok::<(), floe::Error>(())
/// ```
pub struct Delayed<T> {
    node: Arc<Node>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Self {
            node: self.node.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Delayed({})", self.node.key)
    }
}

/// A node of the expression DAG (opaque outside the crate).
pub struct Node {
    pub(crate) key: Key,
    pub(crate) deps: Vec<Arc<Node>>,
    pub(crate) op: Operation,
}

impl Drop for Node {
    /// Drops long chains iteratively: the default recursive drop would overflow the stack
    /// on a chain of a few hundred thousand nodes.
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.deps);
        while let Some(node) = stack.pop() {
            if let Some(mut node) = Arc::into_inner(node) {
                stack.append(&mut node.deps);
            }
        }
    }
}

/// Numbers delayed calls, so keys of calls to the same function differ: `load (3,)`.
static CALLS: AtomicU32 = AtomicU32::new(0);

impl<T: Send + Sync + 'static> Delayed<T> {
    fn from_op(name: &Arc<str>, deps: Vec<Arc<Node>>, op: Operation) -> Self {
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        Self {
            node: Arc::new(Node {
                key: Key::with_shared_name(name.clone(), &[n]),
                deps,
                op,
            }),
            _type: PhantomData,
        }
    }

    /// A delayed value that is already known.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = floe::Delayed::value(vec![1, 2, 3]);
    /// assert_eq!(x.map(|v: &Vec<i32>| v.len()).compute()?, 3);
    /// # Ok::<(), floe::Error>(())
    /// ```
    pub fn value(x: T) -> Self {
        let x = Arc::new(x);
        let nbytes = std::mem::size_of::<T>();
        Self::from_op(
            &Arc::from("value"),
            Vec::new(),
            Arc::new(move |_| Ok(Value::from_arc(x.clone(), nbytes))),
        )
    }

    /// The key of the task that computes this value, e.g. `load (3,)`.
    pub fn key(&self) -> &Key {
        &self.node.key
    }

    /// The same computation under another name (shown in errors, progress and profiles).
    pub fn named(self, name: &str) -> Self {
        let index = self.node.key.index().to_vec();
        Self {
            node: Arc::new(Node {
                key: Key::new(name, &index),
                deps: self.node.deps.clone(),
                op: self.node.op.clone(),
            }),
            _type: PhantomData,
        }
    }

    /// Applies `f` to this value lazily: `x.map(f)` is `delayed(f)(&x)`.
    pub fn map<R, F>(&self, f: F) -> Delayed<R>
    where
        F: Fn(&T) -> R + Send + Sync + 'static,
        R: Send + Sync + 'static,
    {
        delayed(f)(self.clone())
    }

    /// A delayed list of the values of `items`, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe::{delayed, Delayed};
    ///
    /// let squares: Vec<_> = (1..=3).map(|i| delayed(|x: &i32| x * x)(i)).collect();
    /// let total = Delayed::collect(squares).map(|v: &Vec<i32>| v.iter().sum::<i32>());
    /// assert_eq!(total.compute()?, 14);
    /// # Ok::<(), floe::Error>(())
    /// ```
    pub fn collect(items: impl IntoIterator<Item = Delayed<T>>) -> Delayed<Vec<T>>
    where
        T: Clone,
    {
        let deps: Vec<Arc<Node>> = items.into_iter().map(|d| d.node).collect();
        Delayed::from_op(
            &Arc::from("collect"),
            deps,
            Arc::new(|inputs: &[Value]| {
                let items = inputs
                    .iter()
                    .enumerate()
                    .map(|(i, v)| input::<T>(v, i).cloned())
                    .collect::<std::result::Result<Vec<T>, _>>()?;
                Ok(Value::new(items))
            }),
        )
    }

    /// Computes the value with the process-wide settings ([`crate::config`]).
    ///
    /// # Errors
    ///
    /// The first task that failed or panicked, by key; see [`crate::Error`].
    pub fn compute(&self) -> Result<T>
    where
        T: Clone,
    {
        crate::compute(self)
    }

    /// Computes the value on `scheduler`, also returning the run's statistics.
    ///
    /// # Errors
    ///
    /// As [`Delayed::compute`].
    pub fn compute_with(&self, scheduler: &Scheduler) -> Result<(T, RunStats)>
    where
        T: Clone,
    {
        crate::compute_with(self, scheduler)
    }

    pub(crate) fn node(&self) -> &Arc<Node> {
        &self.node
    }
}

/// The input at `position` as a `T`; an internal error if it is not (types are checked
/// when the graph is built, so this would be a bug).
fn input<T: 'static>(v: &Value, position: usize) -> std::result::Result<&T, TaskError> {
    v.downcast_ref::<T>().ok_or_else(|| {
        TaskError::msg(format!(
            "internal error: input {position} is not a {}",
            std::any::type_name::<T>()
        ))
    })
}

/// An argument of a delayed call: another delayed value, or a plain value that is embedded
/// in the task. Made by `From`: pass a `Delayed<T>` (clone it to use it again: clones
/// share the node) or a `T`.
pub struct Arg<T>(ArgRepr<T>);

enum ArgRepr<T> {
    Lazy(Arc<Node>),
    Now(Arc<T>),
}

impl<T> From<Delayed<T>> for Arg<T> {
    fn from(d: Delayed<T>) -> Self {
        Arg(ArgRepr::Lazy(d.node))
    }
}

impl<T> From<T> for Arg<T> {
    fn from(x: T) -> Self {
        Arg(ArgRepr::Now(Arc::new(x)))
    }
}

/// Where a task finds one argument: at an input position, or embedded.
enum Source<T> {
    Input(usize),
    Now(Arc<T>),
}

impl<T: 'static> Source<T> {
    fn new(arg: Arg<T>, deps: &mut Vec<Arc<Node>>) -> Self {
        match arg.0 {
            ArgRepr::Lazy(node) => {
                deps.push(node);
                Source::Input(deps.len() - 1)
            }
            ArgRepr::Now(x) => Source::Now(x),
        }
    }

    fn get<'a>(&'a self, inputs: &'a [Value]) -> std::result::Result<&'a T, TaskError> {
        match self {
            Source::Input(i) => input(&inputs[*i], *i),
            Source::Now(x) => Ok(x),
        }
    }
}

/// The operation name of a function: its item name, or `<enclosing fn>-closure`.
fn fn_name<F>() -> Arc<str> {
    let full = std::any::type_name::<F>();
    let base = full.split('<').next().unwrap_or(full);
    let mut parts: Vec<&str> = base.split("::").collect();
    let mut closure = false;
    while parts.last() == Some(&"{{closure}}") {
        parts.pop();
        closure = true;
    }
    let name = parts.last().copied().unwrap_or("delayed");
    if closure {
        Arc::from(format!("{name}-closure"))
    } else {
        Arc::from(name)
    }
}

macro_rules! delayed_fns {
    ($(#[$doc:meta])* $name:ident, $try_name:ident, $core:ident; $($A:ident $X:ident $a:ident),+) => {
        $(#[$doc])*
        pub fn $name<$($A,)+ R, F, $($X,)+>(f: F) -> impl Fn($($X),+) -> Delayed<R>
        where
            F: Fn($(&$A),+) -> R + Send + Sync + 'static,
            R: Send + Sync + 'static,
            $($A: Send + Sync + 'static, $X: Into<Arg<$A>>,)+
        {
            $core(fn_name::<F>(), move |$($a: &$A),+| Ok(f($($a),+)))
        }

        /// Like the function without `try_`, for functions returning `Result`: an `Err`
        /// fails the computation with an error naming the task.
        pub fn $try_name<$($A,)+ R, E, F, $($X,)+>(f: F) -> impl Fn($($X),+) -> Delayed<R>
        where
            F: Fn($(&$A),+) -> std::result::Result<R, E> + Send + Sync + 'static,
            R: Send + Sync + 'static,
            E: Into<Box<dyn std::error::Error + Send + Sync>>,
            $($A: Send + Sync + 'static, $X: Into<Arg<$A>>,)+
        {
            $core(fn_name::<F>(), move |$($a: &$A),+| f($($a),+).map_err(TaskError::new))
        }

        /// The lazy call both variants build: one task per call, named `name`.
        fn $core<$($A,)+ R, G, $($X,)+>(name: Arc<str>, g: G) -> impl Fn($($X),+) -> Delayed<R>
        where
            G: Fn($(&$A),+) -> std::result::Result<R, TaskError> + Send + Sync + 'static,
            R: Send + Sync + 'static,
            $($A: Send + Sync + 'static, $X: Into<Arg<$A>>,)+
        {
            let g = Arc::new(g);
            move |$($a),+| {
                let mut deps = Vec::new();
                $(let $a = Source::new($a.into(), &mut deps);)+
                let g = g.clone();
                Delayed::from_op(&name, deps, Arc::new(move |inputs: &[Value]| {
                    g($($a.get(inputs)?),+).map(Value::new)
                }))
            }
        }
    };
}

delayed_fns!(
    /// Wraps a one-argument function: `delayed(f)(x)` is a lazy `f(&x)`.
    ///
    /// `x` may be a [`Delayed`] or a plain value; the wrapped function may be called many
    /// times, with one argument type (inferred from the first call).
    ///
    /// # Examples
    ///
    /// ```
    /// use floe::delayed;
    ///
    /// fn load(path: &String) -> Vec<u8> { path.as_bytes().to_vec() }
    /// fn clean(x: &Vec<u8>) -> usize { x.len() }
    ///
    /// let a = delayed(load)("data.bin".to_string());
    /// let b = delayed(clean)(a);
    /// assert_eq!(b.compute()?, 8);
    /// # Ok::<(), floe::Error>(())
    /// ```
    delayed, try_delayed, lazy_call1; A1 X1 a1
);
delayed_fns!(
    /// Wraps a two-argument function; see [`delayed`].
    delayed2, try_delayed2, lazy_call2; A1 X1 a1, A2 X2 a2
);
delayed_fns!(
    /// Wraps a three-argument function; see [`delayed`].
    delayed3, try_delayed3, lazy_call3; A1 X1 a1, A2 X2 a2, A3 X3 a3
);
delayed_fns!(
    /// Wraps a four-argument function; see [`delayed`].
    delayed4, try_delayed4, lazy_call4; A1 X1 a1, A2 X2 a2, A3 X3 a3, A4 X4 a4
);

#[cfg(test)]
mod tests;
