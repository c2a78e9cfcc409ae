//! A custom pipeline with `floe::delayed`, shown with a progress bar:
//! load 48 "files" (generated data), clean each, summarize each, and combine the
//! summaries, all in parallel, with each file's data freed as soon as it is summarized.
//!
//! ```text
//! cargo run --release -p floe --example delayed
//! ```

// Delayed functions receive each shared value by reference, so a `Vec` arrives as `&Vec`.
#![allow(clippy::ptr_arg)]

use floe::diagnostics::ProgressBar;
use floe::{Delayed, delayed, try_delayed};

/// Stands in for reading a file: 2 million pseudo-random readings, some of them missing.
fn load(day: &u64) -> Vec<f64> {
    let mut state = day.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..2_000_000)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state.is_multiple_of(97) {
                f64::NAN
            } else {
                let diurnal = ((i % 24) as f64 / 24.0 * std::f64::consts::TAU).sin();
                270.0 + 10.0 * diurnal + (state % 1000) as f64 / 100.0
            }
        })
        .collect()
}

/// Drops missing readings.
fn clean(x: &Vec<f64>) -> Vec<f64> {
    x.iter().copied().filter(|v| v.is_finite()).collect()
}

/// (count, sum, min, max) of one day.
#[derive(Clone, Copy, Debug)]
struct Summary {
    count: usize,
    sum: f64,
    min: f64,
    max: f64,
}

fn summarize(x: &Vec<f64>) -> Result<Summary, String> {
    if x.is_empty() {
        return Err("no valid readings".into());
    }
    Ok(Summary {
        count: x.len(),
        sum: x.iter().sum(),
        min: x.iter().copied().fold(f64::INFINITY, f64::min),
        max: x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn combine(parts: &Vec<Summary>) -> Summary {
    parts.iter().copied().fold(
        Summary {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        },
        |a, b| Summary {
            count: a.count + b.count,
            sum: a.sum + b.sum,
            min: a.min.min(b.min),
            max: a.max.max(b.max),
        },
    )
}

fn main() -> Result<(), floe::Error> {
    let _progress = floe::subscribe(ProgressBar::new());
    let days: Vec<Delayed<Summary>> = (0..48_u64)
        .map(|day| {
            let raw = delayed(load)(day);
            let cleaned = delayed(clean)(raw);
            try_delayed(summarize)(cleaned)
        })
        .collect();
    let total = Delayed::collect(days).map(combine);

    let t = std::time::Instant::now();
    let s = total.compute()?;
    println!(
        "{} readings: mean {:.3} K, min {:.2} K, max {:.2} K ({:.2} s on {} threads)",
        s.count,
        s.sum / s.count as f64,
        s.min,
        s.max,
        t.elapsed().as_secs_f64(),
        floe::config::get().scheduler()?.threads(),
    );
    Ok(())
}
