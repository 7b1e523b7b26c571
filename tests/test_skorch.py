"""skorch networks (``NeuralNetRegressor``, ``NeuralNetClassifier``) through the network
interface, against independent oracles.

The oracles are skorch's own ``predict``/``predict_proba`` (forward pass), PyTorch's
``torch.autograd.functional.jacobian`` applied row by row (input gradients), the
formulas of the weight-reading methods applied to the module's weights, and
scikit-learn's ``permutation_importance``. Skipped when PyTorch or skorch is missing.
"""

import subprocess
import sys
from copy import deepcopy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from scipy import sparse  # noqa: E402
from shapley_oracle import brute_force_shapley  # noqa: E402
from sklearn.base import is_classifier  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.inspection import permutation_importance  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.metrics import check_scoring  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from skorch import (  # noqa: E402
    NeuralNetBinaryClassifier,
    NeuralNetClassifier,
    NeuralNetRegressor,
)
from torch import nn  # noqa: E402
from torch.utils.data import default_collate  # noqa: E402

from sknnimp import (  # noqa: E402
    NNImportanceSelector,
    attributions,
    compare_importances,
    nn_importance,
)
from sknnimp._permutation import _network_stand_in  # noqa: E402
from sknnimp.networks import NetworkModel, check_network, is_network  # noqa: E402
from sknnimp.networks._skorch import SkorchNetwork, is_skorch_network  # noqa: E402

# The networks are tiny: one thread is faster than several on a shared machine.
torch.set_num_threads(1)

N_ROWS, N_FEATURES = 240, 4
# Raw columns with different scales and offsets, so that the scaler matters.
COLUMN_SCALE = np.array([1.0, 3.0, 0.5, 2.0])
COLUMN_OFFSET = np.array([5.0, -2.0, 1.0, 0.0])


def _data():
    """Float32 rows; the targets depend on columns 0 and 1 only."""
    rng = np.random.RandomState(0)
    Z = rng.normal(size=(N_ROWS, N_FEATURES))
    X = (Z * COLUMN_SCALE + COLUMN_OFFSET).astype(np.float32)
    signal = 2 * Z[:, 0] + np.sin(2 * Z[:, 1])
    y = (signal + 0.1 * rng.normal(size=N_ROWS)).astype(np.float32)
    binary = (signal > 0).astype(np.int64)
    three = np.digitize(signal, [-1.0, 1.0]).astype(np.int64)
    return X, y, binary, three


X, Y, Y_BINARY, Y_THREE = _data()


def _fit(estimator, X, y, seed=0):
    torch.manual_seed(seed)
    return estimator.fit(X, y)


def _net(cls, module, **params):
    defaults = dict(max_epochs=30, lr=0.02, batch_size=64, train_split=None, verbose=0)
    defaults.update(optimizer=torch.optim.Adam)
    return cls(module, **{**defaults, **params})


def _regressor_module():
    return nn.Sequential(nn.Linear(N_FEATURES, 8), nn.Tanh(), nn.Linear(8, 1))


def _binary_module():
    return nn.Sequential(
        nn.Linear(N_FEATURES, 8), nn.ReLU(), nn.Linear(8, 2), nn.Softmax(dim=-1)
    )


def _multiclass_module():
    return nn.Sequential(
        nn.Linear(N_FEATURES, 6),
        nn.Sigmoid(),
        nn.Dropout(0.1),
        nn.Linear(6, 5),
        nn.Tanh(),
        nn.Linear(5, 3),
    )


class ConvNet(nn.Module):
    """A dense embedding, then a convolution over its units."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(N_FEATURES, 8)
        self.conv = nn.Conv1d(1, 2, 3)
        self.out = nn.Linear(12, 1)

    def forward(self, x):
        h = torch.tanh(self.embed(x)).unsqueeze(1)
        return self.out(torch.relu(self.conv(h)).flatten(1))


@pytest.fixture(scope="module")
def regressor():
    net = _net(NeuralNetRegressor, _regressor_module(), optimizer__weight_decay=1e-3)
    return _fit(make_pipeline(StandardScaler(), net), X, Y[:, None])


@pytest.fixture(scope="module")
def binary():
    net = _net(NeuralNetClassifier, _binary_module())
    return _fit(make_pipeline(StandardScaler(), net), X, Y_BINARY)


@pytest.fixture(scope="module")
def multiclass():
    net = _net(NeuralNetClassifier, _multiclass_module(), criterion=nn.CrossEntropyLoss)
    return _fit(make_pipeline(StandardScaler(), net), X, Y_THREE)


@pytest.fixture(scope="module")
def ttr():
    # The regressor sees the 1-D, float64 target TransformedTargetRegressor passes.
    module = nn.Sequential(*_regressor_module(), nn.Flatten(0))
    inner = make_pipeline(StandardScaler(), _net(NeuralNetRegressor, module))
    model = TransformedTargetRegressor(inner, transformer=StandardScaler())
    return _fit(model, X, 10 * Y + 3)


@pytest.fixture(scope="module")
def conv():
    net = _net(NeuralNetRegressor, ConvNet)
    return _fit(make_pipeline(StandardScaler(), net), X, Y[:, None])


MODELS = ["regressor", "binary", "multiclass", "ttr"]


def _targets(name):
    return {
        "regressor": Y[:, None],
        "binary": Y_BINARY,
        "multiclass": Y_THREE,
        "ttr": 10 * Y + 3,
        "conv": Y[:, None],
    }[name]


def _oracle_function(model):
    """``(module, f)``: the network's output as a function of one row, in torch."""
    final = model.regressor_ if isinstance(model, TransformedTargetRegressor) else model
    net = final.steps[-1][1]
    module = net.module_.eval()
    scale = 1.0
    if isinstance(model, TransformedTargetRegressor):
        scale = float(model.transformer_.scale_[0])
    nonlinearity = net._get_predict_nonlinearity()

    def f(row):
        out = nonlinearity(module(row[None])).reshape(1, -1)[0]
        if isinstance(net, NeuralNetClassifier) and out.shape[0] == 2:
            out = out[1:]  # the positive class
        return out * scale

    return module, f


def _network_inputs(model):
    return NetworkModel(model).transform(X)


# -- which estimators, and importing ------------------------------------------------


def test_importing_sknnimp_does_not_import_torch():
    code = (
        "import sys; import sknnimp, sknnimp.networks; "
        "from sklearn.neural_network import MLPRegressor; "
        "sknnimp.networks.is_network(MLPRegressor()); "
        "assert 'torch' not in sys.modules and 'skorch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_which_estimators_are_skorch_networks():
    class MyRegressor(NeuralNetRegressor):
        pass

    assert is_skorch_network(NeuralNetRegressor(_regressor_module()))
    assert is_skorch_network(NeuralNetClassifier(_binary_module()))
    assert is_skorch_network(MyRegressor(_regressor_module()))
    assert not is_skorch_network(NeuralNetBinaryClassifier(_regressor_module()))
    assert not is_skorch_network(MLPRegressor())
    assert is_network(
        make_pipeline(StandardScaler(), NeuralNetRegressor(nn.Linear(2, 1)))
    )
    with pytest.raises(TypeError, match="is not a network"):
        check_network(NeuralNetBinaryClassifier(_regressor_module()))


def test_unfitted_net_is_refused():
    with pytest.raises(ValueError, match="not fitted"):
        SkorchNetwork(NeuralNetRegressor(_regressor_module()))


# -- forward pass and gradients -----------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_forward_equals_predict(name, request):
    model = request.getfixturevalue(name)
    net = NetworkModel(model).network
    Xn = _network_inputs(model)
    out = net.forward(Xn, batch_size=37)
    assert out.dtype == np.float64 and out.shape == (N_ROWS, net.n_outputs)
    if name == "binary":
        expected = model.predict_proba(X)[:, 1:]
    elif name == "multiclass":
        expected = model.predict_proba(X)
    else:
        expected = model.predict(X).reshape(N_ROWS, -1)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        net.forward(sparse.csr_array(Xn)), out, rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("name", [*MODELS, "conv"])
def test_gradient_importance_equals_autograd(name, request):
    """``sigma'_i * mean_rows |d o_k / d x'_i|``, averaged over outputs."""
    model = request.getfixturevalue(name)
    Xn = _network_inputs(model)
    _, f = _oracle_function(model)
    rows = torch.as_tensor(Xn, dtype=torch.float32)
    jac = np.stack(
        [torch.autograd.functional.jacobian(f, row).numpy() for row in rows]
    )  # (n, K, p)
    expected = Xn.std(axis=0) * np.abs(jac).mean(axis=0).mean(axis=0)
    result = nn_importance(model, X, method="gradient")
    np.testing.assert_allclose(result.importances_mean, expected, rtol=1e-5)
    if jac.shape[1] == 1:
        signed = Xn.std(axis=0) * jac[:, 0].mean(axis=0)
        np.testing.assert_allclose(
            result.signed_importances, signed, rtol=1e-5, atol=1e-7
        )


def test_gradients_come_in_batches(regressor):
    net = NetworkModel(regressor).network
    Xn = _network_inputs(regressor)
    batches = list(net.gradients(Xn, batch_size=50))
    assert [len(jac) for _, jac in batches] == [50, 50, 50, 50, 40]
    whole = np.concatenate([jac for _, jac in batches])
    assert whole.shape == (N_ROWS, 1, N_FEATURES)
    np.testing.assert_allclose(next(net.gradients(Xn))[1], whole, rtol=1e-6, atol=1e-7)


# -- the dense layers ---------------------------------------------------------------


def _dense_weights(model, reduce_binary=False):
    net = model.steps[-1][1]
    layers = [m for m in net.module_.modules() if isinstance(m, nn.Linear)]
    coefs = [layer.weight.detach().double().numpy().T for layer in layers]
    if reduce_binary:  # softmax(z)[1] = logistic(z_1 - z_0)
        coefs[-1] = coefs[-1][:, 1:] - coefs[-1][:, :1]
    return coefs


@pytest.mark.parametrize("name", ["regressor", "binary", "multiclass"])
def test_weight_methods_equal_their_formulas(name, request):
    model = request.getfixturevalue(name)
    coefs = _dense_weights(model, reduce_binary=name == "binary")
    sigma = _network_inputs(model).std(axis=0)

    weights = sigma * np.abs(coefs[0]).sum(axis=1)
    scaled = np.abs(sigma[:, None] * coefs[0])
    q = scaled / scaled.sum(axis=0)
    garson = q.sum(axis=1) / q.sum()
    product = coefs[0]
    for w in coefs[1:]:
        product = product @ w
    olden = np.abs(sigma[:, None] * product).mean(axis=1)

    for method, expected in [
        ("weights", weights),
        ("garson", garson),
        ("olden", olden),
    ]:
        result = nn_importance(model, X, method=method)
        np.testing.assert_allclose(result.importances_mean, expected, rtol=1e-5)


def test_probe_equals_the_bias_free_module(regressor):
    module = deepcopy(regressor.steps[-1][1].module_).double().eval()
    with torch.no_grad():
        for layer in module:
            if isinstance(layer, nn.Linear):
                layer.bias.zero_()
        diffs = (
            module(torch.eye(N_FEATURES, dtype=torch.float64))
            - module(torch.zeros((1, N_FEATURES), dtype=torch.float64))
        ).numpy()[:, 0]
    result = nn_importance(regressor, X, method="probe")
    np.testing.assert_allclose(
        result.importances_mean, np.abs(diffs), rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(result.signed_importances, diffs, rtol=1e-5, atol=1e-7)


def test_binary_network_is_its_positive_class(binary):
    net = NetworkModel(binary).network
    assert net.n_outputs == 1 and net.out_activation == "logistic"
    assert [w.shape for w in net.coefs] == [(N_FEATURES, 8), (8, 1)]


def test_target_map_is_folded_into_the_last_layer(ttr):
    net = NetworkModel(ttr).network
    scale, offset = ttr.transformer_.scale_[0], ttr.transformer_.mean_[0]
    layer = ttr.regressor_.steps[-1][1].module_[2]
    np.testing.assert_allclose(
        net.coefs[-1][:, 0], layer.weight.detach().double().numpy()[0] * scale
    )
    np.testing.assert_allclose(
        net.intercepts[-1][0], float(layer.bias.detach()) * scale + offset, rtol=1e-6
    )
    Xn = _network_inputs(ttr)
    np.testing.assert_allclose(
        net.propagate(net.first_preactivation(Xn)),
        net.forward(Xn),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("kind", ["binary", "multiclass", "target map"])
def test_network_of_one_dense_layer(kind):
    """The first layer is the last: the reduction and the output map are in z_1."""
    if kind == "target map":
        module = nn.Sequential(nn.Linear(N_FEATURES, 1), nn.Flatten(0))
        model = TransformedTargetRegressor(
            _net(NeuralNetRegressor, module, max_epochs=3),
            transformer=StandardScaler(),
        )
        model = _fit(model, X, 10 * Y + 3)
        expected = model.predict(X)[:, None]
    else:
        n_classes = 2 if kind == "binary" else 3
        module = nn.Sequential(nn.Linear(N_FEATURES, n_classes), nn.Softmax(dim=-1))
        y = Y_BINARY if kind == "binary" else Y_THREE
        model = _fit(_net(NeuralNetClassifier, module, max_epochs=3), X, y)
        expected = model.predict_proba(X)[:, -1:] if kind == "binary" else None
        expected = model.predict_proba(X) if expected is None else expected
    net = NetworkModel(model).network
    assert len(net.coefs) == 1
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        net.propagate(net.first_preactivation(X)), expected, rtol=1e-5, atol=1e-6
    )
    for method in ["weights", "garson", "olden", "probe"]:
        assert np.all(np.isfinite(nn_importance(model, X, method=method).importances))


def test_target_map_after_an_output_activation_has_no_dense_layers():
    module = nn.Sequential(*_regressor_module(), nn.Sigmoid(), nn.Flatten(0))
    model = TransformedTargetRegressor(
        _net(NeuralNetRegressor, module, max_epochs=2), transformer=StandardScaler()
    )
    model = _fit(model, X, Y)
    net = NetworkModel(model).network
    assert net.dense_layers() is None and "output map" in net.dense_problem
    np.testing.assert_allclose(
        net.forward(X)[:, 0], model.predict(X), rtol=1e-5, atol=1e-6
    )


def test_convolution_is_not_a_stack_of_dense_layers(conv):
    net = NetworkModel(conv).network
    assert net.dense_layers() is None
    with pytest.raises(TypeError, match=r"layer 'conv' \(Conv1d\)"):
        net.check_dense_layers()
    for method in ["weights", "garson", "olden", "probe"]:
        with pytest.raises(TypeError, match="stack of dense layers"):
            nn_importance(conv, X, method=method)


def test_sequential_names_its_first_layer_that_is_not_dense():
    module = nn.Sequential(
        nn.Linear(N_FEATURES, 8),
        nn.ReLU(),
        nn.Unflatten(1, (1, 8)),
        nn.Conv1d(1, 2, 3),
        nn.Flatten(),
        nn.Linear(12, 1),
    )
    net = _net(NeuralNetRegressor, module, max_epochs=1).fit(X, Y[:, None])
    network = SkorchNetwork(net)
    with pytest.raises(TypeError, match=r"layer '2' \(Unflatten\)"):
        network.check_dense_layers()
    assert network.n_inputs == N_FEATURES and network.n_outputs == 1


def test_module_with_code_for_a_forward_pass_is_read_as_opaque():
    class Dense(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(N_FEATURES, 5)
            self.out = nn.Linear(5, 1)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x)))

    net = _net(NeuralNetRegressor, Dense, max_epochs=1).fit(X, Y[:, None])
    network = SkorchNetwork(net)
    assert network.dense_layers() is None
    assert "not an nn.Sequential" in network.dense_problem
    np.testing.assert_allclose(network.forward(X), net.predict(X), rtol=1e-6)


# -- permutation --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, scoring",
    [
        ("regressor", None),
        ("ttr", None),
        ("binary", None),
        ("binary", "neg_log_loss"),
        ("multiclass", None),
        ("multiclass", "neg_log_loss"),
        ("conv", None),
    ],
)
def test_permutation_equals_scikit_learn(name, scoring, request):
    model = request.getfixturevalue(name)
    y = _targets(name)
    fast = _network_stand_in(model, check_scoring(model, scoring=scoring))
    assert (fast is None) == (name == "conv")
    ours = nn_importance(
        model,
        X,
        y,
        method="permutation",
        scoring=scoring,
        n_repeats=3,
        random_state=0,
    )
    theirs = permutation_importance(
        model, X, y, scoring=scoring, n_repeats=3, random_state=0
    )
    np.testing.assert_allclose(ours.importances, theirs.importances, atol=1e-6)
    baseline = check_scoring(model, scoring=scoring)(model, X, y)
    np.testing.assert_allclose(ours.baseline_score, baseline, rtol=1e-6)


# -- ablation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer, options",
    [
        (torch.optim.Adam, {"optimizer__weight_decay": 1e-2}),
        (torch.optim.SGD, {"optimizer__momentum": 0.9, "optimizer__weight_decay": 0.1}),
    ],
)
def test_warm_continuation_keeps_ablated_weights_at_zero(optimizer, options):
    # Shuffled batches: the seed matters.
    options.update(optimizer=optimizer, iterator_train__shuffle=True)
    net = _net(NeuralNetRegressor, _regressor_module(), **options)
    model = _fit(make_pipeline(StandardScaler(), net), X, Y[:, None])
    assert net.optimizer_.state  # momentum from training
    network = NetworkModel(model).network
    Xn = _network_inputs(model)
    before = net.module_[0].weight.detach().clone()
    rng_state = torch.get_rng_state()

    def continued(n_iter, seed=1):
        return network.continued(
            Xn,
            Y[:, None],
            None,
            n_iter=n_iter,
            seed=seed,
            zero_inputs=np.array([1, 3]),
            held_values=np.array([0.5, -2.0]),
        )

    trained = continued(4)
    assert torch.equal(torch.get_rng_state(), rng_state)
    weight = trained.module_[0].weight.detach()
    assert torch.all(weight[:, [1, 3]] == 0)
    assert not torch.allclose(weight[:, [0, 2]], before[:, [0, 2]])
    assert len(trained.history) == len(net.history) + 4
    assert torch.equal(net.module_[0].weight, before)  # the fitted net is untouched
    assert torch.equal(continued(4).module_[0].weight, weight)  # seeded
    assert not torch.equal(continued(4, seed=2).module_[0].weight, weight)

    # Before any training, the ablated inputs' values are held in the bias.
    held = Xn.copy()
    held[:, 1], held[:, 3] = 0.5, -2.0
    untrained = continued(0)
    np.testing.assert_allclose(
        untrained.predict(Xn.astype(np.float32)),
        net.predict(held.astype(np.float32)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_warm_continuation_refuses_sample_weights(regressor):
    network = NetworkModel(regressor).network
    Xn = _network_inputs(regressor)
    with pytest.raises(ValueError, match="without sample weights"):
        network.continued(
            Xn, Y[:, None], np.arange(N_ROWS), n_iter=1, seed=0, zero_inputs=[0]
        )
    # Equal weights are no weights.
    network.continued(
        Xn, Y[:, None], np.ones(N_ROWS), n_iter=1, seed=0, zero_inputs=[0]
    )


class Backwards(nn.Module):
    """Registers its layers in the opposite order to the one it applies them."""

    def __init__(self):
        super().__init__()
        self.second = nn.Linear(N_FEATURES, 1)
        self.first = nn.Linear(N_FEATURES, N_FEATURES)

    def forward(self, x):
        return self.second(torch.tanh(self.first(x)))


def test_warm_continuation_checks_the_first_layer_of_a_module_with_code():
    net = _net(NeuralNetRegressor, Backwards, max_epochs=1).fit(X, Y[:, None])
    network = SkorchNetwork(net)
    with pytest.raises(TypeError, match="not the first"):
        network.continued(
            X.astype(float), Y[:, None], None, n_iter=1, seed=0, zero_inputs=[0]
        )


@pytest.mark.parametrize("name", ["regressor", "binary", "ttr"])
def test_warm_ablation(name, request):
    model = request.getfixturevalue(name)
    options = dict(method="ablation", retrain="warm", n_repeats=2, random_state=0)
    result = nn_importance(model, X, _targets(name), **options)
    assert result.importances.shape == (N_FEATURES, 2)
    assert min(result.importances_mean[:2]) > max(result.importances_mean[2:])
    again = nn_importance(model, X, _targets(name), **options)
    np.testing.assert_array_equal(again.importances, result.importances)


def test_cold_ablation_refits_clones():
    # Ablation fills columns of float64 copies of X: a float64 module takes them.
    module = _regressor_module().double()
    model = _fit(
        make_pipeline(StandardScaler(), _net(NeuralNetRegressor, module)),
        X.astype(float),
        Y[:, None].astype(float),
    )
    result = nn_importance(
        model,
        X.astype(float),
        Y[:, None].astype(float),
        method="ablation",
        retrain="cold",
        n_repeats=1,
        random_state=0,
    )
    assert result.importances.shape == (N_FEATURES, 1)
    assert np.all(np.isfinite(result.importances))
    assert result.importances_mean[0] > max(result.importances_mean[2:])


# -- the selector, comparisons and displays ----------------------------------------


def _flat_regressor(**params):
    module = nn.Sequential(*_regressor_module(), nn.Flatten(0))
    return _net(NeuralNetRegressor, module, **params)


@pytest.mark.parametrize("name", [*MODELS, "conv"])
def test_shapley_values_equal_brute_force_enumeration(name, request):
    """Dense networks through their first layer's pre-activations, the convolution
    through forward passes on hybrid network inputs, the affine target map of ``ttr``
    folded in, all against the hybrid rows scored by skorch's own predict."""
    model = request.getfixturevalue(name)
    rows, background = X[:3], X[100:120]
    explanation = attributions(model, rows, background=background)
    expected = brute_force_shapley(model, rows, background)
    values = explanation.values
    values = values if values.ndim == 3 else values[..., None]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-5)  # float32 networks


def test_integrated_gradients_of_a_skorch_network_add_up(regressor):
    explanation = attributions(regressor, X[:10], method="integrated_gradients")
    total = explanation.values.sum(axis=1) + explanation.base_values
    gap = explanation.completeness_gap
    expected = regressor.predict(X[:10])[:, 0]
    np.testing.assert_allclose(total - gap, expected, rtol=0, atol=1e-5)


def test_selector_in_grid_search_over_max_features():
    selector = NNImportanceSelector(_flat_regressor(), threshold=-np.inf)
    pipe = Pipeline(
        [("scale", StandardScaler()), ("select", selector), ("ridge", Ridge())]
    )
    torch.manual_seed(0)
    search = GridSearchCV(pipe, {"select__max_features": [1, 2, 4]}, cv=3)
    search.fit(X, Y)
    assert len(search.cv_results_["params"]) == 3
    best = search.best_estimator_.named_steps["select"]
    assert best.max_features == search.best_params_["select__max_features"]
    support = best.get_support(indices=True)
    assert len(support) == best.max_features and 0 in support
    assert is_skorch_network(best.estimator_)


def test_compare_importances_and_displays(regressor):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sknnimp import ComparisonDisplay, ImportanceDisplay

    comparison = compare_importances(
        regressor, X, Y[:, None], n_repeats=2, random_state=0
    )
    methods = {method for _, method in comparison.results}
    assert methods == {
        "weights",
        "garson",
        "olden",
        "gradient",
        "probe",
        "permutation",
        "conditional",
        "ablation",
    }
    assert not comparison.skipped
    ComparisonDisplay(comparison).plot()
    selector = NNImportanceSelector(
        regressor, prefit=True, max_features=2, threshold=-np.inf
    ).fit(X)
    display = ImportanceDisplay.from_estimator(selector)
    assert display.ax_ is not None
    plt.close("all")


# -- scikit-learn's checks of the selector -------------------------------------------


class Tiny(nn.Sequential):
    """Linear, tanh, linear; its first layer takes any number of inputs.

    It seeds PyTorch when it is built (at the start of every fit), so that fits on
    the same data agree, as scikit-learn's checks require.
    """

    def __init__(self, n_outputs=1, softmax=False):
        torch.manual_seed(0)
        layers = [nn.LazyLinear(4), nn.Tanh(), nn.Linear(4, n_outputs)]
        super().__init__(*layers, *([nn.Softmax(dim=-1)] if softmax else []))


def _regression_batch(batch):
    """Float64 rows and 1-D targets, as the checks pass them, for a float32 module."""
    X, y = default_collate(batch)
    return X.float(), y.float().reshape(len(y), -1)


def _classification_batch(batch):
    X, y = default_collate(batch)
    return X.float(), y.long()


def _tiny(cls, collate, **params):
    return cls(
        Tiny,
        max_epochs=3,
        lr=0.1,
        train_split=None,
        verbose=0,
        iterator_train__collate_fn=collate,
        iterator_valid__collate_fn=collate,
        **params,
    )


def _check_selectors():
    regressor = _tiny(NeuralNetRegressor, _regression_batch)
    classifier = _tiny(
        NeuralNetClassifier,
        _classification_batch,
        module__n_outputs=5,
        module__softmax=True,
    )
    yield NNImportanceSelector(regressor)
    yield NNImportanceSelector(classifier, method="weights")
    yield NNImportanceSelector(regressor, method="permutation", n_repeats=2)
    yield NNImportanceSelector(classifier, method="ablation", n_repeats=1)


_SKORCH_LIMITS = {
    "check_sample_weights_pandas_series": "skorch's fit takes no sample_weight: it "
    "hands fit parameters to the module's forward pass",
    "check_sample_weights_not_an_array": "skorch's fit takes no sample_weight",
    "check_sample_weights_list": "skorch's fit takes no sample_weight",
    "check_sample_weights_shape": "skorch's fit takes no sample_weight",
    "check_sample_weights_not_overwritten": "skorch's fit takes no sample_weight",
    "check_sample_weight_equivalence_on_dense_data": "skorch's fit takes no "
    "sample_weight",
    "check_dtype_object": "skorch's predict does not convert an object array to "
    "numbers (the selector leaves predict's input to the wrapped estimator)",
    "check_estimators_nan_inf": "skorch does not check its input for NaN or "
    "infinity (the selector leaves that to the wrapped estimator)",
    "check_estimator_sparse_tag": "skorch fails on sparse input without saying "
    "that sparse input is not supported",
    "check_estimator_sparse_array": "skorch fails on sparse input without saying "
    "that sparse input is not supported",
    "check_estimator_sparse_matrix": "skorch fails on sparse input without saying "
    "that sparse input is not supported",
}


# The selector is a regressor or a classifier as its estimator is (so that RFECV and
# cross_val_score score it as such); scikit-learn then runs its regressor and
# classifier checks, which these skorch networks do not pass on their own.
_SKORCH_REGRESSOR_LIMITS = {
    "check_regressors_train": "skorch's NeuralNetRegressor predicts an (n, 1) array "
    "for a 1-D target; the check compares shapes",
    "check_regressor_data_not_an_array": "skorch's data loader cannot batch the "
    "check's array-like stand-in for X",
    "check_supervised_y_2d": "skorch's regressor takes a column target without the "
    "DataConversionWarning the check expects",
}
_SKORCH_CLASSIFIER_LIMITS = {
    "check_classifiers_train": "the check asks a training accuracy of 0.83, beyond "
    "this 3-epoch test network (skorch declares no poor_score tag)",
    "check_classifiers_regression_target": "skorch's classifier does not refuse a "
    "continuous target",
    "check_classifiers_one_label_sample_weights": "skorch's fit takes no sample_weight",
    "check_classifiers_classes": "skorch's classifier needs labels 0..K-1 (it does "
    "not encode other labels)",
    "check_classifier_data_not_an_array": "skorch's data loader cannot batch the "
    "check's array-like stand-in for X",
    "check_supervised_y_2d": "skorch's cross-entropy refuses a column target",
}


def _expected_failed_checks(selector):
    failing = dict(_SKORCH_LIMITS)
    if is_classifier(selector.estimator):
        # skorch's classifier refuses sparse matrices (not sparse arrays) in terms
        # the check accepts.
        del failing["check_estimator_sparse_matrix"]
        failing.update(_SKORCH_CLASSIFIER_LIMITS)
    else:
        failing.update(_SKORCH_REGRESSOR_LIMITS)
    return failing


@parametrize_with_checks(
    list(_check_selectors()), expected_failed_checks=_expected_failed_checks
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
