//! Pointwise indexing (Dask's `vindex`, NumPy's `x[rows, cols]` with integer arrays):
//! the elements at the points the index arrays name together, gathered block by block.

use std::collections::BTreeMap;
use std::sync::Arc;

use floe_graph::TaskError;
use ndarray::{ArrayD, Axis, IxDyn};

use crate::block::BlockInfo;
use crate::expr::{DepsFn, Expr, GraphFn};
use crate::{Array, ArrayError, Chunks, DynArray, Result, with_dtype};

impl Array {
    /// The elements at the points named by `indices` (one integer array per leading axis,
    /// broadcast together, negative indices counting from the end), as NumPy's `x[i, j]`
    /// with integer arrays and Dask's `x.vindex[i, j]`. The result has the broadcast shape
    /// of the indices followed by the axes not indexed. Each output block reads only the
    /// input blocks its points fall in.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidIndex`] for no index or more indices than axes, or indices
    /// that do not broadcast (NumPy's `IndexError`); [`ArrayError::IndexOutOfBounds`]
    /// naming the first index past its axis; [`ArrayError::UnknownChunks`] for an array of
    /// unknown sizes.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::DType;
    /// use ndarray::{ArrayD, IxDyn};
    ///
    /// let x = floe_array::arange(0.0, 20.0, 1.0, 3, DType::F64)?.reshape(&[4, 5])?;
    /// let rows = ArrayD::from_shape_vec(IxDyn(&[3]), vec![0_i64, 3, -1]).unwrap();
    /// let cols = ArrayD::from_shape_vec(IxDyn(&[3]), vec![4_i64, 0, 2]).unwrap();
    /// let points = x.vindex(&[rows, cols])?; // x[0, 4], x[3, 0], x[3, 2]
    /// assert_eq!(points.shape(), &[3]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn vindex(&self, indices: &[ArrayD<i64>]) -> Result<Array> {
        let op = "vindex";
        self.require_known(op)?;
        let k = indices.len();
        if k == 0 || k > self.ndim() {
            return Err(ArrayError::InvalidIndex {
                message: format!(
                    "vindex: {k} index arrays for an array of {} dimensions",
                    self.ndim()
                ),
            });
        }
        // The indices broadcast to one shape.
        let mut shape: Vec<usize> = Vec::new();
        for ix in indices {
            shape =
                crate::elementwise::broadcast_shapes(op, &[&shape, ix.shape()]).map_err(|_| {
                    ArrayError::InvalidIndex {
                        message: "vindex: the index arrays do not broadcast together".into(),
                    }
                })?;
        }
        let npoints: usize = shape.iter().product();
        // Each point as (block, position inside it) along each indexed axis.
        let mut points: Vec<Vec<(usize, usize)>> = Vec::with_capacity(npoints);
        let views = indices
            .iter()
            .map(|ix| {
                ix.broadcast(IxDyn(&shape))
                    .expect("broadcast shape checked")
            })
            .collect::<Vec<_>>();
        let starts: Vec<Vec<usize>> = (0..k).map(|a| self.chunks().offsets(a)).collect();
        let mut iters: Vec<_> = views.iter().map(|v| v.iter()).collect();
        for _ in 0..npoints {
            let mut point = Vec::with_capacity(k);
            for (a, it) in iters.iter_mut().enumerate() {
                let n = self.shape()[a];
                let i = *it.next().expect("one index per point");
                let g = if i < 0 { i + n as i64 } else { i };
                if g < 0 || g >= n as i64 {
                    return Err(ArrayError::IndexOutOfBounds {
                        index: i as isize,
                        axis: a,
                        len: n,
                    });
                }
                let g = g as usize;
                let b = starts[a].partition_point(|&s| s <= g) - 1;
                point.push((b, g - starts[a][b]));
            }
            points.push(point);
        }
        // Output blocks: groups of points along the first index axis (the others whole),
        // sized like the array's blocks; the axes not indexed keep their blocks.
        let rest: Vec<usize> = self.shape()[k..].to_vec();
        let lane: usize = self.chunks().max_block()[k..]
            .iter()
            .product::<usize>()
            .max(1);
        let target = (crate::auto_chunk_bytes() / (lane * self.dtype().itemsize())).max(1);
        let mut out_chunks: Vec<Vec<usize>> = Vec::new();
        let per_row: usize = shape.iter().skip(1).product();
        if let Some(&rows) = shape.first() {
            let rows_per_block = (target / per_row.max(1)).max(1);
            out_chunks.push(crate::chunks::split_axis(rows, rows_per_block));
            out_chunks.extend(shape[1..].iter().map(|&n| vec![n]));
        }
        out_chunks.extend((k..self.ndim()).map(|a| self.chunks().axis(a).to_vec()));
        let lead = shape.len();
        let row_starts: Vec<usize> = match out_chunks.first() {
            Some(c) if lead > 0 => std::iter::once(0)
                .chain(c.iter().scan(0, |acc, &n| {
                    *acc += n;
                    Some(*acc)
                }))
                .collect(),
            _ => vec![0, 1],
        };
        // Per output group, its points and the distinct input blocks they need.
        let points = Arc::new(points);
        let group_points = {
            let row_starts = row_starts.clone();
            // `per_row` is 1 for 0-d indices and 0 when a later index axis is empty.
            move |g: usize| {
                (row_starts[g] * per_row).min(npoints)..(row_starts[g + 1] * per_row).min(npoints)
            }
        };
        let groups: Vec<Vec<Vec<usize>>> = (0..row_starts.len() - 1)
            .map(|g| {
                let mut blocks: BTreeMap<Vec<usize>, ()> = BTreeMap::new();
                for p in group_points(g).filter(|&p| p < npoints) {
                    blocks.insert(points[p].iter().map(|&(b, _)| b).collect(), ());
                }
                blocks.into_keys().collect()
            })
            .collect();
        let groups = Arc::new(groups);
        let deps: DepsFn = {
            let groups = groups.clone();
            Arc::new(move |i: &[usize]| {
                let g = if lead > 0 { i[0] } else { 0 };
                groups[g]
                    .iter()
                    .map(|b| {
                        let mut idx = b.clone();
                        idx.extend_from_slice(&i[lead..]);
                        (0, idx)
                    })
                    .collect()
            })
        };
        let dtype = self.dtype();
        // Each task as data: per point of its group, which of its blocks holds it (their
        // order is `deps`') and where inside it.
        let describe: crate::spec::DescribeFn = {
            let (points, groups, group_points) =
                (points.clone(), groups.clone(), group_points.clone());
            Arc::new(move |i: &[usize]| {
                let g = if lead > 0 { i[0] } else { 0 };
                let (which, at): (Vec<usize>, Vec<Vec<usize>>) = group_points(g)
                    .map(|p| {
                        let key: Vec<usize> = points[p].iter().map(|&(b, _)| b).collect();
                        let n = groups[g]
                            .binary_search(&key)
                            .expect("a point's block is read");
                        (n, points[p].iter().map(|&(_, l)| l).collect())
                    })
                    .unzip();
                crate::BlockOp::new(
                    VINDEX,
                    serde_json::json!({"lead": lead, "which": which, "at": at}),
                )
            })
        };
        let f: GraphFn = {
            let points = points.clone();
            Arc::new(move |blocks: &[&DynArray], info: &BlockInfo| {
                let g = if lead > 0 { info.index[0] } else { 0 };
                let range = group_points(g);
                let first = range.start;
                let mut where_: BTreeMap<&[usize], usize> = BTreeMap::new();
                for (n, b) in groups[g].iter().enumerate() {
                    where_.insert(b.as_slice(), n);
                }
                with_dtype!(dtype, T => {
                    let mut out = ArrayD::<T>::from_elem(IxDyn(&info.shape), <T as crate::Element>::zero());
                    let npts: usize = info.shape[..lead].iter().product();
                    let rest_shape = info.shape[lead..].to_vec();
                    let mut flat = out
                        .view_mut()
                        .into_shape_with_order(IxDyn(&[npts, rest_shape.iter().product()]))
                        .map_err(|e| TaskError::msg(e.to_string()))?;
                    for (row, p) in (first..range.end).enumerate() {
                        let point = &points[p];
                        let key: Vec<usize> = point.iter().map(|&(b, _)| b).collect();
                        let n = where_[key.as_slice()];
                        let block = <T as crate::ArrayElement>::view(blocks[n])
                            .ok_or_else(|| TaskError::msg("internal error: a block of another dtype"))?;
                        let mut lane = block;
                        for &(_, l) in point {
                            lane = lane.index_axis_move(Axis(0), l);
                        }
                        flat.index_axis_mut(Axis(0), row)
                            .iter_mut()
                            .zip(lane.iter())
                            .for_each(|(o, v)| *o = *v);
                    }
                    Ok(DynArray::from(out))
                })
            })
        };
        let mut full = shape.clone();
        full.extend(&rest);
        let chunks = Chunks::new(&full, out_chunks)?;
        Ok(Array::from_node(
            op,
            full,
            dtype,
            chunks,
            Expr::Custom {
                inputs: vec![self.clone()],
                deps,
                f,
                op: Some(describe),
            },
        ))
    }
}

/// `vindex`'s block function, one of floe-array's own (see [`crate::BlockOp`]): for each
/// point of the output block, the block (`which`) and the position inside it (`at`, one
/// per indexed axis) of its element, or lane of the axes not indexed.
pub(crate) const VINDEX: &str = "array.vindex";

pub(crate) fn open_vindex(params: &serde_json::Value) -> std::result::Result<GraphFn, TaskError> {
    let p = crate::spec::Params::new(VINDEX, params);
    let (lead, which, at) = (p.usize("lead")?, p.usizes("which")?, p.usize_lists("at")?);
    if which.len() != at.len() {
        return Err(p.bad("at"));
    }
    Ok(Arc::new(move |blocks: &[&DynArray], info: &BlockInfo| {
        let bad = |what: String| TaskError::msg(format!("{VINDEX}: {what}"));
        if lead > info.shape.len() {
            return Err(bad(format!(
                "{lead} point axes in a block of shape {:?}",
                info.shape
            )));
        }
        let npts: usize = info.shape[..lead].iter().product();
        let rest_shape = info.shape[lead..].to_vec();
        if npts != which.len() {
            return Err(bad(format!("{} points for a block of {npts}", which.len())));
        }
        let dtype = blocks
            .first()
            .map(|b| b.dtype())
            .ok_or_else(|| bad("no blocks".into()))?;
        with_dtype!(dtype, T => {
            let mut out = ArrayD::<T>::from_elem(IxDyn(&info.shape), <T as crate::Element>::zero());
            let mut flat = out
                .view_mut()
                .into_shape_with_order(IxDyn(&[npts, rest_shape.iter().product()]))
                .map_err(|e| bad(e.to_string()))?;
            for (row, (&n, point)) in which.iter().zip(&at).enumerate() {
                let block = blocks
                    .get(n)
                    .and_then(|b| <T as crate::ArrayElement>::view(b))
                    .ok_or_else(|| bad(format!("no block {n} of the dtype among {}", blocks.len())))?;
                let whole = block.shape().to_vec();
                let mut lane = block;
                for &l in point {
                    if lane.ndim() == 0 || l >= lane.shape()[0] {
                        return Err(bad(format!("position {point:?} outside a block of shape {whole:?}")));
                    }
                    lane = lane.index_axis_move(Axis(0), l);
                }
                if lane.shape() != rest_shape.as_slice() {
                    return Err(bad(format!("lanes of shape {:?} for {rest_shape:?}", lane.shape())));
                }
                flat.index_axis_mut(Axis(0), row)
                    .iter_mut()
                    .zip(lane.iter())
                    .for_each(|(o, v)| *o = *v);
            }
            Ok(DynArray::from(out))
        })
    }))
}
