//! Kernels as data: every elementwise operation's kernel survives JSON, and the kernel
//! read back computes, from the input blocks, the very block the array computes.

use floe_array::{
    Array, BinaryOp, BlockInfo, BlockRef, DType, DynArray, FftNorm, Kernel, Scalar, TaskSpec,
    UnaryOp, random,
};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

use crate::support::compute;

const DTYPES: [DType; 8] = [
    DType::Bool,
    DType::U8,
    DType::I32,
    DType::I64,
    DType::U64,
    DType::F32,
    DType::F64,
    DType::C128,
];

/// Values of `dtype` over many magnitudes (NaN and infinities among the floats).
fn block(shape: &[usize], dtype: DType, seed: u64) -> ArrayD<f64> {
    let mut state = seed | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state % 23 {
            0 if dtype.is_inexact() => f64::NAN,
            1 if dtype.is_inexact() => f64::INFINITY,
            2 => 0.0,
            _ => ((state >> 11) % 41) as f64 / 4.0 - 5.0,
        }
    })
}

fn array(values: &ArrayD<f64>, dtype: DType) -> Array {
    floe_array::from_ndarray(values.clone(), values.shape().to_vec())
        .unwrap()
        .astype(dtype)
}

/// Reads `kernel` back from its JSON text and runs it on the computed `inputs`: the same
/// block, to the bit, as computing `out`.
fn check(out: &Array, inputs: &[&Array]) -> Result<(), TestCaseError> {
    let kernel = out.kernel().expect("an elementwise kernel");
    let text = kernel.to_json().to_string();
    let back = Kernel::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
    prop_assert_eq!(back.to_json().to_string(), text.clone());
    let blocks: Vec<DynArray> = inputs.iter().map(|a| compute(a)).collect();
    let refs: Vec<BlockRef<'_>> = blocks.iter().map(BlockRef::new).collect();
    let info = BlockInfo {
        index: vec![0; out.ndim()],
        shape: out.shape().to_vec(),
        offset: vec![0; out.ndim()],
        array_shape: out.shape().to_vec(),
    };
    match (back.run(&refs, &info), try_compute(out)) {
        (Ok(got), Ok(want)) => {
            prop_assert_eq!(got.dtype(), want.dtype(), "{}", text);
            prop_assert_eq!(format!("{got:?}"), format!("{want:?}"), "{}", text);
        }
        // What the operation refuses at compute time (an integer to a negative power) is
        // refused alike.
        (Err(e), Err(f)) => prop_assert!(f.contains(&e.to_string()), "{} against {}", e, f),
        (got, want) => prop_assert!(
            false,
            "{}: {:?} against {:?}",
            text,
            got.map(|_| ()),
            want.map(|_| ())
        ),
    }
    Ok(())
}

/// `a` computed, or the run's error.
fn try_compute(a: &Array) -> Result<DynArray, String> {
    let mut builder = floe_graph::GraphBuilder::default();
    let out = floe_array::Lowering::new(&mut builder).assemble(a).unwrap();
    let graph = builder.build();
    let run = floe_scheduler::Scheduler::builder()
        .threads(1)
        .build()
        .unwrap()
        .run(&graph, &[out])
        .map_err(|e| e.to_string())?;
    Ok(run.values[0].downcast_ref::<DynArray>().unwrap().clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn elementwise_kernels_survive_json_and_compute_the_same_blocks(
        shape in proptest::collection::vec(1_usize..5, 1..3),
        dtypes in (0..DTYPES.len(), 0..DTYPES.len()),
        ops in (0..BinaryOp::ALL.len(), 0..UnaryOp::ALL.len()),
        scalar in prop_oneof![
            any::<bool>().prop_map(Scalar::Bool),
            (-3_i64..4).prop_map(Scalar::Int),
            // Integers some dtypes cannot hold (NumPy 2: compared exactly, divided as
            // floats, refused in integer arithmetic).
            prop_oneof![Just(300_i64), Just(-1), Just(i64::MAX), Just(i64::MIN)].prop_map(Scalar::Int),
            prop_oneof![Just(f64::NAN), Just(f64::NEG_INFINITY), Just(-0.0), Just(2.0), Just(0.3)].prop_map(Scalar::Float),
            Just(Scalar::Complex(1.5, -2.0)),
        ],
        scalar_first in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let (da, db) = (DTYPES[dtypes.0], DTYPES[dtypes.1]);
        let x = array(&block(&shape, da, seed), da);
        // `y` broadcasts along the first axis when it has fewer.
        let y = array(&block(&shape[1..], db, seed ^ 5), db);
        let cond = array(&block(&shape, DType::F64, seed ^ 9), DType::F64).gt_scalar(0.0).unwrap();
        let (bop, uop) = (BinaryOp::ALL[ops.0], UnaryOp::ALL[ops.1]);
        // Operations NumPy refuses for these dtypes are refused here too: nothing to check.
        if let Ok(out) = x.binary(bop, &y) {
            check(&out, &[&x, &y])?;
        }
        let with = if scalar_first { x.scalar_binary(scalar, bop) } else { x.binary_scalar(bop, scalar) };
        if let Ok(out) = with {
            // `x ** 2` is a square of a converted copy: its last step is the kernel.
            if out.kernel().is_some_and(|k| matches!(k, Kernel::WithScalar { .. })) {
                check(&out, &[&x])?;
            }
        }
        if let Ok(out) = x.unary(uop) {
            check(&out, &[&x])?;
        }
        if da != db {
            check(&x.astype(db), &[&x])?;
        }
        check(&Array::where_(&cond, &x, &y).unwrap(), &[&cond, &x, &y])?;
    }
}

/// Kernels other than JSON names: typed errors naming the field; a kernel run on the
/// wrong number of blocks: an error, not a panic.
#[test]
fn bad_kernels_are_errors() {
    for (text, names) in [
        ("{}", "kernel"),
        (r#"{"kernel": "nope"}"#, "nope"),
        (
            r#"{"kernel": "binary", "op": "frobnicate", "compute_in": "float64", "out": "float64"}"#,
            "frobnicate",
        ),
        (
            r#"{"kernel": "unary", "op": "sqrt", "out": "float65"}"#,
            "float65",
        ),
        (
            r#"{"kernel": "with_scalar", "op": "add", "scalar": {"float": 1.0}, "scalar_dtype": "float64", "scalar_first": false, "compute_in": "float64", "out": "float64"}"#,
            "float",
        ),
        (
            r#"{"kernel": "with_scalar", "op": "add", "scalar": {"int": 1}, "scalar_dtype": "float64", "compute_in": "float64", "out": "float64"}"#,
            "scalar_first",
        ),
    ] {
        let e = Kernel::from_json(&serde_json::from_str(text).unwrap()).unwrap_err();
        assert!(e.to_string().contains(names), "{text}: {e}");
    }
    let x = floe_array::ones(&[2], 2_usize, DType::F64).unwrap();
    let kernel = Array::where_(&x.gt_scalar(0.0).unwrap(), &x, &x)
        .unwrap()
        .kernel()
        .unwrap();
    let one = DynArray::from(ArrayD::from_elem(IxDyn(&[2]), 1.0));
    let info = BlockInfo {
        index: vec![0],
        shape: vec![2],
        offset: vec![0],
        array_shape: vec![2],
    };
    let e = kernel.run(&[BlockRef::new(&one)], &info).unwrap_err();
    assert!(e.to_string().contains("reads 3 blocks, given 1"), "{e}");
    // A kernel run on blocks of dtypes it was not made for: an error, not a panic or a
    // block of another dtype (cbrt of float64, given complex numbers).
    let cbrt = x.unary(UnaryOp::Cbrt).unwrap().kernel().unwrap();
    let z = DynArray::from(ArrayD::from_elem(
        IxDyn(&[2]),
        floe_array::Complex::new(1.0, 2.0),
    ));
    let e = cbrt.run(&[BlockRef::new(&z)], &info).unwrap_err();
    assert!(
        e.to_string().contains("does not take blocks of complex128"),
        "{e}"
    );
    // Nor does a kernel make a block of a shape other than described.
    let wide = BlockInfo {
        shape: vec![3],
        array_shape: vec![3],
        ..info.clone()
    };
    assert!(cbrt.run(&[BlockRef::new(&one)], &wide).is_err());
}

/// Task specs other than `to_json` writes, or run on blocks they do not fit: typed errors,
/// never panics.
#[test]
fn bad_task_specs_are_errors() {
    for (text, names) in [
        ("{}", "task"),
        (r#"{"task": "gather"}"#, "gather"),
        (
            r#"{"task": "full", "value": "1", "dtype": 3, "shape": [2]}"#,
            "dtype",
        ),
        (r#"{"task": "transpose", "perm": [1, -1]}"#, "sizes"),
        (
            r#"{"task": "elementwise", "kernel": {"kernel": "astype", "dtype": "int8"}, "info": {"index": [0]}, "perms": [null]}"#,
            "shape",
        ),
    ] {
        let e = floe_array::TaskSpec::from_json(&serde_json::from_str(text).unwrap()).unwrap_err();
        assert!(e.to_string().contains(names), "{text}: {e}");
    }
    let spec =
        |text: &str| floe_array::TaskSpec::from_json(&serde_json::from_str(text).unwrap()).unwrap();
    let block = DynArray::from(ArrayD::from_elem(IxDyn(&[2, 3]), 1.0));
    let value = floe_graph::Value::new(block);
    let info = r#"{"index": [0, 0], "shape": [3, 2], "offset": [0, 0], "array_shape": [3, 2]}"#;
    for (text, message) in [
        (r#"{"task": "transpose", "perm": [0, 0]}"#.to_owned(), "not a permutation"),
        (r#"{"task": "transpose", "perm": [5, 0]}"#.to_owned(), "not a permutation"),
        (
            format!(r#"{{"task": "elementwise", "kernel": {{"kernel": "astype", "dtype": "int8"}}, "info": {info}, "perms": [[1, 1]]}}"#),
            "not a permutation",
        ),
        (
            format!(r#"{{"task": "elementwise", "kernel": {{"kernel": "astype", "dtype": "int8"}}, "info": {info}, "perms": [null, null]}}"#),
            "of 2 inputs given 1 blocks",
        ),
        (r#"{"task": "reshape", "info": {"index": [0], "shape": [7], "offset": [0], "array_shape": [7]}}"#.to_owned(), "reshape"),
    ] {
        let e = spec(&text).run(std::slice::from_ref(&value)).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    // A gather whose segment runs past its block, or a squeeze of a long axis.
    for (text, message) in [
        (
            r#"{"task": "gather", "dtype": "float64", "out_shape": [2, 3], "squeeze": [], "pieces": [[0, [[0, 0, 0, 2, 1, 0, 2], [0, 0, 0, 4, 1, 0, 4]]]]}"#,
            "does not fit axis 1",
        ),
        (
            r#"{"task": "gather", "dtype": "float64", "out_shape": [2, 3], "squeeze": [0], "pieces": [[0, [[0, 0, 0, 2, 1, 0, 2], [0, 0, 0, 3, 1, 0, 3]]]]}"#,
            "squeeze",
        ),
        (
            r#"{"task": "gather", "dtype": "float64", "out_shape": [2, 3], "squeeze": [], "pieces": [[1, [[0, 0, 0, 2, 1, 0, 2], [0, 0, 0, 3, 1, 0, 3]]]]}"#,
            "no block 1",
        ),
        (
            r#"{"task": "gather", "dtype": "int8", "out_shape": [2, 3], "squeeze": [], "pieces": [[0, [[0, 0, 0, 2, 1, 0, 2], [0, 0, 0, 3, 1, 0, 3]]]]}"#,
            "int8",
        ),
    ] {
        let e = spec(text).run(std::slice::from_ref(&value)).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    // Scans given an axis the block lacks, a carry of another shape, the wrong inputs.
    let carry = floe_graph::Value::new(DynArray::from(ArrayD::from_elem(IxDyn(&[2, 1]), 1.0)));
    let row = floe_graph::Value::new(DynArray::from(ArrayD::from_elem(IxDyn(&[1, 3]), 1.0)));
    for (text, inputs, message) in [
        (
            r#"{"task": "scan", "op": "cumsum", "axis": 2, "dtype": "float64", "running": true}"#,
            vec![value.clone()],
            "along axis 2",
        ),
        (
            r#"{"task": "scan", "op": "cumsum", "axis": 0, "dtype": "float64", "running": true}"#,
            vec![value.clone(), carry.clone()],
            "carry of shape [2, 1]",
        ),
        (
            r#"{"task": "scan", "op": "cumsum", "axis": 0, "dtype": "float64", "running": false}"#,
            vec![value.clone(), row.clone()],
            "given 2 blocks",
        ),
        (
            r#"{"task": "scan-carry", "op": "cumprod", "dtype": "float64"}"#,
            vec![carry.clone(), row.clone()],
            "carry of shape [2, 1] and total of shape [1, 3]",
        ),
        (
            r#"{"task": "scan-carry", "op": "cumprod", "dtype": "float64"}"#,
            vec![row.clone()],
            "given 1 blocks",
        ),
    ] {
        let e = spec(text).run(&inputs).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    let e = floe_array::TaskSpec::from_json(&serde_json::json!({"task": "scan", "op": "cummax", "axis": 0, "dtype": "float64", "running": true})).unwrap_err();
    assert!(e.to_string().contains("no scan"), "{e}");
    // A scan that fits runs: the carry slice starts the running sums.
    let out =
        spec(r#"{"task": "scan", "op": "cumsum", "axis": 0, "dtype": "float64", "running": true}"#)
            .run(&[value.clone(), row.clone()])
            .unwrap();
    assert_eq!(
        out.downcast_ref::<DynArray>()
            .unwrap()
            .clone()
            .into_typed::<f64>(),
        ArrayD::from_shape_fn(IxDyn(&[2, 3]), |i| (i[0] + 2) as f64)
    );
    let huge = spec(
        r#"{"task": "full", "value": "0", "dtype": "float64", "shape": [4294967296, 4294967296]}"#,
    );
    assert!(huge.run(&[]).unwrap_err().to_string().contains("too large"));
    // A permutation that fits runs.
    let ok = spec(&format!(
        r#"{{"task": "elementwise", "kernel": {{"kernel": "astype", "dtype": "int8"}}, "info": {info}, "perms": [[1, 0]]}}"#
    ));
    let out = ok.run(std::slice::from_ref(&value)).unwrap();
    assert_eq!(out.downcast_ref::<DynArray>().unwrap().shape(), &[3, 2]);

    // Reductions' tasks given what they do not describe.
    let info23 = r#"{"index": [0, 0], "shape": [2, 3], "offset": [0, 0], "array_shape": [2, 3]}"#;
    let partial = spec(&format!(
        r#"{{"task": "partial", "op": {{"name": "mean"}}, "axes": [0], "info": {info23}}}"#
    ))
    .run(std::slice::from_ref(&value))
    .unwrap();
    let other = spec(&format!(
        r#"{{"task": "partial", "op": {{"name": "mean"}}, "axes": [1], "info": {info23}}}"#
    ))
    .run(std::slice::from_ref(&value))
    .unwrap();
    for (text, inputs, message) in [
        (
            format!(r#"{{"task": "partial", "op": {{"name": "sum"}}, "axes": [2], "info": {info23}}}"#),
            vec![value.clone()],
            "not ascending axes",
        ),
        (
            format!(r#"{{"task": "partial", "op": {{"name": "sum"}}, "axes": [0], "info": {info}}}"#),
            vec![value.clone()],
            "of shape [3, 2] given one of [2, 3]",
        ),
        (
            r#"{"task": "combine", "op": {"name": "mean"}, "axes": [0]}"#.to_owned(),
            vec![],
            "no partial",
        ),
        (
            r#"{"task": "combine", "op": {"name": "mean"}, "axes": [0]}"#.to_owned(),
            vec![partial.clone(), other.clone()],
            "partial results of shapes",
        ),
        (
            r#"{"task": "combine", "op": {"name": "mean"}, "axes": [1]}"#.to_owned(),
            vec![partial.clone()],
            "not reduced along [1]",
        ),
        (
            r#"{"task": "finalize", "op": {"name": "mean"}, "axes": [0], "keepdims": false, "dtype": "float64"}"#.to_owned(),
            vec![value.clone()],
            "reads partial results",
        ),
        (
            r#"{"task": "finalize", "op": {"name": "mean"}, "axes": [0], "keepdims": false, "dtype": "float64"}"#.to_owned(),
            vec![partial.clone(), partial.clone()],
            "one partial result, given 2",
        ),
        (
            format!(r#"{{"task": "source", "source": {{"source": "arange", "start": "0", "step": "1", "dtype": "int64"}}, "info": {info23}}}"#),
            vec![],
            "cannot make the box",
        ),
    ] {
        let e = spec(&text).run(&inputs).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    // A mean finalized from a partial read back from bytes: the column means.
    let back = TaskSpec::value_from_bytes(&TaskSpec::value_to_bytes(&partial).unwrap()).unwrap();
    let mean = spec(
        r#"{"task": "finalize", "op": {"name": "mean"}, "axes": [0], "keepdims": false, "dtype": "float64"}"#,
    )
    .run(&[back])
    .unwrap();
    assert_eq!(
        mean.downcast_ref::<DynArray>().unwrap(),
        &DynArray::from(ArrayD::from_elem(IxDyn(&[3]), 1.0))
    );

    // Banded partials whose plans would index out of their blocks.
    let band = |bands: &str, rows: usize| {
        format!(
            r#"{{"task": "banded", "op": {{"name": "sum"}}, "axes": [0], "dtype": "float64", "axis": 0, "rows": {rows}, "along_kept": false, "infos": [{info23}], "bands": {bands}}}"#
        )
    };
    let neg = r#"{"kernel": "unary", "op": "negative", "out": "float64"}"#;
    for (text, inputs, message) in [
        (
            band(
                r#"[{"band": "block", "dep": 0, "perm": null, "ndim": 2}]"#,
                1,
            ),
            vec![value.clone()],
            "block at the top",
        ),
        (band("[]", 1), vec![], "0 band plans for 1 blocks"),
        (
            band(
                &format!(
                    r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "block", "dep": 0, "perm": null, "ndim": 2}}]}}]"#
                ),
                0,
            ),
            vec![value.clone()],
            "bands of 0 rows",
        ),
        (
            band(
                &format!(
                    r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "block", "dep": 3, "perm": null, "ndim": 2}}]}}]"#
                ),
                1,
            ),
            vec![value.clone()],
            "reads block 3, given 1",
        ),
        (
            band(
                &format!(
                    r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "block", "dep": 0, "perm": null, "ndim": 3}}]}}]"#
                ),
                1,
            ),
            vec![value.clone()],
            "reads block 0 as 3 axes; it has 2",
        ),
        (
            band(
                &format!(
                    r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "block", "dep": 0, "perm": [0, 0], "ndim": 2}}]}}]"#
                ),
                1,
            ),
            vec![value.clone()],
            "not a permutation",
        ),
        (
            band(
                &format!(
                    r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info}, "inputs": [{{"band": "block", "dep": 0, "perm": null, "ndim": 2}}]}}]"#
                ),
                1,
            ),
            vec![value.clone()],
            "a plan of shape [3, 2] for a block of [2, 3]",
        ),
    ] {
        let e = spec(&text).run(&inputs).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    // The same plan, well formed, sums the block's columns a row at a time.
    let ok = spec(&band(
        &format!(
            r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "block", "dep": 0, "perm": null, "ndim": 2}}]}}]"#
        ),
        1,
    ));
    let p = ok.run(std::slice::from_ref(&value)).unwrap();
    let sums = spec(
        r#"{"task": "finalize", "op": {"name": "sum"}, "axes": [0], "keepdims": false, "dtype": "float64"}"#,
    )
    .run(&[p])
    .unwrap();
    assert_eq!(
        sums.downcast_ref::<DynArray>().unwrap(),
        &DynArray::from(ArrayD::from_elem(IxDyn(&[3]), -2.0))
    );

    // A chain: each stage on the one before's value.
    let chain = spec(&format!(
        r#"{{"task": "chain", "stages": [{{"task": "partial", "op": {{"name": "sum"}}, "axes": [0], "info": {info23}}}, {{"task": "finalize", "op": {{"name": "sum"}}, "axes": [0], "keepdims": true, "dtype": "float64"}}]}}"#
    ));
    let sums = chain.run(std::slice::from_ref(&value)).unwrap();
    assert_eq!(
        sums.downcast_ref::<DynArray>().unwrap(),
        &DynArray::from(ArrayD::from_elem(IxDyn(&[1, 3]), 2.0))
    );
    let text = chain.to_json().unwrap().to_string();
    assert_eq!(
        TaskSpec::from_json(&serde_json::from_str(&text).unwrap())
            .unwrap()
            .to_json()
            .unwrap()
            .to_string(),
        text
    );
    let e = spec(r#"{"task": "chain", "stages": []}"#)
        .run(&[])
        .unwrap_err();
    assert!(e.to_string().contains("a chain of no task"), "{e}");
    let nested = r#"{"task": "chain", "stages": [{"task": "chain", "stages": []}]}"#;
    let e = TaskSpec::from_json(&serde_json::from_str(nested).unwrap()).unwrap_err();
    assert!(e.to_string().contains("a chain inside a chain"), "{e}");

    // Blocks that do not lie in their array, or larger than a spec may describe; plans
    // that disagree with themselves.
    for (text, message) in [
        (
            r#"{"task": "reshape", "info": {"index": [0], "shape": [7], "offset": [], "array_shape": [7]}}"#.to_owned(),
            "does not lie in",
        ),
        (
            r#"{"task": "source", "source": {"source": "uniform", "seed": 1, "low": "0", "high": "1"}, "info": {"index": [0], "shape": [4], "offset": [3], "array_shape": [5]}}"#.to_owned(),
            "does not lie in",
        ),
        (
            r#"{"task": "partial", "op": {"name": "argmax"}, "axes": [0, 1], "info": {"index": [0, 0], "shape": [2, 3], "offset": [0, 0], "array_shape": [2, 3, 2]}}"#.to_owned(),
            "does not lie in",
        ),
        (
            r#"{"task": "source", "source": {"source": "uniform", "seed": 1, "low": "0", "high": "1"}, "info": {"index": [0, 0], "shape": [67108864, 67108864], "offset": [0, 0], "array_shape": [67108864, 67108864]}}"#.to_owned(),
            "larger than a task spec may describe",
        ),
        (
            r#"{"task": "full", "value": "0", "dtype": "float64", "shape": [0, 4294967296, 4294967296]}"#.to_owned(),
            "too large",
        ),
    ] {
        let e = TaskSpec::from_json(&serde_json::from_str(&text).unwrap())
            .and_then(|s| s.run(&[]).map_err(|e| floe_array::ArrayError::invalid("run", e.to_string())))
            .unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    let plan = format!(
        r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "block", "dep": 0, "perm": null, "ndim": 2}}]}}]"#
    );
    let big = r#"{"index": [0, 0], "shape": [20, 3], "offset": [0, 0], "array_shape": [20, 3]}"#;
    for (text, message) in [
        (
            band(&plan, 1).replace(r#""axis": 0"#, r#""axis": 1"#),
            "said not to be a kept one",
        ),
        (band(&plan, 1 << 40), "bands of 1099511627776 rows"),
        (
            band(
                &format!(
                    r#"[{{"band": "elementwise", "kernel": {neg}, "info": {info23}, "inputs": [{{"band": "full", "value": "1", "dtype": "float64", "info": {big}}}]}}]"#
                ),
                1,
            ),
            "a node of shape [20, 3] under one of [2, 3]",
        ),
    ] {
        let e = spec(&text).run(std::slice::from_ref(&value)).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }

    // Bytes that are not a value, or whose shape needs more bytes than they hold.
    assert!(TaskSpec::value_from_bytes(b"").is_err());
    assert!(TaskSpec::value_from_bytes(b"Xabc").is_err());
    let mut bytes = TaskSpec::value_to_bytes(&value).unwrap();
    bytes[11..19].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = TaskSpec::value_from_bytes(&bytes).unwrap_err();
    assert!(
        e.to_string().contains("more bytes than there are") || e.to_string().contains("overflows"),
        "{e}"
    );
    bytes.truncate(30);
    assert!(TaskSpec::value_from_bytes(&bytes).is_err());
    let mut bytes = TaskSpec::value_to_bytes(&value).unwrap();
    bytes.push(0);
    let e = TaskSpec::value_from_bytes(&bytes).unwrap_err();
    assert!(e.to_string().contains("1 bytes after the value"), "{e}");
    // A zero-length axis beside two huge ones: no elements, but not a shape to make.
    let mut bytes = TaskSpec::value_to_bytes(&value).unwrap();
    bytes[10] = 3;
    bytes.splice(
        11..27,
        [0_u64, 1 << 31, 1 << 31]
            .iter()
            .flat_map(|n| n.to_le_bytes()),
    );
    bytes.truncate(11 + 24);
    let e = TaskSpec::value_from_bytes(&bytes).unwrap_err();
    assert!(e.to_string().contains("overflows"), "{e}");
}

/// `values` as one block in memory.
fn whole(values: &ArrayD<f64>) -> Array {
    let shape = values.shape().to_vec();
    let chunks = floe_array::Chunks::from_spec(&shape, shape.clone(), DType::F64).unwrap();
    let blocks =
        std::collections::HashMap::from([(vec![0; shape.len()], DynArray::from(values.clone()))]);
    floe_array::from_held_blocks(&shape, &chunks, DType::F64, blocks).unwrap()
}

/// `values` as blocks in memory of `r × c` (a source whose blocks are data).
fn held(values: &ArrayD<f64>, (r, c): (usize, usize)) -> Array {
    let shape = values.shape().to_vec();
    let chunks = floe_array::Chunks::from_spec(&shape, [r, c], DType::F64).unwrap();
    let blocks = chunks
        .block_indices()
        .map(|idx| {
            let lo = [idx[0] * r, idx[1] * c];
            let b = values.slice(ndarray::s![
                lo[0]..(lo[0] + r).min(shape[0]),
                lo[1]..(lo[1] + c).min(shape[1])
            ]);
            (idx, DynArray::from(b.to_owned().into_dyn()))
        })
        .collect();
    floe_array::from_held_blocks(&shape, &chunks, DType::F64, blocks).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Graphs of blocks in memory, constants, generators, elementwise kernels, transposes,
    /// reshapes, gathers, reductions, scans and floe-array's own block functions (FFTs,
    /// histograms, quantiles, `topk`, `vindex`, selections of unknown size, `unique`):
    /// every expression of [`runs_from_specs_alone`] for each random size and chunking.
    #[test]
    fn graphs_run_from_their_specs_alone(
        n in 2_usize..9,
        c in 1_usize..5,
        seed in any::<u64>(),
    ) {
        for pick in 0..PICKS {
            runs_from_specs_alone(n, c.min(n), pick, seed)?;
        }
    }
}

/// How many expressions [`runs_from_specs_alone`] builds.
const PICKS: usize = 40;

/// Expression `pick` of `n × n` arrays in blocks of `c`, lowered with specs recorded:
/// every task has one, and running each task from its JSON alone (a block in memory as
/// data), its inputs through bytes, in graph order, gives every block the scheduler
/// computes, to the bit.
fn runs_from_specs_alone(n: usize, c: usize, pick: usize, seed: u64) -> Result<(), TestCaseError> {
    let x = held(&block(&[n, n], DType::F64, seed), (c, c));
    let f = floe_array::full(&[n, n], [c, c], 0.5, DType::F32).unwrap();
    let y = random::uniform(&[n, n], [c, c], seed, -1.0, 1.0).unwrap();
    let e = match pick {
        0 => x.add(&f.t()).unwrap().mul_scalar(2.0).unwrap(),
        1 => Array::where_(&x.gt_scalar(0.0).unwrap(), &x.t(), &f)
            .unwrap()
            .sqrt()
            .unwrap(),
        2 => x.astype(DType::F32).sub(&x.t()).unwrap().abs().unwrap(),
        3 => x.t(),
        // Three axes: a permutation that is not its own inverse, as a view inside an
        // elementwise operation and as a task of its own.
        5 => whole(&block(&[n, 3, 2], DType::F64, seed))
            .permute(&[2, 0, 1])
            .unwrap()
            .add(&whole(&block(&[2, n, 3], DType::F64, seed ^ 3)))
            .unwrap(),
        6 => whole(&block(&[n, 3, 2], DType::F64, seed))
            .permute(&[2, 0, 1])
            .unwrap(),
        // Gathers: a strided slice with an integer index, a rechunk, a concatenation.
        7 => x
            .slice(&floe_array::s![..;-2, 1..])
            .unwrap()
            .slice(&floe_array::s![.., 0])
            .unwrap(),
        8 => x.rechunk([c + 1, (c + 2).min(n)]).unwrap(),
        9 => floe_array::concatenate(&[x.clone(), x.t().mul_scalar(2.0).unwrap()], 1).unwrap(),
        4 => held(&block(&[n, n], DType::F64, seed), (c, n))
            .reshape(&[-1])
            .unwrap()
            .mul_scalar(-1.0)
            .unwrap(),
        // Reductions: banded over generators (fused first level), banded over made
        // blocks, a partial of each block, moments, arg-reductions; generators and
        // blocks cut from memory.
        10 => {
            let r = random::uniform(&[n, n], [c, c], seed, -1.0, 1.0).unwrap();
            r.add(&r.t()).unwrap().mean(0).unwrap()
        }
        11 => x.sum(1).unwrap(),
        12 => x.mul_scalar(2.0).unwrap().var(0, 1).unwrap(),
        13 => floe_array::eye(n, n, 1, [c, c], DType::F32)
            .unwrap()
            .add(&floe_array::arange(0.0, n as f64, 1.0, c, DType::I32).unwrap())
            .unwrap()
            .sub(&floe_array::linspace(0.0, 1.0, n, true, c).unwrap())
            .unwrap(),
        14 => floe_array::from_ndarray(block(&[n, n], DType::F64, seed), [c, c])
            .unwrap()
            .max(0)
            .unwrap(),
        15 => random::normal(&[n, n], [c, c], seed, 1.0, 2.0)
            .unwrap()
            .argmin(1)
            .unwrap(),
        16 => floe_array::full_scalar(
            &[n, n],
            [c, c],
            floe_array::Scalar::Int(1 << 60),
            DType::I64,
        )
        .unwrap()
        .sub(&floe_array::ones(&[n, n], [c, c], DType::I64).unwrap())
        .unwrap()
        .sum(floe_array::Axes::All)
        .unwrap(),
        // Scans along either axis (totals, carries, running blocks), of integers too.
        18 => x.cumsum(0).unwrap(),
        19 => x.mul_scalar(0.5).unwrap().cumprod(1).unwrap(),
        20 => Array::where_(
            &x.gt_scalar(1.0).unwrap(),
            &x,
            &floe_array::full(&[n, n], [c, c], f64::NAN, DType::F64).unwrap(),
        )
        .unwrap()
        .nancumsum(0)
        .unwrap()
        .add(&x.astype(DType::I32).cumsum(1).unwrap())
        .unwrap(),
        // New axes and broadcasts: blocks converted to their own dtype, broadcast.
        21 => x
            .sum(0)
            .unwrap()
            .expand_dims(1)
            .unwrap()
            .broadcast_to(&[2, n, n])
            .unwrap()
            .add(&x.expand_dims(0).unwrap())
            .unwrap(),
        // Bins, increasing and decreasing, NaN among the values.
        22 => x
            .digitize(&[-1.0, 0.0, 2.5], false)
            .unwrap()
            .add(
                &x.sqrt()
                    .unwrap()
                    .digitize(&[3.0, 1.0, 1.0, -2.0], true)
                    .unwrap(),
            )
            .unwrap(),
        // Diagonals: of a matrix (pieces across blocks), and a vector placed on one.
        23 => floe_array::diag(&x.diagonal(0, 0, 1).unwrap(), 1)
            .unwrap()
            .slice(&floe_array::s![1.., ..n])
            .unwrap()
            .add(
                &x.diagonal(-1, 1, 0)
                    .unwrap()
                    .sum(floe_array::Axes::All)
                    .unwrap(),
            )
            .unwrap(),
        // Transforms along an axis in one block: complex, and real there and back.
        24 => x
            .rechunk([c, n])
            .unwrap()
            .fft(None, 1, FftNorm::Backward)
            .unwrap(),
        25 => y
            .rechunk([n, c])
            .unwrap()
            .rfft(Some(6), 0, FftNorm::Ortho)
            .unwrap()
            .irfft(None, 0, FftNorm::Forward)
            .unwrap(),
        // Histograms over the data's range and a given one (weighted), counts of values.
        26 => floe_array::histogram(&y, 4, None, None, false)
            .unwrap()
            .0
            .astype(DType::F64)
            .add(
                &floe_array::histogram(&y, 4, Some((-0.5, 0.5)), Some(&y.abs().unwrap()), false)
                    .unwrap()
                    .0,
            )
            .unwrap()
            .add(
                &floe_array::bincount(
                    &y.add_scalar(1.0)
                        .unwrap()
                        .mul_scalar(2.0)
                        .unwrap()
                        .astype(DType::I64)
                        .reshape(&[-1])
                        .unwrap(),
                    None,
                    4,
                )
                .unwrap()
                .astype(DType::F64),
            )
            .unwrap(),
        // Quantiles along an axis, and of every element (sketches, brackets, kept
        // values of data-dependent size, the finish).
        27 => x.quantile(&[0.1, 0.5], 0, true).unwrap(),
        28 => x.quantile_all(&[0.25, 0.9], true).unwrap(),
        // The largest along one axis, positions of the smallest along the other.
        29 => x
            .topk(2.min(n) as isize, 0)
            .unwrap()
            .astype(DType::F64)
            .sum(floe_array::Axes::All)
            .unwrap()
            .add(
                &x.argtopk(-2, 1)
                    .unwrap()
                    .astype(DType::F64)
                    .sum(floe_array::Axes::All)
                    .unwrap(),
            )
            .unwrap(),
        30 => x.coarsen(floe_array::ReduceOp::Max, &[2, 1], true).unwrap(),
        // Points across blocks.
        31 => {
            let rows =
                ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0_i64, n as i64 - 1, -1, 1]).unwrap();
            let cols = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1_i64, 0]).unwrap();
            x.vindex(&[rows, cols]).unwrap()
        }
        // Selections of unknown size: a mask's (then an elementwise kernel over it),
        // slices by a condition, positions of the non-zero elements.
        32 => x
            .filter(&x.gt_scalar(0.0).unwrap())
            .unwrap()
            .mul_scalar(2.0)
            .unwrap(),
        33 => x
            .compress(
                &floe_array::arange(0.0, n as f64, 1.0, c, DType::F64)
                    .unwrap()
                    .lt_scalar(2.0)
                    .unwrap(),
                1,
            )
            .unwrap()
            .sum(1)
            .unwrap(),
        34 => x
            .gt_scalar(0.5)
            .unwrap()
            .argwhere()
            .unwrap()
            .add(
                &x.lt_scalar(0.0)
                    .unwrap()
                    .flatnonzero()
                    .unwrap()
                    .sum(floe_array::Axes::All)
                    .unwrap(),
            )
            .unwrap(),
        // Unique values (NaN among them) with first positions and counts; the inverse.
        35 => {
            let u = x.unique_all(true, false, true).unwrap();
            u.values
                .add(&u.index.unwrap().astype(DType::F64))
                .unwrap()
                .add(&u.counts.unwrap().astype(DType::F64))
                .unwrap()
        }
        36 => x.unique_all(false, true, false).unwrap().inverse.unwrap(),
        // Complex reductions by parts (masked for the nan ones), sample frequencies.
        37 => floe_array::complex(&x, &y)
            .unwrap()
            .mean(0)
            .unwrap()
            .add(&floe_array::complex(&y, &x).unwrap().nanmean(0).unwrap())
            .unwrap(),
        38 => floe_array::complex(&x, &y)
            .unwrap()
            .var(1, 1)
            .unwrap()
            .add(&floe_array::fftfreq(n, 0.5, c).unwrap())
            .unwrap()
            .add(
                &floe_array::rfftfreq(2 * n - 1, 2.0, c)
                    .unwrap()
                    .slice(&floe_array::s![..n])
                    .unwrap(),
            )
            .unwrap(),
        // A gather along the known axis of an array with an unknown one.
        39 => x
            .compress(
                &floe_array::arange(0.0, n as f64, 1.0, c, DType::F64)
                    .unwrap()
                    .gt_scalar(0.0)
                    .unwrap(),
                1,
            )
            .unwrap()
            .slice(&floe_array::s![..;-2, ..])
            .unwrap(),
        _ => x.std(floe_array::Axes::All, 0).unwrap(),
    };
    let mut builder = floe_graph::GraphBuilder::default();
    let indices: Vec<Vec<usize>> = e.chunks().block_indices().collect();
    let (outs, specs) = {
        let mut l = floe_array::Lowering::recording_specs(&mut builder);
        let outs: Vec<_> = indices.iter().map(|i| l.block(&e, i).unwrap()).collect();
        let n = outs.iter().map(|o| o.index() + 1).max().unwrap_or(0);
        let specs: Vec<Option<floe_array::TaskSpec>> = (0..n)
            .map(|i| l.spec(floe_graph::TaskId::from_index(i)).cloned())
            .collect();
        (outs, specs)
    };
    let graph = builder.build();
    prop_assert_eq!(specs.len(), graph.len());
    // Each kind of task is there (a transpose alone is a task; in an operation, a view).
    let want = [
        "where",
        "subtract",
        "transpose",
        "reshape",
        "add",
        "transpose",
    ];
    if let Some(name) = want.get(pick.wrapping_sub(1)) {
        prop_assert!(
            graph.ids().any(|id| graph.key(id).name() == *name),
            "no {} task",
            name
        );
    }
    if pick == 10 {
        prop_assert!(
            specs
                .iter()
                .flatten()
                .any(|s| matches!(s, TaskSpec::Banded(_))),
            "no banded partial"
        );
    }
    if (18..=20).contains(&pick) {
        prop_assert!(
            specs
                .iter()
                .flatten()
                .any(|s| matches!(s, TaskSpec::Scan { .. })),
            "no scan"
        );
        if n.div_ceil(c) > 2 {
            prop_assert!(
                specs
                    .iter()
                    .flatten()
                    .any(|s| matches!(s, TaskSpec::ScanCarry { .. })),
                "no carry"
            );
        }
    }
    let mut values: Vec<floe_graph::Value> = Vec::with_capacity(graph.len());
    for (i, spec) in specs.iter().enumerate() {
        let id = floe_graph::TaskId::from_index(i);
        let spec = spec
            .as_ref()
            .unwrap_or_else(|| panic!("task {} has no spec", graph.key(id)));
        // Through JSON, as a worker receives it; blocks in memory travel as data.
        let spec = match spec.to_json() {
            Some(json) => {
                let text = json.to_string();
                let back = TaskSpec::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
                prop_assert_eq!(back.to_json().unwrap().to_string(), text);
                back
            }
            None => spec.clone(),
        };
        // Each input through bytes, as it travels between workers.
        let inputs: Vec<floe_graph::Value> = graph
            .dependencies(id)
            .iter()
            .map(|d| {
                let bytes =
                    TaskSpec::value_to_bytes(&values[d.index()]).expect("a block or a partial");
                TaskSpec::value_from_bytes(&bytes).unwrap()
            })
            .collect();
        values.push(spec.run(&inputs).unwrap());
    }
    let run = floe_scheduler::Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&graph, &outs)
        .unwrap();
    // The same dtype, shape and bits (through bytes: a block that went through bytes
    // has the standard strides where the scheduler's may have others).
    for (out, value) in outs.iter().zip(&run.values) {
        prop_assert!(value.is::<DynArray>());
        prop_assert!(
            TaskSpec::value_to_bytes(&values[out.index()]) == TaskSpec::value_to_bytes(value),
            "block of task {}: {:?} against {:?}",
            graph.key(*out),
            values[out.index()].downcast_ref::<DynArray>(),
            value.downcast_ref::<DynArray>()
        );
    }
    Ok(())
}

/// floe-array's own block functions read from elsewhere: malformed parameters, blocks
/// other than described, and flags of unknown sizes that do not fit are errors naming
/// what was wrong, never a panic or a wrong block.
#[test]
fn bad_block_function_tasks_are_errors() {
    let block = DynArray::from(ArrayD::from_elem(IxDyn(&[2, 3]), 1.0));
    let value = floe_graph::Value::new(block);
    let info = r#"{"index": [0, 0], "shape": [2, 3], "offset": [0, 0], "array_shape": [2, 3]}"#;
    let task = |op: &str, extra: &str| {
        format!(r#"{{"task": "blocks", "op": {op}, "info": {info}, "dtype": "float64"{extra}}}"#)
    };
    for (text, message) in [
        // Parameters missing or of the wrong kind, named.
        (
            task(
                r#"{"name": "array.fft", "params": {"transform": "fft"}}"#,
                "",
            ),
            "parameter `axis`",
        ),
        (
            task(
                r#"{"name": "array.fft", "params": {"transform": "dct", "axis": 0, "size": 2, "out_len": 2, "scale": "1", "single": false, "dtype": "complex128"}}"#,
                "",
            ),
            "parameter `transform`",
        ),
        // Sizes that do not follow the block are refused before anything is allocated.
        (
            task(
                r#"{"name": "array.fft", "params": {"transform": "fft", "axis": 1, "size": 4000000000000, "out_len": 3, "scale": "1", "single": false, "dtype": "complex128"}}"#,
                "",
            ),
            "a transform of 4000000000000 points",
        ),
        (
            task(
                r#"{"name": "array.histogram-partial", "params": {"samples": 1, "weighted": false, "uniform": [true], "cells": 4000000000000, "dtype": "int64"}}"#,
                "",
            ),
            "4000000000000 cells",
        ),
        (
            task(
                r#"{"name": "array.quantile-lanes", "params": {"axis": 0, "q": [0.5], "skip_nan": false, "how": "linear", "dtype": "float64"}}"#,
                "",
            ),
            "parameter `q`",
        ),
        (
            task(
                r#"{"name": "array.top", "params": {"axis": 5, "k": 1, "largest": true, "positions": false, "offsets": []}}"#,
                "",
            ),
            "along axis 5",
        ),
        // A point outside its block; blocks the function does not read.
        (
            task(
                r#"{"name": "array.vindex", "params": {"lead": 1, "which": [0, 0], "at": [[0], [7]]}}"#,
                "",
            ),
            "outside a block",
        ),
        (
            task(
                r#"{"name": "array.mask", "params": {"grid": [1, 2], "dtype": "float64"}}"#,
                "",
            ),
            "4 blocks expected, given 1",
        ),
        (
            task(r#"{"name": "array.nonzero", "params": {"k": 0}}"#, ""),
            "not int64 rows",
        ),
        // A block of another shape where every size is known.
        (
            task(r#"{"name": "array.same", "params": {}}"#, "")
                .replace(r#""shape": [2, 3]"#, r#""shape": [2, 2]"#),
            "made a float64 block of shape [2, 3]",
        ),
    ] {
        let spec = floe_array::TaskSpec::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        let Err(e) = spec.run(std::slice::from_ref(&value)) else {
            panic!("{text} ran");
        };
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    // Along an axis of unknown size the block's own size is taken; flags of the wrong
    // length are refused when read.
    let text = task(
        r#"{"name": "array.same", "params": {}}"#,
        r#", "unknown": [false, true]"#,
    )
    .replace(r#""shape": [2, 3]"#, r#""shape": [2, 2]"#)
    .replace(r#""array_shape": [2, 3]"#, r#""array_shape": [2, 2]"#);
    let spec = floe_array::TaskSpec::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
    let out = spec.run(std::slice::from_ref(&value)).unwrap();
    assert_eq!(out.downcast_ref::<DynArray>().unwrap().shape(), &[2, 3]);
    // A gather may not squeeze an axis of unknown size (its block may be empty there).
    let gather = r#"{"task": "gather", "dtype": "float64", "out_shape": [1, 3], "squeeze": [0], "unknown": [true, false], "pieces": [[0, [[0, 0, 0, 2, 1, 0, 1], [0, 0, 0, 3, 1, 0, 3]]]]}"#;
    let spec = floe_array::TaskSpec::from_json(&serde_json::from_str(gather).unwrap()).unwrap();
    let e = spec.run(std::slice::from_ref(&value)).unwrap_err();
    assert!(e.to_string().contains("cannot squeeze"), "{e}");
    for text in [
        task(r#"{"name": "array.same", "params": {}}"#, r#", "unknown": [true]"#),
        r#"{"task": "gather", "dtype": "float64", "out_shape": [2, 3], "squeeze": [], "unknown": [true], "pieces": []}"#.to_owned(),
        format!(r#"{{"task": "elementwise", "kernel": {{"kernel": "astype", "dtype": "int8"}}, "info": {info}, "perms": [null], "unknown": {{"out": [true]}}}}"#),
    ] {
        let e = floe_array::TaskSpec::from_json(&serde_json::from_str(&text).unwrap()).unwrap_err();
        assert!(e.to_string().contains("unknown"), "{text}: {e}");
    }
    // Elementwise flags that do not match the blocks they are given.
    let text = format!(
        r#"{{"task": "elementwise", "kernel": {{"kernel": "astype", "dtype": "int8"}}, "info": {info}, "perms": [null], "unknown": {{"out": [true, false], "inputs": [[true]]}}}}"#
    );
    let spec = floe_array::TaskSpec::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
    let e = spec.run(std::slice::from_ref(&value)).unwrap_err();
    assert!(e.to_string().contains("do not match"), "{e}");
}

/// Arrays made from Rust closures have no description (their tasks cannot leave the
/// process); the same blocks made by a registered block function have one.
#[test]
fn closures_have_no_description_registered_functions_do() {
    let specs_of = |a: &Array| {
        let mut builder = floe_graph::GraphBuilder::default();
        let mut l = floe_array::Lowering::recording_specs(&mut builder);
        let ids: Vec<_> = a
            .chunks()
            .block_indices()
            .map(|i| l.block(a, &i).unwrap())
            .collect();
        ids.iter()
            .map(|&id| l.spec(id).cloned())
            .collect::<Vec<_>>()
    };
    let x = floe_array::arange(0.0, 6.0, 1.0, 4, DType::F64).unwrap();
    let closure = x
        .map_blocks(&[], DType::F64, |b, _| Ok(b[0].clone()))
        .unwrap();
    assert!(specs_of(&closure).iter().all(Option::is_none));
    let m = x.filter(&x.gt_scalar(2.0).unwrap()).unwrap();
    let same = floe_array::BlockOp::new("array.same", serde_json::json!({}));
    let op = floe_array::map_blocks_op(&[&m], DType::F64, same).unwrap();
    let specs = specs_of(&op);
    assert!(
        specs
            .iter()
            .all(|s| matches!(s, Some(TaskSpec::Blocks { .. }))),
        "{specs:?}"
    );
    assert_eq!(
        crate::support::compute_unknown(&op),
        crate::support::compute_unknown(&m)
    );
}

/// `map_blocks_op` pairs the blocks an elementwise operation pairs: inputs of other
/// chunkings are rechunked to the output's, inputs of fewer axes or one block broadcast.
#[test]
fn map_blocks_op_aligns_inputs_as_elementwise_operations() {
    fn add(_: &serde_json::Value) -> Result<floe_array::GraphFn, floe_graph::TaskError> {
        Ok(std::sync::Arc::new(|b: &[&DynArray], _: &BlockInfo| {
            let (x, y) = (b[0].to_typed::<f64>(), b[1].to_typed::<f64>());
            Ok(DynArray::from(&x + &y))
        }))
    }
    floe_array::register_block_op("test.add", add);
    let op = || floe_array::BlockOp::new("test.add", serde_json::json!({}));
    let x = floe_array::arange(0.0, 12.0, 1.0, 4, DType::F64).unwrap();
    let y = floe_array::arange(0.0, 12.0, 1.0, 3, DType::F64).unwrap();
    let got = floe_array::map_blocks_op(&[&x, &y], DType::F64, op()).unwrap();
    assert_eq!(got.chunks().axis(0), x.chunks().axis(0));
    assert_eq!(compute(&got), compute(&x.add(&y).unwrap()));
    // A row of one block broadcast over a matrix's row blocks.
    let m = floe_array::ones(&[6, 4], [2_usize, 4], DType::F64).unwrap();
    let row = floe_array::arange(0.0, 4.0, 1.0, 4, DType::F64).unwrap();
    let got = floe_array::map_blocks_op(&[&m, &row], DType::F64, op()).unwrap();
    assert_eq!(compute(&got), compute(&m.add(&row).unwrap()));
}
