"""Tests of the network arithmetic in ``sknnimp.networks`` against independent oracles.

The oracles are scikit-learn's own ``predict``/``predict_proba`` (for the forward pass),
central finite differences of those outputs on raw rows (for the input gradients) and
``np.std`` (for the column spreads). The networks compute from their own inputs (the
output of the preprocessing); the tests feed them raw rows through the model's
preprocessing.
"""

import functools

import numpy as np
import pytest
from scipy import sparse
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

import sknnimp.networks._mlp as network
from sknnimp.networks import NetworkModel, check_network, column_std

N_ROWS, N_FEATURES = 60, 4

# Raw inputs with very different scales and offsets, so that every scaler matters.
# The offsets are kept within a few tens of standard deviations: the finite
# differences below rely on ``x * a + b`` being computed with small rounding error.
COLUMN_SCALE = np.array([0.5, 3.0, 20.0, 0.05])
COLUMN_OFFSET = np.array([5.0, -30.0, 100.0, 0.2])

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
TASKS = ["regression", "multioutput", "poisson", "binary", "multiclass", "multilabel"]
SCALERS = {
    "bare": lambda: [],
    "standard": lambda: [StandardScaler()],
    "minmax": lambda: [MinMaxScaler(feature_range=(-1, 2))],
    "maxabs": lambda: [MaxAbsScaler()],
    "robust": lambda: [RobustScaler()],
    "standard+minmax": lambda: [StandardScaler(), MinMaxScaler()],
    "passthrough+robust": lambda: ["passthrough", RobustScaler()],
}
# Scaler options that drop a part of the affine map (forward pass only).
EXTRA_SCALERS = {
    "standard-nomean": lambda: [StandardScaler(with_mean=False)],
    "standard-nostd": lambda: [StandardScaler(with_std=False)],
    "robust-nocenter": lambda: [RobustScaler(with_centering=False)],
    "robust-noscale": lambda: [RobustScaler(with_scaling=False)],
    "robust+maxabs": lambda: [RobustScaler(quantile_range=(10, 90)), MaxAbsScaler()],
}


class MLPNetwork:
    """The network of a fitted model, fed raw rows through the model's preprocessing."""

    def __init__(self, est):
        self.model = NetworkModel(est)
        self.net = self.model.network

    def __getattr__(self, name):
        return getattr(self.net, name)

    def forward(self, X, **kwargs):
        return self.net.forward(self.model.transform(X), **kwargs)

    def gradients(self, X, **kwargs):
        return self.net.gradients(self.model.transform(X), **kwargs)

    def to_network_space(self, X):
        Xn = self.model.transform(X)
        return Xn.toarray() if sparse.issparse(Xn) else Xn

    def input_spread(self, X, sample_weight=None):
        return column_std(self.model.transform(X), sample_weight)


def _input_scale(est, X):
    """``a`` with ``x' = x * a + b``, measured through the scalers' own transform."""
    if not isinstance(est, Pipeline):
        return np.ones(X.shape[1])
    return est[:-1].transform(X + 1.0)[0] - est[:-1].transform(X)[0]


def _raw_data(seed=0, n_rows=N_ROWS):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_rows, N_FEATURES))
    return Z, Z * COLUMN_SCALE + COLUMN_OFFSET


def _targets(task, Z):
    """Targets of ``task``, computed from the standardised inputs ``Z``."""
    s = Z[:, 0] + np.sin(2 * Z[:, 1]) - 0.5 * Z[:, 2] * Z[:, 3]
    t = Z[:, 1] - Z[:, 3] + 0.3 * Z[:, 0] ** 2
    if task == "regression":
        return s
    if task == "multioutput":
        return np.column_stack([s, t, Z[:, 2]])
    if task == "poisson":
        return np.exp(0.5 * np.tanh(s))
    if task == "binary":
        return (s > 0).astype(int)
    if task == "multiclass":
        return np.digitize(s, [-0.7, 0.0, 0.7])
    if task == "multilabel":
        return np.column_stack([s > 0, t > 0, Z[:, 2] > 0.5]).astype(int)
    raise ValueError(task)


@functools.cache
def _fitted(task, activation, scaler_name):
    """A small fitted model (cached: the fits are shared by several tests)."""
    Z, X = _raw_data()
    y = _targets(task, Z)
    common = dict(
        hidden_layer_sizes=(6, 5),
        activation=activation,
        learning_rate_init=0.01,
        max_iter=30,
        random_state=0,
    )
    if task in ("binary", "multiclass", "multilabel"):
        mlp = MLPClassifier(**common)
    elif task == "poisson":
        mlp = MLPRegressor(loss="poisson", **common)
    else:
        mlp = MLPRegressor(**common)
    steps = {**SCALERS, **EXTRA_SCALERS}[scaler_name]()
    if steps:
        est = Pipeline([(f"s{i}", s) for i, s in enumerate(steps)] + [("mlp", mlp)])
    else:
        est = mlp
    return est.fit(X, y)


def _estimator_output(est, task, X):
    """The oracle for ``MLPNetwork.forward``: the estimator's own output, 2-D."""
    if task in ("regression", "multioutput", "poisson"):
        return est.predict(X).reshape(X.shape[0], -1)
    proba = est.predict_proba(X)
    if task == "binary":
        return proba[:, 1:]
    return proba


def _all_gradients(net, X, **kwargs):
    """Concatenate the batches of ``net.gradients`` and check they cover every row."""
    n = X.shape[0]
    out = np.full((n, net.n_outputs, net.n_features), np.nan)
    seen = np.zeros(n, dtype=int)
    n_batches = 0
    for rows, J in net.gradients(X, **kwargs):
        out[rows] = J
        seen[rows] += 1
        n_batches += 1
    np.testing.assert_array_equal(seen, 1)
    return out, n_batches


GRID = pytest.mark.parametrize(
    "task, activation, scaler_name",
    [(t, a, s) for t in TASKS for a in ACTIVATIONS for s in SCALERS],
)
EXTRA_GRID = [
    (t, "tanh", s) for t in ("multioutput", "multiclass") for s in EXTRA_SCALERS
]


# --- 1. forward pass ------------------------------------------------------------


@pytest.mark.parametrize(
    "task, activation, scaler_name",
    [(t, a, s) for t in TASKS for a in ACTIVATIONS for s in SCALERS] + EXTRA_GRID,
)
def test_forward_equals_estimator_output(task, activation, scaler_name):
    est = _fitted(task, activation, scaler_name)
    _, X = _raw_data(seed=1, n_rows=25)  # rows not seen in fit
    net = MLPNetwork(est)
    expected = _estimator_output(est, task, X)
    assert np.all(np.isfinite(expected))
    out = net.forward(X)
    assert out.shape == expected.shape == (X.shape[0], net.n_outputs)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scaler_name", ["standard", "standard+minmax", "bare"])
def test_affine_map_equals_scaler_transform(scaler_name):
    est = _fitted("regression", "tanh", scaler_name)
    _, X = _raw_data(seed=1, n_rows=25)
    net = MLPNetwork(est)
    Xp = est[:-1].transform(X) if isinstance(est, Pipeline) else X
    np.testing.assert_allclose(net.to_network_space(X), Xp, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        net.forward_network_space(Xp), net.forward(X), rtol=1e-12, atol=1e-12
    )


# --- 2. gradients against finite differences -----------------------------------

# Step: h_i = 1e-6 * std of raw column i, i.e. a step t_i = 1e-6 * sigma'_i ~ 1e-6 in
# the network's input space. Error of the central difference, in network-space
# derivative units (|f| = output magnitude):
#   truncation  t^2 / 6 * |f'''|          ~ 1e-13 * |f'''|  (weights O(1..10))
#   roundoff    (eps |f| + dx') / t        ~ 2e-10 |f| + 1e-8
# where dx' ~ eps * |x * a| <~ 1e-14 is the rounding of the scaled input (offsets are
# kept within ~20 standard deviations). FD_TOL = 1e-6 (relative to max(1, |f|))
# leaves a margin of about 100 over these bounds; a wrong derivative is off by O(1).
FD_STEP = 1e-6
FD_TOL = 1e-6


def _hidden_preactivations(est, X):
    """Pre-activations of every hidden layer, from the estimator's own pieces."""
    if isinstance(est, Pipeline):
        X = est[:-1].transform(X)
        est = est[-1]
    z, out = X, []
    for w, c in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        z = z @ w + c
        out.append(z)
        z = np.maximum(z, 0.0)
    return out


def _relu_kinks(est, X, steps):
    """``kink[r, i]``: some relu unit changes side between x -/+ h_i e_i at row r."""
    kink = np.zeros(X.shape, dtype=bool)
    for i in range(X.shape[1]):
        Xp, Xm = X.copy(), X.copy()
        Xp[:, i] += steps[i]
        Xm[:, i] -= steps[i]
        for zp, zm in zip(
            _hidden_preactivations(est, Xp), _hidden_preactivations(est, Xm)
        ):
            kink[:, i] |= np.any((zp > 0) != (zm > 0), axis=1)
    return kink


def _finite_differences(est, task, X, steps):
    """Central differences of the estimator's output in raw units.

    Returns an array of shape (n, n_outputs, n_features). The actual steps
    ``(x + h) - x`` are used, so the rounding of ``x + h`` does not bias the quotient.
    """
    n, p = X.shape
    central = np.empty((n, _estimator_output(est, task, X[:1]).shape[1], p))
    for i in range(p):
        Xp, Xm = X.copy(), X.copy()
        Xp[:, i] += steps[i]
        Xm[:, i] -= steps[i]
        fp = _estimator_output(est, task, Xp)
        fm = _estimator_output(est, task, Xm)
        central[:, :, i] = (fp - fm) / (Xp[:, i] - Xm[:, i])[:, None]
    return central


@GRID
def test_gradients_match_finite_differences(task, activation, scaler_name):
    est = _fitted(task, activation, scaler_name)
    _, X = _raw_data(seed=2, n_rows=20)
    net = MLPNetwork(est)
    J, _ = _all_gradients(net, X)
    assert J.shape == (X.shape[0], net.n_outputs, N_FEATURES)
    input_scale = _input_scale(est, X)
    raw = J * input_scale  # d o_k / d x_i, raw units
    steps = FD_STEP * X.std(axis=0)
    central = _finite_differences(est, task, X, steps)
    f0 = _estimator_output(est, task, X)

    # Absolute part FD_TOL * max(1, |f|) in network-space units (times |a_i| in raw
    # units), plus the same relative to the derivative itself.
    scale = np.abs(input_scale)
    f_mag = np.maximum(1.0, np.abs(f0).max())
    bound = FD_TOL * f_mag * (scale + np.abs(raw))  # absolute + relative part
    ok = np.abs(raw - central) <= bound

    if activation == "relu":
        # With a kink of some hidden unit between x - h and x + h the central
        # difference is not a derivative: such (rare) entries are skipped. Away from
        # kinks the check is as strict as for the other activations.
        kink = _relu_kinks(est, X, steps)
        assert kink.mean() < 0.1
        ok |= kink[:, None, :]
    worst = np.max(np.abs(raw - central) / bound)
    assert ok.all(), f"worst error / tolerance = {worst:.3g}"


# --- 3. sparse input -----------------------------------------------------------


def _sparse_friendly_data(seed=3, n_rows=30):
    """Raw data with many exact zeros, scaled and offset on the non-zeros."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, N_FEATURES)) * COLUMN_SCALE + COLUMN_OFFSET
    X[rng.random(X.shape) < 0.5] = 0.0
    X[:, 3] = 0.0  # an all-zero column
    return X


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "task, activation, scaler_name",
    [
        ("regression", "relu", "standard"),
        ("multioutput", "tanh", "standard+minmax"),
        ("binary", "logistic", "bare"),
        ("multiclass", "tanh", "maxabs"),
        ("multilabel", "relu", "robust"),
        ("poisson", "identity", "passthrough+robust"),
    ],
)
def test_sparse_equals_dense(fmt, task, activation, scaler_name):
    """The network takes sparse inputs (as its preprocessing may give them)."""
    est = _fitted(task, activation, scaler_name)
    net = MLPNetwork(est).net
    X = _sparse_friendly_data()
    out = net.forward(X)
    J, _ = _all_gradients(net, X)
    containers = [getattr(sparse, f"{fmt}_{kind}") for kind in ("matrix", "array")]
    for Xsp in (make(X) for make in containers):
        np.testing.assert_allclose(net.forward(Xsp), out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            net.forward(Xsp, batch_size=7), out, rtol=1e-12, atol=1e-12
        )
        Js, _ = _all_gradients(net, Xsp, batch_size=7)
        np.testing.assert_allclose(Js, J, rtol=1e-12, atol=1e-12)
    # A model that takes sparse rows: StandardScaler without centring.
    Z, X_raw = _raw_data()
    model = make_pipeline(
        StandardScaler(with_mean=False),
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0),
    ).fit(X_raw, _targets("regression", Z))
    wrapped = MLPNetwork(model)
    np.testing.assert_allclose(
        wrapped.forward(getattr(sparse, f"{fmt}_matrix")(X)),
        model.predict(X)[:, None],
        rtol=1e-12,
        atol=1e-12,
    )


def test_dataframe_equals_array():
    pd = pytest.importorskip("pandas")
    est = _fitted("multiclass", "tanh", "standard")
    net = MLPNetwork(est)
    _, X = _raw_data(seed=3, n_rows=25)
    df = pd.DataFrame(X, index=np.arange(100, 125))  # index unlike positions
    out = net.forward(X)
    J, _ = _all_gradients(net, X)
    np.testing.assert_allclose(net.forward(df, batch_size=7), out, rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        _all_gradients(net, df, batch_size=7)[0], J, rtol=1e-12, atol=0
    )
    np.testing.assert_allclose(column_std(df), column_std(X), rtol=1e-12)


# --- 4. batching ---------------------------------------------------------------


@pytest.mark.parametrize(
    "task, activation, scaler_name",
    [
        ("multioutput", "relu", "standard"),
        ("multiclass", "logistic", "standard+minmax"),
        ("multilabel", "tanh", "bare"),
    ],
)
def test_batching_does_not_change_results(task, activation, scaler_name):
    est = _fitted(task, activation, scaler_name)
    net = MLPNetwork(est)
    _, X = _raw_data(seed=4, n_rows=50)
    out = net.forward(X)
    J, n_batches = _all_gradients(net, X)
    assert n_batches == 1  # the default batch holds these few rows
    np.testing.assert_allclose(
        net.forward(X, batch_size=7), out, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        net.forward(X, batch_size=1), out, rtol=1e-12, atol=1e-12
    )
    J7, n_batches = _all_gradients(net, X, batch_size=7)
    assert n_batches == 8  # ceil(50 / 7)
    np.testing.assert_allclose(J7, J, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("budget", [1, 40, 64, 150, 1000])
def test_batch_size_bounds_largest_temporary(monkeypatch, budget):
    est = _fitted("multiclass", "tanh", "standard")  # widest layer: 6 (hidden)
    net = MLPNetwork(est)
    widest = max(max(w.shape) for w in net.coefs)
    assert widest == 6
    _, X = _raw_data(seed=5, n_rows=50)
    out = net.forward(X)
    J, _ = _all_gradients(net, X)

    monkeypatch.setattr(network, "DEFAULT_BATCH_ELEMENTS", budget)
    k = net.n_outputs
    rows_fwd = net.batch_size()
    rows_grad = net.batch_size(n_rows_per_sample=k)
    assert rows_fwd >= 1 and rows_grad >= 1
    if budget >= widest * k:
        # Largest temporaries: (rows, widest) in the forward pass and
        # (rows, n_outputs, widest) during back-propagation.
        assert rows_fwd * widest <= budget
        assert rows_grad * k * widest <= budget

    batches = list(net.gradients(X))
    expected_batches = -(-X.shape[0] // rows_grad)
    assert len(batches) == expected_batches
    assert len(batches) > 1
    for _, Jb in batches:
        assert Jb.shape[0] <= rows_grad
        assert Jb.size <= max(budget, k * widest)
    J_small, _ = _all_gradients(net, X)
    np.testing.assert_allclose(J_small, J, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.forward(X), out, rtol=1e-12, atol=1e-12)


# --- 5. unsupported estimators -------------------------------------------------


def _mlp():
    return MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Ridge(),
        lambda: make_pipeline(StandardScaler(), Ridge()),
        lambda: make_pipeline(PCA(n_components=2), _mlp()),
        lambda: make_pipeline(StandardScaler(), PCA(n_components=2), _mlp()),
        lambda: make_pipeline(FunctionTransformer(np.log1p), _mlp()),
    ],
    ids=["ridge", "pipeline-ridge", "pca", "scaler-pca", "function"],
)
def test_unsupported_estimators_raise_type_error(make):
    est = make()
    _, X = _raw_data()
    X = np.abs(X)  # log1p needs non-negative input
    est.fit(X, X[:, 0])
    with pytest.raises(TypeError):
        NetworkModel(est)


@pytest.mark.parametrize("fitted", [False, True])
def test_structure_check(fitted):
    _, X = _raw_data()
    for est in [Ridge(), make_pipeline(StandardScaler(), Ridge())]:
        if fitted:
            est.fit(X, X[:, 0])
        with pytest.raises(TypeError, match="Ridge is not a network"):
            check_network(est)
    for est in [
        _mlp(),
        MLPClassifier(),
        make_pipeline(StandardScaler(), MinMaxScaler(), _mlp()),
        Pipeline([("a", "passthrough"), ("mlp", _mlp())]),
    ]:
        check_network(est)
    with pytest.raises(TypeError, match=r"'pca' \(PCA\) mixes"):
        check_network(make_pipeline(StandardScaler(), PCA(), _mlp()))


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_pipeline(QuantileTransformer(n_quantiles=10), _mlp()),
        lambda: make_pipeline(MinMaxScaler(clip=True), _mlp()),
        lambda: make_pipeline(StandardScaler(), MinMaxScaler(clip=True), _mlp()),
    ],
    ids=["quantile", "minmax-clip", "standard-minmax-clip"],
)
def test_column_wise_transformers_are_supported(make):
    """Transformers that act on each column alone: the network reads their output."""
    _, X = _raw_data()
    est = make().fit(X, X[:, 0])
    net = MLPNetwork(est)
    np.testing.assert_array_equal(net.model.provenance, np.arange(N_FEATURES))
    np.testing.assert_allclose(net.forward(X)[:, 0], est.predict(X), rtol=1e-12)


# --- 6. column_std and the spread of the network's inputs ---------------------


def test_column_std_dense_equals_numpy():
    _, X = _raw_data(seed=6, n_rows=40)
    np.testing.assert_allclose(column_std(X), np.std(X, axis=0), rtol=1e-12)


def test_column_std_weighted_equals_repeated_rows():
    rng = np.random.default_rng(7)
    _, X = _raw_data(seed=7, n_rows=30)
    w = rng.integers(0, 5, size=X.shape[0])
    w[0] = 3  # at least one positive weight
    expected = np.std(np.repeat(X, w, axis=0), axis=0)
    np.testing.assert_allclose(column_std(X, w), expected, rtol=1e-12)
    np.testing.assert_allclose(column_std(X, w.astype(float)), expected, rtol=1e-12)
    # Scaling all weights does not matter.
    np.testing.assert_allclose(column_std(X, 0.1 * w), expected, rtol=1e-12)
    for fmt in ("csr_matrix", "csc_matrix", "csr_array", "csc_array"):
        Xs = getattr(sparse, fmt)(X)
        np.testing.assert_allclose(column_std(Xs, w), expected, rtol=1e-12)


@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix", "csr_array", "csc_array"])
def test_column_std_sparse_equals_dense(fmt):
    X = _sparse_friendly_data(seed=8, n_rows=40)
    Xs = getattr(sparse, fmt)(X)
    expected = np.std(X, axis=0)
    np.testing.assert_allclose(column_std(Xs), column_std(X), rtol=1e-12, atol=0)
    np.testing.assert_allclose(column_std(Xs), expected, rtol=1e-12, atol=0)
    # Dense columns stored sparsely, with a large mean relative to their spread: the
    # variance must not be obtained by a cancelling E[x^2] - E[x]^2.
    _, X = _raw_data(seed=9, n_rows=40)
    X = X + 1e4
    np.testing.assert_allclose(
        column_std(getattr(sparse, fmt)(X)), np.std(X, axis=0), rtol=1e-9
    )


@pytest.mark.parametrize("value", [0.1, 0.3, 1 / 3, 123456.789, -7.7, 0.0])
@pytest.mark.parametrize("fmt", [None, "csr_matrix", "csc_array"])
def test_column_std_constant_columns_are_exactly_zero(value, fmt):
    rng = np.random.default_rng(10)
    n = 37
    X = np.column_stack([np.full(n, value), rng.standard_normal(n), np.full(n, value)])
    w = rng.random(n) + 0.1
    if fmt is not None:
        X = getattr(sparse, fmt)(X)
    for weights in (None, w):
        std = column_std(X, weights)
        assert std[0] == 0.0 and std[2] == 0.0
        assert std[1] > 0.5
        assert np.all(np.isfinite(std))


@pytest.mark.parametrize(
    "scaler_name",
    ["standard", "minmax", "maxabs", "robust", "standard+minmax", "passthrough+robust"],
)
def test_input_spread_equals_std_after_scalers(scaler_name):
    est = _fitted("regression", "tanh", scaler_name)
    net = MLPNetwork(est)
    _, X = _raw_data(seed=11, n_rows=40)
    X[:, 1] = 0.1  # a constant column
    # |a| * std(x) against std(a * x + b): they differ only by the rounding of the
    # scaled values, ~ eps * |x * a| / std(x') (offsets ~ 20 std here).
    expected = np.std(est[:-1].transform(X), axis=0)
    spread = net.input_spread(X)
    np.testing.assert_allclose(spread, expected, rtol=1e-12, atol=1e-12)
    assert spread[1] == 0.0

    w = np.random.default_rng(12).integers(1, 4, size=X.shape[0])
    expected_w = np.std(est[:-1].transform(np.repeat(X, w, axis=0)), axis=0)
    np.testing.assert_allclose(
        net.input_spread(X, sample_weight=w), expected_w, rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        column_std(sparse.csr_matrix(net.to_network_space(X))),
        spread,
        rtol=1e-12,
        atol=1e-15,
    )
