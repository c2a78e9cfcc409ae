//! The memory meter: results freed as soon as they are used, peaks that follow the order.

use floe_graph::{Graph, GraphBuilder, Key, TaskId, Value, order};
use floe_scheduler::{Executor, Scheduler};

fn value(v: &Value) -> i64 {
    *v.downcast_ref::<i64>().unwrap()
}

/// A binary tree sum over `n` leaves of 8 bytes each.
fn tree(n: u32) -> (Graph, TaskId) {
    let mut b = GraphBuilder::with_capacity(2 * n as usize, 2 * n as usize);
    let mut level: Vec<TaskId> = (0..n)
        .map(|i| {
            b.add_fn(Key::new("leaf", &[i]), &[], move |_| {
                Ok(Value::new(i64::from(i)))
            })
            .unwrap()
        })
        .collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(2)
            .enumerate()
            .map(|(i, c)| {
                b.add_fn(Key::new("add", &[depth, i as u32]), c, |v| {
                    Ok(Value::new(v.iter().map(value).sum::<i64>()))
                })
                .unwrap()
            })
            .collect();
    }
    (b.build(), level[0])
}

#[test]
fn sequential_peak_matches_the_static_order() {
    for log_n in [4_u32, 8, 12] {
        let (g, root) = tree(1 << log_n);
        let sync = Scheduler::builder()
            .executor(Executor::Synchronous)
            .build()
            .unwrap();
        let out = sync.run(&g, &[root]).unwrap();
        let n = 1_i64 << log_n;
        assert_eq!(value(&out.values[0]), n * (n - 1) / 2);
        let held = order(&g, &[root]).max_results_held(&g, &[root]);
        assert_eq!(held, log_n as usize + 2);
        assert_eq!(out.stats.peak_bytes, 8 * held, "2^{log_n} leaves");
        assert_eq!(out.stats.held_bytes_at_end, 8);
    }
}

#[test]
fn threaded_peak_grows_with_depth_not_width() {
    // 2^14 leaves: holding the width would be 128 KiB; a handful of paths is < 2 KiB.
    let (g, root) = tree(1 << 14);
    for threads in [2, 4] {
        let s = Scheduler::builder().threads(threads).build().unwrap();
        let out = s.run(&g, &[root]).unwrap();
        assert!(
            out.stats.peak_bytes <= 8 * 16 * 16,
            "peak {} with {threads} threads",
            out.stats.peak_bytes
        );
    }
}

/// A tree of fan-in 4 over `n` leaves of `leaf_bytes` each (a `Vec<u8>`), combined into
/// 8-byte sums by slow tasks.
fn big_leaf_tree(n: u32, leaf_bytes: usize) -> (Graph, TaskId) {
    let mut b = GraphBuilder::default();
    let mut level: Vec<TaskId> = (0..n)
        .map(|i| {
            b.add_fn(Key::new("load", &[i]), &[], move |_| {
                Ok(Value::with_nbytes(vec![1_u8; leaf_bytes], leaf_bytes))
            })
            .unwrap()
        })
        .collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(4)
            .enumerate()
            .map(|(i, c)| {
                b.add_fn(Key::new("combine", &[depth, i as u32]), c, |v| {
                    let total: i64 = v
                        .iter()
                        .map(|x| match x.downcast_ref::<Vec<u8>>() {
                            Some(bytes) => bytes.iter().map(|&b| i64::from(b)).sum(),
                            None => value(x),
                        })
                        .sum();
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    Ok(Value::new(total))
                })
                .unwrap()
            })
            .collect();
    }
    (b.build(), level[0])
}

#[test]
fn a_memory_budget_stops_new_loads_until_held_data_is_consumed() {
    let leaf = 1 << 20;
    let (g, root) = big_leaf_tree(32, leaf);
    for threads in [2, 4, 8] {
        let s = Scheduler::builder()
            .threads(threads)
            .memory_limit(leaf + leaf / 2)
            .build()
            .unwrap();
        assert_eq!(s.memory_limit(), Some(leaf + leaf / 2));
        let out = s.run(&g, &[root]).unwrap();
        assert_eq!(value(&out.values[0]), 32 * leaf as i64);
        // A combine needs 4 leaves; past 1.5 held, a load starts only if it can complete
        // one (nothing else runs) or the prediction fits; loads in flight add a leaf each.
        assert!(
            out.stats.peak_bytes <= 4 * leaf + threads * leaf,
            "{threads} threads: peak {} bytes",
            out.stats.peak_bytes
        );
    }
}

#[test]
fn a_budget_smaller_than_one_task_still_completes() {
    // The root needs all eight loads at once: past the budget, loads run one at a time when
    // nothing else can run, and the run finishes.
    let mut b = GraphBuilder::default();
    let loads: Vec<TaskId> = (0..8)
        .map(|i| {
            b.add_fn(Key::new("load", &[i]), &[], |_| {
                Ok(Value::with_nbytes(vec![0_u8; 1000], 1000))
            })
            .unwrap()
        })
        .collect();
    let root = b
        .add_fn(Key::named("all"), &loads, |v| {
            Ok(Value::new(v.len() as i64))
        })
        .unwrap();
    let g = b.build();
    let s = Scheduler::builder()
        .threads(3)
        .memory_limit(0)
        .build()
        .unwrap();
    let out = s.run(&g, &[root]).unwrap();
    assert_eq!(value(&out.values[0]), 8);
    assert!(
        (8000..=8008).contains(&out.stats.peak_bytes),
        "{}",
        out.stats.peak_bytes
    );
}

#[test]
fn without_a_budget_the_same_tree_loads_ahead() {
    // The contrast that makes the budget test meaningful: with slow combines, idle workers
    // load leaves ahead of them.
    let leaf = 1 << 20;
    let (g, root) = big_leaf_tree(32, leaf);
    let s = Scheduler::builder().threads(8).build().unwrap();
    let out = s.run(&g, &[root]).unwrap();
    assert!(
        out.stats.peak_bytes > 2 * leaf + 8 * leaf,
        "peak {}",
        out.stats.peak_bytes
    );
}
