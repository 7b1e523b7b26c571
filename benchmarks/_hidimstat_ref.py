"""hidimstat's conditional importance, as a reference for ``bench_calibration.py``.

hidimstat (Chamma, Engemann & Thirion, 2023) fits the estimator on each training fold,
measures conditional feature importance (CFI) on the held-out fold, and by default
tests the fold importances with a Nadeau-Bengio corrected t-test (``CFICV``,
``statistical_test="nb-ttest"``). Only its public API is called.
"""

try:
    import hidimstat

    HIDIMSTAT_VERSION = hidimstat.__version__
    AVAILABLE = hasattr(hidimstat, "CFICV")
    _REASON = None if AVAILABLE else "this hidimstat has no CFICV"
except ImportError as exc:  # not a dependency of the package
    HIDIMSTAT_VERSION = None
    AVAILABLE = False
    _REASON = str(exc)


def hidimstat_conditional(
    make_estimator, X, y, *, cv, n_repeats, random_state, classification
):
    """``(importances, pvalues)`` of shape (p,) from hidimstat's ``CFICV``."""
    if not AVAILABLE:
        raise ImportError(f"hidimstat is not available: {_REASON}")
    if classification:
        raise NotImplementedError("the benchmark runs hidimstat on regression only")
    estimator = hidimstat.CFICV(
        make_estimator(),
        cv=cv,
        n_permutations=n_repeats,
        feature_types="continuous",
        random_state=random_state,
    )
    importances = estimator.fit_importance(X, y)
    return importances.mean(axis=1), estimator.pvalues_
