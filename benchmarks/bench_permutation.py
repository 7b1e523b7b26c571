"""Permutation importance of an MLP: sknnimp against scikit-learn, same draws.

Fits ``make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=...))`` on
synthetic data and times ``sknnimp._permutation.permutation_importance`` and
``sklearn.inspection.permutation_importance`` with the same ``n_jobs``, seed and
``n_repeats``, under two thread settings measured in the same run: the machine's
default (BLAS uses every core; so does sknnimp's fast path, see
``sknnimp._parallel.run_tasks``) and one thread (``threadpoolctl.threadpool_limits(1)``
around both calls). Prints the times, the speed-up and the largest absolute difference
between the two sets of draws, for the standard size (n=10 000, p=100, hidden (100,),
``n_repeats=5``), for p=20 and for a deeper network (hidden (256, 128)). With
``--n-jobs`` other than 1 the worker pool is started before timing, so that neither
function pays for it.

    python benchmarks/bench_permutation.py [--n-samples 10000] [--n-repeats 5]
        [--n-jobs 1] [--rounds 3]
"""

import argparse
import os
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
from threadpoolctl import threadpool_limits

from sknnimp._parallel import blas_threads
from sknnimp._permutation import permutation_importance

#: (n_features, hidden_layer_sizes) measured.
CASES = (
    (100, (100,)),
    (20, (100,)),
    (100, (256, 128)),
)


def _best_time(function, rounds):
    """Smallest wall time over ``rounds`` calls, and the last call's result."""
    best = np.inf
    for _ in range(rounds):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(model, X, y, args, threads):
    """``(sknnimp time, scikit-learn time, max |difference|)`` under a thread limit
    (``None``: the default)."""
    common = dict(n_repeats=args.n_repeats, n_jobs=args.n_jobs, random_state=args.seed)
    with threadpool_limits(limits=threads):
        ours_time, ours = _best_time(
            lambda: permutation_importance(model, X, y, **common), args.rounds
        )
        theirs_time, theirs = _best_time(
            lambda: sklearn_permutation(model, X, y, **common), args.rounds
        )
    difference = np.abs(ours.importances - theirs.importances).max()
    return ours_time, theirs_time, difference


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--n-repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.n_jobs != 1:
        Parallel(n_jobs=args.n_jobs)(delayed(abs)(i) for i in range(8))
    print(
        f"n={args.n_samples}, n_repeats={args.n_repeats}, n_jobs={args.n_jobs}, "
        f"best of {args.rounds}; {os.cpu_count()} cores, default BLAS threads "
        f"{blas_threads()}, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print()
    print("| p | hidden | threads | sknnimp | scikit-learn | speed-up | max diff |")
    print("|---|---|---|---|---|---|---|")
    for n_features, hidden in CASES:
        X, y = make_friedman1(
            n_samples=args.n_samples,
            n_features=n_features,
            noise=0.5,
            random_state=args.seed,
        )
        model = make_pipeline(
            StandardScaler(),
            MLPRegressor(
                hidden_layer_sizes=hidden, max_iter=20, random_state=args.seed
            ),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        for label, threads in (("default", None), ("1", 1)):
            ours, theirs, difference = measure(model, X, y, args, threads)
            print(
                f"| {n_features} | {hidden} | {label} | {ours:.3f} s | "
                f"{theirs:.3f} s | **{theirs / ours:.1f}x** | {difference:.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
