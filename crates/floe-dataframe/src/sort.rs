//! Sorting a partitioned frame (`sort_values`, and `set_index` above it): each partition's
//! keys are sampled, the samples give the key ranges of the output partitions, each input
//! partition is split by those ranges, and each range's pieces are joined and sorted.
//!
//! Keys compare as their `arrow-row` encodings (ascending or descending per column,
//! missing values last as pandas puts them; NaN counts as missing, -0.0 as 0.0), so that
//! splitting by ranges and sorting within a range agree for any key types.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, Schema};
use arrow::row::{RowConverter, Rows, SortField};

use crate::error::{Result, invalid};
use crate::expr::not_found;
use crate::join::normalized_key;
use crate::source::{Partition, take_rows};

/// Keys sampled from each partition to choose the ranges.
const SAMPLES_PER_PARTITION: usize = 256;

/// A sort checked against the schema.
#[derive(Debug)]
pub(crate) struct SortPlan {
    by: Vec<String>,
    types: Vec<DataType>,
    ascending: Vec<bool>,
    /// The output's partitions.
    pub(crate) npartitions: usize,
}

impl SortPlan {
    pub(crate) fn new(
        schema: &Schema,
        by: Vec<String>,
        ascending: Vec<bool>,
        npartitions: usize,
    ) -> Result<Self> {
        if by.is_empty() {
            return Err(invalid("sorting needs at least one column"));
        }
        if ascending.len() != by.len() {
            return Err(invalid(format!(
                "ascending has {} entries for {} sort columns",
                ascending.len(),
                by.len()
            )));
        }
        let types = by
            .iter()
            .map(|c| {
                let t = schema
                    .field_with_name(c)
                    .map_err(|_| not_found(c, schema))?
                    .data_type()
                    .clone();
                if !RowConverter::supports_fields(&[SortField::new(t.clone())]) {
                    return Err(invalid(format!("cannot sort by '{c}' of type {t}")));
                }
                Ok(t)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            by,
            types,
            ascending,
            npartitions: npartitions.max(1),
        })
    }

    /// The columns sorted by.
    pub(crate) fn by(&self) -> &[String] {
        &self.by
    }

    fn converter(&self) -> Result<RowConverter> {
        Ok(RowConverter::new(
            self.types
                .iter()
                .zip(&self.ascending)
                .map(|(t, &asc)| {
                    SortField::new_with_options(
                        t.clone(),
                        arrow::compute::SortOptions {
                            descending: !asc,
                            nulls_first: false,
                        },
                    )
                })
                .collect(),
        )?)
    }

    fn rows(&self, conv: &RowConverter, batch: &RecordBatch) -> Result<Rows> {
        let cols = self
            .by
            .iter()
            .map(|c| {
                let i = batch
                    .schema()
                    .index_of(c)
                    .map_err(|_| not_found(c, &batch.schema()))?;
                normalized_key(batch.column(i))
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(conv.convert_columns(&cols)?)
    }

    /// Up to [`SAMPLES_PER_PARTITION`] keys of `part`, at evenly spaced rows (only
    /// those rows' keys are encoded).
    pub(crate) fn sample(&self, part: &Partition) -> Result<Vec<Box<[u8]>>> {
        let conv = self.converter()?;
        let n = part.num_rows();
        let take_n = n.min(SAMPLES_PER_PARTITION);
        let mut keys: Vec<Box<[u8]>> = Vec::with_capacity(take_n);
        let mut start = 0;
        let mut next = 0;
        for b in part.batches() {
            let mut picks = Vec::new();
            // Row `next * n / take_n` of the partition for each sample still to take.
            while next < take_n && next * n / take_n < start + b.num_rows() {
                picks.push((next * n / take_n - start) as u32);
                next += 1;
            }
            if !picks.is_empty() {
                let rows = self.rows(&conv, &take_rows(b, &UInt32Array::from(picks))?)?;
                keys.extend(rows.iter().map(|r| r.data().into()));
            }
            start += b.num_rows();
        }
        keys.sort_unstable();
        Ok(keys)
    }

    /// The keys that start output partitions 1, 2, …: from the samples of every partition,
    /// the ones at even ranks (fewer when the keys have fewer distinct values).
    pub(crate) fn boundaries(&self, samples: &[&Vec<Box<[u8]>>]) -> Vec<Box<[u8]>> {
        let mut all: Vec<&Box<[u8]>> = samples.iter().flat_map(|s| s.iter()).collect();
        all.sort_unstable();
        let n = all.len();
        let mut out: Vec<Box<[u8]>> = Vec::new();
        for k in 1..self.npartitions {
            if n == 0 {
                break;
            }
            let b = all[(k * n / self.npartitions).min(n - 1)];
            if out.last() != Some(b) {
                out.push(b.clone());
            }
        }
        out
    }

    /// `part` split into the ranges that `bounds` start (rows equal to a boundary go to
    /// the range it starts).
    pub(crate) fn split(&self, part: &Partition, bounds: &[Box<[u8]>]) -> Result<Vec<Partition>> {
        let conv = self.converter()?;
        // Short keys compare as numbers (see `as_number`), longer ones as bytes.
        let numbers: Option<Vec<u128>> = bounds.iter().map(|b| as_number(b)).collect();
        part.scatter(bounds.len() + 1, |batch| {
            let rows = self.rows(&conv, batch)?;
            Ok(rows
                .iter()
                .map(|r| match (&numbers, as_number(r.data())) {
                    (Some(n), Some(k)) => n.partition_point(|&b| b <= k),
                    _ => bounds.partition_point(|b| b.as_ref() <= r.data()),
                })
                .collect())
        })
    }

    /// The pieces of one range, sorted: the rows are gathered in key order straight
    /// from the pieces' batches (never joined first), so a task holds its range twice at
    /// most — as pieces and as the sorted result.
    pub(crate) fn sort(&self, pieces: &[&Partition], schema: &Arc<Schema>) -> Result<Partition> {
        let batches: Vec<&RecordBatch> = pieces
            .iter()
            .flat_map(|p| p.batches())
            .filter(|b| b.num_rows() > 0)
            .collect();
        if batches.is_empty() {
            let schema = pieces
                .first()
                .map_or_else(|| schema.clone(), |p| p.schema().clone());
            return Ok(Partition::new(schema, Vec::new()));
        }
        let conv = self.converter()?;
        let rows = batches
            .iter()
            .map(|b| self.rows(&conv, b))
            .collect::<Result<Vec<_>>>()?;
        let order = sorted_order(&rows);
        let sorted = arrow::compute::interleave_record_batch(&batches, &order)?;
        Ok(Partition::new(sorted.schema(), vec![sorted]))
    }
}

/// A key of at most 15 bytes as a number whose order is the bytes' order: big-endian,
/// padded on the right (no key's encoding is a prefix of another's, so padding never ties
/// two keys).
fn as_number(d: &[u8]) -> Option<u128> {
    (d.len() < 16).then(|| {
        let mut buf = [0_u8; 16];
        buf[..d.len()].copy_from_slice(d);
        u128::from_be_bytes(buf)
    })
}

/// `(batch, row)` of every row of `rows` (one per batch) in the order of their keys,
/// equal keys in batch then row order (a stable order, from an unstable sort with the
/// position as the last key). Keys of at most 12 bytes (one number or date, with its
/// null byte) sort as one 128-bit number with the position in its low 32 bits; of at
/// most 15 bytes as a number beside the position; others as byte strings.
fn sorted_order(rows: &[Rows]) -> Vec<(usize, usize)> {
    let total: usize = rows.iter().map(Rows::num_rows).sum();
    let longest = rows
        .iter()
        .flat_map(|r| (0..r.num_rows()).map(move |i| r.row(i).data().len()))
        .max()
        .unwrap_or(0);
    // Global row numbers back to (batch, row).
    let starts: Vec<usize> = rows
        .iter()
        .scan(0, |acc, r| {
            let s = *acc;
            *acc += r.num_rows();
            Some(s)
        })
        .collect();
    let at = |g: usize| {
        let b = starts.partition_point(|&s| s <= g) - 1;
        (b, g - starts[b])
    };
    let keys = || {
        rows.iter()
            .flat_map(|r| (0..r.num_rows()).map(move |i| r.row(i).data()))
    };
    if longest <= 12 && u32::try_from(total).is_ok() {
        let mut packed: Vec<u128> = keys()
            .enumerate()
            .map(|(g, d)| as_number(d).unwrap_or_default() | g as u128)
            .collect();
        packed.sort_unstable();
        return packed
            .into_iter()
            .map(|k| at((k & 0xffff_ffff) as usize))
            .collect();
    }
    if longest < 16 {
        let mut keyed: Vec<(u128, usize)> = keys()
            .enumerate()
            .map(|(g, d)| (as_number(d).unwrap_or_default(), g))
            .collect();
        keyed.sort_unstable();
        return keyed.into_iter().map(|(_, g)| at(g)).collect();
    }
    let mut keyed: Vec<(&[u8], usize)> = keys().enumerate().map(|(g, d)| (d, g)).collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, g)| at(g)).collect()
}
