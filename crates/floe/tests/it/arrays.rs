use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use floe::array::{self, ArrayCompute, Axes, DType, s};
use floe::scheduler::{Executor, Scheduler};
use ndarray::{ArrayD, IxDyn};

/// A 3-D array whose block reads are counted.
fn counted(reads: &Arc<AtomicUsize>) -> array::Array {
    let reads = reads.clone();
    array::from_fn(&[12, 6, 8], [2_usize, 3, 4], move |b| {
        reads.fetch_add(1, Ordering::SeqCst);
        ArrayD::from_shape_fn(IxDyn(&b.shape), |i| {
            ((b.offset[0] + i[0]) * 100 + (b.offset[1] + i[1]) * 10 + b.offset[2] + i[2]) as f64
        })
    })
    .unwrap()
}

#[test]
fn computing_the_talks_three_results_together_reads_each_block_once() {
    let reads = Arc::new(AtomicUsize::new(0));
    let x = counted(&reads);
    let mean = x.mean(0).unwrap();
    let anomaly = x.slice(&s![5]).unwrap().sub(&mean).unwrap();
    let day_night = x
        .slice(&s![..;4])
        .unwrap()
        .mean(0)
        .unwrap()
        .sub(&x.slice(&s![2..;4]).unwrap().mean(0).unwrap())
        .unwrap();
    let (m, a, d) = floe::compute((&mean, &anomaly, &day_night)).unwrap();
    assert_eq!(
        reads.load(Ordering::SeqCst),
        x.chunks().nblocks(),
        "each block read once"
    );
    let m = m.into_f64().unwrap();
    let a = a.into_f64().unwrap();
    let d = d.into_f64().unwrap();
    // Along time the values are t*100 + const: mean over t = 550 + const.
    assert_eq!(m[[1, 2]], 550.0 + 12.0);
    assert_eq!(a[[1, 2]], 500.0 + 12.0 - (550.0 + 12.0));
    // x[::4] takes t = 0, 4, 8; x[2::4] takes 2, 6, 10: a difference of -200 everywhere.
    assert!(d.iter().all(|&v| v == -200.0));
}

#[test]
fn elementwise_chains_fuse_into_one_task_per_block() {
    let x = array::ones(&[8, 8], 4, DType::F64).unwrap();
    let y = x
        .add_scalar(1.0)
        .unwrap()
        .mul_scalar(2.0)
        .unwrap()
        .sqrt()
        .unwrap();
    let sync = Scheduler::builder()
        .executor(Executor::Synchronous)
        .build()
        .unwrap();
    let (v, stats) = y.compute_with(&sync).unwrap();
    assert!(v.into_f64().unwrap().iter().all(|&e| e == 2.0));
    // Four blocks of source → add → mul → sqrt, each fused into one task, plus the result.
    assert_eq!(stats.tasks, 4 + 1);
}

#[test]
fn compute_as_converts_and_errors_name_the_block() {
    let x = array::arange(0.0, 10.0, 1.0, 3, DType::I32).unwrap();
    let f = x.mul_scalar(0.5).unwrap().compute_as::<f32>().unwrap();
    assert_eq!(f[[9]], 4.5);
    let bad = array::try_from_fn(&[10], 4, DType::F64, |b| {
        if b.index[0] == 1 {
            Err(floe::graph::TaskError::msg(
                "file 2014-01-02.nc is truncated",
            ))
        } else {
            Ok(array::DynArray::full(DType::F64, &b.shape, 0.0))
        }
    })
    .unwrap();
    let err = bad.sum(Axes::All).unwrap().compute().unwrap_err();
    assert_eq!(
        err.to_string(),
        "task `from_fn (1,)` failed: file 2014-01-02.nc is truncated"
    );
}

#[test]
fn a_panicking_map_blocks_function_is_an_error_not_a_crash() {
    let x = array::ones(&[6], 2, DType::F64).unwrap();
    let y = x
        .map_blocks(&[], DType::F64, |_, info| {
            if info.index[0] == 2 {
                panic!("bad block");
            }
            Ok(array::DynArray::full(DType::F64, &info.shape, 1.0))
        })
        .unwrap();
    let err = y.compute().unwrap_err();
    assert!(
        err.to_string().contains("map_blocks (2,)") && err.to_string().contains("bad block"),
        "{err}"
    );
}
