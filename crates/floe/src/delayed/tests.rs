// Delayed functions receive each shared value by reference (`&String`, `&Vec`).
#![allow(clippy::ptr_arg)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use floe_scheduler::{Executor, Scheduler};

use super::*;
use crate::{Error, compute, compute_with};

#[test]
fn shared_work_runs_once_when_computed_together() {
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = loads.clone();
    let load = delayed(move |n: &u32| {
        counter.fetch_add(1, Ordering::SeqCst);
        vec![1_u32; *n as usize]
    });
    let data = load(5);
    let sum = data.map(|v: &Vec<u32>| v.iter().sum::<u32>());
    let len = data.map(|v: &Vec<u32>| v.len());
    assert_eq!(compute((&sum, &len)).unwrap(), (5, 5));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[test]
fn errors_and_panics_name_the_task() {
    fn parse(s: &String) -> Result<i64, std::num::ParseIntError> {
        s.parse()
    }
    let bad = try_delayed(parse)("x1".to_string());
    let err = bad.compute().unwrap_err();
    assert_eq!(err.task_key(), Some(bad.key()));
    assert!(err.to_string().starts_with("task `parse ("), "{err}");
    assert!(
        err.to_string()
            .ends_with("failed: invalid digit found in string"),
        "{err}"
    );

    let boom =
        delayed(|x: &i32| if *x > 0 { panic!("negative only") } else { *x })(3).named("check");
    let downstream = boom.map(|x: &i32| x + 1);
    let err = downstream.compute().unwrap_err();
    assert_eq!(err.task_key().map(|k| k.name()), Some("check"));
    assert!(matches!(
        err,
        Error::Run(floe_scheduler::Error::TaskPanicked { .. })
    ));
}

#[test]
fn names_come_from_the_function() {
    fn load(x: &u8) -> u8 {
        *x
    }
    assert_eq!(delayed(load)(1).key().name(), "load");
    assert_eq!(
        delayed(|x: &u8| *x)(1).key().name(),
        "names_come_from_the_function-closure"
    );
    let a = delayed(load)(1);
    let b = delayed(load)(1);
    assert_ne!(a.key(), b.key(), "each call has its own index");
}

#[test]
fn arguments_may_be_values_or_delayed() {
    let add3 = delayed3(|a: &i32, b: &i32, c: &i32| a + b + c);
    let x = Delayed::value(10);
    let r = add3(x.clone(), x.clone(), 1);
    assert_eq!(r.compute().unwrap(), 21);
    let add4 = delayed4(|a: &i32, b: &i32, c: &i32, d: &String| a + b + c + d.len() as i32);
    assert_eq!(add4(1, 2, x, "abc".to_string()).compute().unwrap(), 16);
}

#[test]
fn a_long_chain_neither_overflows_the_stack_nor_leaks() {
    let inc = delayed(|x: &u64| x + 1);
    let mut x = Delayed::value(0_u64);
    for _ in 0..200_000 {
        x = inc(x);
    }
    let sync = Scheduler::builder()
        .executor(Executor::Synchronous)
        .build()
        .unwrap();
    let (v, stats) = compute_with(&x, &sync).unwrap();
    assert_eq!(v, 200_000);
    // The chain fuses into a single task.
    assert_eq!(stats.tasks, 1);
    drop(x);
}

#[test]
fn vectors_compute_to_vectors() {
    let sq = delayed(|x: &u32| x * x);
    let items: Vec<_> = (0..100).map(&sq).collect();
    let out = compute(&items).unwrap();
    assert_eq!(out, (0..100).map(|x| x * x).collect::<Vec<u32>>());
}

#[test]
fn every_executor_gives_the_same_tree_sum() {
    let leaf = delayed(|i: &i64| *i);
    let add = delayed2(|a: &i64, b: &i64| a + b);
    let mut level: Vec<Delayed<i64>> = (0..1000).map(&leaf).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|c| {
                if c.len() == 2 {
                    add(c[0].clone(), c[1].clone())
                } else {
                    c[0].clone()
                }
            })
            .collect();
    }
    for threads in [1, 2, 4] {
        let s = Scheduler::builder().threads(threads).build().unwrap();
        assert_eq!(level[0].compute_with(&s).unwrap().0, 999 * 1000 / 2);
    }
}
