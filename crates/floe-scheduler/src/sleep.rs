//! Parking idle workers without losing wake-ups.
//!
//! A worker that finds nothing to do spins briefly, then registers as a sleeper, checks for
//! work once more and waits on a condition variable. A worker that makes work available
//! issues a `SeqCst` fence and wakes a sleeper if one is registered. Either the sleeper's
//! re-check sees the new work, or the waker sees the registered sleeper (the classic
//! store-fence-load pairing on both sides). Waits also time out after a few milliseconds,
//! so a cancelled token is noticed by sleeping workers too.

use std::sync::atomic::{AtomicUsize, Ordering, fence};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

const SPINS: u32 = 64;
const BACKSTOP: Duration = Duration::from_millis(5);

#[derive(Default)]
pub(crate) struct Sleep {
    lock: Mutex<()>,
    wake: Condvar,
    sleepers: AtomicUsize,
}

impl Sleep {
    /// Waits until `ready()` may be true; returns early whenever it is.
    pub(crate) fn idle(&self, ready: impl Fn() -> bool) {
        for i in 0..SPINS {
            if ready() {
                return;
            }
            if i < SPINS / 2 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let mut guard = self.lock.lock();
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        if !ready() {
            self.wake.wait_for(&mut guard, BACKSTOP);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Wakes one sleeping worker, if any, after work was made available.
    pub(crate) fn wake_one(&self) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.wake.notify_one();
        }
    }

    /// Wakes every sleeping worker (the run ended or failed).
    pub(crate) fn wake_all(&self) {
        fence(Ordering::SeqCst);
        let _guard = self.lock.lock();
        self.wake.notify_all();
    }
}
