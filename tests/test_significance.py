"""Confidence intervals, randomization p-values and ``threshold="significant"``.

The helpers are checked against SciPy (``t.interval``, ``false_discovery_control``) and
against counts done by hand; the selector on Friedman #1, whose first five inputs are
informative and the other five pure noise.
"""

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.datasets import make_friedman1
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import NNImportanceSelector, nn_importance
from sknnimp._significance import (
    benjamini_hochberg,
    confidence_interval,
    min_null_repeats,
    randomization_pvalues,
)

INFORMATIVE = [0, 1, 2, 3, 4]
NOISE = [5, 6, 7, 8, 9]

# --------------------------------------------------------------------------------
# confidence_interval


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("n_draws", [2, 3, 5, 30])
def test_confidence_interval_equals_scipy(n_draws, level):
    draws = (
        np.random.RandomState(n_draws).normal(size=(7, n_draws))
        * np.arange(1, 8)[:, None]
        + np.arange(7)[:, None]
    )
    expected = np.column_stack(
        stats.t.interval(
            level,
            n_draws - 1,
            loc=draws.mean(axis=1),
            scale=stats.sem(draws, axis=1),
        )
    )
    assert_allclose(confidence_interval(draws, level=level), expected, rtol=1e-12)


def test_confidence_interval_default_level_is_95_percent():
    draws = np.random.RandomState(0).normal(size=(3, 6))
    assert_allclose(
        confidence_interval(draws), confidence_interval(draws, level=0.95), rtol=0
    )


def test_confidence_interval_of_constant_draws_is_a_point():
    draws = np.array([[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]])
    assert_array_equal(confidence_interval(draws), [[2.0, 2.0], [0.0, 0.0]])


def test_confidence_interval_needs_two_draws():
    interval = confidence_interval(np.ones((4, 1)))
    assert interval.shape == (4, 2)
    assert np.isnan(interval).all()


# --------------------------------------------------------------------------------
# benjamini_hochberg


def _pvalue_samples():
    rng = np.random.RandomState(0)
    for m in [1, 2, 5, 10, 40]:
        for _ in range(20):
            signal = rng.uniform(0, 0.02, size=m)
            noise = rng.uniform(size=m)
            yield np.where(rng.rand(m) < 0.4, signal, noise)
        # Discrete p-values, as the randomization test gives, with many ties.
        for n_nulls in [9, 19, 39]:
            yield (1 + rng.randint(0, 4, size=m)) / (1 + n_nulls)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1, 0.2, 0.5])
def test_benjamini_hochberg_equals_scipy(alpha):
    n_rejected = 0
    for pvalues in _pvalue_samples():
        expected = stats.false_discovery_control(pvalues, method="bh") <= alpha
        assert_array_equal(benjamini_hochberg(pvalues, alpha), expected)
        n_rejected += expected.sum()
    assert n_rejected > 0


def test_benjamini_hochberg_step_up_by_hand():
    # Sorted: 0.01 <= 0.05 * 1/5 passes; 0.03 > 0.05 * 2/5 fails; 0.03 <= 0.05 * 3/5
    # passes, so the three smallest are rejected (step-up), the others not.
    pvalues = np.array([0.2, 0.03, 0.01, 0.03, 0.9])
    assert_array_equal(
        benjamini_hochberg(pvalues, 0.05), [False, True, True, True, False]
    )
    assert not benjamini_hochberg(pvalues, 0.001).any()
    assert benjamini_hochberg(pvalues, 1.0).all()


# --------------------------------------------------------------------------------
# randomization_pvalues and min_null_repeats


def test_randomization_pvalues_by_hand():
    observed = np.array([1.0, 2.0, 3.0, 10.0])
    null = np.array(
        [
            [0.0, 1.0, 2.0, 0.5],  # 2 of 4 >= 1 (ties count)
            [0.0, 0.1, 0.2, 0.3],  # none >= 2
            [3.0, 3.0, 3.0, 3.0],  # all equal: all count
            [11.0, 9.0, 12.0, 10.5],  # 3 of 4 >= 10
        ]
    )
    assert_allclose(
        randomization_pvalues(observed, null), [3 / 5, 1 / 5, 5 / 5, 4 / 5], rtol=0
    )


@pytest.mark.parametrize(
    "alpha, expected", [(0.5, 1), (0.2, 4), (0.1, 9), (0.05, 19), (0.03, 33), (0.9, 1)]
)
def test_min_null_repeats(alpha, expected):
    assert min_null_repeats(alpha) == expected
    assert 1 / (1 + expected) <= alpha
    if expected > 1:
        assert 1 / expected > alpha


# --------------------------------------------------------------------------------
# p-values and intervals through nn_importance and the selector, small problems


def _small_data(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    y = 2 * X[:, 0] + np.sin(2 * X[:, 1]) + 0.1 * rng.normal(size=n)
    return X, y


def _small_mlp(cls=MLPRegressor):
    return cls(
        hidden_layer_sizes=(5,), solver="lbfgs", alpha=1.0, max_iter=200, random_state=0
    )


METHODS = ["weights", "garson", "olden", "gradient", "probe", "permutation", "ablation"]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_gives_randomization_pvalues(method):
    X, y = _small_data()
    estimator = _small_mlp().fit(X, y)
    n_nulls = 3
    result = nn_importance(
        estimator,
        X,
        y,
        method=method,
        n_repeats=2,
        groups=[[2, 3]],
        null_repeats=n_nulls,
        random_state=0,
    )
    assert result.null_importances.shape == (3, n_nulls)
    observed = result.group_importances.mean(axis=1)
    exceed = (result.null_importances >= observed[:, None]).sum(axis=1)
    assert_allclose(result.group_pvalues, (1 + exceed) / (1 + n_nulls), rtol=0)
    assert_allclose(result.pvalues, result.group_pvalues[[0, 1, 2, 2]], rtol=0)
    assert set(np.round(result.pvalues * (1 + n_nulls), 9)) <= {1, 2, 3, 4}
    # The null models were fitted on a shuffled target, the observed one on the real
    # target: x0 carries most of the signal, so it beats every null.
    assert result.pvalues[0] == 1 / (1 + n_nulls)
    # The estimator passed in is not refitted.
    assert_array_equal(estimator.predict(X), _small_mlp().fit(X, y).predict(X))


def test_no_pvalues_without_null_repeats():
    X, y = _small_data()
    result = nn_importance(_small_mlp().fit(X, y), X, y)
    assert "pvalues" not in result and "null_importances" not in result
    selector = NNImportanceSelector(_small_mlp()).fit(X, y)
    assert not hasattr(selector, "pvalues_")


def test_null_repeats_need_y():
    X, y = _small_data()
    with pytest.raises(ValueError, match="needs y"):
        nn_importance(_small_mlp().fit(X, y), X, null_repeats=3)


def test_cross_fitted_pvalues_and_prefit_selector():
    X, y = _small_data()
    result = nn_importance(
        _small_mlp(), X, y, method="permutation", cv=3, null_repeats=4, random_state=0
    )
    assert result.importances.shape == (4, 3 * 5)
    assert result.pvalues[0] == 1 / 5
    prefit = NNImportanceSelector(
        _small_mlp().fit(X, y), prefit=True, null_repeats=4, random_state=0
    ).fit(X, y)
    assert prefit.pvalues_.shape == (4,)
    assert prefit.pvalues_[0] == 1 / 5


def test_pvalues_are_identical_for_any_backend():
    X, y = _small_data()
    kwargs = dict(method="gradient", null_repeats=4, random_state=3)
    serial = NNImportanceSelector(_small_mlp(), n_jobs=1, **kwargs).fit(X, y)
    with joblib.parallel_backend("threading", n_jobs=2):
        threaded = NNImportanceSelector(_small_mlp(), **kwargs).fit(X, y)
    assert_array_equal(serial.pvalues_, threaded.pvalues_)
    other_seed = NNImportanceSelector(_small_mlp(), **{**kwargs, "random_state": 4})
    assert other_seed.fit(X, y).pvalues_.shape == (4,)


def test_selector_confidence_intervals():
    X, y = _small_data()
    permutation = NNImportanceSelector(
        _small_mlp(), method="permutation", n_repeats=6, groups=[[2, 3]], random_state=0
    ).fit(X, y)
    draws = permutation.importances_
    assert draws.shape == (4, 6)
    expected = np.column_stack(
        stats.t.interval(
            0.95, 5, loc=draws.mean(axis=1), scale=stats.sem(draws, axis=1)
        )
    )
    assert_allclose(permutation.importances_ci_, expected, rtol=1e-10)
    assert_array_equal(permutation.importances_ci_[2], permutation.importances_ci_[3])
    low, high = permutation.importances_ci_.T
    assert (low <= permutation.feature_importances_).all()
    assert (permutation.feature_importances_ <= high).all()

    # A deterministic method has one draw, hence no interval; with folds it has one.
    single = NNImportanceSelector(_small_mlp(), random_state=0).fit(X, y)
    assert single.importances_ci_.shape == (4, 2)
    assert np.isnan(single.importances_ci_).all()
    folds = NNImportanceSelector(_small_mlp(), cv=3, random_state=0).fit(X, y)
    assert folds.importances_.shape == (4, 3)
    # Nadeau-Bengio: the folds' variance inflated by n_test / n_train (1/2 for 3
    # folds of equal size), by hand.
    draws = folds.importances_
    sizes = [len(test) for _, test in KFold(3).split(X)]
    n_test = np.mean(sizes)
    n_train = len(X) - n_test
    half = stats.t.ppf(0.975, 2) * np.sqrt(
        (1 / 3 + n_test / n_train) * draws.var(axis=1, ddof=1)
    )
    expected = np.column_stack([draws.mean(axis=1) - half, draws.mean(axis=1) + half])
    assert_allclose(folds.importances_ci_, expected, rtol=1e-10)
    # Wider than the plain t-interval, which ignores the overlap of training sets.
    plain = confidence_interval(draws)
    assert (np.diff(folds.importances_ci_, axis=1) > np.diff(plain, axis=1)).all()


# --------------------------------------------------------------------------------
# Friedman #1


def _friedman_model():
    return make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(20,), max_iter=1000, random_state=0),
    )


X_FRIEDMAN, Y_FRIEDMAN = make_friedman1(n_samples=400, random_state=0)
N_NULLS = 19
# The five informative inputs can all reach p = 1/20; Benjamini-Hochberg rejects the
# k-th smallest p-value if it is at most alpha * k / 10, so alpha = 0.1 lets the five
# at 1/20 through (0.05 <= 0.1 * 5 / 10).
ALPHA = 0.1
_SELECTORS = {}


def _friedman_selector(n_jobs):
    if n_jobs not in _SELECTORS:
        _SELECTORS[n_jobs] = NNImportanceSelector(
            _friedman_model(),
            method="gradient",
            null_repeats=N_NULLS,
            threshold="significant",
            alpha=ALPHA,
            n_jobs=n_jobs,
            random_state=0,
        ).fit(X_FRIEDMAN, Y_FRIEDMAN)
    return _SELECTORS[n_jobs]


def test_friedman_pvalues():
    pvalues = _friedman_selector(1).pvalues_
    assert pvalues.shape == (10,)
    # The strong inputs beat every one of the 19 null models: the smallest p-value.
    assert_array_equal(pvalues[[0, 1, 3]], 1 / (1 + N_NULLS))
    assert (pvalues[INFORMATIVE] <= 0.1).all()
    # Noise is mostly not significant.
    assert (pvalues[NOISE] > 0.05).sum() >= 4
    assert np.median(pvalues[NOISE]) > 0.3


def test_friedman_pvalues_identical_for_one_and_two_jobs():
    assert_array_equal(_friedman_selector(1).pvalues_, _friedman_selector(2).pvalues_)
    assert_array_equal(
        _friedman_selector(1).feature_importances_,
        _friedman_selector(2).feature_importances_,
    )


def test_significant_selects_the_informative_inputs():
    selector = _friedman_selector(1)
    support = selector.get_support()
    assert support[INFORMATIVE].sum() >= 4 and support[[0, 1, 3]].all()
    assert support[NOISE].sum() <= 1
    assert np.isnan(selector.threshold_)
    expected = benjamini_hochberg(selector.pvalues_, ALPHA)
    assert_array_equal(support, expected)
    assert selector.transform(X_FRIEDMAN).shape == (400, support.sum())


def test_significant_with_max_features():
    selector = _friedman_selector(1)
    kept = selector.get_support(indices=True)
    limited = NNImportanceSelector(
        _friedman_model(),
        method="gradient",
        null_repeats=N_NULLS,
        threshold="significant",
        alpha=ALPHA,
        max_features=2,
        random_state=0,
    )
    # Same fit as above: only the selection differs.
    limited.__dict__.update(
        {k: v for k, v in vars(selector).items() if k.endswith("_")}
    )
    limited.max_features_ = 2
    chosen = limited.get_support(indices=True)
    assert len(chosen) == 2 and set(chosen) <= set(kept)
    top = np.argsort(-selector.feature_importances_[kept], kind="mergesort")[:2]
    assert_array_equal(np.sort(chosen), np.sort(kept[top]))


# --------------------------------------------------------------------------------
# Errors and grids


@pytest.mark.parametrize(
    "alpha, null_repeats, needed",
    [(0.05, 18, 19), (0.1, 8, 9), (0.2, 3, 4), (0.01, 50, 99)],
)
def test_significant_needs_enough_null_repeats(
    alpha, null_repeats, needed, monkeypatch
):
    def forbidden(*args, **kwargs):
        raise AssertionError("fitted before the parameters were checked")

    monkeypatch.setattr(MLPRegressor, "fit", forbidden)
    selector = NNImportanceSelector(
        MLPRegressor(),
        threshold="significant",
        alpha=alpha,
        null_repeats=null_repeats,
    )
    X, y = _small_data()
    with pytest.raises(ValueError) as info:
        selector.fit(X, y)
    message = str(info.value)
    assert f"null_repeats >= {needed}" in message
    assert f"null_repeats={null_repeats}" in message
    assert f"alpha={alpha}" in message
    assert "1 / (B + 1)" in message


def test_significant_with_just_enough_null_repeats():
    # Three groups (x0, x1, {x2, x3}); with 9 null models the smallest p-value is
    # 0.1 and Benjamini-Hochberg at alpha = 0.35 rejects a single hypothesis at
    # p <= 0.35 / 3.
    X, y = _small_data()
    selector = NNImportanceSelector(
        _small_mlp(),
        groups=[[2, 3]],
        threshold="significant",
        alpha=0.35,
        null_repeats=9,
        random_state=0,
    ).fit(X, y)
    assert selector.pvalues_[0] == 1 / 10
    assert_array_equal(
        selector.get_support(),
        benjamini_hochberg(selector.pvalues_[[0, 1, 2]], 0.35)[[0, 1, 2, 2]],
    )
    assert selector.get_support()[0] and not selector.get_support()[2:].any()


def test_classifier_pvalues():
    X, y = _small_data()
    labels = (y > np.median(y)).astype(int)
    selector = NNImportanceSelector(
        _small_mlp(MLPClassifier), null_repeats=4, random_state=0
    ).fit(X, labels)
    assert selector.pvalues_[0] == 1 / 5


def test_grid_search_over_alpha():
    # Three strong inputs and two of noise. With 9 null models the smallest p-value
    # is 0.1: alpha = 0.2 rejects the three strong ones if they reach it
    # (0.1 <= 0.2 * 3 / 5); alpha = 0.5 may reject more.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] + X[:, 1] - X[:, 2] + 0.1 * rng.normal(size=200)
    network = MLPRegressor(hidden_layer_sizes=(10,), max_iter=300, random_state=0)
    pipeline = Pipeline(
        [
            (
                "select",
                NNImportanceSelector(
                    make_pipeline(StandardScaler(), network),
                    threshold="significant",
                    null_repeats=9,
                    random_state=0,
                ),
            ),
            ("ridge", Ridge()),
        ]
    )
    grid = GridSearchCV(
        pipeline, {"select__alpha": [0.2, 0.5]}, cv=2, error_score="raise"
    ).fit(X, y)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_score_ > 0.9
    best = grid.best_estimator_.named_steps["select"]
    assert best.alpha == grid.best_params_["select__alpha"]
    support = best.get_support()
    assert_array_equal(support, benjamini_hochberg(best.pvalues_, best.alpha))
    assert support[:3].all()
