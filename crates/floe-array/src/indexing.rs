//! NumPy's indexing, `x[...]`, in one place: basic indices (ints, slices, `None`, `...`)
//! with at most one advanced index — integer positions, a boolean mask known now, or a lazy
//! boolean array — as the Python binding and any other front end translate them.

use crate::{Array, ArrayError, Idx, Result};

/// One entry of a NumPy index.
#[derive(Clone)]
pub enum Index {
    /// An int, a slice, `None` or `...`.
    Basic(Idx),
    /// Positions along this axis (NumPy's 1-d integer array index; negative ones count
    /// from the end).
    Take(Vec<isize>),
    /// A boolean mask known when the graph is built, along this axis (1-d).
    Mask(Vec<bool>),
    /// A lazy boolean array: alone and of the array's dimensions it selects elements in
    /// row-major order ([`Array::filter`]); 1-d it selects along this axis
    /// ([`Array::compress`]). Either way the sizes are unknown until computed.
    Lazy(Array),
}

impl From<Idx> for Index {
    fn from(i: Idx) -> Self {
        Index::Basic(i)
    }
}

fn bad(message: impl Into<String>) -> ArrayError {
    ArrayError::InvalidIndex {
        message: message.into(),
    }
}

/// A mask of the wrong shape is an index error, as NumPy's.
fn as_index_error(e: ArrayError) -> ArrayError {
    match e {
        ArrayError::ShapeMismatch { .. } | ArrayError::DTypeMismatch { .. } => bad(e.to_string()),
        e => e,
    }
}

impl Array {
    /// NumPy's `x[index]`: the basic entries slice (see [`Array::slice`]), and one
    /// advanced entry — [`Index::Take`], [`Index::Mask`] or [`Index::Lazy`] — selects along
    /// its axis (which must come before any int, `None` or `...`), or, a lazy mask of the
    /// array's shape alone, selects elements.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidIndex`] for two advanced entries, one after an int, `None` or
    /// `...`, a mask of the wrong shape or a lazy index that is not boolean;
    /// [`ArrayError::IndexOutOfBounds`] and the errors of [`Array::slice`].
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{DType, Idx, Index};
    ///
    /// let x = floe_array::ones(&[4, 5], 2, DType::F64)?;
    /// let y = x.getitem(&[Index::Take(vec![3, 0, -1]), Index::Basic(Idx::Int(2))])?;
    /// assert_eq!(y.shape(), &[3]);
    /// let big = x.getitem(&[Index::Lazy(x.gt_scalar(0.5)?)])?;
    /// assert_eq!(big.unknown_axes(), vec![0]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn getitem(&self, index: &[Index]) -> Result<Array> {
        if let [Index::Lazy(mask)] = index {
            // Alone: of the whole array (a 0-d one included), or of its first axis.
            return self.lazy_index(mask, 0, true);
        }
        let mut basic = Vec::with_capacity(index.len());
        let mut advanced: Option<(usize, &Index)> = None;
        for (pos, item) in index.iter().enumerate() {
            match item {
                Index::Basic(i) => basic.push(*i),
                other => {
                    if advanced.is_some() {
                        return Err(bad(
                            "floe supports one list, array or mask index per selection",
                        ));
                    }
                    advanced = Some((pos, other));
                    basic.push(Idx::Slice {
                        start: None,
                        stop: None,
                        step: 1,
                    });
                }
            }
        }
        if let Some((pos, _)) = advanced
            && basic[..pos]
                .iter()
                .any(|i| matches!(i, Idx::Ellipsis | Idx::NewAxis | Idx::Int(_)))
        {
            return Err(bad(
                "a list, array or mask index must come before any int, None or ... index",
            ));
        }
        let out = self.slice(&basic)?;
        let Some((pos, item)) = advanced else {
            return Ok(out);
        };
        match item {
            Index::Take(positions) => out.take(positions, pos as isize),
            Index::Mask(mask) => out.mask(mask, pos as isize).map_err(as_index_error),
            Index::Lazy(mask) => out.lazy_index(mask, pos, index.len() == 1),
            Index::Basic(_) => unreachable!("basic entries are handled above"),
        }
    }

    /// `x[mask]` for a lazy mask: of the whole array when `whole` and of its dimensions,
    /// else 1-d along `axis`.
    fn lazy_index(&self, mask: &Array, axis: usize, whole: bool) -> Result<Array> {
        if mask.dtype() != crate::DType::Bool {
            return Err(bad(format!(
                "a lazy array used as an index must be boolean, not {}; compute integer indices first",
                mask.dtype()
            )));
        }
        if whole && mask.ndim() == self.ndim() && (mask.ndim() != 1 || axis == 0) {
            return self.filter(mask).map_err(as_index_error);
        }
        if mask.ndim() == 1 {
            return self.compress(mask, axis as isize).map_err(as_index_error);
        }
        Err(bad(format!(
            "a {}-d boolean mask indexes a {}-d array of its own shape, or one axis when 1-d",
            mask.ndim(),
            self.ndim()
        )))
    }
}
