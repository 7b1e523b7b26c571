"""How sure are we? Confidence intervals of the mean importance and tests.

- Per-row tests (held-out rows, a score that is a sum of per-row values; see
  :mod:`sknnimp._rowwise`): the per-row differences ``d_i`` of the fitted models'
  losses with and without the input, one per held-out row, are tested for a positive
  mean (one-sided, H0: importance <= 0) with a one-sample t-test, a Wilcoxon
  signed-rank test, or a sign-flip randomization test (exact enumeration of the
  ``2^n`` sign patterns up to :data:`SIGN_FLIP_EXACT_ROWS` rows, else
  :data:`SIGN_FLIP_DRAWS` random patterns). They ask whether the fitted models rely
  on the input, without refits.

  The differences tested are those of the *first* draw of every row. Under the null
  a row's loss with its own value and with another row's are exchangeable, so one
  draw's difference is symmetric about zero, which all three tests can use. The
  average of several draws against the single intact loss is not symmetric (losses
  are skewed): measured in ``benchmarks/bench_calibration.py``, the Wilcoxon test on
  it rejected 31-34% of null inputs at alpha = 0.05 and the t-test 7-8%, against
  5-6% for one draw. The other draws still enter the importance.
- Cross-fitted draws (one value per fold), any method: the Nadeau & Bengio (2003)
  corrected t-test (``test="nadeau_bengio"``) and interval
  ``mean +/- t_{0.975, J-1} * sqrt((1/J + n_test/n_train) * s^2)`` over the ``J`` fold
  means, ``s`` their standard deviation (ddof=1): the folds' training sets
  overlap, which the plain ``s^2 / J`` ignores.
- Repeats on the same data (no ``cv``): the Student-t interval
  ``mean +/- t_{0.975, d-1} * s / sqrt(d)`` of the ``d`` draws, a statement about the
  spread of the shuffles, not about new data.
- Randomization test (Olden & Jackson, 2002; Altmann et al., 2010): the whole model is
  refitted on a randomly permuted target ``B`` times and the importance recomputed;
  ``p_i = (1 + #{null_i >= observed_i}) / (1 + B)``. The smallest attainable p-value is
  ``1 / (1 + B)``.
"""

import math
from itertools import product

import numpy as np
from scipy import stats
from sklearn.utils import check_random_state

#: Up to this many rows, the sign-flip test enumerates every sign pattern.
SIGN_FLIP_EXACT_ROWS = 16

#: Random sign patterns of the sign-flip test beyond :data:`SIGN_FLIP_EXACT_ROWS`.
SIGN_FLIP_DRAWS = 9999

#: The per-row tests.
ROW_TESTS = ("t", "wilcoxon", "sign_flip")

#: Every test of held-out importance: per-row, or over the folds.
TESTS = (*ROW_TESTS, "nadeau_bengio")


class PoorModelWarning(UserWarning):
    """The explained model does no better than a constant prediction.

    Its importances then describe a model that learned nothing about ``y``: they are
    noise, whatever their size.
    """


def rowwise_pvalues(differences, test="t", random_state=None):
    """One-sided p-values (H0: mean <= 0) of each row of ``differences``.

    Parameters
    ----------
    differences : ndarray of shape (m, n)
        Per-row loss differences, one row per group.
    test : {"t", "wilcoxon", "sign_flip"}
        ``"t"``: :func:`scipy.stats.ttest_1samp`; ``"wilcoxon"``:
        :func:`scipy.stats.wilcoxon` (zero differences dropped); ``"sign_flip"``: the
        fraction of sign patterns ``s`` with ``sum(s * d) >= sum(d)``, exact for up
        to :data:`SIGN_FLIP_EXACT_ROWS` rows, else ``(1 + #) / (1 + B)`` over ``B``
        random patterns.
    random_state : int, RandomState instance or None
        Seeds the random sign patterns.
    """
    differences = np.atleast_2d(np.asarray(differences, dtype=float))
    rng = check_random_state(random_state)
    return np.array([_pvalue(d, test, rng) for d in differences])


def _pvalue(d, test, rng):
    d = d[~np.isnan(d)]
    if d.size == 0 or not np.any(d != 0):
        return 1.0
    if test == "t":
        if d.size < 2 or np.ptp(d) == 0:
            return 0.0 if d.mean() > 0 else 1.0
        return float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)
    if test == "wilcoxon":
        return float(stats.wilcoxon(d, alternative="greater").pvalue)
    observed = d.sum()
    tolerance = 1e-12 * np.abs(d).sum()
    if d.size <= SIGN_FLIP_EXACT_ROWS:
        signs = np.array(list(product((1.0, -1.0), repeat=d.size)))
        return float(np.mean(signs @ d >= observed - tolerance))
    exceed = 0
    for start in range(0, SIGN_FLIP_DRAWS, 1000):
        size = min(1000, SIGN_FLIP_DRAWS - start)
        signs = rng.choice((-1.0, 1.0), size=(size, d.size))
        exceed += int(np.sum(signs @ d >= observed - tolerance))
    return (1.0 + exceed) / (1.0 + SIGN_FLIP_DRAWS)


def _nadeau_bengio_scale(fold_values, n_train, n_test):
    J = fold_values.shape[1]
    return np.sqrt((1 / J + n_test / n_train) * fold_values.var(axis=1, ddof=1))


def nadeau_bengio_pvalues(fold_values, n_train, n_test):
    """One-sided corrected resampled t-test (H0: mean <= 0) over folds.

    ``t = mean / sqrt((1/J + n_test/n_train) * s^2)`` with ``J - 1`` degrees of
    freedom (Nadeau & Bengio, 2003); 1 below 2 folds or without spread and a
    non-positive mean, 0 without spread and a positive mean.
    """
    fold_values = np.asarray(fold_values, dtype=float)
    J = fold_values.shape[1]
    mean = fold_values.mean(axis=1)
    if J < 2:
        return np.ones(fold_values.shape[0])
    scale = _nadeau_bengio_scale(fold_values, n_train, n_test)
    pvalues = np.where(mean > 0, 0.0, 1.0)
    spread = scale > 0
    pvalues[spread] = stats.t.sf(mean[spread] / scale[spread], J - 1)
    return pvalues


def nadeau_bengio_interval(fold_values, n_train, n_test, level=0.95):
    """Corrected resampled t-interval over folds (Nadeau & Bengio, 2003).

    Parameters
    ----------
    fold_values : ndarray of shape (m, J)
        One value per fold (repeats averaged), one row per group.
    n_train, n_test : float
        Mean number of training and evaluation rows of a fold.

    Returns
    -------
    ndarray of shape (m, 2): ``mean +/- t_{(1+level)/2, J-1} * sqrt((1/J +
    n_test/n_train) * s^2)``, NaN below 2 folds.
    """
    fold_values = np.asarray(fold_values, dtype=float)
    J = fold_values.shape[1]
    if J < 2:
        return np.full((fold_values.shape[0], 2), np.nan)
    mean = fold_values.mean(axis=1)
    half = stats.t.ppf(0.5 + level / 2, J - 1) * _nadeau_bengio_scale(
        fold_values, n_train, n_test
    )
    return np.column_stack([mean - half, mean + half])


def confidence_interval(draws, level=0.95):
    """Two-sided t-interval for the mean of each row of ``draws``; NaN below 2 draws."""
    draws = np.asarray(draws, dtype=float)
    n_draws = draws.shape[1]
    if n_draws < 2:
        return np.full((draws.shape[0], 2), np.nan)
    mean = draws.mean(axis=1)
    half = (
        stats.t.ppf(0.5 + level / 2, n_draws - 1)
        * draws.std(axis=1, ddof=1)
        / np.sqrt(n_draws)
    )
    return np.column_stack([mean - half, mean + half])


def randomization_pvalues(observed, null):
    """``(1 + #{null >= observed}) / (1 + B)`` per row; ``null`` has shape (m, B)."""
    null = np.asarray(null, dtype=float)
    exceed = (null >= np.asarray(observed, dtype=float)[:, None]).sum(axis=1)
    return (1.0 + exceed) / (1.0 + null.shape[1])


def min_null_repeats(alpha):
    """Smallest ``B`` with ``1 / (1 + B) <= alpha``: below it nothing is significant."""
    return max(1, math.ceil(1.0 / alpha - 1.0 - 1e-12))


def benjamini_hochberg(pvalues, alpha):
    """Mask of the hypotheses that Benjamini-Hochberg rejects at level ``alpha``."""
    pvalues = np.asarray(pvalues, dtype=float)
    m = pvalues.size
    order = np.argsort(pvalues, kind="mergesort")
    passing = pvalues[order] <= alpha * np.arange(1, m + 1) / m
    rejected = np.zeros(m, dtype=bool)
    if passing.any():
        k = np.flatnonzero(passing)[-1]
        rejected[order[: k + 1]] = True
    return rejected
