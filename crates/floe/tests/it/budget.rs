//! The memory budget seen from outside: a child process computing `x - x.mean(0)` over an
//! array much larger than its budget keeps its peak RSS within the budget plus a fixed
//! overhead, writes the right values, and the plan predicts the peak the run measures.

use std::path::Path;
use std::process::Command;

use floe::array::{self, Array, ArrayCompute};
use floe::scheduler::{Executor, Scheduler};

/// Set in the child process: the budget in bytes ("none" for none) and the output path.
const CHILD_BUDGET: &str = "FLOE_TEST_CHILD_BUDGET";
const CHILD_OUT: &str = "FLOE_TEST_CHILD_OUT";

/// 4096 × 8192 float64 (256 MiB) in blocks of 64 rows (4 MiB).
fn x() -> Array {
    made(array::random::uniform(&[4096, 8192], [64_usize, 8192], 7, 0.0, 1.0).unwrap())
}

/// `x` with its blocks made whole by a block function: a reduction reads generated data
/// and elementwise results in bands, never holding their blocks; data made by a block
/// function (a file's, a model's) must be held, which is what these tests are about.
fn made(x: Array) -> Array {
    x.map_blocks(&[], array::DType::F64, |b, _| Ok(b[0].clone()))
        .unwrap()
}

fn anomaly(x: &Array) -> Array {
    x.sub(&x.mean(0).unwrap()).unwrap()
}

/// This process's resident set now and at its peak, in bytes (Linux).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The child's side: compute and write, then report the RSS growth.
fn child(budget: &str, out: &Path) {
    let mut config = floe::Config::default().threads(2);
    config = match budget {
        "none" => config.no_memory_limit(),
        b => config.memory_limit(b.parse().unwrap()),
    };
    floe::config::set(config);
    let (base, _) = rss();
    floe::io::store_npy(&anomaly(&x()), out).unwrap();
    let (_, peak) = rss();
    println!("RSS_GROWTH={}", peak.saturating_sub(base));
}

/// Runs this test in a child process with `budget`; returns its RSS growth in bytes.
fn run_child(test: &str, budget: &str, out: &Path) -> u64 {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_BUDGET, budget)
        .env(CHILD_OUT, out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The line may share the test harness's own ("test … ... RSS_GROWTH=n").
    stdout
        .split("RSS_GROWTH=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no RSS line in the child's output: {stdout}"))
}

#[test]
fn a_budget_bounds_the_processes_memory() {
    if let (Ok(budget), Ok(out)) = (std::env::var(CHILD_BUDGET), std::env::var(CHILD_OUT)) {
        return child(&budget, Path::new(&out));
    }
    let test = "budget::a_budget_bounds_the_processes_memory";
    let dir = std::env::temp_dir().join(format!("floe-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("anomaly.npy");

    let budget: u64 = 16 << 20;
    let bound = budget + budget / 10 + (64 << 20);
    let growth = run_child(test, &budget.to_string(), &out);
    assert!(
        growth <= bound,
        "with a {budget}-byte budget the child grew by {growth} bytes (bound {bound})"
    );
    // The values written are x - x.mean(0), computed here without a budget.
    let written = floe::io::from_npy(&out, [1024_usize, 8192]).unwrap();
    let diff = written
        .sub(&anomaly(&x()))
        .unwrap()
        .abs()
        .unwrap()
        .max(array::Axes::All)
        .unwrap();
    let diff = diff
        .compute_with(&unbudgeted())
        .unwrap()
        .0
        .into_f64()
        .unwrap();
    assert_eq!(diff.iter().copied().fold(0.0, f64::max), 0.0);

    // Without the budget the same child holds all of x until the mean is known: the bound
    // above is one it would break.
    let growth = run_child(test, "none", &out);
    assert!(growth > bound, "unbudgeted growth {growth} within {bound}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn unbudgeted() -> Scheduler {
    Scheduler::builder().threads(2).build().unwrap()
}

#[test]
fn the_plan_predicts_the_measured_peak() {
    // 512 × 4096 float64 (16 MiB) in 16 blocks of 1 MiB; budgets from 4 to 8 blocks.
    let x = made(array::random::uniform(&[512, 4096], [32_usize, 4096], 3, 0.0, 1.0).unwrap());
    let work = [
        anomaly(&x).abs().unwrap().sum(0).unwrap(),
        x.std(0, 0).unwrap(),
        x.add(&x).unwrap().sum(0).unwrap(),
    ];
    let (graph, outputs) = floe::graph(&work[..]).unwrap();
    let order = floe::graph::order(&graph, &outputs);
    for blocks in [4, 6, 8] {
        let limit = blocks << 20;
        let plan = floe::scheduler::plan(&graph, &outputs, &order, Some(limit)).unwrap();
        assert!(
            plan.peak_bytes <= limit,
            "planned {} over {limit}",
            plan.peak_bytes
        );
        for s in [
            Scheduler::builder().executor(Executor::Synchronous),
            Scheduler::builder().threads(2),
        ] {
            let s = s.memory_limit(limit).build().unwrap();
            let measured = s
                .run_with(
                    &graph,
                    &outputs,
                    &floe::scheduler::RunOptions::new().order(&order),
                )
                .unwrap()
                .stats
                .peak_bytes;
            // One worker replays the planned order: within 25 %. Two workers take tasks
            // as they finish, so what is held at once depends on timing: within 35 %
            // (measured 25–29 % below the plan in a few runs out of ten on a loaded
            // machine, never above it).
            let (p, m) = (plan.peak_bytes as f64, measured as f64);
            let tolerance = match s.executor() {
                Executor::Synchronous => 0.25,
                _ => 0.35,
            };
            assert!(
                (p - m).abs() <= tolerance * m,
                "{blocks} blocks, {:?}: planned {p}, measured {m}",
                s.executor()
            );
            assert!(measured <= limit);
        }
    }
    // The plan without a budget is the sequential order's peak: x held whole.
    let free = floe::scheduler::plan(&graph, &outputs, &order, None).unwrap();
    assert!(free.peak_bytes >= 16 << 20);
    assert_eq!(free.source_bytes, 16 << 20);
}

#[test]
fn reductions_partial_results_are_kept_within_the_budget() {
    // 48 blocks of 512 × 512 float64 (2 MiB); each reduction's partial per block is 2 MiB
    // too (`argmin`'s twice, `std`'s moments three times that), so the four trees' partials
    // outgrow a 40 MiB budget (that the largest combine, 30 MiB, fits) unless they spill.
    let x =
        made(array::random::uniform(&[48, 512, 512], [1_usize, 512, 512], 5, 0.0, 1.0).unwrap());
    let work = [
        x.mean(0).unwrap(),
        x.std(0, 0).unwrap(),
        x.max(0).unwrap(),
        x.argmin(0).unwrap(),
    ];
    let (graph, outputs) = floe::graph(&work[..]).unwrap();
    let free = unbudgeted().run(&graph, &outputs).unwrap();
    let limit = 40 << 20;
    let spill = std::env::temp_dir().join(format!("floe-partials-{}", std::process::id()));
    let s = Scheduler::builder()
        .threads(2)
        .memory_limit(limit)
        .spill_dir(&spill)
        .build()
        .unwrap();
    let run = s.run(&graph, &outputs).unwrap();
    assert!(
        run.stats.peak_bytes <= limit,
        "held {} over {limit}",
        run.stats.peak_bytes
    );
    assert!(run.stats.spilled_bytes > 0, "nothing was spilled");
    for (a, b) in free.values.iter().zip(&run.values) {
        let (a, b) = (
            a.downcast_ref::<floe::array::DynArray>().unwrap(),
            b.downcast_ref::<floe::array::DynArray>().unwrap(),
        );
        assert_eq!(a, b);
    }
    let _ = std::fs::remove_dir_all(&spill);
}
