//! Events: one start and finish per task, from valid workers, framed by run events.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use floe_graph::{Graph, Key, Value};
use floe_scheduler::{Event, RunOptions, Scheduler, Subscriber};
use parking_lot::Mutex;

#[derive(Default)]
struct Recorder {
    runs_started: AtomicUsize,
    runs_finished: AtomicUsize,
    started: AtomicUsize,
    finished: AtomicUsize,
    max_worker: AtomicUsize,
    busy: Mutex<Duration>,
    bytes: AtomicUsize,
}

impl Subscriber for Recorder {
    fn on_event(&self, e: &Event<'_>) {
        match e {
            Event::RunStarted { tasks, .. } => {
                assert_eq!(*tasks, 101);
                self.runs_started.fetch_add(1, Ordering::SeqCst);
            }
            Event::TaskStarted { worker, .. } => {
                self.started.fetch_add(1, Ordering::SeqCst);
                self.max_worker.fetch_max(*worker, Ordering::SeqCst);
            }
            Event::TaskFinished {
                duration, nbytes, ..
            } => {
                self.finished.fetch_add(1, Ordering::SeqCst);
                *self.busy.lock() += *duration;
                self.bytes.fetch_add(*nbytes, Ordering::SeqCst);
            }
            Event::RunFinished { stats, error } => {
                assert!(error.is_none());
                assert_eq!(stats.tasks, 101);
                self.runs_finished.fetch_add(1, Ordering::SeqCst);
            }
            _ => {}
        }
    }
}

#[test]
fn every_task_is_reported_once() {
    let mut b = Graph::builder();
    let xs: Vec<_> = (0..100)
        .map(|i| {
            b.add_fn(Key::new("x", &[i]), &[], |_| {
                std::thread::sleep(Duration::from_micros(100));
                Ok(Value::with_nbytes(0_u64, 8))
            })
            .unwrap()
        })
        .collect();
    let total = b
        .add_fn(Key::named("total"), &xs, |_| Ok(Value::unit()))
        .unwrap();
    let g = b.build();
    let rec = Arc::new(Recorder::default());
    let s = Scheduler::builder().threads(2).build().unwrap();
    let out = s
        .run_with(&g, &[total], &RunOptions::new().subscriber(rec.clone()))
        .unwrap();
    assert_eq!(rec.runs_started.load(Ordering::SeqCst), 1);
    assert_eq!(rec.runs_finished.load(Ordering::SeqCst), 1);
    assert_eq!(rec.started.load(Ordering::SeqCst), 101);
    assert_eq!(rec.finished.load(Ordering::SeqCst), 101);
    assert!(rec.max_worker.load(Ordering::SeqCst) < 2);
    assert_eq!(rec.bytes.load(Ordering::SeqCst), 800);
    assert!(*rec.busy.lock() >= Duration::from_micros(100 * 100));
    assert_eq!(out.stats.peak_bytes, 800);
}
