//! A terminal progress bar for any run.

use std::io::IsTerminal;
use std::time::Duration;

use floe_scheduler::{Event, Subscriber};
use parking_lot::RwLock;

/// A progress bar on standard error: tasks done out of the run's total, elapsed time and
/// an estimate of the time left. Silent when standard error is not a terminal (CI logs,
/// pipes) unless made with [`ProgressBar::always`].
///
/// Register it for every computation with `floe::subscribe` (or on a scheduler with
/// `SchedulerBuilder::subscriber`).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use floe_diagnostics::ProgressBar;
/// use floe_graph::{Graph, Key, Value};
/// use floe_scheduler::Scheduler;
///
/// let mut b = Graph::builder();
/// let x = b.add_fn(Key::named("x"), &[], |_| Ok(Value::unit()))?;
/// let bar = Arc::new(ProgressBar::new());
/// let scheduler = Scheduler::builder().subscriber(bar.clone()).build()?;
/// scheduler.run(&b.build(), &[x])?;
/// assert_eq!(bar.last_run(), Some((1, 1)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ProgressBar {
    visible: bool,
    bar: RwLock<Option<indicatif::ProgressBar>>,
    last: RwLock<Option<(u64, u64)>>,
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgressBar {
    /// A bar drawn when standard error is a terminal.
    pub fn new() -> Self {
        Self::with_visibility(std::io::stderr().is_terminal())
    }

    /// A bar drawn even when standard error is not a terminal.
    pub fn always() -> Self {
        Self::with_visibility(true)
    }

    fn with_visibility(visible: bool) -> Self {
        Self {
            visible,
            bar: RwLock::new(None),
            last: RwLock::new(None),
        }
    }

    /// Tasks done and total of the last finished run, if any.
    pub fn last_run(&self) -> Option<(u64, u64)> {
        *self.last.read()
    }

    fn start(&self, tasks: usize) {
        let bar = indicatif::ProgressBar::new(tasks as u64);
        if self.visible {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
            let style = indicatif::ProgressStyle::with_template(
                "[{bar:40.cyan/blue}] {percent:>3}% | {pos}/{len} tasks | {elapsed_precise} elapsed, ~{eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(100));
        } else {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        *self.bar.write() = Some(bar);
    }

    fn finish(&self, failed: bool) {
        if let Some(bar) = self.bar.write().take() {
            *self.last.write() = Some((bar.position(), bar.length().unwrap_or(0)));
            if failed {
                bar.abandon_with_message("failed");
            } else {
                bar.finish();
            }
        }
    }
}

impl Subscriber for ProgressBar {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted { tasks, .. } => self.start(*tasks),
            Event::TaskFinished { .. } => {
                if let Some(bar) = self.bar.read().as_ref() {
                    bar.inc(1);
                }
            }
            Event::RunFinished { error, .. } => self.finish(error.is_some()),
            _ => {}
        }
    }
}
