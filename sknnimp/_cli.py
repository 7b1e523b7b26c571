"""The ``sknnimp`` command: which inputs of a neural network matter, from a CSV file.

``sknnimp DATA.csv --target COL`` reads the file with pandas, keeps categorical columns
(one-hot encoded) and missing values (imputed), leaves out the columns that cannot be
inputs (an ID, a constant, a date-time) with a note, fits the package's default network
for tables, prints its score on the training data beside its held-out (cross-validated)
score, then, per method, the inputs ranked by importance (with confidence intervals and
p-values where computed), the agreement between the methods, and the inputs whose
importance on the training data does not carry over to held-out data. Without a file it
runs on a dataset bundled with scikit-learn. Bad input ends with status 2 and a
one-line message, before any fitting.
"""

import argparse
import codecs
import csv
import io
import json
import math
import os
import re
import shlex
import sys
import time
import warnings

import numpy as np
from joblib import cpu_count
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold

from ._answer import (
    RECOMMENDED,
    RECOMMENDED_WHY,
    ranking_text,
    summary_paragraphs,
    unit,
    wrapped,
)
from ._compare import compare_importances
from ._default import default_estimator
from ._methods import METHODS
from ._report import report_format, write_report
from ._significance import PoorModelWarning
from ._tables import numeric_columns

BUNDLED = {
    "diabetes": datasets.load_diabetes,
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
}
#: An integer-valued target with at most this many distinct values is a class label.
MAX_CLASSES = 10
#: Default number of shuffled folds (--cv): importance and the held-out score.
SCORE_FOLDS = 5
#: An object column whose non-missing values parse as dates this often is a date.
DATE_SHARE = 0.9
#: Names of integer columns that, with all values distinct, are row identifiers.
ID_NAME = re.compile(r"^(id|index|row|key)$|(_id|_key)$|^id_", re.IGNORECASE)
#: An estimated run longer than this (seconds) gets a hint about --n-jobs.
LONG_RUN = 60
#: Rows explained in the report's per-row view.
PER_ROW_ROWS = 200
#: Column separators tried when ``--sep`` is not given, preferred in this order.
SEPARATORS = (",", ";", "\t", "|")
#: Characters read from the top of a file to find its separator and decimal mark.
SAMPLE_CHARS = 1 << 16
DECIMAL_COMMA = re.compile(r"[-+]?\d*,\d+")
DECIMAL_POINT = re.compile(r"[-+]?\d*\.\d+([eE][-+]?\d+)?")


class UsageError(Exception):
    """Bad input: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """Option errors in one line, like every other bad input (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser():
    parser = _Parser(
        prog="sknnimp",
        description=(
            "Fit a neural network (MLP, behind imputation, scaling and one-hot "
            "encoding) and rank its inputs by importance with several methods. "
            "Without DATA, runs on a dataset bundled with scikit-learn."
        ),
    )
    parser.add_argument("data", nargs="?", metavar="DATA.csv", help="CSV with header")
    parser.add_argument("--dataset", choices=sorted(BUNDLED), default="diabetes")
    parser.add_argument(
        "--target",
        help="target column (default: the last one); several, separated by commas, "
        "for a multi-output regression or multilabel 0/1 targets",
    )
    parser.add_argument(
        "--output",
        metavar="NAME",
        help="with several targets: show the per-output tables of this one only",
    )
    parser.add_argument(
        "--sep",
        metavar="CHAR",
        help="column separator, e.g. ';' or tab (default: detected among comma, "
        "semicolon, tab and |)",
    )
    parser.add_argument(
        "--task",
        choices=["auto", "regression", "classification"],
        default="auto",
        help=(
            "auto: text labels, or whole numbers with at most "
            f"{MAX_CLASSES} distinct values, are classes; otherwise regression"
        ),
    )
    parser.add_argument(
        "--methods",
        default="recommended",
        help=(
            f"comma-separated, among {','.join(METHODS)}; 'recommended' (the "
            f"default): {','.join(RECOMMENDED)}; 'all': every method"
        ),
    )
    parser.add_argument(
        "--cv",
        type=int,
        default=SCORE_FOLDS,
        help="importance cross-fitted on K shuffled held-out folds (default: "
        f"{SCORE_FOLDS}); p-values of permutation, conditional and ablation come "
        "from the held-out rows, without refits",
    )
    parser.add_argument(
        "--test",
        choices=("t", "wilcoxon", "sign_flip", "nadeau_bengio"),
        default="t",
        help="with --cv: the test of the held-out per-row differences (default: t), "
        "or nadeau_bengio: the corrected t-test over folds, for every method",
    )
    parser.add_argument("--n-repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument(
        "--hidden", default="100", help="hidden layer sizes, e.g. 64,32"
    )
    parser.add_argument("--groups", choices=["auto"], help="group correlated inputs")
    parser.add_argument("--null-repeats", type=int, default=0, help="p-value refits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE.png", help="write the comparison plot")
    parser.add_argument("--json", metavar="FILE", help="write all results as JSON")
    parser.add_argument(
        "--report",
        metavar="FILE.html",
        help="write a one-page report (.html, self-contained, or .md) with the "
        "pictures and a per-row view (Shapley values)",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="progress on stderr even when it is not a terminal",
    )
    parser.add_argument(
        "--exclude", default="", metavar="COL,...", help="columns to leave out"
    )
    parser.add_argument(
        "--drop-non-numeric",
        action="store_true",
        help="leave out non-numeric columns (by default they are one-hot encoded)",
    )
    parser.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop rows with a missing input (by default they are imputed)",
    )
    return parser


def _require_pandas():
    try:
        import pandas
    except ImportError:
        raise UsageError(
            'reading a CSV file needs pandas: pip install "sknnimp[pandas]"'
        ) from None
    return pandas


def _separator(text):
    """``--sep`` as one character (``tab`` or ``\\t`` for a tab), or None."""
    if text is None:
        return None
    sep = {"tab": "\t", "\\t": "\t"}.get(text.lower(), text)
    if len(sep) != 1 or sep in '"\r\n':
        raise UsageError(f"--sep needs one character, such as ';' or tab; got {text!r}")
    return sep


def _encoding(path):
    """UTF-16 after its byte-order mark, else UTF-8 (a byte-order mark tolerated)."""
    with open(path, "rb") as handle:
        start = handle.read(2)
    utf16 = start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    return "utf-16" if utf16 else "utf-8-sig"


def _dialect(sample, complete, sep=None):
    """``(separator, decimal mark, header row)`` from the first lines of a file.

    Without ``sep``, the separator is the one of :data:`SEPARATORS` that splits the
    header into several fields and every row into as many, the most fields, and the
    fewest fields holding another separator (a decimal comma split by a comma). With a
    separator other than a comma, numbers written with a decimal comma (``1,5``) and
    none with a decimal point make the decimal mark a comma.
    """
    best = None
    for candidate in SEPARATORS if sep is None else (sep,):
        try:
            reader = csv.reader(io.StringIO(sample), delimiter=candidate)
            rows = [row for row in reader if row]
        except csv.Error:
            continue
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the last line may be cut short
        if not rows:
            continue
        strays = sum(
            any(other in cell for other in SEPARATORS if other != candidate)
            for row in rows
            for cell in row
        )
        even = all(len(row) == len(rows[0]) for row in rows)
        rank = (len(rows[0]) > 1, even, len(rows[0]), -strays)
        if best is None or rank > best[0]:
            best = rank, candidate, rows
    if best is None:
        return sep or ",", ".", []
    _, sep, rows = best
    cells = [cell.strip() for row in rows[1:] for cell in row]
    comma = any(DECIMAL_COMMA.fullmatch(cell) for cell in cells)
    point = any(DECIMAL_POINT.fullmatch(cell) for cell in cells)
    return sep, "," if sep != "," and comma and not point else ".", rows[0]


def _check_header(frame, header):
    """``frame`` without its unnamed empty columns, and a note for each.

    Duplicate column names, and an unnamed column that holds values, are refused.
    """
    if len(header) != frame.shape[1]:
        return frame, []
    positions = {}
    for position, name in enumerate(header, start=1):
        positions.setdefault(name, []).append(position)
    duplicates = [
        f"{name} (columns {', '.join(map(str, where))})"
        for name, where in positions.items()
        if len(where) > 1 and name.strip()
    ]
    if duplicates:
        raise UsageError(
            f"duplicate column name(s) {'; '.join(duplicates)}: every column needs "
            "its own name"
        )
    unnamed = [i for i, name in enumerate(header) if not name.strip()]
    empty = [i for i in unnamed if frame.iloc[:, i].isna().all()]
    nameless = [i + 1 for i in unnamed if i not in empty]
    if nameless:
        raise UsageError(
            f"column(s) {', '.join(map(str, nameless))} (counting from 1) have "
            "values but no name: name them in the header row"
        )
    notes = [f"column {i + 1} left out: no name and no values" for i in empty]
    keep = [i for i in range(frame.shape[1]) if i not in empty]
    return frame.iloc[:, keep], notes


def _check_row_lengths(path, encoding, sep, width):
    """Refuse a row with values beyond the header's ``width`` (trailing separators
    are harmless)."""
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=sep)
        for row in reader:
            if any(cell.strip() for cell in row[width:]):
                raise UsageError(
                    f"line {reader.line_num} of {path} has {len(row)} fields but the "
                    f"header names {width} columns: name every column in the header"
                )


def read_table(path, sep=None):
    """``(frame, notes)``: the CSV file as a DataFrame, and what reading it noted.

    The file is UTF-8 (a byte-order mark tolerated) or UTF-16 with its byte-order
    mark; the separator is ``sep`` or detected (:func:`_dialect`), and so is a
    decimal comma. Duplicate column names, unnamed columns holding values and rows
    longer than the header are refused; an unnamed empty column is left out.
    """
    pd = _require_pandas()
    try:
        encoding = _encoding(path)
        with open(path, encoding=encoding, newline="") as handle:
            sample = handle.read(SAMPLE_CHARS)
            complete = not handle.read(1)
        sep, decimal, header = _dialect(sample, complete, sep)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # Not the first field as row labels when a row has more fields than
            # the header: pandas cuts them and warns.
            frame = pd.read_csv(
                path, sep=sep, decimal=decimal, encoding=encoding, index_col=False
            )
        if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            _check_row_lengths(path, encoding, sep, frame.shape[1])
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path} is empty") from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"cannot read {path}: not {exc.encoding.upper()} text (byte "
            f"{exc.object[exc.start]:#04x} at position {exc.start}); save it as UTF-8"
        ) from None
    except (OSError, UnicodeError, csv.Error, pd.errors.ParserError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else exc
        raise UsageError(f"cannot read {path}: {reason}") from None
    frame, notes = _check_header(frame, header)
    if sep != "," or decimal != ".":
        where = {"\t": "tabs"}.get(sep, repr(sep))
        comma = ", decimal comma" if decimal == "," else ""
        notes.insert(0, f"read with columns separated by {where}{comma}")
    return frame, notes


def _is_date(column):
    """A date-time column, or text that parses as dates (not plain numbers)."""
    pd = _require_pandas()
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if numeric_columns(column.to_frame())[0] or column.dtype == bool:
        return False
    values = column.dropna().astype(str)
    if values.empty or values.str.fullmatch(r"[-+]?[\d.]+").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return parsed.notna().mean() >= DATE_SHARE


def _is_identifier(name, column):
    """Every value distinct: text labels, or whole numbers under an ID-like name."""
    values = column.dropna()
    if len(values) < 2 or values.nunique() != len(values):
        return False
    if not numeric_columns(column.to_frame())[0]:
        return column.dtype != bool
    whole = np.all(np.mod(values.to_numpy(dtype=float), 1) == 0)
    return bool(whole and ID_NAME.search(str(name)))


def _left_out(frame, targets, exclude, drop_non_numeric):
    """``{column: reason}`` for the columns that cannot be (or should not be) inputs."""
    reasons = {}
    for name in frame.columns:
        column = frame[name]
        if name in targets:
            continue
        if name in exclude:
            reasons[name] = "excluded (--exclude)"
        elif column.nunique(dropna=True) <= 1:
            reasons[name] = "constant" if column.notna().any() else "all missing"
        elif _is_date(column):
            reasons[name] = "a date-time"
        elif _is_identifier(name, column):
            reasons[name] = "an identifier (every value distinct)"
        elif drop_non_numeric and not numeric_columns(column.to_frame())[0]:
            reasons[name] = "not numeric (--drop-non-numeric)"
    return reasons


def _numbers_read_as_text(frame):
    """Text columns whose every value is a number, as numbers: some pandas releases
    leave a column holding ``1e400`` (infinite) as text."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        if not all(isinstance(value, str) for value in column.dropna()):
            continue  # booleans with missing values stay as they are
        try:
            frame[name] = column.astype(float)
        except (TypeError, ValueError):
            pass
    return frame


def _infinite(frame, columns):
    """``"a (2 rows), y (1 row)"`` for the columns holding an infinite value."""
    counts = {name: int(frame[name].isin([np.inf, -np.inf]).sum()) for name in columns}
    return ", ".join(
        f"{name} ({count} row{'s' * (count > 1)})"
        for name, count in counts.items()
        if count
    )


def read_csv(
    path,
    target,
    *,
    exclude=(),
    drop_non_numeric=False,
    drop_missing=False,
    sep=None,
):
    """``(X, y, notes, target name)`` from a CSV file with a header row.

    ``X`` is a DataFrame of the input columns as read (categories as text, missing
    values kept); ``notes`` say how the file was read and what was left out and why,
    one line each. ``sep`` is the column separator, detected when None.
    """
    frame, notes = read_table(path, sep)
    frame = _numbers_read_as_text(frame)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if frame.empty:
        raise UsageError(f"{path} has a header but no rows")
    if len(columns) == 1:
        raise UsageError(
            f"a single column {columns[0]!r} read from {path}: if the columns are "
            "separated by another character, give it with --sep"
        )
    targets = _targets(target, columns)
    target = targets[0] if len(targets) == 1 else targets
    unknown = [name for name in exclude if name not in columns]
    if unknown:
        raise UsageError(
            f"unknown --exclude column(s) {', '.join(unknown)}; the columns are "
            f"{', '.join(columns)}"
        )
    named = [name for name in targets if name in exclude]
    if named:
        raise UsageError(f"--exclude names the target {', '.join(named)}")
    what = ", ".join(targets)
    missing_target = frame[targets].isna().any(axis=1)
    if missing_target.all():
        raise UsageError(f"no row has a value of the target {what}")
    if missing_target.any():
        notes.append(
            f"{int(missing_target.sum())} row(s) without a value of {what} left out"
        )
        frame = frame[~missing_target]
    reasons = _left_out(frame, targets, set(exclude), drop_non_numeric)
    notes += [f"column {name} left out: {why}" for name, why in reasons.items()]
    X = frame.drop(columns=[*targets, *reasons])
    if X.shape[1] == 0:
        raise UsageError("no input column left")
    infinite = _infinite(frame, [*X.columns, *targets])
    if infinite:
        raise UsageError(
            f"infinite values (inf) in {infinite}: replace them, or leave the rows "
            "or columns out"
        )
    if drop_missing:
        complete = X.notna().all(axis=1)
        if not complete.any():
            raise UsageError(
                "every row has a missing input; without --drop-missing they are imputed"
            )
        if not complete.all():
            notes.append(
                f"{int((~complete).sum())} row(s) with a missing input dropped "
                "(--drop-missing)"
            )
        X, frame = X[complete], frame[complete]
    y = frame[target].reset_index(drop=True)
    return X.reset_index(drop=True), y, notes, target


def _targets(target, columns):
    """The target column(s): the last column by default; a name, or names separated
    by commas (several outputs)."""
    if target is None:
        return [columns[-1]]
    names = [target] if target in columns else [t.strip() for t in target.split(",")]
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise UsageError(
            f"unknown target column {', '.join(map(repr, unknown))}; the columns are "
            f"{', '.join(columns)}"
        )
    if len(set(names)) < len(names):
        raise UsageError(f"--target names a column twice: {target}")
    return names


def _task(y, task):
    """``(y as floats or labels, "regression" | "classification")``; a DataFrame of
    several targets is a multi-output regression, or a multilabel classification
    when every column holds 0/1 (or two values) only."""
    if getattr(y, "ndim", 1) == 2:
        return _multi_task(y, task)
    values = np.asarray(y)
    try:
        numbers = values.astype(float)
        numeric = bool(np.all(np.isfinite(numbers))) and values.dtype != bool
    except (TypeError, ValueError):
        numbers, numeric = None, False
    if task == "auto":
        whole = numeric and bool(np.all(np.mod(numbers, 1) == 0))
        few = len(np.unique(values)) <= MAX_CLASSES
        task = "regression" if numeric and not (whole and few) else "classification"
    if task == "regression":
        if not numeric:
            raise UsageError("--task regression needs a numeric target")
        return numbers, task
    labels = numbers.astype(int) if numeric and np.all(numbers % 1 == 0) else values
    return np.asarray(labels if numeric else values.astype(str)), task


def _multi_task(frame, task):
    columns = []
    for name in frame.columns:
        try:
            columns.append(frame[name].to_numpy(dtype=float))
        except (TypeError, ValueError):
            raise UsageError(
                f"the target {name} is not numeric: several targets must be numbers "
                "(outputs of a regression) or 0/1 labels"
            ) from None
    values = np.column_stack(columns)
    binary = all(set(np.unique(c)) <= {0.0, 1.0} for c in columns)
    if task == "auto":
        task = "classification" if binary else "regression"
    if task == "classification":
        if not binary:
            raise UsageError(
                "several targets are classes only as 0/1 labels (multilabel)"
            )
        return values.astype(int), task
    return values, task


def _check_target(y, task, cv, n_rows):
    """Refuse a target that cannot be learned or split into the folds needed."""
    if np.ndim(y) == 2:
        for k in range(y.shape[1]):
            if len(np.unique(y[:, k])) < 2:
                raise UsageError(f"target column {k + 1} has a single value")
        if n_rows < cv:
            raise UsageError(f"too few rows for --cv {cv}: there are {n_rows}")
        return
    values, counts = np.unique(y, return_counts=True)
    if len(values) < 2:
        raise UsageError(f"the target has a single value ({values[0]!r})")
    smallest = counts.min() if task == "classification" else n_rows
    if smallest < cv:
        what = "the smallest class has" if task == "classification" else "there are"
        raise UsageError(f"too few rows for --cv {cv}: {what} {smallest}")


def _check_options(args):
    """Refuse option values that cannot work, before reading the data."""
    if args.n_repeats < 1:
        raise UsageError(f"--n-repeats must be at least 1; got {args.n_repeats}")
    if args.null_repeats < 0:
        raise UsageError(f"--null-repeats must be >= 0; got {args.null_repeats}")
    if args.cv < 2:
        raise UsageError(f"--cv must be at least 2; got {args.cv}")
    if args.n_jobs == 0:
        raise UsageError("--n-jobs must not be 0: 1 is one process, -1 every core")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0; got {args.seed}")
    given = [
        (option, os.path.abspath(path))
        for option, path in (
            ("--plot", args.plot),
            ("--json", args.json),
            ("--report", args.report),
        )
        if path
    ]
    for a in range(len(given)):
        for b in range(a + 1, len(given)):
            if given[a][1] == given[b][1]:
                raise UsageError(f"{given[a][0]} and {given[b][0]} name the same file")
    if args.json:
        _check_output(args.json, "--json", args.data)
    if args.plot:
        _check_output(_plot_path(args.plot), "--plot", args.data)
    if args.report:
        try:
            report_format(args.report)
        except ValueError as exc:
            raise UsageError(f"--report {exc}") from None
        _plot_path("report.png")  # the report's pictures need matplotlib
        _check_output(args.report, "--report", args.data)


def _plot_path(path):
    """The file matplotlib writes: ``path``, or ``path.png`` without an extension.

    An extension matplotlib cannot write is refused, naming those it can.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib: pip install 'sknnimp[plot]'"
        ) from None
    if os.path.isdir(path):
        raise UsageError(f"--plot {path} is a directory")
    formats = Figure().canvas.get_supported_filetypes()
    extension = os.path.splitext(path)[1][1:]
    if not extension:
        return path.rstrip(".") + ".png"
    if extension.lower() not in formats:
        raise UsageError(
            f"--plot {path}: cannot draw a .{extension} file; the formats are "
            f"{', '.join(sorted(formats))}"
        )
    return path


def _check_output(path, option, data):
    """Refuse an output file that cannot be written, leaving no file behind."""
    if os.path.isdir(path):
        raise UsageError(f"{option} {path} is a directory")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: no such directory {folder}")
    existed = os.path.exists(path)
    if existed and data is not None and os.path.exists(data):
        if os.path.samefile(path, data):
            raise UsageError(f"{option} {path} would overwrite the data file")
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path} cannot be written: {exc.strerror}") from None
    if not existed:
        os.remove(path)


def _load(args):
    """``(X, y, notes, source, task, output names or None)``."""
    if args.data is None:
        bunch = BUNDLED[args.dataset](as_frame=True)
        X, y = bunch.data, bunch.target.to_numpy()
        source = f"{args.dataset} (bundled with scikit-learn)"
        task = "regression" if args.dataset == "diabetes" else "classification"
        if args.task != "auto":
            task = args.task
        return X, y, [], source, task, None
    exclude = [name.strip() for name in args.exclude.split(",") if name.strip()]
    X, y, notes, target = read_csv(
        args.data,
        args.target,
        exclude=exclude,
        drop_non_numeric=args.drop_non_numeric,
        drop_missing=args.drop_missing,
        sep=_separator(args.sep),
    )
    y, task = _task(y, args.task)
    if isinstance(target, str):
        return X, y, notes, f"{args.data}, target {target}", task, None
    return X, y, notes, f"{args.data}, targets {', '.join(target)}", task, target


def _shuffled_folds(n_folds, task, seed, multi_output=False):
    """Shuffled (stratified) folds for ``--cv``: a file sorted by time, group or
    class would otherwise make every held-out fold an extrapolation."""
    if task == "classification" and not multi_output:
        return StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    return KFold(n_folds, shuffle=True, random_state=seed)


def _constant_score(y, task):
    """Score of the best constant prediction: the majority rate, or R^2 = 0."""
    if task == "classification":
        axis = 0 if np.ndim(y) == 2 else None  # multilabel: whole label sets
        return np.unique(y, axis=axis, return_counts=True)[1].max() / len(y)
    return 0.0


def _describe_model(X, task, hidden):
    numeric = numeric_columns(X)
    parts = []
    if numeric.any():
        parts.append(f"{int(numeric.sum())} numeric (imputed, standardized)")
    if (~numeric).any():
        parts.append(f"{int((~numeric).sum())} categorical (imputed, one-hot)")
    network = "MLPRegressor" if task == "regression" else "MLPClassifier"
    target = " on the standardized target" if task == "regression" else ""
    return ", ".join(parts), f"{network}{hidden}{target}"


def _methods(text):
    if text.strip() == "recommended":
        return list(RECOMMENDED)
    if text.strip() == "all":
        return list(METHODS)
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise UsageError(
            f"unknown method(s) {', '.join(unknown) or '(none)'}; "
            f"choose among {', '.join(METHODS)}"
        )
    return methods


def _hidden(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise UsageError(f"--hidden needs positive integers like 64,32; got {text!r}")
    return sizes


def _agreement(keys, matrix):
    labels = [method for _, method in keys]
    width = max(len(label) for label in labels)
    lines = ["agreement between methods (Spearman rank correlation)"]
    lines.append(" " * (width + 2) + " ".join(f"{label[:6]:>6}" for label in labels))
    for label, row in zip(labels, matrix):
        lines.append(f"  {label:<{width}}" + " ".join(f"{v:>6.2f}" for v in row))
    return "\n".join(lines)


def _overfitting(names, found, n_folds):
    lines = [
        "overfitting check: permutation importance on the training rows vs the "
        f"{n_folds} shuffled held-out folds"
    ]
    flagged = np.flatnonzero(found["flagged"])
    if not len(flagged):
        lines.append("  no input looks important only on the training data")
    for i in flagged:
        lines.append(
            f"  {names[i]}: {found['train'][i]:.4g} on training data, "
            f"{found['held_out'][i]:.4g} held out - sensitive, but not important"
        )
    return "\n".join(lines)


def _json_ready(value):
    if isinstance(value, np.ndarray):
        return [_json_ready(v) for v in value.tolist()]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return _json_ready(value.item())
    return value


class _Stages:
    """What the run is doing, on stderr: one line per stage with its time, and after
    the first fit an estimate of the time left (with a hint when it is long)."""

    def __init__(self, show):
        self.show = show
        self.start = time.perf_counter()

    def say(self, text):
        if self.show:
            print(f"sknnimp: {text}", file=sys.stderr, flush=True)

    def run(self, label, function, *args, **kwargs):
        self.say(f"{label} ...")
        began = time.perf_counter()
        result = function(*args, **kwargs)
        self.say(f"{label}: done in {time.perf_counter() - began:.1f} s")
        return result

    def estimate(self, seconds, n_jobs):
        """Say the estimated time left; a hint to use the cores when it is long."""
        self.say(f"about {seconds:.0f} s left (estimated from the first fit)")
        if seconds > LONG_RUN and (n_jobs is None or n_jobs == 1) and cpu_count() > 1:
            print(
                f"sknnimp: hint: about {seconds:.0f} s of refits left; --n-jobs -1 "
                f"spreads them over the {cpu_count()} cores",
                file=sys.stderr,
                flush=True,
            )


def _fits_left(methods, n_folds, n_features, n_repeats):
    """Refits of the network still to come, in units of one full fit (a rough
    count: a held-out fold is about one fit, a warm ablation a quarter of one)."""
    fits = 0.0
    for method in methods:
        fits += n_folds
        if method == "ablation":
            fits += 0.25 * n_repeats * n_features * n_folds
        if method == "conditional":
            fits += 0.1 * n_folds
    if "permutation" not in methods:
        fits += n_folds  # the overfitting check's held-out side
    return fits


def _run(args):
    methods = _methods(args.methods)
    hidden = _hidden(args.hidden)
    _check_options(args)
    X, y, notes, source, task, outputs = _load(args)
    names = [str(c) for c in X.columns]
    _check_target(y, task, args.cv, len(y))
    if args.output is not None and (outputs is None or args.output not in outputs):
        known = (
            "there is a single target"
            if outputs is None
            else (f"the targets are {', '.join(outputs)}")
        )
        raise UsageError(f"--output {args.output}: {known}")
    multi_output = np.ndim(y) == 2
    model = default_estimator(
        X,
        y,
        classification=task == "classification",
        random_state=args.seed,
        hidden_layer_sizes=hidden,
    )
    stages = _Stages(args.progress or sys.stderr.isatty())
    folds = _shuffled_folds(args.cv, task, args.seed, multi_output)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Said once, in the summary, from the held-out score.
        warnings.simplefilter("ignore", PoorModelWarning)
        began = time.perf_counter()
        stages.run(f"fitting the network on {X.shape[0]} rows", model.fit, X, y)
        one_fit = time.perf_counter() - began
        stages.estimate(
            one_fit * _fits_left(methods, args.cv, X.shape[1], args.n_repeats),
            args.n_jobs,
        )
        comparison = stages.run(
            f"importance by {', '.join(methods)} on {args.cv} held-out folds",
            compare_importances,
            {"mlp": model},
            X,
            y,
            methods=methods,
            cv=folds,
            n_repeats=args.n_repeats,
            groups=args.groups,
            null_repeats=args.null_repeats,
            test=args.test,
            per_output=multi_output,
            n_jobs=args.n_jobs,
            random_state=args.seed,
            verbose=int(stages.show),
        )
        overfitting = stages.run(
            "overfitting check (permutation on the training rows)",
            comparison.overfitting_flags,
            n_splits=args.cv,
        )["mlp"]
    # Every method is cross-fitted on the folds, so the comparison has the model's
    # mean held-out score.
    held_out, n_folds = float(comparison.scores["mlp"].score), args.cv
    results = {method: result for (_, method), result in comparison.results.items()}
    score_name = "R^2" if task == "regression" else "accuracy"
    constant = _constant_score(y, task)
    inputs, network = _describe_model(X, task, hidden)
    train_score = model.score(X, y)
    matrix = comparison.agreement_matrix("spearman")
    groups = _named_groups(results, names)
    units = {m: unit(m, task, True, score_name) for m in results}
    paragraphs = summary_paragraphs(
        names,
        results,
        score_name=score_name,
        held_out=held_out,
        constant=constant,
        cross_fitted=True,
        agreement=(list(results), matrix),
        overfitting=overfitting,
        groups=groups,
    )

    for note in notes:
        print(f"note: {note}")
    print(
        f"{source}: {X.shape[0]} rows, {X.shape[1]} inputs ({inputs}), {task}; "
        f"{network}"
    )
    print(
        f"{score_name} on the training data {train_score:.3f}, held-out "
        f"({n_folds} shuffled folds) {held_out:.3f}, a constant prediction "
        f"{constant:.3f}"
    )
    if not held_out > constant:
        print(
            f"warning: the held-out {score_name} is no better than a constant "
            "prediction's: the network learned little or nothing, and its "
            "importances describe noise"
        )
    if args.methods.strip() == "recommended":
        print(f"methods: {RECOMMENDED_WHY}")
    print(_folds_line(args))
    print()
    for method, result in results.items():
        print(
            ranking_text(
                method,
                names,
                result.importances_mean,
                ci=result.get("importances_ci"),
                pvalues=result.get("pvalues"),
                unit_text=units[method],
            )
        )
        print()
    if multi_output:
        for text in _per_output_tables(results, names, outputs, args.output, units):
            print(text)
            print()
    if len(results) > 1:
        print(_agreement(list(comparison.results), matrix))
        print()
    print(_overfitting(names, overfitting, args.cv))
    print()
    print("summary")
    print(wrapped(paragraphs))

    if args.json:
        _write_json(
            args.json,
            source=source,
            task=task,
            X=X,
            names=names,
            notes=notes,
            held_out=held_out,
            constant=constant,
            results=results,
            units=units,
            matrix=matrix,
            overfitting=overfitting,
            outputs=outputs,
            paragraphs=paragraphs,
        )
    figure = None
    if args.plot or args.report:
        figure = comparison.plot().figure_
    if args.plot:
        figure.savefig(_plot_path(args.plot), dpi=100)
    if args.report:
        per_row = stages.run(
            "Shapley values of up to 200 rows for the report",
            _per_row_figure,
            model,
            X,
            task,
            args.seed,
        )
        write_report(
            args.report,
            _report_summary(
                args,
                source=source,
                X=X,
                names=names,
                task=task,
                inputs=inputs,
                notes=notes,
                network=network,
                score_name=score_name,
                train_score=train_score,
                held_out=held_out,
                constant=constant,
                n_folds=n_folds,
                paragraphs=paragraphs,
                results=results,
                units=units,
                matrix=matrix,
                groups=groups,
                overfitting=overfitting,
                figure=figure,
                per_row=per_row,
            ),
        )
        stages.say(f"report written to {args.report}")


def _folds_line(args):
    if args.null_repeats:
        return (
            f"importance cross-fitted on {args.cv} shuffled held-out folds; p-values "
            f"from {args.null_repeats} refits on a permuted target"
        )
    if args.test == "nadeau_bengio":
        return (
            f"importance cross-fitted on {args.cv} shuffled held-out folds; p-values: "
            "Nadeau-Bengio corrected t-test over the folds"
        )
    return (
        f"importance cross-fitted on {args.cv} shuffled held-out folds; p-values of "
        f"permutation, conditional and ablation: one-sided {args.test} test of the "
        "held-out per-row score differences"
    )


def _named_groups(results, names):
    """The groups of several inputs that were measured together, by name."""
    for result in results.values():
        groups = result.get("groups")
        if groups is not None:
            return [[names[i] for i in g] for g in groups if len(g) > 1] or None
    return None


def _per_output_tables(results, names, outputs, only, units):
    for method, result in results.items():
        if "output_importances" not in result:
            continue
        for k, output in enumerate(outputs):
            if only is not None and output != only:
                continue
            yield ranking_text(
                method,
                names,
                result.output_importances[:, k],
                title=f"{method}, output {output}",
                unit_text=units[method],
            )


def _write_json(
    path,
    *,
    source,
    task,
    X,
    names,
    notes,
    held_out,
    constant,
    results,
    units,
    matrix,
    overfitting,
    outputs,
    paragraphs,
):
    keys = (
        "importances_mean",
        "importances_std",
        "importances_ci",
        "importances",
        "pvalues",
        "baseline_score",
        "output_importances",
        "output_importances_std",
    )
    report = {
        "source": source,
        "task": task,
        "n_rows": int(X.shape[0]),
        "features": names,
        "left_out": notes,
        "held_out_score": _json_ready(held_out),
        "constant_score": _json_ready(constant),
        "outputs": outputs,
        "methods": {
            method: {
                "unit": units[method],
                **{k: _json_ready(result[k]) for k in keys if k in result},
            }
            for method, result in results.items()
        },
        "agreement": {"methods": list(results), "spearman": _json_ready(matrix)},
        "overfitting": {k: _json_ready(v) for k, v in overfitting.items()},
        "summary": paragraphs,
    }
    with open(path, "w") as handle:
        json.dump(report, handle, indent=2)


def _png(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _per_row_figure(model, X, task, seed):
    """``(PNG of the Shapley beeswarm of up to 200 rows, caption)``."""
    from ._attributions import attributions
    from ._display import AttributionDisplay

    rng = np.random.RandomState(seed)
    rows = np.sort(rng.choice(len(X), min(len(X), PER_ROW_ROWS), replace=False))
    explanation = attributions(model, X.iloc[rows], background=100, random_state=seed)
    output, which = None, ""
    if explanation.values.ndim == 3 and explanation.values.shape[2] > 2:
        output = 0
        which = f" (output {explanation.output_names[0]})"
    display = AttributionDisplay.from_attributions(explanation, output=output)
    caption = (
        f"Shapley values of {len(rows)} rows{which}: one dot per row and input, its "
        "effect on the prediction against the mean prediction, coloured by the "
        "input's value."
    )
    png = _png(display.figure_)
    import matplotlib.pyplot as plt

    plt.close(display.figure_)
    return png, caption


def _report_summary(
    args,
    *,
    source,
    X,
    names,
    task,
    inputs,
    notes,
    network,
    score_name,
    train_score,
    held_out,
    constant,
    n_folds,
    paragraphs,
    results,
    units,
    matrix,
    groups,
    overfitting,
    figure,
    per_row,
):
    """The dict :func:`~sknnimp._report.write_report` lays out."""
    nice_score = "R²" if task == "regression" else "accuracy"
    rankings = []
    for method, result in results.items():
        ci = result.get("importances_ci")
        rankings.append(
            {
                "method": method,
                "title": method,
                "unit": units[method],
                "features": names,
                "mean": [float(v) for v in result.importances_mean],
                "ci": None if ci is None or np.isnan(ci).all() else ci.tolist(),
                "pvalues": None
                if "pvalues" not in result
                else [float(v) for v in result.pvalues],
            }
        )
    png, caption = per_row
    return {
        "title": f"Which inputs matter: {source}",
        "command": " ".join(["sknnimp", *map(shlex.quote, args.argv)]),
        "data": {
            "source": source,
            "n_rows": int(X.shape[0]),
            "n_inputs": int(X.shape[1]),
            "inputs": inputs,
            "task": task,
            "notes": list(notes),
        },
        "model": {
            "network": network,
            "score_name": nice_score,
            "train": float(train_score),
            "held_out": float(held_out),
            "constant": float(constant),
            "folds": f"{n_folds} shuffled folds",
            "worth_explaining": bool(held_out > constant),
        },
        "summary": paragraphs,
        "rankings": rankings,
        "figures": {"importances": _png(figure), "beeswarm": png},
        "figure_captions": {
            "importances": "Importances of every method, and their agreement.",
        },
        "agreement": {"methods": list(results), "matrix": np.asarray(matrix).tolist()}
        if len(results) > 1
        else None,
        "groups": groups,
        "overfitting": {
            "features": names,
            "train": [float(v) for v in overfitting["train"]],
            "held_out": [float(v) for v in overfitting["held_out"]],
            "flagged": [bool(v) for v in overfitting["flagged"]],
        },
        "per_row": {"caption": caption, "figure": "beeswarm"},
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        _run(args)
    except UsageError as exc:
        print(f"sknnimp: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
