"""Joins and sorts on the ``gen_table.py`` data, side by side: floe, Dask, pandas, Polars (eager and
streaming), as JSON lines. Each run is a fresh process (its ``peak_rss_mb`` is its own).

    python python/bench/dataframe_shuffle.py --data DIR [--reps 3] [--case NAME] [--tool NAME]
        [--memory-limit 150MB]

DIR holds ``parquet/`` from ``gen_table.py`` (columns id, name, x, y, timestamp). Cases:

- ``join_small``: the table's ``name, x`` joined with a table of the 1,000 names and their
  ``region`` (one partition: floe and Dask broadcast it), then ``groupby("region").x.sum()``.
- ``join_large``: the table's ``id, x`` joined with a table of the 100,000 ids and their
  ``segment`` in 10 partitions (floe and Dask hash-partition both sides), then
  ``groupby("segment").x.sum()``.
- ``sort``: the table's ``id, x`` sorted by ``x`` (``sort_values``), the whole sorted
  table returned (pandas for floe, Dask and pandas; a Polars frame for Polars).
- ``sort_write``: the table's ``id, name, x`` sorted by ``x`` and written to Parquet
  (``to_parquet``; Polars streaming ``sink_parquet``); the files are read back and checked
  sorted after the clock stops. ``--memory-limit 150MB`` runs floe under that budget.

The dimension tables are built in memory the same way for every tool. Install floe in
release mode into the environment first (``pip install ./python``).
"""

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def names_table():
    return pd.DataFrame({"name": [f"name_{i:04d}" for i in range(1000)],
                         "region": np.arange(1000, dtype="i8") % 10})


def ids_table():
    ids = np.arange(100_000, dtype="i8")
    return pd.DataFrame({"id": ids, "segment": (ids * 7919) % 100})


def sort_query(tool, pq_dir, files):
    if tool == "floe":
        import floe.dataframe as fd
        return fd.read_parquet(pq_dir, columns=["id", "x"]).sort_values("x").compute()
    if tool == "dask":
        import dask.dataframe as dd
        return dd.read_parquet(pq_dir, columns=["id", "x"]).sort_values("x").compute()
    if tool == "pandas":
        return pd.read_parquet(pq_dir, columns=["id", "x"]).sort_values("x")
    import polars as pl
    if tool == "polars":
        return pl.read_parquet(files, columns=["id", "x"]).sort("x")
    return pl.scan_parquet(files).select(["id", "x"]).sort("x").collect(engine="streaming")


def sort_write(tool, pq_dir, files, out):
    """The table sorted by ``x`` written to Parquet under ``out``."""
    cols = ["id", "name", "x"]
    if tool == "floe":
        import floe.dataframe as fd
        fd.read_parquet(pq_dir, columns=cols).sort_values("x").to_parquet(out)
    elif tool == "dask":
        import dask.dataframe as dd
        dd.read_parquet(pq_dir, columns=cols).sort_values("x").to_parquet(out)
    elif tool == "pandas":
        pd.read_parquet(pq_dir, columns=cols).sort_values("x").to_parquet(
            os.path.join(out, "part.0.parquet"))
    else:
        import polars as pl
        os.makedirs(out, exist_ok=True)
        target = os.path.join(out, "part.0.parquet")
        if tool == "polars":
            pl.read_parquet(files, columns=cols).sort("x").write_parquet(target)
        else:
            pl.scan_parquet(files).select(cols).sort("x").sink_parquet(target)


def query(tool, case, pq_dir):
    if case == "sort_write":
        import tempfile
        files = sorted(glob.glob(os.path.join(pq_dir, "*.parquet")))
        out = tempfile.mkdtemp(prefix="floe-sort-")
        sort_write(tool, pq_dir, files, os.path.join(out, "sorted"))
        return out  # checked by the caller after its clock stops
    if case == "sort":
        files = sorted(glob.glob(os.path.join(pq_dir, "*.parquet")))
        out = sort_query(tool, pq_dir, files)
        x = np.asarray(out["x"].to_numpy(), dtype=float)
        assert bool((x[1:] >= x[:-1]).all()), "not sorted"
        # The first, middle and last values and the row count: the same for every tool.
        return pd.Series([x[0], x[len(x) // 2], x[-1], float(len(x))])
    key, dim, dim_parts, col = (("name", names_table(), 1, "region") if case == "join_small"
                                else ("id", ids_table(), 10, "segment"))
    files = sorted(glob.glob(os.path.join(pq_dir, "*.parquet")))
    if tool == "floe":
        import floe.dataframe as fd
        big = fd.read_parquet(pq_dir, columns=[key, "x"])
        small = fd.from_pandas(dim, npartitions=dim_parts)
        return big.merge(small, on=key).groupby(col).x.sum().compute()
    if tool == "dask":
        import dask.dataframe as dd
        big = dd.read_parquet(pq_dir, columns=[key, "x"])
        small = dd.from_pandas(dim, npartitions=dim_parts)
        return big.merge(small, on=key).groupby(col).x.sum().compute()
    if tool == "pandas":
        big = pd.read_parquet(pq_dir, columns=[key, "x"])
        return big.merge(dim, on=key).groupby(col).x.sum()
    import polars as pl
    if tool == "polars":
        big = pl.read_parquet(files, columns=[key, "x"])
        return (big.join(pl.from_pandas(dim), on=key).group_by(col).agg(pl.col("x").sum())
                .sort(col).to_pandas().set_index(col)["x"])
    big = pl.scan_parquet(files).select([key, "x"])
    return (big.join(pl.from_pandas(dim).lazy(), on=key).group_by(col)
            .agg(pl.col("x").sum()).collect(engine="streaming").sort(col).to_pandas()
            .set_index(col)["x"])


CASES = ["join_small", "join_large", "sort", "sort_write"]
TOOLS = ["floe", "dask", "pandas", "polars", "polars_streaming"]


def checked_output(out_dir):
    """The sorted files written: checked sorted across files in name order, summarised
    as the sort query's result; then removed."""
    import re
    import shutil
    root = os.path.join(out_dir, "sorted")
    files = sorted(glob.glob(os.path.join(root, "*.parquet")),
                   key=lambda f: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", f)])
    x = np.concatenate([pd.read_parquet(f, columns=["x"])["x"].to_numpy() for f in files])
    shutil.rmtree(out_dir)
    assert bool((x[1:] >= x[:-1]).all()), "not sorted"
    return pd.Series([x[0], x[len(x) // 2], x[-1], float(len(x))])


def one(tool, case, data, memory_limit=None):
    if memory_limit and tool == "floe":
        import floe
        floe.config.set(memory_limit=memory_limit)
    t0 = time.perf_counter()
    out = query(tool, case, os.path.join(data, "parquet"))
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if case == "sort_write":
        out = checked_output(out)
    print(json.dumps({
        "workload": "dataframe_shuffle", "case": case, "tool": tool, "wall_s": round(wall, 4),
        "peak_rss_mb": round(rss, 1),
        "params": {"groups": len(out), "checksum": round(float(out.sort_index().sum()), 2),
                   "memory_limit": memory_limit if tool == "floe" else None},
    }), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.path.join(
        os.environ.get("BENCH_DATA", os.path.expanduser("~/.cache/floe-bench/data")), "table"))
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--case", action="append", choices=CASES)
    p.add_argument("--tool", action="append", choices=TOOLS)
    p.add_argument("--memory-limit", help="floe's memory budget, e.g. 150MB")
    p.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:
        return one(a.one[0], a.one[1], a.data, a.memory_limit)
    walls = {}
    for case in a.case or CASES:
        for tool in a.tool or TOOLS:
            for _ in range(a.reps):
                extra = ["--memory-limit", a.memory_limit] if a.memory_limit else []
                r = subprocess.run([sys.executable, __file__, "--data", a.data, "--one", tool,
                                    case] + extra, capture_output=True, text=True)
                if r.returncode != 0:
                    print(json.dumps({"case": case, "tool": tool,
                                      "error": r.stderr.strip().splitlines()[-1:]}))
                    break
                line = r.stdout.strip().splitlines()[-1]
                print(line, flush=True)
                walls.setdefault((case, tool), []).append(json.loads(line)["wall_s"])
    for (case, tool), w in walls.items():
        print(f"# {case} {tool}: median {statistics.median(w):.3f} s over {len(w)}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
