//! File reads as data: every task of an expression over NetCDF, `.npy` and Zarr files is
//! written down as a spec, read back from JSON and run by the registered readers — a
//! fresh reader opened from the description, as a dask worker opens it — giving the very
//! blocks the local graph computes; a file changed since fails the read, naming it.

use floe_array::{Array, Lowering, TaskSpec};
use floe_graph::{GraphBuilder, TaskId, Value};
use floe_io::{from_npy, from_zarr, open_mfnetcdf, open_netcdf, to_npy};
use floe_scheduler::Scheduler;

use crate::{Scratch, compute, fixture};

/// An output block's bytes computed from the specs, and from the local graph.
type Pair = (Vec<u8>, Vec<u8>);

/// Runs every task of `e`'s graph from its spec (through JSON, inputs through bytes) in
/// order, with readers opened afresh, and returns the output blocks' bytes next to the
/// scheduler's.
fn through_specs(e: &Array) -> Result<Vec<Pair>, floe_graph::TaskError> {
    // Opened again from the descriptions, as on a worker.
    floe_array::close_readers();
    through_specs_kept(e)
}

/// [`through_specs`] with the readers this process keeps open.
fn through_specs_kept(e: &Array) -> Result<Vec<Pair>, floe_graph::TaskError> {
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
                    .unwrap_or_else(|| panic!("task {i} has no spec"))
            })
            .collect();
        (outs, specs)
    };
    let graph = builder.build();
    let mut values: Vec<Value> = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let id = TaskId::from_index(i);
        let text = spec.to_json().expect("no blocks in memory").to_string();
        let back = TaskSpec::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        let inputs: Vec<Value> = graph
            .dependencies(id)
            .iter()
            .map(|d| {
                let bytes = TaskSpec::value_to_bytes(&values[d.index()]).unwrap();
                TaskSpec::value_from_bytes(&bytes).unwrap()
            })
            .collect();
        values.push(back.run(&inputs)?);
    }
    let run = Scheduler::builder()
        .threads(2)
        .build()
        .unwrap()
        .run(&graph, &outs)
        .unwrap();
    Ok(outs
        .iter()
        .zip(&run.values)
        .map(|(o, v)| {
            (
                TaskSpec::value_to_bytes(&values[o.index()]).unwrap(),
                TaskSpec::value_to_bytes(v).unwrap(),
            )
        })
        .collect())
}

fn same_through_specs(e: &Array, what: &str) {
    for (i, (remote, local)) in through_specs(e).unwrap().into_iter().enumerate() {
        assert!(remote == local, "{what}: output block {i} differs");
    }
}

#[test]
fn netcdf_reads_run_from_their_descriptions() {
    let days: Vec<_> = ["day0.nc", "day1.nc", "day2.nc"]
        .iter()
        .map(|n| fixture(n))
        .collect();
    let x = open_mfnetcdf(&days, "t2m", [4_usize, 5, 12]).unwrap();
    let mean = x.mean(0).unwrap();
    // The talk's expressions: the mean over time, an anomaly, day minus night.
    same_through_specs(&mean, "mean over time");
    same_through_specs(
        &x.slice(&floe_array::s![5]).unwrap().sub(&mean).unwrap(),
        "anomaly",
    );
    let day = x.slice(&floe_array::s![..;4]).unwrap().mean(0).unwrap();
    let night = x.slice(&floe_array::s![2..;4]).unwrap().mean(0).unwrap();
    same_through_specs(&day.sub(&night).unwrap(), "day - night");
    // Chunked and deflated, packed integers (the general reader), rechunked.
    for (file, chunks) in [("chunked.nc", [3_usize, 5, 7]), ("packed.nc", [2, 9, 5])] {
        let v = open_netcdf(fixture(file), "t2m", chunks).unwrap();
        same_through_specs(&v, file);
        same_through_specs(&v.max(1).unwrap().rechunk([1_usize, 12]).unwrap(), file);
    }
}

#[test]
fn npy_and_zarr_reads_run_from_their_descriptions() {
    for (file, chunks) in [("f8_5x7.npy", [2_usize, 3]), ("f4_fortran_4x6.npy", [3, 4])] {
        let x = from_npy(fixture(file), chunks).unwrap();
        same_through_specs(&x, file);
        same_through_specs(&x.sum(0).unwrap(), file);
        same_through_specs(&x.t().mul_scalar(2.0).unwrap(), file);
    }
    for store in ["v2.zarr", "v3.zarr", "gzip_v3.zarr", "be_v2.zarr"] {
        let x = from_zarr(fixture(store), 2).unwrap();
        same_through_specs(&x, store);
    }
}

#[test]
fn a_file_changed_since_the_graph_was_made_fails_naming_it() {
    let dir = Scratch::new("spec-changed");
    let path = dir.0.join("x.npy");
    let x = floe_array::arange(0.0, 40.0, 1.0, 10, floe_array::DType::F64).unwrap();
    compute(&to_npy(&x, &path).unwrap()).unwrap();
    let y = from_npy(&path, 10).unwrap().mul_scalar(3.0).unwrap();
    same_through_specs(&y, "before");
    // Rewritten with other values: the description no longer holds, though the reader
    // opened before is still kept.
    let z = floe_array::arange(1.0, 51.0, 1.0, 10, floe_array::DType::F64).unwrap();
    compute(&to_npy(&z, &path).unwrap()).unwrap();
    let e = through_specs_kept(&y).unwrap_err().to_string();
    assert!(
        e.contains("x.npy") && e.contains("changed since the graph was made"),
        "{e}"
    );
    let e = through_specs(&y).unwrap_err().to_string();
    assert!(
        e.contains("x.npy") && e.contains("changed since the graph was made"),
        "{e}"
    );
    // Removed: an error naming the file, not a panic.
    std::fs::remove_file(&path).unwrap();
    let e = through_specs(&y).unwrap_err().to_string();
    assert!(e.contains("x.npy"), "{e}");
}

#[test]
fn a_zarr_store_rewritten_since_fails_naming_it() {
    let dir = Scratch::new("spec-zarr");
    let store = dir.0.join("x.zarr");
    let x = floe_array::arange(0.0, 40.0, 1.0, 10, floe_array::DType::F64).unwrap();
    compute(&floe_io::to_zarr(&x, &store).unwrap()).unwrap();
    let y = from_zarr(&store, 10).unwrap();
    same_through_specs(&y, "before");
    let _ = std::fs::remove_dir_all(&store);
    // Another shape: its metadata document differs in size, whatever the clock's grain.
    let z = floe_array::arange(0.0, 1000.0, 1.0, 100, floe_array::DType::F64).unwrap();
    compute(&floe_io::to_zarr(&z, &store).unwrap()).unwrap();
    let e = through_specs_kept(&y).unwrap_err().to_string();
    assert!(e.contains("x.zarr") && e.contains("changed since"), "{e}");
}

#[test]
fn malformed_read_descriptions_give_task_errors() {
    floe_io::register_readers();
    let info = floe_array::BlockInfo {
        index: vec![0],
        shape: vec![2],
        offset: vec![0],
        array_shape: vec![4],
    };
    let day0 = fixture("day0.nc");
    let meta = std::fs::metadata(&day0).unwrap();
    let modified = meta
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let day0 = std::path::absolute(&day0).unwrap();
    let params = |var: &str| serde_json::json!({"path": day0.to_str().unwrap(), "bytes": meta.len(), "modified": modified, "var": var});
    for (reader, params, dtype, expect) in [
        (
            "netcdf",
            serde_json::json!({}),
            floe_array::DType::F32,
            "incomplete",
        ),
        (
            "netcdf",
            params("nope"),
            floe_array::DType::F32,
            "no variable `nope`",
        ),
        // The file's variable is not the array the task reads.
        (
            "netcdf",
            params("t2m"),
            floe_array::DType::F32,
            "finds float32 of shape [4, 9, 12] where the task reads float32 of shape [4]",
        ),
        (
            "netcdf",
            params("t2m"),
            floe_array::DType::F64,
            "where the task reads float64",
        ),
        (
            "hdf9",
            params("t2m"),
            floe_array::DType::F32,
            "no reader `hdf9`",
        ),
    ] {
        let source = floe_array::Source::read(reader, params, dtype);
        let e = source.make(&info).unwrap_err().to_string();
        assert!(e.contains(expect), "{reader}: {e}");
    }
}
