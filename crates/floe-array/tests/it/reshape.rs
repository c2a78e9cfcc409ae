use floe_array::{DType, from_ndarray, plan_rechunk, rechunk_footprint};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

/// Target shapes for `shape`: flatten everything, merge the trailing axes, merge the first
/// two, split the first axis in two factors, and add length-1 axes.
fn targets(shape: &[usize]) -> Vec<Vec<isize>> {
    let n: usize = shape.iter().product();
    let mut out = vec![vec![-1]];
    if shape.len() >= 2 {
        out.push(vec![shape[0] as isize, -1]);
        let mut m = vec![(shape[0] * shape[1]) as isize];
        m.extend(shape[2..].iter().map(|&s| s as isize));
        out.push(m);
    }
    if let Some(&first) = shape.first() {
        for f in 2..=first {
            if first % f == 0 {
                let mut v = vec![f as isize, (first / f) as isize];
                v.extend(shape[1..].iter().map(|&s| s as isize));
                out.push(v);
                break;
            }
        }
    }
    let mut ones = vec![1_isize];
    ones.extend(shape.iter().map(|&s| s as isize));
    ones.push(1);
    out.push(ones);
    out.push(vec![n as isize]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reshapes_match_ndarray((x, c1, _c2) in case(false)) {
        let a = from_ndarray(x.clone(), c1).unwrap();
        for t in targets(x.shape()) {
            let known: isize = t.iter().filter(|&&d| d >= 0).product();
            if t.contains(&-1) && known == 0 {
                // NumPy refuses too: -1 is ambiguous next to a zero-length axis.
                prop_assert!(a.reshape(&t).is_err());
                continue;
            }
            let r = a.reshape(&t).unwrap();
            let want = x
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order(IxDyn(r.shape()))
                .unwrap();
            assert_close(&compute(&r).into_f64().unwrap(), &want, 0.0, &format!("reshape {:?} to {t:?}", x.shape()));
        }
    }
}

#[test]
fn bad_reshapes_are_errors() {
    let a = floe_array::ones(&[6, 4], 2, DType::F64).unwrap();
    assert!(a.reshape(&[5, -1]).is_err());
    assert!(a.reshape(&[-1, -1]).is_err());
    assert!(a.reshape(&[7, 3]).is_err());
    assert_eq!(a.reshape(&[2, 3, 4]).unwrap().shape(), &[2, 3, 4]);
}

#[test]
fn rows_to_columns_goes_through_square_blocks() {
    let n = 400;
    let x = ArrayD::from_shape_fn(IxDyn(&[n, n]), |i| (i[0] * n + i[1]) as f64);
    let a = from_ndarray(x.clone(), [1_usize, n]).unwrap();
    let rows = a.chunks().axes().to_vec();
    let cols = vec![vec![n], vec![1; n]];
    let limit = 200_000;
    assert!(
        rechunk_footprint(&rows, &cols, 8) > limit,
        "the direct rechunk touches the whole array"
    );
    let steps = plan_rechunk(&rows, &cols, 8, limit);
    assert_eq!(
        steps.len(),
        2,
        "{:?}",
        steps
            .iter()
            .map(|s| (s[0].len(), s[1].len()))
            .collect::<Vec<_>>()
    );
    let mut from = rows.clone();
    for s in &steps {
        assert!(rechunk_footprint(&from, s, 8) <= limit);
        from = s.clone();
    }
    assert_eq!(steps.last().unwrap(), &cols);
    let b = a.rechunk_with_limit(cols.clone(), limit).unwrap();
    assert_eq!(b.chunks().axes(), cols.as_slice());
    assert_close(
        &compute(&b).into_f64().unwrap(),
        &x,
        0.0,
        "rechunk through the plan",
    );
}
