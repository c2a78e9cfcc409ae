"""Float sums at least as accurate as NumPy's pairwise summation, measured against the
exactly rounded sum (`math.fsum`) on ill-conditioned data: large terms that nearly cancel,
carrying small ones."""

import math

import numpy as np
import pytest

import floe.array as fa


def ill_conditioned(n, seed):
    rng = np.random.default_rng(seed)
    magnitude = 10.0 ** rng.integers(-4, 13, n)
    return rng.choice([-1.0, 1.0], n) * magnitude * (1 + rng.random(n))


@pytest.mark.parametrize("n,chunks,seed", [(10_000, 10_000, 0), (1_000_003, 250_000, 1), (2_000_000, 2_000_000, 2)])
def test_sum_of_everything_is_at_least_as_accurate_as_numpy(n, chunks, seed):
    a = ill_conditioned(n, seed)
    exact = math.fsum(a)
    ours = float(fa.from_array(a, chunks=chunks).sum().compute())
    numpy = float(np.sum(a))
    scale = float(np.abs(a).sum())
    assert abs(ours - exact) <= max(abs(numpy - exact), 4 * np.finfo(float).eps * scale)


def test_sums_down_columns_beat_numpy_adding_rows_one_by_one():
    # NumPy adds the rows of an axis-0 sum one after the other; floe sums groups of rows
    # and adds the group sums with compensation.
    a = ill_conditioned(200_000 * 3, 3).reshape(200_000, 3)
    ours = fa.from_array(a, chunks=(50_000, 3)).sum(axis=0).compute()
    numpy = np.sum(a, axis=0)
    for j in range(3):
        exact = math.fsum(a[:, j])
        assert abs(ours[j] - exact) <= abs(numpy[j] - exact) + 4 * np.finfo(float).eps * abs(a[:, j]).sum()


def test_compensation_keeps_what_plain_addition_drops():
    a = np.full(1 << 20, 1e-16)
    a[0] = 1.0
    ours = float(fa.from_array(a, chunks=1 << 18).sum().compute())
    exact = math.fsum(a)
    assert abs(ours - exact) < 1e-14
    # Adding one by one (NumPy's cumulative sum) keeps 1: each 1e-16 is below half an ulp.
    assert np.cumsum(a)[-1] == 1.0


@pytest.mark.parametrize("dtype", ["f4", "f8"])
def test_mean_of_float32_maps_over_time_accumulates_in_float64(dtype):
    # A mean over time of daily maps: exact to float64 rounding whatever the input dtype.
    rng = np.random.default_rng(5)
    a = (280 + 10 * rng.standard_normal((365, 20, 30))).astype(dtype)
    got = fa.from_array(a, chunks=(30, 20, 30)).mean(axis=0).compute()
    want = np.mean(a.astype("f8"), axis=0)
    np.testing.assert_allclose(got, want.astype(dtype), rtol=1e-6 if dtype == "f4" else 1e-13)
