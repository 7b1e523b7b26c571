"""Conditional permutation importance: perturb a column within what the others allow.

Shuffling a column breaks its link to ``y`` and also to the other columns, so a model
is asked about rows that never occur (a person 2 m tall and 40 kg), and a column that
is only correlated with one that matters looks important. Conditional permutation
(Strobl et al., 2008; Chamma, Engemann & Thirion, 2023) keeps the link to the other
columns. For a column ``j`` (or a group of columns):

- a model ``m_j`` predicts ``x_j`` from the other columns, fitted on the training rows;
- on the evaluation rows, a numeric ``x_j`` becomes ``m_j(x_-j) + r_π`` with ``r`` its
  residuals ``x_j - m_j(x_-j)`` on those rows and ``π`` a row permutation (one
  permutation per repeat for all columns, which keeps a group's joint residuals;
  each group is scored with only its own columns replaced);
  a non-numeric ``x_j`` (categories, strings, booleans) is drawn from the class
  probabilities ``m_j`` predicts, a missing value being one more class;
- importance = drop in score, ``n_repeats`` times.

If ``x_j`` is (close to) a function of the other columns, its replacement is (close
to) itself and its importance (close to) zero: the question answered is "what does
``x_j`` add to the others?". The other columns enter ``m_j`` through
:func:`~sknnimp._default.default_preprocessing` (median imputation and
standardization for numbers, one-hot indicators for the rest), fitted on the training
rows. The default models are ``RidgeCV`` for numeric columns and
``LogisticRegression`` for the others.

On a table of numbers only (float64 once read) with the default numeric model, the
encoding and the models are fitted a block of training rows at a time
(:mod:`~sknnimp._streaming`): fitting holds a few numbers per row, a block of rows
and matrices of the features' number squared, never the training rows' features
whole. Other tables (categories, sparse matrices, float32 values) and other models
are fitted on the training rows' features made whole.
"""

from functools import partial

import numpy as np
from scipy import sparse
from sklearn.base import clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from . import _blocks
from ._default import default_preprocessing
from ._parallel import fit_weighted
from ._permutation import perturbation_importance
from ._streaming import ColumnSummary, RidgeTarget, fit_numeric_encoding, ridge_models
from ._tables import (
    _column,
    _is_missing,
    n_columns,
    numeric_columns,
    replaced,
    take_rows,
)
from .networks import provenance

#: Regularization strengths tried by the default numeric model (on standardized
#: features); the largest make it a constant where the other columns say nothing.
RIDGE_ALPHAS = np.logspace(-3, 6, 19)

#: Stands for a missing value among the classes of a non-numeric column.
_MISSING = "\x00missing"


def conditional_models(conditional_estimator):
    """``(numeric model, categorical model)`` templates from the user's parameter."""
    numeric = RidgeCV(alphas=RIDGE_ALPHAS)
    categorical = LogisticRegression(max_iter=1000)
    if isinstance(conditional_estimator, dict):
        unknown = set(conditional_estimator) - {"numeric", "categorical"}
        if unknown:
            raise ValueError(
                "conditional_estimator as a dict takes the keys 'numeric' and "
                f"'categorical'; got {sorted(unknown)}."
            )
        numeric = conditional_estimator.get("numeric", numeric)
        categorical = conditional_estimator.get("categorical", categorical)
    elif conditional_estimator is not None:
        if is_classifier(conditional_estimator):
            categorical = conditional_estimator
        else:
            numeric = conditional_estimator
    return numeric, categorical


def _default_numeric_model(conditional_estimator):
    """Whether numeric columns get the default model (:func:`conditional_models`)."""
    if isinstance(conditional_estimator, dict):
        return "numeric" not in conditional_estimator
    return conditional_estimator is None or is_classifier(conditional_estimator)


class _Encoded:
    """The table's columns as numbers (a fitted ``transformer``), with the block of
    features of each column."""

    def __init__(self, transformer, n_columns):
        self.transformer = transformer
        self.owner = provenance(transformer, n_columns)

    @classmethod
    def fitted(cls, X_train, sample_weight):
        """:func:`~sknnimp._default.default_preprocessing` fitted on the rows."""
        transformer = default_preprocessing(X_train)
        if isinstance(transformer, ColumnTransformer):
            # It takes no sample_weight (nor routes it without metadata routing):
            # the encoding of a table with categories is fitted unweighted; the
            # models of each column given the others are weighted.
            sample_weight = None
        transformer = fit_weighted(transformer, X_train, None, sample_weight)
        return cls(transformer, n_columns(X_train))

    def features(self, X):
        out = self.transformer.transform(X)
        return np.asarray(out.toarray() if hasattr(out, "toarray") else out, float)


class ConditionalSampler:
    """Fitted models of each group's columns given the others (see module doc).

    Parameters
    ----------
    X_train : table
        Training rows, as the user passed them.
    groups : list of ndarray of int
        Columns perturbed together.
    sample_weight : ndarray or None
        Weights of the training rows.
    conditional_estimator : estimator, dict or None
        As in :func:`~sknnimp.nn_importance`.
    """

    def __init__(self, X_train, groups, sample_weight, conditional_estimator):
        self.groups = groups
        self.numeric = numeric_columns(X_train)
        numeric_model, categorical_model = conditional_models(conditional_estimator)
        if (
            _default_numeric_model(conditional_estimator)
            and self.numeric.all()
            and not sparse.issparse(X_train)
            and X_train.shape[0] > 0
            and self._fit_in_blocks(X_train, sample_weight)
        ):
            return
        self.encoded = _Encoded.fitted(X_train, sample_weight)
        features = self.encoded.features(X_train)
        self.shared = None
        if conditional_estimator is None and sample_weight is None:
            self.shared = _ridge_columns(X_train, features, groups, self.encoded.owner)
        self.models = []
        for group in groups:
            others = ~np.isin(self.encoded.owner, group)
            models = {}
            for j in group:
                if self.shared is not None and j in self.shared.index:
                    models[j] = self.shared
                    continue
                target = _column(X_train, j)
                if self.numeric[j]:
                    models[j] = _fit_numeric(
                        numeric_model, features[:, others], target, sample_weight
                    )
                else:
                    models[j] = _fit_categorical(
                        categorical_model, features[:, others], target, sample_weight
                    )
            self.models.append((others, models))

    def _fit_in_blocks(self, X_train, sample_weight):
        """The default models of a table of numbers, fitted a block of rows at a
        time (:mod:`~sknnimp._streaming`): every column's model is linear in the
        features, all predicted together by :attr:`shared`. False (nothing
        fitted) when the table's values are not float64 or no row has weight."""
        if sample_weight is not None and not (np.asarray(sample_weight) > 0).any():
            return False
        transformer = default_preprocessing(X_train)
        if not isinstance(transformer, Pipeline):
            return False
        summary = ColumnSummary(X_train, sample_weight)
        transformer = fit_numeric_encoding(
            transformer, X_train, summary.median, sample_weight
        )
        if transformer is None:
            return False
        self.encoded = _Encoded(transformer, n_columns(X_train))
        owner = self.encoded.owner
        targets = []
        for group in self.groups:
            others = ~np.isin(owner, group)
            for j in group:
                own = np.flatnonzero(owner == j)  # none for a column with no value
                design = others.copy()
                design[own] = True
                rows = None
                if summary.missing[j]:
                    rows = partial(_present, X_train, j)
                targets.append(
                    RidgeTarget(
                        j,
                        own[0] if own.size else -1,
                        design,
                        rows,
                        summary.mean[j],
                        summary.sd[j],
                        summary.count[j],
                    )
                )
        coef, intercept = ridge_models(
            lambda rows: self.encoded.features(take_rows(X_train, rows)),
            X_train.shape[0],
            owner.size,
            targets,
            sample_weight,
            RIDGE_ALPHAS,
        )
        self.shared = _LinearColumns([t.column for t in targets], coef, intercept)
        self.models = [
            (~np.isin(owner, group), {j: self.shared for j in group})
            for group in self.groups
        ]
        return True

    def fitted_columns(self, X_eval):
        """What the models say of every group's columns on the rows ``X_eval``:
        ``{j: centre}`` (1-D float array) for a numeric column, ``{j: (classes,
        proba)}`` for another."""
        features = self.encoded.features(X_eval)
        centres = None if self.shared is None else self.shared.predict(features)
        fitted = {}
        for (others, models), group in zip(self.models, self.groups):
            if any(model is not self.shared for model in models.values()):
                own = features[:, others]
            for j in group:
                model = models[j]
                if not self.numeric[j]:
                    fitted[j] = _class_probabilities(model, own)
                elif model is self.shared:
                    fitted[j] = centres[:, self.shared.index[j]]
                else:
                    fitted[j] = _predict_numeric(model, own)
        return fitted


class ConditionalDraws:
    """The replacements of every group's columns on the evaluation rows, for
    ``n_repeats`` repeats, made for any rows on demand.

    Repeat ``r`` draws one row permutation ``π_r`` (among the rows of positive
    weight: a row of weight 0 keeps its own residual, it is not part of the data)
    and one class per row for each non-numeric column. On row ``i``, a numeric
    column's replacement is ``m_j(x_-j)_i + (x_j - m_j(x_-j))_π_r(i)``. Each group is
    scored with only its own columns replaced, so sharing ``π_r`` between groups
    changes no group's draw law; within a group it keeps the columns' joint
    residuals.

    What is held: the permutations and the drawn classes (small integers), and
    the models' predictions of the numeric columns on all rows (one float per row
    and column) unless every column's model is one linear map of the features (the
    default models of a table of numbers, :attr:`ConditionalSampler.shared`): the
    difference of the centres of rows ``i`` and ``π(i)`` is then made when needed,
    ``(F_i - F_π(i)) @ coef``, from the two rows' features. The replaced rows are
    made block by block (:meth:`table`).
    """

    def __init__(self, sampler, X_eval, n_repeats, random_state, sample_weight=None):
        rng = check_random_state(random_state)
        self.X = X_eval
        self.columns = [j for group in sampler.groups for j in group]
        # Column order, so that a float64 array whose every column is replaced
        # takes the replacements as they are computed (:meth:`table`).
        numeric = sorted({j for j in self.columns if sampler.numeric[j]})
        self.numeric = {j: c for c, j in enumerate(numeric)}
        self._whole = (
            isinstance(X_eval, np.ndarray)
            and X_eval.dtype == np.float64
            and numeric == list(range(X_eval.shape[1]))
        )
        n = self.n = X_eval.shape[0]
        self.classes = {}
        proba = {j: [] for j in self.columns if j not in self.numeric}
        self.centres = self._linear = None
        shared = sampler.shared
        if (shared is not None and not proba) and all(
            model is shared for _, models in sampler.models for model in models.values()
        ):
            # One linear map: nothing per row to hold (see the class doc).
            self._encoded = sampler.encoded
            self._linear = shared.coef[:, [shared.index[j] for j in numeric]]
        else:
            self.centres = np.empty((n, len(numeric)))
        # The models read the other columns' features: made a block of rows at a
        # time.
        size = max(1, _blocks.BLOCK_ELEMENTS // max(1, sampler.encoded.owner.size))
        for start in range(0, n if self._linear is None else 0, size):
            rows = slice(start, min(start + size, n))
            fitted = sampler.fitted_columns(take_rows(X_eval, rows))
            for j, c in self.numeric.items():
                self.centres[rows, c] = fitted[j]
            for j in proba:
                self.classes[j], p = fitted[j]
                proba[j].append(p)
        proba = {j: np.concatenate(p) for j, p in proba.items()}
        counted = np.arange(n)
        if sample_weight is not None:
            counted = np.flatnonzero(np.asarray(sample_weight) > 0)
        self.permutations = []
        self.drawn = []
        for _ in range(n_repeats):
            perm = np.arange(n)
            perm[counted] = counted[rng.permutation(counted.size)]
            self.permutations.append(perm)
            self.drawn.append(
                {
                    j: _draw_classes(classes, proba[j], rng)
                    for j, classes in self.classes.items()
                }
            )

    def _numeric_values(self, r, rows):
        """Repeat ``r``'s replacements of the numeric columns on the rows ``rows``
        (a slice or an index array), one column each in the order of
        ``self.numeric``: ``centre + (x - centre)`` of the source rows."""
        sources = self.permutations[r][rows]
        if self._whole:
            # The source rows, in column order (Fortran): the network's inputs are
            # read a column at a time (sknnimp._blocks), and a preprocessing that
            # works column by column keeps the order, so no copy of the block is
            # made only to reorder it.
            new = np.empty((sources.size, self.X.shape[1]), order="F")
            np.take(self.X, sources, axis=0, out=new, mode="clip")
        else:
            x = take_rows(self.X, sources)
            new = np.column_stack(
                [np.asarray(_column(x, j), float) for j in self.numeric]
            )
        if self._linear is None:
            new -= self.centres[sources]
            new += self.centres[rows]
        else:
            self._add_centre_differences(new, rows, sources)
        return new

    def _add_centre_differences(self, new, rows, sources):
        """``new += centres[rows] - centres[sources]``, from the rows' features
        (the intercepts cancel), a few rows at a time."""
        width = max(self._linear.shape)
        size = max(1, _blocks.CACHE_ELEMENTS // max(1, width))
        for start in range(0, new.shape[0], size):
            part = slice(start, min(start + size, new.shape[0]))
            if isinstance(rows, slice):
                here = slice(rows.start + part.start, rows.start + part.stop)
            else:
                here = rows[part]
            features = self._encoded.features(take_rows(self.X, here))
            features -= self._encoded.features(take_rows(self.X, sources[part]))
            new[part] += features @ self._linear

    def values(self, r, rows=None):
        """Repeat ``r``'s replacements of the columns (``self.columns``) on the
        evaluation rows ``rows`` (None: all), as a list of 1-D arrays."""
        rows = _as_rows(rows, self.n)
        if self.numeric:
            new = self._numeric_values(r, rows)
        values = []
        for j in self.columns:
            if j in self.numeric:
                values.append(new[:, self.numeric[j]])
            else:
                values.append(self.classes[j][self.drawn[r][j][rows]])
        return values

    def table(self, r, rows=None):
        """The evaluation rows ``rows`` (None: all) with repeat ``r``'s
        replacements of every group's columns."""
        if self._whole:
            # Every column replaced: the replacements are the table.
            return self._numeric_values(r, _as_rows(rows, self.n))
        X = self.X if rows is None else take_rows(self.X, rows)
        return replaced(X, self.columns, self.values(r, rows))


def _as_rows(rows, n):
    """Rows (None: all ``n``; a slice is taken with step 1) as a slice when they
    are consecutive, so that the centres of the rows are read as a view."""
    if rows is None:
        return slice(0, n)
    if isinstance(rows, slice):
        start, stop, _ = rows.indices(n)
        return slice(start, stop)
    rows = np.asarray(rows)
    if rows.size and rows[0] >= 0 and np.all(np.diff(rows) == 1):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _present(X, j):
    """Rows where column ``j`` of ``X`` holds a value."""
    return ~np.isnan(np.asarray(_column(X, j), dtype=float))


class _LinearColumns:
    """Linear models of several columns in the features, predicted together:
    ``predict(F)[:, index[j]] = F @ coef[:, index[j]] + intercept[index[j]]``,
    ``coef`` being zero on column ``j``'s own features."""

    def __init__(self, columns, coef, intercept):
        self.index = {j: i for i, j in enumerate(columns)}
        self.coef, self.intercept = coef, intercept

    def predict(self, features):
        out = features @ self.coef
        out += self.intercept
        return out


def _ridge_columns(X_train, features, groups, owner, alphas=RIDGE_ALPHAS):
    """The default numeric models of all single-column groups at once, from the
    training rows' features ``features`` (all rows, unweighted).

    For each numeric column ``j`` alone in its group, with no missing value and one
    feature ``k`` of its own, ``RidgeCV(alphas)`` of ``x_j`` on the other features,
    from one eigendecomposition of their Gram matrix
    (:func:`~sknnimp._streaming.ridge_models`).

    Returns a :class:`_LinearColumns` of the columns served, or None (fewer than
    two).
    """
    n, q = features.shape
    numeric = numeric_columns(X_train)
    targets = []
    for group in groups:
        if len(group) != 1:
            continue
        j = group[0]
        own = np.flatnonzero(owner == j)
        if own.size != 1 or not numeric[j]:
            continue
        x = np.asarray(_column(X_train, j), dtype=float)
        if np.isnan(x).any():
            continue
        design = np.ones(q, dtype=bool)
        targets.append(RidgeTarget(j, own[0], design, None, x.mean(), x.std(), n))
    if len(targets) < 2 or n < 3 or q < 2:
        return None
    coef, intercept = ridge_models(
        lambda rows: features[rows], n, q, targets, None, alphas
    )
    return _LinearColumns([t.column for t in targets], coef, intercept)


def _fit_numeric(template, features, target, sample_weight):
    """A clone of ``template`` fitted where ``target`` is present (a constant if
    there is nothing to learn from)."""
    target = np.asarray(target, dtype=float)
    present = ~np.isnan(target)
    if sample_weight is not None:
        present &= np.asarray(sample_weight) > 0
    if present.sum() < 2 or features.shape[1] == 0:
        w = None if sample_weight is None else np.asarray(sample_weight)[present]
        mean = np.average(target[present], weights=w) if present.any() else 0.0
        return float(mean)
    w = None if sample_weight is None else np.asarray(sample_weight)[present]
    scaler = StandardScaler().fit(features[present], sample_weight=w)
    model = fit_weighted(
        clone(template), scaler.transform(features[present]), target[present], w
    )
    return scaler, model


def _predict_numeric(model, features):
    if isinstance(model, float):
        return np.full(features.shape[0], model)
    scaler, model = model
    return np.asarray(model.predict(scaler.transform(features)), float).ravel()


def _fit_categorical(template, features, target, sample_weight):
    """``(representatives, classifier or class frequencies)`` for a non-numeric
    column; missing values are the class :data:`_MISSING`."""
    keys = np.array([_MISSING if _is_missing(v) else str(v) for v in target])
    classes, first = np.unique(keys, return_index=True)
    representatives = np.array(
        [None if c == _MISSING else target[i] for c, i in zip(classes, first)],
        dtype=object,
    )
    w = np.ones(len(keys)) if sample_weight is None else np.asarray(sample_weight)
    if classes.size == 1 or features.shape[1] == 0:
        counts = np.array([w[keys == c].sum() for c in classes])
        return representatives, counts / counts.sum()
    scaler = StandardScaler().fit(features, sample_weight=w)
    model = fit_weighted(clone(template), scaler.transform(features), keys, w)
    return representatives, (scaler, model, classes)


def _class_probabilities(model, features):
    representatives, fitted = model
    if isinstance(fitted, np.ndarray):
        proba = np.tile(fitted, (features.shape[0], 1))
        return representatives, proba
    scaler, classifier, classes = fitted
    proba = classifier.predict_proba(scaler.transform(features))
    # Columns in the order of ``classes`` (the classifier may order them alike).
    order = np.searchsorted(classes, classifier.classes_)
    full = np.zeros((features.shape[0], classes.size))
    full[:, order] = proba
    return representatives, full


def _draw_classes(classes, proba, rng):
    """One class per row, drawn from its probabilities (inverse CDF): the index of
    the class in ``classes``."""
    cumulative = np.cumsum(proba, axis=1)
    u = rng.uniform(size=(proba.shape[0], 1)) * cumulative[:, -1:]
    index = np.minimum((cumulative < u).sum(axis=1), classes.size - 1)
    return index.astype(np.min_scalar_type(classes.size))


def conditional_importance(
    estimator,
    X_train,
    w_train,
    X_eval,
    y_eval,
    w_eval,
    groups,
    *,
    scorer,
    row_score=None,
    n_repeats=5,
    conditional_estimator=None,
    random_state=None,
    n_jobs=None,
    verbose=0,
):
    """Conditional permutation draws of every group on one fold.

    The conditional models are fitted on ``X_train`` (the rows the explained model
    was fitted on), the replacements drawn and scored on ``X_eval``. Every repeat
    replaces all groups' columns at once (:class:`ConditionalDraws`, made for a block
    of rows at a time); each group is scored with only its own columns replaced (for
    a network, its block of network inputs is read from the replaced rows: the
    preprocessing does not mix columns).

    Returns the Bunch of :func:`~sknnimp._permutation.perturbation_importance`.
    """
    sampler = ConditionalSampler(X_train, groups, w_train, conditional_estimator)
    draws = ConditionalDraws(sampler, X_eval, n_repeats, random_state)
    del sampler
    replacements = [partial(draws.table, r) for r in range(n_repeats)]
    return perturbation_importance(
        estimator,
        X_eval,
        y_eval,
        w_eval,
        groups,
        scorer=scorer,
        row_score=row_score,
        replacements=replacements,
        n_jobs=n_jobs,
        verbose=verbose,
        label="conditional permutation",
    )
