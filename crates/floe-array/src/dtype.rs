//! Runtime element types and NumPy's promotion rules.

use std::fmt;

/// The element type of an array, known at run time (files and Python hand us dtypes).
///
/// # Examples
///
/// ```
/// use floe_array::DType;
///
/// assert_eq!(DType::I8.promote(DType::U8), DType::I16);
/// assert_eq!(DType::I32.promote(DType::F32), DType::F64);
/// assert_eq!(DType::I16.promote(DType::F32), DType::F32);
/// assert_eq!(DType::F64.to_string(), "float64");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DType {
    /// `bool`
    Bool,
    /// `int8`
    I8,
    /// `int16`
    I16,
    /// `int32`
    I32,
    /// `int64`
    I64,
    /// `uint8`
    U8,
    /// `uint16`
    U16,
    /// `uint32`
    U32,
    /// `uint64`
    U64,
    /// `float32`
    F32,
    /// `float64`
    F64,
    /// `complex64`: two `float32` parts ([`Complex64`](crate::Complex64)).
    C64,
    /// `complex128`: two `float64` parts ([`Complex128`](crate::Complex128)).
    C128,
}

/// The kind of a dtype, as NumPy's `dtype.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `b`
    Bool,
    /// `u`
    Unsigned,
    /// `i`
    Signed,
    /// `f`
    Float,
    /// `c`
    Complex,
}

impl DType {
    /// Every dtype.
    pub const ALL: [DType; 13] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F32,
        DType::F64,
        DType::C64,
        DType::C128,
    ];

    /// Bytes per element.
    pub fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
        }
    }

    /// The kind: bool, unsigned, signed, float or complex.
    pub fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::U8 | DType::U16 | DType::U32 | DType::U64 => Kind::Unsigned,
            DType::I8 | DType::I16 | DType::I32 | DType::I64 => Kind::Signed,
            DType::F32 | DType::F64 => Kind::Float,
            DType::C64 | DType::C128 => Kind::Complex,
        }
    }

    /// Whether this is `float32` or `float64`.
    pub fn is_float(self) -> bool {
        self.kind() == Kind::Float
    }

    /// Whether this is `complex64` or `complex128`.
    pub fn is_complex(self) -> bool {
        self.kind() == Kind::Complex
    }

    /// Whether this is a float or complex type (NumPy's `inexact`).
    pub fn is_inexact(self) -> bool {
        matches!(self.kind(), Kind::Float | Kind::Complex)
    }

    /// The type of a complex type's parts (`complex64` → `float32`); other types as they are.
    ///
    /// ```
    /// use floe_array::DType;
    /// assert_eq!(DType::C128.real(), DType::F64);
    /// assert_eq!(DType::I32.real(), DType::I32);
    /// ```
    pub fn real(self) -> DType {
        match self {
            DType::C64 => DType::F32,
            DType::C128 => DType::F64,
            other => other,
        }
    }

    /// The complex type that holds values of this type exactly where NumPy's promotion
    /// does (`float32` → `complex64`, `int32` → `complex128`).
    ///
    /// ```
    /// use floe_array::DType;
    /// assert_eq!(DType::F32.complex(), DType::C64);
    /// assert_eq!(DType::I64.complex(), DType::C128);
    /// ```
    pub fn complex(self) -> DType {
        match self.float_result() {
            DType::F32 | DType::C64 => DType::C64,
            _ => DType::C128,
        }
    }

    /// `Ok` for real types; [`ArrayError::UnsupportedDType`](crate::ArrayError) naming `op`
    /// for complex ones (orderings of values, bins and quantiles need real numbers).
    pub fn require_real(self, op: &'static str) -> crate::Result<()> {
        if self.is_complex() {
            Err(crate::ArrayError::UnsupportedDType { op, dtype: self })
        } else {
            Ok(())
        }
    }

    /// Whether this is a signed or unsigned integer type.
    pub fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::Signed | Kind::Unsigned)
    }

    /// NumPy's name: `float64`, `int8`, `bool`…
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
        }
    }

    /// The dtype named `name` (NumPy's names, plus `f4`/`f8`/`i8`-style codes).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" | "?" => DType::Bool,
            "int8" | "i1" => DType::I8,
            "int16" | "i2" => DType::I16,
            "int32" | "i4" => DType::I32,
            "int64" | "i8" | "int" => DType::I64,
            "uint8" | "u1" => DType::U8,
            "uint16" | "u2" => DType::U16,
            "uint32" | "u4" => DType::U32,
            "uint64" | "u8" => DType::U64,
            "float32" | "f4" => DType::F32,
            "float64" | "f8" | "float" => DType::F64,
            "complex64" | "c8" => DType::C64,
            "complex128" | "c16" | "complex" => DType::C128,
            _ => return None,
        })
    }

    fn signed_of_size(bytes: usize) -> DType {
        match bytes {
            1 => DType::I8,
            2 => DType::I16,
            4 => DType::I32,
            _ => DType::I64,
        }
    }

    /// The dtype of an operation on arrays of `self` and `other`: NumPy's `result_type`.
    ///
    /// Mixed signed and unsigned integers go to the next signed size that holds both
    /// (`uint64` with a signed type goes to `float64`, as in NumPy); integers with floats go
    /// to the smallest float that holds the integer exactly (`int16` + `float32` is
    /// `float32`, `int32` + `float32` is `float64`); anything with a complex type goes to
    /// the complex type whose parts hold both (`complex64` + `float64` is `complex128`).
    pub fn promote(self, other: DType) -> DType {
        use Kind::*;
        let (a, b) = if self.kind() <= other.kind() {
            (self, other)
        } else {
            (other, self)
        };
        match (a.kind(), b.kind()) {
            (Bool, _) => b,
            (Unsigned, Unsigned) | (Signed, Signed) | (Float, Float) => {
                if a.itemsize() >= b.itemsize() { a } else { b }
            }
            (Unsigned, Signed) => {
                if a == DType::U64 {
                    DType::F64
                } else if a.itemsize() < b.itemsize() {
                    b
                } else {
                    DType::signed_of_size(a.itemsize() * 2)
                }
            }
            (Unsigned | Signed, Float) => {
                if b == DType::F32 && a.itemsize() <= 2 {
                    DType::F32
                } else {
                    DType::F64
                }
            }
            (Complex, Complex) => {
                if a.itemsize() >= b.itemsize() {
                    a
                } else {
                    b
                }
            }
            (_, Complex) => a.promote(b.real()).complex(),
            _ => unreachable!("pairs are sorted by kind"),
        }
    }

    /// The float type math functions (`sqrt`, `exp`, `/`…) produce for this input.
    ///
    /// NumPy gives `float16` for 8-bit integers; floe has no `float16` and uses `float32`
    /// for 8- and 16-bit integers, `float64` for wider ones. Complex types stay complex.
    pub fn float_result(self) -> DType {
        match self {
            DType::F32 | DType::C64 | DType::C128 => self,
            DType::Bool | DType::I8 | DType::U8 | DType::I16 | DType::U16 => DType::F32,
            _ => DType::F64,
        }
    }

    /// The dtype `sum` and `prod` accumulate in: NumPy's platform integer for small
    /// integers and bools (`int64`/`uint64`), the input dtype otherwise.
    pub fn sum_result(self) -> DType {
        match self.kind() {
            Kind::Bool | Kind::Signed => DType::I64,
            Kind::Unsigned => DType::U64,
            Kind::Float | Kind::Complex => self,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotion_is_symmetric_and_idempotent() {
        for a in DType::ALL {
            assert_eq!(a.promote(a), a);
            for b in DType::ALL {
                assert_eq!(a.promote(b), b.promote(a), "{a} {b}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
        }
    }

    #[test]
    fn complex_promotion_follows_numpy() {
        assert_eq!(DType::C64.promote(DType::F32), DType::C64);
        assert_eq!(DType::C64.promote(DType::F64), DType::C128);
        assert_eq!(DType::C64.promote(DType::I16), DType::C64);
        assert_eq!(DType::C64.promote(DType::I32), DType::C128);
        assert_eq!(DType::C64.promote(DType::U64), DType::C128);
        assert_eq!(DType::Bool.promote(DType::C64), DType::C64);
        assert_eq!(DType::C128.promote(DType::C64), DType::C128);
    }
}
