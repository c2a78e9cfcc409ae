//! File formats for floe arrays: sources and sinks as graph nodes.
//!
//! - [`from_npy`] / [`to_npy`]: NumPy's `.npy`, read lazily block by block and written block
//!   by block in parallel.
//! - [`open_netcdf`] / [`open_mfnetcdf`] / [`describe`]: NetCDF classic and NetCDF4/HDF5
//!   variables (contiguous, chunked, compressed), CF-decoded, in pure Rust.
//!
//! - [`from_zarr`] / [`to_zarr`] / [`to_zarr_v2`]: Zarr arrays on the filesystem (v2 and v3,
//!   read and written; gzip, zstd and blosc codecs when reading), through `zarrs`.
//!
//! - [`to_netcdf`] (feature `netcdf-write`, needs the NetCDF C library): an array as a
//!   NetCDF4 variable, chunked like its blocks.
//!
//! Every array read here is described as data too (the reader, the file's path, size and
//! modification time, the variable): a graph written down for a cluster reads its files
//! on the workers, through the readers [`register_readers`] registers there.

mod error;
mod netcdf;
mod netcdf_chunked;
#[cfg(feature = "netcdf-write")]
mod netcdf_write;
mod npy;
mod readers;
mod sink;
mod zarr;

pub use error::{IoError, Result};
pub use netcdf::{VariableInfo, describe, open_mfnetcdf, open_netcdf};
#[cfg(feature = "netcdf-write")]
pub use netcdf_write::{NetcdfOptions, to_netcdf};
pub use npy::{from_npy, to_npy};
pub use readers::register_readers;
pub use sink::sink;
pub use zarr::{from_zarr, to_zarr, to_zarr_v2};

/// Asks the kernel to read the file at `path` into the page cache in the background
/// (`posix_fadvise(WILLNEED)`), for the readers' read-ahead. A hint only: a file that cannot
/// be opened here fails in its own read.
pub(crate) fn will_need(path: &std::path::Path) {
    if let Ok(f) = std::fs::File::open(path) {
        let _ = rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::WillNeed);
    }
}
