//! Process-wide settings: threads, executor, and the subscribers every computation gets.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
    /// A memory budget for results held between tasks (see
    /// [`SchedulerBuilder::memory_limit`](floe_scheduler::SchedulerBuilder::memory_limit)).
    pub memory_limit: Option<usize>,
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

    /// Sets a memory budget, in bytes, for results held between tasks: past it, no new data
    /// is loaded while held data can be consumed.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
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
        if let Some(bytes) = self.memory_limit {
            b = b.memory_limit(bytes);
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

/// Replaces the process-wide settings.
pub fn set(config: Config) {
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
