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
    for name in ["v2.zarr", "v3.zarr"] {
        let x = from_zarr(fixture(name), [4_usize, 4, 2]).unwrap();
        assert_eq!(x.dtype(), DType::F64, "{name}");
        assert_eq!(compute(&x).unwrap().into_f64().unwrap(), want, "{name}");
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
