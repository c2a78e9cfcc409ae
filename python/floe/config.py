"""Process-wide settings for floe computations."""

from . import _floe

_settings = {"threads": None, "memory_limit": None}


def set(threads=None, memory_limit=None):
    """Set the worker threads (``None``: one per core) and a memory budget for every later
    computation.

    ``memory_limit`` (bytes, or a size such as ``"4GB"`` or ``"512 MiB"``) bounds the results
    floe holds between tasks: past it, workers load no new data (reads, generators) while
    held data can be consumed. It throttles; it does not spill to disk, and a single block
    larger than the budget still runs.
    """
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    _floe._set_config(threads, memory_limit)
    _settings.update(threads=threads, memory_limit=memory_limit)


def get():
    """The current settings, as a dict."""
    return dict(_settings)
