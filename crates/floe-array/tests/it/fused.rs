//! Reductions of elementwise results computed band by band (the elementwise block never
//! made whole) against the same reductions over the materialised blocks, and against plain
//! `ndarray`: random shapes large enough for several bands, random chunkings, transposed
//! and broadcast inputs, every kind of reduction.

use floe_array::{Array, Axes, DynArray, Lowering, ReduceOp, from_ndarray};
use floe_graph::{Graph, GraphBuilder, fuse};
use floe_scheduler::Scheduler;
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

use crate::support::{assert_close, values};

/// Computes `outs` in one graph, lowered in order (an output lowered first makes its
/// blocks tasks that later ones read), and the graph before fusion.
fn run(outs: &[&Array]) -> (Vec<DynArray>, Graph) {
    run_on(outs, 2)
}

/// [`run`] on `threads` workers.
fn run_on(outs: &[&Array], threads: usize) -> (Vec<DynArray>, Graph) {
    let mut builder = GraphBuilder::default();
    let ids: Vec<_> = {
        let mut l = Lowering::new(&mut builder);
        outs.iter().map(|a| l.assemble(a).unwrap()).collect()
    };
    let g = builder.build();
    let (fused, ids2) = fuse(&g, &ids).unwrap();
    let r = Scheduler::builder()
        .threads(threads)
        .build()
        .unwrap()
        .run(&fused, &ids2)
        .unwrap();
    let values = r
        .values
        .iter()
        .map(|v| v.downcast_ref::<DynArray>().unwrap().clone())
        .collect();
    (values, g)
}

fn has_task_named(g: &Graph, name: &str) -> bool {
    g.ids().any(|id| g.key(id).name() == name)
}

const OPS: [ReduceOp; 8] = [
    ReduceOp::Sum,
    ReduceOp::Mean,
    ReduceOp::Var { ddof: 1 },
    ReduceOp::Min,
    ReduceOp::Max,
    ReduceOp::ArgMax,
    ReduceOp::ArgMin,
    ReduceOp::NanMean,
];

/// The same reduction over the materialised values of `e` (computed, then held as plain
/// blocks of `e`'s chunks: nothing banded).
fn over_materialised(e: &Array, op: ReduceOp, axes: Axes) -> ArrayD<f64> {
    let (values, _) = run(&[e]);
    let held = from_ndarray(
        values[0].clone().into_typed::<f64>(),
        e.chunks().axes().to_vec(),
    )
    .unwrap();
    let r = held.reduce(op, axes, false, None).unwrap();
    let (out, g) = run(&[&r]);
    assert!(!has_task_named(&g, e.name()), "a made block was banded");
    out[0].clone().into_typed::<f64>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `(x + y.T) * 2 - z` reduced: the banded path (no elementwise block is ever made)
    /// equals the reduction of the materialised result and the plain one.
    #[test]
    fn banded_reductions_match_materialised_ones(
        long in 400_000_usize..800_000,
        short in 2_usize..5,
        long_first in any::<bool>(),
        split in 1_usize..4,
        op in 0_usize..OPS.len(),
        all_axes in any::<bool>(),
        nan in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let shape = if long_first { vec![long, short] } else { vec![short, long] };
        // The long axis in `split` blocks, the short one whole (a block one row deep along
        // the band's axis is not cut into bands).
        let chunks: Vec<Vec<usize>> = shape
            .iter()
            .map(|&n| {
                let size = if n == short { n } else { n.div_ceil(split) };
                let mut sizes = vec![size; n / size];
                if n % size > 0 {
                    sizes.push(n % size);
                }
                sizes
            })
            .collect();
        let tchunks: Vec<Vec<usize>> = chunks.iter().rev().cloned().collect();
        let mut xv = values(&shape, seed);
        if nan {
            for (i, v) in xv.iter_mut().enumerate() {
                if i % 97 == 5 {
                    *v = f64::NAN;
                }
            }
        }
        let yv = values(&[shape[1], shape[0]], seed ^ 7);
        // `z` has one axis fewer: it broadcasts along the first.
        let zv = values(&[shape[1]], seed ^ 11);
        let x = from_ndarray(xv.clone(), chunks.clone()).unwrap();
        let y = from_ndarray(yv.clone(), tchunks).unwrap();
        let z = from_ndarray(zv.clone(), vec![chunks[1].clone()]).unwrap();
        let e = x.add(&y.t()).unwrap().mul_scalar(2.0).unwrap().sub(&z).unwrap();
        let op = OPS[op];
        let axes = if all_axes {
            Axes::All
        } else {
            Axes::from(if long_first { 0_isize } else { 1 })
        };
        let r = e.reduce(op, axes.clone(), false, None).unwrap();

        let (banded, g) = run(&[&r]);
        // The banded path was taken: no task made an elementwise block.
        for name in ["add", "multiply", "subtract"] {
            prop_assert!(!has_task_named(&g, name), "the {} blocks were made", name);
        }
        let banded = banded[0].clone().into_typed::<f64>();
        let materialised = over_materialised(&e, op, axes.clone());
        assert_close(&banded, &materialised, 1e-9, &format!("{op:?} over {axes:?} of {shape:?}"));
        if !nan {
            let ev = (&xv + &yv.t()) * 2.0 - &zv;
            let plain = match axes {
                Axes::All => {
                    let flat = ev.iter().copied().collect::<Vec<_>>();
                    ArrayD::from_elem(IxDyn(&[]), reduce_plain(op, &flat))
                }
                _ => {
                    let a = if long_first { 0 } else { 1 };
                    ev.map_axis(Axis(a), |lane| reduce_plain(op, &lane.to_vec()))
                }
            };
            assert_close(&banded, &plain, 1e-9, &format!("{op:?} against ndarray"));
        }
    }

    /// Generated (`random`) and constant (`full`) inputs, transposed or not, made only a
    /// band at a time: the same results as over their made blocks.
    #[test]
    fn generated_and_constant_bands_match_made_blocks(
        blocks in 1_usize..3,
        block in 400_usize..800,
        op in 0_usize..OPS.len(),
        axis in 0_isize..2,
        constant in any::<bool>(),
        seed in any::<u64>(),
    ) {
        // Blocks of 400 rows or more: each cut into bands (of at most 327 rows).
        let n = blocks * block;
        let x = if constant {
            floe_array::full(&[n, n], [block, block], 0.3, floe_array::DType::F64).unwrap()
        } else {
            floe_array::random::uniform(&[n, n], [block, block], seed, -1.0, 1.0).unwrap()
        };
        let op = OPS[op];
        for e in [x.add(&x.t()).unwrap(), x.clone()] {
            let r = e.reduce(op, Axes::from(axis), false, None).unwrap();
            let (banded, g) = run(&[&r]);
            prop_assert!(!has_task_named(&g, x.name()), "the {} blocks were made", x.name());
            let banded = banded[0].clone().into_typed::<f64>();
            let materialised = over_materialised(&e, op, Axes::from(axis));
            assert_close(&banded, &materialised, 1e-12, &format!("{op:?} of {}", e.name()));
        }
    }
}

/// A stack of `files` "files" of `t` maps of `rows × cols` each, as a file reader makes
/// them: box functions (any box of a file, recording the boxes asked for) concatenated
/// along the first axis, `per_file` blocks along the rows. Element values depend on the
/// global position alone (NaN every 97th with `nan`).
fn stacked_files(
    (files, t, rows, cols, per_file): (usize, usize, usize, usize, usize),
    nan: bool,
    seed: u64,
    asked: &std::sync::Arc<std::sync::Mutex<Vec<Vec<usize>>>>,
) -> (Array, ArrayD<f64>) {
    let value = move |f: usize, i: &[usize]| {
        let flat = ((f * t + i[0]) * rows + i[1]) * cols + i[2];
        if nan && flat % 97 == 5 {
            return f64::NAN;
        }
        let h = (flat as u64 ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        (h % 2001) as f64 / 100.0 - 10.0
    };
    let parts: Vec<Array> = (0..files)
        .map(|f| {
            let asked = asked.clone();
            floe_array::try_from_box_fn(
                &[t, rows, cols],
                vec![
                    vec![t],
                    {
                        let size = rows.div_ceil(per_file);
                        let mut sizes = vec![size; rows / size];
                        if rows % size > 0 {
                            sizes.push(rows % size);
                        }
                        sizes
                    },
                    vec![cols],
                ],
                floe_array::DType::F64,
                move |b| {
                    asked.lock().unwrap().push(b.shape.clone());
                    Ok(DynArray::from(ArrayD::from_shape_fn(
                        IxDyn(&b.shape),
                        |i| {
                            let at = [i[0] + b.offset[0], i[1] + b.offset[1], i[2] + b.offset[2]];
                            value(f, &at)
                        },
                    )))
                },
            )
            .unwrap()
            .named("file")
        })
        .collect();
    let x = floe_array::concatenate(&parts, 0).unwrap();
    let plain = ArrayD::from_shape_fn(IxDyn(&[files * t, rows, cols]), |i| {
        value(i[0] / t, &[i[0] % t, i[1], i[2]])
    });
    (x, plain)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Reductions over files read as boxes (a mean over time of daily maps), the files
    /// themselves or an elementwise chain of them: each task reduces several files' blocks
    /// band by band — along the maps' rows when the output is large, along the reduced axis
    /// otherwise — and the results equal the reductions of the materialised values and of
    /// plain `ndarray`. No box asked for is a whole block when a block spans many bands.
    #[test]
    fn reductions_of_read_boxes_match_materialised_ones(
        files in 1_usize..7,
        t in 2_usize..5,
        rows in 20_usize..200,
        cols in 200_usize..1200,
        per_file in 1_usize..3,
        op in 0_usize..OPS.len(),
        axes in 0_usize..5,
        chained in any::<bool>(),
        nan in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (x, plain) = stacked_files((files, t, rows, cols, per_file), nan, seed, &asked);
        let e = if chained { x.mul_scalar(2.0).unwrap().sub_scalar(1.0).unwrap() } else { x.clone() };
        let ev = if chained { plain.mapv(|v| 2.0 * v - 1.0) } else { plain.clone() };
        let op = OPS[op];
        let axes = match axes {
            0 => Axes::from(0_isize),
            1 => Axes::from(1_isize),
            2 => Axes::from(2_isize),
            3 => Axes::from([0_isize, 2]),
            _ => Axes::All,
        };
        let multi = !matches!(&axes, Axes::Some(a) if a.len() == 1);
        if multi && matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) {
            return Ok(());
        }
        let r = e.reduce(op, axes.clone(), false, None).unwrap();
        asked.lock().unwrap().clear();
        let (banded, g) = run(&[&r]);
        for name in ["file", "concatenate", "multiply", "subtract"] {
            prop_assert!(!has_task_named(&g, name), "the {} blocks were made", name);
        }
        let block_bytes = t * rows.div_ceil(per_file) * cols * 8;
        if block_bytes > 1 << 20 {
            let whole = [t, rows.div_ceil(per_file), cols];
            prop_assert!(
                !asked.lock().unwrap().iter().any(|b| b[..] == whole[..]),
                "a whole block was read"
            );
        }
        let banded = banded[0].clone().into_typed::<f64>();
        let what = format!("{op:?} over {axes:?} of {files} files of {t}×{rows}×{cols}");
        let materialised = over_materialised(&e, op, axes.clone());
        assert_close(&banded, &materialised, 1e-9, &what);
        if !nan {
            let reduce = |v: &ArrayD<f64>, a: usize| v.map_axis(Axis(a), |lane| reduce_plain(op, &lane.to_vec()));
            let expected = match &axes {
                Axes::All => ArrayD::from_elem(IxDyn(&[]), reduce_plain(op, &ev.iter().copied().collect::<Vec<_>>())),
                Axes::Some(a) if a.len() == 1 => reduce(&ev, a[0] as usize),
                // Axes 0 and 2: the lanes of both together, per row.
                Axes::Some(_) => ArrayD::from_shape_fn(IxDyn(&[rows]), |i| {
                    let lane: Vec<f64> = ev.index_axis(Axis(1), i[0]).iter().copied().collect();
                    reduce_plain(op, &lane)
                }),
            };
            assert_close(&banded, &expected, 1e-9, &format!("{what} against ndarray"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Files cut into other blocks (the talk's `(4, 200, 200)`): a reduction reads the files
    /// in their own blocks and cuts only its result into the blocks the cut array implies;
    /// the values equal the reduction of the materialised cut blocks.
    #[test]
    fn reductions_of_reblocked_files_read_the_files_blocks(
        files in 1_usize..5,
        t in 2_usize..5,
        rows in 20_usize..120,
        cols in 50_usize..400,
        cut in (1_usize..6, 7_usize..60, 13_usize..300),
        op in 0_usize..OPS.len(),
        axes in 0_usize..4,
        seed in any::<u64>(),
    ) {
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (x, plain) = stacked_files((files, t, rows, cols, 1), false, seed, &asked);
        let y = x.rechunk([cut.0, cut.1, cut.2]).unwrap().named("cut");
        let op = OPS[op];
        let axes = match axes {
            0 => Axes::from(0_isize),
            1 => Axes::from(1_isize),
            2 => Axes::from(2_isize),
            _ => Axes::All,
        };
        if matches!(op, ReduceOp::ArgMax | ReduceOp::ArgMin) && matches!(axes, Axes::All) {
            return Ok(());
        }
        let r = y.reduce(op, axes.clone(), false, None).unwrap();
        let kept: Vec<Vec<usize>> = (0..3)
            .filter(|a| !matches!(&axes, Axes::Some(v) if v.contains(&(*a as isize))) && !matches!(axes, Axes::All))
            .map(|a| y.chunks().axis(a).to_vec())
            .collect();
        prop_assert_eq!(r.chunks().axes(), kept.as_slice());
        let (out, g) = run(&[&r]);
        prop_assert!(!has_task_named(&g, "cut"), "the cut blocks were made");
        let out = out[0].clone().into_typed::<f64>();
        let what = format!("{op:?} over {axes:?} of {files} files of {t}×{rows}×{cols} cut {cut:?}");
        assert_close(&out, &over_materialised(&y, op, axes.clone()), 1e-9, &what);
        let expected = match &axes {
            Axes::All => ArrayD::from_elem(IxDyn(&[]), reduce_plain(op, &plain.iter().copied().collect::<Vec<_>>())),
            Axes::Some(a) => plain.map_axis(Axis(a[0] as usize), |lane| reduce_plain(op, &lane.to_vec())),
        };
        assert_close(&out, &expected, 1e-9, &format!("{what} against ndarray"));
    }
}

fn reduce_plain(op: ReduceOp, v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let first = |better: fn(f64, f64) -> bool| {
        let mut best = 0;
        for (i, &x) in v.iter().enumerate() {
            if better(x, v[best]) {
                best = i;
            }
        }
        best as f64
    };
    match op {
        ReduceOp::Sum => v.iter().sum(),
        ReduceOp::Mean | ReduceOp::NanMean => mean,
        ReduceOp::Var { ddof } => {
            v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - f64::from(ddof))
        }
        ReduceOp::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
        ReduceOp::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ReduceOp::ArgMax => first(|a, b| a > b),
        ReduceOp::ArgMin => first(|a, b| a < b),
        _ => unreachable!("not among OPS"),
    }
}

/// A map over blocks is not elementwise (it may look at the whole block): its blocks are
/// made whole and reduced, never cut into bands.
#[test]
fn map_blocks_is_reduced_whole() {
    let x = from_ndarray(values(&[40_000, 2], 1), vec![vec![40_000], vec![2]]).unwrap();
    let m = x
        .map_blocks(&[], floe_array::DType::F64, |b, _info| {
            // The block's mean subtracted: wrong if the block were cut.
            let v = b[0].clone().into_typed::<f64>();
            let mean = v.mean().unwrap_or(0.0);
            Ok(DynArray::from(v.mapv(|e| e - mean)))
        })
        .unwrap();
    let (out, g) = run(&[&m.sum(Axes::All).unwrap()]);
    assert!(has_task_named(&g, "map_blocks"));
    let s = out[0].clone().into_typed::<f64>().sum();
    assert!(s.abs() < 1e-6, "{s}");
}

/// Files of two maps each (a mean over time of float32 maps): a partial is as large as a
/// file, so each first-level task reduces 16 files (the most; reading 32 times its partial
/// would take 32) instead of the default 4, its band sums written straight into the
/// partial; the results equal plain sums, for each dtype and sum a file may hold.
#[test]
fn small_blocks_with_large_partials_are_reduced_many_per_task() {
    let (files, t, rows, cols) = (40, 2, 128, 1100);
    let value = move |f: usize, i: &[usize]| -> f64 {
        let flat = ((f * t + i[0]) * rows + i[1]) * cols + i[2];
        if flat % 89 == 3 {
            return f64::NAN;
        }
        ((flat as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 44) as f64 / 1024.0 - 500.0
    };
    for (dtype, op) in [
        (floe_array::DType::F32, ReduceOp::Mean),
        (floe_array::DType::F32, ReduceOp::Sum),
        (floe_array::DType::F32, ReduceOp::NanSum),
        (floe_array::DType::I32, ReduceOp::Mean),
    ] {
        let parts: Vec<Array> = (0..files)
            .map(|f| {
                floe_array::try_from_box_fn(&[t, rows, cols], [t, rows, cols], dtype, move |b| {
                    let v = ArrayD::from_shape_fn(IxDyn(&b.shape), |i| {
                        value(
                            f,
                            &[i[0] + b.offset[0], i[1] + b.offset[1], i[2] + b.offset[2]],
                        )
                    });
                    Ok(match dtype {
                        floe_array::DType::F32 => DynArray::from(v.mapv(|e| e as f32)),
                        _ => DynArray::from(v.mapv(|e| if e.is_nan() { 9 } else { e as i32 })),
                    })
                })
                .unwrap()
                .named("file")
            })
            .collect();
        let x = floe_array::concatenate(&parts, 0).unwrap();
        let r = x.reduce(op, Axes::from(0_isize), false, None).unwrap();
        let (out, g) = run(&[&r]);
        assert!(!has_task_named(&g, "file"), "the files' blocks were made");
        let partials = g
            .ids()
            .filter(|&id| g.key(id).name() == format!("{}-partial", op.name()))
            .count();
        assert_eq!(partials, 3, "{op:?}: 40 files, 16 per first-level task");
        let expected = ArrayD::from_shape_fn(IxDyn(&[rows, cols]), |i| {
            let terms = (0..files * t).map(|k| {
                let v = value(k / t, &[k % t, i[0], i[1]]);
                match dtype {
                    floe_array::DType::F32 => f64::from(v as f32),
                    _ if v.is_nan() => 9.0,
                    _ => f64::from(v as i32),
                }
            });
            let r = match op {
                ReduceOp::Mean => terms.sum::<f64>() / (files * t) as f64,
                ReduceOp::NanSum => terms.filter(|v| !v.is_nan()).sum(),
                _ => terms.sum(),
            };
            // Float32 sums and means are float32, as NumPy's.
            match dtype {
                floe_array::DType::F32 => f64::from(r as f32),
                _ => r,
            }
        });
        let got = out[0].clone().into_typed::<f64>();
        assert_close(
            &got,
            &expected,
            1e-12,
            &format!("{op:?} of {dtype:?} files"),
        );
    }
}

/// A large block is reduced in pieces of bands that idle workers take: the results are
/// the same to the bit on one thread or several.
#[test]
fn pieces_taken_by_idle_workers_change_no_bit() {
    // One block of 32 MiB: 32 bands of 1 MiB, 8 pieces of 4 bands.
    let x = floe_array::random::uniform(&[2048, 2048], 2048, 7, -1.0, 1.0).unwrap();
    let bits = |a: &DynArray| -> Vec<u64> {
        a.clone()
            .into_typed::<f64>()
            .iter()
            .map(|v| v.to_bits())
            .collect()
    };
    let e = x.add(&x.t()).unwrap();
    for r in [
        e.mean(0).unwrap(),
        // Banded along the kept axis: band sums written in place.
        e.mean(1).unwrap(),
        e.sum(Axes::All).unwrap(),
        x.var(1, 0).unwrap(),
    ] {
        let (one, _) = run_on(&[&r], 1);
        let (two, _) = run_on(&[&r], 2);
        assert_eq!(bits(&one[0]), bits(&two[0]), "one thread against two");
        let (four, _) = run_on(&[&r], 4);
        assert_eq!(bits(&one[0]), bits(&four[0]), "one thread against four");
    }
}

/// Bands are read as boxes only where their runs are long: row sums of blocks whose rows
/// are too wide for a band, banded along the columns, would cut each row into a few
/// kilobytes per band, so each block is asked for whole; otherwise bands of whole block rows
/// are read.
#[test]
fn box_reads_in_short_runs_are_made_whole() {
    for (shape, chunks, axis, banded) in [
        // Rows of 1.1 MB do not fit a band, and bands along the columns would be runs of
        // 1,820 elements of 140,000: read whole.
        ([72_usize, 140_000], [72_usize, 140_000], 1_isize, false),
        // Bands of three whole rows of the block each, along the kept axis.
        ([64, 80_000], [64, 40_000], 1, true),
        // Bands of three whole rows of the block each, along the reduced axis.
        ([64, 80_000], [64, 40_000], 0, true),
        ([200, 4000], [200, 1000], 1, true),
    ] {
        let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = asked.clone();
        let value = |i: usize, j: usize| (i * 3 + j % 7) as f64;
        let x = floe_array::try_from_box_fn(&shape, chunks, floe_array::DType::F64, move |b| {
            seen.lock().unwrap().push(b.shape.clone());
            let (i0, j0) = (b.offset[0], b.offset[1]);
            Ok(DynArray::from(ArrayD::from_shape_fn(
                IxDyn(&b.shape),
                |i| value(i0 + i[0], j0 + i[1]),
            )))
        })
        .unwrap();
        // One thread: a block made whole is not also cut into rows for idle workers.
        let (out, _) = run_on(&[&x.sum(axis).unwrap()], 1);
        let out = out[0].clone().into_typed::<f64>();
        for (k, &v) in out.iter().enumerate() {
            let expected: f64 = if axis == 0 {
                (0..shape[0]).map(|i| value(i, k)).sum()
            } else {
                (0..shape[1]).map(|j| value(k, j)).sum()
            };
            assert_eq!(v, expected, "{chunks:?} along {axis}: {k}");
        }
        let asked = asked.lock().unwrap();
        assert!(
            asked.iter().all(|b| b[1] == chunks[1]),
            "rows cut: {asked:?}"
        );
        let whole = asked.iter().all(|b| b[..] == chunks[..]);
        assert_eq!(whole, !banded, "{chunks:?} along {axis}: {asked:?}");
    }
}

/// Selections of read boxes and concatenations mixing constants and boxes reduce to the
/// same values as over their materialised blocks: a slice dropping whole files, a step
/// through them, one file's map, and `full` blocks between files.
#[test]
fn selections_and_mixed_concatenations_of_boxes_match_materialised_ones() {
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (x, _) = stacked_files((5, 3, 40, 300, 1), false, 9, &asked);
    let filler = floe_array::full(
        &[3, 40, 300],
        [3_usize, 40, 300],
        0.5,
        floe_array::DType::F64,
    )
    .unwrap();
    let mixed = floe_array::concatenate(&[x.clone(), filler, x.clone()], 0).unwrap();
    let cases = [
        x.slice(&floe_array::s![6..]).unwrap(),
        x.slice(&floe_array::s![..;2]).unwrap(),
        x.slice(&floe_array::s![4]).unwrap(),
        mixed,
    ];
    for e in cases {
        for op in [ReduceOp::Mean, ReduceOp::Max, ReduceOp::ArgMin] {
            let r = e.reduce(op, Axes::from(0_isize), false, None).unwrap();
            let (got, _) = run(&[&r]);
            let got = got[0].clone().into_typed::<f64>();
            let materialised = over_materialised(&e, op, Axes::from(0_isize));
            assert_close(
                &got,
                &materialised,
                1e-12,
                &format!("{op:?} of {:?}", e.shape()),
            );
        }
    }
}
