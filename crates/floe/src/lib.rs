//! floe: parallel, larger-than-memory computing on task graphs.
//!
//! Collections build task graphs; nothing runs until `compute()`. This crate is the facade:
//!
//! - [`delayed`] (and [`delayed2`]…[`delayed4`], the `try_` variants): wrap any function
//!   so that calling it builds a graph;
//! - [`compute`]: run one or several collections, sharing their common work;
//! - [`config`]: threads and executor for every computation, and [`subscribe`] for
//!   diagnostics such as the [`diagnostics::ProgressBar`];
//! - the layers underneath: [`graph`] (tasks, passes) and [`scheduler`] (the executors).
//!
//! # Examples
//!
//! ```
//! use floe::{delayed, delayed2, Delayed};
//!
//! fn load(i: &u64) -> Vec<u64> {
//!     (0..1000).map(|x| x * i).collect()
//! }
//! fn clean(x: &Vec<u64>) -> Vec<u64> {
//!     x.iter().copied().filter(|v| v % 3 != 0).collect()
//! }
//! fn summarize(x: &Vec<u64>) -> u64 {
//!     x.iter().sum()
//! }
//!
//! let parts: Vec<Delayed<u64>> = (1..=8_u64)
//!     .map(|i| delayed(summarize)(delayed(clean)(delayed(load)(i))))
//!     .collect();
//! let total = Delayed::collect(parts).map(|v: &Vec<u64>| v.iter().sum::<u64>());
//! let expected: u64 = (1..=8_u64)
//!     .map(|i| (0..1000).map(|x| x * i).filter(|v| v % 3 != 0).sum::<u64>())
//!     .sum();
//! assert_eq!(total.compute()?, expected);
//! # Ok::<(), floe::Error>(())
//! ```

mod compute;
/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

pub mod config;
mod delayed;
mod error;

pub use compute::{
    Compute, Outputs, Roots, compute, compute_chunk_sizes, compute_with, graph, persist, plan,
    visualize,
};
pub use config::{Config, Subscription, subscribe, subscribe_arc};
pub use delayed::{
    Arg, Delayed, delayed, delayed2, delayed3, delayed4, try_delayed, try_delayed2, try_delayed3,
    try_delayed4,
};
pub use error::{Error, Result};

/// Chunked n-d arrays with NumPy's interface (`floe-array`), plus [`ArrayCompute`]
/// (`x.compute()`, `x.compute_as::<f64>()`).
///
/// # Examples
///
/// ```
/// use floe::array::{self, ArrayCompute, DType};
///
/// let x = array::ones(&[5000, 1000], [1000_usize, 1000], DType::F64)?;
/// let col = x.sum(0)?.compute_as::<f64>()?;
/// assert!(col.iter().all(|&v| v == 5000.0));
/// # Ok::<(), floe::Error>(())
/// ```
pub mod array {
    pub use crate::array_compute::ArrayCompute;
    pub use floe_array::*;

    /// Blocked linear algebra (`floe-linalg`): `matmul`, `tsqr`, `qr`, `svd`,
    /// `svd_compressed`, solvers and norms. Feature `linalg` (on by default).
    ///
    /// ```
    /// use floe::array::{self, ArrayCompute, DType};
    ///
    /// let x = array::ones(&[5000, 1000], [1000_usize, 1000], DType::F64)?;
    /// let (u, s, v) = array::linalg::svd_compressed(&x, 10, 2, 10, 0)?;
    /// let s = s.compute_as::<f64>()?;
    /// assert!((s[0] - (5000.0_f64 * 1000.0).sqrt()).abs() < 1e-6);
    /// # Ok::<(), floe::Error>(())
    /// ```
    #[cfg(feature = "linalg")]
    pub mod linalg {
        pub use floe_linalg::*;
    }
}

mod array_compute;

/// Partitioned dataframes (`floe-dataframe`): CSV and Parquet read by partitions, filters,
/// new columns, group-by aggregations; `floe::compute(&df)` returns one Arrow record batch.
/// Feature `dataframe`.
///
/// ```
/// use floe::dataframe::{col, lit, AggFunc, DataFrame, arrow::array::*};
/// use floe::dataframe::arrow::datatypes::{DataType, Field, Schema};
/// use std::sync::Arc;
///
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("k", DataType::Int64, true),
///     Field::new("x", DataType::Float64, true),
/// ]));
/// let batch = |k: Vec<i64>, x: Vec<f64>| RecordBatch::try_new(schema.clone(), vec![
///     Arc::new(Int64Array::from(k)), Arc::new(Float64Array::from(x))]).unwrap();
/// let df = DataFrame::from_batches(schema.clone(), vec![
///     vec![batch(vec![1, 2, 1], vec![1.0, 2.0, 3.0])],
///     vec![batch(vec![2], vec![-4.0])],
/// ])?;
/// let sums = floe::compute(&df.filter(col("x").gt(lit(0)))?.groupby(&["k"])?.agg_one("x", AggFunc::Sum)?)?;
/// let x = sums.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
/// assert_eq!(x.values().to_vec(), vec![4.0, 2.0]);
/// # Ok::<(), floe::Error>(())
/// ```
#[cfg(feature = "dataframe")]
pub mod dataframe {
    pub use floe_dataframe::*;
}

/// Reading and writing arrays (`floe-io`): `.npy`, Zarr, NetCDF.
///
/// # Examples
///
/// ```
/// use floe::array::{self, ArrayCompute, DType};
///
/// # let dir = std::env::temp_dir().join(format!("floe-io-facade-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let x = array::linspace(0.0, 1.0, 101, true, 25)?;
/// floe::io::store_npy(&x, dir.join("x.npy"))?;
/// let y = floe::io::from_npy(dir.join("x.npy"), 50)?;
/// assert_eq!(y.compute()?.into_f64()?[[100]], 1.0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), floe::Error>(())
/// ```
pub mod io {
    pub use floe_io::*;

    /// Writes `array` to a `.npy` file at `path`, block by block in parallel, with the
    /// process-wide settings; returns when every block is written.
    ///
    /// # Errors
    ///
    /// If the file cannot be created or written, or a block fails to compute (naming it).
    pub fn store_npy(
        array: &floe_array::Array,
        path: impl AsRef<std::path::Path>,
    ) -> crate::Result<()> {
        crate::compute(&floe_io::to_npy(array, path)?).map(drop)
    }

    /// Writes `array` as a Zarr v3 array in the directory `path` (Zarr chunks of the array's
    /// largest block, zstd-compressed), chunk by chunk in parallel; returns when all are written.
    ///
    /// # Errors
    ///
    /// If the store cannot be created or written, or a block fails to compute (naming it).
    pub fn store_zarr(
        array: &floe_array::Array,
        path: impl AsRef<std::path::Path>,
    ) -> crate::Result<()> {
        crate::compute(&floe_io::to_zarr(array, path)?).map(drop)
    }

    /// Writes `array` as variable `var` of a new NetCDF4 file at `path` (chunked like its
    /// blocks), computing blocks in parallel; returns when all are written and flushed.
    /// Needs the `netcdf-write` feature (and the NetCDF C library).
    ///
    /// # Errors
    ///
    /// As [`floe_io::to_netcdf`], or a block that fails to compute (naming it).
    #[cfg(feature = "netcdf-write")]
    pub fn store_netcdf(
        array: &floe_array::Array,
        path: impl AsRef<std::path::Path>,
        var: &str,
        options: &floe_io::NetcdfOptions,
    ) -> crate::Result<()> {
        crate::compute(&floe_io::to_netcdf(array, path, var, options)?).map(drop)
    }
}

/// Task graphs and the passes over them (`floe-graph`).
pub mod graph {
    pub use floe_graph::*;
}

/// The scheduler (`floe-scheduler`).
pub mod scheduler {
    pub use floe_scheduler::*;
}

/// Diagnostics: progress bar (`floe-diagnostics`).
pub mod diagnostics {
    pub use floe_diagnostics::*;
}

/// Profiles every run from now until the returned guard is dropped; read the profile from
/// the guard (see [`diagnostics::Profiler`]).
///
/// # Examples
///
/// ```
/// let profiling = floe::profile();
/// let x = floe::array::random::uniform(&[1000, 1000], 250_usize, 0, 0.0, 1.0)?;
/// floe::compute(&x.mean(0)?)?;
/// let profile = profiling.profile();
/// assert_eq!(profile.runs.len(), 1);
/// // 16 blocks in 4 columns: each column's blocks generated and summed band by band by one
/// // task (no block is ever made whole), then finished.
/// assert!(profile.tasks.len() >= 4);
/// let html = profile.to_html("mean of a random array"); // or profiling.write_html(path, title)
/// # Ok::<(), floe::Error>(())
/// ```
pub fn profile() -> Profiling {
    let profiler = std::sync::Arc::new(diagnostics::Profiler::new());
    let subscription = subscribe_arc(profiler.clone());
    Profiling {
        profiler,
        _subscription: subscription,
    }
}

/// Keeps a profiler subscribed (see [`profile`]).
#[must_use = "profiling stops when this guard is dropped"]
pub struct Profiling {
    profiler: std::sync::Arc<diagnostics::Profiler>,
    _subscription: Subscription,
}

impl Profiling {
    /// What was recorded so far.
    pub fn profile(&self) -> diagnostics::Profile {
        self.profiler.profile()
    }

    /// Writes the profile: a Chrome trace if `path` ends in `.json`, else the HTML page.
    ///
    /// # Errors
    ///
    /// If the file cannot be written.
    pub fn write(&self, path: impl AsRef<std::path::Path>, title: &str) -> std::io::Result<()> {
        let path = path.as_ref();
        let p = self.profile();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::write(path, p.to_chrome_trace())
        } else {
            p.write_html(path, title)
        }
    }
}

/// The names most programs need.
pub mod prelude {
    pub use crate::array::ArrayCompute;
    pub use crate::{Delayed, compute, delayed, delayed2, delayed3, delayed4, try_delayed};
}
