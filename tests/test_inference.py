"""Honest inference: conditional importance, per-row tests on held-out rows,
Nadeau-Bengio intervals, and the warning for a model that learned nothing."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    make_scorer,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknnimp import NNImportanceSelector, PoorModelWarning, nn_importance
from sknnimp._conditional import conditional_importance
from sknnimp._rowwise import RowScore, row_score
from sknnimp._significance import (
    SIGN_FLIP_EXACT_ROWS,
    nadeau_bengio_interval,
    rowwise_pvalues,
)


def _mlp(**params):
    params = {
        "hidden_layer_sizes": (16,),
        "solver": "lbfgs",
        "alpha": 1.0,
        "max_iter": 300,
        "random_state": 0,
        **params,
    }
    return make_pipeline(StandardScaler(), MLPRegressor(**params))


def _correlated(n=800, rho=0.9, seed=0):
    """x0 and x1 drive y; x2 is noise; x3 is a non-driver correlated rho with x0."""
    rng = np.random.RandomState(seed)
    x0 = rng.normal(size=n)
    x3 = rho * x0 + np.sqrt(1 - rho**2) * rng.normal(size=n)
    X = np.column_stack([x0, rng.normal(size=n), rng.normal(size=n), x3])
    y = 2 * X[:, 0] + X[:, 1] + 0.5 * rng.normal(size=n)
    return X, y


# --------------------------------------------------------------------------------
# Conditional importance


@pytest.fixture(scope="module")
def correlated_results():
    # Any one data set may show a false positive (5% of null inputs do, by design);
    # the calibration over many is measured in benchmarks/bench_calibration.py.
    X, y = _correlated(n=1500, seed=1)
    cv = KFold(5, shuffle=True, random_state=0)
    return {
        method: nn_importance(
            _mlp(), X, y, method=method, cv=cv, n_repeats=5, random_state=0
        )
        for method in ("conditional", "permutation")
    }


def test_conditional_does_not_credit_a_correlated_non_driver(correlated_results):
    conditional = correlated_results["conditional"]
    marginal = correlated_results["permutation"]
    # Shuffling x3 breaks its tie to x0 and moves rows off the data; the network
    # responds, so marginal permutation calls x3 significant.
    assert marginal.importances_mean[3] > 0
    assert marginal.pvalues[3] < 0.01
    # Conditionally on x0, x3 adds nothing.
    assert abs(conditional.importances_mean[3]) < 0.01 * conditional.importances_mean[0]
    assert conditional.pvalues[3] > 0.05
    assert conditional.pvalues[2] > 0.05
    # The drivers are significant, and what x0 adds beyond x3 is smaller than its
    # marginal importance (x3 carries part of it).
    assert (conditional.pvalues[[0, 1]] < 1e-6).all()
    assert 0 < conditional.importances_mean[0] < marginal.importances_mean[0]


def test_row_differences_average_to_the_fold_draws(correlated_results):
    """Two routes, the scorer's and the per-row sums, give the same importance: the
    row differences are those of every row's first draw."""
    X, _ = _correlated(n=1500, seed=1)
    result = correlated_results["conditional"]
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    draws = result.importances.reshape(4, 5, 5)  # features x folds x repeats
    for f, (_, test) in enumerate(folds):
        assert_allclose(
            result.row_differences[:, test].mean(axis=1),
            draws[:, f, 0],
            rtol=1e-9,
            atol=1e-12,
        )


def test_conditional_fast_path_equals_general_route():
    """A network scored by a standard scorer (fast path: first layer) against the
    same draws scored on copies of the table by a plain callable."""
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(1)
    n = 300
    colour = rng.choice(["red", "green", "blue"], size=n)
    a = rng.normal(size=n) + (colour == "red")
    b = 0.7 * a + rng.normal(size=n)
    X = pd.DataFrame(
        {"a": a, "colour": colour, "b": b, "c": rng.normal(size=n)}
    ).astype({"colour": "category"})
    X.loc[::17, "b"] = np.nan
    y = a + (colour == "blue") + 0.3 * rng.normal(size=n)
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(_imputer(), StandardScaler()), ["a", "b", "c"]),
            ("cat", OneHotEncoder(), ["colour"]),
        ]
    )
    model = make_pipeline(
        pre, MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0)
    )
    model.fit(X.iloc[:200], y[:200])
    groups = [np.array([0, 2]), np.array([1]), np.array([3])]
    common = dict(
        row_score=RowScore("r2"),
        n_repeats=3,
        random_state=0,
        conditional_estimator=None,
    )
    fast = conditional_importance(
        model,
        X.iloc[:200],
        None,
        X.iloc[200:],
        y[200:],
        None,
        groups,
        scorer=make_scorer(r2_score),
        **common,
    )
    general = conditional_importance(
        model,
        X.iloc[:200],
        None,
        X.iloc[200:],
        y[200:],
        None,
        groups,
        scorer=lambda est, X, y: r2_score(y, est.predict(X)),
        **common,
    )
    assert_allclose(fast.importances, general.importances, rtol=1e-9, atol=1e-12)
    assert_allclose(
        fast.row_differences, general.row_differences, rtol=1e-9, atol=1e-12
    )


def _imputer():
    from sklearn.impute import SimpleImputer

    return SimpleImputer()


def test_conditional_on_a_mixed_table_leaves_it_unchanged():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    n = 400
    kind = rng.choice(["a", "b", "c"], size=n)
    x = rng.normal(size=n) + 2 * (kind == "a")  # x depends on kind
    X = pd.DataFrame(
        {
            "x": x,
            "kind": pd.Categorical(kind),
            "flag": rng.rand(n) < 0.5,
            "noise": rng.normal(size=n),
        }
    )
    X.loc[::11, "x"] = np.nan
    X.loc[::13, "kind"] = np.nan
    y = np.nan_to_num(X["x"].to_numpy()) + 3 * (kind == "b") + 0.3 * rng.normal(size=n)
    before = X.copy()
    selector = NNImportanceSelector(
        method="conditional", cv=3, n_repeats=3, random_state=0
    ).fit(X, y)
    pd.testing.assert_frame_equal(X, before)
    importance = dict(zip(X.columns, selector.feature_importances_))
    assert importance["kind"] > 0.1 and importance["x"] > 0.1
    assert selector.pvalues_[[0, 1]].max() < 1e-3
    assert selector.baseline_score_on_ == "held-out folds"


def test_conditional_identical_for_any_n_jobs():
    X, y = _correlated(n=300)
    results = [
        nn_importance(
            _mlp(max_iter=100),
            X,
            y,
            method="conditional",
            cv=3,
            n_repeats=2,
            random_state=0,
            n_jobs=n_jobs,
        )
        for n_jobs in (1, 2)
    ]
    assert_array_equal(results[0].importances, results[1].importances)
    assert_array_equal(results[0].pvalues, results[1].pvalues)


def test_conditional_estimator_is_used():
    X, y = _correlated(n=300)
    common = dict(method="conditional", cv=3, n_repeats=2, random_state=0)
    model = _mlp(max_iter=100)
    ridge = nn_importance(model, X, y, **common)
    linear = nn_importance(
        model, X, y, conditional_estimator=LinearRegression(), **common
    )
    # RidgeCV and least squares agree closely on 200 rows and 3 predictors.
    assert_allclose(ridge.importances_mean, linear.importances_mean, atol=0.02)
    assert not np.array_equal(ridge.importances, linear.importances)
    with pytest.raises(ValueError, match="'numeric' and 'categorical'"):
        nn_importance(model, X, y, conditional_estimator={"numbers": None}, **common)


@pytest.mark.parametrize("block_elements", [None, 16 * 7])
def test_conditional_draws_by_hand(block_elements, monkeypatch):
    """The definition, computed by hand: per column a least-squares model of it on
    the other (standardized) columns, fitted on the training rows; on the
    evaluation rows ``centre_i + (x_π(i) - centre_π(i))``, one permutation ``π``
    per repeat, drawn from the seed in turn; importance = score drop with that
    column replaced. Also in row blocks of 7 rows (the network's widest layer has
    16 units)."""
    from sknnimp import _blocks

    if block_elements is not None:
        monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", block_elements)
    X, y = _correlated(n=300, seed=3)
    train, test = slice(0, 200), slice(200, None)
    model = _mlp(max_iter=200).fit(X[train], y[train])
    result = conditional_importance(
        model,
        X[train],
        None,
        X[test],
        y[test],
        None,
        [np.array([j]) for j in range(4)],
        scorer=make_scorer(r2_score),
        n_repeats=3,
        conditional_estimator=LinearRegression(),
        random_state=0,
    )
    scaled = StandardScaler().fit(X[train])
    F_train, F_test = scaled.transform(X[train]), scaled.transform(X[test])
    rng = np.random.RandomState(0)
    permutations = [rng.permutation(100) for _ in range(3)]
    baseline = model.score(X[test], y[test])
    for j in range(4):
        others = [k for k in range(4) if k != j]
        fit = LinearRegression().fit(F_train[:, others], X[train, j])
        centre = fit.predict(F_test[:, others])
        for r, perm in enumerate(permutations):
            replaced = X[test].copy()
            replaced[:, j] = centre + (X[test][perm, j] - centre[perm])
            expected = baseline - model.score(replaced, y[test])
            assert_allclose(result.importances[j, r], expected, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------------
# Per-row scores and tests


@pytest.mark.parametrize("weighted", [False, True])
def test_row_contributions_sum_to_scikit_learn_scores(weighted):
    rng = np.random.RandomState(0)
    n = 50
    w = rng.uniform(0.5, 2, size=n) if weighted else None
    y = rng.normal(size=(n, 2))
    pred = y + rng.normal(size=(n, 2))
    cases = [
        ("r2", y, pred, r2_score),
        ("r2", y[:, 0], pred[:, 0], r2_score),
        ("neg_mean_squared_error", y, pred, mean_squared_error),
        ("neg_mean_absolute_error", y, pred, mean_absolute_error),
    ]
    for name, truth, prediction, metric in cases:
        total = RowScore(name).contributions(None, truth, prediction, w).sum()
        expected = metric(truth, prediction, sample_weight=w)
        expected = -expected if name.startswith("neg_") else expected
        assert_allclose(total, expected, rtol=1e-12)

    labels = np.array(["a", "b", "c"])
    truth = labels[rng.randint(3, size=n)]
    proba = rng.dirichlet(np.ones(3), size=n)
    proba[0] = [1.0, 0.0, 0.0]  # clipped as scikit-learn clips
    model = MLPClassifier().fit(np.zeros((3, 1)), labels)
    total = RowScore("neg_log_loss").contributions(model, truth, proba, w).sum()
    expected = -log_loss(truth, proba, sample_weight=w, labels=labels)
    assert_allclose(total, expected, rtol=1e-12)
    predicted = labels[proba.argmax(axis=1)]
    total = RowScore("accuracy").contributions(model, truth, predicted, w).sum()
    assert_allclose(total, accuracy_score(truth, predicted, sample_weight=w))


def test_row_score_resolution():
    assert row_score(MLPRegressor(), None).name == "r2"
    assert row_score(MLPClassifier(), None).name == "accuracy"
    assert row_score(MLPClassifier(), "neg_log_loss").name == "neg_log_loss"
    assert row_score(MLPRegressor(), "neg_root_mean_squared_error") is None
    assert row_score(MLPRegressor(), make_scorer(r2_score)) is None
    assert row_score(MLPRegressor(), None, y=np.ones(5)) is None  # R^2 undefined


def test_pvalues_equal_scipy_on_the_row_differences():
    X, y = _correlated(n=300)
    for test in ("t", "wilcoxon", "sign_flip"):
        result = nn_importance(
            _mlp(max_iter=100),
            X,
            y,
            method="permutation",
            cv=3,
            n_repeats=2,
            test=test,
            random_state=0,
        )
        d = result.row_differences
        assert d.shape == (4, 300) and np.isfinite(d).all()
        if test == "t":
            expected = [
                stats.ttest_1samp(row, 0, alternative="greater").pvalue for row in d
            ]
        elif test == "wilcoxon":
            expected = [stats.wilcoxon(row, alternative="greater").pvalue for row in d]
        else:
            # 300 rows: random sign patterns; compared with scipy's exact-in-limit
            # randomization test only within Monte-Carlo error.
            expected = [
                stats.permutation_test(
                    (row,),
                    np.mean,
                    permutation_type="samples",
                    alternative="greater",
                    n_resamples=20000,
                    random_state=0,
                ).pvalue
                for row in d
            ]
            assert_allclose(result.pvalues, expected, atol=0.02)
            continue
        assert_allclose(result.pvalues, expected, rtol=1e-12)


def test_sign_flip_is_exact_for_few_rows():
    rng = np.random.RandomState(0)
    for n in (5, 9, SIGN_FLIP_EXACT_ROWS):
        d = rng.normal(0.3, 1, size=(3, n))
        d[0, :2] = 0  # zeros do not change the statistic's null distribution
        expected = [
            stats.permutation_test(
                (row,),
                np.mean,
                permutation_type="samples",
                alternative="greater",
                n_resamples=np.inf,
            ).pvalue
            for row in d
        ]
        assert_allclose(rowwise_pvalues(d, "sign_flip"), expected, rtol=1e-12)
    # The smallest exact p-value is 2^-n.
    assert rowwise_pvalues(np.ones((1, 8)), "sign_flip")[0] == 2.0**-8


def test_rowwise_pvalues_degenerate_rows():
    d = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    assert_array_equal(rowwise_pvalues(d, "t"), [1.0, 0.0, 1.0])
    assert rowwise_pvalues(d[:1], "wilcoxon")[0] == 1.0


def test_nadeau_bengio_by_hand():
    values = np.array([[0.2, 0.35, 0.25, 0.3], [0.0, 0.1, -0.1, 0.05]])
    low, high = nadeau_bengio_interval(values, n_train=75, n_test=25).T
    for k, row in enumerate(values):
        se = np.sqrt((1 / 4 + 25 / 75) * np.var(row, ddof=1))
        margin = stats.t.ppf(0.975, 3) * se
        assert_allclose([low[k], high[k]], [row.mean() - margin, row.mean() + margin])
    assert np.isnan(nadeau_bengio_interval(values[:, :1], 75, 25)).all()


def test_no_pvalues_without_held_out_rows_or_refits():
    X, y = _correlated(n=200)
    result = nn_importance(
        _mlp(max_iter=100).fit(X, y), X, y, method="permutation", random_state=0
    )
    assert "pvalues" not in result and "row_differences" not in result
    # A score that is not a mean over rows: no per-row p-values, corrected
    # intervals over the folds instead.
    result = nn_importance(
        _mlp(max_iter=100),
        X,
        y,
        method="permutation",
        cv=3,
        scoring="neg_root_mean_squared_error",
        random_state=0,
    )
    assert "pvalues" not in result
    assert np.isfinite(result.importances_ci).all()


def test_threshold_significant_with_held_out_rows():
    X, y = _correlated()
    selector = NNImportanceSelector(
        _mlp(),
        method="conditional",
        cv=5,
        n_repeats=3,
        threshold="significant",
        random_state=0,
    ).fit(X, y)
    assert_array_equal(selector.get_support(indices=True), [0, 1])
    with pytest.raises(ValueError, match="needs p-values"):
        NNImportanceSelector(_mlp(), threshold="significant").fit(X, y)
    with pytest.raises(ValueError, match="per-row tests need a score"):
        NNImportanceSelector(
            _mlp(),
            method="permutation",
            cv=3,
            scoring="explained_variance",
            threshold="significant",
        ).fit(X, y)


# --------------------------------------------------------------------------------
# A model that learned nothing


def test_poor_model_warning_on_noise_and_not_on_signal():
    X, y = _correlated(n=300)
    noise = np.random.RandomState(5).normal(size=300)
    for method in ("gradient", "permutation"):
        with pytest.warns(PoorModelWarning, match="no better than a constant"):
            result = nn_importance(
                _mlp(max_iter=200), X, noise, method=method, cv=3, random_state=0
            )
        assert result.baseline_score <= 0 == result.constant_score
        with warnings.catch_warnings():
            warnings.simplefilter("error", PoorModelWarning)
            result = nn_importance(
                _mlp(max_iter=200), X, y, method=method, cv=3, random_state=0
            )
        assert result.baseline_score > 0.8
        assert result.baseline_score_on == "held-out folds"


def test_poor_model_warning_for_a_classifier():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3))
    labels = np.where(rng.rand(300) < 0.7, "common", "rare")  # unrelated to X
    classifier = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(8,), alpha=10.0, max_iter=300, random_state=0
        ),
    )
    with pytest.warns(PoorModelWarning):
        selector = NNImportanceSelector(
            classifier, method="permutation", cv=3, random_state=0
        ).fit(X, labels)
    assert selector.constant_score_ == pytest.approx(
        (labels == "common").mean(), abs=0.01
    )
    assert selector.baseline_score_ <= selector.constant_score_
    with pytest.warns(PoorModelWarning, match="neg_log_loss"):
        nn_importance(
            classifier,
            X,
            labels,
            method="permutation",
            scoring="neg_log_loss",
            cv=3,
            random_state=0,
        )


def test_compare_importances_warns_once_per_poor_model():
    from sknnimp import compare_importances

    X, y = _correlated(n=300)
    noise = np.random.RandomState(5).normal(size=300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        comparison = compare_importances(
            {"net": _mlp(max_iter=100)},
            X,
            noise,
            methods=["gradient", "permutation"],
            cv=3,
            n_repeats=2,
            random_state=0,
        )
    poor = [w for w in caught if issubclass(w.category, PoorModelWarning)]
    assert len(poor) == 1 and "'net'" in str(poor[0].message)
    scores = comparison.scores["net"]
    assert scores.on == "held-out folds" and scores.learned is False
    assert scores.score <= scores.constant == 0


def test_nadeau_bengio_pvalues_by_hand_for_any_method():
    from sknnimp._significance import nadeau_bengio_pvalues

    X, y = _correlated(n=300)
    cv = KFold(5, shuffle=True, random_state=0)
    result = nn_importance(
        _mlp(max_iter=100), X, y, method="gradient", cv=cv, test="nadeau_bengio"
    )
    folds = result.importances  # one draw per fold
    J, n_test, n_train = 5, 60, 240
    t = folds.mean(axis=1) / np.sqrt(
        (1 / J + n_test / n_train) * folds.var(axis=1, ddof=1)
    )
    assert_allclose(result.pvalues, stats.t.sf(t, J - 1), rtol=1e-12)
    assert_allclose(
        nadeau_bengio_pvalues(np.array([[0.0, 0.0], [1.0, 1.0]]), 10, 5), [1.0, 0.0]
    )
    selector = NNImportanceSelector(
        _mlp(max_iter=100),
        method="gradient",
        cv=cv,
        test="nadeau_bengio",
        threshold="significant",
    ).fit(X, y)
    assert 0 in selector.get_support(indices=True)


@pytest.mark.parametrize("kind", ["numeric", "wide", "table", "groups"])
def test_default_numeric_models_equal_ridgecv_column_by_column(kind):
    """The default models of single numeric columns are fitted together from one
    eigendecomposition; their replacements equal those of scikit-learn's RidgeCV
    fitted column by column (the route a user-given estimator takes)."""
    from sklearn.linear_model import RidgeCV

    from sknnimp._conditional import (
        RIDGE_ALPHAS,
        ConditionalDraws,
        ConditionalSampler,
    )

    rng = np.random.RandomState(0)
    n = 300
    X = rng.normal(size=(n, 6))
    X[:, 1] = 0.9 * X[:, 0] + 0.1 * X[:, 1]  # nearly a copy: a small alpha wins
    X[:, 3] *= 100
    X[:, 4] += 5
    groups = [[j] for j in range(6)]
    if kind == "wide":  # few rows for many correlated columns
        X = rng.normal(size=(40, 30)) @ rng.normal(size=(30, 30))
        groups = [[j] for j in range(30)]
    elif kind in ("table", "groups"):
        pd = pytest.importorskip("pandas")
        X = pd.DataFrame(X, columns=list("abcdef"))
        X["kind"] = rng.choice(["x", "y", "z"], n)
        X.loc[::7, "b"] = np.nan  # a column with missing values: fitted alone
        groups = [[j] for j in range(7)]
        if kind == "groups":
            groups = [[0], [1, 2], [3], [4], [5], [6]]
    shared = ConditionalSampler(X, groups, None, None)
    alone = ConditionalSampler(X, groups, None, RidgeCV(alphas=RIDGE_ALPHAS))
    served = len(shared.shared.index)
    assert served == {"numeric": 6, "wide": 30, "table": 5, "groups": 4}[kind]
    ours_draws = ConditionalDraws(shared, X, 2, 0)
    theirs_draws = ConditionalDraws(alone, X, 2, 0)
    for r in range(2):
        ours, theirs = ours_draws.values(r), theirs_draws.values(r)
        assert len(ours) == len(theirs) == X.shape[1]
        for a, b in zip(ours, theirs):
            if np.asarray(b).dtype.kind == "f":
                # RidgeCV's own numerics vary across scikit-learn releases
                # (1e-8 relative with 1.7 on the ill-conditioned wide case).
                scale = np.nanstd(b)
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-7 * scale)
            else:
                np.testing.assert_array_equal(a, b)
