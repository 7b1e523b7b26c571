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
"""

from functools import partial

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from ._blocks import BLOCK_ELEMENTS
from ._default import default_preprocessing
from ._parallel import fit_weighted
from ._permutation import perturbation_importance
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


class _Encoded:
    """The table's columns as numbers, with the block of features of each column."""

    def __init__(self, X_train, sample_weight):
        transformer = default_preprocessing(X_train)
        if isinstance(transformer, ColumnTransformer):
            # It takes no sample_weight (nor routes it without metadata routing):
            # the encoding of a table with categories is fitted unweighted; the
            # models of each column given the others are weighted.
            sample_weight = None
        self.transformer = fit_weighted(transformer, X_train, None, sample_weight)
        self.owner = provenance(self.transformer, n_columns(X_train))

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
        self.encoded = _Encoded(X_train, sample_weight)
        features = self.encoded.features(X_train)
        numeric_model, categorical_model = conditional_models(conditional_estimator)
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

    What is held: the models' predictions of the numeric columns on all rows (one
    float per row and column), the permutations and the drawn classes (small
    integers); the replaced rows are made block by block (:meth:`table`).
    """

    def __init__(self, sampler, X_eval, n_repeats, random_state, sample_weight=None):
        rng = check_random_state(random_state)
        self.X = X_eval
        self.columns = [j for group in sampler.groups for j in group]
        numeric = [j for j in self.columns if sampler.numeric[j]]
        self.numeric = {j: c for c, j in enumerate(numeric)}
        n = X_eval.shape[0]
        self.centres = np.empty((n, len(numeric)))
        self.classes = {}
        proba = {j: [] for j in self.columns if j not in self.numeric}
        # The models read the other columns' features: made a block of rows at a
        # time.
        size = max(1, BLOCK_ELEMENTS // max(1, sampler.encoded.owner.size))
        for start in range(0, n, size):
            rows = np.arange(start, min(start + size, n))
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

    def values(self, r, rows=None):
        """Repeat ``r``'s replacements of the columns (``self.columns``) on the
        evaluation rows ``rows`` (None: all), as a list of 1-D arrays."""
        rows = np.arange(self.centres.shape[0]) if rows is None else rows
        sources = self.permutations[r][rows]
        numeric = list(self.numeric)
        if numeric:
            x = take_rows(self.X, sources)
            x = np.column_stack([np.asarray(_column(x, j), float) for j in numeric])
            new = self.centres[rows] + (x - self.centres[sources])
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
        X = self.X if rows is None else take_rows(self.X, rows)
        return replaced(X, self.columns, self.values(r, rows))


class _SharedRidge:
    """Ridge regressions of several columns on the other features, predicted
    together: ``predict(F)[:, index[j]] = ((F - mean) / scale) @ coef[:, index[j]]
    + intercept[index[j]]``, ``coef`` being zero on column ``j``'s own feature."""

    def __init__(self, columns, mean, scale, coef, intercept):
        self.index = {j: i for i, j in enumerate(columns)}
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept

    def predict(self, features):
        return ((features - self.mean) / self.scale) @ self.coef + self.intercept


def _ridge_columns(X_train, features, groups, owner, alphas=RIDGE_ALPHAS):
    """The default numeric models of all single-column groups at once.

    For each numeric column ``j`` alone in its group, with no missing value and one
    feature ``k`` of its own (its standardized values), ``RidgeCV(alphas)`` of ``x_j``
    on the other features, without fitting one model per column. With ``F`` the
    standardized features, ``G = F'F`` and ``Θ = (G + αI)^-1``, the ridge regression of
    feature ``k`` on the others has coefficients ``-Θ[-k, k] / Θ[k, k]`` and, on row
    ``i`` with ``u = (F Θ)[i, k]``, residual ``u / Θ[k, k]`` and leverage
    ``s_i - 2 a u + a² Θ[k, k] - (u - a Θ[k, k])² / Θ[k, k]`` (``a = F[i, k]``,
    ``s_i = F_i Θ F_i'``), to which the intercept adds ``1/n``; the leave-one-out
    errors that ``RidgeCV`` minimizes follow for every column and ``α`` from one
    eigendecomposition of ``G``, in row batches. ``x_j = mean + sd · F[:, k]``, so the
    chosen ``α`` is that of ``x_j`` and the coefficients scale by ``sd``.

    Returns a :class:`_SharedRidge` of the columns served, or None (fewer than two).
    """
    targets = {}
    for group in groups:
        if len(group) != 1:
            continue
        j = group[0]
        own = np.flatnonzero(owner == j)
        if own.size != 1 or not numeric_columns(X_train)[j]:
            continue
        x = np.asarray(_column(X_train, j), dtype=float)
        if np.isnan(x).any():
            continue
        targets[j] = (own[0], x)
    n, q = features.shape
    if len(targets) < 2 or n < 3 or q < 2:
        return None
    scaler = StandardScaler().fit(features)
    F = scaler.transform(features)
    keys = np.array([k for k, _ in targets.values()])
    eigenvalues, V = np.linalg.eigh(F.T @ F)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    inverse = 1.0 / (eigenvalues[None, :] + np.asarray(alphas)[:, None])  # (α, q)
    theta_kk = (V[keys] ** 2) @ inverse.T  # (targets, α)
    errors = np.zeros((len(alphas), keys.size))
    batch = max(1, 2**21 // q)
    for start in range(0, n, batch):
        A = F[start : start + batch]
        W = A @ V
        a = A[:, keys]
        for m, d in enumerate(inverse):
            Wd = W * d
            s = np.einsum("ij,ij->i", Wd, W)[:, None]
            u = Wd @ V[keys].T
            t = theta_kk[:, m]
            leverage = s - 2 * a * u + a**2 * t - (u - a * t) ** 2 / t + 1.0 / n
            loo = (u / t) / (1.0 - leverage)
            errors[m] += np.einsum("ij,ij->j", loo, loo)
    best = np.argmin(errors, axis=0)
    coef = np.empty((q, keys.size))
    for index, (k, x) in enumerate(targets.values()):
        theta_k = V @ (inverse[best[index]] * V[k])  # column k of Θ
        coef[:, index] = -theta_k / theta_k[k] * x.std()
        coef[k, index] = 0.0
    intercept = np.array([x.mean() for _, x in targets.values()])
    return _SharedRidge(list(targets), scaler.mean_, scaler.scale_, coef, intercept)


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
