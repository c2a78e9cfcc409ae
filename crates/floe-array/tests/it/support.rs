use floe_array::{Array, DynArray, Lowering};
use floe_graph::{GraphBuilder, fuse};
use floe_scheduler::Scheduler;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

fn run(a: &Array, per_block: bool) -> (DynArray, Vec<(Vec<usize>, DynArray)>) {
    let mut builder = GraphBuilder::default();
    let indices: Vec<Vec<usize>> = a.chunks().block_indices().collect();
    let mut outs = Vec::new();
    {
        let mut l = Lowering::new(&mut builder);
        outs.push(l.assemble(a).unwrap());
        if per_block {
            for idx in &indices {
                outs.push(l.block(a, idx).unwrap());
            }
        }
    }
    let g = builder.build();
    let (g, outs) = fuse(&g, &outs).unwrap();
    let r = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&g, &outs)
        .unwrap();
    let all = r.values[0].downcast_ref::<DynArray>().unwrap().clone();
    let blocks = indices
        .into_iter()
        .zip(&r.values[1..])
        .map(|(i, v)| (i, v.downcast_ref::<DynArray>().unwrap().clone()))
        .collect();
    (all, blocks)
}

/// Computes `a`, checking that every block has the declared shape and dtype.
pub fn compute(a: &Array) -> DynArray {
    let (all, blocks) = run(a, true);
    for (idx, b) in &blocks {
        assert_eq!(
            b.shape(),
            a.chunks().block_shape(idx).as_slice(),
            "block {idx:?} of {a}"
        );
        assert_eq!(b.dtype(), a.dtype(), "block {idx:?}");
    }
    assert_eq!(all.shape(), a.shape());
    assert_eq!(all.dtype(), a.dtype());
    all
}

/// Asserts `got` equals `want` within `tol` (relative), NaN equal to NaN.
/// Deterministic values in [-10, 10], in steps of 0.01, that differ from place to place.
pub fn values(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut state = seed | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) % 2001) as f64 / 100.0 - 10.0
    })
}

pub fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, tol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        let ok = (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * (1.0 + w.abs());
        assert!(ok, "{what}: at {:?} got {g}, want {w}", i);
    }
}

/// A random shape of 0 to 4 axes of 0 to 6 elements.
pub fn shape() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0_usize..7, 0..5)
}

/// A random partition of each axis.
pub fn chunking(shape: &[usize]) -> impl Strategy<Value = Vec<Vec<usize>>> + use<> {
    let axes: Vec<BoxedStrategy<Vec<usize>>> = shape
        .iter()
        .map(|&n| {
            if n == 0 {
                Just(vec![0]).boxed()
            } else {
                proptest::collection::vec(any::<bool>(), n - 1)
                    .prop_map(move |cuts| {
                        let mut sizes = Vec::new();
                        let mut cur = 1;
                        for c in cuts {
                            if c {
                                sizes.push(cur);
                                cur = 1;
                            } else {
                                cur += 1;
                            }
                        }
                        sizes.push(cur);
                        sizes
                    })
                    .boxed()
            }
        })
        .collect();
    axes
}

/// Small integer-valued floats (exact sums), with NaN sometimes.
pub fn data(shape: &[usize], nan: bool) -> impl Strategy<Value = ArrayD<f64>> + use<> {
    let n: usize = shape.iter().product();
    let shape = shape.to_vec();
    proptest::collection::vec(-6_i32..7, n).prop_map(move |v| {
        ArrayD::from_shape_vec(
            IxDyn(&shape),
            v.into_iter()
                .map(|x| {
                    if nan && x == 6 {
                        f64::NAN
                    } else {
                        f64::from(x)
                    }
                })
                .collect(),
        )
        .unwrap()
    })
}

/// A shape, data, and two chunkings of it.
pub fn case(nan: bool) -> impl Strategy<Value = (ArrayD<f64>, Vec<Vec<usize>>, Vec<Vec<usize>>)> {
    shape().prop_flat_map(move |s| (data(&s, nan), chunking(&s), chunking(&s)))
}

/// Computes `a`, which may have unknown block sizes: every block has the declared size
/// along the known axes and at most the declared bound along the unknown ones.
pub fn compute_unknown(a: &Array) -> DynArray {
    let (all, blocks) = run(a, true);
    let unknown = a.unknown_axes();
    for (idx, b) in &blocks {
        let declared = a.chunks().block_shape(idx);
        assert_eq!(b.shape().len(), declared.len(), "block {idx:?} of {a}");
        for (ax, (&got, &bound)) in b.shape().iter().zip(&declared).enumerate() {
            if unknown.contains(&ax) {
                assert!(
                    got <= bound,
                    "block {idx:?} of {a}: {got} > bound {bound} on axis {ax}"
                );
            } else {
                assert_eq!(got, bound, "block {idx:?} of {a}, axis {ax}");
            }
        }
        assert_eq!(b.dtype(), a.dtype(), "block {idx:?}");
    }
    for (ax, (&got, &n)) in all.shape().iter().zip(a.shape()).enumerate() {
        if !unknown.contains(&ax) {
            assert_eq!(got, n, "axis {ax} of {a}");
        }
    }
    assert_eq!(all.dtype(), a.dtype());
    all
}
