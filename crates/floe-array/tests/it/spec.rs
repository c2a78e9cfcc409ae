//! Kernels as data: every elementwise operation's kernel survives JSON, and the kernel
//! read back computes, from the input blocks, the very block the array computes.

use floe_array::{Array, BinaryOp, BlockInfo, BlockRef, DType, DynArray, Kernel, Scalar, UnaryOp};
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
        let e = spec(&text).run(&[&block]).unwrap_err();
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
        let e = spec(text).run(&[&block]).unwrap_err();
        assert!(e.to_string().contains(message), "{text}: {e}");
    }
    let huge = spec(
        r#"{"task": "full", "value": "0", "dtype": "float64", "shape": [4294967296, 4294967296]}"#,
    );
    assert!(huge.run(&[]).unwrap_err().to_string().contains("too large"));
    // A permutation that fits runs.
    let ok = spec(&format!(
        r#"{{"task": "elementwise", "kernel": {{"kernel": "astype", "dtype": "int8"}}, "info": {info}, "perms": [[1, 0]]}}"#
    ));
    assert_eq!(ok.run(&[&block]).unwrap().shape(), &[3, 2]);
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

    /// Graphs of blocks in memory, constants, elementwise kernels, transposes and
    /// reshapes, lowered with specs recorded: every task has one, and running each task
    /// from its JSON alone (a block in memory as data), in graph order, gives every block
    /// the scheduler computes, to the bit.
    #[test]
    fn graphs_run_from_their_specs_alone(
        n in 2_usize..9,
        c in 1_usize..5,
        pick in 0_usize..10,
        seed in any::<u64>(),
    ) {
        let c = c.min(n);
        let x = held(&block(&[n, n], DType::F64, seed), (c, c));
        let f = floe_array::full(&[n, n], [c, c], 0.5, DType::F32).unwrap();
        let e = match pick {
            0 => x.add(&f.t()).unwrap().mul_scalar(2.0).unwrap(),
            1 => Array::where_(&x.gt_scalar(0.0).unwrap(), &x.t(), &f).unwrap().sqrt().unwrap(),
            2 => x.astype(DType::F32).sub(&x.t()).unwrap().abs().unwrap(),
            3 => x.t(),
            // Three axes: a permutation that is not its own inverse, as a view inside an
            // elementwise operation and as a task of its own.
            5 => whole(&block(&[n, 3, 2], DType::F64, seed))
                .permute(&[2, 0, 1])
                .unwrap()
                .add(&whole(&block(&[2, n, 3], DType::F64, seed ^ 3)))
                .unwrap(),
            6 => whole(&block(&[n, 3, 2], DType::F64, seed)).permute(&[2, 0, 1]).unwrap(),
            // Gathers: a strided slice with an integer index, a rechunk, a concatenation.
            7 => x.slice(&floe_array::s![..;-2, 1..]).unwrap().slice(&floe_array::s![.., 0]).unwrap(),
            8 => x.rechunk([c + 1, (c + 2).min(n)]).unwrap(),
            9 => floe_array::concatenate(&[x.clone(), x.t().mul_scalar(2.0).unwrap()], 1).unwrap(),
            _ => held(&block(&[n, n], DType::F64, seed), (c, n))
                .reshape(&[-1])
                .unwrap()
                .mul_scalar(-1.0)
                .unwrap(),
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
        let want = ["where", "subtract", "transpose", "reshape", "add", "transpose"];
        if let Some(name) = want.get(pick.wrapping_sub(1)) {
            prop_assert!(graph.ids().any(|id| graph.key(id).name() == *name), "no {} task", name);
        }
        let mut values: Vec<DynArray> = Vec::with_capacity(graph.len());
        for (i, spec) in specs.iter().enumerate() {
            let id = floe_graph::TaskId::from_index(i);
            let spec = spec.as_ref().unwrap_or_else(|| panic!("task {} has no spec", graph.key(id)));
            // Through JSON, as a worker receives it; blocks in memory travel as data.
            let spec = match spec.to_json() {
                Some(json) => floe_array::TaskSpec::from_json(&serde_json::from_str(&json.to_string()).unwrap()).unwrap(),
                None => spec.clone(),
            };
            let inputs: Vec<&DynArray> = graph.dependencies(id).iter().map(|d| &values[d.index()]).collect();
            values.push(spec.run(&inputs).unwrap());
        }
        let run = floe_scheduler::Scheduler::builder().threads(2).build().unwrap().run(&graph, &outs).unwrap();
        for (out, value) in outs.iter().zip(&run.values) {
            let want = value.downcast_ref::<DynArray>().unwrap();
            prop_assert_eq!(format!("{:?}", values[out.index()]), format!("{want:?}"), "block of task {}", graph.key(*out));
        }
    }
}
