"""floe.dataframe against pandas as the oracle: random frames and partitionings (empty
partitions, missing values, NaN, string and integer keys), CSV files, and bad input."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import floe.dataframe as fd

FUNCS = ["sum", "mean", "count", "min", "max", "var", "std"]


@st.composite
def frames(draw, min_rows=0):
    """A pandas frame with a string key (some missing), an int key, a float column with
    NaN, an int column; and a partition count (more partitions than rows gives empty
    ones)."""
    n = draw(st.integers(min_rows, 40))
    # Missing strings as NaN: what pandas' read_csv gives, and what frames compute to.
    names = draw(st.lists(st.sampled_from(["a", "b", "c", np.nan]), min_size=n, max_size=n))
    ids = draw(st.lists(st.integers(-2, 2), min_size=n, max_size=n))
    xs = draw(st.lists(st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(np.nan)),
                       min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
    pdf = pd.DataFrame({"name": pd.Series(names, dtype=object), "id": np.array(ids, "i8"),
                        "x": np.array(xs, "f8"), "y": np.array(ys, "i8")})
    return pdf, draw(st.integers(1, 6))


def _same(got, want, **kw):
    if isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got, want, check_dtype=False, check_index_type=False,
                                       rtol=1e-9, **kw)
    else:
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False,
                                      rtol=1e-9, **kw)


@settings(max_examples=40, deadline=None)
@given(frames(), st.sampled_from(FUNCS), st.sampled_from(["name", "id"]))
def test_groupby_one_column_is_pandas(data, func, key):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)
    got = getattr(df.groupby(key).x, func)().compute()
    want = getattr(pdf.groupby(key).x, func)()
    _same(got, want)


@settings(max_examples=30, deadline=None)
@given(frames(), st.sampled_from(FUNCS))
def test_groupby_two_keys_dict_and_named_aggregations_are_pandas(data, func):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)
    spec = {"x": func, "y": "sum"}
    _same(df.groupby(["name", "id"]).agg(spec).compute(),
          pdf.groupby(["name", "id"]).agg(spec))
    _same(df.groupby("name").agg(total=("y", "sum"), m=("x", func)).compute(),
          pdf.groupby("name").agg(total=("y", "sum"), m=("x", func)))
    funcs = ["min", func] if func != "min" else ["min", "max"]
    _same(df.groupby("id").agg({"x": funcs}).compute(), pdf.groupby("id").agg({"x": funcs}))
    _same(df.groupby("id").size().compute(), pdf.groupby("id").size())


@settings(max_examples=30, deadline=None)
@given(frames(), st.sampled_from(["first", "last", "nunique"]), st.sampled_from(["name", "id"]))
def test_groupby_first_last_nunique_follow_row_order_as_pandas(data, func, key):
    pdf, nparts = data
    pdf = pdf.assign(t=pd.Timestamp("2026-01-01") + pd.to_timedelta(pdf.y % 7, unit="D"))
    df = fd.from_pandas(pdf, npartitions=nparts)

    def nan_missing(want):
        # pandas gives None for a group of an object column with no value; floe NaN.
        if isinstance(want, pd.DataFrame) and "name" in want:
            want = want.assign(name=want.name.where(want.name.notna(), np.nan))
        return want
    _same(getattr(df.groupby(key), func)().compute(),
          nan_missing(getattr(pdf.groupby(key), func)()))
    _same(getattr(df.groupby(key).x, func)().compute(), getattr(pdf.groupby(key).x, func)())
    _same(df.groupby(key).agg({"x": [func, "sum"]}).compute(),
          pdf.groupby(key).agg({"x": [func, "sum"]}))
    _same(df.nunique().compute(), pdf.nunique())


@settings(max_examples=40, deadline=None)
@given(frames(), st.floats(-500, 500), st.integers(-3, 3))
def test_filters_arithmetic_and_assign_are_pandas(data, cut, k):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)
    got = df[(df.x > cut) | (df.name == "a")]
    want = pdf[(pdf.x > cut) | (pdf.name == "a")]
    _same(got.compute(), want.reset_index(drop=True))
    z = df.assign(z=df.x * k + df.y / 2 - 1, w=df.y % 3)
    pz = pdf.assign(z=pdf.x * k + pdf.y / 2 - 1, w=pdf.y % 3)
    _same(z.compute(), pz)
    _same((df.x * 2 - df.y).compute(), pdf.x * 2 - pdf.y)
    _same((-df.x).compute(), -pdf.x)
    _same(df[~df.x.isna()].y.compute(), pdf[~pdf.x.isna()].y.reset_index(drop=True))
    _same(df.x.notna().compute(), pdf.x.notna())


@settings(max_examples=30, deadline=None)
@given(frames(), st.sampled_from(FUNCS))
def test_reductions_are_pandas(data, func):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)
    got = getattr(df.x, func)().compute()
    want = getattr(pdf.x, func)()
    assert (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want, rel=1e-9)
    _same(getattr(df[["x", "y"]], func)().compute(), getattr(pdf[["x", "y"]], func)())
    assert len(df) == len(pdf)
    assert df.shape[0].compute() == len(pdf) and df.shape[1] == 4


def test_frame_agg_with_a_list_gives_functions_as_rows():
    pdf = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0], "y": [1, 2, 3, 4]})
    df = fd.from_pandas(pdf, npartitions=3)
    _same(df.agg(["sum", "max"]).compute(), pdf.agg(["sum", "max"]))
    _same(df.sum().compute(), pdf.sum())


def test_structure_without_computing():
    pdf = pd.DataFrame({"name": ["a", "b"], "x": [1.0, 2.0], "n": [1, 2]})
    df = fd.from_pandas(pdf, npartitions=2)
    assert list(df.columns) == ["name", "x", "n"]
    assert df.dtypes.to_dict() == {"name": np.dtype(object), "x": np.dtype("f8"),
                                   "n": np.dtype("i8")}
    assert df.npartitions == 2
    assert "npartitions=2" in repr(df) and "x: float64" in repr(df)
    assert repr(df.x + 1) == "floe.Series<'x', dtype=float64, npartitions=2>"
    assert (df.n / 2).dtype == np.dtype("f8")
    assert "name" in dir(df)
    with pytest.raises(TypeError, match="truth value"):
        bool(df.x > 1)


def test_missing_columns_are_key_errors_naming_them():
    df = fd.from_pandas(pd.DataFrame({"x": [1.0], "y": [2]}), npartitions=1)
    with pytest.raises(KeyError, match="zz"):
        df["zz"]
    with pytest.raises(KeyError, match="zz"):
        df[["x", "zz"]]
    with pytest.raises(KeyError, match="zz"):
        df.groupby("zz")
    with pytest.raises(KeyError, match="zz"):
        df.groupby("x").agg({"zz": "sum"})
    with pytest.raises(AttributeError, match="zz"):
        df.zz
    with pytest.raises(ValueError, match="unknown aggregation 'median'"):
        df.groupby("x").y.agg("median")


def test_series_of_other_frames_do_not_combine():
    df = fd.from_pandas(pd.DataFrame({"x": [1.0, 2.0]}), npartitions=1)
    other = df[df.x > 1]
    with pytest.raises(ValueError, match="different frames"):
        other.x + df.x
    with pytest.raises(ValueError, match="this frame"):
        df[other.x > 1]


def test_from_pandas_types_and_missing_values_round_trip():
    pdf = pd.DataFrame({
        "i": pd.array([1, None, 3], dtype="Int64"),
        "f": [1.5, np.nan, -0.0],
        "b": [True, False, True],
        "s": ["x", None, "z"],
        "t": pd.to_datetime(["2014-01-01 00:00", None, "2014-01-03 06:00"]),
        "f4": np.array([1, 2, 3], "f4"),
    })
    got = fd.from_pandas(pdf, npartitions=2).compute()
    # Integers with missing values come back as float64, missing strings as NaN (as
    # pandas' read_csv gives them).
    want = pdf.assign(i=[1.0, np.nan, 3.0], s=["x", np.nan, "z"],
                      t=pdf.t.astype("datetime64[ns]"))
    _same(got, want)
    with pytest.raises(NotImplementedError, match="reset_index"):
        fd.from_pandas(pdf.set_index(["s", "i"]), npartitions=1)
    with pytest.raises(TypeError, match="column 'o'"):
        fd.from_pandas(pd.DataFrame({"o": [object()]}), npartitions=1)
    with pytest.raises(ValueError, match="exactly one"):
        fd.from_pandas(pdf)


def test_read_csv_is_pandas_read_csv(tmp_path):
    rng = np.random.default_rng(0)
    n = 2000
    pdf = pd.DataFrame({"name": rng.choice(["Alice", "Bob", "Carol", "Dan"], n),
                        "id": rng.integers(0, 50, n), "x": rng.normal(size=n)})
    pdf.loc[::7, "x"] = np.nan
    for i in range(3):
        pdf.iloc[i * 600:(i + 1) * 600].to_csv(tmp_path / f"part-{i}.csv", index=False)
    want = pd.concat([pd.read_csv(tmp_path / f"part-{i}.csv") for i in range(3)],
                     ignore_index=True)
    df = fd.read_csv(str(tmp_path / "part-*.csv"), blocksize=5000)
    assert df.npartitions > 3
    _same(df.compute(), want)
    _same(df.groupby("name").x.mean().compute(), want.groupby("name").x.mean())
    _same(df[df.id > 25].groupby("id").agg({"x": "sum", "name": "count"}).compute(),
          want[want.id > 25].groupby("id").agg({"x": "sum", "name": "count"}))
    only = fd.read_csv(str(tmp_path / "part-0.csv"), usecols=["id", "x"],
                       dtype={"id": "float64"})
    assert list(only.columns) == ["id", "x"] and only.dtypes["id"] == np.dtype("f8")


def test_read_csv_errors_name_the_file_line_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n3,x\n")
    df = fd.read_csv(str(p), dtype={"b": "int64"})
    with pytest.raises(ValueError, match=r"bad\.csv, line 3.*'b'"):
        df.compute()
    # head reads the first partition only: the bad line is in another one.
    split = fd.read_csv(str(p), dtype={"b": "int64"}, blocksize=4)
    assert split.npartitions >= 2
    _same(split.head(1), pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(FileNotFoundError):
        fd.read_csv(str(tmp_path / "none-*.csv"))
    with pytest.raises(ValueError, match="blocksize"):
        fd.read_csv(str(p), blocksize="lots")


def test_parquet_errors_are_clear(tmp_path):
    p = tmp_path / "broken.parquet"
    p.write_bytes(b"PAR1 not really")
    with pytest.raises((ValueError, OSError), match="broken.parquet"):
        fd.read_parquet(str(p))


@settings(max_examples=30, deadline=None)
@given(frames(), st.sampled_from(["name", "id", "y"]), st.booleans())
def test_value_counts_nunique_and_dropna_are_pandas(data, column, normalize):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)
    got = df[column].value_counts(normalize=normalize).compute()
    want = pdf[column].value_counts(normalize=normalize)
    # Ties may come in another order: compare as sorted by count, then value.
    def by_count(s):
        return s.reset_index().sort_values([s.name, column], kind="stable").reset_index(drop=True)
    _same(by_count(got), by_count(want))
    assert list(got.to_numpy()) == sorted(got.to_numpy(), reverse=True)
    assert df[column].nunique().compute() == pdf[column].nunique()
    assert (df.x * 2).nunique().compute() == (pdf.x * 2).nunique()
    _same(df.dropna().compute(), pdf.dropna().reset_index(drop=True))
    _same(df.dropna(how="all", subset=["name", "x"]).compute(),
          pdf.dropna(how="all", subset=["name", "x"]).reset_index(drop=True))
    _same(df.x.dropna().compute(), pdf.x.dropna().reset_index(drop=True))


@settings(max_examples=30, deadline=None)
@given(frames(), st.integers(0, 50), st.floats(-5, 5))
def test_head_and_fillna_are_pandas(data, n, fill):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)
    _same(df.head(n, npartitions=-1), pdf.head(n))
    first = len(pdf) // min(nparts, len(pdf)) if len(pdf) else 0
    _same(df.head(n), pdf.head(min(n, first)))  # Dask's: the first partition only
    _same(df.x.head(n, npartitions=-1), pdf.x.head(n))
    _same(df.tail(n, npartitions=-1), pdf.tail(n).reset_index(drop=True))
    _same(df.fillna({"x": fill, "name": "?"}).compute(), pdf.fillna({"x": fill, "name": "?"}))
    _same(df.x.fillna(df.y).compute(), pdf.x.fillna(pdf.y))
    _same(df.x.fillna(0).compute(), pdf.x.fillna(0))
    _same(df.y.fillna(1.5).compute(), pdf.y.fillna(1.5))


def test_parquet_and_csv_round_trips_and_writes_whole_files(tmp_path):
    rng = np.random.default_rng(1)
    n = 3000
    pdf = pd.DataFrame({"name": rng.choice(["a", "b", None], n), "id": rng.integers(0, 9, n),
                        "x": rng.normal(size=n),
                        "t": pd.Timestamp("2014-01-01") + pd.to_timedelta(np.arange(n), "h")})
    pdf["t"] = pdf["t"].astype("datetime64[ns]")
    want = pdf.assign(name=pdf.name.where(pdf.name.notna(), np.nan))
    df = fd.from_pandas(pdf, npartitions=12)
    df.to_parquet(tmp_path / "pq")
    names = sorted(p.name for p in (tmp_path / "pq").iterdir())
    assert names == sorted(f"part.{i}.parquet" for i in range(12))   # no temporary files
    back = fd.read_parquet(tmp_path / "pq")
    assert back.npartitions == 12
    _same(back.compute(), want)                 # part.2 before part.10: rows in order
    _same(back.groupby("name").x.sum().compute(), want.groupby("name").x.sum())
    paths = df.to_csv(str(tmp_path / "csv" / "out-*.csv"))
    assert len(paths) == 12 and paths[0].endswith("out-0.csv")
    again = fd.read_csv(str(tmp_path / "csv" / "out-*.csv"), parse_dates=["t"])
    _same(again.compute(), want)
    with pytest.raises(ValueError, match=r"at most one '\*'"):
        df.to_csv(str(tmp_path / "a-*-*.csv"))


def test_read_parquet_filters_are_pyarrows(tmp_path):
    rng = np.random.default_rng(2)
    n = 2000
    pdf = pd.DataFrame({"name": rng.choice(["a", "b", "c"], n), "id": rng.integers(0, 9, n),
                        "x": rng.normal(size=n),
                        "t": pd.Timestamp("2014-01-01") + pd.to_timedelta(np.arange(n), "h")})
    pdf["t"] = pdf["t"].astype("datetime64[ns]")
    fd.from_pandas(pdf, npartitions=8).to_parquet(tmp_path / "pq")
    cases = [
        ([("x", ">", 0.5)], pdf.x > 0.5),
        ([("id", "in", [1, 3]), ("name", "!=", "a")], pdf.id.isin([1, 3]) & (pdf.name != "a")),
        ([[("t", "<", "2014-01-05")], [("t", ">=", "2014-03-20"), ("x", "<=", 0)]],
         (pdf.t < "2014-01-05") | ((pdf.t >= "2014-03-20") & (pdf.x <= 0))),
        ([("name", "not in", ["a", "b"]), ("id", "=", 4)], (pdf.name == "c") & (pdf.id == 4)),
    ]
    for filters, keep in cases:
        got = fd.read_parquet(tmp_path / "pq", columns=["id", "x"], filters=filters)
        _same(got.compute(), pdf[keep][["id", "x"]].reset_index(drop=True))
    # A missing value matches no filter, as pyarrow's (pandas' != would keep it).
    with_nan = pdf.assign(name=pdf.name.where(pdf.id != 2, None))
    fd.from_pandas(with_nan, npartitions=3).to_parquet(tmp_path / "pq2")
    got = fd.read_parquet(tmp_path / "pq2", filters=[("name", "!=", "a")]).compute()
    assert len(got) == int(((with_nan.name != "a") & with_nan.name.notna()).sum())
    got = fd.read_parquet(tmp_path / "pq2", filters=[("id", "in", list(range(0, 9, 2)))] * 3)
    assert len(got) == int((pdf.id % 2 == 0).sum())
    with pytest.raises(KeyError):
        fd.read_parquet(tmp_path / "pq", filters=[("nope", ">", 1)])
    with pytest.raises(ValueError, match="unknown op"):
        fd.read_parquet(tmp_path / "pq", filters=[("x", "~", 1)])
    with pytest.raises(TypeError, match="column, op, value"):
        fd.read_parquet(tmp_path / "pq", filters=[("x", ">")])


def test_a_failed_write_leaves_no_file_under_its_final_name(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n3,x\n")
    df = fd.read_csv(str(p), dtype={"b": "int64"})
    with pytest.raises(ValueError, match="line 3"):
        df.to_parquet(tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@settings(max_examples=40, deadline=None)
@given(frames(), frames(), st.sampled_from(["inner", "left", "right", "outer"]),
       st.sampled_from(["name", "id", ["name", "id"], "x"]))
def test_merge_is_pandas_merge(a, b, how, on):
    (pl, nl), (pr, nr) = a, b
    got = fd.merge(fd.from_pandas(pl, npartitions=nl), fd.from_pandas(pr, npartitions=nr),
                   on=on, how=how).compute()
    want = pd.merge(pl, pr, on=on, how=how)
    assert list(got.columns) == list(want.columns)

    def rows(df):
        # Row order is not part of the contract: compare as sorted rows.
        return df.astype({c: object for c in df.columns}).fillna("-").astype(str) \
                 .sort_values(list(df.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(rows(got), rows(want), check_dtype=False)


def test_merge_on_different_names_and_errors():
    left = fd.from_pandas(pd.DataFrame({"k": [1, 2, 3], "v": [1.0, 2.0, 3.0]}), npartitions=2)
    right = fd.from_pandas(pd.DataFrame({"key": [3, 1], "v": ["c", "a"]}), npartitions=1)
    got = left.merge(right, left_on="k", right_on="key").compute().sort_values("k")
    assert list(got.columns) == ["k", "v_x", "key", "v_y"]
    assert got.v_y.tolist() == ["a", "c"]
    with pytest.raises(KeyError, match="zz"):
        fd.merge(left, right, on="zz")
    with pytest.raises(ValueError, match="cannot join key 'v'"):
        fd.merge(left, right, on="v")
    with pytest.raises(ValueError, match="unknown join 'cross'"):
        fd.merge(left, right, left_on="k", right_on="key", how="cross")


@settings(max_examples=40, deadline=None)
@given(frames(), st.sampled_from(["name", "x", ["id", "x"], ["name", "y"]]), st.booleans(),
       st.one_of(st.none(), st.integers(1, 5)), st.integers(0, 10))
def test_sort_values_nlargest_and_set_index_are_pandas(data, by, ascending, nparts, n):
    pdf, k = data
    df = fd.from_pandas(pdf, npartitions=k)
    got = df.sort_values(by, ascending=ascending, npartitions=nparts)
    assert got.npartitions == (nparts or df.npartitions)
    _same(got.compute(), pdf.sort_values(by, ascending=ascending, kind="stable")
          .reset_index(drop=True))
    _same(df.sort_values(by, ascending=ascending).head(n, npartitions=-1),
          pdf.sort_values(by, ascending=ascending, kind="stable").head(n).reset_index(drop=True))
    _same(df.x.nlargest(n).compute(), pdf.x.nlargest(n).reset_index(drop=True))
    _same(df.nsmallest(n, "y").compute(),
          pdf.sort_values("y", kind="stable").head(n).reset_index(drop=True))
    indexed = df.set_index("id")
    want = pdf.sort_values("id", kind="stable").set_index("id")
    _same(indexed.compute(), want)
    _same(indexed.loc[-1:1].compute(), want.loc[-1:1])
    _same(indexed.loc[0].compute(), want[want.index == 0])  # lazily: empty, not KeyError
    _same(indexed.loc[[2, -2]].compute(), want[want.index.isin([2, -2])])
    _same(indexed.reset_index().compute(), want.reset_index())
    _same(indexed.groupby("name").x.sum().compute(), want.groupby("name").x.sum())


def test_str_and_dt_accessors_are_pandas():
    pdf = pd.DataFrame({
        "s": ["Alice", "bob", None, "Ålborg", "a.b", ""],
        "t": pd.to_datetime(["2014-01-01 05:17", "2014-02-28 23:59", None,
                             "2016-12-31 00:00", "2015-07-04 12:30", "2014-03-09 08:45"])
              .astype("datetime64[ns]"),
    })
    df = fd.from_pandas(pdf, npartitions=2)
    for got, want in [
        (df.s.str.contains("b"), pdf.s.str.contains("b")),
        (df.s.str.contains("^[ab]", case=False), pdf.s.str.contains("^[ab]", case=False)),
        (df.s.str.contains(".", regex=False), pdf.s.str.contains(".", regex=False)),
        (df.s.str.startswith("A"), pdf.s.str.startswith("A")),
        (df.s.str.endswith("b"), pdf.s.str.endswith("b")),
        (df.s.str.lower(), pdf.s.str.lower()),
        (df.s.str.upper(), pdf.s.str.upper()),
        (df.s.str.len(), pdf.s.str.len()),
    ]:
        got = got.compute()
        pd.testing.assert_series_equal(got.astype(object).where(got.notna(), None),
                                       want.astype(object).where(want.notna(), None),
                                       check_dtype=False)
    for part in ["year", "month", "day", "hour", "minute", "second", "day_of_week",
                 "day_of_year"]:
        _same(getattr(df.t.dt, part).compute(), getattr(pdf.t.dt, part))
    _same(df.t.dt.floor("15min").compute(), pdf.t.dt.floor("15min"))
    _same(df.t.dt.floor("D").compute(), pdf.t.dt.floor("D"))
    # Filters and group keys from them, as users write them.
    _same(df[df.s.str.contains("b", regex=False)].t.dt.year.compute(),
          pdf[pdf.s.str.contains("b", regex=False).fillna(False)].t.dt.year
          .reset_index(drop=True))
    with pytest.raises(ValueError, match="needs strings"):
        df.t.str.lower()
    with pytest.raises(ValueError, match="dates or timestamps"):
        df.s.dt.year
    with pytest.raises(ValueError, match="fixed period"):
        df.t.dt.floor("M")
    with pytest.raises(ValueError, match="did not compile"):
        df.s.str.contains("(")


def test_review_cases_rename_fill_names_agg_persist_and_writes(tmp_path):
    pdf = pd.DataFrame({"a": [1, 2], "b": [3.0, np.nan], "s": ["x", None],
                        "count": [1, 1]})
    df = fd.from_pandas(pdf, npartitions=2)
    # Swapped names read the old values.
    _same(df.rename(columns={"a": "b", "b": "a"}).compute(),
          pdf.rename(columns={"a": "b", "b": "a"}))
    # One value fills the columns that can hold it.
    _same(df.fillna(0).compute(), pdf.assign(b=[3.0, 0.0], s=["x", np.nan]))
    _same(df.fillna("?").compute(), pdf.assign(s=["x", "?"]))
    # Columns named like the outputs of value_counts, nunique, size.
    _same(df["count"].value_counts().compute(), pdf["count"].value_counts())
    assert df["count"].nunique().compute() == 1
    _same(df.groupby("count").size().compute(), pdf.groupby("count").size())
    # A dict of one function per column is a Series.
    _same(df.agg({"a": "sum", "b": "mean"}).compute(), pdf.agg({"a": "sum", "b": "mean"}))
    # persist keeps the index.
    kept = df.set_index("a").persist()
    _same(kept.loc[2].compute(), pdf.set_index("a").loc[[2]])
    with pytest.raises(ValueError, match=">= 0"):
        df.head(-1)
    # A second write into the same place: refused, or replaced with overwrite=True.
    df.to_parquet(tmp_path / "pq")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        df.to_parquet(tmp_path / "pq")
    fd.from_pandas(pdf.head(1), npartitions=1).to_parquet(tmp_path / "pq", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == ["part.0.parquet"]
    # Integer keys of int64 and uint64 compare as numbers, without false matches.
    left = fd.from_pandas(pd.DataFrame({"k": np.array([2**63, 5], "u8"), "v": [1, 2]}), 1)
    right = fd.from_pandas(pd.DataFrame({"k": np.array([5, -1], "i8"), "w": [3, 4]}), 1)
    got = fd.merge(left, right, on="k").compute()
    assert got.v.tolist() == [2] and got.w.tolist() == [3]
    # Categories of numbers stay numbers.
    cat = pd.DataFrame({"c": pd.Categorical([1, 2, 1])})
    assert fd.from_pandas(cat, 1).c.sum().compute() == 4


@st.composite
def times(draw):
    """A frame with a datetime column that never decreases (steps of 0 to 40 minutes,
    across midnight), floats with NaN, ints; and a partition count."""
    n = draw(st.integers(0, 40))
    steps = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    t = pd.Timestamp("2026-03-01 22:10") + pd.to_timedelta(np.cumsum(steps), unit="min")
    xs = draw(st.lists(st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(np.nan)),
                       min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
    pdf = pd.DataFrame({"t": pd.DatetimeIndex(t).astype("datetime64[ns]"),
                        "x": np.array(xs, "f8"), "y": np.array(ys, "i8")})
    return pdf, draw(st.integers(1, 6))


ROLLING = ["sum", "mean", "count", "min", "max", "var", "std"]


@settings(max_examples=40, deadline=None)
@given(times(), st.sampled_from(ROLLING),
       st.one_of(st.integers(1, 5), st.sampled_from(["20min", "1h", "90min"])),
       st.one_of(st.none(), st.integers(0, 3)))
def test_rolling_reaches_across_partitions_as_pandas(data, func, window, min_periods):
    pdf, nparts = data
    if isinstance(window, int) and min_periods is not None:
        min_periods = min(min_periods, window)
    df = fd.from_pandas(pdf, npartitions=nparts).set_index("t", sorted=True)
    p = pdf.set_index("t")

    def same(got, want):
        # Sliding sums of squares keep rounding of the order of 1e-16 of the squares of
        # values up to 1e3: compare variances, and standard deviations squared, to that.
        if func in ("var", "std"):
            power = 2 if func == "std" else 1
            got, want = got ** power, want ** power
        _same(got, want, atol=1e-6 if func not in ("var", "std") else 1e-6 * 40)
    got = getattr(df.rolling(window, min_periods=min_periods), func)().compute()
    same(got, getattr(p.rolling(window, min_periods=min_periods), func)())
    same(getattr(df.x.rolling(window), func)().compute(), getattr(p.x.rolling(window), func)())
    if not isinstance(window, int):
        flat = fd.from_pandas(pdf, npartitions=nparts)
        got = flat[["x", "t", "y"]].rolling(window, on="t").agg(func).compute()
        want = pdf[["x", "t", "y"]].rolling(window, on="t").agg(func)
        assert list(got.columns) == list(want.columns) == ["x", "t", "y"]
        same(got.drop(columns="t"), want.drop(columns="t"))
        _same(got[["t"]], want[["t"]])


@settings(max_examples=40, deadline=None)
@given(times(), st.sampled_from(["sum", "mean", "count", "min", "max", "var", "first",
                                 "last", "nunique", "size"]),
       st.sampled_from(["30min", "1h", "2h", "D"]))
def test_resample_gives_every_bin_as_pandas(data, func, rule):
    _resample_as_pandas(*data, func, rule, {"x": [func, "sum"], "y": "max"})


def _resample_as_pandas(pdf, nparts, func, rule, spec):
    """``resample(rule)``'s ``func`` of the frame and of a series, and ``agg(spec)`` with
    ``on=``, against pandas."""
    df = fd.from_pandas(pdf, npartitions=nparts).set_index("t", sorted=True)
    p = pdf.set_index("t")
    if len(p) == 0 and func == "size":
        return  # pandas gives an empty frame for size of nothing; floe an empty Series
    _same(getattr(df.resample(rule), func)().compute(), getattr(p.resample(rule), func)(),
          check_freq=False)
    _same(getattr(df.x.resample(rule), func)().compute(),
          getattr(p.x.resample(rule), func)(), check_freq=False)
    if func != "size":
        spec = {c: list(dict.fromkeys(f)) if isinstance(f, list) else f
                for c, f in spec.items()}
        flat = fd.from_pandas(pdf, npartitions=nparts)
        _same(flat.resample(rule, on="t").agg(spec).compute(),
              pdf.resample(rule, on="t").agg(spec), check_freq=False)


@settings(max_examples=50, deadline=None)
@given(times(), st.sampled_from(ROLLING), st.integers(1, 7),
       st.one_of(st.none(), st.integers(0, 3)))
def test_centred_rolling_reaches_into_the_partitions_after_as_pandas(data, func, window,
                                                                     min_periods):
    pdf, nparts = data
    if min_periods is not None:
        min_periods = min(min_periods, window)
    df = fd.from_pandas(pdf, npartitions=nparts).set_index("t", sorted=True)
    p = pdf.set_index("t")
    got = getattr(df.rolling(window, min_periods=min_periods, center=True), func)()
    want = getattr(p.rolling(window, min_periods=min_periods, center=True), func)()
    tol = 1e-6 if func not in ("var", "std") else 1e-6 * 40
    if func == "std":
        _same(got.compute() ** 2, want ** 2, atol=tol)
    else:
        _same(got.compute(), want, atol=tol)
    _same(getattr(df.x.rolling(window, center=True), "sum")().compute(),
          p.x.rolling(window, center=True).sum(), atol=1e-6)
    with pytest.raises(NotImplementedError, match="span of time"):
        df.rolling("1h", center=True).sum()


@st.composite
def long_times(draw):
    """Times hours to weeks apart (across month, quarter and year ends), values as
    ``times``; and a partition count."""
    n = draw(st.integers(0, 30))
    steps = draw(st.lists(st.integers(0, 24 * 60), min_size=n, max_size=n))
    t = pd.Timestamp("2025-11-20 23:30") + pd.to_timedelta(np.cumsum(steps), unit="h") / 4
    xs = draw(st.lists(st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.just(np.nan)),
                       min_size=n, max_size=n))
    pdf = pd.DataFrame({"t": pd.DatetimeIndex(t).astype("datetime64[ns]"),
                        "x": np.array(xs, "f8"), "y": np.arange(n, dtype="i8")})
    return pdf, draw(st.integers(1, 6))


@settings(max_examples=60, deadline=None)
@given(long_times(), st.sampled_from(["sum", "mean", "count", "max", "first", "size"]),
       st.sampled_from(["W", "W-MON", "W-WED", "ME", "MS", "QE", "QS", "YE", "YS",
                        "QE-JAN", "QS-FEB", "YE-JUN", "YS-APR"]))
def test_resample_by_calendar_periods_as_pandas(data, func, rule):
    _resample_as_pandas(*data, func, rule, {"x": func, "y": "sum"})


def test_time_series_errors_name_what_is_wrong():
    pdf = pd.DataFrame({"t": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 09:00",
                                             "2026-01-01 11:00"]),
                        "x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    df = fd.from_pandas(pdf, npartitions=2)
    with pytest.raises(ValueError, match="'t' is not sorted"):
        df.rolling("1h", on="t").sum(numeric_only=True).compute()
    with pytest.raises(TypeError, match="datetime index"):
        df.rolling("1h")
    with pytest.raises(TypeError, match="datetime column; 'x'"):
        df.rolling("1h", on="x")
    with pytest.raises(TypeError, match=r"non-numeric columns \['t', 's'\]"):
        df.rolling(2).sum()
    with pytest.raises(ValueError, match="window must be 0 or greater"):
        df.rolling(-1)
    with pytest.raises(ValueError, match="fixed span of time"):
        df.rolling("soon")
    with pytest.raises(ValueError, match="min_periods 3"):
        df.rolling(2, min_periods=3).sum(numeric_only=True)
    with pytest.raises(NotImplementedError, match="not multiples"):
        df.resample("2ME", on="t")
    with pytest.raises(NotImplementedError, match="calendar periods"):
        df.resample("BME", on="t")
    with pytest.raises(NotImplementedError, match="origin='epoch'"):
        df.resample("7h", on="t")
    with pytest.raises(KeyError):
        df.resample("1h", on="nope")
    r = df.resample("1h", on="t").sum(numeric_only=True)
    _same(r.x.compute(), pdf.resample("1h", on="t").x.sum(), check_freq=False)
    with pytest.raises(AttributeError, match="head"):
        r.head()


@settings(max_examples=30, deadline=None)
@given(frames(), st.integers(-3, 3))
def test_map_partitions_is_pandas_per_partition(data, k):
    pdf, nparts = data
    df = fd.from_pandas(pdf, npartitions=nparts)

    def f(p, k, scale=1.0):
        return p.assign(z=p.x * k * scale + p.y, up=p.name.str.upper())
    _same(df.map_partitions(f, k, scale=0.5).compute(), f(pdf, k, scale=0.5))
    _same(df.x.map_partitions(lambda s: s.fillna(k) * 2).compute(), pdf.x.fillna(k) * 2)
    # One value per partition: as many as there are partitions, summing to the rows.
    sizes = df.map_partitions(lambda p: pd.Series([len(p)], dtype="int64")).compute()
    assert len(sizes) == df.npartitions and sizes.sum() == len(pdf)
    # Declared columns; an index kept through the function.
    meta = {"x": "float64", "y": "int64"}
    got = df.map_partitions(lambda p: p[["x", "y"]][p.y > 0], meta=meta).compute()
    _same(got, pdf[["x", "y"]][pdf.y > 0].reset_index(drop=True))
    indexed = df.set_index("y").map_partitions(lambda p: p[["x"]] * 2).compute()
    _same(indexed, pdf.set_index("y").sort_index(kind="stable")[["x"]] * 2)


def test_map_partitions_errors_are_the_functions_own_or_name_the_mismatch():
    pdf = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1, 2, 3]})
    df = fd.from_pandas(pdf, npartitions=2)

    def boom(p):
        if len(p):
            raise ZeroDivisionError("no partition today")
        return p
    with pytest.raises(ZeroDivisionError, match="no partition today"):
        df.map_partitions(boom).compute()
    with pytest.raises(TypeError, match="returned a int"):
        df.map_partitions(lambda p: 3)
    with pytest.raises(ValueError, match=r"gave columns \[\"x\"\], where \[\"z\"\]"):
        df.map_partitions(lambda p: p[["x"]], meta={"z": "float64"}).compute()
    with pytest.raises(TypeError, match="takes a function"):
        df.map_partitions(3)
    # A result of another type than declared is an error, never a lossy conversion.
    with pytest.raises(ValueError, match="'y' of type Float64, declared Int64"):
        df.y.map_partitions(lambda s: s.clip(upper=2.5)).compute()
    clipped = df.y.map_partitions(lambda s: s.clip(upper=2.5),
                                  meta=pd.Series([], dtype="float64", name="y"))
    _same(clipped.compute(), pdf.y.clip(upper=2.5))


def test_map_partitions_with_meta_keeps_an_unnamed_index():
    p = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=["b", "a", "c"])
    df = fd.from_pandas(p, npartitions=2)
    got = df.map_partitions(lambda part: part * 2, meta={"x": "float64"}).compute()
    _same(got, p.sort_index() * 2)
    assert got.index.name is None


@settings(max_examples=30, deadline=None)
@given(frames(), st.booleans())
def test_from_pandas_keeps_an_index_sorted(data, named):
    pdf, nparts = data
    idx = pd.Index(pdf.y.to_numpy() % 17, name="k" if named else None)  # repeats, unsorted
    p = pdf.drop(columns="y").set_axis(idx)
    df = fd.from_pandas(p, npartitions=nparts)
    want = p.sort_index(kind="stable")
    _same(df.compute(), want)
    _same(df.x.compute(), want.x)
    _same(df.index.compute(), want.index.to_series(name=want.index.name).reset_index(drop=True))
    _same(df.reset_index().compute(), want.reset_index())
    _same(df.loc[5:11].compute(), want.loc[5:11])
    _same(df.groupby("id").x.sum().compute(), p.groupby("id").x.sum())
    _same(df.map_partitions(lambda part: part[["x"]] * 2).compute(), want[["x"]] * 2)
    _same(fd.from_pandas(p, npartitions=nparts, sort=False).compute(), p)
    # Sorted, every partition with rows: its index range is known.
    assert df.known_divisions == (len(p) > 0)
    if df.known_divisions:
        assert df.divisions[0] == want.index[0] and df.divisions[-1] == want.index[-1]
    unsorted = fd.from_pandas(p, npartitions=nparts, sort=False)
    assert unsorted.known_divisions == (len(p) > 0 and p.index.is_monotonic_increasing)
    if not unsorted.known_divisions:
        assert unsorted.divisions == (None,) * (unsorted.npartitions + 1)


def test_from_pandas_with_a_datetime_index_rolls_and_resamples():
    t = pd.date_range("2026-01-01", periods=50, freq="17min")
    p = pd.DataFrame({"x": np.arange(50.0)}, index=t)
    df = fd.from_pandas(p, npartitions=4)
    _same(df.rolling("1h").mean().compute(), p.rolling("1h").mean(), check_freq=False)
    _same(df.resample("2h").sum().compute(), p.resample("2h").sum(), check_freq=False)
    with pytest.raises(NotImplementedError, match="MultiIndex"):
        fd.from_pandas(p.set_index("x", append=True), npartitions=2)


class _NoArrow:
    """Results built without pyarrow (text as Python strings), as where it is missing."""

    def __enter__(self):
        self.had = fd._HAS_PYARROW
        fd._HAS_PYARROW = False

    def __exit__(self, *exc):
        fd._HAS_PYARROW = self.had


@given(frames())
@settings(max_examples=30, deadline=None)
def test_text_comes_back_the_same_through_arrow_and_without_it(data):
    pytest.importorskip("pyarrow")
    pdf, parts = data
    df = fd.from_pandas(pdf, npartitions=parts)
    queries = [
        lambda: df.compute(),
        lambda: df.groupby("name").x.sum().compute(),
        lambda: df.name.value_counts().compute(),
        lambda: df.set_index("id").name.compute(),
        lambda: df.map_partitions(lambda p: p.assign(u=p.name.str.upper())).compute(),
    ]
    text = pd.Series(["a", None]).dtype  # what pandas makes of text
    for query in queries:
        through_arrow = query()
        with _NoArrow():
            without = query()
        # Without pyarrow an empty or all-missing text column is left as objects.
        if isinstance(without, pd.Series):
            pd.testing.assert_series_equal(through_arrow, without, check_dtype=False,
                                           check_index_type=len(without) > 0)
            got = {None: through_arrow}
        else:
            pd.testing.assert_frame_equal(through_arrow, without, check_dtype=False,
                                          check_index_type=len(without) > 0)
            got = dict(through_arrow.items())
        for name, col in got.items():
            dtype = without.dtype if name is None else without[name].dtype
            if dtype in (object, text):
                assert col.dtype == text, (name, col.dtype)
    assert fd._arrow()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 30), min_size=0, max_size=40), st.integers(1, 8),
       st.one_of(st.tuples(st.none() | st.integers(-8, 33), st.none() | st.integers(-8, 33)),
                 st.integers(-8, 33), st.lists(st.integers(-8, 33), max_size=4)))
def test_known_divisions_pick_the_partitions_loc_reads(keys, nparts, key):
    pdf = pd.DataFrame({"k": np.array(keys, "i8"), "x": np.arange(len(keys), dtype="f8")})
    pdf = pdf.set_index("k")
    df = fd.from_pandas(pdf, npartitions=nparts)
    p = pdf.sort_index(kind="stable")
    if len(p) == 0:
        assert not df.known_divisions
        return
    assert df.known_divisions and df.divisions == tuple(sorted(df.divisions))
    # Each partition holds index values between its divisions.
    d = df.divisions
    for i in range(df.npartitions):
        part = fd.DataFrame(df._frame.partitions([i]), df._index).compute()
        assert part.index.min() >= d[i] and part.index.max() <= d[i + 1]
    sel = slice(*key) if isinstance(key, tuple) else key
    got = df.loc[sel]
    if isinstance(sel, slice):
        want = p.loc[sel]
    else:  # rows in index order, as a filter keeps them
        want = p[p.index.isin(sel if isinstance(sel, list) else [sel])]
    _same(got.compute(), want)
    # Kept divisions still bound the rows; a slice past the end reads one partition.
    if got.known_divisions and len(want):
        assert got.divisions[0] <= want.index.min() and want.index.max() <= got.divisions[-1]
    if isinstance(sel, slice) and sel.start is not None and sel.start > d[-1]:
        assert got.npartitions == 1
    assert df[df.x > 3].x.known_divisions and df.assign(y=df.x + 1).known_divisions


def test_loc_on_known_divisions_reads_only_the_partitions_it_can_match():
    pdf = pd.DataFrame({"x": np.arange(100.0)},
                       index=pd.date_range("2026-01-01", periods=100, freq="h"))
    df = fd.from_pandas(pdf, npartitions=10)
    assert df.divisions[0] == pdf.index[0] and df.divisions[-1] == pdf.index[-1]
    day = df.loc["2026-01-02":"2026-01-02 05:00"]
    assert day.npartitions == 1
    _same(day.compute(), pdf.loc["2026-01-02":"2026-01-02 05:00"], check_freq=False)
    # Narrowed to the slice: from the first day's midnight to the last minute's end.
    assert day.divisions == (pd.Timestamp("2026-01-02"),
                             pd.Timestamp("2026-01-02 05:01") - pd.Timedelta(1, "ns"))
    # Unsorted or unknown: every partition, as before.
    flat = fd.from_pandas(pdf.reset_index(), npartitions=4)
    assert not flat.known_divisions and flat.divisions == (None,) * 5
    with pytest.raises(ValueError, match="partition 7 picked of a frame of 2"):
        fd.from_pandas(pdf, npartitions=2)._frame.partitions([7])


def test_dates_written_as_text_compare_as_pandas_reads_them():
    pdf = pd.DataFrame({"x": np.arange(100.0),
                        "t": pd.date_range("2026-01-01", periods=100, freq="h")})
    df = fd.from_pandas(pdf, npartitions=3)
    for s in ["2026-01-02", "2026-01-02 05:00", "2026-01-02T05:00:00", "Jan 2 2026 5am"]:
        assert len(df[df.t >= s].compute()) == len(pdf[pdf.t >= s]), s
        assert len(df[df.t < pd.Timestamp(s)].compute()) == len(pdf[pdf.t < pd.Timestamp(s)])
    with pytest.raises(ValueError, match="not a date"):
        df[df.t >= "not a date"].compute()


def test_loc_reads_dates_written_as_text_as_periods_as_pandas():
    pdf = pd.DataFrame({"x": np.arange(2000.0)},
                       index=pd.date_range("2026-01-01", periods=2000, freq="37min"))
    for nparts, known in [(7, True), (3, False)]:
        df = fd.from_pandas(pdf, npartitions=nparts)
        if not known:
            df._divisions = None  # the same through filters alone
        for key in [slice("2026-01-02", "2026-01-03"), slice("2026-01", None),
                    slice(None, "2026-01-02 05"), slice("2026-01-02 05:00", "2026-01-02 09:00"),
                    slice(pd.Timestamp("2026-01-02 05:11"), "2026-01-02")]:
            _same(df.loc[key].compute(), pdf.loc[key], check_freq=False)
        _same(df.loc["2026-01-02"].compute(), pdf.loc["2026-01-02"], check_freq=False)
        _same(df.loc["2026-01-02 05:36"].compute(), pdf.loc[["2026-01-02 05:36"]],
              check_freq=False)


def test_times_and_divisions_at_their_edges():
    idx = pd.DatetimeIndex(["2026-01-31 23:59:59.9999995", "2026-02-01", "2026-02-02",
                            "2026-03-01"]).astype("datetime64[ns]")
    pdf = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "s": ["a", None, "c", "d"]}, index=idx)
    df = fd.from_pandas(pdf, npartitions=2)
    # A period's last nanosecond belongs to it.
    _same(df.loc["2026-01"].compute(), pdf.loc["2026-01"], check_freq=False)
    _same(df.loc[:"2026-01-31"].compute(), pdf.loc[:"2026-01-31"], check_freq=False)
    # A reversed slice is empty, with no divisions to claim.
    assert len(df.loc["2026-03":"2026-02"].compute()) == 0
    assert not df.loc["2026-03":"2026-02"].known_divisions
    # Assigning to the index's name changes the index: its divisions are unknown.
    assert df.assign(x=df.x * 2).known_divisions
    # Times with a zone do not compare with naive times (as pandas).
    flat = fd.from_pandas(pdf.reset_index(names="t"), npartitions=2)
    with pytest.raises(TypeError, match="time zone"):
        flat[flat.t > pd.Timestamp("2026-02-01", tz="UTC")]
    with pytest.raises(TypeError, match="time zone"):
        df.loc["2026-02-01T00:00+01:00":]
    # A time constant is a time, also outside comparisons.
    got = flat.assign(t0=pd.Timestamp("2026-02-01")).compute()
    assert got.t0.dtype.kind == "M" and (got.t0 == pd.Timestamp("2026-02-01")).all()
    # Text fills text columns; time columns keep their missing values.
    holes = pd.DataFrame({"t": pd.to_datetime(["2026-01-01", None]).astype("datetime64[ns]"),
                          "s": ["a", None]})
    filled = fd.from_pandas(holes, npartitions=1).fillna("?").compute()
    _same(filled, holes.fillna({"s": "?"}))
    # float32 compares in its own precision: no divisions to prune by.
    f32 = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]},
                       index=pd.Index(np.array([0.0, 0.1, 0.1, 0.2], "f4")))
    assert not fd.from_pandas(f32, npartitions=2).known_divisions
