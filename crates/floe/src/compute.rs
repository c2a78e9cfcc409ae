//! `compute`: run one or several collections together, sharing their common work.

use std::collections::HashMap;

use floe_array::{Array, DynArray};
use floe_graph::{Graph, GraphBuilder, TaskId, Value, fuse, order};
use floe_scheduler::{RunOptions, RunStats, Scheduler};

use crate::delayed::{Delayed, lower_into};
use crate::{Error, Result, config};

/// The graph roots of the items being computed (opaque).
pub struct Roots<'a>(Vec<Root<'a>>);

enum Root<'a> {
    Delayed(&'a std::sync::Arc<crate::delayed::Node>),
    Array(&'a Array),
    #[cfg(feature = "dataframe")]
    Frame(&'a floe_dataframe::DataFrame),
}

/// The computed values, handed back to the items in order (opaque).
pub struct Outputs(std::vec::IntoIter<Value>);

/// Something that can be computed: a collection, a reference to one, a tuple or a `Vec`
/// of them. Implemented for `Delayed<T>`; arrays and frames join as they land.
pub trait Compute {
    /// What computing it returns.
    type Output;
    #[doc(hidden)]
    fn roots<'a>(&'a self, out: &mut Roots<'a>);
    #[doc(hidden)]
    fn extract(&self, values: &mut Outputs) -> Result<Self::Output>;
}

impl<T: Clone + Send + Sync + 'static> Compute for Delayed<T> {
    type Output = T;

    fn roots<'a>(&'a self, out: &mut Roots<'a>) {
        out.0.push(Root::Delayed(self.node()));
    }

    fn extract(&self, values: &mut Outputs) -> Result<T> {
        let v = values
            .0
            .next()
            .ok_or_else(|| internal("fewer values than outputs"))?;
        v.take::<T>().map_err(|_| Error::TypeMismatch {
            key: self.key().clone(),
            expected: std::any::type_name::<T>(),
        })
    }
}

impl Compute for Array {
    type Output = DynArray;

    fn roots<'a>(&'a self, out: &mut Roots<'a>) {
        out.0.push(Root::Array(self));
    }

    fn extract(&self, values: &mut Outputs) -> Result<DynArray> {
        let v = values
            .0
            .next()
            .ok_or_else(|| internal("fewer values than outputs"))?;
        v.take::<DynArray>().map_err(|_| Error::TypeMismatch {
            key: floe_graph::Key::named(self.name()),
            expected: "DynArray",
        })
    }
}

#[cfg(feature = "dataframe")]
impl Compute for floe_dataframe::DataFrame {
    type Output = floe_dataframe::arrow::array::RecordBatch;

    fn roots<'a>(&'a self, out: &mut Roots<'a>) {
        out.0.push(Root::Frame(self));
    }

    fn extract(&self, values: &mut Outputs) -> Result<Self::Output> {
        let v = values
            .0
            .next()
            .ok_or_else(|| internal("fewer values than outputs"))?;
        v.take::<floe_dataframe::arrow::array::RecordBatch>()
            .map_err(|_| Error::TypeMismatch {
                key: floe_graph::Key::named("concat-partitions"),
                expected: "RecordBatch",
            })
    }
}

impl<C: Compute + ?Sized> Compute for &C {
    type Output = C::Output;

    fn roots<'a>(&'a self, out: &mut Roots<'a>) {
        (**self).roots(out);
    }

    fn extract(&self, values: &mut Outputs) -> Result<Self::Output> {
        (**self).extract(values)
    }
}

impl<C: Compute> Compute for [C] {
    type Output = Vec<C::Output>;

    fn roots<'a>(&'a self, out: &mut Roots<'a>) {
        for c in self {
            c.roots(out);
        }
    }

    fn extract(&self, values: &mut Outputs) -> Result<Self::Output> {
        self.iter().map(|c| c.extract(values)).collect()
    }
}

impl<C: Compute> Compute for Vec<C> {
    type Output = Vec<C::Output>;

    fn roots<'a>(&'a self, out: &mut Roots<'a>) {
        self.as_slice().roots(out);
    }

    fn extract(&self, values: &mut Outputs) -> Result<Self::Output> {
        self.as_slice().extract(values)
    }
}

macro_rules! compute_tuple {
    ($($C:ident $c:ident),+) => {
        impl<$($C: Compute),+> Compute for ($($C,)+) {
            type Output = ($($C::Output,)+);

            fn roots<'a>(&'a self, out: &mut Roots<'a>) {
                let ($($c,)+) = self;
                $($c.roots(out);)+
            }

            fn extract(&self, values: &mut Outputs) -> Result<Self::Output> {
                let ($($c,)+) = self;
                Ok(($($c.extract(values)?,)+))
            }
        }
    };
}

compute_tuple!(A a);
compute_tuple!(A a, B b);
compute_tuple!(A a, B b, C c);
compute_tuple!(A a, B b, C c, D d);
compute_tuple!(A a, B b, C c, D d, E e);
compute_tuple!(A a, B b, C c, D d, E e, F f);

fn internal(what: &str) -> Error {
    Error::Run(floe_scheduler::Error::Internal(what.into()))
}

/// Computes `what` with the process-wide settings ([`crate::config`]). Work shared between
/// the items runs once.
///
/// # Examples
///
/// ```
/// use floe::delayed;
///
/// let data = delayed(|n: &usize| (0..*n).collect::<Vec<usize>>())(10);
/// let total = data.map(|v: &Vec<usize>| v.iter().sum::<usize>());
/// let largest = data.map(|v: &Vec<usize>| *v.iter().max().unwrap());
/// // `data` is built once for both.
/// assert_eq!(floe::compute((&total, &largest))?, (45, 9));
/// # Ok::<(), floe::Error>(())
/// ```
///
/// # Errors
///
/// The first task that failed or panicked, by key; see [`Error`].
pub fn compute<C: Compute>(what: C) -> Result<C::Output> {
    let scheduler = config::get().scheduler()?;
    compute_with(what, &scheduler).map(|(out, _)| out)
}

/// Computes `what` on `scheduler`, also returning the run's statistics.
///
/// # Errors
///
/// As [`compute`].
pub fn compute_with<C: Compute>(what: C, scheduler: &Scheduler) -> Result<(C::Output, RunStats)> {
    let (graph, outputs) = graph(&what)?;
    let order = order(&graph, &outputs);
    let out = scheduler.run_with(&graph, &outputs, &RunOptions::new().order(&order))?;
    let mut values = Outputs(out.values.into_iter());
    let result = what.extract(&mut values)?;
    Ok((result, out.stats))
}

/// The task graph that computing `what` runs (every root lowered together, linear chains
/// fused), and its output tasks in the order of `what`'s items.
///
/// # Errors
///
/// If the graph cannot be built (more than 2³² tasks).
pub fn graph<C: Compute + ?Sized>(what: &C) -> Result<(Graph, Vec<TaskId>)> {
    let mut roots = Roots(Vec::new());
    what.roots(&mut roots);
    let mut builder = GraphBuilder::default();
    let mut outputs = Vec::with_capacity(roots.0.len());
    {
        // One lowering for every root, so work shared between the roots becomes shared tasks.
        let mut lowering = floe_array::Lowering::new(&mut builder);
        let mut delayed_ids = HashMap::new();
        for root in &roots.0 {
            outputs.push(match root {
                Root::Delayed(node) => lower_into(lowering.builder(), &mut delayed_ids, node)?,
                Root::Array(a) => lowering.assemble(a)?,
                #[cfg(feature = "dataframe")]
                Root::Frame(df) => df.lower(lowering.builder())?,
            });
        }
    }
    let graph = builder.build();
    // Tasks no output needs (the partitions a `head` does not read) never run.
    if floe_graph::needed(&graph, &outputs).iter().all(|&n| n) {
        Ok(fuse(&graph, &outputs)?)
    } else {
        let (graph, outputs) = floe_graph::cull(&graph, &outputs)?;
        Ok(fuse(&graph, &outputs)?)
    }
}

/// Computes every block of `arrays` (shared work once) and returns arrays over the blocks
/// kept in memory — Dask's `persist`: later computations start from the blocks instead of
/// recomputing them. Each array keeps its shape, dtype and blocks; tasks read the kept
/// blocks in place (shared, never copied).
///
/// # Examples
///
/// ```
/// use floe::array::{self, ArrayCompute};
///
/// let x = array::random::uniform(&[1000, 1000], [250_usize, 250], 0, 0.0, 1.0)?;
/// let [kept]: [array::Array; 1] = floe::persist(&[x.clone()])?.try_into().unwrap();
/// assert_eq!(kept.chunks(), x.chunks());
/// let (a, b) = (kept.sum(array::Axes::All)?.compute()?, x.sum(array::Axes::All)?.compute()?);
/// assert_eq!(a.into_f64()?, b.into_f64()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`compute`]; a budget too small for all the blocks refuses the run before it starts.
pub fn persist(arrays: &[Array]) -> Result<Vec<Array>> {
    let scheduler = config::get().scheduler()?;
    let mut builder = GraphBuilder::default();
    let mut outputs = Vec::new();
    let indices: Vec<Vec<Vec<usize>>> = arrays
        .iter()
        .map(|a| a.chunks().block_indices().collect())
        .collect();
    {
        let mut lowering = floe_array::Lowering::new(&mut builder);
        for (a, idx) in arrays.iter().zip(&indices) {
            for i in idx {
                outputs.push(lowering.block(a, i)?);
            }
        }
    }
    let graph = builder.build();
    let (graph, outputs) = fuse(&graph, &outputs)?;
    let order = order(&graph, &outputs);
    let run = scheduler.run_with(&graph, &outputs, &RunOptions::new().order(&order))?;
    let mut values = run.values.into_iter();
    let mut out = Vec::with_capacity(arrays.len());
    for (a, idx) in arrays.iter().zip(indices) {
        let mut blocks: HashMap<Vec<usize>, DynArray> = HashMap::with_capacity(idx.len());
        for i in idx {
            let v = values
                .next()
                .ok_or_else(|| internal("persist: fewer values than blocks"))?;
            let block = v.take::<DynArray>().map_err(|_| Error::TypeMismatch {
                key: floe_graph::Key::named(a.name()),
                expected: "DynArray",
            })?;
            // Kept in the array's declared dtype (a block function may return another).
            blocks.insert(i, block.astype(a.dtype()));
        }
        let kept = if a.has_unknown_chunks() {
            // The blocks' real sizes become the kept array's chunks.
            let sizes = measured_sizes(a, |idx| blocks[idx].shape().to_vec())?;
            // Blocks left empty by a selection are dropped: renumber the kept ones.
            let (sizes, keep) = floe_array::select::without_empty_blocks(&sizes);
            let shape: Vec<usize> = sizes.iter().map(|s| s.iter().sum()).collect();
            let chunks = floe_array::Chunks::new(&shape, sizes)?;
            let renumbered = chunks
                .block_indices()
                .filter_map(|new| {
                    let old: Vec<usize> = new.iter().zip(&keep).map(|(&j, k)| k[j]).collect();
                    blocks.remove(&old).map(|b| (new, b))
                })
                .collect();
            floe_array::from_held_blocks(&shape, &chunks, a.dtype(), renumbered)?
        } else {
            floe_array::from_held_blocks(a.shape(), a.chunks(), a.dtype(), blocks)?
        };
        out.push(kept.named("persist"));
    }
    Ok(out)
}

/// Measures the block sizes of an array whose sizes depend on its data (a boolean mask's
/// selection, `argwhere`, `unique`…: see [`Array::unknown_axes`]) and returns the array
/// with them known, so that slicing, rechunking, reshaping and the rest work on it —
/// Dask's `compute_chunk_sizes`. Measuring computes every block (and keeps none); blocks a
/// selection left empty are dropped. An array of known sizes is returned as it is.
///
/// # Examples
///
/// ```
/// use floe::array::{self, ArrayCompute, DType};
///
/// let x = array::arange(0.0, 10.0, 1.0, 4, DType::F64)?;
/// let big = x.filter(&x.gt_scalar(5.5)?)?;
/// assert_eq!(big.unknown_axes(), vec![0]);
/// let big = floe::compute_chunk_sizes(&big)?;
/// assert_eq!(big.shape(), &[4]);
/// assert_eq!(big.chunks().axis(0), &[2, 2]);
/// assert_eq!(big.slice(&array::s![1..3])?.compute()?.into_f64()?.into_raw_vec_and_offset().0, [7.0, 8.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`compute`]; [`Error::Array`] if the blocks' sizes do not line up into a grid
/// (arrays of different selections combined).
pub fn compute_chunk_sizes(array: &Array) -> Result<Array> {
    if !array.has_unknown_chunks() {
        return Ok(array.clone());
    }
    let shapes = compute(&array.block_shapes())?.into_typed::<i64>();
    let sizes = measured_sizes(array, |idx| {
        let mut at = idx.to_vec();
        (0..idx.len())
            .map(|a| {
                at.push(a);
                let n = shapes[at.as_slice()] as usize;
                at.pop();
                n
            })
            .collect()
    })?;
    Ok(array.with_chunk_sizes(sizes)?)
}

/// The block sizes along each axis of `array`, from `shape_of(block index)`, checked to
/// line up into a grid.
fn measured_sizes(
    array: &Array,
    shape_of: impl Fn(&[usize]) -> Vec<usize>,
) -> Result<Vec<Vec<usize>>> {
    let nb = array.numblocks();
    let ndim = nb.len();
    let sizes: Vec<Vec<usize>> = (0..ndim)
        .map(|a| {
            (0..nb[a])
                .map(|i| {
                    let mut idx = vec![0; ndim];
                    idx[a] = i;
                    shape_of(&idx)[a]
                })
                .collect()
        })
        .collect();
    for idx in array.chunks().block_indices() {
        let shape = shape_of(&idx);
        let expected: Vec<usize> = (0..ndim).map(|a| sizes[a][idx[a]]).collect();
        if shape != expected {
            return Err(floe_array::ArrayError::invalid(
                "compute_chunk_sizes",
                format!(
                    "block {idx:?} of `{}` has shape {shape:?} where its neighbours make it {expected:?}",
                    array.name()
                ),
            )
            .into());
        }
    }
    Ok(sizes)
}

/// Draws the task graph computing `what` into `path` (`.svg`, `.png` or `.pdf` through
/// Graphviz's `dot`; `.dot` as Graphviz source): tasks as circles, results as boxes,
/// collapsed to operations for big graphs.
///
/// # Examples
///
/// ```no_run
/// use floe::diagnostics::DotOptions;
/// let x = floe::array::ones(&[4, 4], 2, floe::array::DType::F64)?;
/// let y = x.sum(0)?;
/// floe::visualize(&y, "sum.svg", &DotOptions::default())?;
/// # Ok::<(), floe::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Visualize`] if the picture cannot be written (Graphviz missing: the DOT source
/// is written next to `path` and the error says so).
pub fn visualize<C: Compute + ?Sized>(
    what: &C,
    path: impl AsRef<std::path::Path>,
    options: &floe_diagnostics::DotOptions,
) -> Result<std::path::PathBuf> {
    let (graph, outputs) = graph(what)?;
    Ok(floe_diagnostics::visualize(
        &graph, &outputs, path, options,
    )?)
}

/// What computing `what` with the process-wide settings will do, without running it: tasks,
/// bytes read or generated, the peak held under the memory budget, and what will be rebuilt
/// or spilled (see [`floe_scheduler::plan`]).
///
/// # Examples
///
/// ```
/// use floe::array;
///
/// floe::config::set(floe::Config::default().memory_limit(64 << 20));
/// // Data made by a block function (as a file reader makes it).
/// let x = array::random::uniform(&[4000, 4000], [1000_usize, 1000], 0, 0.0, 1.0)?
///     .map_blocks(&[], array::DType::F64, |b, _| Ok(b[0].clone()))?;
/// // Deviations from the mean of all of x, summed by column: x is needed twice.
/// let y = x.sub(&x.mean(array::Axes::All)?)?.abs()?.sum(0)?;
/// let p = floe::plan(&y)?;
/// assert_eq!(p.source_bytes, 8 * 4000 * 4000);
/// assert!(p.peak_bytes <= 64 << 20);
/// assert!(p.recomputed_bytes > 0, "x is generated again rather than held");
/// println!("{p}");
/// # floe::config::set(floe::Config::default());
/// # Ok::<(), floe::Error>(())
/// ```
///
/// # Errors
///
/// If the graph cannot be built, or a task alone exceeds the budget (as `compute` would).
pub fn plan<C: Compute + ?Sized>(what: &C) -> Result<floe_scheduler::Plan> {
    let config = config::get();
    let (graph, outputs) = graph(what)?;
    let order = order(&graph, &outputs);
    Ok(floe_scheduler::plan(
        &graph,
        &outputs,
        &order,
        config.memory_limit.bytes(),
    )?)
}
