"""Complex dtypes and numpy.fft against NumPy, over random shapes, chunkings and data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe.array as fa


@st.composite
def cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 8), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    seed = draw(st.integers(0, 2**16))
    return shape, chunks, seed


def _data(shape, seed, dtype, nan=False):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    if nan:
        z[rng.random(shape) < 0.1] = complex(np.nan, 1.0)
        z[rng.random(shape) < 0.1] = complex(0.5, np.nan)
    return z.astype(dtype)


def _close(got, want, dtype, what):
    assert isinstance(got, fa.Array), what
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    tol = 1e-4 if dtype in ("complex64", "f4") else 1e-10
    np.testing.assert_allclose(got.compute(), want, rtol=tol, atol=tol, err_msg=what)


UFUNCS = ["sqrt", "exp", "log", "log10", "sin", "cos", "tanh", "arcsinh", "arctan", "log1p",
          "expm1", "reciprocal", "square", "negative", "conjugate", "absolute", "sign",
          "isnan", "isfinite", "rint"]


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["complex128", "complex64"]), st.sampled_from(UFUNCS))
def test_ufuncs_match_numpy(case, dtype, name):
    shape, chunks, seed = case
    z = _data(shape, seed, dtype)
    x = fa.from_array(z, chunks=chunks)
    _close(getattr(np, name)(x), getattr(np, name)(z), dtype, name)


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["complex128", "complex64"]))
def test_arithmetic_and_promotion_match_numpy(case, dtype):
    shape, chunks, seed = case
    z = _data(shape, seed, dtype)
    r = np.random.default_rng(seed + 1).standard_normal(shape).astype("f4")
    x, xr = fa.from_array(z, chunks=chunks), fa.from_array(r, chunks=chunks)
    for what, got, want in [
        ("z * z / (z + 2)", x * x / (x + 2), z * z / (z + 2)),
        ("z ** 3", x**3, z**3),
        ("z ** (0.5 - 1j)", x ** (0.5 - 1j), z ** (0.5 - 1j)),
        ("f4 * 2j", xr * 2j, r * 2j),
        ("f4 + z", xr + x, r + z),
        ("1j - z", 1j - x, 1j - z),
        ("maximum", np.maximum(x, x.conj()), np.maximum(z, z.conj())),
        ("real", x.real, z.real),
        ("imag", np.imag(x), np.imag(z)),
        ("angle", np.angle(x, deg=True), np.angle(z, deg=True)),
        ("astype", xr.astype(dtype), r.astype(dtype)),
    ]:
        _close(got, want, dtype, what)
    np.testing.assert_array_equal((x < x.conj()).compute(), z < z.conj())
    np.testing.assert_array_equal((x == x.conj()).compute(), z == z.conj())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own, for all-NaN slices
@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["complex128", "complex64"]), st.booleans())
def test_reductions_match_numpy(case, dtype, nan):
    shape, chunks, seed = case
    z = _data(shape, seed, dtype, nan)
    x = fa.from_array(z, chunks=chunks)
    axis = seed % len(shape)
    for name, kw in [("sum", {}), ("prod", {}), ("mean", {}), ("var", {}), ("std", {"ddof": 1}),
                     ("nansum", {}), ("nanmean", {}), ("nanvar", {}), ("cumsum", {}),
                     ("max", {}), ("min", {}), ("argmax", {}), ("argmin", {})]:
        want = getattr(np, name)(z, axis=axis, **kw)
        got = getattr(np, name)(x, axis=axis, **kw)
        if name == "std" and shape[axis] == 1:
            continue  # NumPy warns and gives NaN as floe does; nothing to compare beyond that
        _close(got, np.asarray(want), dtype, name)
    _close(np.sum(x), np.asarray(np.sum(z)), dtype, "sum of all")
    _close(np.vdot(x, x), np.asarray(np.vdot(z, z)), dtype, "vdot")


@settings(max_examples=40, deadline=None)
@given(cases(), st.sampled_from(["complex128", "complex64", "f8", "f4", "i4"]),
       st.sampled_from([None, "ortho", "forward"]))
def test_transforms_match_numpy_fft(case, dtype, norm):
    shape, chunks, seed = case
    data = _data(shape, seed, "complex128")
    data = data.astype(dtype) if dtype.startswith("c") else (data.real * 10).astype(dtype)
    axis = seed % len(shape)
    chunks = tuple(-1 if a == axis else c for a, c in enumerate(chunks))
    x = fa.from_array(data, chunks=chunks)
    n = shape[axis] + seed % 3 - 1 or None  # cropped, as is, or zero-padded
    out = "complex64" if dtype in ("complex64", "f4") else "complex128"
    for name in ["fft", "ifft"]:
        _close(getattr(fa.fft, name)(x, n, axis, norm),
               getattr(np.fft, name)(data, n, axis, norm), out, name)
    if not dtype.startswith("c"):
        _close(np.fft.rfft(x, n, axis, norm), np.fft.rfft(data, n, axis, norm), out, "rfft")
        _close(np.fft.ihfft(x, n, axis, norm), np.fft.ihfft(data, n, axis, norm), out, "ihfft")
    if shape[axis] > 1:
        _close(np.fft.irfft(x, n, axis, norm), np.fft.irfft(data, n, axis, norm), out, "irfft")
        _close(np.fft.hfft(x, n, axis, norm), np.fft.hfft(data, n, axis, norm), out, "hfft")
    whole = fa.from_array(data, chunks=tuple(-1 for _ in shape))
    _close(np.fft.fftn(whole, norm=norm), np.fft.fftn(data, norm=norm), out, "fftn")
    _close(np.fft.ifftn(whole), np.fft.ifftn(data), out, "ifftn")
    if len(shape) >= 2:
        _close(np.fft.fft2(whole), np.fft.fft2(data), out, "fft2")
        if not dtype.startswith("c"):
            _close(np.fft.rfft2(whole), np.fft.rfft2(data), out, "rfft2")
        if shape[-1] > 1:
            s = (shape[-2], 2 * shape[-1])
            _close(np.fft.irfft2(whole, s), np.fft.irfft2(data, s), out, "irfft2")
    _close(np.fft.fftshift(x), np.fft.fftshift(data), str(data.dtype), "fftshift")
    _close(np.fft.ifftshift(x, axes=axis), np.fft.ifftshift(data, axes=axis), str(data.dtype),
           "ifftshift")


def test_frequencies_match_numpy():
    for n, d in [(1, 1.0), (2, 0.5), (7, 0.1), (8, 3.0)]:
        np.testing.assert_allclose(fa.fft.fftfreq(n, d, chunks=3).compute(), np.fft.fftfreq(n, d))
        np.testing.assert_allclose(fa.fft.rfftfreq(n, d).compute(), np.fft.rfftfreq(n, d))


def test_a_filter_through_the_spectrum():
    # Low-pass filtering rows of a noisy signal: transform, cut, transform back.
    t = np.linspace(0, 1, 256, endpoint=False)
    rng = np.random.default_rng(0)
    rows = np.sin(2 * np.pi * 5 * t) + 0.3 * rng.standard_normal((64, 256))
    x = fa.from_array(rows, chunks=(16, -1))
    keep = np.abs(fa.fft.rfftfreq(256, 1 / 256)) < 20
    smooth = np.fft.irfft(np.fft.rfft(x, axis=1) * keep, n=256, axis=1)
    want = np.fft.irfft(np.fft.rfft(rows, axis=1) * (np.abs(np.fft.rfftfreq(256, 1 / 256)) < 20),
                        n=256, axis=1)
    np.testing.assert_allclose(smooth.compute(), want, atol=1e-12)


def test_errors_are_numpys():
    x = fa.from_array(_data((6, 4), 0, "complex128"), chunks=(3, 2))
    with pytest.raises(ValueError, match="rechunk"):
        np.fft.fft(x, axis=0)
    with pytest.raises(ValueError, match="norm"):
        fa.fft.fft(x.rechunk((6, 4)), norm="unitary")
    for call in [lambda: np.floor(x), lambda: x // x, lambda: x % 2, lambda: np.percentile(x, 50),
                 lambda: np.histogram(x), lambda: np.fft.rfft(x.rechunk((6, 4))),
                 lambda: fa.linalg.qr(x)]:
        with pytest.raises(TypeError):
            call()
    with pytest.raises(ValueError, match="number of data points"):
        np.fft.rfft(fa.zeros((3, 0), chunks=2), axis=1)
    for call in [lambda: fa.linalg.lstsq(x, fa.ones(6, chunks=3)),
                 lambda: fa.linalg.lstsq(fa.ones((6, 4), chunks=(3, 4)), x[:, 0])]:
        with pytest.raises(TypeError):
            call()
    assert fa.iscomplexobj(x) and np.iscomplexobj(x) and not np.isrealobj(x)
    np.testing.assert_array_equal(np.isreal(x * 0).compute(), np.ones((6, 4), bool))


def test_complex_selections_of_unknown_size():
    z = _data((7, 5), 3, "complex128")
    x = fa.from_array(z, chunks=(3, 2))
    hot = x[x.real > 0]                       # sizes unknown until computed
    assert np.isnan(hot.shape[0])
    for got, want in [(hot.sum(), z[z.real > 0].sum()), (hot.mean(), z[z.real > 0].mean()),
                      (abs(hot).max(), abs(z[z.real > 0]).max()),
                      (hot.argmax(), z[z.real > 0].argmax())]:
        np.testing.assert_allclose(got.compute(), want, rtol=1e-12)
    v, c = np.unique(fa.from_array(np.round(z.real) + 1j * np.round(z.imag), chunks=4),
                     return_counts=True)
    wv, wc = np.unique(np.round(z.real) + 1j * np.round(z.imag), return_counts=True)
    np.testing.assert_array_equal(v.compute(), wv)
    np.testing.assert_array_equal(c.compute(), wc)


def test_complex_values_in_arguments():
    z = _data((5, 4), 7, "complex128")
    x = fa.from_array(z, chunks=(2, 3))
    for got, want in [
        (np.round(x, 1), np.round(z, 1)),
        (x.round(), np.round(z)),
        (fa.full((2, 3), 1 - 2j, chunks=2), np.full((2, 3), 1 - 2j)),
        (fa.full_like(x, np.complex64(3j)), np.full_like(z, np.complex64(3j))),
        (np.pad(x, 1, constant_values=2j), np.pad(z, 1, constant_values=2j)),
        (np.diff(x, axis=0, prepend=1j), np.diff(z, axis=0, prepend=1j)),
        (np.clip(abs(x), 0.5, None), np.clip(abs(z), 0.5, None)),
        (np.fft.fftn(x.rechunk((5, 4)), s=(-1, 6), axes=(0, 1)),
         np.fft.fftn(z, s=(5, 6), axes=(0, 1))),
        (np.fft.fft(fa.from_array(z.real > 0, chunks=(2, -1))), np.fft.fft(z.real > 0)),
        (np.sign(fa.from_array(np.array([complex(np.inf, 1), complex(2, -np.inf),
                                         complex(np.inf, np.nan), 0j, 3 + 4j]))),
         np.sign(np.array([complex(np.inf, 1), complex(2, -np.inf), complex(np.inf, np.nan),
                           0j, 3 + 4j]))),
        (fa.coarsen(np.mean, x[:4], {0: 2, 1: 2}), z[:4].reshape(2, 2, 2, 2).mean(axis=(1, 3))),
    ]:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_allclose(got.compute(), want, rtol=1e-12)
    with pytest.raises(TypeError, match="real numbers"):
        fa.map_overlap(lambda b: b, x, depth=1, boundary=1j)
