"""GridSearchCV over the number of kept inputs, with and without the selector's cache.

A grid over ``max_features`` (or ``threshold``, ``alpha``) changes only which inputs
are kept, not the network or its importances; with ``memory`` the selector fits the
network once per split and the candidates reuse it. The script times, in one run on
the same data:

- a single candidate (one ``max_features`` value, no cache);
- five candidates without the cache;
- five candidates with a fresh cache,

and prints the two grids' times as ratios to the single candidate (target for the
cached grid: at most 1.5x).

    python benchmarks/bench_grid.py
"""

import argparse
import tempfile
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from sknnimp import NNImportanceSelector


def grid_time(X, y, values, memory, method, cv):
    pipe = Pipeline(
        [
            (
                "select",
                NNImportanceSelector(
                    method=method, threshold=-np.inf, memory=memory, random_state=0
                ),
            ),
            ("model", Ridge()),
        ]
    )
    grid = GridSearchCV(pipe, {"select__max_features": values}, cv=KFold(cv))
    start = time.perf_counter()
    grid.fit(X, y)
    return time.perf_counter() - start, grid


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1000)
    parser.add_argument("--method", default="gradient")
    parser.add_argument("--cv", type=int, default=3)
    args = parser.parse_args()
    X, y = make_friedman1(n_samples=args.n_samples, random_state=0)
    values = [2, 4, 5, 6, 8]
    warnings.simplefilter("ignore", ConvergenceWarning)
    t_single, _ = grid_time(X, y, [5], None, args.method, args.cv)
    t_plain, plain = grid_time(X, y, values, None, args.method, args.cv)
    with tempfile.TemporaryDirectory() as cache:
        t_cached, cached = grid_time(X, y, values, cache, args.method, args.cv)
    same = np.array_equal(
        plain.cv_results_["mean_test_score"], cached.cv_results_["mean_test_score"]
    )
    print(
        f"n={args.n_samples}, method={args.method}, {args.cv}-fold, "
        f"max_features in {values}, default network (StandardScaler + MLP(100,))"
    )
    print(f"single candidate, no cache        {t_single:7.2f} s   1.00x")
    print(
        f"{len(values)} candidates, no cache         {t_plain:7.2f} s   "
        f"{t_plain / t_single:.2f}x single"
    )
    print(
        f"{len(values)} candidates, with memory      {t_cached:7.2f} s   "
        f"{t_cached / t_single:.2f}x single (target <= 1.5x)"
    )
    print(f"cached grid same scores as uncached: {same}")


if __name__ == "__main__":
    main()
