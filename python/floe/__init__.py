"""floe: parallel, larger-than-memory computing on NumPy-like arrays (a Rust core).

>>> import floe.array as fa
>>> x = fa.ones((5000, 1000), chunks=(1000, 1000))
>>> float(x.sum().compute())
5000000.0

Names follow Dask's: port code by changing ``import dask.array as da`` to
``import floe.array as fa``. Computations release the GIL and run on all cores.
"""

from . import _floe, array, config, dataframe
from .array import Array
from .delayed import Delayed, delayed


def compute(*values, scheduler=None):
    """Compute floe arrays (to NumPy arrays) and delayed values together; other objects
    are returned as they are. Work shared between arrays (or between delayed values) runs
    once.

    ``scheduler`` runs the tasks on dask instead of floe's own scheduler: a
    ``distributed.Client`` (a cluster, with floe installed on every worker), or dask's
    ``"sync"``, ``"threads"`` or ``"processes"`` (see :mod:`floe.dask`)."""
    out = list(values)
    arrays = [i for i, v in enumerate(values) if isinstance(v, Array)]
    lazies = [i for i, v in enumerate(values) if isinstance(v, Delayed)]
    if scheduler is not None:
        from . import dask as _dask

        picked = arrays + lazies
        for i, r in zip(picked, _dask.compute(*[values[i] for i in picked], scheduler=scheduler)):
            out[i] = r
        return tuple(out)
    if arrays:
        for i, r in zip(arrays, _floe.compute(*[values[i] for i in arrays])):
            out[i] = r
    if lazies:
        for i, r in zip(lazies, _floe._compute_delayed(*[values[i] for i in lazies])):
            out[i] = r
    return tuple(out)


def persist(*values):
    """Compute floe arrays together and keep their blocks in memory (Dask's ``persist``):
    the same arrays, whose later computations start from the kept blocks instead of
    recomputing them. Other objects are returned as they are.

    >>> import floe, floe.array as fa
    >>> x = fa.random.random((1000, 1000), chunks=250, seed=0) ** 2
    >>> (kept,) = floe.persist(x)
    >>> kept.chunks == x.chunks, bool((kept.sum() == x.sum()).compute())
    (True, True)
    """
    out = list(values)
    arrays = [i for i, v in enumerate(values) if isinstance(v, Array)]
    if arrays:
        for i, r in zip(arrays, _floe.persist(*[values[i] for i in arrays])):
            out[i] = r
    return tuple(out)


def visualize(*values, filename=None, color=None, collapse_above=500):
    """Draw the task graph computing floe arrays and delayed values together (as
    ``floe.compute`` would run them) into ``filename``: ``.svg``, ``.png`` or ``.pdf``
    through Graphviz's ``dot`` (installed separately), ``.dot`` for the Graphviz source; a
    name without a suffix gets ``.png``, as Dask's; ``None`` writes ``mydask.png``. A
    ``pathlib.Path`` works as well as a string. ``color="order"`` shades tasks by when
    they run, ``color="memory"`` marks those that free memory. Graphs of more than
    ``collapse_above`` tasks are drawn one node per operation. Returns the path written.
    ``x.visualize(...)`` draws one array or delayed value.

    >>> import os, tempfile, floe, floe.array as fa
    >>> x = fa.ones((4, 4), chunks=2)
    >>> path = floe.visualize(x.sum(axis=0), filename=os.path.join(tempfile.mkdtemp(), "g.dot"))
    >>> import pathlib
    >>> pathlib.Path(path).read_text().startswith("digraph")
    True
    """
    return _floe._visualize(*values, filename=filename, color=color, collapse_above=collapse_above)


class Plan(dict):
    """What a computation will do (a dict of figures, in bytes), printed as a table."""

    def __init__(self, figures, text):
        super().__init__(figures)
        self._text = text

    def __repr__(self):
        return self._text

    __str__ = __repr__


def plan(*arrays):
    """What computing the floe arrays together will do under the current memory budget,
    without running it: ``tasks``, ``source_bytes`` (read or generated), ``peak_bytes`` (the
    most held at once), ``recomputed_bytes`` and ``spilled_bytes`` (what the budget makes
    floe read again or write to disk), and more.

    >>> import floe, floe.array as fa
    >>> floe.config.set(memory_limit="32MB")
    >>> # 128 MB made by a block function, as a file reader makes it (reductions of generated
    >>> # data read it in bands and hold none of it)
    >>> x = fa.random.random((4000, 4000), chunks=(250, 4000), seed=0).map_blocks(lambda b: b + 0.0)
    >>> p = floe.plan(abs(x - x.mean()).sum(axis=0))
    >>> p["source_bytes"], p["peak_bytes"] <= 32_000_000, p["recomputed_bytes"] > 0
    (128000000, True, True)
    >>> floe.config.set()
    """
    figures, text = _floe._plan(*arrays)
    return Plan(figures, text)


__all__ = ["array", "config", "Array", "Delayed", "Plan", "compute", "delayed", "persist", "plan",
           "visualize"]
__version__ = "0.1.0"
