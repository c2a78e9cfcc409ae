//! Blocks that see their neighbours: `overlap` extends every block by `depth` elements of
//! the blocks around it (or of the boundary, at the array's edges), `trim_overlap` cuts
//! them off again, and `map_overlap` runs a function on extended blocks in between — the
//! way stencils, convolutions and filters run block by block.
//!
//! An extended block is a gather: along each axis, a list of positions of the input (the
//! block's own, `depth` before and after it, mapped through the boundary at the edges).
//! Its task reads only the blocks those positions touch; a constant boundary is first
//! concatenated to the array.

use crate::gather::{GatherPlan, take_axis_grouped};
use crate::{Array, ArrayError, AxisChunks, BlockFn, ChunkSpec, DType, Result};

/// What lies beyond an array's edge when its blocks are extended past it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Boundary {
    /// Nothing: blocks at an edge are not extended outward (Dask's `"none"`).
    None,
    /// The array mirrored at its edge, the edge element included (Dask's `"reflect"`,
    /// NumPy `pad`'s `"symmetric"`).
    Reflect,
    /// The array continued from its other end (`"periodic"`).
    Periodic,
    /// The edge element repeated (`"nearest"`).
    Nearest,
    /// A constant value.
    Constant(f64),
}

impl Boundary {
    /// Dask's name (`"none"`, `"reflect"`, `"periodic"`, `"nearest"`); constants have none.
    pub fn from_name(name: &str) -> Option<Boundary> {
        match name {
            "none" => Some(Boundary::None),
            "reflect" => Some(Boundary::Reflect),
            "periodic" => Some(Boundary::Periodic),
            "nearest" => Some(Boundary::Nearest),
            _ => None,
        }
    }

    /// The input position that position `p` (possibly outside `0..n`) stands for; `None`
    /// beyond a `None` boundary.
    fn map(self, p: isize, n: usize) -> Option<usize> {
        let n = n as isize;
        let q = if (0..n).contains(&p) {
            p
        } else {
            match self {
                Boundary::None => return None,
                Boundary::Reflect if p < 0 => -p - 1,
                Boundary::Reflect => 2 * n - p - 1,
                Boundary::Periodic => p.rem_euclid(n),
                Boundary::Nearest => p.clamp(0, n - 1),
                Boundary::Constant(_) => unreachable!("constant boundaries are concatenated first"),
            }
        };
        Some(q as usize)
    }
}

/// `chunks` with every block shorter than `depth` joined to the block before it (the first
/// to the one after it), unless the axis is one block.
fn merge_short(chunks: &[usize], depth: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(chunks.len());
    for &c in chunks {
        match out.last_mut() {
            Some(last) if *last < depth || c < depth => *last += c,
            _ => out.push(c),
        }
    }
    out
}

/// One entry for every axis from `given` (one value: all axes).
fn per_axis<T: Clone>(op: &'static str, what: &str, given: &[T], ndim: usize) -> Result<Vec<T>> {
    match given.len() {
        1 => Ok(vec![given[0].clone(); ndim]),
        n if n == ndim => Ok(given.to_vec()),
        n => Err(ArrayError::invalid(
            op,
            format!("{n} {what} for an array of {ndim} dimensions"),
        )),
    }
}

impl Array {
    /// Every block extended by `depth[a]` elements along each axis `a` from its neighbours,
    /// and beyond the array's edges by `boundary[a]` (one value in either: all axes). Blocks
    /// shorter than their axis' depth are first joined to a neighbour. The result's blocks
    /// are the extended blocks; [`Array::trim_overlap`] undoes it.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] for depths or boundaries of the wrong length, or a
    /// depth beyond a non-`None` boundary that exceeds the axis' length.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{Boundary, DType};
    ///
    /// let x = floe_array::arange(0.0, 10.0, 1.0, 5, DType::F64)?;
    /// let y = x.overlap(&[1], &[Boundary::Reflect])?;
    /// assert_eq!(y.chunks().axis(0), &[7, 7]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn overlap(&self, depth: &[usize], boundary: &[Boundary]) -> Result<Array> {
        let op = "overlap";
        let nd = self.ndim();
        let depth = per_axis(op, "depths", depth, nd)?;
        let boundary = per_axis(op, "boundaries", boundary, nd)?;
        let mut x = self.clone();
        // Blocks at least as long as the depth (a shorter one joins its neighbour), so
        // that every margin comes from the next block only and has the full depth.
        let merged: Vec<Vec<usize>> = (0..nd)
            .map(|a| merge_short(x.chunks().axis(a), depth[a]))
            .collect();
        if merged.iter().zip(x.chunks().axes()).any(|(m, c)| m != c) {
            let rules = merged.into_iter().map(AxisChunks::Sizes).collect();
            x = x.rechunk(ChunkSpec::Axes(rules))?;
        }
        let own = x.chunks().clone();
        // Constant margins are part of the array to gather from.
        let mut src = x.clone();
        for a in 0..nd {
            if let Boundary::Constant(v) = boundary[a]
                && depth[a] > 0
                && x.shape()[a] > 0
            {
                let mut shape = src.shape().to_vec();
                shape[a] = depth[a];
                let mut chunks: Vec<AxisChunks> = src.chunks().rules();
                chunks[a] = AxisChunks::Whole;
                let pad = crate::full(&shape, ChunkSpec::Axes(chunks), v, src.dtype())?;
                src = crate::concatenate(&[pad.clone(), src, pad], a as isize)?;
            }
        }
        let mut axes = Vec::with_capacity(nd);
        for a in 0..nd {
            let n = x.shape()[a];
            let d = depth[a] as isize;
            let b = boundary[a];
            if d > 0
                && n > 0
                && !matches!(b, Boundary::None | Boundary::Constant(_))
                && depth[a] > n
            {
                return Err(ArrayError::invalid(
                    op,
                    format!("depth {d} along axis {a} exceeds its length {n}"),
                ));
            }
            let offsets = own.offsets(a);
            let groups: Vec<Vec<usize>> = own
                .axis(a)
                .iter()
                .zip(&offsets)
                .map(|(&c, &off)| {
                    let (lo, hi) = (off as isize - d, (off + c) as isize + d);
                    (lo..hi)
                        .filter_map(|p| match b {
                            _ if n == 0 => None,
                            Boundary::Constant(_) => Some((p + d) as usize),
                            _ => b.map(p, n),
                        })
                        .collect()
                })
                .collect();
            let refs: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
            axes.push(take_axis_grouped(src.chunks().axis(a), &refs));
        }
        GatherPlan {
            whole: Default::default(),
            inputs: vec![src],
            axes,
            concat_axis: None,
            squeeze: vec![],
        }
        .into_array(op)
    }

    /// Cuts from every block the margins [`Array::overlap`] with the same `depth` and
    /// `boundary` added (at a `None` boundary, none were added at the array's edges).
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] for depths or boundaries of the wrong length, or
    /// blocks too short to hold their margins.
    pub fn trim_overlap(&self, depth: &[usize], boundary: &[Boundary]) -> Result<Array> {
        let op = "trim_overlap";
        let nd = self.ndim();
        let depth = per_axis(op, "depths", depth, nd)?;
        let boundary = per_axis(op, "boundaries", boundary, nd)?;
        let mut axes = Vec::with_capacity(nd);
        for a in 0..nd {
            let chunks = self.chunks().axis(a);
            let last = chunks.len() - 1;
            let offsets = self.chunks().offsets(a);
            let d = depth[a];
            let groups = chunks
                .iter()
                .zip(&offsets)
                .enumerate()
                .map(|(i, (&c, &off))| {
                    // An empty axis was not extended; at a None boundary, nor were the edges.
                    let d = if self.shape()[a] == 0 { 0 } else { d };
                    let edge = boundary[a] == Boundary::None;
                    let left = if edge && i == 0 { 0 } else { d };
                    let right = if edge && i == last { 0 } else { d };
                    if c < left + right {
                        return Err(ArrayError::invalid(
                            op,
                            format!("block {i} along axis {a} has {c} elements, fewer than its margins {left} + {right}"),
                        ));
                    }
                    Ok((off + left..off + c - right).collect::<Vec<usize>>())
                })
                .collect::<Result<Vec<_>>>()?;
            let refs: Vec<&[usize]> = groups.iter().map(Vec::as_slice).collect();
            axes.push(take_axis_grouped(chunks, &refs));
        }
        GatherPlan::single(self, axes, op)
    }

    /// `f` on every block extended by `depth` (see [`Array::overlap`]), the margins cut
    /// from its results: a stencil or filter computed block by block with the same result
    /// as on the whole array, where `depth` covers the stencil's reach. `f` must return a
    /// block of its input's shape, of `dtype`.
    ///
    /// # Errors
    ///
    /// As [`Array::overlap`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use floe_array::{Boundary, DType, DynArray};
    ///
    /// // A 3-point moving average, edges mirrored.
    /// let x = floe_array::arange(0.0, 12.0, 1.0, 4, DType::F64)?;
    /// let smooth = x.map_overlap(&[1], &[Boundary::Reflect], DType::F64, Arc::new(|b, _| {
    ///     let v = b[0].to_typed::<f64>();
    ///     let n = v.len();
    ///     Ok(DynArray::from(ndarray::ArrayD::from_shape_fn(v.raw_dim(), |i| {
    ///         let k = i[0];
    ///         if k == 0 || k + 1 == n { v[[k]] } else { (v[[k - 1]] + v[[k]] + v[[k + 1]]) / 3.0 }
    ///     })))
    /// }))?;
    /// assert_eq!(smooth.chunks(), x.chunks());
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn map_overlap(
        &self,
        depth: &[usize],
        boundary: &[Boundary],
        dtype: DType,
        f: BlockFn,
    ) -> Result<Array> {
        let extended = self.overlap(depth, boundary)?;
        crate::blockwise("map_overlap", &[&extended], dtype, f)?.trim_overlap(depth, boundary)
    }
}
