"""How well every importance method recovers a known truth.

Two data sets, each drawn afresh for every seed (``--seeds``, 10 by default), with
``--n`` rows (500 by default):

- **Friedman #1** (``sklearn.datasets.make_friedman1``): inputs 0-4 enter ``y``,
  inputs 5-9 are noise. Figure: the fraction of seeds for which every informative
  input ranks above every noise input.
- **graded**: 12 independent inputs ``x_i ~ U(-1, 1)`` and

      y = sum_i beta_i * tanh(2 x_i) + eps,   eps ~ N(0, 0.5^2),
      beta = (1, 7/8, 6/8, 5/8, 4/8, 3/8, 2/8, 1/8, 0, 0, 0, 0),

  so inputs 0-7 matter less and less and inputs 8-11 not at all. Every input goes
  through the same monotone non-linear function ``tanh(2 x)``, so any sensible
  importance (variance explained, drop in score, mean absolute derivative) is an
  increasing function of ``beta_i``: the true ranking is that of ``beta``, whatever
  the method measures. The smallest effects (``beta = 1/8``: 0.4 % of the variance of
  ``y``) are hard to tell from noise on purpose. Figure: Spearman's rank correlation
  between the importances and ``beta`` (noise inputs tied at 0), mean over seeds,
  and the fraction of seeds where all 8 informative inputs rank above the 4 noise
  inputs.

For each seed and data set one network is fitted, the selector's default: a
``StandardScaler`` + ``MLPRegressor(hidden_layer_sizes=(100,), max_iter=1000)``
seeded with the seed. Every method of ``sknnimp._methods.METHODS`` then reads that
same network through ``NNImportanceSelector(net, method=..., prefit=True,
random_state=seed, n_jobs=--n-jobs)`` with its defaults (``n_repeats=5``; ablation
with ``retrain="auto"``, i.e. warm, and ``fill="mean"``), all on the training data
(``cv=None``), so that the methods differ only in how they read one model. With
``--cv K`` permutation and ablation are also measured cross-fitted on K held-out
folds (networks refitted per fold), as extra rows. The time column is the mean time
of the importance computation alone (the shared network's fit excluded). The
network's R^2 on its training rows and on as many fresh rows of the same
distribution is printed too (on the graded data the best possible R^2 is about 0.87).

Example::

    python benchmarks/bench_accuracy.py --seeds 10 --n-jobs 2 --cv 5
"""

import argparse
import time
import warnings

import numpy as np
from scipy import stats
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import NNImportanceSelector
from sknnimp._methods import METHODS

#: True effects of the graded simulation: 8 decreasing, 4 zero.
GRADED_BETA = np.array([8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0]) / 8
GRADED_NOISE = 0.5


def friedman(n, seed):
    X, y = make_friedman1(n_samples=n, random_state=seed)
    truth = np.array([1.0] * 5 + [0.0] * 5)
    return X, y, truth


def graded(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, len(GRADED_BETA)))
    y = np.tanh(2 * X) @ GRADED_BETA + GRADED_NOISE * rng.normal(size=n)
    return X, y, GRADED_BETA


def fit_network(X, y, seed):
    net = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(100,), max_iter=1000, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return net.fit(X, y)


def separates(importances, truth):
    """Every input with a true effect ranks above every input without one."""
    return importances[truth > 0].min() > importances[truth == 0].max()


def variants(cv):
    """``(label, selector parameters)`` of every row of the table."""
    rows = [(method, dict(method=method)) for method in METHODS]
    if cv:
        for method in ("permutation", "ablation"):
            rows.append((f"{method}, cv={cv}", dict(method=method, cv=cv)))
    return rows


def run(args):
    rows = variants(args.cv)
    datasets = {"friedman": friedman, "graded": graded}
    # results[dataset][label] = list of (separated, spearman, seconds) per seed
    results = {name: {label: [] for label, _ in rows} for name in datasets}
    # scores[dataset] = list of (R^2 on the training rows, R^2 on fresh rows)
    scores = {name: [] for name in datasets}
    for seed in range(args.seeds):
        for name, make in datasets.items():
            X, y, truth = make(args.n, seed)
            net = fit_network(X, y, seed)
            X_new, y_new, _ = make(args.n, 10_000 + seed)
            scores[name].append((net.score(X, y), net.score(X_new, y_new)))
            for label, params in rows:
                selector = NNImportanceSelector(
                    net,
                    prefit=True,
                    random_state=seed,
                    n_jobs=args.n_jobs,
                    **params,
                )
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    selector.fit(X, y)
                seconds = time.perf_counter() - start
                importances = selector.feature_importances_
                rho = stats.spearmanr(importances, truth).statistic
                results[name][label].append(
                    (separates(importances, truth), rho, seconds)
                )
        print(f"seed {seed} done", flush=True)
    return rows, results, scores


def report(rows, results, scores, args):
    seeds = args.seeds
    print()
    print(
        f"n = {args.n} rows, {seeds} seeds, n_jobs = {args.n_jobs}; "
        "network: StandardScaler + MLPRegressor(100,), max_iter=1000"
    )
    for name, pairs in scores.items():
        train, fresh = np.mean(pairs, axis=0)
        print(
            f"{name}: network R^2 {train:.3f} on its training rows, "
            f"{fresh:.3f} on {args.n} fresh rows (mean over seeds)"
        )
    print()
    print(
        "| method | Friedman #1: 0-4 above 5-9 | graded: Spearman with beta, "
        "mean (min) | graded: 0-7 above 8-11 | time per fit (s) |"
    )
    print("|---|---|---|---|---|")
    for label, _ in rows:
        fried = np.array(results["friedman"][label], dtype=float)
        grad = np.array(results["graded"][label], dtype=float)
        seconds = np.concatenate([fried[:, 2], grad[:, 2]]).mean()
        print(
            f"| `{label}` | {int(fried[:, 0].sum())}/{seeds} | "
            f"{grad[:, 1].mean():.2f} ({grad[:, 1].min():.2f}) | "
            f"{int(grad[:, 0].sum())}/{seeds} | {seconds:.3f} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per data set")
    parser.add_argument("--n", type=int, default=500, help="rows per data set")
    parser.add_argument("--n-jobs", type=int, default=None, help="joblib workers")
    parser.add_argument(
        "--cv",
        type=int,
        default=0,
        help="also measure permutation and ablation on this many held-out folds",
    )
    args = parser.parse_args()
    rows, results, scores = run(args)
    report(rows, results, scores, args)


if __name__ == "__main__":
    main()
