use floe_array::{DType, DynArray, from_ndarray};
use floe_io::{IoError, from_zarr, to_zarr, to_zarr_v2};
use ndarray::{ArrayD, Dimension, IxDyn};
use proptest::prelude::*;

use crate::{Scratch, compute, fixture};

#[test]
fn arrays_written_by_zarr_python_read_back_exactly() {
    let want = ArrayD::from_shape_fn(IxDyn(&[6, 7, 5]), |i| {
        (i[0] * 35 + i[1] * 5 + i[2]) as f64 / 8.0 - 10.0
    });
    // zstd (v2 and v3), zlib, gzip, and big-endian: in blocks that cut the stored chunks, and in
    // the stored chunks themselves (decoded by floe straight into the blocks).
    for name in [
        "v2.zarr",
        "v3.zarr",
        "zlib_v2.zarr",
        "gzip_v3.zarr",
        "be_v2.zarr",
    ] {
        for chunks in [
            floe_array::ChunkSpec::from(vec![4_usize, 4, 2]),
            "auto".into(),
            "1KB".into(),
        ] {
            let x = from_zarr(fixture(name), chunks.clone()).unwrap();
            assert_eq!(x.dtype(), DType::F64, "{name}");
            assert_eq!(
                compute(&x).unwrap().into_f64().unwrap(),
                want,
                "{name} in {chunks:?}"
            );
        }
    }
    let i2 = compute(&from_zarr(fixture("i2_v3.zarr"), 3).unwrap())
        .unwrap()
        .into_i16()
        .unwrap();
    assert_eq!(
        i2.iter().copied().collect::<Vec<_>>(),
        (0..11).map(|i| i * -300).collect::<Vec<i16>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn round_trips_through_a_zarr_store(
        shape in proptest::collection::vec(1_usize..7, 1..4),
        write_chunk in 1_usize..4,
        read_chunk in 1_usize..5,
        as_int in any::<bool>(),
        v2 in any::<bool>(),
    ) {
        let dir = Scratch::new("zarr");
        let path = dir.0.join("x.zarr");
        let base = ArrayD::from_shape_fn(IxDyn(&shape), |i| i.as_array_view().iter().fold(0_i64, |a, &v| a * 7 + v as i64) - 50);
        let data = if as_int { DynArray::from(base.mapv(|v| v as i32)) } else { DynArray::from(base.mapv(|v| v as f32 / 4.0)) };
        let x = floe_array::with_array!(data.clone(), a => from_ndarray(a, write_chunk).unwrap());
        let write = if v2 { to_zarr_v2(&x, &path) } else { to_zarr(&x, &path) }.unwrap();
        prop_assert!(compute(&write).unwrap().into_bool().unwrap()[[]]);
        prop_assert_eq!(path.join(if v2 { ".zarray" } else { "zarr.json" }).exists(), true);
        let y = from_zarr(&path, read_chunk).unwrap();
        prop_assert_eq!(compute(&y).unwrap(), data);
    }
}

#[test]
fn missing_or_invalid_stores_are_errors_naming_them() {
    let dir = Scratch::new("zbad");
    let e = from_zarr(dir.0.join("missing.zarr"), 2).unwrap_err();
    assert!(
        matches!(e, IoError::Os { .. }) && e.to_string().contains("missing.zarr"),
        "{e}"
    );
    let empty = dir.0.join("empty.zarr");
    std::fs::create_dir_all(&empty).unwrap();
    let e = from_zarr(&empty, 2).unwrap_err();
    assert!(
        e.to_string().contains("empty.zarr: not a valid Zarr file"),
        "{e}"
    );
}

#[test]
fn every_dtype_is_decoded_into_its_blocks() {
    // Blocks that cut the stored chunks (3 × 4 of 4 × 5) and blocks that are them: the
    // decode writes each part of a chunk to its place in the block.
    let base = ArrayD::from_shape_fn(IxDyn(&[9, 13]), |i| (i[0] * 13 + i[1]) as f64 - 40.0);
    for dtype in DType::ALL {
        let data = if dtype.is_complex() {
            DynArray::from(base.mapv(|v| floe_array::Complex128::new(v, 0.5 - v))).astype(dtype)
        } else {
            DynArray::from(base.clone()).astype(dtype)
        };
        let dir = Scratch::new("zdtype");
        let path = dir.0.join("x.zarr");
        let x = floe_array::with_array!(data.clone(), a => from_ndarray(a, [4_usize, 5]).unwrap());
        compute(&to_zarr(&x, &path).unwrap()).unwrap();
        for chunks in [vec![3_usize, 4], vec![4, 5], vec![9, 13]] {
            let y = from_zarr(&path, chunks.clone()).unwrap();
            assert_eq!(y.dtype(), dtype);
            assert_eq!(compute(&y).unwrap(), data, "{dtype} in blocks {chunks:?}");
        }
    }
}

#[test]
fn blocks_left_to_floe_hold_whole_stored_chunks() {
    let dir = Scratch::new("zalign");
    let path = dir.0.join("x.zarr");
    // Stored chunks of 100 × 30 float64 (24 KB).
    let x = floe_array::arange(0.0, 90_000.0, 1.0, 10_000, DType::F64)
        .unwrap()
        .reshape(&[1000, 90])
        .unwrap()
        .rechunk([100_usize, 30])
        .unwrap();
    compute(&to_zarr(&x, &path).unwrap()).unwrap();
    let block = |spec: floe_array::ChunkSpec| from_zarr(&path, spec).unwrap().chunks().max_block();
    // Smaller than one stored chunk: one chunk, never part of one.
    assert_eq!(block("10KB".into()), vec![100, 30]);
    // About 100 KB: four chunks' worth, in whole chunks.
    let b = block("100KB".into());
    assert!(b[0] % 100 == 0 && b[1] % 30 == 0, "{b:?}");
    assert!(
        b[0] * b[1] * 8 <= 100_000 && b[0] * b[1] * 8 >= 48_000,
        "{b:?}"
    );
    // "auto" (128 MiB) takes the whole array; explicit sizes are kept as given.
    assert_eq!(block("auto".into()), vec![1000, 90]);
    assert_eq!(block(vec![70_usize, 90].into()), vec![70, 90]);
    let y = from_zarr(&path, "100KB").unwrap();
    assert_eq!(compute(&y).unwrap(), compute(&x).unwrap());
}

#[test]
fn a_corrupt_chunk_fails_its_block_naming_the_store() {
    let dir = Scratch::new("zcorrupt");
    let path = dir.0.join("x.zarr");
    let x = floe_array::arange(0.0, 100.0, 1.0, 25, DType::F64).unwrap();
    compute(&to_zarr(&x, &path).unwrap()).unwrap();
    // Chunk 2 of the 25-element grid: garbage where zstd data should be.
    std::fs::write(path.join("c").join("2"), b"not zstd at all").unwrap();
    let e = compute(&from_zarr(&path, 25).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x.zarr") && e.contains("reading block [2]"),
        "{e}"
    );
    // The chunk file gone: a missing chunk reads as the fill value, as Zarr specifies.
    std::fs::remove_file(path.join("c").join("2")).unwrap();
    let y = compute(&from_zarr(&path, 25).unwrap())
        .unwrap()
        .into_f64()
        .unwrap();
    assert_eq!(y[[60]], 0.0);
    assert_eq!(y[[80]], 80.0);
}
