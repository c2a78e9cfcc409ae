//! Random graphs whose values can be checked, and a watchdog.

use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use floe_graph::{Graph, Key, TaskError, TaskId, Value};
use floe_scheduler::{Executor, Scheduler};
use proptest::prelude::*;

/// A value that counts how many of its kind are alive.
pub struct Tracked {
    pub v: u64,
    live: Arc<AtomicIsize>,
}

impl Tracked {
    pub fn new(v: u64, live: &Arc<AtomicIsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Self {
            v,
            live: live.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a task of the random graph does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fault {
    None,
    Error,
    Panic,
}

/// A random DAG: `deps[i]` are earlier tasks; `outputs` indices into it.
#[derive(Clone, Debug)]
pub struct Dag {
    pub deps: Vec<Vec<usize>>,
    pub outputs: Vec<usize>,
}

pub fn dag(max_tasks: usize) -> impl Strategy<Value = Dag> {
    (1..max_tasks).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| {
                if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::vec(0..i, 0..4).boxed()
                }
            })
            .collect::<Vec<_>>();
        (deps, proptest::collection::vec(0..n, 1..5))
            .prop_map(|(deps, outputs)| Dag { deps, outputs })
    })
}

fn mix(i: usize) -> u64 {
    (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Dag {
    /// The value of every task, computed sequentially.
    pub fn oracle(&self) -> Vec<u64> {
        let mut vals = Vec::with_capacity(self.deps.len());
        for (i, ds) in self.deps.iter().enumerate() {
            let v = ds
                .iter()
                .fold(mix(i), |acc, d| acc.wrapping_add(vals[*d]).rotate_left(7));
            vals.push(v);
        }
        vals
    }

    /// The graph, with `fault` injected at task `at`.
    pub fn graph(&self, live: &Arc<AtomicIsize>, at: usize, fault: Fault) -> (Graph, Vec<TaskId>) {
        let mut b = Graph::builder();
        let mut ids = Vec::new();
        for (i, ds) in self.deps.iter().enumerate() {
            let deps: Vec<TaskId> = ds.iter().map(|d| ids[*d]).collect();
            let live = live.clone();
            let fault = if i == at { fault } else { Fault::None };
            let id = b
                .add_fn(Key::new("t", &[i as u32]), &deps, move |inputs| {
                    match fault {
                        Fault::Error => {
                            return Err(TaskError::msg(format!("injected error at {i}")));
                        }
                        Fault::Panic => panic!("injected panic at {i}"),
                        Fault::None => {}
                    }
                    let v = inputs.iter().fold(mix(i), |acc, x| {
                        acc.wrapping_add(x.downcast_ref::<Tracked>().expect("a Tracked input").v)
                            .rotate_left(7)
                    });
                    Ok(Value::with_nbytes(Tracked::new(v, &live), 8))
                })
                .unwrap();
            ids.push(id);
        }
        let outs = self.outputs.iter().map(|o| ids[*o]).collect();
        (b.build(), outs)
    }

    /// The tasks the outputs need.
    pub fn needed(&self) -> Vec<usize> {
        let mut need = vec![false; self.deps.len()];
        let mut stack: Vec<usize> = self.outputs.clone();
        while let Some(t) = stack.pop() {
            if !std::mem::replace(&mut need[t], true) {
                stack.extend(&self.deps[t]);
            }
        }
        (0..need.len()).filter(|i| need[*i]).collect()
    }
}

/// Every executor and thread count the tests cover.
pub fn schedulers() -> Vec<Scheduler> {
    let mut all = vec![
        Scheduler::builder()
            .executor(Executor::Synchronous)
            .build()
            .unwrap(),
    ];
    for threads in [1, 2, 3, 8] {
        all.push(Scheduler::builder().threads(threads).build().unwrap());
    }
    all
}

/// Runs `f` on another thread and fails the test if it takes longer than `limit`.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hang: no result within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the watched closure panicked"),
    }
}

/// Keeps the panics that tests inject on purpose out of the test output.
pub fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.starts_with("injected") {
                default(info);
            }
        }));
    });
}
