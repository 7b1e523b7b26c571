"""Exact Shapley values of scikit-learn MLPs of ReLU units, against the brute-force
oracle of ``shapley_oracle.py`` and against the plain enumeration of every coalition
through the network's layers:

- one ReLU layer and identity outputs, whose (background row, hidden unit) pairs are
  sorted into never active, always active and ambiguous ones
  (``_NetworkRow.additive_values``);
- one ReLU layer and other outputs (classifiers), whose first activations are
  ``max(z_low, -e) + e`` for the offset coalitions' terms ``e``
  (``_NetworkRow.offset_values``);
- deeper networks, enumerated plainly."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from shapley_oracle import brute_force_shapley
from sklearn.datasets import make_friedman1
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknnimp._attributions as attributions_module
from sknnimp import attributions


def _network(p, n_outputs=1, hidden=12, seed=0):
    X, y = make_friedman1(n_samples=200, n_features=max(p, 5), random_state=seed)
    X = X[:, :p]
    if n_outputs > 1:
        y = np.column_stack([y, X[:, 0] - 2 * X[:, -1]])
    mlp = MLPRegressor(
        hidden_layer_sizes=(hidden,), solver="lbfgs", max_iter=200, random_state=seed
    )
    return make_pipeline(StandardScaler(), mlp).fit(X, y), X


def _both_ways(model, X, players, background, route="additive"):
    """Every coalition's value of every row, by ``route`` and plain."""
    game = attributions_module.make_game(model, players, background, X)
    assert getattr(game, route)
    inputs = game.network_inputs(X)
    fast = np.array([game.row(x).coalition_values() for x in inputs])
    game.additive = game.one_relu_layer = False
    plain = np.array([game.row(x).coalition_values() for x in inputs])
    return fast, plain


def _small_blocks(monkeypatch):
    # Two low players, two offset players and the rest high players (which start
    # a block off), in blocks of 64 values: every branch of the enumeration.
    monkeypatch.setattr(attributions_module, "OFFSET_ELEMENTS", 64)
    monkeypatch.setattr(attributions_module, "LOW_PLAYERS", 2)
    monkeypatch.setattr(attributions_module, "OFFSET_PLAYERS", 2)


@pytest.mark.parametrize("p", [1, 2, 5])
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_equals_brute_force(p, n_outputs):
    model, X = _network(p, n_outputs)
    rows, background = X[:3], X[100:120]
    explanation = attributions(model, rows, background=background)
    values = explanation.values.reshape(3, p, n_outputs)
    assert_allclose(values, brute_force_shapley(model, rows, background), atol=1e-10)


def test_small_blocks_and_high_players_equal_brute_force(monkeypatch):
    _small_blocks(monkeypatch)
    model, X = _network(6)
    rows, background = X[:2], X[100:115]
    explanation = attributions(model, rows, background=background)
    assert_allclose(
        explanation.values,
        brute_force_shapley(model, rows, background)[..., 0],
        atol=1e-10,
    )


def test_players_that_leave_inputs_at_the_background():
    # Players 0-2 only: inputs 3 and 4 keep the background's values in every
    # coalition.
    model, X = _network(5)
    players = [np.array([0]), np.array([1, 2])]
    pruned, plain = _both_ways(model, X[:4], players, X[100:130])
    assert_allclose(pruned, plain, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shift", [-1e3, 0.0, 1e3])
def test_units_always_off_always_on_or_mixed(shift):
    # A large negative (positive) bias turns every unit off (on) in every
    # coalition: then no pair, or every pair, is linear.
    model, X = _network(4)
    model[-1].intercepts_[0] = model[-1].intercepts_[0] + shift
    rows, background = X[:2], X[100:120]
    pruned, plain = _both_ways(
        model, rows, [np.array([j]) for j in range(4)], background
    )
    assert_allclose(pruned, plain, rtol=0, atol=1e-9)
    explanation = attributions(model, rows, background=background)
    assert_allclose(
        explanation.values,
        brute_force_shapley(model, rows, background)[..., 0],
        atol=1e-9,
    )


def test_many_players_equal_the_plain_enumeration():
    # 15 players: the default split has high players.
    model, X = _network(15, hidden=6)
    pruned, plain = _both_ways(
        model, X[:1], [np.array([j]) for j in range(15)], X[100:104]
    )
    assert_allclose(pruned, plain, rtol=0, atol=1e-11)


def _other_network(name, p=6):
    X, y = make_friedman1(n_samples=200, n_features=p, random_state=0)
    if name == "two_layers":
        mlp = MLPRegressor(
            hidden_layer_sizes=(7, 5), solver="lbfgs", max_iter=200, random_state=0
        )
        return make_pipeline(StandardScaler(), mlp).fit(X, y), X
    clf = MLPClassifier(hidden_layer_sizes=(9,), max_iter=300, random_state=0)
    if name == "binary":
        target = y > np.median(y)
    else:  # three classes: a softmax output
        target = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    return make_pipeline(StandardScaler(), clf).fit(X, target), X


@pytest.mark.parametrize("name", ["two_layers", "binary", "three_classes"])
@pytest.mark.parametrize("blocks", ["default", "small"])
def test_other_relu_networks_equal_brute_force(name, blocks, monkeypatch):
    if blocks == "small":
        _small_blocks(monkeypatch)
    model, X = _other_network(name)
    rows, background = X[:2], X[100:115]
    explanation = attributions(model, rows, background=background)
    values = explanation.values.reshape(2, 6, -1)
    assert_allclose(values, brute_force_shapley(model, rows, background), atol=1e-10)
    if name != "two_layers":
        fast, plain = _both_ways(
            model,
            rows,
            [np.array([j]) for j in range(6)],
            background,
            route="one_relu_layer",
        )
        assert_allclose(fast, plain, rtol=0, atol=1e-12)
