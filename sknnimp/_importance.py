"""``nn_importance``: every importance method behind one function."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from ._methods import AGNOSTIC_METHODS, METHODS, NETWORK_METHODS
from ._network import MLPNetwork, check_network_estimator


def check_method_applies(estimator, method):
    """Raise TypeError if ``method`` needs MLP internals that ``estimator`` lacks."""
    if method not in NETWORK_METHODS:
        return
    try:
        check_network_estimator(estimator)
    except TypeError as exc:
        working = ", ".join(map(repr, AGNOSTIC_METHODS))
        raise TypeError(
            f"method={method!r} reads the weights of an MLPRegressor or "
            f"MLPClassifier, alone or behind per-feature affine scalers, but {exc} "
            f"Methods that work with any estimator: {working}."
        ) from None


def _network_importance(estimator, X, method, sample_weight):
    net = MLPNetwork(estimator)
    if X.shape[1] != net.n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but the network expects {net.n_features}."
        )
    sigma = net.input_spread(X, sample_weight)
    function = NETWORK_METHODS[method]
    if method == "gradient":
        importances, signed = function(net, sigma, X, sample_weight)
    else:
        importances, signed = function(net, sigma)
    return Bunch(
        importances_mean=importances,
        importances_std=np.zeros_like(importances),
        importances=importances[:, None],
        signed_importances=signed,
    )


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", None],
        "method": [StrOptions(set(METHODS))],
        "fill": [StrOptions({"mean", "median", "zero", "drop"}), Real],
        "retrain": [StrOptions({"warm", "cold", "none", "auto"})],
        "scoring": [str, callable, None],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object", None],
        "sample_weight": ["array-like", None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def nn_importance(
    estimator,
    X,
    y=None,
    *,
    method="gradient",
    fill="mean",
    retrain="auto",
    scoring=None,
    n_repeats=5,
    cv=None,
    sample_weight=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """Importance of each input of a fitted network (or, for some methods, any model).

    Parameters
    ----------
    estimator : estimator object
        A fitted ``MLPRegressor``/``MLPClassifier``, or a fitted ``Pipeline`` of
        per-feature affine scalers ending in one. ``permutation`` and ``ablation``
        accept any fitted estimator with ``fit`` and ``predict``.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data on which importance is measured. For ``weights``, ``garson``, ``olden`` and
        ``probe`` only the spread of each column is used.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets; needed by ``permutation`` and ``ablation`` only.
    method : {"weights", "garson", "olden", "gradient", "probe", "permutation", \
"ablation"}, default="gradient"
        The importance definition; see the package documentation.
    fill : {"mean", "median", "zero", "drop"} or float, default="mean"
        Ablation only: what replaces the ablated column.
    retrain : {"warm", "cold", "none", "auto"}, default="auto"
        Ablation only: how the model is retrained without the column.
    scoring : str, callable or None, default=None
        Permutation and ablation: the score whose drop is the importance; ``None`` uses
        the estimator's ``score``.
    n_repeats : int, default=5
        Permutation: shuffles per feature; ablation: retrain seeds per feature.
    cv : int, cross-validation generator or iterable, default=None
        ``None`` measures on ``X``; otherwise importance is cross-fitted on held-out
        folds.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows in means, spreads and scores.
    n_jobs : int, default=None
        Parallel jobs for permutation and retraining.
    random_state : int, RandomState instance or None, default=None
        Seeds shuffles and retraining.
    verbose : int, default=0
        Progress messages for long work.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``importances_mean`` and ``importances_std`` of shape (n_features,),
        ``importances`` of shape (n_features, n_draws) with every raw draw (one column
        for the deterministic methods), and ``signed_importances`` of shape
        (n_features,): the signed score of ``olden``, ``gradient`` and ``probe`` for a
        single-output network (NaN otherwise), the importance itself for the others.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sknnimp import nn_importance
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500,
    ...                    random_state=0).fit(X, y)
    >>> result = nn_importance(mlp, X, method="gradient")
    >>> result.importances_mean.shape
    (10,)
    """
    check_method_applies(estimator, method)
    check_is_fitted(estimator)
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X)
    if cv is not None:
        raise NotImplementedError("cv is not implemented yet.")
    if method in NETWORK_METHODS:
        return _network_importance(estimator, X, method, sample_weight)
    raise NotImplementedError(f"method={method!r} is not implemented yet.")
