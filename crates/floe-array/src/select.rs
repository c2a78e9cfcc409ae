//! Selections whose sizes depend on the data: boolean masks (`x[x > 0]`), `compress`,
//! `argwhere`/`nonzero`/`flatnonzero` and `unique`, and the arrays of *unknown chunk sizes*
//! they make (Dask's NaN chunks).
//!
//! # Unknown block sizes
//!
//! `x.filter(&(x > 0))` cannot know how many elements each block keeps until it runs. Its
//! axis is marked unknown ([`Array::unknown_axes`]): the chunks keep each block's upper
//! bound (the elements it could keep), which is what the memory budget plans with, and the
//! blocks carry their real sizes at run time. Elementwise operations, reductions,
//! transposes, `map_blocks`, further masks, `unique` and `compute` work on such arrays as on
//! any other; operations that cut blocks at positions (slicing, rechunking, reshaping,
//! concatenation, padding, overlaps, scans) return [`ArrayError::UnknownChunks`] until
//! `floe::compute_chunk_sizes` has measured the blocks
//! ([`Array::with_chunk_sizes`] makes the measured array).
//!
//! # Order
//!
//! A mask selects in NumPy's order — row-major over the whole array — not block by block:
//! each output block comes from one *band* of blocks (those sharing a block index along
//! the first axis), so a band's blocks are read together. When only the first axis has
//! several blocks, a band is one block.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::json;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn, SliceInfoElem};

use crate::block::BlockInfo;
use crate::expr::{DepsFn, Expr, GraphFn};
use crate::{
    Array, ArrayElement, ArrayError, Chunks, DType, DynArray, Element, Result, with_dtype,
};

/// The axes of unknown sizes of a node built from `expr`, as far as the expression alone
/// decides: blockwise operations keep their inputs' unknown axes (aligned to the right),
/// transposes permute them, reductions keep those they do not reduce. Operations whose
/// output sizes depend on the data mark their axes themselves.
pub(crate) fn derived_unknown(shape: &[usize], expr: &Expr) -> Vec<bool> {
    let mut out = vec![false; shape.len()];
    match expr {
        Expr::Blockwise { inputs, .. } => {
            for input in inputs {
                let lead = shape.len() - input.ndim();
                for (a, &u) in input.node.unknown.iter().enumerate() {
                    out[a + lead] |= u;
                }
            }
        }
        Expr::Transpose { input, perm } => {
            for (o, &p) in out.iter_mut().zip(perm) {
                *o = input.node.unknown[p];
            }
        }
        Expr::Reduce(plan) => out = plan.output_unknown(),
        // A scan's blocks are its input's, whatever their sizes: totals and carries are
        // computed from the blocks themselves.
        Expr::Scan(plan) => out = plan.input.node.unknown.clone(),
        _ => {}
    }
    out
}

/// Checks that `inputs` of a blockwise operation agree on their unknown axes: along an
/// axis some input does not know, every other input has the same unknown blocks or a
/// length-1 axis that broadcasts (a known length cannot be matched against an unknown one).
pub(crate) fn check_blockwise_unknown(op: &'static str, inputs: &[&Array]) -> Result<()> {
    let ndim = inputs.iter().map(|a| a.ndim()).max().unwrap_or(0);
    for axis in 0..ndim {
        let along: Vec<(&Array, usize)> = inputs
            .iter()
            .filter(|a| a.ndim() + axis >= ndim)
            .map(|a| (*a, axis + a.ndim() - ndim))
            .collect();
        let Some(&(unknown, ua)) = along.iter().find(|(a, ax)| a.node.unknown[*ax]) else {
            continue;
        };
        for &(a, ax) in &along {
            let same = a.node.unknown[ax] && a.chunks().axis(ax) == unknown.chunks().axis(ua);
            let broadcasts = !a.node.unknown[ax] && a.shape()[ax] == 1;
            if !same && !broadcasts {
                return Err(ArrayError::UnknownChunks {
                    op,
                    array: unknown.name().to_owned(),
                    axes: vec![ua],
                });
            }
        }
    }
    Ok(())
}

/// The shape of a block of a blockwise operation over arrays with unknown axes: `info`'s
/// shape, with each unknown axis taken from the input blocks unknown there (which must
/// agree: two selections that kept different numbers of elements do not line up), inputs
/// known there broadcasting with length 1.
///
/// # Errors
///
/// If two inputs' blocks of unknown size differ along an axis.
pub(crate) fn runtime_shape(
    info_shape: &[usize],
    unknown: &[bool],
    inputs: &[(Vec<usize>, &[bool])],
) -> std::result::Result<Vec<usize>, TaskError> {
    let ndim = info_shape.len();
    let mut shape = info_shape.to_vec();
    for (axis, s) in shape.iter_mut().enumerate() {
        if !unknown[axis] {
            continue;
        }
        let mut size = None;
        for (dims, flags) in inputs.iter().filter(|(d, _)| d.len() + axis >= ndim) {
            let a = axis + dims.len() - ndim;
            if !flags[a] {
                continue;
            }
            match size {
                Some(n) if n != dims[a] => {
                    return Err(task_err(ArrayError::ShapeMismatch {
                        op: "elementwise",
                        left: vec![n],
                        right: vec![dims[a]],
                        detail: format!(
                            ": blocks of unknown size along axis {axis} differ (selections by different masks)"
                        ),
                    }));
                }
                _ => size = Some(dims[a]),
            }
        }
        *s = size.unwrap_or(1);
    }
    Ok(shape)
}

/// `info` with its shape along the `unknown` axes taken from `blocks`, each seen with its
/// own flags (see [`runtime_shape`]).
pub(crate) fn runtime_info(
    info: &BlockInfo,
    unknown: &[bool],
    blocks: &[crate::BlockRef<'_>],
    flags: &[Vec<bool>],
) -> std::result::Result<BlockInfo, TaskError> {
    let shapes: Vec<(Vec<usize>, &[bool])> = blocks
        .iter()
        .map(crate::BlockRef::shape)
        .zip(flags.iter().map(Vec::as_slice))
        .collect();
    Ok(BlockInfo {
        shape: runtime_shape(&info.shape, unknown, &shapes)?,
        ..info.clone()
    })
}

/// Whether `shape` fits `expected` along the known axes (unknown axes may be any size).
pub(crate) fn fits_known(shape: &[usize], expected: &[usize], unknown: &[bool]) -> bool {
    shape.len() == expected.len()
        && shape
            .iter()
            .zip(expected)
            .zip(unknown)
            .all(|((&s, &e), &u)| u || s == e)
}

/// Stitches a grid of blocks (`blocks` in row-major order over `grid`) into one array,
/// taking each block's size from the blocks themselves.
///
/// # Errors
///
/// If the blocks' sizes do not line up into a grid, or a block has another dtype.
pub(crate) fn assemble_runtime(
    grid: &[usize],
    blocks: &[&DynArray],
    dtype: DType,
) -> std::result::Result<DynArray, TaskError> {
    if blocks.len() == 1 {
        return Ok(blocks[0].clone());
    }
    let ndim = grid.len();
    let indices = block_indices(grid);
    let sizes = grid_sizes(grid, &indices, blocks)?;
    let offsets: Vec<Vec<usize>> = sizes
        .iter()
        .map(|s| {
            std::iter::once(0)
                .chain(s.iter().scan(0, |acc, &n| {
                    *acc += n;
                    Some(*acc)
                }))
                .collect()
        })
        .collect();
    let shape: Vec<usize> = sizes.iter().map(|s| s.iter().sum()).collect();
    with_dtype!(dtype, T => {
        let mut out = ArrayD::<T>::from_elem(IxDyn(&shape), <T as Element>::zero());
        for (idx, b) in indices.iter().zip(blocks) {
            let v = <T as ArrayElement>::view(b)
                .ok_or_else(|| TaskError::msg("internal error: a block has the wrong dtype"))?;
            let region: Vec<SliceInfoElem> = (0..ndim)
                .map(|a| SliceInfoElem::Slice {
                    start: offsets[a][idx[a]] as isize,
                    end: Some(offsets[a][idx[a] + 1] as isize),
                    step: 1,
                })
                .collect();
            out.slice_mut(region.as_slice()).assign(&v);
        }
        Ok(DynArray::from(out))
    })
}

/// The size of each row of blocks along each axis of a grid of `blocks` (row-major at
/// `indices`), taken from the blocks themselves and checked against every one of them.
///
/// # Errors
///
/// If a block's shape does not line up with its neighbours' (blocks of unknown sizes from
/// different selections).
fn grid_sizes(
    grid: &[usize],
    indices: &[Vec<usize>],
    blocks: &[&DynArray],
) -> std::result::Result<Vec<Vec<usize>>, TaskError> {
    let ndim = grid.len();
    let mut sizes: Vec<Vec<usize>> = grid.iter().map(|&n| vec![0; n]).collect();
    for (idx, b) in indices.iter().zip(blocks) {
        if b.shape().len() != ndim {
            return Err(TaskError::msg(format!(
                "a block of {} dimensions in a grid of {ndim}",
                b.shape().len()
            )));
        }
        for a in 0..ndim {
            if idx.iter().enumerate().all(|(k, &i)| k == a || i == 0) {
                sizes[a][idx[a]] = b.shape()[a];
            }
        }
    }
    for (idx, b) in indices.iter().zip(blocks) {
        let expected: Vec<usize> = (0..ndim).map(|a| sizes[a][idx[a]]).collect();
        if b.shape() != expected.as_slice() {
            return Err(TaskError::msg(format!(
                "block {idx:?} has shape {:?} where its neighbours make it {expected:?}: blocks of unknown sizes from different selections do not line up",
                b.shape()
            )));
        }
    }
    Ok(sizes)
}

/// Every block index of `grid`, row-major.
fn block_indices(grid: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &n in grid {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..n).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    out
}

/// The blocks in band `b` (block index `b` along the first axis) of a grid of `nb` blocks,
/// row-major; the one block of a 0-d array.
fn band(nb: &[usize], b: usize) -> Vec<Vec<usize>> {
    if nb.is_empty() {
        return vec![vec![]];
    }
    block_indices(&nb[1..])
        .into_iter()
        .map(|mut rest| {
            rest.insert(0, b);
            rest
        })
        .collect()
}

/// The number of bands of `a` (one for a 0-d array).
fn bands(a: &Array) -> usize {
    a.numblocks().first().copied().unwrap_or(1)
}

/// The elements band `b` of `a` could hold (an upper bound where `a` has unknown axes).
fn band_len(a: &Array, b: usize) -> usize {
    match a.ndim() {
        0 => 1,
        _ => a.chunks().axis(0)[b] * a.shape()[1..].iter().product::<usize>(),
    }
}

/// A node computing each output block from the input blocks `deps` names, with unknown
/// sizes along the `unknown` axes (`chunks` holds upper bounds there).
pub(crate) fn data_dependent(
    name: &str,
    chunks: Vec<Vec<usize>>,
    unknown: Vec<bool>,
    dtype: DType,
    inputs: Vec<Array>,
    deps: DepsFn,
    op: crate::BlockOp,
) -> Result<Array> {
    let f = op
        .open()
        .map_err(|e| ArrayError::invalid("data_dependent", e.to_string()))?;
    let shape: Vec<usize> = chunks.iter().map(|c| c.iter().sum()).collect();
    let chunks = Chunks::new(&shape, chunks)?;
    Ok(Array::from_node(
        name,
        shape,
        dtype,
        chunks,
        Expr::Custom {
            inputs,
            deps,
            f,
            op: Some(crate::spec::same_op(op)),
        },
    )
    .with_unknown(unknown))
}

/// An empty 1-d (or `(0, n)`) result of a selection that has nothing to select from.
fn empty_result(name: &str, shape: &[usize], dtype: DType) -> Result<Array> {
    Ok(crate::zeros(shape, crate::ChunkSpec::Auto, dtype)?.named(name))
}

/// A task failure that keeps the [`ArrayError`] (the Python binding raises `ValueError`).
fn task_err(e: ArrayError) -> TaskError {
    TaskError::new(e)
}

impl Array {
    /// The elements where `mask` is true, in row-major order: NumPy's `x[mask]` for a
    /// boolean `mask` of `x`'s shape. The result is one-dimensional with one block per band
    /// of `x`'s blocks and **unknown block sizes** (see the [module docs](crate::select)).
    ///
    /// # Errors
    ///
    /// [`ArrayError::DTypeMismatch`] if `mask` is not boolean; [`ArrayError::ShapeMismatch`]
    /// if its shape is not `x`'s; [`ArrayError::UnknownChunks`] if either has unknown
    /// sizes and their blocks are not the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(-5.0, 5.0, 1.0, 4, DType::F64)?;
    /// let positive = x.filter(&x.gt_scalar(0.0)?)?;
    /// assert_eq!(positive.unknown_axes(), vec![0]);
    /// assert_eq!(positive.shape(), &[10]); // an upper bound until computed
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn filter(&self, mask: &Array) -> Result<Array> {
        if mask.dtype() != DType::Bool {
            return Err(ArrayError::DTypeMismatch {
                expected: DType::Bool,
                found: mask.dtype(),
            });
        }
        if mask.shape() != self.shape() {
            return Err(ArrayError::ShapeMismatch {
                op: "boolean index",
                left: self.shape().to_vec(),
                right: mask.shape().to_vec(),
                detail: ": a boolean mask has the shape of the array it indexes".into(),
            });
        }
        let mask = self.aligned("boolean index", mask)?;
        if self.size() == 0 && !self.has_unknown_chunks() {
            return empty_result("getitem-mask", &[0], self.dtype());
        }
        let sizes: Vec<usize> = (0..bands(self)).map(|b| band_len(self, b)).collect();
        let (nb, dtype) = (self.numblocks(), self.dtype());
        let deps: DepsFn = Arc::new(move |i: &[usize]| {
            let blocks = band(&nb, i[0]);
            let mut d: Vec<(usize, Vec<usize>)> = blocks.iter().map(|b| (0, b.clone())).collect();
            d.extend(blocks.into_iter().map(|b| (1, b)));
            d
        });
        let op = crate::BlockOp::new(
            MASK,
            json!({"grid": band_grid(self), "dtype": dtype.name()}),
        );
        data_dependent(
            "getitem-mask",
            vec![sizes],
            vec![true],
            dtype,
            vec![self.clone(), mask],
            deps,
            op,
        )
    }

    /// The slices along `axis` where the one-dimensional boolean `condition` is true:
    /// NumPy's `compress(condition, x, axis)` and `x[..., condition, ...]`. The result keeps
    /// `x`'s blocks, with unknown sizes along `axis`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::DTypeMismatch`] if `condition` is not boolean;
    /// [`ArrayError::ShapeMismatch`] if it is not one-dimensional of `x`'s length along
    /// `axis`; [`ArrayError::AxisOutOfRange`]; [`ArrayError::UnknownChunks`] as
    /// [`Array::filter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::ones(&[6, 4], [2_usize, 4], DType::F32)?;
    /// let rows = floe_array::arange(0.0, 6.0, 1.0, 2, DType::F64)?.lt_scalar(3.0)?;
    /// let first = x.compress(&rows, 0)?;
    /// assert_eq!(first.unknown_axes(), vec![0]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn compress(&self, condition: &Array, axis: isize) -> Result<Array> {
        let axis = crate::error::normalize_axis("compress", axis, self.ndim())?;
        if condition.dtype() != DType::Bool {
            return Err(ArrayError::DTypeMismatch {
                expected: DType::Bool,
                found: condition.dtype(),
            });
        }
        if condition.ndim() != 1 || condition.shape()[0] != self.shape()[axis] {
            return Err(ArrayError::ShapeMismatch {
                op: "compress",
                left: self.shape().to_vec(),
                right: condition.shape().to_vec(),
                detail: format!(": the condition is one-dimensional, of the length of axis {axis}"),
            });
        }
        let cond = if condition.chunks().axis(0) == self.chunks().axis(axis)
            && condition.node.unknown[0] == self.node.unknown[axis]
        {
            condition.clone()
        } else {
            if condition.has_unknown_chunks() || self.node.unknown[axis] {
                return Err(ArrayError::UnknownChunks {
                    op: "compress",
                    array: if condition.has_unknown_chunks() {
                        condition.name().to_owned()
                    } else {
                        self.name().to_owned()
                    },
                    axes: vec![if condition.has_unknown_chunks() {
                        0
                    } else {
                        axis
                    }],
                });
            }
            condition.rechunk(vec![self.chunks().axis(axis).to_vec()])?
        };
        let mut unknown = self.node.unknown.clone();
        unknown[axis] = true;
        let deps: DepsFn = Arc::new(move |i: &[usize]| vec![(0, i.to_vec()), (1, vec![i[axis]])]);
        data_dependent(
            "compress",
            self.chunks().axes().to_vec(),
            unknown,
            self.dtype(),
            vec![self.clone(), cond],
            deps,
            crate::BlockOp::new(COMPRESS, json!({"axis": axis})),
        )
    }

    /// The indices of the non-zero elements, one row per element in row-major order:
    /// NumPy's `argwhere`. The result is `int64` of shape `(n, ndim)`, `n` unknown.
    ///
    /// # Errors
    ///
    /// [`ArrayError::UnknownChunks`] if `x` has unknown sizes (the positions of its
    /// elements are not known).
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::eye(4, 4, 0, 2, DType::F64)?;
    /// let idx = x.argwhere()?;
    /// assert_eq!(idx.ndim(), 2);
    /// assert_eq!(idx.unknown_axes(), vec![0]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn argwhere(&self) -> Result<Array> {
        self.positions(Positions::Rows)
    }

    /// The flat (row-major) indices of the non-zero elements: NumPy's `flatnonzero`.
    /// One-dimensional `int64` of unknown length.
    ///
    /// # Errors
    ///
    /// As [`Array::argwhere`].
    pub fn flatnonzero(&self) -> Result<Array> {
        self.positions(Positions::Flat)
    }

    /// The indices of the non-zero elements, one `int64` array per axis: NumPy's `nonzero`.
    ///
    /// # Errors
    ///
    /// As [`Array::argwhere`]; [`ArrayError::InvalidArgument`] for a 0-d array (NumPy 2
    /// refuses it too).
    pub fn nonzero(&self) -> Result<Vec<Array>> {
        if self.ndim() == 0 {
            return Err(ArrayError::invalid(
                "nonzero",
                "a 0-d array has no axes to index; use atleast_1d(x).nonzero()",
            ));
        }
        let rows = self.argwhere()?;
        (0..self.ndim())
            .map(|k| {
                let deps: DepsFn = Arc::new(|i: &[usize]| vec![(0, vec![i[0], 0])]);
                data_dependent(
                    "nonzero",
                    vec![rows.chunks().axis(0).to_vec()],
                    vec![true],
                    DType::I64,
                    vec![rows.clone()],
                    deps,
                    crate::BlockOp::new(NONZERO, json!({"k": k})),
                )
            })
            .collect()
    }

    fn positions(&self, how: Positions) -> Result<Array> {
        let name = match how {
            Positions::Rows => "argwhere",
            Positions::Flat => "flatnonzero",
        };
        self.require_known(name)?;
        let ndim = self.ndim();
        let width = match how {
            Positions::Rows => vec![ndim],
            Positions::Flat => vec![],
        };
        if self.size() == 0 {
            let mut shape = vec![0];
            shape.extend(&width);
            return empty_result(name, &shape, DType::I64);
        }
        let sizes: Vec<usize> = (0..bands(self)).map(|b| band_len(self, b)).collect();
        let mut chunks = vec![sizes];
        chunks.extend(width.iter().map(|&w| vec![w]));
        let mut unknown = vec![true];
        unknown.extend(width.iter().map(|_| false));
        let nb = self.numblocks();
        let deps: DepsFn =
            Arc::new(move |i: &[usize]| band(&nb, i[0]).into_iter().map(|b| (0, b)).collect());
        let starts = if ndim == 0 {
            vec![0]
        } else {
            self.chunks().offsets(0)
        };
        let op = crate::BlockOp::new(
            POSITIONS,
            json!({
                "flat": matches!(how, Positions::Flat), "grid": band_grid(self),
                "dtype": self.dtype().name(), "starts": starts, "shape": self.shape(),
            }),
        );
        data_dependent(
            name,
            chunks,
            unknown,
            DType::I64,
            vec![self.clone()],
            deps,
            op,
        )
    }

    /// `mask` with the blocks of `self` (rechunked where both are known).
    fn aligned(&self, op: &'static str, mask: &Array) -> Result<Array> {
        if mask.chunks() == self.chunks() && mask.node.unknown == self.node.unknown {
            return Ok(mask.clone());
        }
        for a in [self, mask] {
            a.require_known(op)?;
        }
        mask.rechunk(self.chunks().axes().to_vec())
    }

    /// The sorted unique elements (NaN once, at the end, as NumPy's `equal_nan=True`), and
    /// with `counts` how often each occurs: NumPy's `unique(x, return_counts=...)`. See
    /// [`Array::unique_all`] for the first indices and the inverse too.
    ///
    /// # Errors
    ///
    /// As [`Array::unique_all`].
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    ///
    /// let x = floe_array::arange(0.0, 100.0, 1.0, 10, DType::I64)?.rem_scalar(7)?;
    /// let (values, counts) = x.unique(true)?;
    /// assert_eq!(values.numblocks(), vec![1]);
    /// assert!(counts.is_some());
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn unique(&self, counts: bool) -> Result<(Array, Option<Array>)> {
        let u = self.unique_all(false, false, counts)?;
        Ok((u.values, u.counts))
    }

    /// NumPy's `unique(x, return_index=, return_inverse=, return_counts=)` of the flattened
    /// array: the sorted unique values (NaN once, last); the flat position of each one's
    /// first occurrence; for every element, the position of its value among them (the
    /// array's shape, as NumPy 2); and how often each occurs. Each block is reduced to its
    /// unique values (with first positions and counts), then groups of eight are merged
    /// into one block. The values, first positions and counts have unknown size.
    ///
    /// # Errors
    ///
    /// [`ArrayError::UnknownChunks`] for `index` on an array of unknown sizes (positions
    /// need them).
    pub fn unique_all(&self, index: bool, inverse: bool, counts: bool) -> Result<Unique> {
        const FAN_IN: usize = 8;
        let dtype = self.dtype();
        if index {
            self.require_known("unique(return_index=True)")?;
        }
        if self.size() == 0 && !self.has_unknown_chunks() {
            let empty = |name: &str, d: DType| empty_result(name, &[0], d);
            return Ok(Unique {
                values: empty("unique", dtype)?,
                index: index
                    .then(|| empty("unique-index", DType::I64))
                    .transpose()?,
                inverse: inverse
                    .then(|| empty_result("unique-inverse", self.shape(), DType::I64))
                    .transpose()?,
                counts: counts
                    .then(|| empty("unique-counts", DType::I64))
                    .transpose()?,
            });
        }
        let indices: Vec<Vec<usize>> = self.chunks().block_indices().collect();
        let bounds: Vec<usize> = indices
            .iter()
            .map(|i| {
                self.chunks()
                    .block_shape(i)
                    .iter()
                    .product::<usize>()
                    .max(1)
            })
            .collect();
        let idx = Arc::new(indices);
        // The unique values at each level of the tree: level 0 per block, then merges.
        let deps: DepsFn = {
            let idx = idx.clone();
            Arc::new(move |i: &[usize]| vec![(0, idx[i[0]].clone())])
        };
        let mut levels = vec![data_dependent(
            "unique-block",
            vec![bounds.clone()],
            vec![true],
            dtype,
            vec![self.clone()],
            deps,
            crate::BlockOp::new(UNIQUE_BLOCK, json!({})),
        )?];
        while levels.last().expect("one level").numblocks()[0] > 1 {
            let below = levels.last().expect("one level").clone();
            let sizes = below.chunks().axis(0).to_vec();
            let groups: Vec<usize> = sizes.chunks(FAN_IN).map(|g| g.iter().sum()).collect();
            let n = sizes.len();
            let deps: DepsFn = Arc::new(move |i: &[usize]| {
                (i[0] * FAN_IN..((i[0] + 1) * FAN_IN).min(n))
                    .map(|k| (0, vec![k]))
                    .collect()
            });
            levels.push(data_dependent(
                "unique",
                vec![groups],
                vec![true],
                dtype,
                vec![below],
                deps,
                crate::BlockOp::new(UNIQUE_MERGE, json!({"dtype": dtype.name()})),
            )?);
        }
        let values = levels.last().expect("one level").clone();
        // A tally per unique value, folded up the same tree.
        let tally = |kind: Tally| -> Result<Array> {
            let name = kind.name();
            let offsets: Vec<Vec<usize>> =
                (0..self.ndim()).map(|a| self.chunks().offsets(a)).collect();
            let deps: DepsFn = {
                let idx = idx.clone();
                Arc::new(move |i: &[usize]| vec![(0, idx[i[0]].clone()), (1, vec![i[0]])])
            };
            let op = crate::BlockOp::new(
                UNIQUE_TALLY,
                json!({
                    "kind": name, "offsets": offsets, "shape": self.shape(),
                    "grid": self.numblocks(),
                }),
            );
            let mut t = data_dependent(
                name,
                vec![bounds.clone()],
                vec![true],
                DType::I64,
                vec![self.clone(), levels[0].clone()],
                deps,
                op,
            )?;
            for w in levels.windows(2) {
                let (below, merged) = (&w[0], &w[1]);
                let n = below.numblocks()[0];
                let deps: DepsFn = Arc::new(move |i: &[usize]| {
                    let mut d = vec![(0, vec![i[0]])];
                    for k in i[0] * FAN_IN..((i[0] + 1) * FAN_IN).min(n) {
                        d.push((1, vec![k]));
                        d.push((2, vec![k]));
                    }
                    d
                });
                t = data_dependent(
                    name,
                    vec![merged.chunks().axis(0).to_vec()],
                    vec![true],
                    DType::I64,
                    vec![merged.clone(), below.clone(), t],
                    deps,
                    crate::BlockOp::new(UNIQUE_TALLY_MERGE, json!({"kind": name})),
                )?;
            }
            Ok(t)
        };
        let inverse = if inverse {
            let deps: DepsFn = Arc::new(|i: &[usize]| vec![(0, i.to_vec()), (1, vec![0])]);
            Some(data_dependent(
                "unique-inverse",
                self.chunks().axes().to_vec(),
                self.node.unknown.clone(),
                DType::I64,
                vec![self.clone(), values.clone()],
                deps,
                crate::BlockOp::new(UNIQUE_INVERSE, json!({})),
            )?)
        } else {
            None
        };
        Ok(Unique {
            index: index.then(|| tally(Tally::First)).transpose()?,
            counts: counts.then(|| tally(Tally::Count)).transpose()?,
            inverse,
            values,
        })
    }

    /// An array of the blocks' shapes, computed: shape `(*numblocks, ndim)`, `int64`, one
    /// block per block of `self`. Computing it runs every block (this is how
    /// `floe::compute_chunk_sizes` measures arrays of unknown sizes).
    pub fn block_shapes(&self) -> Array {
        let nb = self.numblocks();
        let ndim = self.ndim();
        let mut chunks: Vec<Vec<usize>> = nb.iter().map(|&n| vec![1; n]).collect();
        chunks.push(vec![ndim]);
        let deps: DepsFn = Arc::new(move |i: &[usize]| vec![(0, i[..ndim].to_vec())]);
        let op = crate::BlockOp::new(BLOCK_SHAPES, json!({"ndim": ndim}));
        let f = open_block_shapes(op.params()).expect("the parameters just written");
        let shape: Vec<usize> = chunks.iter().map(|c| c.iter().sum()).collect();
        let chunks = Chunks::new(&shape, chunks).expect("one block per block, one column per axis");
        Array::from_node(
            "block-shapes",
            shape,
            DType::I64,
            chunks,
            Expr::Custom {
                inputs: vec![self.clone()],
                deps,
                f,
                op: Some(crate::spec::same_op(op)),
            },
        )
    }

    /// This array with its block sizes now known: `sizes` (per axis, per block) must keep
    /// the known axes as they are and fit the upper bounds of the unknown ones. The blocks
    /// are computed as before; `floe::compute_chunk_sizes` measures the sizes and calls this.
    ///
    /// # Errors
    ///
    /// [`ArrayError::BadChunks`] if `sizes` do not fit.
    pub fn with_chunk_sizes(&self, sizes: Vec<Vec<usize>>) -> Result<Array> {
        let bad = |reason: String| ArrayError::BadChunks {
            spec: format!("{sizes:?}"),
            shape: self.shape().to_vec(),
            reason,
        };
        if sizes.len() != self.ndim() {
            return Err(bad(format!(
                "{} axes for {} dimensions",
                sizes.len(),
                self.ndim()
            )));
        }
        let mut shape = Vec::with_capacity(self.ndim());
        let mut exact = Vec::with_capacity(self.ndim());
        for (a, s) in sizes.iter().enumerate() {
            let bound = self.chunks().axis(a);
            if s.len() != bound.len() {
                return Err(bad(format!(
                    "axis {a} has {} blocks, not {}",
                    bound.len(),
                    s.len()
                )));
            }
            let fits = if self.node.unknown[a] {
                s.iter().zip(bound).all(|(n, b)| n <= b)
            } else {
                s.as_slice() == bound
            };
            if !fits {
                return Err(bad(format!(
                    "axis {a}: {s:?} does not fit the blocks {bound:?}"
                )));
            }
            shape.push(s.iter().sum::<usize>());
            exact.push(s.clone());
        }
        let measured = self.rebuilt(shape.clone(), Chunks::unchecked(exact.clone()));
        let (chunks, keep) = without_empty_blocks(&exact);
        if keep.iter().zip(&exact).all(|(k, s)| k.len() == s.len()) {
            return Ok(measured);
        }
        let deps: DepsFn = Arc::new(move |i: &[usize]| {
            vec![(0, i.iter().zip(&keep).map(|(&j, k)| k[j]).collect())]
        });
        let op = crate::BlockOp::new(SAME, json!({}));
        let f = open_same(op.params()).expect("no parameters");
        let name = self.name().to_owned();
        let chunks = Chunks::new(&shape, chunks)?;
        Ok(Array::from_node(
            &name,
            shape,
            self.dtype(),
            chunks,
            Expr::Custom {
                inputs: vec![measured],
                deps,
                f,
                op: Some(crate::spec::same_op(op)),
            },
        ))
    }
}

/// floe-array's own block functions of selections and `unique` (see [`crate::BlockOp`]):
/// a band of blocks where its mask's are true (the band's blocks, then the mask's).
pub(crate) const MASK: &str = "array.mask";
/// A block's slices along an axis where the condition's block is true.
pub(crate) const COMPRESS: &str = "array.compress";
/// The positions of a band's non-zero elements, as rows or flat.
pub(crate) const POSITIONS: &str = "array.positions";
/// Column `k` of `argwhere`'s block.
pub(crate) const NONZERO: &str = "array.nonzero";
/// A block's sorted unique values.
pub(crate) const UNIQUE_BLOCK: &str = "array.unique-block";
/// Sorted unique values merged.
pub(crate) const UNIQUE_MERGE: &str = "array.unique-merge";
/// A block's tally (counts or first positions) per value of its unique values.
pub(crate) const UNIQUE_TALLY: &str = "array.unique-tally";
/// Tallies merged per value of the merged unique values.
pub(crate) const UNIQUE_TALLY_MERGE: &str = "array.unique-tally-merge";
/// Each element's position among the unique values.
pub(crate) const UNIQUE_INVERSE: &str = "array.unique-inverse";
/// A block's shape, as a row of `int64`.
pub(crate) const BLOCK_SHAPES: &str = "array.block-shapes";
/// The block as it is.
pub(crate) const SAME: &str = "array.same";

fn n_blocks(op: &str, b: &[&DynArray], n: usize) -> std::result::Result<(), TaskError> {
    if b.len() == n {
        Ok(())
    } else {
        Err(TaskError::msg(format!(
            "{op}: {n} blocks expected, given {}",
            b.len()
        )))
    }
}

pub(crate) fn open_mask(params: &serde_json::Value) -> std::result::Result<GraphFn, TaskError> {
    let p = crate::spec::Params::new(MASK, params);
    let (grid, dtype) = (p.usizes("grid")?, p.dtype("dtype")?);
    let n = grid.iter().product::<usize>();
    Ok(Arc::new(move |blocks: &[&DynArray], _: &BlockInfo| {
        n_blocks(MASK, blocks, 2 * n)?;
        let (xs, ms) = blocks.split_at(n);
        filter_band(&grid, xs, ms, dtype)
    }))
}

pub(crate) fn open_compress(params: &serde_json::Value) -> std::result::Result<GraphFn, TaskError> {
    let axis = crate::spec::Params::new(COMPRESS, params).usize("axis")?;
    Ok(Arc::new(move |blocks: &[&DynArray], _: &BlockInfo| {
        n_blocks(COMPRESS, blocks, 2)?;
        if axis >= blocks[0].shape().len() {
            return Err(TaskError::msg(format!(
                "compress: no axis {axis} in a block of shape {:?}",
                blocks[0].shape()
            )));
        }
        let c = <bool as ArrayElement>::view(blocks[1])
            .ok_or_else(|| TaskError::msg("internal error: a non-boolean condition"))?;
        if c.len() != blocks[0].shape()[axis] {
            return Err(TaskError::msg(format!(
                "compress: a condition block of {} elements for {} slices",
                c.len(),
                blocks[0].shape()[axis]
            )));
        }
        let keep: Vec<usize> = c
            .iter()
            .enumerate()
            .filter(|(_, k)| **k)
            .map(|(i, _)| i)
            .collect();
        Ok(crate::with_array!(blocks[0], a => DynArray::from(a.select(Axis(axis), &keep))))
    }))
}

pub(crate) fn open_positions(
    params: &serde_json::Value,
) -> std::result::Result<GraphFn, TaskError> {
    let p = crate::spec::Params::new(POSITIONS, params);
    let how = if p.bool("flat")? {
        Positions::Flat
    } else {
        Positions::Rows
    };
    let (grid, dtype) = (p.usizes("grid")?, p.dtype("dtype")?);
    let (starts, full) = (p.usizes("starts")?, p.usizes("shape")?);
    let ndim = full.len();
    if grid.len() != ndim.max(1) && !(ndim == 0 && grid.is_empty()) {
        return Err(p.bad("grid"));
    }
    Ok(Arc::new(move |blocks: &[&DynArray], info: &BlockInfo| {
        n_blocks(POSITIONS, blocks, grid.iter().product())?;
        let start = *info
            .index
            .first()
            .and_then(|&b| starts.get(b))
            .unwrap_or(&0);
        let mut out: Vec<i64> = Vec::new();
        let mut rows = 0;
        let mut global = vec![0; ndim];
        with_dtype!(dtype, T => {
            let lanes = lane_slices::<T>(blocks)?;
            let zero = <T as Element>::zero();
            for_each_lane(&grid, blocks, |k, outer, at, len, off| {
                for (t, v) in lanes[k][at..at + len].iter().enumerate() {
                    if *v == zero {
                        continue;
                    }
                    // The band starts at `start` along the first axis.
                    for (g, &o) in global.iter_mut().zip(outer) {
                        *g = o;
                    }
                    if let Some(last) = global.last_mut() {
                        *last = off + t;
                    }
                    if let Some(first) = global.first_mut() {
                        *first += start;
                    }
                    match how {
                        Positions::Rows => out.extend(global.iter().map(|&i| i as i64)),
                        Positions::Flat => {
                            let flat = global.iter().zip(&full).fold(0, |acc, (i, &n)| acc * n + i);
                            out.push(flat as i64);
                        }
                    }
                    rows += 1;
                }
            })?;
        });
        let shape = match how {
            Positions::Rows => vec![rows, ndim],
            Positions::Flat => vec![rows],
        };
        ArrayD::from_shape_vec(IxDyn(&shape), out)
            .map(DynArray::from)
            .map_err(|e| TaskError::msg(e.to_string()))
    }))
}

pub(crate) fn open_nonzero(params: &serde_json::Value) -> std::result::Result<GraphFn, TaskError> {
    let k = crate::spec::Params::new(NONZERO, params).usize("k")?;
    Ok(Arc::new(move |blocks: &[&DynArray], _: &BlockInfo| {
        n_blocks(NONZERO, blocks, 1)?;
        let r = <i64 as ArrayElement>::view(blocks[0])
            .filter(|r| r.ndim() == 2 && k < r.shape()[1])
            .ok_or_else(|| TaskError::msg("nonzero: argwhere's block is not int64 rows"))?;
        Ok(DynArray::from(r.index_axis(Axis(1), k).to_owned()))
    }))
}

pub(crate) fn open_unique_block(_: &serde_json::Value) -> std::result::Result<GraphFn, TaskError> {
    Ok(Arc::new(|b: &[&DynArray], _: &BlockInfo| {
        n_blocks(UNIQUE_BLOCK, b, 1)?;
        Ok(unique_sorted(b[0]))
    }))
}

pub(crate) fn open_unique_merge(
    params: &serde_json::Value,
) -> std::result::Result<GraphFn, TaskError> {
    let dtype = crate::spec::Params::new(UNIQUE_MERGE, params).dtype("dtype")?;
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        merge_unique(b, dtype)
    }))
}

fn tally_kind(p: &crate::spec::Params<'_>) -> std::result::Result<Tally, TaskError> {
    match p.str("kind")? {
        k if k == Tally::Count.name() => Ok(Tally::Count),
        k if k == Tally::First.name() => Ok(Tally::First),
        _ => Err(p.bad("kind")),
    }
}

pub(crate) fn open_unique_tally(
    params: &serde_json::Value,
) -> std::result::Result<GraphFn, TaskError> {
    let p = crate::spec::Params::new(UNIQUE_TALLY, params);
    let kind = tally_kind(&p)?;
    let (offsets, shape, grid) = (
        p.usize_lists("offsets")?,
        p.usizes("shape")?,
        p.usizes("grid")?,
    );
    if offsets.len() != shape.len() || grid.len() != shape.len() {
        return Err(p.bad("offsets"));
    }
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        n_blocks(UNIQUE_TALLY, b, 2)?;
        let weights = match kind {
            Tally::Count => None,
            Tally::First => {
                // The block's index in the data, from its number (row-major).
                let at = crate::histogram::unravel(info.index.first().copied().unwrap_or(0), &grid);
                let fits = b[0].shape().len() == shape.len()
                    && at.iter().zip(&offsets).all(|(&i, o)| i < o.len());
                if !fits {
                    return Err(TaskError::msg(
                        "unique-index: a block outside the data's grid",
                    ));
                }
                Some(flat_positions(b[0].shape(), &at, &offsets, &shape))
            }
        };
        fold_into(b[1], &[(b[0], weights.as_ref())], kind)
    }))
}

pub(crate) fn open_unique_tally_merge(
    params: &serde_json::Value,
) -> std::result::Result<GraphFn, TaskError> {
    let kind = tally_kind(&crate::spec::Params::new(UNIQUE_TALLY_MERGE, params))?;
    Ok(Arc::new(move |b: &[&DynArray], _: &BlockInfo| {
        if b.len() % 2 != 1 {
            return Err(TaskError::msg(format!(
                "{}: merged values and pairs of children, given {} blocks",
                kind.name(),
                b.len()
            )));
        }
        let children: Vec<(&DynArray, Option<&DynArray>)> =
            b[1..].chunks(2).map(|p| (p[0], Some(p[1]))).collect();
        fold_into(b[0], &children, kind)
    }))
}

pub(crate) fn open_unique_inverse(
    _: &serde_json::Value,
) -> std::result::Result<GraphFn, TaskError> {
    Ok(Arc::new(|b: &[&DynArray], _: &BlockInfo| {
        n_blocks(UNIQUE_INVERSE, b, 2)?;
        positions_in(b[1], b[0])
    }))
}

pub(crate) fn open_block_shapes(
    params: &serde_json::Value,
) -> std::result::Result<GraphFn, TaskError> {
    let ndim = crate::spec::Params::new(BLOCK_SHAPES, params).usize("ndim")?;
    Ok(Arc::new(move |b: &[&DynArray], info: &BlockInfo| {
        n_blocks(BLOCK_SHAPES, b, 1)?;
        if info.shape.len() != ndim + 1 || b[0].shape().len() != ndim {
            return Err(TaskError::msg(format!(
                "{BLOCK_SHAPES}: a block of {} axes for shapes of {ndim}",
                b[0].shape().len()
            )));
        }
        let mut shape = vec![1; ndim];
        shape.push(ndim);
        let sizes: Vec<i64> = b[0].shape().iter().map(|&n| n as i64).collect();
        ArrayD::from_shape_vec(IxDyn(&shape), sizes)
            .map(DynArray::from)
            .map_err(|e| TaskError::msg(e.to_string()))
    }))
}

pub(crate) fn open_same(_: &serde_json::Value) -> std::result::Result<GraphFn, TaskError> {
    Ok(Arc::new(|b: &[&DynArray], _: &BlockInfo| {
        n_blocks(SAME, b, 1)?;
        Ok(b[0].clone())
    }))
}

#[derive(Clone, Copy)]
enum Positions {
    Rows,
    Flat,
}

/// The block grid of one band of `a`: one block along the first axis, the rest as `a`'s.
fn band_grid(a: &Array) -> Vec<usize> {
    let mut g = a.numblocks();
    if let Some(first) = g.first_mut() {
        *first = 1;
    }
    g
}

/// Each block's elements as one row-major slice (a copy only for a block that is not in
/// standard layout).
fn lane_slices<'a, T: ArrayElement>(
    blocks: &[&'a DynArray],
) -> std::result::Result<Vec<std::borrow::Cow<'a, [T]>>, TaskError> {
    blocks
        .iter()
        .map(|b| {
            let v = <T as ArrayElement>::view(b)
                .ok_or_else(|| TaskError::msg("internal error: a block of another dtype"))?;
            Ok(match v.to_slice() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(v.iter().copied().collect()),
            })
        })
        .collect()
}

/// Visits the elements of a band of blocks (`blocks`, row-major over `grid`) in row-major
/// order, one lane of a block at a time: for each position of the axes but the last, and
/// each block along the last axis, `f(block, position, first element in the block, lane
/// length, the block's offset along the last axis)`. Block sizes are the blocks' own.
///
/// # Errors
///
/// If the blocks' sizes do not line up into the grid.
fn for_each_lane(
    grid: &[usize],
    blocks: &[&DynArray],
    mut f: impl FnMut(usize, &[usize], usize, usize, usize),
) -> std::result::Result<(), TaskError> {
    let ndim = grid.len();
    if ndim == 0 {
        f(0, &[], 0, 1, 0);
        return Ok(());
    }
    let indices = block_indices(grid);
    let sizes = grid_sizes(grid, &indices, blocks)?;
    let last = ndim - 1;
    let offsets: Vec<usize> = sizes[last]
        .iter()
        .scan(0, |acc, &n| {
            let o = *acc;
            *acc += n;
            Some(o)
        })
        .collect();
    // Where each global position along an outer axis falls: (block, position inside it).
    let places: Vec<Vec<(usize, usize)>> = sizes[..last]
        .iter()
        .map(|s| {
            s.iter()
                .enumerate()
                .flat_map(|(b, &n)| (0..n).map(move |l| (b, l)))
                .collect()
        })
        .collect();
    if places.iter().any(Vec::is_empty) {
        return Ok(());
    }
    let mut outer = vec![0; last];
    loop {
        for j in 0..grid[last] {
            // The block at (outer blocks…, j) and the lane's first element inside it.
            let mut k = 0;
            let mut at = 0;
            for a in 0..last {
                let (b, l) = places[a][outer[a]];
                k = k * grid[a] + b;
                let block_shape = &sizes;
                let stride: usize = (a + 1..ndim)
                    .map(|c| {
                        if c == last {
                            block_shape[c][j]
                        } else {
                            block_shape[c][places[c][outer[c]].0]
                        }
                    })
                    .product();
                at += l * stride;
            }
            k = k * grid[last] + j;
            f(k, &outer, at, sizes[last][j], offsets[j]);
        }
        // The next outer position, row-major.
        let mut a = last;
        loop {
            if a == 0 {
                return Ok(());
            }
            a -= 1;
            outer[a] += 1;
            if outer[a] < places[a].len() {
                break;
            }
            outer[a] = 0;
        }
    }
}

/// The elements of a band of blocks `xs` where the masks `ms` (same grid) are true, in
/// row-major order, as a 1-d block, without assembling the band.
fn filter_band(
    grid: &[usize],
    xs: &[&DynArray],
    ms: &[&DynArray],
    dtype: DType,
) -> std::result::Result<DynArray, TaskError> {
    for (x, m) in xs.iter().zip(ms) {
        if x.shape() != m.shape() {
            return Err(task_err(ArrayError::ShapeMismatch {
                op: "boolean index",
                left: x.shape().to_vec(),
                right: m.shape().to_vec(),
                detail: ": the mask's blocks do not match the array's".into(),
            }));
        }
    }
    let masks = lane_slices::<bool>(ms)?;
    with_dtype!(dtype, T => {
        let values = lane_slices::<T>(xs)?;
        let mut kept: Vec<T> = Vec::new();
        for_each_lane(grid, xs, |k, _, at, len, _| {
            let (v, m) = (&values[k][at..at + len], &masks[k][at..at + len]);
            // Branch-free compaction: every element is written, the end advances only past
            // the kept ones (a random mask would mispredict half of the branches).
            let start = kept.len();
            kept.resize(start + len, <T as Element>::zero());
            let dst = &mut kept[start..];
            let mut n = 0;
            for (&v, &keep) in v.iter().zip(m) {
                dst[n] = v;
                n += usize::from(keep);
            }
            kept.truncate(start + n);
        })?;
        let n = kept.len();
        Ok(DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), kept).expect("n elements")))
    })
}

/// NumPy's sort order: NaN after every number, NaNs equal to each other.
fn nan_last<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b).unwrap_or_else(|| {
        let nan = |v: &T| v.partial_cmp(v).is_none();
        nan(a).cmp(&nan(b))
    })
}

/// The sorted unique elements of a block, as a 1-d block.
fn unique_sorted(x: &DynArray) -> DynArray {
    crate::with_array!(x, a => {
        let mut v: Vec<_> = a.iter().copied().collect();
        v.sort_unstable_by(nan_last);
        v.dedup_by(|p, q| nan_last(p, q) == Ordering::Equal);
        let n = v.len();
        DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("n elements"))
    })
}

/// The sorted union of sorted unique blocks.
fn merge_unique(blocks: &[&DynArray], dtype: DType) -> std::result::Result<DynArray, TaskError> {
    with_dtype!(dtype, T => {
        let mut v: Vec<T> = Vec::new();
        for b in blocks {
            let view = <T as ArrayElement>::view(b)
                .ok_or_else(|| TaskError::msg("internal error: a unique block of another dtype"))?;
            v.extend(view.iter().copied());
        }
        // Each block is a sorted run: the stable sort merges runs in linear time.
        v.sort_by(nan_last);
        v.dedup_by(|p, q| nan_last(p, q) == Ordering::Equal);
        let n = v.len();
        Ok(DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("n elements")))
    })
}

/// What [`Array::unique_all`] folds per unique value.
#[derive(Clone, Copy)]
enum Tally {
    /// How many elements hold it.
    Count,
    /// The flat position of its first occurrence.
    First,
}

impl Tally {
    fn name(self) -> &'static str {
        match self {
            Tally::Count => "unique-counts",
            Tally::First => "unique-index",
        }
    }
}

/// The sorted unique values of an array and, when asked, their first flat positions, each
/// element's position among them, and their counts (see [`Array::unique_all`]).
pub struct Unique {
    /// The sorted unique values.
    pub values: Array,
    /// The flat position of each value's first occurrence.
    pub index: Option<Array>,
    /// For every element, the position of its value in `values` (the array's shape).
    pub inverse: Option<Array>,
    /// How often each value occurs.
    pub counts: Option<Array>,
}

/// The flat (row-major) positions of the elements of a block at `index` (its block index),
/// as `int64`.
fn flat_positions(
    block_shape: &[usize],
    index: &[usize],
    offsets: &[Vec<usize>],
    shape: &[usize],
) -> DynArray {
    let start: Vec<usize> = index
        .iter()
        .enumerate()
        .map(|(a, &b)| offsets[a][b])
        .collect();
    let out = ArrayD::from_shape_fn(IxDyn(block_shape), |i| {
        (0..shape.len()).fold(0_i64, |acc, a| {
            acc * shape[a] as i64 + (start[a] + i[a]) as i64
        })
    });
    DynArray::from(out)
}

/// Per element of the sorted unique `values`, the tally of `kind`: each child adds, for
/// every element of its data, its weight (one, for counts of raw data) where the element
/// lands in `values`; first positions keep the smallest.
fn fold_into(
    values: &DynArray,
    children: &[(&DynArray, Option<&DynArray>)],
    kind: Tally,
) -> std::result::Result<DynArray, TaskError> {
    let dtype = values.dtype();
    with_dtype!(dtype, T => {
        let vals = values_of::<T>(values)?;
        let mut out = vec![if matches!(kind, Tally::First) { i64::MAX } else { 0 }; vals.len()];
        for (data, weights) in children {
            let data = <T as ArrayElement>::view(data)
                .ok_or_else(|| TaskError::msg("internal error: unique data of another dtype"))?;
            let weights = match weights {
                Some(w) => Some(<i64 as ArrayElement>::view(w).ok_or_else(|| {
                    TaskError::msg("internal error: unique tallies are not int64")
                })?),
                None => None,
            };
            let ones = std::iter::repeat(&1_i64);
            let weights: Box<dyn Iterator<Item = &i64>> = match &weights {
                Some(w) => Box::new(w.iter()),
                None => Box::new(ones),
            };
            for (v, &w) in data.iter().zip(weights) {
                let at = vals
                    .binary_search_by(|p| nan_last(p, v))
                    .map_err(|_| TaskError::msg("internal error: a value missing from unique's merge"))?;
                match kind {
                    Tally::Count => out[at] += w,
                    Tally::First => out[at] = out[at].min(w),
                }
            }
        }
        let n = out.len();
        Ok(DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), out).expect("n tallies")))
    })
}

/// Measured block sizes without the blocks a selection left empty (an array's blocks are
/// not empty; an empty axis has one empty block): the sizes kept per axis, and which of the
/// measured blocks each kept one is.
pub fn without_empty_blocks(sizes: &[Vec<usize>]) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let keep: Vec<Vec<usize>> = sizes
        .iter()
        .map(|s| {
            let k: Vec<usize> = (0..s.len()).filter(|&i| s[i] > 0).collect();
            if k.is_empty() { vec![0] } else { k }
        })
        .collect();
    let kept = keep
        .iter()
        .zip(sizes)
        .map(|(k, s)| k.iter().map(|&i| s[i]).collect())
        .collect();
    (kept, keep)
}

/// The sorted unique values of a block, as a slice to search.
fn values_of<T: ArrayElement>(values: &DynArray) -> std::result::Result<&[T], TaskError> {
    <T as ArrayElement>::view(values)
        .and_then(|v| v.to_slice())
        .ok_or_else(|| TaskError::msg("internal error: unique values of another dtype"))
}

/// For every element of `data`, the position of its value in the sorted unique `values`
/// (a block of `data`'s shape).
fn positions_in(values: &DynArray, data: &DynArray) -> std::result::Result<DynArray, TaskError> {
    let dtype = values.dtype();
    with_dtype!(dtype, T => {
        let vals = values_of::<T>(values)?;
        let data = <T as ArrayElement>::view(data)
            .ok_or_else(|| TaskError::msg("internal error: unique data of another dtype"))?;
        let mut missing = false;
        let out = data.mapv(|v| match vals.binary_search_by(|p| nan_last(p, &v)) {
            Ok(i) => i as i64,
            Err(_) => {
                missing = true;
                -1
            }
        });
        if missing {
            return Err(TaskError::msg("internal error: an element missing from its unique values"));
        }
        Ok(DynArray::from(out))
    })
}
