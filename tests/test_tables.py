"""Real tables: DataFrames with categorical, string and boolean columns and missing
values, through any column-separable preprocessing, one importance per original column.

Oracles: scikit-learn's ``permutation_importance`` on the same DataFrame, central finite
differences of the network's own ``predict`` in its input space, and a real public
table (``palmerpenguins``).
"""

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknnimp import (
    ImportanceDisplay,
    NNImportanceSelector,
    compare_importances,
    nn_importance,
)
from sknnimp._tables import filled, shuffled

pd = pytest.importorskip("pandas")

NUMERIC = ["length", "width", "age"]
CATEGORICAL = ["colour", "site"]


def _table(n=160, seed=0):
    """Numeric columns with NaN, a categorical and a string column with NaN, a bool."""
    rng = np.random.RandomState(seed)
    length = rng.normal(10, 3, n)
    width = rng.normal(0, 1, n)
    age = rng.uniform(0, 50, n)
    colour = rng.choice(["red", "green", "blue"], n)
    site = rng.choice(["north", "south", "east", "west"], n).astype(object)
    signal = (
        0.3 * (length - 10) + 2 * width + (colour == "red") * 1.5 - (site == "east")
    )
    X = pd.DataFrame(
        {
            "length": length,
            "width": width,
            "age": age,
            "colour": pd.Categorical(colour),
            "site": site,
        }
    )
    X.loc[rng.rand(n) < 0.1, "length"] = np.nan
    X.loc[rng.rand(n) < 0.1, "site"] = np.nan
    return X, signal + 0.2 * rng.normal(size=n)


def _preprocessing():
    return ColumnTransformer(
        [
            (
                "num",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                NUMERIC,
            ),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                CATEGORICAL,
            ),
        ]
    )


def _model(task, seed=0):
    X, signal = _table(seed=seed)
    common = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0)
    if task == "regression":
        y = signal
        model = make_pipeline(_preprocessing(), MLPRegressor(**common))
    elif task == "binary":
        y = signal > np.median(signal)
        model = make_pipeline(_preprocessing(), MLPClassifier(**common))
    else:
        y = np.array(["low", "mid", "high"])[np.digitize(signal, [-1.0, 1.0])]
        model = make_pipeline(_preprocessing(), MLPClassifier(**common))
    return model.fit(X, y), X, y


def _count_transform_calls(model):
    """Count calls of the fitted preprocessing's ``transform``."""
    step = model[0]
    original = step.transform
    calls = []

    def counting(X, *args, **kwargs):
        calls.append(len(X))
        return original(X, *args, **kwargs)

    step.transform = counting
    return calls


# --- permutation on DataFrames ---------------------------------------------------


@pytest.mark.parametrize(
    "task, scoring",
    [
        ("regression", None),
        ("regression", "neg_mean_absolute_error"),
        ("binary", None),
        ("binary", "neg_log_loss"),
        ("multiclass", None),
        ("multiclass", "neg_log_loss"),
    ],
)
def test_permutation_equals_scikit_learn_and_takes_the_fast_path(task, scoring):
    model, X, y = _model(task)
    expected = permutation_importance(
        model, X, y, scoring=scoring, n_repeats=3, random_state=7
    )
    calls = _count_transform_calls(model)
    result = nn_importance(
        model, X, y, method="permutation", scoring=scoring, n_repeats=3, random_state=7
    )
    # The preprocessing ran once; scikit-learn's route runs it once per shuffle.
    assert calls == [len(X)]
    np.testing.assert_allclose(
        result.importances, expected.importances, rtol=1e-9, atol=1e-9
    )
    assert result.importances.shape == (len(X.columns), 3)


def test_permutation_with_a_custom_scorer_uses_the_dataframe():
    model, X, y = _model("regression")

    def scorer(estimator, X_scored, y_true):
        assert isinstance(X_scored, pd.DataFrame)
        assert isinstance(X_scored["colour"].dtype, pd.CategoricalDtype)
        return -np.mean(np.abs(estimator.predict(X_scored) - y_true))

    expected = permutation_importance(model, X, y, scoring=scorer, random_state=0)
    result = nn_importance(
        model, X, y, method="permutation", scoring=scorer, random_state=0
    )
    np.testing.assert_allclose(result.importances, expected.importances, atol=1e-12)


def test_shuffling_and_filling_keep_column_types_and_leave_the_input_alone():
    X, _ = _table(n=20)
    before = X.copy()
    perm = np.random.RandomState(0).permutation(len(X))
    out = shuffled(X, [3, 4], perm)
    assert list(out.dtypes) == list(X.dtypes)
    expected = X["site"].iloc[perm].set_axis(X.index)
    pd.testing.assert_series_equal(out["site"], expected)
    assert list(out.index) == list(X.index)
    out = filled(X, [0, 3], {0: 1.5, 3: "red"})
    assert isinstance(out["colour"].dtype, pd.CategoricalDtype)
    assert (out["colour"] == "red").all() and (out["length"] == 1.5).all()
    pd.testing.assert_frame_equal(X, before)


# --- the network-reading methods behind a ColumnTransformer ----------------------


def _central_differences(predict, Xn, h=1e-6):
    """``d predict / d x'_k`` for every row and network input ``k``."""
    jac = np.empty(Xn.shape)
    for k in range(Xn.shape[1]):
        up, down = Xn.copy(), Xn.copy()
        up[:, k] += h
        down[:, k] -= h
        jac[:, k] = (predict(up) - predict(down)) / (2 * h)
    return jac


def _blocks(model, X):
    """Network inputs of every original column, read from the output names."""
    names = model[0].get_feature_names_out()
    return [
        np.flatnonzero([n.split("__")[1].startswith(c) for n in names])
        for c in X.columns
    ]


def test_gradient_equals_finite_differences_combined_by_the_group_rule():
    model, X, y = _model("regression")
    Xn = model[0].transform(X)
    jac = _central_differences(model[-1].predict, Xn)
    scaled = jac * Xn.std(axis=0)
    expected = [
        np.mean(np.sqrt((scaled[:, block] ** 2).sum(axis=1)))
        for block in _blocks(model, X)
    ]
    result = nn_importance(model, X, method="gradient")
    np.testing.assert_allclose(result.importances_mean, expected, rtol=1e-6)
    # Single-input columns keep their signed score; one-hot blocks have none.
    assert np.isfinite(result.signed_importances[:3]).all()
    assert np.isnan(result.signed_importances[3:]).all()


@pytest.mark.parametrize("method", ["weights", "garson", "olden", "probe"])
def test_weight_methods_sum_over_a_column_s_network_inputs(method):
    model, X, _ = _model("regression")
    plain = nn_importance(model[-1], model[0].transform(X), method=method)
    result = nn_importance(model, X, method=method)
    expected = [plain.importances_mean[b].sum() for b in _blocks(model, X)]
    np.testing.assert_allclose(result.importances_mean, expected, rtol=1e-12)


def test_target_transformer_gives_values_in_the_target_s_units():
    X, signal = _table()
    y = 1000.0 * signal + 5e4  # a raw-scale target
    inner = make_pipeline(
        _preprocessing(),
        MLPRegressor(
            hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0
        ),
    )
    ttr = TransformedTargetRegressor(inner, transformer=StandardScaler()).fit(X, y)
    Xn = ttr.regressor_[0].transform(X)

    def predict(rows):  # the network's output in the target's units
        out = ttr.regressor_[-1].predict(rows).reshape(-1, 1)
        return ttr.transformer_.inverse_transform(out).ravel()

    jac = _central_differences(predict, Xn)
    scaled = np.abs(jac * Xn.std(axis=0))
    result = nn_importance(ttr, X, method="gradient")
    np.testing.assert_allclose(
        result.importances_mean[:3], scaled[:, :3].mean(axis=0), rtol=1e-6
    )
    # The same network without the target transformer, in standardized units.
    unscaled = nn_importance(ttr.regressor_, X, method="gradient")
    np.testing.assert_allclose(
        result.importances_mean, y.std() * unscaled.importances_mean, rtol=1e-9
    )
    olden = nn_importance(ttr, X, method="olden").signed_importances
    np.testing.assert_allclose(
        olden,
        y.std() * nn_importance(ttr.regressor_, X, method="olden").signed_importances,
        rtol=1e-9,
    )
    # Permutation through the fast path equals scikit-learn.
    expected = permutation_importance(ttr, X, y, n_repeats=2, random_state=0)
    got = nn_importance(ttr, X, y, method="permutation", n_repeats=2, random_state=0)
    np.testing.assert_allclose(got.importances, expected.importances, atol=1e-9)


def test_non_affine_target_transformer_names_the_methods_that_work():
    X, signal = _table()
    inner = make_pipeline(_preprocessing(), MLPRegressor(max_iter=20, random_state=0))
    ttr = TransformedTargetRegressor(
        inner, func=np.log1p, inverse_func=np.expm1, check_inverse=False
    )
    ttr.fit(X, np.exp(signal))
    for method in ["gradient", "olden", "probe"]:
        with pytest.raises(TypeError, match="'weights', 'garson', 'permutation'"):
            nn_importance(ttr, X, method=method)
    assert nn_importance(ttr, X, method="garson").importances_mean.shape == (5,)


@pytest.mark.parametrize("method", ["weights", "gradient", "olden"])
def test_a_mixing_step_names_itself(method):
    X, signal = _table()
    model = make_pipeline(
        _preprocessing(), PCA(n_components=4), MLPRegressor(max_iter=20)
    ).fit(X, signal)
    with pytest.raises(
        TypeError, match=r"pca.*PCA.*'permutation', 'conditional', 'ablation'"
    ):
        nn_importance(model, X, method=method)
    with pytest.raises(TypeError, match="PCA"):
        NNImportanceSelector(
            make_pipeline(_preprocessing(), PCA(n_components=4), MLPRegressor()),
            method=method,
        ).fit(X, signal)
    # The model-agnostic methods still work.
    assert nn_importance(
        model, X, signal, method="permutation", n_repeats=1
    ).importances.shape == (5, 1)


# --- ablation --------------------------------------------------------------------


@pytest.mark.parametrize("retrain", ["warm", "cold", "none"])
def test_ablation_on_a_dataframe(retrain):
    model, X, y = _model("regression")
    result = nn_importance(
        model, X, y, method="ablation", retrain=retrain, n_repeats=1, random_state=0
    )
    assert result.importances_mean.shape == (5,)
    # width and colour drive the target, age does not.
    order = np.argsort(-result.importances_mean)
    assert set(order[:2]) <= {0, 1, 3, 4}
    assert result.importances_mean[2] < result.importances_mean[1]


def test_warm_ablation_of_a_categorical_column_zeroes_its_whole_block():
    model, X, y = _model("regression")
    from sknnimp._ablation import _warm_fold, _warm_task
    from sknnimp._permutation import score
    from sknnimp._tables import fill_values

    fold = (X, y, None, X, y, None, fill_values(X, "mean"))
    seen = {}

    def scorer(estimator, X_scored, y_true):
        seen["coefs"] = estimator[-1].coefs_[0]
        return 0.0

    network_model, n_iter, network_fold, fast = _warm_fold(model, fold, scorer)
    assert fast is None  # a callable scorer sees the whole estimator
    block = network_model.network_groups([[3]])[0]
    assert len(block) == 3  # the colour's three categories
    _warm_task(network_model, n_iter, 0, network_fold, [block], scorer)
    np.testing.assert_array_equal(seen["coefs"][block], 0.0)
    assert np.abs(seen["coefs"][np.setdiff1d(np.arange(9), block)]).sum() > 0
    assert score(scorer, model, X, y, None) == 0.0
    assert np.abs(model[-1].coefs_[0][block]).sum() > 0  # the model is untouched


# --- the selector on tables ------------------------------------------------------


def test_selector_selects_original_columns_of_a_dataframe():
    X, signal = _table()
    selector = NNImportanceSelector(
        method="permutation", threshold=-np.inf, max_features=2, random_state=0
    ).fit(X, signal)
    assert selector.n_features_in_ == 5
    assert list(selector.feature_names_in_) == list(X.columns)
    kept = selector.get_feature_names_out()
    assert len(kept) == 2 and set(kept) <= {"length", "width", "colour", "site"}
    out = selector.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(kept)
    if "colour" in kept:
        assert isinstance(out["colour"].dtype, pd.CategoricalDtype)
    assert selector.baseline_score_ > 0.5


def test_polars_in_and_out():
    pl = pytest.importorskip("polars")
    X, signal = _table()
    X_pl = pl.DataFrame(  # missing values as polars' nulls
        {
            name: [None if pd.isna(v) else v for v in X[name].astype(object)]
            for name in X.columns
        }
    )
    selector = NNImportanceSelector(
        method="gradient", threshold=-np.inf, max_features=3, random_state=0
    ).fit(X_pl, signal)
    assert list(selector.feature_names_in_) == list(X.columns)
    out = selector.set_output(transform="polars").transform(X_pl)
    assert isinstance(out, pl.DataFrame)
    assert list(out.columns) == list(selector.get_feature_names_out())
    # The fast path against the general route, which scores the estimator on
    # shuffled polars frames (a callable scorer cannot take the fast path).
    result = nn_importance(
        selector.estimator_,
        X_pl,
        signal,
        method="permutation",
        n_repeats=2,
        random_state=0,
    )

    def r2(estimator, X_scored, y_true):
        assert isinstance(X_scored, pl.DataFrame)
        return r2_score(y_true, estimator.predict(X_scored))

    expected = nn_importance(
        selector.estimator_,
        X_pl,
        signal,
        method="permutation",
        scoring=r2,
        n_repeats=2,
        random_state=0,
    )
    np.testing.assert_allclose(result.importances, expected.importances, atol=1e-9)


def test_default_selector_on_the_penguins():
    penguins = pytest.importorskip("palmerpenguins").load_penguins()
    X = penguins.drop(columns="species")
    y = penguins["species"]
    selector = NNImportanceSelector(random_state=0).fit(X, y)
    importance = dict(zip(X.columns, selector.feature_importances_))
    for measure in ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]:
        assert importance[measure] > importance["year"], importance
    assert selector.estimator_.score(X, y) > 0.95
    assert X.isna().any().any()  # the NaNs were handed to the estimator


def test_compare_display_and_memory_on_a_table(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, signal = _table()
    comparison = compare_importances(
        make_pipeline(
            _preprocessing(),
            MLPRegressor(
                hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0
            ),
        ),
        X,
        signal,
        methods=["gradient", "permutation"],
        n_repeats=2,
        random_state=0,
    )
    assert comparison.feature_names == list(X.columns)
    assert comparison.table().shape[0] == 5
    comparison.plot()
    selector = NNImportanceSelector(random_state=0, memory=str(tmp_path)).fit(X, signal)
    again = NNImportanceSelector(random_state=0, memory=str(tmp_path)).fit(X, signal)
    np.testing.assert_array_equal(
        selector.feature_importances_, again.feature_importances_
    )
    display = ImportanceDisplay.from_estimator(selector)
    labels = {label.get_text() for label in display.ax_.get_yticklabels()}
    assert labels == set(X.columns)


def test_cold_drop_that_the_estimator_cannot_fit_says_so():
    model, X, y = _model("regression")
    with pytest.raises(ValueError, match="fill='drop' removes the column"):
        nn_importance(
            model, X, y, method="ablation", retrain="cold", fill="drop", n_repeats=1
        )


def test_cross_fitted_importance_and_overfitting_check_on_a_table():
    X, signal = _table()
    network = make_pipeline(
        _preprocessing(),
        MLPRegressor(
            hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0
        ),
    )
    selector = NNImportanceSelector(
        network, method="permutation", cv=3, n_repeats=2, random_state=0
    ).fit(X, signal)
    assert selector.importances_.shape == (5, 6)
    assert selector.baseline_score_ > 0.5
    comparison = compare_importances(
        network, X, signal, methods=["gradient"], n_repeats=2, random_state=0
    )
    flags = comparison.overfitting(n_splits=3)
    assert list(flags.index) == list(X.columns)


def test_fill_values_of_nullable_and_categorical_columns():
    from sknnimp._tables import fill_values

    X = pd.DataFrame(
        {
            "count": pd.array([1, None, 3, 3], dtype="Int64"),
            "flag": pd.array([True, None, True, False], dtype="boolean"),
            "kind": pd.Categorical(["b", None, "b", "a"]),
            "name": ["x", None, "y", "y"],
        }
    )
    mean = fill_values(X, "mean")
    assert mean[0] == pytest.approx(7 / 3)
    assert mean[1:] == [True, "b", "y"]  # most frequent, missing values left out
    assert fill_values(X, "median")[0] == 3.0
    weighted = fill_values(X, "mean", sample_weight=[1, 1, 0, 2])
    assert weighted[0] == pytest.approx(7 / 3) and weighted[3] == "y"
    out = filled(X, range(4), mean)
    assert list(out.dtypes[1:]) == list(X.dtypes[1:])
    assert out["count"].dtype == np.float64  # the integers' mean is not whole
    assert out["kind"].tolist() == ["b"] * 4
    assert filled(X, [0], {0: 3.0})["count"].dtype == X["count"].dtype


def test_selector_with_an_imputing_pipeline_transforms_a_table_with_missing_values():
    X, signal = _table()
    network = make_pipeline(_preprocessing(), MLPRegressor(max_iter=50))
    selector = NNImportanceSelector(network, threshold=-np.inf, max_features=3)
    out = selector.fit(X, signal).set_output(transform="pandas").transform(X)
    assert list(out.columns) == list(selector.get_feature_names_out())
    assert out.shape == (len(X), 3)


@pytest.mark.parametrize("method", ["gradient", "weights", "olden"])
def test_network_inputs_in_row_batches_give_the_same_importances(monkeypatch, method):
    """The preprocessing runs on row batches, so its output is never held whole."""
    import sknnimp._importance as importance_module

    model, X, y = _model("regression")
    weights = np.random.RandomState(3).randint(1, 4, size=len(X)).astype(float)
    whole = nn_importance(model, X, method=method, sample_weight=weights)
    calls = _count_transform_calls(model)
    monkeypatch.setattr(importance_module, "INPUT_BATCH_ELEMENTS", 64)  # a few rows
    batched = nn_importance(model, X, method=method, sample_weight=weights)
    # Every pass over the rows (one for the spread, one more for the gradients) is
    # made of small batches.
    passes = 2 if method == "gradient" else 1
    assert max(calls) < 10 and sum(calls) == passes * len(X)
    np.testing.assert_allclose(
        batched.importances_mean, whole.importances_mean, rtol=1e-10
    )


@pytest.mark.parametrize("task", ["regression", "multiclass"])
@pytest.mark.parametrize("scoring", [None, "neg_log_loss", "roc_auc_ovr"])
def test_baseline_score_of_network_methods_in_row_batches(monkeypatch, task, scoring):
    """The model's score beside the network-reading methods comes from its outputs
    on small row batches, and equals the estimator's own score."""
    from sklearn.metrics import check_scoring

    import sknnimp._importance as importance_module

    if task == "regression" and scoring is not None:
        return  # classification scores
    model, X, y = _model(task)
    weights = np.random.RandomState(3).uniform(0.5, 2.0, size=len(X))
    expected = check_scoring(model, scoring)(model, X, y, sample_weight=weights)
    calls = _count_transform_calls(model)
    monkeypatch.setattr(importance_module, "INPUT_BATCH_ELEMENTS", 64)  # a few rows
    result = nn_importance(
        model, X, y, method="weights", scoring=scoring, sample_weight=weights
    )
    assert result.baseline_score == pytest.approx(expected, abs=1e-12)
    assert max(calls) < 10


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
@pytest.mark.parametrize("groups", [None, [[0, 3], [1, 4]]])
def test_occlusion_through_the_first_layer_equals_the_general_route(task, groups):
    """A callable scorer cannot take the fast path: it scores filled DataFrames."""
    from sklearn.metrics import get_scorer

    model, X, y = _model(task)
    name = "r2" if task == "regression" else "neg_log_loss"
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=len(X))
    kwargs = dict(
        method="ablation", retrain="none", groups=groups, sample_weight=weights
    )
    calls = _count_transform_calls(model)
    fast = nn_importance(model, X, y, scoring=name, **kwargs)
    assert len(calls) == 2  # the rows, and one filled row
    scorer = get_scorer(name)

    def general(estimator, X_scored, y_true, sample_weight=None):
        return scorer(estimator, X_scored, y_true, sample_weight=sample_weight)

    slow = nn_importance(model, X, y, scoring=general, **kwargs)
    assert len(calls) > 2
    np.testing.assert_allclose(fast.importances, slow.importances, rtol=0, atol=1e-9)
    assert fast.baseline_score == pytest.approx(slow.baseline_score, abs=1e-12)


def test_occlusion_of_a_plain_network_with_scalers_equals_the_general_route():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5)) * [1, 10, 100, 0.1, 1] + [0, 5, -50, 1, 2]
    y = X[:, 0] + 0.1 * X[:, 1] - 0.01 * X[:, 2] + rng.normal(scale=0.1, size=120)
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(6, 4), solver="lbfgs", max_iter=300, random_state=0
        ),
    ).fit(X, y)
    for fill in ["mean", "median", 0.5]:
        fast = nn_importance(model, X, y, method="ablation", retrain="none", fill=fill)
        slow = nn_importance(
            model,
            X,
            y,
            method="ablation",
            retrain="none",
            fill=fill,
            scoring=lambda est, X_, y_: est.score(X_, y_),
        )
        np.testing.assert_allclose(fast.importances, slow.importances, atol=1e-9)


def test_conditional_with_sample_weight_on_a_table_with_categories():
    """The encoding of a table with categories (a ColumnTransformer) takes no
    sample_weight: it is fitted unweighted, the conditional models weighted."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    n = 120
    X = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "city": rng.choice(["x", "y", "z"], size=n),
            "b": rng.normal(size=n),
        }
    )
    y = X["a"] + (X["city"] == "x") + 0.1 * rng.normal(size=n)
    model = make_pipeline(
        ColumnTransformer(
            [("cat", OneHotEncoder(), ["city"]), ("num", StandardScaler(), ["a", "b"])]
        ),
        MLPRegressor(
            hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0
        ),
    ).fit(X, y)
    weights = rng.uniform(0.5, 2.0, size=n)
    result = nn_importance(
        model, X, y, method="conditional", sample_weight=weights, random_state=0
    )
    assert result.importances_mean.shape == (3,)
    assert result.importances_mean[0] > result.importances_mean[2]  # a over noise b
