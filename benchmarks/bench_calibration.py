"""Are the p-values and intervals calibrated? Type-I error, power, coverage, time.

Simulated data sets with a known truth, four designs (regression and
classification; null inputs independent of everything, or one null input correlated
rho = 0.8 with a driver). Six inputs, N(0, Sigma):

- regression: ``y = 1.5 x0 + x1 + e``, ``e ~ N(0, 1)``;
- classification: ``P(y = 1) = sigmoid(2 x0 + 1.5 x1)``;
- "independent": Sigma = I, nulls x2..x5;
- "correlated": x2 = 0.8 x0 + 0.6 z (corr 0.8 with the driver x0), nulls x2..x5.

On every data set: a network (StandardScaler + MLP (16,), L-BFGS, alpha=1),
importance cross-fitted on 5 shuffled folds with ``permutation`` and ``conditional``
(5 draws per row) and warm ``ablation`` (1 retrain seed), scored by R^2 or accuracy;
p-values from the held-out per-row differences with each test (``t``,
``wilcoxon``, ``sign_flip``) and over the folds (``nadeau_bengio``), computed from
one run per method.

Reported per design, method and test: the rejection rate at alpha = 0.05 on the
independent nulls and on the correlated null (type-I error; its Monte-Carlo standard
error in brackets, data sets as the unit), on the drivers (power), and for the
regression designs the coverage of the 95% intervals (``importances_ci``: the
Nadeau-Bengio interval over the folds; and, for comparison, the plain t-interval
over the folds) of the two drivers against the closed forms
of the linear-Gaussian model: marginal permutation ``2 b_j^2 Var(x_j) / Var(y)`` and
conditional ``2 b_j^2 Var(x_j | x_-j) / Var(y)`` in R^2 units (the model is fitted,
not the truth, so coverage also measures the network's error). hidimstat's
conditional importance runs on the same regression data sets when it is installed
(``benchmarks/_hidimstat_ref.py``). ``--refits`` adds the earlier p-values: 19 refits
on a permuted target, permutation importance in-sample.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_calibration.py [--datasets 200]
[--jobs 2] [--first-seed 0]`` (one BLAS thread per worker, ``--jobs`` processes);
``--first-seed`` draws further data sets for a second, independent estimate.
"""

import argparse
import os
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import PoorModelWarning, nn_importance
from sknnimp._significance import confidence_interval as plain_interval
from sknnimp._significance import nadeau_bengio_pvalues, rowwise_pvalues

N_ROWS = 400
P = 6
RHO = 0.8
BETA_REG = np.array([1.5, 1.0, 0, 0, 0, 0])
BETA_CLF = np.array([2.0, 1.5, 0, 0, 0, 0])
ALPHA = 0.05
TESTS = ("t", "wilcoxon", "sign_flip")
#: (label, method, n_repeats).
CONFIGS = (
    ("permutation", "permutation", 5),
    ("conditional", "conditional", 5),
    ("ablation (warm)", "ablation", 1),
)
DESIGNS = [
    ("regression", "independent"),
    ("regression", "correlated"),
    ("classification", "independent"),
    ("classification", "correlated"),
]


def covariance(structure):
    sigma = np.eye(P)
    if structure == "correlated":
        sigma[0, 2] = sigma[2, 0] = RHO
    return sigma


def simulate(task, structure, seed):
    rng = np.random.RandomState(seed)
    X = rng.multivariate_normal(np.zeros(P), covariance(structure), size=N_ROWS)
    if task == "regression":
        y = X @ BETA_REG + rng.normal(size=N_ROWS)
    else:
        y = (rng.uniform(size=N_ROWS) < 1 / (1 + np.exp(-X @ BETA_CLF))).astype(int)
    return X, y


def truths(structure):
    """Closed-form marginal and conditional importance in R^2 units (regression)."""
    sigma = covariance(structure)
    var_y = BETA_REG @ sigma @ BETA_REG + 1.0
    conditional_var = np.array(
        [
            sigma[j, j]
            - sigma[j, np.arange(P) != j]
            @ np.linalg.solve(
                sigma[np.ix_(np.arange(P) != j, np.arange(P) != j)],
                sigma[np.arange(P) != j, j],
            )
            for j in range(P)
        ]
    )
    marginal = 2 * BETA_REG**2 * np.diag(sigma) / var_y
    conditional = 2 * BETA_REG**2 * conditional_var / var_y
    return {"permutation": marginal, "conditional": conditional}


def network(task):
    params = dict(hidden_layer_sizes=(16,), solver="lbfgs", alpha=1.0, max_iter=300)
    if task == "regression":
        return make_pipeline(StandardScaler(), MLPRegressor(random_state=0, **params))
    return make_pipeline(StandardScaler(), MLPClassifier(random_state=0, **params))


def one_dataset(task, structure, seed, with_hidimstat, with_refits, configs=CONFIGS):
    X, y = simulate(task, structure, seed)
    splitter = KFold if task == "regression" else StratifiedKFold
    cv = splitter(5, shuffle=True, random_state=seed)
    out = {}
    for label, method, n_repeats in configs:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PoorModelWarning)
            result = nn_importance(
                network(task),
                X,
                y,
                method=method,
                cv=cv,
                n_repeats=n_repeats,
                random_state=seed,
            )
        elapsed = time.perf_counter() - start
        pvalues = {
            test: rowwise_pvalues(result.row_differences, test, seed) for test in TESTS
        }
        folds = result.importances.reshape(P, 5, -1).mean(axis=2)
        n_train = np.mean([len(train) for train, _ in cv.split(X, y)])
        pvalues["nadeau_bengio"] = nadeau_bengio_pvalues(
            folds, n_train, N_ROWS - n_train
        )
        out[label] = dict(
            pvalues=pvalues,
            importance=result.importances_mean,
            ci=result.importances_ci,
            t_ci=plain_interval(folds),
            time=elapsed,
            baseline=result.baseline_score,
        )
    if with_refits:
        # The earlier p-values: the network refitted on a permuted target 19 times,
        # importance measured in-sample (no cv), the smallest p-value 1/20.
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PoorModelWarning)
            model = network(task).fit(X, y)
            result = nn_importance(
                model,
                X,
                y,
                method="permutation",
                n_repeats=5,
                null_repeats=19,
                random_state=seed,
            )
        out["permutation, in-sample"] = dict(
            pvalues={"19 refits": result.pvalues},
            time=time.perf_counter() - start,
        )
    if with_hidimstat and task == "regression":
        from _hidimstat_ref import hidimstat_conditional

        start = time.perf_counter()
        importance, pvalues = hidimstat_conditional(
            lambda: network(task),
            X,
            y,
            cv=cv,
            n_repeats=5,
            random_state=seed,
            classification=False,
        )
        out["hidimstat"] = dict(
            pvalues={"its nb-ttest": np.asarray(pvalues)},
            importance=np.asarray(importance),
            time=time.perf_counter() - start,
        )
    return out


def rate(rejections):
    """Mean rate and its Monte-Carlo standard error, data sets as the unit (the
    inputs of one data set share models and rows, so they are not independent)."""
    rejections = np.asarray(rejections, dtype=float).reshape(len(rejections), -1)
    per_dataset = rejections.mean(axis=1)
    p = per_dataset.mean()
    se = per_dataset.std(ddof=1) / np.sqrt(per_dataset.size)
    return f"{p:.3f} ({se:.3f})"


def report(task, structure, runs):
    nulls_independent = [3, 4, 5] + ([2] if structure == "independent" else [])
    correlated_null = [2] if structure == "correlated" else []
    print(f"\n### {task}, {structure} nulls ({len(runs)} data sets)\n")
    header = "| method | test | type-I, independent nulls | "
    header += "type-I, correlated null | " if correlated_null else ""
    header += "power (x0, x1) | time per data set |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    extra = ("permutation, in-sample", "hidimstat")
    methods = [m for m in (*(c[0] for c in CONFIGS), *extra) if m in runs[0]]
    for method in methods:
        tests = list(runs[0][method]["pvalues"])
        seconds = np.mean([run[method]["time"] for run in runs])
        for test in tests:
            p = np.array([run[method]["pvalues"][test] for run in runs])
            reject = p <= ALPHA
            row = f"| {method} | {test} | {rate(reject[:, nulls_independent])} | "
            if correlated_null:
                row += f"{rate(reject[:, correlated_null])} | "
            row += f"{rate(reject[:, [0, 1]])} | {seconds:.2f} s |"
            print(row)
    covered = [m for m in ("permutation", "conditional") if m in runs[0]]
    if task == "regression" and covered:
        truth = truths(structure)
        print("\nCoverage of the 95% intervals (closed form of the linear model):\n")
        print("| method | interval | x0 | x1 | mean estimate x0 / truth |")
        print("|---|---|---|---|---|")
        for method in covered:
            est = np.array([run[method]["importance"] for run in runs])
            for kind, key in (("Nadeau-Bengio", "ci"), ("plain t over folds", "t_ci")):
                ci = np.array([run[method][key] for run in runs])
                inside = (ci[:, :, 0] <= truth[method]) & (truth[method] <= ci[:, :, 1])
                print(
                    f"| {method} | {kind} | {rate(inside[:, 0])} | "
                    f"{rate(inside[:, 1])} | "
                    f"{est[:, 0].mean():.3f} / {truth[method][0]:.3f} |"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seed of the first data set (data sets first-seed, first-seed + 1, ...)",
    )
    parser.add_argument(
        "--methods",
        default=",".join(c[0] for c in CONFIGS),
        help="the package's methods to run (comma-separated labels)",
    )
    parser.add_argument("--no-hidimstat", action="store_true")
    parser.add_argument(
        "--designs",
        default="regression,classification",
        help="tasks to run (comma-separated)",
    )
    parser.add_argument(
        "--refits",
        action="store_true",
        help="also the p-values of 19 refits on a permuted target (in-sample)",
    )
    parser.add_argument(
        "--only-extras",
        action="store_true",
        help="run only hidimstat and/or the refits, not the package's methods",
    )
    args = parser.parse_args()
    configs = tuple(c for c in CONFIGS if c[0] in args.methods.split(","))
    with_hidimstat = False
    if not args.no_hidimstat:
        try:
            import _hidimstat_ref

            with_hidimstat = _hidimstat_ref.AVAILABLE
            version = _hidimstat_ref.HIDIMSTAT_VERSION
        except ImportError:
            version = None
        print(f"hidimstat: {version if with_hidimstat else 'not installed'}")
    print(
        f"{args.datasets} data sets per design (seeds {args.first_seed} to "
        f"{args.first_seed + args.datasets - 1}), n={N_ROWS}, p={P}, rho={RHO}, "
        f"{args.jobs} processes, OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    start = time.perf_counter()
    for task, structure in DESIGNS:
        if task not in args.designs.split(","):
            continue
        runs = Parallel(n_jobs=args.jobs)(
            delayed(one_dataset)(
                task,
                structure,
                seed,
                with_hidimstat,
                args.refits,
                () if args.only_extras else configs,
            )
            for seed in range(args.first_seed, args.first_seed + args.datasets)
        )
        report(task, structure, runs)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
