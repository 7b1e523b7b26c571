"""How every method's time and memory grow with the rows n and the inputs p.

For n in {2 000, 20 000, 200 000} and p in {10, 100, 1 000}: synthetic data
(``make_friedman1`` with ``p - 5`` noise inputs), ``make_pipeline(StandardScaler(),
MLPRegressor(hidden_layer_sizes=(100,)))`` trained for a fixed 3 epochs (adam; the
fit is not timed: this measures importance, not training), then
``nn_importance(model, X, y, method=...)`` for every method, measured in-sample:

- ``weights``, ``garson``, ``olden``, ``gradient``, ``probe``;
- ``permutation`` with ``n_repeats=1``; occlusion (``ablation``,
  ``retrain="none"``); ``conditional`` with ``n_repeats=1``;
- warm ``ablation`` with ``n_repeats=1`` and ``n_jobs=2`` (retraining for a fixed
  number of epochs: the warm budget of 2);
- with ``--methods shap,integrated_gradients,sage`` (not in the default grid): the
  global forms of the attributions, with their defaults (a background of 100 rows;
  ``shap`` over at most 500 rows, exact up to 10 columns, else sampled until
  converged; integrated gradients over every row; SAGE until converged).

Time is wall time with the default threads (BLAS and the fast paths use every core).
Peak memory (a second call, made when the first took at most a minute) is the memory
allocated during the call beyond what was allocated before it (``tracemalloc``, which
also sees NumPy's arrays), in MiB and as a multiple of the data's own size
(``X.nbytes``); for warm ablation it covers the parent process only. Tracing slows the
threaded fast paths, so it never runs in a timed call. The log-log slopes are taken
between the two largest sizes measured (in n at the largest p measured, in p at the
largest n measured): 1 is linear, 2 quadratic.

A combination is skipped, and said so, when the time predicted from the same
method's measured neighbours (the larger of linear growth and the measured slope)
exceeds ``--limit`` seconds (default 600).

Also prints the budget of issue-size work: n=20 000, p=1 000, hidden (100,):
gradient, occlusion, permutation (``n_repeats=5``) and warm ablation (``n_repeats=1``,
``n_jobs=2``), with ``--budget``.

    python benchmarks/bench_scaling.py [--limit 600] [--sizes-n 2000,20000,200000]
        [--sizes-p 10,100,1000] [--methods ...] [--budget]
    python benchmarks/bench_scaling.py --methods shap,integrated_gradients,sage \
        --sizes-p 10,100 --limit 300
"""

import argparse
import math
import os
import time
import tracemalloc
import warnings

from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import PoorModelWarning, nn_importance
from sknnimp._parallel import blas_threads

#: label -> keyword arguments of nn_importance.
METHODS = {
    "weights": dict(method="weights"),
    "garson": dict(method="garson"),
    "olden": dict(method="olden"),
    "gradient": dict(method="gradient"),
    "probe": dict(method="probe"),
    "permutation": dict(method="permutation", n_repeats=1),
    "occlusion": dict(method="ablation", retrain="none"),
    "conditional": dict(method="conditional", n_repeats=1),
    "ablation (warm)": dict(method="ablation", retrain="warm", n_repeats=1, n_jobs=2),
    # Attributions' global forms, run with --methods (not in the default grid):
    # mean |Shapley value| over at most 500 rows (exact up to 10 columns, else
    # sampled until converged), integrated gradients over every row, SAGE until
    # converged; the background is 100 rows.
    "shap": dict(method="shap"),
    "integrated_gradients": dict(method="integrated_gradients"),
    "sage": dict(method="sage"),
}

#: The methods of the default grid.
DEFAULT_METHODS = [
    name for name in METHODS if name not in ("shap", "integrated_gradients", "sage")
]


def data(n, p, seed=0):
    X, y = make_friedman1(n_samples=n, n_features=p, noise=1.0, random_state=seed)
    return X, y


def fitted(X, y, seed=0):
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(100,), max_iter=3, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def measure(model, X, y, kwargs, memory_limit=60.0):
    """``(seconds, peak MiB or None)``.

    The time comes from a call with nothing else running; the peak (memory allocated
    beyond what was allocated before the call, ``tracemalloc``, which sees NumPy's
    arrays) from a second call, made only when the first took at most
    ``memory_limit`` seconds: tracing slows the threaded fast paths about twofold, and
    the other way to read the peak (the resident high-water mark with glibc returning
    every freed array) slowed them more, so neither shares a timed call.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PoorModelWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        nn_importance(model, X, y, random_state=0, **kwargs)
        seconds = time.perf_counter() - start
        if seconds > memory_limit:
            return seconds, None
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        nn_importance(model, X, y, random_state=0, **kwargs)
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
    return seconds, peak / 2**20


def predicted(times, n, p, sizes_n, sizes_p):
    """Time predicted for (n, p) from measured neighbours, or None."""
    guesses = []
    for axis, sizes, value in (("n", sizes_n, n), ("p", sizes_p, p)):
        smaller = [s for s in sizes if s < value]
        if not smaller:
            continue
        s1 = smaller[-1]
        key1 = (s1, p) if axis == "n" else (n, s1)
        if key1 not in times:
            continue
        slope = 1.0
        if len(smaller) >= 2:
            s0 = smaller[-2]
            key0 = (s0, p) if axis == "n" else (n, s0)
            if key0 in times and times[key0] > 0:
                measured = math.log(times[key1] / times[key0]) / math.log(s1 / s0)
                slope = max(slope, measured)
        guesses.append(times[key1] * (value / s1) ** slope)
    return max(guesses) if guesses else None


def slope(values, sizes):
    """Log-log slope between the two largest sizes measured, or None."""
    measured = [(s, v) for s, v in zip(sizes, values) if v is not None]
    if len(measured) < 2:
        return None
    (s0, v0), (s1, v1) = measured[-2:]
    return math.log(v1 / v0) / math.log(s1 / s0)


def run_grid(args):
    sizes_n = [int(s) for s in args.sizes_n.split(",")]
    sizes_p = [int(s) for s in args.sizes_p.split(",")]
    labels = [m for m in METHODS if m in args.methods.split(",")]
    times = {label: {} for label in labels}
    memory = {label: {} for label in labels}
    skipped = []
    for p in sizes_p:
        for n in sizes_n:
            X, y = data(n, p)
            start = time.perf_counter()
            model = fitted(X, y)
            print(
                f"n={n}, p={p}: X {X.nbytes / 2**20:.0f} MiB, model fitted in "
                f"{time.perf_counter() - start:.1f} s",
                flush=True,
            )
            for label in labels:
                guess = predicted(times[label], n, p, sizes_n, sizes_p)
                if guess is not None and guess > args.limit:
                    skipped.append((label, n, p, guess))
                    print(f"  {label}: skipped, predicted {guess:.0f} s", flush=True)
                    continue
                seconds, peak = measure(model, X, y, METHODS[label])
                times[label][(n, p)] = seconds
                if peak is not None:
                    memory[label][(n, p)] = peak
                shown = (
                    "not measured"
                    if peak is None
                    else (f"{peak:.1f} MiB ({peak * 2**20 / X.nbytes:.2f} x X)")
                )
                print(f"  {label}: {seconds:.2f} s, peak {shown}", flush=True)
            del X, y, model
    report(labels, times, memory, skipped, sizes_n, sizes_p)


def report(labels, times, memory, skipped, sizes_n, sizes_p):
    print("\n### Time (s)\n")
    cells = [(n, p) for p in sizes_p for n in sizes_n]
    header = " | ".join(f"n={n // 1000}k p={p}" for n, p in cells)
    print(f"| method | {header} | slope in n | slope in p |")
    print("|---|" + "---|" * (len(cells) + 2))
    for label in labels:
        row = [
            f"{times[label][c]:.2f}" if c in times[label] else "skipped" for c in cells
        ]
        big_p = max((p for n, p in times[label]), default=None)
        big_n = max((n for n, p in times[label]), default=None)
        in_n = slope([times[label].get((n, big_p)) for n in sizes_n], sizes_n)
        in_p = slope([times[label].get((big_n, p)) for p in sizes_p], sizes_p)
        print(
            f"| {label} | " + " | ".join(row) + f" | {_fmt(in_n)} (p={big_p}) | "
            f"{_fmt(in_p)} (n={big_n}) |"
        )
    print("\n### Peak memory beyond the data (MiB; the data X: 8 n p bytes)\n")
    print(f"| method | {header} | slope in n | slope in p |")
    print("|---|" + "---|" * (len(cells) + 2))
    for label in labels:
        row = [
            f"{memory[label][c]:.1f}" if c in memory[label] else "skipped"
            for c in cells
        ]
        big_p = max((p for n, p in memory[label]), default=None)
        big_n = max((n for n, p in memory[label]), default=None)
        in_n = slope([memory[label].get((n, big_p)) for n in sizes_n], sizes_n)
        in_p = slope([memory[label].get((big_n, p)) for p in sizes_p], sizes_p)
        print(
            f"| {label} | " + " | ".join(row) + f" | {_fmt(in_n)} (p={big_p}) | "
            f"{_fmt(in_p)} (n={big_n}) |"
        )
    if skipped:
        print("\nSkipped (predicted time over the limit):")
        for label, n, p, guess in skipped:
            print(f"- {label}, n={n}, p={p}: predicted {guess:.0f} s")


def _fmt(value):
    return "-" if value is None else f"{value:.2f}"


def budget(skip_warm=False):
    """The issue-size budget: n=20 000, p=1 000, hidden (100,)."""
    X, y = data(20_000, 1_000)
    model = fitted(X, y)
    print("\n### Budget: n=20 000, p=1 000, hidden (100,)\n")
    print("| work | time | peak memory (MiB) |")
    print("|---|---|---|")
    for label, kwargs in (
        ("gradient", dict(method="gradient")),
        ("occlusion", dict(method="ablation", retrain="none")),
        ("permutation, n_repeats=5", dict(method="permutation", n_repeats=5)),
        (
            "warm ablation, n_repeats=1, n_jobs=2",
            dict(method="ablation", retrain="warm", n_repeats=1, n_jobs=2),
        ),
    ):
        if skip_warm and kwargs.get("retrain") == "warm":
            continue
        seconds, peak = measure(model, X, y, kwargs)
        shown = "not measured" if peak is None else f"{peak:.0f}"
        print(f"| {label} | {seconds:.2f} s | {shown} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=600.0)
    parser.add_argument("--sizes-n", default="2000,20000,200000")
    parser.add_argument("--sizes-p", default="10,100,1000")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--budget", action="store_true", help="only the budget")
    parser.add_argument(
        "--skip-warm", action="store_true", help="the budget without warm ablation"
    )
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} cores, BLAS threads {blas_threads()}, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    if args.budget:
        budget(skip_warm=args.skip_warm)
    else:
        run_grid(args)


if __name__ == "__main__":
    main()
