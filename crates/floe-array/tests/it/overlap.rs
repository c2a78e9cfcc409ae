//! Overlapping blocks against the whole array: every extended block is the window of the
//! array (through its boundary) around the block, trimming gives the array back, and a
//! stencil mapped over extended blocks equals the stencil on the whole array.

use std::sync::Arc;

use floe_array::{Boundary, DType, DynArray, from_ndarray};
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

fn boundary() -> impl Strategy<Value = Boundary> {
    prop_oneof![
        Just(Boundary::None),
        Just(Boundary::Reflect),
        Just(Boundary::Periodic),
        Just(Boundary::Nearest),
        Just(Boundary::Constant(-9.0)),
    ]
}

/// The value standing at position `p` (maybe outside `0..n`) along an axis, as an index
/// or the constant.
fn source(p: isize, n: usize, b: Boundary) -> Result<usize, f64> {
    let n = n as isize;
    let q = if (0..n).contains(&p) {
        p
    } else {
        match b {
            Boundary::None => unreachable!("no positions beyond a None boundary"),
            Boundary::Reflect if p < 0 => -p - 1,
            Boundary::Reflect => 2 * n - p - 1,
            Boundary::Periodic => p.rem_euclid(n),
            Boundary::Nearest => p.clamp(0, n - 1),
            Boundary::Constant(v) => return Err(v),
        }
    };
    Ok(q as usize)
}

/// `x` extended block by block along `axis` (blocks `chunks`, margins `d`), as a plain array.
fn extend(x: &ArrayD<f64>, axis: usize, chunks: &[usize], d: usize, b: Boundary) -> ArrayD<f64> {
    let n = x.shape()[axis];
    let mut lanes = Vec::new();
    let mut off = 0;
    for &c in chunks {
        for p in off as isize - d as isize..(off + c + d) as isize {
            if b == Boundary::None && !(0..n as isize).contains(&p) {
                continue;
            }
            lanes.push(match source(p, n, b) {
                Ok(i) => x.index_axis(Axis(axis), i).to_owned(),
                Err(v) => ArrayD::from_elem(x.index_axis(Axis(axis), 0).raw_dim(), v),
            });
        }
        off += c;
    }
    let views: Vec<_> = lanes.iter().map(|l| l.view()).collect();
    ndarray::stack(Axis(axis), &views).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn extended_blocks_are_windows_of_the_array(
        (x, chunks, _) in case(false),
        depth in 0_usize..3,
        b in boundary(),
    ) {
        prop_assume!(x.ndim() > 0 && !x.shape().contains(&0));
        prop_assume!(b == Boundary::None || matches!(b, Boundary::Constant(_)) || x.shape().iter().all(|&n| n >= depth));
        let a = from_ndarray(x.clone(), chunks).unwrap();
        let y = a.overlap(&[depth], &[b]).unwrap();
        let got = compute(&y).into_f64().unwrap();
        // The overlap rechunked axes whose blocks were shorter than the depth: use its own.
        let inner = y.trim_overlap(&[depth], &[b]).unwrap();
        let mut want = x.clone();
        for axis in 0..x.ndim() {
            want = extend(&want, axis, inner.chunks().axis(axis), depth, b);
        }
        assert_close(&got, &want, 0.0, &format!("overlap {depth} {b:?}"));
        assert_close(&compute(&inner).into_f64().unwrap(), &x, 0.0, "trimmed");
    }

    #[test]
    fn a_stencil_over_extended_blocks_is_the_stencil_of_the_whole(
        (x, chunks, _) in case(false),
        b in prop_oneof![Just(Boundary::Reflect), Just(Boundary::Periodic), Just(Boundary::Nearest)],
    ) {
        prop_assume!(x.ndim() == 1 && x.len() >= 2);
        let n = x.len();
        // A 5-point sum: reach 2 on each side.
        let stencil = |v: &ArrayD<f64>, k: usize| (k - 2..=k + 2).map(|i| v[[i]]).sum::<f64>();
        let a = from_ndarray(x.clone(), chunks).unwrap();
        prop_assume!(n >= 2);
        let y = a.map_overlap(&[2], &[b], DType::F64, Arc::new(move |blocks, _| {
            let v = blocks[0].to_typed::<f64>();
            let m = v.len();
            Ok(DynArray::from(ArrayD::from_shape_fn(IxDyn(&[m]), |i| {
                let k = i[0];
                if k < 2 || k + 2 >= m { 0.0 } else { stencil(&v, k) }
            })))
        })).unwrap();
        prop_assert_eq!(y.shape(), x.shape());
        let padded = extend(&x, 0, &[n], 2, b);
        let want = ArrayD::from_shape_fn(IxDyn(&[n]), |i| stencil(&padded, i[0] + 2));
        assert_close(&compute(&y).into_f64().unwrap(), &want, 1e-12, &format!("{b:?}"));
    }
}

#[test]
fn depths_past_the_array_and_bad_lengths_are_errors() {
    let x = floe_array::ones(&[3, 4], 2_usize, DType::F64).unwrap();
    let err = x
        .overlap(&[5], &[Boundary::Reflect])
        .unwrap_err()
        .to_string();
    assert!(err.contains("exceeds its length"), "{err}");
    assert!(x.overlap(&[1, 1, 1], &[Boundary::None]).is_err());
    assert!(
        x.overlap(&[1], &[Boundary::None, Boundary::None, Boundary::None])
            .is_err()
    );
    // A None boundary needs no data past the edge: any depth works.
    assert_eq!(x.overlap(&[5], &[Boundary::None]).unwrap().shape(), &[3, 4]);
}

#[test]
fn pads_and_repeats_keep_the_blocks_and_empty_results_have_one_block() {
    use floe_array::PadMode;
    let x = from_ndarray(ndarray::arr1(&[1.0, 2.0, 3.0]).into_dyn(), 2_usize).unwrap();
    let p = x.pad(&[(4, 2)], PadMode::Reflect).unwrap();
    assert_eq!(p.chunks().axis(0), &[4, 2, 1, 2]);
    let want = [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]; // NumPy's np.pad(.., (4, 2), "reflect")
    assert_eq!(compute(&p).into_f64().unwrap().as_slice().unwrap(), &want);
    let s = compute(&x.pad(&[(4, 0)], PadMode::Symmetric).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(s.as_slice().unwrap(), &[3.0, 3.0, 2.0, 1.0, 1.0, 2.0, 3.0]); // NumPy's
    let none = x.repeat(&[0], 0).unwrap();
    assert_eq!(none.shape(), &[0]);
    assert_eq!(compute(&none).shape(), &[0]);
    let some = x.repeat(&[0, 2, 1], 0).unwrap();
    assert_eq!(
        compute(&some).into_f64().unwrap().as_slice().unwrap(),
        &[2.0, 2.0, 3.0]
    );
    assert!(x.repeat(&[1, 2], 0).is_err());
}

#[test]
fn diagonals_cross_blocks_piece_by_piece() {
    let x = ArrayD::from_shape_fn(IxDyn(&[5, 7]), |i| (i[0] * 10 + i[1]) as f64);
    let a = from_ndarray(x.clone(), [2_usize, 3]).unwrap();
    for offset in -5..=7 {
        let d = a.diagonal(offset, 0, 1).unwrap();
        let want: Vec<f64> = (0..5_isize)
            .filter_map(|i| {
                let j = i + offset;
                (0..7).contains(&j).then(|| x[[i as usize, j as usize]])
            })
            .collect();
        assert_eq!(
            compute(&d).into_f64().unwrap().as_slice().unwrap(),
            want.as_slice(),
            "offset {offset}"
        );
    }
    let t = compute(&a.trace(1, 1, 0).unwrap()).into_f64().unwrap();
    assert_eq!(t[[]], 10.0 + 21.0 + 32.0 + 43.0);
    let v = from_ndarray(ndarray::arr1(&[1.0, 2.0, 3.0]).into_dyn(), 2_usize).unwrap();
    let m = compute(&floe_array::diag(&v, -1).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(m.shape(), &[4, 4]);
    assert_eq!((m[[1, 0]], m[[3, 2]], m.sum()), (1.0, 3.0, 6.0));
}
