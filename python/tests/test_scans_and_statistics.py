"""Blocked scans (cumsum & co.) against NumPy, over random shapes, chunkings and axes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe.array as fa


@st.composite
def cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
    seed = draw(st.integers(0, 2**16))
    return shape, chunks, axis, seed


@settings(max_examples=60, deadline=None)
@given(cases(), st.sampled_from(["cumsum", "cumprod", "nancumsum", "nancumprod"]),
       st.sampled_from(["f8", "f4", "i4", "u1", "bool"]))
def test_scans_match_numpy(case, name, dtype):
    shape, chunks, axis, seed = case
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * 3).astype("f8")
    if dtype == "bool":
        a = a > 0
    elif dtype[0] == "f":
        a[rng.random(shape) < 0.1] = np.nan
        a = a.astype(dtype)
    else:
        a = np.abs(a).astype(dtype)
    x = fa.from_array(a, chunks=chunks)
    got = getattr(fa, name)(x, axis=axis)
    want = getattr(np, name)(a, axis=axis)
    assert got.dtype == want.dtype, (name, dtype)
    assert got.shape == want.shape
    tol = 1e-5 if dtype == "f4" else 1e-12
    np.testing.assert_allclose(got.compute(), want, rtol=tol, atol=tol)


def test_scans_through_numpy_methods_and_dtype():
    a = np.arange(1, 25, dtype="i2").reshape(4, 6)
    x = fa.from_array(a, chunks=(3, 4))
    for lazy, want in [
        (np.cumsum(x, axis=0), np.cumsum(a, axis=0)),
        (np.cumprod(x, axis=1), np.cumprod(a, axis=1)),
        (np.nancumsum(x), np.nancumsum(a)),
        (x.cumsum(), a.cumsum()),
        (x.cumsum(axis=-1, dtype="f4"), a.cumsum(axis=-1, dtype="f4")),
        (x.cumprod(axis=0, dtype="f8"), a.cumprod(axis=0, dtype="f8")),
    ]:
        assert isinstance(lazy, fa.Array)
        assert lazy.dtype == want.dtype
        np.testing.assert_array_equal(lazy.compute(), want)
    if hasattr(np, "cumulative_sum"):
        y = np.cumulative_sum(x, axis=1)
        assert isinstance(y, fa.Array)
        np.testing.assert_array_equal(y.compute(), np.cumulative_sum(a, axis=1))
    assert x.cumsum(axis=0).chunks == x.chunks


def test_scan_errors():
    x = fa.ones((3, 4), chunks=2)
    with pytest.raises(ValueError, match="axis"):
        x.cumsum(axis=2)
    with pytest.raises(NotImplementedError, match="out="):
        fa.cumsum(x, out=np.empty((3, 4)))
