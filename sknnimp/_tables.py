"""Column operations on the tables users pass: arrays, sparse matrices, pandas and
polars DataFrames.

The importance methods shuffle, fill and drop *original* columns and hand the result to
the user's estimator as it is, so a DataFrame stays a DataFrame of the same column
types (a categorical column stays categorical, a string column holds strings) and
missing values are left for the estimator's own preprocessing. Nothing here modifies its
input.
"""

import numpy as np
from scipy import sparse
from sklearn.utils import _safe_indexing


def _module(X):
    return type(X).__module__.split(".")[0]


def is_pandas(X):
    return _module(X) == "pandas" and hasattr(X, "iloc") and hasattr(X, "columns")


def is_polars(X):
    return _module(X) == "polars" and hasattr(X, "columns") and hasattr(X, "schema")


def is_dataframe(X):
    """A pandas or polars DataFrame."""
    return is_pandas(X) or is_polars(X)


def n_columns(X):
    return len(X.columns) if is_dataframe(X) else X.shape[1]


def column_names(X):
    """Column names of a DataFrame as strings, else None."""
    if is_dataframe(X):
        return [str(c) for c in X.columns]
    return None


def _column(X, j):
    """Column ``j`` as a 1-D numpy array (object dtype for non-numeric values)."""
    if is_pandas(X):
        column = X.iloc[:, j]
        if numeric_columns(X.iloc[:, [j]])[0]:  # nullable integers: NA becomes NaN
            return column.to_numpy(dtype=float, na_value=np.nan)
        return column.to_numpy()
    if is_polars(X):
        return X.to_series(j).to_numpy()
    if sparse.issparse(X):
        return X[:, [j]].toarray().ravel()
    return np.asarray(X)[:, j]


def numeric_columns(X):
    """Boolean mask of the columns holding numbers (booleans are not numbers here).

    Columns of an object array count as numeric when every value converts to float.
    """
    if is_pandas(X):
        from pandas.api.types import is_bool_dtype, is_numeric_dtype

        return np.array(
            [is_numeric_dtype(t) and not is_bool_dtype(t) for t in X.dtypes]
        )
    if is_polars(X):
        return np.array([t.is_numeric() for t in X.dtypes])
    if sparse.issparse(X):
        return np.ones(X.shape[1], dtype=bool)
    X = np.asarray(X)
    if X.dtype.kind in "fiuc":
        return np.ones(X.shape[1], dtype=bool)
    mask = []
    for j in range(X.shape[1]):
        try:
            X[:, j].astype(float)
            mask.append(X.dtype.kind != "b")
        except (TypeError, ValueError):
            mask.append(False)
    return np.array(mask, dtype=bool)


def numeric_matrix(X):
    """``(values, mask)``: the numeric columns as floats (NaN for missing values)."""
    mask = numeric_columns(X)
    columns = [np.asarray(_column(X, j), dtype=float) for j in np.flatnonzero(mask)]
    values = np.column_stack(columns) if columns else np.empty((_n_rows(X), 0))
    return values, mask


def _n_rows(X):
    return X.shape[0]


def take_rows(X, rows):
    """Rows ``rows`` of ``X`` (any kind of table)."""
    return _safe_indexing(X, rows, axis=0)


def shuffled(X, columns, rows):
    """Copy of ``X`` whose ``columns`` hold the values of the rows ``rows``.

    ``columns`` are positions; the other columns are untouched, and every column keeps
    its type.
    """
    columns = list(columns)
    if is_pandas(X):
        X = X.copy()
        for j in columns:
            values = X.iloc[rows, j]
            values.index = X.index
            X[X.columns[j]] = values
        return X
    if is_polars(X):
        import polars as pl

        names = [X.columns[j] for j in columns]
        return X.with_columns([pl.col(name).gather(rows) for name in names])
    if sparse.issparse(X):
        values = X[:, columns].toarray()[rows]
        return replace_sparse_columns(X, columns, values)
    X = np.array(X)
    X[:, columns] = X[rows][:, columns]
    return X


def filled(X, columns, values):
    """Copy of ``X`` whose ``columns`` hold the constants ``values[j]``.

    Columns keep their type, but for an integer column given a fractional value (its
    mean), which becomes a float column.
    """
    columns = list(columns)
    if is_pandas(X):
        X = X.copy()
        for j in columns:
            name = X.columns[j]
            column = X[name]
            if column.dtype.kind in "iu" and not float(values[j]).is_integer():
                column = column.astype("float64")  # the mean of whole numbers
            X[name] = column.where(np.zeros(len(column), dtype=bool), values[j])
        return X
    if is_polars(X):
        import polars as pl

        return X.with_columns(
            [
                pl.lit(values[j], dtype=X.schema[X.columns[j]]).alias(X.columns[j])
                for j in columns
            ]
        )
    if sparse.issparse(X):
        constant = np.tile([values[j] for j in columns], (X.shape[0], 1))
        return replace_sparse_columns(X, columns, constant)
    kind = np.asarray(X).dtype.kind
    X = np.array(X, dtype=None if kind in "Of" else float)  # float32 stays float32
    for j in columns:
        X[:, j] = values[j]
    return X


def replaced(X, columns, values):
    """Copy of ``X`` whose ``columns`` hold the 1-D arrays ``values`` (one per column).

    A categorical column keeps its categories; an integer column given fractional
    values becomes a float column; missing values are None or NaN.
    """
    columns = list(columns)
    if is_pandas(X):
        import pandas as pd

        X = X.copy()
        for j, new in zip(columns, values):
            name = X.columns[j]
            dtype = X[name].dtype
            new = np.asarray(new)
            if isinstance(dtype, pd.CategoricalDtype) or new.dtype.kind == "O":
                series = pd.Series(new, index=X.index, dtype=object)
                try:
                    series = series.astype(dtype)
                except (TypeError, ValueError):
                    pass
            elif dtype.kind in "iub" and not (
                np.all(np.isfinite(new)) and np.all(np.asarray(new) % 1 == 0)
            ):
                series = pd.Series(new.astype(float), index=X.index)
            else:
                series = pd.Series(new, index=X.index).astype(
                    dtype if dtype.kind in "iufb" else new.dtype
                )
            X[name] = series
        return X
    if is_polars(X):
        import polars as pl

        updates = []
        for j, new in zip(columns, values):
            name = X.columns[j]
            series = pl.Series(name, list(np.asarray(new, dtype=object)))
            try:
                series = series.cast(X.schema[name], strict=True)
            except Exception:  # e.g. fractional values for an integer column
                series = series.cast(pl.Float64)
            updates.append(series)
        return X.with_columns(updates)
    if sparse.issparse(X):
        return replace_sparse_columns(X, columns, np.column_stack(values))
    kind = np.asarray(X).dtype.kind
    X = np.array(X, dtype=None if kind in "Of" else float)  # float32 stays float32
    for j, new in zip(columns, values):
        X[:, j] = new
    return X


def dropped(X, columns):
    """``X`` without ``columns``."""
    keep = np.setdiff1d(np.arange(n_columns(X)), list(columns))
    if is_pandas(X):
        return X.iloc[:, keep]
    if is_polars(X):
        return X.select([X.columns[j] for j in keep])
    return X[:, keep]


def replace_sparse_columns(X, columns, values):
    """Copy of sparse ``X`` whose ``columns`` hold the dense ``values``."""
    columns = np.asarray(columns)
    keep = np.setdiff1d(np.arange(X.shape[1]), columns)
    make = sparse.csc_array if isinstance(X, sparse.sparray) else sparse.csc_matrix
    stacked = sparse.hstack([X[:, keep], make(values)], format="csc")
    return stacked[:, np.argsort(np.concatenate([keep, columns]))].asformat(X.format)


def _most_frequent(values, w):
    present = np.array([not _is_missing(v) for v in values], dtype=bool)
    if not present.any():
        return values[0] if len(values) else np.nan
    keys = np.asarray([str(v) for v in values[present]])
    uniques, inverse = np.unique(keys, return_inverse=True)
    counts = np.bincount(inverse, weights=w[present])
    best = np.flatnonzero(keys == uniques[np.argmax(counts)])[0]
    return values[present][best]


def _is_missing(value):
    """None, NaN, and pandas' NA and NaT."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return bool(value != value)  # NaN, pandas NA
    except (TypeError, ValueError):
        return False


def fill_values(X, fill, sample_weight=None):
    """Per-column replacement values from the rows ``X`` (None for ``"drop"``).

    Numeric columns get their mean or median (weighted by ``sample_weight``, missing
    values left out), zero or the constant ``fill``; other columns (categories,
    strings, booleans) always get their most frequent value, whatever ``fill`` says.
    """
    if fill == "drop":
        return None
    n_rows, p = X.shape[0], n_columns(X)
    w = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, float)
    numeric = numeric_columns(X)
    values = []
    for j in range(p):
        column = _column(X, j)
        if not numeric[j]:
            values.append(_most_frequent(column, w))
            continue
        column = np.asarray(column, dtype=float)
        if fill == "zero":
            values.append(0.0)
        elif fill in ("mean", "median"):
            present = ~np.isnan(column) & (w > 0)
            if not present.any():
                values.append(0.0)
            elif fill == "mean":
                values.append(float(np.average(column[present], weights=w[present])))
            else:
                values.append(float(weighted_median(column[present], w[present])))
        else:
            values.append(float(fill))
    if not is_dataframe(X) and not (
        not sparse.issparse(X) and np.asarray(X).dtype.kind == "O"
    ):
        return np.asarray(values, dtype=float)
    return values


def weighted_median(x, w):
    """Median of ``x`` with row weights ``w`` (averaged inverted CDF).

    Equals ``np.median`` for equal weights; rows of weight 0 count as absent, and an
    integer weight as that many copies of the row.
    """
    order = np.argsort(x, kind="stable")
    values = x[order]
    cumulative = np.cumsum(w[order])
    half = cumulative[-1] / 2
    tie = 1e-10 * cumulative[-1]  # rounding of the sums must not break a tie
    lower = int((cumulative < half - tie).sum())
    upper = min(int((cumulative <= half + tie).sum()), len(x) - 1)
    return (values[lower] + values[upper]) / 2
