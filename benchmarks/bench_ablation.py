"""Ablation importance on Friedman #1: warm against cold retraining, 2 jobs against 1.

The network is the selector's default, ``make_pipeline(StandardScaler(),
MLPRegressor(hidden_layer_sizes=(100,), max_iter=1000, random_state=seed))``, fitted
once on ``make_friedman1`` (inputs 0-4 informative, 5-9 noise). Then:

1. ``NNImportanceSelector(network, method="ablation", retrain=..., prefit=True,
   n_repeats=..., random_state=0)`` with ``retrain="warm"`` (timed ``--rounds``
   times, median) and ``retrain="cold"`` (timed once: it is the slow one). The
   scorer is a callable returning ``estimator.score`` (what ``scoring=None`` uses) that
   also counts the epochs each retrained network ran, a figure that does not depend
   on the machine's load. Printed: times, epochs and their ratios (for the importance
   step alone, and for a whole ``fit`` from scratch, which adds the network's own
   fitting to both sides), whether each puts the five informative inputs above the
   five noise ones, and the Pearson correlation of the two importance vectors.
2. Warm ablation with ``n_jobs=1`` and ``n_jobs=2`` (``scoring=None``), interleaved,
   best of ``--rounds``; the first ``n_jobs=2`` call, which starts the worker
   processes, is reported apart. Also checks that both give identical importances.

    python benchmarks/bench_ablation.py [--n-samples 2000] [--n-features 10]
        [--n-repeats 2]
        [--jobs-repeats 5] [--rounds 3] [--seed 0] [--skip-cold] [--skip-jobs]
"""

import argparse
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sknnimp import NNImportanceSelector, _ablation


def _separates(importances):
    """Every informative input (0-4) ranks above every noise input (5-9)."""
    return bool(importances[:5].min() > importances[5:].max())


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


class _EpochCounter:
    """``estimator.score``, counting the epochs of every network it scores."""

    def __init__(self):
        self.epochs = 0

    def __call__(self, estimator, X, y):
        mlp = estimator[-1] if hasattr(estimator, "steps") else estimator
        self.epochs += mlp.n_iter_
        return estimator.score(X, y)


def _ablation_selector(network, X, y, retrain, n_repeats, n_jobs=None, scoring=None):
    return NNImportanceSelector(
        network,
        method="ablation",
        retrain=retrain,
        scoring=scoring,
        n_repeats=n_repeats,
        prefit=True,
        n_jobs=n_jobs,
        random_state=0,
    ).fit(X, y)


def _counted(network, X, y, retrain, n_repeats):
    """(seconds, epochs, selector) of one single-process ablation."""
    counter = _EpochCounter()
    elapsed, selector = _timed(
        lambda: _ablation_selector(network, X, y, retrain, n_repeats, scoring=counter)
    )
    return elapsed, counter.epochs, selector


def _show(name, importances):
    values = " ".join(f"{v:6.3f}" for v in importances)
    print(f"  {name:4s} [{values}]  informative first: {_separates(importances)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=2_000)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument(
        "--n-features", type=int, default=10, help="inputs (5 informative)"
    )
    parser.add_argument(
        "--n-repeats", type=int, default=2, help="retrain seeds, warm vs cold"
    )
    parser.add_argument(
        "--jobs-repeats", type=int, default=5, help="retrain seeds, n_jobs 1 vs 2"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed repeats")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--skip-jobs", action="store_true")
    args = parser.parse_args(argv)

    X, y = make_friedman1(
        n_samples=args.n_samples,
        n_features=args.n_features,
        noise=args.noise,
        random_state=args.seed,
    )
    network = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(100,), max_iter=1000, random_state=args.seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_time, _ = _timed(lambda: network.fit(X, y))
    fit_epochs = network[-1].n_iter_
    budget = max(
        _ablation.WARM_MIN_ITER, int(np.ceil(_ablation.WARM_FRACTION * fit_epochs))
    )
    blas = ", ".join(
        f"{i['internal_api']}x{i['num_threads']}" for i in threadpool_info()
    )
    print(
        f"make_friedman1(n_samples={args.n_samples}, n_features={args.n_features}, "
        f"noise={args.noise}); network "
        f"fitted in {fit_time:.2f} s, {fit_epochs} epochs, training R^2 "
        f"{network.score(X, y):.3f}; thread pools: {blas}"
    )
    print(
        f"warm budget: {budget} epochs per retrain (WARM_FRACTION="
        f"{_ablation.WARM_FRACTION}, WARM_MIN_ITER={_ablation.WARM_MIN_ITER})"
    )

    n_tasks = (X.shape[1] + 1) * args.n_repeats
    print(f"\n1. warm vs cold, n_repeats={args.n_repeats} ({n_tasks} retrains each)")
    warm_runs = [
        _counted(network, X, y, "warm", args.n_repeats) for _ in range(args.rounds)
    ]
    warm_time = statistics.median(run[0] for run in warm_runs)
    _, warm_epochs, warm = warm_runs[-1]
    rounds = ", ".join(f"{run[0]:.2f}" for run in warm_runs)
    _show("warm", warm.feature_importances_)
    print(f"  warm: {warm_time:.2f} s (median of {rounds}), {warm_epochs} epochs")
    if not args.skip_cold:
        cold_time, cold_epochs, cold = _counted(network, X, y, "cold", args.n_repeats)
        _show("cold", cold.feature_importances_)
        print(f"  cold: {cold_time:.2f} s, {cold_epochs} epochs")
        print(
            f"  importance step, cold / warm: time {cold_time / warm_time:.1f}x, "
            f"epochs {cold_epochs / warm_epochs:.1f}x"
        )
        print(
            "  whole fit (network + importance), cold / warm: time "
            f"{(fit_time + cold_time) / (fit_time + warm_time):.1f}x, epochs "
            f"{(fit_epochs + cold_epochs) / (fit_epochs + warm_epochs):.1f}x"
        )
        pearson = np.corrcoef(warm.feature_importances_, cold.feature_importances_)
        print(f"  Pearson(warm, cold) = {pearson[0, 1]:.4f}")

    if not args.skip_jobs:
        n_tasks = (X.shape[1] + 1) * args.jobs_repeats
        per_task = warm_time / ((X.shape[1] + 1) * args.n_repeats)
        print(
            f"\n2. warm ablation, n_jobs=1 vs 2, n_repeats={args.jobs_repeats} "
            f"({n_tasks} tasks of ~{per_task:.2f} s)"
        )
        first_time, two = _timed(
            lambda: _ablation_selector(network, X, y, "warm", args.jobs_repeats, 2)
        )
        print(f"  first n_jobs=2 call (starts the workers): {first_time:.2f} s")
        times = {1: [], 2: []}
        results = {2: two}
        for _ in range(args.rounds):
            for n_jobs in (1, 2):
                elapsed, results[n_jobs] = _timed(
                    lambda n_jobs=n_jobs: _ablation_selector(
                        network, X, y, "warm", args.jobs_repeats, n_jobs
                    )
                )
                times[n_jobs].append(elapsed)
        best = {n_jobs: min(values) for n_jobs, values in times.items()}
        for n_jobs, values in times.items():
            print(
                f"  n_jobs={n_jobs}: best {best[n_jobs]:.2f} s "
                f"(rounds: {', '.join(f'{v:.2f}' for v in values)})"
            )
        print(f"  speed-up n_jobs=2 over n_jobs=1: {best[1] / best[2]:.2f}x")
        print(f"  first n_jobs=2 call against n_jobs=1: {best[1] / first_time:.2f}x")
        same = np.array_equal(results[1].importances_, results[2].importances_)
        print(f"  identical importances for n_jobs=1 and 2: {same}")


if __name__ == "__main__":
    main()
