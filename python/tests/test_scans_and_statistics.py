"""Blocked scans (cumsum & co.) against NumPy, over random shapes, chunkings and axes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe
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
    atol = tol
    if dtype == "f4" and name.endswith("sum"):
        # Blocks add in another order than NumPy's running sum: float32 rounding of n
        # terms grows with n and the largest partial sum (floe's is the closer of the two
        # to the float64 sum on the cases that needed this).
        n = a.size if axis is None else a.shape[axis]
        atol = max(tol, 1.2e-7 * n * float(np.nanmax(np.abs(want), initial=1.0)))
    np.testing.assert_allclose(got.compute(), want, rtol=tol, atol=atol)


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


@settings(max_examples=50, deadline=None)
@given(cases(), st.one_of(st.integers(1, 12), st.lists(st.floats(-8, 8), min_size=1, max_size=8)),
       st.booleans(), st.booleans(), st.booleans())
def test_histograms_match_numpy(case, bins, use_range, use_weights, density):
    shape, chunks, _, seed = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 3
    a[rng.random(shape) < 0.05] = np.nan if use_range or not isinstance(bins, int) else 0.0
    w = rng.random(shape) if use_weights else None
    if not isinstance(bins, int):
        bins = sorted(bins)
    rng_arg = (-4.0, 5.0) if use_range else None
    if density and not use_range and isinstance(bins, list):
        density = False  # NumPy divides 0/0 where no element falls in the edges
    x = fa.from_array(a, chunks=chunks)
    wx = None if w is None else fa.from_array(w, chunks=tuple(reversed(chunks)) if len(set(shape)) == 1 else chunks)
    got, edges = fa.histogram(x, bins=bins, range=rng_arg, weights=wx, density=density)
    with np.errstate(invalid="ignore"):  # NumPy divides 0 by 0 where nothing falls in the bins
        want, want_edges = np.histogram(a, bins=bins, range=rng_arg, weights=w, density=density)
    np.testing.assert_array_equal(edges.compute(), want_edges)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)


def test_histogram_without_a_range_reduces_the_data_first_and_names_nan():
    a = np.random.default_rng(1).standard_normal((50, 40))
    x = fa.from_array(a, chunks=(7, 9))
    counts, edges = np.histogram(x, bins=13)           # dispatched through NumPy, lazily
    assert isinstance(counts, fa.Array) and isinstance(edges, fa.Array)
    want, want_edges = np.histogram(a, bins=13)
    np.testing.assert_array_equal(counts.compute(), want)
    np.testing.assert_array_equal(edges.compute(), want_edges)
    a[3, 3] = np.nan
    counts, _ = fa.histogram(fa.from_array(a, chunks=10), bins=4)
    with pytest.raises(RuntimeError, match="not finite"):
        counts.compute()
    with pytest.raises(ValueError, match="monotonically"):
        fa.histogram(x, bins=[1.0, 0.0])
    with pytest.raises(ValueError, match="larger than min"):
        fa.histogram(x, bins=3, range=(2, 1))
    with pytest.raises(ValueError, match="named bin rules"):
        fa.histogram(x, bins="auto")


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 300), st.integers(1, 60), st.integers(0, 2**16), st.booleans())
def test_histogram2d_and_dd_match_numpy(n, chunk, seed, density):
    rng = np.random.default_rng(seed)
    px, py, pz = rng.standard_normal(n), rng.random(n) * 4, rng.integers(0, 5, n).astype("f8")
    x, y, z = (fa.from_array(v, chunks=chunk) for v in (px, py, pz))
    got = fa.histogram2d(x, y, bins=[4, [0, 1, 2.5, 4]], range=[(-2, 2), None], density=density)
    want = np.histogram2d(px, py, bins=[4, [0, 1, 2.5, 4]], range=[(-2, 2), None], density=density)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-12)
    sample = np.stack([px, py, pz], axis=1)
    got, edges = np.histogramdd(fa.from_array(sample, chunks=(chunk, 2)), bins=(3, 2, 5))
    want, want_edges = np.histogramdd(sample, bins=(3, 2, 5))
    assert got.dtype == want.dtype == np.float64
    np.testing.assert_array_equal(got.compute(), want)
    for g, w in zip(edges, want_edges):
        np.testing.assert_allclose(g.compute(), w, rtol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=60), st.integers(1, 20), st.booleans())
def test_bincount_and_digitize_match_numpy(values, chunk, weighted):
    a = np.array(values)
    w = np.linspace(0, 1, len(a)) if weighted else None
    x = fa.from_array(a, chunks=chunk)
    wx = None if w is None else fa.from_array(w, chunks=chunk)
    got = np.bincount(x, weights=wx, minlength=12)
    assert isinstance(got, fa.Array)
    np.testing.assert_allclose(got.compute(), np.bincount(a, weights=w, minlength=12))
    for bins in ([1.0, 2.5, 2.5, 7.0], [9.0, 4.0, 0.5]):
        for right in (False, True):
            f = a.astype("f8")
            f[::7] = np.nan
            got = np.digitize(fa.from_array(f, chunks=chunk), bins, right=right)
            np.testing.assert_array_equal(got.compute(), np.digitize(f, bins, right=right))


def test_bincount_needs_its_length_and_names_values_past_it():
    x = fa.from_array(np.array([0, 3, 12]), chunks=2)
    with pytest.raises(ValueError, match="minlength"):
        fa.bincount(x)
    with pytest.raises(RuntimeError, match="value 12 in block 1"):
        fa.bincount(x, minlength=5).compute()
    with pytest.raises(RuntimeError, match="negative"):
        fa.bincount(fa.from_array(np.array([1, -1]), chunks=1), minlength=3).compute()
    with pytest.raises(ValueError, match="integers"):
        fa.bincount(fa.ones(3, chunks=1), minlength=3)
    with pytest.raises(ValueError, match="increasing or decreasing"):
        fa.digitize(x, [1.0, 0.0, 2.0])


class Counting:
    """An array-like whose reads are counted: a lazy call must read nothing."""

    def __init__(self, a):
        self.a, self.reads = a, 0
        self.shape, self.dtype, self.ndim = a.shape, a.dtype, a.ndim

    def __getitem__(self, key):
        self.reads += 1
        return self.a[key]


def test_every_dispatched_numpy_function_stays_lazy_and_reads_nothing():
    src = Counting(np.arange(1.0, 25.0).reshape(4, 6) / 7)
    x = fa.from_array(src, chunks=(2, 3))
    calls = {
        "sqrt": lambda: np.sqrt(x), "add": lambda: np.add(x, 1), "mean": lambda: np.mean(x, axis=0),
        "nanstd": lambda: np.nanstd(x), "concatenate": lambda: np.concatenate([x, x]),
        "stack": lambda: np.stack([x, x]), "where": lambda: np.where(x > 1, x, 0.0),
        "reshape": lambda: np.reshape(x, (6, 4)), "moveaxis": lambda: np.moveaxis(x, 0, 1),
        "flip": lambda: np.flip(x), "roll": lambda: np.roll(x, 2), "rot90": lambda: np.rot90(x),
        "tile": lambda: np.tile(x, 2), "diff": lambda: np.diff(x), "outer": lambda: np.outer(x[0], x[1]),
        "tril": lambda: np.tril(x), "isclose": lambda: np.isclose(x, x), "allclose": lambda: np.allclose(x, x),
        "dot": lambda: np.dot(x, x.T), "cumsum": lambda: np.cumsum(x, axis=1),
        "cumprod": lambda: np.cumprod(x), "nancumsum": lambda: np.nancumsum(x, axis=0),
        "histogram": lambda: np.histogram(x, bins=4)[0], "histogram edges": lambda: np.histogram(x, bins=4)[1],
        "histogram2d": lambda: np.histogram2d(x.ravel(), x.ravel(), bins=3)[0],
        "digitize": lambda: np.digitize(x, [0.5, 1.0]),
        "bincount": lambda: np.bincount((x * 2).astype("i8").ravel(), minlength=8),
        "median": lambda: np.median(x, axis=0), "nanpercentile": lambda: np.nanpercentile(x, [5, 50], axis=1),
        "quantile": lambda: np.quantile(x, 0.3),
        "mask": lambda: x[x > 1], "nonzero": lambda: np.nonzero(x > 1)[0],
        "argwhere": lambda: np.argwhere(x), "flatnonzero": lambda: np.flatnonzero(x),
        "unique": lambda: np.unique(x), "unique counts": lambda: np.unique(x, return_counts=True)[1],
        "compress": lambda: np.compress([True, False], x, axis=1),
        "extract": lambda: np.extract(x > 1, x), "count_nonzero": lambda: np.count_nonzero(x, axis=0),
        "where(cond)": lambda: np.where(x > 1)[1],
        "einsum": lambda: np.einsum("ij,kj->ik", x, x), "einsum trace": lambda: np.einsum("ii", x[:, :4]),
    }
    for what, call in calls.items():
        assert isinstance(call(), fa.Array), what
    assert src.reads == 0, "a dispatched call read blocks"
    np.testing.assert_allclose(np.cumsum(x, axis=1).compute(), np.cumsum(src.a, axis=1))
    assert src.reads == 4, "computing reads each block once"


@settings(max_examples=50, deadline=None)
@given(cases(), st.sampled_from(["quantile", "nanquantile", "percentile", "nanpercentile", "median",
                                 "nanmedian"]),
       st.booleans(), st.sampled_from(["f8", "f4", "i4"]))
def test_quantiles_match_numpy(case, name, keepdims, dtype):
    shape, chunks, axis, seed = case
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 5
    if dtype != "i4":
        a[rng.random(shape) < 0.15] = np.nan
    a = a.astype(dtype)
    if axis is not None and seed % 3 == 0 and len(shape) > 1:
        axis = (0, len(shape) - 1)  # several axes at once
    x = fa.from_array(a, chunks=chunks)
    f, g = getattr(fa, name), getattr(np, name)
    args = () if "median" in name else ([0.0, 0.3, 0.5, 1.0] if seed % 2 else 0.75,)
    if "percentile" in name:
        args = tuple(np.asarray(v) * 100 for v in args)
    with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore", RuntimeWarning)  # all-NaN lanes
        want = g(a, *args, axis=axis, keepdims=keepdims)
    got = f(x, *args, axis=axis, keepdims=keepdims)
    assert isinstance(got, fa.Array)
    assert got.shape == want.shape
    # NumPy returns the data's dtype for a NaN result whatever q's dtype: compare the rest.
    if not np.isnan(want).any():
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
    tol = 1e-6 if dtype == "f4" else 1e-12
    np.testing.assert_allclose(got.compute(), want, rtol=tol, atol=tol)


def test_quantiles_through_numpy_and_their_errors():
    a = np.arange(30.0).reshape(5, 6)
    x = fa.from_array(a, chunks=(2, 4))
    for got, want in [(np.median(x, axis=0), np.median(a, axis=0)),
                      (np.percentile(x, [10, 90], axis=1), np.percentile(a, [10, 90], axis=1)),
                      (np.nanquantile(x, 0.5), np.nanquantile(a, 0.5))]:
        assert isinstance(got, fa.Array)
        np.testing.assert_allclose(got.compute(), want)
    with pytest.raises(ValueError, match=r"range \[0, 100\]"):
        fa.percentile(x, 101)
    with pytest.raises(ValueError, match=r"range \[0, 1\]"):
        fa.quantile(x, -0.1)
    with pytest.raises(NotImplementedError, match="linear"):
        fa.quantile(x, 0.5, method="nearest")
    with pytest.raises(ValueError, match="axis"):
        fa.median(x, axis=2)


def _pad_reference(a, depth, boundary):
    mode = {"reflect": "symmetric", "periodic": "wrap", "nearest": "edge"}
    if isinstance(boundary, (int, float)):
        return np.pad(a, depth, mode="constant", constant_values=boundary)
    return np.pad(a, depth, mode=mode[boundary])


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(0, 2), st.sampled_from(["reflect", "periodic", "nearest", 7.5]))
def test_map_overlap_equals_the_filter_on_the_whole_array(case, depth, boundary):
    shape, chunks, _, seed = case
    if min(shape) < depth:
        depth = min(shape)
    a = np.random.default_rng(seed).standard_normal(shape)
    x = fa.from_array(a, chunks=chunks)
    k = 2 * depth + 1

    def box(b):  # a box filter of reach `depth` along every axis, valid away from the edges
        out = b.copy()
        inner = tuple(slice(depth, n - depth) for n in b.shape)
        acc = np.zeros_like(b[inner])
        import itertools
        for shift in itertools.product(range(k), repeat=b.ndim):
            acc += b[tuple(slice(s, n - k + 1 + s) for s, n in zip(shift, b.shape))]
        out[inner] = acc / k ** b.ndim
        return out

    got = x.map_overlap(box, depth=depth, boundary=boundary)
    assert got.chunks == x.chunks or depth > 0
    want = box(_pad_reference(a, depth, boundary))[tuple(slice(depth, depth + n) for n in shape)]
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)
    ext = fa.overlap(x, depth, boundary)
    np.testing.assert_array_equal(fa.trim_internal(ext, depth, boundary).compute(), a)


@settings(max_examples=30, deadline=None)
@given(cases(), st.integers(0, 2), st.sampled_from(["reflect", "periodic", 0.5]))
def test_map_overlap_over_two_arrays_sees_both_neighbourhoods(case, depth, boundary):
    shape, chunks, _, seed = case
    other_chunks = tuple(max(1, n - c + 1) for n, c in zip(shape, chunks))
    if min(shape) < depth:
        depth = min(shape)
    rng = np.random.default_rng(seed)
    a, w = rng.standard_normal(shape), rng.standard_normal(shape)
    x, y = fa.from_array(a, chunks=chunks), fa.from_array(w, chunks=other_chunks)

    def weighted(u, v):  # u times v shifted by `depth` along the first axis (wrapping)
        return u * np.roll(v, depth, axis=0)

    got = fa.map_overlap(weighted, x, y, depth=depth, boundary=boundary)
    pa, pw = _pad_reference(a, depth, boundary), _pad_reference(w, depth, boundary)
    want = weighted(pa, pw)[tuple(slice(depth, depth + n) for n in shape)]
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)


def test_map_overlap_over_several_arrays_checks_them():
    x, y = fa.ones((4, 4), chunks=2), fa.ones((4, 5), chunks=2)
    with pytest.raises(ValueError, match="one shape"):
        fa.map_overlap(lambda u, v: u, x, y, depth=1)
    with pytest.raises(NotImplementedError, match="one depth"):
        fa.map_overlap(lambda u, v: u, x, x, depth=[1, 2])
    got = fa.map_overlap(lambda u, v: u + v, x, x, depth=[1, 1], boundary="reflect", dtype="f4")
    assert got.dtype == np.float32 and (got.compute() == 2).all()


def test_overlap_depths_boundaries_and_errors():
    a = np.arange(24.0).reshape(4, 6)
    x = fa.from_array(a, chunks=(2, 3))
    y = fa.overlap(x, depth={1: 1}, boundary="none")
    assert y.chunks == ((2, 2), (4, 4))
    np.testing.assert_array_equal(y.compute()[:, :4], a[:, :4])
    z = x.overlap((1, 0), boundary={0: 0.0, 1: "periodic"})
    np.testing.assert_array_equal(z.compute()[0], np.zeros(6))
    with pytest.raises(ValueError, match="boundary"):
        x.overlap(1, boundary="mirror")
    with pytest.raises(ValueError, match="exceeds its length"):
        x.overlap(5, boundary="reflect")
    with pytest.raises(ValueError, match="depth"):
        x.overlap((1, 2, 3))
    with pytest.raises(ZeroDivisionError):
        x.map_overlap(lambda b: 1 / 0, depth=1).compute()


def test_python_numbers_are_weak_and_numpy_scalars_strong_on_either_side():
    a = np.arange(3, dtype="i8")
    x = fa.from_array(a, chunks=2)
    big = 2**60
    for got, want in [(big - x, big - a), (x - big, a - big), (big // (x + 1), big // (a + 1)),
                      (2.5 - x, 2.5 - a), (True - x.astype("f4"), True - a.astype("f4"))]:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.compute(), want)
    f = x.astype("f4")
    for got, want in [(f + np.float64(1), a.astype("f4") + np.float64(1)),
                      (np.int64(big) - x, np.int64(big) - a),
                      (x.astype("i4") + np.int64(1), a.astype("i4") + np.int64(1)),
                      (fa.where(x > 0, big, x), np.where(a > 0, big, a))]:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_array_equal(got.compute(), want)


@settings(max_examples=50, deadline=None)
@given(cases(), st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]),
       st.integers(0, 2**16))
def test_pad_matches_numpy(case, mode, seed):
    shape, chunks, _, _ = case
    rng = np.random.default_rng(seed)
    a = rng.integers(-9, 9, shape)
    widths = [tuple(int(w) for w in rng.integers(0, 2 * n + 2, 2)) for n in shape]
    x = fa.from_array(a, chunks=chunks)
    kw = {"constant_values": 7} if mode == "constant" else {}
    got = np.pad(x, widths, mode=mode, **kw)
    assert isinstance(got, fa.Array)
    np.testing.assert_array_equal(got.compute(), np.pad(a, widths, mode=mode, **kw))
    np.testing.assert_array_equal(fa.pad(x, 1, mode=mode).compute(), np.pad(a, 1, mode=mode))


@settings(max_examples=40, deadline=None)
@given(cases(), st.integers(0, 3), st.booleans())
def test_repeat_matches_numpy(case, r, per_element):
    shape, chunks, axis, seed = case
    a = np.random.default_rng(seed).integers(0, 9, shape)
    x = fa.from_array(a, chunks=chunks)
    n = a.size if axis is None else a.shape[axis]
    reps = list(np.random.default_rng(seed).integers(0, 3, n)) if per_element else r
    np.testing.assert_array_equal(np.repeat(x, reps, axis=axis).compute(), np.repeat(a, reps, axis=axis))
    np.testing.assert_array_equal(x.repeat(r, axis=axis).compute(), a.repeat(r, axis=axis))


def test_pad_and_repeat_errors():
    x = fa.ones((2, 3), chunks=2)
    with pytest.raises(NotImplementedError, match="mode"):
        fa.pad(x, 1, mode="median")
    with pytest.raises(ValueError, match="negative"):
        fa.pad(x, -1)
    with pytest.raises(ValueError, match="empty axis"):
        fa.pad(fa.ones((0, 3), chunks=2), 1, mode="edge")
    with pytest.raises(ValueError, match="broadcast"):
        fa.repeat(x, [1, 2], axis=1)


@settings(max_examples=50, deadline=None)
@given(cases(), st.integers(-4, 4), st.integers(0, 2**16))
def test_diagonals_traces_and_diag_match_numpy(case, offset, seed):
    shape, chunks, _, _ = case
    a = np.random.default_rng(seed).integers(-9, 9, shape)
    x = fa.from_array(a, chunks=chunks)
    if a.ndim >= 2:
        rng = np.random.default_rng(seed)
        a1, a2 = (int(v) for v in rng.choice(a.ndim, 2, replace=False))
        got = np.diagonal(x, offset, a1, a2)
        assert isinstance(got, fa.Array)
        np.testing.assert_array_equal(got.compute(), np.diagonal(a, offset, a1, a2))
        t = np.trace(x, offset, a1, a2)
        assert t.dtype == np.trace(a, offset, a1, a2).dtype
        np.testing.assert_array_equal(t.compute(), np.trace(a, offset, a1, a2))
    if a.ndim == 1:
        np.testing.assert_array_equal(np.diag(x, offset).compute(), np.diag(a, offset))
        np.testing.assert_array_equal(fa.vdot(x, x).compute(), np.vdot(a, a))
    if a.ndim == 2:
        np.testing.assert_array_equal(fa.diag(x, offset).compute(), np.diag(a, offset))


def test_diagonal_errors():
    x = fa.ones((3, 3), chunks=2)
    with pytest.raises(ValueError, match="same"):
        x.diagonal(0, 1, 1)
    with pytest.raises(ValueError, match="1-d or 2-d"):
        fa.diag(fa.ones((2, 2, 2), chunks=1))
    with pytest.raises(ValueError, match="sizes"):
        fa.vdot(x, fa.ones(4, chunks=2))


def test_blocks_index_the_grid_and_persist_keeps_blocks():
    a = np.arange(60.0).reshape(6, 10)
    x = fa.from_array(a, chunks=(4, 3))
    assert x.blocks.shape == (2, 4) and x.blocks.size == 8
    np.testing.assert_array_equal(x.blocks[1, 2].compute(), a[4:, 6:9])
    np.testing.assert_array_equal(x.blocks[-1].compute(), a[4:])
    y = x.blocks[:, ::-2]
    assert y.chunks == ((4, 2), (1, 3))
    np.testing.assert_array_equal(y.compute(), np.concatenate([a[:, 9:], a[:, 3:6]], axis=1))
    np.testing.assert_array_equal(x.blocks[..., [0, 3]].compute(), np.concatenate([a[:, :3], a[:, 9:]], axis=1))
    with pytest.raises(IndexError):
        x.blocks[2]
    with pytest.raises(IndexError):
        x.blocks[0, 0, 0]
    src = Counting(a)
    lazy = fa.from_array(src, chunks=(4, 3)) * 2
    (kept,) = floe.persist(lazy)
    assert src.reads == 8 and kept.chunks == lazy.chunks
    np.testing.assert_array_equal((kept + 1).compute(), a * 2 + 1)
    np.testing.assert_array_equal(kept.persist().sum(axis=0).compute(), (a * 2).sum(axis=0))
    assert src.reads == 8, "the kept blocks are used, not the source"


@settings(max_examples=50, deadline=None)
@given(cases(), st.integers(1, 4), st.booleans())
def test_topk_matches_numpy_sort(case, k, smallest):
    shape, chunks, axis, seed = case
    axis = -1 if axis is None else axis
    a = np.random.default_rng(seed).standard_normal(shape)
    k = min(k, a.shape[axis])
    x = fa.from_array(a, chunks=chunks)
    want = np.flip(np.sort(a, axis=axis), axis=axis) if not smallest else np.sort(a, axis=axis)
    want = np.take(want, np.arange(k), axis=axis)
    got = fa.topk(x, -k if smallest else k, axis=axis)
    np.testing.assert_array_equal(got.compute(), want)
    np.testing.assert_array_equal(x.topk(k, axis=axis).compute(), np.take(np.flip(np.sort(a, axis=axis), axis=axis), np.arange(k), axis=axis))
    order = np.argsort(a if smallest else -a, axis=axis, kind="stable")
    got_i = fa.argtopk(x, -k if smallest else k, axis=axis)
    assert got_i.dtype == np.int64
    np.testing.assert_array_equal(got_i.compute(), np.take(order, np.arange(k), axis=axis))
    np.testing.assert_array_equal(np.take_along_axis(a, x.argtopk(k, axis=axis).compute(), axis=axis),
                                  x.topk(k, axis=axis).compute())


@settings(max_examples=50, deadline=None)
@given(cases(), st.sampled_from([np.sum, np.mean, np.max, np.min, "std", np.prod]), st.integers(1, 3))
def test_coarsen_matches_a_reshaped_reduction(case, reduction, f):
    shape, chunks, _, seed = case
    a = np.random.default_rng(seed).standard_normal(shape)
    factors = {ax: min(f, n) for ax, n in enumerate(shape)}
    x = fa.from_array(a, chunks=chunks)
    got = fa.coarsen(reduction, x, factors, trim_excess=True)
    trimmed = a[tuple(slice(0, n - n % factors[ax]) for ax, n in enumerate(shape))]
    split = [v for ax, n in enumerate(trimmed.shape) for v in (n // factors[ax], factors[ax])]
    g = getattr(np, reduction) if isinstance(reduction, str) else reduction
    want = g(trimmed.reshape(split), axis=tuple(range(1, 2 * len(shape), 2)))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)


def test_topk_and_coarsen_errors():
    x = fa.ones((4, 6), chunks=3)
    with pytest.raises(ValueError, match="k = 7"):
        fa.topk(x, 7)
    with pytest.raises(ValueError, match="trim_excess"):
        fa.coarsen(np.mean, x, {1: 4})
    with pytest.raises(NotImplementedError, match="median"):
        fa.coarsen(np.median, x, {0: 2})


def test_edge_cases_found_in_review():
    # Quantiles over an empty kept axis, as NumPy.
    for shape, axis in [((0, 3), 1), ((3, 0), 0)]:
        a = np.zeros(shape)
        got = fa.quantile(fa.from_array(a, chunks=2), 0.5, axis=axis)
        assert got.shape == np.quantile(a, 0.5, axis=axis).shape
    # map_overlap over an empty axis.
    e = fa.from_array(np.zeros((3, 0)), chunks=2)
    assert fa.map_overlap(lambda b: b, e, depth=1, boundary="reflect").compute().shape == (3, 0)
    # pad keeps big integer constants, and casts as NumPy.
    big = np.array([2**62 + 1])
    np.testing.assert_array_equal(fa.pad(fa.from_array(big, chunks=1), 1, constant_values=2**62 + 1).compute(),
                                  np.pad(big, 1, constant_values=2**62 + 1))
    u = np.array([1, 2], "u1")
    np.testing.assert_array_equal(fa.pad(fa.from_array(u, chunks=1), 1, constant_values=np.int64(7)).compute(),
                                  np.pad(u, 1, constant_values=7))
    # Block masks and bad block keys.
    x = fa.from_array(np.arange(9), chunks=3)
    np.testing.assert_array_equal(x.blocks[[True, False, True]].compute(), [0, 1, 2, 6, 7, 8])
    for bad in [True, 1.5, [0.5]]:
        with pytest.raises(IndexError):
            x.blocks[bad]
    # Python integers beyond the array's dtype, as NumPy 2.
    a = np.array([1, -2, 3], "i4")
    xi = fa.from_array(a, chunks=2)
    np.testing.assert_array_equal((xi < 2**40).compute(), a < 2**40)
    np.testing.assert_allclose((xi / 2**40).compute(), a / 2**40)
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        fa.from_array(np.array([1], "u1"), chunks=1) + 300
    # A histogram of no data uses the range (0, 1), as NumPy.
    c, ed = fa.histogram(fa.from_array(np.zeros(0), chunks=1), bins=4)
    np.testing.assert_array_equal(ed.compute(), np.histogram(np.zeros(0), bins=4)[1])
    # Sizes beyond what can be addressed are errors, not panics or exhausted memory.
    with pytest.raises(ValueError):
        fa.bincount(fa.from_array(np.array([1]), chunks=1), minlength=2**62)
    with pytest.raises(ValueError):
        fa.histogramdd([x, x], bins=[2**32, 2**32], range=[(0, 1), (0, 1)])
    with pytest.raises(ValueError):
        fa.repeat(x, 2**61)
    with pytest.raises(ValueError):
        fa.diag(x, 2**62)
    assert fa.diagonal(fa.ones((3, 3), chunks=2), -2**63).shape == (0,)


def test_percentiles_of_a_whole_array_larger_than_the_budget_are_exact():
    # 128 MB in 64 blocks under a 32 MB budget: two passes, no block gathers the array.
    x = fa.random.random((4000, 4000), chunks=500, seed=1)
    floe.config.set(memory_limit="32MB")
    try:
        lazy = np.percentile(x, [0.1, 5, 50, 95, 100])
        assert isinstance(lazy, fa.Array)
        got = lazy.compute()
        med = np.nanmedian(x).compute()
    finally:
        floe.config.set()
    a = x.compute()
    np.testing.assert_array_equal(got, np.percentile(a, [0.1, 5, 50, 95, 100]))
    assert med == np.median(a)


def test_numpy_corner_cases_of_quantile_and_repeat():
    a = np.arange(12.0).reshape(3, 4)
    x = fa.from_array(a, chunks=2)
    for got, want in [(np.quantile(x, []), np.quantile(a, [])),
                      (np.quantile(x, [], axis=0), np.quantile(a, [], axis=0)),
                      (np.percentile(x, [], axis=1, keepdims=True), np.percentile(a, [], axis=1, keepdims=True))]:
        assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(fa.repeat(fa.from_array(np.array(5)), 3, axis=0).compute(),
                                  np.repeat(np.array(5), 3, axis=0))
