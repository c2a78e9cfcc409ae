//! The SVD workloads of `shared/bench/w3_svd.py`: TSQR SVD of a tall random array,
//! randomized SVD of a large random array (re-generated, never held whole), and the talk's
//! two examples on `ones((5000, 1000))`.

use std::time::Instant;

use floe::array::{self, Array, DType, linalg};

use crate::report::Record;

pub const CASES: &[&str] = &[
    "svd_tall",
    "svd_compressed",
    "talk_svd",
    "talk_svd_compressed",
];

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let e = |e: floe::array::ArrayError| e.to_string();
    let t0 = Instant::now();
    // What each case computes, as w3_svd.py does: (s, u.blocks[0]) for the tall SVD, all of
    // (u, s, v) otherwise.
    let (outputs, shape, chunks, params): (Vec<Array>, [usize; 2], [usize; 2], String) = match case
    {
        "svd_tall" => {
            let (shape, chunks) = ([2_000_000, 100], [100_000, 100]);
            let x = array::random::uniform(&shape, chunks.to_vec(), 0, 0.0, 1.0).map_err(e)?;
            let (u, s, _) = linalg::svd(&x).map_err(e)?;
            let u0 = u.slice(&array::s![..100_000, ..]).map_err(e)?;
            (
                vec![s, u0],
                shape,
                chunks,
                "computed: s, u.blocks[0]".into(),
            )
        }
        "svd_compressed" => {
            let (shape, chunks) = ([100_000, 5_000], [10_000, 5_000]);
            let x = array::random::uniform(&shape, chunks.to_vec(), 0, 0.0, 1.0).map_err(e)?;
            let (u, s, v) = linalg::svd_compressed(&x, 50, 0, 10, 0).map_err(e)?;
            (
                vec![u, s, v],
                shape,
                chunks,
                "k=50, n_power_iter=0, computed: u, s, v".into(),
            )
        }
        "talk_svd" | "talk_svd_compressed" => {
            let (shape, chunks) = ([5_000, 1_000], [1_000, 1_000]);
            let x = array::ones(&shape, chunks.to_vec(), DType::F64).map_err(e)?;
            let (u, s, v) = if case == "talk_svd" {
                linalg::svd(&x).map_err(e)?
            } else {
                linalg::svd_compressed(&x, 100, 2, 10, 0).map_err(e)?
            };
            (vec![u, s, v], shape, chunks, "computed: u, s, v".into())
        }
        other => {
            return Err(format!(
                "unknown case `{other}`; known: {}",
                CASES.join(", ")
            ));
        }
    };
    let build = t0.elapsed();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (values, stats) = floe::compute_with(&outputs, &scheduler).map_err(|e| e.to_string())?;
    let exec = t1.elapsed();
    let s0 = values[1 - usize::from(case == "svd_tall")]
        .clone()
        .into_typed::<f64>()
        .first()
        .copied()
        .unwrap_or(f64::NAN);
    let mut r = Record::new("linalg", case);
    r.set("shape", format!("({}, {})", shape[0], shape[1]))
        .set("chunks", format!("({}, {})", chunks[0], chunks[1]))
        .set("params", params)
        .run(scheduler.threads(), &stats, build, exec)
        .set("s0", s0);
    r.print();
    Ok(())
}
