//! The array layer's errors: bad shapes, axes, chunk specs and indices, named precisely.

use crate::DType;

/// A result whose error is an [`ArrayError`].
pub type Result<T, E = ArrayError> = std::result::Result<T, E>;

/// What was wrong with an array operation's input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArrayError {
    /// Shapes that cannot be broadcast together or do not match.
    #[error("{op}: shapes {left:?} and {right:?} do not match{detail}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// The first shape.
        left: Vec<usize>,
        /// The second shape.
        right: Vec<usize>,
        /// More detail (may be empty).
        detail: String,
    },
    /// An axis outside `-ndim..ndim`.
    #[error("{op}: axis {axis} is out of range for an array of {ndim} dimensions")]
    AxisOutOfRange {
        /// The operation.
        op: &'static str,
        /// The axis given.
        axis: isize,
        /// The array's number of dimensions.
        ndim: usize,
    },
    /// A chunk specification that does not fit the shape.
    #[error("chunks {spec} do not fit shape {shape:?}: {reason}")]
    BadChunks {
        /// The specification as given.
        spec: String,
        /// The array's shape.
        shape: Vec<usize>,
        /// What is wrong.
        reason: String,
    },
    /// An index outside an axis.
    #[error("index {index} is out of bounds for axis {axis} with size {len}")]
    IndexOutOfBounds {
        /// The index given.
        index: isize,
        /// The axis.
        axis: usize,
        /// The axis' length.
        len: usize,
    },
    /// An index NumPy would refuse with `IndexError` (other than a position out of bounds):
    /// two advanced indices, a mask of the wrong shape, a lazy index that is not boolean…
    #[error("{message}")]
    InvalidIndex {
        /// What is wrong.
        message: String,
    },
    /// An array of another dtype than the one asked for.
    #[error("expected an array of {expected}, found {found}")]
    DTypeMismatch {
        /// The dtype asked for.
        expected: DType,
        /// The array's dtype.
        found: DType,
    },
    /// An operation that is not defined for a dtype (NumPy raises `TypeError` too).
    #[error("{op} is not supported for {dtype}")]
    UnsupportedDType {
        /// The operation.
        op: &'static str,
        /// The dtype.
        dtype: DType,
    },
    /// An integer scalar the array's dtype cannot hold, in integer arithmetic (NumPy 2
    /// refuses it rather than wrapping).
    #[error("{op}: Python integer {value} out of bounds for {dtype}")]
    ScalarOutOfBounds {
        /// The operation.
        op: &'static str,
        /// The integer.
        value: i64,
        /// The array's dtype.
        dtype: DType,
    },
    /// An operation that needs exact block sizes, on an array whose sizes along some axes
    /// depend on its data (a boolean mask's selection) and are not measured yet.
    #[error(
        "{op} needs known chunk sizes, but axes {axes:?} of `{array}` have unknown sizes (the result of a boolean mask); measure them with compute_chunk_sizes() first"
    )]
    UnknownChunks {
        /// The operation.
        op: &'static str,
        /// The array with unknown sizes.
        array: String,
        /// Its axes of unknown sizes.
        axes: Vec<usize>,
    },
    /// Any other invalid argument.
    #[error("{op}: {message}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl ArrayError {
    /// An [`ArrayError::InvalidArgument`] of operation `op`.
    pub fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        ArrayError::InvalidArgument {
            op,
            message: message.into(),
        }
    }
}

/// Normalizes a possibly negative `axis` for an array of `ndim` dimensions.
pub(crate) fn normalize_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    if axis < -n || axis >= n {
        return Err(ArrayError::AxisOutOfRange { op, axis, ndim });
    }
    Ok(if axis < 0 {
        (axis + n) as usize
    } else {
        axis as usize
    })
}
