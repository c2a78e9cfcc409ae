//! The native module `floe._floe`: everything is defined in `floe-python`.

use pyo3::prelude::*;

/// floe's blocks are large and short-lived: mimalloc keeps their pages mapped between uses
/// instead of returning them to the kernel and faulting them in again (as the `floe` binary
/// does). Only Rust's allocations use it; Python's and NumPy's keep their own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _floe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    floe_python::register(m)
}
