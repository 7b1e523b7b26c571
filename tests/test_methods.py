"""The network-reading methods against values worked out by hand and against an oracle.

``weights``, ``garson``, ``olden`` and ``probe`` are checked on tiny networks whose
weights the tests set themselves; the expected numbers are written out as arithmetic
on those weights, following the definitions in the specification (section 4).
``gradient`` is checked against central finite differences of the estimator's own
``predict`` / ``predict_proba``, which uses nothing from the package.
"""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sknnimp import nn_importance

NETWORK_METHODS = ["weights", "garson", "olden", "gradient", "probe"]

# Two inputs, spread (ddof=0) 2 and 0.5, means 0; deliberately not standardised.
X_SPREAD = np.array(
    [
        [-2.0, 0.5],
        [2.0, 0.5],
        [-2.0, -0.5],
        [2.0, -0.5],
    ]
)
SIGMA = (2.0, 0.5)

# First layer shared by the small networks: W1[i, j] joins input i to hidden unit j.
W1 = [[1.0, -2.0], [3.0, 0.5]]
B1 = [0.1, -0.2]


def _set_weights(mlp, coefs, intercepts):
    """Overwrite a fitted MLP's parameters, checking that the shapes agree."""
    for old, new in zip(mlp.coefs_, coefs):
        assert old.shape == np.shape(new)
    for old, new in zip(mlp.intercepts_, intercepts):
        assert old.shape == np.shape(new)
    mlp.coefs_ = [np.array(w, dtype=float) for w in coefs]
    mlp.intercepts_ = [np.array(c, dtype=float) for c in intercepts]
    return mlp


def _fit_briefly(estimator, X, y):
    """Fit for one iteration, only to give the estimator its fitted structure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _regressor(coefs, intercepts, X=X_SPREAD, *, n_outputs=1, activation="relu"):
    """A bare MLPRegressor on ``X`` with the given parameters."""
    hidden = tuple(np.shape(w)[1] for w in coefs[:-1])
    y = np.arange(len(X) * n_outputs, dtype=float).reshape(len(X), n_outputs)
    mlp = MLPRegressor(
        hidden_layer_sizes=hidden, activation=activation, max_iter=1, random_state=0
    )
    _fit_briefly(mlp, X, y if n_outputs > 1 else y.ravel())
    return _set_weights(mlp, coefs, intercepts)


def _importance(estimator, X, method, **kwargs):
    result = nn_importance(estimator, X, method=method, **kwargs)
    return result.importances_mean, result.signed_importances


# --------------------------------------------------------------------------------
# weights


def test_weights_bare_network_scales_by_input_spread():
    net = _regressor([W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, _ = _importance(net, X_SPREAD, "weights")
    assert_allclose(importances, [2.0 * (1.0 + 2.0), 0.5 * (3.0 + 0.5)], rtol=1e-12)


def test_weights_ignores_later_layers_and_outputs():
    net = _regressor(
        [W1, [[5.0, -1.0], [0.0, 7.0]], [[1.0, 2.0], [3.0, 4.0]]],
        [B1, [0.0, 0.0], [0.0, 0.0]],
        n_outputs=2,
    )
    importances, _ = _importance(net, X_SPREAD, "weights")
    assert_allclose(importances, [2.0 * 3.0, 0.5 * 3.5], rtol=1e-12)


def test_weights_standard_scaler_has_unit_spread():
    pipe = _fit_briefly(
        make_pipeline(
            StandardScaler(), MLPRegressor(hidden_layer_sizes=(2,), max_iter=1)
        ),
        X_SPREAD,
        np.arange(4.0),
    )
    _set_weights(pipe[-1], [W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, _ = _importance(pipe, X_SPREAD, "weights")
    assert_allclose(importances, [1.0 + 2.0, 3.0 + 0.5], rtol=1e-12)


# MinMaxScaler maps column 0 (values 0 and 4) to 0/1: spread 0.5; column 1
# (0, 0, 0, 8) to (0, 0, 0, 1): mean 1/4, variance (3 * 1/16 + 9/16) / 4 = 3/16.
X_MINMAX = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 0.0], [4.0, 8.0]])
SIGMA_MINMAX = (0.5, math.sqrt(3.0) / 4.0)


def _minmax_pipeline(coefs, intercepts):
    pipe = _fit_briefly(
        make_pipeline(
            MinMaxScaler(), MLPRegressor(hidden_layer_sizes=(2,), max_iter=1)
        ),
        X_MINMAX,
        np.arange(4.0),
    )
    _set_weights(pipe[-1], coefs, intercepts)
    return pipe


def test_weights_min_max_pipeline_uses_spread_after_scaling():
    pipe = _minmax_pipeline([W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, _ = _importance(pipe, X_MINMAX, "weights")
    s0, s1 = SIGMA_MINMAX
    assert_allclose(importances, [s0 * (1.0 + 2.0), s1 * (3.0 + 0.5)], rtol=1e-12)


# --------------------------------------------------------------------------------
# garson


def test_garson_single_hidden_layer():
    net = _regressor([W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, _ = _importance(net, X_SPREAD, "garson")
    # w = sigma' * W1 = [[2, -4], [1.5, 0.25]]; column sums of |w|: 3.5 and 4.25.
    q0 = 2.0 / 3.5 + 4.0 / 4.25
    q1 = 1.5 / 3.5 + 0.25 / 4.25
    assert_allclose(importances, [q0 / (q0 + q1), q1 / (q0 + q1)], rtol=1e-12)
    assert_allclose(importances.sum(), 1.0, rtol=1e-12)


def test_garson_hidden_to_output_weights_cancel():
    # Only which units reach an output matters, not the size of their weights.
    a = _regressor([W1, [[2.0], [3.0]]], [B1, [0.3]])
    b = _regressor([W1, [[-0.01], [50.0]]], [B1, [0.3]])
    assert_allclose(
        _importance(a, X_SPREAD, "garson")[0],
        _importance(b, X_SPREAD, "garson")[0],
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "w2, w3",
    [
        # First-layer unit 1 has no outgoing weight at all.
        ([[1.0, -1.0], [0.0, 0.0]], [[2.0], [1.0]]),
        # First-layer unit 1 feeds only second-layer unit 0, which feeds no output.
        ([[1.0, -1.0], [2.0, 0.0]], [[0.0], [1.0]]),
    ],
)
def test_garson_deep_network_excludes_units_that_reach_no_output(w2, w3):
    net = _regressor([W1, w2, w3], [B1, [0.0, 0.0], [0.0]])
    importances, _ = _importance(net, X_SPREAD, "garson")
    # Only first-layer unit 0 counts: |w| = (2, 1.5), column sum 3.5.
    assert_allclose(importances, [2.0 / 3.5, 1.5 / 3.5], rtol=1e-12)


def test_garson_min_max_pipeline():
    pipe = _minmax_pipeline([W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, _ = _importance(pipe, X_MINMAX, "garson")
    s0, s1 = SIGMA_MINMAX
    col0 = s0 * 1.0 + s1 * 3.0
    col1 = s0 * 2.0 + s1 * 0.5
    q0 = s0 * 1.0 / col0 + s0 * 2.0 / col1
    q1 = s1 * 3.0 / col0 + s1 * 0.5 / col1
    assert_allclose(importances, [q0 / 2.0, q1 / 2.0], rtol=1e-12)


# --------------------------------------------------------------------------------
# olden


def test_olden_single_output_is_signed():
    net = _regressor([W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, signed = _importance(net, X_SPREAD, "olden")
    # W1 W2 = (1*2 - 2*3, 3*2 + 0.5*3) = (-4, 7.5); times sigma' = (2, 0.5).
    assert_allclose(signed, [-8.0, 3.75], rtol=1e-12)
    assert_allclose(importances, [8.0, 3.75], rtol=1e-12)


def test_olden_several_outputs_mean_of_absolute_values():
    net = _regressor([W1, [[2.0, -1.0], [3.0, 1.0]]], [B1, [0.3, 0.0]], n_outputs=2)
    importances, signed = _importance(net, X_SPREAD, "olden")
    # W1 W2 = [[2 - 6, -1 - 2], [6 + 1.5, -3 + 0.5]] = [[-4, -3], [7.5, -2.5]].
    assert_allclose(
        importances, [(2.0 * 4.0 + 2.0 * 3.0) / 2, (0.5 * 7.5 + 0.5 * 2.5) / 2]
    )
    assert np.isnan(signed).all()


def test_olden_deep_network_multiplies_all_layers():
    net = _regressor(
        [W1, [[1.0, -1.0], [0.0, 2.0]], [[2.0], [1.0]]], [B1, [0.5, 0.5], [0.0]]
    )
    importances, signed = _importance(net, X_SPREAD, "olden")
    # W1 W2 = [[1, -1 - 4], [3, -3 + 1]] = [[1, -5], [3, -2]]; times W3 = (2, 1):
    # (2 - 5, 6 - 2) = (-3, 4).
    assert_allclose(signed, [2.0 * -3.0, 0.5 * 4.0], rtol=1e-12)
    assert_allclose(importances, [6.0, 2.0], rtol=1e-12)


def test_olden_min_max_pipeline():
    pipe = _minmax_pipeline([W1, [[2.0], [3.0]]], [B1, [0.3]])
    _, signed = _importance(pipe, X_MINMAX, "olden")
    s0, s1 = SIGMA_MINMAX
    assert_allclose(signed, [s0 * -4.0, s1 * 7.5], rtol=1e-12)


def test_olden_multiclass_classifier():
    X = np.array([[-2.0, 0.5], [2.0, 0.5], [-2.0, -0.5], [2.0, -0.5]] * 3)
    clf = _fit_briefly(
        MLPClassifier(hidden_layer_sizes=(2,), max_iter=1, random_state=0),
        X,
        np.arange(12) % 3,
    )
    _set_weights(clf, [W1, [[1.0, 0.0, -2.0], [1.0, 1.0, 1.0]]], [B1, [0.0] * 3])
    importances, signed = _importance(clf, X, "olden")
    # W1 W2 = [[1 - 2, -2, -2 - 2], [3 + 0.5, 0.5, -6 + 0.5]]
    #       = [[-1, -2, -4], [3.5, 0.5, -5.5]].
    assert_allclose(
        importances,
        [2.0 * (1.0 + 2.0 + 4.0) / 3, 0.5 * (3.5 + 0.5 + 5.5) / 3],
        rtol=1e-12,
    )
    assert np.isnan(signed).all()


# --------------------------------------------------------------------------------
# probe


def test_probe_relu_single_output():
    net = _regressor([W1, [[2.0], [3.0]]], [B1, [0.3]])
    importances, signed = _importance(net, X_SPREAD, "probe")
    # Biases dropped, f(0) = 0; f(e_0) = relu(1)*2 + relu(-2)*3 = 2,
    # f(e_1) = relu(3)*2 + relu(0.5)*3 = 7.5. The probe is in the network's input
    # space, so the input spread does not enter.
    assert_allclose(signed, [2.0, 7.5], rtol=1e-12)
    assert_allclose(importances, [2.0, 7.5], rtol=1e-12)


def test_probe_logistic_hidden_units_subtract_the_zero_probe():
    net = _regressor([W1, [[2.0], [-3.0]]], [B1, [0.3]], activation="logistic")
    importances, signed = _importance(net, X_SPREAD, "probe")

    def s(z):
        return 1.0 / (1.0 + math.exp(-z))

    f0 = 0.5 * 2.0 + 0.5 * -3.0
    expected = [
        s(1.0) * 2.0 + s(-2.0) * -3.0 - f0,
        s(3.0) * 2.0 + s(0.5) * -3.0 - f0,
    ]
    assert f0 != 0.0
    assert_allclose(signed, expected, rtol=1e-12)
    assert_allclose(importances, np.abs(expected), rtol=1e-12)


def test_probe_deep_network_several_outputs():
    net = _regressor(
        [W1, [[1.0, -1.0], [0.5, 2.0]], [[1.0, -2.0], [3.0, 1.0]]],
        [B1, [9.0, 9.0], [9.0, 9.0]],
        n_outputs=2,
    )
    importances, signed = _importance(net, X_SPREAD, "probe")
    # e_0: first layer relu(1, -2) = (1, 0); second relu(1, -1) = (1, 0);
    #      output (1, -2).
    # e_1: first layer relu(3, 0.5) = (3, 0.5); second relu(3 + 0.25, -3 + 1)
    #      = (3.25, 0); output (3.25, -6.5).
    assert_allclose(importances, [(1.0 + 2.0) / 2, (3.25 + 6.5) / 2], rtol=1e-12)
    assert np.isnan(signed).all()


def test_probe_multiclass_classifier_skips_softmax():
    X = np.array([[-2.0, 0.5], [2.0, 0.5], [-2.0, -0.5], [2.0, -0.5]] * 3)
    clf = _fit_briefly(
        MLPClassifier(
            hidden_layer_sizes=(2,), activation="tanh", max_iter=1, random_state=0
        ),
        X,
        np.arange(12) % 3,
    )
    _set_weights(clf, [W1, [[1.0, 0.0, -2.0], [1.0, 1.0, 1.0]]], [B1, [5.0] * 3])
    importances, _ = _importance(clf, X, "probe")
    t = math.tanh
    # f(0) = 0 for tanh; the logits are compared, not the probabilities.
    out0 = [t(1.0) + t(-2.0), t(-2.0), -2.0 * t(1.0) + t(-2.0)]
    out1 = [t(3.0) + t(0.5), t(0.5), -2.0 * t(3.0) + t(0.5)]
    assert_allclose(
        importances,
        [sum(abs(v) for v in out0) / 3, sum(abs(v) for v in out1) / 3],
        rtol=1e-12,
    )


def test_probe_constant_input_gets_zero():
    X = np.column_stack([X_SPREAD, np.full(4, 3.0)])
    net = _regressor(
        [[[1.0, -2.0], [3.0, 0.5], [4.0, 4.0]], [[2.0], [3.0]]], [B1, [0.3]], X=X
    )
    importances, signed = _importance(net, X, "probe")
    assert_allclose(importances, [2.0, 7.5, 0.0], rtol=1e-12)
    assert signed[2] == 0.0


# --------------------------------------------------------------------------------
# gradient


def test_gradient_identity_network_by_hand():
    # With identity hidden units the derivative is W1 W2 everywhere.
    net = _regressor([W1, [[2.0], [3.0]]], [B1, [0.3]], activation="identity")
    importances, signed = _importance(net, X_SPREAD, "gradient")
    assert_allclose(signed, [2.0 * -4.0, 0.5 * 7.5], rtol=1e-12)
    assert_allclose(importances, [8.0, 3.75], rtol=1e-12)


def _network_output(estimator, X):
    """The output the gradient method differentiates, shape (n, n_outputs)."""
    if hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X))
        n_classes = len(getattr(estimator, "classes_", []))
        if proba.shape[1] == 2 and n_classes == 2:
            return proba[:, 1:]  # binary: the positive class
        return proba  # multiclass: every class; multilabel: every label
    return np.asarray(estimator.predict(X)).reshape(len(X), -1)


def _finite_difference_importance(estimator, X, sample_weight=None, step=1e-5):
    """sigma_i * weighted mean over rows and outputs of |d output / d x_i|.

    ``sigma_i`` is the weighted standard deviation (ddof=0) of the raw column and the
    derivative is taken with respect to the raw input by central differences with
    steps of ``step`` and ``step / 2`` standard deviations, combined by Richardson
    extrapolation (error of order ``step**4``).
    """
    n, p = X.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    mean = np.average(X, axis=0, weights=w)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w))

    def central(i, h):
        up, down = X.copy(), X.copy()
        up[:, i] += h
        down[:, i] -= h
        return (_network_output(estimator, up) - _network_output(estimator, down)) / (
            2 * h
        )

    abs_mean = np.empty(p)
    signed_mean = np.empty(p)
    for i in range(p):
        h = step * std[i]
        deriv = (4 * central(i, h / 2) - central(i, h)) / 3
        abs_mean[i] = np.average(np.abs(deriv).mean(axis=1), weights=w)
        signed_mean[i] = np.average(deriv.mean(axis=1), weights=w)
    return std * abs_mean, std * signed_mean, deriv.shape[1]


def _data(kind, seed=0, n=60, p=4):
    rng = np.random.default_rng(seed)
    # Columns of different scales and offsets.
    X = rng.normal(size=(n, p)) * [0.5, 2.0, 10.0, 1.0][:p] + [0.0, 3.0, -20.0, 1.0][:p]
    signal = np.tanh(X[:, 0]) + 0.1 * X[:, 1] - 0.05 * X[:, 2]
    if kind == "regression":
        return X, signal + 0.1 * rng.normal(size=n)
    if kind == "multioutput":
        return X, np.column_stack([signal, X[:, 3] * X[:, 0]])
    if kind == "poisson":
        return X, rng.poisson(np.exp(0.5 * signal)).astype(float)
    if kind == "binary":
        return X, (signal > np.median(signal)).astype(int)
    if kind == "multiclass":
        return X, np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))
    if kind == "multilabel":
        return X, np.column_stack([signal > 0, X[:, 3] > 1, X[:, 0] > X[:, 1] - 3])
    raise ValueError(kind)


def _fitted(kind, scaler, activation="tanh", hidden=(5, 3)):
    X, y = _data(kind)
    if kind in ("binary", "multiclass", "multilabel"):
        mlp = MLPClassifier(hidden_layer_sizes=hidden, activation=activation)
    else:
        loss = "poisson" if kind == "poisson" else "squared_error"
        mlp = MLPRegressor(loss=loss, hidden_layer_sizes=hidden, activation=activation)
    mlp.set_params(solver="lbfgs", max_iter=200, random_state=0)
    estimator = mlp if scaler is None else make_pipeline(scaler, mlp)
    return _fit_briefly(estimator, X, y), X


KINDS = ["regression", "multioutput", "poisson", "binary", "multiclass", "multilabel"]
SCALERS = {
    "bare": lambda: None,
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
}


@pytest.mark.parametrize("scaler", SCALERS)
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_finite_differences(kind, scaler):
    estimator, X = _fitted(kind, SCALERS[scaler]())
    importances, signed = _importance(estimator, X, "gradient")
    expected, expected_signed, n_outputs = _finite_difference_importance(estimator, X)
    assert (importances > 0).all()
    assert_allclose(importances, expected, rtol=1e-6)
    if n_outputs == 1:
        assert_allclose(signed, expected_signed, rtol=1e-6, atol=1e-9)
    else:
        assert np.isnan(signed).all()


@pytest.mark.parametrize("activation", ["relu", "logistic", "identity"])
def test_gradient_matches_finite_differences_other_activations(activation):
    estimator, X = _fitted("multiclass", StandardScaler(), activation=activation)
    importances, _ = _importance(estimator, X, "gradient")
    expected, _, _ = _finite_difference_importance(estimator, X, step=1e-7)
    assert_allclose(importances, expected, rtol=1e-5)


@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_gradient_sample_weight(kind):
    estimator, X = _fitted(kind, StandardScaler())
    sample_weight = np.random.default_rng(1).integers(0, 4, size=len(X))
    importances, signed = _importance(
        estimator, X, "gradient", sample_weight=sample_weight
    )
    expected, expected_signed, n_outputs = _finite_difference_importance(
        estimator, X, sample_weight=sample_weight
    )
    assert_allclose(importances, expected, rtol=1e-6)
    if n_outputs == 1:
        assert_allclose(signed, expected_signed, rtol=1e-6, atol=1e-9)
    unweighted, _ = _importance(estimator, X, "gradient")
    assert not np.allclose(importances, unweighted)


@pytest.mark.parametrize("method", NETWORK_METHODS)
def test_integer_sample_weight_equals_repeated_rows(method):
    estimator, X = _fitted("regression", MinMaxScaler())
    sample_weight = np.random.default_rng(2).integers(0, 4, size=len(X))
    weighted, _ = _importance(estimator, X, method, sample_weight=sample_weight)
    repeated, _ = _importance(estimator, np.repeat(X, sample_weight, axis=0), method)
    assert_allclose(weighted, repeated, rtol=1e-10)


# --------------------------------------------------------------------------------
# constant inputs


@pytest.mark.parametrize("scaler", SCALERS)
@pytest.mark.parametrize("kind", ["regression", "binary", "multiclass"])
def test_constant_columns_get_exactly_zero(kind, scaler):
    X, y = _data(kind)
    X[:, 1] = 3.0
    X[:, 3] = 0.0
    if kind == "regression":
        mlp = MLPRegressor(hidden_layer_sizes=(6, 4))
    else:
        mlp = MLPClassifier(hidden_layer_sizes=(6, 4))
    # tanh: no dead units, so every varying input has a non-zero gradient.
    mlp.set_params(activation="tanh", solver="lbfgs", max_iter=50, random_state=0)
    scaler = SCALERS[scaler]()
    estimator = _fit_briefly(
        mlp if scaler is None else make_pipeline(scaler, mlp), X, y
    )
    for method in NETWORK_METHODS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = nn_importance(estimator, X, method=method)
        importances = result.importances_mean
        assert np.isfinite(importances).all(), method
        assert_array_equal(importances[[1, 3]], 0.0)
        assert (importances[[0, 2]] > 0).all(), method
        signed = result.signed_importances
        if not np.isnan(signed).all():
            assert_array_equal(signed[[1, 3]], 0.0)
