//! floe-array against plain `ndarray`: property tests over random shapes (0-d to 4-d,
//! empty and length-1 axes included), random chunkings and operations; every computed
//! block has exactly the shape `chunks` declares.

mod support;

mod complex;
mod creation;
mod elementwise;
mod errors;
mod fused;
mod numpy;
mod overlap;
mod parallel;
mod pictures;
mod reductions;
mod reshape;
mod scans;
mod select;
mod slicing;
mod spec;
mod statistics;
mod vindex;
