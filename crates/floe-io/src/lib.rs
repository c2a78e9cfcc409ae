//! File formats for floe arrays: sources and sinks as graph nodes.
//!
//! - [`from_npy`] / [`to_npy`]: NumPy's `.npy`, read lazily block by block and written block
//!   by block in parallel.
//!
//! NetCDF4/HDF5 and Zarr come next (see the project's issues).

mod error;
mod npy;

pub use error::{IoError, Result};
pub use npy::{from_npy, to_npy};
