//! Scheduler overhead: many tiny tasks, timed in phases.
//!
//! - `build_s`: building the graph;
//! - `prep_s`: cull + order (the passes a compute runs before executing);
//! - `exec_s`: running it; `us_per_task = exec_s / tasks`.
//!
//! Cases mirror `shared/bench/w4_overhead.py`: a wide map into a tree reduction, and a
//! binary tree sum over 50,000 leaves (≈100,000 tasks), each threaded and synchronous; plus
//! 64 CPU-bound tasks of ~50 ms on 1 and 2 threads, and the binary tree built with
//! `floe::delayed` (as `dask.delayed` builds it).

use std::hint::black_box;
use std::time::{Duration, Instant};

use floe_graph::{Graph, GraphBuilder, Key, TaskId, Value, cull, order};
use floe_scheduler::{Executor, RunOptions, Scheduler};

use crate::report::Record;

pub const CASES: &[&str] = &[
    "map_reduce_threads",
    "map_reduce_sync",
    "binary_tree_threads",
    "binary_tree_sync",
    "delayed_tree_threads",
    "cpu_bound_1_thread",
    "cpu_bound_2_threads",
];

/// Leaves of the map-reduce case and its fan-in.
const MAP_TASKS: u32 = 1_000_000;
const SPLIT_EVERY: usize = 16;
/// Leaves of the binary tree.
const TREE_LEAVES: u32 = 50_000;

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let threads = ctx.threads;
    let threads = threads.unwrap_or_else(floe_scheduler::available_threads);
    match case {
        "map_reduce_threads" => {
            graph_case(case, threads, Executor::Threaded, map_reduce, ctx.profile)
        }
        "map_reduce_sync" => graph_case(case, 1, Executor::Synchronous, map_reduce, ctx.profile),
        "binary_tree_threads" => {
            graph_case(case, threads, Executor::Threaded, binary_tree, ctx.profile)
        }
        "binary_tree_sync" => graph_case(case, 1, Executor::Synchronous, binary_tree, ctx.profile),
        "delayed_tree_threads" => delayed_tree(case, threads),
        "cpu_bound_1_thread" => cpu_bound(case, 1),
        "cpu_bound_2_threads" => cpu_bound(case, 2),
        other => Err(format!(
            "unknown case `{other}`; known: {}",
            CASES.join(", ")
        )),
    }
}

fn leaf(b: &mut GraphBuilder, name: &std::sync::Arc<str>, i: u32) -> TaskId {
    b.add_fn(Key::with_shared_name(name.clone(), &[i]), &[], move |_| {
        Ok(Value::new(i64::from(i)))
    })
    .expect("leaves have no dependencies")
}

fn sum(v: &[Value]) -> floe_graph::TaskResult {
    Ok(Value::new(
        v.iter()
            .map(|x| *x.downcast_ref::<i64>().expect("an i64"))
            .sum::<i64>(),
    ))
}

/// Reduces `level` with fan-in `split` into one task.
fn reduce(b: &mut GraphBuilder, mut level: Vec<TaskId>, split: usize) -> TaskId {
    let name: std::sync::Arc<str> = "sum".into();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(split)
            .enumerate()
            .map(|(i, c)| match c {
                // An odd one out passes to the next level, as in the Dask script's tree.
                [single] => *single,
                _ => b
                    .add_fn(
                        Key::with_shared_name(name.clone(), &[depth, i as u32]),
                        c,
                        sum,
                    )
                    .expect("dependencies exist"),
            })
            .collect();
    }
    level[0]
}

fn map_reduce() -> (Graph, TaskId, i64) {
    let mut b =
        GraphBuilder::with_capacity(MAP_TASKS as usize * 17 / 16, MAP_TASKS as usize * 17 / 16);
    let name = "ones".into();
    let leaves = (0..MAP_TASKS).map(|i| leaf(&mut b, &name, i)).collect();
    let root = reduce(&mut b, leaves, SPLIT_EVERY);
    let n = i64::from(MAP_TASKS);
    (b.build(), root, n * (n - 1) / 2)
}

fn binary_tree() -> (Graph, TaskId, i64) {
    let mut b = GraphBuilder::with_capacity(2 * TREE_LEAVES as usize, 2 * TREE_LEAVES as usize);
    let name = "x".into();
    let leaves = (0..TREE_LEAVES).map(|i| leaf(&mut b, &name, i)).collect();
    let root = reduce(&mut b, leaves, 2);
    let n = i64::from(TREE_LEAVES);
    (b.build(), root, n * (n - 1) / 2)
}

fn graph_case(
    case: &str,
    threads: usize,
    executor: Executor,
    make: fn() -> (Graph, TaskId, i64),
    profile: bool,
) -> Result<(), String> {
    let t0 = Instant::now();
    let (graph, root, expected) = make();
    let build = t0.elapsed();
    let t1 = Instant::now();
    let (graph, outs) = cull(&graph, &[root]).map_err(|e| e.to_string())?;
    let order = order(&graph, &outs);
    let prep = t1.elapsed();
    let mut builder = Scheduler::builder().threads(threads).executor(executor);
    if profile {
        builder = builder.subscriber(std::sync::Arc::new(floe::diagnostics::Profiler::new()));
    }
    let scheduler = builder.build().map_err(|e| e.to_string())?;
    let t2 = Instant::now();
    let out = scheduler
        .run_with(&graph, &outs, &RunOptions::new().order(&order))
        .map_err(|e| e.to_string())?;
    let exec = t2.elapsed();
    let result = *out.values[0].downcast_ref::<i64>().ok_or("an i64 result")?;
    if result != expected {
        return Err(format!("wrong result {result}, expected {expected}"));
    }
    let tasks = graph.len();
    let mut r = Record::new("overhead", case);
    r.set("tasks", tasks)
        .set("threads", scheduler.threads())
        .secs("build_s", build.as_secs_f64())
        .secs("prep_s", prep.as_secs_f64())
        .secs("exec_s", exec.as_secs_f64())
        .secs("wall_s", (build + prep + exec).as_secs_f64())
        .set(
            "us_per_task",
            round3(exec.as_secs_f64() * 1e6 / tasks as f64),
        )
        .set(
            "build_prep_tasks_per_s",
            (tasks as f64 / (build + prep).as_secs_f64()).round(),
        )
        .set("peak_bytes", out.stats.peak_bytes)
        .set("result", result);
    r.print();
    Ok(())
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The binary tree of `binary_tree`, built with `floe::delayed`.
fn delayed_tree(case: &str, threads: usize) -> Result<(), String> {
    use floe::{Delayed, delayed, delayed2};
    let t0 = Instant::now();
    let leaf = delayed(|i: &i64| *i);
    let add = delayed2(|a: &i64, b: &i64| a + b);
    let mut level: Vec<Delayed<i64>> = (0..i64::from(TREE_LEAVES)).map(&leaf).collect();
    while level.len() > 1 {
        let mut next: Vec<Delayed<i64>> = level
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| add(c[0].clone(), c[1].clone()))
            .collect();
        if level.len() % 2 == 1 {
            next.push(level[level.len() - 1].clone());
        }
        level = next;
    }
    let build = t0.elapsed();
    let scheduler = Scheduler::builder()
        .threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let (result, stats) = level[0]
        .compute_with(&scheduler)
        .map_err(|e| e.to_string())?;
    let total = t1.elapsed();
    let n = i64::from(TREE_LEAVES);
    if result != n * (n - 1) / 2 {
        return Err(format!("wrong result {result}"));
    }
    let mut r = Record::new("overhead", case);
    r.set("tasks", stats.tasks)
        .set("threads", threads)
        .secs("build_s", build.as_secs_f64())
        .secs("compute_s", total.as_secs_f64())
        .secs("wall_s", (build + total).as_secs_f64())
        .set(
            "us_per_delayed_call",
            round3(build.as_secs_f64() * 1e6 / stats.tasks as f64),
        )
        .set(
            "us_per_task",
            round3(total.as_secs_f64() * 1e6 / stats.tasks as f64),
        )
        .set("peak_bytes", stats.peak_bytes);
    r.print();
    Ok(())
}

/// Busy work for about `target`: iterations of an xorshift, calibrated once.
fn spin_iterations(target: Duration) -> u64 {
    let probe = 2_000_000_u64;
    let t = Instant::now();
    black_box(spin(probe));
    let per_iter = t.elapsed().as_secs_f64() / probe as f64;
    (target.as_secs_f64() / per_iter) as u64
}

fn spin(iters: u64) -> u64 {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..iters {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// 64 independent CPU-bound tasks of ~50 ms each.
fn cpu_bound(case: &str, threads: usize) -> Result<(), String> {
    let iters = spin_iterations(Duration::from_millis(50));
    let mut b = Graph::builder();
    let tasks: Vec<TaskId> = (0..64)
        .map(|i| {
            b.add_fn(Key::new("spin", &[i]), &[], move |_| {
                Ok(Value::new(spin(black_box(iters))))
            })
            .expect("no dependencies")
        })
        .collect();
    let graph = b.build();
    let scheduler = Scheduler::builder()
        .threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let out = scheduler.run(&graph, &tasks).map_err(|e| e.to_string())?;
    let exec = t.elapsed();
    let mut r = Record::new("overhead", case);
    r.set("tasks", out.stats.tasks)
        .set("threads", threads)
        .set("task_ms_target", 50)
        .secs("exec_s", exec.as_secs_f64())
        .secs("wall_s", exec.as_secs_f64())
        .set("peak_bytes", out.stats.peak_bytes);
    r.print();
    Ok(())
}
