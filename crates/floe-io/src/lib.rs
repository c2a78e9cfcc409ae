//! File formats for floe arrays: sources and sinks as graph nodes.
//!
//! - [`from_npy`] / [`to_npy`]: NumPy's `.npy`, read lazily block by block and written block
//!   by block in parallel.
//! - [`open_netcdf`] / [`open_mfnetcdf`] / [`describe`]: NetCDF classic and NetCDF4/HDF5
//!   variables (contiguous, chunked, compressed), CF-decoded, in pure Rust.
//!
//! - [`from_zarr`] / [`to_zarr`]: Zarr arrays on the filesystem (v2 and v3 read, v3 written;
//!   gzip, zstd and blosc codecs), through `zarrs`.
//!
//! Writing Zarr v2 and NetCDF come next (see the project's issues).

mod error;
mod netcdf;
mod npy;
mod zarr;

pub use error::{IoError, Result};
pub use netcdf::{VariableInfo, describe, open_mfnetcdf, open_netcdf};
pub use npy::{from_npy, to_npy};
pub use zarr::{from_zarr, to_zarr};
