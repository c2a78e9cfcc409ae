//! One JSON object per measurement, like the scripts in `shared/bench/`.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

static PAGE_CACHE_DROPPED: AtomicBool = AtomicBool::new(false);
static PROFILED: AtomicBool = AtomicBool::new(false);

/// Marks every record this process prints as measured with the profiler subscribed.
pub fn set_profiled(profiled: bool) {
    PROFILED.store(profiled, Ordering::Relaxed);
}

/// Marks every record this process prints as measured after the page cache was dropped.
pub fn set_page_cache_dropped(dropped: bool) {
    PAGE_CACHE_DROPPED.store(dropped, Ordering::Relaxed);
}

/// A measurement being filled in.
pub struct Record(Map<String, Value>);

impl Record {
    pub fn new(workload: &str, case: &str) -> Self {
        let mut m = Map::new();
        m.insert("workload".into(), json!(workload));
        m.insert("case".into(), json!(case));
        m.insert("tool".into(), json!("floe"));
        Self(m)
    }

    pub fn set(&mut self, field: &str, value: impl Into<Value>) -> &mut Self {
        self.0.insert(field.into(), value.into());
        self
    }

    /// Seconds, rounded to 0.1 ms like the Python side.
    pub fn secs(&mut self, field: &str, s: f64) -> &mut Self {
        self.set(field, (s * 1e4).round() / 1e4)
    }

    /// The fields every computed case reports: threads, tasks, phase times, peak bytes.
    pub fn run(
        &mut self,
        threads: usize,
        stats: &floe_scheduler::RunStats,
        build: std::time::Duration,
        exec: std::time::Duration,
    ) -> &mut Self {
        self.set("threads", threads)
            .set("tasks", stats.tasks)
            .secs("build_s", build.as_secs_f64())
            .secs("exec_s", exec.as_secs_f64())
            .secs("wall_s", (build + exec).as_secs_f64())
            .set("peak_bytes", stats.peak_bytes)
            .set("peak_mb", (stats.peak_bytes as f64 / 1e6).round())
    }

    pub fn print(&mut self) {
        if let Some(mb) = peak_rss_mb() {
            self.set("peak_rss_mb", mb);
        }
        if PROFILED.load(Ordering::Relaxed) {
            self.set("profiled", true);
        }
        if PAGE_CACHE_DROPPED.load(Ordering::Relaxed) {
            self.set("page_cache_dropped", true);
        }
        if let Some(load) = load1() {
            self.set("load1", load);
        }
        println!("{}", Value::Object(self.0.clone()));
    }
}

/// The process's peak resident set (VmHWM), in MiB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// The machine's one-minute load average (other tenants: the machine is shared).
fn load1() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
