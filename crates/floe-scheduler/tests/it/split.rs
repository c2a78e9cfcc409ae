//! A running task's pieces (`floe_graph::split`) are taken by the run's idle workers; a
//! piece that panics fails its task, naming it, without hanging the run.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use floe_graph::{Graph, Key, Value};
use floe_scheduler::{Error, Scheduler};

use crate::support::{quiet_injected_panics, within};

/// One task splitting its work into `pieces` pieces of two milliseconds each, reporting the
/// threads that ran them; a second task waiting for it.
fn one_large_task(pieces: usize, fail_at: Option<usize>) -> (Graph, floe_graph::TaskId) {
    let mut b = Graph::builder();
    let large = b
        .add_fn(Key::named("large"), &[], move |_| {
            let ran = Mutex::new(Vec::new());
            floe_graph::split(pieces, |i| {
                assert!(Some(i) != fail_at, "injected panic in piece {i}");
                std::thread::sleep(Duration::from_millis(2));
                ran.lock().unwrap().push((i, std::thread::current().id()));
            });
            Ok(Value::new(ran.into_inner().unwrap()))
        })
        .unwrap();
    let after = b
        .add_fn(Key::named("after"), &[large], |v| Ok(v[0].clone()))
        .unwrap();
    (b.build(), after)
}

#[test]
fn idle_workers_take_the_pieces_of_a_lone_task() {
    let (g, out) = one_large_task(64, None);
    for threads in [1, 2, 4] {
        let scheduler = Scheduler::builder().threads(threads).build().unwrap();
        let r = scheduler.run(&g, &[out]).unwrap();
        let ran = r.values[0]
            .downcast_ref::<Vec<(usize, std::thread::ThreadId)>>()
            .unwrap();
        let mut pieces: Vec<usize> = ran.iter().map(|p| p.0).collect();
        pieces.sort_unstable();
        assert_eq!(pieces, (0..64).collect::<Vec<_>>(), "each piece once");
        let workers: HashSet<_> = ran.iter().map(|p| p.1).collect();
        assert_eq!(
            workers.len() > 1,
            threads > 1,
            "{threads} threads: {workers:?}"
        );
    }
}

#[test]
fn a_panicking_piece_fails_its_task_and_the_run_ends() {
    quiet_injected_panics();
    let (g, out) = one_large_task(32, Some(20));
    let err = within(Duration::from_secs(30), move || {
        Scheduler::builder()
            .threads(2)
            .build()
            .unwrap()
            .run(&g, &[out])
            .expect_err("the run fails")
    });
    match &err {
        Error::TaskPanicked { message, .. } => {
            assert_eq!(message, "injected panic in piece 20");
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(err.task_key(), Some(&Key::named("large")));
}
