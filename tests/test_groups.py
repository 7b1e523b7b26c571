"""Feature groups: resolving them, measuring them jointly, selecting them whole.

The central example has two near-duplicate informative inputs (correlation ~0.98), a
weaker independent informative input and noise. Measured one by one, the duplicated
pair looks unimportant: either input stands in for the other when it is shuffled or
removed. Measured as a group it is the most important input. Grouped permutation is
checked against a brute-force joint shuffle in ``test_permutation.py``.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sknnimp import NNImportanceSelector, nn_importance
from sknnimp._groups import (
    _weighted_spearman,
    correlation_groups,
    expand,
    resolve_groups,
)


def _as_lists(groups):
    return [list(map(int, g)) for g in groups]


# --------------------------------------------------------------------------------
# resolve_groups


def test_none_gives_one_group_per_column():
    X = np.zeros((3, 4))
    assert _as_lists(resolve_groups(None, X)) == [[0], [1], [2], [3]]


def test_listed_groups_are_sorted_and_the_rest_are_singletons():
    X = np.zeros((3, 6))
    groups = resolve_groups([[4, 1], np.array([5, 3])], X)
    assert _as_lists(groups) == [[0], [1, 4], [2], [3, 5]]
    assert all(g.dtype == np.intp for g in groups)


def test_groups_by_name_and_index_mixed():
    X = np.zeros((3, 4))
    names = np.array(["a", "b", "c", "d"], dtype=object)
    groups = resolve_groups([["d", "a"], [np.int64(2), "b"]], X, names)
    assert _as_lists(groups) == [[0, 3], [1, 2]]


def test_unknown_name_lists_the_columns():
    X = np.zeros((3, 3))
    with pytest.raises(
        ValueError, match=r"'zz' is not a column name.*\['a', 'b', 'c'\]"
    ):
        resolve_groups([["a", "zz"]], X, ["a", "b", "c"])


def test_name_without_column_names():
    with pytest.raises(ValueError, match="'a' must be a column index."):
        resolve_groups([["a"]], np.zeros((3, 3)))


@pytest.mark.parametrize("index", [3, -1, 10])
def test_index_out_of_range(index):
    with pytest.raises(ValueError, match=f"{index} is not a column index.*3 columns"):
        resolve_groups([[0, index]], np.zeros((3, 3)))


@pytest.mark.parametrize(
    "groups, names, column",
    [
        ([[0, 1], [1, 2]], None, "1"),
        ([[0, 0]], None, "0"),
        ([["b"], ["c", "b"]], ["a", "b", "c"], "'b'"),
        ([["a", 0]], ["a", "b", "c"], "0"),
    ],
)
def test_a_column_in_two_groups(groups, names, column):
    with pytest.raises(ValueError, match=f"Column {column} is in more than one group"):
        resolve_groups(groups, np.zeros((3, 3)), names)


@pytest.mark.parametrize("groups", [[[]], [[0], []], [np.array([], dtype=int)]])
def test_empty_group(groups):
    with pytest.raises(ValueError, match="at least one column"):
        resolve_groups(groups, np.zeros((3, 3)))


@pytest.mark.parametrize("member", [True, 1.0, None])
def test_members_must_be_indices_or_names(member):
    with pytest.raises(ValueError, match="must be a column index"):
        resolve_groups([[member]], np.zeros((3, 3)))


def test_unknown_string_option():
    with pytest.raises(ValueError, match="'auto'"):
        resolve_groups("correlated", np.zeros((3, 3)))


def test_expand_gives_every_member_its_group_row():
    groups = [np.array([0, 2]), np.array([1])]
    assert_array_equal(
        expand([[1.0, 2.0], [3.0, 4.0]], groups, 3), [[1, 2], [3, 4], [1, 2]]
    )


# --------------------------------------------------------------------------------
# correlation_groups


def _correlated_data(n=500, seed=0, weaker=1.5):
    """x0, x1 near duplicates; x2 weaker, independent; x3..x5 noise."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 6))
    X[:, 1] = X[:, 0] + 0.2 * rng.normal(size=n)
    y = X[:, 0] + X[:, 1] + weaker * X[:, 2] + 0.3 * rng.normal(size=n)
    return X, y


X_PAIR, Y_PAIR = _correlated_data()


def test_data_has_the_near_duplicate_pair():
    assert np.corrcoef(X_PAIR[:, 0], X_PAIR[:, 1])[0, 1] > 0.95
    others = np.corrcoef(X_PAIR[:, 2:], rowvar=False) - np.eye(4)
    assert np.abs(others).max() < 0.15


def test_auto_finds_exactly_the_pair():
    assert _as_lists(correlation_groups(X_PAIR)) == [[0, 1], [2], [3], [4], [5]]


def test_auto_uses_absolute_rank_correlation():
    rng = np.random.RandomState(1)
    x = rng.normal(size=300)
    X = np.column_stack(
        [
            rng.normal(size=300),
            x,
            -np.exp(x) + 0.01 * rng.normal(size=300),  # monotone, decreasing
            rng.normal(size=300),
        ]
    )
    assert _as_lists(correlation_groups(X)) == [[0], [1, 2], [3]]


def test_auto_threshold_extremes_and_constant_columns():
    X = X_PAIR.copy()
    X[:, 4] = 2.0
    assert _as_lists(correlation_groups(X, threshold=0.0)) == [[i] for i in range(6)]
    assert _as_lists(correlation_groups(X)) == [[0, 1], [2], [3], [4], [5]]
    # Just below the largest distance, everything varying is one group; the constant
    # column has no correlation and stays alone.
    groups = _as_lists(correlation_groups(X, threshold=0.999))
    assert groups == [[0, 1, 2, 3, 5], [4]]
    assert _as_lists(correlation_groups(X[:, :1])) == [[0]]


def _spearman_distance(a, b):
    """``1 - |Pearson correlation of the ranks|`` (no ties in continuous data)."""
    ranks = [np.argsort(np.argsort(v)) for v in (a, b)]
    return 1.0 - abs(np.corrcoef(*ranks)[0, 1])


def test_auto_average_linkage_cut():
    # 0 and 1 are close and merge first; 2 joins them at the average of its
    # distances to 0 and to 1.
    rng = np.random.RandomState(3)
    z = rng.normal(size=(1000, 3))
    X = np.column_stack([z[:, 0], z[:, 0] + 0.3 * z[:, 1], -z[:, 0] + 1.5 * z[:, 2]])
    d01 = _spearman_distance(X[:, 0], X[:, 1])
    joins = (
        _spearman_distance(X[:, 0], X[:, 2]) + _spearman_distance(X[:, 1], X[:, 2])
    ) / 2
    assert d01 < 0.1 < joins < 0.9
    assert _as_lists(correlation_groups(X, threshold=d01 - 1e-6)) == [[0], [1], [2]]
    assert _as_lists(correlation_groups(X, threshold=d01 + 1e-6)) == [[0, 1], [2]]
    assert _as_lists(correlation_groups(X, threshold=joins - 1e-6)) == [[0, 1], [2]]
    assert _as_lists(correlation_groups(X, threshold=joins + 1e-6)) == [[0, 1, 2]]


def _weighted_data():
    rng = np.random.RandomState(7)
    z = rng.normal(size=(40, 3))
    X = np.column_stack(
        [
            z[:, 0],
            z[:, 0] + 0.4 * z[:, 1],
            np.round(z[:, 0] + z[:, 2]),  # ties
            z[:, 2],
            np.where(np.arange(40) < 5, 1.0, 0.0),  # constant once rows 0-4 are gone
        ]
    )
    weights = rng.randint(0, 4, size=40)
    weights[:5] = 0
    return X, weights


def test_weighted_spearman_equals_repeated_rows():
    X, weights = _weighted_data()
    repeated = np.repeat(X[:, :4], weights, axis=0)
    assert_allclose(
        _weighted_spearman(X[:, :4], weights.astype(float)),
        stats.spearmanr(repeated).statistic,
        rtol=1e-12,
    )
    assert_allclose(
        _weighted_spearman(X[:, :4], np.ones(len(X))),
        stats.spearmanr(X[:, :4]).statistic,
        rtol=1e-12,
    )


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.6, 0.9])
def test_auto_with_sample_weight_equals_repeated_rows(threshold):
    X, weights = _weighted_data()
    weighted = correlation_groups(X, threshold, sample_weight=weights)
    repeated = correlation_groups(np.repeat(X, weights, axis=0), threshold)
    assert _as_lists(weighted) == _as_lists(repeated)
    unweighted = correlation_groups(X, threshold)
    assert [4] in _as_lists(weighted)
    if threshold == 0.6:
        assert _as_lists(weighted) != _as_lists(unweighted)


# --------------------------------------------------------------------------------
# The pitfall: near-duplicate inputs look unimportant one by one


def _pair_model():
    return make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(20,), max_iter=500, random_state=0),
    )


PITFALL_METHODS = {
    "permutation_cv": dict(method="permutation", cv=3, n_repeats=3),
    "ablation_warm": dict(method="ablation", n_repeats=1),
    "ablation_cold": dict(method="ablation", retrain="cold", n_repeats=1),
}
_PITFALL = {}


def _pitfall(name, groups):
    key = (name, str(groups))
    if key not in _PITFALL:
        _PITFALL[key] = NNImportanceSelector(
            _pair_model(), groups=groups, random_state=0, **PITFALL_METHODS[name]
        ).fit(X_PAIR, Y_PAIR)
    return _PITFALL[key]


def _rank(importances, i):
    """1 for the most important feature."""
    return 1 + int((importances > importances[i]).sum())


@pytest.mark.parametrize("name", PITFALL_METHODS)
def test_ungrouped_the_pair_ranks_below_the_weaker_input(name):
    importances = _pitfall(name, None).feature_importances_
    # Each duplicate is worth less than the weaker independent input ...
    assert importances[0] < importances[2] and importances[1] < importances[2]
    assert _rank(importances, 0) >= 2 and _rank(importances, 1) >= 2
    # ... while the noise is at zero.
    assert np.abs(importances[3:]).max() < 0.02 * importances[2]
    if name == "ablation_cold":
        # Refitted from scratch without one of them, the model loses nothing.
        assert importances[:2].max() < 0.1 * importances[2]


@pytest.mark.parametrize("name", PITFALL_METHODS)
@pytest.mark.parametrize("groups", [[[0, 1]], "auto"])
def test_grouped_the_pair_ranks_first(name, groups):
    selector = _pitfall(name, groups)
    assert _as_lists(selector.groups_) == [[0, 1], [2], [3], [4], [5]]
    group_importances = selector.group_importances_
    assert group_importances.shape == (5,)
    assert np.argmax(group_importances) == 0
    ungrouped = _pitfall(name, None).feature_importances_
    # The pair is worth at least 1.5 times the weaker input, and more than both
    # duplicates measured alone.
    assert group_importances[0] > 1.5 * group_importances[1]
    assert group_importances[0] > ungrouped[:2].sum()
    # Ungrouped columns are measured as before.
    assert_allclose(group_importances[1:], ungrouped[2:], rtol=0.25, atol=0.02)
    importances = selector.feature_importances_
    assert importances[0] == importances[1] == group_importances[0]
    assert _rank(importances, 0) == _rank(importances, 1) == 1


@pytest.mark.parametrize("name", PITFALL_METHODS)
def test_auto_equals_explicit_pair(name):
    auto, explicit = _pitfall(name, "auto"), _pitfall(name, [[0, 1]])
    assert_allclose(auto.importances_, explicit.importances_, rtol=1e-12)


# --------------------------------------------------------------------------------
# Grouped scores against definitions


def _tiny_regression(n=80, p=5, seed=0, n_outputs=1):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, p)) * [1.0, 3.0, 0.5, 2.0, 1.0][:p] + [0, 5, -1, 0, 2][:p]
    signal = np.tanh(X[:, 0]) + 0.3 * X[:, 1] - X[:, 2] * X[:, 3]
    y = signal if n_outputs == 1 else np.column_stack([signal, np.sin(X[:, 4])])
    return X, y


def _tiny_multiclass(n=90, p=5, seed=1):
    X, signal = _tiny_regression(n, p, seed)
    return X, np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))


_FITTED = {}


def _fit(kind, scaler):
    """A small tanh network of ``kind`` behind ``scaler``, fitted once per session."""
    key = (kind, scaler)
    if key not in _FITTED:
        _FITTED[key] = _fit_new(kind, scaler and scaler())
    return _FITTED[key]


def _fit_new(kind, scaler, activation="tanh"):
    if kind == "multiclass":
        X, y = _tiny_multiclass()
        mlp = MLPClassifier(hidden_layer_sizes=(6, 4), activation=activation)
    else:
        X, y = _tiny_regression(n_outputs=2 if kind == "multioutput" else 1)
        mlp = MLPRegressor(hidden_layer_sizes=(6, 4), activation=activation)
    mlp.set_params(solver="lbfgs", max_iter=200, random_state=0)
    estimator = mlp if scaler is None else make_pipeline(scaler, mlp)
    return estimator.fit(X, y), X, y


FITTED_KINDS = [
    ("regression", StandardScaler),
    ("multioutput", None),
    ("multiclass", MinMaxScaler),
]
GROUPS = [[0, 3], [1, 2, 4]]


@pytest.mark.parametrize("method", ["weights", "garson", "olden", "probe"])
@pytest.mark.parametrize("kind, scaler", FITTED_KINDS)
def test_network_reading_methods_sum_the_members(method, kind, scaler):
    estimator, X, _ = _fit(kind, scaler)
    alone = nn_importance(estimator, X, method=method).importances_mean
    grouped = nn_importance(estimator, X, method=method, groups=GROUPS)
    expected = [alone[g].sum() for g in GROUPS]
    assert_allclose(grouped.group_importances[:, 0], expected, rtol=1e-12)
    members_expected = [expected[0], expected[1], expected[1], expected[0], expected[1]]
    assert_allclose(grouped.importances_mean, members_expected, rtol=1e-12)


def _network_output(estimator, X):
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X)  # multiclass: every class
    return np.asarray(estimator.predict(X)).reshape(len(X), -1)


def _jacobian_by_finite_differences(estimator, X, step=1e-5):
    """``J[r, k, i] = d output_k / d x_i`` at row ``r``, raw inputs.

    Central differences with steps ``h`` and ``h / 2`` (``h`` = ``step`` standard
    deviations of the column), combined by Richardson extrapolation.
    """
    std = X.std(axis=0)

    def central(i, h):
        up, down = X.copy(), X.copy()
        up[:, i] += h
        down[:, i] -= h
        return (_network_output(estimator, up) - _network_output(estimator, down)) / (
            2 * h
        )

    columns = []
    for i in range(X.shape[1]):
        h = step * std[i]
        columns.append((4 * central(i, h / 2) - central(i, h)) / 3)
    return np.stack(columns, axis=2)


def _grouped_gradient_by_hand(estimator, X, groups, sample_weight=None):
    """Weighted mean over rows, then mean over outputs, of the group's gradient norm.

    ``sigma'_i d f / d x'_i = std(x_i) d f / d x_i`` up to sign for affine scalers,
    so the scaled derivative is taken with respect to the raw input.
    """
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
    mean = np.average(X, axis=0, weights=w)
    std = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w))
    scaled = _jacobian_by_finite_differences(estimator, X) * std  # (n, K, p)
    result = []
    for group in groups:
        norms = np.sqrt((scaled[:, :, group] ** 2).sum(axis=2))  # (n, K)
        result.append(np.average(norms, axis=0, weights=w).mean())
    return np.array(result)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind, scaler", FITTED_KINDS)
def test_grouped_gradient_by_finite_differences(kind, scaler, weighted):
    estimator, X, _ = _fit(kind, scaler)
    sample_weight = (
        np.random.RandomState(5).randint(0, 4, size=len(X)) if weighted else None
    )
    groups = [[0, 3], [1, 2, 4]]
    result = nn_importance(
        estimator, X, method="gradient", groups=groups, sample_weight=sample_weight
    )
    expected = _grouped_gradient_by_hand(estimator, X, groups, sample_weight)
    assert_allclose(result.group_importances[:, 0], expected, rtol=1e-6)
    # A group of several inputs has no sign.
    assert np.isnan(result.signed_importances).all()


@pytest.mark.parametrize("kind, scaler", FITTED_KINDS)
def test_grouped_gradient_singletons_equal_ungrouped(kind, scaler):
    estimator, X, _ = _fit(kind, scaler)
    alone = nn_importance(estimator, X, method="gradient")
    groups = [[1, 4]]  # 0, 2 and 3 stay singletons, alongside a real group
    grouped = nn_importance(estimator, X, method="gradient", groups=groups)
    singles = [0, 2, 3]
    assert_allclose(
        grouped.importances_mean[singles], alone.importances_mean[singles], rtol=1e-10
    )
    assert_allclose(
        grouped.signed_importances[singles],
        alone.signed_importances[singles],
        rtol=1e-10,
    )
    assert np.isnan(grouped.signed_importances[[1, 4]]).all()
    expected = _grouped_gradient_by_hand(estimator, X, [[1, 4]])
    assert_allclose(grouped.importances_mean[1], expected[0], rtol=1e-6)
    # The norm of a group lies between its largest member and the sum of its members.
    members = alone.importances_mean[[1, 4]]
    assert members.max() <= grouped.importances_mean[1] <= members.sum() * (1 + 1e-12)


def test_grouped_occlusion_fills_the_members_together():
    estimator, X, y = _fit("regression", StandardScaler)
    groups = [[0, 3], [1, 2, 4]]
    result = nn_importance(
        estimator, X, y, method="ablation", retrain="none", groups=groups
    )
    baseline = estimator.score(X, y)
    expected = []
    for group in groups:
        filled = X.copy()
        filled[:, group] = X[:, group].mean(axis=0)
        expected.append(baseline - estimator.score(filled, y))
    assert_allclose(result.group_importances[:, 0], expected, rtol=1e-10)


# --------------------------------------------------------------------------------
# The selector: fitted attributes and whole-group selection


def test_fitted_group_attributes():
    selector = NNImportanceSelector(
        _pair_model(), groups=[[3, 5], [1, 0]], random_state=0
    ).fit(X_PAIR, Y_PAIR)
    assert _as_lists(selector.groups_) == [[0, 1], [2], [3, 5], [4]]
    assert selector.group_importances_.shape == (4,)
    for group, value in zip(selector.groups_, selector.group_importances_):
        assert_array_equal(selector.feature_importances_[group], value)
    assert selector.importances_.shape == (6, 1)
    assert selector.importances_ci_.shape == (6, 2)


def _assert_groups_whole(mask, groups):
    for group in groups:
        assert mask[group].all() or not mask[group].any()


def test_threshold_keeps_or_drops_groups_whole():
    groups = [[0, 1], [3, 4]]
    for threshold in [None, "median", "0.5*mean"]:
        selector = NNImportanceSelector(
            _pair_model(), groups=groups, threshold=threshold, random_state=0
        ).fit(X_PAIR, Y_PAIR)
        mask = selector.get_support()
        _assert_groups_whole(mask, selector.groups_)
        scores = selector.group_importances_
        kept = scores >= selector.threshold_
        assert_array_equal(
            mask,
            np.concatenate(
                [np.full(len(g), k) for g, k in zip(selector.groups_, kept)]
            ),
        )
    assert mask[:3].all()


def test_max_features_never_splits_a_group():
    selector = NNImportanceSelector(
        _pair_model(), groups=[[0, 1], [3, 4]], threshold=-np.inf, random_state=0
    ).fit(X_PAIR, Y_PAIR)
    order = np.argsort(-selector.group_importances_, kind="mergesort")
    ranked = [selector.groups_[j] for j in order]
    # When the most important groups fill max_features exactly, they are kept.
    for k in range(1, len(ranked) + 1):
        expected = np.sort(np.concatenate(ranked[:k]))
        selector.set_params(max_features=len(expected)).fit(X_PAIR, Y_PAIR)
        assert_array_equal(selector.get_support(indices=True), expected)
    for max_features in range(0, 7):
        selector.set_params(max_features=max_features).fit(X_PAIR, Y_PAIR)
        mask = selector.get_support()
        assert mask.sum() <= max_features
        _assert_groups_whole(mask, selector.groups_)
        # Greedy from the most important group down; a group that no longer fits is
        # passed over and smaller, less important ones may still be taken.
        room, expected = max_features, []
        for group in ranked:
            if len(group) <= room:
                expected.extend(group)
                room -= len(group)
        assert_array_equal(selector.get_support(indices=True), np.sort(expected))


# --------------------------------------------------------------------------------
# Column names


def _frame():
    names = ["dup_a", "dup_b", "weak", "noise_1", "noise_2", "noise_3"]
    return pd.DataFrame(X_PAIR, columns=names)


def test_groups_by_name_with_a_dataframe():
    frame = _frame()
    by_name = NNImportanceSelector(
        _pair_model(),
        groups=[["dup_b", "dup_a"], ["noise_1", "noise_3"]],
        random_state=0,
    ).fit(frame, Y_PAIR)
    by_index = NNImportanceSelector(
        _pair_model(), groups=[[0, 1], [3, 5]], random_state=0
    ).fit(X_PAIR, Y_PAIR)
    assert _as_lists(by_name.groups_) == [[0, 1], [2], [3, 5], [4]]
    assert_allclose(by_name.feature_importances_, by_index.feature_importances_)
    # The same groups through the function form.
    result = nn_importance(
        by_name.estimator_, frame, groups=[["dup_b", "dup_a"], ["noise_1", "noise_3"]]
    )
    assert_allclose(result.importances_mean, by_name.feature_importances_)


def test_feature_names_and_inverse_transform_follow_whole_groups():
    frame = _frame()
    selector = NNImportanceSelector(
        _pair_model(),
        groups=[["dup_a", "dup_b"], ["noise_1", "noise_2"]],
        threshold=-np.inf,
        max_features=4,
        random_state=0,
    ).fit(frame, Y_PAIR)
    mask = selector.get_support()
    _assert_groups_whole(mask, selector.groups_)
    names = selector.get_feature_names_out()
    assert_array_equal(names, frame.columns[mask])
    assert {"dup_a", "dup_b", "weak"} <= set(names)
    assert not ({"noise_1", "noise_2"} & set(names)) or {"noise_1", "noise_2"} <= set(
        names
    )
    reduced = selector.transform(frame)
    assert reduced.shape == (len(frame), mask.sum())
    restored = selector.inverse_transform(reduced)
    assert_allclose(restored[:, mask], frame.to_numpy()[:, mask])
    assert_array_equal(restored[:, ~mask], 0.0)
    with pytest.raises(ValueError, match=r"'nope' is not a column name.*'dup_a'"):
        NNImportanceSelector(_pair_model(), groups=[["dup_a", "nope"]]).fit(
            frame, Y_PAIR
        )


def test_bad_group_fails_before_fitting(monkeypatch):
    from sklearn.neural_network import MLPRegressor as Regressor

    def forbidden(*args, **kwargs):
        raise AssertionError("the network was fitted before the groups were checked")

    monkeypatch.setattr(Regressor, "fit", forbidden)
    for groups, match in [
        ([["dup_a", "nope"]], "not a column name"),
        ([[0, 6]], "not a column index"),
        ([[0, 1], [1]], "more than one group"),
        ([[]], "at least one column"),
    ]:
        with pytest.raises(ValueError, match=match):
            NNImportanceSelector(Regressor(), groups=groups).fit(_frame(), Y_PAIR)
