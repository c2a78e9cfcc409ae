//! `(x + x.T).mean(axis=0)` on 20000×20000 float64 in 2000×2000 blocks, with `x` from
//! `ones` and from `random` — the workload of `shared/bench/w2_elementwise.py`.
//!
//! `sum_1gb` sums 1 GiB of float64 held in memory (`random.uniform(seed=0)` persisted in
//! 16 blocks; `sum_1gb_ill`: ill-conditioned values, large terms that nearly cancel), with
//! the error against the exactly rounded sum — NumPy's side is
//! `python/bench/numpy_sum.py`, over the same values.
//!
//! Large blocks in parallel: `random_1block` is the same expression over one 20000×20000
//! block, reduced in pieces of bands that idle workers take; `make_1block` makes
//! `x * 2 + 1` for `x = random.normal` in one 10000×10000 block (800 MB), generated and
//! computed in pieces of rows that idle workers take. Compare `--threads 1` with
//! `--threads 2`.

use std::time::Instant;

use floe::array::{self, ArrayCompute, DType};

use crate::report::Record;

pub const CASES: &[&str] = &[
    "ones",
    "random",
    "random_1block",
    "make_1block",
    "sum_1gb",
    "sum_1gb_ill",
];

const N: usize = 20_000;
const BLOCK: usize = 2_000;

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    if case.starts_with("sum_1gb") {
        return sum_1gb(case, ctx);
    }
    if case == "make_1block" {
        return make_1block(ctx);
    }
    let err = |e: floe::Error| e.to_string();
    let t0 = Instant::now();
    let block = if case == "random_1block" { N } else { BLOCK };
    let x = match case {
        "ones" => array::ones(&[N, N], [BLOCK, BLOCK], DType::F64),
        "random" | "random_1block" => array::random::uniform(&[N, N], [block, block], 0, 0.0, 1.0),
        other => {
            return Err(format!(
                "unknown case `{other}`; known: {}",
                CASES.join(", ")
            ));
        }
    }
    .map_err(|e| e.to_string())?;
    let y = (&x + &x.t())
        .and_then(|s| s.mean(0))
        .map_err(|e| e.to_string())?;
    let build = t0.elapsed();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (out, stats) = y.compute_with(&scheduler).map_err(err)?;
    let exec = t1.elapsed();
    let out = out.into_f64().map_err(|e| e.to_string())?;
    let checksum: f64 = out.iter().sum();
    if case == "ones" && out.iter().any(|&v| v != 2.0) {
        return Err("wrong result: (ones + ones.T).mean(0) must be 2 everywhere".into());
    }
    let mut r = Record::new("elementwise", case);
    r.set("expr", "(x + x.T).mean(axis=0)")
        .set("shape", format!("({N}, {N})"))
        .set("chunks", format!("({block}, {block})"))
        .run(scheduler.threads(), &stats, build, exec)
        .set("checksum", checksum);
    r.print();
    Ok(())
}

/// `x * 2 + 1` over one generated block of 800 MB, made as one block, in pieces of rows
/// when a worker is idle (see the module's notes).
fn make_1block(ctx: &crate::Ctx) -> Result<(), String> {
    const M: usize = 10_000;
    let t0 = Instant::now();
    let x = array::random::normal(&[M, M], [M, M], 0, 0.0, 1.0).map_err(|e| e.to_string())?;
    let y = x
        .mul_scalar(2.0)
        .and_then(|y| y.add_scalar(1.0))
        .map_err(|e| e.to_string())?;
    let build = t0.elapsed();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (out, stats) = y.compute_with(&scheduler).map_err(|e| e.to_string())?;
    let exec = t1.elapsed();
    let out = out.into_f64().map_err(|e| e.to_string())?;
    let mut r = Record::new("elementwise", "make_1block");
    r.set("expr", "random.normal(0, 1) * 2 + 1")
        .set("shape", format!("({M}, {M})"))
        .set("chunks", format!("({M}, {M})"))
        .run(scheduler.threads(), &stats, build, exec)
        .set("checksum", out.iter().sum::<f64>());
    r.print();
    Ok(())
}

/// A sum over 1 GiB of float64 blocks already in memory (see the module's notes).
fn sum_1gb(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    const LEN: usize = 1 << 27;
    let e = |e: floe::Error| e.to_string();
    let x = array::random::uniform(&[LEN], [LEN / 16], 0, 0.0, 1.0).map_err(|e| e.to_string())?;
    let x = if case.ends_with("_ill") {
        // (u - 0.5) * 1e12 + u: terms of ±5e11 that cancel to about 67 million.
        let big = x.sub_scalar(0.5).and_then(|d| d.mul_scalar(1e12));
        big.and_then(|b| b.add(&x)).map_err(|e| e.to_string())?
    } else {
        x
    };
    let [x]: [array::Array; 1] = floe::persist(&[x])
        .map_err(e)?
        .try_into()
        .map_err(|_| "persist returned the wrong number of arrays")?;
    let values = x
        .compute()
        .map_err(e)?
        .into_f64()
        .map_err(|e| e.to_string())?;
    let exact = exact_sum(values.iter().copied());
    drop(values);
    let t0 = Instant::now();
    let y = x.sum(array::Axes::All).map_err(|e| e.to_string())?;
    let build = t0.elapsed();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (out, stats) = y.compute_with(&scheduler).map_err(e)?;
    let exec = t1.elapsed();
    let sum = out.into_f64().map_err(|e| e.to_string())?.sum();
    let mut r = Record::new("elementwise", case);
    r.set("expr", "x.sum()")
        .set("bytes", LEN * 8)
        .run(scheduler.threads(), &stats, build, exec)
        .set("sum", sum)
        .set("abs_error", (sum - exact).abs());
    r.print();
    Ok(())
}

/// The exactly rounded sum (Shewchuk's non-overlapping partials, as Python's `math.fsum`).
fn exact_sum(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in xs {
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    partials.iter().rev().fold(0.0, |a, &p| a + p)
}
