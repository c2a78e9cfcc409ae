//! Diagnostics for floe runs, built as [`Subscriber`](floe_scheduler::Subscriber)s of the
//! scheduler's events, and pictures of graphs.
//!
//! - [`ProgressBar`]: a terminal progress bar for any run.
//! - [`Profiler`]: every task (key, worker, start, duration, output bytes), the bytes the
//!   scheduler held and the process's CPU and resident memory over time; rendered as a
//!   self-contained HTML timeline ([`Profile::to_html`]) or a Chrome trace
//!   ([`Profile::to_chrome_trace`], for Perfetto).
//! - [`to_dot`] / [`visualize`]: a task graph as Graphviz DOT (tasks as circles, data as
//!   boxes, optionally coloured by static order or by memory freed), SVG through Graphviz's
//!   `dot`, collapsed to operations for big graphs.
//! - [`layout`]: layered drawings of task graphs computed in Rust (layers, orders with few
//!   crossings, graphs collapsed to operations), for drawings made without Graphviz.

mod dot;
mod html;
pub mod layout;
mod profiler;
mod progress;
mod replay;

pub use dot::{Color, DotOptions, VisualizeError, to_dot, visualize};
pub use profiler::{Profile, Profiler, ResourceSample, RunGraph, TaskRecord};
pub use progress::ProgressBar;
