"""Per-row attributions (``sknnimp.attributions``) and their global forms, against
independent oracles.

The oracles: a brute-force enumeration of the ``2**p`` coalitions from the definition
(``shapley_oracle.py``: the hybrid rows are built by hand and scored with the
estimator's own ``predict``/``predict_proba``), shap's ``ExactExplainer`` with an
``Independent`` masker (where shap is installed), central finite differences of
``predict``, the weights of a network with identity activation (a linear function), the
closed form of SAGE for a linear model of Gaussian inputs, and SAGE's game enumerated.
"""

import itertools
import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from shapley_oracle import brute_force_shapley, hybrid_rows, outputs
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sknnimp import Explanation, NNImportanceSelector, attributions, nn_importance
from sknnimp._attributions import sage_values


def _as_3d(values):
    return values if values.ndim == 3 else values[..., None]


# ------------------------------------------------------------------------ models


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=300, n_features=5, random_state=0)
    return X, y


def _mlp(**params):
    defaults = dict(
        hidden_layer_sizes=(16,), solver="lbfgs", max_iter=300, random_state=0
    )
    return MLPRegressor(**{**defaults, **params})


@pytest.fixture(scope="module")
def regressor(friedman):
    X, y = friedman
    return make_pipeline(StandardScaler(), _mlp(hidden_layer_sizes=(12, 6))).fit(X, y)


def _penguin_like(n=240, seed=0):
    """A small table with a string column, a category with missing values, and a
    numeric column with NaNs."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], size=n)
    sex = rng.choice(["female", "male", None], size=n, p=[0.45, 0.45, 0.1])
    length = rng.normal(44, 5, size=n)
    depth = rng.normal(17, 2, size=n)
    mass = 50 * length + 300 * (island == "Biscoe") + rng.normal(0, 100, size=n)
    length[rng.rand(n) < 0.1] = np.nan
    X = pd.DataFrame(
        {
            "island": island,
            "bill_length": length,
            "sex": pd.Categorical(sex),
            "bill_depth": depth,
        }
    )
    return X, mass


def _table_model():
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    numeric = make_pipeline(SimpleImputer(), StandardScaler())
    preprocess = ColumnTransformer(
        [
            ("cat", categorical, ["island", "sex"]),
            ("num", numeric, ["bill_length", "bill_depth"]),
        ]
    )
    return make_pipeline(preprocess, _mlp(hidden_layer_sizes=(10,)))


@pytest.fixture(scope="module")
def table():
    X, y = _penguin_like()
    model = TransformedTargetRegressor(_table_model(), transformer=StandardScaler())
    return model.fit(X, y), X


def _case(name, friedman):
    """``(fitted estimator, X)`` of the brute-force cases."""
    X, y = friedman
    X = X[:, :4]
    if name == "mlp":
        return _mlp().fit(X, y), X
    if name == "pipeline_two_layers":
        model = make_pipeline(StandardScaler(), _mlp(hidden_layer_sizes=(8, 5)))
        return model.fit(X, y), X
    if name == "tanh_multi_output":
        Y = np.column_stack([y, X[:, 0] - 2 * X[:, 3]])
        return _mlp(activation="tanh").fit(X, Y), X
    if name == "binary":
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=500, random_state=0)
        return make_pipeline(StandardScaler(), clf).fit(X, y > np.median(y)), X
    if name == "three_classes":
        labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
        clf = MLPClassifier(
            hidden_layer_sizes=(8,), activation="logistic", max_iter=500, random_state=0
        )
        return clf.fit(X, np.array(["low", "mid", "high"])[labels]), X
    if name == "log_target":
        # A non-affine target transformer: the game goes through predict.
        model = TransformedTargetRegressor(_mlp(), func=np.log, inverse_func=np.exp)
        return model.fit(X, y), X
    if name == "forest":
        return RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y), X
    raise ValueError(name)


CASES = [
    "mlp",
    "pipeline_two_layers",
    "tanh_multi_output",
    "binary",
    "three_classes",
    "log_target",
    "forest",
]


# ------------------------------------------------------------- exact Shapley


@pytest.mark.parametrize("name", CASES)
def test_exact_shapley_equals_brute_force_enumeration(name, friedman):
    model, X = _case(name, friedman)
    rows, background = X[:4], X[100:130]
    explanation = attributions(model, rows, background=background)
    expected = brute_force_shapley(model, rows, background)
    assert explanation.exact
    assert_allclose(_as_3d(explanation.values), expected, rtol=0, atol=1e-10)
    assert_array_equal(explanation.stderr, 0.0)
    # Efficiency: the values add up to f(x) minus the mean over the background.
    base = outputs(model, background).mean(axis=0)
    total = _as_3d(explanation.values).sum(axis=1)
    base_values = explanation.base_values.reshape(len(rows), -1)
    assert_allclose(base_values, np.tile(base, (len(rows), 1)), atol=1e-12)
    assert_allclose(total + base_values, outputs(model, rows), atol=1e-10)


def test_exact_shapley_on_a_table_with_categories_and_missing_values(table):
    model, X = table
    rows, background = X.iloc[:3], X.iloc[100:125]
    explanation = attributions(model, rows, background=background)
    assert explanation.feature_names == list(X.columns)
    assert explanation.values.shape == (3, 4)
    expected = brute_force_shapley(model, rows, background)[..., 0]
    assert_allclose(explanation.values, expected, rtol=0, atol=1e-10)
    # The data keep the strings, the categories and the missing values.
    assert explanation.data.dtype == object
    assert explanation.data[0, 0] == X.iloc[0, 0]
    assert X.equals(table[1])  # nothing the user passed is modified


def test_matches_shap_exact_explainer_with_an_independent_masker(friedman):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shap = pytest.importorskip("shap")
    for name in ("pipeline_two_layers", "three_classes"):
        model, X = _case(name, friedman)
        rows, background = X[:5], X[100:150]
        function = model.predict_proba if name == "three_classes" else model.predict
        masker = shap.maskers.Independent(background, max_samples=len(background))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = shap.explainers.Exact(function, masker)(rows)
        ours = attributions(model, rows, background=background)
        assert_allclose(ours.values, reference.values, rtol=0, atol=1e-8)
        assert_allclose(ours.base_values, reference.base_values, rtol=0, atol=1e-8)


def test_default_background_is_a_seeded_sample_of_the_rows(friedman):
    model, X = _case("mlp", friedman)
    first = attributions(model, X[:3], random_state=0)
    again = attributions(model, X[:3], random_state=0)
    assert_array_equal(first.values, again.values)
    # Fewer than 100 rows: all of them are the background.
    few = attributions(model, X[:50], random_state=0)
    assert_allclose(few.base_values, model.predict(X[:50]).mean(), atol=1e-12)
    # An int: that many rows drawn from X.
    ten = attributions(model, X[:50], background=10, random_state=0)
    assert not np.allclose(ten.base_values, few.base_values)


# ------------------------------------------------------------ sampled Shapley


@pytest.fixture(scope="module", params=["tanh", "relu", "two_layers"])
def wide(request):
    """Twelve columns, some correlated: more than the default exact limit. ReLU
    networks of one hidden layer take their own path through the later layers."""
    rng = np.random.RandomState(1)
    Z = rng.normal(size=(400, 12))
    Z[:, 1] = 0.8 * Z[:, 0] + 0.6 * Z[:, 1]
    y = Z[:, 0] + np.sin(2 * Z[:, 1]) + Z[:, 2] * Z[:, 3] + 0.1 * rng.normal(size=400)
    if request.param == "two_layers":
        model = _mlp(hidden_layer_sizes=(16, 8))
    else:
        model = _mlp(hidden_layer_sizes=(20,), activation=request.param)
    return model.fit(Z, y), Z


def test_sampled_shapley_values_converge_within_their_standard_errors(wide):
    model, Z = wide
    rows, background = Z[:6], Z[200:240]
    exact = attributions(model, rows, background=background, max_exact_columns=12)
    assert exact.exact
    sampled = attributions(
        model, rows, background=background, n_permutations=64, random_state=0
    )
    assert not sampled.exact
    assert_array_equal(sampled.n_permutations, 64)
    z = (sampled.values - exact.values) / sampled.stderr
    # Standardized errors: about N(0, 1) (72 values).
    assert np.mean(np.abs(z) < 3) >= 0.95
    assert 0.4 < np.mean(z**2) < 2.0
    # Every permutation's marginal contributions add up to f(x) - E f: efficiency
    # holds exactly for sampled values too.
    assert_allclose(
        sampled.values.sum(axis=1) + sampled.base_values,
        model.predict(rows),
        atol=1e-10,
    )
    # More permutations, smaller errors.
    more = attributions(
        model, rows, background=background, n_permutations=256, random_state=0
    )
    assert (
        np.abs(more.values - exact.values).mean()
        < np.abs(sampled.values - exact.values).mean()
    )
    assert np.median(more.stderr / sampled.stderr) == pytest.approx(0.5, rel=0.2)


def test_automatic_stopping_meets_the_tolerance(wide):
    model, Z = wide
    rows, background = Z[:3], Z[200:240]
    explanation = attributions(
        model, rows, background=background, tol=0.02, random_state=0
    )
    scale = model.predict(background).std()
    assert explanation.converged.all()
    assert np.all(explanation.stderr <= 0.02 * scale + 1e-15)
    assert np.all(explanation.n_permutations >= 16)
    exact = attributions(model, rows, background=background, max_exact_columns=12)
    assert np.mean(np.abs(explanation.values - exact.values) < 4 * 0.02 * scale) == 1


def test_values_do_not_depend_on_the_number_of_jobs(wide):
    model, Z = wide
    kwargs = dict(background=Z[200:220], n_permutations=8, random_state=0)
    one = attributions(model, Z[:6], n_jobs=1, **kwargs)
    threads = attributions(model, Z[:6], **kwargs)  # threads of this process
    processes = attributions(model, Z[:6], n_jobs=2, **kwargs)
    assert_array_equal(one.values, threads.values)
    assert_array_equal(one.values, processes.values)
    assert_array_equal(one.stderr, processes.stderr)


def test_sampled_values_are_reproducible_with_a_seed(wide):
    model, Z = wide
    kwargs = dict(background=Z[200:230], n_permutations=20)
    first = attributions(model, Z[:2], random_state=3, **kwargs)
    second = attributions(model, Z[:2], random_state=3, **kwargs)
    other = attributions(model, Z[:2], random_state=4, **kwargs)
    assert_array_equal(first.values, second.values)
    assert not np.allclose(first.values, other.values)


# ---------------------------------------------------------- integrated gradients


def test_integrated_gradients_add_up_within_the_reported_gap(regressor, friedman):
    X, _ = friedman
    rows = X[:20]
    baseline = X[100:101]
    explanation = attributions(
        regressor, rows, method="integrated_gradients", baseline=baseline, n_steps=32
    )
    f_x, f_base = regressor.predict(rows), regressor.predict(baseline)[0]
    assert_allclose(explanation.base_values, f_base, atol=1e-12)
    # The gap is what it says: the sum of the values minus f(x) - f(baseline).
    gap = explanation.values.sum(axis=1) - (f_x - f_base)
    assert_allclose(explanation.completeness_gap, gap, atol=1e-12)
    # ReLU kinks bound the quadrature's accuracy; it is small against the change.
    assert np.abs(gap).max() < 0.05 * np.abs(f_x - f_base).max()


def test_integrated_gradients_converge_for_a_smooth_network(friedman):
    X, y = friedman
    model = make_pipeline(StandardScaler(), _mlp(activation="tanh")).fit(X, y)
    rows = X[:10]
    kwargs = dict(method="integrated_gradients", background=X)
    coarse = attributions(model, rows, n_steps=4, **kwargs)
    fine = attributions(model, rows, n_steps=64, **kwargs)
    assert np.abs(fine.completeness_gap).max() < 1e-8
    assert np.abs(coarse.completeness_gap).max() > np.abs(fine.completeness_gap).max()
    # The default baseline is the mean network input over the background: here the
    # training rows, whose mean after the scaler is zero.
    f_zero = model[-1].predict(np.zeros((1, X.shape[1])))[0]
    assert_allclose(fine.base_values, f_zero, atol=1e-10)


def test_integrated_gradients_are_exact_for_an_identity_activation(friedman):
    X, y = friedman
    model = _mlp(hidden_layer_sizes=(6, 4), activation="identity").fit(X, y)
    weights = np.linalg.multi_dot(model.coefs_)[:, 0]
    baseline = X[:1]
    rows = X[1:11]
    explanation = attributions(
        model, rows, method="integrated_gradients", baseline=baseline, n_steps=1
    )
    assert_allclose(explanation.values, (rows - baseline) * weights, atol=1e-12)
    assert np.abs(explanation.completeness_gap).max() < 1e-12
    # gradient x input on a linear network is w * x.
    gxi = attributions(model, rows, method="gradient_x_input")
    assert_allclose(gxi.values, rows * weights, atol=1e-12)


def test_integrated_gradients_of_a_one_hot_column_add_its_inputs(table):
    model, X = table
    explanation = attributions(model, X.iloc[:5], method="integrated_gradients")
    assert explanation.values.shape == (5, 4)
    f_x = model.predict(X.iloc[:5])
    # An affine target transformer keeps completeness in the target's units.
    assert_allclose(
        explanation.values.sum(axis=1) + explanation.base_values,
        f_x + explanation.completeness_gap,
        atol=1e-9,
    )


# ------------------------------------------------------------------ gradients


def _finite_differences(function, rows, step=1e-6):
    """(n, p, K) central differences of ``function`` (n, K) by each column."""
    out = []
    for j in range(rows.shape[1]):
        up, down = rows.copy(), rows.copy()
        up[:, j] += step
        down[:, j] -= step
        out.append((function(up) - function(down)) / (2 * step))
    return np.stack(out, axis=1)


@pytest.mark.parametrize("name", ["mlp", "tanh_multi_output", "three_classes"])
def test_row_gradients_equal_finite_differences(name, friedman):
    model, X = _case(name, friedman)
    rows, background = X[:8], X[100:200]
    derivative = _finite_differences(lambda t: outputs(model, t), rows)
    gradient = attributions(model, rows, method="gradient", background=background)
    sigma = background.std(axis=0)
    assert_allclose(
        _as_3d(gradient.values), derivative * sigma[None, :, None], rtol=1e-5, atol=1e-8
    )
    assert np.isnan(gradient.base_values).all()
    gxi = attributions(model, rows, method="gradient_x_input")
    assert_allclose(
        _as_3d(gxi.values), derivative * rows[:, :, None], rtol=1e-5, atol=1e-8
    )


def test_binary_classifier_explains_both_classes(friedman):
    model, X = _case("binary", friedman)
    rows = X[:5]
    for method in ("shap", "integrated_gradients", "gradient_x_input"):
        explanation = attributions(model, rows, method=method, background=X[:40])
        assert explanation.output_names == ["False", "True"]
        assert explanation.values.shape == (5, 4, 2)
        assert_allclose(explanation.values[..., 0], -explanation.values[..., 1])
    # Derivatives of the positive class's probability by the network inputs (the
    # scaled columns) times those inputs: by the chain rule, the derivatives by the
    # columns, by finite differences, times the columns' distance to the scaler's mean.
    gxi = attributions(model, rows, method="gradient_x_input")
    positive = _finite_differences(lambda t: model.predict_proba(t)[:, 1:], rows)
    expected = positive[..., 0] * (rows - model[0].mean_)
    assert_allclose(gxi.output(True).values, expected, rtol=1e-5, atol=1e-9)


# --------------------------------------------------------------------- SAGE


def test_sage_equals_the_closed_form_of_a_linear_gaussian_model():
    """For f(x) = b.x with Gaussian x of covariance C, the squared error and the
    absent columns replaced by their mean: v(S) = -b_S' C_SS b_S over the missing
    columns S, whose Shapley values are phi_j = b_j (C b)_j."""
    rng = np.random.RandomState(0)
    C = np.array(
        [
            [1.0, 0.6, 0.0, 0.0],
            [0.6, 1.0, 0.0, 0.3],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.3, 0.0, 2.0],
        ]
    )
    beta = np.array([2.0, 1.0, 0.0, -1.0])
    L = np.linalg.cholesky(C)
    X = rng.normal(size=(4000, 4)) @ L.T
    y = X @ beta + 0.5 * rng.normal(size=len(X))
    model = LinearRegression().fit(X, X @ beta)  # f is exactly b.x
    background = rng.normal(size=(600, 4)) @ L.T
    background -= background.mean(axis=0)  # the missing columns at their mean
    values, stderr, used = sage_values(
        model,
        X,
        y,
        [np.array([j]) for j in range(4)],
        background,
        random_state=0,
    )
    closed_form = beta * (C @ beta)
    assert 32 <= used < 8192  # converged before the cap
    # The default tolerance is met: the errors are small against the values.
    assert np.all(stderr <= 0.025 * np.ptp(values) + 1e-12)
    assert np.all(np.abs(values - closed_form) < 4 * stderr + 0.01)


def test_sage_of_a_network_matches_its_exact_game():
    """The network fast path (chains of rows through the first layer) against the
    Shapley values of the loss game enumerated with predict_proba."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    X[:, 1] += 0.7 * X[:, 0]
    labels = (X[:, 0] + X[:, 2] ** 2 > 1).astype(int) + (X[:, 3] > 1)
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=800, random_state=0)
    model.fit(X, labels)
    background, rows, y = X[:40], X[40:140], labels[40:140]

    def loss(S):
        log_loss = 0.0
        for i in range(len(rows)):
            hybrid = hybrid_rows(background, rows[[i]], S)
            proba = model.predict_proba(hybrid).mean(axis=0)
            log_loss -= np.log(proba[y[i]])
        return log_loss / len(rows)

    losses = {
        S: loss(S) for size in range(5) for S in itertools.combinations(range(4), size)
    }
    exact = np.zeros(4)
    for j in range(4):
        others = [k for k in range(4) if k != j]
        for size in range(4):
            weight = math.factorial(size) * math.factorial(3 - size) / math.factorial(4)
            for S in itertools.combinations(others, size):
                exact[j] += weight * (losses[S] - losses[tuple(sorted(S + (j,)))])
    values, stderr, _ = sage_values(
        model, rows, y, [np.array([j]) for j in range(4)], background, random_state=0
    )
    assert np.all(np.abs(values - exact) < 4 * stderr + 1e-3)
    # The values add up to the loss of the mean prediction minus the model's loss.
    assert values.sum() == pytest.approx(losses[()] - losses[(0, 1, 2, 3)], abs=0.05)


# --------------------------------------------------------------- global forms


def test_global_shap_is_the_mean_absolute_value(regressor, friedman):
    X, y = friedman
    background = X[:30]
    result = nn_importance(
        regressor, X[:60], y[:60], method="shap", background=background, random_state=0
    )
    per_row = attributions(regressor, X[:60], background=background)
    assert_allclose(result.importances_mean, np.abs(per_row.values).mean(axis=0))
    ig = nn_importance(
        regressor, X[:60], method="integrated_gradients", background=background
    )
    per_row = attributions(
        regressor, X[:60], method="integrated_gradients", background=background
    )
    assert_allclose(ig.importances_mean, np.abs(per_row.values).mean(axis=0))


def test_global_integrated_gradients_in_blocks_of_rows(
    regressor, friedman, monkeypatch
):
    # Blocks of 7 rows (5 network inputs each), weighted: the weighted mean of the
    # per-row absolute values, as in one block.
    import sknnimp._attributions as module

    X, y = friedman
    w = np.random.RandomState(0).uniform(0.5, 2.0, size=60)
    per_row = attributions(
        regressor, X[:60], method="integrated_gradients", background=X[:30]
    )
    expected = w @ np.abs(per_row.values) / w.sum()
    monkeypatch.setattr(module, "BLOCK_ELEMENTS", 7 * 5)
    ig = nn_importance(
        regressor,
        X[:60],
        method="integrated_gradients",
        background=X[:30],
        sample_weight=w,
    )
    assert_allclose(ig.importances_mean, expected, rtol=1e-12)


def test_sage_and_shap_find_the_informative_columns():
    """make_friedman1: columns 0-4 matter, 5-9 are noise."""
    X, y = make_friedman1(n_samples=600, n_features=10, random_state=0)
    model = make_pipeline(StandardScaler(), _mlp(hidden_layer_sizes=(20,)))
    for method in ("sage", "shap"):
        selector = NNImportanceSelector(
            model, method=method, background=50, cv=2, random_state=0
        )
        selector.fit(X[:, :8] if method == "shap" else X, y)
        importances = selector.feature_importances_
        informative, noise = importances[:5], importances[5:]
        # x2 enters through (x2 - 0.5)**2, weak on [0, 1]; the others are strong.
        assert np.delete(informative, 2).min() > 5 * noise.max()


def test_sage_needs_targets_and_a_background_of_the_same_columns(regressor, friedman):
    X, y = friedman
    with pytest.raises(ValueError, match="y"):
        nn_importance(regressor, X, method="sage")
    with pytest.raises(ValueError, match="background has 3 columns"):
        nn_importance(regressor, X, y, method="sage", background=X[:, :3])


# ----------------------------------------------------------------- bad input


def test_bad_input_is_refused_before_any_work(regressor, friedman):
    X, _ = friedman
    with pytest.raises(InvalidParameterError):
        attributions(regressor, X[:3], method="lime")
    with pytest.raises(InvalidParameterError):
        attributions(regressor, X[:3], n_steps=0)
    with pytest.raises(ValueError, match="background has 2 columns"):
        attributions(regressor, X[:3], background=X[:10, :2])
    with pytest.raises(ValueError, match="baseline must be one row of 5 columns"):
        attributions(regressor, X[:3], method="integrated_gradients", baseline=X[:2])
    with pytest.raises(NotFittedError):
        attributions(_mlp(), X[:3])
    forest = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="network"):
        attributions(forest, X[:3], method="integrated_gradients")
    logged = TransformedTargetRegressor(
        _mlp(), transformer=FunctionTransformer(np.log1p, np.expm1)
    ).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="method='shap' works"):
        attributions(logged, X[:3], method="gradient")


def test_inputs_are_not_modified(table):
    model, X = table
    before = X.copy()
    background = X.iloc[50:80].copy()
    attributions(model, X.iloc[:3], background=background)
    attributions(
        model, X.iloc[:3], method="integrated_gradients", background=background
    )
    assert X.equals(before)
    assert background.equals(before.iloc[50:80])


# --------------------------------------------------------------- Explanation


def test_explanation_rows_andoutputs(friedman):
    model, X = _case("three_classes", friedman)
    explanation = attributions(model, X[:6], background=X[:30])
    assert isinstance(explanation, Explanation)
    assert explanation.shape == (6, 4, 3) and len(explanation) == 6
    assert explanation.output_names == ["high", "low", "mid"]
    # Probabilities add up to one: the values of the classes add up to zero.
    assert_allclose(explanation.values.sum(axis=2), 0.0, atol=1e-12)
    mid = explanation.output("mid")
    assert_array_equal(mid.values, explanation.values[..., 2])
    assert_array_equal(mid.base_values, explanation.base_values[:, 2])
    assert_array_equal(explanation.output(2).values, mid.values)
    with pytest.raises(KeyError, match="the outputs are"):
        explanation.output("none")
    first = explanation[0]
    assert first.values.shape == (1, 4, 3)
    assert_array_equal(explanation[1:3].data, X[1:3])
    assert_allclose(explanation.mean_abs(), np.abs(explanation.values).mean(axis=0))
    assert "outputs=['high', 'low', 'mid']" in repr(explanation)
