"""The default conditional models of a table of numbers, fitted a block of training
rows at a time: the same models as scikit-learn's RidgeCV fitted column by column on
the whole table's features, whatever the blocks, and no more rows than a block handed
to the encoding at once."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import _blocks, _conditional, nn_importance
from sknnimp._conditional import RIDGE_ALPHAS, ConditionalDraws, ConditionalSampler

N, P = 150, 6
#: Rows per block in the small blocks: BLOCK_ELEMENTS // P.
BLOCK_ROWS = 7


def _table(nan=False, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(N, P)) @ (np.eye(P) + 0.5 * rng.normal(size=(P, P)))
    X[:, 1] = 0.9 * X[:, 0] + 0.2 * X[:, 1]
    X[:, 2] = 40 * X[:, 2] + 3
    if nan:
        X[rng.rand(N) < 0.15, 1] = np.nan
        X[rng.rand(N) < 0.3, 4] = np.nan
        X[:20, 4] = np.nan  # whole blocks of rows without a value
        X[::31, 5] = np.nan
    return X


def _weights(seed=1):
    w = np.random.RandomState(seed).uniform(0.5, 2.0, size=N)
    w[::17] = 0.0
    return w


def _frame(X):
    return pd.DataFrame(X, columns=list("abcdef"))


def _values(X):
    if isinstance(X, pd.DataFrame):
        return X.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(X, dtype=float)


def _oracle_centres(X, groups, w):
    """What every group's numeric columns are replaced around, computed from the
    whole table: the features of the encoding (median imputation, then
    standardization weighted by ``w``), and for each column ``RidgeCV`` of it on the
    features of the other groups' columns, standardized on the rows where it is
    present and of positive weight (its weighted mean with fewer than two): the
    ``alpha`` RidgeCV chooses, and the ``Ridge`` model at that ``alpha``."""
    values = _values(X)
    encoding = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    params = {} if w is None else {"standardscaler__sample_weight": w}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping features")
        features = encoding.fit(X, **params).transform(X)
    kept = np.flatnonzero(~np.isnan(encoding[0].statistics_))  # owner of features
    weights = np.ones(len(values)) if w is None else w
    centres = {}
    for group in groups:
        others = ~np.isin(kept, group)
        for j in group:
            x = values[:, j]
            rows = ~np.isnan(x) & (weights > 0)
            if rows.sum() < 2 or not others.any():
                mean = np.average(x[rows], weights=weights[rows]) if rows.any() else 0
                centres[j] = np.full(len(x), mean)
                continue
            train = features[rows][:, others]
            scaler = StandardScaler().fit(train, sample_weight=weights[rows])
            alpha = (
                RidgeCV(alphas=RIDGE_ALPHAS)
                .fit(scaler.transform(train), x[rows], sample_weight=weights[rows])
                .alpha_
            )
            # The model is Ridge at the chosen alpha. (RidgeCV's own refit is not,
            # in scikit-learn 1.7, with a constant feature among the others: its
            # predictions there differ from Ridge(alpha_)'s by about 1%.)
            ridge = Ridge(alpha=alpha).fit(
                scaler.transform(train), x[rows], sample_weight=weights[rows]
            )
            centres[j] = ridge.predict(scaler.transform(features[:, others]))
    return centres


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 7 rows of the 6 features, and the leave-one-out errors taken 2
    rows at a time."""
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", P * BLOCK_ROWS)
    monkeypatch.setattr(_blocks, "CACHE_ELEMENTS", 2 * P)


def _assert_centres(X, groups, w, centres):
    for j, expected in _oracle_centres(X, groups, w).items():
        x = _values(X)[:, j]
        x = x[~np.isnan(x)]
        scale = max(np.std(expected), np.std(x) if x.size else 0.0)
        assert_allclose(centres[j], expected, rtol=0, atol=1e-9 * scale, err_msg=j)


@pytest.mark.parametrize(
    "nan, weighted, groups",
    [
        (False, False, None),
        (True, False, None),
        (True, False, [[0, 1], [2], [3, 4], [5]]),
        (False, True, None),
        (True, True, [[0], [1, 2, 3], [4], [5]]),
    ],
)
def test_streamed_models_equal_ridgecv_on_the_whole_table(
    nan, weighted, groups, small_blocks
):
    """Missing values, groups and weights (some zero), with 22 blocks of rows:
    the models and the draws equal those computed from the whole table."""
    X = _table(nan=nan)
    w = _weights() if weighted else None
    groups = [np.array(g) for g in groups or [[j] for j in range(P)]]
    sampler = ConditionalSampler(X, groups, w, None)
    # Every column's model is one linear map of the features.
    assert set(sampler.shared.index) == set(range(P))
    _assert_centres(X, groups, w, sampler.fitted_columns(X))
    # The draws, made a block of rows at a time without holding the centres:
    # centre + the residual of the permuted row.
    draws = ConditionalDraws(sampler, X, 2, 0, sample_weight=w)
    assert draws.centres is None
    centres = _oracle_centres(X, groups, w)
    columns = [j for group in groups for j in group]
    for r in range(2):
        perm = draws.permutations[r]
        for j, new in zip(columns, draws.values(r)):
            expected = centres[j] + (X[perm, j] - centres[j][perm])
            scale = np.nanstd(X[:, j])
            assert_allclose(new, expected, rtol=0, atol=1e-9 * scale, err_msg=j)
        if w is not None:  # rows of weight 0 keep their values
            assert_allclose(draws.table(r)[w == 0], X[w == 0], rtol=1e-12)


def test_degenerate_columns(small_blocks):
    """A column with no value (dropped by the imputer, replaced around 0), a
    constant column (its mean), a column present on two rows only (every alpha
    ties: the first), a data frame with a nullable integer column."""
    X = _frame(_table())
    X["a"] = np.nan
    X["b"] = 2.5
    X.loc[X.index[2:], "c"] = np.nan
    X["d"] = pd.array(np.round(X["d"] * 3), dtype="Int64")
    X.loc[X.index[::9], "d"] = pd.NA
    groups = [np.array([j]) for j in range(P)]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping features")
        sampler = ConditionalSampler(X, groups, None, None)
        fitted = sampler.fitted_columns(X)
        draws = ConditionalDraws(sampler, X, 1, 0)
        table = draws.table(0, np.arange(40, 60))
    assert sampler.encoded.owner.tolist() == [1, 2, 3, 4, 5]
    assert_allclose(fitted[0], 0.0, atol=0)
    assert_allclose(fitted[1], 2.5, rtol=1e-12)
    _assert_centres(X, groups, None, fitted)
    # The replaced rows of a data frame: centre + the permuted row's residual.
    assert isinstance(table, pd.DataFrame)
    perm, values = draws.permutations[0], _values(X)
    for j in range(2, P):
        expected = fitted[j] + (values[perm, j] - fitted[j][perm])
        assert_allclose(
            _values(table)[:, j],
            expected[40:60],
            rtol=0,
            atol=1e-9 * np.nanstd(values[:, j]),
        )


def test_fit_hands_no_more_than_a_block_to_the_encoding(small_blocks, monkeypatch):
    """Every call of the encoding, of its fit and of the scaler's partial fit gets at
    most a block of rows, while the conditional call runs end to end; the whole
    table is never fitted on."""
    sizes = []
    features = _conditional._Encoded.features

    def recorded(self, X):
        sizes.append(("features", X.shape[0]))
        return features(self, X)

    monkeypatch.setattr(_conditional._Encoded, "features", recorded)
    for cls, name in (
        (SimpleImputer, "fit"),
        (StandardScaler, "fit"),
        (StandardScaler, "partial_fit"),
    ):
        method = getattr(cls, name)

        def wrapper(self, X, *args, _method=method, _name=name, **kwargs):
            sizes.append((_name, X.shape[0]))
            return _method(self, X, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)
    X = _table(nan=True)
    y = X[:, 0] - np.nan_to_num(X[:, 4]) + 0.1 * np.random.RandomState(2).normal(size=N)
    model = make_pipeline(
        SimpleImputer(),
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(4,), solver="lbfgs", max_iter=50, random_state=0
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        sizes.clear()
        result = nn_importance(
            model,
            X,
            y,
            method="conditional",
            n_repeats=2,
            random_state=0,
            sample_weight=_weights(),
        )
    assert np.all(np.isfinite(result.importances))
    kinds = {kind for kind, _ in sizes}
    assert {"features", "partial_fit"} <= kinds
    assert max(size for _, size in sizes) <= BLOCK_ROWS


@pytest.mark.parametrize(
    "make, conditional_estimator",
    [
        (lambda X: X.astype(np.float32), None),
        (lambda X: X, LinearRegression()),
        (lambda X: _frame(X).assign(kind=np.where(X[:, 0] > 0, "u", "v")), None),
    ],
)
def test_other_tables_and_models_fit_on_the_whole_table(
    make, conditional_estimator, monkeypatch
):
    """float32 values, a user's model and categories: the encoding is fitted on
    the whole table, as before."""
    calls = []
    whole = _conditional._Encoded.fitted.__func__

    def recorded(cls, X, sample_weight):
        calls.append(X.shape[0])
        return whole(cls, X, sample_weight)

    monkeypatch.setattr(_conditional._Encoded, "fitted", classmethod(recorded))
    X = make(_table(nan=True))
    groups = [np.array([j]) for j in range(X.shape[1])]
    sampler = ConditionalSampler(X, groups, None, conditional_estimator)
    assert calls == [N]
    fitted = sampler.fitted_columns(X)
    assert all(np.all(np.isfinite(v if j < P else v[1])) for j, v in fitted.items())


@pytest.mark.parametrize("kwargs", [{}, {"cv": 3, "sample_weight": _weights()}])
def test_importances_equal_for_any_blocks(kwargs, monkeypatch):
    """Importances, held-out p-values and per-row differences with blocks of 7 rows
    equal those with all rows in one block."""
    X = _table(nan=True, seed=3)
    y = X[:, 0] + 0.5 * np.nan_to_num(X[:, 4]) + 0.3 * X[:, 3]
    model = make_pipeline(
        SimpleImputer(),
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(5,), solver="lbfgs", max_iter=100, random_state=0
        ),
    )
    common = dict(method="conditional", n_repeats=2, random_state=0, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "cv" not in kwargs:
            model.fit(X, y)
        monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 2**30)
        whole = nn_importance(model, X, y, **common)
        monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", P * BLOCK_ROWS)
        monkeypatch.setattr(_blocks, "CACHE_ELEMENTS", 2 * P)
        blocked = nn_importance(model, X, y, **common)
    for key in ("importances", "pvalues", "row_differences"):
        if key in whole:
            assert_allclose(blocked[key], whole[key], rtol=1e-9, atol=1e-12)
    assert ("pvalues" in whole) == ("cv" in kwargs)
