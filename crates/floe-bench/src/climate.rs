//! The talk's climate analysis over a directory of daily NetCDF files — the workload of
//! `shared/bench/w1_climate.py` (make the data with `gen_climate.py --days 120`).
//!
//! Cases `{cfile,c200}_{mean,anom,diff}`: one block per file or (4, 200, 200) blocks;
//! `mean` is `x.mean(axis=0)`, `anom` is `x[100] - x.mean(axis=0)`, `diff` is
//! `x[::4].mean(0) - x[2::4].mean(0)`; `cfile_all` computes the three together;
//! `read_floor` reads every file's bytes once on one thread (the disk/page-cache floor).

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use floe::array::{Array, AxisChunks, ChunkSpec, s};

use crate::report::Record;

pub const CASES: &[&str] = &[
    "cfile_mean",
    "cfile_anom",
    "cfile_diff",
    "cfile_all",
    "c200_mean",
    "c200_anom",
    "c200_diff",
    "read_floor",
];

fn files(ctx: &crate::Ctx) -> Result<Vec<PathBuf>, String> {
    let dir = ctx
        .data
        .as_ref()
        .ok_or("the climate workload needs --data DIR (see gen_climate.py)")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "nc"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no .nc files", dir.display()));
    }
    Ok(files)
}

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let files = files(ctx)?;
    let bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut r = Record::new("climate", case);
    r.set("files", files.len()).set("bytes", bytes);
    if case == "read_floor" {
        let t = Instant::now();
        let mut buf = vec![0_u8; 16 << 20];
        for f in &files {
            let mut file = std::fs::File::open(f).map_err(|e| e.to_string())?;
            while file.read(&mut buf).map_err(|e| e.to_string())? > 0 {}
        }
        r.secs("wall_s", t.elapsed().as_secs_f64())
            .set("threads", 1);
        r.print();
        return Ok(());
    }
    let (chunking, op) = case.split_once('_').ok_or("bad case")?;
    let chunks = match chunking {
        "cfile" => ChunkSpec::Axes(vec![AxisChunks::Whole; 3]),
        "c200" => ChunkSpec::from([4_usize, 200, 200]),
        other => return Err(format!("unknown chunking {other}")),
    };
    let t0 = Instant::now();
    let err = |e: floe::Error| e.to_string();
    let x = floe::io::open_mfnetcdf(&files, "t2m", chunks).map_err(|e| e.to_string())?;
    let mean = || x.mean(0);
    let anom = || x.slice(&s![100])?.sub(&mean()?);
    let diff = || {
        x.slice(&s![..;4])?
            .mean(0)?
            .sub(&x.slice(&s![2..;4])?.mean(0)?)
    };
    let outputs: Vec<Array> = match op {
        "mean" => vec![mean()],
        "anom" => vec![anom()],
        "diff" => vec![diff()],
        "all" => vec![mean(), anom(), diff()],
        other => return Err(format!("unknown operation {other}")),
    }
    .into_iter()
    .collect::<Result<_, _>>()
    .map_err(|e| e.to_string())?;
    let build = t0.elapsed();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (values, stats) = floe::compute_with(&outputs, &scheduler).map_err(err)?;
    let exec = t1.elapsed();
    let checksum: f64 = values
        .iter()
        .map(|v| v.clone().into_typed::<f64>().sum())
        .sum();
    r.run(scheduler.threads(), &stats, build, exec)
        .set("checksum", checksum);
    r.print();
    Ok(())
}
