"""Diagnostics from Python: the progress bar, the profiler and the resource profiler as
context managers, against what the computations did."""

import io
import json
import re
import threading

import numpy as np
import pytest

import floe
import floe.array as fa
from floe.diagnostics import ProgressBar, Profiler, ResourceProfiler


def test_progress_bar_shows_each_computation_to_its_end():
    out = io.StringIO()
    x = fa.random.random((400, 400), chunks=50, seed=0)
    with ProgressBar(out=out, dt=0.01) as bar:
        (x + x.T).mean(axis=0).compute()
        x.sum().compute()
    # Each computation redraws its line (carriage returns) and ends it.
    lines = [line.split("\r")[-1] for line in out.getvalue().split("\n") if line]
    assert len(lines) == 2, out.getvalue()
    for line in lines:
        assert line.startswith("[" + "#" * 40 + "] | 100% Completed |"), line
    assert bar.last_duration is not None and bar.last_duration >= 0
    # Outside the block nothing is shown.
    x.max().compute()
    assert out.getvalue().count("\n") == 2


def test_progress_bar_marks_a_failed_computation_and_keeps_quiet_below_minimum():
    out = io.StringIO()
    x = fa.from_array(np.arange(10.0), chunks=5)

    def fails(b):
        raise ValueError("no")

    with ProgressBar(out=out, dt=0.01):
        with pytest.raises(ValueError):
            x.map_blocks(fails).compute()
    assert out.getvalue().rstrip().endswith("(failed)"), out.getvalue()
    quiet = io.StringIO()
    with ProgressBar(out=quiet, minimum=60):
        x.sum().compute()
    assert quiet.getvalue() == ""
    with pytest.raises(ValueError):
        ProgressBar(dt=0)


def test_progress_bar_shows_overlapping_computations_as_one():
    out = io.StringIO()
    x = fa.random.random((600, 600), chunks=50, seed=3)
    with ProgressBar(out=out, dt=0.005):
        threads = [threading.Thread(target=lambda: (x @ x.T).sum().compute()) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = [line.split("\r")[-1] for line in out.getvalue().split("\n") if line]
    assert lines, out.getvalue()
    for line in lines:
        assert line.startswith("[" + "#" * 40 + "] | 100% Completed |"), line
    # Overlapping runs add up: no line ever shows more than all of their tasks.
    shown = [int(p) for p in re.findall(r"(\d+)% Completed", out.getvalue())]
    assert shown and max(shown) == 100, out.getvalue()


def test_profiler_records_every_task_with_its_worker_and_times(tmp_path):
    x = fa.ones((300, 300), chunks=100)
    y = fa.random.random((300, 300), chunks=100, seed=1)
    with Profiler() as prof:
        (x + y.T).sum(axis=0).compute()
    tasks = prof.results
    assert tasks
    names = {t.key[0] for t in tasks}
    assert any("sum" in n for n in names), names
    for t in tasks:
        assert 0 <= t.start_time <= t.end_time
        assert t.worker_id >= 0 and t.nbytes >= 0
    # Profiles accumulate until cleared; computations outside the block are not recorded.
    n = len(tasks)
    y.max().compute()
    assert len(prof.results) == n
    with prof:
        y.max().compute()
    assert len(prof.results) > n
    assert prof.memory and all(b >= 0 for _, b in prof.memory)
    page = prof.write_html(tmp_path / "profile.html")
    text = open(page, encoding="utf-8").read()
    assert "<svg" in text and "profile.html" in text
    trace = json.loads(prof.to_chrome_trace())
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    assert len([e for e in events if e.get("ph") == "X"]) == len(prof.results)
    prof.clear()
    assert prof.results == []


def test_resource_profiler_samples_memory_and_cpu_while_computing():
    x = fa.random.random((2000, 2000), chunks=250, seed=2)
    with ResourceProfiler(dt=0.005) as rprof, Profiler() as prof:
        for _ in range(3):
            (x @ x.T).sum().compute()
    samples = rprof.results
    assert samples, "no samples"
    assert all(s.mem > 0 for s in samples)
    assert all(s.cpu >= 0 for s in samples)
    assert [s.time for s in samples] == sorted(s.time for s in samples)
    assert len(rprof.tasks) == len(prof.results)
    with pytest.raises(ValueError):
        ResourceProfiler(dt=0)


def test_context_managers_see_computations_of_other_threads():
    x = fa.ones((100, 100), chunks=50)
    with Profiler() as prof:
        t = threading.Thread(target=lambda: x.sum().compute())
        t.start()
        t.join()
    assert prof.results


def test_visualize_and_html_of_arrays(tmp_path):
    x = fa.ones((100, 100), chunks=50)
    y = (x + 1).sum(axis=0)
    path = floe.visualize(y, filename=str(tmp_path / "g.dot"))
    assert open(path).read().startswith("digraph")
    html = y._repr_html_()
    assert "<table" in html and "<svg" in html
