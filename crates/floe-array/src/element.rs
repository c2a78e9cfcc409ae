//! The element types behind each [`DType`], and the conversions between them.

use crate::{Complex, DType, Kind};

/// A Rust type that can be an array element.
///
/// Conversions follow NumPy's `astype` (C casts): floats to integers truncate toward zero
/// (NaN and out-of-range values saturate, where C leaves them undefined), integers wrap,
/// complex numbers to real types keep their real part (NumPy warns and does the same).
pub trait Element: Copy + Default + Send + Sync + PartialOrd + std::fmt::Debug + 'static {
    /// The dtype of this type.
    const DTYPE: DType;
    /// Converts to `f64` (booleans to 0 and 1).
    fn to_f64(self) -> f64;
    /// Converts from `f64` as `astype` does.
    fn from_f64(x: f64) -> Self;
    /// Converts to `i128`, exactly for integers (floats truncate).
    fn to_i128(self) -> i128;
    /// Converts from `i128`, wrapping as `astype` does.
    fn from_i128(x: i128) -> Self;
    /// Zero.
    fn zero() -> Self;
    /// One.
    fn one() -> Self;
    /// Converts to `complex128` (real types with a zero imaginary part).
    fn to_c128(self) -> Complex<f64> {
        Complex::new(self.to_f64(), 0.0)
    }
    /// Converts from `complex128` as `astype` does (real types keep the real part).
    fn from_c128(z: Complex<f64>) -> Self {
        Self::from_f64(z.re)
    }
    /// Whether this is not zero (NaN counts as not zero, as NumPy's `bool(nan)`).
    fn is_nonzero(self) -> bool {
        self.to_f64() != 0.0 || self.to_f64().is_nan()
    }
}

macro_rules! numeric_element {
    ($($t:ty => $d:ident, $zero:expr, $one:expr);+ $(;)?) => {
        $(
            impl Element for $t {
                const DTYPE: DType = DType::$d;
                fn to_f64(self) -> f64 {
                    self as f64
                }
                fn from_f64(x: f64) -> Self {
                    x as $t
                }
                fn to_i128(self) -> i128 {
                    self as i128
                }
                fn from_i128(x: i128) -> Self {
                    x as $t
                }
                fn zero() -> Self {
                    $zero
                }
                fn one() -> Self {
                    $one
                }
            }
        )+
    };
}

numeric_element!(
    i8 => I8, 0, 1;
    i16 => I16, 0, 1;
    i32 => I32, 0, 1;
    i64 => I64, 0, 1;
    u8 => U8, 0, 1;
    u16 => U16, 0, 1;
    u32 => U32, 0, 1;
    u64 => U64, 0, 1;
    f32 => F32, 0.0, 1.0;
    f64 => F64, 0.0, 1.0;
);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    fn from_f64(x: f64) -> Self {
        x != 0.0
    }
    fn to_i128(self) -> i128 {
        i128::from(self)
    }
    fn from_i128(x: i128) -> Self {
        x != 0
    }
    fn zero() -> Self {
        false
    }
    fn one() -> Self {
        true
    }
}

macro_rules! complex_element {
    ($($t:ty => $d:ident);+) => {
        $(
            impl Element for Complex<$t> {
                const DTYPE: DType = DType::$d;
                fn to_f64(self) -> f64 {
                    f64::from(self.re)
                }
                fn from_f64(x: f64) -> Self {
                    Complex::new(x as $t, 0.0)
                }
                fn to_i128(self) -> i128 {
                    self.re as i128
                }
                fn from_i128(x: i128) -> Self {
                    Complex::new(x as $t, 0.0)
                }
                fn zero() -> Self {
                    Complex::new(0.0, 0.0)
                }
                fn one() -> Self {
                    Complex::new(1.0, 0.0)
                }
                fn to_c128(self) -> Complex<f64> {
                    Complex::new(f64::from(self.re), f64::from(self.im))
                }
                fn from_c128(z: Complex<f64>) -> Self {
                    Complex::new(z.re as $t, z.im as $t)
                }
                fn is_nonzero(self) -> bool {
                    self.re != 0.0 || self.im != 0.0
                }
            }
        )+
    };
}

complex_element!(f32 => C64; f64 => C128);

/// Converts one element to another type as `astype` does.
pub fn cast<A: Element, B: Element>(x: A) -> B {
    match (A::DTYPE.kind(), B::DTYPE.kind()) {
        (_, Kind::Bool) => B::from_f64(if x.is_nonzero() { 1.0 } else { 0.0 }),
        (_, Kind::Complex) => B::from_c128(x.to_c128()),
        (Kind::Float | Kind::Complex, _) | (_, Kind::Float) => B::from_f64(x.to_f64()),
        _ => B::from_i128(x.to_i128()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_follow_astype() {
        assert_eq!(cast::<f64, i32>(-2.7), -2);
        assert_eq!(cast::<i32, u8>(300), 44);
        assert_eq!(cast::<i64, f32>(3), 3.0);
        assert!(cast::<f64, bool>(f64::NAN));
        assert!(!cast::<i8, bool>(0));
        assert_eq!(cast::<bool, f64>(true), 1.0);
        assert_eq!(cast::<u64, i64>(u64::MAX), -1);
        let z = Complex::new(-2.5_f64, 3.0);
        assert_eq!(cast::<_, Complex<f32>>(z), Complex::new(-2.5_f32, 3.0));
        assert_eq!(cast::<_, f64>(z), -2.5);
        assert_eq!(cast::<_, i8>(z), -2);
        assert!(cast::<_, bool>(Complex::new(0.0_f32, 1.0)));
        assert!(!cast::<_, bool>(Complex::new(0.0_f32, 0.0)));
        assert_eq!(cast::<i32, Complex<f64>>(7), Complex::new(7.0, 0.0));
    }
}
