use floe_array::{Axes, ReduceOp, from_ndarray};
use ndarray::{ArrayD, Axis};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

/// Reduces `x` over `axes` with `f` on each lane (the reduced elements, row-major).
fn reference(
    x: &ArrayD<f64>,
    axes: &[usize],
    keepdims: bool,
    f: impl Fn(&[f64]) -> f64,
) -> ArrayD<f64> {
    let ndim = x.ndim();
    let kept: Vec<usize> = (0..ndim).filter(|a| !axes.contains(a)).collect();
    let mut perm = kept.clone();
    perm.extend_from_slice(axes);
    let moved = x
        .view()
        .permuted_axes(perm.clone())
        .as_standard_layout()
        .into_owned();
    let outer: usize = kept.iter().map(|&a| x.shape()[a]).product();
    let inner: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let flat = moved.into_shape_with_order(vec![outer, inner]).unwrap();
    let vals: Vec<f64> = flat
        .outer_iter()
        .map(|lane| f(lane.as_slice().unwrap()))
        .collect();
    let shape: Vec<usize> = if keepdims {
        (0..ndim)
            .map(|a| if axes.contains(&a) { 1 } else { x.shape()[a] })
            .collect()
    } else {
        kept.iter().map(|&a| x.shape()[a]).collect()
    };
    ArrayD::from_shape_vec(shape, vals).unwrap()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn var(v: &[f64], ddof: f64) -> f64 {
    let m = mean(v);
    let d = v.len() as f64 - ddof;
    if d <= 0.0 {
        f64::NAN
    } else {
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / d
    }
}

fn finite(v: &[f64]) -> Vec<f64> {
    v.iter().copied().filter(|x| !x.is_nan()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn reductions_match_lane_by_lane_references(
        (x, c1, _c2) in case(false),
        pick in proptest::collection::vec(any::<bool>(), 4),
        keepdims in any::<bool>(),
        split in 2_usize..5,
    ) {
        let axes: Vec<usize> = (0..x.ndim()).filter(|&a| pick[a]).collect();
        let a = from_ndarray(x.clone(), c1).unwrap();
        let ax: Vec<isize> = axes.iter().map(|&v| v as isize).collect();
        let run = |op: ReduceOp| compute(&a.reduce(op, ax.as_slice(), keepdims, Some(split)).unwrap()).into_typed::<f64>();
        assert_close(&run(ReduceOp::Sum), &reference(&x, &axes, keepdims, |v| v.iter().sum()), 0.0, "sum");
        // Products past 2⁵³ round differently in another order (a tree's against a lane's).
        assert_close(&run(ReduceOp::Prod), &reference(&x, &axes, keepdims, |v| v.iter().product()), 1e-15, "prod");
        assert_close(&run(ReduceOp::Mean), &reference(&x, &axes, keepdims, mean), 1e-12, "mean");
        assert_close(&run(ReduceOp::Var { ddof: 1 }), &reference(&x, &axes, keepdims, |v| var(v, 1.0)), 1e-12, "var");
        assert_close(&run(ReduceOp::Std { ddof: 0 }), &reference(&x, &axes, keepdims, |v| var(v, 0.0).sqrt()), 1e-12, "std");
        let any = compute(&a.reduce(ReduceOp::Any, ax.as_slice(), keepdims, Some(split)).unwrap()).into_bool().unwrap();
        prop_assert_eq!(any.mapv(|b| f64::from(u8::from(b))), reference(&x, &axes, keepdims, |v| f64::from(u8::from(v.iter().any(|x| *x != 0.0)))));
        if axes.iter().all(|&ax| x.shape()[ax] > 0) {
            assert_close(&run(ReduceOp::Max), &reference(&x, &axes, keepdims, |v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max)), 0.0, "max");
            assert_close(&run(ReduceOp::Min), &reference(&x, &axes, keepdims, |v| v.iter().copied().fold(f64::INFINITY, f64::min)), 0.0, "min");
        } else {
            prop_assert!(a.max(ax.as_slice()).is_err());
        }
    }

    #[test]
    fn nan_reductions_skip_nan((x, c1, _c2) in case(true), axis in 0_usize..4) {
        prop_assume!(x.ndim() > 0);
        let axis = axis % x.ndim();
        let a = from_ndarray(x.clone(), c1).unwrap();
        let ax = axis as isize;
        let nansum = compute(&a.nansum(ax).unwrap()).into_f64().unwrap();
        assert_close(&nansum, &reference(&x, &[axis], false, |v| finite(v).iter().sum()), 0.0, "nansum");
        let nanmean = compute(&a.nanmean(ax).unwrap()).into_f64().unwrap();
        assert_close(&nanmean, &reference(&x, &[axis], false, |v| mean(&finite(v))), 1e-12, "nanmean");
        let sum = compute(&a.sum(ax).unwrap()).into_f64().unwrap();
        assert_close(&sum, &reference(&x, &[axis], false, |v| v.iter().sum()), 0.0, "sum propagates NaN");
        if x.shape()[axis] > 0 {
            let nanmax = compute(&a.nanmax(ax).unwrap()).into_f64().unwrap();
            assert_close(&nanmax, &reference(&x, &[axis], false, |v| {
                let f = finite(v);
                if f.is_empty() { f64::NAN } else { f.iter().copied().fold(f64::NEG_INFINITY, f64::max) }
            }), 0.0, "nanmax");
            let argmax = compute(&a.argmax(ax).unwrap()).into_i64().unwrap().mapv(|i| i as f64);
            assert_close(&argmax, &reference(&x, &[axis], false, |v| {
                // NumPy: the first NaN, else the first maximum.
                if let Some(p) = v.iter().position(|x| x.is_nan()) { return p as f64; }
                let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                v.iter().position(|&x| x == m).unwrap() as f64
            }), 0.0, "argmax");
        }
    }
}

#[test]
fn argmin_over_everything_is_a_flat_index() {
    let x = ArrayD::from_shape_fn(ndarray::IxDyn(&[5, 7]), |i| {
        ((i[0] * 7 + i[1]) as f64 - 17.0).abs()
    });
    let a = from_ndarray(x, [2_usize, 3]).unwrap();
    assert_eq!(
        compute(&a.argmin(Axes::All).unwrap()).into_i64().unwrap()[[]],
        17
    );
}

#[test]
fn integer_sums_are_exact_and_widen() {
    let x = ArrayD::from_elem(ndarray::IxDyn(&[1000]), 200_u8);
    let a = from_ndarray(x, 7).unwrap();
    let s = a.sum(Axes::All).unwrap();
    assert_eq!(s.dtype(), floe_array::DType::U64);
    assert_eq!(compute(&s).into_u64().unwrap()[[]], 200_000);
    let m = a.mean(Axes::All).unwrap();
    assert_eq!(m.dtype(), floe_array::DType::F64);
}

#[test]
fn float_sums_are_compensated() {
    // 1 followed by a million 1e-16: naive summation loses every small term (1e-10 in
    // all); grouped and compensated summation loses at most those sharing a group with 1.
    let mut v = vec![1e-16_f64; 1_000_001];
    v[0] = 1.0;
    let a = from_ndarray(
        ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v).unwrap(),
        250_000,
    )
    .unwrap();
    let s = compute(&a.sum(Axes::All).unwrap()).into_f64().unwrap()[[]];
    assert!((s - (1.0 + 1e-10)).abs() < 2e-14, "{s}");
    let x = ArrayD::from_shape_fn(ndarray::IxDyn(&[100_000]), |i| 1e9 + (i[0] % 3) as f64);
    let a = from_ndarray(x, 7_000).unwrap();
    let v = compute(&a.var(Axes::All, 0).unwrap()).into_f64().unwrap()[[]];
    // Residues 0, 1, 2 appear 33334, 33333, 33333 times: mean 0.99999, E[r²] 1.66665.
    let exact = 1.66665 - 0.99999 * 0.99999;
    assert!(
        (v - exact).abs() < 1e-9,
        "variance of a large-offset series: {v} vs {exact}"
    );
    let _ = Axis(0);
}

/// The combine tasks of `a`'s graph.
fn combines(a: &floe_array::Array) -> usize {
    let mut b = floe_graph::GraphBuilder::default();
    floe_array::Lowering::new(&mut b).assemble(a).unwrap();
    let g = b.build();
    g.ids()
        .filter(|&t| g.key(t).name().ends_with("-combine"))
        .count()
}

#[test]
fn long_reductions_with_large_partials_combine_as_a_chain() {
    // 70 blocks along axis 0, each partial 131072 positions (1 MiB and more): a chain of
    // links, each taking the previous link and the next three partials.
    let (n, m) = (70, 1 << 17);
    let x = ArrayD::from_shape_fn(vec![n, m], |i| {
        ((i[0] * 7919 + i[1] * 104_729) % 1000) as f64 / 7.0 - 50.0
    });
    let a = from_ndarray(x.clone(), [1_usize, m]).unwrap();
    let links = 1 + (n - 4).div_ceil(3);
    assert_eq!(combines(&a.mean(0).unwrap()), links);
    // An explicit fan-in keeps the tree (70 → 18 → 5 → 2 → 1), as do small partials.
    let tree = a.reduce(ReduceOp::Mean, 0, false, Some(4)).unwrap();
    assert_eq!(combines(&tree), 18 + 5 + 2 + 1);
    let narrow = from_ndarray(x.clone(), [1_usize, 1000]).unwrap();
    assert!(combines(&narrow.mean(0).unwrap()) > links * narrow.numblocks()[1]);

    type Lane = fn(&[f64]) -> f64;
    let cases: [(ReduceOp, Lane); 4] = [
        (ReduceOp::Mean, mean),
        (ReduceOp::Std { ddof: 1 }, |v| var(v, 1.0).sqrt()),
        (ReduceOp::Max, |v| {
            v.iter().copied().fold(f64::MIN, f64::max)
        }),
        (ReduceOp::ArgMin, |v| {
            v.iter()
                .enumerate()
                .fold(
                    (0, f64::MAX),
                    |(bi, b), (i, &x)| if x < b { (i, x) } else { (bi, b) },
                )
                .0 as f64
        }),
    ];
    for (op, f) in cases {
        let got = compute(&a.reduce(op, 0, false, None).unwrap())
            .astype(floe_array::DType::F64)
            .into_f64()
            .unwrap();
        assert_close(
            &got,
            &reference(&x, &[0], false, f),
            1e-12,
            &format!("{op:?}"),
        );
    }
}

#[test]
fn a_chain_of_thousands_of_links_lowers_orders_and_fuses() {
    // 20,000 blocks of 1 MiB partials (never computed): 6,667 links, built without
    // recursing down the chain, then ordered and fused the same way. (Made by a block
    // function: constants and box functions reduce in a fused tree instead.)
    let x = floe_array::from_fn(&[20_000, 1 << 17], [1_usize, 1 << 17], |b| {
        ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&b.shape))
    })
    .unwrap();
    let m = x.mean(0).unwrap();
    assert_eq!(combines(&m), 1 + (20_000_usize - 4).div_ceil(3));
    let mut b = floe_graph::GraphBuilder::default();
    let out = floe_array::Lowering::new(&mut b).assemble(&m).unwrap();
    let g = b.build();
    let (g, outs) = floe_graph::fuse(&g, &[out]).unwrap();
    let order = floe_graph::order(&g, &outs);
    assert_eq!(order.sequence().len(), g.len());
}

#[test]
fn infinite_values_give_numpys_means_and_variances() {
    // Across blocks and within one: inf - inf is NaN only where NumPy's sums make it so.
    let x = floe_array::from_ndarray(
        ndarray::arr1(&[1.0, f64::INFINITY, 2.0, f64::NAN]).into_dyn(),
        2,
    )
    .unwrap();
    let scalar = |a: floe_array::Array| crate::support::compute(&a).into_f64().unwrap()[[]];
    let all = floe_array::Axes::All;
    assert_eq!(scalar(x.nanmean(all.clone()).unwrap()), f64::INFINITY);
    assert!(scalar(x.nanvar(all.clone(), 0).unwrap()).is_nan());
    let head = x.slice(&floe_array::s![..3]).unwrap();
    assert_eq!(scalar(head.mean(all.clone()).unwrap()), f64::INFINITY);
    assert!(scalar(head.var(all.clone(), 0).unwrap()).is_nan());
    assert!(scalar(head.std(all, 1).unwrap()).is_nan());
}

#[test]
fn an_infinity_past_the_first_summation_group_stays_infinite() {
    // Sums add groups of 128 values with compensation: an infinity in a later group must
    // give an infinite sum and mean (NumPy's), not the NaN that inf - inf would leave.
    let mut v = vec![0.5; 300];
    v[200] = f64::INFINITY;
    v[250] = f64::NAN;
    let x = floe_array::from_ndarray(ndarray::Array1::from(v).into_dyn(), 300).unwrap();
    let scalar = |a: floe_array::Array| crate::support::compute(&a).into_f64().unwrap()[[]];
    let all = floe_array::Axes::All;
    assert_eq!(scalar(x.nansum(all.clone()).unwrap()), f64::INFINITY);
    assert_eq!(scalar(x.nanmean(all.clone()).unwrap()), f64::INFINITY);
    let head = x.slice(&floe_array::s![..250]).unwrap();
    assert_eq!(scalar(head.sum(all.clone()).unwrap()), f64::INFINITY);
    assert_eq!(scalar(head.mean(all).unwrap()), f64::INFINITY);
}

#[test]
fn flat_argmin_and_argmax_ties_go_to_the_first_position_in_flat_order() {
    // Blocks of two columns: the left block's minimum (flat 4) comes after the right
    // block's first row (flat 3) in C order, though the left block is combined first.
    let v = ndarray::arr2(&[[5.0, 5.0, 5.0, 0.0], [0.0, 5.0, 5.0, 5.0]]).into_dyn();
    let x = from_ndarray(v.clone(), vec![vec![2], vec![2, 2]]).unwrap();
    let argmin = compute(&x.argmin(Axes::All).unwrap()).into_i64().unwrap();
    assert_eq!(argmin[[]], 3);
    let argmax = compute(&x.argmax(Axes::All).unwrap()).into_i64().unwrap();
    assert_eq!(argmax[[]], 0);
    let w = v.mapv(|e| -e);
    let y = from_ndarray(w, vec![vec![2], vec![2, 2]]).unwrap();
    assert_eq!(
        compute(&y.argmax(Axes::All).unwrap()).into_i64().unwrap()[[]],
        3
    );
}

/// Sums and means of negative zeros are `+0.0`, as NumPy's (its sums start from the
/// identity `0.0`), on every path: blocks in memory along either axis or all, and a
/// constant reduced band by band with its sums put in place.
#[test]
fn sums_of_negative_zeros_are_positive_zero_as_numpys() {
    let held = from_ndarray(
        ndarray::ArrayD::from_elem(ndarray::IxDyn(&[300, 5]), -0.0),
        [100_usize, 5],
    )
    .unwrap();
    // A mean over time of maps larger than a band (1.3 MB of sums): sums put in place.
    let constant = floe_array::full(
        &[4, 400, 400],
        [2_usize, 400, 400],
        -0.0,
        floe_array::DType::F64,
    )
    .unwrap();
    for (what, r) in [
        ("sum(0)", held.sum(0).unwrap()),
        ("sum(1)", held.sum(1).unwrap()),
        ("sum()", held.sum(Axes::All).unwrap()),
        ("mean(0)", held.mean(0).unwrap()),
        ("constant mean(0)", constant.mean(0).unwrap()),
        ("constant sum(2)", constant.sum(2).unwrap()),
    ] {
        let out = compute(&r).into_typed::<f64>();
        assert!(out.iter().all(|v| v.to_bits() == 0), "{what}: {out:?}");
    }
}
