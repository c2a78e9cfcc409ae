//! Row groups a filter cannot match, found from a Parquet file's statistics, so that
//! they are never read.
//!
//! A predicate is checked against each row group's minimum, maximum and null count of
//! the columns it compares with constants: `x > v` cannot match a group whose maximum is
//! at most `v`; `x == v` one whose range leaves `v` out; `a & b` a group either side
//! cannot match; `a | b` one neither side can. Anything else (expressions of several
//! columns, functions, missing statistics) may match: the group is read and the filter
//! decides row by row, so pruning never changes a result.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{Field, Schema};
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;

use crate::expr::{BinaryOp, Expr, Literal};

/// The row groups of the file described by `meta` that rows matching `predicate` may be
/// in, in order.
pub(crate) fn row_groups(meta: &ArrowReaderMetadata, predicate: &Expr) -> Vec<usize> {
    let n = meta.metadata().num_row_groups();
    let may = may_match(meta, predicate);
    (0..n)
        .filter(|&g| may.as_ref().is_none_or(|m| m[g]))
        .collect()
}

/// Per row group, whether `e` may hold for a row of it (`None`: any may).
fn may_match(meta: &ArrowReaderMetadata, e: &Expr) -> Option<Vec<bool>> {
    match e {
        Expr::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => match (may_match(meta, left), may_match(meta, right)) {
            (Some(a), Some(b)) => Some(a.iter().zip(&b).map(|(x, y)| *x && *y).collect()),
            (a, b) => a.or(b),
        },
        Expr::Binary {
            op: BinaryOp::Or,
            left,
            right,
        } => {
            let (a, b) = (may_match(meta, left)?, may_match(meta, right)?);
            Some(a.iter().zip(&b).map(|(x, y)| *x || *y).collect())
        }
        Expr::Binary { op, left, right } => match (left.as_ref(), right.as_ref()) {
            (Expr::Column(c), Expr::Literal(v)) => compare(meta, c, *op, v),
            (Expr::Literal(v), Expr::Column(c)) => compare(meta, c, flip(*op)?, v),
            _ => None,
        },
        Expr::IsNull(inner) => match inner.as_ref() {
            // NaN is missing too, and null counts leave it out: floats are read.
            Expr::Column(c)
                if !meta
                    .schema()
                    .field_with_name(c)
                    .is_ok_and(|f| f.data_type().is_floating()) =>
            {
                let conv = converter(meta, c)?;
                let nulls = conv
                    .row_group_null_counts(meta.metadata().row_groups())
                    .ok()?;
                Some(
                    (0..nulls.len())
                        .map(|g| nulls.is_null(g) || nulls.value(g) > 0)
                        .collect(),
                )
            }
            _ => None,
        },
        _ => None,
    }
}

/// `v op c` as `c op' v`.
fn flip(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Eq => BinaryOp::Eq,
        _ => return None,
    })
}

fn converter<'a>(meta: &'a ArrowReaderMetadata, column: &str) -> Option<StatisticsConverter<'a>> {
    StatisticsConverter::try_new(column, meta.schema(), meta.parquet_schema()).ok()
}

/// Per row group, whether `column op v` may hold: the comparison evaluated on the
/// group's minimum or maximum (with the same coercions as the filter itself).
fn compare(
    meta: &ArrowReaderMetadata,
    column: &str,
    op: BinaryOp,
    v: &Literal,
) -> Option<Vec<bool>> {
    if matches!(v, Literal::Null) {
        return None;
    }
    // Unsigned columns are stored as signed numbers; files from writers that ordered their
    // statistics as signed would mislead: they are read.
    let t = meta
        .schema()
        .field_with_name(column)
        .ok()?
        .data_type()
        .clone();
    if t.is_unsigned_integer() {
        return None;
    }
    let conv = converter(meta, column)?;
    let groups = meta.metadata().row_groups();
    let mins = conv.row_group_mins(groups.iter()).ok()?;
    let maxes = conv.row_group_maxes(groups.iter()).ok()?;
    // `bound op v` for every group's bound; a missing bound (no statistics) may match.
    let test = |bounds: &ArrayRef, op: BinaryOp| -> Option<Vec<bool>> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            column,
            bounds.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![bounds.clone()]).ok()?;
        let e = Expr::Binary {
            op,
            left: Box::new(Expr::Column(column.to_owned())),
            right: Box::new(Expr::Literal(v.clone())),
        };
        let out = e.evaluate(&batch).ok()?;
        let out: &BooleanArray = out.as_boolean_opt()?;
        Some(
            (0..bounds.len())
                .map(|g| bounds.is_null(g) || (out.is_valid(g) && out.value(g)))
                .collect(),
        )
    };
    match op {
        BinaryOp::Gt | BinaryOp::GtEq => test(&maxes, op),
        BinaryOp::Lt | BinaryOp::LtEq => test(&mins, op),
        BinaryOp::Eq => {
            let (lo, hi) = (test(&mins, BinaryOp::LtEq)?, test(&maxes, BinaryOp::GtEq)?);
            Some(lo.iter().zip(&hi).map(|(a, b)| *a && *b).collect())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit};
    use arrow::array::{Float64Array, StringArray};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ArrowReaderOptions;
    use parquet::file::properties::WriterProperties;

    /// A file of 4 row groups of 10 rows: `x` 0..40 in order, `s` "a".."d" by group,
    /// `n` missing in group 2 only.
    fn file() -> ArrowReaderMetadata {
        let x: Float64Array = (0..40).map(|i| Some(f64::from(i))).collect();
        let s: StringArray = (0..40)
            .map(|i| Some(["a", "b", "c", "d"][i / 10]))
            .collect();
        let n: Float64Array = (0..40).map(|i| (i / 10 != 2).then_some(1.0)).collect();
        let batch = RecordBatch::try_from_iter([
            ("x", Arc::new(x) as ArrayRef),
            ("s", Arc::new(s) as ArrayRef),
            ("n", Arc::new(n) as ArrayRef),
        ])
        .unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10))
            .build();
        let path = std::env::temp_dir().join(format!("floe-prune-{}.parquet", std::process::id()));
        let f = std::fs::File::create(&path).unwrap();
        let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let meta = ArrowReaderMetadata::load(
            &std::fs::File::open(&path).unwrap(),
            ArrowReaderOptions::new(),
        )
        .unwrap();
        std::fs::remove_file(&path).unwrap();
        meta
    }

    #[test]
    fn groups_outside_a_comparison_are_skipped() {
        let meta = file();
        assert_eq!(meta.metadata().num_row_groups(), 4);
        let groups = |e: Expr| row_groups(&meta, &e);
        assert_eq!(groups(col("x").gt(lit(25))), [2, 3]);
        assert_eq!(groups(col("x").gt_eq(lit(30.0))), [3]);
        assert_eq!(groups(col("x").lt(lit(10))), [0]);
        assert_eq!(groups(lit(10).gt(col("x"))), [0]);
        assert_eq!(groups(col("x").eq(lit(15))), [1]);
        assert_eq!(groups(col("s").eq(lit("c"))), [2]);
        assert_eq!(
            groups(col("x").lt(lit(5)).or(col("s").eq(lit("d")))),
            [0, 3]
        );
        assert_eq!(
            groups(col("x").gt(lit(5)).and(col("s").lt_eq(lit("b")))),
            [0, 1]
        );
        assert_eq!(groups(col("s").is_null()), Vec::<usize>::new());
        // NaN is missing as well, and statistics do not count it: floats are read.
        assert_eq!(groups(col("n").is_null()), [0, 1, 2, 3]);
        // What statistics cannot decide is read.
        assert_eq!(groups(col("x").not_eq(lit(3))), [0, 1, 2, 3]);
        assert_eq!(groups((col("x") + lit(1)).gt(lit(100))), [0, 1, 2, 3]);
        assert_eq!(
            groups(col("x").gt(lit(100)).or(col("x").gt(col("n")))),
            [0, 1, 2, 3]
        );
        assert_eq!(groups(col("x").gt(lit(100))), Vec::<usize>::new());
    }
}
