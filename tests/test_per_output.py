"""Per-output importances (``nn_importance(..., per_output=True)``) against runs on one
output alone.

The oracles: scikit-learn's ``permutation_importance`` of a small estimator written
here that predicts one output of the fitted model (same ``random_state``: the same
shuffles), the network-reading methods on a copy of the network whose last layer keeps
only that output's column, central finite differences of one output's prediction, and
the package's own single-output runs on the one-output estimator (which is not a
network, so they take the general route: another computation).
"""

from copy import deepcopy

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.datasets import make_friedman1, make_multilabel_classification
from sklearn.inspection import permutation_importance as sklearn_permutation
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import nn_importance

N_REPEATS = 4


class OneOutput(RegressorMixin, BaseEstimator):
    """Output ``k`` of a fitted multi-output regressor, as a fitted regressor."""

    def __init__(self, model, k):
        self.model = model
        self.k = k

    def fit(self, X, y):
        return self  # already fitted

    def __sklearn_is_fitted__(self):
        return True

    def predict(self, X):
        return self.model.predict(X)[:, self.k]


class OneLabel(ClassifierMixin, BaseEstimator):
    """Label ``k`` of a fitted multilabel classifier, as a fitted binary one."""

    classes_ = np.array([0, 1])

    def __init__(self, model, k):
        self.model = model
        self.k = k

    def fit(self, X, y):
        return self

    def __sklearn_is_fitted__(self):
        return True

    def predict(self, X):
        return self.model.predict(X)[:, self.k]

    def predict_proba(self, X):
        p = self.model.predict_proba(X)[:, self.k]
        return np.column_stack([1 - p, p])


def _two_outputs():
    """Friedman #1 (inputs 0-4) and a second output made of input 5 alone."""
    X, y = make_friedman1(n_samples=160, n_features=7, noise=0.3, random_state=0)
    rng = np.random.RandomState(1)
    Y = np.column_stack([y, 3 * X[:, 5] + 0.1 * rng.normal(size=len(y))])
    return X, Y


X, Y = _two_outputs()


@pytest.fixture(scope="module")
def regressor():
    return make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(12,), solver="lbfgs", max_iter=400, random_state=0
        ),
    ).fit(X, Y)


@pytest.fixture(scope="module")
def bare_regressor():
    return MLPRegressor(
        hidden_layer_sizes=(12, 6), solver="lbfgs", max_iter=400, random_state=0
    ).fit(X, Y)


@pytest.fixture(scope="module")
def multilabel():
    Xc, Yc = make_multilabel_classification(
        n_samples=160, n_features=6, n_classes=3, random_state=0
    )
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300, random_state=0
        ),
    ).fit(Xc, Yc)
    return model, Xc, Yc


def _sliced(mlp, k):
    """A copy of the fitted MLP regressor that keeps only output ``k``."""
    single = deepcopy(mlp)
    single.coefs_[-1] = mlp.coefs_[-1][:, [k]]
    single.intercepts_[-1] = mlp.intercepts_[-1][[k]]
    single.n_outputs_ = 1
    return single


def _finite_difference_gradient(predict, X, h=1e-5):
    """``sigma_i * mean |d predict / d x_i|`` by central differences."""
    scores = np.empty(X.shape[1])
    for i in range(X.shape[1]):
        up, down = X.copy(), X.copy()
        up[:, i] += h
        down[:, i] -= h
        slope = (predict(up) - predict(down)) / (2 * h)
        scores[i] = X[:, i].std() * np.abs(slope).mean()
    return scores


# ------------------------------------------------------------ the check


@pytest.mark.parametrize("scoring", [None, "neg_mean_absolute_error"])
@pytest.mark.parametrize("max_samples", [1.0, 0.6])
def test_permutation_per_output_equals_single_output_runs(
    regressor, scoring, max_samples
):
    """Output k's draws are scikit-learn's permutation importance of a model that
    predicts output k only, scored on y[:, k], with the same random_state."""
    result = nn_importance(
        regressor,
        X,
        Y,
        method="permutation",
        scoring=scoring,
        n_repeats=N_REPEATS,
        max_samples=max_samples,
        per_output=True,
        random_state=0,
    )
    assert result.output_draws.shape == (X.shape[1], 2, N_REPEATS)
    assert result.output_names == ["output 0", "output 1"]
    for k in range(2):
        oracle = sklearn_permutation(
            OneOutput(regressor, k),
            X,
            Y[:, k],
            scoring=scoring,
            n_repeats=N_REPEATS,
            max_samples=max_samples,
            random_state=0,
        )
        assert_allclose(result.output_draws[:, k], oracle.importances, atol=1e-10)
        assert_allclose(result.output_importances[:, k], oracle.importances_mean)
        assert_allclose(result.output_importances_std[:, k], oracle.importances_std)
    # The run on all outputs is unchanged by asking for the outputs too.
    joint = nn_importance(
        regressor,
        X,
        Y,
        method="permutation",
        scoring=scoring,
        n_repeats=N_REPEATS,
        max_samples=max_samples,
        random_state=0,
    )
    assert_allclose(result.importances, joint.importances, rtol=0, atol=0)
    # Each output's importance goes to its own inputs.
    assert set(np.argsort(result.output_importances[:, 0])[-3:]) <= {0, 1, 2, 3, 4}
    assert np.argmax(result.output_importances[:, 1]) == 5


def test_permutation_mean_over_outputs_is_the_joint_r2_drop(regressor):
    """R^2 of several outputs is their mean: so is its drop, draw by draw."""
    result = nn_importance(
        regressor,
        X,
        Y,
        method="permutation",
        n_repeats=N_REPEATS,
        per_output=True,
        random_state=3,
    )
    assert_allclose(result.output_draws.mean(axis=1), result.importances, atol=1e-12)
    assert_allclose(
        result.output_baseline_scores.mean(), result.baseline_score, atol=1e-12
    )


def test_permutation_per_output_with_cv_shares_the_draws(regressor):
    cv = KFold(3, shuffle=True, random_state=0)
    result = nn_importance(
        regressor,
        X,
        Y,
        method="permutation",
        n_repeats=2,
        cv=cv,
        per_output=True,
        random_state=0,
    )
    assert result.output_draws.shape == (X.shape[1], 2, 3 * 2)
    assert_allclose(result.output_draws.mean(axis=1), result.importances, atol=1e-12)


@pytest.mark.parametrize("method", ["conditional", "ablation"])
def test_score_methods_per_output_equal_single_output_runs(regressor, method):
    """Conditional permutation and occlusion (ablation without retraining) of
    output k: the package's run on the one-output estimator, same random_state."""
    options = dict(method=method, n_repeats=2, random_state=0)
    if method == "ablation":
        options["retrain"] = "none"
    result = nn_importance(regressor, X, Y, per_output=True, **options)
    for k in range(2):
        single = nn_importance(OneOutput(regressor, k), X, Y[:, k], **options)
        assert_allclose(result.output_draws[:, k], single.importances, atol=1e-10)
        assert_allclose(result.output_baseline_scores[k], single.baseline_score)


def test_ablation_with_retraining_has_no_per_output_form(regressor):
    with pytest.raises(ValueError, match="retrain='none'"):
        nn_importance(regressor, X, Y, method="ablation", per_output=True)


# ------------------------------------------------------- network-reading methods


@pytest.mark.parametrize("method", ["weights", "garson", "olden", "gradient", "probe"])
def test_network_methods_per_output_equal_the_sliced_network(bare_regressor, method):
    """Output k's importances (and signed scores) are those of the network whose
    last layer keeps only column k."""
    result = nn_importance(bare_regressor, X, method=method, per_output=True)
    assert result.output_importances.shape == (X.shape[1], 2)
    for k in range(2):
        single = nn_importance(_sliced(bare_regressor, k), X, method=method)
        assert_allclose(
            result.output_importances[:, k], single.importances_mean, rtol=1e-12
        )
        assert_allclose(
            result.output_signed_importances[:, k],
            single.signed_importances,
            rtol=1e-12,
        )


def test_garson_per_output_counts_the_units_that_reach_the_output(regressor):
    """Hidden units cut off from output 1 count for output 0 only."""
    mlp = deepcopy(regressor[-1])
    mlp.coefs_[1][:6, 1] = 0.0
    result = nn_importance(mlp, X, method="garson", per_output=True)
    for k in range(2):
        single = nn_importance(_sliced(mlp, k), X, method="garson")
        assert_allclose(result.output_importances[:, k], single.importances_mean)
    # Every unit reaches output 0, as it reaches some output.
    assert_allclose(result.output_importances[:, 0], result.importances_mean)
    assert not np.allclose(result.output_importances[:, 1], result.importances_mean)
    assert_allclose(result.output_importances.sum(axis=0), [1.0, 1.0])


def test_multiclass_target_is_one_output():
    """A class label is one output, however many classes the network scores."""
    y = np.digitize(Y[:, 0], np.quantile(Y[:, 0], [1 / 3, 2 / 3]))
    model = MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0
    ).fit(X, y)
    for target in (y, None):
        result = nn_importance(model, X, target, method="gradient", per_output=True)
        assert result.output_importances.shape == (X.shape[1], 1)
        assert_allclose(result.output_importances[:, 0], result.importances_mean)


@pytest.mark.parametrize(
    "method", ["olden", "gradient", "probe", "shap", "integrated_gradients"]
)
def test_mean_over_outputs_is_the_joint_importance(regressor, method):
    """These methods average over outputs: the mean of the per-output importances
    is the importance of all outputs, which per_output leaves as it was."""
    options = dict(method=method, random_state=0, background=20)
    result = nn_importance(regressor, X, per_output=True, **options)
    joint = nn_importance(regressor, X, **options)
    assert_allclose(result.importances_mean, joint.importances_mean, rtol=0, atol=0)
    assert_allclose(
        result.output_importances.mean(axis=1), result.importances_mean, rtol=1e-12
    )


def test_gradient_per_output_matches_finite_differences(regressor):
    result = nn_importance(regressor, X, method="gradient", per_output=True)
    for k in range(2):
        expected = _finite_difference_gradient(
            lambda rows, k=k: regressor.predict(rows)[:, k], X
        )
        assert_allclose(result.output_importances[:, k], expected, rtol=1e-5)


def test_multilabel_gradient_per_label_matches_finite_differences(multilabel):
    model, Xc, Yc = multilabel
    result = nn_importance(model, Xc, Yc, method="gradient", per_output=True)
    assert result.output_importances.shape == (Xc.shape[1], 3)
    for k in range(3):
        expected = _finite_difference_gradient(
            lambda rows, k=k: model.predict_proba(rows)[:, k], Xc.astype(float)
        )
        assert_allclose(result.output_importances[:, k], expected, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one")
@pytest.mark.parametrize("scoring", [None, "neg_log_loss"])
def test_multilabel_permutation_per_label_equals_single_label_runs(multilabel, scoring):
    """Label k's draws: scikit-learn's permutation importance of a binary classifier
    of label k (its accuracy or log loss), same random_state."""
    model, Xc, Yc = multilabel
    result = nn_importance(
        model,
        Xc,
        Yc,
        method="permutation",
        scoring=scoring,
        n_repeats=N_REPEATS,
        per_output=True,
        random_state=0,
    )
    for k in range(3):
        oracle = sklearn_permutation(
            OneLabel(model, k),
            Xc,
            Yc[:, k],
            scoring=scoring,
            n_repeats=N_REPEATS,
            random_state=0,
        )
        assert_allclose(result.output_draws[:, k], oracle.importances, atol=1e-10)


# ------------------------------------------------------------------ attributions


@pytest.mark.parametrize("method", ["shap", "sage"])
def test_attribution_per_output_equal_single_output_runs(regressor, method):
    """shap: mean |phi| of output k (exact Shapley values); sage: Shapley values of
    output k's squared error, sampled with the same draws."""
    options = dict(method=method, background=20, random_state=0)
    result = nn_importance(regressor, X, Y, per_output=True, **options)
    for k in range(2):
        single = nn_importance(OneOutput(regressor, k), X, Y[:, k], **options)
        assert_allclose(
            result.output_importances[:, k], single.importances_mean, atol=1e-9
        )


# ---------------------------------------------------------------- one output, names


@pytest.mark.parametrize("method", ["gradient", "permutation", "shap"])
def test_single_output_gives_one_column_equal_to_the_importances(regressor, method):
    y = pd.Series(Y[:, 0], name="friedman")
    model = deepcopy(regressor).fit(X, y)
    result = nn_importance(
        model, X, y, method=method, per_output=True, random_state=0, background=20
    )
    assert result.output_names == ["friedman"]
    assert result.output_importances.shape == (X.shape[1], 1)
    assert_allclose(result.output_importances[:, 0], result.importances_mean)
    assert_allclose(result.output_draws[:, 0], result.importances)
    assert_allclose(result.output_baseline_scores, [result.baseline_score])


def test_output_names_come_from_a_dataframe_target(regressor):
    frame = pd.DataFrame(Y, columns=["friedman", "x5"])
    result = nn_importance(
        regressor,
        X,
        frame,
        method="gradient",
        groups=[[0, 1]],
        per_output=True,
    )
    assert result.output_names == ["friedman", "x5"]
    # A group's members share its per-output values.
    assert_allclose(result.output_importances[0], result.output_importances[1])
    assert "output_importances" not in nn_importance(regressor, X, frame)


def test_selector_exposes_per_output_importances():
    from sknnimp import NNImportanceSelector

    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    Y = np.column_stack([X[:, 0] + 0.1 * rng.normal(size=200), X[:, 1] * X[:, 2]])
    mlp = MLPRegressor(
        hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300, random_state=0
    )
    selector = NNImportanceSelector(mlp, method="gradient", per_output=True)
    selector.fit(X, Y)
    result = nn_importance(selector.estimator_, X, Y, per_output=True)
    np.testing.assert_allclose(selector.output_importances_, result.output_importances)
    assert list(selector.output_names_) == ["output 0", "output 1"]
    np.testing.assert_allclose(
        selector.output_importances_.mean(axis=1), selector.feature_importances_
    )
    # Refitted without it, the per-output attributes are gone.
    selector.set_params(per_output=False).fit(X, Y)
    assert not hasattr(selector, "output_importances_")
