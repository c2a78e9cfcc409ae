//! Files against the tools that wrote them: `.npy` files NumPy wrote (gen_npy.py) and
//! NetCDF4 files Python's netCDF4 wrote (gen_netcdf.py), Zarr v2/v3 arrays zarr-python wrote
//! (gen_zarr.py), round trips over random shapes,
//! chunkings and dtypes, and bad files.

mod netcdf;
mod netcdf_c;
mod spec;
mod zarr;

use std::path::{Path, PathBuf};

use floe_array::{Array, Complex64, Complex128, DType, DynArray, Lowering, from_ndarray};
use floe_graph::{GraphBuilder, fuse};
use floe_io::{IoError, from_npy, to_npy};
use floe_scheduler::Scheduler;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn compute(a: &Array) -> Result<DynArray, floe_scheduler::Error> {
    let mut b = GraphBuilder::default();
    let out = Lowering::new(&mut b).assemble(a).unwrap();
    let g = b.build();
    let (g, outs) = fuse(&g, &[out]).unwrap();
    let r = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&g, &outs)?;
    Ok(r.values[0].downcast_ref::<DynArray>().unwrap().clone())
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "floe-io-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn files_written_by_numpy_read_back_exactly() {
    let f8 = compute(&from_npy(fixture("f8_5x7.npy"), [2_usize, 3]).unwrap())
        .unwrap()
        .into_f64()
        .unwrap();
    assert_eq!(
        f8,
        ArrayD::from_shape_fn(IxDyn(&[5, 7]), |i| (i[0] * 7 + i[1]) as f64 / 4.0)
    );
    let i4 = compute(&from_npy(fixture("i4_3x4x5.npy"), 2).unwrap())
        .unwrap()
        .into_i32()
        .unwrap();
    assert_eq!(
        i4,
        ArrayD::from_shape_fn(IxDyn(&[3, 4, 5]), |i| (i[0] * 20 + i[1] * 5 + i[2]) as i32
            - 30)
    );
    let b = compute(&from_npy(fixture("bool_9.npy"), 4).unwrap())
        .unwrap()
        .into_bool()
        .unwrap();
    assert_eq!(
        b.iter().copied().collect::<Vec<_>>(),
        [true, false, true, true, false, false, true, false, true]
    );
    let f = from_npy(fixture("f4_fortran_4x6.npy"), [3_usize, 4]).unwrap();
    assert_eq!(f.shape(), &[4, 6]);
    assert_eq!(f.numblocks(), vec![2, 2]);
    let f = compute(&f).unwrap().into_f32().unwrap();
    assert_eq!(
        f,
        ArrayD::from_shape_fn(IxDyn(&[4, 6]), |i| (i[0] * 6 + i[1]) as f32)
    );
    let be = compute(&from_npy(fixture("i2_bigendian_10.npy"), 3).unwrap())
        .unwrap()
        .into_i16()
        .unwrap();
    assert_eq!(
        be.iter().copied().collect::<Vec<_>>(),
        (0..10).map(|i| i * 1000 - 4000).collect::<Vec<i16>>()
    );
    let s = compute(&from_npy(fixture("u1_scalar.npy"), 1).unwrap())
        .unwrap()
        .into_u8()
        .unwrap();
    assert_eq!(s[[]], 7);
    let z = compute(&from_npy(fixture("c16_3x4.npy"), [2_usize, 3]).unwrap())
        .unwrap()
        .into_c128()
        .unwrap();
    assert_eq!(
        z,
        ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| {
            let v = (i[0] * 4 + i[1]) as f64 / 2.0;
            Complex128::new(v, -v)
        })
    );
    let z = compute(&from_npy(fixture("c8_bigendian_6.npy"), 4).unwrap())
        .unwrap()
        .into_c64()
        .unwrap();
    assert_eq!(
        z.iter().copied().collect::<Vec<_>>(),
        (0..6)
            .map(|i| Complex64::new(i as f32, 0.5 * i as f32))
            .collect::<Vec<_>>()
    );
}

fn shape_and_chunks() -> impl Strategy<Value = (Vec<usize>, usize, usize, u8)> {
    (
        proptest::collection::vec(0_usize..6, 0..4),
        1_usize..4,
        1_usize..5,
        0_u8..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn round_trips_through_a_file((shape, wc, rc, kind) in shape_and_chunks(), seed in any::<u64>()) {
        let dir = Scratch::new("rt");
        let path = dir.0.join("x.npy");
        let n: usize = shape.iter().product();
        let vals: Vec<i64> = (0..n as u64).map(|i| ((i ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as i64 - 8_000_000).collect();
        let base = ArrayD::from_shape_vec(IxDyn(&shape), vals).unwrap();
        let data: DynArray = match kind {
            0 => DynArray::from(base.mapv(|v| v as f64 / 3.0)),
            1 => DynArray::from(base.mapv(|v| v as i32)),
            2 => DynArray::from(base.mapv(|v| v % 2 == 0)),
            3 => DynArray::from(base.mapv(|v| Complex64::new(v as f32, 0.25 - v as f32))),
            _ => DynArray::from(base.mapv(|v| v as u16)),
        };
        let x = floe_array::with_array!(data.clone(), a => from_ndarray(a, wc).unwrap());
        prop_assert!(compute(&to_npy(&x, &path).unwrap()).unwrap().into_bool().unwrap()[[]]);
        let y = from_npy(&path, rc).unwrap();
        prop_assert_eq!(y.dtype(), data.dtype());
        prop_assert_eq!(compute(&y).unwrap(), data);
    }
}

#[test]
fn a_transposed_view_is_written_in_logical_order() {
    let dir = Scratch::new("t");
    let path = dir.0.join("t.npy");
    let x = from_ndarray(
        ArrayD::from_shape_fn(IxDyn(&[3, 5]), |i| (i[0] * 5 + i[1]) as i64),
        [2_usize, 2],
    )
    .unwrap();
    let t = x.t().add_scalar(0).unwrap(); // the transpose is read through a permuted view
    compute(&to_npy(&t, &path).unwrap()).unwrap();
    let back = compute(&from_npy(&path, 2).unwrap())
        .unwrap()
        .into_i64()
        .unwrap();
    assert_eq!(
        back,
        ArrayD::from_shape_fn(IxDyn(&[5, 3]), |i| (i[1] * 5 + i[0]) as i64)
    );
}

#[test]
fn bad_files_give_errors_naming_the_file() {
    let dir = Scratch::new("bad");
    let missing = dir.0.join("missing.npy");
    let e = from_npy(&missing, 2).unwrap_err();
    assert!(
        matches!(e, IoError::Os { .. }) && e.to_string().contains("missing.npy"),
        "{e}"
    );

    let garbage = dir.0.join("garbage.npy");
    std::fs::write(&garbage, b"this is not numpy at all").unwrap();
    let e = from_npy(&garbage, 2).unwrap_err();
    assert!(
        e.to_string().contains("garbage.npy: not a valid .npy file"),
        "{e}"
    );

    let truncated = dir.0.join("truncated.npy");
    let bytes = std::fs::read(fixture("f8_5x7.npy")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 8]).unwrap();
    let e = from_npy(&truncated, 2).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");

    // A file cut after it was opened fails the block that finds it short.
    let cut = dir.0.join("cut.npy");
    std::fs::write(&cut, &bytes).unwrap();
    let x = from_npy(&cut, [1_usize, 7]).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(200)
        .unwrap();
    let e = compute(&x).unwrap_err();
    assert!(
        e.to_string().contains("cut.npy") && e.to_string().contains("truncated"),
        "{e}"
    );
}

/// Reductions read a file's blocks a band at a time (never a whole block), several
/// blocks per task, and give the values of the reductions over the data in memory; a file
/// cut after it was opened fails the band that finds it short, naming the file.
#[test]
fn reductions_read_files_in_bands() {
    let dir = Scratch::new("bands");
    let path = dir.0.join("x.npy");
    let (t, n, m) = (6, 300, 500);
    let v = ArrayD::from_shape_fn(IxDyn(&[t, n, m]), |i| {
        ((i[0] * 7919 + i[1] * 104_729 + i[2] * 13) % 2001) as f64 / 100.0 - 10.0
    });
    let store = to_npy(
        &from_ndarray(v.clone(), [2_usize, 100, 500]).unwrap(),
        &path,
    )
    .unwrap();
    compute(&store).unwrap();
    let x = from_npy(&path, [2_usize, 300, 500]).unwrap();
    let close = |a: &ArrayD<f64>, b: &ArrayD<f64>, what: &str| {
        assert_eq!(a.shape(), b.shape(), "{what}");
        for (p, q) in a.iter().zip(b) {
            assert!(
                (p - q).abs() <= 1e-9 * (1.0 + q.abs()),
                "{what}: {p} against {q}"
            );
        }
    };
    let mean = compute(&x.mean(0).unwrap()).unwrap().into_f64().unwrap();
    close(
        &mean,
        &v.mean_axis(ndarray::Axis(0)).unwrap(),
        "mean over time",
    );
    let sum = compute(&x.sum(1).unwrap()).unwrap().into_f64().unwrap();
    close(&sum, &v.sum_axis(ndarray::Axis(1)), "sum over rows");
    let argmax = compute(&x.argmax(0).unwrap()).unwrap().into_i64().unwrap();
    let expected = v.map_axis(ndarray::Axis(0), |lane| {
        let mut best = 0;
        for (i, &e) in lane.iter().enumerate() {
            if e > lane[best] {
                best = i;
            }
        }
        best as i64
    });
    assert_eq!(argmax, expected);
    // The three blocks of `x` are reduced by one task, band by band: no task reads a
    // block of `x` whole.
    let mut b = GraphBuilder::default();
    Lowering::new(&mut b).assemble(&x.mean(0).unwrap()).unwrap();
    let g = b.build();
    assert!(
        !g.ids().any(|id| g.key(id).name() == "read-npy"),
        "blocks were read whole"
    );

    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let e = compute(&x.mean(0).unwrap()).unwrap_err();
    assert!(
        e.to_string().contains("x.npy") && e.to_string().contains("truncated"),
        "{e}"
    );
}

#[test]
fn corrupted_headers_never_panic() {
    let dir = Scratch::new("fuzz");
    let bytes = std::fs::read(fixture("i4_3x4x5.npy")).unwrap();
    let path = dir.0.join("f.npy");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..400 {
        let mut b = bytes.clone();
        for _ in 0..1 + round % 4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % 128) as usize;
            b[at] = (state >> 32) as u8;
        }
        b.truncate(if round % 5 == 0 {
            (state % bytes.len() as u64) as usize
        } else {
            b.len()
        });
        std::fs::write(&path, &b).unwrap();
        // Either an error, or an array whose computation succeeds or fails cleanly.
        if let Ok(x) = from_npy(&path, 2) {
            let _ = compute(&x);
        }
    }
    let _ = DType::F64;
}
