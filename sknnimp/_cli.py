"""The ``sknnimp`` command: which inputs of a neural network matter, from a CSV file.

``sknnimp DATA.csv --target COL`` fits ``StandardScaler`` + an MLP on the file, then
prints, per method, the inputs ranked by importance (with confidence intervals and
p-values where computed), the agreement between the methods, and the inputs whose
importance on the training data does not carry over to held-out data. Without a file it
runs on a dataset bundled with scikit-learn. Bad input ends with status 2 and a
one-line message.
"""

import argparse
import csv
import json
import math
import sys
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._compare import compare_importances
from ._methods import METHODS

BUNDLED = {
    "diabetes": datasets.load_diabetes,
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
}
MISSING = {"", "na", "nan", "null", "none", "?"}
#: An integer-valued target with at most this many distinct values is a class label.
MAX_CLASSES = 10


class UsageError(Exception):
    """Bad input: reported in one line, exit status 2."""


def _parser():
    parser = argparse.ArgumentParser(
        prog="sknnimp",
        description=(
            "Fit StandardScaler + a neural network (MLP) and rank its inputs by "
            "importance with several methods. Without DATA, runs on a dataset "
            "bundled with scikit-learn."
        ),
    )
    parser.add_argument("data", nargs="?", metavar="DATA.csv", help="CSV with header")
    parser.add_argument("--dataset", choices=sorted(BUNDLED), default="diabetes")
    parser.add_argument("--target", help="target column (default: the last one)")
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
        default=",".join(METHODS),
        help=f"comma-separated, among {','.join(METHODS)} (default: all)",
    )
    parser.add_argument("--cv", type=int, help="cross-fit on K held-out folds")
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
        "--progress",
        action="store_true",
        help="progress on stderr even when it is not a terminal",
    )
    parser.add_argument(
        "--drop-non-numeric", action="store_true", help="drop non-numeric columns"
    )
    parser.add_argument(
        "--drop-missing", action="store_true", help="drop rows with missing values"
    )
    return parser


def _parse_float(text):
    try:
        return float(text)
    except ValueError:
        return None


def read_csv(path, target, *, drop_non_numeric=False, drop_missing=False):
    """``(X, y, feature names, target name)`` from a CSV file with a header row."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if not rows or not rows[0]:
        raise UsageError(f"{path} is empty")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if any(len(row) != len(header) for row in body):
        bad = next(i for i, row in enumerate(body, 2) if len(row) != len(header))
        raise UsageError(f"{path}, line {bad}: expected {len(header)} fields")
    target = header[-1] if target is None else target
    if target not in header:
        raise UsageError(
            f"unknown target column {target!r}; the columns are {', '.join(header)}"
        )
    cells = [[cell.strip() for cell in row] for row in body]
    missing = np.array([[c.lower() in MISSING for c in row] for row in cells])
    missing = missing.reshape(len(cells), len(header))
    missing_columns = [header[j] for j in np.flatnonzero(missing.any(axis=0))]
    if missing_columns and not drop_missing:
        raise UsageError(
            f"missing values in column(s) {', '.join(missing_columns)}; "
            "use --drop-missing to drop those rows"
        )
    cells = [row for row, gap in zip(cells, missing.any(axis=1)) if not gap]
    columns = {name: [row[j] for row in cells] for j, name in enumerate(header)}
    features, non_numeric = [], []
    for name in header:
        if name == target:
            continue
        if all(_parse_float(c) is not None for c in columns[name]):
            features.append(name)
        else:
            non_numeric.append(name)
    if non_numeric and not drop_non_numeric:
        raise UsageError(
            f"non-numeric column(s) {', '.join(non_numeric)}; "
            "use --drop-non-numeric to leave them out"
        )
    if not features:
        raise UsageError("no numeric input column left")
    X = np.array([[float(c) for c in columns[name]] for name in features]).T
    X = X.reshape(len(cells), len(features))
    y = np.array(columns[target], dtype=object)
    return X, y, features, target


def _task(y, task):
    """``(y as floats or labels, "regression" | "classification")``."""
    numbers = [_parse_float(str(v)) for v in y]
    numeric = all(v is not None and math.isfinite(v) for v in numbers)
    if task == "auto":
        whole = numeric and all(float(v).is_integer() for v in numbers)
        few = len(set(numbers)) <= MAX_CLASSES
        task = "regression" if numeric and not (whole and few) else "classification"
    if task == "regression":
        if not numeric:
            raise UsageError("--task regression needs a numeric target")
        return np.asarray(numbers, dtype=float), task
    labels = np.asarray(numbers if numeric else [str(v) for v in y])
    return labels, task


def _check_target(y, task, cv, n_rows):
    values, counts = np.unique(y, return_counts=True)
    if len(values) < 2:
        raise UsageError(f"the target has a single value ({values[0]!r})")
    if cv is not None:
        if cv < 2:
            raise UsageError(f"--cv must be at least 2; got {cv}")
        smallest = counts.min() if task == "classification" else n_rows
        if smallest < cv:
            what = "the smallest class has" if task == "classification" else "there are"
            raise UsageError(f"too few rows for --cv {cv}: {what} {smallest}")


def _load(args):
    if args.data is None:
        bunch = BUNDLED[args.dataset]()
        X, y = bunch.data, bunch.target
        names = [str(n) for n in bunch.feature_names]
        source = f"{args.dataset} (bundled with scikit-learn)"
        task = "regression" if args.dataset == "diabetes" else "classification"
        if args.task != "auto":
            task = args.task
        return X, y, names, source, task
    X, y, names, target = read_csv(
        args.data,
        args.target,
        drop_non_numeric=args.drop_non_numeric,
        drop_missing=args.drop_missing,
    )
    y, task = _task(y, args.task)
    return X, y, names, f"{args.data}, target {target}", task


def _methods(text):
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


def _ranking(method, names, result):
    mean = result.importances_mean
    order = np.argsort(-mean, kind="mergesort")
    width = max(7, max(len(n) for n in names))
    has_ci = not np.isnan(result.importances_ci).all()
    has_p = "pvalues" in result
    head = f"  {'rank':>4}  {'feature':<{width}}  {'importance':>11}"
    head += f"  {'95% CI':>23}" * has_ci + f"  {'p-value':>7}" * has_p
    lines = [method, head]
    for rank, i in enumerate(order, start=1):
        line = f"  {rank:>4}  {names[i]:<{width}}  {mean[i]:>11.4g}"
        if has_ci:
            low, high = result.importances_ci[i]
            line += f"  [{low:>10.4g}, {high:>10.4g}]"
        if has_p:
            line += f"  {result.pvalues[i]:>7.3f}"
        lines.append(line)
    return "\n".join(lines)


def _agreement(keys, matrix):
    labels = [method for _, method in keys]
    width = max(len(label) for label in labels)
    lines = ["agreement between methods (Spearman rank correlation)"]
    lines.append(" " * (width + 2) + " ".join(f"{label[:6]:>6}" for label in labels))
    for label, row in zip(labels, matrix):
        lines.append(f"  {label:<{width}}" + " ".join(f"{v:>6.2f}" for v in row))
    return "\n".join(lines)


def _overfitting(names, found):
    lines = [
        "overfitting check: permutation importance on the training data vs "
        "held-out folds"
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


def _run(args):
    methods = _methods(args.methods)
    hidden = _hidden(args.hidden)
    if args.n_repeats < 1:
        raise UsageError(f"--n-repeats must be at least 1; got {args.n_repeats}")
    if args.null_repeats < 0:
        raise UsageError(f"--null-repeats must be >= 0; got {args.null_repeats}")
    X, y, names, source, task = _load(args)
    _check_target(y, task, args.cv, len(y))
    if args.plot:
        try:
            import matplotlib

            matplotlib.use("Agg")
        except ImportError:
            raise UsageError(
                "--plot needs matplotlib: pip install 'sknnimp[plot]'"
            ) from None
    mlp_class = MLPRegressor if task == "regression" else MLPClassifier
    model = make_pipeline(
        StandardScaler(),
        mlp_class(hidden_layer_sizes=hidden, max_iter=1000, random_state=args.seed),
    )
    show_progress = args.progress or sys.stderr.isatty()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        comparison = compare_importances(
            {"mlp": model},
            X,
            y,
            methods=methods,
            cv=args.cv,
            n_repeats=args.n_repeats,
            groups=args.groups,
            null_repeats=args.null_repeats,
            n_jobs=args.n_jobs,
            random_state=args.seed,
            verbose=int(show_progress),
        )
        overfitting = comparison.overfitting_flags(n_splits=args.cv or 5)["mlp"]
    score_name = "R^2" if task == "regression" else "accuracy"
    print(
        f"{source}: {X.shape[0]} rows, {X.shape[1]} inputs, {task}; "
        f"StandardScaler + {mlp_class.__name__}{hidden}, {score_name} on the "
        f"training data {model.score(X, y):.3f}"
    )
    if args.cv:
        print(f"importance cross-fitted on {args.cv} held-out folds")
    elif args.null_repeats:
        print(
            "p-values from the training data: a network refitted on a shuffled "
            "target can fit noise and look as sensitive as the real one; --cv gives "
            "held-out p-values"
        )
    print()
    for key, result in comparison.results.items():
        print(_ranking(key[1], names, result))
        print()
    keys = list(comparison.results)
    matrix = comparison.agreement_matrix("spearman")
    if len(keys) > 1:
        print(_agreement(keys, matrix))
        print()
    print(_overfitting(names, overfitting))
    if args.json:
        report = {
            "source": source,
            "task": task,
            "n_rows": int(X.shape[0]),
            "features": names,
            "methods": {
                key[1]: {
                    key_name: _json_ready(result[key_name])
                    for key_name in (
                        "importances_mean",
                        "importances_std",
                        "importances_ci",
                        "importances",
                        "pvalues",
                        "baseline_score",
                    )
                    if key_name in result
                }
                for key, result in comparison.results.items()
            },
            "agreement": {
                "methods": [method for _, method in keys],
                "spearman": _json_ready(matrix),
            },
            "overfitting": {k: _json_ready(v) for k, v in overfitting.items()},
        }
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    if args.plot:
        comparison.plot().figure_.savefig(args.plot, dpi=100)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except UsageError as exc:
        print(f"sknnimp: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
