"""Permutation importance of an MLP: sknnimp against scikit-learn, same draws.

Fits ``make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(100,)))`` on
synthetic data and times ``sknnimp._permutation.permutation_importance`` and
``sklearn.inspection.permutation_importance`` with the same ``n_jobs``, seed and
``n_repeats``. Prints both times, the speed-up and the largest absolute difference
between the two sets of draws. With ``--n-jobs`` other than 1 the worker pool is
started before timing, so that neither function pays for it.

    python benchmarks/bench_permutation.py [--n-samples 10000] [--n-features 100]
        [--n-repeats 5] [--n-jobs 1] [--rounds 1]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance as sklearn_permutation
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.parallel import Parallel, delayed

from sknnimp._permutation import permutation_importance


def _best_time(function, rounds):
    """Smallest wall time over ``rounds`` calls, and the last call's result."""
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="best of this many")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = make_friedman1(
        n_samples=args.n_samples,
        n_features=args.n_features,
        noise=0.5,
        random_state=args.seed,
    )
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(100,), max_iter=20, random_state=args.seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)

    if args.n_jobs != 1:
        Parallel(n_jobs=args.n_jobs)(delayed(abs)(i) for i in range(8))
    common = dict(n_repeats=args.n_repeats, n_jobs=args.n_jobs, random_state=args.seed)
    ours_time, ours = _best_time(
        lambda: permutation_importance(model, X, y, **common), args.rounds
    )
    theirs_time, theirs = _best_time(
        lambda: sklearn_permutation(model, X, y, **common), args.rounds
    )

    print(
        f"n={args.n_samples}, p={args.n_features}, hidden=(100,), "
        f"n_repeats={args.n_repeats}, n_jobs={args.n_jobs}"
    )
    print(f"sknnimp permutation_importance: {ours_time:8.3f} s")
    print(f"sklearn permutation_importance: {theirs_time:8.3f} s")
    print(f"speed-up:                       {theirs_time / ours_time:8.1f}x")
    difference = np.abs(ours.importances - theirs.importances).max()
    print(f"max |difference| of the draws:  {difference:8.1e}")


if __name__ == "__main__":
    main()
