"""floe graphs on dask: run a floe computation on a ``dask.distributed`` cluster (or any
dask scheduler), each task still a floe kernel in Rust.

Floe writes each task of a graph down as data (its operation and parameters: a JSON
text) and hands dask a plain graph whose tasks all call one function,
:func:`run`, with that text and the task's inputs. Values travel between workers as
NumPy arrays (array blocks) or ``bytes`` (a reduction's partial result); arrays made from
NumPy arrays travel as their blocks. Install floe on every worker.

>>> import floe, floe.array as fa, floe.dask
>>> x = fa.random.random((400, 400), chunks=100, seed=1)
>>> y = (x + x.T).mean(axis=0)
>>> d = floe.dask.to_dask(y)            # a dask.array.Array over floe's tasks
>>> d.chunks
((100, 100, 100, 100),)
>>> import numpy as np
>>> bool(np.allclose(d.compute(scheduler="sync"), y.compute()))
True

On a cluster, pass the client: ``floe.compute(y, scheduler=client)``.

Operations without a description as data yet (functions over blocks such as
``map_blocks``, file readers, linear algebra, scans) raise ``NotImplementedError`` naming
the operation; such graphs run with floe's own scheduler.
"""

import uuid

from . import _floe

__all__ = ["run", "to_dask", "graph", "compute"]


def run(spec, *inputs):
    """Runs one floe task: ``spec`` is its JSON text, ``inputs`` the values of the tasks
    it reads (NumPy arrays, or ``bytes`` for partial results). The GIL is released while
    the kernel runs. Dask workers call this; it is rarely called directly."""
    return _floe._dask_run(spec, *inputs)


def graph(*arrays):
    """The dask graph (a plain dict) computing every block of ``arrays``, and per array
    the key name of its blocks: block ``(i, j)`` of array ``k`` is ``(names[k], i, j)``.
    Work shared between the arrays is one set of tasks.

    >>> import floe.array as fa, floe.dask
    >>> x = fa.ones((4, 4), chunks=2)
    >>> dsk, (name,) = floe.dask.graph(x.sum(axis=0))
    >>> sorted(k[1:] for k in dsk if k[0] == name)
    [(0,), (1,)]
    """
    tasks, outputs = _floe._dask_graph(*arrays)
    token = uuid.uuid4().hex
    names = [f"floe-{token}-{k}" for k in range(len(arrays))]
    # Each array block is its task's key; a task that is a block of two arrays (the same
    # array twice) is keyed by the first, the second an alias.
    keys = {}
    aliases = []
    for name, blocks in zip(names, outputs):
        for index, task in blocks:
            key = (name, *index)
            if task in keys:
                aliases.append((key, keys[task]))
            else:
                keys[task] = key
    dsk = {}
    for task, op, spec, deps in tasks:
        key = keys.setdefault(task, (f"{op}-{token}", task))
        if isinstance(spec, str):
            dsk[key] = (run, spec, *[keys[d] for d in deps])
        else:
            dsk[key] = spec  # a block in memory: a literal of the graph
    for key, target in aliases:
        dsk[key] = target
    return dsk, names


def to_dask(x):
    """``x`` as a ``dask.array.Array`` whose tasks run floe's kernels (see the module's
    documentation): the same chunks and dtype, computed by any dask scheduler."""
    import dask.array as da
    import numpy as np
    from dask.highlevelgraph import HighLevelGraph

    dsk, (name,) = graph(x)
    hlg = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(hlg, name, chunks=x.chunks, dtype=np.dtype(x.dtype))


def compute(*arrays, scheduler):
    """Computes floe arrays together on a dask ``scheduler`` (a ``distributed.Client``,
    ``"sync"``, ``"threads"``…), returning NumPy arrays; shared work runs once. This is
    what ``floe.compute(*arrays, scheduler=...)`` does."""
    import dask
    import dask.array as da
    import numpy as np
    from dask.highlevelgraph import HighLevelGraph

    dsk, names = graph(*arrays)
    collections = []
    for name, x in zip(names, arrays):
        hlg = HighLevelGraph.from_collections(name, dsk, dependencies=())
        collections.append(da.Array(hlg, name, chunks=x.chunks, dtype=np.dtype(x.dtype)))
    return dask.compute(*collections, scheduler=scheduler)
