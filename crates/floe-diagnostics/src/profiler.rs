//! The profiler: every task of a run (what, where, when, how big), the bytes the scheduler
//! held over time, and the process's CPU and memory sampled alongside.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use floe_graph::Key;
use floe_scheduler::{Event, Subscriber};
use parking_lot::Mutex;

/// One task as the profiler saw it.
#[derive(Debug, Clone)]
pub struct TaskRecord {
    /// The task's key (its name is the operation: `uniform`, `sum-agg`, `matmul`…).
    pub key: Key,
    /// The worker that ran it.
    pub worker: usize,
    /// When it started, from the profile's origin.
    pub start: Duration,
    /// How long it ran.
    pub duration: Duration,
    /// The bytes of its output.
    pub nbytes: usize,
    /// The run it belongs to (an index of [`Profile::graphs`] and [`Profile::runs`]).
    pub run: usize,
    /// Its number in that run's graph ([`RunGraph::deps`]).
    pub task: usize,
}

/// The task graph of one recorded run: what the replay draws.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunGraph {
    /// Per task (by its number in the graph), its key.
    pub keys: Vec<Key>,
    /// Per task, the tasks it depends on.
    pub deps: Vec<Vec<usize>>,
}

/// A sample of the process's resources.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceSample {
    /// When, from the profile's origin.
    pub at: Duration,
    /// CPU use since the previous sample, in percent of one core (200 % = two busy cores).
    pub cpu_percent: f64,
    /// Resident memory, in bytes.
    pub rss_bytes: u64,
}

/// What a [`Profiler`] recorded: read it with [`Profiler::profile`].
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Every task that finished, in the order they finished.
    pub tasks: Vec<TaskRecord>,
    /// Bytes held by the scheduler after each task: `(time, bytes)`.
    pub memory: Vec<(Duration, usize)>,
    /// CPU and resident memory, sampled every [`Profiler::interval`].
    pub resources: Vec<ResourceSample>,
    /// The most workers any recorded run used.
    pub threads: usize,
    /// The runs recorded: `(start, end)`.
    pub runs: Vec<(Duration, Duration)>,
    /// The graph of each run, in the order the runs started.
    pub graphs: Vec<RunGraph>,
}

impl Profile {
    /// The sum of all task durations (busy time over all workers).
    pub fn total_task_time(&self) -> Duration {
        self.tasks.iter().map(|t| t.duration).sum()
    }

    /// From the first run's start to the last run's end.
    pub fn span(&self) -> Duration {
        let end = self.runs.iter().map(|r| r.1).max().unwrap_or_default();
        let task_end = self
            .tasks
            .iter()
            .map(|t| t.start + t.duration)
            .max()
            .unwrap_or_default();
        end.max(task_end)
    }

    /// Total time per operation (key name), longest first: `(name, tasks, time)`.
    pub fn by_operation(&self) -> Vec<(String, usize, Duration)> {
        let mut map: std::collections::HashMap<&str, (usize, Duration)> = Default::default();
        for t in &self.tasks {
            let e = map.entry(t.key.name()).or_default();
            e.0 += 1;
            e.1 += t.duration;
        }
        let mut v: Vec<_> = map
            .into_iter()
            .map(|(k, (n, d))| (k.to_owned(), n, d))
            .collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        v
    }
}

/// The sampling thread of one run, and the samples it has taken (its own buffer, so it
/// never contends with workers recording tasks).
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
    samples: Arc<Mutex<Vec<ResourceSample>>>,
}

#[derive(Default)]
struct State {
    origin: Option<Instant>,
    run_start: Option<Duration>,
    profile: Profile,
    sampler: Option<Sampler>,
}

/// Worker buffers: one per worker index (modulo), each locked only by its own worker, so
/// recording a task contends with nothing.
const BUFFERS: usize = 64;

/// One finished task, as recorded on the hot path.
struct Rec {
    run: u32,
    task: u32,
    name: u32,
    index_at: u32,
    index_len: u32,
    worker: u32,
    start: Instant,
    duration: Duration,
    nbytes: usize,
    held: usize,
}

/// A worker's records. Key names are interned per worker by the address of their shared
/// string (stable while the run's graph lives), so recording never touches a reference
/// count another worker is touching.
#[derive(Default)]
struct WorkerBuf {
    names: std::collections::HashMap<usize, u32>,
    name_strs: Vec<String>,
    indices: Vec<u32>,
    recs: Vec<Rec>,
}

/// Pads a buffer to its own cache lines.
#[repr(align(128))]
#[derive(Default)]
struct Padded(Mutex<WorkerBuf>);

/// A [`Subscriber`] that records every task of the runs it watches, the scheduler's held
/// bytes, and (from a sampling thread) the process's CPU use and resident memory; render
/// the result with [`Profile::to_html`](crate::Profile::to_html) or
/// [`Profile::to_chrome_trace`](crate::Profile::to_chrome_trace).
///
/// Runs it watches one after another share one timeline.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_diagnostics::Profiler;
/// use floe_graph::{GraphBuilder, Key, Value};
/// use floe_scheduler::Scheduler;
///
/// let profiler = Arc::new(Profiler::new());
/// let scheduler = Scheduler::builder().threads(2).subscriber(profiler.clone()).build()?;
/// let mut b = GraphBuilder::default();
/// let x = b.add_fn(Key::named("one"), &[], |_| Ok(Value::new(1_u64)))?;
/// let y = b.add_fn(Key::named("inc"), &[x], |v| Ok(Value::new(*v[0].downcast_ref::<u64>().unwrap() + 1)))?;
/// scheduler.run(&b.build(), &[y])?;
/// let profile = profiler.profile();
/// assert_eq!(profile.tasks.len(), 2);
/// let html = profile.to_html("two tasks");
/// assert!(html.contains("<svg"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Profiler {
    state: Mutex<State>,
    buffers: Box<[Padded]>,
    interval: Duration,
    /// The number of the run under way (see [`TaskRecord::run`]).
    run: std::sync::atomic::AtomicU32,
}

impl Default for Profiler {
    fn default() -> Self {
        Self::new()
    }
}

impl Profiler {
    /// A profiler sampling resources every 20 ms.
    pub fn new() -> Self {
        Self::with_interval(Duration::from_millis(20))
    }

    /// A profiler sampling resources every `interval` (at least 1 ms).
    pub fn with_interval(interval: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            buffers: (0..BUFFERS).map(|_| Padded::default()).collect(),
            interval: interval.max(Duration::from_millis(1)),
            run: Default::default(),
        }
    }

    /// How often resources are sampled.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// What was recorded so far.
    pub fn profile(&self) -> Profile {
        let s = self.state.lock();
        let mut profile = s.profile.clone();
        let Some(origin) = s.origin else {
            return profile;
        };
        let mut tasks = Vec::new();
        for buf in &self.buffers {
            let b = buf.0.lock();
            for r in &b.recs {
                let at = r.index_at as usize;
                let key = Key::new(
                    &b.name_strs[r.name as usize],
                    &b.indices[at..at + r.index_len as usize],
                );
                let start = Self::since(origin, r.start);
                tasks.push(TaskRecord {
                    key,
                    worker: r.worker as usize,
                    start,
                    duration: r.duration,
                    nbytes: r.nbytes,
                    run: r.run as usize,
                    task: r.task as usize,
                });
                profile.memory.push((start + r.duration, r.held));
            }
        }
        tasks.sort_by_key(|t| t.start + t.duration);
        profile.tasks = tasks;
        profile.memory.sort_by_key(|m| m.0);
        profile
    }

    /// Forgets everything recorded.
    pub fn clear(&self) {
        let mut s = self.state.lock();
        s.origin = None;
        s.profile = Profile::default();
        for buf in &self.buffers {
            *buf.0.lock() = WorkerBuf::default();
        }
    }

    fn since(origin: Instant, at: Instant) -> Duration {
        at.saturating_duration_since(origin)
    }

    fn start_sampler(&self, origin: Instant) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let interval = self.interval;
        let samples: Arc<Mutex<Vec<ResourceSample>>> = Arc::new(Mutex::new(Vec::new()));
        let out = Arc::clone(&samples);
        let handle = std::thread::Builder::new()
            .name("floe-profiler".into())
            .spawn(move || {
                // CPU time is counted in clock ticks (10 ms): a rate over a shorter span is
                // noise, so the last rate is kept until enough time has passed.
                let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
                let min_span = interval.as_secs_f64().max(0.05);
                let mut last = (Instant::now(), cpu_seconds());
                let mut rate = 0.0_f64;
                loop {
                    let now = Instant::now();
                    let dt = now.duration_since(last.0).as_secs_f64();
                    if dt >= min_span {
                        let cpu = cpu_seconds();
                        if let (Some(c), Some(p)) = (cpu, last.1) {
                            rate = ((c - p) / dt * 100.0).clamp(0.0, cores * 100.0);
                        }
                        last = (now, cpu);
                    }
                    out.lock().push(ResourceSample {
                        at: Self::since(origin, now),
                        cpu_percent: rate,
                        rss_bytes: rss_bytes().unwrap_or(0),
                    });
                    if flag.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::park_timeout(interval);
                }
            })
            .expect("spawning the profiler's sampling thread");
        Sampler {
            stop,
            handle,
            samples,
        }
    }
}

impl Subscriber for Profiler {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted {
                graph, threads, at, ..
            } => {
                // The run's graph, copied once: keys and dependencies by task number.
                let recorded = RunGraph {
                    keys: graph.ids().map(|id| graph.key(id).clone()).collect(),
                    deps: graph
                        .ids()
                        .map(|id| graph.dependencies(id).iter().map(|d| d.index()).collect())
                        .collect(),
                };
                let sampler_needed;
                let origin;
                {
                    let mut s = self.state.lock();
                    origin = *s.origin.get_or_insert(*at);
                    s.run_start = Some(Self::since(origin, *at));
                    s.profile.threads = s.profile.threads.max(*threads);
                    s.profile.graphs.push(recorded);
                    self.run
                        .store(s.profile.graphs.len() as u32 - 1, Ordering::Relaxed);
                    sampler_needed = s.sampler.is_none();
                }
                // Names are interned by address: addresses from an earlier run's graph may
                // be reused by this one's.
                for buf in &self.buffers {
                    buf.0.lock().names.clear();
                }
                if sampler_needed {
                    let sampler = self.start_sampler(origin);
                    self.state.lock().sampler = Some(sampler);
                }
            }
            Event::TaskFinished {
                task,
                key,
                worker,
                start,
                duration,
                nbytes,
                held_bytes,
                ..
            } => {
                let mut guard = self.buffers[worker % BUFFERS].0.lock();
                let b = &mut *guard;
                let ptr = key.name().as_ptr() as usize;
                let next = b.name_strs.len() as u32;
                let name = *b.names.entry(ptr).or_insert(next);
                if name == next {
                    b.name_strs.push(key.name().to_owned());
                }
                let index_at = b.indices.len() as u32;
                b.indices.extend_from_slice(key.index());
                b.recs.push(Rec {
                    run: self.run.load(Ordering::Relaxed),
                    task: task.index() as u32,
                    name,
                    index_at,
                    index_len: key.index().len() as u32,
                    worker: *worker as u32,
                    start: *start,
                    duration: *duration,
                    nbytes: *nbytes,
                    held: *held_bytes,
                });
            }
            Event::RunFinished { .. } => {
                let (sampler, origin) = {
                    let mut s = self.state.lock();
                    (s.sampler.take(), s.origin)
                };
                let Some(origin) = origin else { return };
                let end = Self::since(origin, Instant::now());
                let mut samples = Vec::new();
                if let Some(sampler) = sampler {
                    sampler.stop.store(true, Ordering::Relaxed);
                    sampler.handle.thread().unpark();
                    let _ = sampler.handle.join();
                    samples = std::mem::take(&mut *sampler.samples.lock());
                }
                let mut s = self.state.lock();
                let run_start = s.run_start.take().unwrap_or_default();
                s.profile.runs.push((run_start, end));
                s.profile.resources.extend(samples);
                s.profile.resources.sort_by_key(|r| r.at);
            }
            _ => {}
        }
    }
}

/// CPU time used by this process so far (user + system), in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    Some((utime + stime) / ticks)
}

/// This process's resident memory, in bytes.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
