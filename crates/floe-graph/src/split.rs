//! Work a running task shares with idle workers: [`split`].
//!
//! A task over one large block (generating it, reducing it band by band) would run on one
//! core while the others wait for the tasks after it. [`split`] cuts such work into pieces
//! and offers them on the run's [`Board`]: the calling worker takes pieces one by one, and a
//! worker of the same run that finds no task to pop takes pieces too, so a lone large task
//! uses every idle core of the scheduler — its own workers, no second pool. Outside a run
//! (or with one worker) the pieces simply run in order on the calling thread.
//!
//! Which worker runs a piece never changes a result: callers cut their work into pieces
//! whose boundaries depend on sizes alone, and combine the pieces' results in order.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

thread_local! {
    /// The board of the run this thread works for, while it does.
    static BOARD: RefCell<Option<Arc<Board>>> = const { RefCell::new(None) };
}

/// The pieces running tasks offer to the idle workers of one run (see the module notes).
/// A scheduler makes one per run, [`enter`](Board::enter)s it on each worker thread, lets a
/// worker with nothing to pop [`help`](Board::help), and says which workers have a task
/// ([`set_idle`](Board::set_idle)), so that work worth cutting only when someone can help
/// asks first ([`idle_workers`]).
pub struct Board {
    jobs: Mutex<Vec<Arc<Job>>>,
    /// Jobs on the board: a lock-free check before looking for unclaimed pieces.
    offered: AtomicUsize,
    /// Called when a job is offered: wakes sleeping workers.
    wake: Box<dyn Fn() + Send + Sync>,
    /// Per worker, whether it has no task to run (each on its own cache line: a worker
    /// writes only its own flag, and only when it changes).
    idle: Box<[IdleFlag]>,
}

#[repr(align(64))]
struct IdleFlag(AtomicBool);

impl Board {
    /// An empty board for `workers` workers, all idle until [`set_idle`](Board::set_idle)
    /// says otherwise (a lone large task at the start of a run is then cut for workers
    /// still starting; a first task of many may be cut for nobody, and costs its copy);
    /// `wake` is called whenever pieces are offered.
    pub fn new(workers: usize, wake: impl Fn() + Send + Sync + 'static) -> Board {
        Board {
            jobs: Mutex::new(Vec::new()),
            offered: AtomicUsize::new(0),
            wake: Box::new(wake),
            idle: (0..workers)
                .map(|_| IdleFlag(AtomicBool::new(true)))
                .collect(),
        }
    }

    /// Records whether `worker` has no task to run (a worker that runs a task is not idle;
    /// one that only helps with pieces is).
    pub fn set_idle(&self, worker: usize, idle: bool) {
        if let Some(flag) = self.idle.get(worker)
            && flag.0.load(Ordering::Relaxed) != idle
        {
            flag.0.store(idle, Ordering::Relaxed);
        }
    }

    /// How many workers have no task to run.
    pub fn idle_workers(&self) -> usize {
        self.idle
            .iter()
            .filter(|f| f.0.load(Ordering::Relaxed))
            .count()
    }

    /// Runs `f` with this board as the calling thread's: [`split`] calls made by `f` (the
    /// tasks a worker runs) offer their pieces here.
    pub fn enter<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        let previous = BOARD.with(|b| b.replace(Some(Arc::clone(self))));
        // Restored even if `f` unwinds.
        struct Restore(Option<Arc<Board>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                BOARD.with(|b| *b.borrow_mut() = previous);
            }
        }
        let _restore = Restore(previous);
        f()
    }

    /// Whether an offered job has pieces nobody has started.
    pub fn has_work(&self) -> bool {
        self.offered.load(Ordering::Acquire) > 0 && self.next_job().is_some()
    }

    /// Runs one piece nobody has started, if there is one; returns whether it did.
    pub fn help(&self) -> bool {
        if self.offered.load(Ordering::Acquire) == 0 {
            return false;
        }
        self.next_job().is_some_and(|job| job.run_one())
    }

    fn next_job(&self) -> Option<Arc<Job>> {
        self.lock().iter().find(|j| j.unclaimed()).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Job>>> {
        // Pieces run outside the lock, so a poisoned lock only means a panic elsewhere.
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn offer(&self, job: &Arc<Job>) {
        self.lock().push(Arc::clone(job));
        self.offered.fetch_add(1, Ordering::AcqRel);
        (self.wake)();
    }

    fn withdraw(&self, job: &Arc<Job>) {
        let mut jobs = self.lock();
        if let Some(at) = jobs.iter().position(|j| Arc::ptr_eq(j, job)) {
            jobs.swap_remove(at);
            self.offered.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The piece function of a [`split`] call, its lifetime erased: see [`Job::run_one`].
type PieceFn = *const (dyn Fn(usize) + Sync + 'static);

struct Job {
    f: PieceFn,
    pieces: usize,
    /// The next piece to start.
    next: AtomicUsize,
    /// Pieces finished.
    done: AtomicUsize,
    /// The first panic of a piece, resumed by the caller of `split`.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `f` points to a `Sync` closure, called only while the `split` owning it waits for
// the pieces (see `Job::run_one`); everything else in a job is atomics and a mutex.
#[allow(unsafe_code)]
unsafe impl Send for Job {}
// SAFETY: as for `Send`: shared use only calls the `Sync` closure and touches atomics.
#[allow(unsafe_code)]
unsafe impl Sync for Job {}

impl Job {
    fn unclaimed(&self) -> bool {
        self.next.load(Ordering::Acquire) < self.pieces
    }

    /// Starts the next piece and runs it to the end; false if every piece was started.
    fn run_one(&self) -> bool {
        let i = self.next.fetch_add(1, Ordering::AcqRel);
        if i >= self.pieces {
            return false;
        }
        // Counted as finished however this piece ends, even if dropping a panic's payload
        // panics: the owner waits for exactly the pieces started.
        struct Finished<'a>(&'a AtomicUsize);
        impl Drop for Finished<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::AcqRel);
            }
        }
        let _finished = Finished(&self.done);
        // SAFETY: piece `i` is started but not finished, and the `split` call that owns the
        // closure does not return, nor unwind, before every started piece has finished (see
        // `Withdraw`), so the closure is alive. No piece starts after that: `next` is past
        // `pieces` by then.
        #[allow(unsafe_code)]
        let f = unsafe { &*self.f };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(i))) {
            let mut first = self.panic.lock().unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert(payload);
        }
        true
    }
}

/// Takes a job off its board when its `split` returns or unwinds: no piece starts after
/// this, and it waits until every piece started has finished, so the closure the job
/// points to outlives every use.
struct Withdraw<'a> {
    board: &'a Board,
    job: &'a Arc<Job>,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let job = self.job;
        // Far past `pieces`: later `fetch_add`s start nothing and cannot wrap.
        let started = job
            .next
            .swap(usize::MAX / 2, Ordering::AcqRel)
            .min(job.pieces);
        let mut spins = 0_u32;
        while job.done.load(Ordering::Acquire) < started {
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
        self.board.withdraw(job);
    }
}

/// Runs `f(i)` for every `i` in `0..pieces`, returning when all have run: on the calling
/// thread and, while the calling task runs on a scheduler's worker, on any worker of the
/// same run that is idle (see the module notes). Pieces start in order, each once.
///
/// A panic in a piece is resumed on the calling thread once every started piece has
/// finished (the scheduler then fails the task, naming it).
///
/// # Examples
///
/// ```
/// use std::sync::Mutex;
///
/// // Each piece fills its own part; the parts are put together in order.
/// let parts: Vec<Mutex<Vec<u64>>> = (0..4).map(|_| Mutex::new(Vec::new())).collect();
/// floe_graph::split(4, |i| {
///     let start = i as u64 * 1000;
///     parts[i].lock().unwrap().extend(start..start + 1000);
/// });
/// let all: Vec<u64> = parts.into_iter().flat_map(|p| p.into_inner().unwrap()).collect();
/// assert_eq!(all, (0..4000).collect::<Vec<u64>>());
/// ```
pub fn split(pieces: usize, f: impl Fn(usize) + Sync) {
    let board = BOARD.with(|b| b.borrow().clone());
    let Some(board) = board.filter(|_| pieces > 1) else {
        (0..pieces).for_each(f);
        return;
    };
    let local: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: only the lifetime is erased (the same fat pointer): the job calls the closure
    // only while this function waits below for every started piece (see `Job::run_one`).
    #[allow(unsafe_code)]
    let erased: PieceFn =
        unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), PieceFn>(local) };
    let job = Arc::new(Job {
        f: erased,
        pieces,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        panic: Mutex::new(None),
    });
    {
        // Created before the job is offered: whatever happens from here on (the board's
        // wake-up panicking included), the job leaves the board before `f` is dropped.
        let _withdraw = Withdraw {
            board: &board,
            job: &job,
        };
        board.offer(&job);
        while job.run_one() {}
        // Pieces other workers started are waited for by `_withdraw`.
    }
    let panic = job
        .panic
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// Whether the calling thread is a scheduler's worker, whose run's idle workers may take
/// the pieces of a [`split`].
pub fn can_split() -> bool {
    BOARD.with(|b| b.borrow().is_some())
}

/// How many workers of the calling worker's run have no task to run (0 outside a run): the
/// ones that would take the pieces of a [`split`] now. Work that costs more cut in pieces
/// than whole (pieces copied into place) is cut only when some are.
pub fn idle_workers() -> usize {
    BOARD.with(|b| b.borrow().as_ref().map_or(0, |b| b.idle_workers()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn outside_a_run_pieces_run_in_order_on_the_caller() {
        let seen = Mutex::new(Vec::new());
        split(5, |i| {
            seen.lock().unwrap().push((i, std::thread::current().id()))
        });
        let seen = seen.into_inner().unwrap();
        let me = std::thread::current().id();
        assert_eq!(seen, (0..5).map(|i| (i, me)).collect::<Vec<_>>());
        assert!(!can_split());
    }

    #[test]
    fn a_job_leaves_the_board_when_offering_it_panics() {
        let board = Arc::new(Board::new(2, || panic!("the wake-up failed")));
        let ran = AtomicUsize::new(0);
        board.enter(|| {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                split(4, |_| {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }));
            assert!(outcome.is_err());
        });
        assert!(board.lock().is_empty(), "the job was withdrawn");
        assert!(!board.help() && !board.has_work());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn idle_threads_take_pieces_and_panics_reach_the_caller() {
        let board = Arc::new(Board::new(2, || {}));
        let stop = AtomicBool::new(false);
        let ran = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            // A helper that helps whenever it can, like an idle worker.
            s.spawn(|| {
                while !stop.load(Ordering::Acquire) {
                    if !board.help() {
                        std::thread::yield_now();
                    }
                }
            });
            board.enter(|| {
                assert!(can_split());
                split(40, |i| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    ran.lock().unwrap().push((i, std::thread::current().id()));
                });
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    split(8, |i| assert!(i != 5, "piece {i} failed"));
                }));
                let message = outcome.unwrap_err();
                assert_eq!(
                    message.downcast_ref::<String>().map(String::as_str),
                    Some("piece 5 failed")
                );
            });
            stop.store(true, Ordering::Release);
        });
        let ran = ran.into_inner().unwrap();
        let mut pieces: Vec<usize> = ran.iter().map(|r| r.0).collect();
        pieces.sort_unstable();
        assert_eq!(pieces, (0..40).collect::<Vec<_>>(), "each piece once");
        let threads: std::collections::HashSet<_> = ran.iter().map(|r| r.1).collect();
        assert_eq!(threads.len(), 2, "the idle thread took pieces");
        assert!(!board.has_work() && board.lock().is_empty());
        assert!(!can_split(), "the board is left on exit");
    }
}
