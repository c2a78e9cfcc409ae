//! Joins (`merge`): a hash join written here, run per pair of partitions that can hold
//! matching keys — every partition of the large side against the whole small side
//! (broadcast), or bucket against bucket after both sides are split by a hash of the key.
//!
//! Keys compare as pandas compares them in `merge`: missing keys match each other; keys of
//! different integer types, or integers and floats, are compared as numbers.

use std::sync::Arc;

use ahash::AHashMap;
use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::row::{RowConverter, Rows, SortField};

use crate::error::{Result, invalid};
use crate::expr::not_found;
use crate::source::Partition;

/// Which rows a join keeps, by pandas' names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinHow {
    /// Rows whose key is on both sides.
    Inner,
    /// Every left row; right columns missing where the key is not on the right.
    Left,
    /// Every right row; left columns missing where the key is not on the left.
    Right,
    /// Every row of both sides.
    Outer,
}

impl JoinHow {
    /// The kind named `name` (`"inner"`, `"left"`, `"right"`, `"outer"`).
    ///
    /// # Errors
    ///
    /// Another name.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "inner" => JoinHow::Inner,
            "left" => JoinHow::Left,
            "right" => JoinHow::Right,
            "outer" => JoinHow::Outer,
            _ => {
                return Err(invalid(format!(
                    "unknown join '{name}' (known: inner, left, right, outer)"
                )));
            }
        })
    }

    fn keeps_left(self) -> bool {
        matches!(self, JoinHow::Left | JoinHow::Outer)
    }

    fn keeps_right(self) -> bool {
        matches!(self, JoinHow::Right | JoinHow::Outer)
    }
}

/// A join checked against both schemas: the key columns, their common types, and the
/// output's columns.
#[derive(Debug)]
pub(crate) struct JoinPlan {
    pub(crate) how: JoinHow,
    left_on: Vec<String>,
    right_on: Vec<String>,
    key_types: Vec<DataType>,
    /// Output columns: where each comes from.
    columns: Vec<OutColumn>,
    pub(crate) output: SchemaRef,
}

#[derive(Debug)]
enum OutColumn {
    /// Key `k`: the left value, or the right one where the left row is missing. Only
    /// when both sides name the key alike (`on=`).
    Key(usize),
    Left(String),
    Right(String),
}

impl JoinPlan {
    pub(crate) fn new(
        left: &Schema,
        right: &Schema,
        left_on: Vec<String>,
        right_on: Vec<String>,
        how: JoinHow,
        suffixes: (&str, &str),
    ) -> Result<Self> {
        if left_on.is_empty() || left_on.len() != right_on.len() {
            return Err(invalid(format!(
                "a join needs as many left keys as right keys, at least one (got {} and {})",
                left_on.len(),
                right_on.len()
            )));
        }
        let mut key_types = Vec::with_capacity(left_on.len());
        for (l, r) in left_on.iter().zip(&right_on) {
            let lt = left
                .field_with_name(l)
                .map_err(|_| not_found(l, left))?
                .data_type();
            let rt = right
                .field_with_name(r)
                .map_err(|_| not_found(r, right))?
                .data_type();
            key_types.push(common_key_type(lt, rt).ok_or_else(|| {
                invalid(format!(
                    "cannot join key '{l}' ({lt}) with '{r}' ({rt}): the types do not compare"
                ))
            })?);
        }
        let shared: Vec<bool> = left_on.iter().zip(&right_on).map(|(l, r)| l == r).collect();
        let mut columns = Vec::new();
        let mut fields = Vec::new();
        let left_names: Vec<&String> = left.fields().iter().map(|f| f.name()).collect();
        let right_names: Vec<&String> = right.fields().iter().map(|f| f.name()).collect();
        // A name on both sides that is not one shared key gets the side's suffix.
        let clash = |name: &String| {
            left_names.contains(&name)
                && right_names.contains(&name)
                && !left_on.iter().zip(&shared).any(|(k, &s)| s && k == name)
        };
        for f in left.fields() {
            let name = f.name();
            if let Some(k) = left_on
                .iter()
                .zip(&shared)
                .position(|(k, &s)| s && k == name)
            {
                columns.push(OutColumn::Key(k));
                fields.push(Field::new(name, key_types[k].clone(), true));
            } else {
                let out = if clash(name) {
                    format!("{name}{}", suffixes.0)
                } else {
                    name.clone()
                };
                columns.push(OutColumn::Left(name.clone()));
                fields.push(Field::new(out, f.data_type().clone(), true));
            }
        }
        for f in right.fields() {
            let name = f.name();
            if right_on.iter().zip(&shared).any(|(k, &s)| s && k == name) {
                continue;
            }
            let out = if clash(name) {
                format!("{name}{}", suffixes.1)
            } else {
                name.clone()
            };
            columns.push(OutColumn::Right(name.clone()));
            fields.push(Field::new(out, f.data_type().clone(), true));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &fields {
            if !seen.insert(f.name().clone()) {
                return Err(invalid(format!(
                    "the join gives two columns named '{}' (choose other suffixes)",
                    f.name()
                )));
            }
        }
        Ok(Self {
            how,
            left_on,
            right_on,
            key_types,
            columns,
            output: Arc::new(Schema::new(fields)),
        })
    }

    /// The left columns a join reads.
    pub(crate) fn left_inputs(&self, left: &Schema) -> Vec<String> {
        self.inputs(left, &self.left_on, true)
    }

    /// The right columns a join reads.
    pub(crate) fn right_inputs(&self, right: &Schema) -> Vec<String> {
        self.inputs(right, &self.right_on, false)
    }

    fn inputs(&self, schema: &Schema, keys: &[String], left: bool) -> Vec<String> {
        let mut out: Vec<String> = keys.to_vec();
        for c in &self.columns {
            let name = match c {
                OutColumn::Left(n) if left => n,
                OutColumn::Right(n) if !left => n,
                _ => continue,
            };
            if !out.contains(name) && schema.field_with_name(name).is_ok() {
                out.push(name.clone());
            }
        }
        out
    }

    fn converter(&self) -> Result<RowConverter> {
        Ok(RowConverter::new(
            self.key_types
                .iter()
                .map(|t| SortField::new(t.clone()))
                .collect(),
        )?)
    }

    /// The keys of `batch` (its `names` columns) as rows of one byte string each.
    fn key_rows(&self, conv: &RowConverter, batch: &RecordBatch, names: &[String]) -> Result<Rows> {
        let cols = names
            .iter()
            .zip(&self.key_types)
            .map(|(n, t)| {
                let i = batch
                    .schema()
                    .index_of(n)
                    .map_err(|_| not_found(n, &batch.schema()))?;
                normalized_key(&cast(batch.column(i), t)?)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(conv.convert_columns(&cols)?)
    }

    /// `part` split into `n` partitions by a hash of its key (`left`: the left keys), the
    /// same for equal keys of either side.
    pub(crate) fn split(&self, part: &Partition, left: bool, n: usize) -> Result<Vec<Partition>> {
        let names = if left { &self.left_on } else { &self.right_on };
        let conv = self.converter()?;
        let mut pieces: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
        for batch in part.batches() {
            let rows = self.key_rows(&conv, batch, names)?;
            let mut idx: Vec<Vec<u32>> = vec![Vec::new(); n];
            for (i, r) in rows.iter().enumerate() {
                idx[bucket(r.data(), n)].push(i as u32);
            }
            for (j, ix) in idx.into_iter().enumerate() {
                if ix.is_empty() {
                    continue;
                }
                let ix = UInt32Array::from(ix);
                let cols = batch
                    .columns()
                    .iter()
                    .map(|c| Ok(take(c.as_ref(), &ix, None)?))
                    .collect::<Result<Vec<_>>>()?;
                pieces[j].push(RecordBatch::try_new(batch.schema(), cols)?);
            }
        }
        Ok(pieces
            .into_iter()
            .map(|b| Partition::new(part.schema().clone(), b))
            .collect())
    }

    /// The join of `left` and `right` (each one or several partitions that hold every row
    /// of some keys: all of one side, or one bucket of both).
    pub(crate) fn join(&self, left: &[&Partition], right: &[&Partition]) -> Result<Partition> {
        let concat = |parts: &[&Partition], schema: &SchemaRef| -> Result<RecordBatch> {
            let batches: Vec<RecordBatch> = parts
                .iter()
                .flat_map(|p| p.batches().iter().cloned())
                .collect();
            let schema = parts
                .first()
                .map_or_else(|| schema.clone(), |p| p.schema().clone());
            Ok(arrow::compute::concat_batches(&schema, &batches)?)
        };
        let empty = Arc::new(Schema::empty());
        let lb = concat(left, &empty)?;
        let rb = concat(right, &empty)?;
        let conv = self.converter()?;
        let (lrows, rrows) = if lb.num_columns() == 0 || rb.num_columns() == 0 {
            // A side with no partitions at all (an empty frame): nothing of it matches.
            (None, None)
        } else {
            (
                Some(self.key_rows(&conv, &lb, &self.left_on)?),
                Some(self.key_rows(&conv, &rb, &self.right_on)?),
            )
        };
        // Build on the right: each key's rows, in order (a chain through `next`).
        let mut first: AHashMap<&[u8], (u32, u32)> = AHashMap::new();
        let mut next: Vec<u32> = vec![u32::MAX; rb.num_rows()];
        if let Some(rr) = &rrows {
            for (j, r) in rr.iter().enumerate() {
                let j = j as u32;
                match first.get_mut(r.data()) {
                    Some((_, last)) => {
                        next[*last as usize] = j;
                        *last = j;
                    }
                    None => {
                        first.insert(r.data(), (j, j));
                    }
                }
            }
        }
        let mut li: Vec<Option<u32>> = Vec::new();
        let mut ri: Vec<Option<u32>> = Vec::new();
        let mut matched = vec![false; rb.num_rows()];
        if let Some(lr) = &lrows {
            for (i, r) in lr.iter().enumerate() {
                match first.get(r.data()) {
                    Some(&(mut j, _)) => loop {
                        li.push(Some(i as u32));
                        ri.push(Some(j));
                        matched[j as usize] = true;
                        j = next[j as usize];
                        if j == u32::MAX {
                            break;
                        }
                    },
                    None if self.how.keeps_left() => {
                        li.push(Some(i as u32));
                        ri.push(None);
                    }
                    None => {}
                }
            }
        } else if self.how.keeps_left() {
            li.extend((0..lb.num_rows() as u32).map(Some));
            ri.extend(std::iter::repeat_n(None, lb.num_rows()));
        }
        if self.how.keeps_right() {
            for (j, &m) in matched.iter().enumerate() {
                if !m {
                    li.push(None);
                    ri.push(Some(j as u32));
                }
            }
        }
        let li = UInt32Array::from(li);
        let ri = UInt32Array::from(ri);
        let n = li.len();
        let pick =
            |b: &RecordBatch, name: &str, ix: &UInt32Array, t: &DataType| -> Result<ArrayRef> {
                match b.schema().index_of(name) {
                    Ok(c) => Ok(cast(&take(b.column(c).as_ref(), ix, None)?, t)?),
                    // A side without partitions: its columns are all missing.
                    Err(_) => Ok(arrow::array::new_null_array(t, n)),
                }
            };
        let mut cols = Vec::with_capacity(self.columns.len());
        for (c, f) in self.columns.iter().zip(self.output.fields()) {
            let t = f.data_type();
            cols.push(match c {
                OutColumn::Left(name) => pick(&lb, name, &li, t)?,
                OutColumn::Right(name) => pick(&rb, name, &ri, t)?,
                OutColumn::Key(k) => {
                    let from_left = pick(&lb, &self.left_on[*k], &li, t)?;
                    if self.how.keeps_right() {
                        // Rows only on the right take the key from there.
                        let from_right = pick(&rb, &self.right_on[*k], &ri, t)?;
                        let left_missing = arrow::compute::is_null(&li)?;
                        arrow::compute::kernels::zip::zip(&left_missing, &from_right, &from_left)?
                    } else {
                        from_left
                    }
                }
            });
        }
        let batch = RecordBatch::try_new_with_options(
            self.output.clone(),
            cols,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        Ok(Partition::new(self.output.clone(), vec![batch]))
    }
}

/// The type two key columns are compared in: equal types as they are; integers of
/// different widths as Int64; integers and floats as Float64; strings as Utf8.
fn common_key_type(l: &DataType, r: &DataType) -> Option<DataType> {
    if l == r {
        return Some(l.clone());
    }
    let int = |t: &DataType| t.is_integer();
    let num = |t: &DataType| t.is_integer() || t.is_floating();
    let string =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    if int(l) && int(r) {
        Some(DataType::Int64)
    } else if num(l) && num(r) {
        Some(DataType::Float64)
    } else if string(l) && string(r) {
        Some(DataType::Utf8)
    } else if matches!(l, DataType::Null) {
        Some(r.clone())
    } else if matches!(r, DataType::Null) {
        Some(l.clone())
    } else {
        None
    }
}

/// A float key column as pandas compares it: -0.0 as 0.0, and NaN as missing (so that
/// NaN keys match each other and missing ones).
pub(crate) fn normalized_key(a: &ArrayRef) -> Result<ArrayRef> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Float32Type, Float64Type};
    let zeroed: ArrayRef = match a.data_type() {
        DataType::Float64 => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Float64Type>(|v| v + 0.0),
        ),
        DataType::Float32 => Arc::new(
            a.as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|v| v + 0.0),
        ),
        _ => return Ok(a.clone()),
    };
    Ok(match crate::expr::nan_mask(&zeroed) {
        Some(nan) if nan.true_count() > 0 => arrow::compute::nullif(&zeroed, &nan)?,
        _ => zeroed,
    })
}

/// The bucket of a key's row bytes among `n` (a fixed hash: both sides agree).
fn bucket(key: &[u8], n: usize) -> usize {
    (ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(key) % n as u64) as usize
}
