//! Integration tests of the scheduler: random graphs against a sequential oracle, failure
//! injection under a watchdog, memory release, events, cancellation.

mod support;

mod budget;

mod events;
mod failures;
mod memory;
mod random_graphs;
mod split;
