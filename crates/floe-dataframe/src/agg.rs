//! Hash aggregation: each partition's rows into per-group partial states, partial states
//! merged (a tree of merges across partitions), the states turned into result columns.
//!
//! A state holds, per group, what its aggregations need to be combined exactly: a sum and
//! a count for a mean, Chan's count/mean/M2 for a variance. Missing values are skipped
//! (pandas' `skipna`); rows whose key is missing belong to no group (pandas' `dropna`).

use std::sync::Arc;

use ahash::{AHashMap, AHashSet};
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, new_empty_array,
    new_null_array,
};
use arrow::compute::{SortColumn, cast, interleave, lexsort_to_indices, max, min, take};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use arrow::row::{RowConverter, SortField};

use crate::error::{Result, invalid};
use crate::expr::not_found;
use crate::source::Partition;

/// An aggregation function, by pandas' names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `sum`: of integers an integer, of floats a float; 0 for a group with no values.
    Sum,
    /// `mean`.
    Mean,
    /// `count`: the values present.
    Count,
    /// `size`: the rows, missing values included (takes no column).
    Size,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `var` (`ddof=1`, as pandas).
    Var,
    /// `std` (`ddof=1`, as pandas).
    Std,
    /// `first`: the first value present, in row order (of any type).
    First,
    /// `last`: the last value present, in row order (of any type).
    Last,
    /// `nunique`: the number of distinct values present.
    Nunique,
}

impl AggFunc {
    /// The function named `name` (`"sum"`, `"mean"`, …).
    ///
    /// # Errors
    ///
    /// An unknown name, listing the known ones.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "sum" => AggFunc::Sum,
            "mean" => AggFunc::Mean,
            "count" => AggFunc::Count,
            "size" => AggFunc::Size,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "var" => AggFunc::Var,
            "std" => AggFunc::Std,
            "first" => AggFunc::First,
            "last" => AggFunc::Last,
            "nunique" => AggFunc::Nunique,
            _ => {
                return Err(invalid(format!(
                    "unknown aggregation '{name}' (known: sum, mean, count, size, min, max, \
                     var, std, first, last, nunique)"
                )));
            }
        })
    }

    /// The function's name.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Sum => "sum",
            AggFunc::Mean => "mean",
            AggFunc::Count => "count",
            AggFunc::Size => "size",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Var => "var",
            AggFunc::Std => "std",
            AggFunc::First => "first",
            AggFunc::Last => "last",
            AggFunc::Nunique => "nunique",
        }
    }

    /// Whether the function takes columns of any type (not only numbers).
    fn any_type(self) -> bool {
        matches!(
            self,
            AggFunc::Count | AggFunc::First | AggFunc::Last | AggFunc::Nunique
        )
    }
}

/// One output column of an aggregation: `func` over `column`, named `name`.
#[derive(Clone, Debug, PartialEq)]
pub struct Agg {
    /// The input column (`None` for [`AggFunc::Size`]).
    pub column: Option<String>,
    /// The function.
    pub func: AggFunc,
    /// The output column's name.
    pub name: String,
}

impl Agg {
    /// `func` over `column`, the output named after the column.
    pub fn new(column: &str, func: AggFunc) -> Self {
        Self {
            column: Some(column.to_owned()),
            func,
            name: column.to_owned(),
        }
    }

    /// The number of rows of each group, named `name`.
    pub fn size(name: &str) -> Self {
        Self {
            column: None,
            func: AggFunc::Size,
            name: name.to_owned(),
        }
    }

    /// The same aggregation with its output named `name`.
    #[must_use]
    pub fn alias(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }
}

/// The plan of an aggregation over a schema: the keys, and per aggregation the type of
/// its input.
#[derive(Clone, Debug)]
pub(crate) struct AggPlan {
    pub(crate) keys: Vec<String>,
    pub(crate) aggs: Vec<Agg>,
    types: Vec<DataType>,
    key_fields: Vec<Field>,
    pub(crate) output: SchemaRef,
}

impl AggPlan {
    pub(crate) fn new(input: &Schema, keys: Vec<String>, aggs: Vec<Agg>) -> Result<Self> {
        if aggs.is_empty() {
            return Err(invalid("an aggregation needs at least one function"));
        }
        let mut key_fields = Vec::with_capacity(keys.len());
        for k in &keys {
            let f = input.field_with_name(k).map_err(|_| not_found(k, input))?;
            key_fields.push(Field::new(k, f.data_type().clone(), true));
        }
        let mut fields = key_fields.clone();
        let mut types = Vec::with_capacity(aggs.len());
        for a in &aggs {
            let t = match &a.column {
                None if a.func == AggFunc::Size => DataType::Int64,
                None => return Err(invalid(format!("'{}' needs a column", a.func.name()))),
                Some(c) => {
                    let t = input
                        .field_with_name(c)
                        .map_err(|_| not_found(c, input))?
                        .data_type();
                    if !(a.func.any_type() || t.is_numeric() || *t == DataType::Boolean) {
                        return Err(invalid(format!(
                            "cannot take the {} of column '{c}' of type {t}",
                            a.func.name()
                        )));
                    }
                    if a.func == AggFunc::Nunique && Distinct::kind(t).is_none() {
                        return Err(invalid(format!(
                            "cannot count the distinct values of column '{c}' of type {t}"
                        )));
                    }
                    t.clone()
                }
            };
            let int = integer(&t);
            let out = match a.func {
                AggFunc::Count | AggFunc::Size | AggFunc::Nunique => DataType::Int64,
                AggFunc::Sum | AggFunc::Min | AggFunc::Max if int => DataType::Int64,
                AggFunc::First | AggFunc::Last => t.clone(),
                _ => DataType::Float64,
            };
            types.push(t);
            if fields.iter().any(|f| f.name() == &a.name) {
                return Err(invalid(format!(
                    "two output columns are named '{}'",
                    a.name
                )));
            }
            fields.push(Field::new(&a.name, out, true));
        }
        Ok(Self {
            keys,
            aggs,
            types,
            key_fields,
            output: Arc::new(Schema::new(fields)),
        })
    }

    /// The columns the aggregation reads.
    pub(crate) fn inputs(&self) -> Vec<String> {
        let mut out = self.keys.clone();
        for a in &self.aggs {
            if let Some(c) = &a.column
                && !out.contains(c)
            {
                out.push(c.clone());
            }
        }
        out
    }

    /// A partition's rows as partial states.
    pub(crate) fn partial(&self, part: &Partition) -> Result<GroupState> {
        let mut state = GroupState::new(self)?;
        for batch in part.batches() {
            state.update(self, batch)?;
        }
        state.keys.seal();
        Ok(state)
    }

    /// Partial states merged into one.
    pub(crate) fn merge(&self, states: &[&GroupState]) -> Result<GroupState> {
        let mut out = GroupState::new(self)?;
        for s in states {
            out.merge(s)?;
        }
        Ok(out)
    }

    /// The result: one row per group, sorted by the keys (pandas' `sort=True`).
    pub(crate) fn finish(&self, state: &GroupState) -> Result<RecordBatch> {
        let mut columns = state.keys.columns(&self.key_fields)?;
        let n = state.keys.len();
        for (acc, agg) in state.accs.iter().zip(&self.aggs) {
            columns.push(acc.finish(agg.func, n)?);
        }
        let batch = RecordBatch::try_new(self.output.clone(), columns)?;
        if self.keys.is_empty() || batch.num_rows() < 2 {
            return Ok(batch);
        }
        let sort: Vec<SortColumn> = batch.columns()[..self.keys.len()]
            .iter()
            .map(|c| SortColumn {
                values: c.clone(),
                options: None,
            })
            .collect();
        let order = lexsort_to_indices(&sort, None)?;
        let columns = batch
            .columns()
            .iter()
            .map(|c| take(c.as_ref(), &order, None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(RecordBatch::try_new(self.output.clone(), columns)?)
    }
}

/// The groups seen so far: their keys, and a map from a key to its group number.
enum Keys {
    /// No keys: one group (a frame-wide aggregation).
    Whole,
    /// One integer key; while a partition is read, a table indexed by the key when the
    /// keys seen span a short range.
    Int(AHashMap<i64, u32>, Vec<i64>, Dense),
    /// One string key.
    Str(AHashMap<Box<str>, u32>, Vec<Box<str>>),
    /// Any keys, as Arrow's row format (comparable bytes).
    Rows(RowConverter, AHashMap<Box<[u8]>, u32>, Vec<Box<[u8]>>),
}

impl Keys {
    fn new(fields: &[Field]) -> Result<Self> {
        Ok(match fields {
            [] => Keys::Whole,
            // UInt64 keys beyond i64's range go through the row format.
            [f] if f.data_type().is_integer() && f.data_type() != &DataType::UInt64 => {
                Keys::Int(AHashMap::new(), Vec::new(), Dense::default())
            }
            [f] if matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
            {
                Keys::Str(AHashMap::new(), Vec::new())
            }
            _ => Keys::Rows(
                RowConverter::new(
                    fields
                        .iter()
                        .map(|f| SortField::new(f.data_type().clone()))
                        .collect(),
                )?,
                AHashMap::new(),
                Vec::new(),
            ),
        })
    }

    fn len(&self) -> usize {
        match self {
            Keys::Whole => 1,
            Keys::Int(_, k, _) => k.len(),
            Keys::Str(_, k) => k.len(),
            Keys::Rows(_, _, k) => k.len(),
        }
    }

    /// The group of each row of `keys` (`u32::MAX`: a missing key, in no group).
    fn assign(&mut self, keys: &[ArrayRef], n: usize) -> Result<Vec<u32>> {
        const NONE: u32 = u32::MAX;
        Ok(match self {
            Keys::Whole => vec![0; n],
            Keys::Int(map, list, dense) => {
                let k = cast(&keys[0], &DataType::Int64)?;
                let k = k.as_primitive::<Int64Type>();
                if dense.covers(k) {
                    return Ok(dense.assign(k, list));
                }
                let map = complete(map, list);
                k.iter()
                    .map(|v| match v {
                        None => NONE,
                        Some(v) => *map.entry(v).or_insert_with(|| {
                            list.push(v);
                            (list.len() - 1) as u32
                        }),
                    })
                    .collect()
            }
            Keys::Str(map, list) => {
                let mut lookup = |v: Option<&str>| v.map_or(NONE, |v| group_of(map, list, v));
                let k = &keys[0];
                match k.data_type() {
                    DataType::Utf8 => k.as_string::<i32>().iter().map(&mut lookup).collect(),
                    DataType::LargeUtf8 => k.as_string::<i64>().iter().map(&mut lookup).collect(),
                    _ => k.as_string_view().iter().map(&mut lookup).collect(),
                }
            }
            Keys::Rows(conv, map, list) => {
                let keys: Vec<ArrayRef> = keys.iter().map(float_key).collect();
                let keys = &keys[..];
                let rows = conv.convert_columns(keys)?;
                let any_null: Option<Vec<bool>> = keys
                    .iter()
                    .any(|k| k.null_count() > 0)
                    .then(|| (0..n).map(|i| keys.iter().any(|k| k.is_null(i))).collect());
                (0..n)
                    .map(|i| {
                        if any_null.as_ref().is_some_and(|m| m[i]) {
                            return NONE;
                        }
                        let r = rows.row(i);
                        group_of(map, list, r.as_ref())
                    })
                    .collect()
            }
        })
    }

    /// The group, in `self`, of each group of `other` (added where new).
    fn absorb(&mut self, other: &Keys) -> Vec<u32> {
        match (self, other) {
            (Keys::Whole, Keys::Whole) => vec![0],
            (Keys::Int(map, list, _), Keys::Int(_, theirs, _)) => {
                let map = complete(map, list);
                theirs
                    .iter()
                    .map(|&v| {
                        *map.entry(v).or_insert_with(|| {
                            list.push(v);
                            (list.len() - 1) as u32
                        })
                    })
                    .collect()
            }
            (Keys::Str(map, list), Keys::Str(_, theirs)) => theirs
                .iter()
                .map(|v| group_of(map, list, v.as_ref()))
                .collect(),
            (Keys::Rows(_, map, list), Keys::Rows(_, _, theirs)) => theirs
                .iter()
                .map(|v| group_of(map, list, v.as_ref()))
                .collect(),
            // States of one plan always hold the same kind of keys.
            _ => Vec::new(),
        }
    }

    fn columns(&self, fields: &[Field]) -> Result<Vec<ArrayRef>> {
        Ok(match self {
            Keys::Whole => Vec::new(),
            Keys::Int(_, list, _) => {
                let a: ArrayRef = Arc::new(Int64Array::from(list.clone()));
                vec![cast(&a, fields[0].data_type())?]
            }
            Keys::Str(_, list) => {
                let a: ArrayRef = Arc::new(StringArray::from_iter_values(
                    list.iter().map(|s| s.as_ref()),
                ));
                vec![cast(&a, fields[0].data_type())?]
            }
            Keys::Rows(conv, _, list) => {
                let parser = conv.parser();
                conv.convert_rows(list.iter().map(|b| parser.parse(b)))?
            }
        })
    }

    /// The partition is read: its lookup table goes (a merge reads only a partial state's
    /// keys, and fills the map of the state it merges into).
    fn seal(&mut self) {
        if let Keys::Int(_, _, dense) = self {
            *dense = Dense::turned_off();
        }
    }

    fn nbytes(&self) -> usize {
        match self {
            Keys::Whole => 0,
            Keys::Int(_, list, dense) => list.len() * 24 + dense.slots.len() * 4,
            Keys::Str(_, list) => list.iter().map(|s| 2 * s.len() + 40).sum(),
            Keys::Rows(_, _, list) => list.iter().map(|s| 2 * s.len() + 40).sum(),
        }
    }
}

/// `map` with every key of `list` (the keys a [`Dense`] table numbered are added late).
fn complete<'a>(map: &'a mut AHashMap<i64, u32>, list: &[i64]) -> &'a mut AHashMap<i64, u32> {
    if map.len() < list.len() {
        let known = map.len();
        map.reserve(list.len() - known);
        for (g, &v) in list.iter().enumerate().skip(known) {
            map.insert(v, g as u32);
        }
    }
    map
}

/// Groups of integer keys by direct indexing: `slots[v - lo]` is the group of key `v`
/// (`u32::MAX`: none yet). Used while the keys seen span at most [`Dense::SPAN`] values
/// — ids, years, codes — where it replaces a hash and a probe per row by one load.
#[derive(Default)]
struct Dense {
    lo: i64,
    slots: Vec<u32>,
    /// The keys spanned too wide once: the map serves the rest of the partition (every
    /// key then enters the map, so the table could not be widened by copying).
    off: bool,
}

impl Dense {
    /// No table, and none for the rest of the partition.
    fn turned_off() -> Self {
        Dense {
            off: true,
            ..Dense::default()
        }
    }

    /// The most values a table spans (4 MiB of slots).
    const SPAN: i128 = 1 << 20;

    /// Whether the table covers every key of `k` (after widening it, if that keeps it
    /// within [`Dense::SPAN`]). Every group of `list` is in the table: keys enter through
    /// it from the first batch until it is turned off.
    fn covers(&mut self, k: &Int64Array) -> bool {
        if self.off {
            return false;
        }
        let (Some(lo), Some(hi)) = (min(k), max(k)) else {
            return false;
        };
        let (old_lo, old_hi) = (
            i128::from(self.lo),
            i128::from(self.lo) + self.slots.len() as i128,
        );
        if i128::from(lo) >= old_lo && i128::from(hi) < old_hi {
            return true;
        }
        let (lo, hi) = if self.slots.is_empty() {
            (i128::from(lo), i128::from(hi) + 1)
        } else {
            (old_lo.min(i128::from(lo)), old_hi.max(i128::from(hi) + 1))
        };
        if hi - lo > Self::SPAN {
            *self = Dense::turned_off();
            return false;
        }
        let mut slots = vec![u32::MAX; (hi - lo) as usize];
        if !self.slots.is_empty() {
            let at = (old_lo - lo) as usize;
            slots[at..at + self.slots.len()].copy_from_slice(&self.slots);
        }
        self.lo = lo as i64;
        self.slots = slots;
        true
    }

    /// The group of each key of `k` (all covered), new keys numbered after `list`'s.
    fn assign(&mut self, k: &Int64Array, list: &mut Vec<i64>) -> Vec<u32> {
        let lo = self.lo;
        let mut group = |v: i64| {
            let slot = &mut self.slots[(v - lo) as usize];
            if *slot == u32::MAX {
                *slot = list.len() as u32;
                list.push(v);
            }
            *slot
        };
        if k.null_count() == 0 {
            k.values().iter().map(|&v| group(v)).collect()
        } else {
            k.iter().map(|v| v.map_or(u32::MAX, &mut group)).collect()
        }
    }
}

/// The group of `key` in `map`, a new one (numbered in order of first appearance, its key
/// kept in `list`) if it has none yet.
fn group_of<K, Q>(map: &mut AHashMap<K, u32>, list: &mut Vec<K>, key: &Q) -> u32
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq + Clone + for<'a> From<&'a Q>,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if let Some(&g) = map.get(key) {
        return g;
    }
    let g = list.len() as u32;
    let k = K::from(key);
    list.push(k.clone());
    map.insert(k, g);
    g
}

/// A float key column as pandas groups it: NaN is a missing key (its rows join no
/// group) and -0.0 is 0.0.
fn float_key(a: &ArrayRef) -> ArrayRef {
    let norm = |v: f64| (!v.is_nan()).then_some(v + 0.0);
    match a.data_type() {
        DataType::Float64 => Arc::new(
            a.as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.and_then(norm))
                .collect::<Float64Array>(),
        ),
        DataType::Float32 => Arc::new(
            a.as_primitive::<arrow::datatypes::Float32Type>()
                .iter()
                .map(|v| v.and_then(|x| norm(f64::from(x)).map(|y| y as f32)))
                .collect::<arrow::array::Float32Array>(),
        ),
        _ => a.clone(),
    }
}

/// Per-group accumulators of one aggregation.
#[derive(Clone, Debug)]
enum Acc {
    SumInt(Vec<i64>),
    SumFloat(Vec<f64>),
    Count(Vec<i64>),
    MinInt(Vec<Option<i64>>),
    MaxInt(Vec<Option<i64>>),
    MinFloat(Vec<f64>),
    MaxFloat(Vec<f64>),
    /// Sum and count.
    Mean(Vec<f64>, Vec<i64>),
    /// Count, mean and the sum of squared deviations (Chan et al.'s combinable form).
    Moments(Vec<f64>, Vec<f64>, Vec<f64>),
    /// The first value present of each group in row order (the last, with `last`):
    /// `values[g]` where `has[g]`; groups past the end of `values` have none yet.
    Pick {
        last: bool,
        values: ArrayRef,
        has: Vec<bool>,
    },
    /// The distinct values present of each group.
    Distinct(Distinct),
}

/// Whether a column of type `t` is summed, and its extremes taken, as integers.
fn integer(t: &DataType) -> bool {
    t.is_integer() || *t == DataType::Boolean
}

impl Acc {
    fn new(func: AggFunc, t: &DataType) -> Self {
        let integer = integer(t);
        match func {
            AggFunc::Sum if integer => Acc::SumInt(Vec::new()),
            AggFunc::Sum => Acc::SumFloat(Vec::new()),
            AggFunc::Count | AggFunc::Size => Acc::Count(Vec::new()),
            AggFunc::Min if integer => Acc::MinInt(Vec::new()),
            AggFunc::Max if integer => Acc::MaxInt(Vec::new()),
            AggFunc::Min => Acc::MinFloat(Vec::new()),
            AggFunc::Max => Acc::MaxFloat(Vec::new()),
            AggFunc::Mean => Acc::Mean(Vec::new(), Vec::new()),
            AggFunc::Var | AggFunc::Std => Acc::Moments(Vec::new(), Vec::new(), Vec::new()),
            AggFunc::First | AggFunc::Last => Acc::Pick {
                last: func == AggFunc::Last,
                values: new_empty_array(t),
                has: Vec::new(),
            },
            AggFunc::Nunique => Acc::Distinct(Distinct::new(t)),
        }
    }

    fn grow(&mut self, n: usize) {
        match self {
            Acc::SumInt(v) | Acc::Count(v) => v.resize(n, 0),
            Acc::SumFloat(v) => v.resize(n, 0.0),
            Acc::MinInt(v) | Acc::MaxInt(v) => v.resize(n, None),
            Acc::MinFloat(v) | Acc::MaxFloat(v) => v.resize(n, f64::NAN),
            Acc::Mean(s, c) => {
                s.resize(n, 0.0);
                c.resize(n, 0);
            }
            Acc::Moments(c, m, m2) => {
                c.resize(n, 0.0);
                m.resize(n, 0.0);
                m2.resize(n, 0.0);
            }
            Acc::Pick { has, .. } => has.resize(n, false),
            Acc::Distinct(_) => {}
        }
    }

    /// Adds the rows of `values` to their groups (`groups[i]`; `u32::MAX`: none). `None`
    /// values: every row counts (`size`).
    fn update(&mut self, groups: &[u32], values: Option<&ArrayRef>) -> Result<()> {
        let Some(values) = values else {
            if let Acc::Count(c) = self {
                for &g in groups {
                    if g != u32::MAX {
                        c[g as usize] += 1;
                    }
                }
            }
            return Ok(());
        };
        match self {
            Acc::Pick {
                last,
                values: held,
                has,
            } => {
                // The row of this batch each group takes, if any.
                let nan = crate::expr::nan_mask(values);
                let mut pick: Vec<Option<usize>> = vec![None; has.len()];
                for (i, &g) in groups.iter().enumerate() {
                    if g == u32::MAX
                        || values.is_null(i)
                        || nan.as_ref().is_some_and(|m| m.value(i))
                    {
                        continue;
                    }
                    let g = g as usize;
                    if *last || (!has[g] && pick[g].is_none()) {
                        pick[g] = Some(i);
                    }
                }
                return take_picks(held, has, &pick, values);
            }
            Acc::Distinct(d) => return d.update(groups, values),
            _ => {}
        }
        if let Acc::Count(c) = self {
            // NaN is missing, as pandas counts.
            let nan = crate::expr::nan_mask(values);
            for (i, &g) in groups.iter().enumerate() {
                if g != u32::MAX && values.is_valid(i) && !nan.as_ref().is_some_and(|m| m.value(i))
                {
                    c[g as usize] += 1;
                }
            }
            return Ok(());
        }
        let integer = matches!(self, Acc::SumInt(_) | Acc::MinInt(_) | Acc::MaxInt(_));
        if integer {
            let v = cast(values, &DataType::Int64)?;
            let v = v.as_primitive::<Int64Type>();
            let rows = groups.iter().zip(v.iter()).filter_map(|(&g, x)| {
                (g != u32::MAX)
                    .then_some(())
                    .and(x)
                    .map(|x| (g as usize, x))
            });
            match self {
                Acc::SumInt(s) => rows.for_each(|(g, x)| s[g] = s[g].wrapping_add(x)),
                Acc::MinInt(s) => rows.for_each(|(g, x)| {
                    s[g] = Some(s[g].map_or(x, |m| m.min(x)));
                }),
                Acc::MaxInt(s) => rows.for_each(|(g, x)| {
                    s[g] = Some(s[g].map_or(x, |m| m.max(x)));
                }),
                _ => {}
            }
            return Ok(());
        }
        let v = cast(values, &DataType::Float64)?;
        let v = v.as_primitive::<Float64Type>();
        let dense = v.null_count() == 0;
        let raw = v.values();
        // NaN counts as missing, as pandas does.
        let each = |f: &mut dyn FnMut(usize, f64)| {
            for (i, &g) in groups.iter().enumerate() {
                if g == u32::MAX || !(dense || v.is_valid(i)) {
                    continue;
                }
                let x = raw[i];
                if !x.is_nan() {
                    f(g as usize, x);
                }
            }
        };
        match self {
            Acc::SumFloat(s) => each(&mut |g, x| s[g] += x),
            Acc::MinFloat(s) => each(&mut |g, x| {
                if s[g].is_nan() || x < s[g] {
                    s[g] = x;
                }
            }),
            Acc::MaxFloat(s) => each(&mut |g, x| {
                if s[g].is_nan() || x > s[g] {
                    s[g] = x;
                }
            }),
            Acc::Mean(s, c) => each(&mut |g, x| {
                s[g] += x;
                c[g] += 1;
            }),
            Acc::Moments(c, m, m2) => each(&mut |g, x| {
                // Welford's update.
                c[g] += 1.0;
                let d = x - m[g];
                m[g] += d / c[g];
                m2[g] += d * (x - m[g]);
            }),
            _ => {}
        }
        Ok(())
    }

    /// Merges `other`'s group `j` into this one's group `to[j]` (`other` holds rows that
    /// come after this one's).
    fn merge(&mut self, other: &Acc, to: &[u32]) -> Result<()> {
        let pairs = to.iter().enumerate().map(|(j, &g)| (j, g as usize));
        match (self, other) {
            (Acc::SumInt(a), Acc::SumInt(b)) | (Acc::Count(a), Acc::Count(b)) => {
                pairs.for_each(|(j, g)| a[g] = a[g].wrapping_add(b[j]))
            }
            (Acc::SumFloat(a), Acc::SumFloat(b)) => pairs.for_each(|(j, g)| a[g] += b[j]),
            (Acc::MinInt(a), Acc::MinInt(b)) => pairs.for_each(|(j, g)| {
                a[g] = match (a[g], b[j]) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                }
            }),
            (Acc::MaxInt(a), Acc::MaxInt(b)) => pairs.for_each(|(j, g)| {
                a[g] = match (a[g], b[j]) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                }
            }),
            (Acc::MinFloat(a), Acc::MinFloat(b)) => pairs.for_each(|(j, g)| {
                if !b[j].is_nan() && (a[g].is_nan() || b[j] < a[g]) {
                    a[g] = b[j];
                }
            }),
            (Acc::MaxFloat(a), Acc::MaxFloat(b)) => pairs.for_each(|(j, g)| {
                if !b[j].is_nan() && (a[g].is_nan() || b[j] > a[g]) {
                    a[g] = b[j];
                }
            }),
            (Acc::Mean(s, c), Acc::Mean(t, d)) => pairs.for_each(|(j, g)| {
                s[g] += t[j];
                c[g] += d[j];
            }),
            (Acc::Moments(c, m, m2), Acc::Moments(d, n, n2)) => pairs.for_each(|(j, g)| {
                let (ca, cb) = (c[g], d[j]);
                if cb == 0.0 {
                    return;
                }
                let total = ca + cb;
                let delta = n[j] - m[g];
                m[g] += delta * cb / total;
                m2[g] += n2[j] + delta * delta * ca * cb / total;
                c[g] = total;
            }),
            (
                Acc::Pick {
                    last,
                    values: held,
                    has,
                },
                Acc::Pick {
                    values: theirs,
                    has: their_has,
                    ..
                },
            ) => {
                let mut pick: Vec<Option<usize>> = vec![None; has.len()];
                for (j, g) in pairs {
                    if their_has[j] && (*last || !has[g]) {
                        pick[g] = Some(j);
                    }
                }
                take_picks(held, has, &pick, theirs)?;
            }
            (Acc::Distinct(a), Acc::Distinct(b)) => a.merge(b, to),
            _ => {}
        }
        Ok(())
    }

    /// The result column of `n` groups.
    fn finish(&self, func: AggFunc, n: usize) -> Result<ArrayRef> {
        Ok(match self {
            Acc::Pick { values, has, .. } => {
                let nulls = new_null_array(values.data_type(), 1);
                let idx: Vec<(usize, usize)> = (0..n)
                    .map(|g| {
                        if has.get(g) == Some(&true) {
                            (0, g)
                        } else {
                            (1, 0)
                        }
                    })
                    .collect();
                interleave(&[values.as_ref(), nulls.as_ref()], &idx)?
            }
            Acc::Distinct(d) => Arc::new(Int64Array::from(d.counts(n))),
            Acc::SumInt(v) | Acc::Count(v) => Arc::new(Int64Array::from(v.clone())),
            Acc::SumFloat(v) => Arc::new(Float64Array::from(v.clone())),
            Acc::MinInt(v) | Acc::MaxInt(v) => Arc::new(Int64Array::from(v.clone())),
            Acc::MinFloat(v) | Acc::MaxFloat(v) => Arc::new(
                v.iter()
                    .map(|&x| (!x.is_nan()).then_some(x))
                    .collect::<Float64Array>(),
            ),
            Acc::Mean(s, c) => Arc::new(
                s.iter()
                    .zip(c)
                    .map(|(&s, &c)| (c > 0).then(|| s / c as f64))
                    .collect::<Float64Array>(),
            ),
            Acc::Moments(c, _, m2) => Arc::new(
                c.iter()
                    .zip(m2)
                    .map(|(&c, &m2)| {
                        (c > 1.0).then(|| {
                            let var = m2 / (c - 1.0);
                            if func == AggFunc::Std {
                                var.sqrt()
                            } else {
                                var
                            }
                        })
                    })
                    .collect::<Float64Array>(),
            ),
        })
    }

    fn nbytes(&self) -> usize {
        match self {
            Acc::SumInt(v) | Acc::Count(v) => v.len() * 8,
            Acc::SumFloat(v) | Acc::MinFloat(v) | Acc::MaxFloat(v) => v.len() * 8,
            Acc::MinInt(v) | Acc::MaxInt(v) => v.len() * 16,
            Acc::Mean(s, _) => s.len() * 16,
            Acc::Moments(c, _, _) => c.len() * 24,
            Acc::Pick { values, has, .. } => values.get_array_memory_size() + has.len(),
            Acc::Distinct(d) => d.nbytes(),
        }
    }
}

/// Sets `held[g]` to `source[i]` for each `pick[g] == Some(i)`, and marks `g` as having a
/// value; the other groups keep theirs (or have none).
fn take_picks(
    held: &mut ArrayRef,
    has: &mut [bool],
    pick: &[Option<usize>],
    source: &ArrayRef,
) -> Result<()> {
    if pick.iter().all(Option::is_none) {
        return Ok(());
    }
    let nulls = new_null_array(held.data_type(), 1);
    let idx: Vec<(usize, usize)> = pick
        .iter()
        .enumerate()
        .map(|(g, p)| match p {
            Some(i) => (1, *i),
            None if has[g] => (0, g),
            None => (2, 0),
        })
        .collect();
    *held = interleave(&[held.as_ref(), source.as_ref(), nulls.as_ref()], &idx)?;
    for (h, p) in has.iter_mut().zip(pick) {
        *h |= p.is_some();
    }
    Ok(())
}

/// The distinct values present of each group, as (group, value) pairs: numbers, booleans,
/// dates and times by their bits (floats with -0.0 as 0.0; NaN is missing), strings by
/// their bytes.
#[derive(Clone, Debug)]
enum Distinct {
    Bits(bool, AHashSet<(u32, u64)>),
    Bytes(AHashSet<(u32, Box<[u8]>)>),
}

impl Distinct {
    /// Whether values of type `t` can be told apart: `Some(true)` for floats.
    fn kind(t: &DataType) -> Option<bool> {
        match t {
            DataType::Float32 | DataType::Float64 => Some(true),
            DataType::Boolean
            | DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
            | DataType::Timestamp(..)
            | DataType::Duration(_)
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View => Some(false),
            t if t.is_integer() => Some(false),
            _ => None,
        }
    }

    fn new(t: &DataType) -> Self {
        match t {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Distinct::Bytes(AHashSet::new())
            }
            t => Distinct::Bits(Distinct::kind(t) == Some(true), AHashSet::new()),
        }
    }

    fn update(&mut self, groups: &[u32], values: &ArrayRef) -> Result<()> {
        let rows = |i: usize| groups[i] != u32::MAX && values.is_valid(i);
        // Room for every row at once: the set grows once per batch, not by doublings.
        match self {
            Distinct::Bits(_, set) => set.reserve(values.len()),
            Distinct::Bytes(set) => set.reserve(values.len()),
        }
        match self {
            Distinct::Bits(true, set) => {
                let v = cast(values, &DataType::Float64)?;
                let v = v.as_primitive::<Float64Type>();
                for (i, &x) in v.values().iter().enumerate() {
                    if rows(i) && !x.is_nan() {
                        set.insert((groups[i], (x + 0.0).to_bits()));
                    }
                }
            }
            Distinct::Bits(false, set) => {
                let v = integer_bits(values)?;
                for (i, &x) in v.iter().enumerate() {
                    if rows(i) {
                        set.insert((groups[i], x as u64));
                    }
                }
            }
            Distinct::Bytes(set) => {
                let v = cast(values, &DataType::Utf8)?;
                for (i, x) in v.as_string::<i32>().iter().enumerate() {
                    if let Some(x) = x
                        && groups[i] != u32::MAX
                    {
                        set.insert((groups[i], x.as_bytes().into()));
                    }
                }
            }
        }
        Ok(())
    }

    fn merge(&mut self, other: &Distinct, to: &[u32]) {
        match (self, other) {
            (Distinct::Bits(_, a), Distinct::Bits(_, b)) => {
                a.reserve(b.len());
                a.extend(b.iter().map(|&(j, v)| (to[j as usize], v)));
            }
            (Distinct::Bytes(a), Distinct::Bytes(b)) => {
                a.reserve(b.len());
                a.extend(b.iter().map(|(j, v)| (to[*j as usize], v.clone())));
            }
            _ => {}
        }
    }

    fn counts(&self, n: usize) -> Vec<i64> {
        let mut out = vec![0_i64; n];
        let groups: Box<dyn Iterator<Item = u32>> = match self {
            Distinct::Bits(_, s) => Box::new(s.iter().map(|p| p.0)),
            Distinct::Bytes(s) => Box::new(s.iter().map(|p| p.0)),
        };
        for g in groups {
            out[g as usize] += 1;
        }
        out
    }

    fn nbytes(&self) -> usize {
        match self {
            Distinct::Bits(_, s) => s.len() * 24,
            Distinct::Bytes(s) => s.iter().map(|(_, v)| v.len() + 40).sum(),
        }
    }
}

/// The values of an integer, boolean, date or time column as 64-bit integers (missing
/// values as 0: callers check validity).
fn integer_bits(values: &ArrayRef) -> Result<Vec<i64>> {
    let as_int = match values.data_type() {
        // Beyond i64's range a cast would fail: the bits as they are.
        DataType::UInt64 => {
            let v = values.as_primitive::<arrow::datatypes::UInt64Type>();
            return Ok(v.values().iter().map(|&x| x as i64).collect());
        }
        DataType::Boolean => cast(values, &DataType::Int64)?,
        t if t.is_integer() => cast(values, &DataType::Int64)?,
        // Dates and times: their underlying numbers, reinterpreted without conversion.
        t => {
            let width = if matches!(t, DataType::Date32 | DataType::Time32(_)) {
                DataType::Int32
            } else {
                DataType::Int64
            };
            let data = values.to_data().into_builder().data_type(width.clone());
            let raw = arrow::array::make_array(data.build()?);
            cast(&raw, &DataType::Int64)?
        }
    };
    Ok(as_int.as_primitive::<Int64Type>().values().to_vec())
}

/// The partial state of an aggregation: the groups seen and their accumulators.
pub(crate) struct GroupState {
    keys: Keys,
    accs: Vec<Acc>,
}

impl GroupState {
    fn new(plan: &AggPlan) -> Result<Self> {
        let mut accs: Vec<Acc> = plan
            .aggs
            .iter()
            .zip(&plan.types)
            .map(|(a, t)| Acc::new(a.func, t))
            .collect();
        let keys = Keys::new(&plan.key_fields)?;
        if plan.keys.is_empty() {
            accs.iter_mut().for_each(|a| a.grow(1));
        }
        Ok(Self { keys, accs })
    }

    fn update(&mut self, plan: &AggPlan, batch: &RecordBatch) -> Result<()> {
        let schema = batch.schema();
        let column = |name: &str| -> Result<&ArrayRef> {
            let i = schema
                .index_of(name)
                .map_err(|_| not_found(name, &schema))?;
            Ok(batch.column(i))
        };
        let keys = plan
            .keys
            .iter()
            .map(|k| column(k).cloned())
            .collect::<Result<Vec<_>>>()?;
        let groups = self.keys.assign(&keys, batch.num_rows())?;
        let n = self.keys.len();
        for (acc, agg) in self.accs.iter_mut().zip(&plan.aggs) {
            acc.grow(n);
            let values = agg.column.as_deref().map(column).transpose()?;
            acc.update(&groups, values)?;
        }
        Ok(())
    }

    fn merge(&mut self, other: &GroupState) -> Result<()> {
        let to = self.keys.absorb(&other.keys);
        if to.len() != other.keys.len() {
            return Err(invalid("internal: partial states of different kinds"));
        }
        let n = self.keys.len();
        for (i, acc) in self.accs.iter_mut().enumerate() {
            acc.grow(n);
            acc.merge(&other.accs[i], &to)?;
        }
        Ok(())
    }

    pub(crate) fn nbytes(&self) -> usize {
        self.keys.nbytes() + self.accs.iter().map(Acc::nbytes).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Integer keys get the groups a plain map gives (numbered by first appearance),
        /// whether they go through the direct table, the hash map, or both in turn (a
        /// batch spanning more than `Dense::SPAN` values sends its keys to the map).
        #[test]
        fn integer_groups_as_a_map_numbers_them(
            batches in prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![
                        4 => (-50_i64..50).prop_map(Some),
                        1 => Just(None),
                        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(3 << 20)]
                            .prop_map(Some),
                    ],
                    0..40,
                ),
                1..6,
            ),
            merge_with in prop::collection::vec(-60_i64..60, 0..20),
        ) {
            let mut keys = Keys::new(&[Field::new("k", DataType::Int64, true)]).unwrap();
            let mut reference: Vec<i64> = Vec::new();
            for batch in &batches {
                let k: ArrayRef = Arc::new(Int64Array::from(batch.clone()));
                let got = keys.assign(&[k], batch.len()).unwrap();
                let want: Vec<u32> = batch
                    .iter()
                    .map(|v| match v {
                        None => u32::MAX,
                        Some(v) => match reference.iter().position(|r| r == v) {
                            Some(g) => g as u32,
                            None => {
                                reference.push(*v);
                                (reference.len() - 1) as u32
                            }
                        },
                    })
                    .collect();
                prop_assert_eq!(got, want);
            }
            keys.seal();
            // A merge looks keys up in the map, which must hold the table's groups too.
            let mut other = Keys::new(&[Field::new("k", DataType::Int64, true)]).unwrap();
            let k: ArrayRef = Arc::new(Int64Array::from(merge_with.clone()));
            other.assign(&[k], merge_with.len()).unwrap();
            let to = keys.absorb(&other);
            let Keys::Int(_, list, _) = &keys else { unreachable!() };
            let Keys::Int(_, theirs, _) = &other else { unreachable!() };
            for (g, v) in theirs.iter().enumerate() {
                prop_assert_eq!(list[to[g] as usize], *v);
            }
            prop_assert_eq!(list.len(), {
                let mut all: Vec<i64> = reference.clone();
                all.extend(merge_with.iter());
                all.sort_unstable();
                all.dedup();
                all.len()
            });
        }
    }
}
