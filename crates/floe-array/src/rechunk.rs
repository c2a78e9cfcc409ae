//! Rechunking, and reshaping through it.
//!
//! # Planning
//!
//! A direct rechunk assembles each output block from the input blocks it overlaps. When
//! the two chunkings cut the array in different directions — `(1, n)` rows into `(n, 1)`
//! columns — every output block overlaps every input block: the graph has n² edges and a
//! task would need the whole array in memory at once (Dask's issue #417). The planner
//! measures each step's *footprint* (an upper bound of the bytes of input blocks one output
//! block touches) and, while it exceeds the limit, splits the step through an intermediate
//! chunking whose block sides are the geometric means of the two ends: `(1, n) → (√n, √n)
//! → (n, 1)`, each step touching O(n^1.5) elements per task instead of n².

use crate::expr::Expr;
use crate::gather::{GatherPlan, identity_axis, rechunk_axis};
use crate::{Array, ArrayError, ChunkSpec, Chunks, Result};

/// Rechunks `a` to exactly `sizes` (assumed valid) in one step.
pub(crate) fn rechunk_to(a: &Array, sizes: Vec<Vec<usize>>) -> Result<Array> {
    let axes = (0..a.ndim())
        .map(|ax| {
            if a.chunks().axis(ax) == sizes[ax].as_slice() {
                identity_axis(&sizes[ax])
            } else {
                rechunk_axis(a.chunks().axis(ax), &sizes[ax])
            }
        })
        .collect();
    GatherPlan {
        whole: Default::default(),
        inputs: vec![a.clone()],
        axes,
        concat_axis: None,
        squeeze: vec![],
    }
    .into_array("rechunk")
}

/// An upper bound of the bytes of input blocks any output block of a direct rechunk from
/// `from` to `to` touches.
pub fn rechunk_footprint(from: &[Vec<usize>], to: &[Vec<usize>], itemsize: usize) -> usize {
    from.iter()
        .zip(to)
        .map(|(f, t)| {
            rechunk_axis(f, t)
                .iter()
                .map(|segs| segs.iter().map(|s| f[s.block]).sum::<usize>())
                .max()
                .unwrap_or(0)
        })
        .fold(itemsize, usize::saturating_mul)
}

/// The chunkings a rechunk from `from` to `to` goes through (ending with `to`), each step's
/// footprint within `limit` bytes where the geometric-mean split can achieve it.
pub fn plan_rechunk(
    from: &[Vec<usize>],
    to: &[Vec<usize>],
    itemsize: usize,
    limit: usize,
) -> Vec<Vec<Vec<usize>>> {
    fn go(
        from: &[Vec<usize>],
        to: &[Vec<usize>],
        itemsize: usize,
        limit: usize,
        depth: u32,
        out: &mut Vec<Vec<Vec<usize>>>,
    ) {
        if depth >= 4 || rechunk_footprint(from, to, itemsize) <= limit {
            out.push(to.to_vec());
            return;
        }
        let mid: Vec<Vec<usize>> = from
            .iter()
            .zip(to)
            .map(|(f, t)| {
                let n: usize = f.iter().sum();
                let fb = f.iter().copied().max().unwrap_or(1).max(1) as f64;
                let tb = t.iter().copied().max().unwrap_or(1).max(1) as f64;
                let side = ((fb * tb).sqrt().round() as usize).clamp(1, n.max(1));
                crate::chunks::split_axis(n, side)
            })
            .collect();
        if mid.as_slice() == from || mid.as_slice() == to {
            out.push(to.to_vec());
            return;
        }
        go(from, &mid, itemsize, limit, depth + 1, out);
        go(&mid, to, itemsize, limit, depth + 1, out);
    }
    let mut out = Vec::new();
    go(from, to, itemsize, limit, 0, &mut out);
    out
}

impl Array {
    /// The same values in blocks of `chunks`, through intermediate chunkings when a direct
    /// rechunk would make a task touch more than the default limit ([`auto_chunk_bytes`](crate::auto_chunk_bytes), or
    /// four blocks if those are larger).
    ///
    /// # Errors
    ///
    /// [`ArrayError::BadChunks`] if `chunks` does not fit the shape.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = floe_array::ones(&[4000, 4000], [1_usize, 4000], floe_array::DType::F64)?;
    /// let y = x.rechunk([4000_usize, 1])?; // rows to columns, through (63, 63) blocks
    /// assert_eq!(y.numblocks(), vec![1, 4000]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Result<Array> {
        let c = Chunks::from_spec(self.shape(), chunks, self.dtype())?;
        let block = |c: &Chunks| c.max_block().iter().product::<usize>() * self.dtype().itemsize();
        let limit = crate::auto_chunk_bytes().max(4 * block(&c).max(block(self.chunks())));
        self.rechunk_with_limit(&c, limit)
    }

    /// Rechunks with an explicit footprint limit in bytes; see [`Array::rechunk`].
    ///
    /// # Errors
    ///
    /// [`ArrayError::BadChunks`] if `chunks` does not fit the shape.
    pub fn rechunk_with_limit(&self, chunks: impl Into<ChunkSpec>, limit: usize) -> Result<Array> {
        let c = Chunks::from_spec(self.shape(), chunks, self.dtype())?;
        if &c == self.chunks() {
            return Ok(self.clone());
        }
        let steps = plan_rechunk(
            self.chunks().axes(),
            c.axes(),
            self.dtype().itemsize(),
            limit,
        );
        steps
            .into_iter()
            .try_fold(self.clone(), |a, sizes| rechunk_to(&a, sizes))
    }

    /// The same elements in `shape` (C order; one entry may be -1). Blocks are reshaped in
    /// place after rechunking the axes that change so that each block reshapes on its own:
    /// merging trailing axes keeps the blocks of the first merged axis, splitting an axis
    /// rounds its blocks to multiples of the new inner axes, anything else makes the changed
    /// axes whole.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if the sizes differ or more than one entry is -1.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = floe_array::zeros(&[1464, 721, 1440], [4_usize, 200, 200], floe_array::DType::F32)?;
    /// let flat = x.reshape(&[1464, -1])?;
    /// assert_eq!(flat.shape(), &[1464, 721 * 1440]);
    /// // Blocks of 4 × (200 rows × 1440): the latitude blocks are kept, longitude made whole.
    /// assert_eq!(flat.numblocks(), vec![366, 4]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn reshape(&self, shape: &[isize]) -> Result<Array> {
        let op = "reshape";
        if self.ndim() == 1 && (shape == [-1] || shape == [self.shape()[0] as isize]) {
            // Flattening what is flat already: nothing to cut, sizes known or not.
            return Ok(self.clone());
        }
        self.require_known(op)?;
        let size = self.size();
        let unknown: Vec<usize> = (0..shape.len()).filter(|&i| shape[i] < 0).collect();
        if unknown.len() > 1 || shape.iter().any(|&s| s < -1) {
            return Err(ArrayError::invalid(
                op,
                format!("can only specify one unknown dimension in {shape:?}"),
            ));
        }
        let known: usize = shape
            .iter()
            .filter(|&&s| s >= 0)
            .map(|&s| s as usize)
            .product();
        let mut out: Vec<usize> = shape.iter().map(|&s| s.max(0) as usize).collect();
        if let Some(&u) = unknown.first() {
            if known == 0 || !size.is_multiple_of(known) {
                return Err(ArrayError::invalid(
                    op,
                    format!("cannot reshape array of size {size} into shape {shape:?}"),
                ));
            }
            out[u] = size / known;
        }
        if out.iter().product::<usize>() != size {
            return Err(ArrayError::invalid(
                op,
                format!("cannot reshape array of size {size} into shape {shape:?}"),
            ));
        }
        if out == self.shape() {
            return Ok(self.clone());
        }
        if size == 0 {
            // No elements: nothing to move, whatever the shapes.
            let whole: Vec<usize> = out.iter().map(|&n| n.max(1)).collect();
            return crate::zeros(&out, whole, self.dtype());
        }
        let inp = self.shape();
        let k = inp.iter().zip(&out).take_while(|(a, b)| a == b).count();
        let (rest_in, rest_out) = (&inp[k..], &out[k..]);
        let mut in_sizes: Vec<Vec<usize>> = self.chunks().axes().to_vec();
        let mut out_sizes: Vec<Vec<usize>> = in_sizes[..k].to_vec();
        let whole = |n: usize| vec![n];
        let keep;
        if rest_out.len() == 1 && !rest_in.is_empty() {
            // Merge trailing axes: blocks of axis k times the merged inner size.
            let inner: usize = rest_in[1..].iter().product();
            for a in k + 1..inp.len() {
                in_sizes[a] = whole(inp[a]);
            }
            out_sizes.push(if inner == 0 {
                whole(0)
            } else {
                in_sizes[k].iter().map(|c| c * inner).collect()
            });
            keep = k + 1;
        } else if rest_in.len() == 1 && !rest_out.is_empty() {
            // Split axis k: its blocks rounded to multiples of the new inner size.
            let inner: usize = rest_out[1..].iter().product();
            let n = inp[k];
            if inner == 0 || n == 0 {
                in_sizes[k] = whole(n);
                out_sizes.extend(rest_out.iter().map(|&m| whole(m)));
            } else {
                let typical = in_sizes[k].iter().copied().max().unwrap_or(1);
                let rows = (typical / inner).max(1);
                in_sizes[k] = crate::chunks::split_axis(n, rows * inner);
                out_sizes.push(in_sizes[k].iter().map(|c| c / inner).collect());
                out_sizes.extend(rest_out[1..].iter().map(|&m| whole(m)));
            }
            keep = k + 1;
        } else {
            for a in k..inp.len() {
                in_sizes[a] = whole(inp[a]);
            }
            out_sizes.extend(rest_out.iter().map(|&m| whole(m)));
            keep = k;
        }
        let source = if in_sizes.as_slice() == self.chunks().axes() {
            self.clone()
        } else {
            self.rechunk(in_sizes)?
        };
        let chunks = Chunks::new(&out, out_sizes)?;
        Ok(Array::from_node(
            op,
            out,
            self.dtype(),
            chunks,
            Expr::Reshape {
                input: source,
                keep,
            },
        ))
    }
}
