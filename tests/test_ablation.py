"""Ablation importance against hand-computed oracles.

Each test rebuilds the draws of ``method="ablation"`` without the package: occlusion by
hand for ``retrain="none"``, explicit refits of clones for ``"cold"``, and for
``"warm"`` a genuinely smaller network (the input's first-layer row deleted, its fill
folded into the bias) whose training is continued by scikit-learn's own
``warm_start``. Seeds of the retrains are those ``nn_importance`` draws:
``check_random_state(random_state).randint(2**31 - 1, size=(n_folds, n_repeats))``,
and draws are ordered fold by fold, repeat by repeat.
"""

import math
from copy import deepcopy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_friedman1
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, get_scorer, mean_absolute_error
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sknnimp import NNImportanceSelector, _ablation, _parallel, nn_importance

N, P = 300, 5


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N, P)) * [1.0, 1.0, 0.5, 1.0, 3.0] + [0.0, 0.0, -2.0, 0, 5]
    X[:, 1] = rng.exponential(2.0, size=N)  # skewed: its median is not its mean
    signal = X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + np.sin(X[:, 3])  # column 4 is noise
    return X, signal, rng


X, SIGNAL, _rng = _data()
Y = SIGNAL + 0.1 * _rng.normal(size=N)
Y_BIN = np.where(SIGNAL > np.median(SIGNAL), "high", "low")
Y_MULTICLASS = np.digitize(SIGNAL, np.quantile(SIGNAL, [1 / 3, 2 / 3]))
FILLS = ["mean", "median", "zero", 1.5]


def _mlp(kind="reg", **params):
    cls = MLPRegressor if kind == "reg" else MLPClassifier
    params = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "max_iter": 200, **params}
    return make_pipeline(StandardScaler(), cls(random_state=0, **params))


_FITTED = {}


def fitted(kind):
    """A network fitted once per session, and its target."""
    y = {"reg": Y, "binary": Y_BIN, "multiclass": Y_MULTICLASS}[kind]
    if kind not in _FITTED:
        _FITTED[kind] = _mlp("reg" if kind == "reg" else "clf").fit(X, y)
    return _FITTED[kind], y


def _fill_value(X_train, column, fill):
    """The fill of ``column`` as the definition states it, from the training rows."""
    if fill == "mean":
        return X_train[:, column].mean()
    if fill == "median":
        return np.median(X_train[:, column])
    if fill == "zero":
        return 0.0
    return float(fill)


def _ablated(X_part, column, value):
    """Rows with ``column`` set to ``value``, or removed if ``value`` is None."""
    if value is None:
        return np.delete(X_part, column, axis=1)
    X_part = X_part.copy()
    X_part[:, column] = value
    return X_part


def _seeds(random_state, n_folds, n_repeats):
    rng = np.random.RandomState(random_state)
    return rng.randint(2**31 - 1, size=(n_folds, n_repeats))


# --------------------------------------------------------------------------------------
# retrain="none": occlusion


@pytest.mark.parametrize("fill", FILLS)
@pytest.mark.parametrize("scoring", [None, "neg_mean_absolute_error"])
def test_none_is_occlusion_by_hand(fill, scoring):
    model, y = fitted("reg")
    if scoring is None:
        score = model.score  # R^2

        def oracle_score(Xs):
            return score(Xs, y)
    else:

        def oracle_score(Xs):
            return -mean_absolute_error(y, model.predict(Xs))

    baseline = oracle_score(X)
    expected = [
        baseline - oracle_score(_ablated(X, i, _fill_value(X, i, fill)))
        for i in range(P)
    ]
    result = nn_importance(
        model, X, y, method="ablation", retrain="none", fill=fill, scoring=scoring
    )
    assert result.importances.shape == (P, 1)
    assert_allclose(result.importances[:, 0], expected, rtol=1e-12, atol=1e-12)
    assert_allclose(result.baseline_score, baseline, rtol=1e-12)
    # The informative inputs matter, the noise input hardly.
    assert result.importances_mean[:4].min() > 10 * abs(result.importances_mean[4])


@pytest.mark.parametrize("kind", ["reg", "multiclass"])
def test_occlusion_in_threads_is_occlusion_in_order(kind, monkeypatch):
    """The fast path's groups run in threads when BLAS may use several: the same
    numbers as one after the other."""
    model, y = fitted(kind)
    groups = [[0, 1], [2], [3, 4]]
    common = dict(method="ablation", retrain="none", fill="mean", groups=groups)
    sequential = nn_importance(model, X, y, **common)
    runs = []
    run_threads = _parallel._run_threads

    def counted(function, arguments, n_threads, verbose, label):
        runs.append(n_threads)
        return run_threads(function, arguments, n_threads, verbose, label)

    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    monkeypatch.setattr(_parallel, "_run_threads", counted)
    threaded = nn_importance(model, X, y, **common)
    assert runs == [2]
    assert_array_equal(threaded.importances, sequential.importances)


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize("dtype", [float, int])
def test_general_occlusion_is_occlusion_by_hand(dtype, n_jobs):
    """Any estimator (here a forest, no fast path): each group filled in turn in one
    working copy of the rows, restored between groups; the user's array untouched."""
    X_int = np.round(X * 3).astype(dtype)
    forest = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0)
    forest.fit(X_int, Y)
    groups = [[0, 3], [1], [2, 4]]
    before = X_int.copy()
    result = nn_importance(
        forest,
        X_int,
        Y,
        method="ablation",
        retrain="none",
        fill="mean",
        groups=groups,
        n_jobs=n_jobs,
    )
    baseline = forest.score(X_int, Y)
    means = X_int.mean(axis=0)
    for group in groups:
        filled_rows = X_int.astype(float)
        filled_rows[:, group] = means[group]
        expected = baseline - forest.score(filled_rows, Y)
        assert_allclose(result.importances[group[0], 0], expected, rtol=1e-12)
    assert_array_equal(X_int, before)


def _sorted_data():
    """Rows sorted by the skewed column 1: unshuffled folds have distant means."""
    order = np.argsort(X[:, 1])
    return X[order], Y[order]


@pytest.mark.parametrize("fill", ["mean", "median"])
def test_none_with_cv_fills_from_the_training_rows(fill):
    Xs, ys = _sorted_data()
    estimator = _mlp()
    cv = KFold(3)
    expected, baselines, whole_data_fill, gaps = [], [], [], []
    for train, test in cv.split(Xs):
        model = clone(estimator).fit(Xs[train], ys[train])
        baseline = model.score(Xs[test], ys[test])
        baselines.append(baseline)
        expected.append(
            [
                baseline
                - model.score(
                    _ablated(Xs[test], i, _fill_value(Xs[train], i, fill)), ys[test]
                )
                for i in range(P)
            ]
        )
        whole_data_fill.append(
            baseline
            - model.score(_ablated(Xs[test], 1, _fill_value(Xs, 1, fill)), ys[test])
        )
        gaps.append(abs(_fill_value(Xs[train], 1, fill) - _fill_value(Xs, 1, fill)))
    # The design works: training parts' fills are far from the whole data's.
    assert max(gaps) > 0.3 * Xs[:, 1].std()
    expected = np.array(expected).T  # (features, folds)

    result = nn_importance(
        estimator, Xs, ys, method="ablation", retrain="none", fill=fill, cv=cv
    )
    assert result.importances.shape == (P, 3)
    assert_allclose(result.importances, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(result.baseline_score, np.mean(baselines), rtol=1e-12)
    # A whole-data fill would give clearly different draws for the skewed column.
    assert np.abs(np.array(whole_data_fill) - expected[1]).max() > 1e-2

    selector = NNImportanceSelector(
        estimator, method="ablation", retrain="none", fill=fill, cv=3, random_state=0
    ).fit(Xs, ys)  # cv=3 is an unshuffled KFold for a regressor
    assert_allclose(selector.importances_, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(selector.feature_importances_, expected.mean(axis=1), rtol=1e-10)
    assert_allclose(selector.baseline_score_, np.mean(baselines), rtol=1e-12)


# --------------------------------------------------------------------------------------
# retrain="cold": fresh clones


def _cold_oracle(estimator, X, y, splits, fill, seeds, scorer, sample_weight=None):
    """Draws (features, folds * repeats) from explicit refits of seeded clones."""

    def fit_score(X_train, y_train, w_train, X_eval, y_eval, w_eval, seed):
        model = clone(estimator)
        if "random_state" in model.get_params():
            model.set_params(random_state=seed)
        fit_params = {} if w_train is None else {"sample_weight": w_train}
        model.fit(X_train, y_train, **fit_params)
        score_params = {} if w_eval is None else {"sample_weight": w_eval}
        return scorer(model, X_eval, y_eval, **score_params)

    draws, baselines = [], []
    for f, (train, test) in enumerate(splits):
        w_train = None if sample_weight is None else sample_weight[train]
        w_eval = None if sample_weight is None else sample_weight[test]
        for seed in seeds[f]:
            baseline = fit_score(
                X[train], y[train], w_train, X[test], y[test], w_eval, seed
            )
            baselines.append(baseline)
            column = []
            for i in range(X.shape[1]):
                if fill == "drop":
                    value = None
                elif fill in ("mean", "median") and sample_weight is not None:
                    raise AssertionError("weighted fills are checked elsewhere")
                else:
                    value = _fill_value(X[train], i, fill)
                column.append(
                    baseline
                    - fit_score(
                        _ablated(X[train], i, value),
                        y[train],
                        w_train,
                        _ablated(X[test], i, value),
                        y[test],
                        w_eval,
                        seed,
                    )
                )
            draws.append(column)
    return np.array(draws).T, np.mean(baselines)


@pytest.mark.parametrize("fill", [*FILLS, "drop"])
@pytest.mark.parametrize("cv", [None, 3])
def test_cold_ridge_is_refits_by_hand(fill, cv):
    estimator = Ridge(alpha=1.0)
    if cv is None:
        splits = [(np.arange(N), np.arange(N))]
    else:
        splits = list(KFold(cv).split(X))
    n_repeats = 2
    seeds = _seeds(0, len(splits), n_repeats)
    expected, baseline = _cold_oracle(
        estimator, X, Y, splits, fill, seeds, get_scorer("r2")
    )

    model = clone(estimator).fit(X, Y)
    result = nn_importance(
        model,
        X,
        Y,
        method="ablation",
        retrain="cold",
        fill=fill,
        cv=cv,
        n_repeats=n_repeats,
        random_state=0,
    )
    assert result.importances.shape == (P, len(splits) * n_repeats)
    assert_allclose(result.importances, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(result.baseline_score, baseline, rtol=1e-12)

    # The selector ("auto" is cold for a model that is not a network) agrees.
    selector = NNImportanceSelector(
        estimator,
        method="ablation",
        fill=fill,
        cv=cv,
        n_repeats=n_repeats,
        random_state=0,
    ).fit(X, Y)
    assert_allclose(selector.importances_, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(selector.feature_importances_, expected.mean(axis=1), rtol=1e-10)
    assert_allclose(selector.baseline_score_, baseline, rtol=1e-12)


@pytest.mark.parametrize("cv", [None, KFold(2, shuffle=True, random_state=0)])
def test_cold_uses_the_repeat_seeds(cv):
    forest = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=123)
    splits = [(np.arange(N), np.arange(N))] if cv is None else list(cv.split(X))
    n_repeats = 3
    seeds = _seeds(7, len(splits), n_repeats)
    expected, baseline = _cold_oracle(
        forest, X, Y, splits, "median", seeds, get_scorer("r2")
    )
    result = nn_importance(
        clone(forest).fit(X, Y),
        X,
        Y,
        method="ablation",
        retrain="cold",
        fill="median",
        cv=cv,
        n_repeats=n_repeats,
        random_state=7,
    )
    assert_allclose(result.importances, expected, rtol=1e-10, atol=1e-12)
    assert_allclose(result.baseline_score, baseline, rtol=1e-12)
    # The seeds are really used: the repeats of one fold differ.
    assert np.ptp(result.importances[:, :n_repeats], axis=1).max() > 1e-6


def test_cold_classifier_with_accuracy():
    estimator = LogisticRegression()
    splits = list(KFold(3).split(X))
    seeds = _seeds(0, 3, 1)
    expected, baseline = _cold_oracle(
        estimator, X, Y_BIN, splits, "mean", seeds, get_scorer("accuracy")
    )
    result = nn_importance(
        estimator,
        X,
        Y_BIN,
        method="ablation",
        retrain="cold",
        scoring="accuracy",
        cv=KFold(3),
        n_repeats=1,
        random_state=0,
    )
    assert_allclose(result.importances, expected, rtol=1e-12, atol=1e-12)
    assert_allclose(result.baseline_score, baseline, rtol=1e-12)


# --------------------------------------------------------------------------------------
# retrain="warm": the fitted network, continued


def _continue(mlp, X_train, y_train, n_iter, seed, sample_weight=None):
    """A copy of ``mlp`` trained ``n_iter`` more iterations with scikit-learn's
    ``warm_start``, with fresh stopping counters."""
    mlp = deepcopy(mlp)
    mlp.set_params(warm_start=True, max_iter=n_iter, random_state=seed)
    mlp.set_params(early_stopping=False)
    if hasattr(mlp, "best_loss_"):
        mlp.best_loss_, mlp._no_improvement_count = np.inf, 0
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    return mlp.fit(X_train, y_train, **fit_params)


def _without_input(mlp, column, shift):
    """A copy of ``mlp`` with one input fewer: the input's first-layer row deleted
    and, unless ``shift`` is None, the constant input ``shift`` folded into the bias."""
    small = deepcopy(mlp)
    w1 = mlp.coefs_[0]
    small.coefs_ = [np.delete(w1, column, axis=0), *deepcopy(mlp.coefs_[1:])]
    b1 = mlp.intercepts_[0] + (0.0 if shift is None else shift * w1[column])
    small.intercepts_ = [b1, *deepcopy(mlp.intercepts_[1:])]
    small.n_features_in_ = w1.shape[0] - 1
    return small


def _warm_budget(mlp):
    return max(
        _ablation.WARM_MIN_ITER, math.ceil(_ablation.WARM_FRACTION * mlp.n_iter_)
    )


def _warm_oracle(model, X, y, fill, seeds, scorer, sample_weight=None):
    """Draws (features, repeats) of warm ablation without cross-fitting, by hand."""
    scaler, mlp = model[0], model[-1]
    Xn = scaler.transform(X)  # the network's inputs
    n_iter = _warm_budget(mlp)
    draws, baselines = [], []
    for seed in seeds:
        base = _continue(mlp, Xn, y, n_iter, seed, sample_weight)
        baseline = scorer(base, Xn, y)
        baselines.append(baseline)
        column = []
        for i in range(X.shape[1]):
            if fill == "drop":
                shift = None
            else:
                if fill in ("mean", "median") and sample_weight is not None:
                    value = np.average(X[:, i], weights=sample_weight)
                    assert fill == "mean"
                else:
                    value = _fill_value(X, i, fill)
                # Where the fill lands in the network's input space.
                row = np.zeros((1, X.shape[1]))
                row[0, i] = value
                shift = scaler.transform(row)[0, i]
                # Folding the constant into the bias reproduces the filled network.
                small = _without_input(mlp, i, shift)
                assert_allclose(
                    small.predict(np.delete(Xn, i, axis=1))
                    if isinstance(mlp, MLPRegressor)
                    else small.predict_proba(np.delete(Xn, i, axis=1)),
                    model.predict(_ablated(X, i, value))
                    if isinstance(mlp, MLPRegressor)
                    else model.predict_proba(_ablated(X, i, value)),
                    rtol=1e-10,
                    atol=1e-12,
                )
            small = _without_input(mlp, i, shift)
            Xi = np.delete(Xn, i, axis=1)
            small = _continue(small, Xi, y, n_iter, seed, sample_weight)
            column.append(baseline - scorer(small, Xi, y))
        draws.append(column)
    return np.array(draws).T, np.mean(baselines)


WARM_CASES = [
    ("reg", "mean", None),
    ("reg", "zero", "neg_mean_absolute_error"),
    ("reg", 1.5, None),
    ("reg", "drop", None),
    ("binary", "median", "accuracy"),
    ("binary", "drop", None),
    ("multiclass", "mean", None),
    ("multiclass", "zero", "accuracy"),
]


@pytest.mark.parametrize("kind, fill, scoring", WARM_CASES)
def test_warm_is_a_smaller_network_continued_by_hand(kind, fill, scoring):
    model, y = fitted(kind)
    n_repeats = 2
    seeds = _seeds(3, 1, n_repeats)[0]
    scorer = get_scorer(scoring) if scoring else (lambda est, Xs, ys: est.score(Xs, ys))
    expected, baseline = _warm_oracle(model, X, y, fill, seeds, scorer)

    before = deepcopy(model[-1].coefs_)
    result = nn_importance(
        model,
        X,
        y,
        method="ablation",
        retrain="warm",
        fill=fill,
        scoring=scoring,
        n_repeats=n_repeats,
        random_state=3,
    )
    assert result.importances.shape == (P, n_repeats)
    # Same arithmetic up to the order of sums: a few L-BFGS iterations keep the
    # difference at rounding level.
    assert_allclose(result.importances, expected, rtol=1e-7, atol=1e-9)
    assert_allclose(result.baseline_score, baseline, rtol=1e-9)
    for w, w0 in zip(model[-1].coefs_, before):  # the fitted model is untouched
        assert_array_equal(w, w0)


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "adam", "max_iter": 40},
        {"solver": "sgd", "max_iter": 40},
        # Stopped by its tolerance: the continued training starts with fresh counters.
        {"solver": "adam", "max_iter": 300, "tol": 1e-3, "n_iter_no_change": 3},
        # Its validation split is not used when training continues.
        {"solver": "adam", "max_iter": 300, "early_stopping": True},
    ],
    ids=["adam", "sgd", "adam-converged", "adam-early-stopping"],
)
def test_warm_stochastic_solvers_are_continued_by_hand(params):
    model = _mlp(learning_rate_init=0.01, **params).fit(X, Y)
    if params["max_iter"] == 300:
        assert model[-1].n_iter_ < 300  # it stopped by itself
    seeds = _seeds(5, 1, 2)[0]
    expected, baseline = _warm_oracle(
        model, X, Y, "mean", seeds, lambda est, Xs, ys: est.score(Xs, ys)
    )
    result = nn_importance(
        model, X, Y, method="ablation", retrain="warm", n_repeats=2, random_state=5
    )
    assert_allclose(result.importances, expected, rtol=1e-7, atol=1e-9)
    assert_allclose(result.baseline_score, baseline, rtol=1e-9)
    # Different seeds shuffle the mini-batches differently.
    assert np.ptp(result.importances, axis=1).max() > 1e-9


class _Recorder:
    """A scorer that keeps every network it scores (in task order with n_jobs=1)."""

    def __init__(self):
        self.models = []

    def __call__(self, estimator, X, y):
        self.models.append(deepcopy(estimator))
        return estimator.score(X, y)


@pytest.mark.parametrize(
    "kind, solver", [("reg", "adam"), ("reg", "sgd"), ("reg", "lbfgs"), ("clf", "adam")]
)
@pytest.mark.parametrize("fill", ["mean", "drop"])
def test_warm_ablated_row_stays_zero(monkeypatch, kind, solver, fill):
    # Ten iterations of continued training, so that the other weights clearly move.
    monkeypatch.setattr(_ablation, "WARM_MIN_ITER", 10)
    y = Y if kind == "reg" else Y_MULTICLASS
    model = _mlp(kind, solver=solver, max_iter=30).fit(X, y)
    mlp = model[-1]
    recorder = _Recorder()
    nn_importance(
        model,
        X,
        y,
        method="ablation",
        retrain="warm",
        fill=fill,
        scoring=recorder,
        n_repeats=1,
        random_state=0,
    )
    # The scorer sees the whole pipeline, with the continued network at its end.
    baseline, *ablated = [model[-1] for model in recorder.models]
    assert len(ablated) == P
    assert baseline.n_iter_ == 10 or solver == "lbfgs"
    assert np.abs(baseline.coefs_[0] - mlp.coefs_[0]).min() > 0  # training happened
    Xn = model[0].transform(X)
    noise = np.random.RandomState(1).normal(size=N) * 5
    for i, net in enumerate(ablated):
        assert np.all(net.coefs_[0][i] == 0.0)
        others = np.delete(net.coefs_[0] - mlp.coefs_[0], i, axis=0)
        assert np.abs(others).max() > 1e-6
        # Without its row, the network's output does not depend on input i.
        varied = Xn.copy()
        varied[:, i] += noise
        predict = net.predict if kind == "reg" else net.predict_proba
        assert_array_equal(predict(varied), predict(Xn))


def test_warm_mean_fill_equals_drop_behind_a_standard_scaler():
    # The training mean sits at 0 after StandardScaler: nothing to fold into the bias.
    model, y = fitted("reg")
    kwargs = {"method": "ablation", "retrain": "warm", "n_repeats": 2}
    mean = nn_importance(model, X, y, fill="mean", random_state=0, **kwargs)
    drop = nn_importance(model, X, y, fill="drop", random_state=0, **kwargs)
    assert_allclose(mean.importances, drop.importances, rtol=1e-9, atol=1e-12)
    # Not so for a fill elsewhere.
    other = nn_importance(model, X, y, fill=1.5, random_state=0, **kwargs)
    assert np.abs(other.importances - drop.importances).max() > 1e-6


def test_warm_noise_input_of_a_converged_network_is_near_zero():
    """Column 4 is pure noise. A converged, regularised network gives it a small
    first-layer row, and without it the continued network scores the held-out rows
    as well as the continued baseline. Measured with this set-up and with data and
    network seeds 0-3: |I_4| <= 6e-4 per draw, every informative input >= 0.09. The
    test allows |I_4| < 0.01 and < 0.1 x the smallest informative importance, room
    for other BLAS builds (L-BFGS is deterministic, but rounding differs)."""
    model = _mlp(alpha=1.0, max_iter=1000, tol=1e-7)
    result = nn_importance(
        model,
        X,
        Y,
        method="ablation",
        retrain="warm",
        cv=KFold(3, shuffle=True, random_state=0),
        n_repeats=2,
        random_state=0,
    )
    importance = result.importances_mean
    assert result.importances.shape == (P, 6)
    assert abs(importance[4]) < 0.01
    assert abs(importance[4]) < 0.1 * importance[:4].min()


def test_warm_is_the_same_for_any_n_jobs():
    model, y = fitted("binary")
    kwargs = {"method": "ablation", "retrain": "warm", "n_repeats": 2}
    one = nn_importance(model, X, y, n_jobs=1, random_state=0, **kwargs)
    two = nn_importance(model, X, y, n_jobs=2, random_state=0, **kwargs)
    assert_array_equal(one.importances, two.importances)


# --------------------------------------------------------------------------------------
# Friedman #1 and the shape of the draws with cross-fitting


@pytest.fixture(scope="module")
def friedman():
    """Inputs 0-4 informative, 5-9 noise; a network fitted once (seed 0).

    Measured over data/network seeds 0-7 with this set-up: every fill and
    permutation put the five informative inputs first for all 8 seeds, the smallest
    informative importance exceeding the largest noise one by >= 63 % of it."""
    X, y = make_friedman1(n_samples=300, noise=0.5, random_state=0)
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(20,), solver="lbfgs", max_iter=300, random_state=0
        ),
    ).fit(X, y)
    return X, y, model


@pytest.mark.parametrize(
    "method, fill",
    [
        ("permutation", None),
        *[("ablation", fill) for fill in ["mean", "median", "zero", 0.25, "drop"]],
    ],
)
def test_friedman_informative_inputs_first(friedman, method, fill):
    X, y, model = friedman
    selector = NNImportanceSelector(
        model,
        method=method,
        fill="mean" if fill is None else fill,
        retrain="warm",
        n_repeats=2,
        prefit=True,
        random_state=0,
    ).fit(X, y)
    importances = selector.feature_importances_
    assert selector.importances_.shape == (10, 2)
    assert importances[:5].min() > importances[5:].max(), importances


@pytest.mark.parametrize(
    "method, retrain, n_draws",
    [
        ("permutation", "auto", 6),
        ("ablation", "warm", 6),
        ("ablation", "cold", 6),
        ("ablation", "none", 3),
        ("weights", "auto", 3),
        ("garson", "auto", 3),
        ("olden", "auto", 3),
        ("gradient", "auto", 3),
        ("probe", "auto", 3),
    ],
)
def test_cv_draws(friedman, method, retrain, n_draws):
    X, y, _ = friedman
    X, y = X[:200], y[:200]
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(10,), solver="lbfgs", max_iter=100, random_state=0
        ),
    )
    selector = NNImportanceSelector(
        model, method=method, retrain=retrain, n_repeats=2, cv=3, random_state=0
    ).fit(X, y)
    assert selector.importances_.shape == (10, n_draws)
    assert np.isfinite(selector.importances_).all()
    assert_allclose(
        selector.feature_importances_, selector.importances_.mean(axis=1), rtol=1e-12
    )


# --------------------------------------------------------------------------------------
# Errors before any fitting


class _NoFitRidge(Ridge):
    def fit(self, X, y, sample_weight=None):
        raise AssertionError("fit was called")


class _NoFitMLP(MLPRegressor):
    def fit(self, X, y, sample_weight=None):
        raise AssertionError("fit was called")


@pytest.mark.parametrize(
    "estimator",
    [
        _NoFitRidge(),
        make_pipeline(StandardScaler(), _NoFitRidge()),
        make_pipeline(PCA(2), _NoFitMLP()),
    ],
    ids=["ridge", "scaler-ridge", "pca-mlp"],
)
def test_warm_needs_a_network(estimator):
    with pytest.raises(TypeError, match="retrain='warm'"):
        nn_importance(estimator, X, Y, method="ablation", retrain="warm", cv=3)
    with pytest.raises(TypeError, match="retrain='warm'"):
        NNImportanceSelector(estimator, method="ablation", retrain="warm").fit(X, Y)


@pytest.mark.parametrize("estimator", [_NoFitMLP(), _NoFitRidge()])
def test_drop_needs_retraining(estimator):
    with pytest.raises(ValueError, match="fill='drop'"):
        nn_importance(
            estimator, X, Y, method="ablation", fill="drop", retrain="none", cv=3
        )
    with pytest.raises(ValueError, match="fill='drop'"):
        NNImportanceSelector(
            estimator, method="ablation", fill="drop", retrain="none"
        ).fit(X, Y)


def test_drop_needs_retraining_with_the_default_estimator():
    with pytest.raises(ValueError, match="fill='drop'"):
        NNImportanceSelector(method="ablation", fill="drop", retrain="none").fit(
            X[:50], Y[:50]
        )


def test_drop_needs_retraining_with_the_default_estimator_before_fitting(
    monkeypatch,
):
    def no_fit(*args, **kwargs):
        raise AssertionError("fit was called")

    monkeypatch.setattr("sknnimp._selector.fit_weighted", no_fit)
    with pytest.raises(ValueError, match="fill='drop'"):
        NNImportanceSelector(method="ablation", fill="drop", retrain="none").fit(
            X[:50], Y[:50]
        )


# --------------------------------------------------------------------------------------
# Classifiers


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("scoring", [None, "accuracy", "neg_log_loss"])
@pytest.mark.parametrize("fill", ["mean", "median"])
def test_none_classifier_is_occlusion_by_hand(kind, scoring, fill):
    model, y = fitted(kind)
    if scoring is None or scoring == "accuracy":

        def score(Xs):
            return accuracy_score(y, model.predict(Xs))
    else:

        def score(Xs):
            return get_scorer(scoring)(model, Xs, y)

    baseline = score(X)
    expected = [
        baseline - score(_ablated(X, i, _fill_value(X, i, fill))) for i in range(P)
    ]
    result = nn_importance(
        model, X, y, method="ablation", retrain="none", fill=fill, scoring=scoring
    )
    assert_allclose(result.importances[:, 0], expected, rtol=1e-12, atol=1e-12)
    assert_allclose(result.baseline_score, baseline, rtol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_selector_classifier_warm_and_cold(kind):
    _, y = fitted(kind)
    for retrain in ["warm", "cold"]:
        selector = NNImportanceSelector(
            _mlp("clf", max_iter=100),
            method="ablation",
            retrain=retrain,
            scoring="accuracy",
            n_repeats=1,
            random_state=0,
        ).fit(X, y)
        importances = selector.feature_importances_
        assert importances.shape == (P,)
        assert 0.5 < selector.baseline_score_ <= 1.0
        # Inputs 0 and 2 carry most of the signal; input 4 is noise.
        assert min(importances[0], importances[2]) > importances[4]


# --------------------------------------------------------------------------------------
# Sample weights: a zero weight is a dropped row


def _zero_weight_rows():
    rng = np.random.RandomState(2)
    weights = rng.uniform(0.5, 2.0, size=N)
    # Drop the rows with the largest values of the skewed column, so that the fills
    # computed with and without them differ clearly.
    dropped = X[:, 1] > np.quantile(X[:, 1], 0.7)
    weights[dropped] = 0.0
    return weights, ~dropped


@pytest.mark.parametrize("fill", [*FILLS])
def test_none_zero_weights_drop_rows(fill):
    weights, keep = _zero_weight_rows()
    model, y = fitted("reg")
    kwargs = {"method": "ablation", "retrain": "none", "fill": fill}
    weighted = nn_importance(model, X, y, sample_weight=weights, **kwargs)
    kept = nn_importance(model, X[keep], y[keep], sample_weight=weights[keep], **kwargs)
    assert_allclose(weighted.importances, kept.importances, rtol=1e-10, atol=1e-12)
    assert_allclose(weighted.baseline_score, kept.baseline_score, rtol=1e-12)
    if fill in ("mean", "median"):
        unweighted = nn_importance(model, X, y, **kwargs)
        assert np.abs(unweighted.importances - kept.importances).max() > 1e-3


@pytest.mark.parametrize("fill", [*FILLS, "drop"])
def test_cold_zero_weights_drop_rows(fill):
    weights, keep = _zero_weight_rows()
    # Cross-fitting on explicit folds that hold the same kept rows.
    position = np.cumsum(keep) - 1
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    kept_splits = [
        (position[train[keep[train]]], position[test[keep[test]]])
        for train, test in splits
    ]
    kwargs = {"method": "ablation", "retrain": "cold", "fill": fill, "n_repeats": 1}
    for cv, kept_cv in [(None, None), (splits, kept_splits)]:
        model = Ridge(alpha=1.0).fit(X, Y, sample_weight=weights)
        weighted = nn_importance(
            model, X, Y, sample_weight=weights, cv=cv, random_state=0, **kwargs
        )
        kept = nn_importance(
            Ridge(alpha=1.0).fit(X[keep], Y[keep], sample_weight=weights[keep]),
            X[keep],
            Y[keep],
            sample_weight=weights[keep],
            cv=kept_cv,
            random_state=0,
            **kwargs,
        )
        assert_allclose(weighted.importances, kept.importances, rtol=1e-8, atol=1e-10)
        assert_allclose(weighted.baseline_score, kept.baseline_score, rtol=1e-10)


def test_weighted_mean_fill_is_by_hand():
    weights, _ = _zero_weight_rows()
    model, y = fitted("reg")
    expected, baseline = _warm_oracle(
        model,
        X,
        y,
        "mean",
        _seeds(0, 1, 1)[0],
        lambda est, Xs, ys: est.score(Xs, ys, sample_weight=weights),
        sample_weight=weights,
    )
    result = nn_importance(
        model,
        X,
        y,
        method="ablation",
        retrain="warm",
        sample_weight=weights,
        n_repeats=1,
        random_state=0,
    )
    assert_allclose(result.importances, expected, rtol=1e-7, atol=1e-9)
    assert_allclose(result.baseline_score, baseline, rtol=1e-9)


def test_min_max_scaler_warm_matches_by_hand():
    model = make_pipeline(MinMaxScaler(), _mlp()[-1]).fit(X, Y)
    seeds = _seeds(0, 1, 1)[0]
    expected, baseline = _warm_oracle(
        model, X, Y, "median", seeds, lambda est, Xs, ys: est.score(Xs, ys)
    )
    result = nn_importance(
        model,
        X,
        Y,
        method="ablation",
        retrain="warm",
        fill="median",
        n_repeats=1,
        random_state=0,
    )
    assert_allclose(result.importances, expected, rtol=1e-7, atol=1e-9)
    assert_allclose(result.baseline_score, baseline, rtol=1e-9)


@pytest.mark.parametrize("cv", [None, KFold(3, shuffle=True, random_state=0)])
@pytest.mark.parametrize(
    "kind, scoring",
    [("reg", None), ("reg", "neg_mean_absolute_error"), ("clf", "neg_log_loss")],
)
def test_warm_adam_equals_one_by_one_fits_scored_whole(monkeypatch, kind, scoring, cv):
    # adam: the continuations are trained side by side and, without per-row
    # contributions (no cv), scored from the network's outputs on the rows' network
    # inputs. The oracle: scikit-learn's own warm-started fit, network by network,
    # and the whole pipeline scored on the rows as the user passed them.
    from sknnimp.networks import NetworkModel, _mlp
    from sknnimp.networks._base import Network
    from sknnimp.networks._mlp import MLPNetwork

    y = Y if kind == "reg" else Y_MULTICLASS
    model = _mlp_pipeline(kind, y)
    kwargs = dict(
        method="ablation",
        retrain="warm",
        fill=1.5,  # a constant held in the bias (the training mean is 0 here)
        scoring=scoring,
        cv=cv,
        n_repeats=2,
        random_state=4,
    )
    stacked, scored_from_outputs = [], []
    continue_stack, network_of = _mlp._continue_stack, NetworkModel.network_of

    def counted(*args):
        stacked.append(len(args[4]))
        yield from continue_stack(*args)

    def counted_network_of(self, final):
        scored_from_outputs.append(final)
        return network_of(self, final)

    monkeypatch.setattr(_mlp, "_continue_stack", counted)
    monkeypatch.setattr(NetworkModel, "network_of", counted_network_of)
    fast = nn_importance(model, X, y, **kwargs)
    n_folds = 1 if cv is None else 3
    assert sum(stacked) == n_folds * 2 * (P + 1)  # every continuation, side by side
    assert len(scored_from_outputs) == (n_folds * 2 * (P + 1) if cv is None else 0)
    monkeypatch.setattr(MLPNetwork, "continued_together", Network.continued_together)
    monkeypatch.setattr(_ablation, "_network_stand_in", lambda *args: None)
    slow = nn_importance(model, X, y, **kwargs)
    assert_allclose(fast.importances, slow.importances, rtol=1e-9, atol=1e-12)
    assert_allclose(fast.baseline_score, slow.baseline_score, rtol=1e-12)
    # Mini-batches of 32 rows: the repeats' seeds shuffle them differently.
    assert np.abs(fast.importances[:, 0] - fast.importances[:, 1]).max() > 1e-6


def _mlp_pipeline(kind, y):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    model = _mlp(
        kind, solver="adam", max_iter=60, learning_rate_init=0.01, batch_size=32
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)
