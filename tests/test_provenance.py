"""Provenance maps of fitted preprocessing, checked by perturbing one column at a time.

The oracle does not read the transformers' attributes: for every input column ``j``
it changes column ``j`` alone in several ways, transforms, and checks that the
outputs that changed are among those the map gives to ``j``, and that every output
the map gives to a column changed under at least one of that column's perturbations
(so outputs mapped to ``-1`` never change).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import (
    ColumnTransformer,
    make_column_selector,
    make_column_transformer,
)
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, VarianceThreshold, f_regression
from sklearn.impute import KNNImputer, MissingIndicator, SimpleImputer
from sklearn.kernel_approximation import Nystroem
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)

from sknnimp.networks import MixingStepError, provenance

NUMERIC = ["a", "b", "c"]
CATEGORICAL = ["color", "size", "flag"]


def _frame(n=40, seed=0):
    """Numeric columns (``c`` has NaNs), a 3-level, a skewed 4-level (rare "XL")
    and a binary string column."""
    rng = np.random.default_rng(seed)
    c = rng.normal(size=n)
    c[[1, 4, 9, 10]] = np.nan
    size = np.array(["S", "M", "L"] * n, dtype=object)[:n]
    size[[3, 17]] = "XL"
    return pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.uniform(0, 5, size=n),
            "c": c,
            "color": rng.choice(["red", "green", "blue"], size=n),
            "size": size,
            "flag": rng.choice(["yes", "no"], size=n),
        }
    )


X = _frame()
Y = X["a"].to_numpy() * 2 + X["b"].to_numpy() + (X["color"] == "red").to_numpy()


def _perturbations(X, column, with_nan=False):
    """Copies of ``X`` with ``column`` changed in several ways (shifted, rolled,
    missing values filled or, ``with_nan``, added; every level of a string column)."""
    values = X[column]
    if values.dtype.kind == "f":
        observed = values.dropna()
        scale = (float(observed.std()) if len(observed) > 1 else 0.0) or 1.0
        changed = [values + 1.7 * scale, values - 4.1 * scale]
        changed.append(pd.Series(np.roll(values.to_numpy(), 1), index=X.index))
        if values.isna().any():
            changed.append(values.fillna(0.25))
        if with_nan:
            changed.append(values.where(values.index % 3 > 0))
    else:
        changed = [pd.Series(level, index=X.index) for level in values.unique()]
    for new in changed:
        copy = X.copy()
        copy[column] = new.to_numpy()
        yield copy


def _dense(Xt):
    return Xt.toarray() if sparse.issparse(Xt) else np.asarray(Xt)


def _changed(before, after):
    differ = (before != after) & ~(pd.isna(before) & pd.isna(after))
    return differ.any(axis=0)


def check_map(transformer, X=X, y=None, with_nan=False):
    """Fit ``transformer``, check its provenance map by perturbation, return it."""
    fitted = transformer.fit(X, y)
    pmap = provenance(fitted, X.shape[1])
    base = _dense(fitted.transform(X))
    assert pmap.dtype.kind == "i"
    assert pmap.shape == (base.shape[1],)
    assert ((pmap >= -1) & (pmap < X.shape[1])).all()
    ever = np.zeros(base.shape[1], dtype=bool)
    for j, column in enumerate(X.columns):
        for perturbed in _perturbations(X, column, with_nan):
            changed = _changed(base, _dense(fitted.transform(perturbed)))
            stray = np.flatnonzero(changed & (pmap != j))
            assert not stray.size, f"{column!r} changed outputs {stray} ({pmap})"
            ever |= changed
    assert_array_equal(ever, pmap >= 0, err_msg=f"map {pmap}")
    return pmap


# -- single steps ----------------------------------------------------------------


@pytest.mark.parametrize(
    "step",
    [
        StandardScaler(),
        MinMaxScaler(),
        MaxAbsScaler(),
        RobustScaler(),
        PowerTransformer(),
        QuantileTransformer(n_quantiles=20),
        Binarizer(threshold=0.5),
        FunctionTransformer(),
        KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="uniform"),
    ],
    ids=lambda step: type(step).__name__,
)
def test_one_to_one_numeric(step):
    X_num = X[["a", "b"]]
    assert_array_equal(check_map(step, X_num), [0, 1])


def test_ordinal_encoder():
    assert_array_equal(check_map(OrdinalEncoder(), X[CATEGORICAL]), [0, 1, 2])


@pytest.mark.parametrize(
    ("encoder", "expected"),
    [
        (OneHotEncoder(), [0, 0, 0, 1, 1, 1, 1, 2, 2]),
        (OneHotEncoder(drop="first"), [0, 0, 1, 1, 1, 2]),
        (OneHotEncoder(drop="if_binary"), [0, 0, 0, 1, 1, 1, 1, 2]),
        (OneHotEncoder(drop=["red", "XL", "no"]), [0, 0, 1, 1, 1, 2]),
        (OneHotEncoder(min_frequency=5), [0, 0, 0, 1, 1, 1, 1, 2, 2]),
        (
            OneHotEncoder(min_frequency=5, handle_unknown="infrequent_if_exist"),
            [0, 0, 0, 1, 1, 1, 1, 2, 2],
        ),
        (OneHotEncoder(max_categories=2), [0, 0, 1, 1, 2, 2]),
        (OneHotEncoder(min_frequency=5, drop="first"), [0, 0, 1, 1, 1, 2]),
        (OneHotEncoder(min_frequency=5, drop="if_binary", sparse_output=False), None),
    ],
)
def test_one_hot_encoder(encoder, expected):
    pmap = check_map(encoder, X[CATEGORICAL])
    if expected is not None:
        assert_array_equal(pmap, expected)


def test_one_hot_infrequent_merges_rare_levels():
    # "XL" (2 rows) joins the infrequent column of "size": S, M, L, infrequent
    encoder = OneHotEncoder(min_frequency=5).fit(X[["size"]])
    assert encoder.infrequent_categories_[0].tolist() == ["XL"]
    assert_array_equal(provenance(encoder, 1), [0, 0, 0, 0])
    many = OneHotEncoder(max_categories=2).fit(X[["size"]])
    assert_array_equal(check_map(many, X[["size"]]), [0, 0])


@pytest.mark.parametrize("encode", ["onehot", "onehot-dense"])
def test_kbins_one_hot(encode):
    step = KBinsDiscretizer(n_bins=[2, 4], encode=encode, strategy="uniform")
    assert_array_equal(check_map(step, X[["a", "b"]]), [0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("include_bias", [True, False])
def test_spline_transformer(include_bias):
    step = SplineTransformer(n_knots=4, degree=2, include_bias=include_bias)
    pmap = check_map(step, X[["a", "b"]])
    per_column = 5 if include_bias else 4
    assert_array_equal(pmap, np.repeat([0, 1], per_column))


def test_target_encoder_continuous():
    step = TargetEncoder(target_type="continuous", random_state=0)
    assert_array_equal(check_map(step, X[CATEGORICAL], Y), [0, 1, 2])


def test_target_encoder_multiclass_is_column_major():
    y = np.array(["u", "v", "w"] * 14)[: len(X)]
    step = TargetEncoder(random_state=0)
    pmap = check_map(step, X[["color", "flag"]], y)
    assert_array_equal(pmap, [0, 0, 0, 1, 1, 1])
    names = step.get_feature_names_out()
    assert [name.split("_")[0] for name in names] == ["color"] * 3 + ["flag"] * 3


def test_polynomial_features_of_one_column():
    step = PolynomialFeatures(degree=3)
    assert_array_equal(check_map(step, X[["a"]]), [-1, 0, 0, 0])
    ct = make_column_transformer(
        (PolynomialFeatures(degree=2, include_bias=False), ["a"]),
        (PolynomialFeatures(degree=2, interaction_only=True), ["b"]),
    )
    assert_array_equal(check_map(ct, X[NUMERIC[:2]]), [0, 0, -1, 1])


@pytest.mark.parametrize(
    "step",
    [PolynomialFeatures(degree=2), PolynomialFeatures(interaction_only=True)],
)
def test_polynomial_features_of_two_columns_mix(step):
    step.fit(X[["a", "b"]])
    with pytest.raises(MixingStepError, match=r"PolynomialFeatures.*columns 0, 1"):
        provenance(step, 2)


def test_selectors():
    X_num = X[["a", "b"]].assign(const=1.0, d=X["a"] * 0.1)
    assert_array_equal(check_map(VarianceThreshold(), X_num), [0, 1, 3])
    best = SelectKBest(f_regression, k=2)
    # "a" and its multiple "d" tie, ahead of "b"
    assert_array_equal(check_map(best, X_num[["a", "b", "d"]], Y), [0, 2])


@pytest.mark.filterwarnings("ignore:Skipping features without any observed")
def test_simple_imputer_with_indicator_and_an_empty_column():
    X_miss = X[NUMERIC].assign(empty=np.nan)
    X_miss.loc[[0, 5], "a"] = np.nan
    # "empty" is dropped from the imputed part but has an indicator
    imputer = SimpleImputer(add_indicator=True)
    assert_array_equal(check_map(imputer, X_miss), [0, 1, 2, 0, 2, 3])
    kept = SimpleImputer(keep_empty_features=True, add_indicator=True)
    assert_array_equal(check_map(kept, X_miss), [0, 1, 2, 3, 0, 2, 3])
    assert_array_equal(check_map(SimpleImputer(), X_miss), [0, 1, 2])


def test_simple_imputer_on_strings():
    X_cat = X[CATEGORICAL].astype(object)
    X_cat.loc[[2, 7], "color"] = np.nan
    step = SimpleImputer(strategy="most_frequent", add_indicator=True)
    assert_array_equal(check_map(step, X_cat), [0, 1, 2, 0])


@pytest.mark.parametrize(
    ("features", "expected"), [("missing-only", [2]), ("all", [0, 1, 2])]
)
def test_missing_indicator(features, expected):
    step = MissingIndicator(features=features, error_on_new=False)
    assert_array_equal(check_map(step, X[NUMERIC], with_nan=True), expected)


# -- composites ------------------------------------------------------------------


def _numeric_pipe():
    return make_pipeline(SimpleImputer(), StandardScaler())


@pytest.mark.parametrize(
    ("remainder", "expected"),
    [
        ("drop", [0, 2, 3, 3, 4, 4, 4]),
        ("passthrough", [0, 2, 3, 3, 4, 4, 4, 1]),
        (MinMaxScaler(), [0, 2, 3, 3, 4, 4, 4, 1]),
    ],
    ids=["drop", "passthrough", "transformer"],
)
def test_column_transformer_remainder(remainder, expected):
    # "b" is left to the remainder; "flag" is dropped explicitly
    ct = ColumnTransformer(
        [
            ("num", _numeric_pipe(), ["a", "c"]),
            ("cat", OneHotEncoder(drop="first"), ["color", "size"]),
            ("none", StandardScaler(), []),
            ("dropped", "drop", ["flag"]),
        ],
        remainder=remainder,
    )
    assert_array_equal(check_map(ct), expected)


@pytest.mark.parametrize(
    "columns",
    [
        (["a", "b"], ["color"]),
        ([0, 1], [3]),
        (slice(0, 2), slice(3, 4)),
        (slice("a", "b"), slice("color", "color")),
        ([True, True, False, False, False, False], [False] * 3 + [True] + [False] * 2),
        (
            make_column_selector(pattern="^[ab]$"),
            make_column_selector(pattern="^color$"),
        ),
    ],
    ids=["names", "indices", "slice", "name-slice", "mask", "callable"],
)
def test_column_transformer_selections(columns):
    num, cat = columns
    ct = ColumnTransformer(
        [("cat", OneHotEncoder(), cat), ("num", StandardScaler(), num)],
        remainder="drop",
    )
    expected = [3, 3, 3, 0, 1]
    assert_array_equal(check_map(ct), expected)
    # the same map from the fitted column specifications alone
    del ct._transformer_to_input_indices
    assert_array_equal(provenance(ct, X.shape[1]), expected)


def test_column_transformer_names_and_indices():
    ct = ColumnTransformer(
        [("num", StandardScaler(), ["b"]), ("num2", MinMaxScaler(), [0])],
        remainder=StandardScaler(),
    )
    assert_array_equal(check_map(ct, X[NUMERIC]), [1, 0, 2])


def test_column_transformer_sparse_output_gives_the_same_map():
    parts = [("cat", OneHotEncoder(), ["size", "flag"]), ("num", "passthrough", ["a"])]
    dense = ColumnTransformer(parts, sparse_threshold=0).fit(X)
    sparse_ct = ColumnTransformer(parts, sparse_threshold=1.0).fit(X)
    assert sparse.issparse(sparse_ct.transform(X))
    assert_array_equal(provenance(dense, 6), provenance(sparse_ct, 6))
    assert_array_equal(check_map(sparse_ct), [4, 4, 4, 4, 5, 5, 0])


def test_nested_pipelines():
    inner = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "c"]),
            ("cat", OneHotEncoder(drop="if_binary"), ["color", "flag"]),
        ],
        remainder="drop",
    )
    model = Pipeline(
        [
            ("prep", make_pipeline(inner, "passthrough", None)),
            ("scale", MaxAbsScaler()),
            ("select", VarianceThreshold(0.01)),
            ("spline", make_column_transformer((SplineTransformer(n_knots=3), [0]))),
        ]
    )
    # splines (5) of the first column, "a", only
    assert_array_equal(check_map(model), [0] * 5)
    without_spline = Pipeline(model.steps[:-1])
    assert_array_equal(check_map(without_spline), [0, 2, 3, 3, 3, 5])


def test_identity_steps():
    assert_array_equal(provenance(None, 3), [0, 1, 2])
    assert_array_equal(provenance("passthrough", 2), [0, 1])
    pipe = Pipeline([("a", None), ("b", "passthrough")]).fit(X[NUMERIC])
    assert_array_equal(provenance(pipe, 3), [0, 1, 2])
    assert provenance(None, 0).shape == (0,)


def test_feature_union():
    union = FeatureUnion(
        [
            ("scaled", StandardScaler()),
            ("dropped", "drop"),
            ("same", "passthrough"),
            ("indicator", MissingIndicator()),
            ("poly", make_pipeline(SimpleImputer(), PolynomialFeatures(degree=1))),
        ],
        transformer_weights={"scaled": 3.0, "poly": 0.5},
    )
    pmap = check_map(union, X[NUMERIC])
    assert_array_equal(pmap, [0, 1, 2, 0, 1, 2, 2, -1, 0, 1, 2])


# -- steps that mix columns ------------------------------------------------------


class _Opaque(TransformerMixin, BaseEstimator):
    """A transformer the map knows nothing about."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        return np.asarray(X)


@pytest.mark.parametrize(
    "step",
    [
        PCA(n_components=2),
        Normalizer(),
        FunctionTransformer(np.exp),
        KNNImputer(n_neighbors=2),
        Nystroem(n_components=5, random_state=0),
        _Opaque(),
    ],
    ids=lambda step: type(step).__name__,
)
def test_mixing_steps_raise(step):
    X_num = X[["a", "b"]]
    fitted = step.fit(X_num)
    with pytest.raises(MixingStepError) as info:
        provenance(fitted, 2)
    assert isinstance(info.value, TypeError)
    assert info.value.step is fitted
    assert type(step).__name__ in str(info.value)


def test_mixing_step_is_named_by_its_path():
    ct = ColumnTransformer(
        [
            ("num", make_pipeline(StandardScaler(), PCA(n_components=1)), ["a", "b"]),
            ("cat", OneHotEncoder(), ["color"]),
        ]
    )
    model = make_pipeline(ct, StandardScaler()).fit(X)
    with pytest.raises(MixingStepError) as info:
        provenance(model, X.shape[1])
    message = str(info.value)
    assert "'columntransformer > num > pca' (PCA)" in message
    assert "mixes input columns" in message
    pca = model[0].named_transformers_["num"][-1]
    assert info.value.step is pca
    assert info.value.path == ("columntransformer", "num", "pca")


def test_mixing_step_names():
    pca = PCA(n_components=1).fit(X[["a", "b"]])
    with pytest.raises(MixingStepError, match=r"^the step PCA mixes"):
        provenance(pca, 2)
    pipe = Pipeline([("scale", StandardScaler()), ("norm", Normalizer())])
    pipe.fit(X[["a", "b"]])
    with pytest.raises(TypeError, match=r"'norm' \(Normalizer\).*norm"):
        provenance(pipe, 2)
    ct = ColumnTransformer(
        [("scaled", StandardScaler(), ["a"])], remainder=FunctionTransformer(np.exp)
    ).fit(X[NUMERIC])
    with pytest.raises(MixingStepError, match=r"'remainder' \(FunctionTransformer\)"):
        provenance(ct, 3)


def test_mixing_step_error_pickles():
    error = MixingStepError(PCA(), ("outer", "pca"), "why")
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error)
    assert again.path == ("outer", "pca")
    assert isinstance(again.step, PCA)


def test_width_mismatch_is_an_error():
    scaler = StandardScaler().fit(X[["a", "b"]])
    with pytest.raises(ValueError, match="fitted on 2 columns but receives 3"):
        provenance(scaler, 3)
