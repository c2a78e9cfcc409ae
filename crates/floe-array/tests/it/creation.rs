use floe_array::{DType, concatenate, random, stack};
use ndarray::{ArrayD, IxDyn};

use crate::support::{assert_close, compute};

#[test]
fn constants_ranges_and_eye() {
    assert_eq!(
        compute(&floe_array::full(&[3, 2], 2, 7.0, DType::I32).unwrap())
            .into_i32()
            .unwrap()
            .sum(),
        42
    );
    assert_eq!(
        compute(&floe_array::arange(2.0, 11.0, 3.0, 2, DType::I64).unwrap())
            .into_i64()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![2, 5, 8]
    );
    let l = compute(&floe_array::linspace(0.0, 1.0, 5, true, 2).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(
        l.iter().copied().collect::<Vec<_>>(),
        vec![0.0, 0.25, 0.5, 0.75, 1.0]
    );
    let e = compute(&floe_array::eye(4, 5, 1, 3, DType::F32).unwrap())
        .into_f32()
        .unwrap();
    assert_eq!(e.sum(), 4.0);
    assert_eq!(e[[0, 1]], 1.0);
    assert_eq!(e[[3, 4]], 1.0);
}

#[test]
fn random_values_do_not_depend_on_the_chunking() {
    let a = compute(&random::uniform(&[37, 23], [5_usize, 7], 7, 0.0, 1.0).unwrap())
        .into_f64()
        .unwrap();
    let b = compute(&random::uniform(&[37, 23], [37_usize, 23], 7, 0.0, 1.0).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(a, b);
    assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
    let m = a.mean().unwrap();
    assert!((m - 0.5).abs() < 0.05, "{m}");
    let other_seed = compute(&random::uniform(&[37, 23], 10, 8, 0.0, 1.0).unwrap())
        .into_f64()
        .unwrap();
    assert_ne!(a, other_seed);
    let n = compute(&random::normal(&[20000], 3000, 1, 5.0, 2.0).unwrap())
        .into_f64()
        .unwrap();
    let mean = n.mean().unwrap();
    let std = n.std(0.0);
    assert!(
        (mean - 5.0).abs() < 0.05 && (std - 2.0).abs() < 0.05,
        "{mean} {std}"
    );
}

#[test]
fn concatenate_and_stack_match_ndarray() {
    let x = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] * 3 + i[1]) as f64);
    let y = ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| 100.0 + (i[0] * 3 + i[1]) as f64);
    let a = floe_array::from_ndarray(x.clone(), [3_usize, 2]).unwrap();
    let b = floe_array::from_ndarray(y.clone(), [1_usize, 3]).unwrap();
    let c = concatenate(&[a.clone(), b], 0).unwrap();
    let want = ndarray::concatenate(ndarray::Axis(0), &[x.view(), y.view()]).unwrap();
    assert_close(&compute(&c).into_f64().unwrap(), &want, 0.0, "concatenate");
    let s = stack(&[a.clone(), a.clone()], -1).unwrap();
    assert_eq!(s.shape(), &[4, 3, 2]);
    let got = compute(&s).into_f64().unwrap();
    assert_eq!(got[[3, 2, 1]], 11.0);
    let t = compute(&a.t()).into_f64().unwrap();
    assert_close(&t, &x.t().to_owned(), 0.0, "transpose");
    let r = compute(&a.rechunk([1_usize, 3]).unwrap())
        .into_f64()
        .unwrap();
    assert_close(&r, &x, 0.0, "rechunk");
    let e = a.expand_dims(1).unwrap().squeeze(None).unwrap();
    assert_close(&compute(&e).into_f64().unwrap(), &x, 0.0, "expand/squeeze");
    let bt = a
        .slice(&floe_array::s![0])
        .unwrap()
        .broadcast_to(&[5, 3])
        .unwrap();
    assert_eq!(
        compute(&bt)
            .into_f64()
            .unwrap()
            .index_axis(ndarray::Axis(0), 4)
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![0.0, 1.0, 2.0]
    );
}

#[test]
fn from_fn_blocks_of_the_wrong_shape_fail_the_task() {
    let x = floe_array::from_fn(&[10], 4, |_b| ArrayD::<f64>::zeros(IxDyn(&[3]))).unwrap();
    let (g, out) = x.graph().unwrap();
    let err = floe_scheduler::Scheduler::default()
        .run(&g, &[out])
        .unwrap_err();
    assert!(
        err.to_string().contains("must be float64 of shape [4]"),
        "{err}"
    );
}

#[test]
fn a_renamed_array_keeps_its_blocks_under_the_new_name() {
    let x = floe_array::arange(0.0, 10.0, 1.0, 4, floe_array::DType::F64)
        .unwrap()
        .named("sensor");
    assert_eq!(x.name(), "sensor");
    assert_eq!(x.numblocks(), vec![3]);
    let (g, out) = x.graph().unwrap();
    assert!(
        g.ids()
            .filter(|&id| id != out)
            .all(|id| g.key(id).name() == "sensor")
    );
}
