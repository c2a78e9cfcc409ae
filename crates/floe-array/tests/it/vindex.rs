//! Pointwise indexing against a plain per-point reference, over random shapes, chunkings
//! and index arrays (broadcast, negative).

use floe_array::{ArrayError, from_ndarray};
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn vindex_gathers_each_point((x, c1, _) in case(false), k in 1_usize..4, m in 0_usize..5, seed in any::<u64>(), outer in any::<bool>()) {
        prop_assume!(x.ndim() >= k && x.shape()[..k].iter().all(|&n| n > 0));
        let a = from_ndarray(x.clone(), c1).unwrap();
        // Index a: shape (m,) or, with `outer`, (m, 1) against (1, m) for the next.
        let mut s = seed;
        let mut next = |n: usize| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = (s >> 33) as i64 % (2 * n as i64);
            r - n as i64
        };
        let indices: Vec<ArrayD<i64>> = (0..k)
            .map(|axis| {
                let n = x.shape()[axis];
                let v: Vec<i64> = (0..m).map(|_| next(n)).collect();
                let shape = if outer && k > 1 { if axis == 0 { vec![m, 1] } else { vec![1, m] } } else { vec![m] };
                ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap()
            })
            .collect();
        let got = a.vindex(&indices).unwrap();
        let shape: Vec<usize> = if outer && k > 1 { vec![m, m] } else { vec![m] };
        let mut full = shape.clone();
        full.extend(&x.shape()[k..]);
        prop_assert_eq!(got.shape(), full.as_slice());
        let got = compute(&got).into_f64().unwrap();
        // The reference: each point's sub-array.
        let npts: usize = shape.iter().product();
        let views: Vec<ArrayD<i64>> = indices.iter().map(|ix| ix.broadcast(IxDyn(&shape)).unwrap().to_owned()).collect();
        let flat_got = got.into_shape_with_order(IxDyn(&[npts, x.shape()[k..].iter().product()])).unwrap();
        for p in 0..npts {
            let mut lane = x.view();
            for (axis, v) in views.iter().enumerate() {
                let i = *v.iter().nth(p).unwrap();
                let n = x.shape()[axis] as i64;
                lane = lane.index_axis_move(Axis(0), (if i < 0 { i + n } else { i }) as usize);
            }
            let want = ArrayD::from_shape_vec(IxDyn(&[lane.len()]), lane.iter().copied().collect()).unwrap();
            let row = flat_got.index_axis(Axis(0), p).to_owned();
            assert_close(&row, &want, 0.0, "vindex point");
        }
    }
}

#[test]
fn vindex_checks_its_indices() {
    let x = floe_array::ones(&[4, 5], 2, floe_array::DType::F64).unwrap();
    let ix = |v: Vec<i64>| ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap();
    assert!(matches!(
        x.vindex(&[ix(vec![0, 4])]),
        Err(ArrayError::IndexOutOfBounds {
            index: 4,
            axis: 0,
            len: 4
        })
    ));
    assert!(matches!(
        x.vindex(&[ix(vec![0, -5])]),
        Err(ArrayError::IndexOutOfBounds { .. })
    ));
    assert!(matches!(
        x.vindex(&[]),
        Err(ArrayError::InvalidIndex { .. })
    ));
    assert!(matches!(
        x.vindex(&[ix(vec![0]), ix(vec![0]), ix(vec![0])]),
        Err(ArrayError::InvalidIndex { .. })
    ));
    assert!(matches!(
        x.vindex(&[ix(vec![0, 1]), ix(vec![0, 1, 2])]),
        Err(ArrayError::InvalidIndex { .. })
    ));
    // Scalar (0-d) indices pick one point.
    let p = x
        .vindex(&[
            ArrayD::from_elem(IxDyn(&[]), 1),
            ArrayD::from_elem(IxDyn(&[]), 2),
        ])
        .unwrap();
    assert_eq!(p.shape(), &[] as &[usize]);
    assert_eq!(
        compute(&p).into_f64().unwrap().into_raw_vec_and_offset().0,
        vec![1.0]
    );
}
