"""Warm ablation on a Dask LocalCluster against one process and two loky workers.

A fitted ``make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(100,),
max_iter=..., random_state=seed))`` on ``make_friedman1(n_samples, n_features)``
(inputs 0-4 informative, the others noise) is explained by

    nn_importance(model, X, y, method="ablation", retrain="warm", n_repeats=1,
                  random_state=0, n_jobs=...)

(one warm retrain per input plus the baseline) in three ways, interleaved, for
``--rounds`` rounds:

- ``n_jobs=1``: one process;
- ``n_jobs=2``: two loky worker processes (the first call starts them);
- Dask: ``n_jobs=None`` inside ``joblib.parallel_config(backend="dask")``, with a
  ``Client`` of a ``LocalCluster(n_workers=2, threads_per_worker=1)`` started once
  beforehand (timed apart; the first call also makes the workers import sknnimp).

Printed: the thread settings, the times of every round, the first and the best time of
each setting and their ratios, and whether all three give identical importances.

Starting a ``LocalCluster`` writes Dask's ``distributed.nanny.pre-spawn-environ``
(``MALLOC_TRIM_THRESHOLD_=65536`` and one thread for OpenMP, MKL and OpenBLAS) into this
process's ``os.environ``, so every process started afterwards inherits it, loky's
workers included. ``MALLOC_TRIM_THRESHOLD_=65536`` makes glibc hand freed memory back
to the system and map large temporaries afresh, whose pages are then faulted in again;
where a page fault is expensive (a virtual machine) that makes every retraining slower
(1.7x for this benchmark's ``n_jobs=1`` on the 2-core machine of
``benchmarks/README.md``). The environment is therefore restored after the cluster
starts, so that the loky setting is measured as without a cluster, and
``--dask-malloc`` chooses the Dask workers' setting: ``dask`` (default, Dask's own) or
``glibc`` (``MALLOC_TRIM_THRESHOLD_`` left out of the pre-spawn environment).

The BLAS thread pools of this process are limited to ``--blas-threads`` (default 1,
0 for as installed) for the fit and the ``n_jobs=1`` runs: the workers of the other two
settings use one BLAS thread each (sknnimp limits them to cores // workers, and Dask's
nanny starts its workers with ``OMP_NUM_THREADS=1``), and on a busy machine an
oversubscribed BLAS pool can slow these small products down many times.

    python benchmarks/bench_dask.py [--n-samples 5000] [--n-features 50]
        [--max-iter 200] [--rounds 2] [--blas-threads 1] [--seed 0]
        [--dask-malloc dask|glibc]
"""

import argparse
import os
import time
import warnings
from contextlib import nullcontext

import joblib
import numpy as np
from dask import config as dask_config
from distributed import Client, LocalCluster
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sknnimp import _ablation, nn_importance


def _pools():
    """This process's BLAS/OpenMP thread pools, as ``api x threads``."""
    pools = [f"{i['internal_api']}x{i['num_threads']}" for i in threadpool_info()]
    return ", ".join(pools) or "none loaded"


def _timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=5_000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument(
        "--max-iter", type=int, default=200, help="epochs of the network's fit"
    )
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads of this process (0: as installed)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--dask-malloc",
        choices=["dask", "glibc"],
        default="dask",
        help="the Dask workers' MALLOC_TRIM_THRESHOLD_: Dask's 65536, or unset",
    )
    args = parser.parse_args(argv)

    X, y = make_friedman1(
        n_samples=args.n_samples,
        n_features=args.n_features,
        noise=1.0,
        random_state=args.seed,
    )
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(100,), max_iter=args.max_iter, random_state=args.seed
        ),
    )
    with _blas_limit(args.blas_threads):
        with warnings.catch_warnings():
            # A fixed epoch budget keeps the run short; convergence does not matter.
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_time, _ = _timed(lambda: model.fit(X, y))
        main_pools = _pools()
    epochs = model[-1].n_iter_
    budget = max(
        _ablation.WARM_MIN_ITER, int(np.ceil(_ablation.WARM_FRACTION * epochs))
    )
    n_tasks = X.shape[1] + 1
    print(
        f"make_friedman1(n_samples={args.n_samples}, n_features={args.n_features}); "
        f"StandardScaler + MLPRegressor(hidden_layer_sizes=(100,)), fitted in "
        f"{fit_time:.1f} s, {epochs} epochs, training R^2 {model.score(X, y):.3f}"
    )
    print(
        f"warm ablation, n_repeats=1: {n_tasks} tasks of {budget} epochs; X is "
        f"{X.nbytes / 2**20:.1f} MiB; cores: {os.cpu_count()}; load average at "
        f"start: {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )

    def run(n_jobs):
        return nn_importance(
            model,
            X,
            y,
            method="ablation",
            retrain="warm",
            n_repeats=1,
            n_jobs=n_jobs,
            random_state=0,
        ).importances

    environ = dict(os.environ)
    spawn = dict(dask_config.get("distributed.nanny.pre-spawn-environ"))
    if args.dask_malloc == "glibc":
        spawn.pop("MALLOC_TRIM_THRESHOLD_", None)
    start = time.perf_counter()
    with dask_config.set({"distributed.nanny.pre-spawn-environ": spawn}):
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None
        )
        client = Client(cluster)
    start_time = time.perf_counter() - start
    changed = sorted(k for k in os.environ if os.environ[k] != environ.get(k))
    os.environ.clear()
    os.environ.update(environ)
    print(
        f"LocalCluster + Client started in {start_time:.2f} s; its workers' "
        f"pre-spawn environment {spawn}; it changed {changed} in this process's "
        "environment, restored"
    )

    settings = {
        "n_jobs=1": lambda: _with(_blas_limit(args.blas_threads), run, 1),
        "n_jobs=2 (loky)": lambda: run(2),
        "Dask, 2 workers": lambda: _with(
            joblib.parallel_config(backend="dask"), run, None
        ),
    }
    times = {name: [] for name in settings}
    results = {}
    try:
        for _ in range(args.rounds):
            for name, function in settings.items():
                elapsed, results[name] = _timed(function)
                times[name].append(elapsed)
        # After the runs: the workers have loaded NumPy's BLAS by now.
        worker_pools = client.run(_pools)
        print(
            f"threads: n_jobs=1 in this process, BLAS {main_pools}; n_jobs=2: two loky "
            f"workers, BLAS limited to 1 thread each; Dask: LocalCluster(n_workers=2, "
            f"threads_per_worker=1), BLAS {sorted(set(worker_pools.values()))}"
        )
    finally:
        client.close()
        cluster.close()

    print(f"\n{'setting':16s} {'first':>8s} {'best':>8s}  rounds (s)")
    for name, values in times.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:16s} {values[0]:8.2f} {min(values):8.2f}  {rounds}")
    best = {name: min(values) for name, values in times.items()}
    first = {name: values[0] for name, values in times.items()}
    one, loky, dask = best.values()
    print(
        f"\nbest times: n_jobs=1 / Dask {one / dask:.2f}x, n_jobs=1 / loky "
        f"{one / loky:.2f}x, Dask / loky {dask / loky:.2f}x"
    )
    one_first, loky_first, dask_first = first.values()
    print(
        f"first calls: n_jobs=1 / Dask {one_first / dask_first:.2f}x, n_jobs=1 / "
        f"loky {one_first / loky_first:.2f}x"
    )
    per_task = ", ".join(
        f"{name} {value / n_tasks * 1000:.0f} ms" for name, value in best.items()
    )
    print(f"wall time per task (best): {per_task}")
    reference = results["n_jobs=1"]
    same = all(np.array_equal(reference, r) for r in results.values())
    print(f"identical importances for all three: {same}")
    print(f"load average at end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


def _blas_limit(blas_threads):
    """This process's thread pools limited to ``blas_threads`` (0: left alone)."""
    if blas_threads > 0:
        return threadpool_limits(limits=blas_threads)
    return nullcontext()


def _with(context, function, *args):
    with context:
        return function(*args)


if __name__ == "__main__":
    main()
