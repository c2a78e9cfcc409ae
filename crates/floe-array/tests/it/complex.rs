//! Complex arrays and Fourier transforms against plain computations with `num_complex`
//! (naive DFTs for the transforms), over random shapes, chunkings and data with NaN.

use floe_array::{
    Array, ArrayError, Axes, BinaryOp, Complex128, DType, FftNorm, ReduceOp, UnaryOp, complex,
    from_ndarray,
};
use ndarray::{ArrayD, Axis, IxDyn};
use num_complex::Complex;
use proptest::prelude::*;

use crate::support::{assert_close, case, compute};

type C = Complex<f64>;

/// `x + y·i` as a floe array chunked as `chunks`, and as a plain array.
fn pair(x: &ArrayD<f64>, y: &ArrayD<f64>, chunks: Vec<Vec<usize>>) -> (Array, ArrayD<C>) {
    let re = from_ndarray(x.clone(), chunks.clone()).unwrap();
    let im = from_ndarray(y.clone(), chunks).unwrap();
    let z = complex(&re, &im).unwrap();
    let want = ndarray::Zip::from(x)
        .and(y)
        .map_collect(|&r, &i| C::new(r, i));
    (z, want)
}

fn get(a: &Array) -> ArrayD<C> {
    compute(a).into_c128().unwrap().mapv(Into::into)
}

fn assert_close_c(got: &ArrayD<C>, want: &ArrayD<C>, tol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        let part = |g: f64, w: f64| {
            (g.is_nan() && w.is_nan()) || g == w || (g - w).abs() <= tol * (1.0 + w.abs())
        };
        assert!(
            part(g.re, w.re) && part(g.im, w.im),
            "{what}: at {i:?} got {g}, want {w}"
        );
    }
}

fn nan(z: C) -> bool {
    z.re.is_nan() || z.im.is_nan()
}

/// NaN in both parts where either is: NumPy's complex division by `n + 0j` gives a whole
/// NaN where `num_complex`'s division by a real `n` keeps the other part.
fn whole_nan(a: &ArrayD<C>) -> ArrayD<C> {
    a.mapv(|v| {
        if nan(v) {
            C::new(f64::NAN, f64::NAN)
        } else {
            v
        }
    })
}

/// A DFT by its definition, of every lane along `axis`.
fn dft(x: &ArrayD<C>, axis: usize, inverse: bool) -> ArrayD<C> {
    let mut out = x.clone();
    let sign = if inverse { 1.0 } else { -1.0 };
    for (lane, mut o) in x
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        let n = lane.len();
        for (k, v) in o.iter_mut().enumerate() {
            *v = lane
                .iter()
                .enumerate()
                .fold(C::new(0.0, 0.0), |acc, (j, &x)| {
                    let t = sign * 2.0 * std::f64::consts::PI * ((j * k) % n) as f64 / n as f64;
                    acc + x * C::new(t.cos(), t.sin())
                });
            if inverse {
                *v /= n as f64;
            }
        }
    }
    out
}

/// `a` with `axis` rechunked to one block.
fn whole_along(a: &Array, axis: usize) -> Array {
    let mut sizes: Vec<Vec<usize>> = a.chunks().axes().to_vec();
    sizes[axis] = vec![a.shape()[axis]];
    a.rechunk(sizes).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn arithmetic_and_math_match_num_complex((x, chunks, _) in case(true), shift in -3.0..3.0_f64) {
        let y = x.mapv(|v| (v * 0.7 + shift).sin());
        let (z, w) = pair(&x, &y, chunks);
        // z·z + z / (z + 2) - conj(z)
        let two = z.binary_scalar(BinaryOp::Add, 2.0).unwrap();
        let e = z.binary(BinaryOp::Mul, &z).unwrap()
            .binary(BinaryOp::Add, &z.binary(BinaryOp::Div, &two).unwrap()).unwrap()
            .binary(BinaryOp::Sub, &z.unary(UnaryOp::Conj).unwrap()).unwrap();
        let want = w.mapv(|v| v * v + v / (v + 2.0) - v.conj());
        assert_close_c(&get(&e), &want, 1e-12, "z*z + z/(z+2) - conj(z)");
        for (op, f) in [
            (UnaryOp::Sqrt, C::sqrt as fn(C) -> C),
            (UnaryOp::Exp, C::exp),
            (UnaryOp::Log, C::ln),
            (UnaryOp::Sin, C::sin),
            (UnaryOp::Tanh, C::tanh),
            (UnaryOp::Arcsinh, C::asinh),
        ] {
            let got = get(&z.unary(op).unwrap());
            assert_close_c(&got, &w.mapv(f), 1e-12, op.name());
        }
        let abs = compute(&z.unary(UnaryOp::Abs).unwrap()).into_f64().unwrap();
        assert_close(&abs, &w.mapv(|v| v.re.hypot(v.im)), 3e-16, "abs");
        let im = compute(&z.unary(UnaryOp::Imag).unwrap()).into_f64().unwrap();
        assert_close(&im, &w.mapv(|v| v.im), 0.0, "imag");
        // Multiplying by a complex scalar; comparing as NumPy (lexicographically).
        let rotated = get(&z.binary_scalar(BinaryOp::Mul, Complex128::new(0.0, 1.0)).unwrap());
        assert_close_c(&rotated, &w.mapv(|v| v * C::new(0.0, 1.0)), 0.0, "z * 1j");
        let conj = z.unary(UnaryOp::Conj).unwrap();
        let lt = compute(&z.binary(BinaryOp::Lt, &conj).unwrap()).into_bool().unwrap();
        let lex = |a: C, b: C| !nan(a) && !nan(b) && (a.re < b.re || (a.re == b.re && a.im < b.im));
        prop_assert_eq!(lt, w.mapv(|v| lex(v, v.conj())));
    }

    #[test]
    fn reductions_match_num_complex((x, chunks, _) in case(true)) {
        prop_assume!(x.ndim() > 0 && !x.is_empty());
        // NaN in the imaginary parts too, apart from the real parts' NaN.
        let y = ArrayD::from_shape_fn(x.raw_dim(), |i| {
            if (0..x.ndim()).map(|a| i[a]).sum::<usize>() % 5 == 3 { f64::NAN } else { 1.5 - x[&i] * 0.25 }
        });
        let (z, w) = pair(&x, &y, chunks);
        for axis in 0..x.ndim() {
            let ax = Axes::from(axis as isize);
            let sum = get(&z.reduce(ReduceOp::Sum, ax.clone(), false, None).unwrap());
            let want = w.map_axis(Axis(axis), |l| l.iter().fold(C::new(0.0, 0.0), |a, &b| a + b));
            assert_close_c(&sum, &want, 1e-12, "sum");
            let mean = get(&z.reduce(ReduceOp::Mean, ax.clone(), false, None).unwrap());
            let want_mean = want.mapv(|s| s / x.shape()[axis] as f64);
            assert_close_c(&whole_nan(&mean), &whole_nan(&want_mean), 1e-12, "mean");
            let nansum = get(&z.reduce(ReduceOp::NanSum, ax.clone(), false, None).unwrap());
            let want_nan = w.map_axis(Axis(axis), |l| {
                l.iter().filter(|v| !nan(**v)).fold(C::new(0.0, 0.0), |a, &b| a + b)
            });
            assert_close_c(&nansum, &want_nan, 1e-12, "nansum");
            let var = compute(&z.reduce(ReduceOp::Var { ddof: 0 }, ax.clone(), false, None).unwrap())
                .into_f64()
                .unwrap();
            let want_var = w.map_axis(Axis(axis), |l| {
                let m = l.iter().fold(C::new(0.0, 0.0), |a, &b| a + b) / l.len() as f64;
                l.iter().map(|v| (v - m).norm_sqr()).sum::<f64>() / l.len() as f64
            });
            assert_close(&var, &want_var, 1e-10, "var");
            let arg = compute(&z.reduce(ReduceOp::ArgMax, ax.clone(), false, None).unwrap())
                .into_i64()
                .unwrap();
            // NumPy's argmax: the first NaN, else the first lexicographic maximum.
            let want_arg = w.map_axis(Axis(axis), |l| {
                let mut best = 0;
                for (i, &v) in l.iter().enumerate() {
                    let b = l[best];
                    if nan(b) {
                        break;
                    }
                    if nan(v) || v.re > b.re || (v.re == b.re && v.im > b.im) {
                        best = i;
                    }
                }
                best as i64
            });
            prop_assert_eq!(arg, want_arg, "argmax along {}", axis);
        }
        // Windows of 1 or 2 along the first axis: the parts' reductions, recombined.
        let f = if x.shape()[0] % 2 == 0 { 2 } else { 1 };
        let mut factors = vec![1; x.ndim()];
        factors[0] = f;
        let coarse = get(&z.coarsen(ReduceOp::Mean, &factors, false).unwrap());
        let want = ArrayD::from_shape_fn(coarse.raw_dim(), |i| {
            let mut j = i.clone();
            let mut acc = C::new(0.0, 0.0);
            for k in 0..f {
                j[0] = i[0] * f + k;
                acc += w[&j];
            }
            acc / f as f64
        });
        assert_close_c(&whole_nan(&coarse), &whole_nan(&want), 1e-12, "coarsen mean");
        let prod = get(&z.reduce(ReduceOp::Prod, Axes::All, false, None).unwrap());
        let want = w.iter().fold(C::new(1.0, 0.0), |a, &b| a * b);
        assert_close_c(&prod, &ArrayD::from_elem(IxDyn(&[]), want), 1e-9, "prod");
    }

    #[test]
    fn transforms_match_a_naive_dft((x, chunks, _) in case(false)) {
        prop_assume!(x.ndim() > 0 && !x.is_empty());
        let y = x.mapv(|v| v.cos());
        let (z, w) = pair(&x, &y, chunks);
        for axis in 0..x.ndim() {
            let za = whole_along(&z, axis);
            let ax = axis as isize;
            let f = za.fft(None, ax, FftNorm::Backward).unwrap();
            prop_assert_eq!(f.chunks().axes()[..axis].to_vec(), z.chunks().axes()[..axis].to_vec());
            let want = dft(&w, axis, false);
            assert_close_c(&get(&f), &want, 1e-10, "fft");
            let back = f.ifft(None, ax, FftNorm::Backward).unwrap();
            assert_close_c(&get(&back), &w, 1e-10, "ifft(fft(z))");
            // Real input: rfft keeps the non-negative half; irfft with the length rebuilds it.
            let n = x.shape()[axis];
            let xa = whole_along(&from_ndarray(x.clone(), z.chunks().axes().to_vec()).unwrap(), axis);
            let r = xa.rfft(None, ax, FftNorm::Ortho).unwrap();
            prop_assert_eq!(r.shape()[axis], n / 2 + 1);
            let full = dft(&x.mapv(|v| C::new(v, 0.0)), axis, false).mapv(|v| v / (n as f64).sqrt());
            let half = full.slice_axis(Axis(axis), ndarray::Slice::from(0..n / 2 + 1)).to_owned();
            assert_close_c(&get(&r), &half, 1e-10, "rfft ortho");
            let xr = compute(&r.irfft(Some(n), ax, FftNorm::Ortho).unwrap()).into_f64().unwrap();
            assert_close(&xr, &x, 1e-10, "irfft(rfft(x))");
        }
        // All axes at once, then shifted: a transform per axis, composed.
        let whole = (0..x.ndim()).fold(z.clone(), |a, ax| whole_along(&a, ax));
        let want = (0..x.ndim()).fold(w.clone(), |a, ax| dft(&a, ax, false));
        assert_close_c(&get(&whole.fftn(None, None, FftNorm::Backward).unwrap()), &want, 1e-9, "fftn");
        let shifted = get(&whole.fftshift(None).unwrap());
        let mut want_shift = w.clone();
        for ax in 0..x.ndim() {
            let n = x.shape()[ax];
            let rolled = want_shift.clone();
            for (i, v) in want_shift.indexed_iter_mut() {
                let mut src = (0..x.ndim()).map(|a| i[a]).collect::<Vec<usize>>();
                src[ax] = (i[ax] + n - n / 2) % n;
                *v = rolled[IxDyn(&src)];
            }
        }
        assert_close_c(&shifted, &want_shift, 0.0, "fftshift");
    }
}

#[test]
fn complex_values_survive_every_cast_and_promotion() {
    let x = floe_array::arange(0.0, 6.0, 1.0, 4, DType::F32).unwrap();
    let z = x
        .binary_scalar(BinaryOp::Mul, Complex128::new(0.0, 2.0))
        .unwrap();
    assert_eq!(
        z.dtype(),
        DType::C64,
        "float32 · 2j is complex64, as NumPy's weak scalars"
    );
    let i = floe_array::arange(0.0, 6.0, 1.0, 4, DType::I32).unwrap();
    assert_eq!(i.binary(BinaryOp::Add, &z).unwrap().dtype(), DType::C128);
    let back = compute(&z.astype(DType::C128)).into_c128().unwrap();
    assert_eq!(back[[5]], Complex128::new(0.0, 10.0));
    let real = compute(&z.astype(DType::F64)).into_f64().unwrap();
    assert!(
        real.iter().all(|&v| v == 0.0),
        "astype to a real type keeps the real part"
    );
    let truth = compute(&z.astype(DType::Bool)).into_bool().unwrap();
    assert_eq!(truth.iter().filter(|&&b| b).count(), 5);
}

#[test]
fn what_numpy_refuses_on_complex_is_refused() {
    let z = floe_array::ones(&[4, 4], 2, DType::C128).unwrap();
    let refused = |r: Result<Array, ArrayError>| {
        assert!(
            matches!(
                r,
                Err(ArrayError::UnsupportedDType {
                    dtype: DType::C128,
                    ..
                })
            ),
            "{r:?}"
        );
    };
    refused(z.unary(UnaryOp::Floor));
    refused(z.binary(BinaryOp::FloorDiv, &z));
    refused(z.binary(BinaryOp::Rem, &z));
    refused(z.binary(BinaryOp::Arctan2, &z));
    refused(z.quantile(&[0.5], 0, false));
    refused(z.rfft(None, -1, FftNorm::Backward));
    // A transform along an axis of several blocks names the fix.
    let err = z.fft(None, 0, FftNorm::Backward).unwrap_err();
    assert!(err.to_string().contains("rechunk"), "{err}");
    let err = whole_along(&z, 1)
        .fft(Some(0), 1, FftNorm::Backward)
        .unwrap_err();
    assert!(err.to_string().contains("number of data points"), "{err}");
}

#[test]
fn means_with_infinite_or_nan_parts_are_numpys() {
    // NumPy divides the complex sum by n + 0j: a part that is not finite makes the other NaN.
    let re = from_ndarray(ndarray::arr1(&[1.0, f64::INFINITY, 2.0, 0.0]).into_dyn(), 2).unwrap();
    let im = from_ndarray(ndarray::arr1(&[1.0, 0.0, 2.0, f64::NAN]).into_dyn(), 2).unwrap();
    let z = complex(&re, &im).unwrap();
    let m = get(&z.reduce(ReduceOp::Mean, Axes::All, false, None).unwrap());
    assert!(m[[]].re.is_nan() && m[[]].im.is_nan(), "{}", m[[]]);
    let head = z.slice(&floe_array::s![..3]).unwrap();
    let m = get(&head.reduce(ReduceOp::Mean, Axes::All, false, None).unwrap());
    assert!(m[[]].re == f64::INFINITY && m[[]].im.is_nan(), "{}", m[[]]);
    let nm = get(&z.reduce(ReduceOp::NanMean, Axes::All, false, None).unwrap());
    assert!(
        nm[[]].re == f64::INFINITY && nm[[]].im.is_nan(),
        "{}",
        nm[[]]
    );
}

#[test]
fn one_sided_clips_leave_the_other_side_alone() {
    let re = from_ndarray(ndarray::arr1(&[f64::INFINITY, -1.0]).into_dyn(), 1).unwrap();
    let im = from_ndarray(ndarray::arr1(&[1.0, -2.0]).into_dyn(), 1).unwrap();
    let z = complex(&re, &im).unwrap();
    let got = get(&z.clip(0.0, f64::INFINITY).unwrap());
    assert_eq!(got[[0]], C::new(f64::INFINITY, 1.0));
    assert_eq!(got[[1]], C::new(0.0, 0.0));
    assert!(matches!(
        complex(&z, &re),
        Err(ArrayError::UnsupportedDType { .. })
    ));
}

#[test]
fn frequencies_follow_numpy() {
    let f = compute(&floe_array::fftfreq(5, 0.5, 2).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(f.as_slice().unwrap(), &[0.0, 0.4, 0.8, -0.8, -0.4]);
    let r = compute(&floe_array::rfftfreq(4, 1.0, 2).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(r.as_slice().unwrap(), &[0.0, 0.25, 0.5]);
    let one = compute(&floe_array::rfftfreq(2, 1.0, 1).unwrap())
        .into_f64()
        .unwrap();
    assert_eq!(one.as_slice().unwrap(), &[0.0, 0.5]);
    assert!(floe_array::fftfreq(0, 1.0, 1).is_err());
    assert!(floe_array::fftfreq(3, 0.0, 1).is_err());
}
