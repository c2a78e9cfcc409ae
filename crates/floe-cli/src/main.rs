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
    Climate {
        /// A directory of daily NetCDF files (default: write a synthetic set first).
        #[arg(long, conflicts_with = "synthetic")]
        data: Option<PathBuf>,
        /// Days of synthetic data to write and analyse when no --data is given.
        #[arg(long, default_value_t = 8)]
        synthetic: u32,
        /// Synthetic grid as LAT,LON (the talk's quarter-degree grid is 721,1440).
        #[arg(long, default_value = "721,1440", value_parser = parse_pair)]
        grid: (usize, usize),
        /// The variable to analyse.
        #[arg(long, default_value = "t2m")]
        var: String,
        /// Block shape per file, as T,LAT,LON (-1: whole axis); default: one block per file.
        #[arg(long, default_value = "-1,-1,-1")]
        chunks: String,
        /// Where the maps (and the synthetic data) go.
        #[arg(long, default_value = "floe-climate")]
        out: PathBuf,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Also write the three results as .npy files.
        #[arg(long)]
        save_arrays: bool,
    },
    /// Dimensions, variables, dtypes and attributes of a NetCDF file.
    Info {
        /// The file.
        file: PathBuf,
    },
}

fn parse_pair(s: &str) -> Result<(usize, usize), String> {
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

fn parse_chunks(s: &str) -> Result<ChunkSpec, String> {
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
        Command::Climate {
            data,
            synthetic,
            grid,
            var,
            chunks,
            out,
            threads,
            save_arrays,
        } => match parse_chunks(&chunks) {
            Ok(chunks) => climate::run(&climate::Options {
                data,
                synthetic,
                grid,
                var,
                chunks,
                out,
                threads,
                save_arrays,
            }),
            Err(e) => {
                eprintln!("floe: --chunks: {e}");
                return ExitCode::from(2);
            }
        },
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
