//! Shape operations: transpose, swapaxes, concatenate, stack, squeeze, expand_dims,
//! broadcast_to, rechunk.

use crate::error::normalize_axis;
use crate::expr::Expr;
use crate::gather::{GatherPlan, Segment, identity_axis};
use crate::rechunk::rechunk_to;
use crate::{Array, ArrayError, Chunks, Result};

impl Array {
    /// Permutes the axes: `perm[i]` is the input axis that becomes axis `i`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if `perm` is not a permutation of the axes.
    pub fn permute(&self, perm: &[usize]) -> Result<Array> {
        let mut seen = vec![false; self.ndim()];
        if perm.len() != self.ndim()
            || perm
                .iter()
                .any(|&p| p >= self.ndim() || std::mem::replace(&mut seen[p], true))
        {
            return Err(ArrayError::invalid(
                "transpose",
                format!("{perm:?} is not a permutation of {} axes", self.ndim()),
            ));
        }
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(self.clone());
        }
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape()[p]).collect();
        let sizes: Vec<Vec<usize>> = perm
            .iter()
            .map(|&p| self.chunks().axis(p).to_vec())
            .collect();
        let chunks = Chunks::new(&shape, sizes)?;
        Ok(Array::from_node(
            "transpose",
            shape,
            self.dtype(),
            chunks,
            Expr::Transpose {
                input: self.clone(),
                perm: perm.to_vec(),
            },
        ))
    }

    /// Reverses the axes (`x.T`).
    pub fn t(&self) -> Array {
        let perm: Vec<usize> = (0..self.ndim()).rev().collect();
        self.permute(&perm).expect("a reversal is a permutation")
    }

    /// Exchanges two axes.
    ///
    /// # Errors
    ///
    /// [`ArrayError::AxisOutOfRange`] for a bad axis.
    pub fn swapaxes(&self, a: isize, b: isize) -> Result<Array> {
        let a = normalize_axis("swapaxes", a, self.ndim())?;
        let b = normalize_axis("swapaxes", b, self.ndim())?;
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Inserts a length-1 axis at `axis` (in the result's axes).
    ///
    /// # Errors
    ///
    /// [`ArrayError::AxisOutOfRange`] unless `-ndim-1 <= axis <= ndim`.
    pub fn expand_dims(&self, axis: isize) -> Result<Array> {
        let axis = normalize_axis("expand_dims", axis, self.ndim() + 1)?;
        let mut shape = self.shape().to_vec();
        shape.insert(0, 1);
        let mut sizes = self.chunks().axes().to_vec();
        sizes.insert(0, vec![1]);
        let chunks = Chunks::new(&shape, sizes)?;
        // A blockwise input is aligned to the right, so the new axis goes first; a
        // permutation then moves it where it was asked for.
        // The block broadcast to one with a new first axis: a conversion to its own
        // dtype, which broadcasts (and is described as data).
        let kernel = crate::Kernel::AsType {
            dtype: self.dtype(),
        };
        let front = Array::from_node(
            "expand_dims",
            shape,
            self.dtype(),
            chunks,
            Expr::Blockwise {
                inputs: vec![self.clone()],
                f: kernel.block_fn(),
                elementwise: false,
                kernel: Some(kernel),
            },
        );
        let mut perm: Vec<usize> = (1..=self.ndim()).collect();
        perm.insert(axis, 0);
        front.permute(&perm)
    }

    /// Removes length-1 axes: `axes`, or every length-1 axis for `None`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if a named axis is not of length 1.
    pub fn squeeze(&self, axes: Option<&[isize]>) -> Result<Array> {
        let axes: Vec<usize> = match axes {
            None => (0..self.ndim()).filter(|&a| self.shape()[a] == 1).collect(),
            Some(v) => {
                let v = v
                    .iter()
                    .map(|&a| normalize_axis("squeeze", a, self.ndim()))
                    .collect::<Result<Vec<_>>>()?;
                if let Some(&a) = v.iter().find(|&&a| self.shape()[a] != 1) {
                    return Err(ArrayError::invalid(
                        "squeeze",
                        format!(
                            "cannot select an axis to squeeze out which has size not equal to one (axis {a}, size {})",
                            self.shape()[a]
                        ),
                    ));
                }
                v
            }
        };
        if axes.is_empty() {
            return Ok(self.clone());
        }
        let plan = GatherPlan {
            whole: Default::default(),
            inputs: vec![self.clone()],
            axes: (0..self.ndim())
                .map(|a| identity_axis(self.chunks().axis(a)))
                .collect(),
            concat_axis: None,
            squeeze: axes,
        };
        plan.into_array("squeeze")
    }

    /// Broadcasts to `shape` (NumPy's rules); broadcast axes are one block each.
    ///
    /// # Errors
    ///
    /// [`ArrayError::ShapeMismatch`] if the array does not broadcast to `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Array> {
        self.require_known("broadcast_to")?;
        let target = crate::elementwise::broadcast_shapes("broadcast_to", &[self.shape(), shape])?;
        if target != shape {
            return Err(ArrayError::ShapeMismatch {
                op: "broadcast_to",
                left: self.shape().to_vec(),
                right: shape.to_vec(),
                detail: String::new(),
            });
        }
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let lead = shape.len() - self.ndim();
        let sizes: Vec<Vec<usize>> = (0..shape.len())
            .map(|ax| {
                if ax < lead || self.shape()[ax - lead] != shape[ax] {
                    vec![shape[ax]]
                } else {
                    self.chunks().axis(ax - lead).to_vec()
                }
            })
            .collect();
        let chunks = Chunks::new(shape, sizes)?;
        // Each block broadcast to its output block: a conversion to its own dtype, which
        // broadcasts (and is described as data).
        let kernel = crate::Kernel::AsType {
            dtype: self.dtype(),
        };
        Ok(Array::from_node(
            "broadcast_to",
            shape.to_vec(),
            self.dtype(),
            chunks,
            Expr::Blockwise {
                inputs: vec![self.clone()],
                f: kernel.block_fn(),
                elementwise: false,
                kernel: Some(kernel),
            },
        ))
    }
}

/// Joins arrays along an existing axis (NumPy's `concatenate`); the result is promoted to
/// the arrays' common dtype and keeps each input's blocks.
///
/// # Errors
///
/// [`ArrayError::InvalidArgument`] for no arrays; [`ArrayError::ShapeMismatch`] if shapes
/// differ off `axis`; [`ArrayError::AxisOutOfRange`] for a bad axis.
///
/// # Examples
///
/// ```
/// use floe_array::DType;
///
/// let days: Vec<_> = (0..3).map(|_| floe_array::zeros(&[4, 721, 1440], [4_usize, 200, 200], DType::F32)).collect::<Result<_, _>>()?;
/// let x = floe_array::concatenate(&days, 0)?;
/// assert_eq!(x.shape(), &[12, 721, 1440]);
/// assert_eq!(x.numblocks(), vec![3, 4, 8]);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn concatenate(arrays: &[Array], axis: isize) -> Result<Array> {
    let first = arrays
        .first()
        .ok_or_else(|| ArrayError::invalid("concatenate", "need at least one array"))?;
    let axis = normalize_axis("concatenate", axis, first.ndim())?;
    let dtype = arrays
        .iter()
        .skip(1)
        .fold(first.dtype(), |d, a| d.promote(a.dtype()));
    for a in arrays {
        let differs = a.ndim() != first.ndim()
            || (0..first.ndim()).any(|ax| ax != axis && a.shape()[ax] != first.shape()[ax]);
        if differs {
            return Err(ArrayError::ShapeMismatch {
                op: "concatenate",
                left: first.shape().to_vec(),
                right: a.shape().to_vec(),
                detail: format!(" off axis {axis}"),
            });
        }
    }
    // Align the other axes to the first array's blocks, and the dtypes.
    let inputs: Vec<Array> = arrays
        .iter()
        .map(|a| {
            let mut want = first.chunks().axes().to_vec();
            want[axis] = a.chunks().axis(axis).to_vec();
            let a = if a.chunks().axes() == want.as_slice() {
                a.clone()
            } else {
                rechunk_to(a, want)?
            };
            Ok(a.astype(dtype))
        })
        .collect::<Result<_>>()?;
    let mut along = Vec::new();
    for (source, a) in inputs.iter().enumerate() {
        for (b, &n) in a.chunks().axis(axis).iter().enumerate() {
            if n == 0 && a.shape()[axis] == 0 {
                continue;
            }
            along.push(vec![Segment::whole(source, b, n)]);
        }
    }
    if along.is_empty() {
        along.push(vec![Segment::whole(0, 0, 0)]);
    }
    let axes = (0..first.ndim())
        .map(|ax| {
            if ax == axis {
                along.clone()
            } else {
                identity_axis(first.chunks().axis(ax))
            }
        })
        .collect();
    GatherPlan {
        whole: Default::default(),
        inputs,
        axes,
        concat_axis: Some(axis),
        squeeze: vec![],
    }
    .into_array("concatenate")
}

/// Joins arrays of one shape along a new axis (NumPy's `stack`).
///
/// # Errors
///
/// As [`concatenate`]; all shapes must be equal.
pub fn stack(arrays: &[Array], axis: isize) -> Result<Array> {
    let first = arrays
        .first()
        .ok_or_else(|| ArrayError::invalid("stack", "need at least one array"))?;
    if let Some(bad) = arrays.iter().find(|a| a.shape() != first.shape()) {
        return Err(ArrayError::ShapeMismatch {
            op: "stack",
            left: first.shape().to_vec(),
            right: bad.shape().to_vec(),
            detail: String::new(),
        });
    }
    let expanded = arrays
        .iter()
        .map(|a| a.expand_dims(axis))
        .collect::<Result<Vec<_>>>()?;
    let axis = normalize_axis("stack", axis, first.ndim() + 1)?;
    concatenate(&expanded, axis as isize)
}
