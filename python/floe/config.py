"""Process-wide settings for floe computations."""

from . import _floe

_settings = {"threads": None}


def set(threads=None, memory_limit=None):
    """Set the worker threads for every later computation (``None``: one per core).

    ``memory_limit`` is not enforced by floe's scheduler yet; passing one raises
    ``NotImplementedError`` rather than silently ignoring it.
    """
    if memory_limit is not None:
        raise NotImplementedError("memory_limit is not enforced by floe's scheduler yet")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    _floe._set_config(threads)
    _settings["threads"] = threads


def get():
    """The current settings, as a dict."""
    return dict(_settings)
