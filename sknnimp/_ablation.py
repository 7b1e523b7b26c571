"""Ablation: fill or drop an input, retrain, and measure the drop in score.

For a group ``g`` of columns (one column by default), a fold and a repeat,
``I_g = baseline score - score with g ablated``, both scores on the fold's evaluation
rows. The ablated columns are replaced by ``fill`` computed on the training rows (or
removed; non-numeric columns take their most frequent value), and the model is
retrained:

- ``"cold"``: a fresh clone, fitted on the ablated training rows with the repeat's
  seed; the baseline is a fresh clone fitted on the intact rows with the same seed.
- ``"warm"``: (networks only) the fitted network continues training from where it
  stopped, with the first-layer rows of the group's network inputs (a one-hot encoded
  column's block) set to zero and the fill's constant contribution folded into the
  first-layer bias; those rows then receive no gradient
  and stay zero, so the network is one without the group. The baseline continues the
  intact network for the same number of iterations with the same seed, so that the
  difference measures the inputs and not the extra training. Sharing the seed, a
  scikit-learn MLP's continuations share their mini-batches and are trained side by
  side (``MLPNetwork.continued_together``), with the same weights as one by one.
- ``"none"``: no retraining (occlusion); one draw per fold. For a network with dense
  layers scored by one of scikit-learn's scorers (or its own ``score``), the filled
  column only moves the first pre-activation, so the scores come from the first layer
  as in the fast path of permutation importance, without a filled copy of the data
  per column.

Repeats differ by their retraining seed. With a deterministic solver (``lbfgs``) warm
repeats coincide, and their spread (a zero-width interval) says nothing about the
uncertainty of the importance: use ``cv`` for draws on held-out folds. The same holds
for ``adam`` and ``sgd`` when one mini-batch holds all the training rows (at most 200
with ``batch_size="auto"``): the seed only shuffles the rows within it.
"""

import math

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse

from ._blocks import FillSource, Scoring, perturbed_network_scores
from ._parallel import refit, run_tasks, seeded_clone
from ._permutation import _network_stand_in, evaluate
from ._rowwise import scorer_row_score
from ._tables import dropped, fill_values, filled, n_columns, take_rows
from .networks import NetworkModel, is_network

#: Warm retraining continues for this fraction of the iterations the network took to
#: fit (at least ``WARM_MIN_ITER``).
WARM_FRACTION = 0.05
WARM_MIN_ITER = 2

#: Warm retrainings are split into at least this many tasks per fold and repeat, for
#: progress reports and load balance. A task's networks are continued by the
#: network's ``continued_together``: a scikit-learn MLP trains them side by side
#: (up to :data:`~sknnimp.networks._mlp.STACK_SIZE` at a time), other networks copy
#: the training rows once per task.
WARM_CHUNKS = 20


def resolve_retrain(estimator, retrain, fill):
    """The retraining mode for ``estimator``; errors for impossible combinations."""
    network = is_network(estimator)
    if retrain == "auto":
        retrain = "warm" if network else "cold"
    if retrain == "warm" and not network:
        raise TypeError(
            "retrain='warm' continues the training of a network (an MLPRegressor or "
            "MLPClassifier, alone or at the end of a pipeline), not of "
            f"{type(estimator).__name__}; use retrain='cold' or 'none'."
        )
    if retrain == "none" and fill == "drop":
        raise ValueError("fill='drop' needs retraining; use retrain='warm' or 'cold'.")
    return retrain


def _ablate(X, group, values):
    """``X`` with the columns of ``group`` filled with ``values`` (or dropped)."""
    if group is None:
        return X
    if values is None:
        return dropped(X, group)
    return filled(X, group, values)


def _cold_task(template, seed, fold, group, scorer, row_score=None):
    """Score of a fresh clone trained with ``group`` ablated (intact if None)."""
    X_train, y_train, w_train, X_eval, y_eval, w_eval, values = fold
    model = seeded_clone(template, seed, only_unseeded=False)
    try:
        refit(model, _ablate(X_train, group, values), y_train, w_train)
    except (KeyError, ValueError) as exc:
        if group is None or values is not None:
            raise
        raise ValueError(
            f"fill='drop' removes the column(s) {list(group)}, but the estimator "
            "cannot be fitted without them (a ColumnTransformer that selects "
            "columns by name needs every column); use a fill value such as "
            "fill='mean', or retrain='warm'."
        ) from exc
    X_eval = _ablate(X_eval, group, values)
    return evaluate(scorer, row_score, model, X_eval, y_eval, w_eval)


def _none_task(model, fold, groups, scorer, row_score=None):
    """Scores of the fitted model with each of ``groups`` filled (None: intact),
    without retraining.

    A NumPy array is copied once and each group's columns are filled in that copy and
    restored after scoring, so that the copies do not grow with the number of groups;
    other tables are filled group by group.
    """
    _, _, _, X_eval, y_eval, w_eval, values = fold
    work = None
    if isinstance(X_eval, np.ndarray) and X_eval.dtype.kind in "fiub":
        work = np.array(X_eval, dtype=None if X_eval.dtype.kind == "f" else float)
    scores = []
    for group in groups:
        if group is None:
            X_scored = X_eval
        elif work is None:
            X_scored = _ablate(X_eval, group, values)
        else:
            columns = list(group)
            work[:, columns] = [values[j] for j in columns]
            X_scored = work
        scores.append(evaluate(scorer, row_score, model, X_scored, y_eval, w_eval))
        if work is not None and group is not None:
            work[:, columns] = X_eval[:, columns]
    return np.array(scores, dtype=float)


def _occlusion_scores(
    model, stand_in, fold, groups, scorer, row_score=None, n_jobs=None, verbose=0
):
    """Scores of the intact network and with each group filled, without retraining.

    ``model`` is the :class:`~sknnimp.networks.NetworkModel` of a network with dense
    layers and ``stand_in(outputs)`` the estimator scored in its place, as in the fast
    path of permutation importance. A constant fill moves the first pre-activation by
    ``(fill' - x'_b) @ W1_b`` for the group's block ``b`` of network inputs, so only
    the layers after the first are recomputed per group, in row blocks (see
    :mod:`sknnimp._blocks`).

    Returns the scores ``[intact, group 1, ...]``, or with ``row_score`` their
    per-row contributions, of shape (1 + n_groups, n_eval_rows).
    """
    _, _, _, X_eval, y_eval, w_eval, values = fold
    summed = row_score or scorer_row_score(scorer, model.estimator, y_eval)
    scoring = Scoring(scorer, summed, stand_in, y_eval, w_eval)
    source = FillSource(_filled_network_inputs(model, X_eval, values))
    base, scores, first = perturbed_network_scores(
        model,
        scoring,
        X_eval,
        None,
        model.network_groups(groups),
        [source],
        keep_rows=row_score is not None,
        n_jobs=n_jobs,
        verbose=verbose,
        label="ablation (none)",
    )
    if row_score is not None:
        return np.vstack([base[1], first])
    total = base[0] if scoring.summed else base
    return np.concatenate([[total], scores[:, 0]])


def _filled_network_inputs(model, X, values):
    """Every network input's value when its column takes the fill (one row, all
    columns filled: the preprocessing does not mix columns)."""
    one_row = filled(take_rows(X, [0]), range(n_columns(X)), values)
    inputs = model.transform(one_row)
    return np.asarray(inputs.toarray() if sparse.issparse(inputs) else inputs)[0]


def _warm_task(model, n_iter, seed, fold, inputs, scorer, row_score=None, fast=None):
    """Scores of the network continued for ``n_iter`` iterations without each of
    ``inputs`` (a list; None: the intact network, the baseline).

    ``model`` is the :class:`~sknnimp.networks.NetworkModel` of the fitted estimator;
    ``fold`` holds the training rows in the network's input space (and the target as
    the network sees it), the evaluation rows as the user passed them, for every
    network input its value when its column takes the fill (None for drop), and the
    evaluation rows' network inputs when the scores are taken from the network's
    outputs (``fast``: the stand-in factory of the permutation fast path; else
    None). Each continued network replaces the fitted one: its ablated inputs have
    zero weights, so their values in the evaluation rows do not matter, and the
    fill's constant contribution is in the bias. The continuations come from the
    network's ``continued_together`` (a scikit-learn MLP trains several side by
    side).
    """
    Xn_train, y_train, w_train, X_eval, y_eval, w_eval, fill_inputs, Xn_eval = fold
    held = None
    if fill_inputs is not None:
        held = [None if a is None else fill_inputs[a] for a in inputs]
    networks = model.network.continued_together(
        Xn_train,
        y_train,
        w_train,
        n_iter=n_iter,
        seed=seed,
        ablated=inputs,
        held_values=held,
    )
    if fast is not None and row_score is None:
        # From the network's outputs on the evaluation rows' network inputs, as
        # the fast path of permutation importance scores (no preprocessing of the
        # rows per network).
        scoring = Scoring(scorer, None, fast, y_eval, w_eval)
        scores = [
            scoring.score(model.network_of(network).forward(Xn_eval))
            for network in networks
        ]
        return np.array(scores, dtype=float)
    scores = [
        evaluate(scorer, row_score, model.with_network(network), X_eval, y_eval, w_eval)
        for network in networks
    ]
    return np.array(scores, dtype=float)


def _warm_fold(estimator, fold, scorer, row_score=None):
    """The network model, its warm budget, the fold for :func:`_warm_task` and the
    stand-in factory of scores from outputs (None if they do not apply, or when
    per-row contributions are kept: those come from the whole estimator)."""
    X_train, y_train, w_train, X_eval, y_eval, w_eval, values = fold
    model = NetworkModel(estimator)
    Xn_train = model.transform(X_train)
    Xn_train = Xn_train.toarray() if sparse.issparse(Xn_train) else Xn_train
    fill_inputs = None
    if values is not None:
        fill_inputs = _filled_network_inputs(model, X_train, values)
    fast = None if row_score is not None else _network_stand_in(estimator, scorer)
    Xn_eval = None
    if fast is not None:
        fast = fast[1]
        Xn_eval = Xn_train if X_eval is X_train else model.transform(X_eval)
        Xn_eval = Xn_eval.toarray() if sparse.issparse(Xn_eval) else Xn_eval
    network_fold = (
        Xn_train,
        model.network_target(y_train),
        w_train,
        X_eval,
        y_eval,
        w_eval,
        fill_inputs,
        Xn_eval,
    )
    n_iter = max(WARM_MIN_ITER, math.ceil(WARM_FRACTION * model.network.n_iter))
    return model, n_iter, network_fold, fast


def ablation_importance(
    folds,
    groups,
    *,
    fill,
    retrain,
    scorer,
    seeds,
    row_score=None,
    n_jobs=None,
    verbose=0,
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
    row_score : :class:`~sknnimp._rowwise.RowScore` or None
        When given, every score is also kept per row.

    Returns
    -------
    importances : ndarray of shape (n_groups, n_draws)
        Draws ordered fold by fold, repeat by repeat (one per fold for ``"none"``).
    baseline_score : float
        Mean of the baseline scores.
    row_differences : list of ndarray of shape (n_groups, n_eval_rows) or None
        Per fold, ``n (c_i - c'_i)`` of the first repeat (see
        :mod:`sknnimp._rowwise`); None without ``row_score``.
    """
    tasks, draws = [], []
    workers = effective_n_jobs(n_jobs)
    for f, (model, *data) in enumerate(folds):
        values = fill_values(data[0], fill, data[2])
        fold = (*data, values)
        repeats = [None] if retrain == "none" else list(seeds[f])
        if retrain == "warm":
            network_model, n_iter, fold, warm_fast = _warm_fold(
                model, fold, scorer, row_score
            )
            blocks = network_model.network_groups(groups)
        fast = _network_stand_in(model, scorer) if retrain == "none" else None
        if fast is not None:
            # Every group's score from the first layer, in row blocks (the work is
            # spread over the workers there).
            tasks.append((fast, fold))
            draws.append((f, 1))
            continue
        if retrain == "none":
            # Groups in a few chunks, each filled in one working copy of the rows.
            everything = [None, *groups]
            n_chunks = min(len(everything), 2 * workers if workers > 1 else 1)
            for chunk in np.array_split(np.arange(len(everything)), n_chunks):
                chunk_groups = [everything[g] for g in chunk]
                args = (model, fold, chunk_groups, scorer, row_score)
                tasks.append((_none_task, args))
            draws.append((f, 1))
            continue
        for seed in repeats:
            if retrain == "warm":
                # Retrainings in chunks, each copying the training rows once; enough
                # chunks to keep every worker busy to the end.
                everything = [None, *blocks]
                n_chunks = min(len(everything), max(WARM_CHUNKS, 8 * workers))
                for chunk in np.array_split(np.arange(len(everything)), n_chunks):
                    inputs = [everything[g] for g in chunk]
                    args = (network_model, n_iter, seed, fold, inputs, scorer)
                    tasks.append((_warm_task, (*args, row_score, warm_fast)))
                continue
            for group in [None, *groups]:
                args = (model, seed, fold, group, scorer, row_score)
                tasks.append((_cold_task, args))
        draws.extend((f, 1) for _ in repeats)
    pending = [task for task in tasks if callable(task[0])]
    done = iter(
        run_tasks(
            _call,
            pending,
            n_jobs=n_jobs,
            verbose=verbose,
            label=f"ablation ({retrain})",
        )
    )
    results = [
        next(done)
        if callable(task[0])
        else _occlusion_scores(
            *task[0], task[1], groups, scorer, row_score, n_jobs, verbose
        )
        for task in tasks
    ]
    n_scores = len(groups) + 1
    if row_score is None:
        scores = np.concatenate([np.atleast_1d(s) for s in results]).astype(float)
        scores = scores.reshape(len(draws), n_scores)
        baselines = scores[:, 0]
        importances = (baselines[:, None] - scores[:, 1:]).T
        return importances, float(baselines.mean()), None
    # Per-row contributions: one (n_eval,) array per task, or a (n_scores, n_eval)
    # array per occlusion task; regrouped into (draw, score, row) per fold.
    rows = [
        line
        for r in results
        for line in np.atleast_2d(np.asarray(r, dtype=float))  # occlusion: 2-D
    ]
    importances, baselines = [], []
    row_differences = [[] for _ in folds]
    start = 0
    for f, _ in draws:
        block = np.array(rows[start : start + n_scores])
        start += n_scores
        totals = block.sum(axis=1)
        baselines.append(totals[0])
        importances.append(totals[0] - totals[1:])
        row_differences[f].append(block.shape[1] * (block[0] - block[1:]))
    row_differences = [d[0] for d in row_differences]  # one draw per row
    return np.array(importances).T, float(np.mean(baselines)), row_differences


def _call(function, args):
    return function(*args)
