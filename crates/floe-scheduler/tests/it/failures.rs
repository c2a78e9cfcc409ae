//! Errors and panics at random tasks come back naming the task, never hang, free
//! everything, and leave the scheduler usable.

use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use floe_graph::{Graph, Key, TaskError, Value};
use floe_scheduler::{CancelToken, Error, Event, RunOptions, Scheduler, Subscriber};
use proptest::prelude::*;

use crate::support::{Fault, dag, quiet_injected_panics, schedulers, within};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn an_injected_failure_names_its_task(
        dag in dag(60),
        pick in any::<prop::sample::Index>(),
        panic in any::<bool>(),
    ) {
        quiet_injected_panics();
        let needed = dag.needed();
        let at = needed[pick.index(needed.len())];
        let fault = if panic { Fault::Panic } else { Fault::Error };
        for scheduler in schedulers() {
            let dag = dag.clone();
            let live = Arc::new(AtomicIsize::new(0));
            let live2 = live.clone();
            let err = within(Duration::from_secs(30), move || {
                let (g, outs) = dag.graph(&live2, at, fault);
                scheduler.run(&g, &outs).expect_err("the run fails")
            });
            prop_assert_eq!(err.task_key(), Some(&Key::new("t", &[at as u32])));
            match (&err, fault) {
                (Error::TaskPanicked { message, .. }, Fault::Panic) => {
                    prop_assert_eq!(message, &format!("injected panic at {at}"));
                }
                (Error::TaskFailed { source, .. }, Fault::Error) => {
                    prop_assert_eq!(source.to_string(), format!("injected error at {at}"));
                }
                _ => prop_assert!(false, "unexpected error {err}"),
            }
            prop_assert_eq!(live.load(Ordering::SeqCst), 0, "every result freed after a failure");
        }
    }
}

#[test]
fn error_message_names_the_key_and_cause() {
    let mut b = Graph::builder();
    let x = b
        .add_fn(Key::new("read", &[0, 2]), &[], |_| {
            Err(TaskError::msg("file is truncated"))
        })
        .unwrap();
    let g = b.build();
    let err = Scheduler::default().run(&g, &[x]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "task `read (0, 2)` failed: file is truncated"
    );
}

#[test]
fn the_scheduler_is_usable_after_a_failed_run() {
    let scheduler = Scheduler::builder().threads(2).build().unwrap();
    let mut b = Graph::builder();
    quiet_injected_panics();
    let bad = b
        .add_fn(Key::named("bad"), &[], |_| panic!("injected: no"))
        .unwrap();
    let good = b
        .add_fn(Key::named("good"), &[], |_| Ok(Value::new(7_u8)))
        .unwrap();
    let g = b.build();
    assert!(scheduler.run(&g, &[bad]).is_err());
    let out = scheduler.run(&g, &[good]).unwrap();
    assert_eq!(out.values[0].downcast_ref::<u8>(), Some(&7));
}

#[test]
fn a_failure_stops_new_tasks_from_starting() {
    // One failing source among many slow ones on one worker: after it, nothing else starts.
    let started = Arc::new(AtomicUsize::new(0));
    let mut b = Graph::builder();
    let mut srcs = vec![
        b.add_fn(Key::named("fail"), &[], |_| Err(TaskError::msg("x")))
            .unwrap(),
    ];
    for i in 0..100 {
        let started = started.clone();
        srcs.push(
            b.add_fn(Key::new("slow", &[i]), &[], move |_| {
                started.fetch_add(1, Ordering::SeqCst);
                Ok(Value::unit())
            })
            .unwrap(),
        );
    }
    let sink = b
        .add_fn(Key::named("sink"), &srcs, |_| Ok(Value::unit()))
        .unwrap();
    let g = b.build();
    let s = Scheduler::builder().threads(1).build().unwrap();
    assert!(s.run(&g, &[sink]).is_err());
    assert_eq!(started.load(Ordering::SeqCst), 0);
}

#[test]
fn cancelling_stops_a_long_run_quickly() {
    let mut b = Graph::builder();
    let live = Arc::new(AtomicIsize::new(0));
    let srcs: Vec<_> = (0..100_000)
        .map(|i| {
            let live = live.clone();
            b.add_fn(Key::new("sleep", &[i]), &[], move |_| {
                std::thread::sleep(Duration::from_micros(200));
                Ok(Value::new(crate::support::Tracked::new(1, &live)))
            })
            .unwrap()
        })
        .collect();
    let sink = b
        .add_fn(Key::named("sink"), &srcs, |_| Ok(Value::unit()))
        .unwrap();
    let g = Arc::new(b.build());
    let token = CancelToken::new();
    let remote = token.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        remote.cancel();
    });
    let t0 = Instant::now();
    let err = within(Duration::from_secs(20), move || {
        let s = Scheduler::builder().threads(2).build().unwrap();
        s.run_with(&g, &[sink], &RunOptions::new().cancel(token))
            .unwrap_err()
    });
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "the run did not stop early"
    );
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn a_panicking_subscriber_stops_the_run_with_an_error() {
    struct Bad;
    impl Subscriber for Bad {
        fn on_event(&self, e: &Event<'_>) {
            if let Event::TaskFinished { .. } = e {
                panic!("injected subscriber bug");
            }
        }
    }
    quiet_injected_panics();
    let mut b = Graph::builder();
    let xs: Vec<_> = (0..50)
        .map(|i| {
            b.add_fn(Key::new("x", &[i]), &[], |_| Ok(Value::unit()))
                .unwrap()
        })
        .collect();
    let g = b.build();
    for threads in [1, 2] {
        let s = Scheduler::builder()
            .threads(threads)
            .subscriber(Arc::new(Bad))
            .build()
            .unwrap();
        let g = &g;
        let err = s.run(g, &xs).unwrap_err();
        assert!(
            matches!(err, Error::SubscriberPanicked(ref m) if m.contains("subscriber bug")),
            "{err}"
        );
    }
}

#[test]
fn bad_configuration_and_unknown_outputs_are_errors() {
    let err = Scheduler::builder().threads(0).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid scheduler configuration: threads must be at least 1"
    );
    let g = Graph::builder().build();
    let other = {
        let mut b = Graph::builder();
        b.add_fn(Key::named("x"), &[], |_| Ok(Value::unit()))
            .unwrap()
    };
    let err = Scheduler::default().run(&g, &[other]).unwrap_err();
    assert!(matches!(err, Error::Graph(_)), "{err}");
}

#[test]
fn tasks_run_in_parallel() {
    // Two tasks that each wait (up to 10 s) to see the other running.
    let arrived = Arc::new(AtomicUsize::new(0));
    let mut b = Graph::builder();
    let ts: Vec<_> = (0..2)
        .map(|i| {
            let arrived = arrived.clone();
            b.add_fn(Key::new("meet", &[i]), &[], move |_| {
                arrived.fetch_add(1, Ordering::SeqCst);
                let t0 = Instant::now();
                while arrived.load(Ordering::SeqCst) < 2 && t0.elapsed() < Duration::from_secs(10) {
                    std::thread::yield_now();
                }
                Ok(Value::new(arrived.load(Ordering::SeqCst)))
            })
            .unwrap()
        })
        .collect();
    let g = b.build();
    let out = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&g, &ts)
        .unwrap();
    for v in &out.values {
        assert_eq!(v.downcast_ref::<usize>(), Some(&2));
    }
}

#[test]
fn a_task_may_run_a_nested_graph() {
    let mut b = Graph::builder();
    let outer = b
        .add_fn(Key::named("outer"), &[], |_| {
            let mut inner = Graph::builder();
            let x = inner
                .add_fn(Key::named("inner"), &[], |_| Ok(Value::new(41_i32)))
                .unwrap();
            let out = Scheduler::builder()
                .threads(2)
                .build()
                .map_err(TaskError::new)?
                .run(&inner.build(), &[x])
                .map_err(TaskError::new)?;
            Ok(Value::new(out.values[0].downcast_ref::<i32>().unwrap() + 1))
        })
        .unwrap();
    let g = b.build();
    let out = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&g, &[outer])
        .unwrap();
    assert_eq!(out.values[0].downcast_ref::<i32>(), Some(&42));
}

#[test]
fn an_order_made_for_other_outputs_is_refused() {
    let mut b = Graph::builder();
    let x = b
        .add_fn(Key::named("x"), &[], |_| Ok(Value::unit()))
        .unwrap();
    let y = b
        .add_fn(Key::named("y"), &[x], |_| Ok(Value::unit()))
        .unwrap();
    let z = b
        .add_fn(Key::named("z"), &[], |_| Ok(Value::unit()))
        .unwrap();
    let g = b.build();
    let for_z = floe_graph::order(&g, &[z]);
    let err = Scheduler::default()
        .run_with(&g, &[y], &RunOptions::new().order(&for_z))
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("leaves out `y`"), "{err}");
}

#[test]
fn the_meter_returns_to_zero_after_a_failure() {
    #[derive(Default)]
    struct LastStats(parking_lot::Mutex<Option<(usize, usize)>>);
    impl Subscriber for LastStats {
        fn on_event(&self, e: &Event<'_>) {
            if let Event::RunFinished { stats, error } = e {
                assert!(error.is_some());
                *self.0.lock() = Some((stats.peak_bytes, stats.held_bytes_at_end));
            }
        }
    }
    // Ten 1 KiB blocks are held for the failing sink's sibling when the sink fails.
    let mut b = Graph::builder();
    let blocks: Vec<_> = (0..10)
        .map(|i| {
            b.add_fn(Key::new("block", &[i]), &[], |_| {
                Ok(Value::with_nbytes(vec![0_u8; 1024], 1024))
            })
            .unwrap()
        })
        .collect();
    let ok = b
        .add_fn(Key::named("ok"), &blocks, |_| Ok(Value::unit()))
        .unwrap();
    let mut deps = blocks.clone();
    deps.push(ok);
    let bad = b
        .add_fn(Key::named("bad"), &deps, |_| Err(TaskError::msg("no")))
        .unwrap();
    let g = b.build();
    for threads in [1, 2] {
        let stats = Arc::new(LastStats::default());
        let s = Scheduler::builder()
            .threads(threads)
            .subscriber(stats.clone())
            .build()
            .unwrap();
        assert!(s.run(&g, &[bad]).is_err());
        assert_eq!(*stats.0.lock(), Some((10 * 1024, 0)));
    }
}
