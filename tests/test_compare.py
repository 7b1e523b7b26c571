"""compare_importances: methods and models side by side, agreement, overfitting."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.datasets import load_iris, make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import ImportanceComparison, compare_importances
from sknnimp._compare import shuffled_folds
from sknnimp._methods import AGNOSTIC_METHODS, DEFAULT_METHODS, NETWORK_METHODS

N_FEATURES = 6  # make_friedman1: inputs 0-4 informative, 5 noise


def _mlp(**params):
    params = {"hidden_layer_sizes": (16,), "solver": "lbfgs", "max_iter": 300, **params}
    return make_pipeline(StandardScaler(), MLPRegressor(random_state=0, **params))


@pytest.fixture(scope="module")
def data():
    X, y = make_friedman1(n_samples=150, n_features=N_FEATURES, random_state=0)
    columns = [f"in{i}" for i in range(N_FEATURES)]
    return pd.DataFrame(X, columns=columns), y


@pytest.fixture(scope="module")
def comparison(data):
    X, y = data
    models = {
        "mlp": _mlp(),
        "forest": RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0),
    }
    return compare_importances(models, X, y, n_repeats=3, random_state=0)


def test_every_method_for_the_network_model_agnostic_ones_for_the_forest(comparison):
    assert isinstance(comparison, ImportanceComparison)
    expected = [("mlp", method) for method in DEFAULT_METHODS]
    expected += [("forest", method) for method in AGNOSTIC_METHODS]
    assert list(comparison.results) == expected
    for result in comparison.results.values():
        assert result.importances_mean.shape == (N_FEATURES,)
        assert np.isfinite(result.importances_mean).all()
    # Permutation and ablation draw n_repeats times; the network readers once.
    assert comparison.results[("mlp", "permutation")].importances.shape == (6, 3)
    assert comparison.results[("mlp", "gradient")].importances.shape == (6, 1)
    assert set(comparison.models) == {"mlp", "forest"}
    assert isinstance(comparison.models["forest"], RandomForestRegressor)


def test_skipped_methods_say_why(comparison):
    assert set(comparison.skipped) == {("forest", m) for m in NETWORK_METHODS}
    for reason in comparison.skipped.values():
        assert "network" in reason and "RandomForestRegressor" in reason


def test_a_network_behind_a_mixing_step_is_skipped_with_the_step_named(data):
    from sklearn.decomposition import PCA

    X, y = data
    model = make_pipeline(PCA(n_components=3), MLPRegressor(max_iter=20))
    comparison = compare_importances(
        {"pca": model}, X, y, methods=["gradient", "permutation"], n_repeats=1
    )
    assert list(comparison.results) == [("pca", "permutation")]
    assert "'pca' (PCA) mixes input columns" in comparison.skipped[("pca", "gradient")]


def test_feature_names_come_from_the_dataframe(comparison, data):
    X, _ = data
    assert comparison.feature_names == list(X.columns)
    assert list(comparison.table().index) == list(X.columns)
    assert comparison.table().index.name == "feature"


@pytest.mark.parametrize("kind", ["spearman", "kendall"])
def test_agreement_is_symmetric_with_ones_on_the_diagonal(comparison, kind):
    agreement = comparison.agreement(kind)
    keys = list(comparison.results)
    assert list(agreement.index) == keys
    assert list(agreement.columns) == keys
    matrix = agreement.to_numpy()
    assert_allclose(matrix, matrix.T)
    assert_allclose(np.diag(matrix), 1.0)
    assert np.isfinite(matrix).all()
    assert (np.abs(matrix) <= 1 + 1e-12).all()
    assert_allclose(matrix, comparison.agreement_matrix(kind))
    # Any entry is the rank correlation of the two mean importances.
    a, b = keys.index(("mlp", "gradient")), keys.index(("forest", "permutation"))
    correlation = stats.spearmanr if kind == "spearman" else stats.kendalltau
    expected = correlation(
        comparison.results[keys[a]].importances_mean,
        comparison.results[keys[b]].importances_mean,
    ).statistic
    assert matrix[a, b] == pytest.approx(expected)


def test_kendall_and_spearman_differ(comparison):
    spearman = comparison.agreement("spearman").to_numpy()
    kendall = comparison.agreement("kendall").to_numpy()
    off_diagonal = ~np.eye(len(spearman), dtype=bool)
    assert not np.allclose(spearman[off_diagonal], kendall[off_diagonal])


def test_agreement_rejects_an_unknown_kind(comparison):
    with pytest.raises(ValueError, match="spearman"):
        comparison.agreement("pearson")


def test_table_ranks_and_shares_match_the_results(comparison):
    table = comparison.table()
    assert table.shape == (N_FEATURES, 4 * len(comparison.results))
    assert table.columns.names == ["model", "method", "quantity"]
    for (model, method), result in comparison.results.items():
        mean = result.importances_mean
        share = mean / np.abs(mean).sum()
        assert_allclose(table[(model, method, "importance")], share)
        ranks = table[(model, method, "rank")].to_numpy()
        # Rank 1 is the largest importance; ranks are a permutation of 1..p.
        assert sorted(ranks) == list(range(1, N_FEATURES + 1))
        assert_array_equal(np.argsort(ranks), np.argsort(-mean, kind="mergesort"))
        low = table[(model, method, "ci_low")].to_numpy()
        high = table[(model, method, "ci_high")].to_numpy()
        if result.importances.shape[1] == 1:
            assert np.isnan(low).all() and np.isnan(high).all()
        else:
            assert_allclose(low, result.importances_ci[:, 0] / np.abs(mean).sum())
            assert (low <= share + 1e-12).all() and (share <= high + 1e-12).all()
    # The permutation draws differ between shuffles, so their interval is not empty.
    perm = (
        table[("mlp", "permutation", "ci_high")]
        - table[("mlp", "permutation", "ci_low")]
    )
    assert (perm > 0).all()


def test_every_model_ranks_the_noise_input_below_the_strongest_inputs(comparison):
    # make_friedman1's inputs 3 and 1 carry most of the signal, input 5 none.
    table = comparison.table()
    for model, method in [("mlp", "gradient"), ("mlp", "permutation")] + [
        ("forest", "permutation")
    ]:
        ranks = table[(model, method, "rank")]
        assert ranks["in5"] > max(ranks["in3"], ranks["in1"])


def test_methods_subset_and_a_single_estimator(data):
    X, y = data
    comparison = compare_importances(
        _mlp(max_iter=100), X, y, methods=["olden", "gradient"], random_state=0
    )
    assert list(comparison.results) == [("model", "olden"), ("model", "gradient")]
    assert comparison.skipped == {}
    assert "model/olden" in repr(comparison)


def test_a_classifier_network_against_a_logistic_regression():
    X, y = load_iris(return_X_y=True, as_frame=True)
    mlp = MLPClassifier(
        hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300, random_state=0
    )
    models = {
        "mlp": make_pipeline(StandardScaler(), mlp),
        "logistic": LogisticRegression(max_iter=500),
    }
    comparison = compare_importances(models, X, y, n_repeats=2, random_state=0)
    assert len(comparison.results) == len(DEFAULT_METHODS) + len(AGNOSTIC_METHODS)
    assert set(comparison.skipped) == {("logistic", m) for m in NETWORK_METHODS}
    assert comparison.table().shape == (4, 4 * len(comparison.results))
    flags = comparison.overfitting_flags()
    assert set(flags) == {"mlp", "logistic"}
    # Iris's petal measurements matter most to both models on held-out data.
    for found in flags.values():
        assert set(np.argsort(-found["held_out"])[:2]) == {2, 3}


def test_unknown_method_is_rejected(data):
    X, y = data
    with pytest.raises(ValueError, match="Unknown methods"):
        compare_importances(_mlp(), X, y, methods=["gradient", "saliency"])


def test_a_fitted_estimator_is_used_as_is(data):
    X, y = data
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        # Fitted on a DataFrame, it is scored on DataFrames with its column names.
        warnings.filterwarnings("error", message="X does not have valid feature names")
        comparison = compare_importances(
            forest, X, y, methods=["permutation", "ablation"]
        )
    assert comparison.models["model"] is forest


def test_pandas_missing_names_the_extra(comparison, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    for call in (comparison.table, comparison.agreement, comparison.overfitting):
        with pytest.raises(ImportError, match=r"sknnimp\[pandas\]"):
            call()
    # The array forms work without pandas.
    n_results = len(DEFAULT_METHODS) + len(AGNOSTIC_METHODS)
    assert comparison.agreement_matrix().shape == (n_results, n_results)


def test_overfitting_table_reuses_the_training_permutation(comparison):
    table = comparison.overfitting()
    assert table.columns.names == ["model", "quantity"]
    assert set(table.columns.get_level_values("model")) == {"mlp", "forest"}
    assert set(table.columns.get_level_values("quantity")) == {
        "train",
        "held_out",
        "difference",
        "flagged",
    }
    for model in ("mlp", "forest"):
        # Without cv the comparison's permutation importance is the training one.
        assert_allclose(
            table[(model, "train")],
            comparison.results[(model, "permutation")].importances_mean,
        )
        assert_allclose(
            table[(model, "difference")],
            table[(model, "train")] - table[(model, "held_out")],
        )
        assert table[(model, "flagged")].dtype == bool
        # Friedman's strongest input carries over to new data: never flagged.
        assert not table[(model, "flagged")]["in3"]


def test_overfitting_with_cv_reuses_the_held_out_permutation(data):
    X, y = data
    comparison = compare_importances(
        _mlp(), X, y, methods=["permutation"], cv=3, n_repeats=2, random_state=0
    )
    held_out = comparison.results[("model", "permutation")]
    assert held_out.importances.shape == (N_FEATURES, 3 * 2)  # folds x repeats
    flags = comparison.overfitting_flags()["model"]
    assert_allclose(flags["held_out"], held_out.importances_mean)
    assert not np.allclose(flags["train"], flags["held_out"])


def _overfitting_data(seed, n_samples=100, n_informative=3, n_noise=10):
    """``y = x0 + x1 + x2 + e``, ``e ~ N(0, 1)``, and 10 pure-noise inputs."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_informative + n_noise))
    y = X[:, :n_informative].sum(axis=1) + rng.normal(size=n_samples)
    return X, y


def _overfitting_mlp(seed):
    # A large network, no weight decay, trained to convergence on 100 rows: it
    # interpolates the training data and so uses the noise inputs as well.
    mlp = MLPRegressor(
        hidden_layer_sizes=(200,),
        alpha=0.0,
        solver="lbfgs",
        max_iter=2000,
        random_state=seed,
    )
    return make_pipeline(StandardScaler(), mlp)


def test_overfitting_flags_noise_inputs_and_not_informative_ones():
    # Measured on seeds 0-29 with this design (shuffled held-out folds): no
    # informative input flagged (0 of 90), 5 to 10 of the 10 noise inputs flagged
    # per seed (8.3 on average; 19 on seeds 0-2).
    flagged_noise = []
    for seed in range(3):
        X, y = _overfitting_data(seed)
        comparison = compare_importances(
            _overfitting_mlp(seed),
            X,
            y,
            methods=["permutation"],
            n_repeats=10,
            random_state=seed,
        )
        assert comparison.models["model"].score(X, y) > 0.99  # it did overfit
        flags = comparison.overfitting()["model"]
        flagged = flags["flagged"].to_numpy()
        assert not flagged[:3].any(), flags.round(3)
        assert flagged[3:].sum() >= 5, flags.round(3)
        # The informative inputs keep their importance on held-out data.
        assert (flags["held_out"].to_numpy()[:3] > 0.1).all()
        flagged_noise.append(flagged[3:].sum())
    assert sum(flagged_noise) >= 18, flagged_noise  # of 30


def test_overfitting_is_recomputed_for_another_number_of_folds(data):
    X, y = data
    comparison = compare_importances(
        _mlp(), X, y, methods=["gradient"], n_repeats=2, random_state=0
    )
    five = comparison.overfitting_flags()["model"]
    assert comparison.overfitting_flags()["model"]["held_out"] is five["held_out"]
    three = comparison.overfitting_flags(n_splits=3)["model"]
    assert_allclose(three["train"], five["train"])
    assert not np.allclose(three["held_out"], five["held_out"])


def test_overfitting_on_rows_sorted_by_an_informative_input_does_not_flag_it():
    # Rows sorted by Friedman's strongest input (x3, the largest held-out
    # importance): unshuffled folds each hold a slice of its range that the model
    # never saw, so shuffling it within a fold moves it little and it looks
    # unimportant held out; shuffled folds measure what the model learned.
    X, y = make_friedman1(n_samples=300, n_features=N_FEATURES, random_state=0)
    order = np.argsort(X[:, 3], kind="mergesort")
    X, y = X[order], y[order]
    options = dict(methods=["permutation"], n_repeats=3, random_state=0)
    comparison = compare_importances(_mlp(), X, y, **options)
    flags = comparison.overfitting_flags()["model"]
    assert not flags["flagged"][3]
    assert flags["held_out"][3] > 0.5 * flags["train"][3]
    assert np.argmax(flags["held_out"]) == 3
    # The same check on unshuffled folds (the comparison's own cv=5, an int):
    # the strongest input is flagged, its held-out importance nearly gone.
    unshuffled = compare_importances(_mlp(), X, y, cv=5, **options)
    extrapolated = unshuffled.overfitting_flags()["model"]
    assert extrapolated["flagged"][3]
    assert extrapolated["held_out"][3] < 0.2 * flags["held_out"][3]


def test_overfitting_folds_are_shuffled_seeded_and_stratified_for_classifiers():
    X, y = load_iris(return_X_y=True)
    mlp = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=100)
    folds = shuffled_folds(make_pipeline(StandardScaler(), mlp), y, 4, 7)
    assert isinstance(folds, StratifiedKFold)
    assert (folds.n_splits, folds.shuffle, folds.random_state) == (4, True, 7)
    folds = shuffled_folds(_mlp(), y.astype(float), 3, 7)
    assert type(folds) is KFold and folds.shuffle and folds.random_state == 7
    # A multilabel target cannot be stratified: plain shuffled folds.
    labels = np.column_stack([y == 0, y == 1]).astype(int)
    assert type(shuffled_folds(mlp, labels, 3, 0)) is KFold
