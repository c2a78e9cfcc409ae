use floe_array::{Idx, from_ndarray, s};
use ndarray::{ArrayD, Axis};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

/// NumPy's selection along one axis, by explicit positions.
fn positions(n: usize, idx: Idx) -> Vec<usize> {
    let Idx::Slice { start, stop, step } = idx else {
        unreachable!()
    };
    let n = n as isize;
    let norm = |v: isize, lo: isize, hi: isize| (if v < 0 { v + n } else { v }).clamp(lo, hi);
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, end) = (
            start.map_or(0, |v| norm(v, 0, n)),
            stop.map_or(n, |v| norm(v, 0, n)),
        );
        while i < end {
            out.push(i as usize);
            i += step;
        }
    } else {
        let (mut i, end) = (
            start.map_or(n - 1, |v| norm(v, -1, n - 1)),
            stop.map_or(-1, |v| norm(v, -1, n - 1)),
        );
        while i > end {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

fn slice_strategy() -> impl Strategy<Value = Idx> {
    (
        proptest::option::of(-8_isize..8),
        proptest::option::of(-8_isize..8),
        prop_oneof![1_isize..4, -3_isize..0],
    )
        .prop_map(|(start, stop, step)| Idx::Slice { start, stop, step })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn slices_with_any_step_match_explicit_selection(
        (x, c1, _c2) in case(false),
        idx in proptest::collection::vec(slice_strategy(), 4),
    ) {
        let a = from_ndarray(x.clone(), c1).unwrap();
        let idx = &idx[..x.ndim()];
        let got = compute(&a.slice(idx).unwrap()).into_f64().unwrap();
        let mut want = x.clone();
        for (axis, &i) in idx.iter().enumerate() {
            want = want.select(Axis(axis), &positions(x.shape()[axis], i));
        }
        assert_close(&got, &want, 0.0, "slice");
    }

    #[test]
    fn integer_indices_drop_axes((x, c1, _c2) in case(false), k in -7_isize..7) {
        prop_assume!(x.ndim() > 0 && x.shape()[0] > 0);
        let n = x.shape()[0] as isize;
        let a = from_ndarray(x.clone(), c1).unwrap();
        if k >= n || k < -n {
            prop_assert!(a.slice(&s![k]).is_err());
        } else {
            let pos = if k < 0 { k + n } else { k } as usize;
            let got = compute(&a.slice(&[Idx::Int(k)]).unwrap()).into_f64().unwrap();
            assert_close(&got, &x.index_axis(Axis(0), pos).to_owned(), 0.0, "int index");
        }
    }
}

#[test]
fn only_the_needed_blocks_are_lowered() {
    let x = floe_array::zeros(
        &[1464, 721, 1440],
        [4_usize, 200, 200],
        floe_array::DType::F32,
    )
    .unwrap();
    // One time step: the 4 × 8 blocks of one time block, each cut once, plus the result.
    assert_eq!(
        x.slice(&s![1000]).unwrap().task_count().unwrap(),
        32 * 2 + 1
    );
    // A (1464, 721, 1440) graph is never built for it.
    let every4 = x.slice(&s![..;4]).unwrap();
    assert_eq!(every4.numblocks(), vec![366, 4, 8]);
}

#[test]
fn newaxis_and_ellipsis() {
    let x = ArrayD::from_shape_fn(ndarray::IxDyn(&[3, 4, 5]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f64
    });
    let a = from_ndarray(x.clone(), 2).unwrap();
    let b = a.slice(&s![floe_array::Ellipsis, 2]).unwrap();
    assert_eq!(b.shape(), &[3, 4]);
    assert_close(
        &compute(&b).into_f64().unwrap(),
        &x.index_axis(Axis(2), 2).to_owned(),
        0.0,
        "ellipsis",
    );
    let c = a.slice(&s![floe_array::NewAxis, .., 1]).unwrap();
    assert_eq!(c.shape(), &[1, 3, 5]);
    let back = Idx::Slice {
        start: Some(4),
        stop: Some(0),
        step: -2,
    };
    let d = a.slice(&s![..;-1, 1..3, back]).unwrap();
    assert_eq!(d.shape(), &[3, 2, 2]);
    let got = compute(&d).into_f64().unwrap();
    assert_eq!(got[[0, 0, 0]], 214.0);
    assert_eq!(got[[2, 1, 1]], 22.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn permutations_match_ndarray((x, c1, _c2) in case(false), seed in any::<u64>()) {
        let mut perm: Vec<usize> = (0..x.ndim()).collect();
        // A seeded Fisher–Yates shuffle.
        let mut s = seed | 1;
        for i in (1..perm.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            perm.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let a = from_ndarray(x.clone(), c1).unwrap();
        let got = compute(&a.permute(&perm).unwrap()).into_f64().unwrap();
        assert_close(&got, &x.view().permuted_axes(perm.clone()).to_owned(), 0.0, "permute");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn take_and_mask_match_ndarray(
        (x, c1, _c2) in case(false),
        picks in proptest::collection::vec(-8_isize..8, 0..12),
        bits in proptest::collection::vec(any::<bool>(), 8),
        axis in 0_usize..4,
    ) {
        prop_assume!(x.ndim() > 0);
        let axis = axis % x.ndim();
        let n = x.shape()[axis] as isize;
        let a = from_ndarray(x.clone(), c1).unwrap();
        let valid: Vec<isize> = picks.iter().copied().filter(|&k| k >= -n && k < n).collect();
        let positions: Vec<usize> = valid.iter().map(|&k| if k < 0 { k + n } else { k } as usize).collect();
        let got = compute(&a.take(&valid, axis as isize).unwrap()).into_f64().unwrap();
        assert_close(&got, &x.select(Axis(axis), &positions), 0.0, "take");
        if picks.iter().any(|&k| k >= n || k < -n) {
            prop_assert!(a.take(&picks, axis as isize).is_err());
        }
        let mask: Vec<bool> = (0..n as usize).map(|i| bits[i % bits.len()]).collect();
        let kept: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
        let got = compute(&a.mask(&mask, axis as isize).unwrap()).into_f64().unwrap();
        assert_close(&got, &x.select(Axis(axis), &kept), 0.0, "mask");
        prop_assert!(a.mask(&[true; 9], axis as isize).is_err());
    }
}
