"""Permutation importance, with a fast path for multi-layer perceptrons.

The draws are those of :func:`sklearn.inspection.permutation_importance`: the same
seed, row subsample and shuffles, scored by the same scorer, on the table as the user
passed it (a DataFrame stays a DataFrame; shuffled columns keep their type). For a
fitted network behind column-separable preprocessing (see
:class:`~sknnimp.networks.NetworkModel`), the forward pass is not repeated from
scratch: shuffling an original column shuffles the rows of its block of network inputs
``x'``, which changes only their terms in the first layer's pre-activation ``z_1``. So
the preprocessing runs once, ``z_1`` is computed once and shifted by
``(x'_perm[b] - x'[b]) @ W1[b]`` for every shuffle of a block ``b``.
"""

import numbers
from functools import partial

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    is_classifier,
)
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.metrics._scorer import _BaseScorer, _PassthroughScorer
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Integral,
    Interval,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from ._blocks import (
    RowSource,
    Scoring,
    TableSource,
    check_network_inputs,
    perturbed_network_scores,
)
from ._outputs import is_output_view
from ._parallel import run_tasks
from ._rowwise import SummedScorer, scorer_row_score
from ._tables import (
    _column,
    is_dataframe,
    n_columns,
    replaced,
    shuffled,
    take_rows,
)
from .networks import NetworkModel


def _draw_permutations(seed, n_samples, max_samples, n_repeats):
    """Row subsample and cumulative shuffles of scikit-learn's protocol.

    scikit-learn seeds a ``RandomState`` with ``seed`` afresh for every column, draws
    the row subsample (if ``max_samples < n_samples``), then shuffles an index array
    in place once per repeat and re-indexes the already shuffled column with it. Every
    column thus sees the same subsample and the same sequence of shuffles, and after
    repeat ``r`` the column holds ``x[perm_r]`` with ``perm_r = perm_{r-1}[order_r]``.

    Returns
    -------
    rows : ndarray of shape (max_samples,) or None
        Subsampled rows, in the drawn order; ``None`` for all rows.
    permutations : ndarray of shape (n_repeats, max_samples)
        ``permutations[r]``: the rows (of the subsample) the shuffled column reads at
        repeat ``r``.
    """
    rng = check_random_state(seed)
    rows = None
    if max_samples < n_samples:
        rows = sample_without_replacement(n_samples, max_samples, random_state=rng)
    order = np.arange(max_samples)
    perm = np.arange(max_samples)
    permutations = np.empty((n_repeats, max_samples), dtype=np.intp)
    for r in range(n_repeats):
        rng.shuffle(order)
        perm = perm[order]
        permutations[r] = perm
    return rows, permutations


def score(scorer, estimator, X, y, sample_weight):
    """``scorer(estimator, X, y[, sample_weight])``."""
    if sample_weight is None:
        return scorer(estimator, X, y)
    return scorer(estimator, X, y, sample_weight=sample_weight)


# General route: any fitted estimator, scored on a shuffled copy of X.


def _perturbed(X, group, draw):
    """``X`` with the columns ``group`` shuffled (``draw`` a row permutation) or
    replaced (``draw`` a list of one 1-D array per column)."""
    if isinstance(draw, np.ndarray) and draw.ndim == 1:
        return shuffled(X, group, draw)
    return replaced(X, group, draw)


def evaluate(scorer, row_score, estimator, X, y, sample_weight):
    """The score, or with ``row_score`` its per-row contributions."""
    if row_score is None:
        return score(scorer, estimator, X, y, sample_weight)
    prediction = row_score.predictions(estimator, X)
    return row_score.contributions(estimator, y, prediction, sample_weight)


def _collect(results, row_score):
    """Scores of the repeats, or ``(scores, the first repeat's contributions)``."""
    if row_score is None:
        return np.array(results, dtype=float)
    contributions = np.array(results, dtype=float)
    return contributions.sum(axis=1), contributions[0]


def _estimator_group_scores(
    estimator, X, y, sample_weight, group, draws, scorer, row_score=None
):
    """Scores of ``estimator`` with the columns ``group`` of ``X`` perturbed jointly,
    once per draw (see :func:`_perturbed`).

    ``X`` is never modified (it may be a read-only memory map): every draw is scored
    on a copy.
    """
    results = [
        evaluate(
            scorer,
            row_score,
            estimator,
            _perturbed(X, group, draw),
            y,
            sample_weight,
        )
        for draw in draws
    ]
    return _collect(results, row_score)


# Fast path: an MLP, scored from its outputs through a stand-in estimator.


class _NetworkOutputs(BaseEstimator):
    """A fitted MLP reduced to its network outputs on some rows.

    The prediction methods ignore the values of ``X`` (they only check its number of
    rows) and return what the MLP's methods return for the network output
    ``outputs``, so that scikit-learn's scorers and ``score`` can be applied to outputs
    computed elsewhere.
    """

    def __init__(self, outputs):
        self.outputs = outputs

    def _checked_outputs(self, X):
        if X.shape[0] != self.outputs.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows, the outputs {self.outputs.shape[0]}."
            )
        return self.outputs


class _RegressorOutputs(RegressorMixin, _NetworkOutputs):
    """Stands in for an ``MLPRegressor``; ``score`` is R^2, as the regressor's."""

    def predict(self, X):
        outputs = self._checked_outputs(X)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs


class _ClassifierOutputs(ClassifierMixin, _NetworkOutputs):
    """Stands in for the fitted ``classifier``; ``score`` is accuracy, as its own.

    ``classes_``, ``predict``, ``predict_proba`` and ``predict_log_proba`` are those of
    ``classifier`` (an ``MLPClassifier``) for the network output ``outputs``.
    """

    def __init__(self, outputs, classifier):
        self.outputs = outputs
        self.classifier = classifier

    @property
    def classes_(self):
        return self.classifier.classes_

    def predict(self, X):
        outputs = self._checked_outputs(X)
        if outputs.shape[1] == 1:
            outputs = outputs.ravel()
        return self.classifier._label_binarizer.inverse_transform(outputs)

    def predict_proba(self, X):
        outputs = self._checked_outputs(X)
        if outputs.shape[1] == 1:
            positive = outputs.ravel()
            return np.vstack([1 - positive, positive]).T
        return outputs

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


class _LabelOutputs(ClassifierMixin, _NetworkOutputs):
    """Stands in for one label of a multilabel ``MLPClassifier`` seen alone (its
    :func:`~sknnimp._outputs.output_view`): a binary classifier of classes 0 and 1,
    the network output being the probability of 1."""

    classes_ = np.array([0, 1])

    def predict(self, X):
        return (self._checked_outputs(X)[:, 0] > 0.5).astype(int)

    def predict_proba(self, X):
        positive = self._checked_outputs(X)[:, 0]
        return np.column_stack([1.0 - positive, positive])

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


def _one_output(stand_in, output, outputs):
    """The stand-in of output ``output`` alone."""
    return stand_in(outputs[:, [output]])


def _network_stand_in(estimator, scorer):
    """``(NetworkModel, factory of stand-ins)`` for the fast path, or ``None``.

    It applies to a fitted network with dense layers behind column-separable
    preprocessing (and an affine target transformer, if any), scored by one of
    scikit-learn's scorers or by the estimator's own ``score`` (any other callable may
    look at the estimator or at ``X`` in ways a stand-in cannot honour). One output
    of such a network (:func:`~sknnimp._outputs.output_view`) takes the fast path
    too: a regressor's output, or a multilabel ``MLPClassifier``'s label.
    """
    if not isinstance(scorer, (_BaseScorer, _PassthroughScorer)):
        return None
    output = None
    if is_output_view(estimator):
        estimator, output = estimator.estimator, estimator.output
    try:
        model = NetworkModel(estimator)
    except (TypeError, ValueError):
        return None
    if not model.in_target_units or model.network.dense_layers() is None:
        return None
    final = model.network.estimator
    if output is None:
        if is_classifier(final):
            return model, partial(_ClassifierOutputs, classifier=final)
        return model, _RegressorOutputs
    if not is_classifier(final):
        return model, partial(_one_output, _RegressorOutputs, output)
    binarizer = getattr(final, "_label_binarizer", None)
    if getattr(binarizer, "y_type_", None) == "multilabel-indicator":
        return model, partial(_one_output, _LabelOutputs, output)
    return None


def _check_groups(groups, n_features):
    """List of integer index arrays, one per group; one column each for ``None``."""
    if groups is None:
        return [np.array([i]) for i in range(n_features)]
    checked = []
    for group in groups:
        group = np.asarray(group)
        if (
            group.ndim != 1
            or group.size == 0
            or not np.issubdtype(group.dtype, np.integer)
        ):
            raise ValueError(
                "Each group must be a non-empty 1-D array of integer column indices; "
                f"got {group!r}."
            )
        if group.min() < 0 or group.max() >= n_features:
            raise ValueError(
                f"Group {group.tolist()} has indices outside [0, {n_features})."
            )
        if np.unique(group).size != group.size:
            raise ValueError(f"Group {group.tolist()} repeats a column.")
        checked.append(group.astype(np.intp))
    if not checked:
        raise ValueError("groups must hold at least one group.")
    return checked


@validate_params(
    {
        "estimator": [HasMethods(["predict"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", None],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "max_samples": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "groups": ["array-like", None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "row_score": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def permutation_importance(
    estimator,
    X,
    y,
    *,
    scoring=None,
    n_repeats=5,
    sample_weight=None,
    max_samples=1.0,
    groups=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
    row_score=None,
):
    """Drop in score when a column, or a group of columns, is shuffled.

    For a group ``g`` of columns (one column by default) and each of ``n_repeats``
    shuffles, the importance is

        ``I_g = baseline score - score with the columns of g shuffled``,

    the score being ``scoring`` evaluated on ``X``, ``y``. A group's columns are
    shuffled jointly: one row permutation applied to all of them, which keeps their
    relation to each other and breaks only their relation to the other columns and
    to ``y``.

    The draws equal those of :func:`sklearn.inspection.permutation_importance` for the
    same estimator, data, ``scoring``, ``n_repeats``, ``random_state``,
    ``sample_weight`` and ``max_samples`` (singleton groups), up to rounding. For a
    network (``MLPRegressor`` or ``MLPClassifier``, alone, in a ``Pipeline`` behind
    preprocessing that does not mix columns, or in a ``TransformedTargetRegressor``
    with an affine transformer), scored by a scorer name, a scikit-learn scorer
    object or the estimator's own ``score``, the preprocessing runs once, the
    network's first pre-activation is computed once and only the shuffled columns'
    terms are updated, which is much faster; any other estimator or scorer is scored
    on a shuffled copy of ``X``.

    Parameters
    ----------
    estimator : object
        A fitted estimator with ``predict``.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Data on which the importance is measured, handed to the estimator as it is
        (pandas or polars DataFrames with any column types, missing values included).
        Sparse ``X`` works with estimators that accept it.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), or None
        Targets.
    scoring : str, callable or None, default=None
        A scorer name or a scorer callable ``scorer(estimator, X, y)``; ``None``
        means the estimator's ``score`` method.
    n_repeats : int, default=5
        Number of shuffles per group.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights used in scoring.
    max_samples : int or float, default=1.0
        Rows drawn without replacement from ``X`` for the shuffled scores: an int is a
        number of rows, a float a fraction of them. The baseline score always uses
        all rows, as in scikit-learn.
    groups : list of array-like of int, default=None
        Column indices of each group; ``None`` means one group per column.
    n_jobs : int, default=None
        Number of groups scored in parallel. ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context; ``-1`` means all processors.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles. The results do not depend on ``n_jobs`` or on the joblib
        backend.
    verbose : int, default=0
        Progress on stderr.
    row_score : :class:`~sknnimp._rowwise.RowScore` or None, default=None
        The score's per-row form; when given, the result also holds
        ``row_differences`` (see :func:`perturbation_importance`).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        importances_mean : ndarray of shape (n_groups,)
            Mean of the draws over the repeats.
        importances_std : ndarray of shape (n_groups,)
            Standard deviation (ddof=0) of the draws over the repeats.
        importances : ndarray of shape (n_groups, n_repeats)
            The draws ``I_g``.
        baseline_score : float
            The score on the unshuffled data.

    Notes
    -----
    The fast path computes in float64. For a network fitted on float32 data,
    scikit-learn predicts in float32, and the draws then agree only to float32
    precision.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sknnimp._permutation import permutation_importance
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = 2 * X[:, 0] + 0.1 * X[:, 1]
    >>> model = MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs",
    ...                      random_state=0).fit(X, y)
    >>> result = permutation_importance(model, X, y, n_repeats=3, random_state=0)
    >>> result.importances.shape
    (3, 3)
    >>> int(np.argmax(result.importances_mean))
    0
    """
    if not is_dataframe(X):
        X = check_array(
            X, accept_sparse=["csr", "csc"], ensure_all_finite="allow-nan", dtype=None
        )
    check_consistent_length(X, y, sample_weight)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight)
    n_samples, n_features = X.shape[0], n_columns(X)
    group_list = _check_groups(groups, n_features)

    if not isinstance(max_samples, numbers.Integral):
        max_samples = int(max_samples * n_samples)
    elif max_samples > n_samples:
        raise ValueError("max_samples must be <= n_samples")

    # One seed, drawn here, so that the draws do not depend on n_jobs or the backend.
    random_state = check_random_state(random_state)
    seed = random_state.randint(np.iinfo(np.int32).max + 1)
    rows, permutations = _draw_permutations(seed, n_samples, max_samples, n_repeats)

    scorer = check_scoring(estimator, scoring=scoring)
    return perturbation_importance(
        estimator,
        X,
        y,
        sample_weight,
        group_list,
        scorer=scorer,
        row_score=row_score,
        rows=rows,
        permutations=permutations,
        n_jobs=n_jobs,
        verbose=verbose,
        label="permutation",
    )


def perturbation_importance(
    estimator,
    X,
    y,
    sample_weight,
    groups,
    *,
    scorer,
    row_score=None,
    rows=None,
    permutations=None,
    replacements=None,
    n_jobs=None,
    verbose=0,
    label="permutation",
):
    """Drop in score when each group is perturbed: shuffled or replaced.

    Either ``permutations`` (shape (n_repeats, n_rows), the same for every group,
    on the rows ``rows`` or all rows) or ``replacements`` (per repeat, a function
    ``table(rows)`` giving ``X``'s rows ``rows``, None for all, with the columns of
    every group holding their new values: the preprocessing does not mix columns,
    so each group's network inputs are read from it; for a network, it is asked for
    one block of rows at a time).

    Returns the Bunch of :func:`permutation_importance`; with ``row_score`` also
    ``row_differences`` of shape (n_groups, n_rows_scored): ``n (c_i - c'_i)``
    of the first repeat (one draw per row: see :mod:`sknnimp._significance`), whose
    mean is that repeat's importance.
    """
    fast = _network_stand_in(estimator, scorer)
    if fast is not None:
        return _network_importance(
            *fast,
            estimator,
            X,
            y,
            sample_weight,
            groups,
            scorer=scorer,
            row_score=row_score,
            rows=rows,
            permutations=permutations,
            replacements=replacements,
            n_jobs=n_jobs,
            verbose=verbose,
            label=label,
        )
    data = (estimator, X, y, sample_weight, groups, rows, scorer, row_score)
    baseline, base_rows, tasks = _estimator_tasks(*data, permutations, replacements)
    function, arguments = tasks
    results = run_tasks(
        function, arguments, n_jobs=n_jobs, verbose=verbose, label=label
    )
    if row_score is None:
        scores = np.array(results)
    else:
        scores = np.array([r[0] for r in results])
    perturbed = None
    if row_score is not None:
        perturbed = np.array([r[1] for r in results])
    return _result(baseline, scores, base_rows, perturbed)


def _result(baseline, scores, base_rows=None, perturbed=None):
    """The Bunch of :func:`perturbation_importance` from the scores of the draws
    (and per-row contributions of the intact rows and of the first draws)."""
    importances = baseline - scores
    result = Bunch(
        importances_mean=importances.mean(axis=1),
        importances_std=importances.std(axis=1),
        importances=importances,
        baseline_score=baseline,
    )
    if perturbed is not None:
        result.row_differences = base_rows.size * (base_rows - perturbed)
    return result


def _network_importance(
    model,
    stand_in,
    estimator,
    X,
    y,
    sample_weight,
    groups,
    *,
    scorer,
    row_score,
    rows,
    permutations,
    replacements,
    n_jobs,
    verbose,
    label,
):
    """:func:`perturbation_importance` for a network (``model``), through
    :func:`~sknnimp._blocks.perturbed_network_scores`."""
    check_is_fitted(estimator)
    if n_columns(X) != model.n_columns:
        raise ValueError(
            f"X has {n_columns(X)} features, but {type(estimator).__name__} is "
            f"expecting {model.n_columns} features as input."
        )
    y_scored, w_scored = _subsample(rows, y, sample_weight)
    # A score that is a sum over rows is summed block by block; ``row_score`` (the
    # per-row form of the same score, for the tests) is one.
    summed = row_score or scorer_row_score(scorer, estimator, y_scored)
    scoring = Scoring(scorer, summed, stand_in, y_scored, w_scored)
    n_scored = X.shape[0] if rows is None else len(rows)
    if replacements is None:
        index = np.arange(n_scored) if rows is None else rows
        sources = [RowSource(X, index[permutation]) for permutation in permutations]
    else:
        sources = [TableSource(table, rows) for table in replacements]
    blocks = model.network_groups(groups)
    base, scores, first = perturbed_network_scores(
        model,
        scoring,
        X,
        rows,
        blocks,
        sources,
        keep_rows=row_score is not None,
        n_jobs=n_jobs,
        verbose=verbose,
        label=label,
    )
    base_rows = None
    if scoring.summed:
        base, base_rows = base
    if rows is not None:  # the baseline always uses all rows, as in scikit-learn
        base = network_score(scorer, estimator, X, y, sample_weight)
    if row_score is None:
        return _result(base, scores)
    return _result(base, scores, base_rows, first)


def _replacement_draws(X, group, replacements):
    """The group's new values in each replacement table, as lists of columns."""
    return [[_column(table, j) for j in group] for table in replacements]


def _estimator_tasks(
    estimator,
    X,
    y,
    sample_weight,
    groups,
    rows,
    scorer,
    row_score,
    permutations,
    replacements,
):
    """Baseline score, per-row contributions and one task per group, for any
    estimator."""
    baseline = score(scorer, estimator, X, y, sample_weight)
    tables = None
    if replacements is not None:
        tables = [table(rows) for table in replacements]
    if rows is not None:
        X = take_rows(X, rows)
    _, y, sample_weight = _subsample(rows, None, y, sample_weight)
    base_rows = None
    if row_score is not None:
        base_rows = evaluate(scorer, row_score, estimator, X, y, sample_weight)
    arguments = [
        (
            estimator,
            X,
            y,
            sample_weight,
            group,
            permutations
            if replacements is None
            else _replacement_draws(X, group, tables),
            scorer,
            row_score,
        )
        for group in groups
    ]
    return baseline, base_rows, (_estimator_group_scores, arguments)


def network_score(scorer, estimator, X, y, sample_weight, batch_elements=2**21):
    """``scorer(estimator, X, y[, sample_weight])``; for a network with the fast path,
    from its outputs computed in row batches of at most ``batch_elements`` network
    inputs, so that neither the preprocessed rows nor the hidden layers are held
    whole (the estimator's own ``predict`` holds both)."""
    fast = _network_stand_in(estimator, scorer)
    if fast is None or n_columns(X) != fast[0].n_columns:
        return score(scorer, estimator, X, y, sample_weight)
    model, stand_in = fast
    net = model.network
    outputs = np.empty((X.shape[0], net.n_outputs))
    rows_per_batch = max(1, batch_elements // max(1, net.n_inputs))
    for rows, inputs in model.transform_batches(X, rows_per_batch):
        check_network_inputs(inputs, net)
        outputs[rows] = net.forward(inputs)
    summed = scorer_row_score(scorer, estimator, y)
    scorer = scorer if summed is None else SummedScorer(summed)
    placeholder = np.empty((X.shape[0], 0))  # the stand-in reads no input values
    return score(scorer, stand_in(outputs), placeholder, y, sample_weight)


def _subsample(rows, *arrays):
    """The ``rows`` of each array (all rows if ``rows`` is None); None stays None."""
    if rows is None:
        return arrays
    return tuple(None if a is None else _safe_indexing(a, rows) for a in arrays)
