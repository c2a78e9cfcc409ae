//! Diagnostics from Python: graph pictures (`floe.visualize(*values)`, `x.visualize()`),
//! and the counts and profiler behind `floe.diagnostics`' context managers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use floe::array::Array;
use floe::diagnostics::{Color, DotOptions, Profiler};
use floe::scheduler::{Event, Subscriber};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::PyArray;
use crate::delayed::{Obj, PyDelayed};
use crate::to_py;

/// Draws the graph computing `values` (floe arrays and delayed values, lowered together as
/// `floe.compute` would run them) into `filename`: `.svg`, `.png` or `.pdf` through
/// Graphviz's `dot`, `.dot` as Graphviz source; a name without a suffix gets `.png`, as
/// Dask's. Returns the path written.
pub(crate) fn visualize(
    values: &Bound<'_, PyTuple>,
    filename: Option<std::path::PathBuf>,
    color: Option<&str>,
    collapse_above: usize,
) -> PyResult<String> {
    let color = match color {
        None | Some("none") => Color::None,
        Some("order") => Color::Order,
        Some("memory") | Some("memoryfreed") | Some("memory-freed") => Color::MemoryFreed,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "visualize: color is None, 'order' or 'memory', not {other:?}"
            )));
        }
    };
    let mut arrays: Vec<Array> = Vec::new();
    let mut lazies: Vec<floe::Delayed<Obj>> = Vec::new();
    for v in values.iter() {
        if let Ok(a) = v.cast::<PyArray>() {
            arrays.push(a.borrow().inner.clone());
        } else if let Ok(d) = v.cast::<PyDelayed>() {
            lazies.push(d.borrow().inner.clone());
        } else {
            return Err(PyTypeError::new_err(format!(
                "visualize draws floe arrays and delayed values, not {}",
                v.get_type().name()?
            )));
        }
    }
    if arrays.is_empty() && lazies.is_empty() {
        return Err(PyValueError::new_err("visualize: nothing to draw"));
    }
    let mut path = filename.unwrap_or_else(|| "mydask".into());
    if path.extension().is_none() {
        path.set_extension("png");
    }
    let options = DotOptions {
        color,
        collapse_above,
    };
    let written = values
        .py()
        .detach(|| floe::visualize(&(arrays, lazies), &path, &options))
        .map_err(to_py)?;
    Ok(written.to_string_lossy().into_owned())
}

/// `floe.visualize(*values, filename=, color=, collapse_above=)`.
#[pyfunction]
#[pyo3(signature = (*values, filename=None, color=None, collapse_above=500))]
fn _visualize(
    values: &Bound<'_, PyTuple>,
    filename: Option<std::path::PathBuf>,
    color: Option<&str>,
    collapse_above: usize,
) -> PyResult<String> {
    visualize(values, filename, color, collapse_above)
}

/// Counts of the runs a progress bar shows: tasks done and total of the runs under way
/// (runs that overlap — computations in other threads — are shown as one), whether any
/// is, and the runs finished since last looked at. A subscriber of every computation while
/// registered (see `floe.diagnostics.ProgressBar`).
#[derive(Default)]
struct Counts {
    done: AtomicU64,
    total: AtomicU64,
    running: AtomicBool,
    /// The runs under way.
    runs: Mutex<Runs>,
    /// The runs finished and not yet shown: `(done, total, seconds, failed)`.
    finished: Mutex<Vec<(u64, u64, f64, bool)>>,
}

/// The runs under way: how many, since when, and whether one failed.
#[derive(Default)]
struct Runs {
    active: usize,
    started: Option<Instant>,
    failed: bool,
}

impl Subscriber for Counts {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted { tasks, at, .. } => {
                let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
                if runs.active == 0 {
                    *runs = Runs {
                        active: 0,
                        started: Some(*at),
                        failed: false,
                    };
                    self.done.store(0, Ordering::Relaxed);
                    self.total.store(0, Ordering::Relaxed);
                }
                runs.active += 1;
                self.total.fetch_add(*tasks as u64, Ordering::Relaxed);
                self.running.store(true, Ordering::Release);
            }
            Event::TaskFinished { .. } => {
                self.done.fetch_add(1, Ordering::Relaxed);
            }
            Event::RunFinished { error, .. } => {
                let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
                runs.active = runs.active.saturating_sub(1);
                runs.failed |= error.is_some();
                if runs.active == 0 {
                    let took = runs.started.map_or(Duration::ZERO, |t| t.elapsed());
                    self.finished
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((
                            self.done.load(Ordering::Relaxed),
                            self.total.load(Ordering::Relaxed),
                            took.as_secs_f64(),
                            runs.failed,
                        ));
                    self.running.store(false, Ordering::Release);
                }
            }
            _ => {}
        }
    }
}

/// A subscriber's registration for every computation, from `start()` (again: no change)
/// to `stop()`.
#[derive(Default)]
struct Registration(Mutex<Option<floe::Subscription>>);

impl Registration {
    fn start(&self, subscriber: Arc<dyn Subscriber>) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if s.is_none() {
            *s = Some(floe::subscribe_arc(subscriber));
        }
    }

    fn stop(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// The counts behind `floe.diagnostics.ProgressBar`: registered for every computation
/// between `start()` and `stop()`.
#[pyclass(module = "floe._floe")]
struct _Progress {
    counts: Arc<Counts>,
    registration: Registration,
}

#[pymethods]
impl _Progress {
    #[new]
    fn new() -> Self {
        _Progress {
            counts: Arc::default(),
            registration: Registration::default(),
        }
    }

    /// Registers the counts for every computation (again: no change).
    fn start(&self) {
        self.registration.start(self.counts.clone());
    }

    /// Unregisters them.
    fn stop(&self) {
        self.registration.stop();
    }

    /// `(done, total, running, seconds)`: the tasks done and total of the runs under way
    /// (or the last), whether any is, and the seconds since they started.
    fn counts(&self) -> (u64, u64, bool, f64) {
        let c = &self.counts;
        let running = c.running.load(Ordering::Acquire);
        let seconds = c
            .runs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .started
            .map_or(0.0, |t| t.elapsed().as_secs_f64());
        (
            c.done.load(Ordering::Relaxed),
            c.total.load(Ordering::Relaxed),
            running,
            seconds,
        )
    }

    /// The runs finished since the last call, each once, in order: `(done, total,
    /// seconds, failed)`.
    fn finished(&self) -> Vec<(u64, u64, f64, bool)> {
        std::mem::take(
            &mut *self
                .counts
                .finished
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }
}

/// The profiler behind `floe.diagnostics.Profiler` and `ResourceProfiler`: every task of
/// the computations between `start()` and `stop()`, the bytes held, and the process's CPU
/// and memory sampled every `interval` seconds.
#[pyclass(module = "floe._floe")]
struct _Profiler {
    profiler: Arc<Profiler>,
    registration: Registration,
}

#[pymethods]
impl _Profiler {
    #[new]
    #[pyo3(signature = (interval=0.02))]
    fn new(interval: f64) -> PyResult<Self> {
        if !(interval.is_finite() && interval > 0.0) {
            return Err(PyValueError::new_err(format!(
                "the sampling interval is a positive number of seconds, not {interval}"
            )));
        }
        Ok(_Profiler {
            profiler: Arc::new(Profiler::with_interval(Duration::from_secs_f64(interval))),
            registration: Registration::default(),
        })
    }

    fn start(&self) {
        self.registration.start(self.profiler.clone());
    }

    fn stop(&self) {
        self.registration.stop();
    }

    /// Forgets what was recorded.
    fn clear(&self) {
        self.profiler.clear();
    }

    /// Every task recorded: `(name, index, worker, start, end, nbytes)`, times in seconds
    /// from the first recorded run's start, in the order the tasks finished.
    #[allow(clippy::type_complexity)]
    fn tasks(&self) -> Vec<(String, Vec<u32>, usize, f64, f64, usize)> {
        self.profiler
            .profile()
            .tasks
            .iter()
            .map(|t| {
                let start = t.start.as_secs_f64();
                (
                    t.key.name().to_owned(),
                    t.key.index().to_vec(),
                    t.worker,
                    start,
                    start + t.duration.as_secs_f64(),
                    t.nbytes,
                )
            })
            .collect()
    }

    /// The process's resources: `(time, rss_bytes, cpu_percent)` per sample.
    fn resources(&self) -> Vec<(f64, u64, f64)> {
        self.profiler
            .profile()
            .resources
            .iter()
            .map(|r| (r.at.as_secs_f64(), r.rss_bytes, r.cpu_percent))
            .collect()
    }

    /// The bytes the scheduler held after each task: `(time, bytes)`.
    fn memory(&self) -> Vec<(f64, usize)> {
        self.profiler
            .profile()
            .memory
            .iter()
            .map(|&(t, b)| (t.as_secs_f64(), b))
            .collect()
    }

    /// The profile as one self-contained HTML page (timeline, memory, resources).
    fn to_html(&self, title: &str) -> String {
        self.profiler.profile().to_html(title)
    }

    /// The profile as a Chrome trace (JSON text, for Perfetto or `chrome://tracing`).
    fn to_chrome_trace(&self) -> String {
        self.profiler.profile().to_chrome_trace()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_visualize, m)?)?;
    m.add_class::<_Progress>()?;
    m.add_class::<_Profiler>()?;
    Ok(())
}
