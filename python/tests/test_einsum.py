"""einsum against NumPy's, over random lengths and chunkings of each subscript pattern."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe.array as fa

PATTERNS = [
    "ij,jk->ik", "ij,jk", "ij->ji", "ij->", "ii->i", "ii", "ij,jk,k->i", "bij,bjk->bik",
    "i,i", "i,j->ij", "...ij,...jk->...ik", "ij,ij->ij", "ij,ij->i", "bij->bj", "ji", "...i->...",
    "ij,kj->ik", "i,ij->", "iij->j", "ijk,ikj->i", "ab,bc,cd->ad", "a,a,a->",
]


def operands(pattern, sizes):
    lhs = pattern.split("->")[0].replace("...", "Z")
    return [tuple(sizes[c] for c in term) for term in lhs.split(",")]


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(PATTERNS), st.data())
def test_einsum_matches_numpy(pattern, data):
    letters = sorted(set(pattern.replace("...", "Z")) - set(",->."))
    sizes = {c: data.draw(st.integers(1, 5), label=c) for c in letters}
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    arrays, lazies = [], []
    for shape in operands(pattern, sizes):
        a = rng.integers(-3, 4, size=shape).astype("f8")
        chunks = tuple(data.draw(st.integers(1, n)) for n in shape)
        arrays.append(a)
        lazies.append(fa.from_array(a, chunks=chunks))
    got = np.einsum(pattern, *lazies)
    assert isinstance(got, fa.Array)
    want = np.einsum(pattern, *arrays)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12, err_msg=pattern)


def test_einsum_dtypes_and_errors():
    a = np.arange(6, dtype="i4").reshape(2, 3)
    x = fa.from_array(a, chunks=2)
    assert fa.einsum("ij->j", x).dtype == np.einsum("ij->j", a).dtype
    np.testing.assert_array_equal(fa.einsum("ij,j->i", x, np.ones(3, "i4")).compute(),
                                  np.einsum("ij,j->i", a, np.ones(3, "i4")))
    assert fa.einsum("ij->i", x, dtype="f4").dtype == np.float32
    for bad, ops, err in [("ij,jk->ik", (x, x), ValueError), ("ij->k", (x,), ValueError),
                          ("ij,j", (x,), ValueError), ("ijk", (x,), ValueError),
                          ("i1", (x,), ValueError), ("ii", (x,), ValueError),
                          ("ij->ii", (x,), ValueError)]:
        with pytest.raises(err):
            fa.einsum(bad, *ops)


def test_einsum_broadcasts_length_one_and_takes_bools():
    for pattern, s1, s2 in [("i,i->i", (1,), (3,)), ("ij,ij->ij", (1, 3), (2, 3)),
                            ("ij,ij->", (2, 1), (2, 3)), ("...ij,...jk->...ik", (2, 1, 2, 3), (4, 3, 2))]:
        a, b = np.arange(np.prod(s1), dtype="f8").reshape(s1), np.arange(np.prod(s2), dtype="f8").reshape(s2)
        got = fa.einsum(pattern, fa.from_array(a, chunks=2), fa.from_array(b, chunks=2))
        np.testing.assert_allclose(got.compute(), np.einsum(pattern, a, b), err_msg=pattern)
    m = np.array([True, False, True])
    got = fa.einsum("i,i", fa.from_array(m, chunks=2), m)
    assert got.dtype == bool and bool(got.compute()) == np.einsum("i,i", m, m)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        x = fa.arange(6.0, chunks=2)
        fa.einsum("i->", x[x > 2])
