"""Permutation importance: the draws of scikit-learn's, faster for an MLP."""

import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance as sklearn_permutation
from sklearn.linear_model import Ridge
from sklearn.metrics import check_scoring, make_scorer, mean_squared_error, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_limits

from sknnimp import _parallel
from sknnimp._permutation import permutation_importance
from sknnimp._rowwise import SummedScorer, scorer_row_score

N, P = 200, 6


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, P)) * [1, 2, 0.5, 1, 3, 1] + [0, 1, -2, 0, 5, 0]
    X[:, 3] *= rng.rand(N) < 0.15  # mostly zeros: exercises the unchanged-row path
    signal = X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + 0.3 * X[:, 3]
    return X, signal, rng


X, SIGNAL, _rng = _data()
Y_REG = SIGNAL + 0.1 * _rng.normal(size=N)
Y_MULTI = np.column_stack([Y_REG, np.sin(X[:, 4])])
Y_BIN = np.where(SIGNAL > np.median(SIGNAL), "yes", "no")
Y_MULTICLASS = np.digitize(SIGNAL, np.quantile(SIGNAL, [1 / 3, 2 / 3]))
Y_MULTILABEL = np.column_stack([SIGNAL > 0, X[:, 4] > 5]).astype(int)
WEIGHTS = _rng.uniform(0.5, 2.0, size=N)


def _mlp(kind):
    cls = MLPRegressor if kind == "reg" else MLPClassifier
    return cls(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=150, random_state=0)


_MODELS = {
    "reg": (lambda: _mlp("reg"), Y_REG),
    "reg_standard": (lambda: make_pipeline(StandardScaler(), _mlp("reg")), Y_REG),
    "multi_output_minmax": (
        lambda: make_pipeline(MinMaxScaler(), _mlp("reg")),
        Y_MULTI,
    ),
    "binary_standard": (lambda: make_pipeline(StandardScaler(), _mlp("clf")), Y_BIN),
    # Scaled without centring: these pipelines take sparse X.
    "reg_sparse": (
        lambda: make_pipeline(StandardScaler(with_mean=False), _mlp("reg")),
        Y_REG,
    ),
    "binary_sparse": (
        lambda: make_pipeline(StandardScaler(with_mean=False), _mlp("clf")),
        Y_BIN,
    ),
    "multiclass": (lambda: _mlp("clf"), Y_MULTICLASS),
    "multiclass_minmax": (
        lambda: make_pipeline(MinMaxScaler(), _mlp("clf")),
        Y_MULTICLASS,
    ),
    "multilabel": (lambda: _mlp("clf"), Y_MULTILABEL),
    "ridge": (lambda: Ridge(alpha=1.0), Y_REG),
    "forest": (
        lambda: RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0),
        Y_BIN,
    ),
}
_FITTED = {}


def fitted(name):
    """Fitted model and its target, fitted once per session."""
    if name not in _FITTED:
        make, y = _MODELS[name]
        _FITTED[name] = make().fit(X, y), y
    return _FITTED[name]


def _neg_mae_function(estimator, X, y):
    """A plain callable scorer, not a scikit-learn scorer object."""
    return -np.mean(np.abs(estimator.predict(X) - y))


CASES = [
    ("reg", None, {}),
    ("reg", "neg_mean_absolute_error", {"max_samples": 150}),
    ("reg_standard", None, {"sample_weight": WEIGHTS}),
    ("reg_standard", "neg_mean_absolute_error", {"max_samples": 0.6}),
    ("reg_standard", make_scorer(mean_squared_error, greater_is_better=False), {}),
    ("reg_standard", _neg_mae_function, {}),
    ("multi_output_minmax", None, {}),
    ("multi_output_minmax", "neg_mean_squared_error", {"sample_weight": WEIGHTS}),
    ("binary_standard", None, {"sample_weight": WEIGHTS}),
    ("binary_standard", "accuracy", {"max_samples": 120}),
    ("binary_standard", "roc_auc", {}),
    ("binary_standard", "neg_log_loss", {"sample_weight": WEIGHTS}),
    ("multiclass", None, {}),
    ("multiclass", "neg_log_loss", {"max_samples": 0.5}),
    ("multiclass_minmax", "f1_macro", {"sample_weight": WEIGHTS}),
    ("multiclass_minmax", "accuracy", {}),
    ("multilabel", None, {}),
    ("multilabel", "f1_macro", {"sample_weight": WEIGHTS}),
    ("ridge", None, {"sample_weight": WEIGHTS, "max_samples": 0.8}),
    ("ridge", "neg_mean_absolute_error", {}),
    ("forest", "roc_auc", {}),
    ("forest", None, {"max_samples": 100}),
]


@pytest.mark.parametrize("name, scoring, kwargs", CASES)
def test_draws_equal_sklearn(name, scoring, kwargs):
    model, y = fitted(name)
    common = dict(scoring=scoring, n_repeats=3, random_state=7, **kwargs)
    ours = permutation_importance(model, X, y, **common)
    theirs = sklearn_permutation(model, X, y, **common)
    assert ours.importances.shape == (P, 3)
    for key in ("importances", "importances_mean", "importances_std"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=1e-9)
    assert np.isfinite(ours.baseline_score)


@pytest.fixture
def two_threads(monkeypatch):
    """The fast paths' thread budget set to 2 (the suite runs BLAS on one thread);
    the list records the thread count of every threaded run."""
    runs = []
    run_threads = _parallel._run_threads

    def counted(function, arguments, n_threads, verbose, label):
        runs.append(n_threads)
        return run_threads(function, arguments, n_threads, verbose, label)

    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "_run_threads", counted)
    return runs


@pytest.mark.parametrize("name, scoring, kwargs", CASES)
def test_threaded_fast_path_draws_equal_sklearn(name, scoring, kwargs, two_threads):
    model, y = fitted(name)
    common = dict(scoring=scoring, n_repeats=3, random_state=7, **kwargs)
    ours = permutation_importance(model, X, y, **common)
    theirs = sklearn_permutation(model, X, y, **common)
    np.testing.assert_allclose(ours.importances, theirs.importances, rtol=0, atol=1e-9)
    # Threads serve the network fast path: scikit-learn's scorers and networks.
    fast = name not in ("ridge", "forest") and scoring is not _neg_mae_function
    assert two_threads == ([2] if fast else [])


def test_threads_follow_blas_limits():
    """The fast path's threads are BLAS-like: one under ``threadpool_limits(1)``,
    as many as BLAS may use otherwise (at most the cores)."""
    with threadpool_limits(limits=1):
        assert _parallel.blas_threads() == 1
    with threadpool_limits(limits=2):
        assert _parallel.blas_threads() == min(2, joblib.cpu_count())


@pytest.mark.parametrize(
    "scoring",
    ["r2", "accuracy", "neg_log_loss", "neg_mean_squared_error", "roc_auc", None],
)
@pytest.mark.parametrize("name", ["reg_standard", "multi_output_minmax", "multiclass"])
def test_summed_scorer_equals_the_scorer(name, scoring):
    model, y = fitted(name)
    if name != "multiclass" and scoring in ("accuracy", "neg_log_loss", "roc_auc"):
        return  # classification scores: scikit-learn refuses them for a regressor
    scorer = check_scoring(model, scoring=scoring)
    row_score = scorer_row_score(scorer, model, y)
    if scoring == "roc_auc":  # not a sum over rows
        assert row_score is None
        return
    summed = SummedScorer(row_score)
    for weights in (None, WEIGHTS):
        kwargs = {} if weights is None else {"sample_weight": weights}
        np.testing.assert_allclose(
            summed(model, X, y, **kwargs), scorer(model, X, y, **kwargs), atol=1e-12
        )


def test_scorers_with_arguments_are_not_summed():
    model, y = fitted("multi_output_minmax")
    weighted = make_scorer(r2_score, multioutput="variance_weighted")
    assert scorer_row_score(weighted, model, y) is None
    assert scorer_row_score(_neg_mae_function, model, y) is None


@pytest.mark.parametrize("name", ["reg_standard", "multiclass_minmax"])
def test_random_state_instance_and_global(name):
    model, y = fitted(name)
    ours = permutation_importance(model, X, y, random_state=np.random.RandomState(3))
    theirs = sklearn_permutation(model, X, y, random_state=np.random.RandomState(3))
    np.testing.assert_allclose(ours.importances, theirs.importances, atol=1e-9)

    np.random.seed(5)
    ours = permutation_importance(model, X, y, random_state=None)
    np.random.seed(5)
    theirs = sklearn_permutation(model, X, y, random_state=None)
    np.testing.assert_allclose(ours.importances, theirs.importances, atol=1e-9)


@pytest.mark.parametrize(
    "name, cls", [("reg_standard", MLPRegressor), ("binary_standard", MLPClassifier)]
)
def test_network_route_never_runs_the_full_forward_pass(name, cls, monkeypatch):
    model, y = fitted(name)
    expected = sklearn_permutation(model, X, y, n_repeats=2, random_state=0)

    def forbidden(*args, **kwargs):
        raise AssertionError("the MLP's own forward pass was called")

    monkeypatch.setattr(cls, "_forward_pass_fast", forbidden)
    ours = permutation_importance(model, X, y, n_repeats=2, random_state=0)
    np.testing.assert_allclose(ours.importances, expected.importances, atol=1e-9)


@pytest.mark.parametrize("name", ["binary_standard", "ridge"])
def test_same_results_for_any_n_jobs_and_backend(name):
    model, y = fitted(name)
    common = dict(n_repeats=2, random_state=11, groups=[[0, 1], [2], [3, 4, 5]])
    sequential = permutation_importance(model, X, y, n_jobs=1, **common)
    processes = permutation_importance(model, X, y, n_jobs=2, **common)
    with joblib.parallel_config(backend="threading"):
        threads = permutation_importance(model, X, y, n_jobs=2, **common)
    np.testing.assert_array_equal(processes.importances, sequential.importances)
    np.testing.assert_array_equal(threads.importances, sequential.importances)


@pytest.mark.parametrize("name", ["reg_standard", "binary_standard", "ridge"])
def test_inputs_unchanged_and_read_only_inputs_work(name):
    model, y = fitted(name)
    X_ro, y_ro, w_ro = X.copy(), y.copy(), WEIGHTS.copy()
    for array in (X_ro, y_ro, w_ro):
        array.setflags(write=False)
    result = permutation_importance(
        model, X_ro, y_ro, sample_weight=w_ro, n_repeats=2, random_state=0
    )
    expected = sklearn_permutation(
        model, X, y, sample_weight=WEIGHTS, n_repeats=2, random_state=0
    )
    np.testing.assert_allclose(result.importances, expected.importances, atol=1e-9)
    np.testing.assert_array_equal(X_ro, X)
    np.testing.assert_array_equal(y_ro, y)
    np.testing.assert_array_equal(w_ro, WEIGHTS)

    model, y = fitted("reg_sparse" if name != "ridge" else name)
    X_sparse = sparse.csr_matrix(X)
    before = X_sparse.copy()
    permutation_importance(model, X_sparse, y, n_repeats=1, random_state=0)
    assert (X_sparse != before).nnz == 0


def _brute_force_group_draws(model, y, groups, n_repeats, random_state):
    """Shuffle every column of a group with one row permutation, then score."""
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    baseline = model.score(X, y)
    draws = []
    for group in groups:
        rng = np.random.RandomState(seed)
        order = np.arange(N)
        X_permuted = X.copy()
        row = []
        for _ in range(n_repeats):
            rng.shuffle(order)
            X_permuted[:, group] = X_permuted[order][:, group]
            row.append(baseline - model.score(X_permuted, y))
        draws.append(row)
    return np.array(draws)


@pytest.mark.parametrize("name", ["reg_standard", "multiclass", "ridge"])
def test_groups_shuffle_jointly(name):
    model, y = fitted(name)
    groups = [[0, 1], [2], np.array([5, 3, 4])]
    result = permutation_importance(model, X, y, groups=groups, random_state=4)
    expected = _brute_force_group_draws(model, y, groups, 5, 4)
    assert result.importances.shape == (3, 5)
    np.testing.assert_allclose(result.importances, expected, rtol=0, atol=1e-9)

    singletons = permutation_importance(
        model, X, y, groups=[[i] for i in range(P)], random_state=4
    )
    default = permutation_importance(model, X, y, random_state=4)
    np.testing.assert_array_equal(singletons.importances, default.importances)


@pytest.mark.parametrize("name", ["reg_sparse", "binary_sparse", "ridge"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(name, fmt):
    model, y = fitted(name)
    X_sparse = sparse.csr_matrix(X).asformat(fmt)
    common = dict(
        n_repeats=2, random_state=2, max_samples=0.9, groups=[[3], [0, 3], [1]]
    )
    dense = permutation_importance(model, X, y, **common)
    from_sparse = permutation_importance(model, X_sparse, y, **common)
    np.testing.assert_allclose(from_sparse.importances, dense.importances, atol=1e-9)
    assert from_sparse.baseline_score == pytest.approx(dense.baseline_score, abs=1e-12)


def test_dataframe_equals_array():
    pd = pytest.importorskip("pandas")
    model, y = fitted("reg_standard")
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(P)])
    # The model was fitted on an array; like scikit-learn, it warns about the names.
    with pytest.warns(UserWarning, match="feature names"):
        from_frame = permutation_importance(model, frame, pd.Series(y), random_state=0)
    from_array = permutation_importance(model, X, y, random_state=0)
    np.testing.assert_array_equal(from_frame.importances, from_array.importances)


def test_constant_column_has_zero_importance():
    X_const = X.copy()
    X_const[:, 2] = 3.0
    model = make_pipeline(StandardScaler(), _mlp("reg")).fit(X_const, Y_REG)
    result = permutation_importance(model, X_const, Y_REG, n_repeats=3, random_state=0)
    np.testing.assert_array_equal(result.importances[2], 0.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"groups": [[0, P]]}, "outside"),
        ({"groups": [[]]}, "non-empty"),
        ({"groups": [[1, 1]]}, "repeats"),
        ({"groups": [[0.5]]}, "integer"),
        ({"max_samples": N + 1}, "max_samples"),
    ],
)
def test_bad_arguments(kwargs, match):
    model, y = fitted("reg")
    with pytest.raises(ValueError, match=match):
        permutation_importance(model, X, y, **kwargs)


def test_bad_data_on_the_network_route():
    model, y = fitted("reg_standard")
    with pytest.raises(ValueError, match="features"):
        permutation_importance(model, X[:, :4], y)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        permutation_importance(model, X_nan, y)
