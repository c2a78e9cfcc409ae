use floe_array::{ArrayError, DType, concatenate, ones, s};

#[test]
fn bad_input_gets_typed_errors_naming_what_was_wrong() {
    let x = ones(&[4, 6], 2, DType::F64).unwrap();
    let y = ones(&[5, 6], 2, DType::F64).unwrap();
    let e = (&x + &y).unwrap_err();
    assert!(matches!(e, ArrayError::ShapeMismatch { .. }));
    assert_eq!(
        e.to_string(),
        "add: shapes [4, 6] and [5, 6] do not match (axis 0 has lengths 4 and 5)"
    );
    let e = x.sum(2).unwrap_err();
    assert_eq!(
        e.to_string(),
        "sum: axis 2 is out of range for an array of 2 dimensions"
    );
    let e = x.slice(&s![4]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "index 4 is out of bounds for axis 0 with size 4"
    );
    let e = x.slice(&s![..;0]).unwrap_err();
    assert!(e.to_string().contains("step cannot be zero"));
    let e = x.slice(&s![0, 0, 0]).unwrap_err();
    assert!(e.to_string().contains("too many indices"));
    let e = ones(&[4], vec![vec![1, 2]], DType::F64).unwrap_err();
    assert!(matches!(e, ArrayError::BadChunks { .. }), "{e}");
    let e = concatenate(&[x.clone(), ones(&[4, 5], 2, DType::F64).unwrap()], 0).unwrap_err();
    assert!(e.to_string().contains("off axis 0"), "{e}");
    assert!(concatenate(&[], 0).is_err());
    assert!(x.permute(&[0, 0]).is_err());
    assert!(x.squeeze(Some(&[0])).is_err());
    assert!(x.broadcast_to(&[3, 6]).is_err());
    assert!(x.clip(2.0, 1.0).is_err());
    assert!(floe_array::arange(0.0, 1.0, 0.0, 1, DType::F64).is_err());
}

#[test]
fn display_summarizes_the_array() {
    let x = floe_array::zeros(&[1464, 721, 1440], [4_usize, 200, 200], DType::F32).unwrap();
    assert_eq!(
        x.to_string(),
        "floe.Array<zeros, shape=(1464, 721, 1440), dtype=float32, chunksize=(4, 200, 200), blocks=11712, bytes=5.7 GiB, layers=1>"
    );
    // Shown without lowering: 10¹² blocks (a graph that could never be built) print at once.
    let huge = floe_array::zeros(&[1_000_000, 1_000_000], [1_usize, 1], DType::F64).unwrap();
    let y = huge.add(&huge.t()).unwrap().sum(0).unwrap();
    assert_eq!(
        format!("{y:?}"),
        "floe.Array<sum, shape=(1000000,), dtype=float64, chunksize=(1,), blocks=1000000, bytes=7.6 MiB, layers=4>"
    );
}
