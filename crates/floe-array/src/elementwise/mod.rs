//! Elementwise operations: NumPy broadcasting and dtype promotion, inputs of different
//! chunkings aligned automatically, one task per output block.
//!
//! Every operation is a *blockwise* node: output block `i` is computed from block `i` of
//! each input (broadcast axes use their single block). Chains of elementwise operations
//! become linear chains of tasks, which the graph's `fuse` pass merges into one task per
//! block.

pub(crate) use crate::kernels::elementwise as kernels;

use std::sync::Arc;

use floe_graph::TaskError;

pub use kernels::{BinaryOp, UnaryOp};

use crate::block::{BlockInfo, BlockRef};
use crate::expr::Expr;
use crate::rechunk::rechunk_to;
use crate::{Array, ArrayError, Chunks, DType, DynArray, Result};

/// A Python-style scalar operand, typed weakly as NumPy 2 does (NEP 50): an integer takes
/// the array's dtype, a float takes the array's float dtype (or `float64` for integer
/// arrays).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A complex number: real and imaginary parts.
    Complex(f64, f64),
}

impl From<crate::Complex<f64>> for Scalar {
    fn from(z: crate::Complex<f64>) -> Self {
        Scalar::Complex(z.re, z.im)
    }
}

impl From<f64> for Scalar {
    fn from(x: f64) -> Self {
        Scalar::Float(x)
    }
}

impl From<i64> for Scalar {
    fn from(x: i64) -> Self {
        Scalar::Int(x)
    }
}

impl From<i32> for Scalar {
    fn from(x: i32) -> Self {
        Scalar::Int(i64::from(x))
    }
}

impl From<bool> for Scalar {
    fn from(x: bool) -> Self {
        Scalar::Bool(x)
    }
}

impl Scalar {
    /// The dtype this scalar takes next to an array of `dtype` — NumPy's rule for Python
    /// numbers, which are *weak*: an int takes the array's dtype (`int64` next to
    /// booleans), a float the array's float (or complex) dtype (`float64` next to
    /// integers), a complex number the array's complex dtype (`complex64` next to `float32`,
    /// `complex128` next to integers).
    ///
    /// ```
    /// use floe_array::{DType, Scalar};
    /// assert_eq!(Scalar::Int(3).dtype_next_to(DType::U8), DType::U8);
    /// assert_eq!(Scalar::Float(0.5).dtype_next_to(DType::F32), DType::F32);
    /// assert_eq!(Scalar::Float(0.5).dtype_next_to(DType::I32), DType::F64);
    /// assert_eq!(Scalar::Complex(0.0, 1.0).dtype_next_to(DType::F32), DType::C64);
    /// assert_eq!(Scalar::Complex(0.0, 1.0).dtype_next_to(DType::I16), DType::C128);
    /// ```
    pub fn dtype_next_to(self, dtype: DType) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) if dtype == DType::Bool => DType::I64,
            Scalar::Int(_) => dtype,
            Scalar::Float(_) if dtype.is_inexact() => dtype,
            Scalar::Float(_) => DType::F64,
            Scalar::Complex(..) if dtype.is_complex() => dtype,
            Scalar::Complex(..) if dtype == DType::F32 => DType::C64,
            Scalar::Complex(..) => DType::C128,
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Scalar::Bool(b) => f64::from(u8::from(b)),
            Scalar::Int(i) => i as f64,
            Scalar::Float(f) | Scalar::Complex(f, _) => f,
        }
    }

    /// This scalar as a 0-d array of the dtype it takes next to `dtype` (integers exactly,
    /// never through a float): how a Python number becomes an array operand.
    ///
    /// # Errors
    ///
    /// None in practice (a 0-d array always has valid chunks).
    ///
    /// ```
    /// use floe_array::{DType, Scalar};
    /// let x = Scalar::Int(1 << 60).to_array(DType::Bool)?;
    /// assert_eq!(x.dtype(), DType::I64);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn to_array(self, next_to: DType) -> Result<Array> {
        let block = self.to_block(self.dtype_next_to(next_to));
        crate::with_array!(block, a => crate::from_ndarray(a, crate::ChunkSpec::Auto))
    }

    /// This scalar as a 0-d block of `dtype` (integers exactly, through `i128`).
    fn to_block(self, dtype: DType) -> DynArray {
        self.fill(dtype, &[])
    }

    /// A block of `shape` filled with this scalar cast to `dtype` as NumPy's `astype` does
    /// (integers exactly, through `i128`, wrapping).
    pub(crate) fn fill(self, dtype: DType, shape: &[usize]) -> DynArray {
        match self {
            Scalar::Int(i) => {
                crate::with_dtype!(dtype, T => DynArray::from(ndarray::ArrayD::<T>::from_elem(
                    ndarray::IxDyn(shape),
                    <T as crate::Element>::from_i128(i128::from(i)),
                )))
            }
            Scalar::Complex(re, im) => {
                crate::with_dtype!(dtype, T => DynArray::from(ndarray::ArrayD::<T>::from_elem(
                    ndarray::IxDyn(shape),
                    <T as crate::Element>::from_c128(crate::Complex::new(re, im)),
                )))
            }
            other => DynArray::full(dtype, shape, other.as_f64()),
        }
    }
}

/// Whether `i` is a value of the integer (or boolean) `dtype`.
fn int_fits(i: i64, dtype: DType) -> bool {
    crate::with_dtype!(dtype, T => crate::Element::to_i128(<T as crate::Element>::from_i128(i128::from(i))) == i128::from(i))
}

/// The shape of broadcasting `shapes` together (NumPy's rules).
///
/// # Errors
///
/// [`ArrayError::ShapeMismatch`] if two shapes disagree on an axis where neither is 1.
pub fn broadcast_shapes(op: &'static str, shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let ndim = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1; ndim];
    for s in shapes {
        let lead = ndim - s.len();
        for (a, &n) in s.iter().enumerate() {
            let o = &mut out[a + lead];
            if *o == 1 {
                *o = n;
            } else if n != 1 && n != *o {
                return Err(ArrayError::ShapeMismatch {
                    op,
                    left: shapes[0].to_vec(),
                    right: s.to_vec(),
                    detail: format!(" (axis {} has lengths {} and {n})", a + lead, *o),
                });
            }
        }
    }
    Ok(out)
}

/// Builds a blockwise node over `inputs`, broadcasting them and rechunking where their
/// blocks do not line up. `f` computes an output block from the input blocks.
/// With `elementwise`, `f` is elementwise (see [`Expr::Blockwise`]).
pub(crate) fn blockwise(
    name: &str,
    op: &'static str,
    inputs: &[&Array],
    dtype: DType,
    f: crate::expr::BlockFn,
    elementwise: bool,
) -> Result<Array> {
    blockwise_of(name, op, inputs, dtype, f, elementwise, None)
}

/// [`blockwise`] with an elementwise [`Kernel`](crate::Kernel): the node keeps the kernel
/// as data (see [`crate::spec`]) and its tasks run the closure made from it.
pub(crate) fn blockwise_kernel(inputs: &[&Array], kernel: crate::Kernel) -> Result<Array> {
    let name = kernel.name();
    blockwise_of(
        name,
        name,
        inputs,
        kernel.dtype(),
        kernel.block_fn(),
        true,
        Some(kernel),
    )
}

fn blockwise_of(
    name: &str,
    op: &'static str,
    inputs: &[&Array],
    dtype: DType,
    f: crate::expr::BlockFn,
    elementwise: bool,
    kernel: Option<crate::Kernel>,
) -> Result<Array> {
    crate::select::check_blockwise_unknown(op, inputs)?;
    let shapes: Vec<&[usize]> = inputs.iter().map(|a| a.shape()).collect();
    let shape = broadcast_shapes(op, &shapes)?;
    let ndim = shape.len();
    // Per axis, the block sizes of the first input that does not broadcast there.
    let mut sizes: Vec<Vec<usize>> = Vec::with_capacity(ndim);
    for (axis, &n) in shape.iter().enumerate() {
        let chosen = inputs.iter().find_map(|a| {
            let lead = ndim - a.ndim();
            (axis >= lead && a.shape()[axis - lead] == n && (n != 1 || a.ndim() == ndim))
                .then(|| a.chunks().axis(axis - lead).to_vec())
        });
        sizes.push(chosen.unwrap_or_else(|| vec![n]));
    }
    let chunks = Chunks::new(&shape, sizes.clone())?;
    let aligned: Vec<Array> = inputs
        .iter()
        .map(|a| {
            let lead = ndim - a.ndim();
            let want: Vec<Vec<usize>> = (0..a.ndim())
                .map(|ax| {
                    if a.shape()[ax] == 1 && shape[ax + lead] != 1 {
                        vec![1]
                    } else {
                        sizes[ax + lead].clone()
                    }
                })
                .collect();
            if a.chunks().axes() == want.as_slice() {
                Ok((*a).clone())
            } else {
                rechunk_to(a, want)
            }
        })
        .collect::<Result<_>>()?;
    Ok(Array::from_node(
        name,
        shape,
        dtype,
        chunks,
        Expr::Blockwise {
            inputs: aligned,
            f,
            elementwise,
            kernel,
        },
    ))
}

/// The complex array `re + im·i` from its real and imaginary parts (broadcast together):
/// `complex64` when both parts are `float32` (or smaller), else `complex128`.
///
/// NumPy writes this `re + 1j * im`, which works here too but rounds: an infinite `im`
/// gives a NaN real part. This builds each element exactly.
///
/// # Errors
///
/// [`ArrayError::ShapeMismatch`] if the shapes do not broadcast;
/// [`ArrayError::UnsupportedDType`] if a part is complex.
///
/// # Examples
///
/// ```
/// use floe_array::DType;
///
/// let re = floe_array::arange(0.0, 4.0, 1.0, 2, DType::F64)?;
/// let z = floe_array::complex(&re, &re.neg()?)?;
/// assert_eq!(z.dtype(), DType::C128);
/// # Ok::<(), floe_array::ArrayError>(())
/// ```
pub fn complex(re: &Array, im: &Array) -> Result<Array> {
    re.dtype().require_real("complex")?;
    im.dtype().require_real("complex")?;
    from_parts(re, im, false)
}

/// The complex array from its parts (broadcast together, read as `float64`),
/// `complex64` when both parts are `float32` or smaller; with `mean`, the mean from its
/// parts' means (see [`Kernel::FromParts`](crate::Kernel::FromParts)).
pub(crate) fn from_parts(re: &Array, im: &Array, mean: bool) -> Result<Array> {
    let out = re.dtype().promote(im.dtype()).complex();
    blockwise_kernel(&[re, im], crate::Kernel::FromParts { mean, out })
}

/// The complex block of the parts' blocks (see [`from_parts`]).
pub(crate) fn parts_block(
    re: &BlockRef<'_>,
    im: &BlockRef<'_>,
    mean: bool,
    out: DType,
    shape: &[usize],
) -> std::result::Result<DynArray, TaskError> {
    kernels::with_view::<f64, _>(re, |re| {
        kernels::with_view::<f64, _>(im, |im| {
            let shape = ndarray::IxDyn(shape);
            let (Some(re), Some(im)) = (re.broadcast(shape.clone()), im.broadcast(shape)) else {
                return Err(TaskError::msg(
                    "complex parts do not broadcast to the block",
                ));
            };
            let z = ndarray::Zip::from(&re).and(&im).map_collect(|&r, &i| {
                if mean {
                    let nan_unless = |finite: bool, v: f64| if finite { v } else { f64::NAN };
                    crate::Complex::new(nan_unless(i.is_finite(), r), nan_unless(r.is_finite(), i))
                } else {
                    crate::Complex::new(r, i)
                }
            });
            Ok(DynArray::from(z).astype(out))
        })
    })
}

impl Array {
    /// Applies a binary operation with NumPy broadcasting and promotion.
    ///
    /// # Errors
    ///
    /// [`ArrayError::ShapeMismatch`] if the shapes do not broadcast;
    /// [`ArrayError::UnsupportedDType`] for operations NumPy refuses (`bool - bool`,
    /// bitwise operations on floats…).
    pub fn binary(&self, op: BinaryOp, other: &Array) -> Result<Array> {
        let (compute_in, out) = op.dtypes(self.dtype(), other.dtype())?;
        let kernel = crate::Kernel::Binary {
            op,
            compute_in,
            out,
        };
        blockwise_kernel(&[self, other], kernel)
    }

    /// Applies a binary operation with a scalar on the right (`x + 1.0`).
    ///
    /// # Errors
    ///
    /// As [`Array::binary`].
    pub fn binary_scalar(&self, op: BinaryOp, scalar: impl Into<Scalar>) -> Result<Array> {
        self.with_scalar(op, scalar.into(), false)
    }

    /// Applies a binary operation with a scalar on the left (`1.0 - x`).
    ///
    /// # Errors
    ///
    /// As [`Array::binary`].
    pub fn scalar_binary(&self, scalar: impl Into<Scalar>, op: BinaryOp) -> Result<Array> {
        self.with_scalar(op, scalar.into(), true)
    }

    /// `self op scalar` (or `scalar op self`): the scalar is embedded in the kernel, so a
    /// chain like `(x + 1) * 2` stays a linear chain of one-input tasks that fuse.
    fn with_scalar(&self, op: BinaryOp, s: Scalar, scalar_first: bool) -> Result<Array> {
        let mut sd = s.dtype_next_to(self.dtype());
        if let Scalar::Int(i) = s
            && !sd.is_inexact()
            && !int_fits(i, sd)
        {
            // An integer the array's dtype cannot hold, as NumPy 2 treats it: compared
            // exactly, divided as a float, refused in integer arithmetic.
            sd = if op.is_comparison() && i >= 0 && self.dtype() == DType::U64 {
                DType::U64
            } else if op.is_comparison() && self.dtype() != DType::U64 {
                DType::I64
            } else if op == BinaryOp::Div || op.is_comparison() {
                DType::F64
            } else {
                return Err(crate::ArrayError::ScalarOutOfBounds {
                    op: op.name(),
                    value: i,
                    dtype: self.dtype(),
                });
            };
        }
        let (compute_in, out) = if scalar_first {
            op.dtypes(sd, self.dtype())?
        } else {
            op.dtypes(self.dtype(), sd)?
        };
        let square = match s {
            Scalar::Int(2) => true,
            // NumPy's complex power gives +0 for a zero base where a product gives -0:
            // only an integer 2 squares complex numbers.
            Scalar::Float(f) => f == 2.0 && !compute_in.is_complex(),
            _ => false,
        };
        if op == BinaryOp::Pow && !scalar_first && square {
            // `x ** 2` as a product, as NumPy's fast path for scalar powers does: the same
            // value as the power function, several times faster.
            return self
                .astype(compute_in)
                .unary(UnaryOp::Square)
                .map(|a| a.astype(out));
        }
        let kernel = crate::Kernel::WithScalar {
            op,
            scalar: s,
            scalar_dtype: sd,
            scalar_first,
            compute_in,
            out,
        };
        blockwise_kernel(&[self], kernel)
    }

    /// Applies a unary function elementwise (`sqrt`, `isnan`…).
    ///
    /// # Errors
    ///
    /// [`ArrayError::UnsupportedDType`] where NumPy refuses the dtype.
    pub fn unary(&self, op: UnaryOp) -> Result<Array> {
        let out = op.dtype(self.dtype())?;
        blockwise_kernel(&[self], crate::Kernel::Unary { op, out })
    }

    /// The elements converted to `dtype` (NumPy's `astype`).
    pub fn astype(&self, dtype: DType) -> Array {
        if dtype == self.dtype() {
            return self.clone();
        }
        blockwise_kernel(&[self], crate::Kernel::AsType { dtype })
            .expect("one input always broadcasts")
    }

    /// `where(cond, x, y)`: elements of `x` where `cond` is true, of `y` elsewhere,
    /// broadcasting all three; the result has `x` and `y`'s promoted dtype.
    ///
    /// # Errors
    ///
    /// [`ArrayError::ShapeMismatch`] if the shapes do not broadcast.
    pub fn where_(cond: &Array, x: &Array, y: &Array) -> Result<Array> {
        let out = x.dtype().promote(y.dtype());
        blockwise_kernel(&[cond, x, y], crate::Kernel::Where { out })
    }

    /// Limits the values to `[min, max]` (NumPy's `clip`); the dtype is kept.
    ///
    /// # Errors
    ///
    /// [`ArrayError::InvalidArgument`] if `min > max`.
    pub fn clip(&self, min: f64, max: f64) -> Result<Array> {
        if min > max {
            return Err(ArrayError::invalid(
                "clip",
                format!("min {min} is greater than max {max}"),
            ));
        }
        // The bounds take the array's dtype, as NumPy's clip keeps it.
        let (lo, hi) = if self.dtype().is_inexact() {
            (Scalar::Float(min), Scalar::Float(max))
        } else if self.dtype() == DType::Bool {
            (Scalar::Bool(min > 0.0), Scalar::Bool(max > 0.0))
        } else {
            (
                Scalar::Int(min.ceil() as i64),
                Scalar::Int(max.floor() as i64),
            )
        };
        // An infinite bound is no bound: skipped, so that no value changes on that side
        // (a complex `inf+1j` stays, where the bound `inf+0j` would replace it).
        let mut out = self.clone();
        if min != f64::NEG_INFINITY {
            out = out.binary_scalar(BinaryOp::Maximum, lo)?;
        }
        if max != f64::INFINITY {
            out = out.binary_scalar(BinaryOp::Minimum, hi)?;
        }
        Ok(out)
    }

    /// Applies `f` to each block of `self` and `others` (aligned and broadcast like an
    /// elementwise operation) — the escape hatch for any per-block computation. `f` must
    /// return a block of the given shape and `dtype`.
    ///
    /// # Errors
    ///
    /// [`ArrayError::ShapeMismatch`] if the shapes do not broadcast. At compute time, a
    /// block of the wrong shape or dtype, an error or a panic fails the task.
    ///
    /// # Examples
    ///
    /// ```
    /// use floe_array::{DType, DynArray};
    ///
    /// let x = floe_array::ones(&[6], 4, DType::F64)?;
    /// let y = x.map_blocks(&[], DType::F64, |blocks, _info| {
    ///     Ok(DynArray::from(blocks[0].clone().into_f64()?.mapv(|v| v * 3.0)))
    /// })?;
    /// assert_eq!(y.numblocks(), vec![2]);
    /// # Ok::<(), floe_array::ArrayError>(())
    /// ```
    pub fn map_blocks<F>(&self, others: &[&Array], dtype: DType, f: F) -> Result<Array>
    where
        F: Fn(
                &[&DynArray],
                &BlockInfo,
            )
                -> std::result::Result<DynArray, Box<dyn std::error::Error + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        let mut inputs = vec![self];
        inputs.extend_from_slice(others);
        let g: crate::expr::BlockFn = Arc::new(move |blocks: &[BlockRef<'_>], info: &BlockInfo| {
            let owned: Vec<DynArray> = blocks.iter().map(BlockRef::to_owned).collect();
            let refs: Vec<&DynArray> = owned.iter().collect();
            let out = f(&refs, info).map_err(TaskError::new)?;
            if out.shape() != info.shape.as_slice() || out.dtype() != dtype {
                return Err(TaskError::msg(format!(
                    "map_blocks: the function returned a {} block of shape {:?}; block {:?} must be {dtype} of shape {:?}",
                    out.dtype(),
                    out.shape(),
                    info.index,
                    info.shape
                )));
            }
            Ok(out)
        });
        blockwise("map_blocks", "map_blocks", &inputs, dtype, g, false)
    }
}

macro_rules! unary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident),+ $(,)?) => {
        impl Array {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                ///
                /// [`ArrayError::UnsupportedDType`] where NumPy refuses the dtype.
                pub fn $name(&self) -> Result<Array> {
                    self.unary(UnaryOp::$op)
                }
            )+
        }
    };
}

unary_methods!(
    /// Absolute value.
    abs => Abs,
    /// Negation.
    neg => Neg,
    /// Square root (floats; integers give floats).
    sqrt => Sqrt,
    /// eˣ.
    exp => Exp,
    /// Natural logarithm.
    log => Log,
    /// Base-2 logarithm.
    log2 => Log2,
    /// Base-10 logarithm.
    log10 => Log10,
    /// Sine.
    sin => Sin,
    /// Cosine.
    cos => Cos,
    /// Tangent.
    tan => Tan,
    /// Floor (integers are kept as they are).
    floor => Floor,
    /// Ceiling.
    ceil => Ceil,
    /// Rounds half to even, as NumPy's `round`.
    round => Round,
    /// Whether each element is NaN.
    isnan => IsNan,
    /// Whether each element is ±∞.
    isinf => IsInf,
    /// Whether each element is finite.
    isfinite => IsFinite,
    /// Logical not (bool) or bitwise not (integers).
    not => Not,
    /// The sign: -1, 0 or 1 (NaN for NaN).
    sign => Sign,
    /// x².
    square => Square,
    /// Inverse sine.
    arcsin => Arcsin,
    /// Inverse cosine.
    arccos => Arccos,
    /// Inverse tangent.
    arctan => Arctan,
    /// Hyperbolic sine.
    sinh => Sinh,
    /// Hyperbolic cosine.
    cosh => Cosh,
    /// Hyperbolic tangent.
    tanh => Tanh,
    /// Inverse hyperbolic sine.
    arcsinh => Arcsinh,
    /// Inverse hyperbolic cosine.
    arccosh => Arccosh,
    /// Inverse hyperbolic tangent.
    arctanh => Arctanh,
    /// log(1 + x), exact for small x.
    log1p => Log1p,
    /// eˣ − 1, exact for small x.
    expm1 => Expm1,
    /// 2ˣ.
    exp2 => Exp2,
    /// Cube root.
    cbrt => Cbrt,
    /// Degrees to radians.
    deg2rad => Deg2rad,
    /// Radians to degrees.
    rad2deg => Rad2deg,
    /// 1/x (floats only).
    reciprocal => Reciprocal,
    /// Rounds toward zero.
    trunc => Trunc,
    /// Whether the sign bit is set.
    signbit => Signbit,
    /// NaN to 0, ±∞ to the largest finite values.
    nan_to_num => NanToNum,
);

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident, $scalar:ident => $op:ident),+ $(,)?) => {
        impl Array {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                ///
                /// As [`Array::binary`].
                pub fn $name(&self, other: &Array) -> Result<Array> {
                    self.binary(BinaryOp::$op, other)
                }

                $(#[$doc])*
                /// With a scalar on the right.
                ///
                /// # Errors
                ///
                /// As [`Array::binary`].
                pub fn $scalar(&self, other: impl Into<Scalar>) -> Result<Array> {
                    self.binary_scalar(BinaryOp::$op, other)
                }
            )+
        }
    };
}

binary_methods!(
    /// `self + other`.
    add, add_scalar => Add,
    /// `self - other`.
    sub, sub_scalar => Sub,
    /// `self * other`.
    mul, mul_scalar => Mul,
    /// True division `self / other` (integers give `float64`).
    div, div_scalar => Div,
    /// Floor division `self // other`.
    floor_div, floor_div_scalar => FloorDiv,
    /// Remainder with the sign of the divisor, as NumPy's `%`.
    rem, rem_scalar => Rem,
    /// `self ** other`.
    pow, pow_scalar => Pow,
    /// Elementwise maximum (NaN propagates).
    maximum, maximum_scalar => Maximum,
    /// Elementwise minimum (NaN propagates).
    minimum, minimum_scalar => Minimum,
    /// `self == other`.
    eq, eq_scalar => Eq,
    /// `self != other`.
    ne, ne_scalar => Ne,
    /// `self < other`.
    lt, lt_scalar => Lt,
    /// `self <= other`.
    le, le_scalar => Le,
    /// `self > other`.
    gt, gt_scalar => Gt,
    /// `self >= other`.
    ge, ge_scalar => Ge,
    /// Logical (bool) or bitwise (integer) and.
    and, and_scalar => And,
    /// Logical (bool) or bitwise (integer) or.
    or, or_scalar => Or,
    /// Logical (bool) or bitwise (integer) exclusive or.
    xor, xor_scalar => Xor,
    /// The angle of (other, self): `arctan2(self, other)`.
    arctan2, arctan2_scalar => Arctan2,
    /// √(self² + other²).
    hypot, hypot_scalar => Hypot,
    /// `self`'s magnitude with `other`'s sign.
    copysign, copysign_scalar => Copysign,
    /// log(eˢᵉˡᶠ + eᵒᵗʰᵉʳ).
    logaddexp, logaddexp_scalar => Logaddexp,
    /// C's remainder (the dividend's sign).
    fmod, fmod_scalar => Fmod,
    /// Maximum ignoring NaN.
    fmax, fmax_scalar => Fmax,
    /// Minimum ignoring NaN.
    fmin, fmin_scalar => Fmin,
);

macro_rules! operator {
    ($trait:ident, $method:ident, $op:ident) => {
        impl std::ops::$trait<&Array> for &Array {
            type Output = Result<Array>;
            fn $method(self, rhs: &Array) -> Result<Array> {
                self.binary(BinaryOp::$op, rhs)
            }
        }

        impl std::ops::$trait<f64> for &Array {
            type Output = Result<Array>;
            fn $method(self, rhs: f64) -> Result<Array> {
                self.binary_scalar(BinaryOp::$op, rhs)
            }
        }

        impl std::ops::$trait<i64> for &Array {
            type Output = Result<Array>;
            fn $method(self, rhs: i64) -> Result<Array> {
                self.binary_scalar(BinaryOp::$op, rhs)
            }
        }

        impl std::ops::$trait<&Array> for f64 {
            type Output = Result<Array>;
            fn $method(self, rhs: &Array) -> Result<Array> {
                rhs.scalar_binary(self, BinaryOp::$op)
            }
        }
    };
}

operator!(Add, add, Add);
operator!(Sub, sub, Sub);
operator!(Mul, mul, Mul);
operator!(Div, div, Div);
operator!(Rem, rem, Rem);
operator!(BitAnd, bitand, And);
operator!(BitOr, bitor, Or);
operator!(BitXor, bitxor, Xor);

impl std::ops::Neg for &Array {
    type Output = Result<Array>;
    fn neg(self) -> Result<Array> {
        self.unary(UnaryOp::Neg)
    }
}
