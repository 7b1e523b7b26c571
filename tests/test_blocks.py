"""Perturbed network scores in row blocks: the same numbers as all rows at once, and
nothing made for more rows than a block holds."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance as sklearn_permutation
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknnimp import _blocks, _parallel, nn_importance
from sknnimp.networks import NetworkModel

N = 240


def _table():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=N),
            "b": rng.normal(size=N) * 2 + 1,
            "c": rng.normal(size=N),
            "town": rng.choice(["north", "south", "east"], size=N),
        }
    )
    frame.loc[rng.rand(N) < 0.1, "b"] = np.nan
    signal = (
        frame["a"]
        + 0.5 * frame["b"].fillna(1)
        + (frame["town"] == "north")
        - 0.5 * frame["c"] ** 2
    )
    return frame, signal.to_numpy() + 0.1 * rng.normal(size=N)


FRAME, Y = _table()
Y_CLASS = np.digitize(Y, np.quantile(Y, [1 / 3, 2 / 3]))


def _pipeline(kind):
    network = (MLPRegressor if kind == "reg" else MLPClassifier)(
        hidden_layer_sizes=(8, 5), solver="lbfgs", max_iter=300, random_state=0
    )
    columns = make_column_transformer(
        (make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b", "c"]),
        (OneHotEncoder(), ["town"]),
    )
    return make_pipeline(columns, network)


_FITTED = {}


def fitted(kind):
    if kind not in _FITTED:
        y = Y if kind == "reg" else Y_CLASS
        with np.errstate(all="ignore"):
            _FITTED[kind] = _pipeline(kind).fit(FRAME, y), y
    return _FITTED[kind]


@pytest.fixture
def small_blocks(monkeypatch):
    """Row blocks of 13 rows (the widest layer has 8 units): 19 blocks of 240 rows."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 8 * 13)
    return 13


def _run(kind, method, **kwargs):
    model, y = fitted(kind)
    common = dict(n_repeats=3, random_state=0, groups=[[0, 2], [1], [3]])
    common.update(kwargs)
    return nn_importance(model, FRAME, y, method=method, **common)


@pytest.mark.parametrize("kind", ["reg", "clf"])
@pytest.mark.parametrize("scoring", [None, "neg_log_loss", "neg_mean_absolute_error"])
def test_row_blocks_equal_sklearn(kind, scoring, small_blocks, monkeypatch):
    if (scoring == "neg_log_loss") != (kind == "clf"):
        scoring = None
    model, y = fitted(kind)
    kwargs = dict(scoring=scoring, n_repeats=3, random_state=7)
    theirs = sklearn_permutation(model, FRAME, y, **kwargs)
    ours = nn_importance(model, FRAME, y, method="permutation", **kwargs)
    assert_allclose(ours.importances, theirs.importances, rtol=0, atol=1e-9)
    # With two threads sharing the blocks: the same sums, added in the same order.
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    threaded = nn_importance(model, FRAME, y, method="permutation", **kwargs)
    assert_allclose(threaded.importances, ours.importances, rtol=0, atol=0)


@pytest.mark.parametrize("kind", ["reg", "clf"])
@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("permutation", {}),
        ("permutation", {"max_samples": 0.7}),
        ("permutation", {"cv": 3}),
        ("conditional", {}),
        ("conditional", {"cv": 3}),
        ("ablation", {"retrain": "none"}),
        ("ablation", {"retrain": "none", "cv": 3, "fill": "median"}),
    ],
)
def test_row_blocks_equal_all_rows_at_once(kind, method, kwargs, monkeypatch):
    """Importances, held-out p-values and per-row differences are the same with 19
    blocks of rows as with one, and with the blocks shared by two threads."""
    whole = _run(kind, method, **kwargs)
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 8 * 13)
    blocked = _run(kind, method, **kwargs)
    monkeypatch.setattr(_parallel, "blas_threads", lambda: 2)
    threaded = _run(kind, method, **kwargs)
    for key in ("importances", "pvalues", "importances_ci", "row_differences"):
        if key not in whole:
            continue
        assert_allclose(blocked[key], whole[key], rtol=1e-9, atol=1e-12, err_msg=key)
        assert_allclose(threaded[key], blocked[key], rtol=0, atol=0, err_msg=key)
    assert_allclose(blocked.baseline_score, whole.baseline_score, rtol=1e-12)
    if "cv" in kwargs:
        assert "row_differences" in whole and "pvalues" in whole


def test_row_blocks_with_sparse_inputs(small_blocks):
    """A sparse design (scaled without centring) in blocks equals scikit-learn."""
    rng = np.random.RandomState(1)
    X = sparse.random(N, 12, density=0.3, format="csr", random_state=rng)
    y = np.asarray(X[:, :3].sum(axis=1)).ravel() + 0.05 * rng.normal(size=N)
    model = make_pipeline(
        StandardScaler(with_mean=False),
        MLPRegressor(
            hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200, random_state=0
        ),
    )
    with np.errstate(all="ignore"):
        model.fit(X, y)
    kwargs = dict(n_repeats=2, random_state=3)
    ours = nn_importance(model, X, y, method="permutation", **kwargs)
    # scikit-learn takes dense arrays only; the model reads both alike.
    theirs = sklearn_permutation(model, X.toarray(), y, **kwargs)
    assert_allclose(ours.importances, theirs.importances, rtol=0, atol=1e-9)
    occluded = nn_importance(model, X, y, method="ablation", retrain="none")
    dense = nn_importance(model, X.toarray(), y, method="ablation", retrain="none")
    assert_allclose(occluded.importances, dense.importances, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "method, kwargs",
    [
        ("permutation", {}),
        ("conditional", {}),
        ("ablation", {"retrain": "none"}),
        ("permutation", {"cv": 3}),
    ],
)
def test_no_more_rows_made_than_a_block(method, kwargs, small_blocks, monkeypatch):
    """With several blocks, the preprocessing never runs on more rows than a block
    holds: the network inputs of all rows are never held at once. (The conditional
    method's models of the columns are fitted on the table itself, outside.)"""
    sizes = []
    transform = NetworkModel.transform

    def recorded(self, X):
        sizes.append(X.shape[0])
        return transform(self, X)

    monkeypatch.setattr(NetworkModel, "transform", recorded)
    result = _run("reg", method, **kwargs)
    assert np.all(np.isfinite(result.importances))
    assert sizes and max(sizes) <= small_blocks
