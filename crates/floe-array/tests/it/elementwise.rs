use floe_array::{Array, BinaryOp, DType, DynArray, from_ndarray};
use ndarray::{ArrayD, IxDyn, Zip};
use proptest::prelude::*;

use crate::support::{assert_close, case, chunking, compute, data};

fn f64s(a: &Array) -> ArrayD<f64> {
    compute(a).into_f64().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arithmetic_on_differently_chunked_inputs((x, c1, c2) in case(false)) {
        let a = from_ndarray(x.clone(), c1).unwrap();
        let b = from_ndarray(x.mapv(|v| v * 0.5 + 1.0), c2).unwrap();
        let y = x.mapv(|v| v * 0.5 + 1.0);
        assert_close(&f64s(&(&a + &b).unwrap()), &(&x + &y), 0.0, "add");
        assert_close(&f64s(&(&a * &b).unwrap()), &(&x * &y), 0.0, "mul");
        assert_close(&f64s(&(&a / 4.0).unwrap()), &x.mapv(|v| v / 4.0), 0.0, "div scalar");
        assert_close(&f64s(&(1.0 - &a).unwrap()), &x.mapv(|v| 1.0 - v), 0.0, "rsub");
        let chain = a.abs().unwrap().sqrt().unwrap().mul_scalar(2.0).unwrap();
        assert_close(&f64s(&chain), &x.mapv(|v| v.abs().sqrt() * 2.0), 1e-15, "chain");
        let gt = compute(&a.gt(&b).unwrap()).into_bool().unwrap();
        prop_assert_eq!(gt, Zip::from(&x).and(&y).map_collect(|a, b| a > b));
        let w = Array::where_(&a.gt_scalar(0.0).unwrap(), &a, &b).unwrap();
        assert_close(&f64s(&w), &Zip::from(&x).and(&y).map_collect(|&a, &b| if a > 0.0 { a } else { b }), 0.0, "where");
        assert_close(&f64s(&a.clip(-2.0, 3.0).unwrap()), &x.mapv(|v| v.clamp(-2.0, 3.0)), 0.0, "clip");
    }

    #[test]
    fn broadcasting_against_a_trailing_shape(
        (x, cx, y, cy) in crate::support::shape().prop_flat_map(|s| {
            // y's shape: a suffix of s with some axes set to 1.
            let k = s.len();
            (Just(s), 0..=k, proptest::collection::vec(any::<bool>(), k))
        }).prop_flat_map(|(s, drop, ones)| {
            let ys: Vec<usize> = s[drop..].iter().zip(&ones[drop..]).map(|(&n, &o)| if o { 1 } else { n }).collect();
            (data(&s, false), chunking(&s), data(&ys, false), chunking(&ys))
        })
    ) {
        let a = from_ndarray(x.clone(), cx).unwrap();
        let b = from_ndarray(y.clone(), cy).unwrap();
        let want = &x + &y;
        assert_close(&f64s(&(&a + &b).unwrap()), &want, 0.0, "broadcast add");
        assert_close(&f64s(&(&b - &a).unwrap()), &(&y - &x), 0.0, "broadcast sub");
    }
}

#[test]
fn promotion_follows_numpy() {
    let i8s = from_ndarray(ArrayD::<i8>::from_elem(IxDyn(&[3]), 100), 2).unwrap();
    let u8s = from_ndarray(ArrayD::<u8>::from_elem(IxDyn(&[3]), 200), 2).unwrap();
    let f32s = from_ndarray(ArrayD::<f32>::from_elem(IxDyn(&[3]), 0.5), 2).unwrap();
    let s = i8s.add(&u8s).unwrap();
    assert_eq!(s.dtype(), DType::I16);
    assert_eq!(compute(&s).into_i16().unwrap()[[0]], 300);
    assert_eq!(i8s.add(&f32s).unwrap().dtype(), DType::F32);
    assert_eq!(i8s.div(&i8s).unwrap().dtype(), DType::F64);
    assert_eq!(
        f32s.mul_scalar(2.0).unwrap().dtype(),
        DType::F32,
        "a float scalar keeps float32"
    );
    assert_eq!(
        i8s.add_scalar(1).unwrap().dtype(),
        DType::I8,
        "an int scalar keeps int8"
    );
    assert_eq!(i8s.add_scalar(1.5).unwrap().dtype(), DType::F64);
    assert_eq!(
        compute(&i8s.add_scalar(100).unwrap()).into_i8().unwrap()[[0]],
        -56,
        "wraps like NumPy"
    );
    let q = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[4]), vec![-7_i64, 7, -7, 0]).unwrap(),
        3,
    )
    .unwrap();
    let d = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[4]), vec![2_i64, -2, 0, 5]).unwrap(),
        1,
    )
    .unwrap();
    assert_eq!(
        compute(&q.floor_div(&d).unwrap())
            .into_i64()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![-4, -4, 0, 0]
    );
    assert_eq!(
        compute(&q.rem(&d).unwrap())
            .into_i64()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1, -1, 0, 0]
    );
}

#[test]
fn astype_and_unary_dtypes() {
    let x = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[4]), vec![-1.5_f64, 0.5, 2.5, f64::NAN]).unwrap(),
        2,
    )
    .unwrap();
    assert_eq!(
        compute(&x.astype(DType::I32))
            .into_i32()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![-1, 0, 2, 0]
    );
    assert_eq!(
        compute(&x.round().unwrap())
            .into_f64()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>()[..3],
        [-2.0, 0.0, 2.0]
    );
    assert_eq!(
        compute(&x.isnan().unwrap())
            .into_bool()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![false, false, false, true]
    );
    let i = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[2]), vec![4_i16, 9]).unwrap(),
        1,
    )
    .unwrap();
    let r = i.sqrt().unwrap();
    assert_eq!(r.dtype(), DType::F32);
    assert_eq!(
        compute(&r),
        DynArray::from(ArrayD::from_shape_vec(IxDyn(&[2]), vec![2.0_f32, 3.0]).unwrap())
    );
    assert!(x.not().is_err());
    let b = x.gt_scalar(0.0).unwrap();
    assert!(b.sub(&b).is_err(), "bool - bool is refused, as in NumPy");
    assert!(x.binary(BinaryOp::And, &x).is_err());
}

#[test]
fn map_blocks_sees_block_info_and_checks_shapes() {
    let x = floe_array::zeros(&[10], 4, DType::I64).unwrap();
    let y = x
        .map_blocks(&[], DType::I64, |b, info| {
            let n = b[0].len();
            Ok(DynArray::from(ArrayD::from_shape_fn(IxDyn(&[n]), |i| {
                (info.offset[0] + i[0]) as i64
            })))
        })
        .unwrap();
    assert_eq!(
        compute(&y)
            .into_i64()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        (0..10).collect::<Vec<i64>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn integer_arithmetic_is_exact((x, c1, c2) in case(false)) {
        let xi = x.mapv(|v| v as i64 * 1_000_003);
        let yi = x.mapv(|v| if v == 0.0 { 3 } else { v as i64 });
        let a = from_ndarray(xi.clone(), c1).unwrap();
        let b = from_ndarray(yi.clone(), c2).unwrap();
        let got = |arr: Array| compute(&arr).into_i64().unwrap();
        prop_assert_eq!(got(a.add(&b).unwrap()), &xi + &yi);
        prop_assert_eq!(got(a.mul(&b).unwrap()), &xi * &yi);
        prop_assert_eq!(got(a.floor_div(&b).unwrap()), Zip::from(&xi).and(&yi).map_collect(|&p, &q| p.div_euclid(q) - if q < 0 && p.rem_euclid(q) != 0 { 1 } else { 0 }));
        prop_assert_eq!(got(a.rem(&b).unwrap()), Zip::from(&xi).and(&yi).map_collect(|&p, &q| { let r = p % q; if r != 0 && (r < 0) != (q < 0) { r + q } else { r } }));
        let s = compute(&a.sum(floe_array::Axes::All).unwrap()).into_i64().unwrap();
        prop_assert_eq!(s[[]], xi.sum());
    }
}

#[test]
fn the_rest_of_numpys_ufuncs() {
    use floe_array::UnaryOp;
    let v = ndarray::arr1(&[-2.5, -0.0, 0.0, 0.3, 1.0, 700.0, f64::NAN, f64::INFINITY]).into_dyn();
    let x = from_ndarray(v.clone(), 3_usize).unwrap();
    let got = |a: Array| f64s(&a);
    // Special values where the formulas differ from the naive ones.
    let lae = got(x.logaddexp_scalar(700.0).unwrap());
    assert!(
        (lae[5] - (700.0 + 2f64.ln())).abs() < 1e-12,
        "no overflow: {}",
        lae[5]
    );
    assert_eq!(lae[7], f64::INFINITY);
    assert!(lae[6].is_nan());
    let nan_inf = got(x.logaddexp_scalar(f64::NEG_INFINITY).unwrap());
    assert!(nan_inf[6].is_nan(), "NaN with -inf is NaN");
    let fmax = got(x.fmax_scalar(f64::NAN).unwrap());
    assert_eq!(fmax[0], -2.5, "NaN ignored");
    assert!(fmax[6].is_nan(), "NaN where both are");
    assert_eq!(got(x.fmin_scalar(0.5).unwrap())[6], 0.5);
    let nn = got(x.nan_to_num().unwrap());
    assert_eq!((nn[6], nn[7]), (0.0, f64::MAX));
    let sb = x.signbit().unwrap();
    assert_eq!(sb.dtype(), DType::Bool);
    let sb = crate::support::compute(&sb).into_bool().unwrap();
    assert_eq!(
        sb.iter().copied().collect::<Vec<_>>(),
        vec![true, true, false, false, false, false, false, false]
    );
    // Where std's formulas lose digits or overflow: acosh near 1, atanh near ±1, asinh of
    // the largest floats (references from NumPy).
    let edge = from_ndarray(
        ndarray::arr1(&[1.000_000_03_f64, -0.999_999_999_99, 1e300]).into_dyn(),
        2_usize,
    )
    .unwrap();
    let (ach, ath, ash) = (
        got(edge.arccosh().unwrap())[0],
        got(edge.arctanh().unwrap())[1],
        got(edge.arcsinh().unwrap())[2],
    );
    assert!((ach - 2.449_489_738_281_036e-4).abs() <= 1e-16, "{ach}");
    assert!((ath - -13.010_791_560_374_54).abs() <= 1e-12, "{ath}");
    assert!((ash - 691.468_675_078_773_6).abs() <= 1e-10, "{ash}");
    let big = from_ndarray(ndarray::arr1(&[3e38_f32]).into_dyn(), 1_usize).unwrap();
    let ash32 = crate::support::compute(&big.arcsinh().unwrap())
        .into_f32()
        .unwrap()[0];
    assert!((ash32 - 89.289_99).abs() < 1e-3, "{ash32}");
    // C's remainder keeps the dividend's sign; Python's (%) the divisor's.
    let i = from_ndarray(ndarray::arr1(&[-7_i32, 7, -7, 0]).into_dyn(), 2_usize).unwrap();
    let d = from_ndarray(ndarray::arr1(&[2_i32, -2, 0, 3]).into_dyn(), 2_usize).unwrap();
    let fmod = crate::support::compute(&i.fmod(&d).unwrap())
        .into_i32()
        .unwrap();
    assert_eq!(fmod.iter().copied().collect::<Vec<_>>(), vec![-1, 1, 0, 0]);
    assert_eq!(i.trunc().unwrap().dtype(), DType::I32);
    // Float math on integers gives floats (float32 for small integers, as NumPy); 1/x on
    // integers is refused rather than truncated.
    assert_eq!(i.arcsinh().unwrap().dtype(), DType::F64);
    assert_eq!(i.astype(DType::I8).cbrt().unwrap().dtype(), DType::F32);
    assert_eq!(i.hypot(&d).unwrap().dtype(), DType::F64);
    assert!(i.reciprocal().is_err());
    // Every NumPy name maps to its operation and back.
    for op in UnaryOp::ALL {
        assert_eq!(UnaryOp::from_numpy_name(op.name()), Some(op));
    }
    for op in BinaryOp::ALL {
        assert_eq!(BinaryOp::from_numpy_name(op.name()), Some(op));
    }
}

#[test]
fn mixed_dtypes_convert_into_the_output_in_either_order() {
    // An int32 operand of the output's shape is converted into the output's memory; the
    // other operand broadcasts, on either side, transposed or not.
    let ints = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| (i[0] * 3 + i[1]) as i32 - 5);
    let row = ArrayD::from_shape_fn(IxDyn(&[3]), |i| 0.5 + i[0] as f64);
    let (a, r) = (
        from_ndarray(ints.clone(), 2).unwrap(),
        from_ndarray(row.clone(), 2).unwrap(),
    );
    let want = |f: &dyn Fn(f64, f64) -> f64, flip: bool| {
        ArrayD::from_shape_fn(IxDyn(&[4, 3]), |i| {
            let (x, y) = (f64::from(ints[[i[0], i[1]]]), row[[i[1]]]);
            if flip { f(y, x) } else { f(x, y) }
        })
    };
    let got = compute(&a.sub(&r).unwrap()).into_f64().unwrap();
    assert_eq!(got, want(&|x, y| x - y, false));
    let got = compute(&r.sub(&a).unwrap()).into_f64().unwrap();
    assert_eq!(got, want(&|x, y| x - y, true));
    let t = a.t().t();
    let got = compute(&r.binary(floe_array::BinaryOp::Div, &t).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(got, want(&|x, y| x / y, true));
    let square = from_ndarray(ints.slice(ndarray::s![..3, ..]).to_owned().into_dyn(), 2).unwrap();
    let mixed = square
        .t()
        .sub(&from_ndarray(row.clone(), 3).unwrap())
        .unwrap();
    let got = compute(&mixed).into_f64().unwrap();
    let want_t = ArrayD::from_shape_fn(IxDyn(&[3, 3]), |i| {
        f64::from(ints[[i[1], i[0]]]) - row[[i[1]]]
    });
    assert_eq!(got, want_t, "a transposed operand reads through its view");
}

/// One lowering, arrays made and dropped between its calls: each output gets its own
/// tasks. (Tasks were once remembered by the address of an array's node, which a node made
/// after another was dropped may reuse: the later array then got the earlier one's tasks.)
#[test]
fn arrays_dropped_while_lowering_leave_no_stale_tasks() {
    let mut builder = floe_graph::GraphBuilder::default();
    let mut outputs = Vec::new();
    {
        let mut lowering = floe_array::Lowering::new(&mut builder);
        for k in 0..32 {
            // Made, lowered and dropped at once: the next iteration's nodes are allocated
            // where these were.
            let x = floe_array::ones(&[4, 3], [2_usize, 3], DType::F64).unwrap();
            let y = x.add_scalar(f64::from(k)).unwrap();
            outputs.push((k, lowering.assemble(&y).unwrap()));
        }
    }
    let graph = builder.build();
    let ids: Vec<_> = outputs.iter().map(|&(_, id)| id).collect();
    let run = floe_scheduler::Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&graph, &ids)
        .unwrap();
    for ((k, _), value) in outputs.iter().zip(&run.values) {
        let got = value
            .downcast_ref::<DynArray>()
            .unwrap()
            .clone()
            .into_typed::<f64>();
        let want = ArrayD::from_elem(IxDyn(&[4, 3]), 1.0 + f64::from(*k));
        assert_eq!(got, want, "output {k}");
    }
}
