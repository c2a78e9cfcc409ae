//! Complex kernels: arithmetic as NumPy does it (Smith's division, exact small integer
//! powers), and the math functions on `complex64`/`complex128` blocks.

use floe_graph::TaskError;
use num_complex::Complex as Nc;
use num_traits::{Float, FloatConst};

use super::elementwise::{Ops, UnaryOp, with_view};
use crate::block::BlockRef;
use crate::{ArrayElement, Complex, DType, DynArray};

/// `a / b` by Smith's method: no overflow or underflow from squaring `b`'s parts.
fn div<T: Float>(a: Complex<T>, b: Complex<T>) -> Complex<T> {
    let (ar, ai, br, bi) = (a.re, a.im, b.re, b.im);
    if br.abs() >= bi.abs() {
        if br == T::zero() && bi == T::zero() {
            // Division by zero: each part as the real division gives (inf or NaN).
            return Complex::new(ar / br.abs(), ai / br.abs());
        }
        let r = bi / br;
        let d = br + bi * r;
        Complex::new((ar + ai * r) / d, (ai - ar * r) / d)
    } else {
        let r = br / bi;
        let d = bi + br * r;
        Complex::new((ar * r + ai) / d, (ai * r - ar) / d)
    }
}

/// `a ** b`: exact repeated products for small integer exponents, as NumPy.
fn pow<T: Float>(a: Complex<T>, b: Complex<T>) -> Complex<T> {
    let one = Complex::new(T::one(), T::zero());
    if b.im == T::zero() {
        if b.re == T::zero() {
            return one;
        }
        if a.re == T::zero() && a.im == T::zero() && b.re > T::zero() {
            return Complex::new(T::zero(), T::zero());
        }
        let n = b.re;
        // NumPy's cases: 1, 2 and 3 as products of `a` alone (no product with 1, which
        // turns an infinite part into NaN), then repeated squaring below 100.
        if n == T::one() {
            return a;
        }
        if n == T::one() + T::one() {
            return a * a;
        }
        if n == T::one() + T::one() + T::one() {
            return a * (a * a);
        }
        if n.fract() == T::zero() && n.abs() < T::from(100).unwrap_or(T::zero()) {
            let mut k = n.abs().to_u32().unwrap_or(0);
            let (mut acc, mut base) = (one, a);
            while k > 0 {
                if k & 1 == 1 {
                    acc = acc * base;
                }
                base = base * base;
                k >>= 1;
            }
            return if n < T::zero() { div(one, acc) } else { acc };
        }
    }
    a.nc().powc(b.nc()).into()
}

/// `|z|`: the square root of the sum of squares where that cannot overflow or lose digits to
/// underflow (within an ulp of `hypot`, several times faster), `hypot` elsewhere.
#[inline]
fn magnitude<T: Float>(re: T, im: T) -> T {
    let s = re * re + im * im;
    // 2^54 above the smallest normal: squares that matter keep all their digits.
    let floor = T::min_positive_value() * T::from(18_014_398_509_481_984.0_f64).unwrap_or(T::one());
    if s.is_finite() && s >= floor {
        s.sqrt()
    } else {
        re.hypot(im)
    }
}

fn map_parts<T: Float>(z: Complex<T>, f: impl Fn(T) -> T) -> Complex<T> {
    Complex::new(f(z.re), f(z.im))
}

macro_rules! complex_ops {
    ($t:ty) => {
        impl Ops for Complex<$t> {
            #[inline]
            fn add(a: Self, b: Self) -> Self {
                Complex::new(a.re + b.re, a.im + b.im)
            }
            #[inline]
            fn sub(a: Self, b: Self) -> Self {
                Complex::new(a.re - b.re, a.im - b.im)
            }
            #[inline]
            fn mul(a: Self, b: Self) -> Self {
                Complex::new(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
            }
            fn div(a: Self, b: Self) -> Self {
                div(a, b)
            }
            fn pow(a: Self, b: Self) -> Option<Self> {
                Some(pow(a, b))
            }
            fn neg(a: Self) -> Self {
                Complex::new(-a.re, -a.im)
            }
            /// `z / |z|` (NumPy 2), zero for zero; at infinity the unit toward the infinite
            /// part (even with a NaN beside it), NaN when both parts are infinite — NumPy's
            /// order of cases.
            fn sign(a: Self) -> Self {
                let nan = Complex::new(<$t>::NAN, <$t>::NAN);
                match (a.re.is_infinite(), a.im.is_infinite()) {
                    (true, true) => nan,
                    (true, false) => Complex::new(a.re.signum(), 0.0),
                    (false, true) => Complex::new(0.0, a.im.signum()),
                    _ if a.is_nan() => nan,
                    _ => {
                        let m = magnitude(a.re, a.im);
                        if m == 0.0 {
                            Complex::new(0.0, 0.0)
                        } else {
                            Complex::new(a.re / m, a.im / m)
                        }
                    }
                }
            }
            fn round(a: Self) -> Self {
                map_parts(a, <$t>::round_ties_even)
            }
            fn is_nan(a: Self) -> bool {
                a.is_nan()
            }
            fn is_inf(a: Self) -> bool {
                a.re.is_infinite() || a.im.is_infinite()
            }
            fn nan_to_num(a: Self) -> Self {
                map_parts(a, <$t as Ops>::nan_to_num)
            }
            // Refused for complex dtypes before any block runs (`BinaryOp::dtypes`,
            // `UnaryOp::dtype`); these keep the trait total.
            fn floor_div(a: Self, _: Self) -> Self {
                a
            }
            fn rem(a: Self, _: Self) -> Self {
                a
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
                Complex::new(magnitude(a.re, a.im), 0.0)
            }
            fn floor(a: Self) -> Self {
                a
            }
            fn ceil(a: Self) -> Self {
                a
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
        }
    };
}

complex_ops!(f32);
complex_ops!(f64);

/// `log(1 + z)`, accurate for small `z`.
fn log1p<T: Float>(z: Nc<T>) -> Nc<T> {
    let (x, y) = (z.re, z.im);
    let two = T::one() + T::one();
    if x.abs() < T::one() && y.abs() < T::one() {
        // |1 + z|² - 1 = x(2 + x) + y², exact enough where it is small.
        let half = T::one() / two;
        Nc::new(
            half * (x * (two + x) + y * y).ln_1p(),
            y.atan2(T::one() + x),
        )
    } else {
        (Nc::new(T::one(), T::zero()) + z).ln()
    }
}

/// `exp(z) - 1`, accurate for small `z`.
fn expm1<T: Float>(z: Nc<T>) -> Nc<T> {
    let (x, y) = (z.re, z.im);
    let two = T::one() + T::one();
    let s = (y / two).sin();
    // eˣ cos y - 1 = expm1(x) cos y - 2 sin²(y/2).
    Nc::new(x.exp_m1() * y.cos() - two * s * s, x.exp() * y.sin())
}

fn complex_math<T: Float + FloatConst>(op: UnaryOp, z: Nc<T>) -> Nc<T> {
    let ln2 = T::LN_2();
    let ln10 = T::LN_10();
    match op {
        UnaryOp::Sqrt => z.sqrt(),
        UnaryOp::Exp => z.exp(),
        UnaryOp::Log => z.ln(),
        UnaryOp::Log2 => z.ln() / ln2,
        UnaryOp::Log10 => z.ln() / ln10,
        UnaryOp::Sin => z.sin(),
        UnaryOp::Cos => z.cos(),
        UnaryOp::Tan => z.tan(),
        UnaryOp::Arcsin => z.asin(),
        UnaryOp::Arccos => z.acos(),
        UnaryOp::Arctan => z.atan(),
        UnaryOp::Sinh => z.sinh(),
        UnaryOp::Cosh => z.cosh(),
        UnaryOp::Tanh => z.tanh(),
        UnaryOp::Arcsinh => z.asinh(),
        UnaryOp::Arccosh => z.acosh(),
        UnaryOp::Arctanh => z.atanh(),
        UnaryOp::Log1p => log1p(z),
        UnaryOp::Expm1 => expm1(z),
        UnaryOp::Exp2 => (z * ln2).exp(),
        UnaryOp::Reciprocal => div(Complex::new(T::one(), T::zero()), z.into()).into(),
        _ => unreachable!("only complex math reaches complex_math"),
    }
}

fn typed<T>(op: UnaryOp, a: &BlockRef<'_>) -> DynArray
where
    T: Float + FloatConst + ArrayElement,
    Complex<T>: ArrayElement,
{
    with_view::<Complex<T>, _>(a, |a| match op {
        UnaryOp::Abs => T::wrap(a.mapv(|z| magnitude(z.re, z.im))),
        UnaryOp::Real => T::wrap(a.mapv(|z| z.re)),
        UnaryOp::Imag => T::wrap(a.mapv(|z| z.im)),
        UnaryOp::Angle => T::wrap(a.mapv(|z| z.im.atan2(z.re))),
        UnaryOp::Conj => Complex::<T>::wrap(a.mapv(Complex::conj)),
        op => Complex::<T>::wrap(a.mapv(|z| complex_math(op, z.nc()).into())),
    })
}

/// Computes `op` on a block of a complex type, or a real block whose result is complex
/// (an integer or float block promoted by `astype`), giving a block of dtype `out`.
///
/// Elementwise operations that keep complex values go through [`Ops`]; this handles the
/// math functions and the ones that leave complex (`abs`, `real`, `imag`, `angle`).
pub(crate) fn unary(op: UnaryOp, a: &BlockRef<'_>, input: DType) -> Result<DynArray, TaskError> {
    Ok(match input {
        DType::C64 => typed::<f32>(op, a),
        _ => typed::<f64>(op, a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type C = Complex<f64>;

    fn close(a: C, b: C) -> bool {
        let scale = 1.0_f64.max(b.re.abs()).max(b.im.abs());
        (a.re - b.re).abs() <= 1e-14 * scale && (a.im - b.im).abs() <= 1e-14 * scale
    }

    #[test]
    fn division_does_not_overflow() {
        let big = C::new(1e300, 1e300);
        assert!(close(div(big, big), C::new(1.0, 0.0)));
        assert!(close(
            div(C::new(1.0, 2.0), C::new(3.0, -4.0)),
            C::new(-0.2, 0.4)
        ));
        let z = div(C::new(1.0, 1.0), C::new(0.0, 0.0));
        assert!(z.re.is_infinite() && z.im.is_infinite());
    }

    #[test]
    fn small_integer_powers_are_products() {
        let z = C::new(1.0, 1.0);
        assert_eq!(pow(z, C::new(2.0, 0.0)), C::new(0.0, 2.0));
        assert_eq!(pow(z, C::new(0.0, 0.0)), C::new(1.0, 0.0));
        assert!(close(pow(z, C::new(-2.0, 0.0)), C::new(0.0, -0.5)));
        assert_eq!(pow(C::new(0.0, 0.0), C::new(0.5, 0.0)), C::new(0.0, 0.0));
        let inf = C::new(f64::INFINITY, 1.0);
        assert_eq!(
            pow(inf, C::new(1.0, 0.0)),
            inf,
            "no NaN from a product with 1"
        );
        let sq = pow(inf, C::new(2.0, 0.0));
        assert!(sq.re.is_infinite() && sq.im.is_infinite());
        let w = pow(C::new(-1.0, 0.0), C::new(0.5, 0.0));
        assert!(close(w, C::new(0.0, 1.0)));
    }

    #[test]
    fn log1p_and_expm1_keep_digits_near_zero() {
        let z = Nc::new(1e-10, 1e-10);
        let l = log1p(z);
        // log(1 + z) = z - z²/2 + …, z² = 2e-20·i; exp(z) - 1 = z + z²/2 + ….
        assert!((l.re - 1e-10).abs() < 1e-24 && (l.im - (1e-10 - 1e-20)).abs() < 1e-24);
        let e = expm1(z);
        assert!((e.re - 1e-10).abs() < 1e-24 && (e.im - (1e-10 + 1e-20)).abs() < 1e-24);
    }

    #[test]
    fn magnitude_is_hypot_within_an_ulp_and_never_overflows() {
        for (re, im) in [
            (3.0, 4.0),
            (1e-200, 1e-200),
            (1e200, -1e200),
            (0.1, 7.3),
            (0.0, -0.0),
        ] {
            let (m, h) = (magnitude(re, im), f64::hypot(re, im));
            assert!((m - h).abs() <= h * 2.3e-16, "{re} {im}: {m} vs {h}");
        }
        assert_eq!(magnitude(f64::INFINITY, f64::NAN), f64::INFINITY);
        assert!(magnitude(f64::NAN, 1.0).is_nan());
        assert_eq!(magnitude(3e-30_f32, 4e-30), 5e-30);
    }

    #[test]
    fn sign_is_the_unit_phase() {
        let s = <C as Ops>::sign(C::new(3.0, 4.0));
        assert!(close(s, C::new(0.6, 0.8)));
        assert_eq!(<C as Ops>::sign(C::new(0.0, 0.0)), C::new(0.0, 0.0));
        assert_eq!(
            <C as Ops>::sign(C::new(f64::INFINITY, 1.0)),
            C::new(1.0, 0.0)
        );
    }
}
