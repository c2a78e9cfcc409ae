"""Process-wide settings for floe computations."""

from . import _floe

_DEFAULTS = {"threads": None, "memory_limit": "auto", "spill_dir": None, "chunk_size": None}
_settings = dict(_DEFAULTS)
_UNSET = object()


def set(threads=_UNSET, memory_limit=_UNSET, spill_dir=_UNSET, chunk_size=_UNSET):
    """Change the settings of every later computation; arguments not given keep their value,
    and ``set()`` with no arguments restores the defaults.

    ``threads``: worker threads (``None``: one per core).

    ``memory_limit`` bounds the bytes floe holds between tasks: ``"auto"`` (the default) is
    half of the memory available when the process first computes; an int (bytes) or a size
    such as ``"4GB"`` or ``"512 MiB"``; ``None`` turns the bound off. Within the budget, held
    blocks needed later are re-read from their files (or regenerated) when that is cheap and
    spilled to disk otherwise; a task whose own blocks exceed the budget raises
    ``MemoryError`` before anything runs, naming it and the block size that would fit.

    ``spill_dir``: where spill files go (``None``: the system temp dir); they are removed
    when each computation ends.

    ``chunk_size``: the block size of ``chunks="auto"`` (the default of ``from_zarr``,
    ``from_array``, ``ones``...) for arrays made after this call, as bytes or a size such as
    ``"64MiB"`` (Dask's ``array.chunk-size``). ``None`` (the default) follows the budget: a
    sixteenth of its share per thread, between 1 MiB and 128 MiB, so that the blocks running
    tasks hold stay a small part of it.

    >>> import floe
    >>> floe.config.set(memory_limit="2GB")
    >>> floe.config.get()["memory_limit"]
    '2GB'
    >>> floe.config.set()
    >>> floe.config.get()["memory_limit"]
    'auto'
    >>> import floe.array as fa
    >>> floe.config.set(threads=2, memory_limit="512MiB")
    >>> fa.ones((8192, 8192)).chunksize   # 16 MiB blocks under 512 MiB with 2 threads
    (1448, 1448)
    >>> floe.config.set()
    """
    given = {"threads": threads, "memory_limit": memory_limit, "spill_dir": spill_dir, "chunk_size": chunk_size}
    if all(v is _UNSET for v in given.values()):
        new = dict(_DEFAULTS)
    else:
        new = dict(_settings)
        new.update({k: v for k, v in given.items() if v is not _UNSET})
    t = new["threads"]
    if t is not None and (not isinstance(t, int) or isinstance(t, bool) or t < 1):
        raise ValueError(f"threads must be a positive int, got {t!r}")
    spill = new["spill_dir"]
    _floe._set_config(t, new["memory_limit"], None if spill is None else str(spill), new["chunk_size"])
    _settings.clear()
    _settings.update(new)


def get():
    """The current settings, as a dict."""
    return dict(_settings)


# The defaults apply from import on: "auto" blocks follow the default budget at once.
_floe._set_config(None, "auto", None, None)
