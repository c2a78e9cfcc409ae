//! What a run returns: its outputs and statistics.

use std::time::Duration;

use floe_graph::Value;

/// Statistics of one run.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct RunStats {
    /// The number of tasks run.
    pub tasks: usize,
    /// The number of workers.
    pub threads: usize,
    /// Wall time from the start of the run to its end.
    pub wall: Duration,
    /// The most bytes held by results at any moment.
    pub peak_bytes: usize,
    /// Bytes the meter still counted when the run ended: the outputs' sizes on success;
    /// after a failure everything is freed and the meter is back at 0.
    pub held_bytes_at_end: usize,
    /// The memory budget the run kept, if one was set.
    pub memory_limit: Option<usize>,
    /// Bytes of held values written to spill files to stay within the budget.
    pub spilled_bytes: usize,
    /// Bytes of dropped values rebuilt by running their tasks again.
    pub recomputed_bytes: usize,
}

/// The outputs of a successful run and its statistics.
#[derive(Debug)]
pub struct RunOutput {
    /// One value per requested output, in the order requested.
    pub values: Vec<Value>,
    /// What the run did.
    pub stats: RunStats,
}
