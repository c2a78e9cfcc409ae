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
        part.scatter(n, |batch| {
            let rows = self.key_rows(&conv, batch, names)?;
            Ok(rows.iter().map(|r| bucket(r.data(), n)).collect())
        })
    }

    /// The rows of one side (`right`: the right one) joined into one batch, and a table
    /// from each key to its rows, in order; built once and probed by each partition of the
    /// other side (broadcast), or by the other side's bucket.
    pub(crate) fn build(&self, parts: &[&Partition], right: bool) -> Result<Build> {
        let Some(batch) = Partition::concat_all(parts)? else {
            return Ok(Build {
                batch: None,
                table: Table::Rows(AHashMap::new()),
                next: Vec::new(),
            });
        };
        let names = if right { &self.right_on } else { &self.left_on };
        let n = batch.num_rows();
        let mut next: Vec<u32> = vec![u32::MAX; n];
        // Each key's first and last row so far; a row is chained after the last.
        fn chain<K: std::hash::Hash + Eq>(
            heads: &mut AHashMap<K, (u32, u32)>,
            next: &mut [u32],
            key: K,
            j: u32,
        ) {
            match heads.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    let (_, last) = e.get_mut();
                    next[*last as usize] = j;
                    *last = j;
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert((j, j));
                }
            }
        }
        fn firsts<K: std::hash::Hash + Eq>(m: AHashMap<K, (u32, u32)>) -> AHashMap<K, u32> {
            m.into_iter().map(|(k, (f, _))| (k, f)).collect()
        }
        let table = match self.keys(&batch, names)? {
            Keys::Ints(a) => {
                let mut heads: AHashMap<Option<i64>, (u32, u32)> = AHashMap::with_capacity(n);
                for (j, v) in a.iter().enumerate() {
                    chain(&mut heads, &mut next, v, j as u32);
                }
                Table::Ints(firsts(heads))
            }
            Keys::Str(a) => {
                let mut heads: AHashMap<Box<str>, (u32, u32)> = AHashMap::new();
                let mut missing: Option<(u32, u32)> = None;
                for (j, v) in a.iter().enumerate() {
                    match v {
                        // Known keys are looked up before a new one is boxed.
                        Some(v) => match heads.get_mut(v) {
                            Some((_, last)) => {
                                next[*last as usize] = j as u32;
                                *last = j as u32;
                            }
                            None => {
                                heads.insert(v.into(), (j as u32, j as u32));
                            }
                        },
                        None => match &mut missing {
                            Some((_, last)) => {
                                next[*last as usize] = j as u32;
                                *last = j as u32;
                            }
                            None => missing = Some((j as u32, j as u32)),
                        },
                    }
                }
                Table::Str(firsts(heads), missing.map(|(first, _)| first))
            }
            Keys::Rows(rows) => {
                let mut heads: AHashMap<Box<[u8]>, (u32, u32)> = AHashMap::with_capacity(n);
                for (j, r) in rows.iter().enumerate() {
                    chain(&mut heads, &mut next, r.data().into(), j as u32);
                }
                Table::Rows(firsts(heads))
            }
        };
        Ok(Build {
            batch: Some(batch),
            table,
            next,
        })
    }

    /// The keys of `batch` (its `names` columns): the integers of one integer key, or
    /// rows of one byte string each.
    fn keys(&self, batch: &RecordBatch, names: &[String]) -> Result<Keys> {
        use arrow::array::AsArray;
        // One integer or text key: its column in the key type.
        let single = |t: &DataType| -> Result<ArrayRef> {
            let s = batch.schema();
            let i = s
                .index_of(&names[0])
                .map_err(|_| not_found(&names[0], &s))?;
            Ok(cast(batch.column(i), t)?)
        };
        match (names, self.key_types.as_slice()) {
            ([_], [t @ DataType::Int64]) => {
                let a = single(t)?;
                return Ok(Keys::Ints(
                    a.as_primitive::<arrow::datatypes::Int64Type>().clone(),
                ));
            }
            ([_], [t @ DataType::Utf8]) => {
                return Ok(Keys::Str(single(t)?.as_string::<i32>().clone()));
            }
            _ => {}
        }
        let conv = self.converter()?;
        Ok(Keys::Rows(self.key_rows(&conv, batch, names)?))
    }

    /// The row pairs `(probe row, build row)` of `probe` (its key columns `names`) against
    /// `build`: each match, and (with `keep`) each probe row without one against `None`;
    /// `matched` marks the build rows met.
    fn pairs(
        &self,
        build: &Build,
        probe: Option<&RecordBatch>,
        names: &[String],
        keep: bool,
        mut matched: Option<&mut Vec<bool>>,
    ) -> Result<(RowNumbers, RowNumbers)> {
        let (mut pi, mut bi) = (Vec::new(), Vec::new());
        let Some(probe) = probe else {
            return Ok((pi, bi));
        };
        if build.batch.is_none() {
            if keep {
                pi.extend((0..probe.num_rows() as u32).map(Some));
                bi.resize(probe.num_rows(), None);
            }
            return Ok((pi, bi));
        }
        let keys = self.keys(probe, names)?;
        let n = probe.num_rows();
        for i in 0..n {
            let found = match (&keys, &build.table) {
                (Keys::Ints(a), Table::Ints(t)) => t.get(&(!a.is_null(i)).then(|| a.value(i))),
                (Keys::Str(a), Table::Str(t, missing)) => {
                    if a.is_null(i) {
                        missing.as_ref()
                    } else {
                        t.get(a.value(i))
                    }
                }
                (Keys::Rows(r), Table::Rows(t)) => t.get(r.row(i).data()),
                _ => {
                    return Err(invalid(
                        "internal: the two sides of a join keyed differently",
                    ));
                }
            };
            match found {
                Some(&start) => {
                    let mut j = start;
                    while j != u32::MAX {
                        pi.push(Some(i as u32));
                        bi.push(Some(j));
                        if let Some(m) = matched.as_deref_mut() {
                            m[j as usize] = true;
                        }
                        j = build.next[j as usize];
                    }
                }
                None if keep => {
                    pi.push(Some(i as u32));
                    bi.push(None);
                }
                None => {}
            }
        }
        Ok((pi, bi))
    }

    /// The join of `left` and `right` (each one or several partitions that hold every row
    /// of some keys: one bucket of both sides, or all of both).
    pub(crate) fn join(&self, left: &[&Partition], right: &[&Partition]) -> Result<Partition> {
        let build = self.build(right, true)?;
        let lb = Partition::concat_all(left)?;
        let nr = build.batch.as_ref().map_or(0, RecordBatch::num_rows);
        let mut matched = vec![false; nr];
        let (mut li, mut ri) = self.pairs(
            &build,
            lb.as_ref(),
            &self.left_on,
            self.how.keeps_left(),
            Some(&mut matched),
        )?;
        if self.how.keeps_right() {
            for (j, &m) in matched.iter().enumerate() {
                if !m {
                    li.push(None);
                    ri.push(Some(j as u32));
                }
            }
        }
        self.assemble(lb.as_ref(), build.batch.as_ref(), li, ri)
    }

    /// One partition of a side joined with the other side, built whole (`build_right`:
    /// the right side is built). Only the probing side's unmatched rows can be kept, which
    /// is why a side is built whole only for joins that keep none of its own.
    pub(crate) fn probe(
        &self,
        build: &Build,
        part: &Partition,
        build_right: bool,
    ) -> Result<Partition> {
        let pb = Partition::concat_all(&[part])?;
        let (names, keep) = if build_right {
            (&self.left_on, self.how.keeps_left())
        } else {
            (&self.right_on, self.how.keeps_right())
        };
        let (pi, bi) = self.pairs(build, pb.as_ref(), names, keep, None)?;
        if build_right {
            self.assemble(pb.as_ref(), build.batch.as_ref(), pi, bi)
        } else {
            self.assemble(build.batch.as_ref(), pb.as_ref(), bi, pi)
        }
    }

    /// The output rows from row numbers of each side (`None`: that side's columns missing).
    fn assemble(
        &self,
        lb: Option<&RecordBatch>,
        rb: Option<&RecordBatch>,
        li: Vec<Option<u32>>,
        ri: Vec<Option<u32>>,
    ) -> Result<Partition> {
        let li = UInt32Array::from(li);
        let ri = UInt32Array::from(ri);
        let n = li.len();
        let pick = |b: Option<&RecordBatch>,
                    name: &str,
                    ix: &UInt32Array,
                    t: &DataType|
         -> Result<ArrayRef> {
            match b.map(|b| (b, b.schema().index_of(name))) {
                Some((b, Ok(c))) => Ok(cast(&take(b.column(c).as_ref(), ix, None)?, t)?),
                // A side without partitions: its columns are all missing.
                _ => Ok(arrow::array::new_null_array(t, n)),
            }
        };
        let mut cols = Vec::with_capacity(self.columns.len());
        for (c, f) in self.columns.iter().zip(self.output.fields()) {
            let t = f.data_type();
            cols.push(match c {
                OutColumn::Left(name) => pick(lb, name, &li, t)?,
                OutColumn::Right(name) => pick(rb, name, &ri, t)?,
                OutColumn::Key(k) => {
                    let from_left = pick(lb, &self.left_on[*k], &li, t)?;
                    if li.null_count() > 0 {
                        // Rows only on the right take the key from there.
                        let from_right = pick(rb, &self.right_on[*k], &ri, t)?;
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

/// Row numbers of one side of a join's output rows (`None`: no row of that side).
type RowNumbers = Vec<Option<u32>>;

/// One side of a join, built: its rows and a table from each key to its first row, the
/// others chained through `next` in order.
#[derive(Debug)]
pub(crate) struct Build {
    batch: Option<RecordBatch>,
    table: Table,
    next: Vec<u32>,
}

/// A join's keys: one integer column (missing keys as `None`, matching each other), or
/// any columns as `arrow-row` byte strings.
enum Keys {
    Ints(arrow::array::Int64Array),
    Str(arrow::array::StringArray),
    Rows(Rows),
}

/// From each key to its first row.
#[derive(Debug)]
enum Table {
    Ints(AHashMap<Option<i64>, u32>),
    /// One text key: the strings, and the first row whose key is missing.
    Str(AHashMap<Box<str>, u32>, Option<u32>),
    Rows(AHashMap<Box<[u8]>, u32>),
}

impl Build {
    /// The bytes it holds.
    pub(crate) fn nbytes(&self) -> usize {
        self.batch
            .as_ref()
            .map_or(0, RecordBatch::get_array_memory_size)
            + match &self.table {
                Table::Ints(t) => 24 * t.len(),
                Table::Str(t, _) => t.keys().map(|k| k.len() + 24).sum::<usize>(),
                Table::Rows(t) => t.keys().map(|k| k.len() + 24).sum::<usize>(),
            }
            + 4 * self.next.len()
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
    if (matches!(l, DataType::UInt64) && int(r)) || (matches!(r, DataType::UInt64) && int(l)) {
        // Every UInt64 and every signed integer, exactly.
        Some(DataType::Decimal128(20, 0))
    } else if int(l) && int(r) {
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
