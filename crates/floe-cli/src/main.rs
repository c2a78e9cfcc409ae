//! `floe`: the talk's climate analysis end to end, and file inspection.
//!
//! ```text
//! floe climate [--data DIR | --synthetic DAYS] [--var t2m] [--chunks 4,200,200] [--out DIR] [--threads N]
//! floe info FILE
//! ```

mod climate;
mod maps;
mod synthetic;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use floe::array::{AxisChunks, ChunkSpec};

/// Large blocks are allocated and freed all the time; mimalloc keeps their pages mapped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "floe",
    version,
    about = "Parallel, larger-than-memory arrays: the climate analysis of the talk, and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mean over time, an anomaly and the day-night difference of daily NetCDF files, as maps.
    Climate(Box<climate::Options>),
    /// Dimensions, variables, dtypes and attributes of a NetCDF file.
    Info {
        /// The file.
        file: PathBuf,
    },
}

pub(crate) fn parse_pair(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s.split_once(',').ok_or("expected LAT,LON")?;
    let a = a
        .trim()
        .parse()
        .map_err(|_| format!("{a:?} is not a size"))?;
    let b = b
        .trim()
        .parse()
        .map_err(|_| format!("{b:?} is not a size"))?;
    if a < 2 || b < 2 {
        return Err("the grid needs at least 2 points each way".into());
    }
    Ok((a, b))
}

pub(crate) fn parse_size(s: &str) -> Result<usize, String> {
    floe::array::parse_bytes(s)
        .ok_or_else(|| format!("cannot read {s:?} as a size (e.g. 2GB, 512 MiB)"))
}

/// A memory budget: a size, `auto` (half the memory available) or `none`.
pub(crate) fn parse_memory_limit(s: &str) -> Result<floe::config::MemoryLimit, String> {
    floe::config::MemoryLimit::parse(s).ok_or_else(|| parse_size(s).unwrap_err())
}

pub(crate) fn parse_chunks(s: &str) -> Result<ChunkSpec, String> {
    if s.trim() == "auto" || s.chars().any(|c| c.is_ascii_alphabetic()) {
        return Ok(ChunkSpec::from(s));
    }
    let rules = s
        .split(',')
        .map(|p| match p.trim().parse::<isize>() {
            Ok(-1) => Ok(AxisChunks::Whole),
            Ok(n) if n > 0 => Ok(AxisChunks::Size(n as usize)),
            _ => Err(format!("chunk entry {p:?} must be a positive size or -1")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChunkSpec::Axes(rules))
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Climate(opts) => climate::run(&opts),
        Command::Info { file } => info(&file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floe: {e}");
            ExitCode::FAILURE
        }
    }
}

fn info(file: &std::path::Path) -> Result<(), floe::Error> {
    let vars = floe::io::describe(file)?;
    println!("{}", file.display());
    for v in vars {
        let dims: Vec<String> = v
            .dimensions
            .iter()
            .map(|(n, s)| format!("{n}={s}"))
            .collect();
        let dtype = v
            .dtype
            .map_or_else(|| "(not numeric)".to_owned(), |d| d.to_string());
        println!("  {} ({}) {dtype}", v.name, dims.join(", "));
        for (k, val) in v.attributes {
            println!("      {k}: {val}");
        }
    }
    Ok(())
}
