"""Diagnostics of floe computations, as context managers (as Dask's): a progress bar, a
profile of every task, and the process's CPU and memory over time.

>>> import io, floe.array as fa
>>> from floe.diagnostics import ProgressBar, Profiler
>>> x = fa.ones((400, 400), chunks=100)
>>> out = io.StringIO()
>>> with ProgressBar(out=out), Profiler() as prof:
...     _ = (x + x.T).sum().compute()
>>> "100% Completed" in out.getvalue()
True
>>> len(prof.results) > 0
True

Each registers itself for every computation floe runs in this process while the
``with`` block lasts (computations in other threads included), and unregisters on exit.
"""

import os
import sys
import threading
import time
from collections import namedtuple

from . import _floe

__all__ = ["ProgressBar", "Profiler", "ResourceProfiler", "TaskData", "ResourceData"]

TaskData = namedtuple("TaskData", ["key", "start_time", "end_time", "worker_id", "nbytes"])
TaskData.__doc__ = """One task: its key (``(name, *block_index)``; ``(name,)`` for a task of no block), when it
started and ended (seconds from the profile's first computation), the worker that ran it
and the bytes of its result."""

ResourceData = namedtuple("ResourceData", ["time", "mem", "cpu"])
ResourceData.__doc__ = """A sample of the process: seconds from the profile's first
computation, resident memory in MB, and CPU use in percent of one core."""


class ProgressBar:
    """A text progress bar of each computation, written to ``out`` (default: standard
    output, as Dask's; Jupyter shows it) every ``dt`` seconds while it runs, and once more
    when it ends: ``[####      ] | 40% Completed |  1.2s``. Computations shorter than
    ``minimum`` seconds print nothing; computations that overlap (in other threads) are
    shown as one.

    >>> import io, floe.array as fa
    >>> out = io.StringIO()
    >>> with ProgressBar(out=out):
    ...     _ = fa.ones(10, chunks=5).sum().compute()
    >>> out.getvalue().strip().splitlines()[-1].startswith("[####")
    True
    """

    def __init__(self, minimum=0.0, width=40, dt=0.1, out=None):
        if dt <= 0:
            raise ValueError(f"dt is a positive number of seconds, not {dt}")
        self.minimum, self.width, self.dt = minimum, width, dt
        self._out = out
        self._counts = _floe._Progress()
        self._stop = threading.Event()
        self._thread = None
        self._last = None

    @property
    def last_duration(self):
        """Seconds the last computation shown took (``None`` before one ran)."""
        return self._last

    def __enter__(self):
        self._stop.clear()
        self._counts.start()
        self._thread = threading.Thread(target=self._watch, name="floe-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._counts.stop()
        self._stop.set()
        self._thread.join()
        return False

    def _watch(self):
        while True:
            stopping = self._stop.wait(self.dt)
            # Every run that ended since the last look gets its final line, once.
            for done, total, seconds, failed in self._counts.finished():
                self._last = seconds
                self._draw(done / total if total else 1.0, seconds, " (failed)\n" if failed else "\n")
            done, total, running, seconds = self._counts.counts()
            if running and not stopping:
                self._draw(done / total if total else 1.0, seconds, "")
            if stopping:
                return

    def _draw(self, fraction, seconds, end):
        if seconds < self.minimum:
            return
        out = self._out if self._out is not None else sys.stdout
        fraction = min(max(fraction, 0.0), 1.0)
        bar = "#" * int(self.width * fraction)
        out.write(f"\r[{bar:<{self.width}}] | {fraction:4.0%} Completed | {seconds:4.1f}s{end}")
        out.flush()


class Profiler:
    """Every task of the computations run inside the ``with`` block: ``results`` (a list
    of :class:`TaskData`, in the order they finished), and the whole profile — the tasks'
    timeline by worker, the bytes floe held and the process's CPU and memory — as one
    self-contained HTML page (``write_html``) or a Chrome trace (``to_chrome_trace``, for
    Perfetto). Profiles accumulate over several ``with`` blocks until ``clear()``.

    >>> import floe.array as fa
    >>> with Profiler() as prof:
    ...     _ = fa.ones((4, 4), chunks=2).sum().compute()
    >>> all(t.end_time >= t.start_time for t in prof.results)
    True
    >>> prof.results[-1].key
    ('sum-result',)
    """

    def __init__(self, interval=0.02):
        self._p = _floe._Profiler(interval)

    def __enter__(self):
        self._p.start()
        return self

    def __exit__(self, *exc):
        self._p.stop()
        return False

    @property
    def results(self):
        """The tasks recorded, as :class:`TaskData`."""
        return [
            TaskData((name, *index), start, end, worker, nbytes)
            for name, index, worker, start, end, nbytes in self._p.tasks()
        ]

    @property
    def memory(self):
        """``(seconds, bytes)``: what floe held after each task."""
        return self._p.memory()

    def clear(self):
        """Forgets what was recorded."""
        self._p.clear()

    def to_html(self, title="floe profile"):
        """The profile as one self-contained HTML page."""
        return self._p.to_html(title)

    def write_html(self, filename, title=None):
        """Writes the profile's HTML page to ``filename``; returns the path."""
        path = os.fspath(filename)
        with open(path, "w", encoding="utf-8") as f:
            f.write(self._p.to_html(title or os.path.basename(path)))
        return path

    def to_chrome_trace(self):
        """The profile as a Chrome trace (JSON text)."""
        return self._p.to_chrome_trace()


class ResourceProfiler(Profiler):
    """The process's CPU and resident memory, sampled every ``dt`` seconds while
    computations run inside the ``with`` block: ``results`` is a list of
    :class:`ResourceData` (time, memory in MB, CPU in percent of one core), as Dask's.
    The tasks are recorded too (``tasks``), and ``write_html`` draws both."""

    def __init__(self, dt=1.0):
        if not dt > 0:
            raise ValueError(f"dt is a positive number of seconds, not {dt}")
        super().__init__(interval=dt)

    @property
    def results(self):
        """The samples, as :class:`ResourceData`."""
        return [ResourceData(t, rss / 1e6, cpu) for t, rss, cpu in self._p.resources()]

    @property
    def tasks(self):
        """The tasks recorded, as :class:`TaskData`."""
        return Profiler.results.fget(self)
