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
``Delayed`` values or plain objects; ``Delayed`` values inside lists are not looked into.
"""

import functools

from . import _floe
from ._floe import Delayed


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
        return _floe._delayed_call(func, task, args, kwargs)

    return lazy


__all__ = ["Delayed", "delayed"]
