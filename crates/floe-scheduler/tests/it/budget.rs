//! The memory budget as a bound: random graphs of sized values under random budgets compute
//! what a sequential evaluation computes, hold no more than the budget allows, never stall,
//! and leave no spill file behind; oversized tasks and unusable spill directories are errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use floe_graph::{Graph, Key, SpillCodec, TaskError, TaskHints, TaskId, Value};
use floe_scheduler::{CancelToken, Error, Executor, RunOptions, Scheduler};
use proptest::prelude::*;

use crate::support::{quiet_injected_panics, within};

/// A sized value: `n` words, each equal to the task's oracle value.
fn block(v: u64, words: usize) -> Value {
    Value::with_nbytes(vec![v; words], 8 * words)
}

fn read(v: &Value) -> u64 {
    let words = v.downcast_ref::<Vec<u64>>().expect("a Vec<u64> input");
    assert!(
        words.iter().all(|w| *w == words[0]),
        "a value came back altered"
    );
    words.first().copied().unwrap_or(0)
}

static WORDS: SpillCodec = SpillCodec {
    write: |v, w| {
        let words = v.downcast_ref::<Vec<u64>>().expect("words");
        w.write_all(&(words.len() as u64).to_le_bytes())?;
        for x in words {
            w.write_all(&x.to_le_bytes())?;
        }
        Ok(())
    },
    read: |r| {
        let mut n = [0_u8; 8];
        r.read_exact(&mut n)?;
        let n = u64::from_le_bytes(n) as usize;
        let mut words = Vec::with_capacity(n);
        for _ in 0..n {
            let mut x = [0_u8; 8];
            r.read_exact(&mut x)?;
            words.push(u64::from_le_bytes(x));
        }
        Ok(Value::with_nbytes(words, 8 * n).spillable(&WORDS))
    },
};

/// One task of a random sized graph.
#[derive(Clone, Debug)]
struct Node {
    deps: Vec<usize>,
    words: usize,
    /// Its output can be spilled.
    spillable: bool,
    /// Its size is declared before it runs.
    hinted: bool,
    /// A source that may be run again.
    repeatable: bool,
}

#[derive(Clone, Debug)]
struct SizedDag {
    nodes: Vec<Node>,
    output: usize,
}

fn sized_dag(max_tasks: usize, all_evictable: bool) -> impl Strategy<Value = SizedDag> {
    (2..max_tasks).prop_flat_map(move |n| {
        let nodes = (0..n)
            .map(|i| {
                let deps = if i == 0 {
                    Just(Vec::new()).boxed()
                } else {
                    proptest::collection::vec(0..i, 0..4).boxed()
                };
                (
                    deps,
                    1_usize..2048,
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                )
                    .prop_map(
                        move |(deps, words, spillable, hinted, repeatable)| Node {
                            deps,
                            words,
                            spillable: spillable || all_evictable,
                            hinted: hinted || all_evictable,
                            repeatable,
                        },
                    )
            })
            .collect::<Vec<_>>();
        nodes.prop_map(move |nodes| {
            let output = nodes.len() - 1;
            SizedDag { nodes, output }
        })
    })
}

fn mix(i: usize) -> u64 {
    (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl SizedDag {
    fn oracle(&self) -> Vec<u64> {
        let mut vals: Vec<u64> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let v = n
                .deps
                .iter()
                .fold(mix(i), |acc, d| acc.wrapping_add(vals[*d]).rotate_left(7));
            vals.push(v);
        }
        vals
    }

    /// The graph; `runs` counts the operations called (rebuilds included).
    fn graph(&self, runs: &Arc<AtomicUsize>) -> (Graph, TaskId) {
        let mut b = Graph::builder();
        let mut ids: Vec<TaskId> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let deps: Vec<TaskId> = n.deps.iter().map(|d| ids[*d]).collect();
            let mut hints = TaskHints::new();
            if n.hinted {
                hints = hints.output_bytes(8 * n.words);
            }
            if n.repeatable {
                hints = hints.repeatable();
            }
            let (words, spillable, runs) = (n.words, n.spillable, runs.clone());
            let op = Arc::new(move |inputs: &[Value]| {
                runs.fetch_add(1, Ordering::Relaxed);
                let v = inputs
                    .iter()
                    .fold(mix(i), |acc, x| acc.wrapping_add(read(x)).rotate_left(7));
                let out = block(v, words);
                Ok(if spillable {
                    out.spillable(&WORDS)
                } else {
                    out
                })
            });
            ids.push(
                b.add_hinted(Key::new("t", &[i as u32]), &deps, op, hints)
                    .unwrap(),
            );
        }
        let out = ids[self.output];
        (b.build(), out)
    }

    /// The most bytes one task needs at once: its inputs and its output.
    fn largest_footprint(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| {
                8 * n.words
                    + n.deps
                        .iter()
                        .map(|d| 8 * self.nodes[*d].words)
                        .sum::<usize>()
            })
            .max()
            .unwrap_or(0)
    }

    fn total_bytes(&self) -> usize {
        self.nodes.iter().map(|n| 8 * n.words).sum()
    }
}

/// A spill parent of its own for a test, empty.
fn spill_parent(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("floe-budget-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

fn budgeted(threads: Option<usize>, limit: usize, spill: &Path) -> Scheduler {
    let b = Scheduler::builder().memory_limit(limit).spill_dir(spill);
    match threads {
        Some(n) => b.threads(n),
        None => b.executor(Executor::Synchronous),
    }
    .build()
    .unwrap()
}

/// Runs `dag` under `limit` on every executor; checks values, peak and clean-up.
fn check_bound(dag: &SizedDag, limit: usize, strict: bool, name: &str) {
    let want = dag.oracle()[dag.output];
    let parent = spill_parent(name);
    for threads in [None, Some(1), Some(2), Some(4)] {
        let (dag2, parent2) = (dag.clone(), parent.clone());
        let stats = within(Duration::from_secs(30), move || {
            let runs = Arc::new(AtomicUsize::new(0));
            let (g, out) = dag2.graph(&runs);
            let s = budgeted(threads, limit, &parent2);
            let result = s.run(&g, &[out]).expect("the run succeeds");
            assert_eq!(read(&result.values[0]), want, "{threads:?} threads");
            result.stats
        });
        let slack = if strict { 0 } else { dag.largest_footprint() };
        assert!(
            stats.peak_bytes <= limit + slack,
            "{threads:?} threads: peak {} over budget {limit} (+{slack})",
            stats.peak_bytes
        );
        assert!(is_empty_dir(&parent), "spill files left behind");
    }
    let _ = std::fs::remove_dir_all(&parent);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any mix of spillable, repeatable, hinted and opaque values, any budget a single task
    /// fits in: same result, peak within the budget plus one task's footprint, no stall.
    #[test]
    fn random_graphs_under_random_budgets(dag in sized_dag(40, false), extra in 0.0_f64..1.5) {
        let base = dag.largest_footprint();
        let limit = base + (extra * dag.total_bytes() as f64) as usize;
        check_bound(&dag, limit, false, "mixed");
    }

    /// When every value can be evicted and every size is declared, the budget is a bound.
    #[test]
    fn evictable_graphs_stay_within_the_budget(dag in sized_dag(40, true), extra in 0.0_f64..1.0) {
        let base = dag.largest_footprint();
        let limit = base + (extra * base as f64) as usize;
        check_bound(&dag, limit, true, "strict");
    }
}

/// `x - x.mean()`-shaped graph: `n` loads of `words` each, reduced to a total through small
/// partials, then one task per load using the load and the total (which calls `fault`
/// first). Holding every load until the total is known would need `n` loads at once.
fn anomaly(
    n: u32,
    words: usize,
    load_delay: Duration,
    spillable: bool,
) -> (Graph, Vec<TaskId>, Arc<AtomicUsize>) {
    anomaly_with(n, words, load_delay, spillable, Arc::new(|| Ok(())))
}

type Fault = Arc<dyn Fn() -> Result<(), TaskError> + Send + Sync>;

fn anomaly_with(
    n: u32,
    words: usize,
    load_delay: Duration,
    spillable: bool,
    fault: Fault,
) -> (Graph, Vec<TaskId>, Arc<AtomicUsize>) {
    let loads_run = Arc::new(AtomicUsize::new(0));
    let mut b = Graph::builder();
    let hints = TaskHints::new().output_bytes(8 * words).repeatable();
    let loads: Vec<TaskId> = (0..n)
        .map(|i| {
            let counter = loads_run.clone();
            let op = Arc::new(move |_: &[Value]| {
                counter.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(load_delay);
                let v = block(u64::from(i), words);
                Ok(if spillable { v.spillable(&WORDS) } else { v })
            });
            b.add_hinted(Key::new("load", &[i]), &[], op, hints)
                .unwrap()
        })
        .collect();
    let partials: Vec<TaskId> = loads
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            b.add_fn(Key::new("partial", &[i as u32]), &[l], |v| {
                Ok(Value::new(read(&v[0])))
            })
            .unwrap()
        })
        .collect();
    let total = b
        .add_fn(Key::named("total"), &partials, |v| {
            Ok(Value::new(
                v.iter()
                    .map(|x| *x.downcast_ref::<u64>().unwrap())
                    .sum::<u64>(),
            ))
        })
        .unwrap();
    let outs = loads
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let fault = fault.clone();
            b.add_hinted(
                Key::new("anomaly", &[i as u32]),
                &[l, total],
                Arc::new(move |v: &[Value]| {
                    fault()?;
                    let t = *v[1].downcast_ref::<u64>().unwrap();
                    Ok(Value::new(read(&v[0]).wrapping_sub(t)))
                }),
                TaskHints::new().output_bytes(8),
            )
            .unwrap()
        })
        .collect();
    (b.build(), outs, loads_run)
}

#[test]
fn repeatable_sources_are_read_again_instead_of_held() {
    // Without a codec the loads cannot be spilled: rebuilding is the only way to stay
    // within the budget. (Which of the two is cheaper is a unit test of `budget.rs`: this
    // machine's timings are too noisy to pin it here.)
    let words = 1 << 17; // 1 MiB
    let (g, outs, loads) = anomaly(16, words, Duration::ZERO, false);
    let parent = spill_parent("reread");
    let s = budgeted(Some(2), 4 * 8 * words, &parent);
    let out = s.run(&g, &outs).unwrap();
    let total: u64 = (0..16).sum();
    for (i, v) in out.values.iter().enumerate() {
        assert_eq!(
            *v.downcast_ref::<u64>().unwrap(),
            (i as u64).wrapping_sub(total)
        );
    }
    assert!(
        out.stats.peak_bytes <= 4 * 8 * words,
        "peak {}",
        out.stats.peak_bytes
    );
    assert!(out.stats.recomputed_bytes > 0, "loads were rebuilt");
    assert_eq!(out.stats.spilled_bytes, 0);
    assert_eq!(
        loads.load(Ordering::Relaxed) * 8 * words,
        16 * 8 * words + out.stats.recomputed_bytes,
        "each rebuild is one more load"
    );
    let unbudgeted = Scheduler::builder().threads(2).build().unwrap();
    assert!(
        unbudgeted.run(&g, &outs).unwrap().stats.peak_bytes >= 16 * 8 * words,
        "without a budget every load is held until the total is known"
    );
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn slow_sources_are_spilled_and_read_back() {
    let words = 1 << 15; // 256 KiB; a 20 ms load is slower than writing and reading it
    let (g, outs, loads) = anomaly(12, words, Duration::from_millis(20), true);
    let parent = spill_parent("spill");
    let s = budgeted(Some(2), 3 * 8 * words, &parent);
    let out = s.run(&g, &outs).unwrap();
    let total: u64 = (0..12).sum();
    for (i, v) in out.values.iter().enumerate() {
        assert_eq!(
            *v.downcast_ref::<u64>().unwrap(),
            (i as u64).wrapping_sub(total)
        );
    }
    assert!(out.stats.spilled_bytes > 0);
    assert_eq!(out.stats.recomputed_bytes, 0);
    assert_eq!(loads.load(Ordering::Relaxed), 12, "no load ran twice");
    assert!(out.stats.peak_bytes <= 3 * 8 * words);
    assert!(is_empty_dir(&parent), "spill files removed on success");
    let _ = std::fs::remove_dir_all(&parent);
}

/// The anomaly graph of slow, spillable loads with `fault` in the tasks that run after the
/// total (so values were spilled before it).
fn spill_then(
    fault: impl Fn() -> Result<(), TaskError> + Send + Sync + 'static,
) -> (Graph, Vec<TaskId>) {
    let (g, outs, _) = anomaly_with(8, 1 << 12, Duration::from_millis(5), true, Arc::new(fault));
    (g, outs)
}

const SPILL_LIMIT: usize = 3 * 8 * (1 << 12) + 64;

#[test]
fn spill_files_are_removed_after_errors_panics_and_cancellation() {
    quiet_injected_panics();
    let parent = spill_parent("failures");
    let limit = SPILL_LIMIT;

    let (g, outs) = spill_then(|| Err(TaskError::msg("injected error")));
    let err = budgeted(Some(2), limit, &parent)
        .run(&g, &outs)
        .unwrap_err();
    assert!(matches!(err, Error::TaskFailed { .. }), "{err}");
    assert!(is_empty_dir(&parent), "after an error");

    let (g, outs) = spill_then(|| panic!("injected panic"));
    let err = budgeted(Some(2), limit, &parent)
        .run(&g, &outs)
        .unwrap_err();
    assert!(matches!(err, Error::TaskPanicked { .. }), "{err}");
    assert!(is_empty_dir(&parent), "after a panic");

    let token = CancelToken::new();
    let t2 = token.clone();
    let (g, outs) = spill_then(move || {
        t2.cancel();
        Ok(())
    });
    let outcome =
        budgeted(Some(2), limit, &parent).run_with(&g, &outs, &RunOptions::new().cancel(token));
    assert!(matches!(outcome, Err(Error::Cancelled)), "{outcome:?}");
    assert!(is_empty_dir(&parent), "after cancellation");

    // The same graph without a fault did spill: the checks above saw real spill files go.
    let (g, outs) = spill_then(|| Ok(()));
    let out = budgeted(Some(2), limit, &parent).run(&g, &outs).unwrap();
    assert!(out.stats.spilled_bytes > 0);
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn an_unusable_spill_directory_is_an_error_naming_it() {
    // A regular file where the spill directory should be.
    let file = std::env::temp_dir().join(format!("floe-budget-notadir-{}", std::process::id()));
    std::fs::write(&file, b"not a directory").unwrap();
    let (g, outs) = spill_then(|| Ok(()));
    let s = budgeted(Some(2), SPILL_LIMIT, &file);
    let err = within(Duration::from_secs(30), move || {
        s.run(&g, &outs).unwrap_err()
    });
    match &err {
        Error::Spill { path, .. } => assert!(path.starts_with(&file), "{err}"),
        other => panic!("expected a spill error, got {other}"),
    }
    assert!(err.to_string().contains(&*file.to_string_lossy()), "{err}");
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn a_task_larger_than_the_budget_is_refused_before_running() {
    let runs = Arc::new(AtomicUsize::new(0));
    let mut b = Graph::builder();
    let r = runs.clone();
    let big = TaskHints::new().output_bytes(600);
    let a = b
        .add_hinted(
            Key::new("load", &[0]),
            &[],
            Arc::new(move |_: &[Value]| {
                r.fetch_add(1, Ordering::Relaxed);
                Ok(block(1, 75))
            }),
            big,
        )
        .unwrap();
    let c = b
        .add_hinted(
            Key::new("double", &[0]),
            &[a],
            Arc::new(|v: &[Value]| Ok(block(2 * read(&v[0]), 75))),
            big,
        )
        .unwrap();
    let total = b
        .add_hinted(
            Key::named("total"),
            &[c],
            Arc::new(|v: &[Value]| Ok(Value::with_nbytes(read(&v[0]), 8))),
            TaskHints::new().output_bytes(8),
        )
        .unwrap();
    let g = b.build();
    let s = Scheduler::builder().memory_limit(1000).build().unwrap();
    let err = s.run(&g, &[total]).unwrap_err();
    match &err {
        Error::TaskTooLarge {
            key,
            footprint,
            limit,
            fits,
            ..
        } => {
            assert_eq!(key.to_string(), "double (0,)");
            assert_eq!((*footprint, *limit, *fits), (1200, 1000, 500));
        }
        other => panic!("expected TaskTooLarge, got {other}"),
    }
    assert!(err.to_string().contains("at most 500 bytes"), "{err}");
    assert_eq!(runs.load(Ordering::Relaxed), 0, "nothing ran");
    // A requested output is returned whole: the advice is not to rechunk.
    let err = s.run(&g, &[c]).unwrap_err();
    assert!(err.to_string().contains("write it to a file"), "{err}");
    // With room for a load and its double, the run goes through.
    let s = Scheduler::builder().memory_limit(1200).build().unwrap();
    let out = s.run(&g, &[total]).unwrap();
    assert_eq!(*out.values[0].downcast_ref::<u64>().unwrap(), 2);
}
