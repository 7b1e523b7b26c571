"""The network interface for scikit-learn's ``MLPRegressor`` and ``MLPClassifier``.

Everything that reads the weights of a fitted MLP lives here: the forward pass and the
input gradients by back-propagation, processed in row batches so that memory stays
bounded, and the warm continuation of training used by ablation.

Notation follows the package documentation: ``x'`` is a row of the network's input (the
output of the preprocessing in front of it), ``z_l`` the pre-activation of layer ``l``
and ``o`` the network's output after its output activation.
"""

from copy import deepcopy

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.utils.extmath import safe_sparse_dot

from .._parallel import refit
from ._base import Network

#: Number of float64 values a batch's largest temporary array may hold (2 MiB): small
#: enough to stay in the processor's cache, which makes back-propagation about 1.5x
#: faster than with batches of 32 MiB.
DEFAULT_BATCH_ELEMENTS = 2**18


def _identity(z):
    return z


def _logistic(z):
    return expit(z)


def _relu(z):
    return np.maximum(z, 0)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# Hidden and output activations, as functions of the pre-activation.
_ACTIVATIONS = {
    "identity": _identity,
    "logistic": _logistic,
    "tanh": np.tanh,
    "relu": _relu,
    "softmax": _softmax,
    "exp": np.exp,
}

# Hidden activations computed in place, for temporaries that are not needed after.
_INPLACE_ACTIVATIONS = {
    "identity": _identity,
    "logistic": lambda z: expit(z, out=z),
    "tanh": lambda z: np.tanh(z, out=z),
    "relu": lambda z: np.maximum(z, 0, out=z),
}

# Derivative of a hidden activation, written in terms of its value ``a = g(z)``
# (and of ``z`` for relu, whose derivative at 0 is taken as 0, as in training).
_HIDDEN_DERIVATIVES = {
    "identity": lambda z, a: np.ones_like(a),
    "logistic": lambda z, a: a * (1.0 - a),
    "tanh": lambda z, a: 1.0 - a * a,
    "relu": lambda z, a: (z > 0).astype(a.dtype),
}


class MLPNetwork(Network):
    """A fitted ``MLPRegressor`` or ``MLPClassifier`` as a :class:`Network`.

    Parameters
    ----------
    mlp : MLPRegressor or MLPClassifier
        Fitted.
    output_scale, output_offset : ndarray of shape (n_outputs,), default=None
        An affine map ``o * output_scale + output_offset`` applied to the outputs of
        a regressor (a target transformer's inverse), folded into the last layer so
        that outputs, gradients and weights are in the target's units.

    Attributes
    ----------
    coefs : list of ndarray
        ``coefs[l]`` has shape ``(fan_in, fan_out)``, as the MLP's ``coefs_``.
    intercepts : list of ndarray
        As the MLP's ``intercepts_``.
    activation, out_activation : str
        Hidden and output activation names, as in scikit-learn.
    """

    threaded_propagation = True

    def __init__(self, mlp, *, output_scale=None, output_offset=None):
        if not hasattr(mlp, "coefs_"):
            raise ValueError(f"{type(mlp).__name__} is not fitted.")
        self.estimator = mlp
        self.coefs = [np.asarray(w, dtype=float) for w in mlp.coefs_]
        self.intercepts = [np.asarray(c, dtype=float) for c in mlp.intercepts_]
        self.activation = mlp.activation
        self.out_activation = mlp.out_activation_
        if output_scale is not None:
            if self.out_activation != "identity":
                raise ValueError("An output map needs an identity output activation.")
            scale = np.broadcast_to(np.asarray(output_scale, float), self.n_outputs)
            offset = np.broadcast_to(np.asarray(output_offset, float), self.n_outputs)
            self.coefs[-1] = self.coefs[-1] * scale
            self.intercepts[-1] = self.intercepts[-1] * scale + offset

    @property
    def n_inputs(self):
        return self.coefs[0].shape[0]

    n_features = n_inputs

    @property
    def n_outputs(self):
        return self.coefs[-1].shape[1]

    @property
    def n_iter(self):
        return getattr(self.estimator, "n_iter_", 1)

    def dense_layers(self):
        return self

    def batch_size(self, n_rows_per_sample=1):
        """Rows per batch so that the largest temporary has DEFAULT_BATCH_ELEMENTS."""
        widest = max(max(w.shape) for w in self.coefs)
        return max(1, DEFAULT_BATCH_ELEMENTS // (widest * n_rows_per_sample))

    def first_preactivation(self, X):
        """``z_1`` for network inputs ``X`` (dense or sparse), shape (n, n_hidden_1)."""
        return np.asarray(safe_sparse_dot(X, self.coefs[0])) + self.intercepts[0]

    def propagate(self, z1, *, biases=True, output_activation=True, overwrite=False):
        """Forward pass from the first pre-activation ``z_1`` to the output.

        With ``overwrite``, ``z1`` is a temporary that may be overwritten (saving one
        allocation per layer).
        """
        hidden = _ACTIVATIONS[self.activation]
        inplace = _INPLACE_ACTIVATIONS[self.activation]
        z = z1
        for layer, (w, c) in enumerate(zip(self.coefs[1:], self.intercepts[1:])):
            # Pre-activations after the first one are this function's own temporaries.
            z = (inplace(z) if overwrite or layer > 0 else hidden(z)) @ w
            if biases:
                z += c
        if output_activation:
            z = _ACTIVATIONS[self.out_activation](z)
        return z

    def forward(self, X, *, batch_size=None):
        """Output ``o`` for network inputs ``X``, shape ``(n, n_outputs)``.

        Equals ``predict`` of a regressor (reshaped to 2-D) and the network output
        behind ``predict_proba`` of a classifier (positive class for binary problems).
        """
        batch_size = batch_size or self.batch_size()
        n = X.shape[0]
        out = np.empty((n, self.n_outputs))
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            z1 = self.first_preactivation(X[rows])
            out[rows] = self.propagate(z1, overwrite=True)
        return out

    def forward_network_space(self, Xp, *, biases=True, output_activation=True):
        """Output for dense network inputs ``Xp``, optionally without the biases or
        the output activation (the one-hot probe)."""
        z1 = Xp @ self.coefs[0]
        if biases:
            z1 = z1 + self.intercepts[0]
        return self.propagate(z1, biases=biases, output_activation=output_activation)

    def _output_jacobian(self, o):
        """``do_k / dz_L,m`` from the output ``o`` alone: shape (B, K, K)."""
        n, k = o.shape
        if self.out_activation == "softmax":
            return o[:, :, None] * (np.eye(k)[None] - o[:, None, :])
        if self.out_activation == "identity":
            diag = np.ones_like(o)
        elif self.out_activation == "logistic":
            diag = o * (1.0 - o)
        else:  # exp
            diag = o
        jac = np.zeros((n, k, k))
        idx = np.arange(k)
        jac[:, idx, idx] = diag
        return jac

    def _batch_gradients(self, X):
        """Jacobian ``do_k / dx'_i`` for a batch of network inputs: shape (B, K, p)."""
        hidden = _ACTIVATIONS[self.activation]
        derivative = _HIDDEN_DERIVATIVES[self.activation]
        z = self.first_preactivation(X)
        pre, post = [], []
        for w, c in zip(self.coefs[1:], self.intercepts[1:]):
            a = hidden(z)
            pre.append(z)
            post.append(a)
            z = a @ w + c
        o = _ACTIVATIONS[self.out_activation](z)
        n, k = o.shape
        delta = self._output_jacobian(o)  # (B, K, fan_out of the current layer)
        for w, z_prev, a_prev in zip(self.coefs[:0:-1], pre[::-1], post[::-1]):
            back = delta.reshape(n * k, -1) @ w.T
            delta = back.reshape(n, k, -1) * derivative(z_prev, a_prev)[:, None, :]
        return (delta.reshape(n * k, -1) @ self.coefs[0].T).reshape(n, k, -1)

    def continued(
        self,
        X,
        y,
        sample_weight,
        *,
        n_iter,
        seed,
        zero_inputs=None,
        held_values=None,
        inputs_zeroed=False,
    ):
        """A copy of the MLP trained ``n_iter`` more iterations on network inputs ``X``.

        The first-layer rows of ``zero_inputs`` are set to zero and those inputs are
        zeroed in ``X``, so that they receive no gradient and stay zero: the result is
        the network without them. With ``held_values`` (one per input in
        ``zero_inputs``), the constant contribution of those inputs held at these
        values is folded into the first-layer bias. With ``inputs_zeroed``, ``X``
        holds zeros in those columns already and is used as it is (no copy; it is
        not modified). Early stopping is switched off
        (its best-so-far state predates the change) and the ``ConvergenceWarning`` of
        the short run is not shown.
        """
        mlp = _warm_start_copy(self.estimator, n_iter, seed)
        coefs = [w.copy() for w in mlp.coefs_]
        intercepts = [c.copy() for c in mlp.intercepts_]
        if held_values is not None and zero_inputs is not None:
            intercepts[0] = intercepts[0] + held_values @ coefs[0][zero_inputs]
        if zero_inputs is not None and len(zero_inputs):
            coefs[0][zero_inputs] = 0.0
            if not inputs_zeroed:  # else X holds zeros there already: no copy
                X = X.copy()
                X[:, zero_inputs] = 0.0
        mlp.coefs_, mlp.intercepts_ = coefs, intercepts
        # An MLP fitted on a DataFrame knows its column names, and X here is an
        # array: the names are set aside for the fit (which would warn that X has
        # none) and put back, since the whole estimator is scored on the rows as
        # the user passed them.
        names = mlp.__dict__.pop("feature_names_in_", None)
        mlp = refit(mlp, X, y, sample_weight)
        if names is not None:
            mlp.feature_names_in_ = names
        return mlp

    def continued_together(
        self, X, y, sample_weight, *, n_iter, seed, ablated, held_values=None
    ):
        """Yield :meth:`continued` for each entry of ``ablated`` (None: the intact
        network), with ``held_values[j]`` for entry ``j``.

        With a stochastic solver (``adam``, ``sgd``) and dense float64 inputs, up to
        :data:`STACK_SIZE` continuations (fewer for networks of more than
        :data:`STACK_WEIGHTS` / 16 weights) are trained side by side
        (:func:`_continue_stack`): they share the seed, hence every mini-batch, so
        that one product gives all their first layers and the batch's rows are
        gathered once. Their weights equal those of :meth:`continued` up to the
        order of floating-point sums. Otherwise (``lbfgs``, sparse inputs, or a
        budget long enough for the stopping rule to act) each is trained by
        scikit-learn in turn.
        """
        mlp = self.estimator
        stackable = (
            getattr(mlp, "solver", None) in ("adam", "sgd")
            and isinstance(X, np.ndarray)
            and X.dtype == np.float64
            and all(w.dtype == np.float64 for w in mlp.coefs_)
            and len(mlp.coefs_) > 1
            # The stopping rule (and sgd's adaptive rate) acts after more than
            # n_iter_no_change epochs without improvement: never within the budget.
            and n_iter <= mlp.n_iter_no_change + 1
        )
        if not stackable:
            yield from super().continued_together(
                X,
                y,
                sample_weight,
                n_iter=n_iter,
                seed=seed,
                ablated=ablated,
                held_values=held_values,
            )
            return
        held_values = [None] * len(ablated) if held_values is None else held_values
        prepared = _prepare_continuation(mlp, X, y, sample_weight)
        n_weights = sum(w.size for w in mlp.coefs_)
        stack = max(1, min(STACK_SIZE, STACK_WEIGHTS // n_weights))
        n_stacks = -(-len(ablated) // stack)
        for part in np.array_split(np.arange(len(ablated)), n_stacks):
            yield from _continue_stack(
                mlp,
                prepared,
                n_iter,
                seed,
                [ablated[j] for j in part],
                [held_values[j] for j in part],
            )


#: Most warm continuations an MLP trains side by side (:func:`_continue_stack`);
#: more share each batch's gathered rows among more networks (at 20 000 x 1 000
#: inputs, hidden (100,), one thread: 0.45 s per network for stacks of 16, 0.48 s
#: for 8, 0.49 s for 4, 0.62 s one by one through ``fit``), at the cost of holding
#: their weights and optimizer states (4 arrays the size of the weights each).
STACK_SIZE = 16

#: Most weights of all the networks of a stack (32 MiB of float64; with adam's two
#: states and the gradients, about 4x that): wider networks are stacked fewer at a
#: time, so that the memory a stack holds stays bounded whatever the inputs.
STACK_WEIGHTS = 2**22


def _warm_start_copy(mlp, n_iter, seed):
    """A copy of ``mlp`` set to continue its training for ``n_iter`` epochs with the
    seed ``seed``: warm start, no early stopping (its best-so-far state predates
    the change) and fresh counters of the stopping rule."""
    mlp = deepcopy(mlp)
    mlp.set_params(warm_start=True, max_iter=n_iter, random_state=seed)
    mlp.set_params(early_stopping=False)
    if hasattr(mlp, "best_loss_"):
        mlp.best_loss_, mlp._no_improvement_count = np.inf, 0
    return mlp


def _prepare_continuation(mlp, X, y, sample_weight):
    """``(X, y, sample_weight)`` as scikit-learn's ``fit`` of a warm-started copy of
    ``mlp`` trains on them (validated; a classifier's labels binarized; y 2-D)."""
    from sklearn.utils.validation import _check_sample_weight

    copy = deepcopy(mlp)
    copy.set_params(warm_start=True)
    copy.__dict__.pop("feature_names_in_", None)  # X is an array here
    X, y = copy._validate_input(X, y, False, reset=False)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X)
    if y.ndim == 1:
        y = y.reshape((-1, 1))
    return X, y, sample_weight


class _Steps:
    """scikit-learn's ``adam`` and ``sgd`` updates (``AdamOptimizer``,
    ``SGDOptimizer``), in place: the same operations in the same order, hence the
    same values, without temporaries the size of the weights."""

    def __init__(self, mlp):
        self.mlp = mlp
        self.adam = mlp.solver == "adam"
        self.t = 0
        self.learning_rate = mlp.learning_rate_init

    def state(self, param):
        """The optimizer's state for ``param``: zeros, as a fresh optimizer's."""
        return [np.zeros_like(param) for _ in range(2 if self.adam else 1)]

    def begin(self):
        """Once per batch, before its updates."""
        if self.adam:
            mlp = self.mlp
            self.t += 1
            self.learning_rate = (
                mlp.learning_rate_init
                * np.sqrt(1 - mlp.beta_2**self.t)
                / (1 - mlp.beta_1**self.t)
            )

    def update(self, param, grad, state, tmp, tmp2):
        """Add the update for ``grad`` to ``param`` (``tmp`` and ``tmp2``: scratch
        arrays of its shape)."""
        mlp = self.mlp
        if self.adam:
            m, v = state
            # m = beta_1 m + (1 - beta_1) g;  v = beta_2 v + (1 - beta_2) g**2
            np.multiply(m, mlp.beta_1, out=m)
            np.multiply(grad, 1 - mlp.beta_1, out=tmp)
            m += tmp
            np.square(grad, out=tmp)
            tmp *= 1 - mlp.beta_2
            np.multiply(v, mlp.beta_2, out=v)
            v += tmp
            # param += -rate m / (sqrt(v) + epsilon)
            np.sqrt(v, out=tmp)
            tmp += mlp.epsilon
            np.multiply(m, -self.learning_rate, out=tmp2)
            np.divide(tmp2, tmp, out=tmp2)
            param += tmp2
            return
        (velocity,) = state
        # velocity = momentum velocity - rate g; Nesterov's step looks ahead once more
        np.multiply(velocity, mlp.momentum, out=velocity)
        np.multiply(grad, self.learning_rate, out=tmp)
        velocity -= tmp
        if mlp.nesterovs_momentum:
            np.multiply(velocity, mlp.momentum, out=tmp2)
            tmp2 -= tmp
            param += tmp2
        else:
            param += velocity

    def iteration_ends(self, time_step):
        mlp = self.mlp
        if not self.adam and mlp.learning_rate == "invscaling":
            self.learning_rate = (
                float(mlp.learning_rate_init) / (time_step + 1) ** mlp.power_t
            )


def _continue_stack(mlp, prepared, n_iter, seed, ablated, held_values):
    """Copies of ``mlp`` each trained ``n_iter`` more epochs as
    :meth:`MLPNetwork.continued` trains it, side by side.

    The continuations share scikit-learn's stochastic training loop (same seed:
    same shuffles and mini-batches, each network a fresh optimizer). Each layer's
    weights are stacked along a leading axis, one network per entry, so that a
    batch's rows are gathered once and each layer is one call for all networks;
    the first layer's gradient of each network is followed at once by its update
    (:class:`_Steps`, in place), while it is still in the cache. Network ``k``'s
    ablated inputs have their first-layer rows zeroed and their gradient set to
    zero, which is what zeroing the inputs does in ``continued``: the update then
    leaves them at zero. Activations are scikit-learn's own. The copies' ``n_iter_``
    and ``t_`` advance as in ``fit``; their ``loss_curve_`` is not extended (the
    losses are not computed).
    """
    from sklearn.neural_network._base import ACTIVATIONS, DERIVATIVES
    from sklearn.utils import check_random_state, gen_batches, shuffle

    X, y, sample_weight = prepared
    n_samples = X.shape[0]
    K = len(ablated)
    # Layer l: weights (K, fan_in, fan_out) and intercepts (K, 1, fan_out).
    weights = [np.repeat(w[None], K, axis=0) for w in mlp.coefs_]
    biases = [np.repeat(c[None, None], K, axis=0) for c in mlp.intercepts_]
    zeroed = {}  # network: its ablated inputs
    for k, (rows, held) in enumerate(zip(ablated, held_values)):
        if held is not None and rows is not None:
            biases[0][k, 0] += held @ mlp.coefs_[0][rows]
        if rows is not None and len(rows):
            weights[0][k, rows] = 0.0
            zeroed[k] = rows
    steps = _Steps(mlp)
    states = [steps.state(w) for w in weights] + [steps.state(c) for c in biases]
    scratch = [(np.empty_like(w[0]), np.empty_like(w[0])) for w in weights]
    first_grad = np.empty_like(weights[0][0])
    activation, derivative = ACTIVATIONS[mlp.activation], DERIVATIVES[mlp.activation]
    output_activation = ACTIVATIONS[mlp.out_activation_]
    alpha, n_layers = mlp.alpha, len(weights)
    random_state = check_random_state(seed)
    if mlp.batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        batch_size = int(np.clip(mlp.batch_size, 1, n_samples))
    sample_idx = np.arange(n_samples, dtype=int)
    t = mlp.t_
    for _ in range(n_iter):
        if mlp.shuffle:
            sample_idx = shuffle(sample_idx, random_state=random_state)
        for batch in gen_batches(n_samples, batch_size):
            rows = sample_idx[batch] if mlp.shuffle else batch
            X_batch, y_batch = X[rows], y[rows]
            n = X_batch.shape[0]
            sw = None if sample_weight is None else sample_weight[rows]
            sw_sum = n if sw is None else sw.sum()
            # Forward, as scikit-learn's _forward_pass: activations[l] (K, n, units).
            activations = [X_batch]
            for i in range(n_layers):
                z = activations[-1] @ weights[i]
                z += biases[i]
                if i < n_layers - 1:
                    activation(z)
                activations.append(z)
            for out in activations[-1]:  # a softmax works along rows of 2-D arrays
                output_activation(out)
            # Backward, as scikit-learn's _backprop; each layer's update follows its
            # gradients (the deltas below it use its weights before the update).
            steps.begin()
            delta = activations[-1] - y_batch
            if sw is not None:
                delta *= sw.reshape(-1, 1)
            for i in range(n_layers - 1, 0, -1):
                grad = activations[i].transpose(0, 2, 1) @ delta
                grad += alpha * weights[i]
                grad /= sw_sum
                intercept_grad = np.sum(delta, axis=1, keepdims=True) / sw_sum
                below = delta @ weights[i].transpose(0, 2, 1)
                derivative(activations[i], below)
                for k in range(K):
                    steps.update(
                        weights[i][k], grad[k], [s[k] for s in states[i]], *scratch[i]
                    )
                steps.update(
                    biases[i],
                    intercept_grad,
                    states[n_layers + i],
                    np.empty_like(intercept_grad),
                    np.empty_like(intercept_grad),
                )
                delta = below
            intercept_grad = np.sum(delta, axis=1, keepdims=True) / sw_sum
            tmp, tmp2 = scratch[0]
            for k in range(K):
                np.matmul(X_batch.T, delta[k], out=first_grad)
                np.multiply(weights[0][k], alpha, out=tmp)
                first_grad += tmp
                first_grad /= sw_sum
                if k in zeroed:
                    first_grad[zeroed[k]] = 0.0
                steps.update(
                    weights[0][k], first_grad, [s[k] for s in states[0]], tmp, tmp2
                )
            steps.update(
                biases[0],
                intercept_grad,
                states[n_layers],
                np.empty_like(intercept_grad),
                np.empty_like(intercept_grad),
            )
        t += n_samples
        steps.iteration_ends(t)
    for k in range(K):
        copy = _warm_start_copy(mlp, n_iter, seed)
        copy.coefs_ = [w[k].copy() for w in weights]
        copy.intercepts_ = [c[k, 0].copy() for c in biases]
        copy.n_iter_ = n_iter
        copy.t_ = t
        yield copy


def batched_column_std(batches, sample_weight):
    """:func:`column_std` of the rows that ``batches()`` yields as ``(rows, X_rows)``.

    One pass: each batch's weighted mean and sum of squared deviations are merged into
    the running ones (Chan, Golub & LeVeque's pairwise update), so that no array of
    all the rows is made. ``sample_weight`` (one per row) is required.
    """
    w = np.asarray(sample_weight, dtype=float)
    total = mean = squares = low = high = None
    for rows, X in batches():
        X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=float)
        low = X.min(axis=0) if low is None else np.minimum(low, X.min(axis=0))
        high = X.max(axis=0) if high is None else np.maximum(high, X.max(axis=0))
        w_batch = w[rows]
        weight = w_batch.sum()
        if weight == 0:
            continue
        batch_mean = w_batch @ X / weight
        deviations = X - batch_mean
        deviations **= 2
        batch_squares = w_batch @ deviations
        if total is None:
            total, mean, squares = weight, batch_mean, batch_squares
            continue
        delta = batch_mean - mean
        merged = total + weight
        mean = mean + delta * (weight / merged)
        squares = squares + batch_squares + delta**2 * (total * weight / merged)
        total = merged
    std = np.sqrt(squares / total)
    std[low == high] = 0.0
    return std


def column_std(X, sample_weight=None):
    """Weighted standard deviation (ddof=0) of each column; exactly 0 if constant."""
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    w = np.asarray(sample_weight, dtype=float)
    w = w / w.sum()
    if sparse.issparse(X):
        X = sparse.csc_array(X, dtype=float, copy=True)
        X.sum_duplicates()
        n_rows, n_cols = X.shape
        mean = np.asarray(X.T @ w).ravel()
        # Two passes, as for dense X (E[x^2] - E[x]^2 cancels when |mean| >> std):
        # stored entries contribute w (x - mean)^2, implicit zeros w mean^2.
        nnz = np.diff(X.indptr)
        col = np.repeat(np.arange(n_cols), nnz)
        w_stored = w[X.indices]
        var = np.bincount(
            col, weights=w_stored * (X.data - mean[col]) ** 2, minlength=n_cols
        )
        w_zeros = 1.0 - np.bincount(col, weights=w_stored, minlength=n_cols)
        w_zeros[nnz == n_rows] = 0.0
        var += np.maximum(w_zeros, 0.0) * mean**2
        constant = X.max(axis=0).toarray().ravel() == X.min(axis=0).toarray().ravel()
    else:
        # Row batches, so that no temporary of the size of X is made.
        X = np.asarray(X)
        n_rows, n_cols = X.shape
        step = max(1, DEFAULT_BATCH_ELEMENTS // max(n_cols, 1))
        batches = [slice(i, i + step) for i in range(0, n_rows, step)]
        mean = sum((w[rows] @ X[rows] for rows in batches), np.zeros(n_cols))
        var = sum(
            (w[rows] @ (X[rows] - mean) ** 2 for rows in batches), np.zeros(n_cols)
        )
        constant = (
            X.max(axis=0) == X.min(axis=0) if n_rows else np.ones(n_cols, dtype=bool)
        )
    std = np.sqrt(var)
    std[constant] = 0.0
    return std
