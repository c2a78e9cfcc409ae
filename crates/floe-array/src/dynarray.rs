//! [`DynArray`]: an in-memory n-d array whose dtype is known at run time. Blocks flow
//! between tasks as `DynArray`s, and `compute()` returns one.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};

use crate::element::{Element, cast};
use crate::{ArrayError, Complex64, Complex128, DType, Result};

/// An owned n-d array of any [`DType`]: one `ndarray::ArrayD` per element type.
///
/// # Examples
///
/// ```
/// use floe_array::{DType, DynArray};
/// use ndarray::{ArrayD, IxDyn};
///
/// let a = DynArray::from(ArrayD::from_elem(IxDyn(&[2, 3]), 1.5_f32));
/// assert_eq!(a.dtype(), DType::F32);
/// assert_eq!(a.shape(), &[2, 3]);
/// let b = a.astype(DType::I64);
/// assert_eq!(b.into_i64()?.sum(), 6);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DynArray {
    /// `bool` elements.
    Bool(ArrayD<bool>),
    /// `int8` elements.
    I8(ArrayD<i8>),
    /// `int16` elements.
    I16(ArrayD<i16>),
    /// `int32` elements.
    I32(ArrayD<i32>),
    /// `int64` elements.
    I64(ArrayD<i64>),
    /// `uint8` elements.
    U8(ArrayD<u8>),
    /// `uint16` elements.
    U16(ArrayD<u16>),
    /// `uint32` elements.
    U32(ArrayD<u32>),
    /// `uint64` elements.
    U64(ArrayD<u64>),
    /// `float32` elements.
    F32(ArrayD<f32>),
    /// `float64` elements.
    F64(ArrayD<f64>),
    /// `complex64` elements.
    C64(ArrayD<Complex64>),
    /// `complex128` elements.
    C128(ArrayD<Complex128>),
}

/// Runs `$body` with `$a` bound to the typed array inside `$x` (any variant).
#[macro_export]
#[doc(hidden)]
macro_rules! with_array {
    ($x:expr, $a:ident => $body:expr) => {
        match $x {
            $crate::DynArray::Bool($a) => $body,
            $crate::DynArray::I8($a) => $body,
            $crate::DynArray::I16($a) => $body,
            $crate::DynArray::I32($a) => $body,
            $crate::DynArray::I64($a) => $body,
            $crate::DynArray::U8($a) => $body,
            $crate::DynArray::U16($a) => $body,
            $crate::DynArray::U32($a) => $body,
            $crate::DynArray::U64($a) => $body,
            $crate::DynArray::F32($a) => $body,
            $crate::DynArray::F64($a) => $body,
            $crate::DynArray::C64($a) => $body,
            $crate::DynArray::C128($a) => $body,
            // `DynArray` is non-exhaustive for other crates; every variant has an arm above.
            #[allow(unreachable_patterns)]
            _ => unreachable!("every DynArray variant has an arm in with_array!"),
        }
    };
}

/// Runs `$body` with the type alias `$T` set to the element type of `$dtype`.
#[macro_export]
#[doc(hidden)]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Bool => {
                type $T = bool;
                $body
            }
            $crate::DType::I8 => {
                type $T = i8;
                $body
            }
            $crate::DType::I16 => {
                type $T = i16;
                $body
            }
            $crate::DType::I32 => {
                type $T = i32;
                $body
            }
            $crate::DType::I64 => {
                type $T = i64;
                $body
            }
            $crate::DType::U8 => {
                type $T = u8;
                $body
            }
            $crate::DType::U16 => {
                type $T = u16;
                $body
            }
            $crate::DType::U32 => {
                type $T = u32;
                $body
            }
            $crate::DType::U64 => {
                type $T = u64;
                $body
            }
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            $crate::DType::C64 => {
                type $T = $crate::Complex64;
                $body
            }
            $crate::DType::C128 => {
                type $T = $crate::Complex128;
                $body
            }
            // `DType` is non-exhaustive for other crates; every variant has an arm above.
            #[allow(unreachable_patterns)]
            _ => unreachable!("every DType has an arm in with_dtype!"),
        }
    };
}

/// Converts between `ArrayD<T>` and [`DynArray`] for each element type.
pub trait ArrayElement: Element {
    /// Wraps a typed array.
    fn wrap(a: ArrayD<Self>) -> DynArray;
    /// Unwraps a `DynArray` of this dtype.
    fn unwrap(a: DynArray) -> std::result::Result<ArrayD<Self>, DynArray>;
    /// Borrows a `DynArray` of this dtype.
    fn view(a: &DynArray) -> Option<ArrayViewD<'_, Self>>;
    /// Borrows a `DynArray` of this dtype mutably.
    fn view_mut(a: &mut DynArray) -> Option<ArrayViewMutD<'_, Self>>;
}

macro_rules! array_element {
    ($t:ty, $v:ident) => {
        impl ArrayElement for $t {
            fn wrap(a: ArrayD<Self>) -> DynArray {
                DynArray::$v(a)
            }
            fn unwrap(a: DynArray) -> std::result::Result<ArrayD<Self>, DynArray> {
                match a {
                    DynArray::$v(a) => Ok(a),
                    other => Err(other),
                }
            }
            fn view(a: &DynArray) -> Option<ArrayViewD<'_, Self>> {
                match a {
                    DynArray::$v(a) => Some(a.view()),
                    _ => None,
                }
            }
            fn view_mut(a: &mut DynArray) -> Option<ArrayViewMutD<'_, Self>> {
                match a {
                    DynArray::$v(a) => Some(a.view_mut()),
                    _ => None,
                }
            }
        }

        impl From<ArrayD<$t>> for DynArray {
            fn from(a: ArrayD<$t>) -> Self {
                DynArray::$v(a)
            }
        }
    };
}

array_element!(bool, Bool);
array_element!(i8, I8);
array_element!(i16, I16);
array_element!(i32, I32);
array_element!(i64, I64);
array_element!(u8, U8);
array_element!(u16, U16);
array_element!(u32, U32);
array_element!(u64, U64);
array_element!(f32, F32);
array_element!(f64, F64);
array_element!(Complex64, C64);
array_element!(Complex128, C128);

macro_rules! into_typed {
    ($($(#[$doc:meta])* $name:ident -> $t:ty),+ $(,)?) => {
        $(
            $(#[$doc])*
            ///
            /// # Errors
            ///
            /// [`ArrayError::DTypeMismatch`] if the array has another dtype (use
            /// [`DynArray::astype`] or [`DynArray::into_typed`] to convert).
            pub fn $name(self) -> Result<ArrayD<$t>> {
                let found = self.dtype();
                <$t as ArrayElement>::unwrap(self).map_err(|_| ArrayError::DTypeMismatch {
                    expected: <$t as Element>::DTYPE,
                    found,
                })
            }
        )+
    };
}

impl DynArray {
    /// The dtype.
    pub fn dtype(&self) -> DType {
        match self {
            DynArray::Bool(_) => DType::Bool,
            DynArray::I8(_) => DType::I8,
            DynArray::I16(_) => DType::I16,
            DynArray::I32(_) => DType::I32,
            DynArray::I64(_) => DType::I64,
            DynArray::U8(_) => DType::U8,
            DynArray::U16(_) => DType::U16,
            DynArray::U32(_) => DType::U32,
            DynArray::U64(_) => DType::U64,
            DynArray::F32(_) => DType::F32,
            DynArray::F64(_) => DType::F64,
            DynArray::C64(_) => DType::C64,
            DynArray::C128(_) => DType::C128,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        with_array!(self, a => a.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes the elements occupy.
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().itemsize()
    }

    /// An array of `shape` filled with `value` converted to `dtype`.
    pub fn full(dtype: DType, shape: &[usize], value: f64) -> DynArray {
        with_dtype!(dtype, T => DynArray::from(ArrayD::<T>::from_elem(IxDyn(shape), T::from_f64(value))))
    }

    /// The elements converted to `dtype` (NumPy's `astype`); no copy if the dtype is the same.
    pub fn astype(self, dtype: DType) -> DynArray {
        if self.dtype() == dtype {
            return self;
        }
        with_dtype!(dtype, T => DynArray::from(self.to_typed::<T>()))
    }

    /// The elements converted to `T`, as a new array.
    pub fn to_typed<T: ArrayElement>(&self) -> ArrayD<T> {
        with_array!(self, a => a.mapv(cast::<_, T>))
    }

    /// The elements as `ArrayD<T>`, converting if the dtype differs.
    pub fn into_typed<T: ArrayElement>(self) -> ArrayD<T> {
        match T::unwrap(self) {
            Ok(a) => a,
            Err(other) => other.to_typed::<T>(),
        }
    }

    into_typed!(
        /// The `bool` array inside.
        into_bool -> bool,
        /// The `int8` array inside.
        into_i8 -> i8,
        /// The `int16` array inside.
        into_i16 -> i16,
        /// The `int32` array inside.
        into_i32 -> i32,
        /// The `int64` array inside.
        into_i64 -> i64,
        /// The `uint8` array inside.
        into_u8 -> u8,
        /// The `uint16` array inside.
        into_u16 -> u16,
        /// The `uint32` array inside.
        into_u32 -> u32,
        /// The `uint64` array inside.
        into_u64 -> u64,
        /// The `float32` array inside.
        into_f32 -> f32,
        /// The `float64` array inside.
        into_f64 -> f64,
        /// The `complex64` array inside.
        into_c64 -> Complex64,
        /// The `complex128` array inside.
        into_c128 -> Complex128,
    );
}

impl DynArray {
    /// Elements `lo..hi` along `axis`, copied into a new block (row-major): from a block in
    /// row-major order, one contiguous run per position of the axes before `axis`.
    pub(crate) fn slice_axis(&self, axis: usize, lo: usize, hi: usize) -> DynArray {
        fn cut<T: Clone>(
            a: &ndarray::ArrayD<T>,
            axis: usize,
            lo: usize,
            hi: usize,
        ) -> ndarray::ArrayD<T> {
            let mut shape = a.shape().to_vec();
            let n = shape[axis];
            shape[axis] = hi - lo;
            if let Some(data) = a.as_slice() {
                let inner: usize = a.shape()[axis + 1..].iter().product();
                let outer: usize = a.shape()[..axis].iter().product();
                let mut out = Vec::with_capacity(outer * (hi - lo) * inner);
                for o in 0..outer {
                    let start = (o * n + lo) * inner;
                    out.extend_from_slice(&data[start..start + (hi - lo) * inner]);
                }
                return ndarray::ArrayD::from_shape_vec(shape, out).expect("the band's shape");
            }
            a.slice_axis(ndarray::Axis(axis), ndarray::Slice::from(lo..hi))
                .to_owned()
        }
        with_array!(self, a => DynArray::from(cut(a, axis, lo, hi)))
    }
}
