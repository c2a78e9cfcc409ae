//! Elementwise kernels: dispatched once per block on the dtype, then a tight loop over
//! typed `ndarray` views (broadcast views for operands of smaller shape).

use floe_graph::TaskError;
use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};

use crate::block::BlockRef;
use crate::{ArrayElement, ArrayError, DType, DynArray, Result, with_dtype};

/// A binary elementwise operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `+` (logical or on bools, as NumPy).
    Add,
    /// `-` (refused on bools, as NumPy).
    Sub,
    /// `*` (logical and on bools).
    Mul,
    /// True division; integers give `float64`.
    Div,
    /// Floor division; integer division by zero gives 0, as NumPy.
    FloorDiv,
    /// Remainder with the divisor's sign; integer remainder by zero gives 0.
    Rem,
    /// Power; a negative integer exponent of an integer is an error, as in NumPy.
    Pow,
    /// Elementwise maximum, NaN propagating.
    Maximum,
    /// Elementwise minimum, NaN propagating.
    Minimum,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// Logical and (bool), bitwise and (integers).
    And,
    /// Logical or (bool), bitwise or (integers).
    Or,
    /// Logical xor (bool), bitwise xor (integers).
    Xor,
    /// The angle of the point (x2, x1) (`arctan2(x1, x2)`), in floats.
    Arctan2,
    /// √(a² + b²) without overflow, in floats.
    Hypot,
    /// The magnitude of `a` with the sign of `b`, in floats.
    Copysign,
    /// log(eᵃ + eᵇ) without overflow, in floats.
    Logaddexp,
    /// C's remainder: the dividend's sign (integer remainder by zero gives 0).
    Fmod,
    /// Elementwise maximum ignoring NaN (NaN only where both are).
    Fmax,
    /// Elementwise minimum ignoring NaN.
    Fmin,
}

impl BinaryOp {
    /// The NumPy ufunc name.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "subtract",
            BinaryOp::Mul => "multiply",
            BinaryOp::Div => "true_divide",
            BinaryOp::FloorDiv => "floor_divide",
            BinaryOp::Rem => "remainder",
            BinaryOp::Pow => "power",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Eq => "equal",
            BinaryOp::Ne => "not_equal",
            BinaryOp::Lt => "less",
            BinaryOp::Le => "less_equal",
            BinaryOp::Gt => "greater",
            BinaryOp::Ge => "greater_equal",
            BinaryOp::And => "bitwise_and",
            BinaryOp::Or => "bitwise_or",
            BinaryOp::Xor => "bitwise_xor",
            BinaryOp::Arctan2 => "arctan2",
            BinaryOp::Hypot => "hypot",
            BinaryOp::Copysign => "copysign",
            BinaryOp::Logaddexp => "logaddexp",
            BinaryOp::Fmod => "fmod",
            BinaryOp::Fmax => "fmax",
            BinaryOp::Fmin => "fmin",
        }
    }

    /// The operation NumPy calls `name` (its ufunc names and aliases: `divide`, `mod`…).
    ///
    /// ```
    /// use floe_array::BinaryOp;
    /// assert_eq!(BinaryOp::from_numpy_name("mod"), Some(BinaryOp::Rem));
    /// assert_eq!(BinaryOp::from_numpy_name("hypot"), Some(BinaryOp::Hypot));
    /// assert_eq!(BinaryOp::from_numpy_name("ldexp"), None);
    /// ```
    pub fn from_numpy_name(name: &str) -> Option<BinaryOp> {
        Some(match name {
            "divide" => BinaryOp::Div,
            "mod" => BinaryOp::Rem,
            "logical_and" => BinaryOp::And,
            "logical_or" => BinaryOp::Or,
            "logical_xor" => BinaryOp::Xor,
            other => return BinaryOp::ALL.into_iter().find(|op| op.name() == other),
        })
    }

    /// Every binary operation.
    pub const ALL: [BinaryOp; 25] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::FloorDiv,
        BinaryOp::Rem,
        BinaryOp::Pow,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Eq,
        BinaryOp::Ne,
        BinaryOp::Lt,
        BinaryOp::Le,
        BinaryOp::Gt,
        BinaryOp::Ge,
        BinaryOp::And,
        BinaryOp::Or,
        BinaryOp::Xor,
        BinaryOp::Arctan2,
        BinaryOp::Hypot,
        BinaryOp::Copysign,
        BinaryOp::Logaddexp,
        BinaryOp::Fmod,
        BinaryOp::Fmax,
        BinaryOp::Fmin,
    ];

    /// Computed in floats whatever the inputs (integers give `float64`, or `float32` for
    /// small ones, as NumPy).
    fn is_float_math(self) -> bool {
        matches!(
            self,
            BinaryOp::Arctan2 | BinaryOp::Hypot | BinaryOp::Copysign | BinaryOp::Logaddexp
        )
    }

    pub(crate) fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
        )
    }

    /// The dtype the operation computes in, and the dtype of its result.
    pub(crate) fn dtypes(self, a: DType, b: DType) -> Result<(DType, DType)> {
        let p = a.promote(b);
        let refuse = || {
            Err(ArrayError::UnsupportedDType {
                op: self.name(),
                dtype: p,
            })
        };
        match self {
            _ if self.is_comparison() => Ok((p, DType::Bool)),
            BinaryOp::FloorDiv
            | BinaryOp::Rem
            | BinaryOp::Fmod
            | BinaryOp::And
            | BinaryOp::Or
            | BinaryOp::Xor
                if p.is_complex() =>
            {
                refuse()
            }
            _ if self.is_float_math() && p.is_complex() => refuse(),
            BinaryOp::Div if !p.is_inexact() => Ok((DType::F64, DType::F64)),
            _ if self.is_float_math() => Ok((p.float_result(), p.float_result())),
            BinaryOp::Fmod if p == DType::Bool => refuse(),
            BinaryOp::And | BinaryOp::Or | BinaryOp::Xor if p.is_float() => refuse(),
            BinaryOp::Sub | BinaryOp::FloorDiv | BinaryOp::Rem | BinaryOp::Pow
                if p == DType::Bool =>
            {
                refuse()
            }
            _ => Ok((p, p)),
        }
    }
}

/// A unary elementwise operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum UnaryOp {
    Abs,
    Neg,
    Sqrt,
    Exp,
    Log,
    Log2,
    Log10,
    Sin,
    Cos,
    Tan,
    Floor,
    Ceil,
    Round,
    IsNan,
    IsInf,
    IsFinite,
    Not,
    Sign,
    Square,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    Arcsinh,
    Arccosh,
    Arctanh,
    Log1p,
    Expm1,
    Exp2,
    Cbrt,
    Deg2rad,
    Rad2deg,
    /// 1/x, floats only (NumPy's integer reciprocal truncates, which floe does not offer).
    Reciprocal,
    /// Rounds toward zero (integers are kept as they are).
    Trunc,
    /// Whether the sign bit is set (`-0.0` and negative NaNs included).
    Signbit,
    /// NaN to 0 and ±∞ to the largest finite values (integers are kept as they are).
    NanToNum,
    /// The complex conjugate (real types are kept as they are).
    Conj,
    /// The real part (real types are kept as they are).
    Real,
    /// The imaginary part (zeros for real types).
    Imag,
    /// The angle of the complex argument, in radians (0 or π for real types).
    Angle,
}

impl UnaryOp {
    /// Every unary operation.
    pub const ALL: [UnaryOp; 42] = [
        UnaryOp::Abs,
        UnaryOp::Neg,
        UnaryOp::Sqrt,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Log2,
        UnaryOp::Log10,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tan,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::IsNan,
        UnaryOp::IsInf,
        UnaryOp::IsFinite,
        UnaryOp::Not,
        UnaryOp::Sign,
        UnaryOp::Square,
        UnaryOp::Arcsin,
        UnaryOp::Arccos,
        UnaryOp::Arctan,
        UnaryOp::Sinh,
        UnaryOp::Cosh,
        UnaryOp::Tanh,
        UnaryOp::Arcsinh,
        UnaryOp::Arccosh,
        UnaryOp::Arctanh,
        UnaryOp::Log1p,
        UnaryOp::Expm1,
        UnaryOp::Exp2,
        UnaryOp::Cbrt,
        UnaryOp::Deg2rad,
        UnaryOp::Rad2deg,
        UnaryOp::Reciprocal,
        UnaryOp::Trunc,
        UnaryOp::Signbit,
        UnaryOp::NanToNum,
        UnaryOp::Conj,
        UnaryOp::Real,
        UnaryOp::Imag,
        UnaryOp::Angle,
    ];

    /// The operation NumPy calls `name` (its ufunc names and aliases: `abs`, `rint`…).
    ///
    /// ```
    /// use floe_array::UnaryOp;
    /// assert_eq!(UnaryOp::from_numpy_name("abs"), Some(UnaryOp::Abs));
    /// assert_eq!(UnaryOp::from_numpy_name("arcsinh"), Some(UnaryOp::Arcsinh));
    /// assert_eq!(UnaryOp::from_numpy_name("frexp"), None);
    /// ```
    pub fn from_numpy_name(name: &str) -> Option<UnaryOp> {
        Some(match name {
            "abs" => UnaryOp::Abs,
            "rint" => UnaryOp::Round,
            "logical_not" => UnaryOp::Not,
            "fix" => UnaryOp::Trunc,
            "conj" => UnaryOp::Conj,
            other => return UnaryOp::ALL.into_iter().find(|op| op.name() == other),
        })
    }

    /// The NumPy ufunc name.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Abs => "absolute",
            UnaryOp::Neg => "negative",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Log2 => "log2",
            UnaryOp::Log10 => "log10",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::IsNan => "isnan",
            UnaryOp::IsInf => "isinf",
            UnaryOp::IsFinite => "isfinite",
            UnaryOp::Not => "invert",
            UnaryOp::Sign => "sign",
            UnaryOp::Square => "square",
            UnaryOp::Arcsin => "arcsin",
            UnaryOp::Arccos => "arccos",
            UnaryOp::Arctan => "arctan",
            UnaryOp::Sinh => "sinh",
            UnaryOp::Cosh => "cosh",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Arcsinh => "arcsinh",
            UnaryOp::Arccosh => "arccosh",
            UnaryOp::Arctanh => "arctanh",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Exp2 => "exp2",
            UnaryOp::Cbrt => "cbrt",
            UnaryOp::Deg2rad => "deg2rad",
            UnaryOp::Rad2deg => "rad2deg",
            UnaryOp::Reciprocal => "reciprocal",
            UnaryOp::Trunc => "trunc",
            UnaryOp::Signbit => "signbit",
            UnaryOp::NanToNum => "nan_to_num",
            UnaryOp::Conj => "conjugate",
            UnaryOp::Real => "real",
            UnaryOp::Imag => "imag",
            UnaryOp::Angle => "angle",
        }
    }

    fn is_float_math(self) -> bool {
        matches!(
            self,
            UnaryOp::Sqrt
                | UnaryOp::Exp
                | UnaryOp::Log
                | UnaryOp::Log2
                | UnaryOp::Log10
                | UnaryOp::Sin
                | UnaryOp::Cos
                | UnaryOp::Tan
                | UnaryOp::Arcsin
                | UnaryOp::Arccos
                | UnaryOp::Arctan
                | UnaryOp::Sinh
                | UnaryOp::Cosh
                | UnaryOp::Tanh
                | UnaryOp::Arcsinh
                | UnaryOp::Arccosh
                | UnaryOp::Arctanh
                | UnaryOp::Log1p
                | UnaryOp::Expm1
                | UnaryOp::Exp2
                | UnaryOp::Cbrt
                | UnaryOp::Deg2rad
                | UnaryOp::Rad2deg
                | UnaryOp::Reciprocal
                | UnaryOp::Angle
        )
    }

    /// Refused on complex dtypes, as NumPy refuses them.
    fn is_real_only(self) -> bool {
        matches!(
            self,
            UnaryOp::Floor
                | UnaryOp::Ceil
                | UnaryOp::Trunc
                | UnaryOp::Signbit
                | UnaryOp::Cbrt
                | UnaryOp::Deg2rad
                | UnaryOp::Rad2deg
                | UnaryOp::Not
        )
    }

    /// Whether a complex block goes to the complex math kernels rather than [`Ops`].
    fn is_complex_math(self) -> bool {
        self.is_float_math()
            || matches!(
                self,
                UnaryOp::Abs | UnaryOp::Conj | UnaryOp::Real | UnaryOp::Imag
            )
    }

    /// The dtype of the result for an input of `dtype`.
    pub(crate) fn dtype(self, dtype: DType) -> Result<DType> {
        let refuse = || {
            Err(ArrayError::UnsupportedDType {
                op: self.name(),
                dtype,
            })
        };
        match self {
            _ if dtype.is_complex() && self.is_real_only() => refuse(),
            UnaryOp::Real | UnaryOp::Imag => Ok(dtype.real()),
            UnaryOp::Abs => Ok(dtype.real()),
            UnaryOp::Conj => Ok(dtype),
            UnaryOp::Angle => Ok(dtype.float_result().real()),
            UnaryOp::Reciprocal if !dtype.is_inexact() => refuse(),
            _ if self.is_float_math() => Ok(dtype.float_result()),
            UnaryOp::IsNan | UnaryOp::IsInf | UnaryOp::IsFinite | UnaryOp::Signbit => {
                Ok(DType::Bool)
            }
            UnaryOp::Not if dtype.is_inexact() => refuse(),
            UnaryOp::Neg | UnaryOp::Sign if dtype == DType::Bool => refuse(),
            _ => Ok(dtype),
        }
    }
}

/// Arithmetic of one element type, with NumPy's integer conventions.
pub(crate) trait Ops: ArrayElement {
    fn add(a: Self, b: Self) -> Self;
    fn sub(a: Self, b: Self) -> Self;
    fn mul(a: Self, b: Self) -> Self;
    fn div(a: Self, b: Self) -> Self;
    fn floor_div(a: Self, b: Self) -> Self;
    fn rem(a: Self, b: Self) -> Self;
    fn pow(a: Self, b: Self) -> Option<Self>;
    fn bit_and(a: Self, b: Self) -> Self;
    fn bit_or(a: Self, b: Self) -> Self;
    fn bit_xor(a: Self, b: Self) -> Self;
    fn not(a: Self) -> Self;
    fn abs(a: Self) -> Self;
    fn neg(a: Self) -> Self;
    fn sign(a: Self) -> Self;
    fn floor(a: Self) -> Self;
    fn ceil(a: Self) -> Self;
    fn round(a: Self) -> Self;
    fn is_nan(a: Self) -> bool;
    fn is_inf(a: Self) -> bool;
    fn fmod(a: Self, b: Self) -> Self;
    fn trunc(a: Self) -> Self;
    fn signbit(a: Self) -> bool;
    fn nan_to_num(a: Self) -> Self;
}

macro_rules! int_ops {
    ($t:ty, $signed:expr) => {
        impl Ops for $t {
            #[inline]
            fn add(a: Self, b: Self) -> Self {
                a.wrapping_add(b)
            }
            fn sub(a: Self, b: Self) -> Self {
                a.wrapping_sub(b)
            }
            fn mul(a: Self, b: Self) -> Self {
                a.wrapping_mul(b)
            }
            fn div(a: Self, b: Self) -> Self {
                Self::floor_div(a, b)
            }
            fn floor_div(a: Self, b: Self) -> Self {
                if b == 0 {
                    return 0;
                }
                let q = a.wrapping_div(b);
                #[allow(unused_comparisons)]
                if $signed && a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
                    q.wrapping_sub(1)
                } else {
                    q
                }
            }
            fn rem(a: Self, b: Self) -> Self {
                if b == 0 {
                    return 0;
                }
                let r = a.wrapping_rem(b);
                #[allow(unused_comparisons)]
                if $signed && r != 0 && ((r < 0) != (b < 0)) {
                    r.wrapping_add(b)
                } else {
                    r
                }
            }
            fn pow(a: Self, b: Self) -> Option<Self> {
                #[allow(unused_comparisons)]
                if b < 0 {
                    return None;
                }
                let (mut base, mut e, mut acc) = (a, b as u64, 1 as Self);
                while e > 0 {
                    if e & 1 == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                Some(acc)
            }
            fn bit_and(a: Self, b: Self) -> Self {
                a & b
            }
            fn bit_or(a: Self, b: Self) -> Self {
                a | b
            }
            fn bit_xor(a: Self, b: Self) -> Self {
                a ^ b
            }
            fn not(a: Self) -> Self {
                !a
            }
            #[allow(unused_comparisons)]
            fn abs(a: Self) -> Self {
                if a < 0 {
                    (0 as Self).wrapping_sub(a)
                } else {
                    a
                }
            }
            fn neg(a: Self) -> Self {
                (0 as Self).wrapping_sub(a)
            }
            #[allow(unused_comparisons)]
            fn sign(a: Self) -> Self {
                if a > 0 {
                    1
                } else if a < 0 {
                    (0 as Self).wrapping_sub(1)
                } else {
                    0
                }
            }
            fn floor(a: Self) -> Self {
                a
            }
            fn ceil(a: Self) -> Self {
                a
            }
            fn round(a: Self) -> Self {
                a
            }
            fn is_nan(_: Self) -> bool {
                false
            }
            fn is_inf(_: Self) -> bool {
                false
            }
            fn fmod(a: Self, b: Self) -> Self {
                if b == 0 { 0 } else { a.wrapping_rem(b) }
            }
            fn trunc(a: Self) -> Self {
                a
            }
            #[allow(unused_comparisons)]
            fn signbit(a: Self) -> bool {
                a < 0
            }
            fn nan_to_num(a: Self) -> Self {
                a
            }
        }
    };
}

int_ops!(i8, true);
int_ops!(i16, true);
int_ops!(i32, true);
int_ops!(i64, true);
int_ops!(u8, false);
int_ops!(u16, false);
int_ops!(u32, false);
int_ops!(u64, false);

macro_rules! float_ops {
    ($t:ty) => {
        impl Ops for $t {
            #[inline]
            fn add(a: Self, b: Self) -> Self {
                a + b
            }
            fn sub(a: Self, b: Self) -> Self {
                a - b
            }
            fn mul(a: Self, b: Self) -> Self {
                a * b
            }
            fn div(a: Self, b: Self) -> Self {
                a / b
            }
            /// NumPy's `npy_divmod`: from the C remainder, so that `a // b` agrees with
            /// `a % b` (`1.0 // 0.1` is 9, as `1.0 % 0.1` is 0.0999…).
            fn floor_div(a: Self, b: Self) -> Self {
                if b == 0.0 {
                    return a / b;
                }
                let m = a % b;
                let mut div = (a - m) / b;
                if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
                    div -= 1.0;
                }
                if div != 0.0 {
                    let f = div.floor();
                    if div - f > 0.5 { f + 1.0 } else { f }
                } else {
                    (0.0 as Self).copysign(a / b)
                }
            }
            fn rem(a: Self, b: Self) -> Self {
                let r = a % b;
                if r == 0.0 {
                    // A zero remainder takes the divisor's sign, as NumPy's
                    // (`-9.0 % 3.0` is `0.0`, `9.0 % -3.0` is `-0.0`).
                    (0.0 as Self).copysign(b)
                } else if (r < 0.0) != (b < 0.0) {
                    r + b
                } else {
                    r
                }
            }
            fn pow(a: Self, b: Self) -> Option<Self> {
                Some(a.powf(b))
            }
            fn bit_and(a: Self, _: Self) -> Self {
                a
            }
            fn bit_or(a: Self, _: Self) -> Self {
                a
            }
            fn bit_xor(a: Self, _: Self) -> Self {
                a
            }
            fn not(a: Self) -> Self {
                a
            }
            fn abs(a: Self) -> Self {
                a.abs()
            }
            fn neg(a: Self) -> Self {
                -a
            }
            fn sign(a: Self) -> Self {
                if a > 0.0 {
                    1.0
                } else if a < 0.0 {
                    -1.0
                } else {
                    a
                }
            }
            fn floor(a: Self) -> Self {
                a.floor()
            }
            fn ceil(a: Self) -> Self {
                a.ceil()
            }
            fn round(a: Self) -> Self {
                a.round_ties_even()
            }
            fn is_nan(a: Self) -> bool {
                a.is_nan()
            }
            fn is_inf(a: Self) -> bool {
                a.is_infinite()
            }
            fn fmod(a: Self, b: Self) -> Self {
                a % b
            }
            fn trunc(a: Self) -> Self {
                a.trunc()
            }
            fn signbit(a: Self) -> bool {
                a.is_sign_negative()
            }
            fn nan_to_num(a: Self) -> Self {
                if a.is_nan() {
                    0.0
                } else if a == <$t>::INFINITY {
                    <$t>::MAX
                } else if a == <$t>::NEG_INFINITY {
                    <$t>::MIN
                } else {
                    a
                }
            }
        }
    };
}

float_ops!(f32);
float_ops!(f64);

impl Ops for bool {
    fn add(a: Self, b: Self) -> Self {
        a | b
    }
    fn sub(a: Self, b: Self) -> Self {
        a ^ b
    }
    fn mul(a: Self, b: Self) -> Self {
        a & b
    }
    fn div(a: Self, _: Self) -> Self {
        a
    }
    fn floor_div(a: Self, _: Self) -> Self {
        a
    }
    fn rem(a: Self, _: Self) -> Self {
        a
    }
    fn pow(a: Self, _: Self) -> Option<Self> {
        Some(a)
    }
    fn bit_and(a: Self, b: Self) -> Self {
        a & b
    }
    fn bit_or(a: Self, b: Self) -> Self {
        a | b
    }
    fn bit_xor(a: Self, b: Self) -> Self {
        a ^ b
    }
    fn not(a: Self) -> Self {
        !a
    }
    fn abs(a: Self) -> Self {
        a
    }
    fn neg(a: Self) -> Self {
        a
    }
    fn sign(a: Self) -> Self {
        a
    }
    fn floor(a: Self) -> Self {
        a
    }
    fn ceil(a: Self) -> Self {
        a
    }
    fn round(a: Self) -> Self {
        a
    }
    fn is_nan(_: Self) -> bool {
        false
    }
    fn is_inf(_: Self) -> bool {
        false
    }
    fn fmod(a: Self, _: Self) -> Self {
        a
    }
    fn trunc(a: Self) -> Self {
        a
    }
    fn signbit(_: Self) -> bool {
        false
    }
    fn nan_to_num(a: Self) -> Self {
        a
    }
}

/// Runs `f` with a view of `b` as `T`, converting (one copy) only if the dtype differs.
pub(crate) fn with_view<T: ArrayElement, R>(
    b: &BlockRef<'_>,
    f: impl FnOnce(ArrayViewD<'_, T>) -> R,
) -> R {
    f(b.typed::<T>().view())
}

fn broadcast_err(a: &[usize], shape: &[usize]) -> TaskError {
    TaskError::msg(format!(
        "internal error: cannot broadcast a block of {a:?} to {shape:?}"
    ))
}

/// `f` over two views broadcast to `shape`.
fn zip2<A: Copy, B: Copy, R>(
    a: ArrayViewD<'_, A>,
    b: ArrayViewD<'_, B>,
    shape: &[usize],
    f: impl Fn(A, B) -> R,
) -> Result<ArrayD<R>, TaskError> {
    let a = a
        .broadcast(IxDyn(shape))
        .ok_or_else(|| broadcast_err(a.shape(), shape))?;
    let b = b
        .broadcast(IxDyn(shape))
        .ok_or_else(|| broadcast_err(b.shape(), shape))?;
    Ok(Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)))
}

/// `f` over two blocks broadcast to `shape`, as a block of `T`. Generic over the closure so
/// that each operation is inlined into its loop. An operand of another dtype that already
/// has the output's shape is converted once into the output's memory and combined in
/// place (`real * complex` makes one complex array, not two).
fn arith<T: Ops, F: Fn(T, T) -> T>(
    a: &BlockRef<'_>,
    b: &BlockRef<'_>,
    shape: &[usize],
    f: F,
) -> Result<DynArray, TaskError> {
    let in_place =
        |x: &BlockRef<'_>| x.view::<T>().is_none() && x.is_standard() && x.shape() == shape;
    if in_place(a) {
        let mut out = a.to_typed::<T>();
        with_view::<T, _>(b, |b| {
            let b = b
                .broadcast(IxDyn(shape))
                .ok_or_else(|| broadcast_err(b.shape(), shape))?;
            Zip::from(&mut out).and(&b).for_each(|o, &y| *o = f(*o, y));
            Ok(T::wrap(out))
        })
    } else if in_place(b) {
        let mut out = b.to_typed::<T>();
        with_view::<T, _>(a, |a| {
            let a = a
                .broadcast(IxDyn(shape))
                .ok_or_else(|| broadcast_err(a.shape(), shape))?;
            Zip::from(&mut out).and(&a).for_each(|o, &x| *o = f(x, *o));
            Ok(T::wrap(out))
        })
    } else {
        with_view::<T, _>(a, |a| {
            with_view::<T, _>(b, |b| zip2(a, b, shape, &f).map(T::wrap))
        })
    }
}

fn compare<T: Ops, F: Fn(&T, &T) -> bool>(
    a: ArrayViewD<'_, T>,
    b: ArrayViewD<'_, T>,
    shape: &[usize],
    f: F,
) -> Result<DynArray, TaskError> {
    zip2(a, b, shape, move |x: T, y: T| f(&x, &y)).map(DynArray::from)
}

/// `x` if `pick_x` (its comparison with `y`) holds, else `y` — a NaN on one side gives the
/// other (NumPy's `fmax`/`fmin`).
#[inline]
fn ignoring_nan<T: Ops>(x: T, y: T, pick_x: bool) -> T {
    if T::is_nan(x) || !(pick_x || T::is_nan(y)) {
        y
    } else {
        x
    }
}

fn binary_typed<T: Ops>(
    op: BinaryOp,
    a: &BlockRef<'_>,
    b: &BlockRef<'_>,
    shape: &[usize],
) -> Result<DynArray, TaskError> {
    match op {
        BinaryOp::Add => arith(a, b, shape, T::add),
        BinaryOp::Sub => arith(a, b, shape, T::sub),
        BinaryOp::Mul => arith(a, b, shape, T::mul),
        BinaryOp::Div => arith(a, b, shape, T::div),
        BinaryOp::FloorDiv => arith(a, b, shape, T::floor_div),
        BinaryOp::Rem => arith(a, b, shape, T::rem),
        BinaryOp::And => arith(a, b, shape, T::bit_and),
        BinaryOp::Or => arith(a, b, shape, T::bit_or),
        BinaryOp::Xor => arith(a, b, shape, T::bit_xor),
        BinaryOp::Maximum => arith(
            a,
            b,
            shape,
            |x, y| if T::is_nan(x) || x >= y { x } else { y },
        ),
        BinaryOp::Minimum => arith(
            a,
            b,
            shape,
            |x, y| if T::is_nan(x) || x <= y { x } else { y },
        ),
        BinaryOp::Fmod => arith(a, b, shape, T::fmod),
        BinaryOp::Fmax => arith(a, b, shape, |x: T, y| ignoring_nan(x, y, x >= y)),
        BinaryOp::Fmin => arith(a, b, shape, |x: T, y| ignoring_nan(x, y, x <= y)),
        BinaryOp::Arctan2 | BinaryOp::Hypot | BinaryOp::Copysign | BinaryOp::Logaddexp => {
            unreachable!("float math is dispatched on float types by `binary`")
        }
        _ => with_view::<T, _>(a, |a| {
            with_view::<T, _>(b, |b| {
                let (a, b) = (a.view(), b.view());
                match op {
                    BinaryOp::Pow => {
                        let out = zip2(a, b, shape, |x: T, y: T| T::pow(x, y))?;
                        if out.iter().any(Option::is_none) {
                            return Err(TaskError::msg(
                                "integers to negative integer powers are not allowed",
                            ));
                        }
                        Ok(T::wrap(out.mapv(|v| v.unwrap_or_else(T::zero))))
                    }
                    BinaryOp::Eq => compare(a, b, shape, T::eq),
                    BinaryOp::Ne => compare(a, b, shape, T::ne),
                    BinaryOp::Lt => compare(a, b, shape, T::lt),
                    BinaryOp::Le => compare(a, b, shape, T::le),
                    BinaryOp::Gt => compare(a, b, shape, T::gt),
                    _ => compare(a, b, shape, T::ge),
                }
            })
        }),
    }
}

/// A float-only binary operation on two blocks as `$t`.
macro_rules! float_binary {
    ($t:ty, $op:expr, $a:expr, $b:expr, $shape:expr) => {
        with_view::<$t, _>($a, |a| {
            with_view::<$t, _>($b, |b| {
                let f: fn($t, $t) -> $t = match $op {
                    BinaryOp::Arctan2 => <$t>::atan2,
                    BinaryOp::Hypot => <$t>::hypot,
                    BinaryOp::Copysign => <$t>::copysign,
                    _ => |x: $t, y: $t| {
                        // log(eˣ + eʸ) = max + log1p(e^-(|x - y|)), exact at ±∞.
                        let m = x.max(y);
                        if x.is_nan() || y.is_nan() {
                            <$t>::NAN
                        } else if m == <$t>::NEG_INFINITY || m == <$t>::INFINITY && x == y {
                            m
                        } else {
                            m + (-(x - y).abs()).exp().ln_1p()
                        }
                    },
                };
                zip2(a.view(), b.view(), $shape, f).map(<$t as ArrayElement>::wrap)
            })
        })?
    };
}

/// Computes `op` on two blocks in `compute_in`, giving a block of `shape` and `out` dtype.
pub(crate) fn binary(
    op: BinaryOp,
    a: &BlockRef<'_>,
    b: &BlockRef<'_>,
    compute_in: DType,
    out: DType,
    shape: &[usize],
) -> Result<DynArray, TaskError> {
    if op.is_float_math() {
        return Ok(match compute_in {
            DType::F32 => float_binary!(f32, op, a, b, shape),
            _ => float_binary!(f64, op, a, b, shape),
        });
    }
    let r = with_dtype!(compute_in, T => binary_typed::<T>(op, a, b, shape)?);
    Ok(r.astype(out))
}

fn unary_typed<T: Ops>(op: UnaryOp, a: &BlockRef<'_>) -> DynArray {
    with_view::<T, _>(a, |a| match op {
        UnaryOp::Abs => T::wrap(a.mapv(T::abs)),
        UnaryOp::Neg => T::wrap(a.mapv(T::neg)),
        UnaryOp::Sign => T::wrap(a.mapv(T::sign)),
        UnaryOp::Floor => T::wrap(a.mapv(T::floor)),
        UnaryOp::Ceil => T::wrap(a.mapv(T::ceil)),
        UnaryOp::Round => T::wrap(a.mapv(T::round)),
        UnaryOp::Not => T::wrap(a.mapv(T::not)),
        UnaryOp::Square => T::wrap(a.mapv(|x| T::mul(x, x))),
        UnaryOp::IsNan => DynArray::from(a.mapv(T::is_nan)),
        UnaryOp::IsInf => DynArray::from(a.mapv(T::is_inf)),
        UnaryOp::IsFinite => DynArray::from(a.mapv(|x| !T::is_nan(x) && !T::is_inf(x))),
        UnaryOp::Trunc => T::wrap(a.mapv(T::trunc)),
        UnaryOp::Signbit => DynArray::from(a.mapv(T::signbit)),
        UnaryOp::NanToNum => T::wrap(a.mapv(T::nan_to_num)),
        UnaryOp::Conj | UnaryOp::Real => T::wrap(a.to_owned()),
        UnaryOp::Imag => T::wrap(ArrayD::from_elem(a.raw_dim(), T::zero())),
        _ => unreachable!("float math is dispatched on float types"),
    })
}

macro_rules! float_math {
    ($t:ty, $op:expr, $a:expr) => {
        with_view::<$t, _>($a, |a| {
            <$t as ArrayElement>::wrap(match $op {
                UnaryOp::Sqrt => a.mapv(<$t>::sqrt),
                UnaryOp::Exp => a.mapv(<$t>::exp),
                UnaryOp::Log => a.mapv(<$t>::ln),
                UnaryOp::Log2 => a.mapv(<$t>::log2),
                UnaryOp::Log10 => a.mapv(<$t>::log10),
                UnaryOp::Sin => a.mapv(<$t>::sin),
                UnaryOp::Cos => a.mapv(<$t>::cos),
                UnaryOp::Tan => a.mapv(<$t>::tan),
                UnaryOp::Arcsin => a.mapv(<$t>::asin),
                UnaryOp::Arccos => a.mapv(<$t>::acos),
                UnaryOp::Arctan => a.mapv(<$t>::atan),
                UnaryOp::Sinh => a.mapv(<$t>::sinh),
                UnaryOp::Cosh => a.mapv(<$t>::cosh),
                UnaryOp::Tanh => a.mapv(<$t>::tanh),
                // std's asinh overflows for the largest values: ln(2|x|) there.
                UnaryOp::Arcsinh => a.mapv(|v: $t| {
                    if v.abs() > 268_435_456.0 {
                        (v.abs().ln() + std::f64::consts::LN_2 as $t).copysign(v)
                    } else {
                        v.asinh()
                    }
                }),
                // std's acosh loses digits near 1; from t = x - 1 (exact there) it does not.
                UnaryOp::Arccosh => a.mapv(|v: $t| {
                    if v < 1.0 {
                        <$t>::NAN
                    } else if v > 268_435_456.0 {
                        v.ln() + std::f64::consts::LN_2 as $t
                    } else {
                        let t = v - 1.0;
                        (t + (t * (t + 2.0)).sqrt()).ln_1p()
                    }
                }),
                // std's atanh loses digits near ±1; the difference of two log1p does not.
                UnaryOp::Arctanh => a.mapv(|v: $t| 0.5 * (v.ln_1p() - (-v).ln_1p())),
                UnaryOp::Log1p => a.mapv(<$t>::ln_1p),
                UnaryOp::Expm1 => a.mapv(<$t>::exp_m1),
                UnaryOp::Exp2 => a.mapv(<$t>::exp2),
                UnaryOp::Cbrt => a.mapv(<$t>::cbrt),
                UnaryOp::Deg2rad => a.mapv(<$t>::to_radians),
                UnaryOp::Rad2deg => a.mapv(<$t>::to_degrees),
                UnaryOp::Angle => a.mapv(|v: $t| (0.0 as $t).atan2(v)),
                _ => a.mapv(<$t>::recip),
            })
        })
    };
}

/// Computes `op` on a block, giving a block of dtype `out`.
pub(crate) fn unary(op: UnaryOp, a: &BlockRef<'_>, out: DType) -> Result<DynArray, TaskError> {
    if a.dtype().is_complex() && op.is_complex_math() {
        return super::complex::unary(op, a, a.dtype());
    }
    if op.is_float_math() {
        return Ok(match out {
            DType::F32 => float_math!(f32, op, a),
            _ => float_math!(f64, op, a),
        });
    }
    Ok(with_dtype!(a.dtype(), T => unary_typed::<T>(op, a)))
}

/// `where(cond, x, y)` on blocks, broadcast to `shape`, in dtype `out`.
pub(crate) fn select(
    cond: &BlockRef<'_>,
    x: &BlockRef<'_>,
    y: &BlockRef<'_>,
    out: DType,
    shape: &[usize],
) -> Result<DynArray, TaskError> {
    with_view::<bool, _>(cond, |c| {
        with_dtype!(out, T => with_view::<T, _>(x, |x| with_view::<T, _>(y, |y| {
            let c = c.broadcast(IxDyn(shape)).ok_or_else(|| broadcast_err(c.shape(), shape))?;
            let x = x.broadcast(IxDyn(shape)).ok_or_else(|| broadcast_err(x.shape(), shape))?;
            let y = y.broadcast(IxDyn(shape)).ok_or_else(|| broadcast_err(y.shape(), shape))?;
            Ok(T::wrap(Zip::from(&c).and(&x).and(&y).map_collect(|&c, &x, &y| if c { x } else { y })))
        })))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_division_follows_python() {
        assert_eq!(<i32 as Ops>::floor_div(-7, 2), -4);
        assert_eq!(<i32 as Ops>::rem(-7, 2), 1);
        assert_eq!(<i32 as Ops>::rem(7, -2), -1);
        assert_eq!(<i32 as Ops>::floor_div(7, 0), 0);
        assert_eq!(<f64 as Ops>::rem(-7.5, 2.0), 0.5);
        // NumPy's floor division agrees with its remainder.
        assert_eq!(<f64 as Ops>::floor_div(1.0, 0.1), 9.0);
        assert_eq!(<f64 as Ops>::floor_div(-1.0, f64::INFINITY), -1.0);
        assert!(<f64 as Ops>::floor_div(f64::INFINITY, 1.5).is_nan());
        assert_eq!(<f64 as Ops>::floor_div(-7.0, 2.0), -4.0);
        assert_eq!(<f64 as Ops>::floor_div(1.0, 0.0), f64::INFINITY);
        assert_eq!(<u8 as Ops>::pow(3, 5), Some(243));
        assert_eq!(<i8 as Ops>::pow(2, -1), None);
    }
}
