"""The selector in scikit-learn: pipelines, grids, other selectors, pandas, weights."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification, make_friedman1
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import RFE, RFECV, SelectFromModel
from sklearn.inspection import permutation_importance
from sklearn.linear_model import Ridge
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, check_cv
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import NNImportanceSelector, nn_importance

NETWORK_METHODS = ["weights", "garson", "olden", "gradient", "probe"]


def _mlp(**params):
    params = {"hidden_layer_sizes": (16,), "solver": "lbfgs", "max_iter": 200, **params}
    return make_pipeline(StandardScaler(), MLPRegressor(random_state=0, **params))


@pytest.fixture(scope="module")
def friedman():
    return make_friedman1(n_samples=200, random_state=0)


def test_grid_search_over_max_features_and_method(friedman):
    X, y = friedman
    pipe = Pipeline(
        [
            ("select", NNImportanceSelector(_mlp(), threshold=-np.inf)),
            ("model", Ridge()),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {"select__max_features": [2, 5], "select__method": ["gradient", "olden"]},
        cv=3,
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    n_kept = grid.best_estimator_["select"].get_support().sum()
    assert n_kept == grid.best_params_["select__max_features"]


def test_set_output_pandas_keeps_column_names(friedman):
    X, y = friedman
    columns = [f"x{i}" for i in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    selector = NNImportanceSelector(_mlp(), threshold=-np.inf, max_features=4)
    selector.set_output(transform="pandas").fit(df, y)
    out = selector.transform(df)
    assert isinstance(out, pd.DataFrame)
    kept = [columns[i] for i in selector.get_support(indices=True)]
    assert list(out.columns) == kept
    assert list(selector.get_feature_names_out()) == kept
    assert_array_equal(selector.feature_names_in_, columns)
    assert_allclose(out.to_numpy(), X[:, selector.get_support()])


def test_feature_importances_readable_by_select_from_model_and_rfe(friedman):
    X, y = friedman
    inner = NNImportanceSelector(_mlp(), method="gradient")
    sfm = SelectFromModel(inner, threshold=-np.inf, max_features=3).fit(X, y)
    reference = inner.fit(X, y).feature_importances_
    expected = np.sort(np.argsort(-reference, kind="mergesort")[:3])
    assert_array_equal(sfm.get_support(indices=True), expected)

    rfe = RFE(NNImportanceSelector(_mlp()), n_features_to_select=5, step=1).fit(X, y)
    assert rfe.n_features_ == 5
    assert rfe.support_.sum() == 5
    assert rfe.ranking_.min() == 1


class _FixedImportances(BaseEstimator):
    """An estimator whose importances are given: an oracle for SelectFromModel."""

    def __init__(self, importances=None):
        self.importances = importances

    def fit(self, X, y=None):
        self.feature_importances_ = np.asarray(self.importances)
        return self


@pytest.mark.parametrize(
    "threshold, max_features",
    [
        (None, None),
        ("median", None),
        ("1.5*mean", None),
        (0.3, None),
        (-np.inf, 3),
        (None, 2),
        (-np.inf, lambda X: X.shape[1] // 2),
    ],
)
def test_selection_matches_select_from_model(monkeypatch, threshold, max_features):
    # Ties (features 1, 2 and 4) and the selection rule are SelectFromModel's.
    X = np.random.RandomState(0).normal(size=(20, 6))
    y = X[:, 0]
    importances = np.array([0.1, 0.5, 0.5, 0.05, 0.5, 0.2])
    selector = NNImportanceSelector(
        _mlp(max_iter=5), threshold=threshold, max_features=max_features
    ).fit(X, y)
    selector.feature_importances_ = importances
    reference = SelectFromModel(
        _FixedImportances(importances), threshold=threshold, max_features=max_features
    ).fit(X, y)
    assert_array_equal(selector.get_support(), reference.get_support())
    assert selector.threshold_ == pytest.approx(reference.threshold_)


def test_prefit_does_not_refit_and_needs_no_target(friedman):
    X, y = friedman
    model = _mlp().fit(X, y)
    coefs = [w.copy() for w in model[-1].coefs_]
    selector = NNImportanceSelector(model, prefit=True, method="olden").fit(X)
    assert selector.estimator_ is not model
    for w, w_fitted in zip(coefs, selector.estimator_[-1].coefs_):
        assert_array_equal(w, w_fitted)
    assert_allclose(
        selector.feature_importances_,
        nn_importance(model, X, method="olden").importances_mean,
    )
    with pytest.raises(NotFittedError, match="prefit"):
        NNImportanceSelector(_mlp(), prefit=True).fit(X, y)


def test_sample_weight_zero_equals_dropping_rows(friedman):
    # lbfgs is deterministic, and zero weights remove rows from the loss, the scaler's
    # statistics, the spreads and the means of the importance (the optimiser's
    # path differs by rounding only, hence the tolerance).
    X, y = friedman
    weights = np.ones(len(y))
    weights[::3] = 0
    kept = weights > 0
    for method in NETWORK_METHODS:
        weighted = NNImportanceSelector(_mlp(), method=method, random_state=0)
        weighted.fit(X, y, sample_weight=weights)
        dropped = NNImportanceSelector(_mlp(), method=method, random_state=0)
        dropped.fit(X[kept], y[kept])
        assert_allclose(
            weighted.feature_importances_,
            dropped.feature_importances_,
            rtol=1e-4,
            err_msg=method,
        )


def test_default_estimator_follows_the_target():
    X, y_class = make_classification(n_samples=60, n_features=4, random_state=0)
    selector = NNImportanceSelector(random_state=0).fit(X, y_class)
    assert isinstance(selector.estimator_[-1], MLPClassifier)
    assert isinstance(selector.estimator_[-2], StandardScaler)
    # A float target of whole numbers (as scikit-learn's diabetes data) is regression,
    # fitted on the standardized target.
    y_counts = np.round(X[:, 0] * 50 + 150)
    selector = NNImportanceSelector(random_state=0).fit(X, y_counts)
    assert isinstance(selector.estimator_, TransformedTargetRegressor)
    assert isinstance(selector.estimator_.transformer_, StandardScaler)
    assert isinstance(selector.estimator_.regressor_[-1], MLPRegressor)
    assert selector.estimator_.regressor_[-1].random_state == 0


def test_random_state_seeds_an_unseeded_network(friedman):
    X, y = friedman
    net = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=50)
    )
    first = NNImportanceSelector(net, random_state=3).fit(X, y)
    second = NNImportanceSelector(net, random_state=3).fit(X, y)
    assert_array_equal(first.feature_importances_, second.feature_importances_)
    assert net[-1].random_state is None  # the user's estimator is untouched


@pytest.mark.parametrize("method", NETWORK_METHODS)
def test_fitted_attributes(friedman, method):
    X, y = friedman
    selector = NNImportanceSelector(_mlp(), method=method).fit(X, y)
    p = X.shape[1]
    assert selector.n_features_in_ == p
    assert selector.feature_importances_.shape == (p,)
    assert selector.importances_.shape == (p, 1)
    assert_array_equal(selector.importances_[:, 0], selector.feature_importances_)
    assert_array_equal(selector.importances_std_, np.zeros(p))
    assert selector.signed_importances_.shape == (p,)
    if method in ("olden", "probe"):  # one output: the importance is |signed|
        assert_allclose(
            np.abs(selector.signed_importances_), selector.feature_importances_
        )
    elif method == "gradient":  # |mean of derivative| <= mean of |derivative|
        assert np.all(
            np.abs(selector.signed_importances_)
            <= selector.feature_importances_ * (1 + 1e-12)
        )
        assert np.any(selector.signed_importances_ < 0)
    else:
        assert_array_equal(selector.signed_importances_, selector.feature_importances_)


def test_signed_importances_multi_output_are_nan(friedman):
    X, y = friedman
    multi = NNImportanceSelector(_mlp(), method="olden").fit(X, np.c_[y, -y])
    assert np.all(np.isnan(multi.signed_importances_))


@pytest.mark.parametrize(
    "scoring, max_samples, weighted",
    [(None, 1.0, False), ("neg_mean_absolute_error", 0.5, True), ("r2", 50, False)],
)
def test_permutation_draws_equal_scikit_learn(friedman, scoring, max_samples, weighted):
    X, y = friedman
    model = _mlp().fit(X, y)
    weights = np.random.RandomState(1).uniform(0.5, 2, len(y)) if weighted else None
    selector = NNImportanceSelector(
        model,
        prefit=True,
        method="permutation",
        scoring=scoring,
        n_repeats=4,
        max_samples=max_samples,
        random_state=7,
    ).fit(X, y, sample_weight=weights)
    expected = permutation_importance(
        model,
        X,
        y,
        scoring=scoring,
        n_repeats=4,
        max_samples=max_samples,
        sample_weight=weights,
        random_state=7,
    )
    assert_allclose(selector.importances_, expected.importances, rtol=0, atol=1e-9)
    assert_allclose(selector.feature_importances_, expected.importances_mean, atol=1e-9)


@pytest.mark.parametrize("method", ["gradient", "permutation", "ablation"])
def test_cross_fitted_draws(friedman, method):
    X, y = friedman
    selector = NNImportanceSelector(
        _mlp(max_iter=100), method=method, cv=3, n_repeats=2, random_state=0
    ).fit(X, y)
    n_draws = 3 if method == "gradient" else 6
    assert selector.importances_.shape == (X.shape[1], n_draws)
    assert_allclose(selector.feature_importances_, selector.importances_.mean(axis=1))
    assert_allclose(selector.importances_std_, selector.importances_.std(axis=1))
    if method != "gradient":
        assert -1 < selector.baseline_score_ <= 1


def _classifier():
    return MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=500, random_state=0
    )


def test_rfecv_scores_a_classifier_selector_by_accuracy_on_stratified_folds():
    X, y = make_classification(
        n_samples=120, n_features=6, n_informative=3, random_state=0
    )
    selector = NNImportanceSelector(_classifier(), random_state=0)
    assert is_classifier(selector)
    assert is_regressor(NNImportanceSelector(_mlp()))
    assert isinstance(
        check_cv(3, y, classifier=is_classifier(selector)), StratifiedKFold
    )
    rfecv = RFECV(selector, cv=3, step=2).fit(X, y)
    results = rfecv.cv_results_
    assert ((results["mean_test_score"] >= 0) & (results["mean_test_score"] <= 1)).all()
    # The first fold with every feature, by hand: accuracy of the selector fitted on
    # the fold's training rows of StratifiedKFold(3).
    train, test = next(StratifiedKFold(3).split(X, y))
    fitted = clone(selector).fit(X[train], y[train])
    expected = accuracy_score(y[test], fitted.predict(X[test]))
    every = list(results["n_features"]).index(X.shape[1])
    assert results["split0_test_score"][every] == pytest.approx(expected)
    assert_array_equal(fitted.classes_, [0, 1])


def test_rfecv_with_the_default_network_needs_accuracy_and_stratified_folds_passed():
    # The default network is chosen at fit: scikit-learn sees a regressor.
    X, y = make_classification(
        n_samples=90, n_features=4, n_informative=2, n_redundant=0, random_state=0
    )
    assert not is_classifier(NNImportanceSelector())
    rfecv = RFECV(
        NNImportanceSelector(random_state=0),
        cv=StratifiedKFold(3),
        scoring="accuracy",
        step=2,
    ).fit(X, y)
    scores = rfecv.cv_results_["mean_test_score"]
    assert ((scores >= 0.5) & (scores <= 1)).all()


@pytest.mark.parametrize("retrain", ["warm", "cold"])
def test_a_network_fitted_on_a_dataframe_gives_no_feature_name_warning(
    friedman, retrain
):
    X, y = friedman
    df = pd.DataFrame(X, columns=[f"in{i}" for i in range(X.shape[1])])
    mlp = MLPRegressor(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=2000, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("gradient", "permutation", "ablation"):
            selector = NNImportanceSelector(
                mlp, method=method, retrain=retrain, n_repeats=2, random_state=0
            ).fit(df, y)
            selector.estimator_.score(df, y)
            selector.score(df, y)
            selector.predict(df)
            selector.transform(df)
            nn_importance(selector.estimator_, df, y, method=method, n_repeats=2)
