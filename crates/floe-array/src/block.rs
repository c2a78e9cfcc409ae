//! Blocks as kernels see them, and index arithmetic over block grids: the leaf the
//! kernels and the plans share (it knows nothing of arrays, expressions or tasks).

use ndarray::IxDyn;

use crate::{DType, DynArray};

/// Where a block sits: its index in the block grid, its shape, and its first element's
/// position in the whole array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// The block's index along each axis.
    pub index: Vec<usize>,
    /// The block's shape.
    pub shape: Vec<usize>,
    /// The global position of the block's first element. Along an axis of unknown size (a
    /// selection's, see [`Array::unknown_axes`](crate::Array::unknown_axes)) it counts the
    /// upper bounds the blocks before it declare, not their elements (unknown until they
    /// are computed); `shape` is always the block's real one.
    pub offset: Vec<usize>,
    /// The shape of the whole array (upper bounds along axes of unknown size).
    pub array_shape: Vec<usize>,
}

/// The bytes of an array of `shape` and `itemsize`, counted as ndarray counts (a
/// zero-length axis aside, the other axes must be countable): `None` where that count
/// overflows or passes `isize::MAX` (no such array can be made).
pub(crate) fn shape_bytes(shape: &[usize], itemsize: usize) -> Option<usize> {
    shape
        .iter()
        .filter(|&&n| n > 0)
        .try_fold(itemsize, |acc, &n| acc.checked_mul(n))
        .filter(|&n| n <= isize::MAX as usize)
}

impl BlockInfo {
    /// Rows `lo..hi` of this box along `axis`: a band of it.
    pub(crate) fn band(&self, axis: usize, lo: usize, hi: usize) -> BlockInfo {
        let mut band = self.clone();
        band.shape[axis] = hi - lo;
        band.offset[axis] += lo;
        band
    }
}

/// An input block as a blockwise kernel sees it: a computed block, possibly with its axes
/// permuted. A transpose feeding an elementwise operation is not materialised: the kernel
/// reads the untransposed block through a permuted view (`x + x.T` costs no copy of `x`).
#[derive(Clone, Copy)]
pub struct BlockRef<'a> {
    block: &'a DynArray,
    perm: Option<&'a [usize]>,
    /// `(stored axis, lo, hi)`: only rows `lo..hi` of the block along that axis are seen (a
    /// piece of a large block: see `crate::parallel`).
    rows: Option<(usize, usize, usize)>,
}

impl<'a> BlockRef<'a> {
    /// A block seen as it is.
    pub fn new(block: &'a DynArray) -> Self {
        Self {
            block,
            perm: None,
            rows: None,
        }
    }

    pub(crate) fn permuted(block: &'a DynArray, perm: Option<&'a [usize]>) -> Self {
        Self {
            block,
            perm,
            rows: None,
        }
    }

    /// Rows `lo..hi` of this block along its first axis as seen (through the permutation).
    pub(crate) fn rows(&self, lo: usize, hi: usize) -> Self {
        debug_assert!(self.rows.is_none(), "rows of rows");
        let stored = self.perm.map_or(0, |p| p[0]);
        Self {
            rows: Some((stored, lo, hi)),
            ..*self
        }
    }

    /// `v` (the stored block) cut to the rows seen.
    fn window<'b, T>(&self, mut v: ndarray::ArrayViewD<'b, T>) -> ndarray::ArrayViewD<'b, T> {
        if let Some((axis, lo, hi)) = self.rows {
            v.slice_axis_inplace(ndarray::Axis(axis), ndarray::Slice::from(lo..hi));
        }
        v
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.block.dtype()
    }

    /// Whether the block is seen as it is stored, in row-major order (no permutation, no
    /// other layout).
    pub(crate) fn is_standard(&self) -> bool {
        self.perm.is_none()
            && crate::with_array!(self.block, a => self.window(a.view()).is_standard_layout())
    }

    /// The shape, permutation applied.
    pub fn shape(&self) -> Vec<usize> {
        let mut s = self.block.shape().to_vec();
        if let Some((axis, lo, hi)) = self.rows {
            s[axis] = hi - lo;
        }
        match self.perm {
            Some(p) => p.iter().map(|&a| s[a]).collect(),
            None => s,
        }
    }

    /// A view of the elements as `T`, if that is the block's dtype.
    pub fn view<T: crate::ArrayElement>(&self) -> Option<ndarray::ArrayViewD<'a, T>> {
        let v = self.window(T::view(self.block)?);
        Some(match self.perm {
            Some(p) => v.permuted_axes(ndarray::IxDyn(p)),
            None => v,
        })
    }

    /// The elements as `T`: borrowed when that is the block's dtype, converted (one copy)
    /// otherwise.
    pub fn typed<T: crate::ArrayElement>(&self) -> ndarray::CowArray<'a, T, ndarray::IxDyn> {
        match self.view::<T>() {
            Some(v) => ndarray::CowArray::from(v),
            None => ndarray::CowArray::from(self.to_typed::<T>()),
        }
    }

    /// The elements converted to `T` (a new array).
    pub fn to_typed<T: crate::ArrayElement>(&self) -> ndarray::ArrayD<T> {
        let a = match self.rows {
            None => self.block.to_typed::<T>(),
            Some(_) => {
                crate::with_array!(self.block, b => DynArray::from(self.window(b.view()).to_owned()))
                    .to_typed::<T>()
            }
        };
        match self.perm {
            Some(p) => a.permuted_axes(ndarray::IxDyn(p)),
            None => a,
        }
    }

    /// The block as an owned array in standard layout (a copy).
    pub fn to_owned(&self) -> DynArray {
        match (self.perm, self.rows) {
            (None, None) => self.block.clone(),
            (None, Some(_)) => {
                crate::with_array!(self.block, a => DynArray::from(self.window(a.view()).to_owned()))
            }
            (Some(p), _) => crate::with_array!(self.block, a => {
                DynArray::from(transpose(self.window(a.view()), p))
            }),
        }
    }
}

/// The input block index of output block `index` of a transpose by `perm` (output axis
/// `i` is input axis `perm[i]`).
pub(crate) fn transposed_index(perm: &[usize], index: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        idx[p] = index[i];
    }
    idx
}

/// The block with its axes permuted, in standard layout. Two-dimensional blocks are copied
/// in cache-sized tiles (a plain strided copy misses the cache on every element).
pub(crate) fn transpose<T: Copy>(
    a: ndarray::ArrayViewD<'_, T>,
    perm: &[usize],
) -> ndarray::ArrayD<T> {
    const TILE: usize = 32;
    if let ([1, 0], Some(src)) = (perm, a.as_slice()) {
        let (rows, cols) = (a.shape()[0], a.shape()[1]);
        // Every element is overwritten below; the first one only fills the allocation.
        let mut out = match src.first() {
            Some(&fill) => vec![fill; rows * cols],
            None => Vec::new(),
        };
        for i0 in (0..rows).step_by(TILE) {
            let i1 = (i0 + TILE).min(rows);
            for j0 in (0..cols).step_by(TILE) {
                let j1 = (j0 + TILE).min(cols);
                for (j, column) in out[j0 * rows..j1 * rows].chunks_exact_mut(rows).enumerate() {
                    let j = j0 + j;
                    for (o, i) in column[i0..i1].iter_mut().zip(i0..i1) {
                        *o = src[i * cols + j];
                    }
                }
            }
        }
        return ndarray::ArrayD::from_shape_vec(IxDyn(&[cols, rows]), out)
            .expect("cols × rows elements");
    }
    a.permuted_axes(IxDyn(perm))
        .as_standard_layout()
        .into_owned()
}

/// The index over an input's `ndim` axes of output block `index`, for an operation that
/// collapses the `collapsed` input axes to one block each: those get block 0, and they take
/// a slot of `index` only if the output keeps them (`keepdims`).
pub(crate) fn expand_index(
    index: &[usize],
    ndim: usize,
    collapsed: &[usize],
    keepdims: bool,
) -> Vec<usize> {
    let mut it = index.iter();
    (0..ndim)
        .map(|a| {
            if collapsed.contains(&a) {
                if keepdims {
                    it.next();
                }
                0
            } else {
                *it.next().expect("one index per output axis")
            }
        })
        .collect()
}
