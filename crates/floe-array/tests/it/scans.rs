//! Cumulative sums and products against a plain running fold along each axis, over random
//! shapes, chunkings and data with NaN.

use floe_array::{DType, ScanOp, from_ndarray};
use ndarray::{ArrayD, Axis};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

/// The running fold of every lane of `x` along `axis`.
fn reference(x: &ArrayD<f64>, axis: usize, op: ScanOp) -> ArrayD<f64> {
    let mut out = x.clone();
    for mut lane in out.lanes_mut(Axis(axis)) {
        let mut acc = if matches!(op, ScanOp::Prod | ScanOp::NanProd) {
            1.0
        } else {
            0.0
        };
        for v in lane.iter_mut() {
            let skip = v.is_nan() && matches!(op, ScanOp::NanSum | ScanOp::NanProd);
            if !skip {
                acc = match op {
                    ScanOp::Sum | ScanOp::NanSum => acc + *v,
                    ScanOp::Prod | ScanOp::NanProd => acc * *v,
                };
            }
            *v = acc;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scans_along_every_axis_match_a_running_fold((x, chunks, _) in case(true)) {
        prop_assume!(x.ndim() > 0);
        let a = from_ndarray(x.clone(), chunks).unwrap();
        for axis in 0..x.ndim() {
            for op in [ScanOp::Sum, ScanOp::Prod, ScanOp::NanSum, ScanOp::NanProd] {
                let y = a.scan(op, axis as isize).unwrap();
                prop_assert_eq!(y.chunks(), a.chunks());
                let got = compute(&y).into_f64().unwrap();
                // Small integers: sums are exact; products exact up to 6^24 < 2^63.
                assert_close(&got, &reference(&x, axis, op), 1e-12, &format!("{} axis {axis}", op.name()));
            }
        }
    }

    #[test]
    fn integer_scans_are_exact_in_int64((x, chunks, _) in case(false)) {
        prop_assume!(x.ndim() > 0);
        let xi = x.mapv(|v| v as i32);
        let a = from_ndarray(xi.clone(), chunks).unwrap();
        let axis = x.ndim() - 1;
        let y = a.cumsum(-1).unwrap();
        prop_assert_eq!(y.dtype(), DType::I64);
        let want = reference(&x, axis, ScanOp::Sum).mapv(|v| v as i64);
        prop_assert_eq!(compute(&y).into_i64().unwrap(), want);
    }
}

#[test]
fn long_axes_chain_their_carries_and_big_values_wrap_as_numpy() {
    // 3,000 blocks along the axis: lowering builds the carries' chain without recursing.
    let n = 3000;
    let x = floe_array::ones(&[n, 2], [1_usize, 2], DType::U8).unwrap();
    let y = compute(&x.cumsum(0).unwrap()).into_u64().unwrap();
    assert_eq!(y[[n - 1, 1]], n as u64);
    assert_eq!(y[[0, 0]], 1);
    // int64 overflow wraps, as NumPy's does (without a warning).
    let big = ndarray::arr1(&[i64::MAX, 1, 1]).into_dyn();
    let y = compute(&from_ndarray(big, 1_usize).unwrap().cumsum(0).unwrap());
    assert_eq!(
        y.into_i64().unwrap().as_slice().unwrap(),
        &[i64::MAX, i64::MIN, i64::MIN + 1]
    );
}

#[test]
fn bad_axes_are_errors() {
    let x = floe_array::ones(&[3, 4], 2_usize, DType::F64).unwrap();
    let err = x.cumsum(2).unwrap_err().to_string();
    assert!(err.contains("cumsum") && err.contains('2'), "{err}");
    assert!(x.cumprod(-3).is_err());
    let scalar = floe_array::ones(&[], 1_usize, DType::F64).unwrap();
    assert!(scalar.nancumsum(0).is_err());
}
