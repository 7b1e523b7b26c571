"""Caching with ``memory``: a grid over selection parameters fits the network once."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_friedman1
from sklearn.feature_selection import RFECV
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import NNImportanceSelector

FITS = []


class CountingMLP(MLPRegressor):
    """An MLPRegressor that records every fit."""

    def fit(self, X, y, sample_weight=None):
        FITS.append(X.shape)
        return super().fit(X, y, sample_weight=sample_weight)


def _network():
    return make_pipeline(
        StandardScaler(),
        CountingMLP(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=100),
    )


@pytest.fixture
def data():
    return make_friedman1(n_samples=120, random_state=0)


def _grid(memory, data):
    X, y = data
    pipe = Pipeline(
        [
            (
                "select",
                NNImportanceSelector(
                    _network(), threshold=-np.inf, memory=memory, random_state=0
                ),
            ),
            ("model", Ridge()),
        ]
    )
    grid = GridSearchCV(
        pipe,
        {"select__max_features": [2, 4, 6, 8], "select__threshold": [-np.inf, "mean"]},
        cv=KFold(3),
    )
    FITS.clear()
    grid.fit(X, y)
    return grid, len(FITS)


def test_grid_over_selection_fits_once_per_split(tmp_path, data):
    cached, n_cached = _grid(str(tmp_path / "cache"), data)
    # 3 splits + the final refit on all rows, whatever the number of candidates.
    assert n_cached == 3 + 1
    uncached, n_uncached = _grid(None, data)
    assert n_uncached == 8 * 3 + 1
    assert_array_equal(
        cached.cv_results_["mean_test_score"], uncached.cv_results_["mean_test_score"]
    )
    assert cached.best_params_ == uncached.best_params_


def test_cache_keys_on_what_changes_the_result(tmp_path, data):
    X, y = data
    memory = str(tmp_path / "cache")
    first = NNImportanceSelector(_network(), memory=memory, random_state=0)
    FITS.clear()
    first.fit(X, y)
    first.set_params(max_features=3, threshold=-np.inf).fit(X, y)
    assert len(FITS) == 1  # selection parameters reuse the cached network
    first.set_params(method="olden").fit(X, y)
    assert len(FITS) == 2  # another method: measured anew
    first.set_params(random_state=1).fit(X, y)
    assert len(FITS) == 3  # another seed: another network
    NNImportanceSelector(_network(), memory=memory, random_state=0).fit(X[:-1], y[:-1])
    assert len(FITS) == 4  # other data
    reference = NNImportanceSelector(_network(), random_state=0).fit(X, y)
    cached = NNImportanceSelector(_network(), memory=memory, random_state=0).fit(X, y)
    assert_array_equal(cached.feature_importances_, reference.feature_importances_)


def test_rfecv_reads_feature_importances(data):
    X, y = data
    selector = NNImportanceSelector(_network(), random_state=0)
    rfecv = RFECV(selector, step=2, cv=KFold(3), min_features_to_select=2).fit(X, y)
    assert 2 <= rfecv.n_features_ <= X.shape[1]
    assert rfecv.support_.sum() == rfecv.n_features_
