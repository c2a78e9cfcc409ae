//! `floe climate`: the talk's analysis of a directory of daily NetCDF files.
//!
//! ```text
//!   x = concatenate(t2m of every file, along time)      (T, lat, lon) float32
//!   mean      = x.mean(axis=0)
//!   anomaly   = x[i] - mean                             i: the talk's 1000, or the middle
//!   day_night = x[::4].mean(axis=0) - x[2::4].mean(axis=0)
//! ```
//!
//! The three results are computed in one run, so each block is read once, and drawn as
//! `mean.png`, `anomaly.png` and `day-vs-night.png`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use floe::array::{Array, ChunkSpec, DynArray, s};
use floe::scheduler::Scheduler;
use ndarray::Ix2;

use crate::maps::{self, BONE, RDBU_R};

/// What `floe climate` is asked to do (its command-line arguments).
#[derive(clap::Args)]
pub struct Options {
    /// A directory of daily NetCDF files (default: write a synthetic set first).
    #[arg(long, conflicts_with = "synthetic")]
    pub data: Option<PathBuf>,
    /// Days of synthetic data to write and analyse when no --data is given.
    #[arg(long, default_value_t = 8)]
    pub synthetic: u32,
    /// Synthetic grid as LAT,LON (the talk's quarter-degree grid is 721,1440).
    #[arg(long, default_value = "721,1440", value_parser = crate::parse_pair)]
    pub grid: (usize, usize),
    /// The variable to analyse.
    #[arg(long, default_value = "t2m")]
    pub var: String,
    /// Block shape per file, as T,LAT,LON (-1: whole axis); default: one block per file.
    #[arg(long, default_value = "-1,-1,-1", value_parser = crate::parse_chunks)]
    pub chunks: ChunkSpec,
    /// Where the maps (and the synthetic data) go.
    #[arg(long, default_value = "floe-climate")]
    pub out: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The memory budget for the results held between tasks: a size (e.g. 2GB), `auto`
    /// (half the memory available) or `none`. Within it, blocks needed later are read
    /// again or spilled to disk.
    #[arg(long, value_name = "SIZE", default_value = "auto", value_parser = crate::parse_memory_limit)]
    pub memory_limit: floe::config::MemoryLimit,
    /// Where spill files go (default: the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub spill_dir: Option<PathBuf>,
    /// Print what the analysis will do — tasks, bytes read, the peak held under the budget,
    /// what is re-read or spilled — and stop without computing.
    #[arg(long)]
    pub plan: bool,
    /// Also write the three results as .npy and NetCDF4 (.nc) files.
    #[arg(long)]
    pub save_arrays: bool,
    /// Profile the analysis: an HTML timeline (or a Chrome trace if the name ends in .json).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Draw the analysis's task graph (.svg/.png/.pdf with Graphviz, or .dot).
    #[arg(long, value_name = "FILE")]
    pub graph: Option<PathBuf>,
}

fn io_err(path: &Path, e: std::io::Error) -> floe::Error {
    floe::Error::Io(floe::io::IoError::Os {
        path: path.to_path_buf(),
        source: e,
    })
}

/// The `.nc` files of `dir`, sorted by name (dates sort chronologically).
fn netcdf_files(dir: &Path) -> Result<Vec<PathBuf>, floe::Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "nc"))
        .collect();
    files.sort();
    Ok(files)
}

fn field(a: DynArray) -> Result<ndarray::Array2<f64>, floe::Error> {
    let a = a.into_typed::<f64>();
    let shape = a.shape().to_vec();
    a.into_dimensionality::<Ix2>().map_err(|_| {
        floe::Error::Array(floe::array::ArrayError::ShapeMismatch {
            op: "map",
            left: shape,
            right: vec![],
            detail: " (a map needs a 2-D field)".into(),
        })
    })
}

/// Runs the analysis; prints what it did.
pub fn run(opts: &Options) -> Result<(), floe::Error> {
    let _progress = floe::subscribe(floe::diagnostics::ProgressBar::new());
    std::fs::create_dir_all(&opts.out).map_err(|e| io_err(&opts.out, e))?;
    let mut cfg = floe::Config::default();
    if let Some(t) = opts.threads {
        cfg = cfg.threads(t);
    }
    cfg.memory_limit = opts.memory_limit;
    if let Some(dir) = &opts.spill_dir {
        cfg = cfg.spill_dir(dir);
    }
    floe::config::set(cfg.clone());

    let dir = match &opts.data {
        Some(d) => d.clone(),
        None => {
            let dir = opts.out.join("data");
            let (lat, lon) = opts.grid;
            eprintln!(
                "writing {} days of synthetic data ({lat}×{lon} grid) to {}",
                opts.synthetic,
                dir.display()
            );
            let t = Instant::now();
            crate::synthetic::generate(&dir, opts.synthetic, lat, lon)?;
            eprintln!("  done in {:.2} s", t.elapsed().as_secs_f64());
            dir
        }
    };
    let files = netcdf_files(&dir)?;
    if files.is_empty() {
        return Err(floe::Error::Io(floe::io::IoError::Format {
            path: dir,
            format: "NetCDF",
            reason: "the directory has no .nc files".into(),
        }));
    }
    let x: Array = floe::io::open_mfnetcdf(&files, &opts.var, opts.chunks.clone())?;
    println!("{} files: {x}", files.len());
    let t_len = x.shape()[0];
    let i = if t_len > 1000 { 1000 } else { t_len / 2 };
    let mean = x.mean(0)?;
    let anomaly = x.slice(&s![i as isize])?.sub(&mean)?;
    let day_night = x
        .slice(&s![..;4])?
        .mean(0)?
        .sub(&x.slice(&s![2..;4])?.mean(0)?)?;

    if opts.plan {
        println!("{}", floe::plan(&(&mean, &anomaly, &day_night))?);
        return Ok(());
    }
    if let Some(path) = &opts.graph {
        let options = floe::diagnostics::DotOptions {
            color: floe::diagnostics::Color::Order,
            ..Default::default()
        };
        match floe::visualize(&(&mean, &anomaly, &day_night), path, &options) {
            Ok(p) => println!("task graph drawn to {}", p.display()),
            // Without Graphviz the DOT source is written instead: say so, carry on.
            Err(floe::Error::Visualize(e)) => eprintln!("floe: {e}"),
            Err(e) => return Err(e),
        }
    }
    let profiling = opts.profile.as_ref().map(|_| floe::profile());
    // A scheduler made now carries the profiler (subscribers are taken when it is built).
    // (The synthetic data above was written with the process-wide settings.)
    let scheduler: Scheduler = cfg.scheduler()?;
    let t = Instant::now();
    let ((m, a, d), stats) = floe::compute_with((&mean, &anomaly, &day_night), &scheduler)?;
    let compute_s = t.elapsed().as_secs_f64();
    if let (Some(p), Some(path)) = (&profiling, &opts.profile) {
        p.write(path, &format!("floe climate: {} files", files.len()))
            .map_err(|e| io_err(path, e))?;
        println!("profile written to {}", path.display());
    }
    println!(
        "computed mean, anomaly (x[{i}] - mean) and day - night in {compute_s:.2} s: {} tasks on {} threads, peak {} held",
        stats.tasks,
        stats.threads,
        floe::array::human_bytes(stats.peak_bytes)
    );
    if opts.save_arrays {
        for (name, arr) in [("mean", &m), ("anomaly", &a), ("day-vs-night", &d)] {
            let lazy = floe::array::from_ndarray(arr.clone().into_typed::<f64>(), "auto")?;
            floe::io::store_npy(&lazy, opts.out.join(format!("{name}.npy")))?;
            let nc = floe::io::NetcdfOptions::dims(["latitude", "longitude"])
                .attribute("units", "K")
                .attribute("source", "floe climate");
            floe::io::store_netcdf(&lazy, opts.out.join(format!("{name}.nc")), name, &nc)?;
        }
    }

    let (m, a, d) = (field(m)?, field(a)?, field(d)?);
    let (lo, hi) = maps::range(m.view());
    let a_max = {
        let (lo, hi) = maps::range(a.view());
        lo.abs().max(hi.abs())
    };
    let d_max = {
        let (lo, hi) = maps::range(d.view());
        lo.abs().max(hi.abs())
    };
    let var = &opts.var;
    let images = [
        (
            "mean.png",
            maps::render(m.view(), &BONE, lo, hi, &format!("{var}.mean(axis=0)"), "K"),
        ),
        (
            "anomaly.png",
            maps::render(
                a.view(),
                &RDBU_R,
                -a_max,
                a_max,
                &format!("{var}[{i}] - {var}.mean(axis=0)"),
                "K",
            ),
        ),
        (
            "day-vs-night.png",
            maps::render(
                d.view(),
                &RDBU_R,
                -d_max,
                d_max,
                &format!("{var}[::4].mean(0) - {var}[2::4].mean(0)"),
                "K",
            ),
        ),
    ];
    for (name, img) in &images {
        let path = opts.out.join(name);
        img.save(&path)
            .map_err(|e| io_err(&path, std::io::Error::other(e)))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
