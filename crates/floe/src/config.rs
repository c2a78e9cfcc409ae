//! Process-wide settings: threads, executor, memory budget, spill directory, and the
//! subscribers every computation gets.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use floe_scheduler::{Executor, Scheduler, Subscriber};
use parking_lot::RwLock;

use crate::Result;

/// Settings used by every `compute()` that is not given a scheduler.
///
/// # Examples
///
/// ```
/// use floe::Config;
///
/// floe::config::set(Config::default().threads(2));
/// assert_eq!(floe::config::get().scheduler()?.threads(), 2);
/// # Ok::<(), floe::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Config {
    /// Worker threads; `None` means one per core.
    pub threads: Option<usize>,
    /// The executor.
    pub executor: Executor,
    /// The memory budget for results held between tasks (see
    /// [`SchedulerBuilder::memory_limit`](floe_scheduler::SchedulerBuilder::memory_limit)):
    /// by default [`MemoryLimit::Auto`], half the memory available.
    pub memory_limit: MemoryLimit,
    /// Where spill files go; `None`: the system temp dir.
    pub spill_dir: Option<PathBuf>,
    /// The block size of `"auto"` chunks for arrays made after [`set`]; `None` (the default)
    /// follows the budget (see [`Config::auto_chunk_bytes`]).
    pub chunk_size: Option<usize>,
}

/// The memory budget every computation keeps.
///
/// # Examples
///
/// ```
/// use floe::config::MemoryLimit;
///
/// assert_eq!(MemoryLimit::Bytes(1 << 30).bytes(), Some(1 << 30));
/// assert_eq!(MemoryLimit::Unlimited.bytes(), None);
/// // Half of what the machine has available (see `MemoryLimit::Auto`).
/// assert!(MemoryLimit::Auto.bytes().is_some_and(|b| b > 0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MemoryLimit {
    /// Half of the memory available when the process first asks: the smaller of the
    /// kernel's `MemAvailable` and the room left under the process's cgroup limit (Linux;
    /// elsewhere, or if neither can be read, no budget).
    #[default]
    Auto,
    /// No budget: held results are bounded only by the graph's order.
    Unlimited,
    /// A budget of this many bytes.
    Bytes(usize),
}

impl MemoryLimit {
    /// Reads `"auto"`, `"none"` or a size (`"2GB"`, `"512 MiB"`), as the CLI takes it.
    ///
    /// ```
    /// use floe::config::MemoryLimit;
    /// assert_eq!(MemoryLimit::parse("none"), Some(MemoryLimit::Unlimited));
    /// assert_eq!(MemoryLimit::parse(" 2KiB"), Some(MemoryLimit::Bytes(2048)));
    /// assert_eq!(MemoryLimit::parse("lots"), None);
    /// ```
    pub fn parse(s: &str) -> Option<MemoryLimit> {
        match s.trim() {
            "auto" => Some(MemoryLimit::Auto),
            "none" => Some(MemoryLimit::Unlimited),
            size => floe_array::parse_bytes(size).map(MemoryLimit::Bytes),
        }
    }

    /// The budget in bytes, `None` for no budget.
    pub fn bytes(self) -> Option<usize> {
        match self {
            MemoryLimit::Auto => auto_limit(),
            MemoryLimit::Unlimited => None,
            MemoryLimit::Bytes(n) => Some(n),
        }
    }
}

/// The automatic budget, measured once per process.
fn auto_limit() -> Option<usize> {
    static AUTO: OnceLock<Option<usize>> = OnceLock::new();
    *AUTO.get_or_init(|| available_memory().map(|b| b / 2))
}

/// The bytes this process could still take: `MemAvailable`, capped by what its cgroup
/// (v2) allows beyond what it already uses.
fn available_memory() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| {
        meminfo.lines().find_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix(':')?;
            let kb: usize = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kb * 1024)
        })
    };
    let available = field("MemAvailable").or_else(|| field("MemTotal"))?;
    let read = |p: &str| -> Option<usize> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    let cgroup_room = read("/sys/fs/cgroup/memory.max")
        .map(|max| max.saturating_sub(read("/sys/fs/cgroup/memory.current").unwrap_or(0)));
    Some(cgroup_room.map_or(available, |room| room.min(available)))
}

impl Config {
    /// Sets the number of worker threads.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Sets the executor ([`Executor::Synchronous`] to debug on the calling thread).
    pub fn executor(mut self, executor: Executor) -> Self {
        self.executor = executor;
        self
    }

    /// Sets a memory budget, in bytes, for results held between tasks: past it, held data
    /// needed later is re-read or spilled (see [`MemoryLimit`]).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = MemoryLimit::Bytes(bytes);
        self
    }

    /// Turns the memory budget off.
    pub fn no_memory_limit(mut self) -> Self {
        self.memory_limit = MemoryLimit::Unlimited;
        self
    }

    /// Sets the block size of `"auto"` chunks (Dask's `array.chunk-size`), instead of the
    /// size that follows the budget.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = Some(bytes);
        self
    }

    /// The block size `"auto"` chunks get under these settings: [`Config::chunk_size`] if
    /// set; else, under a budget, a sixteenth of the budget's share per worker thread, so
    /// that what running tasks hold besides the budget (their inputs, output and
    /// temporaries) stays a small part of it; between 1 MiB and
    /// [`AUTO_CHUNK_BYTES`](floe_array::AUTO_CHUNK_BYTES) (128 MiB), which is also the size
    /// without a budget.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe::Config;
    ///
    /// let c = Config::default().threads(2).memory_limit(512 << 20);
    /// assert_eq!(c.auto_chunk_bytes(), 16 << 20);
    /// assert_eq!(c.clone().memory_limit(64 << 30).auto_chunk_bytes(), 128 << 20);
    /// assert_eq!(c.clone().memory_limit(1 << 20).auto_chunk_bytes(), 1 << 20);
    /// assert_eq!(c.chunk_size(64 << 20).auto_chunk_bytes(), 64 << 20);
    /// ```
    pub fn auto_chunk_bytes(&self) -> usize {
        if let Some(bytes) = self.chunk_size {
            return bytes.max(1);
        }
        let max = floe_array::AUTO_CHUNK_BYTES;
        match self.memory_limit.bytes() {
            None => max,
            Some(budget) => {
                let threads = self
                    .threads
                    .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
                (budget / (16 * threads.max(1))).clamp(1 << 20, max)
            }
        }
    }

    /// Sets the directory under which spill files are written.
    pub fn spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// A scheduler with these settings and the registered subscribers.
    ///
    /// # Errors
    ///
    /// If the settings are invalid (zero threads).
    pub fn scheduler(&self) -> Result<Scheduler> {
        let mut b = Scheduler::builder().executor(self.executor);
        if let Some(n) = self.threads {
            b = b.threads(n);
        }
        if let Some(bytes) = self.memory_limit.bytes() {
            b = b.memory_limit(bytes);
        }
        if let Some(dir) = &self.spill_dir {
            b = b.spill_dir(dir);
        }
        for (_, s) in SUBSCRIBERS.read().iter() {
            b = b.subscriber(s.clone());
        }
        Ok(b.build()?)
    }
}

static CONFIG: RwLock<Option<Config>> = RwLock::new(None);
static SUBSCRIBERS: RwLock<Vec<(u64, Arc<dyn Subscriber>)>> = RwLock::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Replaces the process-wide settings, including the block size of `"auto"` chunks for
/// arrays made from now on ([`Config::auto_chunk_bytes`]).
pub fn set(config: Config) {
    floe_array::set_auto_chunk_bytes(Some(config.auto_chunk_bytes()));
    *CONFIG.write() = Some(config);
}

/// The process-wide settings.
pub fn get() -> Config {
    CONFIG.read().clone().unwrap_or_default()
}

/// Registers `subscriber` for every computation until the returned guard is dropped —
/// the equivalent of Dask's `with ProgressBar():`.
///
/// # Examples
///
/// ```
/// use floe::diagnostics::ProgressBar;
///
/// let _progress = floe::subscribe(ProgressBar::new());
/// let total = floe::delayed(|x: &i32| x + 1)(41);
/// assert_eq!(total.compute()?, 42);
/// # Ok::<(), floe::Error>(())
/// ```
pub fn subscribe(subscriber: impl Subscriber + 'static) -> Subscription {
    subscribe_arc(Arc::new(subscriber))
}

/// Registers a shared subscriber; see [`subscribe`].
pub fn subscribe_arc(subscriber: Arc<dyn Subscriber>) -> Subscription {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    SUBSCRIBERS.write().push((id, subscriber));
    Subscription { id }
}

/// Keeps a subscriber registered; dropping it unregisters the subscriber.
#[must_use = "the subscriber is unregistered when this guard is dropped"]
#[derive(Debug)]
pub struct Subscription {
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        SUBSCRIBERS.write().retain(|(id, _)| *id != self.id);
    }
}
