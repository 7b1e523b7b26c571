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
        mlp = deepcopy(self.estimator)
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
        mlp.set_params(warm_start=True, max_iter=n_iter, random_state=seed)
        mlp.set_params(early_stopping=False)
        if hasattr(mlp, "best_loss_"):
            mlp.best_loss_, mlp._no_improvement_count = np.inf, 0
        # An MLP fitted on a DataFrame knows its column names, and X here is an
        # array: the names are set aside for the fit (which would warn that X has
        # none) and put back, since the whole estimator is scored on the rows as
        # the user passed them.
        names = mlp.__dict__.pop("feature_names_in_", None)
        mlp = refit(mlp, X, y, sample_weight)
        if names is not None:
            mlp.feature_names_in_ = names
        return mlp


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
