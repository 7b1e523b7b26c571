"""The arithmetic of a fitted multi-layer perceptron.

Everything that reads the weights of a fitted ``MLPRegressor`` or ``MLPClassifier``
lives here: the composition of the
per-feature affine scalers in front of it, the forward pass and the input gradients by
back-propagation, all processed in row batches so that memory stays bounded.

Notation follows the package documentation: ``x`` is a raw input row, ``x' = a * x + b``
the network's input after the scalers, ``z_l`` the pre-activation of layer ``l`` and
``o`` the network's output after its output activation.
"""

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.extmath import safe_sparse_dot

#: Scalers whose transform is ``x * a + b`` column by column.
AFFINE_SCALERS = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler)

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


def pipeline_steps(estimator):
    """Split ``estimator`` into (list of scalers, final MLP), or raise TypeError."""
    if isinstance(estimator, Pipeline):
        steps = [
            step for _, step in estimator.steps if step not in (None, "passthrough")
        ]
        if not steps:
            raise TypeError("The pipeline has no final estimator.")
        *scalers, mlp = steps
    else:
        scalers, mlp = [], estimator
    if not isinstance(mlp, (MLPRegressor, MLPClassifier)):
        raise TypeError(
            f"{type(mlp).__name__} is not an MLPRegressor or MLPClassifier."
        )
    for scaler in scalers:
        if not isinstance(scaler, AFFINE_SCALERS):
            raise TypeError(
                f"{type(scaler).__name__} is not a per-feature affine scaler "
                f"(one of {', '.join(s.__name__ for s in AFFINE_SCALERS)})."
            )
        if getattr(scaler, "clip", False):
            raise TypeError(f"{type(scaler).__name__}(clip=True) is not affine.")
    return scalers, mlp


def is_network(estimator):
    """Whether ``estimator`` is an MLP, alone or behind per-feature affine scalers."""
    try:
        pipeline_steps(estimator)
    except TypeError:
        return False
    return True


def check_network_estimator(estimator):
    """Raise TypeError unless ``estimator`` is an MLP, possibly behind affine scalers.

    Works on fitted and unfitted estimators alike: only the structure is checked.
    """
    pipeline_steps(estimator)


def _scaler_affine(scaler, n_features):
    """Return ``(a, b)`` such that ``scaler.transform(x) == x * a + b``."""
    a = np.ones(n_features)
    b = np.zeros(n_features)
    if isinstance(scaler, StandardScaler):
        if scaler.scale_ is not None:
            a = 1.0 / scaler.scale_
        if scaler.mean_ is not None and scaler.with_mean:
            b = -scaler.mean_ * a
    elif isinstance(scaler, MinMaxScaler):
        a = np.asarray(scaler.scale_, dtype=float)
        b = np.asarray(scaler.min_, dtype=float)
    elif isinstance(scaler, MaxAbsScaler):
        a = 1.0 / scaler.scale_
    elif isinstance(scaler, RobustScaler):
        if scaler.scale_ is not None:
            a = 1.0 / scaler.scale_
        if scaler.center_ is not None:
            b = -scaler.center_ * a
    return np.asarray(a, dtype=float), np.asarray(b, dtype=float)


class MLPNetwork:
    """A fitted MLP with the affine scalers in front of it folded into one map.

    Parameters
    ----------
    estimator : MLPRegressor, MLPClassifier or Pipeline
        Fitted. A pipeline's steps before the MLP must be affine scalers.

    Attributes
    ----------
    coefs : list of ndarray
        ``coefs[l]`` has shape ``(fan_in, fan_out)``, as the MLP's ``coefs_``.
    intercepts : list of ndarray
        As the MLP's ``intercepts_``.
    activation, out_activation : str
        Hidden and output activation names, as in scikit-learn.
    input_scale, input_offset : ndarray of shape (n_features,)
        ``x' = x * input_scale + input_offset`` maps a raw row to the network's input.
    """

    def __init__(self, estimator):
        scalers, mlp = pipeline_steps(estimator)
        if not hasattr(mlp, "coefs_"):
            raise ValueError(f"{type(mlp).__name__} is not fitted.")
        self.coefs = [np.asarray(w, dtype=float) for w in mlp.coefs_]
        self.intercepts = [np.asarray(c, dtype=float) for c in mlp.intercepts_]
        self.activation = mlp.activation
        self.out_activation = mlp.out_activation_
        n_features = self.coefs[0].shape[0]
        a, b = np.ones(n_features), np.zeros(n_features)
        for scaler in scalers:
            a_s, b_s = _scaler_affine(scaler, n_features)
            a, b = a * a_s, b * a_s + b_s
        self.input_scale, self.input_offset = a, b
        # The first layer acting on raw rows: x @ W1f + c1f == x' @ W1 + c1.
        self.first_coef = a[:, None] * self.coefs[0]
        self.first_intercept = b @ self.coefs[0] + self.intercepts[0]

    @property
    def n_features(self):
        return self.coefs[0].shape[0]

    @property
    def n_outputs(self):
        return self.coefs[-1].shape[1]

    def batch_size(self, n_rows_per_sample=1):
        """Rows per batch so that the largest temporary has DEFAULT_BATCH_ELEMENTS."""
        widest = max(max(w.shape) for w in self.coefs)
        return max(1, DEFAULT_BATCH_ELEMENTS // (widest * n_rows_per_sample))

    def to_network_space(self, X):
        """Return ``x' = x * a + b`` as a dense array."""
        if sparse.issparse(X):
            X = X.toarray()
        return np.asarray(X, dtype=float) * self.input_scale + self.input_offset

    def first_preactivation(self, X):
        """``z_1`` for raw rows ``X`` (dense or sparse), shape ``(n, n_hidden_1)``."""
        return np.asarray(safe_sparse_dot(X, self.first_coef)) + self.first_intercept

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
        """Output ``o`` for raw rows ``X``, shape ``(n, n_outputs)``.

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
        """Output for rows ``Xp`` already in the network's input space."""
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
        """Jacobian ``do_k / dx'_i`` for one batch of raw rows: shape (B, K, p)."""
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

    def gradients(self, X, *, batch_size=None):
        """Yield ``(rows, J)`` with ``J[r, k, i] = do_k / dx'_i`` at row ``rows[r]``.

        The derivative is with respect to the network's input ``x'``; multiply by
        ``input_scale`` for the derivative with respect to the raw input ``x``.
        Rows come in batches whose temporaries are bounded by
        ``DEFAULT_BATCH_ELEMENTS`` floats.
        """
        if batch_size is None:
            batch_size = self.batch_size(n_rows_per_sample=self.n_outputs)
        n = X.shape[0]
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            yield rows, self._batch_gradients(X[rows])

    def input_spread(self, X, sample_weight=None):
        """``sigma'_i``: standard deviation (ddof=0) of input ``i`` after the scalers.

        Weighted by ``sample_weight`` when given. A column that is constant in ``X``
        gets exactly 0.
        """
        return np.abs(self.input_scale) * column_std(X, sample_weight)


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
