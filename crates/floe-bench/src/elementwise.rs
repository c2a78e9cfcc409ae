//! `(x + x.T).mean(axis=0)` on 20000×20000 float64 in 2000×2000 blocks, with `x` from
//! `ones` and from `random` — the workload of `shared/bench/w2_elementwise.py`.

use std::time::Instant;

use floe::array::{self, ArrayCompute, DType};

use crate::report::Record;

pub const CASES: &[&str] = &["ones", "random"];

const N: usize = 20_000;
const BLOCK: usize = 2_000;

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let err = |e: floe::Error| e.to_string();
    let t0 = Instant::now();
    let x = match case {
        "ones" => array::ones(&[N, N], [BLOCK, BLOCK], DType::F64),
        "random" => array::random::uniform(&[N, N], [BLOCK, BLOCK], 0, 0.0, 1.0),
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
        .set("chunks", format!("({BLOCK}, {BLOCK})"))
        .run(scheduler.threads(), &stats, build, exec)
        .set("checksum", checksum);
    r.print();
    Ok(())
}
