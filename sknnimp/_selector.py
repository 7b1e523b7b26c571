"""``NNImportanceSelector``: keep the inputs of a neural network that matter."""

from copy import deepcopy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import SelectorMixin
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
)
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    _check_y,
    check_consistent_length,
    check_is_fitted,
    check_memory,
    check_scalar,
    validate_data,
)

from ._ablation import resolve_retrain
from ._default import default_estimator
from ._groups import DEFAULT_GROUP_THRESHOLD, resolve_groups
from ._importance import (
    ROWWISE_METHODS,
    check_method_applies,
    check_table,
    nn_importance,
)
from ._methods import AGNOSTIC_METHODS, METHODS
from ._parallel import fit_weighted, seeded_clone
from ._rowwise import ROWWISE_SCORES
from ._significance import TESTS, benjamini_hochberg, min_null_repeats
from ._tables import is_dataframe


def _fit_and_measure(
    estimator, X, y, sample_weight, fit_params, *, fit, options, n_jobs, verbose
):
    """Fit ``estimator`` (unless ``fit`` is False) and measure importance.

    Everything that affects the result is an argument, so that the selector's
    ``memory`` can cache this call; ``threshold``, ``max_features`` and ``alpha`` only
    act on its result and are not part of it.
    """
    if fit:
        fit_weighted(estimator, X, y, sample_weight, fit_params)
    result = nn_importance(
        estimator,
        X,
        y,
        sample_weight=sample_weight,
        n_jobs=n_jobs,
        verbose=verbose,
        **options,
    )
    return estimator, result


def _wrapped_has(method):
    """Is ``method`` available on the fitted (or, before fit, the given) estimator?"""

    def check(selector):
        if hasattr(selector, "estimator_"):
            return hasattr(selector.estimator_, method)
        if selector.estimator is None:
            return method in ("predict", "score")
        return hasattr(selector.estimator, method)

    return check


def _threshold_value(threshold, importances):
    """Interpret ``threshold`` as ``SelectFromModel`` does."""
    if threshold is None:
        threshold = "mean"
    if not isinstance(threshold, str):
        return float(threshold)
    scale, reference = 1.0, threshold.strip()
    if "*" in reference:
        factor, reference = reference.split("*")
        scale, reference = float(factor.strip()), reference.strip()
    if reference == "mean":
        return scale * float(np.mean(importances))
    if reference == "median":
        return scale * float(np.median(importances))
    raise ValueError(
        "threshold must be a float, 'mean', 'median' or 'k*mean'/'k*median'; "
        f"got {threshold!r}."
    )


class NNImportanceSelector(MetaEstimatorMixin, SelectorMixin, BaseEstimator):
    """Select the inputs of a neural network by their importance.

    The selector fits (a clone of) the network, measures the importance of every input
    with the chosen ``method``, and keeps the inputs whose importance reaches
    ``threshold`` (and at most ``max_features`` of them), like
    :class:`~sklearn.feature_selection.SelectFromModel`.

    Parameters
    ----------
    estimator : estimator object, default=None
        A network: an ``MLPRegressor``/``MLPClassifier``, alone, at the end of a
        ``Pipeline`` whose earlier steps do not mix columns (scalers, imputers, a
        ``ColumnTransformer`` with one-hot encoders, ...), possibly inside a
        ``TransformedTargetRegressor``. ``None`` builds the default network for the
        table passed to ``fit`` (see :func:`~sknnimp._default.default_estimator`):
        numeric columns imputed (median) and standardized, other columns imputed
        (most frequent) and one-hot encoded, then an ``MLPClassifier`` for class
        labels or an ``MLPRegressor`` on a standardized target for float targets
        with more than two distinct values, seeded from ``random_state``.
        ``permutation``, ``conditional`` and ``ablation`` accept any estimator. It is
        never modified: a clone is fitted. The selector is a classifier or a
        regressor to scikit-learn as its estimator is, so that ``RFECV`` or
        ``cross_val_score`` score a classifier's selector by accuracy on stratified
        folds. With ``None`` the network is chosen at ``fit``, too late for them:
        they then see a regressor, and a classification target needs
        ``scoring="accuracy"`` and ``cv=StratifiedKFold(...)`` passed to them.
    method : {"weights", "garson", "olden", "gradient", "probe", "permutation", \
"conditional", "ablation"}, default="gradient"
        The importance definition:

        - ``"weights"``: ``sigma'_i * sum_j |W1_ij|``;
        - ``"garson"``: Garson's relative importance of the spread-scaled first-layer
          weights (sums to 1);
        - ``"olden"``: Olden's connection weights ``sigma'_i (W1 ... W_L)_i``;
        - ``"gradient"``: ``sigma'_i`` times the mean absolute derivative of the
          network's output with respect to input ``i``;
        - ``"probe"``: the one-hot probe through the bias-free network (a heuristic);
        - ``"permutation"``: drop in score when the column is shuffled;
        - ``"conditional"``: drop in score when the column is replaced by its
          prediction from the other columns plus shuffled residuals (a draw of the
          predicted class for a non-numeric column): what the column adds to the
          others, so that a column that only correlates with one that matters gets
          about zero;
        - ``"ablation"``: drop in score when the column is filled or dropped and the
          model retrained.

        ``sigma'_i`` is the standard deviation of input ``i`` as the network sees it.
    fill : {"mean", "median", "zero", "drop"} or float, default="mean"
        Ablation only: the value replacing the ablated column, or ``"drop"``.
    retrain : {"warm", "cold", "none", "auto"}, default="auto"
        Ablation only: continue training the fitted network (``"warm"``), train a fresh
        clone (``"cold"``) or do not retrain (``"none"``); ``"auto"`` is warm for a
        network and cold otherwise.
    scoring : str, callable or None, default=None
        Permutation, conditional and ablation: the score whose drop is the
        importance. ``None`` uses the estimator's ``score``. With ``cv``, the scores
        ``"r2"``, ``"accuracy"``, ``"neg_log_loss"``, ``"neg_mean_squared_error"``
        and ``"neg_mean_absolute_error"`` (and ``None``) give per-row p-values.
    n_repeats : int, default=5
        Permutation and conditional: draws per feature; ablation: retrain seeds per
        feature.
    max_samples : int or float, default=1.0
        Permutation only: rows drawn without replacement for each shuffled score, as
        in :func:`sklearn.inspection.permutation_importance` (an int is a number of
        rows, a float a fraction of them).
    cv : int, cross-validation generator, iterable or None, default=None
        ``None`` measures importance on the data passed to ``fit``; otherwise
        importance is measured on held-out folds, each with the model fitted on the
        remaining folds, and every fold's result is a draw. An int follows
        scikit-learn's convention: ``KFold`` (``StratifiedKFold`` for a classifier),
        unshuffled; for rows sorted by time, by group or by class pass shuffled
        folds, e.g. ``KFold(5, shuffle=True, random_state=0)``.
    groups : None, "auto" or list of lists, default=None
        Inputs measured, and selected, together: a list of lists of column indices (or
        of column names when ``X`` is a DataFrame); columns in no list stay alone.
        ``"auto"`` groups columns by average-linkage clustering on the distance
        ``1 - |Spearman rho|``, cut at ``group_threshold``. Strongly correlated inputs
        stand in for each other when one is shuffled or ablated, so that neither looks
        important; measured as a group they do. A group is permuted with one row
        permutation and ablated whole; its ``weights``, ``garson``, ``olden`` and
        ``probe`` score is the sum of its members' scores and its ``gradient`` score
        the mean norm of its members' scaled gradients.
    group_threshold : float in [0, 1], default=0.2
        Cut of the ``"auto"`` clustering: inputs whose average ``|Spearman rho|``
        exceeds ``1 - group_threshold`` (0.8 by default) form a group.
    null_repeats : int, default=0
        When positive, the whole model is refitted on a randomly permuted target that
        many times (in parallel) and the importance recomputed, giving the
        randomization p-values ``pvalues_`` (in place of the per-row ones).
    test : {"t", "wilcoxon", "sign_flip", "nadeau_bengio"}, default="t"
        With ``cv`` and ``method`` one of ``"permutation"``, ``"conditional"``,
        ``"ablation"``: the one-sided test (H0: importance <= 0) applied to the
        per-row loss differences on the held-out rows, giving ``pvalues_`` without
        any refit. ``"sign_flip"`` is a randomization test on their signs. The
        differences tested are those of each row's first draw (symmetric about
        zero under the null; an average of draws is not). ``"nadeau_bengio"``:
        the corrected resampled t-test of the fold importances, for every method
        and score with ``cv``.
    conditional_estimator : estimator, dict or None, default=None
        Conditional only: the model predicting a column from the others. A regressor
        is used for numeric columns, a classifier for the others; a dict may give
        both (keys ``"numeric"``, ``"categorical"``). ``None``: ``RidgeCV`` and
        ``LogisticRegression``.
    background : array-like, DataFrame, int or None, default=None
        ``shap``, ``integrated_gradients`` and ``sage``: rows standing in for absent
        columns (see :func:`~sknnimp.attributions`); an int: that many training rows
        drawn at random; None: up to 100 of them.
    per_output : bool, default=False
        Also measure one importance per output of a multi-output target (the
        columns of a 2-D ``y``, the labels of a multilabel one), each equal to a run
        on that output alone (see :func:`~sknnimp.nn_importance`); selection stays
        on ``feature_importances_``, the importance for all outputs together.
    threshold : str or float, default=None
        Features whose importance is greater than or equal to it are kept: a float,
        ``"mean"``, ``"median"`` or a scaled reference such as ``"1.25*mean"``
        (references are taken over the groups' importances).
        ``None`` means ``"mean"``; to select on ``max_features`` alone, use
        ``-np.inf``. ``"significant"`` keeps the features whose p-values pass the
        Benjamini-Hochberg procedure at level ``alpha``; it needs p-values: ``cv``
        with ``permutation``, ``conditional`` or ``ablation`` and a per-row score
        (see ``test``), or ``null_repeats >= 1 / alpha - 1`` (the smallest such
        p-value is ``1 / (1 + null_repeats)``).
    alpha : float in (0, 1), default=0.05
        False discovery rate of ``threshold="significant"``.
    max_features : int or callable, default=None
        Keep at most this many features (the most important; ties go to the lower
        index). Groups are taken whole from the most important down; a group larger
        than the room left is passed over, so fewer may be kept. A callable receives
        ``X`` and returns the number.
    prefit : bool, default=False
        ``estimator`` is already fitted: measure importance without refitting it.
    n_jobs : int, default=None
        Parallel jobs for permutation, retraining and ``shap`` (over rows). ``None``
        means 1 unless in a :obj:`joblib.parallel_backend` context.
    random_state : int, RandomState instance or None, default=None
        Seeds the default network, shuffles and retraining. When set, it also seeds
        every ``random_state`` of the (cloned) estimator that is ``None``, so that the
        whole fit is reproducible; an estimator's own seed is kept.
    memory : str, joblib.Memory or None, default=None
        Cache of the fitted network and its importances, keyed on everything that
        affects them (data, weights, estimator and method parameters) but not on
        ``threshold``, ``max_features`` or ``alpha``: a ``GridSearchCV`` over those
        fits the network once per split instead of once per candidate. A string is a
        cache directory. ``None``: no caching.
    verbose : int, default=0
        Progress messages for long work.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone (or, with ``prefit=True``, a copy) of ``estimator``.
    feature_importances_ : ndarray of shape (n_features_in_,)
        Mean importance of every input over the draws.
    importances_ : ndarray of shape (n_features_in_, n_draws)
        Every raw draw; one column for the deterministic methods.
    importances_std_ : ndarray of shape (n_features_in_,)
        Standard deviation of the draws.
    importances_ci_ : ndarray of shape (n_features_in_, 2)
        95% confidence interval of the mean importance: with ``cv``, the
        Nadeau-Bengio corrected interval over the folds (their training sets
        overlap, which a plain t-interval ignores; it also covers the variability
        of training, which an interval from the held-out rows would not); without
        ``cv``, the t-interval of the repeats (the spread of the shuffles, not of
        new data). NaN with a single draw.
    groups_ : list of ndarray
        The column indices of every group, singletons included.
    group_importances_ : ndarray of shape (n_groups,)
        Importance of every group; ``feature_importances_[i]`` is that of ``i``'s
        group.
    pvalues_ : ndarray of shape (n_features_in_,)
        One-sided p-values of ``i``'s group (H0: importance <= 0). With
        ``null_repeats > 0``: ``(1 + #{null >= observed}) / (1 + null_repeats)``
        from the refits on permuted targets; otherwise, with ``cv`` and a per-row
        score, the ``test`` on the held-out per-row differences. Absent otherwise.
    signed_importances_ : ndarray of shape (n_features_in_,)
        ``olden``, ``gradient`` and ``probe``: the signed score for a single-output
        network, NaN with several outputs; other methods: the importance itself.
    baseline_score_ : float
        The score (``scoring``) of the explained model(s) on the rows importance is
        measured on; when it is no better than ``constant_score_``, ``fit`` warns
        with :class:`~sknnimp.PoorModelWarning`. Absent without ``y``.
    baseline_score_on_ : str
        Where it was measured: ``"held-out folds"`` (``cv``), ``"training rows"``
        (in-sample: optimistic) or ``"X"`` (``prefit``: the rows passed to ``fit``).
    constant_score_ : float or None
        The same score for the best constant prediction on those rows (the mean, or
        the class frequencies).
    output_importances_ : ndarray of shape (n_features_in_, n_outputs)
        With ``per_output=True``: the mean importance of every input for every
        output.
    output_importances_std_ : ndarray of shape (n_features_in_, n_outputs)
        With ``per_output=True``: the standard deviation of those draws.
    output_names_ : ndarray of str of shape (n_outputs,)
        With ``per_output=True``: the names of the outputs.
    threshold_ : float
        The threshold value used for selection (NaN for ``"significant"``).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during ``fit``, for string column names only.

    See Also
    --------
    nn_importance : The function form, for a fitted model.
    sklearn.feature_selection.SelectFromModel : Selection from any model's importances.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_friedman1
    >>> from sknnimp import NNImportanceSelector
    >>> X, y = make_friedman1(n_samples=300, random_state=0)
    >>> selector = NNImportanceSelector(threshold=-np.inf, max_features=5,
    ...                                 random_state=0).fit(X, y)
    >>> selector.get_support(indices=True)
    array([0, 1, 2, 3, 4])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"]), None],
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
        "groups": [StrOptions({"auto"}), list, None],
        "group_threshold": [Interval(Real, 0, 1, closed="both")],
        "null_repeats": [Interval(Integral, 0, None, closed="left")],
        "test": [StrOptions(set(TESTS))],
        "conditional_estimator": [HasMethods(["fit", "predict"]), dict, None],
        "background": [
            "array-like",
            "sparse matrix",
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "per_output": ["boolean"],
        "threshold": [Real, str, None],
        "alpha": [Interval(Real, 0, 1, closed="neither")],
        "max_features": [Interval(Integral, 0, None, closed="left"), callable, None],
        "prefit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        method="gradient",
        fill="mean",
        retrain="auto",
        scoring=None,
        n_repeats=5,
        max_samples=1.0,
        cv=None,
        groups=None,
        group_threshold=DEFAULT_GROUP_THRESHOLD,
        null_repeats=0,
        test="t",
        conditional_estimator=None,
        background=None,
        per_output=False,
        threshold=None,
        alpha=0.05,
        max_features=None,
        prefit=False,
        n_jobs=None,
        random_state=None,
        memory=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.method = method
        self.fill = fill
        self.retrain = retrain
        self.scoring = scoring
        self.n_repeats = n_repeats
        self.max_samples = max_samples
        self.cv = cv
        self.groups = groups
        self.group_threshold = group_threshold
        self.null_repeats = null_repeats
        self.test = test
        self.conditional_estimator = conditional_estimator
        self.background = background
        self.per_output = per_output
        self.threshold = threshold
        self.alpha = alpha
        self.max_features = max_features
        self.prefit = prefit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.memory = memory
        self.verbose = verbose

    def _needs_y(self):
        return (
            not self.prefit
            or self.method in (*AGNOSTIC_METHODS, "sage")
            or (self.cv is not None)
        )

    def _clear_fitted_state(self):
        for name in [
            k for k in vars(self) if k.endswith("_") and not k.startswith("__")
        ]:
            delattr(self, name)

    @_fit_context(
        # the wrapped estimator is validated when it is fitted
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None, sample_weight=None, **fit_params):
        """Fit the network and measure the importance of every input.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training inputs. A pandas or polars DataFrame, with numeric,
            categorical, string or boolean columns and missing values, is handed to
            the estimator as it is; importances are per column.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets. May be omitted with ``prefit=True`` and a method that needs no
            score.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every step of the estimator whose ``fit`` accepts it, and used to
            weight means and spreads of the importance.
        **fit_params : dict
            Other parameters for the estimator's ``fit`` (ignored with ``prefit``).

        Returns
        -------
        self : object
            The fitted selector.
        """
        self._clear_fitted_state()
        if self.threshold == "significant":
            self._check_significance_possible()
        if self.estimator is not None:
            check_method_applies(self.estimator, self.method)
        if self.method == "ablation":
            # The default estimator is a network too.
            template = MLPRegressor() if self.estimator is None else self.estimator
            resolve_retrain(template, self.retrain, self.fill)
        X, y = self._validate_fit_data(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, ensure_non_negative=True
            )
        max_features = self._check_max_features(X)
        groups = self.groups
        if isinstance(groups, list):
            # Names and indices are checked before any fitting; names are matched
            # against the columns seen here, since X is an array from now on.
            groups = resolve_groups(groups, X, getattr(self, "feature_names_in_", None))

        if self.prefit:
            try:
                check_is_fitted(self.estimator)
            except NotFittedError as exc:
                raise NotFittedError(
                    "When `prefit=True`, `estimator` is expected to be a fitted "
                    "estimator."
                ) from exc
            estimator = deepcopy(self.estimator)
        else:
            seed = self.random_state
            if isinstance(seed, np.random.RandomState):
                seed = seed.randint(np.iinfo(np.int32).max)
            if self.estimator is None:
                estimator = default_estimator(X, y, random_state=seed)
            else:
                estimator = seeded_clone(self.estimator, seed)

        options = dict(
            method=self.method,
            fill=self.fill,
            retrain=self.retrain,
            scoring=self.scoring,
            n_repeats=self.n_repeats,
            max_samples=self.max_samples,
            cv=self.cv,
            groups=groups,
            group_threshold=self.group_threshold,
            null_repeats=self.null_repeats,
            test=self.test,
            conditional_estimator=self.conditional_estimator,
            background=self.background,
            per_output=self.per_output,
            random_state=self.random_state,
        )
        measure = check_memory(self.memory).cache(
            _fit_and_measure, ignore=["n_jobs", "verbose"]
        )
        estimator, result = measure(
            estimator,
            X,
            y,
            sample_weight,
            fit_params,
            fit=not self.prefit,
            options=options,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

        self.estimator_ = estimator
        self.max_features_ = max_features
        self.importances_ = result.importances
        self.importances_std_ = result.importances_std
        self.signed_importances_ = result.signed_importances
        self.importances_ci_ = result.importances_ci
        self.groups_ = result.groups
        if "baseline_score" in result:
            self.baseline_score_ = result.baseline_score
            self.baseline_score_on_ = result.baseline_score_on
            if result.baseline_score_on == "X" and not self.prefit:
                self.baseline_score_on_ = "training rows"
            self.constant_score_ = result.constant_score
        if "pvalues" in result:
            self.pvalues_ = result.pvalues
        elif self.threshold == "significant":
            self._clear_fitted_state()
            raise ValueError(
                "threshold='significant': the score could not be split into per-row "
                "values on every held-out fold (R^2 on a fold where y is constant); "
                "use null_repeats, or a cv whose folds hold varied y."
            )
        if "output_importances" in result:
            self.output_importances_ = result.output_importances
            self.output_importances_std_ = result.output_importances_std
            self.output_names_ = np.asarray(result.output_names, dtype=object)
        self.feature_importances_ = result.importances_mean
        return self

    def _check_significance_possible(self):
        """Raise before any work if ``threshold="significant"`` gets no p-values."""
        if self.null_repeats:
            needed = min_null_repeats(self.alpha)
            if self.null_repeats < needed:
                raise ValueError(
                    f"threshold='significant' needs null_repeats >= {needed} for "
                    f"alpha={self.alpha}: with B refits on a permuted target the "
                    "smallest p-value is 1 / (B + 1), which must not exceed alpha; "
                    f"got null_repeats={self.null_repeats}."
                )
            return
        if self.cv is not None and self.test == "nadeau_bengio":
            return
        if self.cv is not None and self.method in ROWWISE_METHODS:
            if self.scoring is None or self.scoring in ROWWISE_SCORES:
                return
            raise ValueError(
                f"threshold='significant' with scoring={self.scoring!r} has no "
                "p-values: per-row tests need a score that is a mean over rows "
                f"({', '.join(ROWWISE_SCORES)}, or None); or set null_repeats."
            )
        raise ValueError(
            "threshold='significant' needs p-values: set cv (held-out rows) with "
            f"method in {ROWWISE_METHODS} for per-row tests, or with "
            "test='nadeau_bengio' for any method, or null_repeats >= "
            f"{min_null_repeats(self.alpha)} for refits on a permuted target; got "
            f"method={self.method!r}, cv={self.cv!r}, null_repeats=0."
        )

    def _validate_fit_data(self, X, y):
        """``(X, y)`` checked; a DataFrame is kept as it is for the estimator.

        Arrays are checked and converted to floats by scikit-learn; missing values
        are left to the estimator (the default one imputes them).
        """
        with_y = self._needs_y() or y is not None
        if is_dataframe(X):
            validate_data(self, X, skip_check_array=True)  # names and width
            X, _ = check_table(X)
            if with_y:
                y = _check_y(y, multi_output=True)
                check_consistent_length(X, y)
            return X, y
        check = dict(
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            ensure_all_finite="allow-nan",
        )
        if with_y:
            return validate_data(self, X, y, multi_output=True, **check)
        return validate_data(self, X, **check), y

    def _check_max_features(self, X):
        if self.max_features is None:
            return None
        max_features = (
            self.max_features(X) if callable(self.max_features) else self.max_features
        )
        check_scalar(max_features, "max_features", Integral, min_val=0)
        return max_features

    @available_if(_wrapped_has("predict"))
    def predict(self, X):
        """Predict with the fitted network (on all of its inputs).

        Together with ``score`` this lets the selector be the estimator of
        :class:`~sklearn.feature_selection.RFECV`, which reads its
        ``feature_importances_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict(self._check_predict_data(X))

    @available_if(_wrapped_has("score"))
    def score(self, X, y, sample_weight=None):
        """The fitted network's own ``score`` (on all of its inputs)."""
        check_is_fitted(self)
        X = self._check_predict_data(X)
        if sample_weight is None:
            return self.estimator_.score(X, y)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    @property
    def classes_(self):
        """The class labels of a classifier's ``estimator_``."""
        return self.estimator_.classes_

    def _check_predict_data(self, X):
        """A DataFrame as it is; an array checked as scikit-learn checks it."""
        if is_dataframe(X):
            return X
        return validate_data(
            self,
            X,
            reset=False,
            accept_sparse=("csr", "csc"),
            dtype=None,
            ensure_all_finite=False,
        )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "feature_importances_")

    @property
    def group_importances_(self):
        """Importance of every group (``feature_importances_`` of its members)."""
        check_is_fitted(self)
        return self.feature_importances_[[g[0] for g in self.groups_]]

    @property
    def threshold_(self):
        """The importance a feature must reach to be kept."""
        check_is_fitted(self)
        if self.threshold == "significant":
            return np.nan
        return _threshold_value(self.threshold, self.group_importances_)

    def _get_support_mask(self):
        check_is_fitted(self)
        scores = self.group_importances_
        if self.threshold == "significant":
            keep = benjamini_hochberg(
                self.pvalues_[[g[0] for g in self.groups_]], self.alpha
            )
        else:
            keep = scores >= self.threshold_
        if self.max_features_ is not None:
            # Groups from the most important down, each taken whole if it still fits
            # in max_features (a group too large is passed over, not split).
            candidates = np.zeros(len(scores), dtype=bool)
            room = self.max_features_
            for j in np.argsort(-scores, kind="mergesort"):
                if len(self.groups_[j]) <= room:
                    candidates[j] = True
                    room -= len(self.groups_[j])
            keep &= candidates
        mask = np.zeros(self.n_features_in_, dtype=bool)
        for group, kept in zip(self.groups_, keep):
            mask[group] = kept
        return mask

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.estimator is not None:
            estimator_tags = get_tags(self.estimator)
            # A classifier's selector is scored and split as a classifier (RFECV,
            # cross_val_score: accuracy and stratified folds), a regressor's as a
            # regressor.
            tags.estimator_type = estimator_tags.estimator_type
            tags.classifier_tags = estimator_tags.classifier_tags
            tags.regressor_tags = estimator_tags.regressor_tags
            tags.input_tags.sparse = estimator_tags.input_tags.sparse
            # Selecting columns does not mind missing values; whether the estimator
            # does, fit finds out. A pipeline's tags do not say whether it imputes.
            tags.input_tags.allow_nan = estimator_tags.input_tags.allow_nan or (
                isinstance(self.estimator, (Pipeline, TransformedTargetRegressor))
            )
        else:
            # The default network imputes missing values and one-hot encodes
            # categorical columns.
            tags.input_tags.sparse = True
            tags.input_tags.allow_nan = True
            tags.input_tags.categorical = True
            tags.input_tags.string = True
        return tags
