//! Dataframes computed on floe's scheduler against plain Rust references, over random
//! frames and partitionings (empty partitions, nulls, NaN, all-null groups, string keys),
//! and the errors bad input gets.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use floe_dataframe::{Agg, AggFunc, CsvOptions, DataFrame, Error, JoinHow, Window, col, lit};
use floe_graph::GraphBuilder;
use floe_scheduler::Scheduler;
use proptest::prelude::*;

fn compute(df: &DataFrame) -> Result<RecordBatch, String> {
    let mut b = GraphBuilder::default();
    let out = df.lower(&mut b).map_err(|e| e.to_string())?;
    // As `floe::compute`: tasks no output needs (partitions a `head` skips) are culled.
    let (graph, outs) = floe_graph::cull(&b.build(), &[out]).map_err(|e| e.to_string())?;
    let out = outs[0];
    let s = Scheduler::builder()
        .threads(2)
        .build()
        .map_err(|e| e.to_string())?;
    let run = s.run(&graph, &[out]).map_err(|e| e.to_string())?;
    run.values
        .into_iter()
        .next()
        .and_then(|v| v.take::<RecordBatch>().ok())
        .ok_or_else(|| "no record batch".to_owned())
}

/// One row of the test frames: a string key, an integer key, two values.
#[derive(Clone, Debug)]
struct Row {
    name: Option<String>,
    id: Option<i64>,
    x: Option<f64>,
    y: Option<i64>,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("id", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Int64, true),
    ]))
}

fn batch(rows: &[Row]) -> RecordBatch {
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(rows.iter().map(|r| r.name.clone()).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| r.id).collect::<Int64Array>()),
            Arc::new(rows.iter().map(|r| r.x).collect::<Float64Array>()),
            Arc::new(rows.iter().map(|r| r.y).collect::<Int64Array>()),
        ],
    )
    .unwrap()
}

/// Rows split into partitions at `cuts`, each partition in batches of at most 3 rows
/// (some partitions empty).
fn frame(rows: &[Row], cuts: &[usize]) -> DataFrame {
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(rows.len())).collect();
    bounds.push(0);
    bounds.push(rows.len());
    bounds.sort_unstable();
    let parts = bounds
        .windows(2)
        .map(|w| rows[w[0]..w[1]].chunks(3).map(batch).collect())
        .collect();
    DataFrame::from_batches(schema(), parts).unwrap()
}

fn row() -> impl Strategy<Value = Row> {
    (
        prop::option::weighted(0.9, prop::sample::select(vec!["a", "b", "c", "é"])),
        prop::option::weighted(0.9, 0_i64..6),
        prop::option::weighted(
            0.85,
            prop_oneof![9 => -100.0..100.0_f64, 1 => Just(f64::NAN)],
        ),
        prop::option::weighted(0.85, -50_i64..50),
    )
        .prop_map(|(name, id, x, y)| Row {
            name: name.map(str::to_owned),
            id,
            x,
            y,
        })
}

fn present(x: Option<f64>) -> Option<f64> {
    x.filter(|v| !v.is_nan())
}

fn floats(b: &RecordBatch, c: usize) -> Vec<Option<f64>> {
    b.column(c).as_primitive::<Float64Type>().iter().collect()
}

fn ints(b: &RecordBatch, c: usize) -> Vec<Option<i64>> {
    b.column(c).as_primitive::<Int64Type>().iter().collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())),
        (None, None) => true,
        _ => false,
    }
}

/// The reference group-by: per present key, (sum x, count x, max y, min x, var x, size).
type Stats = (f64, i64, Option<i64>, Option<f64>, Vec<f64>, i64);

fn reference<K: Ord + Clone>(rows: &[Row], key: impl Fn(&Row) -> Option<K>) -> BTreeMap<K, Stats> {
    let mut m: BTreeMap<K, Stats> = BTreeMap::new();
    for r in rows {
        let Some(k) = key(r) else { continue };
        let e = m.entry(k).or_insert((0.0, 0, None, None, Vec::new(), 0));
        e.5 += 1;
        if let Some(x) = present(r.x) {
            e.0 += x;
            e.1 += 1;
            e.3 = Some(e.3.map_or(x, |m: f64| m.min(x)));
            e.4.push(x);
        }
        if let Some(y) = r.y {
            e.2 = Some(e.2.map_or(y, |m: i64| m.max(y)));
        }
    }
    m
}

fn sample_var(v: &[f64]) -> Option<f64> {
    if v.len() < 2 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    Some(v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (v.len() - 1) as f64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn groupby_by_string_key_matches_the_reference(
        rows in prop::collection::vec(row(), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..5),
        split_every in 2_usize..4,
    ) {
        let df = frame(&rows, &cuts);
        let out = compute(&df.groupby(&["name"]).unwrap().split_every(split_every).agg(vec![
            Agg::new("x", AggFunc::Sum),
            Agg::new("x", AggFunc::Count).alias("n"),
            Agg::new("y", AggFunc::Max).alias("y_max"),
            Agg::new("x", AggFunc::Min).alias("x_min"),
            Agg::new("x", AggFunc::Var).alias("x_var"),
            Agg::new("x", AggFunc::Mean).alias("x_mean"),
            Agg::size("size"),
        ]).unwrap()).unwrap();
        let want = reference(&rows, |r| r.name.clone());
        prop_assert_eq!(out.num_rows(), want.len());
        let names: Vec<String> =
            out.column(0).as_string::<i32>().iter().map(|s| s.unwrap().to_owned()).collect();
        prop_assert_eq!(names, want.keys().cloned().collect::<Vec<_>>(), "sorted keys");
        for (i, (_, s)) in want.iter().enumerate() {
            prop_assert!(close(floats(&out, 1)[i], Some(s.0)));
            prop_assert_eq!(ints(&out, 2)[i], Some(s.1));
            prop_assert_eq!(ints(&out, 3)[i], s.2);
            prop_assert_eq!(floats(&out, 4)[i], s.3);
            prop_assert!(close(floats(&out, 5)[i], sample_var(&s.4)), "var {:?} {:?}", floats(&out, 5)[i], sample_var(&s.4));
            let mean = (s.1 > 0).then(|| s.0 / s.1 as f64);
            prop_assert!(close(floats(&out, 6)[i], mean));
            prop_assert_eq!(ints(&out, 7)[i], Some(s.5));
        }
    }

    #[test]
    fn groupby_first_last_and_nunique_follow_row_order_across_partitions(
        rows in prop::collection::vec(row(), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..5),
        split_every in 2_usize..4,
    ) {
        let df = frame(&rows, &cuts);
        let out = compute(&df.groupby(&["id"]).unwrap().split_every(split_every).agg(vec![
            Agg::new("name", AggFunc::First),
            Agg::new("name", AggFunc::Last).alias("name_last"),
            Agg::new("x", AggFunc::First).alias("x_first"),
            Agg::new("y", AggFunc::Last).alias("y_last"),
            Agg::new("name", AggFunc::Nunique).alias("names"),
            Agg::new("x", AggFunc::Nunique).alias("xs"),
            Agg::new("y", AggFunc::Nunique).alias("ys"),
        ]).unwrap()).unwrap();
        // The reference: per present key, in row order, the values present.
        type Seen = (Vec<String>, Vec<f64>, Vec<i64>);
        let mut want: BTreeMap<i64, Seen> = BTreeMap::new();
        for r in &rows {
            let Some(k) = r.id else { continue };
            let e = want.entry(k).or_default();
            e.0.extend(r.name.clone());
            e.1.extend(present(r.x));
            e.2.extend(r.y);
        }
        prop_assert_eq!(ints(&out, 0), want.keys().map(|&k| Some(k)).collect::<Vec<_>>());
        let text = |b: &RecordBatch, c: usize, i: usize| {
            let a = b.column(c).as_string::<i32>();
            a.iter().nth(i).flatten().map(str::to_owned)
        };
        let distinct = |mut v: Vec<String>| { v.sort(); v.dedup(); v.len() as i64 };
        for (i, (names, xs, ys)) in want.values().enumerate() {
            prop_assert_eq!(text(&out, 1, i), names.first().cloned());
            prop_assert_eq!(text(&out, 2, i), names.last().cloned());
            prop_assert_eq!(floats(&out, 3)[i], xs.first().copied());
            prop_assert_eq!(ints(&out, 4)[i], ys.last().copied());
            prop_assert_eq!(ints(&out, 5)[i], Some(distinct(names.clone())));
            let x_bits = xs.iter().map(|x| (x + 0.0).to_bits().to_string()).collect();
            prop_assert_eq!(ints(&out, 6)[i], Some(distinct(x_bits)));
            prop_assert_eq!(ints(&out, 7)[i], Some(distinct(ys.iter().map(i64::to_string).collect())));
        }
        // Frame-wide: one group.
        let out = compute(&df.agg(vec![
            Agg::new("name", AggFunc::First),
            Agg::new("x", AggFunc::Last),
            Agg::new("name", AggFunc::Nunique).alias("n"),
        ]).unwrap()).unwrap();
        let names: Vec<String> = rows.iter().filter_map(|r| r.name.clone()).collect();
        let xs: Vec<f64> = rows.iter().filter_map(|r| present(r.x)).collect();
        prop_assert_eq!(text(&out, 0, 0), names.first().cloned());
        prop_assert_eq!(floats(&out, 1)[0], xs.last().copied());
        prop_assert_eq!(ints(&out, 2)[0], Some(distinct(names)));
    }

    #[test]
    fn groupby_by_two_keys_and_by_integer_key_match_the_reference(
        rows in prop::collection::vec(row(), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..5),
    ) {
        let df = frame(&rows, &cuts);
        let out = compute(&df.groupby(&["id"]).unwrap().agg_one("x", AggFunc::Sum).unwrap()).unwrap();
        let want = reference(&rows, |r| r.id);
        prop_assert_eq!(ints(&out, 0), want.keys().map(|&k| Some(k)).collect::<Vec<_>>());
        for (i, s) in want.values().enumerate() {
            prop_assert!(close(floats(&out, 1)[i], Some(s.0)));
        }
        let out = compute(&df.groupby(&["name", "id"]).unwrap().agg_one("y", AggFunc::Max).unwrap()).unwrap();
        let want = reference(&rows, |r| Some((r.name.clone()?, r.id?)));
        prop_assert_eq!(out.num_rows(), want.len());
        for (i, ((name, id), s)) in want.iter().enumerate() {
            prop_assert_eq!(out.column(0).as_string::<i32>().value(i), name.as_str());
            prop_assert_eq!(ints(&out, 1)[i], Some(*id));
            prop_assert_eq!(ints(&out, 2)[i], s.2);
        }
    }

    #[test]
    fn filters_new_columns_and_counts_match_the_reference(
        rows in prop::collection::vec(row(), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..5),
        t in -60.0..60.0_f64,
    ) {
        let df = frame(&rows, &cuts);
        let kept = df
            .with_column("z", col("x") * lit(2) + col("y"))
            .unwrap()
            .filter(col("z").gt(lit(t)).or(col("name").eq(lit("a"))))
            .unwrap()
            .select(&["z", "name"])
            .unwrap();
        let out = compute(&kept).unwrap();
        let want: Vec<(Option<f64>, Option<String>)> = rows
            .iter()
            .map(|r| {
                let z = match (r.x, r.y) {
                    (Some(x), Some(y)) => Some(x * 2.0 + y as f64),
                    _ => None,
                };
                (z, r.name.clone())
            })
            .filter(|(z, name)| z.is_some_and(|z| z > t) || name.as_deref() == Some("a"))
            .collect();
        prop_assert_eq!(out.num_rows(), want.len());
        let names: Vec<Option<String>> =
            out.column(1).as_string::<i32>().iter().map(|s| s.map(str::to_owned)).collect();
        for (i, (z, name)) in want.iter().enumerate() {
            prop_assert!(close(floats(&out, 0)[i], *z) || (z.is_some_and(f64::is_nan) && floats(&out, 0)[i].is_some_and(f64::is_nan)));
            prop_assert_eq!(&names[i], name);
        }
        let n = compute(&kept.count_rows().unwrap()).unwrap();
        prop_assert_eq!(ints(&n, 0), vec![Some(want.len() as i64)]);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floe-df-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn csv_partitions_split_at_line_ends_and_read_only_the_columns_used() {
    let dir = temp_dir("csv");
    let path = dir.join("t.csv");
    let mut text = String::from("name,x,when,y\n");
    let mut want = BTreeMap::<String, (f64, i64)>::new();
    for i in 0..997 {
        let name = format!("n{}", i % 7);
        let x = (i as f64) * 0.25 - 30.0;
        text.push_str(&format!(
            "{name},{x},2015-01-{:02} 10:00:00,{}\n",
            i % 28 + 1,
            i
        ));
        let e = want.entry(name).or_insert((0.0, 0));
        e.0 += x;
        e.1 += 1;
    }
    std::fs::write(&path, &text).unwrap();
    for blocksize in [50, 1000, 1 << 20] {
        let opts = CsvOptions {
            blocksize,
            ..CsvOptions::default()
        };
        let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
        assert_eq!(df.columns(), vec!["name", "x", "when", "y"]);
        // Dates stay strings unless parse_dates names them (pandas' default).
        assert_eq!(df.schema().field(2).data_type(), &DataType::Utf8);
        // Partitions of `blocksize` bytes after the header (one when the file is smaller).
        let data = text.len() - "name,x,when,y\n".len();
        assert_eq!(
            df.npartitions(),
            data.div_ceil(blocksize),
            "blocksize {blocksize}"
        );
        let out = compute(
            &df.groupby(&["name"])
                .unwrap()
                .agg_one("x", AggFunc::Mean)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(out.num_rows(), 7);
        for (i, (name, (s, n))) in want.iter().enumerate() {
            assert_eq!(out.column(0).as_string::<i32>().value(i), name);
            assert!(close(floats(&out, 1)[i], Some(s / *n as f64)));
        }
        let n = compute(&df.count_rows().unwrap()).unwrap();
        assert_eq!(ints(&n, 0), vec![Some(997)], "blocksize {blocksize}");
    }
    let opts = CsvOptions {
        usecols: Some(vec!["y".into(), "when".into()]),
        parse_dates: vec!["when".into()],
        ..CsvOptions::default()
    };
    let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
    // usecols keep the file's order, as pandas keeps it.
    assert_eq!(df.columns(), vec!["when", "y"]);
    assert!(matches!(
        df.schema().field(0).data_type(),
        DataType::Timestamp(..)
    ));
    let late = compute(
        &df.filter(col("when").gt_eq(lit("2015-01-20 00:00:00")))
            .unwrap()
            .count_rows()
            .unwrap(),
    )
    .unwrap();
    let expected = (0..997).filter(|i| i % 28 + 1 >= 20).count() as i64;
    assert_eq!(ints(&late, 0), vec![Some(expected)]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csv_line_ends_blank_lines_and_field_counts() {
    let dir = temp_dir("csv-edges");
    // CRLF line ends, a blank line, no line end at the end of the file.
    let path = dir.join("crlf.csv");
    std::fs::write(&path, "k,x\r\na,1\r\n\r\nb,2\r\na,3").unwrap();
    for blocksize in [1, 4, 100] {
        let opts = CsvOptions {
            blocksize,
            ..CsvOptions::default()
        };
        let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
        let out = compute(
            &df.groupby(&["k"])
                .unwrap()
                .agg_one("x", AggFunc::Sum)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            ints(&out, 1),
            vec![Some(4), Some(2)],
            "blocksize {blocksize}"
        );
    }
    // A row with a field too few, after a blank line: its own line is named.
    let path = dir.join("short.csv");
    std::fs::write(&path, "id,x\n1,1.5\n\n2\n3,4.5\n").unwrap();
    let err = DataFrame::read_csv(path.to_str().unwrap(), &CsvOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("short.csv, line 4"),
        "found while inferring: {err}"
    );
    let opts = CsvOptions {
        sample_rows: 1,
        ..CsvOptions::default()
    };
    let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
    let err = compute(&df).unwrap_err();
    assert!(err.contains("short.csv, line 4"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csv_files_of_a_pattern_unify_their_types_or_name_the_clash() {
    let dir = temp_dir("csv-glob");
    std::fs::write(dir.join("a.csv"), "k,x,note\n1,1.5,\n2,2.5,\n").unwrap();
    std::fs::write(dir.join("b.csv"), "k,x,note\n3,4,hi\n").unwrap();
    let pattern = dir.join("*.csv");
    let df = DataFrame::read_csv(pattern.to_str().unwrap(), &CsvOptions::default()).unwrap();
    assert_eq!(df.npartitions(), 2);
    assert_eq!(df.schema().field(1).data_type(), &DataType::Float64);
    assert_eq!(df.schema().field(2).data_type(), &DataType::Utf8);
    let out = compute(
        &df.agg(vec![
            Agg::new("x", AggFunc::Sum),
            Agg::new("note", AggFunc::Count),
        ])
        .unwrap(),
    )
    .unwrap();
    assert_eq!(floats(&out, 0), vec![Some(8.0)]);
    assert_eq!(ints(&out, 1), vec![Some(1)], "empty fields are missing");
    std::fs::write(dir.join("c.csv"), "k,x,note\nx,1,a\n").unwrap();
    let e = DataFrame::read_csv(pattern.to_str().unwrap(), &CsvOptions::default()).unwrap_err();
    assert!(
        matches!(&e, Error::TypeClash { column, .. } if column == "k"),
        "{e}"
    );
    assert!(e.to_string().contains("c.csv"), "{e}");
    std::fs::write(dir.join("c.csv"), "k,y,note\n1,1,a\n").unwrap();
    let e = DataFrame::read_csv(pattern.to_str().unwrap(), &CsvOptions::default()).unwrap_err();
    assert!(e.to_string().contains("has columns"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_malformed_csv_row_names_the_file_line_and_column() {
    let dir = temp_dir("bad-csv");
    let path = dir.join("bad.csv");
    let mut text = String::from("id,x\n");
    for i in 0..500 {
        text.push_str(&format!("{i},{}.5\n", i));
    }
    text.push_str("500,oops\n");
    for i in 501..600 {
        text.push_str(&format!("{i},{}.5\n", i));
    }
    std::fs::write(&path, &text).unwrap();
    // Types inferred from the first 100 rows: x is a float column.
    let opts = CsvOptions {
        blocksize: 1000,
        sample_rows: 100,
        ..CsvOptions::default()
    };
    let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
    let err = compute(&df.agg(vec![Agg::new("x", AggFunc::Sum)]).unwrap()).unwrap_err();
    // Line 502: the header is line 1, id 0 is line 2.
    assert!(err.contains("bad.csv, line 502"), "{err}");
    assert!(err.contains("column 'x'"), "{err}");
    assert!(err.contains("oops"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unknown_columns_missing_files_and_bad_types_are_errors_before_running() {
    let df = frame(&[], &[]);
    let e = df.select(&["nope"]).unwrap_err();
    assert!(
        matches!(&e, Error::ColumnNotFound { name, .. } if name == "nope"),
        "{e}"
    );
    assert!(df.groupby(&["x", "zz"]).is_err());
    assert!(
        df.filter(col("x") + lit(1)).is_err(),
        "a filter must be boolean"
    );
    assert!(
        df.groupby(&["name"])
            .unwrap()
            .agg_one("name", AggFunc::Sum)
            .is_err()
    );
    assert!(matches!(
        DataFrame::read_csv("/no/such/dir/t.csv", &CsvOptions::default()),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        DataFrame::read_parquet("/no/such/dir/*.parquet", None),
        Err(Error::Io { .. } | Error::NoFiles(_))
    ));
    // Aggregating an empty frame gives no groups, and a frame-wide count of zero.
    let out = compute(
        &df.groupby(&["name"])
            .unwrap()
            .agg_one("x", AggFunc::Sum)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(out.num_rows(), 0);
    let n = compute(&df.count_rows().unwrap()).unwrap();
    assert_eq!(ints(&n, 0), vec![Some(0)]);
}

fn write_parquet(path: &std::path::Path, b: &RecordBatch) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, b.schema(), None).unwrap();
    w.write(b).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_files_read_by_partition_and_bad_files_are_named() {
    let dir = temp_dir("pq");
    let rows: Vec<Row> = (0..60)
        .map(|i| Row {
            name: Some(format!("k{}", i % 4)),
            id: Some(i % 5),
            x: Some(i as f64 - 20.0),
            y: Some(i),
        })
        .collect();
    for (j, part) in rows.chunks(25).enumerate() {
        write_parquet(&dir.join(format!("part-{j}.parquet")), &batch(part));
    }
    let df = DataFrame::read_parquet(dir.to_str().unwrap(), None).unwrap();
    assert_eq!(df.npartitions(), 3);
    let n = compute(
        &df.filter(col("x").gt(lit(0)).and(col("y").lt(lit(50))))
            .unwrap()
            .count_rows()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(ints(&n, 0), vec![Some((21..50).count() as i64)]);
    let pattern = dir.join("part-*.parquet");
    let some = DataFrame::read_parquet(pattern.to_str().unwrap(), Some(&["y".into(), "id".into()]))
        .unwrap();
    assert_eq!(some.columns(), vec!["y", "id"]);
    let out = compute(
        &some
            .groupby(&["id"])
            .unwrap()
            .agg_one("y", AggFunc::Max)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        ints(&out, 1),
        vec![Some(55), Some(56), Some(57), Some(58), Some(59)]
    );

    // A truncated file is named, never a panic.
    let bytes = std::fs::read(dir.join("part-1.parquet")).unwrap();
    std::fs::write(dir.join("part-1.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let e = DataFrame::read_parquet(dir.to_str().unwrap(), None).unwrap_err();
    assert!(
        matches!(&e, Error::Parquet { path, .. } if path.ends_with("part-1.parquet")),
        "{e}"
    );

    // A column whose type differs between files names both.
    std::fs::write(dir.join("part-1.parquet"), &bytes).unwrap();
    let other = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("id", DataType::Int64, true),
            Field::new("x", DataType::Utf8, true),
            Field::new("y", DataType::Int64, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["a"])),
            Arc::new(Int64Array::from(vec![1])),
            Arc::new(StringArray::from(vec!["1.5"])),
            Arc::new(Int64Array::from(vec![2])),
        ],
    )
    .unwrap();
    write_parquet(&dir.join("part-9.parquet"), &other);
    let e = DataFrame::read_parquet(dir.to_str().unwrap(), None).unwrap_err();
    assert!(
        matches!(&e, Error::TypeClash { column, .. } if column == "x"),
        "{e}"
    );
    assert!(
        e.to_string().contains("part-0.parquet") && e.to_string().contains("part-9.parquet"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `head` takes rows in partition order: from every partition it needs, or from the
    /// first only; `fillna` fills nulls and NaN with a constant or another column.
    #[test]
    fn head_and_fillna_match_a_reference(
        rows in prop::collection::vec(row(), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..5),
        n in 0_usize..50,
    ) {
        let df = frame(&rows, &cuts);
        let all = compute(&df.head(n, None).unwrap()).unwrap();
        let want: Vec<Option<i64>> = rows.iter().take(n).map(|r| r.y).collect();
        prop_assert_eq!(ints(&all, 3), want);
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(rows.len())).collect();
        bounds.push(rows.len());
        let first = bounds.iter().copied().min().unwrap_or(0);
        let one = compute(&df.head(n, Some(1)).unwrap()).unwrap();
        prop_assert_eq!(one.num_rows(), n.min(first));
        let last = compute(&df.tail(n, None).unwrap()).unwrap();
        let want: Vec<Option<i64>> =
            rows.iter().skip(rows.len().saturating_sub(n)).map(|r| r.y).collect();
        prop_assert_eq!(ints(&last, 3), want);

        let filled = df
            .with_column("x", col("x").fillna(lit(0.5)))
            .and_then(|d| d.with_column("y", col("y").fillna(col("x"))))
            .and_then(|d| d.with_column("name", col("name").fillna(lit("?"))))
            .unwrap();
        prop_assert_eq!(filled.schema().field_with_name("y").unwrap().data_type(), &DataType::Float64);
        let got = compute(&filled).unwrap();
        let want_x: Vec<Option<f64>> = rows.iter().map(|r| Some(present(r.x).unwrap_or(0.5))).collect();
        prop_assert_eq!(floats(&got, 2), want_x.clone());
        let want_y: Vec<Option<f64>> = rows
            .iter()
            .zip(&want_x)
            .map(|(r, x)| r.y.map(|y| y as f64).or(*x))
            .collect();
        prop_assert_eq!(floats(&got, 3), want_y);
        let names: Vec<Option<String>> =
            got.column(0).as_string::<i32>().iter().map(|s| s.map(str::to_owned)).collect();
        let want_names: Vec<Option<String>> =
            rows.iter().map(|r| Some(r.name.clone().unwrap_or_else(|| "?".into()))).collect();
        prop_assert_eq!(names, want_names);
    }
}

#[test]
fn fillna_with_a_value_of_another_kind_is_an_error_naming_both() {
    let df = frame(&[], &[]);
    let err = df
        .with_column("name", col("name").fillna(lit(1)))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot fill missing Utf8 values with Int64"),
        "{err}"
    );
}

#[test]
fn head_reads_only_the_partitions_it_needs() {
    // The second partition does not parse: the first one's head never reads it.
    let dir = temp_dir("head");
    let path = dir.join("t.csv");
    let mut text = String::from("id,x\n");
    for i in 0..200 {
        text.push_str(&format!("{i},{i}.5\n"));
    }
    text.push_str("200,oops\n");
    std::fs::write(&path, &text).unwrap();
    let opts = CsvOptions {
        blocksize: 1000,
        sample_rows: 100,
        ..CsvOptions::default()
    };
    let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
    assert!(df.npartitions() >= 2);
    let head = compute(&df.head(5, Some(1)).unwrap()).unwrap();
    assert_eq!(
        ints(&head, 0),
        vec![Some(0), Some(1), Some(2), Some(3), Some(4)]
    );
    let err = compute(&df.head(500, None).unwrap()).unwrap_err();
    assert!(err.contains("oops"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn written_parquet_and_csv_files_read_back_in_partition_order() {
    let dir = temp_dir("write");
    let rows: Vec<Row> = (0..60)
        .map(|i| Row {
            name: (i % 7 != 0).then(|| format!("n{}", i % 3)),
            id: Some(i),
            x: (i % 5 != 0).then_some(i as f64 / 4.0),
            y: Some(-i),
        })
        .collect();
    let cuts: Vec<usize> = (1..12).map(|i| i * 5).collect();
    let df = frame(&rows, &cuts);
    assert_eq!(df.npartitions(), 12);
    let pq = dir.join("pq");
    let written = compute(&df.to_parquet(pq.to_str().unwrap()).unwrap()).unwrap();
    assert_eq!(written.num_rows(), 12);
    assert_eq!(
        ints(&written, 1).iter().map(|r| r.unwrap()).sum::<i64>(),
        60
    );
    let mut names: Vec<String> = std::fs::read_dir(&pq)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = (0..12).map(|i| format!("part.{i}.parquet")).collect();
    want.sort();
    assert_eq!(names, want, "no temporary file is left");
    let back = compute(&DataFrame::read_parquet(pq.to_str().unwrap(), None).unwrap()).unwrap();
    // part.10 after part.9: the rows in their order.
    assert_eq!(
        ints(&back, 1),
        rows.iter().map(|r| r.id).collect::<Vec<_>>()
    );
    assert_eq!(
        floats(&back, 2),
        rows.iter().map(|r| r.x).collect::<Vec<_>>()
    );

    let pattern = dir.join("csv").join("out-*.csv");
    compute(&df.to_csv(pattern.to_str().unwrap()).unwrap()).unwrap();
    assert!(dir.join("csv").join("out-11.csv").is_file());
    let again = DataFrame::read_csv(pattern.to_str().unwrap(), &CsvOptions::default()).unwrap();
    let again = compute(&again).unwrap();
    assert_eq!(
        ints(&again, 1),
        rows.iter().map(|r| r.id).collect::<Vec<_>>()
    );
    assert_eq!(
        ints(&again, 3),
        rows.iter().map(|r| r.y).collect::<Vec<_>>()
    );
    assert!(df.to_csv(dir.join("a-*-*.csv").to_str().unwrap()).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_write_leaves_no_file_under_its_final_name() {
    let dir = temp_dir("failed-write");
    let path = dir.join("bad.csv");
    std::fs::write(&path, "a,b\n1,2\n3,x\n").unwrap();
    let opts = CsvOptions {
        dtypes: vec![("b".into(), DataType::Int64)],
        ..CsvOptions::default()
    };
    let df = DataFrame::read_csv(path.to_str().unwrap(), &opts).unwrap();
    let out = dir.join("out");
    let err = compute(&df.to_parquet(out.to_str().unwrap()).unwrap()).unwrap_err();
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every output row of a batch as text (for comparing multisets of rows).
fn row_texts(b: &RecordBatch) -> Vec<String> {
    let cols: Vec<Vec<String>> = b
        .columns()
        .iter()
        .map(|c| {
            (0..b.num_rows())
                .map(|i| {
                    if c.is_null(i) {
                        return "-".to_owned();
                    }
                    match c.data_type() {
                        DataType::Utf8 => c.as_string::<i32>().value(i).to_owned(),
                        DataType::Int64 => c.as_primitive::<Int64Type>().value(i).to_string(),
                        DataType::Float64 => {
                            format!("{:?}", c.as_primitive::<Float64Type>().value(i))
                        }
                        t => panic!("no text for {t}"),
                    }
                })
                .collect()
        })
        .collect();
    let mut rows: Vec<String> = (0..b.num_rows())
        .map(|i| {
            cols.iter()
                .map(|c| c[i].as_str())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    rows.sort();
    rows
}

/// A row's fields as text: all four (`key_text` in the key's place; the left side, as
/// pandas orders a merge's columns) or the three that are not the key (the right side).
fn fields(r: Option<&Row>, key: &str, key_text: Option<&str>) -> Vec<String> {
    let text = |s: Option<String>| s.unwrap_or_else(|| "-".to_owned());
    let mut out = Vec::new();
    for c in ["name", "id", "x", "y"] {
        if c == key {
            if let Some(k) = key_text {
                out.push(k.to_owned());
            }
            continue;
        }
        out.push(match (c, r) {
            (_, None) => "-".to_owned(),
            ("name", Some(r)) => text(r.name.clone()),
            ("id", Some(r)) => text(r.id.map(|v| v.to_string())),
            ("x", Some(r)) => text(r.x.map(|v| format!("{v:?}"))),
            (_, Some(r)) => text(r.y.map(|v| v.to_string())),
        });
    }
    out
}

/// pandas' merge on one key, by nested loops: missing keys match each other.
fn reference_join(left: &[Row], right: &[Row], key: &str, how: JoinHow) -> Vec<String> {
    let k = |r: &Row| match key {
        "name" => r.name.clone(),
        _ => r.id.map(|v| v.to_string()),
    };
    let key_text = |r: &Row| k(r).unwrap_or_else(|| "-".to_owned());
    let joined = |l: Option<&Row>, r: Option<&Row>, kt: &str| {
        let mut row = fields(l, key, Some(kt));
        row.extend(fields(r, key, None));
        row.join("|")
    };
    let mut out = Vec::new();
    let mut right_used = vec![false; right.len()];
    for l in left {
        let mut any = false;
        for (j, r) in right.iter().enumerate() {
            if k(l) == k(r) {
                any = true;
                right_used[j] = true;
                out.push(joined(Some(l), Some(r), &key_text(l)));
            }
        }
        if !any && matches!(how, JoinHow::Left | JoinHow::Outer) {
            out.push(joined(Some(l), None, &key_text(l)));
        }
    }
    if matches!(how, JoinHow::Right | JoinHow::Outer) {
        for (j, r) in right.iter().enumerate() {
            if !right_used[j] {
                out.push(joined(None, Some(r), &key_text(r)));
            }
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Joins of every kind, on a string or an integer key with missing values, whole-side
    /// (one partition) or bucketed (several), give the rows of a nested-loop reference.
    #[test]
    fn merge_matches_a_nested_loop_reference(
        left in prop::collection::vec(row(), 0..25),
        right in prop::collection::vec(row(), 0..25),
        lcuts in prop::collection::vec(0_usize..25, 0..4),
        rcuts in prop::collection::vec(0_usize..25, 0..4),
        key in prop::sample::select(vec!["name", "id"]),
        how in prop::sample::select(vec![JoinHow::Inner, JoinHow::Left, JoinHow::Right, JoinHow::Outer]),
        hide_sizes in any::<bool>(),
    ) {
        let (mut l, mut r) = (frame(&left, &lcuts), frame(&right, &rcuts));
        if hide_sizes {
            // A computed column hides the bytes of frames in memory: a side is broadcast
            // only when it has one partition, else both are bucketed.
            l = l.with_column("x", col("x")).unwrap();
            r = r.with_column("x", col("x")).unwrap();
        }
        let joined = l.merge(&r, &[key], &[key], how, ("_x", "_y")).unwrap();
        // pandas' order: the left columns (the key in its place), then the right ones.
        let mut names = Vec::new();
        for c in ["name", "id", "x", "y"] {
            names.push(if c == key { key.to_owned() } else { format!("{c}_x") });
        }
        for c in ["name", "id", "x", "y"] {
            if c != key {
                names.push(format!("{c}_y"));
            }
        }
        prop_assert_eq!(joined.columns(), names.iter().map(String::as_str).collect::<Vec<_>>());
        let got = compute(&joined).unwrap();
        prop_assert_eq!(row_texts(&got), reference_join(&left, &right, key, how));
    }
}

#[test]
fn merge_errors_name_the_keys_and_types() {
    let df = frame(&[], &[]);
    let err = df
        .merge(&df, &["zz"], &["id"], JoinHow::Inner, ("_x", "_y"))
        .unwrap_err();
    assert!(
        matches!(err, Error::ColumnNotFound { ref name, .. } if name == "zz"),
        "{err}"
    );
    let err = df
        .merge(&df, &["name"], &["id"], JoinHow::Inner, ("_x", "_y"))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot join key 'name' (Utf8) with 'id' (Int64)"),
        "{err}"
    );
    let err = df
        .merge(&df, &["id"], &["id"], JoinHow::Inner, ("", ""))
        .unwrap_err();
    assert!(
        err.to_string().contains("two columns named 'name'"),
        "{err}"
    );
    assert!(JoinHow::parse("cross").is_err());
    // Different key names: both kept.
    let m = df
        .merge(
            &df.select(&["id", "x"]).unwrap(),
            &["y"],
            &["id"],
            JoinHow::Left,
            ("_l", "_r"),
        )
        .unwrap();
    assert_eq!(m.columns(), vec!["name", "id_l", "x_l", "y", "id_r", "x_r"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// `sort_values` is a stable sort of all rows by one or two keys, each ascending or
    /// not, missing values and NaN last (pandas' `kind="stable"`), into any number of
    /// partitions whose ranges follow each other.
    #[test]
    fn sort_values_is_a_stable_sort(
        rows in prop::collection::vec(row(), 0..50),
        cuts in prop::collection::vec(0_usize..50, 0..5),
        keys in prop::sample::select(vec![vec!["name"], vec!["x"], vec!["id", "x"], vec!["name", "y"]]),
        asc in prop::collection::vec(any::<bool>(), 2),
        nparts in prop::option::of(1_usize..6),
    ) {
        let df = frame(&rows, &cuts);
        let asc = &asc[..keys.len()];
        let sorted = df.sort_values(&keys, asc, nparts).unwrap();
        prop_assert_eq!(sorted.npartitions(), nparts.unwrap_or(df.npartitions()));
        let got = compute(&sorted).unwrap();
        // The reference: one key's comparison, missing (or NaN) last either way.
        let cmp_key = |a: &Row, b: &Row, key: &str, up: bool| {
            use std::cmp::Ordering;
            let f = |r: &Row| -> Option<f64> {
                match key {
                    "x" => r.x.filter(|v| !v.is_nan()),
                    "id" => r.id.map(|v| v as f64),
                    _ => r.y.map(|v| v as f64),
                }
            };
            if key == "name" {
                match (&a.name, &b.name) {
                    (Some(p), Some(q)) => if up { p.cmp(q) } else { q.cmp(p) },
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                }
            } else {
                match (f(a), f(b)) {
                    (Some(p), Some(q)) => {
                        let o = p.partial_cmp(&q).unwrap();
                        if up { o } else { o.reverse() }
                    }
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                }
            }
        };
        let mut want = rows.clone();
        want.sort_by(|a, b| {
            keys.iter()
                .zip(asc)
                .map(|(k, &up)| cmp_key(a, b, k, up))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        prop_assert_eq!(ints(&got, 3), want.iter().map(|r| r.y).collect::<Vec<_>>());
        prop_assert_eq!(ints(&got, 1), want.iter().map(|r| r.id).collect::<Vec<_>>());
        let names: Vec<Option<String>> =
            got.column(0).as_string::<i32>().iter().map(|s| s.map(str::to_owned)).collect();
        prop_assert_eq!(names, want.iter().map(|r| r.name.clone()).collect::<Vec<_>>());
    }
}

#[test]
fn sort_errors_name_the_column() {
    let df = frame(&[], &[]);
    let err = df.sort_values(&["zz"], &[true], None).unwrap_err();
    assert!(
        matches!(err, Error::ColumnNotFound { ref name, .. } if name == "zz"),
        "{err}"
    );
    assert!(df.sort_values(&["x", "y"], &[true], None).is_err());
    assert!(df.sort_values(&[], &[], None).is_err());
    // An empty frame sorts to an empty frame.
    assert_eq!(
        compute(&df.sort_values(&["x"], &[true], Some(3)).unwrap())
            .unwrap()
            .num_rows(),
        0
    );
}

#[test]
fn str_and_dt_operations_give_pandas_values() {
    use arrow::array::TimestampNanosecondArray;
    use floe_dataframe::{DtOp, StrOp};
    let schema = Arc::new(Schema::new(vec![
        Field::new("s", DataType::Utf8, true),
        Field::new(
            "t",
            DataType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None),
            true,
        ),
    ]));
    // 2014-01-05 (a Sunday) 13:47:10, and 1969-12-31 23:59:59 (before the epoch).
    let t0 = 1_388_929_630_000_000_000_i64;
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![Some("Ölfus"), None, Some("abc")])),
            Arc::new(TimestampNanosecondArray::from(vec![
                Some(t0),
                None,
                Some(-1_000_000_000),
            ])),
        ],
    )
    .unwrap();
    let df = DataFrame::from_batches(schema, vec![vec![b]]).unwrap();
    let df = df
        .with_column("len", col("s").str(StrOp::Len))
        .and_then(|d| d.with_column("up", col("s").str(StrOp::Upper)))
        .and_then(|d| {
            d.with_column(
                "has",
                col("s").str(StrOp::Contains {
                    pattern: "^[aÖ]".into(),
                    regex: true,
                }),
            )
        })
        .and_then(|d| d.with_column("dow", col("t").dt(DtOp::DayOfWeek)))
        .and_then(|d| d.with_column("hour", col("t").dt(DtOp::Hour)))
        .and_then(|d| d.with_column("day", col("t").dt(DtOp::Floor(86_400_000_000_000))))
        .unwrap();
    let got = compute(&df).unwrap();
    let i = |name: &str| got.schema().index_of(name).unwrap();
    assert_eq!(ints(&got, i("len")), vec![Some(5), None, Some(3)]);
    let up: Vec<Option<&str>> = got.column(i("up")).as_string::<i32>().iter().collect();
    assert_eq!(up, vec![Some("ÖLFUS"), None, Some("ABC")]);
    let has: Vec<Option<bool>> = got.column(i("has")).as_boolean().iter().collect();
    assert_eq!(has, vec![Some(true), Some(false), Some(true)]);
    let dow: Vec<Option<i32>> = got
        .column(i("dow"))
        .as_primitive::<arrow::datatypes::Int32Type>()
        .iter()
        .collect();
    assert_eq!(dow, vec![Some(6), None, Some(2)]);
    let hour: Vec<Option<i32>> = got
        .column(i("hour"))
        .as_primitive::<arrow::datatypes::Int32Type>()
        .iter()
        .collect();
    assert_eq!(hour, vec![Some(13), None, Some(23)]);
    let day: Vec<Option<i64>> = got
        .column(i("day"))
        .as_primitive::<arrow::datatypes::TimestampNanosecondType>()
        .iter()
        .collect();
    // Floors go down, before the epoch too.
    assert_eq!(
        day,
        vec![
            Some(1_388_880_000_000_000_000),
            None,
            Some(-86_400_000_000_000)
        ]
    );
    assert!(col("t").str(StrOp::Lower).data_type(df.schema()).is_err());
    assert!(col("s").dt(DtOp::Year).data_type(df.schema()).is_err());
    let bad = col("s").str(StrOp::Contains {
        pattern: "(".into(),
        regex: true,
    });
    assert!(bad.data_type(df.schema()).is_err());
}

#[test]
fn sorts_and_bucketed_joins_larger_than_the_budget_spill_and_agree() {
    // 16,000 rows in 16 partitions (~0.5 MB); the budget holds about a third of it.
    let rows: Vec<Row> = (0..16_000_i64)
        .map(|i| Row {
            name: Some(format!("n{}", (i * 7919) % 613)),
            id: Some((i * 104_729) % 5_000),
            x: Some(((i * 37) % 1_000) as f64 / 8.0),
            y: Some(i),
        })
        .collect();
    let cuts: Vec<usize> = (1..16).map(|i| i * 1_000).collect();
    // A computed column hides the frames' sizes: the join is bucketed, not broadcast.
    let df = frame(&rows, &cuts).with_column("x", col("x")).unwrap();
    let sorted = df.sort_values(&["x", "y"], &[false, true], None).unwrap();
    let joined = df
        .merge(
            &df.select(&["id", "y"]).unwrap(),
            &["id"],
            &["id"],
            JoinHow::Inner,
            ("", "_r"),
        )
        .unwrap()
        .agg(vec![Agg::new("y_r", AggFunc::Sum), Agg::size("n")])
        .unwrap();
    let dir = temp_dir("df-spill");
    let run = |budget: Option<usize>, what: &DataFrame| {
        let mut b = GraphBuilder::default();
        let out = what.lower(&mut b).unwrap();
        let mut s = Scheduler::builder().threads(2).spill_dir(&dir);
        if let Some(bytes) = budget {
            s = s.memory_limit(bytes);
        }
        let run = s.build().unwrap().run(&b.build(), &[out]).unwrap();
        let spilled = run.stats.spilled_bytes;
        let batch = run
            .values
            .into_iter()
            .next()
            .unwrap()
            .take::<RecordBatch>()
            .unwrap();
        (batch, spilled)
    };
    for what in [&sorted, &joined] {
        let (free, _) = run(None, what);
        let (bounded, spilled) = run(Some(200_000), what);
        assert_eq!(bounded, free);
        assert!(spilled > 0, "nothing spilled under a budget below the data");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The reference of a rolling aggregate: each row's window `[start, i]`, its present
/// values, pandas' rules on `min_periods`.
fn reference_roll(
    xs: &[Option<f64>],
    starts: &[usize],
    func: AggFunc,
    min_periods: usize,
) -> Vec<Option<f64>> {
    let bounds: Vec<(usize, usize)> = starts.iter().enumerate().map(|(i, &s)| (s, i)).collect();
    reference_window(xs, &bounds, func, min_periods)
}

/// The reference of a rolling aggregate over each row's window `[start, end]`.
fn reference_window(
    xs: &[Option<f64>],
    bounds: &[(usize, usize)],
    func: AggFunc,
    min_periods: usize,
) -> Vec<Option<f64>> {
    bounds
        .iter()
        .map(|&(start, end)| {
            let v: Vec<f64> = xs[start..=end].iter().filter_map(|&x| present(x)).collect();
            let rows = end + 1 - start;
            let n = v.len();
            let enough = n >= min_periods.max(1);
            match func {
                AggFunc::Count => (rows >= min_periods).then_some(n as f64),
                AggFunc::Sum => (n >= min_periods).then(|| v.iter().sum()),
                AggFunc::Mean => enough.then(|| v.iter().sum::<f64>() / n as f64),
                AggFunc::Min => enough.then(|| v.iter().copied().fold(f64::INFINITY, f64::min)),
                AggFunc::Max => enough.then(|| v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                AggFunc::Var => {
                    if enough {
                        sample_var(&v)
                    } else {
                        None
                    }
                }
                AggFunc::Std => {
                    if enough {
                        sample_var(&v).map(f64::sqrt)
                    } else {
                        None
                    }
                }
                _ => unreachable!(),
            }
        })
        .collect()
}

/// Whether a rolling result is the reference's: sums and extremes to 1e-7 relative; a
/// variance (a standard deviation, squared) to what sliding removals may leave of the
/// squares of values up to 100 in magnitude (`1e-10` of 100² per row).
fn close_roll(func: AggFunc, a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if matches!(func, AggFunc::Var | AggFunc::Std) => {
            let sq = |v: f64| if func == AggFunc::Std { v * v } else { v };
            (sq(a) - sq(b)).abs() <= 40.0 * 1e-10 * 1e4 + 1e-7 * sq(b).abs()
        }
        (Some(a), Some(b)) => (a - b).abs() <= 1e-7 * (1.0 + a.abs().max(b.abs())),
        (None, None) => true,
        _ => false,
    }
}

const ROLL_FUNCS: [AggFunc; 7] = [
    AggFunc::Sum,
    AggFunc::Mean,
    AggFunc::Count,
    AggFunc::Min,
    AggFunc::Max,
    AggFunc::Var,
    AggFunc::Std,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn rolling_by_rows_reaches_across_partitions_as_the_reference(
        rows in prop::collection::vec(row(), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..6),
        window in 0_usize..7,
        min_periods in prop::option::of(0_usize..7),
        f in 0_usize..7,
    ) {
        let func = ROLL_FUNCS[f];
        let df = frame(&rows, &cuts);
        let min_periods = min_periods.map(|m| m.min(window));
        let rolled = df.rolling(Window::Rows(window), None, min_periods, &[("x", func, "x"), ("y", func, "y_r")]).unwrap();
        prop_assert_eq!(rolled.columns(), vec!["name", "id", "x", "y", "y_r"]);
        let out = compute(&rolled).unwrap();
        let starts: Vec<usize> = (0..rows.len()).map(|i| (i + 1).saturating_sub(window)).collect();
        let mp = min_periods.unwrap_or(window);
        let xs: Vec<Option<f64>> = rows.iter().map(|r| r.x).collect();
        let ys: Vec<Option<f64>> = rows.iter().map(|r| r.y.map(|y| y as f64)).collect();
        let (want_x, want_y) = (reference_roll(&xs, &starts, func, mp), reference_roll(&ys, &starts, func, mp));
        let (got_x, got_y) = (floats(&out, 2), floats(&out, 4));
        for i in 0..rows.len() {
            prop_assert!(close_roll(func, got_x[i], want_x[i]), "x row {}: {:?} vs {:?}", i, got_x[i], want_x[i]);
            prop_assert!(close_roll(func, got_y[i], want_y[i]), "y row {}: {:?} vs {:?}", i, got_y[i], want_y[i]);
        }
        prop_assert_eq!(ints(&out, 3), rows.iter().map(|r| r.y).collect::<Vec<_>>());
    }

    #[test]
    fn centred_rolling_reaches_into_the_partitions_after_as_the_reference(
        rows in prop::collection::vec(row(), 1..40),
        cuts in prop::collection::vec(0_usize..40, 0..6),
        window in 1_usize..8,
        min_periods in prop::option::of(0_usize..8),
        f in 0_usize..7,
    ) {
        let func = ROLL_FUNCS[f];
        let df = frame(&rows, &cuts);
        let min_periods = min_periods.map(|m| m.min(window));
        let rolled = df.rolling(Window::Centered(window), None, min_periods, &[("x", func, "x")]).unwrap();
        let out = compute(&rolled).unwrap();
        // (window - 1) / 2 rows after the row, the rest before; cut at the frame's ends.
        let after = (window - 1) / 2;
        let n = rows.len();
        let bounds: Vec<(usize, usize)> = (0..n)
            .map(|i| ((i + after + 1).saturating_sub(window), (i + after).min(n - 1)))
            .collect();
        let xs: Vec<Option<f64>> = rows.iter().map(|r| r.x).collect();
        let want = reference_window(&xs, &bounds, func, min_periods.unwrap_or(window));
        let got = floats(&out, 2);
        for i in 0..n {
            prop_assert!(close_roll(func, got[i], want[i]), "row {}: {:?} vs {:?}", i, got[i], want[i]);
        }
    }

    #[test]
    fn rolling_by_time_reaches_across_partitions_as_the_reference(
        steps in prop::collection::vec((0_i64..4, prop::option::weighted(0.85, -50.0..50.0_f64)), 0..40),
        cuts in prop::collection::vec(0_usize..40, 0..6),
        span in 1_u64..6,
        f in 0_usize..7,
    ) {
        // Times in seconds that never decrease (some repeated), windows of `span` seconds.
        let func = ROLL_FUNCS[f];
        let mut t = 0_i64;
        let times: Vec<i64> = steps.iter().map(|(d, _)| { t += d; t }).collect();
        let xs: Vec<Option<f64>> = steps.iter().map(|(_, x)| *x).collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("t", DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None), true),
            Field::new("x", DataType::Float64, true),
        ]));
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c.min(times.len())).collect();
        bounds.extend([0, times.len()]);
        bounds.sort_unstable();
        let parts = bounds.windows(2).map(|w| vec![RecordBatch::try_new(schema.clone(), vec![
            Arc::new(arrow::array::TimestampSecondArray::from(times[w[0]..w[1]].to_vec())),
            Arc::new(Float64Array::from(xs[w[0]..w[1]].to_vec())),
        ]).unwrap()]).collect();
        let df = DataFrame::from_batches(schema, parts).unwrap();
        let window = Window::Time(std::time::Duration::from_secs(span));
        let out = compute(&df.rolling(window, Some("t"), None, &[("x", func, "x")]).unwrap()).unwrap();
        let starts: Vec<usize> = times.iter().map(|&ti| times.partition_point(|&tj| tj <= ti - span as i64)).collect();
        let want = reference_roll(&xs, &starts, func, 1);
        let got = floats(&out, 1);
        for i in 0..times.len() {
            prop_assert!(close_roll(func, got[i], want[i]), "row {}: {:?} vs {:?}", i, got[i], want[i]);
        }
    }
}

#[test]
fn rolling_errors_name_the_window_column_and_function() {
    let df = frame(&[], &[]);
    let err = |r: Result<DataFrame, Error>| r.err().map(|e| e.to_string()).unwrap_or_default();
    let rows = |n| Window::Rows(n);
    assert!(
        df.rolling(rows(0), None, None, &[("x", AggFunc::Sum, "x")])
            .is_ok()
    );
    assert!(
        err(df.rolling(rows(2), None, Some(3), &[("x", AggFunc::Sum, "x")]))
            .contains("min_periods 3")
    );
    assert!(
        err(df.rolling(rows(2), None, None, &[("name", AggFunc::Sum, "name")])).contains("'name'")
    );
    assert!(err(df.rolling(rows(2), None, None, &[("zz", AggFunc::Sum, "zz")])).contains("zz"));
    assert!(err(df.rolling(rows(2), None, None, &[("x", AggFunc::First, "x")])).contains("first"));
    let hour = Window::Time(std::time::Duration::from_secs(3600));
    assert!(
        err(df.rolling(hour, None, None, &[("x", AggFunc::Sum, "x")])).contains("datetime column")
    );
    assert!(
        err(df.rolling(hour, Some("id"), None, &[("x", AggFunc::Sum, "x")]))
            .contains("'id' is of type Int64")
    );
    // Times that decrease across partitions are found when the windows run.
    let schema = Arc::new(Schema::new(vec![
        Field::new(
            "t",
            DataType::Timestamp(arrow::datatypes::TimeUnit::Second, None),
            true,
        ),
        Field::new("x", DataType::Float64, true),
    ]));
    let part = |t: Vec<i64>| {
        vec![
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(arrow::array::TimestampSecondArray::from(t.clone())),
                    Arc::new(Float64Array::from(vec![1.0; t.len()])),
                ],
            )
            .unwrap(),
        ]
    };
    let df =
        DataFrame::from_batches(schema.clone(), vec![part(vec![5, 9]), part(vec![7, 8])]).unwrap();
    let e = compute(
        &df.rolling(hour, Some("t"), None, &[("x", AggFunc::Sum, "x")])
            .unwrap(),
    )
    .unwrap_err();
    assert!(e.contains("'t' is not sorted"), "{e}");
}

#[test]
fn map_partitions_applies_a_function_per_partition_and_checks_its_result() {
    let rows: Vec<Row> = (0..10)
        .map(|i| Row {
            name: Some(format!("n{i}")),
            id: Some(i),
            x: Some(i as f64),
            y: Some(i),
        })
        .collect();
    let df = frame(&rows, &[3, 7]);
    let out_schema = Arc::new(Schema::new(vec![
        Field::new("part", DataType::Float64, true),
        Field::new("x2", DataType::Float64, true),
    ]));
    let s = out_schema.clone();
    let f: floe_dataframe::PartitionFn = Arc::new(move |i, p| {
        let b = p.concat().unwrap();
        let x = b.column(2).as_primitive::<Float64Type>();
        let n = x.len();
        // An integer column where floats are declared: cast.
        let part: Int64Array = vec![i as i64; n].into();
        let x2: Float64Array = x.iter().map(|v| v.map(|v| 2.0 * v)).collect();
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("part", DataType::Int64, true),
                Field::new("x2", DataType::Float64, true),
            ])),
            vec![Arc::new(part), Arc::new(x2)],
        )
        .unwrap())
    });
    let mapped = df.map_partitions(f, s).unwrap();
    let out = compute(&mapped).unwrap();
    assert_eq!(out.schema(), out_schema);
    let parts: Vec<f64> = floats(&out, 0).into_iter().map(Option::unwrap).collect();
    assert_eq!(parts, [0., 0., 0., 1., 1., 1., 1., 2., 2., 2.]);
    let x2: Vec<f64> = floats(&out, 1).into_iter().map(Option::unwrap).collect();
    assert_eq!(x2, (0..10).map(|i| 2.0 * i as f64).collect::<Vec<_>>());
    // A result with other columns than declared is an error naming both.
    let wrong = Arc::new(Schema::new(vec![Field::new("z", DataType::Float64, true)]));
    let f: floe_dataframe::PartitionFn = Arc::new(|_, p| Ok(p.concat().unwrap()));
    let e = compute(&df.map_partitions(f, wrong).unwrap()).unwrap_err();
    assert!(
        e.contains("gave columns [\"name\", \"id\", \"x\", \"y\"], where [\"z\"]"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Filters over Parquet skip row groups by their statistics; the rows are those of
    /// the same filter over the rows in memory.
    #[test]
    fn parquet_filters_skip_row_groups_without_changing_results(
        mut rows in prop::collection::vec(row(), 0..60),
        group in 1_usize..8,
        cut in -60.0..60.0_f64,
        name in prop::sample::select(vec!["a", "b", "c", "é"]),
        id in 0_i64..6,
    ) {
        // Sorted by x (NaN and missing last): row groups cover ranges of x.
        rows.sort_by(|a, b| {
            let k = |r: &Row| present(r.x).map_or((1, 0.0), |x| (0, x));
            k(a).partial_cmp(&k(b)).unwrap()
        });
        let dir = temp_dir("df-prune");
        let path = dir.join("t.parquet");
        let f = std::fs::File::create(&path).unwrap();
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(group))
            .build();
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema(), Some(props)).unwrap();
        w.write(&batch(&rows)).unwrap();
        w.close().unwrap();
        let on_disk = DataFrame::read_parquet(path.to_str().unwrap(), None).unwrap();
        let in_memory = frame(&rows, &[]);
        let predicates = [
            col("x").gt(lit(cut)),
            col("x").lt_eq(lit(cut)).and(col("name").eq(lit(name))),
            col("x").lt(lit(cut)).or(col("id").eq(lit(id))),
            lit(cut).gt(col("x")),
            col("name").eq(lit(name)),
            col("x").is_null(),
        ];
        for p in predicates {
            let got = compute(&on_disk.filter(p.clone()).unwrap().select(&["x", "y"]).unwrap()).unwrap();
            let want = compute(&in_memory.filter(p.clone()).unwrap().select(&["x", "y"]).unwrap()).unwrap();
            prop_assert_eq!(row_texts(&got), row_texts(&want), "{}", p);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn unsigned_64_bit_values_beyond_i64_compare_count_and_prune_exactly() {
    let big = 1_u64 << 63;
    let schema = Arc::new(Schema::new(vec![Field::new("u", DataType::UInt64, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(arrow::array::UInt64Array::from(vec![
            1,
            big,
            big + 1,
            big,
        ]))],
    )
    .unwrap();
    let dir = temp_dir("df-u64");
    let path = dir.join("u.parquet");
    write_parquet(&path, &batch);
    let on_disk = DataFrame::read_parquet(path.to_str().unwrap(), None).unwrap();
    let in_memory = DataFrame::from_batches(schema, vec![vec![batch]]).unwrap();
    for df in [&on_disk, &in_memory] {
        let count = |p: floe_dataframe::Expr| {
            ints(
                &compute(&df.filter(p).unwrap().count_rows().unwrap()).unwrap(),
                0,
            )[0]
        };
        assert_eq!(count(col("u").gt(lit(0))), Some(4));
        assert_eq!(count(col("u").eq(lit(1))), Some(1));
        assert_eq!(count(col("u").lt(lit(-1))), Some(0));
        let n = compute(&df.agg(vec![Agg::new("u", AggFunc::Nunique)]).unwrap()).unwrap();
        assert_eq!(ints(&n, 0), [Some(3)]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
