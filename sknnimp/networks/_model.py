"""A fitted model seen as preprocessing + a network: what the methods explain.

A *network* is an ``MLPRegressor``/``MLPClassifier``, alone or as the last step of a
``Pipeline``, possibly inside a ``TransformedTargetRegressor``. :class:`NetworkModel`
splits such a model into

- the preprocessing (the pipeline's steps before the network), which maps a table of
  original columns to the network's input ``x'``;
- the :class:`~sknnimp.networks.Network` itself, computing in that input space;
- the provenance map: for every network input, the original column it comes from
  (see :func:`~sknnimp.networks.provenance`);
- the target transformer: when it is affine (a scaler, or none), its inverse is folded
  into the network's last layer, so that outputs, gradients and weights are in the
  target's units (the chain rule).
"""

from copy import deepcopy

import numpy as np
from scipy import sparse
from sklearn.compose import TransformedTargetRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)

from .._tables import take_rows
from ._mlp import MLPNetwork
from ._provenance import check_column_separable, provenance
from ._skorch import SkorchNetwork, is_skorch_network

#: Scalers whose transform is ``x * a + b`` column by column.
AFFINE_SCALERS = (StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler)

#: scikit-learn's network estimators.
NETWORK_CLASSES = (MLPRegressor, MLPClassifier)


def _is_mlp(final):
    return isinstance(final, NETWORK_CLASSES)


#: The network implementations: ``(applies, factory)`` pairs. ``applies(final)`` says
#: whether the final step of a model is such a network (without importing an optional
#: dependency unless the estimator comes from it); ``factory(final, output_scale=...,
#: output_offset=...)`` makes the :class:`~sknnimp.networks.Network` of the fitted
#: final step, with an affine map of its outputs folded in (None: no map).
IMPLEMENTATIONS = [(_is_mlp, MLPNetwork), (is_skorch_network, SkorchNetwork)]


def _implementation(final):
    """The factory of the network implementation for ``final``, or None."""
    for applies, factory in IMPLEMENTATIONS:
        if applies(final):
            return factory
    return None


def _split(estimator, fitted):
    """``(target regressor or None, [(name, step)] before the network, final step)``."""
    ttr = None
    if isinstance(estimator, TransformedTargetRegressor):
        ttr = estimator
        estimator = (
            estimator.regressor_
            if fitted and hasattr(estimator, "regressor_")
            else estimator.regressor
        )
    if isinstance(estimator, Pipeline):
        steps = [
            (name, step)
            for name, step in estimator.steps
            if step is not None
            and not (isinstance(step, str) and step == "passthrough")
        ]
        if not steps:
            raise TypeError("The pipeline has no final estimator.")
        *steps, (_, final) = steps
    else:
        steps, final = [], estimator
    return ttr, steps, final


def check_network(estimator):
    """Raise TypeError unless ``estimator`` is a network behind preprocessing that
    does not mix columns, as far as its structure tells (fitted or not).

    A ``MixingStepError`` (a TypeError) names a step known to mix columns.
    """
    _, steps, final = _split(estimator, fitted=False)
    if _implementation(final) is None:
        raise TypeError(
            f"{type(final).__name__} is not a network (an MLPRegressor or "
            "MLPClassifier, alone, at the end of a Pipeline or inside a "
            "TransformedTargetRegressor)."
        )
    for name, step in steps:
        check_column_separable(step, (name,))


def is_network(estimator):
    """Whether ``estimator`` is a network, as far as :func:`check_network` tells."""
    try:
        check_network(estimator)
    except TypeError:
        return False
    return True


def scaler_affine(scaler, n_features):
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


def _target_affine(ttr, n_outputs):
    """``(scale, offset)`` with ``y = o * scale + offset``, or None if not affine."""
    transformer = ttr.transformer_
    if isinstance(transformer, FunctionTransformer):
        if transformer.func is None and transformer.inverse_func is None:
            return np.ones(n_outputs), np.zeros(n_outputs)
        return None
    if isinstance(transformer, AFFINE_SCALERS) and not getattr(
        transformer, "clip", False
    ):
        a, b = scaler_affine(transformer, n_outputs)
        return 1.0 / a, -b / a
    return None


class NetworkModel:
    """A fitted network model split into preprocessing, network and provenance.

    Parameters
    ----------
    estimator : estimator object
        Fitted; see the module documentation for what counts as a network.

    Attributes
    ----------
    network : Network
        The network, computing from its inputs ``x'``.
    provenance : ndarray of int of shape (network.n_inputs,)
        Original column of every network input (-1: a constant input).
    n_columns : int
        Number of original columns.
    in_target_units : bool
        False when a non-affine target transformer sits between the network's output
        and the prediction: outputs and gradients are then in the transformed units.

    Raises
    ------
    TypeError
        When the estimator does not end in a network, or a preprocessing step mixes
        columns (the message names the step).
    """

    def __init__(self, estimator):
        ttr, steps, final = _split(estimator, fitted=True)
        factory = _implementation(final)
        if factory is None:
            check_network(estimator)
        network = factory(final)
        self.estimator = estimator
        self.steps = steps
        self.ttr = ttr
        n_inputs = network.n_inputs
        if steps:
            n_columns = getattr(estimator, "n_features_in_", None)
            if n_columns is None:
                n_columns = steps[0][1].n_features_in_
            self.provenance = provenance(Pipeline(steps), n_columns)
        else:
            n_columns = n_inputs
            self.provenance = np.arange(n_inputs)
        if len(self.provenance) != n_inputs:
            raise ValueError(
                f"The preprocessing gives {len(self.provenance)} columns, the network "
                f"takes {n_inputs}."
            )
        self.n_columns = n_columns
        affine = None
        if ttr is not None:
            affine = _target_affine(ttr, network.n_outputs)
        self.in_target_units = ttr is None or affine is not None
        self._factory, self._affine = factory, affine
        self.network = network if affine is None else self.network_of(final)

    def network_of(self, final):
        """The :class:`~sknnimp.networks.Network` of ``final``, a fitted network of
        the same kind put in place of this model's (e.g. a continued copy), with the
        same map of its outputs to the target's units."""
        if self._affine is None:
            return self._factory(final)
        scale, offset = self._affine
        return self._factory(final, output_scale=scale, output_offset=offset)

    def transform(self, X):
        """The network's inputs ``x'`` for rows ``X`` (a float array or sparse)."""
        for _, step in self.steps:
            X = step.transform(X)
        if sparse.issparse(X):
            return X.astype(float) if X.dtype != float else X
        return np.asarray(X, dtype=float)

    def transform_batches(self, X, batch_rows):
        """Yield ``(rows, network inputs of those rows)``, ``rows`` a slice of at most
        ``batch_rows`` rows: the preprocessing acts row by row, so the inputs need not
        be held whole."""
        n = X.shape[0]
        if n <= batch_rows:
            yield slice(0, n), self.transform(X)
            return
        for start in range(0, n, batch_rows):
            rows = slice(start, min(start + batch_rows, n))
            yield rows, self.transform(take_rows(X, np.arange(rows.start, rows.stop)))

    def network_groups(self, groups):
        """Network inputs of every group of original columns (constants in none)."""
        return [np.flatnonzero(np.isin(self.provenance, g)) for g in groups]

    def network_target(self, y):
        """The target as the network was trained on it (transformed by a TTR)."""
        if self.ttr is None:
            return y
        y = np.asarray(y)
        out = self.ttr.transformer_.transform(y.reshape(len(y), -1))
        return out.ravel() if y.ndim == 1 else out

    def with_network(self, final):
        """A copy of the whole estimator whose network is ``final``."""
        estimator = deepcopy(self.estimator)
        holder = estimator.regressor_ if self.ttr is not None else estimator
        if isinstance(holder, Pipeline):
            holder.steps[-1] = (holder.steps[-1][0], final)
            return estimator
        if self.ttr is not None:
            estimator.regressor_ = final
            return estimator
        return final


def network_model(estimator, method=None, working=()):
    """:class:`NetworkModel` of ``estimator``, or a TypeError saying what works.

    ``method`` and ``working`` (names of the methods that work with any estimator)
    go into the message.
    """
    try:
        return NetworkModel(estimator)
    except TypeError as exc:  # not a network, or a step that mixes columns
        reason = str(exc)
    what = f"method={method!r}" if method else "This"
    alternatives = ", ".join(map(repr, working))
    raise TypeError(
        f"{what} reads a network through the columns it comes from, but: {reason} "
        f"Methods that work with any estimator: {alternatives}."
    )


__all__ = [
    "AFFINE_SCALERS",
    "IMPLEMENTATIONS",
    "NETWORK_CLASSES",
    "NetworkModel",
    "check_network",
    "is_network",
    "network_model",
    "scaler_affine",
]
