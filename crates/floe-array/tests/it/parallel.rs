//! Large blocks made in pieces that idle workers take (elementwise operations and box
//! functions over blocks of 8 MiB or more): the same values, to the bit, as the blocks
//! made whole, on any number of threads; a failing piece fails the computation with its
//! own error.

use floe_array::{Array, DType, DynArray, from_ndarray};
use floe_scheduler::Scheduler;
use ndarray::{ArrayD, Axis, IxDyn};

use crate::support::values;

/// Computes `a` on `threads` workers.
fn on(a: &Array, threads: usize) -> Result<DynArray, String> {
    let (g, out) = a.graph().map_err(|e| e.to_string())?;
    let scheduler = Scheduler::builder().threads(threads).build().unwrap();
    let r = scheduler.run(&g, &[out]).map_err(|e| e.to_string())?;
    Ok(r.values[0].downcast_ref::<DynArray>().unwrap().clone())
}

fn f64s(a: &DynArray) -> ArrayD<f64> {
    a.clone().into_typed::<f64>()
}

fn bits(a: &DynArray) -> Vec<u64> {
    f64s(a).iter().map(|v| v.to_bits()).collect()
}

/// A generated block of 12 MB (twelve pieces) is the same on 1, 2 and 4 threads, and the
/// same as the array generated in blocks too small to split.
#[test]
fn generated_blocks_are_the_same_in_pieces() {
    let shape = [1500, 1000];
    let big = floe_array::random::normal(&shape, shape.to_vec(), 3, 1.0, 2.0).unwrap();
    let small = floe_array::random::normal(&shape, [100_usize, 1000], 3, 1.0, 2.0).unwrap();
    let whole = on(&small, 2).unwrap();
    for threads in [1, 2, 4] {
        let made = on(&big, threads).unwrap();
        assert_eq!(made.shape(), &shape);
        assert_eq!(bits(&made), bits(&whole), "{threads} threads");
    }
}

/// Elementwise operations over large blocks: transposed, broadcast and mixed-dtype inputs,
/// a boolean result, a chain; against plain `ndarray`.
#[test]
fn elementwise_blocks_in_pieces_match_ndarray() {
    let (m, n) = (1200, 1100);
    let xv = values(&[m, n], 1);
    let yv = values(&[n, m], 2);
    let rv = values(&[n], 3);
    let x = from_ndarray(xv.clone(), [m, n]).unwrap();
    let y = from_ndarray(yv.clone(), [n, m]).unwrap();
    let row = from_ndarray(rv.clone(), [n]).unwrap();
    let col = from_ndarray(values(&[m, 1], 4), [m, 1]).unwrap();
    let xf32 = x.astype(DType::F32);

    // x + y.T: the transposed input's band is a column band of its block.
    let expect = &xv + &yv.t();
    for threads in [1, 2, 4] {
        let got = on(&x.add(&y.t()).unwrap(), threads).unwrap();
        assert_eq!(f64s(&got), expect, "x + y.T on {threads} threads");
    }
    // (x * 2 - row) / col: a broadcast row (whole in every piece) and column (cut).
    let colv = values(&[m, 1], 4);
    let expect = (&xv * 2.0 - &rv) / &colv;
    let e = x
        .mul_scalar(2.0)
        .and_then(|a| a.sub(&row))
        .and_then(|a| a.div(&col))
        .unwrap();
    assert_eq!(f64s(&on(&e, 2).unwrap()), expect);
    // float32 + float64: the float32 band is converted, not the whole block.
    let expect = xv.mapv(|v| f64::from(v as f32)) + &xv;
    let got = on(&xf32.add(&x).unwrap(), 2).unwrap();
    assert_eq!(got.dtype(), DType::F64);
    assert_eq!(f64s(&got), expect);
    // A boolean result (1 byte per element: 10 MB of int8 comparisons would split too).
    let big_bool = from_ndarray(values(&[4000, 2500], 5), [4000_usize, 2500]).unwrap();
    let expect = values(&[4000, 2500], 5).mapv(|v| v > 0.5);
    let got = on(&big_bool.gt_scalar(0.5).unwrap(), 2).unwrap();
    assert_eq!(got.dtype(), DType::Bool);
    assert_eq!(got.into_typed::<bool>(), expect);
}

/// A box function called for pieces of a large block gets boxes of whole rows inside the
/// block, and the block it makes is the one made from whole-block calls. One thread (no
/// idle worker) and blocks under the threshold ask for whole blocks.
#[test]
fn box_functions_are_asked_for_rows_of_the_block() {
    use std::sync::{Arc, Mutex};
    let shape = [2000_usize, 700];
    let make = |chunks: [usize; 2], asked: Arc<Mutex<Vec<usize>>>| {
        floe_array::try_from_box_fn(&shape, chunks, DType::F64, move |b| {
            assert!(b.offset[0] + b.shape[0] <= 2000 && b.shape[1] == 700);
            asked.lock().unwrap().push(b.shape[0]);
            Ok(DynArray::from(ArrayD::from_shape_fn(
                IxDyn(&b.shape),
                |i| ((b.offset[0] + i[0]) * 700 + i[1]) as f64,
            )))
        })
        .unwrap()
    };
    let expect = ArrayD::from_shape_fn(IxDyn(&shape), |i| (i[0] * 700 + i[1]) as f64);
    for (threads, chunks, whole) in [(1, shape, true), (3, shape, false), (2, [500, 700], true)] {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let got = on(&make(chunks, Arc::clone(&asked)), threads).unwrap();
        assert_eq!(f64s(&got), expect);
        let asked = asked.lock().unwrap();
        assert_eq!(asked.iter().sum::<usize>(), 2000, "every row once");
        assert_eq!(
            asked.iter().all(|&rows| rows == chunks[0]),
            whole,
            "{threads} threads, blocks of {chunks:?}: {asked:?}"
        );
    }
    // Elementwise over the boxes: pieces of pieces.
    let x = make(shape, Arc::new(Mutex::new(Vec::new())));
    let got = on(&x.add_scalar(1.0).unwrap(), 2).unwrap();
    assert_eq!(f64s(&got), expect.mapv(|v| v + 1.0));
    assert_eq!(
        f64s(&got).sum_axis(Axis(0)),
        expect.mapv(|v| v + 1.0).sum_axis(Axis(0))
    );
}

/// A piece that fails (rows past 1500 cannot be read) fails the computation with its error,
/// and a piece that panics fails it too: no hang, no partial block.
#[test]
fn a_failing_piece_fails_the_block() {
    let shape = [2000_usize, 1000];
    let failing = floe_array::try_from_box_fn(&shape, shape, DType::F64, |b| {
        if b.offset[0] + b.shape[0] > 1500 {
            return Err(floe_graph::TaskError::msg("sensor 7 is offline"));
        }
        Ok(DynArray::full(DType::F64, &b.shape, 1.0))
    })
    .unwrap();
    for threads in [1, 2] {
        let err = on(&failing, threads).unwrap_err();
        assert!(err.contains("sensor 7 is offline"), "{err}");
    }
    let panicking = floe_array::try_from_box_fn(&shape, shape, DType::F64, |b| {
        assert!(b.offset[0] + b.shape[0] <= 1500, "the reader broke");
        Ok(DynArray::full(DType::F64, &b.shape, 1.0))
    })
    .unwrap();
    let err = on(&panicking.add_scalar(1.0).unwrap(), 2).unwrap_err();
    assert!(err.contains("the reader broke"), "{err}");
    // A box of the wrong shape is an error, not a short block.
    let short = floe_array::try_from_box_fn(&shape, shape, DType::F64, |b| {
        let mut s = b.shape.clone();
        s[0] = s[0].saturating_sub(1).max(1);
        Ok(DynArray::full(DType::F64, &s, 1.0))
    })
    .unwrap();
    assert!(on(&short, 2).is_err());
}
