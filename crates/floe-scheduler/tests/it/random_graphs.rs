//! Every executor and thread count computes what a sequential evaluation computes, and
//! frees everything but the outputs.

use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use floe_graph::{cull, fuse};
use proptest::prelude::*;

use crate::support::{Dag, Fault, Tracked, dag, schedulers, within};

fn check(
    dag: Dag,
    pass: fn(
        &floe_graph::Graph,
        &[floe_graph::TaskId],
    ) -> (floe_graph::Graph, Vec<floe_graph::TaskId>),
) {
    let expected = dag.oracle();
    let want: Vec<u64> = dag.outputs.iter().map(|o| expected[*o]).collect();
    for scheduler in schedulers() {
        let dag = dag.clone();
        let live = Arc::new(AtomicIsize::new(0));
        let live2 = live.clone();
        let (values, distinct_outputs) = within(Duration::from_secs(30), move || {
            let (g, outs) = dag.graph(&live2, usize::MAX, Fault::None);
            let (g, outs) = pass(&g, &outs);
            let out = scheduler.run(&g, &outs).expect("the run succeeds");
            let needed = floe_graph::needed(&g, &outs).iter().filter(|x| **x).count();
            assert_eq!(out.stats.tasks, needed);
            let values: Vec<u64> = out
                .values
                .iter()
                .map(|v| v.downcast_ref::<Tracked>().unwrap().v)
                .collect();
            let mut distinct = dag.outputs.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(
                live2.load(Ordering::SeqCst),
                distinct.len() as isize,
                "only outputs alive"
            );
            assert_eq!(out.stats.held_bytes_at_end, 8 * distinct.len());
            (values, distinct.len())
        });
        assert_eq!(values, want);
        assert!(distinct_outputs > 0);
        assert_eq!(
            live.load(Ordering::SeqCst),
            0,
            "everything freed after the outputs are dropped"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn same_result_as_sequential_evaluation(dag in dag(80)) {
        check(dag, |g, o| cull(g, o).unwrap())
    }

    #[test]
    fn fused_graphs_compute_the_same(dag in dag(80)) {
        check(dag, |g, o| fuse(g, o).unwrap())
    }

    #[test]
    fn unculled_graphs_run_only_what_is_needed(dag in dag(80)) {
        check(dag, |g, o| {
            // Rebuild an identical graph (no pass): the scheduler itself skips unneeded tasks.
            let (same, outs) = cull(g, &g.ids().collect::<Vec<_>>()).unwrap();
            let outs_mapped = o.iter().map(|t| outs[t.index()]).collect();
            (same, outs_mapped)
        })
    }
}

#[test]
fn large_random_graph_on_many_threads() {
    let n = 20_000;
    let deps: Vec<Vec<usize>> = (0..n)
        .map(|i: usize| {
            if i < 100 {
                vec![]
            } else {
                vec![i - 1 - (i * 7) % 97, i - 1 - (i * 13) % 89]
            }
        })
        .collect();
    check(
        Dag {
            deps,
            outputs: vec![n - 1, n - 2, 5],
        },
        |g, o| cull(g, o).unwrap(),
    );
}
