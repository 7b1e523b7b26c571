"""scikit-learn's estimator checks, for every method and every kind of network."""

from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknnimp import NNImportanceSelector

METHODS = ["weights", "garson", "olden", "gradient", "probe", "permutation", "ablation"]

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
            yield NNImportanceSelector(network, method=method)
    # Correlation groups found at fit time, on whatever data the checks pass.
    for kind, method in [("regressor", "gradient"), ("classifier", "permutation")]:
        yield NNImportanceSelector(_NETWORKS[kind], method=method, groups="auto")


def _expected_failed_checks(selector):
    return {}


@parametrize_with_checks(
    list(_selectors()), expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
