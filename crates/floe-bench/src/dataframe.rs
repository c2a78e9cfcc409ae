//! Dataframes over `shared/bench/gen_table.py`'s table (`--data DIR` holding `table.csv`
//! and `parquet/*.parquet`): the queries of `shared/bench/w6_dataframe.py`, which runs the
//! same in Dask, pandas and Polars.
//!
//! - `csv_name`: read the CSV; `groupby("name").x.mean()` (1,000 groups);
//! - `pq_id`: read the Parquet files; `groupby("id").agg(x="sum", y="max")` (100,000
//!   groups);
//! - `pq_filter`: read the Parquet files; count the rows with `x > 0` and `y < 0`.

use std::time::Instant;

use floe::dataframe::{Agg, AggFunc, CsvOptions, DataFrame, col, lit};

use crate::report::Record;

pub const CASES: &[&str] = &["csv_name", "pq_id", "pq_filter"];

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
