//! Blocked scans against the reduction they extend: `x.cumsum(axis)` and `x.sum(axis)` on
//! 20000×20000 float64 in 2000×2000 blocks (random, so the data cannot be skipped). Each
//! block of a cumulative sum is consumed as it is made (written nowhere and freed), as a
//! store would consume it; `source` times making and consuming `x` alone.
//! `histogram` counts `x` into 100 bins over a given range (one pass), `histogram_auto`
//! over `x`'s own range (a pass for the range, one for the counts).
//! `scripts/bench/scan.py` runs the same in Dask.

use std::time::Instant;

use floe::array::{self, Array, ArrayCompute, Axes};

use crate::report::Record;

pub const CASES: &[&str] = &[
    "source",
    "sum0",
    "cumsum0",
    "cumsum1",
    "nancumsum0",
    "histogram",
    "histogram_auto",
];

const N: usize = 20_000;
const BLOCK: usize = 2_000;

/// A computation that makes every block of `y` and drops it.
fn consume(y: &Array) -> Result<Array, floe::Error> {
    Ok(floe::io::sink(y, |_, _| {
        Ok::<(), std::convert::Infallible>(())
    })?)
}

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let err = |e: floe::Error| e.to_string();
    let t0 = Instant::now();
    let x =
        array::random::uniform(&[N, N], [BLOCK, BLOCK], 0, 0.0, 1.0).map_err(|e| e.to_string())?;
    let (expr, y) = match case {
        "source" => ("x", consume(&x)),
        "sum0" => ("x.sum(axis=0)", x.sum(Axes::from(0)).map_err(Into::into)),
        "cumsum0" => (
            "x.cumsum(axis=0)",
            x.cumsum(0).map_err(Into::into).and_then(|y| consume(&y)),
        ),
        "cumsum1" => (
            "x.cumsum(axis=1)",
            x.cumsum(1).map_err(Into::into).and_then(|y| consume(&y)),
        ),
        "nancumsum0" => (
            "nancumsum(x, axis=0)",
            x.nancumsum(0).map_err(Into::into).and_then(|y| consume(&y)),
        ),
        "histogram" => (
            "histogram(x, bins=100, range=(0, 1))",
            array::histogram(&x, 100, Some((0.0, 1.0)), None, false)
                .map(|(c, _)| c)
                .map_err(Into::into),
        ),
        "histogram_auto" => (
            "histogram(x, bins=100)  # range from x: two passes",
            array::histogram(&x, 100, None, None, false)
                .map(|(c, _)| c)
                .map_err(Into::into),
        ),
        other => {
            return Err(format!(
                "unknown case `{other}`; known: {}",
                CASES.join(", ")
            ));
        }
    };
    let y = y.map_err(err)?;
    let build = t0.elapsed();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (_, stats) = y.compute_with(&scheduler).map_err(err)?;
    let exec = t1.elapsed();
    let mut r = Record::new("scan", case);
    r.set("expr", expr)
        .set("shape", format!("({N}, {N})"))
        .set("chunks", format!("({BLOCK}, {BLOCK})"))
        .run(scheduler.threads(), &stats, build, exec);
    r.print();
    Ok(())
}
