//! The facade end to end: arrays and delayed values computed through `floe::compute`.

mod arrays;
mod budget;
