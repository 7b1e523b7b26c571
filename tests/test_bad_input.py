"""Behaviour under bad input: scikit-learn's errors, raised before any work starts."""

import warnings

import numpy as np
import pytest
from joblib import dump, load
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sknnimp import NNImportanceSelector, nn_importance

NETWORK_METHODS = ["weights", "garson", "olden", "gradient", "probe"]


def _mlp():
    return make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(6,), solver="lbfgs", max_iter=50, random_state=0
        ),
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    return X, X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=40)


@pytest.fixture(scope="module")
def fitted(data):
    return NNImportanceSelector(_mlp()).fit(*data)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X(data, bad):
    X, y = data
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        NNImportanceSelector(_mlp()).fit(X, y)


def test_wrong_number_of_features_at_transform(data, fitted):
    X, _ = data
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X[:, :3])


def test_unfitted_use(data):
    with pytest.raises(NotFittedError):
        NNImportanceSelector(_mlp()).transform(data[0])
    with pytest.raises(NotFittedError):
        nn_importance(_mlp(), data[0])


def test_one_dimensional_X(data):
    X, y = data
    with pytest.raises(ValueError, match="2D array"):
        NNImportanceSelector(_mlp()).fit(X[:, 0], y)


def test_complex_X(data):
    X, y = data
    with pytest.raises(ValueError, match="[Cc]omplex"):
        NNImportanceSelector(_mlp()).fit(X + 1j, y)


def test_non_numeric_X(data):
    X, y = data
    strings = X.astype(str)
    strings[0, 0] = "a"
    with pytest.raises(ValueError):
        NNImportanceSelector(_mlp()).fit(strings, y)


def test_empty_X():
    with pytest.raises(ValueError, match="0 sample"):
        NNImportanceSelector(_mlp()).fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="0 feature"):
        NNImportanceSelector(_mlp()).fit(np.empty((5, 0)), np.arange(5.0))


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.ones(3), "shape"),
        (np.ones((40, 2)), "1D|shape"),
        ("a" * 40, "could not convert|numeric|dtype"),
    ],
)
def test_bad_sample_weight(data, sample_weight, match):
    X, y = data
    with pytest.raises((ValueError, TypeError), match=match):
        NNImportanceSelector(_mlp()).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "params",
    [
        {"method": "lime"},
        {"n_repeats": 0},
        {"fill": "max"},
        {"retrain": "hot"},
        {"max_features": -1},
        {"prefit": "yes"},
        {"estimator": "mlp"},
    ],
)
def test_invalid_parameters(data, params):
    with pytest.raises(InvalidParameterError):
        NNImportanceSelector(**{"estimator": _mlp(), **params}).fit(*data)


@pytest.mark.parametrize("method", NETWORK_METHODS)
def test_network_method_on_other_estimator_names_working_methods(data, method):
    for estimator in [Ridge(), make_pipeline(PCA(), MLPRegressor())]:
        with pytest.raises(TypeError, match="'permutation', 'conditional', 'ablation'"):
            NNImportanceSelector(estimator, method=method).fit(*data)
    mixing = make_pipeline(StandardScaler(), Normalizer(), MLPRegressor())
    with pytest.raises(TypeError, match="Normalizer"):
        NNImportanceSelector(mixing, method=method).fit(*data)
    opaque = make_pipeline(FunctionTransformer(np.tanh), MLPRegressor())
    with pytest.raises(TypeError, match="FunctionTransformer"):
        NNImportanceSelector(opaque, method=method).fit(*data)


@pytest.mark.parametrize("method", NETWORK_METHODS)
def test_constant_columns_get_zero_without_warning(data, method):
    X, y = data
    X = X.copy()
    X[:, 2] = 0.1  # constant, with a value that is not exact in binary
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from 0 / 0 and the like
        warnings.simplefilter("ignore", ConvergenceWarning)  # the network's own
        selector = NNImportanceSelector(_mlp(), method=method).fit(X, y)
    assert selector.feature_importances_[2] == 0.0
    assert np.all(np.isfinite(selector.feature_importances_))


def test_inputs_are_not_modified(data):
    X, y = data
    X_copy, y_copy = X.copy(), y.copy()
    estimator = _mlp()
    params = clone(estimator).get_params(deep=True)
    NNImportanceSelector(estimator, method="gradient").fit(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    assert not hasattr(estimator[-1], "coefs_")
    assert estimator.get_params(deep=True).keys() == params.keys()


def test_read_only_and_memory_mapped_inputs(data, tmp_path):
    X, y = data
    X_ro, y_ro = X.copy(), y.copy()
    X_ro.flags.writeable = False
    y_ro.flags.writeable = False
    expected = NNImportanceSelector(_mlp()).fit(X, y).feature_importances_
    result = NNImportanceSelector(_mlp()).fit(X_ro, y_ro).feature_importances_
    np.testing.assert_array_equal(result, expected)
    dump((X, y), tmp_path / "data.joblib")
    X_mm, y_mm = load(tmp_path / "data.joblib", mmap_mode="r")
    assert isinstance(X_mm, np.memmap)
    result = NNImportanceSelector(_mlp()).fit(X_mm, y_mm).feature_importances_
    np.testing.assert_array_equal(result, expected)


def test_failed_fit_leaves_the_selector_unfitted(data):
    X, y = data
    selector = NNImportanceSelector(_mlp()).fit(X, y)
    selector.set_params(estimator=Ridge())
    with pytest.raises(TypeError):
        selector.fit(X, y)
    with pytest.raises(NotFittedError):
        selector.transform(X)
    selector.set_params(estimator=_mlp()).fit(X, y)
    assert selector.transform(X).shape[0] == X.shape[0]
