"""Parallel runs: identical results on every backend, failed workers, progress, threads.

SPEC §3 (``n_jobs``, ``random_state``, ``verbose``), §4 (every retrain is one joblib
task) and §5 (read-only and memory-mapped inputs; a failed task leaves the selector
unfitted and the next ``fit`` works).
"""

import os
import re
import time
from contextlib import nullcontext

import joblib
import numpy as np
import pytest
from joblib import cpu_count
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.datasets import make_friedman1
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_info, threadpool_limits

from sknnimp import NNImportanceSelector
from sknnimp._parallel import run_tasks

N_FEATURES = 5
N_REPEATS = 2

# (method, retrain) pairs compared across backends.
METHODS = [("permutation", "auto"), ("ablation", "warm"), ("ablation", "cold")]


def _data(task):
    X, y = make_friedman1(n_samples=60, n_features=N_FEATURES, random_state=0)
    if task == "classification":
        y = (y > np.median(y)).astype(int)
    return X, y


def _estimator(task):
    params = {"hidden_layer_sizes": (5,), "solver": "lbfgs", "max_iter": 50}
    if task == "classification":
        return MLPClassifier(random_state=0, **params)
    return make_pipeline(StandardScaler(), MLPRegressor(random_state=0, **params))


def _selector(task, method, retrain, cv, **params):
    return NNImportanceSelector(
        _estimator(task),
        method=method,
        retrain=retrain,
        n_repeats=N_REPEATS,
        cv=cv,
        random_state=0,
        **params,
    )


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _backend(name, request):
    """``(n_jobs, context)`` running the selector's tasks on the named backend."""
    if name == "loky":
        return 2, nullcontext()
    if name == "threading":
        return None, joblib.parallel_config(backend="threading", n_jobs=2)
    request.getfixturevalue("dask_client")
    return None, joblib.parallel_config(backend="dask")


@pytest.fixture(scope="module")
def sequential():
    """Selectors fitted with ``n_jobs=1``, computed once per configuration.

    With one BLAS thread: on a busy machine, BLAS threads waiting for a core slow
    the fits of these tiny networks down many times. The draws do not depend on it
    (``test_blas_threads_do_not_change_sequential_results``).
    """
    cache = {}

    def fitted(task, method, retrain, cv):
        key = (task, method, retrain, cv)
        if key not in cache:
            X, y = _data(task)
            with threadpool_limits(limits=1, user_api="blas"):
                selector = _selector(task, method, retrain, cv, n_jobs=1)
                cache[key] = selector.fit(X, y)
        return cache[key]

    return fitted


@pytest.mark.parametrize("method, retrain", METHODS[:2])
def test_blas_threads_do_not_change_sequential_results(method, retrain, sequential):
    X, y = _data("regression")
    selector = _selector("regression", method, retrain, None, n_jobs=1).fit(X, y)
    expected = sequential("regression", method, retrain, None)
    assert_array_equal(selector.importances_, expected.importances_)


@pytest.mark.parametrize("backend", ["loky", "threading", "dask"])
@pytest.mark.parametrize("method, retrain", METHODS)
@pytest.mark.parametrize(
    "task, cv", [("regression", None), ("regression", 3), ("classification", 3)]
)
def test_identical_results_for_any_backend(
    task, method, retrain, cv, backend, sequential, request
):
    expected = sequential(task, method, retrain, cv)
    X, y = _data(task)
    n_jobs, context = _backend(backend, request)
    with context:
        selector = _selector(task, method, retrain, cv, n_jobs=n_jobs).fit(X, y)
    n_draws = N_REPEATS * (1 if cv is None else 3)
    assert selector.importances_.shape == (N_FEATURES, n_draws)
    assert_array_equal(selector.feature_importances_, expected.feature_importances_)
    assert_array_equal(selector.importances_, expected.importances_)
    assert selector.baseline_score_ == expected.baseline_score_


def test_worker_death_propagates_and_leaves_selector_unfitted(sequential):
    parent = os.getpid()

    class RanInTestProcess(Exception):
        pass

    # Defined here so that it is pickled by value and needs no import in workers.
    class DiesWithoutColumns(RegressorMixin, BaseEstimator):
        """Least squares whose fit ends its (worker) process when columns are gone."""

        def __init__(self, n_columns=N_FEATURES, parent_pid=None):
            self.n_columns = n_columns
            self.parent_pid = parent_pid

        def fit(self, X, y):
            X = np.asarray(X)
            if X.shape[1] < self.n_columns:
                if os.getpid() != self.parent_pid:
                    os._exit(1)
                raise RanInTestProcess
            design = np.column_stack([X, np.ones(len(X))])
            self.coef_ = np.linalg.lstsq(design, y, rcond=None)[0]
            return self

        def predict(self, X):
            X = np.asarray(X)
            return np.column_stack([X, np.ones(len(X))]) @ self.coef_

    X, y = _data("regression")
    X_copy, y_copy = X.copy(), y.copy()
    dying = DiesWithoutColumns(parent_pid=parent)
    params = dying.get_params()

    selector = _selector("regression", "ablation", "cold", None, n_jobs=2)
    selector.fit(X, y)  # fitted before, so the failed fit must undo that
    check_is_fitted(selector)

    selector.set_params(estimator=dying, fill="drop")
    with pytest.raises(Exception) as info:
        selector.fit(X, y)
    assert not isinstance(info.value, (NotFittedError, RanInTestProcess))
    assert "worker" in str(info.value).lower()

    with pytest.raises(NotFittedError):
        check_is_fitted(selector)
    assert not hasattr(selector, "feature_importances_")
    assert not hasattr(selector, "importances_")
    with pytest.raises(NotFittedError):
        selector.transform(X)

    assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert dying.get_params() == params
    with pytest.raises(NotFittedError):
        check_is_fitted(dying)

    expected = sequential("regression", "ablation", "cold", None)
    selector.set_params(estimator=_estimator("regression"), fill="mean")
    selector.fit(X, y)
    assert_array_equal(selector.importances_, expected.importances_)
    assert selector.transform(X).shape[0] == X.shape[0]


@pytest.mark.parametrize("method, retrain", METHODS)
@pytest.mark.parametrize("kind", ["read-only", "memory-mapped"])  # outer loop
def test_read_only_and_memory_mapped_inputs(
    kind, method, retrain, sequential, tmp_path
):
    X, y = _data("regression")
    expected = sequential("regression", method, retrain, 3)
    if kind == "read-only":
        X_in, y_in = X.copy(), y.copy()
        X_in.flags.writeable = False
        y_in.flags.writeable = False
        context = nullcontext()
    else:
        joblib.dump((X, y), tmp_path / "data.joblib")
        X_in, y_in = joblib.load(tmp_path / "data.joblib", mmap_mode="r")
        assert isinstance(X_in, np.memmap) and not X_in.flags.writeable
        # every array sent to the workers is memory-mapped there as well
        context = joblib.parallel_config(max_nbytes=0)
    with context:
        selector = _selector("regression", method, retrain, 3, n_jobs=2)
        selector.fit(X_in, y_in)
    assert_array_equal(selector.importances_, expected.importances_)
    assert_array_equal(X_in, X)
    assert_array_equal(y_in, y)


PROGRESS = re.compile(
    r"^\[sknnimp\] (?P<label>[^:]+): \[[#-]+\] (?P<done>\d+)/(?P<total>\d+) done, "
    r"\d+\.\ds elapsed$"
)


def _progress(stderr):
    """``{label: [(done, total), ...]}`` from the progress lines of ``stderr``."""
    lines = {}
    for line in stderr.splitlines():
        match = PROGRESS.match(line)
        if match:
            done, total = int(match["done"]), int(match["total"])
            lines.setdefault(match["label"], []).append((done, total))
    return lines


@pytest.mark.parametrize("retrain, cv", [("warm", None), ("cold", 3)])
def test_progress_on_stderr(retrain, cv, capfd):
    X, y = _data("regression")
    _selector("regression", "ablation", retrain, cv, n_jobs=2, verbose=1).fit(X, y)
    out, err = capfd.readouterr()
    assert "[sknnimp]" not in out
    progress = _progress(err)
    n_folds = 1 if cv is None else cv
    expected = {f"ablation ({retrain})": (N_FEATURES + 1) * N_REPEATS * n_folds}
    if cv is not None:
        expected["fitting folds"] = cv
    assert set(progress) == set(expected)
    for label, total in expected.items():
        counts = [done for done, _ in progress[label]]
        assert all(t == total for _, t in progress[label])
        assert counts == sorted(counts) and counts[0] >= 1
        assert counts[-1] == total
    n_lines = sum(map(len, progress.values()))
    assert err.count("[sknnimp]") == n_lines  # every package line is well formed


def test_quiet_without_verbose(capfd):
    X, y = _data("regression")
    _selector("regression", "ablation", "warm", 3, n_jobs=2).fit(X, y)
    out, err = capfd.readouterr()
    assert "[sknnimp]" not in out + err
    assert out == ""


def _blas_threads(delay=0.0):
    """Largest thread count of the BLAS libraries loaded in this process."""
    time.sleep(delay)
    counts = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(counts)


@pytest.mark.parametrize("backend", ["loky", "threading", "dask"])
def test_blas_threads_limited_in_parallel_tasks(backend, request):
    if not any(p["user_api"] == "blas" for p in threadpool_info()):
        pytest.skip("no BLAS library with a thread pool is loaded")
    before = _blas_threads()
    n_jobs, context = _backend(backend, request)
    # Staggered tasks overlap in threads: the limit must hold throughout.
    arguments = [(0.002 * (i % 5),) for i in range(24)]
    with context:
        counts = run_tasks(_blas_threads, arguments, n_jobs=n_jobs)
    assert len(counts) == len(arguments)
    assert max(counts) <= max(1, cpu_count() // 2)
    assert _blas_threads() == before  # the parent's pools are as they were


def test_no_blas_limit_with_one_job():
    if not any(p["user_api"] == "blas" for p in threadpool_info()):
        pytest.skip("no BLAS library with a thread pool is loaded")
    before = _blas_threads()
    assert run_tasks(_blas_threads, [()] * 3, n_jobs=1) == [before] * 3
    with joblib.parallel_config(backend="threading", n_jobs=1):
        assert run_tasks(_blas_threads, [()] * 3) == [before] * 3
