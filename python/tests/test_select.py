"""Selections of data-dependent size — lazy boolean masks, compress, nonzero, unique — and
arrays of unknown chunk sizes, against NumPy over random shapes, chunkings and data."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe
import floe.array as fa


@st.composite
def cases(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 7), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, max(n, 1))) for n in shape)
    mask_chunks = tuple(draw(st.integers(1, max(n, 1))) for n in shape)
    seed = draw(st.integers(0, 2**16))
    return shape, chunks, mask_chunks, seed


def data(shape, seed, dtype="f8"):
    rng = np.random.default_rng(seed)
    a = rng.integers(-4, 5, size=shape).astype(dtype)
    if a.dtype.kind == "f" and a.size:
        a[rng.random(shape) < 0.1] = np.nan
    return a


def nan_shape(x):
    return tuple(None if isinstance(n, float) and math.isnan(n) else n for n in x.shape)


@settings(max_examples=80, deadline=None)
@given(cases(), st.sampled_from(["f8", "i4", "u1"]))
def test_masks_select_as_numpy(case, dtype):
    shape, chunks, mask_chunks, seed = case
    a = data(shape, seed, dtype)
    m = np.random.default_rng(seed + 1).random(shape) < 0.5
    x = fa.from_array(a, chunks=chunks)
    mask = fa.from_array(m, chunks=mask_chunks)
    y = x[mask]
    np.testing.assert_array_equal(y.compute(), a[m])
    pos = x[x > 0]
    want = a[a > 0]
    if a.size:
        assert nan_shape(pos) == (None,) and math.isnan(pos.size)
    np.testing.assert_array_equal(pos.compute(), want)
    np.testing.assert_allclose((pos * 2 + 1).sum().compute(), (want * 2 + 1).sum())
    if want.size:
        assert pos.argmax().compute() == want.argmax() and pos.argmin().compute() == want.argmin()
        np.testing.assert_allclose(pos.mean().compute(), want.mean())
        assert pos.max().compute() == want.max()
    # A 1-d mask along each axis.
    for axis in range(a.ndim):
        keep = np.random.default_rng(seed + axis).random(shape[axis]) < 0.5
        key = (slice(None),) * axis + (fa.from_array(keep, chunks=2),)
        np.testing.assert_array_equal(x[key].compute(), a[(slice(None),) * axis + (keep,)])
        np.testing.assert_array_equal(np.compress(keep, x, axis=axis).compute(),
                                      np.compress(keep, a, axis=axis))


@settings(max_examples=60, deadline=None)
@given(cases())
def test_nonzero_argwhere_flatnonzero_and_count_match_numpy(case):
    shape, chunks, _, seed = case
    a = data(shape, seed)
    x = fa.from_array(a, chunks=chunks)
    np.testing.assert_array_equal(np.argwhere(x).compute(), np.argwhere(a))
    np.testing.assert_array_equal(np.flatnonzero(x).compute(), np.flatnonzero(a))
    np.testing.assert_array_equal(np.count_nonzero(x), np.count_nonzero(a))
    if a.ndim:
        for got, want in zip(np.nonzero(x), np.nonzero(a)):
            np.testing.assert_array_equal(got.compute(), want)
        for got, want in zip(fa.where(x > 0), np.where(a > 0)):
            np.testing.assert_array_equal(got.compute(), want)
        np.testing.assert_array_equal(np.count_nonzero(x, axis=0).compute(), np.count_nonzero(a, axis=0))


@settings(max_examples=60, deadline=None)
@given(cases(), st.sampled_from(["f8", "f4", "i8", "u2", "bool"]))
def test_unique_matches_numpy(case, dtype):
    shape, chunks, _, seed = case
    if dtype == "bool":
        a = data(shape, seed, "i8") > 0
    elif dtype[0] == "u":
        a = np.abs(data(shape, seed, "i8")).astype(dtype)
    else:
        a = data(shape, seed, dtype)
    x = fa.from_array(a, chunks=chunks)
    values, counts = np.unique(x, return_counts=True)
    want_values, want_counts = np.unique(a, return_counts=True)
    got = values.compute()
    assert got.dtype == want_values.dtype
    np.testing.assert_array_equal(got, want_values)
    np.testing.assert_array_equal(counts.compute(), want_counts)
    # Of a selection of unknown size.
    np.testing.assert_array_equal(fa.unique(x[x > 0]).compute(), np.unique(a[a > 0]))
    # First positions and the inverse, in NumPy's order and shapes.
    got = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    want = np.unique(a, return_index=True, return_inverse=True, return_counts=True)
    assert len(got) == 4
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.compute(), w)


def test_unknown_sizes_behave_as_in_dask():
    a = np.arange(-10.0, 14.0).reshape(4, 6)
    x = fa.from_array(a, chunks=(2, 3))
    y = x[x > 2]
    assert math.isnan(y.shape[0]) and all(math.isnan(c) for c in y.chunks[0])
    assert "nan" in repr(y)
    # What needs positions says what to do.
    for call in [lambda: y[1:3], lambda: y.rechunk(4), lambda: y.reshape(3, -1),
                 lambda: fa.concatenate([y, y]), lambda: len(y),
                 lambda: y + fa.ones(24, chunks=12), lambda: fa.to_npy(y, "never-written.npy")]:
        with pytest.raises(ValueError, match="compute_chunk_sizes"):
            call()
    # Scans run on unknown sizes, as Dask's.
    np.testing.assert_array_equal(y.cumsum().compute(), np.cumsum(a[a > 2]))
    np.testing.assert_array_equal(np.cumprod(x[x[:, 0] > 0], axis=0).compute(),
                                  np.cumprod(a[a[:, 0] > 0], axis=0))
    # compute_chunk_sizes measures in place, as Dask's; empty blocks are dropped.
    assert y.compute_chunk_sizes() is y
    assert y.shape == (11,) and y.chunks == ((11,),) and len(y) == 11  # band 0 kept nothing
    np.testing.assert_array_equal(y[2:5].compute(), a[a > 2][2:5])
    np.testing.assert_array_equal(y.rechunk(4).compute(), a[a > 2])
    # persist keeps measured chunks.
    kept = x[x > 8].persist()
    assert kept.shape == (5,) and kept.chunks == ((5,),)
    np.testing.assert_array_equal(kept.compute(), a[a > 8])
    # A maximum over nothing fails as NumPy's does; a sum over nothing is 0.
    none = x[x > 100]
    assert none.sum().compute() == 0
    with pytest.raises(ValueError, match="zero-size array"):
        none.max().compute()
    with pytest.raises(ValueError, match="empty sequence"):
        none.argmax().compute()
    assert none.compute().shape == (0,)


def test_mask_errors_name_the_problem():
    x = fa.ones((4, 3), chunks=2)
    with pytest.raises(IndexError, match="boolean"):
        x[fa.ones((4, 3), chunks=2, dtype="i4")]
    with pytest.raises(IndexError, match="shape"):
        x[fa.ones((3, 4), chunks=2, dtype=bool)]
    # A mask with an integer after it, as NumPy: the mask's axis, then the column.
    a = np.arange(12.0).reshape(4, 3)
    m = np.array([True, False, True, True])
    got = fa.from_array(a, chunks=2)[fa.from_array(m, chunks=3), 1]
    np.testing.assert_array_equal(got.compute(), a[m, 1])
    with pytest.raises(IndexError):
        x[fa.ones((4, 3, 1), chunks=2, dtype=bool)]
    with pytest.raises(IndexError):
        np.compress([True] * 5, x, axis=0)
    with pytest.raises(NotImplementedError):
        np.unique(x, axis=0)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        np.unique(x[x > 0], return_index=True)
    with pytest.raises(ValueError, match="0-d"):
        np.nonzero(fa.ones((), chunks=1))


def test_different_selections_do_not_line_up():
    a = fa.from_array(np.arange(8.0), chunks=4)
    m3 = fa.from_array(np.array([1, 0, 0, 0, 1, 1, 1, 0], bool), chunks=4)
    m4 = fa.from_array(np.array([1, 1, 1, 0, 1, 0, 0, 0], bool), chunks=4)
    with pytest.raises(ValueError, match="differ"):
        (a[m3] + a[m4]).compute()
    # The same selection twice lines up.
    np.testing.assert_array_equal((a[m3] + a[m3]).compute(), 2 * np.arange(8.0)[[0, 4, 5, 6]])


def test_extract_and_compress_follow_numpy_on_other_shapes():
    a = np.arange(6).reshape(2, 3)
    x = fa.from_array(a, chunks=2)
    for cond in ([1, 0], [1, 0, 1], [0, 1, 1, 0, 0, 1]):
        np.testing.assert_array_equal(fa.extract(np.array(cond), x).compute(), np.extract(cond, a))
    np.testing.assert_array_equal(np.compress([True, False, True, False], x[0]).compute(),
                                  np.compress([True, False, True, False], a[0]))
    with pytest.raises(IndexError):
        np.compress([True, False, True, True], x[0])


def test_remainder_of_floats_keeps_numpy_signed_zero():
    a = np.arange(-10.0, 10.0)
    for b in (3.0, -3.0):
        got = (fa.from_array(a, chunks=7) % b).compute()
        np.testing.assert_array_equal(np.signbit(got), np.signbit(a % b))


def test_selections_run_under_a_budget_smaller_than_their_upper_bounds():
    # Blocks of unknown size declare no size to the budget (their upper bound would refuse
    # tasks that fit): a 128 MB array's unique values and an empty selection run in 32 MB.
    floe.config.set(memory_limit="32MB")
    try:
        x = fa.arange(16_000_000, chunks=500_000) % 3
        np.testing.assert_array_equal(fa.unique(x).compute(), [0, 1, 2])
        assert x[x > 5].compute().shape == (0,)
    finally:
        floe.config.set()


def test_python_level_operations_refuse_unknown_sizes_the_same_way():
    x = fa.arange(12.0, chunks=4).reshape(3, 4)
    y = x[x > 2]
    calls = [lambda: fa.tril(y[None]), lambda: fa.roll(y, 1), lambda: fa.vdot(y, y),
             lambda: fa.diff(y), lambda: fa.tile(y, 2), lambda: fa.zeros_like(y),
             lambda: fa.median(y)]
    for call in calls:
        with pytest.raises(ValueError, match="compute_chunk_sizes"):
            call()


@settings(max_examples=80, deadline=None)
@given(cases(), st.integers(1, 3), st.integers(0, 6), st.booleans())
def test_vindex_matches_numpy_advanced_indexing(case, k, m, outer):
    shape, chunks, _, seed = case
    if len(shape) < k or 0 in shape[:k]:
        return
    a = data(shape, seed)
    x = fa.from_array(a, chunks=chunks)
    rng = np.random.default_rng(seed)
    idx = []
    for axis in range(k):
        i = rng.integers(-shape[axis], shape[axis], size=m)
        if outer and k > 1:
            i = i[:, None] if axis == 0 else i[None, :]
        idx.append(i)
    got = x.vindex[tuple(idx)]
    want = a[tuple(idx)]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.compute(), want)


def test_vindex_errors():
    x = fa.from_array(np.arange(20).reshape(4, 5), chunks=2)
    with pytest.raises(IndexError):
        x.vindex[[0, 4], [0, 0]]
    with pytest.raises(IndexError):
        x.vindex[1:3, [0, 1]]
    with pytest.raises(IndexError):
        x.vindex[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError):
        x.vindex[[0.5]]
    np.testing.assert_array_equal(x.vindex[[1, 2], :].compute(), np.arange(20).reshape(4, 5)[[1, 2]])
    assert x.vindex[2, 3].compute() == 13


def test_known_axes_of_a_row_selection_work_as_in_dask():
    a = np.arange(60.0).reshape(10, 6)
    x = fa.from_array(a, chunks=(3, 4))
    y = x[x[:, 0] > 20]                       # rows of unknown count
    want = a[a[:, 0] > 20]
    assert nan_shape(y) == (None, 6)
    np.testing.assert_array_equal(y[:, 1].compute(), want[:, 1])
    np.testing.assert_array_equal(y[:, ::-2].compute(), want[:, ::-2])
    np.testing.assert_array_equal(np.concatenate([y, y], axis=1).compute(), np.concatenate([want, want], axis=1))
    np.testing.assert_array_equal(y.sum(axis=1).compute(), want.sum(axis=1))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        y[1:, 0]


def test_review_corner_cases_follow_numpy():
    i = np.random.default_rng(1).integers(0, 100, 20)
    xi = fa.from_array(i, chunks=5)
    for q in (50, [5, 95], [0, 100]):
        got, want = fa.percentile(xi, q), np.percentile(i, q)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.compute(), want)
    # Ties at the bracket ends are counted, not kept: constant data under a small budget.
    floe.config.set(memory_limit="32MB")
    try:
        z = fa.zeros(8_000_000, chunks=500_000)
        np.testing.assert_array_equal(fa.percentile(z, [10, 50, 90]).compute(), [0, 0, 0])
    finally:
        floe.config.set()
    x = fa.from_array(np.arange(20).reshape(4, 5), chunks=2)
    assert x.vindex[np.zeros((2, 0), int)].compute().shape == (2, 0, 5)
    assert x[[]].compute().shape == (0, 5) and x[:, []].compute().shape == (4, 0)
    for bad in (lambda: x[0, 0, 0], lambda: x[..., ...], lambda: x["a"],
                lambda: x.vindex[[0], [1], [2]]):
        with pytest.raises(IndexError):
            bad()


def test_median_averages_the_two_middle_values_as_numpy():
    for a in (np.array([2.0, np.inf]), np.array([0.1, 0.2]), np.array([-np.inf, np.inf, 1.0, 2.0]),
              np.array([1.0, 3.0, 2.0])):
        for chunks in (1, 2, 4):
            x = fa.from_array(a, chunks=chunks)
            np.testing.assert_array_equal(np.median(x).compute(), np.median(a))
            np.testing.assert_array_equal(np.nanmedian(x).compute(), np.nanmedian(a))
    b = np.array([[0.1, 0.2, np.inf], [5.0, 0.3, 0.7]])
    np.testing.assert_array_equal(np.median(fa.from_array(b, chunks=1), axis=1).compute(), np.median(b, axis=1))


def test_float32_quantiles_with_a_float64_q_are_computed_in_float64():
    a = np.random.default_rng(1).random(40).astype(np.float32)
    for chunks in (3, 40):
        got = fa.quantile(fa.from_array(a, chunks=chunks), [0, 0.37, 1])
        want = np.quantile(a, [0, 0.37, 1])
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.compute(), want)
    assert fa.quantile(fa.from_array(a, chunks=3), 0.37).dtype == np.float32
