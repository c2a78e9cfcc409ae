//! Quantiles and histograms against plain references over random shapes and chunkings
//! (NumPy itself is the oracle of the Python tests).

use floe_array::{Bins, from_ndarray, histogram};
use ndarray::{ArrayD, Axis, Dimension};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

/// The `p` quantile of `v` with linear interpolation, NaN if `v` has NaN (or is empty).
fn quantile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() || v.iter().any(|x| x.is_nan()) {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let h = (s.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    s[lo] + (s[hi] - s[lo]) * (h - lo as f64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn quantiles_along_each_axis_match_a_sorted_lane((x, chunks, _) in case(true)) {
        prop_assume!(x.ndim() > 0 && !x.shape().contains(&0));
        let a = from_ndarray(x.clone(), chunks).unwrap();
        let qs = [0.0, 0.3, 0.5, 1.0];
        for axis in 0..x.ndim() {
            let got = compute(&a.quantile(&qs, axis as isize, false).unwrap()).into_f64().unwrap();
            for (j, &p) in qs.iter().enumerate() {
                let want: ArrayD<f64> = x.map_axis(Axis(axis), |lane| quantile(&lane.to_vec(), p));
                assert_close(&got.index_axis(Axis(0), j).to_owned(), &want, 1e-12, "quantile");
            }
            let skip = compute(&a.quantile(&[0.5], axis as isize, true).unwrap()).into_f64().unwrap();
            let want: ArrayD<f64> = x.map_axis(Axis(axis), |lane| {
                quantile(&lane.iter().copied().filter(|v| !v.is_nan()).collect::<Vec<_>>(), 0.5)
            });
            assert_close(&skip.index_axis(Axis(0), 0).to_owned(), &want, 1e-12, "nanquantile");
        }
    }

    #[test]
    fn quantiles_of_the_whole_array_match_sorting_everything((x, chunks, _) in case(true)) {
        let a = from_ndarray(x.clone(), chunks).unwrap();
        let qs = [0.0, 0.25, 0.5, 0.9, 1.0];
        let all: Vec<f64> = x.iter().copied().collect();
        let got = compute(&a.quantile_all(&qs, false).unwrap()).into_f64().unwrap();
        let want = ArrayD::from_shape_vec(ndarray::IxDyn(&[qs.len()]), qs.iter().map(|&p| quantile(&all, p)).collect()).unwrap();
        assert_close(&got, &want, 1e-12, "quantile_all");
        let numbers: Vec<f64> = all.iter().copied().filter(|v| !v.is_nan()).collect();
        let got = compute(&a.quantile_all(&qs, true).unwrap()).into_f64().unwrap();
        let want = ArrayD::from_shape_vec(ndarray::IxDyn(&[qs.len()]), qs.iter().map(|&p| quantile(&numbers, p)).collect()).unwrap();
        assert_close(&got, &want, 1e-12, "nanquantile_all");
    }

    #[test]
    fn histograms_count_every_element_in_range_once((x, chunks, _) in case(true), n in 1_usize..9) {
        let a = from_ndarray(x.clone(), chunks).unwrap();
        let (counts, edges) = histogram(&a, Bins::Count(n), Some((-4.0, 4.0)), None, false).unwrap();
        let counts = compute(&counts).into_i64().unwrap();
        let edges = compute(&edges).into_f64().unwrap();
        let e = edges.as_slice().unwrap();
        let mut want = vec![0_i64; n];
        for &v in x.iter().filter(|v| (-4.0..=4.0).contains(*v)) {
            let i = e.partition_point(|&b| b <= v).clamp(1, n) - 1;
            want[i] += 1;
        }
        prop_assert_eq!(counts.as_slice().unwrap(), want.as_slice());
    }
}

/// A million values with many ties in 16 blocks: brackets from sketches of 4096 values
/// per block keep a sliver of the data, and land on both ranks.
#[test]
fn whole_array_quantiles_of_a_large_array_are_exact() {
    let v: Vec<f64> = (0..1_000_003_u64)
        .map(|i| ((i * 7919) % 10_007) as f64 / 3.0)
        .collect();
    let x = ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v.clone()).unwrap();
    let a = from_ndarray(x, 62_500).unwrap();
    let qs = [0.0, 0.001, 0.37, 0.5, 0.999, 1.0];
    let got = compute(&a.quantile_all(&qs, false).unwrap())
        .into_f64()
        .unwrap();
    for (g, &p) in got.iter().zip(&qs) {
        assert_eq!(*g, quantile(&v, p), "q {p}");
    }
}

#[test]
fn bad_quantiles_and_bins_are_errors() {
    let x = floe_array::ones(&[4, 3], 2_usize, floe_array::DType::F64).unwrap();
    assert!(
        x.quantile(&[1.5], 0, false)
            .unwrap_err()
            .to_string()
            .contains("[0, 1]")
    );
    assert!(x.quantile(&[], 0, false).is_err());
    assert!(x.quantile(&[0.5], 2, false).is_err());
    assert!(histogram(&x, Bins::Count(0), None, None, false).is_err());
    assert!(histogram(&x, Bins::Edges(vec![2.0, 1.0]), None, None, false).is_err());
    assert!(histogram(&x, 3, Some((1.0, f64::INFINITY)), None, false).is_err());
    let w = floe_array::ones(&[3], 1_usize, floe_array::DType::F64).unwrap();
    assert!(
        floe_array::bincount(&w, None, 4).is_err(),
        "floats are refused"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn topk_keeps_the_largest_of_each_lane_in_order((x, chunks, _) in case(false), k in 1_isize..4) {
        prop_assume!(x.ndim() > 0 && !x.shape().contains(&0));
        let a = from_ndarray(x.clone(), chunks).unwrap();
        let axis = x.ndim() - 1;
        let k = k.min(x.shape()[axis] as isize);
        for sign in [1, -1] {
            let got = compute(&a.topk(sign * k, -1).unwrap()).into_f64().unwrap();
            let want = x.map_axis(Axis(axis), |lane| {
                let mut v = lane.to_vec();
                v.sort_by(|p, q| if sign > 0 { q.total_cmp(p) } else { p.total_cmp(q) });
                v[..k as usize].to_vec()
            });
            for (g, w) in got.lanes(Axis(axis)).into_iter().zip(want.iter()) {
                prop_assert_eq!(g.to_vec(), w.clone());
            }
        }
    }

    #[test]
    fn coarsening_sums_each_window((x, chunks, _) in case(false)) {
        prop_assume!(x.ndim() > 0 && !x.shape().contains(&0));
        let a = from_ndarray(x.clone(), chunks).unwrap();
        let factors: Vec<usize> = x.shape().iter().map(|&n| if n % 2 == 0 { 2 } else { 1 }).collect();
        let got = compute(&a.coarsen(floe_array::ReduceOp::Sum, &factors, false).unwrap()).into_f64().unwrap();
        let shape: Vec<usize> = x.shape().iter().zip(&factors).map(|(n, f)| n / f).collect();
        let mut want = ArrayD::<f64>::zeros(shape);
        for (i, &v) in x.indexed_iter() {
            let j: Vec<usize> = i.slice().iter().zip(&factors).map(|(p, f)| p / f).collect();
            want[j.as_slice()] += v;
        }
        assert_close(&got, &want, 1e-12, "coarsen");
    }
}
