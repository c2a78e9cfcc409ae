//! Partitioned dataframes: Dask's dataframe model on Arrow.
//!
//! A [`DataFrame`] is a lazy plan over partitions — byte ranges of CSV files, Parquet
//! files, record batches in memory — each partition a list of Arrow record batches.
//! Selections, filters, new columns and aggregations extend the plan and are checked
//! against the schema at once (an unknown column is an error naming it, before anything
//! runs); computing lowers the plan to floe's task graph: one task per partition and
//! operation, and a tree of merges for aggregations, run by floe's scheduler (the same
//! threads, memory budget and diagnostics as arrays). Each source reads only the columns
//! the plan uses.
//!
//! Group-by is a hash aggregation written here: each partition's rows into per-group
//! partial states (sum and count for a mean; count, mean and M2 for a variance), merged
//! `split_every` at a time, then sorted by key as pandas sorts. Missing values are skipped
//! and rows with a missing key belong to no group, as in pandas.
//!
//! ```
//! use floe_dataframe::{col, lit, Agg, AggFunc, CsvOptions, DataFrame};
//! # let dir = std::env::temp_dir().join(format!("floe-df-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("t.csv");
//! # std::fs::write(&path, "name,x,y\na,1.5,2\nb,-1,3\na,2.5,-4\n").unwrap();
//! let df = DataFrame::read_csv(path.to_str().unwrap(), &CsvOptions::default())?;
//! assert_eq!(df.columns(), vec!["name", "x", "y"]);
//! let per_name = df
//!     .filter(col("x").gt(lit(0)))?
//!     .groupby(&["name"])?
//!     .agg(vec![Agg::new("x", AggFunc::Mean), Agg::new("y", AggFunc::Max).alias("y_max")])?;
//! assert_eq!(per_name.columns(), vec!["name", "x", "y_max"]);
//! assert!(df.select(&["z"]).is_err()); // no column 'z'
//! # Ok::<(), floe_dataframe::Error>(())
//! ```

mod agg;
mod csv;
mod error;
mod expr;
mod frame;
mod join;
mod prune;
mod sink;
mod sort;
mod source;
mod spill;
mod window;

pub use agg::{Agg, AggFunc};
pub use error::{Error, Result};
pub use expr::{BinaryOp, DtOp, Expr, Literal, StrOp, col, lit};
pub use frame::{DataFrame, GroupBy, PartitionFn};
pub use join::JoinHow;
pub use source::{CsvOptions, Partition};
pub use window::Window;

/// Arrow, as this crate uses it (record batches, arrays, types).
pub use arrow;
