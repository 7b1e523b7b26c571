"""``nn_importance``: every importance method behind one function."""

import warnings
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.metrics import check_scoring
from sklearn.metrics._scorer import _BaseScorer, _PassthroughScorer
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
from ._attributions import GLOBAL_METHODS, check_background, global_importance
from ._conditional import conditional_importance, conditional_models
from ._groups import DEFAULT_GROUP_THRESHOLD, expand, resolve_groups
from ._methods import (
    AGNOSTIC_METHODS,
    METHODS,
    NEEDS_NETWORK,
    NETWORK_METHODS,
    OUTPUT_METHODS,
    gradient_importance,
)
from ._outputs import n_outputs, output_column, output_names, output_view
from ._parallel import refit, run_tasks
from ._permutation import network_score, permutation_importance, score
from ._rowwise import row_score
from ._significance import (
    ROW_TESTS,
    TESTS,
    PoorModelWarning,
    confidence_interval,
    nadeau_bengio_interval,
    nadeau_bengio_pvalues,
    randomization_pvalues,
    rowwise_pvalues,
)
from ._tables import column_names, is_dataframe, n_columns, take_rows
from .networks import batched_column_std, check_network, network_model

#: Largest number of network-input values the network-reading methods hold at once
#: (16 MiB of float64); more rows are preprocessed in batches, at the cost of running
#: the preprocessing twice (spread, then gradients).
INPUT_BATCH_ELEMENTS = 2**21

#: Methods whose per-row loss differences give p-values on held-out rows.
ROWWISE_METHODS = ("permutation", "conditional", "ablation")

#: Methods whose signed score is defined (for a single-output network).
SIGNED_METHODS = ("olden", "gradient", "probe")


def check_method_applies(estimator, method):
    """Raise TypeError if ``method`` reads a network that ``estimator`` does not end in.

    Only the structure is checked (the estimator may be unfitted); a preprocessing step
    that mixes columns is found when the fitted model is read.
    """
    if method not in NEEDS_NETWORK:
        return
    try:
        check_network(estimator)
    except TypeError as exc:
        working = ", ".join(map(repr, (*AGNOSTIC_METHODS, "shap", "sage")))
        raise TypeError(
            f"method={method!r} reads a network through the columns it comes from, "
            f"but: {exc} Methods that work with any estimator: {working}."
        ) from None


def _network_importance(estimator, X, method, sample_weight, groups, per_output=False):
    """``(importances of shape (n_groups, 1), signed of shape (n_groups,))``.

    Computed in the network's input space; an original column spread over several
    network inputs (a one-hot encoded category) is measured as a group of them. With
    ``per_output``, also the importances and signed scores of every network output
    alone, of shape (n_groups, n_outputs) each (see :mod:`sknnimp._methods`).
    """
    model = network_model(estimator, method, AGNOSTIC_METHODS)
    if method in OUTPUT_METHODS and not model.in_target_units:
        working = ", ".join(
            repr(m)
            for m in (*NETWORK_METHODS, *AGNOSTIC_METHODS)
            if m not in OUTPUT_METHODS
        )
        raise TypeError(
            f"method={method!r} measures the network's output, which a non-affine "
            "target transformer (TransformedTargetRegressor) maps to predictions in "
            f"a way the package cannot follow. Methods that work: {working}."
        )
    net = model.network
    if method != "gradient" and net.dense_layers() is None:
        problem = getattr(net, "dense_problem", None)
        raise TypeError(
            f"method={method!r} reads the weights of a stack of dense layers, which "
            f"this network is not"
            + (f" ({problem})" if problem else "")
            + "; 'gradient' and the methods that work with any estimator "
            f"({', '.join(map(repr, AGNOSTIC_METHODS))}) apply."
        )
    if n_columns(X) != model.n_columns:
        raise ValueError(
            f"X has {n_columns(X)} features, but the model expects {model.n_columns}."
        )
    # The network's inputs (checked, e.g. for NaN the preprocessing left), in row
    # batches of at most INPUT_BATCH_ELEMENTS values when there are more.
    batch_rows = max(1, INPUT_BATCH_ELEMENTS // max(1, net.n_inputs))
    if X.shape[0] <= batch_rows:
        inputs = check_array(model.transform(X), accept_sparse=("csr", "csc"))

        def batches():
            yield slice(0, X.shape[0]), inputs

    else:

        def batches():
            for rows, part in model.transform_batches(X, batch_rows):
                yield rows, check_array(part, accept_sparse=("csr", "csc"))

    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    sigma = batched_column_std(batches, weights)
    input_groups = model.network_groups(groups)

    def read(per_output):
        if method == "gradient":
            return gradient_importance(
                net, sigma, batches, weights, input_groups, per_output=per_output
            )
        per_input, per_input_signed = NETWORK_METHODS[method](
            net, sigma, per_output=per_output
        )
        # Sums over each group's network inputs (none: 0; one: its own value).
        importances = np.array([per_input[g].sum(axis=0) for g in input_groups])
        signed = np.array([per_input_signed[g].sum(axis=0) for g in input_groups])
        return importances, signed

    importances, signed = read(per_output=False)
    if not per_output:
        return importances[:, None], signed
    return importances[:, None], signed, *read(per_output=True)


def _fit_fold(estimator, X, y, sample_weight):
    return refit(clone(estimator), X, y, sample_weight)


def _rows(array, rows):
    return None if array is None else _safe_indexing(array, rows)


def _folds(estimator, X, y, sample_weight, cv, n_jobs, verbose):
    """``(folds, evaluation rows)``.

    Each fold is ``(model, X_train, y_train, w_train, X_eval, y_eval, w_eval)``;
    without ``cv``, the fitted ``estimator``, trained and evaluated on all rows (and
    the evaluation rows are None).
    """
    if cv is None:
        return [(estimator, X, y, sample_weight, X, y, sample_weight)], None
    if y is None:
        raise ValueError("Cross-fitted importance (cv is not None) needs y.")
    cv = check_cv(cv, y, classifier=is_classifier(estimator))
    splits = list(cv.split(X, y))
    models = run_tasks(
        _fit_fold,
        [
            (
                estimator,
                take_rows(X, train),
                _rows(y, train),
                _rows(sample_weight, train),
            )
            for train, _ in splits
        ],
        n_jobs=n_jobs,
        verbose=verbose,
        label="fitting folds",
    )
    folds = [
        (
            model,
            take_rows(X, train),
            _rows(y, train),
            _rows(sample_weight, train),
            take_rows(X, test),
            _rows(y, test),
            _rows(sample_weight, test),
        )
        for model, (train, test) in zip(models, splits)
    ]
    return folds, [test for _, test in splits]


def check_table(X):
    """``(X, column names or None)``: a DataFrame as it is, anything else as an array.

    A DataFrame (pandas, polars) is handed to the estimator unchanged, as
    :func:`sklearn.inspection.permutation_importance` does; arrays and sparse matrices
    are checked by scikit-learn (2-D, not empty, no complex values) with NaN left to
    the estimator.
    """
    if is_dataframe(X):
        if n_columns(X) == 0 or X.shape[0] == 0:
            raise ValueError(
                f"Found a DataFrame of shape {X.shape}; at least one row and one "
                "column are required."
            )
        return X, column_names(X)
    X = check_array(
        X, accept_sparse=("csr", "csc"), dtype=None, ensure_all_finite=False
    )
    return X, None


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
    groups=None,
    group_threshold=DEFAULT_GROUP_THRESHOLD,
    null_repeats=0,
    test="t",
    conditional_estimator=None,
    background=None,
    per_output=False,
    sample_weight=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """Importance of each input of a fitted network (or, for some methods, any model).

    Parameters
    ----------
    estimator : estimator object
        A fitted network: an ``MLPRegressor``/``MLPClassifier``, alone, at the end of
        a ``Pipeline`` whose earlier steps do not mix columns (scalers, imputers,
        encoders, a ``ColumnTransformer`` of them, ...), possibly inside a
        ``TransformedTargetRegressor``. The network-reading methods compute in the
        network's input space and sum (``weights``, ``garson``, ``olden``,
        ``probe``) or take the norm (``gradient``) over the network inputs of each
        original column, such as a one-hot encoded category's indicators.
        ``permutation``, ``conditional`` and ``ablation`` accept any fitted
        estimator with ``fit`` and ``predict``.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        Data on which importance is measured, handed to the estimator as it is: a
        pandas or polars DataFrame may hold numeric, categorical, string and
        boolean columns and missing values. For ``weights``, ``garson``, ``olden``
        and ``probe`` only the spread of each network input is used.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets; needed by ``permutation``, ``conditional`` and ``ablation``, by
        ``cv`` and ``null_repeats``. When given, the model's score on the rows
        importance is measured on is reported, and a model no better than a constant
        prediction raises :class:`~sknnimp.PoorModelWarning`.
    method : {"weights", "garson", "olden", "gradient", "probe", "permutation", \
"conditional", "ablation", "shap", "integrated_gradients", "sage"}, \
default="gradient"
        The importance definition; see the package documentation. ``conditional``
        replaces a column by its prediction from the other columns plus permuted
        residuals (numeric) or by a draw of the predicted class (other columns):
        what the column adds to the others. ``shap`` and ``integrated_gradients``:
        the mean over the rows of the absolute per-row attribution (see
        :func:`~sknnimp.attributions`; a group of columns is one player of the
        Shapley game), averaged over outputs; ``shap`` explains a seeded sample of
        at most 500 rows. ``sage``: Shapley values of the loss
        (Covert et al. 2020), the drop in squared error (regressors) or log loss
        (classifiers) that a column brings, with absent columns averaged over
        ``background``; it needs ``y``. ``shap`` and ``sage`` work with any
        estimator.
    fill : {"mean", "median", "zero", "drop"} or float, default="mean"
        Ablation only: what replaces the ablated column.
    retrain : {"warm", "cold", "none", "auto"}, default="auto"
        Ablation only: how the model is retrained without the column.
    scoring : str, callable or None, default=None
        Permutation, conditional and ablation: the score whose drop is the
        importance; ``None`` uses the estimator's ``score``. It also gives
        ``baseline_score``.
    n_repeats : int, default=5
        Permutation and conditional: draws per feature; ablation: retrain seeds per
        feature.
    max_samples : int or float, default=1.0
        Permutation only: rows drawn without replacement for the shuffled scores, as
        in :func:`sklearn.inspection.permutation_importance`.
    cv : int, cross-validation generator or iterable, default=None
        ``None`` measures on ``X``; otherwise importance is cross-fitted on held-out
        folds. An int means scikit-learn's unshuffled ``KFold`` (``StratifiedKFold``
        for a classifier); for rows sorted by time, group or an input, pass shuffled
        folds such as ``KFold(5, shuffle=True, random_state=0)``.
    groups : None, "auto" or list of lists, default=None
        Inputs measured jointly: a list of lists of column indices (or of column names
        when ``X`` is a DataFrame); columns in no list are alone. ``"auto"`` groups
        columns by average-linkage clustering on ``1 - |Spearman rho|``, cut at
        ``group_threshold``. A group is permuted with one row permutation, ablated as a
        whole, scored by the sum of its members' scores (``weights``, ``garson``,
        ``olden``, ``probe``) or by the mean norm of its members' scaled gradients.
    group_threshold : float in [0, 1], default=0.2
        Cut of the ``"auto"`` clustering: inputs whose average ``|Spearman rho|`` is
        above ``1 - group_threshold`` (0.8 by default) form a group.
    null_repeats : int, default=0
        When positive, the model is refitted on a randomly permuted target that many
        times and the importance recomputed, giving randomization p-values (in place
        of the per-row ones).
    test : {"t", "wilcoxon", "sign_flip", "nadeau_bengio"}, default="t"
        With ``cv``, ``permutation``, ``conditional`` or ``ablation`` and a score
        that is a mean over rows (``None``, ``"r2"``, ``"accuracy"``,
        ``"neg_log_loss"``, ``"neg_mean_squared_error"``,
        ``"neg_mean_absolute_error"``): the one-sided test (H0: importance <= 0) of
        the per-row loss differences on the held-out rows, giving ``pvalues``
        without refits. ``"sign_flip"`` is a randomization test on their signs
        (exact up to 16 rows). The differences tested are those of each row's
        first draw, symmetric about zero under the null. ``"nadeau_bengio"``: the
        corrected resampled t-test of the fold importances, for any method and
        score with ``cv`` (it also covers the variability of training; at least
        2 folds, and its power grows with their number).
    conditional_estimator : estimator, dict or None, default=None
        Conditional only: the model predicting a column from the others (fitted on
        the training rows): a regressor for numeric columns, a classifier for the
        others, or a dict with keys ``"numeric"`` and ``"categorical"``. ``None``:
        ``RidgeCV`` and ``LogisticRegression``.
    background : array-like, DataFrame, int or None, default=None
        ``shap``, ``integrated_gradients``, ``sage``: rows standing in for absent
        columns (whose mean network input is the baseline of integrated
        gradients); an int: that many rows of the training data (the rows given,
        or the training folds with ``cv``) drawn at random; None: up to 100 of them.
    per_output : bool, default=False
        Also measure every output of a multi-output model alone (a regressor
        fitted on a 2-D ``y``, a multilabel classifier; the outputs are the columns
        of ``y``, or of the prediction when ``y`` is None; a class label is one
        output, however many classes): output ``k``'s importances are those of a
        run on output ``k`` alone, with the model predicting only column ``k`` and
        ``y[:, k]`` as the target. ``permutation``, ``conditional`` and
        ``ablation`` (``retrain="none"`` only: a retrained model serves all
        outputs at once) score the drop in output ``k``'s score (R^2, accuracy of
        the label, or ``scoring`` applied to it) under the same shuffles,
        replacements or fills as the run on all outputs; ``weights``, ``garson``,
        ``olden``, ``gradient`` and ``probe`` read the network that keeps only
        output ``k`` (``weights`` is the same for every output); ``shap`` and
        ``integrated_gradients`` take the mean absolute value of output ``k``'s
        per-row attributions, ``sage`` the Shapley values of output ``k``'s loss.
        For ``olden``, ``gradient``, ``probe``, ``shap`` and
        ``integrated_gradients`` the importance of all outputs is the mean of the
        per-output ones. Intervals and p-values are those of all outputs.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows in means, spreads and scores.
    n_jobs : int, default=None
        Parallel jobs for permutation, retraining and ``shap`` (over rows).
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
        Per-feature arrays give every feature its group's values. Also:
        ``feature_names`` (the column names of a DataFrame ``X``, else None);
        ``importances_ci`` of shape (n_features, 2), a 95% interval for the mean
        importance: with ``cv`` the Nadeau-Bengio corrected interval over the
        folds, else the t-interval of the repeats (NaN with a single draw);
        ``groups`` (list of index arrays) and ``group_importances`` of shape
        (n_groups, n_draws). With ``y``: ``baseline_score`` (the model's score on
        the rows measured), ``baseline_score_on`` (``"held-out folds"`` or ``"X"``)
        and ``constant_score`` (the best constant prediction's score there). With
        per-row tests: ``row_differences`` of shape (n_groups, n_samples) (``n`` times
        the drop in each held-out row's score contribution, for the first draw: the
        differences tested), ``pvalues`` (per feature) and
        ``group_pvalues``. With ``null_repeats``: ``pvalues``, ``group_pvalues`` and
        ``null_importances`` of shape (n_groups, null_repeats), where
        ``p = (1 + #{null >= observed}) / (1 + null_repeats)``. With
        ``per_output``: ``output_names`` (a list of ``n_outputs`` strings: the
        columns of a DataFrame ``y``, a Series' name, else ``"output 0"``, ...),
        ``output_importances`` and ``output_importances_std`` of shape
        (n_features, n_outputs) (mean and standard deviation over the draws),
        ``output_draws`` of shape (n_features, n_outputs, n_draws),
        ``output_signed_importances`` of shape (n_features, n_outputs) (the signed
        score of ``olden``, ``gradient`` and ``probe`` of each output, the
        importance for the others) and, with ``y``, ``output_baseline_scores`` of
        shape (n_outputs,) (each output's score on the rows measured). A single
        output gives one column, equal to the importances above.

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
    >>> import numpy as np
    >>> Y = np.column_stack([y, 3 * X[:, 5]])
    >>> mlp2 = MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500,
    ...                     random_state=0).fit(X, Y)
    >>> per_output = nn_importance(mlp2, X, Y, method="gradient", per_output=True)
    >>> per_output.output_importances.shape
    (10, 2)
    >>> per_output.output_names
    ['output 0', 'output 1']
    """
    check_method_applies(estimator, method)
    if method == "ablation":
        retrain = resolve_retrain(estimator, retrain, fill)
        if per_output and retrain != "none":
            raise ValueError(
                f"per_output=True with method='ablation' needs retrain='none' "
                f"(got {retrain!r}): a retrained model serves all outputs at once, "
                "so its drop in one output's score is not that of a run on that "
                "output alone. Every other method gives per-output importances."
            )
    if cv is None:
        check_is_fitted(estimator)
    X, feature_names = check_table(X)
    target = y
    if y is not None:
        y = check_array(y, ensure_2d=False, dtype=None)
        check_consistent_length(X, y)
    elif method in (*AGNOSTIC_METHODS, "sage") or null_repeats or cv is not None:
        raise ValueError(
            f"method={method!r} with null_repeats={null_repeats} and cv={cv!r} needs "
            "y: it scores the model, refits it on a permuted target, or fits it on "
            "folds."
        )
    if method == "conditional":
        conditional_models(conditional_estimator)  # a wrong dict fails here
    background = check_background(background, X)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    group_list = resolve_groups(
        groups, X, feature_names, group_threshold, sample_weight
    )
    random_state = check_random_state(random_state)
    options = dict(
        method=method,
        groups=group_list,
        fill=fill,
        retrain=retrain,
        scoring=scoring,
        n_repeats=n_repeats,
        max_samples=max_samples,
        cv=cv,
        conditional_estimator=conditional_estimator,
        background=background,
    )
    measured = _measure(
        estimator,
        X,
        y,
        sample_weight,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=verbose,
        rowwise=(
            cv is not None
            and method in ROWWISE_METHODS
            and test in ROW_TESTS
            and not null_repeats
        ),
        per_output=per_output,
        **options,
    )
    draws = measured.draws
    n_features = n_columns(X)
    if cv is not None:
        intervals = nadeau_bengio_interval(
            measured.fold_values, measured.n_train, measured.n_test
        )
    else:
        intervals = confidence_interval(draws)
    result = Bunch(
        method=method,
        importances_mean=expand(draws.mean(axis=1), group_list, n_features),
        importances_std=expand(draws.std(axis=1), group_list, n_features),
        importances=expand(draws, group_list, n_features),
        signed_importances=expand(measured.signed, group_list, n_features),
        importances_ci=expand(intervals, group_list, n_features),
        groups=group_list,
        group_importances=draws,
        feature_names=None if feature_names is None else list(feature_names),
    )
    if per_output:
        output_draws = measured.output_draws
        result.output_names = output_names(target, output_draws.shape[1])
        result.output_importances = expand(
            output_draws.mean(axis=2), group_list, n_features
        )
        result.output_importances_std = expand(
            output_draws.std(axis=2), group_list, n_features
        )
        result.output_draws = expand(output_draws, group_list, n_features)
        result.output_signed_importances = expand(
            measured.output_signed, group_list, n_features
        )
        if measured.output_baselines is not None:
            result.output_baseline_scores = measured.output_baselines
    if measured.baseline is not None:
        result.baseline_score = measured.baseline
        result.baseline_score_on = "held-out folds" if cv is not None else "X"
        result.constant_score = measured.constant
        _warn_if_poor(result, scoring, cv)
    if measured.row_differences is not None:
        result.row_differences = measured.row_differences
        group_pvalues = rowwise_pvalues(
            measured.row_differences, test, random_state.randint(2**31 - 1)
        )
        result.group_pvalues = group_pvalues
        result.pvalues = expand(group_pvalues, group_list, n_features)
    elif test == "nadeau_bengio" and cv is not None and not null_repeats:
        group_pvalues = nadeau_bengio_pvalues(
            measured.fold_values, measured.n_train, measured.n_test
        )
        result.group_pvalues = group_pvalues
        result.pvalues = expand(group_pvalues, group_list, n_features)
    if null_repeats:
        seeds = random_state.randint(2**31 - 1, size=(null_repeats, 2))
        options["rowwise"] = False
        null = run_tasks(
            _null_importances,
            [(estimator, X, y, sample_weight, pair, options) for pair in seeds],
            n_jobs=n_jobs,
            verbose=verbose,
            label="refits on a permuted target",
        )
        result.null_importances = np.column_stack(null)
        group_pvalues = randomization_pvalues(
            draws.mean(axis=1), result.null_importances
        )
        result.group_pvalues = group_pvalues
        result.pvalues = expand(group_pvalues, group_list, n_features)
    return result


def _warn_if_poor(result, scoring, cv):
    """PoorModelWarning when the model scores no better than a constant."""
    baseline, constant = result.baseline_score, result.constant_score
    if constant is None or baseline > constant + 1e-12 * max(1.0, abs(constant)):
        return
    where = (
        "on held-out folds"
        if result.baseline_score_on == "held-out folds"
        else "on the rows given"
    )
    name = f"{scoring} score" if isinstance(scoring, str) else "score"
    warnings.warn(
        f"The explained model's {name} {where} is {baseline:.4g}, no better than a "
        f"constant prediction's ({constant:.4g}): it learned nothing about y, and "
        "its importances are noise whatever their size. Improve the model first "
        "(more iterations, more regularization, other inputs)."
        + (
            " An integer cv makes unshuffled folds (scikit-learn's convention): if "
            "the rows are sorted (by time, group or class), they measure "
            "extrapolation; pass e.g. KFold(5, shuffle=True, random_state=0)."
            if isinstance(cv, Integral)
            else ""
        ),
        PoorModelWarning,
        stacklevel=3,
    )


def _null_importances(estimator, X, y, sample_weight, seeds, options):
    """Mean importance of every group for a model refitted on a permuted target."""
    y = _rows(y, np.random.RandomState(seeds[0]).permutation(len(y)))
    if options["cv"] is None:
        estimator = _fit_fold(estimator, X, y, sample_weight)
    measured = _measure(
        estimator,
        X,
        y,
        sample_weight,
        random_state=np.random.RandomState(seeds[1]),
        n_jobs=1,
        verbose=0,
        **options,
    )
    return measured.draws.mean(axis=1)


def _batched_score(scorer, model, X, y, sample_weight):
    """The model's score, from a network's outputs in row batches when it has the
    fast path (:func:`~sknnimp._permutation.network_score`)."""
    return network_score(
        scorer, model, X, y, sample_weight, batch_elements=INPUT_BATCH_ELEMENTS
    )


def _constant_score(model, scorer, X, y, sample_weight):
    """Score of the best constant prediction on these rows (the mean, or the class
    frequencies), or None when there is no such reference.

    Only scikit-learn's scorers are applied to the constant: a user's callable may
    look at the estimator in ways a constant cannot honour.
    """
    if not isinstance(scorer, (_BaseScorer, _PassthroughScorer)):
        return None
    if is_classifier(model):
        dummy = DummyClassifier(strategy="prior")
    elif is_regressor(model):
        dummy = DummyRegressor(strategy="mean")
    else:
        return None
    try:
        dummy.fit(np.zeros((len(y), 1)), y, sample_weight=sample_weight)
        return float(score(scorer, dummy, X, y, sample_weight))
    except (TypeError, ValueError, AttributeError):
        return None


def _fold_row_score(estimator, scoring, folds):
    """The score's per-row form if every fold's evaluation rows allow it."""
    found = None
    for *_, y_eval, _ in folds:
        found = row_score(estimator, scoring, y_eval)
        if found is None:
            return None
    return found


def _measure(
    estimator,
    X,
    y,
    sample_weight,
    *,
    method,
    groups,
    fill,
    retrain,
    scoring,
    n_repeats,
    max_samples,
    cv,
    conditional_estimator,
    background,
    rowwise,
    random_state,
    n_jobs,
    verbose,
    per_output=False,
):
    """Every draw and what is needed to judge them.

    Returns a Bunch with ``draws`` of shape (n_groups, n_draws) (fold by fold, then
    repeat by repeat), ``signed`` (n_groups,), ``fold_values`` (n_groups, n_folds),
    ``n_train`` and ``n_test`` (mean fold sizes), ``baseline`` and ``constant`` (mean
    scores of the model and of a constant prediction on the evaluation rows, None
    without ``y``) and ``row_differences`` (n_groups, n_samples) with ``rowwise`` and
    a score that is a sum of per-row values (NaN for rows never evaluated; the mean
    over its evaluations for a row evaluated several times), else None. With
    ``per_output``, also the per-output results of :func:`_per_output_results`.
    """
    folds, eval_rows = _folds(estimator, X, y, sample_weight, cv, n_jobs, verbose)
    scorer = None if y is None else check_scoring(estimator, scoring=scoring)
    rows_score = _fold_row_score(estimator, scoring, folds) if rowwise else None
    # Per output (when there are several): the same measurement on each output alone.
    n_out = n_outputs(folds[0][0], folds[0][4], folds[0][5]) if per_output else 1
    output_scorer = None
    if n_out > 1 and y is not None:
        output_scorer = check_scoring(output_view(folds[0][0], 0), scoring=scoring)
    draws, baselines, constants, fold_rows = [], [], [], []
    output_draws, output_signed, output_baselines = [], [], []
    signed = None
    settings = dict(
        n_repeats=n_repeats,
        max_samples=max_samples,
        conditional_estimator=conditional_estimator,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    for fold in folds:
        model, X_train, _, w_train, X_eval, y_eval, w_eval = fold
        if scorer is not None:
            constants.append(_constant_score(model, scorer, X_eval, y_eval, w_eval))
        if output_scorer is not None:
            output_baselines.append(_output_scores(fold, output_scorer, n_out))
        if method in NETWORK_METHODS:
            fold_draws, fold_signed, *per = _network_importance(
                model, X_eval, method, w_eval, groups, per_output=n_out > 1
            )
            draws.append(fold_draws)
            signed = [] if signed is None else signed
            signed.append(fold_signed)
            if per:
                output_draws.append(_check_width(per[0], n_out)[:, :, None])
                output_signed.append(per[1])
            if scorer is not None:
                baselines.append(_batched_score(scorer, model, X_eval, y_eval, w_eval))
            continue
        if method == "ablation":
            continue  # all folds at once, below
        if method in GLOBAL_METHODS:
            values = global_importance(
                model,
                X_train,
                X_eval,
                y_eval,
                w_eval,
                groups,
                method=method,
                background=background,
                random_state=random_state.randint(2**31 - 1),
                n_jobs=n_jobs,
                per_output=n_out > 1,
            )
            if n_out > 1:
                values, per = values
                output_draws.append(_check_width(per, n_out)[:, :, None])
            draws.append(values[:, None])
            if scorer is not None:
                baselines.append(_batched_score(scorer, model, X_eval, y_eval, w_eval))
            continue
        # Without cv, the caller's random_state is used as is, so that permutation
        # draws are those of sklearn.inspection.permutation_importance; every output
        # alone starts from the same state, so that it sees the same draws.
        seed = random_state if cv is None else random_state.randint(2**31 - 1)
        start = deepcopy(seed)
        fold_result = _perturbation_importance(
            method, fold, groups, scorer, rows_score, seed, **settings
        )
        draws.append(fold_result.importances)
        baselines.append(fold_result.baseline_score)
        fold_rows.append(fold_result.get("row_differences"))
        if n_out > 1:
            output_draws.append(
                np.stack(
                    [
                        _perturbation_importance(
                            method,
                            _output_fold(fold, k),
                            groups,
                            output_scorer,
                            None,
                            deepcopy(start),
                            **settings,
                        ).importances
                        for k in range(n_out)
                    ],
                    axis=1,
                )
            )
    if method == "ablation":
        seeds = random_state.randint(2**31 - 1, size=(len(folds), n_repeats))
        ablation = dict(
            fill=fill, retrain=retrain, seeds=seeds, n_jobs=n_jobs, verbose=verbose
        )
        importances, baseline, fold_rows = ablation_importance(
            folds, groups, scorer=scorer, row_score=rows_score, **ablation
        )
        baselines = [baseline]
        draws = [importances]
        if n_out > 1:
            output_draws = [
                np.stack(
                    [
                        ablation_importance(
                            [_output_fold(fold, k) for fold in folds],
                            groups,
                            scorer=output_scorer,
                            **ablation,
                        )[0]
                        for k in range(n_out)
                    ],
                    axis=1,
                )
            ]
    importances = np.hstack(draws)
    n_folds = len(folds)
    if signed is not None:
        signed = (
            np.mean(signed, axis=0)
            if method in SIGNED_METHODS
            else importances.mean(axis=1)
        )
    else:
        signed = importances.mean(axis=1)
    row_differences = None
    if rows_score is not None and eval_rows is not None and fold_rows:
        total = np.zeros((len(groups), _n_rows(X)))
        count = np.zeros(_n_rows(X))
        for rows, values in zip(eval_rows, fold_rows):
            np.add.at(total.T, rows, values.T)
            np.add.at(count, rows, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            row_differences = total / count
    n_train = np.mean([_n_rows(fold[1]) for fold in folds])
    n_test = np.mean([_n_rows(fold[4]) for fold in folds])
    known = [c for c in constants if c is not None]
    measured = Bunch(
        draws=importances,
        signed=signed,
        fold_values=importances.reshape(len(groups), n_folds, -1).mean(axis=2),
        n_train=n_train,
        n_test=n_test,
        baseline=float(np.mean(baselines)) if baselines else None,
        constant=float(np.mean(known)) if known and len(known) == n_folds else None,
        row_differences=row_differences,
    )
    if per_output:
        measured.update(
            _per_output_results(
                measured, method, output_draws, output_signed, output_baselines
            )
        )
    return measured


def _per_output_results(measured, method, draws, signed, baselines):
    """``output_draws`` (n_groups, n_outputs, n_draws), ``output_signed`` (n_groups,
    n_outputs) and ``output_baselines`` (n_outputs,) or None, from the folds' per-output
    results (none when there is a single output: it is the measurement itself)."""
    if not draws:  # one output
        return dict(
            output_draws=measured.draws[:, None, :],
            output_signed=measured.signed[:, None],
            output_baselines=(
                None if measured.baseline is None else np.array([measured.baseline])
            ),
        )
    draws = np.concatenate(draws, axis=2)
    return dict(
        output_draws=draws,
        output_signed=(
            np.mean(signed, axis=0)
            if signed and method in SIGNED_METHODS
            else draws.mean(axis=2)
        ),
        output_baselines=np.mean(baselines, axis=0) if baselines else None,
    )


def _perturbation_importance(
    method,
    fold,
    groups,
    scorer,
    row_score,
    random_state,
    *,
    n_repeats,
    max_samples,
    conditional_estimator,
    n_jobs,
    verbose,
):
    """Permutation or conditional draws of one fold (see :func:`_folds`)."""
    model, X_train, _, w_train, X_eval, y_eval, w_eval = fold
    if method == "permutation":
        return permutation_importance(
            model,
            X_eval,
            y_eval,
            scoring=scorer,
            n_repeats=n_repeats,
            sample_weight=w_eval,
            max_samples=max_samples,
            groups=groups,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=verbose,
            row_score=row_score,
        )
    return conditional_importance(
        model,
        X_train,
        w_train,
        X_eval,
        y_eval,
        w_eval,
        groups,
        scorer=scorer,
        row_score=row_score,
        n_repeats=n_repeats,
        conditional_estimator=conditional_estimator,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=verbose,
    )


def _output_fold(fold, output):
    """The fold (see :func:`_folds`) of output ``output`` alone: the model seen
    through :func:`~sknnimp._outputs.output_view`, the target's column."""
    model, X_train, y_train, w_train, X_eval, y_eval, w_eval = fold
    return (
        output_view(model, output),
        X_train,
        output_column(y_train, output),
        w_train,
        X_eval,
        output_column(y_eval, output),
        w_eval,
    )


def _output_scores(fold, scorer, n_out):
    """The fold's model's score of every output alone on the evaluation rows."""
    scores = []
    for k in range(n_out):
        view, _, _, _, X_eval, y_eval, w_eval = _output_fold(fold, k)
        scores.append(
            network_score(scorer, view, X_eval, y_eval, w_eval, INPUT_BATCH_ELEMENTS)
        )
    return np.array(scores)


def _check_width(values, n_out):
    """Per-output values of shape (n_groups, n_out), or a ValueError."""
    if values.shape[1] != n_out:
        raise ValueError(
            f"per_output=True: the model has {values.shape[1]} outputs, but the "
            f"target has {n_out}; per-output importances need one model output "
            "per target column."
        )
    return values


def _n_rows(X):
    return X.shape[0]
