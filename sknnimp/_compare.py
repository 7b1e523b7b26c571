"""Several answers side by side: methods and models compared, agreement, overfitting.

No single importance method is right on every data set, so :func:`compare_importances`
computes several, for one network or for several models, and
:class:`ImportanceComparison` shows where they agree and which inputs look important
only on the data the model was trained on.
"""

import warnings

import numpy as np
from scipy import stats
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Integral,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ._importance import nn_importance
from ._methods import DEFAULT_METHODS, METHODS, NEEDS_NETWORK, NETWORK_METHODS
from ._parallel import refit
from ._significance import PoorModelWarning
from ._tables import column_names
from .networks import MixingStepError, check_network

#: How many standard errors a training/held-out difference must exceed to be flagged.
OVERFITTING_Z = 2.0


def require_pandas():
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError("This needs pandas: pip install 'sknnimp[pandas]'.") from exc
    return pandas


def _feature_names(X):
    names = column_names(X)
    if names is not None:
        return names
    return [f"x{i}" for i in range(X.shape[1])]


def _standard_error(draws, n_units):
    """Standard error of the row means of ``draws``, of shape (n_features, n_draws).

    The draws are ``n_units`` consecutive blocks of equal size (folds, each holding
    its repeats); blocks are independent, draws within a block need not be. The
    standard error is the standard deviation of the block means over
    ``sqrt(n_units)``; zero with a single block (no measured spread).
    """
    if n_units < 2:
        return np.zeros(len(draws))
    means = draws.reshape(len(draws), n_units, -1).mean(axis=2)
    return means.std(axis=1, ddof=1) / np.sqrt(n_units)


def shuffled_folds(model, y, n_splits, random_state):
    """Shuffled folds for the held-out side of the overfitting check, seeded.

    Stratified by class for a classifier with a binary or multiclass target, plain
    otherwise; shuffled, so that rows sorted by time, by group or by an input do not
    make each fold an extrapolation (what an integer ``cv``, scikit-learn's
    unshuffled folds, would measure on such data).
    """
    stratify = is_classifier(model) and type_of_target(y) in ("binary", "multiclass")
    splitter = StratifiedKFold if stratify else KFold
    return splitter(n_splits, shuffle=True, random_state=random_state)


def _fitted(estimator, X, y):
    """``estimator`` if fitted, else a clone fitted on ``X``, ``y`` as they are."""
    try:
        check_is_fitted(estimator)
        return estimator
    except NotFittedError:
        return refit(clone(estimator), X, y)


class ImportanceComparison:
    """Importances of several methods (and models) on the same data.

    Made by :func:`compare_importances`; not meant to be built by hand.

    Attributes
    ----------
    results : dict
        ``(model name, method) -> Bunch`` as returned by :func:`nn_importance`.
    skipped : dict
        ``(model name, method) -> reason`` for the methods that do not apply, e.g.
        the network-reading methods for a random forest.
    feature_names : list of str
        Column names of ``X`` (``x0``, ``x1``, ... for arrays).
    models : dict
        ``name -> fitted estimator``.
    scores : dict
        ``name -> Bunch(score, on, constant, learned)``: each model's score on the rows
        importance was measured on (``on``: ``"held-out folds"`` or ``"X"``), the
        best constant prediction's, and whether the model beats it.
    """

    def __init__(self, results, skipped, feature_names, models, data, options):
        self.results = results
        self.skipped = skipped
        self.feature_names = feature_names
        self.models = models
        self._data = data
        self._options = options
        self._overfitting = {}
        self.scores = {}

    def __repr__(self):
        pairs = ", ".join(f"{m}/{k}" for m, k in self.results)
        return f"ImportanceComparison({pairs})"

    def _normalized(self, key):
        """Mean importance and CI divided by the sum of the absolute means."""
        result = self.results[key]
        scale = np.abs(result.importances_mean).sum()
        scale = scale if scale > 0 else 1.0
        return result.importances_mean / scale, result.importances_ci / scale

    def table(self):
        """One row per feature; per (model, method) the normalized importance, rank, CI.

        The importance is divided by the sum of the absolute importances of its
        (model, method), so that every column is on the same scale (shares of 1). The
        rank is 1 for the most important feature (ties: the lower index first). The
        confidence interval (scaled the same way) is NaN where the method made a
        single draw.

        Returns
        -------
        table : pandas.DataFrame
            Columns are a MultiIndex ``(model, method, quantity)`` with quantity in
            ``importance``, ``rank``, ``ci_low``, ``ci_high``.
        """
        pd = require_pandas()
        columns = {}
        for model, method in self.results:
            importance, ci = self._normalized((model, method))
            order = np.argsort(-importance, kind="mergesort")
            rank = np.empty(len(order), dtype=int)
            rank[order] = np.arange(1, len(order) + 1)
            columns[(model, method, "importance")] = importance
            columns[(model, method, "rank")] = rank
            columns[(model, method, "ci_low")] = ci[:, 0]
            columns[(model, method, "ci_high")] = ci[:, 1]
        table = pd.DataFrame(
            columns, index=pd.Index(self.feature_names, name="feature")
        )
        table.columns.names = ["model", "method", "quantity"]
        return table

    def agreement(self, kind="spearman"):
        """Rank correlation between the importances of every pair of (model, method).

        Parameters
        ----------
        kind : {"spearman", "kendall"}, default="spearman"
            Spearman's rho or Kendall's tau-b.

        Returns
        -------
        agreement : pandas.DataFrame
            Symmetric, ones on the diagonal, indexed by ``(model, method)``. A pair
            where one method gives the same importance to every feature is NaN.
        """
        pd = require_pandas()
        matrix = self.agreement_matrix(kind)
        index = pd.MultiIndex.from_tuples(list(self.results), names=["model", "method"])
        return pd.DataFrame(matrix, index=index, columns=index)

    def agreement_matrix(self, kind="spearman"):
        """:meth:`agreement` as an array; rows and columns follow ``results``."""
        if kind not in ("spearman", "kendall"):
            raise ValueError(f"kind must be 'spearman' or 'kendall'; got {kind!r}.")
        values = [result.importances_mean for result in self.results.values()]
        correlation = stats.spearmanr if kind == "spearman" else stats.kendalltau
        matrix = np.eye(len(values))
        for a in range(len(values)):
            for b in range(a + 1, len(values)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # constant input: NaN
                    value = correlation(values[a], values[b]).statistic
                matrix[a, b] = matrix[b, a] = value
        return matrix

    def overfitting(self, n_splits=5):
        """Permutation importance on the training data against held-out folds.

        For every model, permutation importance is measured on the data the model was
        fitted on and cross-fitted on ``n_splits`` held-out folds, unless the
        comparison already has them (its ``cv``). These folds are shuffled,
        stratified by class for a classifier, and seeded from the comparison's
        ``random_state``: on rows sorted by time, by group or by an input, unshuffled
        folds would measure extrapolation and make an important input look
        unimportant held out.

        A feature is flagged when its training importance exceeds its held-out
        importance by more than ``OVERFITTING_Z`` (2) standard errors of the
        difference *and* by more than half of the training importance: the model
        relies on it for the data it has seen, and most of that does not carry over
        to new data ("sensitive is not the same as important").

        The standard error of the training mean is that of its shuffles. On held-out
        data the shuffles of one fold share the fold's model and rows, so they are
        not independent draws: the standard error of the held-out mean is the spread
        of the per-fold means over the square root of the number of folds (about
        twice the naive standard error over all draws, in our measurements).

        Parameters
        ----------
        n_splits : int, default=5
            Number of held-out folds, when the comparison was made without ``cv``.

        Returns
        -------
        overfitting : pandas.DataFrame
            One row per feature; columns ``(model, quantity)`` with quantity in
            ``train``, ``held_out``, ``difference``, ``flagged``.
        """
        pd = require_pandas()
        columns = {
            (model, quantity): values
            for model, found in self.overfitting_flags(n_splits).items()
            for quantity, values in found.items()
        }
        table = pd.DataFrame(
            columns, index=pd.Index(self.feature_names, name="feature")
        )
        table.columns.names = ["model", "quantity"]
        return table

    def overfitting_flags(self, n_splits=5):
        """:meth:`overfitting` as ``model -> {quantity: array}``, without pandas."""
        flags = {}
        for model in self.models:
            train, held_out = self._permutation_pair(model, n_splits)
            difference = train.importances_mean - held_out.importances_mean
            n_repeats = self._options["n_repeats"]
            se = np.hypot(
                _standard_error(train.importances, train.importances.shape[1]),
                _standard_error(
                    held_out.importances, held_out.importances.shape[1] // n_repeats
                ),
            )
            flagged = (difference > OVERFITTING_Z * se) & (
                difference > 0.5 * train.importances_mean
            )
            flags[model] = {
                "train": train.importances_mean,
                "held_out": held_out.importances_mean,
                "difference": difference,
                "flagged": flagged,
            }
        return flags

    def _permutation_pair(self, model, n_splits):
        """(training, held-out) permutation results for ``model``, computed once."""
        if (model, n_splits) in self._overfitting:
            return self._overfitting[(model, n_splits)]
        X, y, sample_weight = self._data
        options = dict(self._options, null_repeats=0, verbose=0)
        cv = options.pop("cv")
        existing = self.results.get((model, "permutation"))
        kwargs = dict(method="permutation", sample_weight=sample_weight, **options)
        if existing is not None and cv is None:
            train = existing
        else:
            train = nn_importance(self.models[model], X, y, **kwargs)
        if existing is not None and cv is not None:
            held_out = existing
        else:
            if cv is None:
                cv = shuffled_folds(
                    self.models[model], y, n_splits, options["random_state"]
                )
            held_out = nn_importance(self.models[model], X, y, cv=cv, **kwargs)
        self._overfitting[(model, n_splits)] = (train, held_out)
        return train, held_out

    def plot(self, *, kind="spearman", figure=None, max_display=20):
        """Draw the methods side by side and their agreement as a heat map.

        Parameters
        ----------
        kind : {"spearman", "kendall"}, default="spearman"
            Rank correlation of the heat map.
        figure : matplotlib Figure, default=None
            Figure to draw into; a new one if None.
        max_display : int or None, default=20
            Show the bars of the most important features only (the axis label
            says how many of how many); None: every feature.

        Returns
        -------
        display : :class:`~sknnimp.ComparisonDisplay`
        """
        from ._display import ComparisonDisplay

        return ComparisonDisplay(self).plot(
            kind=kind, figure=figure, max_display=max_display
        )


def _method_options(options, method):
    """``options`` for ``method``: ablation retrains a model for all outputs at
    once, so it has no per-output form (its default retraining is kept)."""
    if method == "ablation" and options.get("per_output"):
        return {k: v for k, v in options.items() if k != "per_output"}
    return options


def _not_a_network(model):
    """Why the network-reading methods do not apply to ``model``, or None."""
    try:
        check_network(model)
    except MixingStepError as exc:
        return str(exc)
    except TypeError:
        return f"needs the weights of a network ({type(model).__name__})"
    return None


@validate_params(
    {
        "estimator": [HasMethods(["fit"]), dict],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "methods": [list, tuple, None],
        "cv": ["cv_object", None],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "scoring": [str, callable, None],
        "groups": [StrOptions({"auto"}), list, None],
        "null_repeats": [Interval(Integral, 0, None, closed="left")],
        "test": [StrOptions({"t", "wilcoxon", "sign_flip", "nadeau_bengio"})],
        "per_output": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def compare_importances(
    estimator,
    X,
    y,
    *,
    methods=None,
    cv=None,
    n_repeats=5,
    scoring=None,
    groups=None,
    null_repeats=0,
    test="t",
    per_output=False,
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """Compute several importance methods, for one or several models, side by side.

    Parameters
    ----------
    estimator : estimator or dict of str -> estimator
        A network (``MLPRegressor``/``MLPClassifier``, possibly behind preprocessing
        that does not mix columns) or any other estimator, or a dict naming several.
        Unfitted estimators are fitted (as clones) on ``X``, ``y``.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Data, handed to the models as it is; a DataFrame's column names name the
        features.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    methods : list of str, default=None
        Methods to compute; ``None`` means every method that applies to each model
        but the attributions (``"shap"``, ``"integrated_gradients"``, ``"sage"``),
        which are costlier and computed when named. The methods that need a network
        are skipped for other estimators, and the comparison records why in
        ``skipped``.
    cv : int, cross-validation generator or iterable, default=None
        Passed to every method: ``None`` measures on ``X``; otherwise cross-fitted on
        held-out folds. An int follows scikit-learn's convention: ``KFold``
        (``StratifiedKFold`` for a classifier), unshuffled; for rows sorted by time,
        by group or by class pass shuffled folds, e.g. ``KFold(5, shuffle=True,
        random_state=0)``. Without ``cv``, :meth:`ImportanceComparison.overfitting`
        makes shuffled folds of its own.
    n_repeats : int, default=5
        Shuffles (permutation) or retrain seeds (ablation) per feature.
    scoring : str, callable or None, default=None
        Score of permutation and ablation.
    groups : None, "auto" or list of lists, default=None
        Feature groups, as in :func:`nn_importance`.
    null_repeats : int, default=0
        Refits on a permuted target for randomization p-values, as in
        :func:`nn_importance` (for every (model, method): costly).
    test : {"t", "wilcoxon", "sign_flip", "nadeau_bengio"}, default="t"
        With ``cv``: the test of the held-out per-row differences giving the
        p-values of ``permutation``, ``conditional`` and ``ablation``, or the
        corrected t-test over folds for every method, as in :func:`nn_importance`.
    per_output : bool, default=False
        Also measure one importance per output of a multi-output target, as in
        :func:`nn_importance` (``output_importances`` in every result); methods
        without a per-output form (ablation with retraining) are measured jointly
        only.
    n_jobs : int, default=None
        Parallel jobs.
    random_state : int, RandomState instance or None, default=None
        Seeds every method; the same seed is used for every (model, method).
    verbose : int, default=0
        Progress of long work on stderr.

    Returns
    -------
    comparison : :class:`ImportanceComparison`

    Warns
    -----
    PoorModelWarning
        Once per model that scores no better than a constant prediction on the rows
        importance is measured on (held out with ``cv``); its scores are in
        ``comparison.scores``.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sknnimp import compare_importances
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> models = {"mlp": MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs",
    ...                               max_iter=300, random_state=0),
    ...           "forest": RandomForestRegressor(n_estimators=20, random_state=0)}
    >>> comparison = compare_importances(models, X, y, methods=["gradient",
    ...                                  "permutation"], random_state=0)
    >>> sorted(comparison.results)
    [('forest', 'permutation'), ('mlp', 'gradient'), ('mlp', 'permutation')]
    >>> comparison.skipped
    {('forest', 'gradient'): 'needs the weights of a network (RandomForestRegressor)'}
    """
    estimators = estimator if isinstance(estimator, dict) else {"model": estimator}
    requested = list(DEFAULT_METHODS) if methods is None else list(methods)
    unknown = sorted(set(requested) - set(METHODS))
    if unknown:
        raise ValueError(f"Unknown methods {unknown}; choose among {list(METHODS)}.")
    # One integer seed, so that every (model, method) sees the same randomness.
    seed = check_random_state(random_state).randint(2**31 - 1)
    options = dict(cv=cv, n_repeats=n_repeats, scoring=scoring, groups=groups)
    options.update(null_repeats=null_repeats, test=test)
    if per_output:
        options.update(per_output=True)
    options.update(n_jobs=n_jobs, random_state=seed)
    options.update(verbose=verbose)
    results, skipped, models, poor = {}, {}, {}, {}
    for name, model in estimators.items():
        reason = _not_a_network(model)
        models[name] = _fitted(model, X, y)
        for method in requested:
            if method in NEEDS_NETWORK and reason is not None:
                skipped[(name, method)] = reason
                continue
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", PoorModelWarning)
                    results[(name, method)] = nn_importance(
                        models[name],
                        X,
                        y,
                        method=method,
                        **_method_options(options, method),
                    )
            except TypeError as exc:
                # Known only once fitted: a network without dense layers (for the
                # weight-reading methods) or a step that mixes columns.
                if method not in NEEDS_NETWORK:
                    raise
                skipped[(name, method)] = str(exc)
                continue
            for warning in caught:
                if issubclass(warning.category, PoorModelWarning):
                    poor.setdefault(name, str(warning.message))
                else:
                    warnings.warn_explicit(
                        warning.message,
                        warning.category,
                        warning.filename,
                        warning.lineno,
                    )
    for name, message in poor.items():  # once per model, not per method
        warnings.warn(f"{name!r}: {message}", PoorModelWarning, stacklevel=3)
    comparison = ImportanceComparison(
        results, skipped, _feature_names(X), models, (X, y, None), options
    )
    comparison.scores = _model_scores(results)
    return comparison


def _model_scores(results):
    """``name -> Bunch(score, on, constant, learned)`` from the methods' baselines.

    The network-reading methods score the model itself (no perturbation), so their
    baseline is the model's score; otherwise the first method that has one is used.
    """
    scores = {}
    for (name, method), result in results.items():
        if "baseline_score" not in result:
            continue
        if name in scores and method not in NETWORK_METHODS:
            continue
        constant = result.constant_score
        scores[name] = Bunch(
            score=result.baseline_score,
            on=result.baseline_score_on,
            constant=constant,
            learned=None if constant is None else result.baseline_score > constant,
        )
    return scores
