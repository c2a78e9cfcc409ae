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
