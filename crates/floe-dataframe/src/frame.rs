//! The lazy dataframe: a plan over partitions, checked against the schema as it is
//! built, lowered to one task per partition and operation when computed.

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use floe_graph::{GraphBuilder, Key, TaskError, TaskId, Value};

use crate::agg::{Agg, AggFunc, AggPlan, GroupState};
use crate::error::{Result, invalid};
use crate::expr::{Expr, not_found};
use crate::join::{JoinHow, JoinPlan};
use crate::sink::{FileFormat, Sink};
use crate::sort::SortPlan;
use crate::source::{
    CsvOptions, CsvSource, ParquetSource, Partition, first_rows, indices, last_rows,
};
use crate::window::{RollPlan, Window};

/// A partitioned dataframe: a plan over partitions of Arrow record batches. Nothing is
/// read until the frame is computed (`floe::compute(&df)`); every method checks its
/// columns and types against the schema at once.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Float64Array, RecordBatch, StringArray};
/// use arrow::datatypes::{DataType, Field, Schema};
/// use floe_dataframe::{col, lit, AggFunc, DataFrame};
///
/// let schema = Arc::new(Schema::new(vec![
///     Field::new("name", DataType::Utf8, true),
///     Field::new("x", DataType::Float64, true),
/// ]));
/// let part = |names: Vec<&str>, xs: Vec<f64>| {
///     RecordBatch::try_new(schema.clone(), vec![
///         Arc::new(StringArray::from(names)),
///         Arc::new(Float64Array::from(xs)),
///     ]).unwrap()
/// };
/// let df = DataFrame::from_batches(schema.clone(), vec![
///     vec![part(vec!["a", "b"], vec![1.0, -2.0])],
///     vec![part(vec!["a"], vec![5.0])],
/// ])?;
/// let means = df.filter(col("x").gt(lit(0)))?.groupby(&["name"])?.agg_one("x", AggFunc::Mean)?;
/// assert_eq!(means.columns(), vec!["name", "x"]);
/// assert_eq!(means.npartitions(), 1);
/// # Ok::<(), floe_dataframe::Error>(())
/// ```
#[derive(Clone)]
pub struct DataFrame {
    plan: Arc<Plan>,
    schema: SchemaRef,
}

enum Plan {
    Csv(Arc<CsvSource>),
    Parquet(Arc<ParquetSource>),
    Memory(Vec<Partition>),
    Select(DataFrame),
    Filter(DataFrame, Expr),
    WithColumn(DataFrame, String, Expr),
    Aggregate(DataFrame, Arc<AggPlan>, usize),
    /// The first rows (at most `n`) of the first partitions (all when `None`); with
    /// `true`, the last rows of the last partitions.
    Head(DataFrame, usize, Option<usize>, bool),
    /// Each partition written to its file; a row per file.
    Write(DataFrame, Arc<Sink>),
    /// The rows of two frames joined on keys.
    Join(DataFrame, DataFrame, Arc<JoinPlan>),
    /// The rows sorted by columns, in ranges of keys, one per partition.
    Sort(DataFrame, Arc<SortPlan>),
    /// Moving-window aggregates, each partition with the rows before it it needs.
    Rolling(DataFrame, Arc<RollPlan>),
    /// A function of each partition, its result checked against the declared schema.
    Map(DataFrame, PartitionFn),
    /// Some of the input's partitions, in this order.
    Partitions(DataFrame, Vec<usize>),
}

/// A function of a partition (its number, its rows) giving a record batch: what
/// [`DataFrame::map_partitions`] applies. Its errors reach the caller as they are.
pub type PartitionFn =
    Arc<dyn Fn(usize, &Partition) -> std::result::Result<RecordBatch, TaskError> + Send + Sync>;

impl fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for DataFrame {
    /// A summary without computing: the operation, the partitions and the columns.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "floe.DataFrame<{}, npartitions={}>",
            self.operation(),
            self.npartitions()
        )?;
        for field in self.schema.fields() {
            writeln!(f, "  {}: {}", field.name(), field.data_type())?;
        }
        Ok(())
    }
}

impl DataFrame {
    fn new(plan: Plan, schema: SchemaRef) -> Self {
        Self {
            plan: Arc::new(plan),
            schema,
        }
    }

    /// A frame over CSV files: `path` is a file, a directory of `*.csv` files or a pattern
    /// (`data/2014-*.csv`). Each file is split into partitions of `opts.blocksize` bytes
    /// at line ends; the types are inferred from the first file's first rows.
    ///
    /// # Errors
    ///
    /// No file matches, a file cannot be read, files disagree on their columns, a column
    /// named in `opts` does not exist.
    pub fn read_csv(path: &str, opts: &CsvOptions) -> Result<Self> {
        let src = CsvSource::open(path, opts)?;
        let schema = src.schema.clone();
        Ok(Self::new(Plan::Csv(Arc::new(src)), schema))
    }

    /// A frame over Parquet files (a file, a directory of `*.parquet` files or a pattern),
    /// one partition per file; `columns` limits what is ever read. Only the footers are
    /// read now.
    ///
    /// # Errors
    ///
    /// No file matches; a file is not Parquet or is truncated (named); files disagree on
    /// a column's type ([`crate::Error::TypeClash`], naming both).
    pub fn read_parquet(path: &str, columns: Option<&[String]>) -> Result<Self> {
        let src = ParquetSource::open(path, columns)?;
        let schema = src.schema.clone();
        Ok(Self::new(Plan::Parquet(Arc::new(src)), schema))
    }

    /// A frame over record batches in memory: one partition per inner `Vec`.
    ///
    /// # Errors
    ///
    /// A batch whose schema is not `schema`.
    pub fn from_batches(schema: SchemaRef, partitions: Vec<Vec<RecordBatch>>) -> Result<Self> {
        for p in &partitions {
            for b in p {
                if b.schema().fields() != schema.fields() {
                    return Err(invalid(format!(
                        "a batch has columns {:?}, not the frame's {:?}",
                        b.schema().fields(),
                        schema.fields()
                    )));
                }
            }
        }
        let parts = partitions
            .into_iter()
            .map(|p| Partition::new(schema.clone(), p))
            .collect();
        Ok(Self::new(Plan::Memory(parts), schema))
    }

    /// The columns and their types.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The column names, in order.
    pub fn columns(&self) -> Vec<&str> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect()
    }

    /// The number of partitions.
    pub fn npartitions(&self) -> usize {
        match &*self.plan {
            Plan::Csv(s) => s.parts.len(),
            Plan::Parquet(s) => s.npartitions(),
            Plan::Memory(p) => p.len(),
            Plan::Select(i) | Plan::Filter(i, _) | Plan::WithColumn(i, _, _) => i.npartitions(),
            Plan::Aggregate(..) | Plan::Head(..) => 1,
            Plan::Write(i, _) => i.npartitions(),
            Plan::Join(l, r, plan) => join_strategy(l, r, plan.how).1,
            Plan::Sort(_, plan) => plan.npartitions,
            Plan::Rolling(i, _) | Plan::Map(i, _) => i.npartitions(),
            Plan::Partitions(_, picked) => picked.len(),
        }
    }

    /// The bytes of a frame held in memory (batches, or columns and rows of them), when
    /// known without running anything.
    fn memory_bytes(&self) -> Option<usize> {
        match &*self.plan {
            Plan::Memory(parts) => Some(parts.iter().map(Partition::nbytes).sum()),
            Plan::Select(i) | Plan::Filter(i, _) | Plan::Head(i, ..) | Plan::Partitions(i, _) => {
                i.memory_bytes()
            }
            _ => None,
        }
    }

    fn operation(&self) -> &'static str {
        match &*self.plan {
            Plan::Csv(_) => "read-csv",
            Plan::Parquet(_) => "read-parquet",
            Plan::Memory(_) => "from-batches",
            Plan::Select(_) => "select",
            Plan::Filter(..) => "filter",
            Plan::WithColumn(..) => "assign",
            Plan::Aggregate(..) => "aggregate",
            Plan::Head(..) => "head",
            Plan::Write(..) => "write",
            Plan::Join(..) => "merge",
            Plan::Sort(..) => "sort",
            Plan::Rolling(..) => "rolling",
            Plan::Map(..) => "map-partitions",
            Plan::Partitions(..) => "partitions",
        }
    }

    /// Only the partitions `picked` (indices, in the order given; Dask's
    /// `df.partitions[...]`): what `.loc` keeps of a frame whose partitions' index ranges
    /// are known. The other partitions are never read.
    ///
    /// # Errors
    ///
    /// No partition is picked, or an index is not below [`DataFrame::npartitions`].
    pub fn partitions(&self, picked: &[usize]) -> Result<Self> {
        let n = self.npartitions();
        if picked.is_empty() {
            return Err(invalid(
                "a frame needs at least one partition; none was picked",
            ));
        }
        if let Some(bad) = picked.iter().find(|&&i| i >= n) {
            return Err(invalid(format!(
                "partition {bad} picked of a frame of {n} partitions"
            )));
        }
        Ok(Self::new(
            Plan::Partitions(self.clone(), picked.to_vec()),
            self.schema.clone(),
        ))
    }

    /// Only `columns`, in that order (`df[["a", "b"]]`).
    ///
    /// # Errors
    ///
    /// A column the frame does not have ([`crate::Error::ColumnNotFound`]).
    pub fn select(&self, columns: &[&str]) -> Result<Self> {
        let names: Vec<String> = columns.iter().map(|c| (*c).to_owned()).collect();
        let schema = Arc::new(self.schema.project(&indices(&self.schema, &names)?)?);
        Ok(Self::new(Plan::Select(self.clone()), schema))
    }

    /// The rows where `predicate` is true (missing counts as false).
    ///
    /// # Errors
    ///
    /// An unknown column, or a predicate that is not boolean.
    pub fn filter(&self, predicate: Expr) -> Result<Self> {
        let t = predicate.data_type(&self.schema)?;
        if t != arrow::datatypes::DataType::Boolean {
            return Err(invalid(format!(
                "a filter needs a boolean expression; {predicate} is {t}"
            )));
        }
        Ok(Self::new(
            Plan::Filter(self.clone(), predicate),
            self.schema.clone(),
        ))
    }

    /// The frame with column `name` set to `expr` (replaced where it exists, else added
    /// last): pandas' `assign`.
    ///
    /// # Errors
    ///
    /// As [`Expr::data_type`].
    pub fn with_column(&self, name: &str, expr: Expr) -> Result<Self> {
        let t = expr.data_type(&self.schema)?;
        let mut fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        match fields.iter_mut().find(|f| f.name() == name) {
            Some(f) => *f = Field::new(name, t, true),
            None => fields.push(Field::new(name, t, true)),
        }
        Ok(Self::new(
            Plan::WithColumn(self.clone(), name.to_owned(), expr),
            Arc::new(Schema::new(fields)),
        ))
    }

    /// Groups by `keys` (one or several columns), for [`GroupBy::agg`].
    ///
    /// # Errors
    ///
    /// An unknown key, or no keys.
    pub fn groupby(&self, keys: &[&str]) -> Result<GroupBy> {
        if keys.is_empty() {
            return Err(invalid("groupby needs at least one key"));
        }
        for k in keys {
            self.schema
                .index_of(k)
                .map_err(|_| not_found(k, &self.schema))?;
        }
        Ok(GroupBy {
            frame: self.clone(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            split_every: 8,
        })
    }

    /// Frame-wide aggregations (`df.agg({"x": "sum"})`): a frame of one row.
    ///
    /// # Errors
    ///
    /// An unknown column, a function that does not apply to a column's type, two outputs
    /// with one name.
    pub fn agg(&self, aggs: Vec<Agg>) -> Result<Self> {
        self.aggregate(Vec::new(), aggs, 8)
    }

    /// The number of rows, as a one-row frame with column `len` (`len(df)`).
    ///
    /// # Errors
    ///
    /// None in practice (kept for symmetry with [`DataFrame::agg`]).
    pub fn count_rows(&self) -> Result<Self> {
        self.agg(vec![Agg::size("len")])
    }

    /// The first `n` rows, taken from the first `npartitions` partitions (`None`: from
    /// as many as it takes), as Dask's `head(n, npartitions=1)`: only those partitions are
    /// read. One partition.
    ///
    /// # Errors
    ///
    /// `npartitions` of zero.
    pub fn head(&self, n: usize, npartitions: Option<usize>) -> Result<Self> {
        self.ends(n, npartitions, false)
    }

    /// The last `n` rows, taken from the last `npartitions` partitions (`None`: from as
    /// many as it takes), as Dask's `tail(n, npartitions=1)`; in their order. One
    /// partition; only those partitions are read.
    ///
    /// # Errors
    ///
    /// `npartitions` of zero.
    pub fn tail(&self, n: usize, npartitions: Option<usize>) -> Result<Self> {
        self.ends(n, npartitions, true)
    }

    fn ends(&self, n: usize, npartitions: Option<usize>, from_end: bool) -> Result<Self> {
        if npartitions == Some(0) {
            let what = if from_end { "tail" } else { "head" };
            return Err(invalid(format!("{what} needs at least one partition")));
        }
        Ok(Self::new(
            Plan::Head(self.clone(), n, npartitions, from_end),
            self.schema.clone(),
        ))
    }

    /// Writes each partition to a Parquet file (snappy), `path/part.{i}.parquet` or, for a
    /// `path` with a `*`, that path with the partition's number for it; the directory is
    /// created now. Computing the returned frame writes the files and gives a row per file
    /// (`path`, `rows`). Each file is written under a hidden temporary name and renamed when
    /// complete: a failure leaves no half-written file under a final name.
    ///
    /// # Errors
    ///
    /// The directory cannot be created, or `path` has more than one `*`.
    pub fn to_parquet(&self, path: &str) -> Result<Self> {
        self.write(path, FileFormat::Parquet)
    }

    /// Writes each partition to a CSV file with a header line, named as
    /// [`DataFrame::to_parquet`] names them (`part.{i}.csv`).
    ///
    /// # Errors
    ///
    /// As [`DataFrame::to_parquet`].
    pub fn to_csv(&self, path: &str) -> Result<Self> {
        self.write(path, FileFormat::Csv)
    }

    /// The rows of this frame and `right` whose keys match (pandas' `merge`): `left_on`
    /// columns of this frame against `right_on` columns of `right` (the same names for
    /// pandas' `on=`, in which case each key is one output column). The output has the
    /// left columns, then the right ones; other names on both sides get `suffixes`.
    /// Missing keys match each other, as in pandas. When one side has a single partition
    /// (and the join keeps only the other side's unmatched rows, if any) it is joined with
    /// each partition of the other as a whole (broadcast); otherwise both sides are split
    /// by a hash of the key into as many buckets as the larger has partitions, and bucket
    /// is joined with bucket. Rows come in no particular order.
    ///
    /// # Errors
    ///
    /// An unknown key, keys of types that do not compare, a clash of output names.
    pub fn merge(
        &self,
        right: &DataFrame,
        left_on: &[&str],
        right_on: &[&str],
        how: JoinHow,
        suffixes: (&str, &str),
    ) -> Result<Self> {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let plan = JoinPlan::new(
            &self.schema,
            &right.schema,
            own(left_on),
            own(right_on),
            how,
            suffixes,
        )?;
        let schema = plan.output.clone();
        Ok(Self::new(
            Plan::Join(self.clone(), right.clone(), Arc::new(plan)),
            schema,
        ))
    }

    /// `f` applied to each partition (all its columns), each result a partition of
    /// `schema`: a result with other column names is an error naming both lists, and
    /// columns of another type are converted to the declared one where that loses
    /// nothing (integers to floats, to wider integers), else an error.
    ///
    /// # Errors
    ///
    /// None now; the results are checked as they come.
    pub fn map_partitions(&self, f: PartitionFn, schema: SchemaRef) -> Result<Self> {
        Ok(Self::new(Plan::Map(self.clone(), f), schema))
    }

    /// Moving-window aggregates: each `(column, func, out)` of `specs` gives column `out`
    /// (replacing a column of that name, else added) holding `func` over each row's window
    /// of `column` — the row and the rows before it, `window` rows or a span of time
    /// measured on the datetime column `on` (sorted). Windows with fewer than
    /// `min_periods` values present (default: the whole window of rows, or 1 for time)
    /// give a missing value. Functions: sum, mean, count, min, max, var, std.
    ///
    /// # Errors
    ///
    /// An unknown column, a column that is not numeric, a window of time without a
    /// datetime column, an empty window, an unsupported function.
    pub fn rolling(
        &self,
        window: Window,
        on: Option<&str>,
        min_periods: Option<usize>,
        specs: &[(&str, AggFunc, &str)],
    ) -> Result<Self> {
        let specs = specs
            .iter()
            .map(|(c, f, o)| ((*c).to_owned(), *f, (*o).to_owned()))
            .collect();
        let plan = RollPlan::new(&self.schema, window, on, min_periods, specs)?;
        let schema = plan.output.clone();
        Ok(Self::new(
            Plan::Rolling(self.clone(), Arc::new(plan)),
            schema,
        ))
    }

    /// The rows sorted by the columns `by` (each ascending or not; missing values and NaN
    /// last, as pandas puts them), in `npartitions` partitions of consecutive key ranges
    /// (by default as many as the frame has). Rows with equal keys keep their order (a
    /// stable sort). Each partition's keys are sampled to choose the ranges; each
    /// partition is then split by range and each range sorted, so that no task holds more
    /// than a range.
    ///
    /// # Errors
    ///
    /// An unknown column, a column of a type that does not sort, `ascending` not one per
    /// column.
    pub fn sort_values(
        &self,
        by: &[&str],
        ascending: &[bool],
        npartitions: Option<usize>,
    ) -> Result<Self> {
        let plan = SortPlan::new(
            &self.schema,
            by.iter().map(|c| (*c).to_owned()).collect(),
            ascending.to_vec(),
            npartitions.unwrap_or_else(|| self.npartitions()),
        )?;
        Ok(Self::new(
            Plan::Sort(self.clone(), Arc::new(plan)),
            self.schema.clone(),
        ))
    }

    fn write(&self, path: &str, format: FileFormat) -> Result<Self> {
        let sink = Arc::new(Sink::new(path, format)?);
        Ok(Self::new(
            Plan::Write(self.clone(), sink),
            Sink::result_schema(),
        ))
    }

    fn aggregate(&self, keys: Vec<String>, aggs: Vec<Agg>, split_every: usize) -> Result<Self> {
        let plan = AggPlan::new(&self.schema, keys, aggs)?;
        let schema = plan.output.clone();
        Ok(Self::new(
            Plan::Aggregate(self.clone(), Arc::new(plan), split_every.max(2)),
            schema,
        ))
    }

    /// Adds the tasks computing the frame to `builder`: one per partition and operation,
    /// then one that joins the partitions into a single record batch, whose id is returned.
    /// Only the columns the frame uses are read.
    ///
    /// # Errors
    ///
    /// The graph could not be built.
    pub fn lower(&self, builder: &mut GraphBuilder) -> Result<TaskId> {
        let columns = self.column_names();
        let parts = self.lower_partitions(builder, &columns)?;
        let schema = self.schema.clone();
        Ok(
            builder.add_fn(Key::named("concat-partitions"), &parts, move |inputs| {
                let mut batches = Vec::new();
                for v in inputs {
                    batches.extend_from_slice(partition(v)?.batches());
                }
                let out =
                    arrow::compute::concat_batches(&schema, &batches).map_err(TaskError::new)?;
                let n = out.get_array_memory_size();
                Ok(Value::with_nbytes(out, n))
            })?,
        )
    }

    /// The Parquet files this frame reads as they are (under selections of columns).
    fn parquet(&self) -> Option<&Arc<ParquetSource>> {
        match &*self.plan {
            Plan::Parquet(src) => Some(src),
            Plan::Select(input) => input.parquet(),
            _ => None,
        }
    }

    fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// One task per partition, each giving a [`Partition`] of `columns` (a subset of the
    /// frame's, in any order).
    fn lower_partitions(&self, b: &mut GraphBuilder, columns: &[String]) -> Result<Vec<TaskId>> {
        let columns: Arc<[String]> = columns.into();
        match &*self.plan {
            Plan::Csv(src) => (0..src.parts.len())
                .map(|i| {
                    let (src, cols) = (src.clone(), columns.clone());
                    Ok(b.add_fn(Key::new("read-csv", &[i as u32]), &[], move |_| {
                        part_value(src.read(i, &cols))
                    })?)
                })
                .collect(),
            Plan::Parquet(src) => lower_parquet(b, src, &columns, None),
            Plan::Memory(parts) => parts
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let p = p.project(&columns)?;
                    Ok(
                        b.add_fn(Key::new("from-batches", &[i as u32]), &[], move |_| {
                            let n = p.nbytes();
                            Ok(Value::with_nbytes(p.clone(), n))
                        })?,
                    )
                })
                .collect(),
            Plan::Select(input) => input.lower_partitions(b, &columns),
            // The others' tasks are culled before anything runs.
            Plan::Partitions(input, picked) => {
                let parts = input.lower_partitions(b, &columns)?;
                Ok(picked.iter().map(|&i| parts[i]).collect())
            }
            Plan::Filter(input, predicate) => {
                let mut need: Vec<String> = columns.to_vec();
                for c in predicate.columns() {
                    if !need.iter().any(|n| n == c) {
                        need.push(c.to_owned());
                    }
                }
                // Over Parquet files, row groups the predicate cannot match are not read.
                let parts = match input.parquet() {
                    Some(src) => lower_parquet(b, src, &need.as_slice().into(), Some(predicate))?,
                    None => input.lower_partitions(b, &need)?,
                };
                let (pred, cols) = (predicate.clone(), columns.clone());
                each_partition(b, "filter", parts, move |_, part| {
                    filter(part, &pred)
                        .and_then(|f| f.project(&cols))
                        .map_err(TaskError::new)
                })
            }
            Plan::WithColumn(input, name, expr) => {
                let mut need: Vec<String> =
                    columns.iter().filter(|c| *c != name).cloned().collect();
                for c in expr.columns() {
                    if !need.iter().any(|n| n == c) {
                        need.push(c.to_owned());
                    }
                }
                let parts = input.lower_partitions(b, &need)?;
                let out_schema = self.schema.clone();
                let (expr, name, cols) = (expr.clone(), name.clone(), columns.clone());
                each_partition(b, "assign", parts, move |_, part| {
                    assign(part, &name, &expr, &out_schema)
                        .and_then(|f| f.project(&cols))
                        .map_err(TaskError::new)
                })
            }
            Plan::Aggregate(input, plan, split_every) => {
                let parts = input.lower_partitions(b, &plan.inputs())?;
                let mut level: Vec<TaskId> = parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let plan = plan.clone();
                        b.add_fn(Key::new("groupby-partial", &[i as u32]), &[p], move |v| {
                            let s = plan.partial(partition(&v[0])?).map_err(TaskError::new)?;
                            let n = s.nbytes();
                            Ok(Value::with_nbytes(s, n))
                        })
                    })
                    .collect::<std::result::Result<_, _>>()?;
                if level.is_empty() {
                    let plan = plan.clone();
                    level.push(b.add_fn(Key::named("groupby-partial"), &[], move |_| {
                        let part = Partition::empty();
                        let s = plan.partial(&part).map_err(TaskError::new)?;
                        Ok(Value::with_nbytes(s, 0))
                    })?);
                }
                // A tree of merges, `split_every` states at a time, then the result.
                let mut depth = 0_u32;
                while level.len() > 1 {
                    depth += 1;
                    level = level
                        .chunks(*split_every)
                        .enumerate()
                        .map(|(j, group)| {
                            let plan = plan.clone();
                            b.add_fn(Key::new("groupby-combine", &[depth, j as u32]), group, {
                                move |v| {
                                    let states = v
                                        .iter()
                                        .map(state)
                                        .collect::<std::result::Result<Vec<_>, _>>()?;
                                    let s = plan.merge(&states).map_err(TaskError::new)?;
                                    let n = s.nbytes();
                                    Ok(Value::with_nbytes(s, n))
                                }
                            })
                        })
                        .collect::<std::result::Result<_, _>>()?;
                }
                let plan = plan.clone();
                let cols = columns.clone();
                let out = b.add_fn(Key::named("groupby-agg"), &level, move |v| {
                    let batch = plan.finish(state(&v[0])?).map_err(TaskError::new)?;
                    let part = Partition::new(batch.schema(), vec![batch]);
                    part_value(part.project(&cols))
                })?;
                Ok(vec![out])
            }
            Plan::Head(input, n, k, from_end) => {
                let mut parts = input.lower_partitions(b, &columns)?;
                // The others are culled before the graph runs: never read.
                let keep = k.unwrap_or(usize::MAX).min(parts.len());
                if *from_end {
                    parts.drain(..parts.len() - keep);
                } else {
                    parts.truncate(keep);
                }
                let (n, schema, from_end) = (*n, self.schema.clone(), *from_end);
                let cols = columns.clone();
                let name = if from_end { "tail" } else { "head" };
                let out = b.add_fn(Key::named(name), &parts, move |inputs| {
                    let all: Vec<&RecordBatch> = inputs
                        .iter()
                        .map(partition)
                        .collect::<std::result::Result<Vec<_>, _>>()?
                        .into_iter()
                        .flat_map(|p| p.batches())
                        .collect();
                    let batches = if from_end {
                        last_rows(&all, n)
                    } else {
                        first_rows(&all, n)
                    };
                    let schema = match batches.first() {
                        Some(b) => b.schema(),
                        None => Arc::new(
                            schema
                                .project(&indices(&schema, &cols).map_err(TaskError::new)?)
                                .map_err(TaskError::new)?,
                        ),
                    };
                    part_value(Ok(Partition::new(schema, batches)))
                })?;
                Ok(vec![out])
            }
            Plan::Join(left, right, plan) => {
                let lp = left.lower_partitions(b, &plan.left_inputs(&left.schema))?;
                let rp = right.lower_partitions(b, &plan.right_inputs(&right.schema))?;
                lower_join(b, left, right, plan, &lp, &rp, &columns)
            }
            Plan::Sort(input, plan) => lower_sort(b, input, plan, &columns),
            Plan::Map(input, f) => {
                let all = input.column_names();
                let parts = input.lower_partitions(b, &all)?;
                let (f, schema, cols) = (f.clone(), self.schema.clone(), columns.clone());
                // The function's own errors pass as they are (a Python exception stays one).
                each_partition(b, "map-partitions", parts, move |i, part| {
                    let batch = f(i, part)?;
                    conform(i, batch, &schema)
                        .and_then(|r| r.project(&cols))
                        .map_err(TaskError::new)
                })
            }
            Plan::Rolling(input, plan) => {
                let mut need: Vec<String> = columns
                    .iter()
                    .filter(|c| !plan.outputs().any(|o| o == c.as_str()))
                    .cloned()
                    .collect();
                for c in plan.inputs() {
                    if !need.contains(&c) {
                        need.push(c);
                    }
                }
                let parts = input.lower_partitions(b, &need)?;
                let last = parts.len().saturating_sub(1);
                // A centred window's rows after each partition: the first rows of the next
                // one and, if it is short, of those after it (chained from the end).
                let mut ahead: Vec<Option<TaskId>> = vec![None; parts.len()];
                if plan.lookahead() > 0 {
                    for i in (0..last).rev() {
                        let deps: Vec<TaskId> =
                            std::iter::once(parts[i + 1]).chain(ahead[i + 1]).collect();
                        let plan_i = plan.clone();
                        ahead[i] = Some(b.add_fn(
                            Key::new("rolling-ahead", &[i as u32]),
                            &deps,
                            move |v| {
                                let (part, after) = (partition(&v[0])?, overlap_of(v)?);
                                part_value(plan_i.ahead(part, &after))
                            },
                        )?);
                    }
                }
                let mut overlap: Option<TaskId> = None;
                let mut out = Vec::with_capacity(parts.len());
                for (i, &p) in parts.iter().enumerate() {
                    let deps: Vec<TaskId> = std::iter::once(p).chain(overlap).collect();
                    let has_before = overlap.is_some();
                    let all: Vec<TaskId> = deps.iter().copied().chain(ahead[i]).collect();
                    let (plan_i, cols) = (plan.clone(), columns.clone());
                    out.push(b.add_fn(Key::new("rolling", &[i as u32]), &all, move |v| {
                        let empty = Partition::empty();
                        let part = partition(&v[0])?;
                        let before = if has_before {
                            partition(&v[1])?
                        } else {
                            &empty
                        };
                        let after = match v.get(1 + usize::from(has_before)) {
                            Some(a) => partition(a)?,
                            None => &empty,
                        };
                        part_value(
                            plan_i
                                .apply(before, part, after)
                                .and_then(|r| r.project(&cols)),
                        )
                    })?);
                    if i < last {
                        let plan_i = plan.clone();
                        overlap = Some(b.add_fn(
                            Key::new("rolling-overlap", &[i as u32]),
                            &deps,
                            move |v| {
                                let (part, before) = (partition(&v[0])?, overlap_of(v)?);
                                part_value(plan_i.overlap(&before, part))
                            },
                        )?);
                    }
                }
                Ok(out)
            }
            Plan::Write(input, sink) => {
                let all = input.column_names();
                let parts = input.lower_partitions(b, &all)?;
                let (sink, schema, cols) = (sink.clone(), input.schema.clone(), columns.clone());
                each_partition(b, "write", parts, move |i, part| {
                    sink.write(i, part, &schema)
                        .and_then(|r| r.project(&cols))
                        .map_err(TaskError::new)
                })
            }
        }
    }
}

/// Below this many bytes, a side held in memory is joined whole with each partition of
/// the other (broadcast) whatever its partitions.
const BROADCAST_BYTES: usize = 64 << 20;

/// How a join of `left` and `right` runs: whether a side is joined whole with each
/// partition of the other (`Some(true)`: the right one; `Some(false)`: the left), or both
/// are split into buckets (`None`); and the output's partitions. A side is joined whole
/// when it has one partition, or is in memory and small.
fn join_strategy(left: &DataFrame, right: &DataFrame, how: JoinHow) -> (Option<bool>, usize) {
    let keeps_left = matches!(how, JoinHow::Left | JoinHow::Outer);
    let keeps_right = matches!(how, JoinHow::Right | JoinHow::Outer);
    let (l, r) = (left.npartitions(), right.npartitions());
    let small =
        |f: &DataFrame, n: usize| n <= 1 || f.memory_bytes().is_some_and(|b| b < BROADCAST_BYTES);
    if small(right, r) && !keeps_right {
        (Some(true), l.max(1))
    } else if small(left, l) && !keeps_left {
        (Some(false), r.max(1))
    } else if l <= 1 && r <= 1 {
        (Some(true), 1)
    } else {
        (None, l.max(r))
    }
}

fn lower_join(
    b: &mut GraphBuilder,
    left: &DataFrame,
    right: &DataFrame,
    plan: &Arc<JoinPlan>,
    lp: &[TaskId],
    rp: &[TaskId],
    columns: &Arc<[String]>,
) -> Result<Vec<TaskId>> {
    let (broadcast, n) = join_strategy(left, right, plan.how);
    let pair = |b: &mut GraphBuilder, i: usize, deps: &[TaskId], split: usize| {
        // `deps`: the left inputs first (`split` of them), then the right ones.
        let (plan, cols) = (plan.clone(), columns.clone());
        b.add_fn(Key::new("merge", &[i as u32]), deps, move |v| {
            let (l, r) = v.split_at(split);
            let l = l
                .iter()
                .map(partition)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let r = r
                .iter()
                .map(partition)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            part_value(plan.join(&l, &r).and_then(|p| p.project(&cols)))
        })
    };
    match broadcast {
        Some(whole_right) => {
            let (many, whole) = if whole_right { (lp, rp) } else { (rp, lp) };
            let keeps_whole = if whole_right {
                matches!(plan.how, JoinHow::Right | JoinHow::Outer)
            } else {
                matches!(plan.how, JoinHow::Left | JoinHow::Outer)
            };
            if many.is_empty() || keeps_whole {
                // One partition (or none) a side, or a side without partitions: one join
                // of everything, which keeps the unmatched rows of both.
                let deps: Vec<TaskId> = lp.iter().chain(rp).copied().collect();
                return Ok(vec![pair(b, 0, &deps, lp.len())?]);
            }
            // The whole side is built into a table once; each partition of the other
            // probes it.
            let built = {
                let plan = plan.clone();
                b.add_fn(Key::named("merge-build"), whole, move |v| {
                    let parts = v
                        .iter()
                        .map(partition)
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    let t = plan.build(&parts, whole_right).map_err(TaskError::new)?;
                    let n = t.nbytes();
                    Ok(Value::with_nbytes(t, n))
                })?
            };
            many.iter()
                .enumerate()
                .map(|(i, &p)| {
                    let (plan, cols) = (plan.clone(), columns.clone());
                    Ok(
                        b.add_fn(Key::new("merge", &[i as u32]), &[built, p], move |v| {
                            let table =
                                v[0].downcast_ref::<crate::join::Build>().ok_or_else(|| {
                                    TaskError::msg("internal: a merge was given something else")
                                })?;
                            part_value(
                                plan.probe(table, partition(&v[1])?, whole_right)
                                    .and_then(|p| p.project(&cols)),
                            )
                        })?,
                    )
                })
                .collect()
        }
        None => {
            let split = |b: &mut GraphBuilder, parts: &[TaskId], left: bool| {
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| {
                        let plan = plan.clone();
                        let name = if left {
                            "merge-split-left"
                        } else {
                            "merge-split-right"
                        };
                        b.add_fn(Key::new(name, &[i as u32]), &[p], move |v| {
                            let pieces = plan
                                .split(partition(&v[0])?, left, n)
                                .map_err(TaskError::new)?;
                            Ok(crate::spill::pieces_value(pieces))
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
            };
            let ls = split(b, lp, true)?;
            let rs = split(b, rp, false)?;
            let lk = take_pieces(b, "merge-piece-left", &ls, n)?;
            let rk = take_pieces(b, "merge-piece-right", &rs, n)?;
            (0..n)
                .map(|k| {
                    let deps: Vec<TaskId> = lk[k].iter().chain(&rk[k]).copied().collect();
                    let (plan, cols, nl) = (plan.clone(), columns.clone(), ls.len());
                    Ok(b.add_fn(Key::new("merge", &[k as u32]), &deps, move |v| {
                        let (l, r) = v.split_at(nl);
                        let l = l
                            .iter()
                            .map(partition)
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        let r = r
                            .iter()
                            .map(partition)
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        part_value(plan.join(&l, &r).and_then(|p| p.project(&cols)))
                    })?)
                })
                .collect()
        }
    }
}

fn lower_sort(
    b: &mut GraphBuilder,
    input: &DataFrame,
    plan: &Arc<SortPlan>,
    columns: &Arc<[String]>,
) -> Result<Vec<TaskId>> {
    // The sorted columns are read too, where the frame's user does not need them.
    let mut need: Vec<String> = columns.to_vec();
    for c in plan.by() {
        if !need.contains(c) {
            need.push(c.clone());
        }
    }
    let parts = input.lower_partitions(b, &need)?;
    if parts.is_empty() {
        return Ok(parts);
    }
    let samples = parts
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let plan = plan.clone();
            b.add_fn(Key::new("sort-sample", &[i as u32]), &[p], move |v| {
                let s = plan.sample(partition(&v[0])?).map_err(TaskError::new)?;
                let n = s.iter().map(|k| k.len()).sum();
                Ok(Value::with_nbytes(s, n))
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let bounds = {
        let plan = plan.clone();
        b.add_fn(Key::named("sort-divisions"), &samples, move |v| {
            let s = v
                .iter()
                .map(|x| {
                    x.downcast_ref::<Vec<Box<[u8]>>>()
                        .ok_or_else(|| TaskError::msg("internal: a sort was given something else"))
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let bounds = plan.boundaries(&s);
            let n = bounds.iter().map(|k| k.len()).sum();
            Ok(Value::with_nbytes(bounds, n))
        })?
    };
    let splits = parts
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let plan = plan.clone();
            b.add_fn(
                Key::new("sort-split", &[i as u32]),
                &[p, bounds],
                move |v| {
                    let bounds = v[1].downcast_ref::<Vec<Box<[u8]>>>().ok_or_else(|| {
                        TaskError::msg("internal: a sort was given something else")
                    })?;
                    let pieces = plan
                        .split(partition(&v[0])?, bounds)
                        .map_err(TaskError::new)?;
                    Ok(crate::spill::pieces_value(pieces))
                },
            )
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let schema = Arc::new(input.schema.project(&indices(&input.schema, &need)?)?);
    let ranges = take_pieces(b, "sort-piece", &splits, plan.npartitions)?;
    ranges
        .into_iter()
        .enumerate()
        .map(|(k, deps)| {
            let (plan, cols, schema) = (plan.clone(), columns.clone(), schema.clone());
            Ok(b.add_fn(Key::new("sort", &[k as u32]), &deps, move |v| {
                let pieces = v
                    .iter()
                    .map(partition)
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                part_value(plan.sort(&pieces, &schema).and_then(|p| p.project(&cols)))
            })?)
        })
        .collect()
}

/// For piece `k < n` of each split partition (`splits`, each a `Vec<Partition>`), a task
/// taking it out: `[k][i]` is piece `k` of split `i` (an empty partition where a split
/// has fewer pieces, as a sort's when the keys have few distinct values). What needs
/// piece `k` then holds only it — and, under a budget, reads only it back from disk —
/// and each split is freed once its pieces are taken.
fn take_pieces(
    b: &mut GraphBuilder,
    name: &'static str,
    splits: &[TaskId],
    n: usize,
) -> Result<Vec<Vec<TaskId>>> {
    (0..n)
        .map(|k| {
            splits
                .iter()
                .enumerate()
                .map(|(i, &s)| {
                    Ok(
                        b.add_fn(Key::new(name, &[i as u32, k as u32]), &[s], move |v| {
                            let pieces =
                                v[0].downcast_ref::<Vec<Partition>>().ok_or_else(|| {
                                    TaskError::msg("internal: a shuffle was given something else")
                                })?;
                            let p = match pieces.get(k) {
                                Some(p) => p.clone(),
                                None => Partition::new(
                                    pieces.first().map_or_else(
                                        || Arc::new(Schema::empty()),
                                        |p| p.schema().clone(),
                                    ),
                                    Vec::new(),
                                ),
                            };
                            Ok(crate::spill::partition_value(p))
                        })?,
                    )
                })
                .collect()
        })
        .collect()
}

/// `df.groupby(keys)`: aggregations per group.
#[derive(Clone, Debug)]
pub struct GroupBy {
    frame: DataFrame,
    keys: Vec<String>,
    split_every: usize,
}

impl GroupBy {
    /// Merge partial results this many at a time (Dask's `split_every`; default 8).
    #[must_use]
    pub fn split_every(mut self, n: usize) -> Self {
        self.split_every = n.max(2);
        self
    }

    /// The aggregations, one output column each, after the key columns; one row per group
    /// present, sorted by the keys.
    ///
    /// # Errors
    ///
    /// An unknown column, a function that does not apply to a column's type, two outputs
    /// with one name.
    pub fn agg(&self, aggs: Vec<Agg>) -> Result<DataFrame> {
        self.frame
            .aggregate(self.keys.clone(), aggs, self.split_every)
    }

    /// One aggregation of one column (`df.groupby("k").x.mean()`).
    ///
    /// # Errors
    ///
    /// As [`GroupBy::agg`].
    pub fn agg_one(&self, column: &str, func: AggFunc) -> Result<DataFrame> {
        self.agg(vec![Agg::new(column, func)])
    }

    /// The number of rows of each group, in column `size`.
    ///
    /// # Errors
    ///
    /// As [`GroupBy::agg`].
    pub fn size(&self) -> Result<DataFrame> {
        self.agg(vec![Agg::size("size")])
    }
}

fn partition(v: &Value) -> std::result::Result<&Partition, TaskError> {
    v.downcast_ref::<Partition>()
        .ok_or_else(|| TaskError::msg("internal: a dataframe task was given something else"))
}

fn state(v: &Value) -> std::result::Result<&GroupState, TaskError> {
    v.downcast_ref::<GroupState>()
        .ok_or_else(|| TaskError::msg("internal: a merge was given something else"))
}

/// One task per partition of `parts`, named `name`, each giving `f(i, partition i)`.
fn each_partition<F>(
    b: &mut GraphBuilder,
    name: &str,
    parts: Vec<TaskId>,
    f: F,
) -> Result<Vec<TaskId>>
where
    F: Fn(usize, &Partition) -> std::result::Result<Partition, TaskError> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let f = f.clone();
            Ok(b.add_fn(Key::new(name, &[i as u32]), &[p], move |v| {
                Ok(crate::spill::partition_value(f(i, partition(&v[0])?)?))
            })?)
        })
        .collect()
}

/// The overlap a rolling task was given after its partition (none for the first).
fn overlap_of(v: &[Value]) -> std::result::Result<Partition, TaskError> {
    Ok(match v.get(1) {
        Some(o) => partition(o)?.clone(),
        None => Partition::empty(),
    })
}

/// A task reading each file of `src` (only `columns`; with a predicate, only the row
/// groups it may match).
fn lower_parquet(
    b: &mut GraphBuilder,
    src: &Arc<ParquetSource>,
    columns: &Arc<[String]>,
    predicate: Option<&Expr>,
) -> Result<Vec<TaskId>> {
    (0..src.npartitions())
        .map(|i| {
            let (src, cols, pred) = (src.clone(), columns.clone(), predicate.cloned());
            Ok(
                b.add_fn(Key::new("read-parquet", &[i as u32]), &[], move |_| {
                    part_value(src.read(i, &cols, pred.as_ref()))
                })?,
            )
        })
        .collect()
}

/// Whether every value of type `from` converts to `to` exactly: missing values to
/// anything, booleans and integers to wider integers or to floats, floats to wider ones,
/// text to text.
fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType as T;
    let bits = |t: &DataType| t.primitive_width().map_or(0, |w| 8 * w);
    match (from, to) {
        _ if from == to => true,
        (T::Null, _) => true,
        (T::Boolean, t) => t.is_integer() || t.is_floating(),
        (f, t) if f.is_integer() && t.is_floating() => true,
        (f, t) if f.is_signed_integer() && t.is_signed_integer() => bits(f) <= bits(t),
        (f, t) if f.is_unsigned_integer() && t.is_unsigned_integer() => bits(f) <= bits(t),
        (f, t) if f.is_unsigned_integer() && t.is_signed_integer() => bits(f) < bits(t),
        (T::Float16 | T::Float32, T::Float64) | (T::Float16, T::Float32) => true,
        (T::Utf8 | T::LargeUtf8 | T::Utf8View, T::Utf8 | T::LargeUtf8 | T::Utf8View) => true,
        _ => false,
    }
}

/// The result of partition `i`'s function as a partition of `schema`: the same column
/// names in the same order, each cast to its declared type.
fn conform(i: usize, batch: RecordBatch, schema: &SchemaRef) -> Result<Partition> {
    let got: Vec<&str> = batch
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let want: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    if got != want {
        return Err(invalid(format!(
            "map_partitions: partition {i} gave columns {got:?}, where {want:?} were declared"
        )));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                return Ok(c.clone());
            }
            if !widens(c.data_type(), f.data_type()) {
                return Err(invalid(format!(
                    "map_partitions: partition {i} gave column '{}' of type {}, declared {} \
                     (give meta= with the types the function returns)",
                    f.name(),
                    c.data_type(),
                    f.data_type()
                )));
            }
            Ok(arrow::compute::cast(c, f.data_type())?)
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Partition::new(schema.clone(), vec![batch]))
}

fn part_value(p: Result<Partition>) -> floe_graph::TaskResult {
    Ok(crate::spill::partition_value(p.map_err(TaskError::new)?))
}

fn filter(part: &Partition, predicate: &Expr) -> Result<Partition> {
    let mut out = Vec::with_capacity(part.batches().len());
    for b in part.batches() {
        let mask = predicate.evaluate(b)?;
        let mask = mask
            .as_any()
            .downcast_ref::<arrow::array::BooleanArray>()
            .ok_or_else(|| invalid(format!("filter {predicate} is not boolean")))?;
        let kept = arrow::compute::filter_record_batch(b, mask)?;
        if kept.num_rows() > 0 {
            out.push(kept);
        }
    }
    Ok(Partition::new(part.schema().clone(), out))
}

fn assign(part: &Partition, name: &str, expr: &Expr, frame: &Schema) -> Result<Partition> {
    let mut fields: Vec<Field> = part
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let t = frame.field_with_name(name)?.data_type().clone();
    let at = fields.iter().position(|f| f.name() == name);
    match at {
        Some(i) => fields[i] = Field::new(name, t, true),
        None => fields.push(Field::new(name, t, true)),
    }
    let schema = Arc::new(Schema::new(fields));
    let mut out = Vec::with_capacity(part.batches().len());
    for b in part.batches() {
        let v = expr.evaluate(b)?;
        let mut cols = b.columns().to_vec();
        match at {
            Some(i) => cols[i] = v,
            None => cols.push(v),
        }
        out.push(RecordBatch::try_new(schema.clone(), cols)?);
    }
    Ok(Partition::new(schema, out))
}
