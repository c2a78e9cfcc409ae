"""Lazy Python functions (floe's ``dask.delayed``).

>>> from floe import delayed, compute
>>> @delayed
... def inc(x):
...     return x + 1
>>> total = delayed(sum)([1, 2])      # plain arguments are fine too
>>> inc(inc(1)).compute()
3

The functions run on floe's worker threads while holding the GIL: pure-Python work does not
run in parallel (NumPy, I/O and other code that releases the GIL does). Arguments may be
``Delayed`` values or plain objects, and lists, tuples, sets and dicts holding ``Delayed``
values (at any depth) are rebuilt from the computed values:

>>> parts = [delayed(len)(s) for s in ["ab", "cde"]]
>>> delayed(sum)(parts).compute()
5
"""

import functools

from . import _floe
from ._floe import Delayed


def _pack(obj):
    """``obj`` with the ``Delayed`` values inside containers gathered into one lazy value."""
    if isinstance(obj, (list, tuple, set)):
        items = [_pack(x) for x in obj]
        if any(isinstance(x, Delayed) for x in items):
            kind = type(obj)
            return _floe._delayed_call(lambda *xs: kind(xs), kind.__name__, tuple(items), None)
        return obj
    if isinstance(obj, dict):
        values = [_pack(v) for v in obj.values()]
        if any(isinstance(v, Delayed) for v in values):
            keys = list(obj.keys())
            return _floe._delayed_call(lambda *vs: dict(zip(keys, vs)), "dict", tuple(values), None)
        return obj
    return obj


def delayed(func=None, *, name=None):
    """Wrap ``func`` so that calling it builds a lazy task instead of running it; a
    non-callable object becomes a lazy value. Also usable as ``@delayed(name="load")``."""
    if func is None:
        return lambda f: delayed(f, name=name)
    if not callable(func):
        return _floe._delayed_value(func)
    task = name or getattr(func, "__name__", "delayed")

    @functools.wraps(func)
    def lazy(*args, **kwargs):
        args = tuple(_pack(a) for a in args)
        kwargs = {k: _pack(v) for k, v in kwargs.items()}
        return _floe._delayed_call(func, task, args, kwargs)

    return lazy


__all__ = ["Delayed", "delayed"]
