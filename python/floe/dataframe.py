"""Partitioned dataframes with dask.dataframe's names: ``import floe.dataframe as fd``.

A frame is a lazy plan over partitions (byte ranges of CSV files, Parquet files, row
ranges of a pandas frame), each a set of Arrow record batches; selections, filters, new
columns and aggregations extend the plan and check their columns at once; ``compute()``
runs it on floe's scheduler (all cores, the memory budget of ``floe.config``) and returns
pandas objects.

>>> import pandas as pd
>>> import floe.dataframe as fd
>>> pdf = pd.DataFrame({"name": ["a", "b", "a", "c"], "x": [1.0, -2.0, 3.0, 4.0]})
>>> df = fd.from_pandas(pdf, npartitions=2)
>>> df[df.x > 0].groupby("name").x.mean().compute()
name
a    2.0
c    4.0
Name: x, dtype: float64
>>> df["name"]
floe.Series<'name', dtype=object, npartitions=2>
>>> df.zz
Traceback (most recent call last):
...
AttributeError: 'DataFrame' object has no attribute 'zz'

Results follow pandas: missing values are skipped by reductions and aggregations; rows with
a missing key belong to no group; integer columns holding missing values come back as
float64 with NaN; groups come back sorted by their keys. A frame has no index of its own
(yet): computed frames and series get a fresh ``RangeIndex``, and aggregations per group
are indexed by their keys.
"""

import datetime
import numbers

import numpy as np

from . import _floe

__all__ = ["DataFrame", "Series", "Scalar", "GroupBy", "SeriesGroupBy", "read_csv",
           "read_parquet", "from_pandas", "merge"]

_AGG_FUNCS = ("sum", "mean", "count", "size", "min", "max", "var", "std", "first", "last",
              "nunique")


def _pandas():
    import pandas
    return pandas


def _blocksize(b):
    """Bytes from an int or a size string (``"64MB"``, ``"1 GiB"``), as Dask takes them."""
    if isinstance(b, numbers.Integral) and not isinstance(b, bool):
        if b <= 0:
            raise ValueError(f"blocksize must be positive, got {b}")
        return int(b)
    if not isinstance(b, str):
        raise TypeError(f"blocksize must be an int or a size string, got {b!r}")
    units = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
             "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
    s = b.strip().lower().replace(" ", "")
    digits = s.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = s[len(digits):] or "b"
    if unit not in units or not digits:
        raise ValueError(f"blocksize {b!r} is not a size (say '64MB' or 67108864)")
    return _blocksize(int(float(digits) * units[unit]))


def _dtype_name(t):
    """A NumPy/pandas dtype (or Python type) as the name floe's columns know."""
    if t is str or t is object:
        return "str"
    if t is float:
        return "float64"
    if t is int:
        return "int64"
    if t is bool:
        return "bool"
    if isinstance(t, str) and t in ("str", "string", "object", "Int64", "Int32", "boolean"):
        return t
    return np.dtype(t).name


def read_csv(urlpath, blocksize="64MB", usecols=None, dtype=None, parse_dates=None,
             sep=","):
    """A frame over CSV files: ``urlpath`` is a file, a directory of ``*.csv`` files or a
    pattern (``"data/2014-*.csv"``). Each file splits into partitions of ``blocksize``
    bytes at line ends; column types are inferred from the first file's first rows
    (``dtype=`` a dict or one type overrides them); ``parse_dates`` lists columns read as
    timestamps. A malformed row fails the computation with a ``ValueError`` naming the
    file, the line and the column."""
    if usecols is not None:
        usecols = [usecols] if isinstance(usecols, str) else list(usecols)
    pairs = None
    if dtype is not None:
        if isinstance(dtype, dict):
            pairs = [(str(c), _dtype_name(t)) for c, t in dtype.items()]
        else:
            pairs = [("\0all", _dtype_name(dtype))]
    if parse_dates is not None:
        parse_dates = [parse_dates] if isinstance(parse_dates, str) else list(parse_dates)
    path = str(urlpath) if not isinstance(urlpath, (list, tuple)) else None
    if path is None:
        raise TypeError("read_csv takes one path, directory or pattern (a list of paths: "
                        "give their common pattern)")
    if pairs and pairs[0][0] == "\0all":
        # One type for every column: the columns are known once the header is read.
        cols = _floe._read_csv(path, _blocksize(blocksize), usecols, None, None, sep).columns
        pairs = [(c, pairs[0][1]) for c in cols]
    return DataFrame(_floe._read_csv(path, _blocksize(blocksize), usecols, pairs,
                                     parse_dates, sep))


def read_parquet(path, columns=None, filters=None):
    """A frame over Parquet files (a file, a directory or a pattern), one partition per
    file; only ``columns`` (all when ``None``) are read from each.

    ``filters`` keeps the rows that match, as pyarrow's: a list of ``(column, op,
    value)`` that all hold, or a list of such lists of which one holds; ``op`` is one
    of ``== = != < <= > >= in not in``; a missing value matches no filter (as pyarrow:
    ``!=`` and ``not in`` leave it out too). Row groups whose statistics rule a filter out
    are not read — as for any filter of the frame's columns against constants
    (``df[df.x > 0]``)."""
    if columns is not None:
        columns = [columns] if isinstance(columns, str) else list(columns)
    df = DataFrame(_floe._read_parquet(str(path), None if filters else columns))
    if filters:
        df = df[_filters_expr(df, filters)]
        if columns is not None:
            df = df[columns]
    return df


def _filters_expr(df, filters):
    """pyarrow's ``filters`` (disjunctive normal form) as a boolean Series of ``df``."""
    if not isinstance(filters, (list, tuple)) or not filters:
        raise TypeError(f"filters is a list of (column, op, value) tuples or a list of "
                        f"such lists, got {filters!r}")
    groups = filters if all(isinstance(f, (list, tuple)) and f and
                            isinstance(f[0], (list, tuple)) for f in filters) else [filters]
    ops = {"==": "__eq__", "=": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__",
           ">": "__gt__", ">=": "__ge__"}

    def term(t):
        if not (isinstance(t, (list, tuple)) and len(t) == 3):
            raise TypeError(f"a filter is (column, op, value), got {t!r}")
        c, op, v = t
        if c not in df._data_columns():
            raise KeyError(c)
        s = df[c]
        if op in ("in", "not in"):
            vals = list(v)
            if not vals:
                raise ValueError(f"filter {t!r}: 'in' needs at least one value")
            if op == "in":
                return _balanced([s == x for x in vals], lambda a, b: a | b)
            return _balanced([s != x for x in vals], lambda a, b: a & b) & s.notna()
        if op not in ops:
            raise ValueError(f"filter {t!r}: unknown op {op!r} (known: "
                             f"{', '.join(list(ops) + ['in', 'not in'])})")
        out = getattr(s, ops[op])(v)
        # As pyarrow: a missing value matches no filter (pandas' != keeps it).
        return out & s.notna() if op == "!=" else out

    return _balanced([_balanced([term(t) for t in g], lambda a, b: a & b) for g in groups],
                     lambda a, b: a | b)


def _balanced(items, join):
    """``items`` joined pairwise as a balanced tree (not a chain as deep as the list)."""
    if not items:
        raise ValueError("an empty group of filters")
    while len(items) > 1:
        items = [join(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


def _column_for_floe(name, s):
    """A pandas Series as ``(name, kind, values, mask)`` for ``_frame_from_columns``."""
    pd = _pandas()
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        # The categories' own type (strings, numbers): missing values stay missing.
        cats = dt.categories.dtype
        s = s.astype(object if cats.kind == "O" or not hasattr(cats, "kind")
                     else ("float64" if cats.kind in "iu" and s.isna().any() else cats))
        dt = s.dtype
    if getattr(dt, "tz", None) is not None:
        raise TypeError(f"column {name!r} has time zone {dt.tz}; floe.dataframe holds "
                        "naive timestamps (convert with .dt.tz_convert(None))")
    if pd.api.types.is_extension_array_dtype(dt):
        # Nullable ints, floats, booleans, strings: values plus a mask.
        mask = s.isna().to_numpy()
        if pd.api.types.is_string_dtype(dt):
            vals = [None if m else str(v) for v, m in zip(s.to_numpy(object), mask)]
            return name, "str", vals, None
        numpy_dt = dt.numpy_dtype
        fill = False if numpy_dt == np.bool_ else 0
        vals = s.to_numpy(dtype=numpy_dt, na_value=fill)
        return name, numpy_dt.name, np.ascontiguousarray(vals), (mask if mask.any() else None)
    if dt.kind == "M":
        if getattr(dt, "tz", None) is not None:
            raise TypeError(f"column {name!r} has time zone {dt.tz}; floe.dataframe holds "
                            "naive timestamps (convert with .dt.tz_convert(None))")
        vals = s.to_numpy().astype("datetime64[ns]")
        mask = np.isnat(vals)
        return name, "datetime64[ns]", vals.view("int64"), (mask if mask.any() else None)
    if dt.kind in "fiub":
        return name, dt.name, np.ascontiguousarray(s.to_numpy()), None
    if dt.kind in "OSU":
        vals = []
        for v in s.to_numpy(object):
            if isinstance(v, str):
                vals.append(v)
            elif v is None or (isinstance(v, float) and v != v) or v is pd.NA:
                vals.append(None)
            else:
                raise TypeError(f"column {name!r} holds a {type(v).__name__} ({v!r}); "
                                "floe.dataframe holds strings, numbers, booleans and "
                                "timestamps")
        return name, "str", vals, None
    raise TypeError(f"column {name!r} has dtype {dt}, which floe.dataframe does not hold")


def from_pandas(data, npartitions=None, chunksize=None, sort=True):
    """A frame over a pandas DataFrame (or Series) in memory, split into ``npartitions``
    row ranges (or ranges of ``chunksize`` rows). An index other than the default
    ``RangeIndex`` is kept as the frame's index, sorted first (``sort=True``, a stable
    sort) so that ``.loc`` and time windows can use it; ``sort=False`` keeps the rows'
    order. A ``MultiIndex`` is not supported (``reset_index()`` makes it columns)."""
    pd = _pandas()
    if isinstance(data, pd.Series):
        data = data.to_frame(name=data.name if data.name is not None else 0)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"from_pandas takes a pandas DataFrame or Series, got "
                        f"{type(data).__name__}")
    if (npartitions is None) == (chunksize is None):
        raise ValueError("give exactly one of npartitions and chunksize")
    if chunksize is not None:
        if chunksize <= 0:
            raise ValueError(f"chunksize must be positive, got {chunksize}")
        npartitions = max(1, -(-len(data) // int(chunksize)))
    if npartitions <= 0:
        raise ValueError(f"npartitions must be positive, got {npartitions}")
    idx = data.index
    index = ()
    if not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
            and idx.name is None):
        if isinstance(idx, pd.MultiIndex):
            raise NotImplementedError("from_pandas of a MultiIndex: reset_index() first")
        if getattr(idx.dtype, "tz", None) is not None:
            raise TypeError(f"the index has time zone {idx.dtype.tz}; floe.dataframe holds "
                            "naive timestamps (convert with .tz_convert(None))")
        name = _UNNAMED_INDEX if idx.name is None else str(idx.name)
        if name in [str(c) for c in data.columns]:
            raise ValueError(f"the index is named like a column ({name!r})")
        if sort and not idx.is_monotonic_increasing:
            data = data.sort_index(kind="stable")
        data = data.reset_index(names=name)
        index = (name,)
    names = [str(c) for c in data.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be unique strings, got {list(data.columns)}")
    cols = [_column_for_floe(n, data[c]) for n, c in zip(names, data.columns)]
    out = DataFrame(_floe._frame_from_columns(cols, int(npartitions)), index)
    if index:
        out._divisions = _divisions_of(data[index[0]], out.npartitions)
    return out


def _divisions_of(values, nparts):
    """The divisions of ``values`` (a pandas Series) split into ``nparts`` row ranges as
    ``_frame_from_columns`` splits them: each range's first value, then the last value;
    ``None`` unless the values are sorted, without missing ones, and every range has
    rows."""
    pd = _pandas()
    rows = len(values)
    # Numbers, times and text order as floe compares them (categories may not).
    # (float32 compares with constants in its own precision: no divisions.)
    plain = values.dtype.kind in "imM" or values.dtype == np.float64 or (
        pd.api.types.is_string_dtype(values.dtype)
        and not isinstance(values.dtype, pd.CategoricalDtype))
    if not plain or rows < nparts or rows == 0 or values.isna().any() or \
            not values.is_monotonic_increasing:
        return None
    starts = [rows * i // nparts for i in range(nparts)]
    return tuple(values.iloc[starts + [rows - 1]].tolist())


def merge(left, right, how="inner", on=None, left_on=None, right_on=None,
          suffixes=("_x", "_y")):
    """The rows of ``left`` and ``right`` whose keys match, as ``pandas.merge``: ``on``
    (columns of both) or ``left_on`` and ``right_on``; ``how`` one of ``inner``, ``left``,
    ``right``, ``outer``; columns of both sides that are not a shared key get
    ``suffixes``. Missing keys match each other, as in pandas. A side of one partition is
    joined whole with each partition of the other (broadcast); otherwise both are split by
    a hash of the key into buckets joined pairwise. Rows come in no particular order (sort
    the computed result to compare with pandas).

    >>> import pandas as pd
    >>> import floe.dataframe as fd
    >>> sales = fd.from_pandas(pd.DataFrame({"shop": [1, 2, 1, 3], "n": [5, 6, 7, 8]}),
    ...                        npartitions=2)
    >>> shops = fd.from_pandas(pd.DataFrame({"shop": [1, 2], "city": ["Oslo", "Lima"]}),
    ...                        npartitions=1)
    >>> out = fd.merge(sales, shops, on="shop", how="left").compute()
    >>> print(out.sort_values("n").to_string(index=False))
     shop  n city
        1  5 Oslo
        2  6 Lima
        1  7 Oslo
        3  8  NaN
    """
    if not isinstance(left, DataFrame) or not isinstance(right, DataFrame):
        raise TypeError("merge joins two floe DataFrames (fd.from_pandas makes one)")
    if left._index or right._index:
        raise NotImplementedError("merge of frames with an index: reset it first")
    if on is not None:
        if left_on is not None or right_on is not None:
            raise ValueError("give on= or left_on= and right_on=, not both")
        left_on = right_on = on
    elif left_on is None and right_on is None:
        shared = [c for c in left._data_columns() if c in right._data_columns()]
        if not shared:
            raise ValueError("no common columns to merge on: give on= or left_on=/right_on=")
        left_on = right_on = shared
    elif left_on is None or right_on is None:
        raise ValueError("give both left_on= and right_on=")
    as_list = lambda k: [k] if isinstance(k, str) else list(k)  # noqa: E731
    left_on, right_on = as_list(left_on), as_list(right_on)
    if len(left_on) != len(right_on):
        raise ValueError(f"left_on has {len(left_on)} keys, right_on {len(right_on)}")
    sx, sy = suffixes
    return DataFrame(left._frame.merge(right._frame, left_on, right_on, how,
                                       ("" if sx is None else sx, "" if sy is None else sy)))


def _clear_target(path, ext, overwrite):
    """Refuses (or, with ``overwrite``, removes) the files an earlier write left where
    this one writes: a reader of the directory would take them for parts."""
    import glob
    import os
    pattern = path.replace("*", "[0-9]*") if "*" in path else os.path.join(
        path, f"part.*.{ext}")
    old = [f for f in glob.glob(pattern) if os.path.isfile(f)]
    if old and not overwrite:
        raise FileExistsError(f"{len(old)} files of an earlier write are there ({old[0]}, "
                              "...): give overwrite=True to replace them")
    for f in old:
        os.remove(f)


def _arrow():
    """Whether pyarrow is there: text columns then come as Arrow arrays, without a Python
    string per value (pandas keeps them as its Arrow-backed ``str`` column)."""
    global _HAS_PYARROW
    if _HAS_PYARROW is None:
        try:
            import pyarrow
        except ImportError:
            pyarrow = None
        # pandas 3 keeps Arrow text as its str column (older pandas would make objects
        # with None where the Python path gives NaN); pyarrow 14 reads the capsules.
        _HAS_PYARROW = (pyarrow is not None
                        and hasattr(pyarrow.Array, "_import_from_c_capsule")
                        and int(_pandas().__version__.split(".")[0]) >= 3)
    return _HAS_PYARROW


_HAS_PYARROW = None


def _to_numpy_column(kind, values, mask):
    """A computed column (``_Frame.compute``'s tuple) as pandas holds it."""
    if kind == "str" and isinstance(values, tuple):
        # Arrow's C data interface: (schema, array) capsules.
        import pyarrow as pa
        return pa.Array._import_from_c_capsule(*values).to_pandas().array
    if kind == "str":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        out[[v is None for v in values]] = np.nan
        return out
    if kind == "null":
        return values
    if kind.startswith("datetime64"):
        out = values.view(kind)
        if mask is not None:
            out = out.copy()
            out[mask] = np.datetime64("NaT")
        return out.astype("datetime64[ns]")
    if mask is None:
        return values
    if kind == "bool":
        out = values.astype(object)
        out[mask] = np.nan
        return out
    out = values.astype(np.float64) if values.dtype.kind in "iu" else values.copy()
    out[mask] = np.nan
    return out


def _pandas_frame(frame, index=(), labels=None):
    """Runs ``frame`` (a ``_Frame``) and builds its pandas DataFrame: the ``index`` columns
    as the index, the others under ``labels`` (tuples make a MultiIndex)."""
    return _pandas_from_columns(frame.compute(arrow=_arrow()), index, labels)


# The column holding an unnamed pandas index (named None again when computed).
_UNNAMED_INDEX = "__floe_index__"


def _index_names(index):
    """The pandas names of the index columns ``index``."""
    return [None if k == _UNNAMED_INDEX else k for k in index]


def _pandas_from_columns(cols, index=(), labels=None):
    """A pandas DataFrame from computed columns (``_Frame.compute``'s tuples)."""
    pd = _pandas()
    data = {name: _to_numpy_column(kind, values, mask) for name, kind, values, mask in cols}
    names = [c[0] for c in cols]
    others = [n for n in names if n not in index]
    # The columns are fresh arrays made for this frame: no copy.
    out = pd.DataFrame({n: data[n] for n in others}, columns=others, copy=False)
    if index:
        keys = [data[k] for k in index]
        names = _index_names(index)
        out.index = (pd.Index(keys[0], name=names[0]) if len(keys) == 1
                     else pd.MultiIndex.from_arrays(keys, names=names))
    if labels is not None:
        out.columns = (pd.MultiIndex.from_tuples(labels)
                       if labels and all(isinstance(x, tuple) for x in labels)
                       else pd.Index(labels))
    return out


class _Base:
    """What frames and series share: a plan and the columns standing for their index."""

    def __init__(self, frame, index=()):
        self._frame = frame
        self._index = tuple(index)
        # The index's first value in each partition, then its last value; None: unknown.
        self._divisions = None

    @property
    def npartitions(self):
        """The number of partitions."""
        return self._frame.npartitions

    @property
    def known_divisions(self):
        """Whether the partitions' index ranges are known (see ``divisions``)."""
        return self._divisions is not None

    @property
    def divisions(self):
        """The partitions' index boundaries: the index's first value in each partition,
        then its last value — partition ``i`` holds the values from ``divisions[i]`` to
        ``divisions[i + 1]``, a value equal to a boundary possibly on both sides of it.
        Known for a sorted index from ``from_pandas``, kept by selections, filters,
        ``assign`` and ``.loc`` (which then reads only the partitions it can match);
        otherwise ``(None,) * (npartitions + 1)``, as dask gives unknown divisions."""
        if self._divisions is None:
            return (None,) * (self.npartitions + 1)
        return self._divisions

    def _keeping_divisions(self, out):
        """``out`` (of the same partitions and index as this) with this one's divisions."""
        out._divisions = self._divisions
        return out

    def __bool__(self):
        raise TypeError(f"the truth value of a floe {type(self).__name__} is unknown until "
                        "computed (use & | ~ for element-wise logic, .compute() for values)")


class DataFrame(_Base):
    """A lazy partitioned dataframe (see the module's documentation)."""

    def __init__(self, frame, index=(), labels=None):
        super().__init__(frame, index)
        self._labels = labels

    # -- structure, without computing ------------------------------------------------

    @property
    def columns(self):
        """The column names (a pandas Index)."""
        return _pandas().Index(self._data_columns(), dtype=object)

    def _data_columns(self):
        return [c for c in self._frame.columns if c not in self._index]

    @property
    def dtypes(self):
        """The NumPy dtype of each column, as pandas will give it (a column of integers
        that holds missing values comes back as float64)."""
        pd = _pandas()
        names = {n: np.dtype(t) for n, t, _ in self._frame.dtypes}
        cols = self._data_columns()
        return pd.Series([names[c] for c in cols], index=cols, dtype=object)

    @property
    def ndim(self):
        return 2

    @property
    def shape(self):
        """``(rows, columns)``: the rows a lazy ``Scalar``, as Dask's."""
        return (Scalar(self._frame.aggregate([], [(None, "size", "len")]), "len"),
                len(self._data_columns()))

    def __len__(self):
        return int(self.shape[0].compute())

    def __repr__(self):
        lines = [f"floe.DataFrame<npartitions={self.npartitions}>"]
        if self._index:
            lines.append(f"  index: {', '.join(self._index)}")
        types = {n: t for n, t, _ in self._frame.dtypes}
        for c in self._data_columns():
            lines.append(f"  {c}: {types[c]}")
        return "\n".join(lines)

    def __dir__(self):
        return sorted(set(super().__dir__()) | {c for c in self._data_columns()
                                                  if c.isidentifier()})

    # -- selection -------------------------------------------------------------------

    def _series(self, name):
        if name not in self._frame.columns or name in self._index:
            raise KeyError(name)
        return self._keeping_divisions(
            Series(self._frame, _floe._col(name), name, self._index, name))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._series(name)
        except KeyError:
            raise AttributeError(f"'DataFrame' object has no attribute {name!r}") from None

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._series(key)
        if isinstance(key, Series):
            if key._frame is not self._frame:
                raise ValueError("a filter must be a Series of this frame (floe cannot "
                                 "align series of different frames)")
            return self._keeping_divisions(
                DataFrame(self._frame.filter(key._expr), self._index, self._labels))
        if isinstance(key, (list, tuple, _pandas().Index)):
            key = list(key)
            missing = [k for k in key if k not in self._data_columns()]
            if missing:
                raise KeyError(f"{missing} not in the columns {self._data_columns()}")
            return self._keeping_divisions(
                DataFrame(self._frame.select(list(self._index) + key), self._index))
        raise TypeError(f"a floe DataFrame is indexed by a column name, a list of names or "
                        f"a boolean Series, not {type(key).__name__}")

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError("columns are set by name: df['new'] = ...")
        new = self.assign(**{key: value})
        self._frame, self._labels = new._frame, new._labels

    def assign(self, **columns):
        """The frame with new or replaced columns: each value a Series of this frame or a
        constant."""
        # As pandas: every Series value is of the frame before the assignment (so first
        # held under a temporary name: a later value may read a column an earlier one
        # replaces); callables see the frame with the assignments before them.
        frame, steps = self._frame, []
        for i, (name, value) in enumerate(columns.items()):
            if callable(value) and not isinstance(value, Series):
                steps.append((name, value))
            else:
                tmp = f"__floe_assign_{i}__"
                frame = frame.with_column(tmp, _expr_of(value, self._frame))
                steps.append((name, tmp))
        for name, step in steps:
            if isinstance(step, str):
                frame = frame.with_column(name, _floe._col(step))
            else:
                frame = frame.with_column(name, _expr_of(step(DataFrame(frame, self._index)),
                                                         frame))
        keep = [c for c in frame.columns if not c.startswith("__floe_assign_")]
        out = DataFrame(frame.select(keep), self._index)
        if any(name in self._index for name in columns):
            return out  # the index's values change: its divisions are unknown
        return self._keeping_divisions(out)

    def drop(self, columns=None):
        """The frame without ``columns``."""
        columns = [columns] if isinstance(columns, str) else list(columns or [])
        missing = [c for c in columns if c not in self._data_columns()]
        if missing:
            raise KeyError(f"{missing} not found in the columns")
        keep = [c for c in self._frame.columns if c not in columns]
        return DataFrame(self._frame.select(keep), self._index)

    def rename(self, columns):
        """The frame with columns renamed by the dict ``columns``."""
        names = [columns.get(c, c) for c in self._frame.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"renaming gives duplicate column names: {names}")
        # Every renamed column is first copied under a temporary name from the frame as it
        # is, so that swaps and renames onto existing names read the old values.
        frame, moves = self._frame, []
        for i, c in enumerate(self._frame.columns):
            if names[i] != c:
                tmp = f"__floe_rename_{i}__"
                frame = frame.with_column(tmp, _floe._col(c))
                moves.append((names[i], tmp))
        for new, tmp in moves:
            frame = frame.with_column(new, _floe._col(tmp))
        return DataFrame(frame.select(names), tuple(columns.get(i, i) for i in self._index))

    def astype(self, dtype):
        """The frame with its columns converted: ``dtype`` one type or a dict by column."""
        types = dtype if isinstance(dtype, dict) else {c: dtype for c in self._data_columns()}
        frame = self._frame
        for c, t in types.items():
            if c not in self._data_columns():
                raise KeyError(c)
            frame = frame.with_column(c, _floe._col(c).cast(_dtype_name(t)))
        return DataFrame(frame, self._index)

    def isna(self):
        """Whether each value is missing (NaN counts as missing, as in pandas)."""
        return self._map_columns(lambda e: e.is_null())

    isnull = isna

    def notna(self):
        """Whether each value is present."""
        return self._map_columns(lambda e: e.is_not_null())

    notnull = notna

    def dropna(self, how="any", subset=None):
        """The rows without missing values (``how="any"``) or not all missing
        (``how="all"``), among ``subset`` (a column or list; all columns by default)."""
        if how not in ("any", "all"):
            raise ValueError(f"how must be 'any' or 'all', got {how!r}")
        cols = self._data_columns() if subset is None else (
            [subset] if isinstance(subset, str) else list(subset))
        for c in cols:
            if c not in self._data_columns():
                raise KeyError(c)
        if not cols:
            return self
        present = [_floe._col(c).is_not_null() for c in cols]
        pred = present[0]
        for p in present[1:]:
            pred = pred.binary("&" if how == "any" else "|", p)
        return DataFrame(self._frame.filter(pred), self._index, self._labels)

    def fillna(self, value):
        """Missing values (null or NaN) replaced: ``value`` a constant for every column,
        or a dict of constants by column."""
        if isinstance(value, dict):
            fills = value
        else:
            # One value for every column that can hold it (a number for numbers, text
            # for text…); the others keep their missing values.
            kinds = {n: np.dtype(t).kind for n, t, _ in self._frame.dtypes}
            v = value.item() if isinstance(value, np.generic) else value
            fits = ("b" if isinstance(v, bool) else "iuf" if isinstance(v, numbers.Real)
                    else ("OM" if _parses_as_time(v) else "O") if isinstance(v, str) else "")
            fills = {c: value for c in self._data_columns() if kinds[c] in fits}
        frame = self._frame
        for c, v in fills.items():
            if c not in self._data_columns():
                raise KeyError(c)
            frame = frame.with_column(c, _floe._col(c).fillna(_expr_of(v, frame)))
        return DataFrame(frame, self._index, self._labels)

    def sort_values(self, by, ascending=True, npartitions=None):
        """The rows sorted by ``by`` (a column or list), each ascending or not (one bool or
        a list), missing values last; a stable sort, as pandas' ``kind="stable"``. Each
        partition's keys are sampled to choose ranges of keys; the output has
        ``npartitions`` partitions (as many as the input by default) holding consecutive
        ranges."""
        by = [by] if isinstance(by, str) else list(by)
        for c in by:
            if c not in self._frame.columns:
                raise KeyError(c)
        asc = ([bool(ascending)] * len(by) if isinstance(ascending, (bool, np.bool_))
               else [bool(a) for a in ascending])
        return DataFrame(self._frame.sort_values(by, asc, npartitions), self._index,
                         self._labels)

    def set_index(self, other, drop=True, sorted=False, npartitions=None):
        """The frame indexed by column ``other``, sorted by it (unless ``sorted=True``
        says it already is): computed frames have it as their index, ``.loc`` selects
        by it."""
        if not isinstance(other, str):
            raise TypeError("set_index takes one column name")
        if other not in self._data_columns():
            raise KeyError(other)
        if self._index:
            raise NotImplementedError("the frame has an index already: reset it first")
        if not drop:
            raise NotImplementedError("set_index(drop=False) is not supported yet")
        frame = self._frame if sorted else self._frame.sort_values([other], [True],
                                                                   npartitions)
        return DataFrame(frame, (other,))

    def reset_index(self, drop=False):
        """The index back as the first column (``drop=True``: dropped)."""
        if not self._index:
            return self
        if drop:
            return DataFrame(self._frame.select(self._data_columns()))
        frame, index = self._frame, list(self._index)
        if index == [_UNNAMED_INDEX]:
            # As pandas: an unnamed index comes back as the column "index".
            if "index" in self._data_columns():
                raise ValueError("cannot insert the index as 'index': a column has the name")
            frame, index = frame.with_column("index", _floe._col(_UNNAMED_INDEX)), ["index"]
        return DataFrame(frame.select(index + self._data_columns()))

    @property
    def index(self):
        """The index column as a lazy Series (``set_index`` makes one)."""
        if not self._index:
            raise NotImplementedError("this frame has no index column (set_index makes one)")
        name = self._index[0]
        return Series(self._frame, _floe._col(name), _index_names([name])[0], (), name)

    @property
    def loc(self):
        """Rows by index value: ``df.loc[v]``, ``df.loc[a:b]`` (both ends included, as
        pandas), ``df.loc[[v, w]]``."""
        if len(self._index) != 1:
            raise NotImplementedError(".loc needs a frame with one index column (set_index)")
        return _Loc(self)

    def nlargest(self, n, columns):
        """The ``n`` rows with the largest values of ``columns``, largest first."""
        return self.sort_values(columns, ascending=False).head(n, npartitions=-1,
                                                               compute=False)

    def nsmallest(self, n, columns):
        """The ``n`` rows with the smallest values of ``columns``, smallest first."""
        return self.sort_values(columns, ascending=True).head(n, npartitions=-1,
                                                              compute=False)

    def tail(self, n=5, npartitions=1, compute=True):
        """The last ``n`` rows, from the last ``npartitions`` partitions only (``-1``: as
        many as it takes), in their order, as a pandas DataFrame (a lazy frame with
        ``compute=False``)."""
        if int(n) < 0:
            raise ValueError(f"tail takes a number of rows >= 0, got {n}")
        out = DataFrame(self._frame.tail(int(n), None if npartitions == -1
                                         else int(npartitions)), self._index, self._labels)
        return out.compute() if compute else out

    def merge(self, right, how="inner", on=None, left_on=None, right_on=None,
              suffixes=("_x", "_y")):
        """The rows of this frame and ``right`` whose keys match, as ``fd.merge``."""
        return merge(self, right, how=how, on=on, left_on=left_on, right_on=right_on,
                     suffixes=suffixes)

    def head(self, n=5, npartitions=1, compute=True):
        """The first ``n`` rows, from the first ``npartitions`` partitions only (``-1``:
        as many as it takes), as a pandas DataFrame (a lazy frame with
        ``compute=False``)."""
        if int(n) < 0:
            raise ValueError(f"head takes a number of rows >= 0, got {n}")
        out = DataFrame(self._frame.head(int(n), None if npartitions == -1
                                         else int(npartitions)), self._index, self._labels)
        return out.compute() if compute else out

    def to_parquet(self, path, overwrite=False):
        """Writes each partition to a Parquet file, ``path/part.{i}.parquet`` (a ``*`` in
        ``path`` stands for the number instead); runs now. Each file is written under a
        temporary name and renamed when complete, so a failure leaves no half-written
        file under a final name. Files of an earlier write there are an error
        (``FileExistsError``), or removed first with ``overwrite=True``."""
        if self._index:
            raise NotImplementedError("writing a frame with an index: reset it first")
        _clear_target(str(path), "parquet", overwrite)
        self._frame.to_parquet(str(path)).compute()

    def to_csv(self, path, overwrite=False):
        """Writes each partition to a CSV file with a header, ``path/part.{i}.csv`` (a
        ``*`` in ``path`` stands for the number instead); runs now and returns the paths
        written, as Dask's. Earlier files as with ``to_parquet``."""
        if self._index:
            raise NotImplementedError("writing a frame with an index: reset it first")
        _clear_target(str(path), "csv", overwrite)
        cols = self._frame.to_csv(str(path)).compute()
        return list(cols[0][2])

    def _map_columns(self, f):
        frame = self._frame
        for c in self._data_columns():
            frame = frame.with_column(c, f(_floe._col(c)))
        return DataFrame(frame, self._index)

    # -- aggregations ----------------------------------------------------------------

    def groupby(self, by, sort=True, dropna=True, split_every=None):
        """Groups by one column or several (names or Series of this frame): ``agg``,
        ``sum``, ``mean``… give one row per group, sorted by the keys, indexed by them.
        Rows with a missing key belong to no group (pandas' ``dropna=True``)."""
        if not sort:
            pass  # sorted anyway: the order of pandas' sort=True is one valid order
        if not dropna:
            raise NotImplementedError("groupby(dropna=False) is not supported yet")
        keys = by if isinstance(by, (list, tuple)) else [by]
        names = []
        for k in keys:
            if isinstance(k, Series):
                if k._frame is not self._frame or k._column is None:
                    raise ValueError("group keys must be columns of this frame")
                k = k._column
            if k not in self._data_columns():
                raise KeyError(k)
            names.append(k)
        return GroupBy(self, names, split_every or 8)

    def rolling(self, window, min_periods=None, center=False, on=None):
        """Moving windows: ``window`` rows (an int; centred on the row with
        ``center=True``) or a span of time (``"2h"``, a ``Timedelta``) measured on the
        datetime index or the column ``on``; the frame must be sorted by it. ``.sum()
        .mean() .count() .min() .max() .var() .std() .agg()`` give each row's aggregate
        over its window, reaching into the partitions before (and, centred, after) it."""
        return Rolling(self, window, min_periods, on, center)

    def resample(self, rule, on=None, origin="start_day"):
        """Time bins of a fixed length ``rule`` (``"1h"``, ``"15min"``, ``"D"``) or calendar
        periods (``"W"``, ``"W-MON"``, ``"ME"``, ``"MS"``, ``"QE"``, ``"QS"``, ``"YE"``,
        ``"YS"``, anchored forms such as ``"QE-JAN"``) over the datetime index or the
        column ``on``: ``.sum() .mean() …`` and ``.agg()`` give one row per bin from the
        first to the last, empty bins included, labelled as pandas labels them."""
        return Resampler(self, rule, on, origin)

    def agg(self, arg):
        """Frame-wide aggregations: a function name or list of them over every column, or
        a dict ``{column: name or list of names}``; a pandas Series (one function) or
        DataFrame (functions as rows) when computed."""
        return _frame_agg(self, arg)

    aggregate = agg

    def _reduce(self, func, numeric_only=False, split_every=None):
        cols = self._data_columns()
        if numeric_only or func in ("mean", "var", "std"):
            types = {n: t for n, t, _ in self._frame.dtypes}
            numeric = [c for c in cols if types[c] != "object"]
            if not numeric_only and len(numeric) != len(cols):
                bad = [c for c in cols if c not in numeric]
                raise TypeError(f"cannot compute the {func} of text columns {bad} "
                                "(numeric_only=True leaves them out)")
            cols = numeric
        return _frame_agg(self[cols] if cols != self._data_columns() else self, func)

    def sum(self, numeric_only=False, split_every=None):
        return self._reduce("sum", numeric_only)

    def mean(self, numeric_only=False, split_every=None):
        return self._reduce("mean", numeric_only)

    def count(self, numeric_only=False, split_every=None):
        return self._reduce("count", numeric_only)

    def min(self, numeric_only=False, split_every=None):
        return self._reduce("min", numeric_only)

    def max(self, numeric_only=False, split_every=None):
        return self._reduce("max", numeric_only)

    def var(self, ddof=1, numeric_only=False, split_every=None):
        _ddof_one(ddof)
        return self._reduce("var", numeric_only)

    def std(self, ddof=1, numeric_only=False, split_every=None):
        _ddof_one(ddof)
        return self._reduce("std", numeric_only)

    def map_partitions(self, func, *args, meta=None, **kwargs):
        """``func(partition, *args, **kwargs)`` on each partition, a pandas DataFrame
        (indexed as this frame), returning a DataFrame or a Series. The result's columns
        and dtypes are ``meta``'s (an empty pandas DataFrame or Series, or a dict
        ``{column: dtype}``), or else those of ``func`` called on an empty partition.
        A result keeps this frame's index when it has the same index name(s)."""
        return _map_partitions(self, func, args, kwargs, meta)

    def nunique(self, dropna=True, split_every=None):
        """The number of distinct values of each column (missing values left out): a
        Series by column when computed."""
        if not dropna:
            raise NotImplementedError("nunique(dropna=False) is not supported yet")
        return _frame_agg(self, "nunique")

    # -- results ---------------------------------------------------------------------

    def compute(self):
        """Runs the plan and returns a pandas DataFrame."""
        return _pandas_frame(self._frame, self._index, self._labels)

    def persist(self):
        """The frame computed and held in memory (one partition)."""
        held = from_pandas(self.compute().reset_index(drop=not self._index), npartitions=1)
        return DataFrame(held._frame, self._index, self._labels)


class _Loc:
    """``df.loc``: selections by the value of a frame's index column."""

    def __init__(self, df):
        self._df = df

    def __getitem__(self, key):
        df, name = self._df, self._df._index[0]
        idx = _floe._col(name)
        kinds = {n: t for n, t, _ in df._frame.dtypes}
        if kinds[name].startswith("datetime64"):
            key = _as_time_range(key)
        def const(v):
            if isinstance(v, (_pandas().Timestamp, np.datetime64, datetime.datetime)):
                return _time_const(v)  # converted to the index's time type
            return _expr_of(v, df._frame)
        if isinstance(key, slice):
            if key.step is not None:
                raise ValueError(".loc takes a slice without a step")
            pred = None
            if key.start is not None:
                pred = idx.binary(">=", const(key.start))
            if key.stop is not None:
                upper = idx.binary("<=", const(key.stop))
                pred = upper if pred is None else pred.binary("&", upper)
            if pred is None:
                return df
        elif isinstance(key, (list, tuple, np.ndarray)):
            if len(key) == 0:
                pred = _floe._lit(False)
            else:
                pred = None
                for v in key:
                    eq = idx.binary("==", const(v))
                    pred = eq if pred is None else pred.binary("|", eq)
        else:
            pred = idx.binary("==", const(key))
        frame, divisions = df._frame, None
        if df._divisions is not None:
            picked, divisions = _partitions_holding(df._divisions, key)
            frame = frame.partitions(picked)
        out = DataFrame(frame.filter(pred), df._index, df._labels)
        out._divisions = divisions
        return out


def _as_times(key):
    """``.loc``'s key over a datetime index with its dates written as text read as pandas
    reads them (``"2026-01-02 05:00"``), as timestamps."""
    pd = _pandas()

    def one(k):
        if not isinstance(k, (str, np.datetime64, datetime.datetime)):
            return k
        t = pd.Timestamp(k)
        if t.tz is not None:
            raise TypeError(f"cannot compare times without a time zone with {k!r} (in "
                            f"{t.tz}): floe.dataframe holds naive times")
        return t
    if isinstance(key, slice):
        return slice(None if key.start is None else one(key.start),
                     None if key.stop is None else one(key.stop), key.step)
    if isinstance(key, (list, tuple, np.ndarray)):
        return [one(k) for k in key]
    return one(key)


def _time_const(value):
    """A time (Timestamp, datetime64, datetime, text pandas reads) as a constant of ISO
    text, which a comparison with a time column converts to the column's type; a time zone
    is refused (the frame's times are naive)."""
    return _floe._lit(_pandas().Timestamp(_as_times(value)).isoformat())


def _parses_as_time(text):
    """Whether pandas reads ``text`` as a time (a fill value for time columns)."""
    try:
        _pandas().Timestamp(text)
        return True
    except (ValueError, TypeError):
        return False


def _as_time_range(key):
    """``.loc``'s key over a datetime index, dates written as text read as pandas reads
    them: a slice's text bounds, or one text key, span the whole period the text names
    (``"2026-02"`` is February: a slice to it ends on February's last instant, as pandas'
    partial string indexing); a list's texts are exact times."""
    pd = _pandas()

    def period(k):
        try:
            if pd.Timestamp(k).tz is not None:
                return None  # an offset: one instant (refused by _as_times)
            return pd.Period(k)
        except (ValueError, TypeError):
            return None  # no period in the text: the exact time

    def end(p):
        # The period's last nanosecond (Period.end_time stops at microseconds).
        return (p + 1).start_time - np.timedelta64(1, "ns")
    if isinstance(key, str) and period(key) is not None:
        key = slice(key, key)
    if isinstance(key, slice):
        start, stop = key.start, key.stop
        first = period(start) if isinstance(start, str) else None
        last = period(stop) if isinstance(stop, str) else None
        if first is not None:
            start = first.start_time
        if last is not None:
            stop = end(last)
        return _as_times(slice(start, stop, key.step))
    return _as_times(key)


def _key_kind(v):
    """What an index value or key is, for comparing them as the index compares."""
    pd = _pandas()
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, numbers.Integral):
        return "int"
    if isinstance(v, numbers.Real):
        return "float"
    if isinstance(v, pd.Timestamp):
        return "time"
    return type(v).__name__


def _partitions_holding(divisions, key):
    """The partitions (in order) whose index range, ``divisions[i]`` to
    ``divisions[i + 1]`` both included, can hold ``.loc``'s ``key`` (a slice, a list of
    values or one value), and their divisions narrowed to a slice's bounds (``None`` when
    none can hold it: the first partition is kept, for the filter to empty). Keys that do
    not compare with the index pick every partition (the filter then decides or raises).
    """
    pd = _pandas()
    n = len(divisions) - 1

    def like(k):
        # NumPy datetimes compare with a datetime index's Timestamps.
        return pd.Timestamp(k) if isinstance(k, np.datetime64) else k
    try:
        if isinstance(key, slice):
            lo = None if key.start is None else like(key.start)
            hi = None if key.stop is None else like(key.stop)
            picked = [i for i in range(n) if (hi is None or divisions[i] <= hi)
                      and (lo is None or divisions[i + 1] >= lo)]
        else:
            keys = [like(k) for k in
                    (key if isinstance(key, (list, tuple, np.ndarray)) else [key])]
            lo = hi = None
            picked = [i for i in range(n)
                      if any(divisions[i] <= k <= divisions[i + 1] for k in keys)]
        kinds = {_key_kind(divisions[0])} | {_key_kind(k) for k in
                                             ([lo, hi] if isinstance(key, slice) else keys)
                                             if k is not None}
        if len(kinds) > 1:
            # A key of another kind (a float for integers…) compares as floe converts it.
            return list(range(n)), None
        if not picked or (lo is not None and hi is not None and lo > hi):
            return [0], None
        bounds = [divisions[i] for i in picked] + [divisions[picked[-1] + 1]]
        if lo is not None:
            bounds[0] = max(bounds[0], lo)
        if hi is not None:
            bounds[-1] = min(bounds[-1], hi)
        return picked, tuple(bounds)
    except (TypeError, ValueError):
        return list(range(n)), None


class Series(_Base):
    """A lazy column of a frame: a column, or an expression over its columns."""

    def __init__(self, frame, expr, name, index=(), column=None):
        super().__init__(frame, index)
        self._expr = expr
        self.name = name
        # The frame's column this series is, when it is one (group keys must be).
        self._column = column

    @property
    def dtype(self):
        """The NumPy dtype of the values (before missing integers become float64)."""
        return np.dtype(self._expr.dtype(self._frame))

    @property
    def ndim(self):
        return 1

    def __repr__(self):
        return (f"floe.Series<{self.name!r}, dtype={self.dtype}, "
                f"npartitions={self.npartitions}>")

    def _with(self, expr, name):
        return Series(self._frame, expr, name, self._index)

    def _binary(self, op, other, reflected=False):
        if isinstance(other, DataFrame):
            return NotImplemented
        if isinstance(other, Series) and other._frame is not self._frame:
            raise ValueError("floe cannot align series of different frames (filter or "
                             "assign on one frame, then combine its columns)")
        pd = _pandas()
        if isinstance(other, (str, pd.Timestamp, np.datetime64, datetime.datetime)) and \
                self._expr.dtype(self._frame).startswith("datetime64"):
            # A time, or a date written as text read as pandas reads it: ISO text, which
            # the comparison converts to the column's type.
            o = _time_const(other)
        else:
            o = _expr_of(other, self._frame)
        left, right = (o, self._expr) if reflected else (self._expr, o)
        name = self.name if not isinstance(other, Series) or other.name == self.name else None
        return self._with(left.binary(op, right), name)

    def __add__(self, o): return self._binary("+", o)
    def __radd__(self, o): return self._binary("+", o, True)
    def __sub__(self, o): return self._binary("-", o)
    def __rsub__(self, o): return self._binary("-", o, True)
    def __mul__(self, o): return self._binary("*", o)
    def __rmul__(self, o): return self._binary("*", o, True)
    def __truediv__(self, o): return self._binary("/", o)
    def __rtruediv__(self, o): return self._binary("/", o, True)
    def __mod__(self, o): return self._binary("%", o)
    def __rmod__(self, o): return self._binary("%", o, True)
    def __eq__(self, o): return self._binary("==", o)
    def __ne__(self, o): return self._binary("!=", o)
    def __lt__(self, o): return self._binary("<", o)
    def __le__(self, o): return self._binary("<=", o)
    def __gt__(self, o): return self._binary(">", o)
    def __ge__(self, o): return self._binary(">=", o)
    def __and__(self, o): return self._binary("&", o)
    def __rand__(self, o): return self._binary("&", o, True)
    def __or__(self, o): return self._binary("|", o)
    def __ror__(self, o): return self._binary("|", o, True)

    __hash__ = None

    def __neg__(self):
        return self._with(_floe._lit(-1).binary("*", self._expr), self.name)

    def __pos__(self):
        return self

    def __invert__(self):
        return self._with(self._expr.invert(), self.name)

    def isna(self):
        """Whether each value is missing (NaN counts as missing, as in pandas)."""
        return self._with(self._expr.is_null(), self.name)

    isnull = isna

    def notna(self):
        """Whether each value is present."""
        return self._with(self._expr.is_not_null(), self.name)

    notnull = notna

    def astype(self, dtype):
        """The values converted to ``dtype``."""
        return self._with(self._expr.cast(_dtype_name(dtype)), self.name)

    def dropna(self):
        """The values that are not missing."""
        return self[self.notna()]

    def sort_values(self, ascending=True, npartitions=None):
        """The values sorted (stably), missing values last."""
        tmp = "__floe_value__"
        frame = self._frame.with_column(tmp, self._expr).select(list(self._index) + [tmp])
        return Series(frame.sort_values([tmp], [bool(ascending)], npartitions),
                      _floe._col(tmp), self.name, self._index)

    def nlargest(self, n=5):
        """The ``n`` largest values, largest first."""
        return self.sort_values(ascending=False).head(n, npartitions=-1, compute=False)

    def nsmallest(self, n=5):
        """The ``n`` smallest values, smallest first."""
        return self.sort_values(ascending=True).head(n, npartitions=-1, compute=False)

    @property
    def str(self):
        """String operations on each value (``contains``, ``startswith``, ``endswith``,
        ``lower``, ``upper``, ``len``); missing values stay missing."""
        return _StrAccessor(self)

    @property
    def dt(self):
        """Parts of each date or timestamp (``year``, ``month``, ``day``, ``hour``,
        ``minute``, ``second``, ``dayofweek``, ``dayofyear``, ``floor(freq)``)."""
        return _DtAccessor(self)

    def fillna(self, value):
        """Missing values (null or NaN) replaced by ``value`` (a constant, or a Series of
        the same frame)."""
        return self._with(self._expr.fillna(_expr_of(value, self._frame)), self.name)

    def head(self, n=5, npartitions=1, compute=True):
        """The first ``n`` values, from the first ``npartitions`` partitions only, as a
        pandas Series."""
        if int(n) < 0:
            raise ValueError(f"head takes a number of rows >= 0, got {n}")
        tmp = "__floe_value__"
        frame = self._frame.with_column(tmp, self._expr).select(list(self._index) + [tmp])
        out = Series(frame.head(int(n), None if npartitions == -1 else int(npartitions)),
                     _floe._col(tmp), self.name, self._index)
        return out.compute() if compute else out

    def _grouped(self):
        """This series' frame with the values as a column (to group by), and its name."""
        if self._column is not None:
            return self._frame, self._column
        tmp = "__floe_value__"
        return self._frame.with_column(tmp, self._expr), tmp

    def value_counts(self, sort=True, ascending=False, dropna=True, normalize=False,
                     split_every=None):
        """How often each value occurs (missing values left out), most frequent first;
        ties in the order of the values. A Series named ``count`` (``proportion`` with
        ``normalize``) indexed by the values, as pandas'."""
        if not dropna:
            raise NotImplementedError("value_counts(dropna=False) is not supported yet")
        frame, key = self._grouped()
        counts = frame.aggregate([key], [(None, "size", "__floe_count__")], split_every or 8)
        name = self.name

        def finish(pdf):
            out = pdf.set_index(key)["__floe_count__"].rename("count")
            out.index.name = name
            if normalize:
                out = out / out.sum()
                out.name = "proportion"
            if sort:
                out = out.sort_values(ascending=ascending, kind="stable")
            return out
        return _Finished(counts, (), None, finish, f"value_counts of {name!r}", "Series")

    def nunique(self, dropna=True, split_every=None):
        """The number of distinct values (missing values left out), a lazy Scalar."""
        if not dropna:
            raise NotImplementedError("nunique(dropna=False) is not supported yet")
        frame, key = self._grouped()
        return Scalar(frame.aggregate([], [(key, "nunique", "nunique")], split_every or 8),
                      "nunique")

    def map_partitions(self, func, *args, meta=None, **kwargs):
        """``func(partition, *args, **kwargs)`` on each partition, a pandas Series (see
        ``DataFrame.map_partitions``)."""
        return _map_partitions(self, func, args, kwargs, meta)

    def rolling(self, window, min_periods=None, center=False):
        """Moving windows of ``window`` rows or a span of time over the datetime index
        (see ``DataFrame.rolling``)."""
        return Rolling(self, window, min_periods, None, center)

    def resample(self, rule, origin="start_day"):
        """Time bins of a fixed length or calendar periods over the datetime index (see
        ``DataFrame.resample``)."""
        return Resampler(self, rule, None, origin)

    def rename(self, name):
        return Series(self._frame, self._expr, name, self._index, self._column)

    def to_frame(self, name=None):
        """A one-column frame."""
        name = name if name is not None else (self.name if self.name is not None else 0)
        return DataFrame(self._materialized(str(name)), self._index)

    def __getitem__(self, key):
        if isinstance(key, Series):
            if key._frame is not self._frame:
                raise ValueError("a filter must be a Series of the same frame")
            return Series(self._frame.filter(key._expr), self._expr, self.name, self._index,
                          self._column)
        raise TypeError("a floe Series is indexed by a boolean Series of its frame")

    def _materialized(self, name):
        """A frame holding only the index columns and this series as column ``name``."""
        return self._frame.with_column(name, self._expr).select(list(self._index) + [name])

    # -- reductions --------------------------------------------------------------------

    def _reduce(self, func):
        tmp = "__floe_value__"
        frame = self._frame.with_column(tmp, self._expr)
        return Scalar(frame.aggregate([], [(tmp, func, "value")]), "value")

    def sum(self, split_every=None):
        return self._reduce("sum")

    def mean(self, split_every=None):
        return self._reduce("mean")

    def count(self, split_every=None):
        return self._reduce("count")

    def min(self, split_every=None):
        return self._reduce("min")

    def max(self, split_every=None):
        return self._reduce("max")

    def var(self, ddof=1, split_every=None):
        _ddof_one(ddof)
        return self._reduce("var")

    def std(self, ddof=1, split_every=None):
        _ddof_one(ddof)
        return self._reduce("std")

    def __len__(self):
        return int(Scalar(self._frame.aggregate([], [(None, "size", "len")]), "len")
                   .compute())

    def compute(self):
        """Runs the plan and returns a pandas Series."""
        tmp = "__floe_value__"
        out = _pandas_frame(self._materialized(tmp), self._index)[tmp]
        out.name = self.name
        return out


class _StrAccessor:
    """``series.str``."""

    def __init__(self, s):
        self._s = s

    def _op(self, op, pattern=None, regex=True):
        out = self._s._with(self._s._expr.str_op(op, pattern, regex), self._s.name)
        out._expr.dtype(out._frame)  # a column of another type is an error now
        return out

    def contains(self, pat, case=True, regex=True):
        """Whether each string holds ``pat`` (a regular expression unless
        ``regex=False``; ``case=False`` ignores case)."""
        if not case:
            import re
            pat, regex = "(?i)" + (pat if regex else re.escape(pat)), True
        return self._op("contains", str(pat), bool(regex))

    def startswith(self, pat):
        """Whether each string starts with ``pat``."""
        return self._op("startswith", str(pat))

    def endswith(self, pat):
        """Whether each string ends with ``pat``."""
        return self._op("endswith", str(pat))

    def lower(self):
        return self._op("lower")

    def upper(self):
        return self._op("upper")

    def len(self):
        """The number of characters of each string."""
        return self._op("len")


class _DtAccessor:
    """``series.dt``."""

    def __init__(self, s):
        self._s = s

    def _part(self, op, period=None):
        out = self._s._with(self._s._expr.dt_op(op, period), self._s.name)
        out._expr.dtype(out._frame)  # a column of another type is an error now
        return out

    year = property(lambda self: self._part("year"))
    month = property(lambda self: self._part("month"))
    day = property(lambda self: self._part("day"))
    hour = property(lambda self: self._part("hour"))
    minute = property(lambda self: self._part("minute"))
    second = property(lambda self: self._part("second"))
    dayofweek = property(lambda self: self._part("dayofweek"))
    weekday = day_of_week = dayofweek
    dayofyear = property(lambda self: self._part("dayofyear"))
    day_of_year = dayofyear

    def floor(self, freq):
        """Each timestamp rounded down to a multiple of ``freq`` (a fixed period:
        ``"15min"``, ``"h"``, ``"D"``)."""
        from pandas.tseries.frequencies import to_offset
        try:
            ns = int(to_offset(freq).nanos)
        except ValueError as e:
            raise ValueError(f"dt.floor takes a fixed period ('15min', 'h', 'D'), not "
                             f"{freq!r}: {e}") from None
        return self._part("floor", ns)


class Scalar:
    """A lazy single value (``df.x.sum()``): ``compute()`` returns it."""

    def __init__(self, frame, column):
        self._frame = frame
        self._column = column

    def compute(self):
        """Runs the plan and returns the value (a NumPy scalar; NaN when missing)."""
        value = _pandas_frame(self._frame)[self._column]
        return value.iloc[0]

    def __repr__(self):
        return f"floe.Scalar<{dict((n, t) for n, t, _ in self._frame.dtypes)[self._column]}>"

    def __bool__(self):
        raise TypeError("the truth value of a floe Scalar is unknown until computed")


def _ddof_one(ddof):
    if ddof != 1:
        raise NotImplementedError(f"floe.dataframe computes var/std with ddof=1 (pandas' "
                                  f"default) only, got ddof={ddof}")


def _expr_of(value, frame):
    """A Series of ``frame`` or a constant as an expression."""
    if isinstance(value, Series):
        if value._frame is not frame:
            raise ValueError("floe cannot align series of different frames")
        return value._expr
    pd = _pandas()
    if isinstance(value, (pd.Timestamp, np.datetime64, datetime.datetime)):
        return _time_const(value).cast("datetime64[ns]")
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, numbers.Integral, numbers.Real, str)):
        return _floe._lit(value)
    raise TypeError(f"floe.dataframe cannot combine a column with a {type(value).__name__}")


def _check_func(f):
    if not isinstance(f, str):
        raise TypeError(f"aggregations are named by strings ({', '.join(_AGG_FUNCS)}), "
                        f"got {f!r}")
    if f not in _AGG_FUNCS:
        raise ValueError(f"unknown aggregation {f!r} (known: {', '.join(_AGG_FUNCS)})")
    return f


def _specs(columns, arg, named):
    """Aggregation specs ``(column, func, output)`` and the pandas labels of the outputs,
    from pandas' forms: a name or list of names (over ``columns``), a dict, or named
    aggregations ``out=(column, func)``. Returns ``(specs, labels, flat)``: ``flat`` when
    the result is one column per input (labels are the column names)."""
    if named:
        if arg is not None:
            raise TypeError("give aggregations either as an argument or by name, not both")
        specs, labels = [], []
        for out, pair in named.items():
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise TypeError(f"named aggregation {out}= must be (column, func), "
                                f"got {pair!r}")
            col, f = pair
            specs.append((col, _check_func(f), out))
            labels.append(out)
        return specs, labels, True
    if isinstance(arg, str):
        f = _check_func(arg)
        return [(c, f, c) for c in columns], list(columns), True
    if isinstance(arg, (list, tuple)):
        fs = [_check_func(f) for f in arg]
        specs, labels = [], []
        for c in columns:
            for f in fs:
                specs.append((c, f, f"{c}\0{f}"))
                labels.append((c, f))
        return specs, labels, False
    if isinstance(arg, dict):
        specs, labels, flat = [], [], True
        lists = any(isinstance(v, (list, tuple)) for v in arg.values())
        for c, fs in arg.items():
            for f in ([fs] if isinstance(fs, str) else list(fs)):
                _check_func(f)
                if lists:
                    specs.append((c, f, f"{c}\0{f}"))
                    labels.append((c, f))
                else:
                    specs.append((c, f, c))
                    labels.append(c)
        return specs, labels, not lists
    raise TypeError(f"agg takes a function name, a list of them, a dict or named "
                    f"aggregations, got {arg!r}")


def _frame_agg(df, arg):
    specs, labels, flat = _specs(df._data_columns(), arg, {})
    for c, _, _ in specs:
        if c not in df._data_columns():
            raise KeyError(c)
    outs = [(c, f, f"{c}\0{f}") for c, f, _ in specs]
    frame = df._frame.aggregate([], outs)
    return _AggResult(frame, outs, arg)


class _AggResult:
    """A frame-wide aggregation, lazily: a Series by column (one function) or a frame
    with the functions as rows, as pandas' ``df.agg``."""

    def __init__(self, frame, outs, arg):
        self._frame, self._outs, self._arg = frame, outs, arg

    def compute(self):
        pd = _pandas()
        row = _pandas_frame(self._frame).iloc[0]
        if isinstance(self._arg, str) or (isinstance(self._arg, dict) and all(
                isinstance(f, str) for f in self._arg.values())):
            # One function per column: a Series by column, as pandas gives it.
            return pd.Series([row[o] for _, _, o in self._outs],
                             index=[c for c, _, _ in self._outs])
        cols = list(dict.fromkeys(c for c, _, _ in self._outs))
        funcs = list(dict.fromkeys(f for _, f, _ in self._outs))
        table = pd.DataFrame(index=funcs, columns=cols, dtype=float)
        for c, f, o in self._outs:
            table.loc[f, c] = row[o]
        return table

    def __repr__(self):
        return f"floe.Series<agg {self._arg!r}, npartitions=1>"


class GroupBy:
    """``df.groupby(keys)``: aggregations per group."""

    def __init__(self, df, keys, split_every, selection=None):
        self._df = df
        self._keys = list(keys)
        self._split_every = int(split_every)
        self._selection = selection

    def _value_columns(self):
        cols = self._selection if self._selection is not None else [
            c for c in self._df._data_columns() if c not in self._keys]
        return list(cols)

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._df._data_columns():
                raise KeyError(key)
            return SeriesGroupBy(self._df, self._keys, self._split_every, key)
        key = list(key)
        for k in key:
            if k not in self._df._data_columns():
                raise KeyError(k)
        return GroupBy(self._df, self._keys, self._split_every, key)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._df._data_columns():
            return self[name]
        raise AttributeError(f"'GroupBy' object has no attribute {name!r}")

    def _run(self, specs, labels):
        for c, _, _ in specs:
            if c is not None and c not in self._df._data_columns():
                raise KeyError(c)
        frame = self._df._frame.aggregate(self._keys, specs, self._split_every)
        return DataFrame(frame, self._keys, labels)

    def agg(self, arg=None, split_every=None, **named):
        """Aggregations per group: a function name or list of names over every value
        column, a dict ``{column: name or list of names}``, or named aggregations
        ``out=(column, func)``; functions are ``sum mean count size min max var std
        first last nunique``."""
        specs, labels, _ = _specs(self._value_columns(), arg, named)
        return self._run(specs, labels)

    aggregate = agg

    def _all(self, func, numeric_only=False):
        cols = self._value_columns()
        if numeric_only:
            types = {n: t for n, t, _ in self._df._frame.dtypes}
            cols = [c for c in cols if types[c] != "object"]
        return self._run([(c, func, c) for c in cols], cols)

    def sum(self, numeric_only=False, split_every=None):
        return self._all("sum", numeric_only)

    def mean(self, numeric_only=False, split_every=None):
        return self._all("mean", numeric_only)

    def count(self, split_every=None):
        return self._all("count")

    def min(self, numeric_only=False, split_every=None):
        return self._all("min", numeric_only)

    def max(self, numeric_only=False, split_every=None):
        return self._all("max", numeric_only)

    def var(self, ddof=1, numeric_only=False, split_every=None):
        _ddof_one(ddof)
        return self._all("var", numeric_only)

    def std(self, ddof=1, numeric_only=False, split_every=None):
        _ddof_one(ddof)
        return self._all("std", numeric_only)

    def first(self, numeric_only=False, split_every=None):
        """The first value present of each column in each group, in row order."""
        return self._all("first", numeric_only)

    def last(self, numeric_only=False, split_every=None):
        """The last value present of each column in each group, in row order."""
        return self._all("last", numeric_only)

    def nunique(self, dropna=True, split_every=None):
        """The number of distinct values present of each column in each group."""
        if not dropna:
            raise NotImplementedError("nunique(dropna=False) is not supported yet")
        return self._all("nunique")

    def size(self, split_every=None):
        """The number of rows of each group (a Series)."""
        frame = self._df._frame.aggregate(self._keys, [(None, "size", "__floe_size__")],
                                          self._split_every)
        return Series(frame, _floe._col("__floe_size__"), None, self._keys, "__floe_size__")

    def __repr__(self):
        return f"floe.GroupBy<by={self._keys}, npartitions={self._df.npartitions}>"


class SeriesGroupBy:
    """``df.groupby(keys).x``: aggregations of one column per group."""

    def __init__(self, df, keys, split_every, column):
        self._df, self._keys, self._split_every, self._column = df, keys, split_every, column

    def _one(self, func):
        frame = self._df._frame.aggregate(self._keys, [(self._column, func, self._column)],
                                          self._split_every)
        return Series(frame, _floe._col(self._column), self._column, self._keys,
                      self._column)

    def agg(self, arg=None, split_every=None, **named):
        """One function (a Series) or several (a frame with a column per function)."""
        if isinstance(arg, str) and not named:
            return self._one(_check_func(arg))
        if named:
            specs = [(self._column, _check_func(f), out) for out, f in named.items()]
            labels = list(named)
        else:
            if not isinstance(arg, (list, tuple)):
                raise TypeError(f"agg takes a function name or a list of them, got {arg!r}")
            specs = [(self._column, _check_func(f), f) for f in arg]
            labels = [f for f in arg]
        frame = self._df._frame.aggregate(self._keys, specs, self._split_every)
        return DataFrame(frame, self._keys, labels)

    aggregate = agg

    def sum(self, split_every=None):
        return self._one("sum")

    def mean(self, split_every=None):
        return self._one("mean")

    def count(self, split_every=None):
        return self._one("count")

    def min(self, split_every=None):
        return self._one("min")

    def max(self, split_every=None):
        return self._one("max")

    def var(self, ddof=1, split_every=None):
        _ddof_one(ddof)
        return self._one("var")

    def std(self, ddof=1, split_every=None):
        _ddof_one(ddof)
        return self._one("std")

    def first(self, split_every=None):
        return self._one("first")

    def last(self, split_every=None):
        return self._one("last")

    def nunique(self, dropna=True, split_every=None):
        if not dropna:
            raise NotImplementedError("nunique(dropna=False) is not supported yet")
        return self._one("nunique")

    def size(self, split_every=None):
        return GroupBy(self._df, self._keys, self._split_every).size()

    def __repr__(self):
        return f"floe.SeriesGroupBy<{self._column!r} by={self._keys}>"


# -- time series ------------------------------------------------------------------------

def _numeric(kind):
    return np.dtype(kind).kind in "biuf"


def _window(window):
    """A rolling window as ``(rows, None)`` or ``(None, span in nanoseconds)``."""
    if isinstance(window, numbers.Integral) and not isinstance(window, bool):
        if window < 0:
            raise ValueError(f"window must be 0 or greater, got {window}")
        return int(window), None
    pd = _pandas()
    try:
        span = pd.Timedelta(window)
    except (ValueError, TypeError):
        raise ValueError(f"a window is a number of rows or a fixed span of time ('2h', "
                         f"'30min', a Timedelta), got {window!r}") from None
    if span <= pd.Timedelta(0):
        raise ValueError(f"a window of time must be positive, got {window!r}")
    return None, int(span.value)


def _time_column(obj, on, what):
    """The datetime column that ``what`` measures time on: ``on``, or the index."""
    kinds = {n: t for n, t, _ in obj._frame.dtypes}
    if on is None:
        if len(obj._index) != 1:
            raise TypeError(f"{what} by time needs a datetime index (set_index) or on=")
        on = obj._index[0]
    elif on not in kinds:
        raise KeyError(on)
    if not kinds[on].startswith("datetime64"):
        raise TypeError(f"{what} by time needs a datetime column; {on!r} is {kinds[on]}")
    return on


class Rolling:
    """``df.rolling(window)``: each row's aggregate over its moving window."""

    def __init__(self, obj, window, min_periods, on, center=False):
        self._obj = obj
        self._rows, self._span = _window(window)
        self._center = bool(center)
        self._min_periods = None if min_periods is None else int(min_periods)
        self._on = _time_column(obj, on, "a rolling window") if self._span is not None \
            else None
        self._window = window

    def _run(self, funcs, numeric_only=False, labels_of=None):
        obj, on = self._obj, self._on
        if isinstance(obj, Series):
            tmp = "__floe_value__"
            frame = obj._frame.with_column(tmp, obj._expr)
            if len(funcs) == 1:
                out = frame.rolling([(tmp, funcs[0], tmp)], self._rows, self._span, on,
                                    self._min_periods, self._center)
                return Series(out, _floe._col(tmp), obj.name, obj._index, tmp)
            specs = [(tmp, f, f) for f in funcs]
            out = frame.rolling(specs, self._rows, self._span, on, self._min_periods,
                                self._center)
            return DataFrame(out.select(list(obj._index) + list(funcs)), obj._index)
        kinds = {n: t for n, t, _ in obj._frame.dtypes}
        cols = [c for c in obj._data_columns() if c != on]
        bad = [c for c in cols if not _numeric(kinds[c])]
        if bad and not numeric_only:
            raise TypeError(f"cannot take a rolling {'/'.join(funcs)} of non-numeric "
                            f"columns {bad} (numeric_only=True leaves them out)")
        cols = [c for c in cols if c not in bad]
        if len(funcs) == 1:
            specs = [(c, funcs[0], c) for c in cols]
            labels = None
        else:
            specs = [(c, f, f"{c}\0{f}") for c in cols for f in funcs]
            labels = [(c, f) for c in cols for f in funcs]
        out = obj._frame.rolling(specs, self._rows, self._span, on, self._min_periods,
                                 self._center)
        keep = list(obj._index) + ([on] if on in obj._data_columns() else [])
        if labels is None:
            # One function: the columns where they were, `on` among them (as pandas).
            rolled = {c for c, _, _ in specs}
            out = out.select(list(obj._index) + [c for c in obj._data_columns()
                                                 if c in rolled or c == on])
            return DataFrame(out, obj._index)
        out = out.select(keep + [o for _, _, o in specs])
        labels = ([on] if on in obj._data_columns() else []) + labels
        return DataFrame(out, obj._index, labels)

    def sum(self, numeric_only=False):
        return self._run(["sum"], numeric_only)

    def mean(self, numeric_only=False):
        return self._run(["mean"], numeric_only)

    def count(self, numeric_only=False):
        return self._run(["count"], numeric_only)

    def min(self, numeric_only=False):
        return self._run(["min"], numeric_only)

    def max(self, numeric_only=False):
        return self._run(["max"], numeric_only)

    def var(self, ddof=1, numeric_only=False):
        _ddof_one(ddof)
        return self._run(["var"], numeric_only)

    def std(self, ddof=1, numeric_only=False):
        _ddof_one(ddof)
        return self._run(["std"], numeric_only)

    def agg(self, func):
        """One function by name, or a list of them (a column per function)."""
        funcs = [func] if isinstance(func, str) else list(func)
        for f in funcs:
            if f not in ("sum", "mean", "count", "min", "max", "var", "std"):
                raise ValueError(f"rolling {f!r} is not supported (sum, mean, count, min, "
                                 "max, var, std are)")
        return self._run(funcs)

    aggregate = agg

    def __repr__(self):
        return f"floe.Rolling<window={self._window!r}, min_periods={self._min_periods}>"


# Per aggregation, what an empty bin holds (NaN unless given).
_EMPTY_BIN = {"sum": 0, "count": 0, "size": 0, "nunique": 0}


def _calendar_bins(offset):
    """For a pandas calendar offset of one unit (weeks anchored on a day, months, quarters,
    years, by their start or end): the ``dt`` operation giving each time's bin start, its
    arguments, and the function from bin starts to pandas' labels (a period's start, or
    its last day for ``W``, ``ME``, ``QE``, ``YE``). ``None`` for other offsets."""
    pd = _pandas()
    o = pd.offsets
    if isinstance(offset, o.Week) and offset.weekday is None:
        raise NotImplementedError("resample by weeks not anchored on a day: give 'W' "
                                  "(weeks ending on Sunday), 'W-MON'..., or '7D'")
    calendar = (o.Week, o.MonthEnd, o.MonthBegin, o.QuarterEnd, o.QuarterBegin, o.YearEnd,
                o.YearBegin)
    if not isinstance(offset, calendar):
        return None
    if offset.n != 1 or getattr(offset, "normalize", False):
        raise NotImplementedError(f"resample({offset.freqstr!r}): calendar periods of one "
                                  "unit are supported ('W', 'ME', 'QS', ...), not multiples")
    if isinstance(offset, o.Week):
        # Weeks end on `weekday` (Monday 0): they start the day after; labelled by the end.
        return ("week_start", {"first": (offset.weekday + 1) % 7},
                lambda starts: starts + pd.Timedelta(days=6))
    months = {o.MonthEnd: 1, o.MonthBegin: 1, o.QuarterEnd: 3, o.QuarterBegin: 3,
              o.YearEnd: 12, o.YearBegin: 12}[type(offset)]
    # The month (1-12) some period ends or starts in.
    anchor = getattr(offset, "startingMonth", None) or getattr(offset, "month", None) or (
        12 if isinstance(offset, o.MonthEnd) else 1)
    if isinstance(offset, (o.MonthEnd, o.QuarterEnd, o.YearEnd)):
        # Periods ending in month `anchor` start the month after it.
        first = anchor % months
        return ("period_start", {"months": months, "first": first},
                lambda starts: starts + pd.DateOffset(months=months) - pd.Timedelta(days=1))
    return ("period_start", {"months": months, "first": (anchor - 1) % months},
            lambda starts: starts)


class Resampler:
    """``df.resample(rule)``: aggregations per time bin, every bin from the first to the
    last (empty ones too)."""

    def __init__(self, obj, rule, on, origin):
        from pandas.tseries.frequencies import to_offset
        pd = _pandas()
        self._obj, self._rule = obj, rule
        self._on = _time_column(obj, on, "resample")
        offset = to_offset(rule)
        if origin not in ("start_day", "epoch"):
            raise NotImplementedError(f"resample origin {origin!r} (start_day and epoch are "
                                      "supported)")
        # Calendar periods: (dt op, its arguments, the function from bin starts to
        # pandas' labels — a period's last day for those labelled by their end).
        self._calendar = _calendar_bins(offset)
        if self._calendar is not None:
            kind = dict((n, t) for n, t, _ in obj._frame.dtypes)[self._on]
            if "," in kind:
                raise NotImplementedError(f"resample({rule!r}) over times with a time zone "
                                          f"({kind}): calendar periods are not supported "
                                          "there yet")
            self._ns, self._offset = None, offset
            return
        try:
            ns = int(offset.nanos)
        except ValueError:
            raise NotImplementedError(
                f"resample({rule!r}): fixed periods ('15min', 'h', 'D') and calendar periods "
                "of one unit ('W', 'W-MON', 'ME', 'MS', 'QE', 'QS', 'YE', 'YS' and their "
                "anchored forms) are supported") from None
        day = int(pd.Timedelta("1D").value)
        if origin == "start_day" and day % ns != 0:
            # Bins start at the first day's midnight; for periods that divide a day that
            # is the same as counting from the epoch's midnight.
            raise NotImplementedError(f"resample({rule!r}) with origin='start_day' needs a "
                                      "period that divides a day; give origin='epoch'")
        self._ns, self._offset = ns, offset

    def _bin(self):
        """The expression of each row's bin: its start."""
        on = _floe._col(self._on)
        if self._calendar is None:
            return on.dt_op("floor", self._ns)
        op, kwargs, _ = self._calendar
        return on.dt_op(op, **kwargs)

    def _run(self, specs, labels, as_series=False):
        """The aggregation ``specs`` per bin; ``as_series``: its one column as a Series."""
        obj, on = self._obj, self._on
        pd = _pandas()
        key = "__floe_bin__"
        frame = obj._frame
        if isinstance(obj, Series):
            frame = frame.with_column("__floe_value__", obj._expr)
        frame = frame.with_column(key, self._bin())
        grouped = frame.aggregate([key], specs, 8)
        empty = [_EMPTY_BIN.get(f, np.nan) for _, f, _ in specs]
        offset, calendar = self._offset, self._calendar

        def finish(pdf):
            if len(pdf) and calendar is not None:
                pdf.index = calendar[2](pdf.index)
            if len(pdf):
                full = pd.date_range(pdf.index.min(), pdf.index.max(), freq=offset)
                filled = pdf.reindex(full)
                for col, fill in zip(pdf.columns, empty):
                    if fill == 0:
                        filled[col] = filled[col].fillna(0).astype(pdf[col].dtype)
                pdf = filled
            pdf.index.name = _index_names([on])[0]
            if as_series:
                out = pdf.iloc[:, 0]
                out.name = obj.name if isinstance(obj, Series) else None
                return out
            return pdf
        return _Finished(grouped, (key,), labels, finish,
                         f"resample({self._rule!r})")

    def _all(self, func, numeric_only=False):
        obj = self._obj
        if isinstance(obj, Series):
            return self._run([("__floe_value__", func, "__floe_value__")], None, True)
        kinds = {n: t for n, t, _ in obj._frame.dtypes}
        cols = [c for c in obj._data_columns() if c != self._on]
        if numeric_only:
            cols = [c for c in cols if _numeric(kinds[c])]
        return self._run([(c, func, c) for c in cols], cols)

    def agg(self, arg=None, **named):
        """A function name, a list of them, a dict ``{column: name or list}`` or named
        aggregations, as ``groupby(...).agg``."""
        obj = self._obj
        if isinstance(obj, Series):
            funcs = [arg] if isinstance(arg, str) else list(arg)
            specs = [("__floe_value__", _check_func(f), f) for f in funcs]
            if isinstance(arg, str):
                return self._run(specs, None, True)
            return self._run(specs, funcs)
        cols = [c for c in obj._data_columns() if c != self._on]
        specs, labels, _ = _specs(cols, arg, named)
        return self._run(specs, labels)

    aggregate = agg

    def sum(self, numeric_only=False):
        return self._all("sum", numeric_only)

    def mean(self, numeric_only=False):
        return self._all("mean", numeric_only)

    def count(self):
        return self._all("count")

    def min(self, numeric_only=False):
        return self._all("min", numeric_only)

    def max(self, numeric_only=False):
        return self._all("max", numeric_only)

    def var(self, ddof=1, numeric_only=False):
        _ddof_one(ddof)
        return self._all("var", numeric_only)

    def std(self, ddof=1, numeric_only=False):
        _ddof_one(ddof)
        return self._all("std", numeric_only)

    def first(self, numeric_only=False):
        return self._all("first", numeric_only)

    def last(self, numeric_only=False):
        return self._all("last", numeric_only)

    def nunique(self):
        return self._all("nunique")

    def size(self):
        """The number of rows in each bin (a Series)."""
        return self._run([(None, "size", "size")], None, True)

    def __repr__(self):
        return f"floe.Resampler<rule={self._rule!r}, on={self._on!r}>"


class _Finished:
    """A small lazy result: a frame's aggregation finished by pandas when computed (the
    empty bins of ``resample``, the order of ``value_counts``). Columns select lazily."""

    def __init__(self, frame, index, labels, finish, what, kind="DataFrame"):
        self._frame, self._index, self._labels = frame, index, labels
        self._finish, self._what, self._kind = finish, what, kind
        self._columns = [c for c in (labels or []) if isinstance(c, str)]

    def compute(self):
        return self._finish(_pandas_frame(self._frame, self._index, self._labels))

    def __getitem__(self, key):
        finish = self._finish
        return _Finished(self._frame, self._index, self._labels,
                         lambda pdf: finish(pdf)[key], f"{self._what}[{key!r}]", "Series")

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._columns:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self[name]

    def __repr__(self):
        return f"floe.{self._kind}<{self._what}, npartitions=1>"


# -- map_partitions ---------------------------------------------------------------------

_VALUE = "__floe_value__"


def _empty_like(obj):
    """An empty pandas partition of ``obj``'s columns and dtypes (what ``meta`` is
    inferred from)."""
    pd = _pandas()
    frame = obj._frame if isinstance(obj, DataFrame) else obj._materialized(_VALUE)
    cols = []
    for name, kind, _ in frame.dtypes:
        values = np.empty(0, dtype=object if kind == "object" else kind)
        cols.append((name, "str" if kind == "object" else kind, values, None))
    part = _pandas_from_columns(cols, obj._index,
                                obj._labels if isinstance(obj, DataFrame) else None)
    if isinstance(obj, Series):
        part = part[_VALUE].rename(obj.name)
    return part


def _meta_frame(meta):
    pd = _pandas()
    if isinstance(meta, dict):
        return pd.DataFrame({k: pd.Series([], dtype=v) for k, v in meta.items()})
    if isinstance(meta, (pd.DataFrame, pd.Series)):
        return meta.iloc[:0]
    raise TypeError(f"meta is an empty pandas DataFrame or Series, or a dict of dtypes, "
                    f"got {type(meta).__name__}")


def _result_columns(out, index, value=_VALUE):
    """A partition's result (DataFrame or Series) as columns for Rust: the ``index``
    columns first when the result is indexed by them, its index dropped otherwise; a
    Series as the column ``value``."""
    pd = _pandas()
    if isinstance(out, pd.Series):
        out = out.to_frame(name=value)
    elif not isinstance(out, pd.DataFrame):
        raise TypeError(f"map_partitions: the function returned a {type(out).__name__}, "
                        "not a pandas DataFrame or Series")
    if index:
        if list(out.index.names) != _index_names(index):
            raise ValueError(f"map_partitions: a partition came back indexed by "
                             f"{list(out.index.names)}, where {list(index)} was expected")
        out = out.reset_index(names=list(index))
    else:
        out = out.reset_index(drop=True)
    names = [str(c) for c in out.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"map_partitions: column names must be unique, got {names}")
    return [_column_for_floe(n, out[c]) for n, c in zip(names, out.columns)]


def _map_partitions(obj, func, args, kwargs, meta):
    if not callable(func):
        raise TypeError(f"map_partitions takes a function, got {func!r}")
    given = meta
    meta = func(_empty_like(obj), *args, **kwargs) if meta is None else _meta_frame(meta)
    pd = _pandas()
    if not isinstance(meta, (pd.DataFrame, pd.Series)):
        raise TypeError(f"map_partitions: the function returned a {type(meta).__name__}, "
                        "not a pandas DataFrame or Series")
    # The index is kept when the result carries it: by its names, or always with a dict
    # of dtypes (which says nothing of the index); its type is the input's.
    keeps = isinstance(given, dict) or list(meta.index.names) == _index_names(obj._index)
    index = tuple(obj._index) if obj._index and keeps else ()
    if isinstance(given, dict) and index:
        meta = meta.set_axis(_empty_like(obj).index[:0])
    kinds = {n: t for n, t, _ in obj._frame.dtypes}
    # A Series result is held under its own name where it can be (errors name it).
    value = meta.name if isinstance(meta, pd.Series) and isinstance(meta.name, str) \
        and meta.name not in index else _VALUE
    spec = [(name, ("str" if kinds[name] == "object" else kinds[name]) if name in index
             else kind) for name, kind, _, _ in _result_columns(meta, index, value)]
    labels = obj._labels if isinstance(obj, DataFrame) else None
    source = obj._frame if isinstance(obj, DataFrame) else obj._materialized(_VALUE)
    in_index, series_in, name_in = tuple(obj._index), isinstance(obj, Series), \
        getattr(obj, "name", None)

    def call(_i, cols):
        part = _pandas_from_columns(cols, in_index, labels)
        if series_in:
            part = part[_VALUE].rename(name_in)
        return _result_columns(func(part, *args, **kwargs), index, value)

    frame = source.map_partitions(call, spec, arrow=_arrow())
    if isinstance(meta, pd.Series):
        return Series(frame, _floe._col(value), meta.name, index, value)
    return DataFrame(frame, index)
