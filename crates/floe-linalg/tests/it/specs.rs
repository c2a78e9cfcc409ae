//! The blocked algorithms as data: every task of TSQR (recursing), QR of a short-and-fat
//! array, SVD, `svd_compressed` and grouped matrix products has a spec, and running each
//! task from its JSON alone (its inputs through bytes, in graph order) gives the very
//! blocks the scheduler computes.

use floe_array::{Array, Lowering, TaskSpec};
use floe_graph::{GraphBuilder, TaskId, Value};
use floe_scheduler::Scheduler;

use ndarray::Array2;

use crate::{lazy, matrix};

/// Each output block of `e`, computed from the specs and by the scheduler, as bytes.
fn both_ways(e: &Array) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut builder = GraphBuilder::default();
    let indices: Vec<Vec<usize>> = e.chunks().block_indices().collect();
    let (outs, specs) = {
        let mut l = Lowering::recording_specs(&mut builder);
        let outs: Vec<TaskId> = indices.iter().map(|i| l.block(e, i).unwrap()).collect();
        let n = outs.iter().map(|o| o.index() + 1).max().unwrap_or(0);
        let specs: Vec<TaskSpec> = (0..n)
            .map(|i| {
                l.spec(TaskId::from_index(i))
                    .cloned()
                    .unwrap_or_else(|| panic!("task {i} of `{}` has no spec", e.name()))
            })
            .collect();
        (outs, specs)
    };
    let graph = builder.build();
    let mut values: Vec<Value> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let id = TaskId::from_index(i);
        // Through JSON, as a worker receives it (blocks in memory travel as data).
        let spec = match spec.to_json() {
            Some(json) => TaskSpec::from_json(&json).unwrap(),
            None => spec.clone(),
        };
        let inputs: Vec<Value> = graph
            .dependencies(id)
            .iter()
            .map(|d| {
                let bytes = TaskSpec::value_to_bytes(&values[d.index()]).unwrap();
                TaskSpec::value_from_bytes(&bytes).unwrap()
            })
            .collect();
        values.push(
            spec.run(&inputs)
                .unwrap_or_else(|e| panic!("{}: {e}", graph.key(id))),
        );
    }
    let run = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&graph, &outs)
        .unwrap();
    outs.iter()
        .zip(&run.values)
        .map(|(o, v)| {
            (
                TaskSpec::value_to_bytes(&values[o.index()]).unwrap(),
                TaskSpec::value_to_bytes(v).unwrap(),
            )
        })
        .collect()
}

fn same(e: &Array, what: &str) {
    for (i, (specs, local)) in both_ways(e).into_iter().enumerate() {
        assert!(specs == local, "{what}: block {i} differs");
    }
}

#[test]
fn linear_algebra_runs_from_its_specs() {
    // Tall, in enough row blocks for TSQR to recurse.
    let tall = lazy(&matrix(600, 6, 1), [10, 6]);
    let (q, r) = floe_linalg::tsqr(&tall).unwrap();
    same(&q, "tsqr q");
    same(&r, "tsqr r");
    let (q, r) = floe_linalg::tsqr(&lazy(&matrix(40, 5, 2), [40, 5])).unwrap();
    same(&q.add(&q).unwrap(), "one-block tsqr q");
    same(&r, "one-block tsqr r");
    let (q, r) = floe_linalg::qr(&lazy(&matrix(4, 30, 3), [4, 7])).unwrap();
    same(&q, "short-and-fat q");
    same(&r, "short-and-fat r");
    let (u, s, v) = floe_linalg::svd(&lazy(&matrix(200, 8, 4), [50, 8])).unwrap();
    for (x, what) in [(&u, "svd u"), (&s, "svd s"), (&v, "svd v")] {
        same(x, what);
    }
    // Randomized, over a generator (made again for each pass) and over data in memory.
    let generated = floe_array::random::uniform(&[300, 120], [60_usize, 40], 5, 0.0, 1.0).unwrap();
    for a in [generated, lazy(&matrix(120, 90, 6), [40, 30])] {
        let (u, s, v) = floe_linalg::svd_compressed(&a, 5, 1, 5, 11).unwrap();
        for (x, what) in [
            (&u, "compressed u"),
            (&s, "compressed s"),
            (&v, "compressed v"),
        ] {
            same(x, what);
        }
    }
    // Solvers: LU solves (a vector through expand_dims), the inverse, Cholesky, least
    // squares and its rank.
    let sq = lazy(&(matrix(12, 12, 9) + Array2::<f64>::eye(12) * 12.0), [4, 4]);
    let rhs = floe_array::random::uniform(&[12], [4_usize], 3, 0.0, 1.0).unwrap();
    same(&floe_linalg::solve(&sq, &rhs).unwrap(), "solve");
    same(&floe_linalg::inv(&sq).unwrap(), "inv");
    let spd = floe_linalg::matmul(&sq, &sq.t()).unwrap();
    same(&floe_linalg::cholesky(&spd).unwrap(), "cholesky");
    let long = floe_array::random::uniform(&[60], [15_usize], 4, 0.0, 1.0).unwrap();
    let fit = floe_linalg::lstsq(&lazy(&matrix(60, 4, 10), [15, 4]), &long).unwrap();
    same(&fit.x, "lstsq x");
    same(&fit.rank, "lstsq rank");
    // A product summed over groups of block pairs (many blocks along the summed axis).
    let a = lazy(&matrix(30, 400, 7), [15, 10]);
    let b = lazy(&matrix(400, 20, 8), [10, 20]);
    same(&floe_linalg::matmul(&a, &b).unwrap(), "grouped product");
}

#[test]
fn a_block_function_given_other_blocks_fails_its_task() {
    // TSQR's Q task given one block where it reads two, and rows outside its block.
    let info = r#"{"index": [0, 0], "shape": [2, 2], "offset": [0, 0], "array_shape": [2, 2]}"#;
    let block = Value::new(floe_array::DynArray::from(ndarray::ArrayD::from_elem(
        ndarray::IxDyn(&[2, 2]),
        1.0,
    )));
    floe_linalg::register_block_ops();
    for (op, message) in [
        (
            r#"{"name": "linalg.tsqr-q", "params": {"group": 2, "n": 2}}"#,
            "reads two blocks",
        ),
        (
            r#"{"name": "linalg.tsqr-q", "params": {"group": 0, "n": 2}}"#,
            "group of no block",
        ),
        (
            r#"{"name": "linalg.rows", "params": {"from": 1, "to": 5}}"#,
            "rows 1..5 of a block of 2 rows",
        ),
        (
            r#"{"name": "linalg.rows", "params": {"last": 3}}"#,
            "rows at the end of a block of 2 rows",
        ),
        (
            r#"{"name": "linalg.rows", "params": {"from": -1, "to": 1}}"#,
            "no size `from`",
        ),
        (r#"{"name": "linalg.svd-u", "params": {}}"#, "no size `n`"),
        (
            r#"{"name": "linalg.svd-u", "params": {"n": 1}}"#,
            "reads two blocks",
        ),
        (
            r#"{"name": "linalg.svd-s", "params": {"n": 7}}"#,
            "rows 7..8 of a block of shape [2, 2]",
        ),
        (
            r#"{"name": "linalg.matmul", "params": {}}"#,
            "from 1 blocks",
        ),
        (
            r#"{"name": "linalg.nope", "params": {}}"#,
            "no block function `linalg.nope`",
        ),
        (
            r#"{"name": "linalg.qr-q", "params": {}}"#,
            "of shape [2, 2] where float32",
        ),
    ] {
        let dtype = if op.contains("qr-q") {
            "float32"
        } else {
            "float64"
        };
        let text =
            format!(r#"{{"task": "blocks", "op": {op}, "info": {info}, "dtype": "{dtype}"}}"#);
        let spec = TaskSpec::from_json(&floe_array::serde_json::from_str(&text).unwrap()).unwrap();
        let e = spec
            .run(std::slice::from_ref(&block))
            .unwrap_err()
            .to_string();
        assert!(e.contains(message), "{op}: {e}");
    }
}
