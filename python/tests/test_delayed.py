"""floe.delayed with Python functions: values, shared work, errors."""

import sys
import threading

import numpy as np
import pytest

import floe
from floe import delayed


def test_delayed_calls_compose_and_compute():
    @delayed
    def inc(x):
        return x + 1

    @delayed(name="add")
    def add(x, y=0):
        return x + y

    a = inc(1)
    b = add(a, y=inc(a))
    assert repr(b).startswith("Delayed('add")
    assert b.compute() == 2 + 3
    assert delayed(sum)([1, 2, 3]).compute() == 6
    assert delayed(42).compute() == 42


def test_shared_work_runs_once_in_one_compute():
    calls = []
    lock = threading.Lock()

    @delayed
    def load(i):
        with lock:
            calls.append(i)
        return np.arange(i)

    data = load(5)
    total = delayed(np.sum)(data)
    largest = delayed(np.max)(data)
    t, m = floe.compute(total, largest)
    assert (t, m) == (10, 4)
    assert calls == [5]


def test_mixed_compute_with_arrays_and_plain_values():
    import floe.array as fa

    x = fa.ones((4,), chunks=2)
    d = delayed(len)("abc")
    arr, n, plain = floe.compute(x.sum(), d, "as is")
    assert float(arr) == 4.0 and n == 3 and plain == "as is"


def test_a_raising_function_becomes_a_python_exception_naming_it():
    @delayed
    def bad(x):
        raise ValueError(f"no good: {x}")

    # Raised again as itself (as Dask does), the task named in a note.
    with pytest.raises(ValueError, match="no good: 7") as info:
        bad(7).compute()
    if sys.version_info >= (3, 11):  # exception notes
        assert any("bad" in n for n in info.value.__notes__)
    with pytest.raises(TypeError):
        bool(bad(1))


def test_delayed_values_inside_containers_are_computed_first():
    inc = delayed(lambda x: x + 1, name="inc")
    assert delayed(sum)([inc(1), inc(2), 10]).compute() == 15
    assert delayed(lambda d: d["a"] * d["b"])({"a": inc(1), "b": [inc(0)][0]}).compute() == 2
    nested = delayed(lambda t: t[0][1] + t[1])(([0, inc(4)], inc(5))).compute()
    assert nested == 11
    assert delayed(len)({inc(1), inc(1)}).compute() == 1


def test_visualize_draws_arrays_and_delayed_values_together(tmp_path):
    import floe.array as fa
    x = fa.ones((4, 4), chunks=2)
    d = floe.delayed(lambda v: v + 1)(1)
    path = floe.visualize(x.sum(axis=0), d, filename=str(tmp_path / "both.dot"), color="order")
    from pathlib import Path
    text = Path(path).read_text()
    assert text.startswith("digraph") and "sum" in text and "lambda" in text
    # A name without a suffix is a PNG, as Dask's.
    png = x.visualize(filename=str(tmp_path / "one"))
    assert png.endswith("one.png") and Path(png).read_bytes()[:4] == b"\x89PNG"
    assert d.visualize(filename=str(tmp_path / "d.svg")).endswith(".svg")
    assert floe.visualize(x, filename=tmp_path / "p.dot").endswith("p.dot")  # path-like
    with pytest.raises(ValueError, match="color"):
        x.visualize(filename=str(tmp_path / "x.dot"), color="rainbow")
    with pytest.raises(TypeError):
        floe.visualize(3, filename=str(tmp_path / "x.dot"))
