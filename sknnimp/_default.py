"""The network fitted when the user gives none: preprocessing for real tables + an MLP.

Numeric columns are imputed (median) and standardized; categorical, string and boolean
columns are imputed (most frequent value) and one-hot encoded, ignoring categories not
seen in training. A regression target is standardized around the network
(``TransformedTargetRegressor``), so that a target in the tens of thousands trains as
well as one of unit scale, and predictions and importances stay in the target's units.
"""

import warnings

import numpy as np
from scipy import sparse
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.impute import SimpleImputer
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target

from ._tables import is_dataframe, n_columns, numeric_columns

#: Parameters of the default MLP (both tasks).
DEFAULT_MLP_PARAMS = {
    "hidden_layer_sizes": (100,),
    "alpha": 3.0,
    "solver": "lbfgs",
    "max_iter": 1000,
}


def is_classification_target(y):
    """Labels (strings, booleans, integers) and 0/1 indicator matrices are classes.

    A float target with more than two distinct values is a regression target even when
    its values happen to be whole numbers.
    """
    with warnings.catch_warnings():
        # scikit-learn < 1.8 warns about many classes for any float target.
        warnings.simplefilter("ignore", UserWarning)
        kind = type_of_target(y)
    is_float = np.asarray(y).dtype.kind == "f"
    return kind in ("binary", "multilabel-indicator") or (
        kind == "multiclass" and not is_float
    )


def default_preprocessing(X):
    """Imputation, scaling and one-hot encoding chosen from the columns of ``X``.

    Sparse ``X`` is only scaled (it cannot be centred without densifying it); a table of
    numeric columns only is imputed and scaled by one pipeline (whose scaler receives
    ``sample_weight``, which a ``ColumnTransformer`` would not pass on). Columns
    are selected by name for a DataFrame with string column names and by position
    otherwise.
    """
    if sparse.issparse(X):
        return StandardScaler(with_mean=False)
    numeric = numeric_columns(X)
    if numeric.all():
        # No ColumnTransformer: the scaler then receives sample_weight.
        return make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    names = list(X.columns) if is_dataframe(X) else []
    by_name = bool(names) and all(isinstance(name, str) for name in names)
    keys = names if by_name else list(range(len(numeric)))
    boolean = _boolean_columns(X)
    numeric_keys = [k for k, is_num in zip(keys, numeric) if is_num]
    boolean_keys = [k for k, is_bool in zip(keys, boolean) if is_bool]
    other_keys = [
        k
        for k, is_num, is_bool in zip(keys, numeric, boolean)
        if not (is_num or is_bool)
    ]
    transformers = []
    if numeric_keys:
        transformers.append(
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                numeric_keys,
            )
        )
    if other_keys:
        transformers.append(
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                other_keys,
            )
        )
    if boolean_keys:
        # SimpleImputer refuses booleans; the encoder makes a missing value (a
        # nullable boolean's NA) a category of its own.
        transformers.append(
            (
                "boolean",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                boolean_keys,
            )
        )
    return ColumnTransformer(
        transformers, sparse_threshold=0, verbose_feature_names_out=False
    )


def _boolean_columns(X):
    """Mask of the boolean columns (numpy, pandas nullable or polars booleans)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None:
        return np.full(n_columns(X), np.asarray(X).dtype.kind == "b")
    return np.array([str(t).lower() in ("bool", "boolean") for t in dtypes])


def default_estimator(X, y, *, classification=None, random_state=None, **mlp_params):
    """The default network for the table ``X`` and target ``y``.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        The training table; only its column types are read.
    y : array-like
        The target; its type chooses classification or regression unless
        ``classification`` is given.
    classification : bool, default=None
        Force the task.
    random_state : int or None
        Seed of the network.
    **mlp_params
        Override :data:`DEFAULT_MLP_PARAMS`.

    Returns
    -------
    estimator : Pipeline or TransformedTargetRegressor
        Unfitted.
    """
    if classification is None:
        classification = is_classification_target(y)
    params = {**DEFAULT_MLP_PARAMS, **mlp_params, "random_state": random_state}
    mlp = MLPClassifier(**params) if classification else MLPRegressor(**params)
    preprocessing = default_preprocessing(X)
    if isinstance(preprocessing, Pipeline):
        model = make_pipeline(*[step for _, step in preprocessing.steps], mlp)
    else:
        model = make_pipeline(preprocessing, mlp)
    if classification:
        return model
    return TransformedTargetRegressor(regressor=model, transformer=StandardScaler())
