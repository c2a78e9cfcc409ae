//! The element types behind each [`DType`], and the conversions between them.

use crate::DType;

/// A Rust type that can be an array element.
///
/// Conversions follow NumPy's `astype` (C casts): floats to integers truncate toward zero
/// (NaN and out-of-range values saturate, where C leaves them undefined), integers wrap.
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

/// Converts one element to another type as `astype` does.
pub fn cast<A: Element, B: Element>(x: A) -> B {
    match (A::DTYPE.is_float(), B::DTYPE) {
        (_, DType::Bool) => B::from_f64(if x.to_f64() != 0.0 || x.to_f64().is_nan() {
            1.0
        } else {
            0.0
        }),
        (true, _) | (_, DType::F32 | DType::F64) => B::from_f64(x.to_f64()),
        (false, _) => B::from_i128(x.to_i128()),
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
    }
}
