"""Warm continuations trained side by side (``MLPNetwork.continued_together``).

The oracle is the one-by-one route (``Network.continued_together``, which calls
``continued``, i.e. scikit-learn's own ``fit`` with ``warm_start``): the stacked
training must give the same weights, entry by entry, for every solver setting,
output kind and option it takes, and leave the rest to that route.
"""

import warnings
from copy import deepcopy

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sknnimp.networks import _mlp
from sknnimp.networks._base import Network
from sknnimp.networks._mlp import MLPNetwork

RNG = np.random.RandomState(0)
N, P = 240, 6
X = RNG.normal(size=(N, P))
Y = X[:, 0] + np.sin(2 * X[:, 1]) - X[:, 2] * X[:, 3] + 0.1 * RNG.normal(size=N)
WEIGHTS = RNG.uniform(0.2, 3.0, size=N)

TARGETS = {
    "regression": Y,
    "two outputs": np.c_[Y, X[:, 4] ** 2],
    "binary": (Y > 0).astype(int),
    "three classes": np.digitize(Y, [-0.7, 0.7]),
    "multilabel": np.c_[Y > 0, X[:, 4] > 0].astype(int),
}

#: Entries: the intact network, one input filled, two inputs filled, one dropped.
ABLATED = [None, np.array([1]), np.array([0, 3]), np.array([5]), np.array([2])]
HELD = [None, np.array([0.4]), np.array([-0.2, 1.1]), None, np.array([0.0])]


def _fitted(kind, **params):
    estimator = MLPRegressor if kind in ("regression", "two outputs") else MLPClassifier
    params = {"hidden_layer_sizes": (7,), "max_iter": 15, "random_state": 0, **params}
    mlp = estimator(**params)
    fit_params = params.pop("fit_params", {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mlp.fit(X, TARGETS[kind], **fit_params)


def _one_by_one(network, X, y, sample_weight, **kwargs):
    return list(Network.continued_together(network, X, y, sample_weight, **kwargs))


def _assert_same_networks(together, one_by_one, fitted):
    assert len(together) == len(one_by_one)
    for a, b in zip(together, one_by_one):
        for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            # The same operations in the same order: equal to the last bit here;
            # the tolerance allows another BLAS a different order of its sums.
            np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-13)
        assert a.n_iter_ == b.n_iter_ and a.t_ == b.t_
    # Training happened, and moved the weights.
    assert np.abs(together[0].coefs_[0] - fitted.coefs_[0]).max() > 1e-4


def _count_stacks(monkeypatch):
    """A list that gets the size of every stack trained from now on."""
    sizes = []
    stack = _mlp._continue_stack

    def counted(*args):
        sizes.append(len(args[4]))
        yield from stack(*args)

    monkeypatch.setattr(_mlp, "_continue_stack", counted)
    return sizes


SETTINGS = [
    ("regression", {}),
    ("regression", {"solver": "sgd"}),
    ("regression", {"solver": "sgd", "nesterovs_momentum": False, "momentum": 0.5}),
    ("regression", {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.3}),
    ("regression", {"activation": "tanh", "hidden_layer_sizes": (6, 4)}),
    ("regression", {"activation": "logistic", "batch_size": 37, "alpha": 0.1}),
    ("regression", {"activation": "identity", "shuffle": False}),
    ("two outputs", {"hidden_layer_sizes": (5, 5, 3)}),
    ("binary", {}),
    ("three classes", {"hidden_layer_sizes": (8, 4)}),
    ("multilabel", {"solver": "sgd"}),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kind, params", SETTINGS)
def test_stacked_equals_one_by_one(monkeypatch, kind, params, weighted):
    monkeypatch.setattr(_mlp, "STACK_SIZE", 2)  # stacks of 2, 2 and 1
    mlp = _fitted(kind, **params)
    before = deepcopy(mlp.coefs_)
    network = MLPNetwork(mlp)
    calls = _count_stacks(monkeypatch)
    w = WEIGHTS if weighted else None
    kwargs = dict(n_iter=3, seed=11, ablated=ABLATED, held_values=HELD)
    together = list(network.continued_together(X, TARGETS[kind], w, **kwargs))
    assert calls == [2, 2, 1]  # the stacked route was taken
    _assert_same_networks(
        together, _one_by_one(network, X, TARGETS[kind], w, **kwargs), mlp
    )
    for i, (rows, net) in enumerate(zip(ABLATED, together)):
        if rows is not None:
            assert np.all(net.coefs_[0][rows] == 0.0), i
    for w_now, w0 in zip(mlp.coefs_, before):  # the fitted network is untouched
        assert_array_equal(w_now, w0)


def test_seed_changes_the_batches():
    network = MLPNetwork(_fitted("regression"))
    a, b = (
        next(network.continued_together(X, Y, None, n_iter=2, seed=s, ablated=[None]))
        for s in (1, 2)
    )
    assert np.abs(a.coefs_[0] - b.coefs_[0]).max() > 1e-6


@pytest.mark.parametrize(
    "case",
    ["lbfgs", "long budget", "float32 inputs"],
)
def test_other_cases_go_one_by_one(monkeypatch, case):
    params = {"solver": "lbfgs"} if case == "lbfgs" else {}
    if case == "long budget":
        params["n_iter_no_change"] = 2  # the stopping rule may act within 4 epochs
    mlp = _fitted("regression", **params)
    network = MLPNetwork(mlp)
    inputs = X.astype(np.float32) if case == "float32 inputs" else X

    def refuse(*args):
        raise AssertionError("stacked")

    monkeypatch.setattr(_mlp, "_continue_stack", refuse)
    kwargs = dict(n_iter=4, seed=3, ablated=ABLATED[:3], held_values=HELD[:3])
    together = list(network.continued_together(inputs, Y, None, **kwargs))
    _assert_same_networks(
        together, _one_by_one(network, inputs, Y, None, **kwargs), mlp
    )


def test_wide_networks_are_stacked_fewer_at_a_time(monkeypatch):
    mlp = _fitted("regression")  # 6 x 7 + 7 x 1 = 49 weights
    network = MLPNetwork(mlp)
    sizes = _count_stacks(monkeypatch)
    monkeypatch.setattr(_mlp, "STACK_WEIGHTS", 100)  # two networks of 49 weights
    kwargs = dict(n_iter=2, seed=0, ablated=ABLATED, held_values=HELD)
    together = list(network.continued_together(X, Y, None, **kwargs))
    assert sizes == [2, 2, 1]
    _assert_same_networks(together, _one_by_one(network, X, Y, None, **kwargs), mlp)
    sizes.clear()
    monkeypatch.setattr(_mlp, "STACK_WEIGHTS", 10)  # fewer than one network's
    list(network.continued_together(X, Y, None, **kwargs))
    assert sizes == [1] * len(ABLATED)
