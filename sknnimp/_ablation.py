"""Ablation: fill or drop an input, retrain, and measure the drop in score.

For a group ``g`` of columns (one column by default), a fold and a repeat,
``I_g = baseline score - score with g ablated``, both scores on the fold's evaluation
rows. The ablated columns are replaced by ``fill`` computed on the training rows (or
removed), and the model is retrained:

- ``"cold"``: a fresh clone, fitted on the ablated training rows with the repeat's
  seed; the baseline is a fresh clone fitted on the intact rows with the same seed.
- ``"warm"``: (networks only) the fitted network continues training from where it
  stopped, with the group's first-layer rows set to zero and the fill's constant
  contribution folded into the first-layer bias; those rows then receive no gradient
  and stay zero, so the network is one without the group. The baseline continues the
  intact network for the same number of iterations with the same seed, so that the
  difference measures the inputs and not the extra training.
- ``"none"``: no retraining (occlusion); one draw per fold.

Repeats differ by their retraining seed. With a deterministic solver (``lbfgs``) warm
repeats coincide, and their spread (a zero-width interval) says nothing about the
uncertainty of the importance: use ``cv`` for draws on held-out folds.
"""

import math
from copy import deepcopy

import numpy as np
from scipy import sparse

from ._network import MLPNetwork, is_network, pipeline_steps
from ._parallel import refit, run_tasks, seeded_clone
from ._permutation import score

#: Warm retraining continues for this fraction of the iterations the network took to
#: fit (at least ``WARM_MIN_ITER``).
WARM_FRACTION = 0.05
WARM_MIN_ITER = 2


def resolve_retrain(estimator, retrain, fill):
    """The retraining mode for ``estimator``; errors for impossible combinations."""
    network = is_network(estimator)
    if retrain == "auto":
        retrain = "warm" if network else "cold"
    if retrain == "warm" and not network:
        raise TypeError(
            "retrain='warm' continues the training of an MLPRegressor or MLPClassifier "
            f"(alone or behind affine scalers), not of {type(estimator).__name__}; "
            "use retrain='cold' or 'none'."
        )
    if retrain == "none" and fill == "drop":
        raise ValueError("fill='drop' needs retraining; use retrain='warm' or 'cold'.")
    return retrain


def fill_values(X, fill, sample_weight=None):
    """Per-column replacement values from the training rows ``X`` (None for drop).

    The mean and the median are weighted by ``sample_weight`` when it is given.
    """
    if fill == "drop":
        return None
    n_features = X.shape[1]
    if fill == "zero":
        return np.zeros(n_features)
    if fill == "mean":
        w = None if sample_weight is None else np.asarray(sample_weight, float)
        if sparse.issparse(X):
            w = np.ones(X.shape[0]) if w is None else w
            return np.asarray(X.T @ w).ravel() / w.sum()
        return np.average(X, axis=0, weights=w)
    if fill == "median":
        dense = X.toarray() if sparse.issparse(X) else np.asarray(X)
        if sample_weight is None:
            return np.median(dense, axis=0)
        return _weighted_median(dense, np.asarray(sample_weight, float))
    return np.full(n_features, float(fill))


def _weighted_median(X, w):
    """Column medians of ``X`` with row weights ``w`` (averaged inverted CDF).

    Equals ``np.median`` for equal weights; rows of weight 0 count as absent, and an
    integer weight as that many copies of the row.
    """
    order = np.argsort(X, axis=0, kind="stable")
    values = np.take_along_axis(X, order, axis=0)
    cumulative = np.cumsum(w[order], axis=0)
    half = cumulative[-1] / 2
    tie = 1e-10 * cumulative[-1]  # rounding of the sums must not break a tie
    # First sorted row reaching half the weight, first one passing it.
    lower = (cumulative < half - tie).sum(axis=0)
    upper = np.minimum((cumulative <= half + tie).sum(axis=0), len(w) - 1)
    columns = np.arange(X.shape[1])
    return (values[lower, columns] + values[upper, columns]) / 2


def _ablate(X, group, values):
    """``X`` with the columns of ``group`` filled with ``values`` (or dropped)."""
    if group is None:
        return X
    if values is None:
        keep = np.setdiff1d(np.arange(X.shape[1]), group)
        return X[:, keep]
    if sparse.issparse(X):
        X = sparse.lil_matrix(X, copy=True)
        for column in group:
            X[:, column] = values[column]
        return X.tocsr()
    X = np.array(X, dtype=float)
    X[:, group] = values[group]
    return X


def _cold_task(template, seed, fold, group, scorer):
    """Score of a fresh clone trained with ``group`` ablated (intact if None)."""
    X_train, y_train, w_train, X_eval, y_eval, w_eval, values = fold
    model = seeded_clone(template, seed, only_unseeded=False)
    refit(model, _ablate(X_train, group, values), y_train, w_train)
    return score(scorer, model, _ablate(X_eval, group, values), y_eval, w_eval)


def _none_task(model, fold, group, scorer):
    """Score of the fitted model with ``group`` filled, without retraining."""
    _, _, _, X_eval, y_eval, w_eval, values = fold
    return score(scorer, model, _ablate(X_eval, group, values), y_eval, w_eval)


def _warm_task(mlp, n_iter, seed, fold, group, scorer):
    """Score of the network continued for ``n_iter`` iterations with ``group`` zeroed.

    ``fold`` holds the rows in the network's input space, and the fill's position in
    that space for every column.
    """
    X_train, y_train, w_train, X_eval, y_eval, w_eval, shift = fold
    mlp = deepcopy(mlp)
    if group is not None:
        coefs = [w.copy() for w in mlp.coefs_]
        intercepts = [c.copy() for c in mlp.intercepts_]
        if shift is not None:
            intercepts[0] += shift[group] @ coefs[0][group]
        coefs[0][group] = 0.0
        mlp.coefs_, mlp.intercepts_ = coefs, intercepts
        X_train, X_eval = X_train.copy(), X_eval.copy()
        X_train[:, group] = 0.0
        X_eval[:, group] = 0.0
    mlp.set_params(warm_start=True, max_iter=n_iter, random_state=seed)
    mlp.set_params(early_stopping=False)  # its best-so-far state predates the ablation
    if hasattr(mlp, "best_loss_"):
        mlp.best_loss_, mlp._no_improvement_count = np.inf, 0
    refit(mlp, X_train, y_train, w_train)
    return score(scorer, mlp, X_eval, y_eval, w_eval)


def _warm_fold(model, fold, fill):
    """The fold in the network's input space, plus the MLP and its warm budget."""
    X_train, y_train, w_train, X_eval, y_eval, w_eval, values = fold
    net = MLPNetwork(model)
    _, mlp = pipeline_steps(model)
    shift = None if values is None else values * net.input_scale + net.input_offset
    network_fold = (
        net.to_network_space(X_train),
        y_train,
        w_train,
        net.to_network_space(X_eval),
        y_eval,
        w_eval,
        shift,
    )
    n_iter = max(WARM_MIN_ITER, math.ceil(WARM_FRACTION * getattr(mlp, "n_iter_", 1)))
    return mlp, n_iter, network_fold


def ablation_importance(
    folds, groups, *, fill, retrain, scorer, seeds, n_jobs=None, verbose=0
):
    """Ablation draws over folds and repeats.

    Parameters
    ----------
    folds : list of tuple
        ``(model, X_train, y_train, w_train, X_eval, y_eval, w_eval)`` with ``model``
        fitted on the training rows.
    groups : list of ndarray of int
        Columns ablated together.
    fill, retrain : as in :func:`~sknnimp.nn_importance` (``retrain`` resolved).
    scorer : callable
        ``scorer(estimator, X, y[, sample_weight])``.
    seeds : ndarray of shape (n_folds, n_repeats)
        Retraining seeds, drawn by the caller.

    Returns
    -------
    importances : ndarray of shape (n_groups, n_draws)
        Draws ordered fold by fold, repeat by repeat (one per fold for ``"none"``).
    baseline_score : float
        Mean of the baseline scores.
    """
    tasks, draws = [], []
    for f, (model, *data) in enumerate(folds):
        values = fill_values(data[0], fill, data[2])
        fold = (*data, values)
        repeats = [None] if retrain == "none" else list(seeds[f])
        if retrain == "warm":
            mlp, n_iter, fold = _warm_fold(model, fold, fill)
        for seed in repeats:
            for group in [None, *groups]:
                if retrain == "none":
                    tasks.append((_none_task, (model, fold, group, scorer)))
                elif retrain == "cold":
                    tasks.append((_cold_task, (model, seed, fold, group, scorer)))
                else:
                    tasks.append((_warm_task, (mlp, n_iter, seed, fold, group, scorer)))
            draws.append(len(groups) + 1)
    scores = run_tasks(
        _call, tasks, n_jobs=n_jobs, verbose=verbose, label=f"ablation ({retrain})"
    )
    scores = np.asarray(scores, dtype=float).reshape(len(draws), len(groups) + 1)
    baselines = scores[:, 0]
    importances = (baselines[:, None] - scores[:, 1:]).T
    return importances, float(baselines.mean())


def _call(function, args):
    return function(*args)
