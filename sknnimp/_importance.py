"""``nn_importance``: every importance method behind one function."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from ._ablation import ablation_importance, resolve_retrain
from ._methods import AGNOSTIC_METHODS, METHODS, NETWORK_METHODS
from ._network import MLPNetwork, check_network_estimator
from ._parallel import fit_weighted, run_tasks
from ._permutation import permutation_importance

#: Methods whose signed score is defined (for a single-output network).
SIGNED_METHODS = ("olden", "gradient", "probe")


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
    return importances[:, None], signed


def _fit_fold(estimator, X, y, sample_weight):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_weighted(clone(estimator), X, y, sample_weight)


def _rows(array, rows):
    return None if array is None else _safe_indexing(array, rows)


def _folds(estimator, X, y, sample_weight, cv, n_jobs, verbose):
    """``(model, X_train, y_train, w_train, X_eval, y_eval, w_eval)`` per fold.

    Without ``cv``: the fitted ``estimator``, trained and evaluated on all rows.
    """
    if cv is None:
        return [(estimator, X, y, sample_weight, X, y, sample_weight)]
    if y is None:
        raise ValueError("Cross-fitted importance (cv is not None) needs y.")
    cv = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = list(cv.split(X, y))
    models = run_tasks(
        _fit_fold,
        [
            (estimator, X[train], _rows(y, train), _rows(sample_weight, train))
            for train, _ in splits
        ],
        n_jobs=n_jobs,
        verbose=verbose,
        label="fitting folds",
    )
    return [
        (
            model,
            X[train],
            _rows(y, train),
            _rows(sample_weight, train),
            X[test],
            _rows(y, test),
            _rows(sample_weight, test),
        )
        for model, (train, test) in zip(models, splits)
    ]


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
        "max_samples": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
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
    max_samples=1.0,
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
    max_samples : int or float, default=1.0
        Permutation only: rows drawn without replacement for the shuffled scores, as
        in :func:`sklearn.inspection.permutation_importance`.
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
    if method == "ablation":
        retrain = resolve_retrain(estimator, retrain, fill)
    if cv is None:
        check_is_fitted(estimator)
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
    if y is not None:
        y = check_array(y, ensure_2d=False, dtype=None)
        check_consistent_length(X, y)
    elif method in AGNOSTIC_METHODS:
        raise ValueError(f"method={method!r} scores the model and needs y.")
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    random_state = check_random_state(random_state)
    folds = _folds(estimator, X, y, sample_weight, cv, n_jobs, verbose)
    groups = [np.array([i]) for i in range(X.shape[1])]
    result = Bunch(method=method)

    if method in NETWORK_METHODS:
        draws, signed = zip(
            *[
                _network_importance(model, Xe, method, we)
                for model, *_, Xe, _, we in folds
            ]
        )
        importances = np.hstack(draws)
        result.signed_importances = (
            np.mean(signed, axis=0)
            if method in SIGNED_METHODS
            else importances.mean(axis=1)
        )
    elif method == "permutation":
        draws, baselines = [], []
        for model, *_, Xe, ye, we in folds:
            # Without cv, the caller's random_state is used as is, so that the draws
            # are those of sklearn.inspection.permutation_importance.
            seed = random_state if cv is None else random_state.randint(2**31 - 1)
            fold_result = permutation_importance(
                model,
                Xe,
                ye,
                scoring=scoring,
                n_repeats=n_repeats,
                sample_weight=we,
                max_samples=max_samples,
                groups=groups,
                n_jobs=n_jobs,
                random_state=seed,
            )
            draws.append(fold_result.importances)
            baselines.append(fold_result.baseline_score)
        importances = np.hstack(draws)
        result.baseline_score = float(np.mean(baselines))
    else:
        seeds = random_state.randint(2**31 - 1, size=(len(folds), n_repeats))
        importances, result.baseline_score = ablation_importance(
            folds,
            groups,
            fill=fill,
            retrain=retrain,
            scorer=check_scoring(estimator, scoring=scoring),
            seeds=seeds,
            n_jobs=n_jobs,
            verbose=verbose,
        )
    if method not in NETWORK_METHODS:
        result.signed_importances = importances.mean(axis=1)
    result.update(
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        importances=importances,
    )
    return result
