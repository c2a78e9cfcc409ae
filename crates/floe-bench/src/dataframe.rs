//! Dataframes over `shared/bench/gen_table.py`'s table (`--data DIR` holding `table.csv`
//! and `parquet/*.parquet`): the queries of `shared/bench/w6_dataframe.py`, which runs the
//! same in Dask, pandas and Polars.
//!
//! - `csv_name`: read the CSV; `groupby("name").x.mean()` (1,000 groups);
//! - `pq_id`: read the Parquet files; `groupby("id").agg(x="sum", y="max")` (100,000
//!   groups);
//! - `pq_filter`: read the Parquet files; count the rows with `x > 0` and `y < 0`;
//! - `join_small`: `name, x` joined with a table of the 1,000 names and a `region` (one
//!   partition, broadcast), then `groupby("region").x.sum()`;
//! - `join_large`: `id, x` joined with a table of the 100,000 ids and a `segment` in 10
//!   partitions, then `groupby("segment").x.sum()`;
//! - `sort`: `id, x` sorted by `x` (`set_index("x")`), the sorted table computed.
//!
//! The joins and the sort are `python/bench/dataframe_shuffle.py`'s cases, which runs them
//! in Dask, pandas and Polars.

use std::sync::Arc;
use std::time::Instant;

use floe::dataframe::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use floe::dataframe::arrow::datatypes::{DataType, Field, Schema};
use floe::dataframe::{Agg, AggFunc, CsvOptions, DataFrame, JoinHow, col, lit};

use crate::report::Record;

pub const CASES: &[&str] = &[
    "csv_name",
    "pq_id",
    "pq_filter",
    "join_small",
    "join_large",
    "sort",
];

/// A dimension table in memory, split into `parts` row ranges: the 1,000 names and their
/// region, or the 100,000 ids and their segment (as `dataframe_shuffle.py` builds them).
fn dimension(names: bool, parts: usize) -> Result<DataFrame, floe::dataframe::Error> {
    let (key, value, n): (ArrayRef, ArrayRef, usize) = if names {
        (
            Arc::new(StringArray::from_iter_values(
                (0..1000).map(|i| format!("name_{i:04}")),
            )),
            Arc::new(Int64Array::from_iter_values((0..1000).map(|i| i % 10))),
            1000,
        )
    } else {
        (
            Arc::new(Int64Array::from_iter_values(0..100_000)),
            Arc::new(Int64Array::from_iter_values(
                (0..100_000_i64).map(|i| (i * 7919) % 100),
            )),
            100_000,
        )
    };
    let (k, v) = if names {
        ("name", "region")
    } else {
        ("id", "segment")
    };
    let key_type = key.data_type().clone();
    let schema = Arc::new(Schema::new(vec![
        Field::new(k, key_type, true),
        Field::new(v, DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(schema.clone(), vec![key, value])?;
    let parts = (0..parts)
        .map(|i| {
            let (a, b) = (n * i / parts, n * (i + 1) / parts);
            vec![batch.slice(a, b - a)]
        })
        .collect();
    DataFrame::from_batches(schema, parts)
}

pub fn run(case: &str, ctx: &crate::Ctx) -> Result<(), String> {
    let err = |e: floe::dataframe::Error| e.to_string();
    let dir = ctx
        .data
        .as_ref()
        .ok_or("the dataframe workload needs --data DIR (gen_table.py's output)")?;
    let csv = dir.join("table.csv");
    let pq = dir.join("parquet");
    let t0 = Instant::now();
    let (query, frame) = match case {
        "csv_name" => (
            "read_csv(table.csv).groupby('name').x.mean()",
            DataFrame::read_csv(&csv.to_string_lossy(), &CsvOptions::default())
                .and_then(|df| df.groupby(&["name"])?.agg_one("x", AggFunc::Mean))
                .map_err(err)?,
        ),
        "pq_id" => (
            "read_parquet(parquet/).groupby('id').agg(x=sum, y=max)",
            DataFrame::read_parquet(&pq.to_string_lossy(), None)
                .and_then(|df| {
                    df.groupby(&["id"])?.agg(vec![
                        Agg::new("x", AggFunc::Sum),
                        Agg::new("y", AggFunc::Max),
                    ])
                })
                .map_err(err)?,
        ),
        "pq_filter" => (
            "len(read_parquet(parquet/)[(x > 0) & (y < 0)])",
            DataFrame::read_parquet(&pq.to_string_lossy(), None)
                .and_then(|df| {
                    df.filter(col("x").gt(lit(0)) & col("y").lt(lit(0)))?
                        .count_rows()
                })
                .map_err(err)?,
        ),
        "join_small" | "join_large" => {
            let small = case == "join_small";
            let (key, by) = if small {
                ("name", "region")
            } else {
                ("id", "segment")
            };
            (
                if small {
                    "read_parquet(parquet/)[name, x].merge(names, on='name').groupby('region').x.sum()"
                } else {
                    "read_parquet(parquet/)[id, x].merge(ids, on='id').groupby('segment').x.sum()"
                },
                DataFrame::read_parquet(&pq.to_string_lossy(), Some(&[key.into(), "x".into()]))
                    .and_then(|big| {
                        let dim = dimension(small, if small { 1 } else { 10 })?;
                        big.merge(&dim, &[key], &[key], JoinHow::Inner, ("_x", "_y"))?
                            .groupby(&[by])?
                            .agg_one("x", AggFunc::Sum)
                    })
                    .map_err(err)?,
            )
        }
        "sort" => (
            "read_parquet(parquet/)[id, x].sort_values('x')",
            DataFrame::read_parquet(&pq.to_string_lossy(), Some(&["id".into(), "x".into()]))
                .and_then(|df| df.sort_values(&["x"], &[true], None))
                .map_err(err)?,
        ),
        other => {
            return Err(format!(
                "unknown case `{other}`; known: {}",
                CASES.join(", ")
            ));
        }
    };
    let build = t0.elapsed();
    // The input's partitions (the query's own result is one).
    let partitions = if case == "csv_name" {
        DataFrame::read_csv(&csv.to_string_lossy(), &CsvOptions::default())
    } else {
        DataFrame::read_parquet(&pq.to_string_lossy(), None)
    }
    .map_err(err)?
    .npartitions();
    let scheduler = ctx.scheduler()?;
    let t1 = Instant::now();
    let (out, stats) = floe::compute_with(&frame, &scheduler).map_err(|e| e.to_string())?;
    let exec = t1.elapsed();
    let mut r = Record::new("dataframe", case);
    r.set("query", query)
        .set("rows_out", out.num_rows())
        .set("partitions_in", partitions)
        .run(scheduler.threads(), &stats, build, exec);
    if case == "pq_filter" {
        let n = out
            .column(0)
            .as_any()
            .downcast_ref::<floe::dataframe::arrow::array::Int64Array>()
            .map(|a| a.value(0));
        r.set("count", n);
    }
    r.print();
    Ok(())
}
