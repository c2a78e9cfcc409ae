//! Diagnostics for floe runs, built as [`Subscriber`](floe_scheduler::Subscriber)s of the
//! scheduler's events.
//!
//! - [`ProgressBar`]: a terminal progress bar for any run.

mod progress;

pub use progress::ProgressBar;
