"""How sure are we? Confidence intervals of the mean importance and randomization tests.

- Confidence interval: with ``d >= 2`` draws (repeats and/or folds), the Student-t
  interval ``mean +/- t_{0.975, d-1} * s / sqrt(d)`` with ``s`` the standard deviation
  (ddof=1) of the draws. It assumes the draws are independent and roughly normal. Draws
  from cross-validation folds are not independent (the training sets overlap), and
  repeats of one fold share the same model, so the interval is optimistic: too narrow
  (Nadeau & Bengio, 2003). Read it as a statement about the spread of the procedure,
  not as an exact 95% coverage guarantee.
- Randomization test (Olden & Jackson, 2002; Altmann et al., 2010): the whole model is
  refitted on a randomly permuted target ``B`` times and the importance recomputed;
  ``p_i = (1 + #{null_i >= observed_i}) / (1 + B)``. The smallest attainable p-value is
  ``1 / (1 + B)``.
"""

import math

import numpy as np
from scipy import stats


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
