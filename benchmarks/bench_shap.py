"""Shapley values of an MLP: sknnimp against the ``shap`` and ``sage`` packages.

One ``StandardScaler`` + ``MLPRegressor(hidden_layer_sizes=(100,), max_iter=200)``
per part, fitted on ``make_friedman1`` data (inputs 0-4 enter ``y``, the others are
noise); every tool gets the same fitted model, the same explained rows and the same
background rows (taken from the training rows). Three parts:

1. **Exact, few columns** (p = 8): ``sknnimp.attributions(method="shap")``, which
   enumerates the 2**p coalitions, against ``shap.explainers.Exact(model.predict,
   shap.maskers.Independent(background, max_samples=len(background)))``: the time
   ratio and the largest absolute difference of the values (they compute the same
   numbers), and, for the row where they differ most, both against the Shapley
   formula written out with ``model.predict`` on the hybrid rows.
2. **Sampled, many columns** (p = 50): both estimate the values by antithetic
   permutation sampling (a random order and its reverse). The reference is
   sknnimp with 1 000 pairs per row (exact values are out of reach at p = 50),
   checked against ``shap.PermutationExplainer`` with 500 pairs on two rows
   (``FULL`` below). Then a sweep of budgets: sknnimp with ``n_permutations=B``
   pairs and shap with ``max_evals=B * (2 p + 1)``, which buys B pairs (shap spends
   2 p + 1 evaluations of the masked model per pair). The errors against the
   reference are given in units of the SD of the model's output over the
   background (the unit of sknnimp's ``tol``). The speed-up is read at equal
   accuracy two ways: at the same budget (the same estimator, so about the same
   error, printed side by side), and as the time shap needs to reach the mean error
   sknnimp reached, interpolated log-log along shap's sweep.
3. **SAGE** (p = 8, the model of part 1): ``nn_importance(model, X, y,
   method="sage", background=...)`` against ``sage.PermutationEstimator(
   sage.MarginalImputer(model.predict, background), "mse")``, both stopping at their
   default criterion (every standard error at most 0.025 times the range of the
   values): time, correlation of the values and their largest difference relative
   to the largest value. Skipped with a message when ``sage`` (the
   ``sage-importance`` package) cannot be imported.

Timings are wall-clock, the best of ``--repeats`` rounds in which the tools
alternate (their order reversed every other round), so that both see the same
machine load. Everything runs under ``threadpoolctl.threadpool_limits(--threads)``
(one BLAS/OpenMP thread by default; ``--threads 0``: as installed).

Page faults: shap's and sage's explainers allocate large temporaries on every call,
which glibc's malloc maps afresh from the system and hands back when freed, so every
call faults its pages in again (about a million per call of part 2's shap). Where a
page fault is expensive (in a virtual machine, about 2 microseconds) that can double
their time. Run with ``MALLOC_MMAP_THRESHOLD_=4294967296
MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=536870912`` in the environment
(glibc reads them at start-up; the run prints them) to have freed memory kept and
reused, which measures every tool without that cost.

    python benchmarks/bench_shap.py [--repeats 3] [--threads 1] [--quick]
        [--parts 1,2,3] [--seed 0] [--reference-pairs N]

``--reference-pairs`` sets the pairs per row of part 2's reference (default 1 000;
100 with ``--quick``): fewer make a quicker but noisier reference, whose own
standard errors are printed next to it.
"""

import argparse
import math
import os
import time
import warnings

import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sknnimp import attributions, nn_importance
from sknnimp._attributions import sage_values

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

#: glibc's malloc settings that keep freed memory for reuse (see the module
#: docstring); printed with the run's settings.
MALLOC_VARIABLES = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
)

#: Settings of the full run and of ``--quick`` (a smoke run of a few seconds).
FULL = dict(
    n_train=2000,
    n_background=100,
    exact_p=8,
    exact_rows=50,
    sampled_p=50,
    sampled_rows=20,
    budgets=(2, 4, 8, 16, 32, 64),
    ref_pairs=1000,
    check_rows=2,
    check_pairs=500,
    sage_rows=1000,
)
QUICK = dict(
    n_train=500,
    n_background=20,
    exact_p=6,
    exact_rows=5,
    sampled_p=20,
    sampled_rows=2,
    budgets=(2, 8),
    ref_pairs=100,
    check_rows=1,
    check_pairs=50,
    sage_rows=200,
)


# ------------------------------------------------------------------ helpers


def fit_model(p, n_train, n_eval, seed):
    """``(model, X_train, X_eval, y_eval)`` on Friedman #1 data with p inputs."""
    X, y = make_friedman1(
        n_samples=n_train + n_eval, n_features=p, noise=0.5, random_state=seed
    )
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(100,), max_iter=200, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:n_train], y[:n_train])
    return model, X[:n_train], X[n_train:], y[n_train:]


def interleaved(functions, repeats):
    """Best wall time of each named function over ``repeats`` rounds, the order
    reversed every other round, and each function's last result."""
    names = list(functions)
    best = dict.fromkeys(names, math.inf)
    results = {}
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            results[name] = functions[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best, results


def once(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def time_at_error(errors, times, target):
    """Time to reach ``target`` error along a sweep, interpolated log-log between
    the two sweep points around it; beyond the sweep, extrapolated from the nearest
    point with time proportional to error**-2 (the rate of Monte Carlo).
    Returns ``(time, extrapolated)``."""
    order = np.argsort(errors)
    e = np.log(np.asarray(errors)[order])
    t = np.log(np.asarray(times)[order])
    x = math.log(target)
    if x < e[0]:
        return math.exp(t[0] - 2 * (x - e[0])), True
    if x > e[-1]:
        return math.exp(t[-1] - 2 * (x - e[-1])), True
    return math.exp(np.interp(x, e, t)), False


def brute_force_shapley(model, x, background):
    """Shapley values of one row, the textbook way: v(S) is the mean of
    ``model.predict`` over the background rows with the columns of S taken from
    ``x``, weighted by |S|! (p - |S| - 1)! / p!."""
    p = len(x)
    masks = ((np.arange(2**p)[:, None] >> np.arange(p)) & 1).astype(bool)
    hybrid = np.where(masks[:, None, :], x, background[None])
    v = model.predict(hybrid.reshape(-1, p)).reshape(2**p, -1).mean(axis=1)
    sizes = masks.sum(axis=1)
    phi = np.zeros(p)
    for k in range(p):
        without = np.flatnonzero(~masks[:, k])
        s = sizes[without]
        weights = np.array(
            [math.factorial(a) * math.factorial(p - a - 1) for a in s]
        ) / math.factorial(p)
        phi[k] = weights @ (v[without | (1 << k)] - v[without])
    return phi


def describe_threads(threads):
    settings = ", ".join(
        f"{v}={os.environ.get(v, 'unset')}" for v in THREAD_VARIABLES + MALLOC_VARIABLES
    )
    pools = ", ".join(
        f"{m['internal_api']}:{m['num_threads']}" for m in threadpool_info()
    )
    limit = "as installed" if threads is None else threads
    return f"threadpool_limits({limit}); {settings}; thread pools now: {pools}"


# ------------------------------------------------------------- the parts


def exact_part(settings, args):
    import shap

    p, rows = settings["exact_p"], settings["exact_rows"]
    model, X_train, X_eval, _ = fit_model(p, settings["n_train"], rows, args.seed)
    background = X_train[: settings["n_background"]]

    def ours():
        return attributions(model, X_eval, method="shap", background=background)

    def theirs():
        masker = shap.maskers.Independent(background, max_samples=len(background))
        return shap.explainers.Exact(model.predict, masker)(X_eval, silent=True)

    # Untimed first calls: shap compiles some of its code on first use.
    attributions(model, X_eval[:1], method="shap", background=background)
    masker = shap.maskers.Independent(background, max_samples=len(background))
    shap.explainers.Exact(model.predict, masker)(X_eval[:1], silent=True)
    best, results = interleaved({"sknnimp": ours, "shap": theirs}, args.repeats)
    mine, shaps = results["sknnimp"], results["shap"]
    assert mine.exact
    difference = np.abs(mine.values - shaps.values).max()
    base_difference = np.abs(mine.base_values - shaps.base_values).max()
    additivity = np.abs(
        mine.values.sum(axis=1) + mine.base_values - model.predict(X_eval)
    ).max()
    print(
        f"## 1. Exact, p={p}: {rows} explained rows, "
        f"{len(background)} background rows\n"
    )
    print("| tool | time | ratio |")
    print("|---|---|---|")
    print(f"| sknnimp `attributions` (exact) | {best['sknnimp']:.3f} s | 1 |")
    print(
        f"| shap `Exact` | {best['shap']:.3f} s | "
        f"**{best['shap'] / best['sknnimp']:.1f}x** |"
    )
    print()
    print(f"max |values difference|       {difference:.1e}")
    print(f"max |base_values difference|  {base_difference:.1e}")
    print(f"max |sum + base - predict|    {additivity:.1e} (sknnimp)")
    # shap's tabular masker takes a background value within np.isclose of the
    # explained one (relative 1e-5) for equal and skips re-evaluating those rows.
    close = [i for i in range(rows) if np.isclose(X_eval[i][None], background).any()]
    elsewhere = np.delete(np.abs(mine.values - shaps.values), close, axis=0)
    print(
        "rows with a value within np.isclose of a background value in its column: "
        f"{close}; largest difference elsewhere: "
        f"{elsewhere.max() if elsewhere.size else float('nan'):.1e}"
    )
    # Which one is right where they differ most: the Shapley formula written out,
    # with v(S) = mean of model.predict over hybrid rows.
    worst = int(np.abs(mine.values - shaps.values).max(axis=1).argmax())
    truth = brute_force_shapley(model, X_eval[worst], background)
    print(
        f"row {worst} (largest difference) against the formula written out: "
        f"sknnimp {np.abs(mine.values[worst] - truth).max():.1e}, "
        f"shap {np.abs(shaps.values[worst] - truth).max():.1e}"
    )
    print(flush=True)


def sampled_part(settings, args):
    import shap

    p, rows = settings["sampled_p"], settings["sampled_rows"]
    model, X_train, X_eval, _ = fit_model(p, settings["n_train"], rows, args.seed)
    background = X_train[: settings["n_background"]]
    scale = model.predict(background).std()
    evals_per_pair = 2 * p + 1

    def ours(pairs, seed):
        return attributions(
            model,
            X_eval,
            method="shap",
            background=background,
            n_permutations=pairs,
            random_state=seed,
        )

    def theirs(X, pairs, seed):
        masker = shap.maskers.Independent(background, max_samples=len(background))
        explainer = shap.explainers.Permutation(model.predict, masker, seed=seed)
        return explainer(X, max_evals=pairs * evals_per_pair, silent=True)

    ref_pairs = args.reference_pairs or settings["ref_pairs"]
    ref_time, reference = once(lambda: ours(ref_pairs, args.seed + 1000))
    ref, ref_se = reference.values, reference.stderr
    print(
        f"## 2. Sampled, p={p}: {rows} explained rows, "
        f"{len(background)} background rows\n"
    )
    print(
        f"output SD over the background (the error unit below): {scale:.4f}; "
        f"mean |reference value| {np.abs(ref).mean() / scale:.4f} SD"
    )
    print(
        f"reference: sknnimp, {ref_pairs} pairs per row, {ref_time:.1f} s; "
        f"its standard errors: mean {ref_se.mean() / scale:.2e} SD, "
        f"max {ref_se.max() / scale:.2e} SD"
    )

    # An independent check of the reference on a few rows.
    check_rows, check_pairs = settings["check_rows"], settings["check_pairs"]
    check_time, check = once(
        lambda: theirs(X_eval[:check_rows], check_pairs, args.seed + 2000)
    )
    # shap's estimate at check_pairs has about sqrt(ref_pairs / check_pairs) times
    # the reference's standard error; the two are independent.
    combined = ref_se[:check_rows] * math.sqrt(1 + ref_pairs / check_pairs)
    z = np.abs(check.values - ref[:check_rows]) / combined
    print(
        f"check: shap Permutation, {check_pairs} pairs, rows 0-{check_rows - 1} "
        f"({check_time:.1f} s): max |difference| "
        f"{np.abs(check.values - ref[:check_rows]).max() / scale:.2e} SD; "
        f"|difference| / combined standard error: mean {z.mean():.2f}, "
        f"max {z.max():.2f} over {z.size} values "
        f"(expected for normal errors: mean 0.80, max about 3)"
    )
    print(flush=True)

    functions = {}
    for pairs in settings["budgets"]:
        functions["sknnimp", pairs] = lambda b=pairs: ours(b, args.seed)
        functions["shap", pairs] = lambda b=pairs: theirs(X_eval, b, args.seed)
    functions["sknnimp", "auto"] = lambda: ours("auto", args.seed)
    functions["shap", "default"] = lambda: theirs(
        X_eval, 500 // evals_per_pair, args.seed
    )
    best, results = interleaved(functions, args.repeats)

    def errors(key):
        error = np.abs(results[key].values - ref) / scale
        return error.mean(), error.max()

    shap_budgets = list(settings["budgets"])
    shap_errors = [errors(("shap", b))[0] for b in shap_budgets]
    shap_times = [best["shap", b] for b in shap_budgets]

    print(
        "| pairs per row | sknnimp time | shap time | time ratio | mean error "
        "sknnimp / shap (SD) | max error sknnimp / shap (SD) | shap time at "
        "sknnimp's mean error | ratio at equal mean error |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for pairs in shap_budgets:
        ours_mean, ours_max = errors(("sknnimp", pairs))
        shap_mean, shap_max = errors(("shap", pairs))
        matched, extrapolated = time_at_error(shap_errors, shap_times, ours_mean)
        mark = " (extrapolated)" if extrapolated else ""
        print(
            f"| {pairs} | {best['sknnimp', pairs]:.3f} s | {best['shap', pairs]:.3f} s"
            f" | **{best['shap', pairs] / best['sknnimp', pairs]:.1f}x** | "
            f"{ours_mean:.4f} / {shap_mean:.4f} | {ours_max:.3f} / {shap_max:.3f} | "
            f"{matched:.3f} s{mark} | "
            f"**{matched / best['sknnimp', pairs]:.1f}x** |"
        )
    auto = results["sknnimp", "auto"]
    auto_mean, auto_max = errors(("sknnimp", "auto"))
    matched, extrapolated = time_at_error(shap_errors, shap_times, auto_mean)
    print(
        f"| sknnimp `auto` (tol=0.01): {auto.n_permutations.min()}-"
        f"{auto.n_permutations.max()} pairs, {auto.converged.sum()}/{rows} converged "
        f"| {best['sknnimp', 'auto']:.3f} s | | | {auto_mean:.4f} / | {auto_max:.3f} / "
        f"| {matched:.3f} s{' (extrapolated)' if extrapolated else ''} | "
        f"**{matched / best['sknnimp', 'auto']:.1f}x** |"
    )
    default_pairs = 500 // evals_per_pair
    shap_mean, shap_max = errors(("shap", "default"))
    print(
        f"| shap default `max_evals=500`: {default_pairs} pairs | | "
        f"{best['shap', 'default']:.3f} s | | / {shap_mean:.4f} | / {shap_max:.3f} "
        "| | |"
    )
    print(flush=True)


def sage_part(settings, args):
    try:
        import sage
    except Exception as exc:  # noqa: BLE001 - any import failure skips the part
        print(f"## 3. SAGE: skipped, `import sage` failed: {exc!r}\n")
        return
    p, rows = settings["exact_p"], settings["sage_rows"]
    model, X_train, X_eval, y_eval = fit_model(p, settings["n_train"], rows, args.seed)
    background = X_train[: settings["n_background"]]
    counted = {"rows": 0}

    def predict(X):
        counted["rows"] += len(X)
        return model.predict(X)

    def ours():
        return nn_importance(
            model,
            X_eval,
            y_eval,
            method="sage",
            background=background,
            random_state=args.seed,
        )

    def theirs():
        counted["rows"] = 0
        imputer = sage.MarginalImputer(predict, background)
        estimator = sage.PermutationEstimator(imputer, "mse", random_state=args.seed)
        return estimator(X_eval, y_eval, bar=False)

    best, results = interleaved({"sknnimp": ours, "sage": theirs}, args.repeats)
    mine = results["sknnimp"].importances_mean
    theirs_values, theirs_se = results["sage"].values, results["sage"].std
    # The sample count of the timed call is not returned; the same estimator,
    # called directly with the same settings (its random draws are not those of
    # nn_importance's call), tells how many it takes here and how close to the
    # criterion its standard errors end.
    direct, mine_se, mine_samples = sage_values(
        model,
        X_eval,
        y_eval,
        [np.array([j]) for j in range(p)],
        background,
        random_state=args.seed,
    )
    # Each permutation of sage costs p + 1 imputer calls of len(background) rows
    # per explained row (plus a few rows to check the model's output).
    sage_permutations = counted["rows"] // (len(background) * (p + 1))
    largest = np.abs(theirs_values).max()
    correlation = np.corrcoef(mine, theirs_values)[0, 1]
    print(
        f"## 3. SAGE, p={p}: {rows} rows with targets, "
        f"{len(background)} background rows\n"
    )
    print("| tool | time | ratio | samples | max standard error / range |")
    print("|---|---|---|---|---|")
    print(
        f"| sknnimp `nn_importance(method='sage')` | {best['sknnimp']:.3f} s | 1 | "
        f"{mine_samples} (row, permutation) samples | "
        f"{mine_se.max() / np.ptp(direct):.4f} |"
    )
    print(
        f"| sage `PermutationEstimator` | {best['sage']:.3f} s | "
        f"**{best['sage'] / best['sknnimp']:.1f}x** | "
        f"~{sage_permutations} permutations | "
        f"{theirs_se.max() / np.ptp(theirs_values):.4f} |"
    )
    print()
    # Standard error times the square root of the chains (one chain: the p + 1
    # coalitions along one permutation of one row): the spread per unit of work.
    mine_spread = mine_se.max() * math.sqrt(mine_samples)
    theirs_spread = theirs_se.max() * math.sqrt(max(sage_permutations, 1))
    print(
        f"max standard error x sqrt(chains): sknnimp {mine_spread:.3f} "
        f"({mine_samples} chains), sage {theirs_spread:.3f} "
        f"(~{sage_permutations} chains)"
    )
    print(f"Pearson correlation of the values          {correlation:.4f}")
    print(
        "max |difference| / largest value            "
        f"{np.abs(mine - theirs_values).max() / largest:.4f}"
    )
    print(f"sknnimp {np.array2string(mine, precision=3)}")
    print(f"sage    {np.array2string(theirs_values, precision=3)}")
    print(flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="best of this many")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads (threadpool_limits); 0: as installed",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1,3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reference-pairs",
        type=int,
        default=None,
        help="pairs per row of part 2's reference (default: 1000; 100 with --quick)",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    parts = {int(part) for part in args.parts.split(",")}
    threads = args.threads or None

    import shap

    with threadpool_limits(limits=threads):
        print(
            f"shap {shap.__version__}; best of {args.repeats} interleaved rounds; "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
            f"{describe_threads(threads)}"
        )
        print()
        if 1 in parts:
            exact_part(settings, args)
        if 2 in parts:
            sampled_part(settings, args)
        if 3 in parts:
            sage_part(settings, args)
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
