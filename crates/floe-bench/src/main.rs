//! `floe-bench`: runs floe's canonical workloads and prints one JSON line per measurement.
//!
//! ```text
//! cargo run --release -p floe-bench -- overhead [--case NAME]... [--reps N] [--threads N]
//! cargo run --release -p floe-bench -- overhead --list
//! cargo run --release -p floe-bench -- elementwise [--case ones|random]
//! cargo run --release -p floe-bench -- climate --data DIR [--case cfile_mean] [--drop-caches]
//! cargo run --release -p floe-bench -- linalg [--case svd_tall]
//! cargo run --release -p floe-bench -- bounded --data STORE.zarr --memory-limit 512MB --drop-caches
//! cargo run --release -p floe-bench -- dataframe --data DIR [--case csv_name|pq_id|pq_filter]
//! ```
//!
//! Every measurement runs in a fresh child process, so `peak_rss_mb` is that measurement's
//! own peak (as in `shared/bench/benchlib.py`).

mod bounded;
mod climate;
mod dataframe;
mod elementwise;
mod linalg;
mod overhead;
mod report;
mod scan;

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

/// Large blocks are allocated and freed all the time; mimalloc keeps their pages mapped
/// between uses instead of returning them to the kernel and faulting them in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "floe-bench",
    about = "floe's benchmark workloads, as JSON lines"
)]
struct Cli {
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Subcommand)]
enum Workload {
    /// Scheduler overhead: many tiny tasks, graph build and ordering time.
    Overhead(CaseArgs),
    /// `(x + x.T).mean(axis=0)` on a 20000² float64 array in 2000² blocks.
    Elementwise(CaseArgs),
    /// The talk's climate analysis over a directory of daily NetCDF files (`--data DIR`).
    Climate(CaseArgs),
    /// SVDs: TSQR of a tall array, randomized SVD, the talk's examples.
    Linalg(CaseArgs),
    /// Larger than memory: `x - x.mean(0)` written out, `std(0)`, `mean()` over a Zarr store
    /// (`--data`) within `--memory-limit`.
    Bounded(CaseArgs),
    /// Blocked scans: `cumsum` along each axis against `sum` on a 20000² float64 array.
    Scan(CaseArgs),
    /// Dataframes: group-by and filter queries over gen_table.py's CSV and Parquet
    /// (`--data DIR`).
    Dataframe(CaseArgs),
}

#[derive(clap::Args)]
struct CaseArgs {
    /// Case to run (repeatable); default: all.
    #[arg(long = "case")]
    cases: Vec<String>,
    /// Repetitions of each case.
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// Input data directory (the climate workload's daily NetCDF files).
    #[arg(long)]
    data: Option<std::path::PathBuf>,
    /// List the cases and exit.
    #[arg(long)]
    list: bool,
    /// Drop the page cache before every repetition (cold reads; needs root).
    #[arg(long)]
    drop_caches: bool,
    /// Run with the profiler subscribed (to measure its overhead).
    #[arg(long)]
    profile: bool,
    /// The scheduler's memory budget: a size (e.g. "600MB"), "auto" (half the memory
    /// available, what users get by default) or "none".
    #[arg(long, default_value = "auto")]
    memory_limit: String,
    /// Run one repetition of one case in this process (used by the parent).
    #[arg(long, hide = true)]
    child: bool,
}

fn parse_memory_limit(s: &str) -> Result<floe::config::MemoryLimit, String> {
    floe::config::MemoryLimit::parse(s).ok_or_else(|| format!("cannot read {s:?} as a size"))
}

/// Writes dirty pages back and empties the page cache, so the next run reads from disk.
fn drop_caches() -> Result<(), String> {
    Command::new("sync")
        .status()
        .map_err(|e| format!("sync: {e}"))?;
    std::fs::write("/proc/sys/vm/drop_caches", "3")
        .map_err(|e| format!("cannot drop the page cache (root needed): {e}"))
}

fn main() -> ExitCode {
    match Cli::parse().workload {
        Workload::Overhead(args) => drive("overhead", overhead::CASES, overhead::run, &args),
        Workload::Elementwise(args) => {
            drive("elementwise", elementwise::CASES, elementwise::run, &args)
        }
        Workload::Climate(args) => drive("climate", climate::CASES, climate::run, &args),
        Workload::Linalg(args) => drive("linalg", linalg::CASES, linalg::run, &args),
        Workload::Bounded(args) => drive("bounded", bounded::CASES, bounded::run, &args),
        Workload::Scan(args) => drive("scan", scan::CASES, scan::run, &args),
        Workload::Dataframe(args) => drive("dataframe", dataframe::CASES, dataframe::run, &args),
    }
}

/// What a case is run with.
pub struct Ctx {
    /// Worker threads (default: one per core).
    pub threads: Option<usize>,
    /// Input data directory, for workloads that read files.
    pub data: Option<std::path::PathBuf>,
    /// Whether runs are profiled.
    pub profile: bool,
    /// The scheduler's memory budget.
    pub memory_limit: floe::config::MemoryLimit,
}

impl Ctx {
    /// The scheduler a case runs on: `--threads` workers, or one per core.
    pub fn scheduler(&self) -> Result<floe_scheduler::Scheduler, String> {
        let mut b = floe_scheduler::Scheduler::builder();
        if let Some(t) = self.threads {
            b = b.threads(t);
        }
        if self.profile {
            b = b.subscriber(std::sync::Arc::new(floe::diagnostics::Profiler::new()));
        }
        if let Some(bytes) = self.memory_limit.bytes() {
            b = b.memory_limit(bytes);
        }
        b.build().map_err(|e| e.to_string())
    }
}

/// A workload's entry point: runs one case in this process.
type RunCase = fn(&str, &Ctx) -> Result<(), String>;

/// Runs the requested cases of one workload, each repetition in a child process.
fn drive(name: &str, known: &[&str], run: RunCase, args: &CaseArgs) -> ExitCode {
    if args.list {
        println!("{}", known.join("\n"));
        return ExitCode::SUCCESS;
    }
    let cases: Vec<&str> = if args.cases.is_empty() {
        known.to_vec()
    } else {
        args.cases.iter().map(String::as_str).collect()
    };
    if let Some(bad) = cases.iter().find(|c| !known.contains(c)) {
        eprintln!(
            "floe-bench: unknown {name} case `{bad}`; known: {}",
            known.join(", ")
        );
        return ExitCode::FAILURE;
    }
    if args.child {
        report::set_page_cache_dropped(args.drop_caches);
        report::set_profiled(args.profile);
        let memory_limit = match parse_memory_limit(&args.memory_limit) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("floe-bench: --memory-limit: {e}");
                return ExitCode::FAILURE;
            }
        };
        let ctx = Ctx {
            threads: args.threads,
            data: args.data.clone(),
            profile: args.profile,
            memory_limit,
        };
        return match run(cases[0], &ctx) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("floe-bench: {name}/{}: {e}", cases[0]);
                ExitCode::FAILURE
            }
        };
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("floe-bench: cannot find my own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    for case in cases {
        for _ in 0..args.reps {
            let mut cmd = Command::new(&exe);
            cmd.args([name, "--child", "--case", case]);
            if let Some(t) = args.threads {
                cmd.args(["--threads", &t.to_string()]);
            }
            if let Some(d) = &args.data {
                cmd.arg("--data").arg(d);
            }
            if args.profile {
                cmd.arg("--profile");
            }
            cmd.args(["--memory-limit", &args.memory_limit]);
            if args.drop_caches {
                if let Err(e) = drop_caches() {
                    eprintln!("floe-bench: {e}");
                    return ExitCode::FAILURE;
                }
                cmd.arg("--drop-caches");
            }
            match cmd.status() {
                Ok(s) if s.success() => {}
                Ok(s) => {
                    eprintln!("floe-bench: {name}/{case} exited with {s}");
                    return ExitCode::FAILURE;
                }
                Err(e) => {
                    eprintln!("floe-bench: cannot run {name}/{case}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
