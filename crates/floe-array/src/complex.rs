//! Complex elements (`complex64`, `complex128`), ordered as NumPy orders them.
//!
//! The math (`exp`, `sqrt`, `powc`…) is `num_complex`'s; floe's own type exists because
//! array elements must be ordered (sorting, `max`, `unique`), and NumPy orders complex
//! numbers lexicographically: by real part, then by imaginary part.

use std::cmp::Ordering;
use std::fmt;

use num_traits::Float;

/// A complex number with parts of type `T` (`f32` or `f64`).
///
/// Ordered lexicographically as NumPy orders complex numbers; a NaN in either part makes
/// it unordered (every comparison with it is false, as in NumPy).
///
/// # Examples
///
/// ```
/// use floe_array::Complex128;
///
/// let z = Complex128::new(1.0, 2.0);
/// assert!(z < Complex128::new(1.0, 3.0));
/// assert!(z > Complex128::new(0.5, 9.0));
/// assert_eq!(z * z, Complex128::new(-3.0, 4.0));
/// assert_eq!(z.conj(), Complex128::new(1.0, -2.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Complex<T> {
    /// The real part.
    pub re: T,
    /// The imaginary part.
    pub im: T,
}

/// NumPy's `complex64`: two `float32` parts.
pub type Complex64 = Complex<f32>;
/// NumPy's `complex128`: two `float64` parts.
pub type Complex128 = Complex<f64>;

impl<T> Complex<T> {
    /// `re + im·i`.
    pub const fn new(re: T, im: T) -> Self {
        Complex { re, im }
    }
}

impl<T: Float> Complex<T> {
    /// The complex conjugate.
    pub fn conj(self) -> Self {
        Complex::new(self.re, -self.im)
    }

    /// Whether either part is NaN.
    pub fn is_nan(self) -> bool {
        self.re.is_nan() || self.im.is_nan()
    }
}

impl<T: Float> PartialOrd for Complex<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.is_nan() || other.is_nan() {
            return None;
        }
        match self.re.partial_cmp(&other.re)? {
            Ordering::Equal => self.im.partial_cmp(&other.im),
            unequal => Some(unequal),
        }
    }
}

impl<T> From<num_complex::Complex<T>> for Complex<T> {
    fn from(z: num_complex::Complex<T>) -> Self {
        Complex::new(z.re, z.im)
    }
}

impl<T> From<Complex<T>> for num_complex::Complex<T> {
    fn from(z: Complex<T>) -> Self {
        num_complex::Complex::new(z.re, z.im)
    }
}

impl<T: Clone + num_traits::Num> Complex<T> {
    /// As `num_complex`'s type, for its math.
    pub fn nc(self) -> num_complex::Complex<T> {
        self.into()
    }
}

macro_rules! arith {
    ($($tr:ident $f:ident),+) => {
        $(
            impl<T: Clone + num_traits::Num> std::ops::$tr for Complex<T> {
                type Output = Self;
                fn $f(self, rhs: Self) -> Self {
                    std::ops::$tr::$f(self.nc(), rhs.nc()).into()
                }
            }
        )+
    };
}

arith!(Add add, Sub sub, Mul mul, Div div);

impl<T: Clone + num_traits::Num + std::ops::Neg<Output = T>> std::ops::Neg for Complex<T> {
    type Output = Self;
    fn neg(self) -> Self {
        (-self.nc()).into()
    }
}

impl<T: Float + fmt::Display> fmt::Display for Complex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.im < T::zero() { "-" } else { "+" };
        let im = if self.im < T::zero() {
            format!("{}", self.im).trim_start_matches('-').to_owned()
        } else {
            format!("{}", self.im)
        };
        write!(f, "{}{sign}{im}j", self.re)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_lexicographic_and_nan_is_unordered() {
        let a = Complex128::new(1.0, 5.0);
        let b = Complex128::new(2.0, -5.0);
        assert!(a < b);
        assert!(Complex128::new(1.0, 4.0) < a);
        assert_eq!(a.partial_cmp(&a), Some(Ordering::Equal));
        let nan = Complex128::new(0.0, f64::NAN);
        assert_eq!(nan.partial_cmp(&a), None);
        assert!(nan.partial_cmp(&a).is_none() && nan.partial_cmp(&nan).is_none());
        assert!(!nan.lt(&a) && !nan.gt(&a) && nan != nan);
    }

    #[test]
    fn displays_as_numpy() {
        assert_eq!(Complex128::new(1.5, -2.0).to_string(), "1.5-2j");
        assert_eq!(Complex64::new(0.0, 3.0).to_string(), "0+3j");
    }
}
