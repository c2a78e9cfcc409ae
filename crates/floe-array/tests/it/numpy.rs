//! NumPy's own answers (`tests/fixtures/numpy.json`, written by `gen_numpy.py` with NumPy 2)
//! for promotion, scalar typing, negative-step slices, `ddof`, integer division and result
//! dtypes.

use floe_array::{Axes, DType, Idx, from_ndarray};
use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

use crate::support::compute;

fn fixture() -> Value {
    let text = include_str!("../fixtures/numpy.json");
    serde_json::from_str(text).expect("numpy.json parses")
}

fn dtype(name: &str) -> DType {
    DType::from_name(name).unwrap_or_else(|| panic!("unknown dtype {name}"))
}

fn ones(d: DType) -> floe_array::Array {
    floe_array::ones(&[2], 1, d).unwrap()
}

#[test]
fn promotion_table_matches_numpy() {
    let f = fixture();
    for (a, row) in f["promote"].as_object().unwrap() {
        for (b, want) in row.as_object().unwrap() {
            let got = ones(dtype(a)).add(&ones(dtype(b)));
            match got {
                Ok(x) => assert_eq!(x.dtype().name(), want.as_str().unwrap(), "{a} + {b}"),
                Err(e) => panic!("{a} + {b}: {e}"),
            }
        }
    }
    for (a, want) in f["true_divide"].as_object().unwrap() {
        let x = ones(dtype(a)).div(&ones(dtype(a))).unwrap();
        assert_eq!(x.dtype().name(), want.as_str().unwrap(), "{a} / {a}");
    }
    for (a, want) in f["sum"].as_object().unwrap() {
        assert_eq!(
            ones(dtype(a)).sum(Axes::All).unwrap().dtype().name(),
            want.as_str().unwrap(),
            "sum of {a}"
        );
    }
}

#[test]
fn python_scalars_are_weakly_typed_as_in_numpy() {
    let f = fixture();
    for (a, row) in f["scalar"].as_object().unwrap() {
        let x = ones(dtype(a));
        assert_eq!(
            x.add_scalar(1.5).unwrap().dtype().name(),
            row["float"].as_str().unwrap(),
            "{a} + 1.5"
        );
        if let Some(want) = row.get("int") {
            assert_eq!(
                x.add_scalar(1).unwrap().dtype().name(),
                want.as_str().unwrap(),
                "{a} + 1"
            );
        }
    }
}

#[test]
fn sqrt_dtypes_match_numpy_except_float16() {
    let f = fixture();
    for (a, want) in f["sqrt"].as_object().unwrap() {
        let got = ones(dtype(a)).sqrt().unwrap().dtype();
        match want.as_str().unwrap() {
            // floe has no float16 and uses float32 instead.
            "float16" => assert_eq!(got, DType::F32, "sqrt({a})"),
            w => assert_eq!(got.name(), w, "sqrt({a})"),
        }
    }
}

#[test]
fn negative_step_slices_match_numpy() {
    let f = fixture();
    let x = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[10]), (0..10_i64).collect()).unwrap(),
        3,
    )
    .unwrap();
    for case in f["slices"].as_array().unwrap() {
        let idx = Idx::Slice {
            start: case["start"].as_i64().map(|v| v as isize),
            stop: case["stop"].as_i64().map(|v| v as isize),
            step: case["step"].as_i64().unwrap() as isize,
        };
        let got: Vec<i64> = compute(&x.slice(&[idx]).unwrap())
            .into_i64()
            .unwrap()
            .iter()
            .copied()
            .collect();
        let want: Vec<i64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(got, want, "{idx:?}");
    }
}

#[test]
fn var_and_std_with_ddof_match_numpy() {
    let f = fixture();
    let rows: Vec<Vec<f64>> = f["moments"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    let flat: Vec<f64> = rows.concat();
    let m = from_ndarray(
        ArrayD::from_shape_vec(IxDyn(&[rows.len(), rows[0].len()]), flat).unwrap(),
        [2_usize, 3],
    )
    .unwrap();
    for case in f["moments"]["cases"].as_array().unwrap() {
        let axes: Axes = case["axis"].as_i64().map(|a| a as isize).into();
        let ddof = case["ddof"].as_u64().unwrap() as u32;
        for (op, key) in [
            (m.var(axes.clone(), ddof), "var"),
            (m.std(axes.clone(), ddof), "std"),
        ] {
            let got: Vec<f64> = compute(&op.unwrap())
                .into_f64()
                .unwrap()
                .iter()
                .copied()
                .collect();
            let want: Vec<f64> = case[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                    "{key} axis {:?} ddof {ddof}: {got:?} vs {want:?}",
                    case["axis"]
                );
            }
        }
    }
}

#[test]
fn integer_division_matches_numpy() {
    let f = fixture();
    let col = |k: &str| -> Vec<i64> {
        f["int_division"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let a = from_ndarray(ArrayD::from_shape_vec(IxDyn(&[6]), col("a")).unwrap(), 4).unwrap();
    let b = from_ndarray(ArrayD::from_shape_vec(IxDyn(&[6]), col("b")).unwrap(), 2).unwrap();
    let fd: Vec<i64> = compute(&a.floor_div(&b).unwrap())
        .into_i64()
        .unwrap()
        .iter()
        .copied()
        .collect();
    let rem: Vec<i64> = compute(&a.rem(&b).unwrap())
        .into_i64()
        .unwrap()
        .iter()
        .copied()
        .collect();
    assert_eq!(fd, col("floor_divide"));
    assert_eq!(rem, col("remainder"));
}
