//! Larger-than-memory work in a fixed budget: `x - x.mean(axis=0)` written to `.npy` and
//! to Zarr, `x.std(axis=0)` and the streaming `x.mean()`, over a float64 Zarr store (`--data`,
//! e.g. the one `shared/bench/w7_anomaly.py --case write` or `w5_zarr.py --case write`
//! makes) — the workloads of `shared/bench/w7_anomaly.py` and `w5_zarr.py`. Run with
//! `--memory-limit 512MB` (or `2GB` for the 32 GB store) and `--drop-caches`.
//! `mean0` (`x.mean(axis=0)`) is the compressed-store case, over the zstd store of
//! `scripts/bench/zarr_zstd.py --case write`.
//! floe's Zarr writer compresses (zstd), so `anomaly_zarr` also measures compression.

use std::path::{Path, PathBuf};
use std::time::Instant;

use floe::array::{Array, ArrayCompute, Axes};

use crate::report::Record;

pub const CASES: &[&str] = &["anomaly_npy", "anomaly_zarr", "std0", "mean", "mean0"];

/// The block size read (`FLOE_BENCH_BLOCK`, default 32MB).
const BLOCK_DEFAULT: &str = "32MB";

fn store(ctx: &crate::Ctx) -> Result<PathBuf, String> {
    ctx.data
        .clone()
        .ok_or_else(|| "the bounded workload needs --data PATH (a Zarr store)".to_string())
}

/// A scratch directory beside the store for the outputs, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(store: &Path) -> Result<Self, String> {
        let dir = store.with_extension("floe-out");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let err = |e: floe::Error| e.to_string();
    let path = store(ctx)?;
    let scheduler = ctx.scheduler()?;
    let t0 = Instant::now();
    // Blocks of about 32 MB in whole stored chunks: the W5/W7 stores' chunks (4000 × 1000
    // float64), as Dask reads them; one chunk where a chunk is larger (the zstd store's).
    let block = std::env::var("FLOE_BENCH_BLOCK").unwrap_or_else(|_| BLOCK_DEFAULT.into());
    let x = floe::io::from_zarr(&path, block.as_str()).map_err(|e| e.to_string())?;
    let scratch = Scratch::new(&path)?;
    let (expr, target): (&str, Array) = match case {
        "anomaly_npy" | "anomaly_zarr" => {
            let y = x
                .sub(&x.mean(0).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            if case == "anomaly_npy" {
                let sink =
                    floe::io::to_npy(&y, scratch.0.join("y.npy")).map_err(|e| e.to_string())?;
                ("x - x.mean(axis=0) -> .npy", sink)
            } else {
                let sink =
                    floe::io::to_zarr(&y, scratch.0.join("y.zarr")).map_err(|e| e.to_string())?;
                ("x - x.mean(axis=0) -> zarr", sink)
            }
        }
        "std0" => ("x.std(axis=0)", x.std(0, 0).map_err(|e| e.to_string())?),
        "mean" => ("x.mean()", x.mean(Axes::All).map_err(|e| e.to_string())?),
        "mean0" => ("x.mean(axis=0)", x.mean(0).map_err(|e| e.to_string())?),
        other => {
            return Err(format!(
                "unknown case `{other}`; known: {}",
                CASES.join(", ")
            ));
        }
    };
    let build = t0.elapsed();
    let (graph, outputs) = floe::graph(&target).map_err(err)?;
    let order = floe::graph::order(&graph, &outputs);
    let plan = floe::scheduler::plan(&graph, &outputs, &order, scheduler.memory_limit())
        .map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let (_, stats) = target.compute_with(&scheduler).map_err(err)?;
    let exec = t1.elapsed();
    let mut r = Record::new("bounded", case);
    r.set("expr", expr)
        .set("shape", format!("{:?}", x.shape()))
        .set("chunks", format!("{:?}", x.chunks().max_block()))
        .set("bytes", x.nbytes())
        .run(scheduler.threads(), &stats, build, exec)
        .set("memory_limit", stats.memory_limit.unwrap_or(0))
        .set("spilled_bytes", stats.spilled_bytes)
        .set("recomputed_bytes", stats.recomputed_bytes)
        .set("planned_peak_bytes", plan.peak_bytes);
    r.print();
    Ok(())
}
