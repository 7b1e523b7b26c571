"""The one place where work is spread over joblib workers: retraining, permutation.

Every task is an independent function call whose seed was drawn by the caller, so the
results do not depend on ``n_jobs`` or on the joblib backend (loky, threading, Dask).
Inside the workers, BLAS thread pools are limited so that ``n_jobs`` workers together
use no more threads than there are cores.
"""

import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from joblib import cpu_count, effective_n_jobs
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import has_fit_parameter
from threadpoolctl import ThreadpoolController, threadpool_limits


def _limited(function, n_threads, args):
    if n_threads is None:
        return function(*args)
    with threadpool_limits(limits=n_threads):
        return function(*args)


_controller = {}


def _blas_controller():
    """The BLAS libraries loaded in this process, as a threadpoolctl controller.

    Finding them reads the process's memory map (about 5 ms, as every
    ``threadpool_limits`` call does); the controller is kept, and found again
    when modules were imported since (they may have loaded other libraries).
    Asking it for, or setting, the number of threads is cheap."""
    modules = len(sys.modules)
    if _controller.get("modules") != modules:
        _controller["blas"] = ThreadpoolController().select(user_api="blas")
        _controller["modules"] = modules
    return _controller["blas"]


def blas_limit(n_threads):
    """A context in which BLAS uses at most ``n_threads`` threads (as
    ``threadpool_limits(n_threads, user_api="blas")``, without finding the
    libraries again)."""
    return _blas_controller().limit(limits=n_threads)


def blas_threads():
    """Threads the BLAS libraries may use here and now (at least 1, at most the
    cores): the budget of work that behaves like BLAS, see :func:`run_tasks`."""
    counts = [m["num_threads"] for m in _blas_controller().info()]
    return max(1, min(max(counts, default=1), cpu_count()))


def run_tasks(
    function, arguments, *, n_jobs=None, verbose=0, label="tasks", threads=False
):
    """Call ``function(*args)`` for every ``args`` in ``arguments``, in parallel.

    Results come back in the order of ``arguments``. With ``verbose > 0``, progress
    (tasks done / total, elapsed time) is written to stderr as results arrive.

    With ``threads`` and a single worker (``n_jobs=None`` or 1, no joblib context
    asking for more), the tasks run in as many threads of this process as BLAS may
    use (:func:`blas_threads`), each with single-threaded BLAS. This is for tasks
    made of large NumPy operations, which release the GIL: the fast paths use the
    cores as scikit-learn's own matrix products would, and
    ``threadpoolctl.threadpool_limits(1)`` makes them sequential, as it does BLAS.
    """
    arguments = list(arguments)
    total = len(arguments)
    workers = effective_n_jobs(n_jobs)
    if threads and workers == 1 and total > 1:
        n_threads = min(blas_threads(), total)
        if n_threads > 1:
            return _run_threads(function, arguments, n_threads, verbose, label)
    n_threads = max(1, cpu_count() // workers) if workers > 1 else None
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = []
    start = time.perf_counter()
    step = max(1, total // 20)
    terminal = verbose > 0 and sys.stderr.isatty()
    # Tasks in threads of this process (threading backend, Dask workers in this
    # process) share its BLAS thread pool. Limits that they set and restore one by
    # one undo each other's (and threadpoolctl ignores BLAS limits set from all but
    # one thread), so the limit is also held here, around the whole run.
    limit = nullcontext() if n_threads is None else blas_limit(n_threads)
    with limit:
        for done, result in enumerate(
            parallel(
                delayed(_limited)(function, n_threads, args) for args in arguments
            ),
            start=1,
        ):
            results.append(result)
            if verbose > 0 and (terminal or done % step == 0 or done == total):
                _report(label, done, total, time.perf_counter() - start, terminal)
    return results


def _run_threads(function, arguments, n_threads, verbose, label):
    """:func:`run_tasks` in ``n_threads`` threads, BLAS single-threaded."""
    total = len(arguments)
    results = []
    start = time.perf_counter()
    step = max(1, total // 20)
    terminal = verbose > 0 and sys.stderr.isatty()
    with blas_limit(1):
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            for done, result in enumerate(
                pool.map(lambda args: function(*args), arguments), start=1
            ):
                results.append(result)
                if verbose > 0 and (terminal or done % step == 0 or done == total):
                    _report(label, done, total, time.perf_counter() - start, terminal)
    return results


def thread_map(function, arguments):
    """``[function(*args) for args in arguments]``, in as many threads as BLAS may
    use (see :func:`run_tasks`), in order; a plain loop when that is one."""
    arguments = list(arguments)
    n_threads = min(blas_threads(), len(arguments))
    if n_threads <= 1:
        return [function(*args) for args in arguments]
    return _run_threads(function, arguments, n_threads, 0, "")


def _report(label, done, total, elapsed, terminal):
    """One progress report on stderr: a bar redrawn in place on a terminal."""
    width = 24
    filled = round(width * done / total) if total else width
    bar = "#" * filled + "-" * (width - filled)
    text = f"[sknnimp] {label}: [{bar}] {done}/{total} done, {elapsed:.1f}s elapsed"
    if terminal:
        sys.stderr.write("\r" + text + ("\n" if done == total else ""))
    else:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


def seeded_clone(estimator, seed, *, only_unseeded=True):
    """Clone ``estimator`` and put ``seed`` in its ``random_state`` parameters.

    With ``only_unseeded``, parameters already holding a seed keep it.
    """
    estimator = clone(estimator)
    if seed is not None:
        params = {
            name: seed
            for name, value in estimator.get_params().items()
            if (name == "random_state" or name.endswith("__random_state"))
            and (value is None or not only_unseeded)
        }
        estimator.set_params(**params)
    return estimator


def _weight_params(estimator, sample_weight):
    """Fit parameters handing ``sample_weight`` to every step that accepts it."""
    if isinstance(estimator, TransformedTargetRegressor):
        # Its fit parameters go to the regressor as they are.
        inner = estimator.regressor
        return {} if inner is None else _weight_params(inner, sample_weight)
    if isinstance(estimator, Pipeline):
        params = {}
        for name, step in estimator.steps:
            if isinstance(step, Pipeline):  # nested: its own steps
                inner = _weight_params(step, sample_weight)
                params.update({f"{name}__{key}": v for key, v in inner.items()})
            elif not (step is None or isinstance(step, str)) and has_fit_parameter(
                step, "sample_weight"
            ):
                params[f"{name}__sample_weight"] = sample_weight
        return params
    return {"sample_weight": sample_weight}


def fit_weighted(estimator, X, y, sample_weight=None, fit_params=None):
    """Fit ``estimator``, handing ``sample_weight`` to every step that accepts it."""
    fit_params = dict(fit_params or {})
    if sample_weight is not None:
        fit_params.update(_weight_params(estimator, sample_weight))
    return estimator.fit(X, y, **fit_params)


def refit(estimator, X, y, sample_weight=None):
    """:func:`fit_weighted` for the fits the package makes itself (folds, retraining,
    refits on a permuted target), without their ``ConvergenceWarning``: warm
    retraining stops early by design, and the user did not ask for these fits."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_weighted(estimator, X, y, sample_weight)
