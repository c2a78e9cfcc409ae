//! Selections of data-dependent size — boolean masks, `compress`, `argwhere`/`nonzero`,
//! `unique` — against plain `ndarray` references over random shapes, chunkings and data,
//! and the operations arrays of unknown block sizes allow and refuse.

use std::collections::BTreeMap;

use floe_array::{Array, ArrayError, Axes, DType, DynArray, from_ndarray, s};
use ndarray::{ArrayD, Axis, Dimension, IxDyn};
use proptest::prelude::*;

use crate::support::{assert_close, case, chunking, compute_unknown, data, shape};

/// NumPy's `x[mask]`: the elements where `mask` holds, row-major.
fn masked(x: &ArrayD<f64>, mask: &ArrayD<bool>) -> Vec<f64> {
    x.iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| *v)
        .collect()
}

fn vec1(v: Vec<f64>) -> ArrayD<f64> {
    let n = v.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), v).unwrap()
}

/// Data, two chunkings of it, and a mask.
type MaskedCase = (ArrayD<f64>, Vec<Vec<usize>>, Vec<Vec<usize>>, ArrayD<bool>);

/// A shape, data with NaN, two chunkings and a random mask.
fn masked_case() -> impl Strategy<Value = MaskedCase> {
    shape().prop_flat_map(|s| {
        let n: usize = s.iter().product();
        let sh = s.clone();
        (
            data(&s, true),
            chunking(&s),
            chunking(&s),
            proptest::collection::vec(any::<bool>(), n)
                .prop_map(move |v| ArrayD::from_shape_vec(IxDyn(&sh), v).unwrap()),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn masks_select_in_numpy_order((x, c1, c2, m) in masked_case()) {
        let a = from_ndarray(x.clone(), c1).unwrap();
        // A mask of other blocks is rechunked to the array's.
        let mask = from_ndarray(m.clone(), c2).unwrap();
        let y = a.filter(&mask).unwrap();
        prop_assert_eq!(y.ndim(), 1);
        let got = compute_unknown(&y).into_f64().unwrap();
        assert_close(&got, &vec1(masked(&x, &m)), 0.0, "x[mask]");
        // A lazy comparison as the mask, as `x[x > 0]`.
        let pos = a.filter(&a.gt_scalar(0.0).unwrap()).unwrap();
        let want: Vec<f64> = x.iter().copied().filter(|v| *v > 0.0).collect();
        let got = compute_unknown(&pos).into_f64().unwrap();
        assert_close(&got, &vec1(want.clone()), 0.0, "x[x > 0]");
        // Elementwise operations and reductions run on the unknown sizes.
        let twice = pos.mul_scalar(2.0).unwrap().add(&pos).unwrap();
        // (An empty array's selection is known to be empty.)
        prop_assert_eq!(twice.unknown_axes(), if x.is_empty() { vec![] } else { vec![0] });
        let got = compute_unknown(&twice).into_f64().unwrap();
        assert_close(&got, &vec1(want.iter().map(|v| 3.0 * v).collect()), 0.0, "3 x[x > 0]");
        let total = compute_unknown(&pos.sum(Axes::All).unwrap()).into_f64().unwrap();
        assert_close(&total, &ArrayD::from_elem(IxDyn(&[]), want.iter().sum()), 1e-12, "sum");
        if !want.is_empty() {
            let mean = compute_unknown(&pos.mean(Axes::All).unwrap()).into_f64().unwrap();
            let w = want.iter().sum::<f64>() / want.len() as f64;
            assert_close(&mean, &ArrayD::from_elem(IxDyn(&[]), w), 1e-12, "mean");
            let at = compute_unknown(&pos.argmax(Axes::All).unwrap()).into_i64().unwrap();
            let first_max = want.iter().enumerate().fold(0, |b, (i, v)| if *v > want[b] { i } else { b });
            prop_assert_eq!(at.iter().copied().collect::<Vec<_>>(), vec![first_max as i64]);
            let max = compute_unknown(&pos.max(Axes::All).unwrap()).into_f64().unwrap();
            let w = want.iter().copied().fold(f64::MIN, f64::max);
            assert_close(&max, &ArrayD::from_elem(IxDyn(&[]), w), 0.0, "max");
        }
        // Scans run on unknown sizes: totals and carries come from the blocks.
        let running = compute_unknown(&pos.cumsum(0).unwrap()).into_f64().unwrap();
        let w: Vec<f64> = want.iter().scan(0.0, |acc, v| { *acc += v; Some(*acc) }).collect();
        assert_close(&running, &vec1(w), 1e-12, "cumsum of x[x > 0]");
        // A mask of a selection: sizes stay unknown, blocks line up at run time.
        let small = pos.filter(&pos.lt_scalar(3.0).unwrap()).unwrap();
        let got = compute_unknown(&small).into_f64().unwrap();
        let w: Vec<f64> = want.iter().copied().filter(|v| *v < 3.0).collect();
        assert_close(&got, &vec1(w), 0.0, "x[x > 0][... < 3]");
    }

    #[test]
    fn compress_keeps_the_chosen_slices((x, c1, _) in case(false), seed in any::<u64>()) {
        prop_assume!(x.ndim() > 0);
        let a = from_ndarray(x.clone(), c1).unwrap();
        for axis in 0..x.ndim() {
            let n = x.shape()[axis];
            let keep: Vec<bool> = (0..n).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
            let cond = from_ndarray(ArrayD::from_shape_vec(IxDyn(&[n]), keep.clone()).unwrap(), 2).unwrap();
            let y = a.compress(&cond, axis as isize).unwrap();
            prop_assert_eq!(y.unknown_axes(), vec![axis]);
            let idx: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
            let want = x.select(Axis(axis), &idx);
            assert_close(&compute_unknown(&y).into_f64().unwrap(), &want, 0.0, "compress");
            // Scanning along any axis keeps the unknown one.
            let run = y.cumsum(0).unwrap();
            prop_assert_eq!(run.unknown_axes(), vec![axis]);
            let mut w = want.clone();
            w.accumulate_axis_inplace(Axis(0), |&prev, cur| *cur += prev);
            assert_close(&compute_unknown(&run).into_f64().unwrap(), &w, 1e-12, "cumsum of compress");
            // Reducing the other axes keeps the unknown one.
            if x.ndim() > 1 {
                let other = (axis + 1) % x.ndim();
                let r = y.sum(other as isize).unwrap();
                let want = want.sum_axis(Axis(other));
                assert_close(&compute_unknown(&r).into_f64().unwrap(), &want, 1e-12, "sum of compress");
            }
        }
    }

    #[test]
    fn argwhere_nonzero_and_flatnonzero_find_every_nonzero((x, c1, _) in case(true)) {
        let a = from_ndarray(x.clone(), c1).unwrap();
        let want: Vec<Vec<usize>> = x
            .indexed_iter()
            .filter(|(_, v)| **v != 0.0)
            .map(|(i, _)| i.slice().to_vec())
            .collect();
        let rows = compute_unknown(&a.argwhere().unwrap()).into_i64().unwrap();
        prop_assert_eq!(rows.shape(), &[want.len(), x.ndim()]);
        for (r, w) in rows.outer_iter().zip(&want) {
            prop_assert_eq!(r.iter().map(|&i| i as usize).collect::<Vec<_>>(), w.clone());
        }
        let flat = compute_unknown(&a.flatnonzero().unwrap()).into_i64().unwrap();
        let strides: Vec<usize> = (0..x.ndim()).map(|k| x.shape()[k + 1..].iter().product()).collect();
        let want_flat: Vec<i64> = want
            .iter()
            .map(|i| i.iter().zip(&strides).map(|(a, b)| a * b).sum::<usize>() as i64)
            .collect();
        prop_assert_eq!(flat.iter().copied().collect::<Vec<_>>(), want_flat);
        if x.ndim() > 0 {
            let per_axis = a.nonzero().unwrap();
            prop_assert_eq!(per_axis.len(), x.ndim());
            for (k, p) in per_axis.iter().enumerate() {
                let got = compute_unknown(p).into_i64().unwrap();
                let w: Vec<i64> = want.iter().map(|i| i[k] as i64).collect();
                prop_assert_eq!(got.iter().copied().collect::<Vec<_>>(), w);
            }
        }
    }

    #[test]
    fn unique_values_and_counts_match_a_tally((x, c1, _) in case(true)) {
        let a = from_ndarray(x.clone(), c1).unwrap();
        let mut tally: BTreeMap<i64, i64> = BTreeMap::new();
        let mut nans = 0;
        for &v in &x {
            if v.is_nan() { nans += 1 } else { *tally.entry(v as i64).or_default() += 1 }
        }
        let (values, counts) = a.unique(true).unwrap();
        let got = compute_unknown(&values).into_f64().unwrap();
        let counts = compute_unknown(&counts.unwrap()).into_i64().unwrap();
        let mut want: Vec<f64> = tally.keys().map(|&k| k as f64).collect();
        let mut want_counts: Vec<i64> = tally.values().copied().collect();
        if nans > 0 {
            // NaN once, last, as NumPy 2's `equal_nan=True`.
            want.push(f64::NAN);
            want_counts.push(nans);
        }
        assert_close(&got, &vec1(want), 0.0, "unique");
        prop_assert_eq!(counts.iter().copied().collect::<Vec<_>>(), want_counts);
        // First positions and the inverse.
        let all = a.unique_all(true, true, false).unwrap();
        let first = compute_unknown(&all.index.unwrap()).into_i64().unwrap();
        let inverse = compute_unknown(&all.inverse.unwrap()).into_i64().unwrap();
        prop_assert_eq!(inverse.shape(), x.shape());
        let flat: Vec<f64> = x.iter().copied().collect();
        let same = |p: f64, q: f64| p == q || (p.is_nan() && q.is_nan());
        for (k, &f) in first.iter().enumerate() {
            let v = got[k];
            prop_assert!(same(flat[f as usize], v));
            prop_assert!(flat[..f as usize].iter().all(|&e| !same(e, v)), "not the first");
        }
        for (e, &i) in flat.iter().zip(inverse.iter()) {
            prop_assert!(same(got[i as usize], *e));
        }
        // Of an unknown-size selection, without counts.
        let pos = a.filter(&a.gt_scalar(1.0).unwrap()).unwrap();
        let (values, none) = pos.unique(false).unwrap();
        prop_assert!(none.is_none());
        let w: Vec<f64> = tally.keys().filter(|&&k| k > 1).map(|&k| k as f64).collect();
        assert_close(&compute_unknown(&values).into_f64().unwrap(), &vec1(w), 0.0, "unique of x[x > 1]");
    }
}

#[test]
fn unique_merges_many_blocks_in_a_tree() {
    // 100 blocks: two levels of merges of eight.
    let x = floe_array::arange(0.0, 1000.0, 1.0, 10, DType::I64)
        .unwrap()
        .rem_scalar(37)
        .unwrap();
    let (values, counts) = x.unique(true).unwrap();
    assert_eq!(values.numblocks(), vec![1]);
    let v = compute_unknown(&values).into_i64().unwrap();
    assert_eq!(
        v.iter().copied().collect::<Vec<_>>(),
        (0..37).collect::<Vec<i64>>()
    );
    let c = compute_unknown(&counts.unwrap()).into_i64().unwrap();
    let want: Vec<i64> = (0..37)
        .map(|k| (0..1000).filter(|i| i % 37 == k).count() as i64)
        .collect();
    assert_eq!(c.iter().copied().collect::<Vec<_>>(), want);
}

fn unknown_err(r: Result<Array, ArrayError>, op: &str) {
    match r {
        Err(ArrayError::UnknownChunks { op: o, axes, .. }) => {
            assert_eq!(o, op);
            assert_eq!(axes, vec![0]);
        }
        Err(e) => panic!("{op}: expected UnknownChunks, got {e}"),
        Ok(a) => panic!("{op}: expected UnknownChunks, got {a}"),
    }
}

#[test]
fn operations_that_cut_blocks_refuse_unknown_sizes() {
    let x = floe_array::arange(0.0, 20.0, 1.0, 5, DType::F64).unwrap();
    let y = x.filter(&x.gt_scalar(3.0).unwrap()).unwrap();
    unknown_err(y.slice(&s![2..5]), "getitem");
    unknown_err(y.rechunk(4), "rechunk");
    unknown_err(y.reshape(&[2, -1]), "reshape");
    // One axis: positions count from each block's start, shifted in block order.
    let at = crate::support::compute(&y.argmax(Axes::All).unwrap())
        .into_i64()
        .unwrap();
    assert_eq!(at.into_raw_vec_and_offset().0, vec![15]);
    let at = crate::support::compute(&y.argmin(0).unwrap())
        .into_i64()
        .unwrap();
    assert_eq!(at.into_raw_vec_and_offset().0, vec![0]);
    unknown_err(
        floe_array::concatenate(&[y.clone(), y.clone()], 0),
        "concatenate",
    );
    // A known length cannot meet an unknown one; a length-1 axis broadcasts.
    unknown_err(y.add(&x), "add");
    assert_eq!(
        y.add(&floe_array::ones(&[1], 1, DType::F64).unwrap())
            .unwrap()
            .unknown_axes(),
        vec![0]
    );
    unknown_err(y.argwhere(), "argwhere");
    // Flattening what is flat is allowed.
    assert_eq!(y.reshape(&[-1]).unwrap().unknown_axes(), vec![0]);
    // The message says what to do.
    let e = y.slice(&s![1..]).unwrap_err().to_string();
    assert!(e.contains("compute_chunk_sizes"), "{e}");
}

#[test]
fn masks_and_conditions_are_checked() {
    let x = floe_array::ones(&[4, 3], 2, DType::F64).unwrap();
    let wrong = floe_array::ones(&[4, 3], 2, DType::I32).unwrap();
    assert!(matches!(
        x.filter(&wrong),
        Err(ArrayError::DTypeMismatch { .. })
    ));
    let short = floe_array::ones(&[4], 2, DType::Bool).unwrap();
    assert!(matches!(
        x.filter(&short),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        x.compress(&short, 1),
        Err(ArrayError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        x.compress(&short, 2),
        Err(ArrayError::AxisOutOfRange { .. })
    ));
    let zero_d = floe_array::ones(&[], 1, DType::F64).unwrap();
    assert!(matches!(
        zero_d.nonzero(),
        Err(ArrayError::InvalidArgument { .. })
    ));
    // argwhere of a 0-d array: one row of no columns when it is non-zero.
    let rows = compute_unknown(&zero_d.argwhere().unwrap())
        .into_i64()
        .unwrap();
    assert_eq!(rows.shape(), &[1, 0]);
}

#[test]
fn measured_sizes_make_an_ordinary_array() {
    let x = floe_array::arange(0.0, 20.0, 1.0, 5, DType::F64).unwrap();
    // Blocks 0 and 2 keep nothing.
    let keep = x
        .ge_scalar(5.0)
        .unwrap()
        .and(
            &x.lt_scalar(10.0)
                .unwrap()
                .or(&x.ge_scalar(15.0).unwrap())
                .unwrap(),
        )
        .unwrap();
    let y = x.filter(&keep).unwrap();
    let z = y.with_chunk_sizes(vec![vec![0, 5, 0, 5]]).unwrap();
    assert!(!z.has_unknown_chunks());
    assert_eq!(z.shape(), &[10]);
    assert_eq!(z.chunks().axis(0), &[5, 5]);
    let got = crate::support::compute(&z.slice(&s![3..7]).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(
        got.iter().copied().collect::<Vec<_>>(),
        vec![8.0, 9.0, 15.0, 16.0]
    );
    // Sizes beyond the upper bounds, or a known axis changed, are refused.
    assert!(matches!(
        y.with_chunk_sizes(vec![vec![6, 5, 0, 5]]),
        Err(ArrayError::BadChunks { .. })
    ));
    assert!(matches!(
        x.with_chunk_sizes(vec![vec![5, 5, 5, 4]]),
        Err(ArrayError::BadChunks { .. })
    ));
    let shapes = crate::support::compute(&y.block_shapes())
        .into_i64()
        .unwrap();
    assert_eq!(shapes.iter().copied().collect::<Vec<_>>(), vec![0, 5, 0, 5]);
}

#[test]
fn an_empty_array_selects_nothing() {
    let x = floe_array::zeros(&[0, 3], 2, DType::F32).unwrap();
    let y = x.filter(&x.gt_scalar(0.0).unwrap()).unwrap();
    let got: DynArray = crate::support::compute(&y);
    assert_eq!(got.shape(), &[0]);
    assert_eq!(
        crate::support::compute(&x.argwhere().unwrap()).shape(),
        &[0, 2]
    );
    let (u, _) = x.unique(false).unwrap();
    assert_eq!(crate::support::compute(&u).shape(), &[0]);
}

#[test]
fn known_axes_of_a_selection_slice_rechunk_and_join() {
    let v: Vec<f64> = (0..60).map(f64::from).collect();
    let data = ArrayD::from_shape_vec(IxDyn(&[10, 6]), v).unwrap();
    let x = from_ndarray(data.clone(), [3_usize, 4]).unwrap();
    let rows = [
        true, false, true, true, false, false, true, false, true, true,
    ];
    let cond = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[10]), rows.to_vec()).unwrap(),
        4,
    )
    .unwrap();
    let y = x.compress(&cond, 0).unwrap();
    let keep: Vec<usize> = (0..10).filter(|&i| rows[i]).collect();
    let want = data.select(Axis(0), &keep);
    let col = y.slice(&s![.., 1]).unwrap();
    assert_eq!(col.unknown_axes(), vec![0]);
    assert_close(
        &compute_unknown(&col).into_f64().unwrap(),
        &want.index_axis(Axis(1), 1).to_owned(),
        0.0,
        "y[:, 1]",
    );
    let rev = y.slice(&s![.., ..;-2]).unwrap();
    assert_close(
        &compute_unknown(&rev).into_f64().unwrap(),
        &want.slice(ndarray::s![.., ..;-2]).to_owned().into_dyn(),
        0.0,
        "y[:, ::-2]",
    );
    let re = y
        .rechunk(floe_array::ChunkSpec::Axes(vec![
            floe_array::AxisChunks::Sizes(y.chunks().axis(0).to_vec()),
            floe_array::AxisChunks::Sizes(vec![1, 5]),
        ]))
        .unwrap();
    assert_close(
        &compute_unknown(&re).into_f64().unwrap(),
        &want,
        0.0,
        "rechunked columns",
    );
    let both = floe_array::concatenate(&[y.clone(), y.clone()], 1).unwrap();
    let w = ndarray::concatenate(Axis(1), &[want.view(), want.view()]).unwrap();
    assert_close(
        &compute_unknown(&both).into_f64().unwrap(),
        &w,
        0.0,
        "concatenate along columns",
    );
    // Cutting the unknown axis stays refused.
    unknown_err(y.slice(&s![1.., 2]), "getitem");
}

#[test]
fn getitem_translates_numpy_indices() {
    use floe_array::{Idx, Index};
    let v: Vec<f64> = (0..20).map(f64::from).collect();
    let data = ArrayD::from_shape_vec(IxDyn(&[4, 5]), v).unwrap();
    let x = from_ndarray(data.clone(), 2).unwrap();
    // x[[3, 0, -1], 2]
    let y = x
        .getitem(&[Index::Take(vec![3, 0, -1]), Index::Basic(Idx::Int(2))])
        .unwrap();
    let got = crate::support::compute(&y).into_f64().unwrap();
    assert_eq!(got.into_raw_vec_and_offset().0, vec![17.0, 2.0, 17.0]);
    // x[:, [True, False, True, False, False]]
    let slice_all = Index::Basic(Idx::Slice {
        start: None,
        stop: None,
        step: 1,
    });
    let m = x
        .getitem(&[
            slice_all.clone(),
            Index::Mask(vec![true, false, true, false, false]),
        ])
        .unwrap();
    assert_eq!(m.shape(), &[4, 2]);
    // x[x > 14] and x[:, lazy]
    let big = x
        .getitem(&[Index::Lazy(x.gt_scalar(14.0).unwrap())])
        .unwrap();
    let got = compute_unknown(&big).into_f64().unwrap();
    assert_eq!(
        got.into_raw_vec_and_offset().0,
        vec![15.0, 16.0, 17.0, 18.0, 19.0]
    );
    let cols = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[5]), vec![false, true, false, true, false]).unwrap(),
        3,
    )
    .unwrap();
    let picked = x.getitem(&[slice_all.clone(), Index::Lazy(cols)]).unwrap();
    assert_eq!(picked.unknown_axes(), vec![1]);
    // What NumPy refuses with IndexError.
    let invalid = |r: Result<floe_array::Array, ArrayError>| {
        matches!(r, Err(ArrayError::InvalidIndex { .. }))
    };
    assert!(invalid(
        x.getitem(&[Index::Take(vec![0]), Index::Take(vec![1])])
    ));
    assert!(invalid(
        x.getitem(&[Index::Basic(Idx::Int(0)), Index::Take(vec![1])])
    ));
    assert!(invalid(x.getitem(&[slice_all, Index::Mask(vec![true; 4])])));
    assert!(invalid(x.getitem(&[Index::Lazy(x.clone())])));
    assert!(matches!(
        x.getitem(&[Index::Take(vec![4])]),
        Err(ArrayError::IndexOutOfBounds { .. })
    ));
}
