"""scikit-learn's estimator checks, for every method and every kind of network."""

import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknnimp import NNImportanceSelector

METHODS = ["weights", "garson", "olden", "gradient", "probe", "permutation", "ablation"]
# Newer methods on the small networks only (the suite's time is bounded).
LATER_METHODS = ["conditional"]
ATTRIBUTION_METHODS = ["shap", "integrated_gradients", "sage"]

# Small, fast networks: the checks fit hundreds of them.
_NETWORKS = {
    "regressor": MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50),
    "classifier": MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50),
    "default": None,
}
# scikit-learn's own defaults (adam, 100 hidden units), briefly trained.
_DEFAULT_PARAMS = {
    "regressor-adam": MLPRegressor(max_iter=50),
    "classifier-adam": MLPClassifier(max_iter=50),
}


def _selectors():
    for method in METHODS:
        for network in [*_NETWORKS.values(), *_DEFAULT_PARAMS.values()]:
            if method == "ablation":
                # One retraining per input instead of five: the checks test the
                # estimator's contract, not the spread of the retrainings (the
                # suite's time is bounded).
                yield NNImportanceSelector(network, method=method, n_repeats=1)
            else:
                yield NNImportanceSelector(network, method=method)
    for method in LATER_METHODS:
        for network in _NETWORKS.values():
            yield NNImportanceSelector(network, method=method)
    # Attributions against a small background (a coalition costs a pass over it),
    # on the small networks.
    for method in ATTRIBUTION_METHODS:
        for kind in ("regressor", "classifier"):
            yield NNImportanceSelector(_NETWORKS[kind], method=method, background=10)
    # Per-row tests on held-out folds.
    yield NNImportanceSelector(_NETWORKS["regressor"], method="conditional", cv=3)
    yield NNImportanceSelector(
        _NETWORKS["classifier"], method="permutation", cv=3, test="sign_flip"
    )
    # Correlation groups found at fit time, on whatever data the checks pass.
    for kind, method in [("regressor", "gradient"), ("classifier", "permutation")]:
        yield NNImportanceSelector(_NETWORKS[kind], method=method, groups="auto")


def _expected_failed_checks(selector):
    if selector.estimator is None:
        # The default network minimizes the same weighted objective for weighted and
        # for repeated rows, but runs up to 1000 L-BFGS iterations on a non-convex
        # loss: rounding differences between the two data sets steer the path, and
        # importances differing by ~1e-3 can move a column across the threshold.
        # Which column does depends on the processor's floating-point kernels (this
        # passed on one machine and failed on another, for garson on sparse data).
        reason = (
            "the default network's long L-BFGS run reaches slightly different "
            "optima for weighted and for repeated rows (non-convex loss, rounding)"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    if selector.method in ATTRIBUTION_METHODS:
        # The background is a random sample of the training rows (and SAGE draws
        # rows at random): a repeated row changes which rows are drawn, so weighted
        # and repeated data give different (equally valid) estimates.
        reason = (
            "the background is a random sample of the training rows and SAGE "
            "samples rows: repeated rows change the draws"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    if selector.method != "conditional":
        return {}
    # A row of weight 2 receives one residual draw, its two repeated copies two
    # independent ones: the importances agree in expectation, not draw for draw,
    # and the check compares the selected columns exactly. (Permutation has the same
    # Monte-Carlo difference and passes on the check's data by its margin.)
    reason = (
        "conditional draws are random per row: weighted and repeated rows get "
        "different residual draws, equal only in expectation"
    )
    return {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }


@parametrize_with_checks(list(_selectors()))
def test_sklearn_compatible(estimator, check):
    # An expected failure is skipped with its reason rather than run as an xfail:
    # the sample-weight checks are among the slowest (up to 20 s each), and these
    # fail by construction, for the reasons written above.
    name = getattr(check, "func", check).__name__
    reason = _expected_failed_checks(estimator).get(name)
    if reason is not None:
        pytest.skip(f"expected to fail: {reason}")
    check(estimator)
