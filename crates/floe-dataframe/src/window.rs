//! Moving windows (`rolling`): each row's aggregate over the rows before it that its
//! window reaches, by a count of rows or by a span of time.
//!
//! A partition's windows may reach into the partitions before it. Each partition is
//! therefore computed after the rows it needs from its predecessors — its *overlap*: the
//! last `n - 1` rows for a window of `n` rows, the rows within the span of the last time
//! for a window of time. The overlap of partition `i + 1` is taken from partition `i` and
//! partition `i`'s own overlap, so a window longer than a partition reaches as far back as
//! it needs.
//!
//! Missing values (null or NaN) are skipped; a window with fewer than `min_periods` values
//! present gives a missing result (for `count`, fewer than `min_periods` rows), as pandas.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::compute::{cast, concat};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef, TimeUnit};

use crate::agg::AggFunc;
use crate::error::{Result, invalid};
use crate::expr::not_found;
use crate::source::{Partition, first_rows, last_rows};

/// The extent of a moving window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The row and the `n - 1` rows before it (no rows for `0`: every sum and count is 0,
    /// every other aggregate missing, as pandas).
    Rows(usize),
    /// The rows whose time is within the span before the row's: `(t - span, t]`.
    Time(Duration),
    /// `n` rows centred on the row: `(n - 1) / 2` rows after it and the rest before it
    /// (pandas' `center=True`); near the end of the frame the window is cut short.
    Centered(usize),
}

/// A rolling aggregation over a schema: the window, the time column of a window of time,
/// and per output the input column and function.
#[derive(Debug)]
pub(crate) struct RollPlan {
    window: Window,
    on: Option<String>,
    /// A window of time in the time column's unit (rounded up to a whole unit).
    span: i64,
    min_periods: usize,
    specs: Vec<(String, AggFunc, String)>,
    pub(crate) output: SchemaRef,
}

impl RollPlan {
    pub(crate) fn new(
        input: &Schema,
        window: Window,
        on: Option<&str>,
        min_periods: Option<usize>,
        specs: Vec<(String, AggFunc, String)>,
    ) -> Result<Self> {
        if specs.is_empty() {
            return Err(invalid("a rolling aggregation needs at least one column"));
        }
        let mut span = 0;
        match window {
            Window::Rows(n) | Window::Centered(n) => {
                if let Some(m) = min_periods
                    && m > n
                {
                    return Err(invalid(format!(
                        "min_periods {m} must be at most the window's {n} rows"
                    )));
                }
            }
            Window::Time(d) => {
                let Some(on) = on else {
                    return Err(invalid(
                        "a window of time needs a datetime column to measure it on",
                    ));
                };
                let t = input
                    .field_with_name(on)
                    .map_err(|_| not_found(on, input))?
                    .data_type();
                let DataType::Timestamp(unit, _) = t else {
                    return Err(invalid(format!(
                        "a window of time is measured on a datetime column; '{on}' is of type {t}"
                    )));
                };
                if d.is_zero() {
                    return Err(invalid("a rolling window of time must be longer than 0"));
                }
                let per_unit: u128 = match unit {
                    TimeUnit::Second => 1_000_000_000,
                    TimeUnit::Millisecond => 1_000_000,
                    TimeUnit::Microsecond => 1_000,
                    TimeUnit::Nanosecond => 1,
                };
                span = i64::try_from(d.as_nanos().div_ceil(per_unit))
                    .map_err(|_| invalid(format!("a window of {d:?} is too long")))?;
            }
        }
        let mut fields: Vec<Field> = input.fields().iter().map(|f| f.as_ref().clone()).collect();
        for (c, func, out) in &specs {
            let t = input
                .field_with_name(c)
                .map_err(|_| not_found(c, input))?
                .data_type();
            if !matches!(
                func,
                AggFunc::Sum
                    | AggFunc::Mean
                    | AggFunc::Count
                    | AggFunc::Min
                    | AggFunc::Max
                    | AggFunc::Var
                    | AggFunc::Std
            ) {
                return Err(invalid(format!(
                    "rolling {} is not supported (sum, mean, count, min, max, var, std are)",
                    func.name()
                )));
            }
            if !(t.is_numeric() || *t == DataType::Boolean) {
                return Err(invalid(format!(
                    "cannot take a rolling {} of column '{c}' of type {t}",
                    func.name()
                )));
            }
            let field = Field::new(out, DataType::Float64, true);
            match fields.iter().position(|f| f.name() == out) {
                Some(i) => fields[i] = field,
                None => fields.push(field),
            }
        }
        let min_periods = min_periods.unwrap_or(match window {
            Window::Rows(n) | Window::Centered(n) => n,
            Window::Time(_) => 1,
        });
        Ok(Self {
            window,
            on: on.map(str::to_owned),
            span,
            min_periods,
            specs,
            output: Arc::new(Schema::new(fields)),
        })
    }

    /// The columns the windows read.
    pub(crate) fn inputs(&self) -> Vec<String> {
        let mut out: Vec<String> = self.on.iter().cloned().collect();
        for (c, _, _) in &self.specs {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }

    /// The rows after a row that its window reaches (a centred window's).
    pub(crate) fn lookahead(&self) -> usize {
        match self.window {
            Window::Centered(n) => n.saturating_sub(1) / 2,
            Window::Rows(_) | Window::Time(_) => 0,
        }
    }

    /// The first rows of `part` then `after` (the rows following `part`) that the windows
    /// of the partition before `part` reach: the window's columns only.
    pub(crate) fn ahead(&self, part: &Partition, after: &Partition) -> Result<Partition> {
        // Only the first rows are joined: those of `part` alone when it has enough.
        let n = self.lookahead();
        let (none, head);
        let (first, then) = if part.num_rows() >= n || after.num_rows() == 0 {
            let batches: Vec<&RecordBatch> = part.batches().iter().collect();
            head = Partition::new(part.schema().clone(), first_rows(&batches, n));
            none = Partition::empty();
            (&none, &head)
        } else {
            (part, after)
        };
        let (cols, _) = self.joined(first, then)?;
        let keep = n.min(cols.first().map_or(0, |c| c.len()));
        self.window_columns(cols.iter().map(|c| c.slice(0, keep)).collect())
    }

    /// The window's columns as a partition.
    fn window_columns(&self, cols: Vec<ArrayRef>) -> Result<Partition> {
        let schema = Arc::new(Schema::new(
            self.inputs()
                .iter()
                .zip(&cols)
                .map(|(name, c)| Field::new(name, c.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        Ok(Partition::new(
            schema.clone(),
            vec![RecordBatch::try_new(schema, cols)?],
        ))
    }

    /// The output columns that the windows compute.
    pub(crate) fn outputs(&self) -> impl Iterator<Item = &str> {
        self.specs.iter().map(|(_, _, o)| o.as_str())
    }

    /// The rows of `before` (the overlap of `part`) and `part` that the windows of the
    /// partitions after `part` may reach: the window's columns only.
    pub(crate) fn overlap(&self, before: &Partition, part: &Partition) -> Result<Partition> {
        // A window of rows reaches only the last rows: those of `part`, when it has enough,
        // are joined alone.
        let tail;
        let (before, part) = match self.window {
            Window::Rows(w) | Window::Centered(w) if part.num_rows() >= w.saturating_sub(1) => {
                let batches: Vec<&RecordBatch> = part.batches().iter().collect();
                tail = Partition::new(
                    part.schema().clone(),
                    last_rows(&batches, w.saturating_sub(1)),
                );
                (&Partition::empty(), &tail)
            }
            _ => (before, part),
        };
        let (cols, _) = self.joined(before, part)?;
        let n = cols.first().map_or(0, |c| c.len());
        let keep = match self.window {
            Window::Rows(w) | Window::Centered(w) => w.saturating_sub(1).min(n),
            Window::Time(_) => {
                let t = self.times(&cols)?;
                match t.last() {
                    None => 0,
                    Some(&last) => {
                        t.len() - t.partition_point(|&x| x <= last.saturating_sub(self.span))
                    }
                }
            }
        };
        self.window_columns(cols.iter().map(|c| c.slice(n - keep, keep)).collect())
    }

    /// `part` with the windows' results, each window reaching into `before` (the overlap
    /// of `part`) and `after` (the rows following it, for a centred window) where it needs.
    pub(crate) fn apply(
        &self,
        before: &Partition,
        part: &Partition,
        after: &Partition,
    ) -> Result<Partition> {
        let (mut cols, skip) = self.joined(before, part)?;
        let rows = part.num_rows();
        // A centred window is the trailing window of the row `ahead` rows later: the
        // following rows are appended, and missing values past the frame's end (which no
        // aggregate counts) cut its last windows short.
        let ahead = self.lookahead();
        let next = if ahead == 0 || after.num_rows() == 0 {
            Vec::new()
        } else {
            self.joined(&Partition::empty(), after)?.0
        };
        let taken = next.first().map_or(0, |a| a.len().min(ahead));
        let padding = ahead - taken;
        if ahead > 0 {
            for (i, c) in cols.iter_mut().enumerate() {
                let mut pieces = vec![c.clone()];
                if taken > 0 {
                    pieces.push(cast(&next[i].slice(0, taken), c.data_type())?);
                }
                pieces.push(arrow::array::new_null_array(c.data_type(), padding));
                let refs: Vec<&dyn arrow::array::Array> =
                    pieces.iter().map(|a| a.as_ref()).collect();
                *c = concat(&refs)?;
            }
        }
        let n = cols.first().map_or(0, |c| c.len());
        let starts: Vec<usize> = match self.window {
            Window::Rows(w) | Window::Centered(w) => {
                (0..n).map(|i| (i + 1).saturating_sub(w)).collect()
            }
            Window::Time(_) => {
                let t = self.times(&cols)?;
                let mut start = 0;
                t.iter()
                    .map(|&x| {
                        while t[start] <= x.saturating_sub(self.span) {
                            start += 1;
                        }
                        start
                    })
                    .collect()
            }
        };
        let inputs = self.inputs();
        let mut rolled: Vec<(String, ArrayRef)> = Vec::new();
        for (c, func, out) in &self.specs {
            let i = inputs.iter().position(|x| x == c).unwrap_or(0);
            let values = cast(&cols[i], &DataType::Float64)?;
            let r = roll(
                values.as_primitive::<Float64Type>(),
                &starts,
                *func,
                self.min_periods,
                n - padding,
            );
            rolled.push((out.clone(), Arc::new(r.slice(skip + ahead, rows))));
        }
        let batch = part.concat()?;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.output.fields().len());
        let mut fields: Vec<Field> = Vec::new();
        for f in self.output.fields() {
            if let Some((_, a)) = rolled.iter().find(|(o, _)| o == f.name()) {
                columns.push(a.clone());
                fields.push(f.as_ref().clone());
            } else if let Ok(i) = batch.schema().index_of(f.name()) {
                columns.push(batch.column(i).clone());
                fields.push(batch.schema().field(i).clone());
            }
        }
        let schema = Arc::new(Schema::new(fields));
        Ok(Partition::new(
            schema.clone(),
            vec![RecordBatch::try_new(schema, columns)?],
        ))
    }

    /// The window's columns of `before` then `part`, and the rows that are `before`'s.
    fn joined(&self, before: &Partition, part: &Partition) -> Result<(Vec<ArrayRef>, usize)> {
        let skip = before.num_rows();
        let (a, b) = (before.concat()?, part.concat()?);
        let cols = self
            .inputs()
            .iter()
            .map(|name| {
                let column = |batch: &RecordBatch| -> Result<ArrayRef> {
                    let s = batch.schema();
                    Ok(batch
                        .column(s.index_of(name).map_err(|_| not_found(name, &s))?)
                        .clone())
                };
                let y = column(&b)?;
                if skip == 0 {
                    return Ok(y);
                }
                let x = column(&a)?;
                let x = cast(&x, y.data_type())?;
                Ok(concat(&[x.as_ref(), y.as_ref()])?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((cols, skip))
    }

    /// The time column (the first of `cols`) as numbers, checked present and sorted.
    fn times(&self, cols: &[ArrayRef]) -> Result<Vec<i64>> {
        let on = self.on.as_deref().unwrap_or_default();
        let t = cast(&cols[0], &DataType::Int64)?;
        let t = t.as_primitive::<arrow::datatypes::Int64Type>();
        if t.null_count() > 0 {
            return Err(invalid(format!(
                "column '{on}' has missing times: a window of time cannot be measured"
            )));
        }
        let v = t.values().to_vec();
        if let Some(i) = v.windows(2).position(|w| w[1] < w[0]) {
            return Err(invalid(format!(
                "column '{on}' is not sorted (a time decreases after row {i} of a \
                 partition's window); windows of time need increasing times: sort first"
            )));
        }
        Ok(v)
    }
}

/// The aggregate `func` of each row's window `[starts[i], i]` of `values`: windows whose
/// starts never decrease, slid by adding and removing one value at a time. Rows from
/// `real` on are padding past the frame's end (missing values that no window counts as
/// rows either, for `count`'s `min_periods`).
fn roll(
    values: &Float64Array,
    starts: &[usize],
    func: AggFunc,
    min_periods: usize,
    real: usize,
) -> Float64Array {
    let n = values.len();
    let x = |i: usize| -> Option<f64> {
        let v = values.value(i);
        (values.is_valid(i) && !v.is_nan()).then_some(v)
    };
    let mut out: Vec<Option<f64>> = Vec::with_capacity(n);
    let mut lo = 0;
    match func {
        AggFunc::Min | AggFunc::Max => {
            // A deque of the rows that may still be the extreme, their values monotonic.
            let better = |a: f64, b: f64| if func == AggFunc::Min { a <= b } else { a >= b };
            let mut q: VecDeque<(usize, f64)> = VecDeque::new();
            let mut present = 0_usize;
            for (i, &start) in starts.iter().enumerate() {
                if let Some(v) = x(i) {
                    while q.back().is_some_and(|&(_, b)| better(v, b)) {
                        q.pop_back();
                    }
                    q.push_back((i, v));
                    present += 1;
                }
                while lo < start {
                    present -= usize::from(x(lo).is_some());
                    lo += 1;
                }
                while q.front().is_some_and(|&(j, _)| j < start) {
                    q.pop_front();
                }
                out.push((present >= min_periods && present > 0).then(|| q[0].1));
            }
        }
        _ => {
            // Present count, Kahan-compensated sum, and Welford's mean and M2; and how
            // many present values in a row equal the last (a window of equal values has
            // a variance of exactly 0, whatever rounding the removals left in M2).
            let (mut count, mut sum, mut comp) = (0_usize, 0.0_f64, 0.0_f64);
            let (mut mean, mut m2) = (0.0_f64, 0.0_f64);
            let (mut same, mut last) = (0_usize, f64::NAN);
            let kahan = |sum: &mut f64, comp: &mut f64, v: f64| {
                let y = v - *comp;
                let t = *sum + y;
                *comp = (t - *sum) - y;
                *sum = t;
            };
            for (i, &start) in starts.iter().enumerate() {
                if let Some(v) = x(i) {
                    count += 1;
                    same = if v == last { same + 1 } else { 1 };
                    last = v;
                    kahan(&mut sum, &mut comp, v);
                    let d = v - mean;
                    mean += d / count as f64;
                    m2 += d * (v - mean);
                }
                while lo < start {
                    if let Some(v) = x(lo) {
                        count -= 1;
                        if count == 0 {
                            (sum, comp, mean, m2) = (0.0, 0.0, 0.0, 0.0);
                        } else {
                            kahan(&mut sum, &mut comp, -v);
                            let d = v - mean;
                            mean -= d / count as f64;
                            m2 -= d * (v - mean);
                        }
                    }
                    lo += 1;
                }
                let rows = (i + 1).min(real).saturating_sub(start);
                let enough = count >= min_periods.max(1);
                out.push(match func {
                    AggFunc::Count => (rows >= min_periods).then_some(count as f64),
                    AggFunc::Sum => (count >= min_periods).then_some(sum),
                    AggFunc::Mean => enough.then(|| sum / count as f64),
                    AggFunc::Var | AggFunc::Std => (enough && count >= 2).then(|| {
                        let var = if same >= count {
                            0.0
                        } else {
                            (m2 / (count - 1) as f64).max(0.0)
                        };
                        if func == AggFunc::Std {
                            var.sqrt()
                        } else {
                            var
                        }
                    }),
                    _ => None,
                });
            }
        }
    }
    Float64Array::from(out)
}
