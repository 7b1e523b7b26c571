"""The default conditional models fitted a block of training rows at a time.

The default model of a numeric column ``x_j`` given the others
(:mod:`~sknnimp._conditional`) is ``RidgeCV(alphas)`` of ``x_j`` on the other
columns' features (median imputation and standardization, then standardized again
on the rows where ``x_j`` is present). Everything it needs is a sum over the rows:

- the imputation medians, taken one column at a time;
- the encoding's means and scales (``StandardScaler.partial_fit``, block by block);
- the weighted Gram matrix of the features about their means, from which the
  standardization on the rows of ``x_j`` and the ridge coefficients follow;
- the leave-one-out errors that choose ``alpha``: one more pass over the rows.

Rows are read in blocks of at most :data:`~sknnimp._blocks.BLOCK_ELEMENTS`
features, so nothing held grows with the number of rows beyond a few numbers per
row; what is held besides is of the size of the Gram matrix (features squared).

Ridge on a design ``F`` (standardized, rows scaled by the square roots of their
weights ``ω``) through ``G = F'F`` and ``Θ = (G + αI)^-1``: the regression of
feature ``k`` on the other features of ``F`` has coefficients ``-Θ[-k, k] / Θ[k,
k]`` and, on row ``i`` with ``u = (F Θ)[i, k]``, residual ``u / Θ[k, k]`` and
leverage ``s_i - 2 a u + a² Θ[k, k] - (u - a Θ[k, k])² / Θ[k, k]`` (``a = F[i, k]``,
``s_i = F_i Θ F_i'``), to which the unpenalized intercept adds ``ω_i / Σω``. These
are the leave-one-out errors ``RidgeCV`` minimizes, for every target ``k`` and every
``α`` from one eigendecomposition of ``G``. Where ``x_j`` is present, it is an affine
function of its own standardized feature, so the chosen ``α`` is that of ``x_j`` and
the coefficients scale by its standard deviation.
"""

import warnings

import numpy as np

from . import _blocks
from ._tables import _column, n_columns, take_rows

_EPS = np.finfo(np.float64).eps


def row_slices(n, width):
    """Consecutive slices of ``n`` rows, each of at most
    :data:`~sknnimp._blocks.BLOCK_ELEMENTS` values of ``width`` columns."""
    size = max(1, _blocks.BLOCK_ELEMENTS // max(1, width))
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


class ColumnSummary:
    """Per column of a numeric table, read one column at a time: the median of the
    present values (NaN when there is none), and on the counted rows (present, of
    positive weight) their number, weighted mean and standard deviation, and whether
    a row of positive weight misses the value."""

    def __init__(self, X, sample_weight=None):
        n, p = X.shape[0], n_columns(X)
        w = None if sample_weight is None else np.asarray(sample_weight, float)
        positive = None if w is None else w > 0
        self.median = np.full(p, np.nan)
        self.count = np.zeros(p, dtype=int)
        self.mean = np.zeros(p)
        self.sd = np.zeros(p)
        self.missing = np.zeros(p, dtype=bool)
        for j in range(p):
            x = np.asarray(_column(X, j), dtype=float)
            present = ~np.isnan(x)
            if present.any():
                self.median[j] = np.median(x[present])
            counted = present if positive is None else present & positive
            values = x[counted]
            self.count[j] = values.size
            self.missing[j] = values.size < (n if w is None else positive.sum())
            if values.size == 0:
                continue
            if w is None:
                self.mean[j], self.sd[j] = values.mean(), values.std()
            else:
                weights = w[counted]
                self.mean[j] = np.average(values, weights=weights)
                self.sd[j] = np.sqrt(
                    np.average((values - self.mean[j]) ** 2, weights=weights)
                )


def fit_numeric_encoding(transformer, X, medians, sample_weight=None):
    """``transformer`` (an unfitted ``SimpleImputer(strategy="median")`` followed by
    a ``StandardScaler`` in a ``Pipeline``) fitted on ``X`` a block of rows at a time,
    as its own ``fit`` would (the scaler weighted, the imputer not), or None when the
    imputed values are not float64 (their precision would differ).

    ``medians`` are the columns' medians (:class:`ColumnSummary`): the imputer's
    statistics, NaN for a column with no value (dropped, as by the imputer).
    """
    (_, imputer), (_, scaler) = transformer.steps
    n = X.shape[0]
    w = None if sample_weight is None else np.asarray(sample_weight, float)
    # Quarter blocks: the imputer and the scaler's partial fit make about four
    # temporaries of the size of their input.
    slices = row_slices(n, 4 * n_columns(X))
    with warnings.catch_warnings():
        # A column with no value is dropped with a warning on every block; the
        # conditional draws, made with the fitted encoding, give it once again.
        warnings.filterwarnings("ignore", message="Skipping features without any")
        imputer.fit(take_rows(X, slices[0]))
        imputer.statistics_ = np.asarray(medians, dtype=float).copy()
        for rows in slices:
            imputed = imputer.transform(take_rows(X, rows))
            if imputed.dtype != np.float64:
                return None
            weights = None if w is None else w[rows]
            if weights is not None and not weights.sum() > 0:
                continue  # adds nothing (and would divide by a zero weight)
            scaler.partial_fit(imputed, sample_weight=weights)
    if not hasattr(scaler, "scale_"):
        return None
    # The imputer's output is a copy: the scaler may work in it (one copy of a
    # block fewer wherever the features are made).
    scaler.set_params(copy=False)
    return transformer


class Gram:
    """Weighted sums of products of rows about a shift (the weighted mean of the
    first rows added), added block by block: the shift keeps the sums of a column
    that is (nearly) constant on these rows (nearly) zero, as centring would."""

    def __init__(self, width):
        self.shift = None
        self.cross = np.zeros((width, width))
        self.sums = np.zeros(width)
        self.total = 0.0

    def add(self, F, w=None):
        """Rows ``F`` with weights ``w`` (None: ones; all positive)."""
        if F.shape[0] == 0:
            return
        if self.shift is None:
            self.shift = F.mean(axis=0) if w is None else np.average(F, 0, w)
        Z = F - self.shift
        if w is None:
            self.sums += Z.sum(axis=0)
            self.total += F.shape[0]
        else:
            self.sums += w @ Z
            self.total += w.sum()
            Z *= np.sqrt(w)[:, None]
        self.cross += Z.T @ Z

    def standardized(self, columns=None):
        """``(mean, scale, G)`` of the columns ``columns`` (None: all): the weighted
        means and the scales ``StandardScaler`` would give them on these rows, and
        the weighted Gram matrix of the standardized columns."""
        if columns is None:
            columns = np.arange(self.sums.size)
        offset = self.sums[columns] / self.total
        cross = self.cross[np.ix_(columns, columns)]
        centred = cross - np.outer(self.sums[columns], offset)
        mean = self.shift[columns] + offset
        var = np.maximum(np.diag(centred) / self.total, 0.0)
        # StandardScaler's rule for constant features (sklearn's
        # _is_constant_feature and _handle_zeros_in_scale).
        constant = var <= self.total * _EPS * var + (self.total * mean * _EPS) ** 2
        scale = np.sqrt(var)
        scale[constant | (scale < 10 * _EPS)] = 1.0
        return mean, scale, centred / scale[:, None] / scale[None, :]


def ridge_loo(G, keys, alphas, blocks):
    """Ridge regressions of the features ``keys`` each on the other features,
    ``α`` chosen among ``alphas`` by leave-one-out error (see the module doc).

    Parameters
    ----------
    G : ndarray of shape (q, q)
        Weighted Gram matrix of the standardized features.
    keys : ndarray of int of shape (T,)
        The target features.
    alphas : ndarray of shape (n_alphas,)
    blocks : iterable of (A, leverage), or None
        The rows, a block at a time: ``A`` standardized and scaled by the square
        roots of the weights, ``leverage`` the intercept's leverage of each row
        (a column, or a number for equal weights). None for two rows: each left
        out is predicted by the other's value whatever ``α``, and ``RidgeCV`` keeps
        the first ``α`` of such a tie (computed, the errors would differ by
        rounding: their leverages are close to 1).

    Returns
    -------
    coef : ndarray of shape (q, T)
        Column ``t``: coefficients of the other features for target ``keys[t]``
        (zero on its own), per unit of its standard deviation.
    """
    eigenvalues, V = np.linalg.eigh(G)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    inverse = 1.0 / (eigenvalues[None, :] + np.asarray(alphas)[:, None])  # (α, q)
    VK = V[keys]
    theta_kk = (VK**2) @ inverse.T  # (T, α)
    errors = np.zeros((len(inverse), keys.size))
    blocks = () if blocks is None else blocks
    # The temporaries of the alphas' loop, rows x max(q, T), stay in the cache.
    batch = max(1, _blocks.CACHE_ELEMENTS // max(G.shape[0], keys.size))
    for block in blocks:
        A, leverage0 = block
        del block  # A alone holds the block, freed before the next is made
        for start in range(0, A.shape[0], batch):
            rows = slice(start, start + batch)
            B = A[rows]
            lev0 = leverage0 if np.isscalar(leverage0) else leverage0[rows]
            W = B @ V
            a = B[:, keys]
            for m, d in enumerate(inverse):
                Wd = W * d
                s = np.einsum("ij,ij->i", Wd, W)[:, None]
                u = Wd @ VK.T
                t = theta_kk[:, m]
                leverage = s - 2 * a * u + a**2 * t - (u - a * t) ** 2 / t + lev0
                loo = (u / t) / (1.0 - leverage)
                errors[m] += np.einsum("ij,ij->j", loo, loo)
        del A
    # The first of the lowest errors, ties within rounding included (RidgeCV keeps
    # the first of equal scores).
    lowest = errors.min(axis=0)
    best = np.argmax(errors <= lowest + 1e-10 * np.abs(lowest), axis=0)
    theta = V @ (inverse[best] * VK).T  # column t: column keys[t] of Θ at its α
    coef = -theta / theta[keys, np.arange(keys.size)]
    coef[keys, np.arange(keys.size)] = 0.0
    return coef


class RidgeTarget:
    """One column's ridge model to fit: column ``column`` of the table, its own
    feature ``key``, the features ``design`` (bool mask) it is regressed on with
    its own, the rows where it is present (None: all; else a function giving their
    bool mask, called when the model is fitted), and its ``mean``, standard
    deviation ``sd`` and number ``count`` on the counted rows (present, of
    positive weight)."""

    def __init__(self, column, key, design, rows, mean, sd, count):
        self.column, self.key, self.design, self.rows = column, key, design, rows
        self.mean, self.sd, self.count = mean, sd, count


def ridge_models(make_features, n, q, targets, sample_weight, alphas):
    """The default models of the ``targets`` (:class:`RidgeTarget`), fitted from
    the rows' features made a block at a time.

    ``make_features(rows)`` gives the features (of shape (rows, q)) of the training
    rows ``rows`` (a slice). The targets counted on every row that share one design
    of all features are fitted together (one eigendecomposition); every other
    target alone (its design's Gram matrix, then its leave-one-out errors).

    Returns ``(coef, intercept)`` of shapes (q, T) and (T,): the model of target
    ``t`` predicts ``features @ coef[:, t] + intercept[t]``. A target with fewer
    than two counted rows or no feature to learn from is its mean (0 without rows).
    """
    w = None if sample_weight is None else np.asarray(sample_weight, float)
    coef = np.zeros((q, len(targets)))
    intercept = np.array([t.mean if t.count else 0.0 for t in targets])
    fitted = [i for i, t in enumerate(targets) if t.count >= 2 and t.design.sum() > 1]
    whole = None  # the Gram matrix of all counted rows, made when first needed

    def whole_gram():
        nonlocal whole
        if whole is None:
            whole = Gram(q)
            for rows in row_slices(n, q):
                features, weights = _counted(make_features(rows), w, rows, None)
                whole.add(features, weights)
                del features  # before the next block's are made
        return whole

    shared = [i for i in fitted if targets[i].rows is None and targets[i].design.all()]
    designs = [shared] if len(shared) > 1 else []
    designs += [[i] for i in fitted if not (len(shared) > 1 and i in shared)]
    for members in designs:
        first = targets[members[0]]
        columns = np.flatnonzero(first.design)
        mask = None if first.rows is None else first.rows()
        if mask is None:
            mean, scale, G = whole_gram().standardized(columns)
        else:
            gram = Gram(columns.size)
            for rows in row_slices(n, q):
                features, weights = _counted(make_features(rows), w, rows, mask)
                gram.add(features[:, columns], weights)
                del features
            mean, scale, G = gram.standardized()
        keys = np.searchsorted(columns, [targets[i].key for i in members])
        blocks = None
        if first.count > 2:
            blocks = _design_blocks(make_features, n, q, w, mask, columns, mean, scale)
        unit = ridge_loo(G, keys, alphas, blocks)
        sd = np.array([targets[i].sd for i in members])
        unit = unit * sd / scale[:, None]  # per unit of the features
        coef[np.ix_(columns, members)] = unit
        intercept[members] -= mean @ unit
    return coef, intercept


def _counted(features, w, rows, mask):
    """The features and weights (None: ones) of the counted rows of a block."""
    weights = None if w is None else w[rows]
    keep = None if mask is None else mask[rows]
    if weights is not None:
        keep = weights > 0 if keep is None else keep & (weights > 0)
    if keep is None or keep.all():
        return features, weights
    return features[keep], None if weights is None else weights[keep]


def _design_blocks(make_features, n, q, w, mask, columns, mean, scale):
    """The blocks of :func:`ridge_loo` for a design: the counted rows' features
    ``columns``, standardized and scaled by the roots of their weights."""
    if w is not None:
        total = w.sum() if mask is None else w[mask].sum()
    else:
        total = float(n if mask is None else mask.sum())
    every = columns.size == q
    for rows in row_slices(n, q):
        features, weights = _counted(make_features(rows), w, rows, mask)
        if features.shape[0] == 0:
            continue
        A = (features if every else features[:, columns]) - mean
        del features
        A /= scale
        if weights is None:
            yield A, 1.0 / total
        else:
            A *= np.sqrt(weights)[:, None]
            yield A, (weights / total)[:, None]
