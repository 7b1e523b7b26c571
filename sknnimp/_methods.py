"""The methods that read a trained network directly.

Each function takes a network (:class:`~sknnimp.networks.Network` with dense layers)
and the spread ``sigma`` (``sigma'_i``, the standard deviation of input ``i`` in the
network's input space) and returns ``(importances, signed)``: one non-negative score per
network input, and the signed score where the method defines one (NaN otherwise). The
caller sums them over the inputs an original column spreads over. ``W1`` is the first
layer's weight matrix, of shape ``(n_inputs, n_hidden_1)``; ``W_L`` the last layer's.

With ``per_output=True`` both are of shape ``(n_inputs, n_outputs)``: column ``k`` is
the method applied to the network that keeps only output ``k`` (the last layer's
column ``k``), with its signed score. The scores that average over outputs
(``olden``, ``gradient``, ``probe``) are the mean of these columns.
"""

import numpy as np


def weights_importance(net, sigma, per_output=False):
    """First-layer weights scaled by the input spread.

    ``I_i = sigma'_i * sum_j |W1_ij|``, the sum running over the first hidden layer.
    There is no sign. The first layer serves every output: per output, the same.
    """
    importances = sigma * np.abs(net.coefs[0]).sum(axis=1)
    if per_output:
        importances = np.repeat(importances[:, None], net.n_outputs, axis=1)
    return importances, importances.copy()


def _reaching_units(net):
    """``reach[j, k]``: first-layer hidden unit ``j`` is joined to output ``k`` by
    non-zero weights; shape (n_hidden_1, n_outputs)."""
    reach = np.eye(net.n_outputs)
    for w in net.coefs[:0:-1]:
        reach = np.abs(w) @ reach
    return reach > 0


def _garson_shares(w, column_sums, units):
    """``I_i = sum_j Q_ij / sum_i sum_j Q_ij`` over the hidden ``units`` (a mask)."""
    q = w[:, units] / column_sums[units]
    total = q.sum()
    return q.sum(axis=1) / total if total > 0 else np.zeros(w.shape[0])


def garson_importance(net, sigma, per_output=False):
    """Garson's (1991) relative importance on the spread-scaled first-layer weights.

    With ``w_ij = sigma'_i * W1_ij`` and ``j`` running over the first-layer hidden units
    that reach an output through non-zero weights and receive some non-zero weight,
    ``Q_ij = |w_ij| / sum_k |w_kj|`` and ``I_i = sum_j Q_ij / sum_i sum_j Q_ij``,
    so the importances sum to 1 (all zero if no unit qualifies). There is no sign.
    Per output ``k``, the units are those that reach output ``k``.
    """
    w = np.abs(sigma[:, None] * net.coefs[0])
    column_sums = w.sum(axis=0)
    reach = _reaching_units(net) & (column_sums > 0)[:, None]
    if per_output:
        importances = np.column_stack(
            [_garson_shares(w, column_sums, units) for units in reach.T]
        )
    else:
        importances = _garson_shares(w, column_sums, reach.any(axis=1))
    return importances, importances.copy()


def olden_importance(net, sigma, per_output=False):
    """Olden & Jackson's (2002) connection weights.

    ``O_i = sigma'_i * (W1 W2 ... W_L)_i`` per output (signed) and
    ``I_i = mean over outputs of |O_i|``. The signed score is ``O_i`` for a network
    with a single output, NaN otherwise.
    """
    product = net.coefs[0]
    for w in net.coefs[1:]:
        product = product @ w
    signed_per_output = sigma[:, None] * product
    return (
        _over_outputs(np.abs(signed_per_output), per_output),
        _signed(signed_per_output, per_output),
    )


def gradient_importance(
    net, sigma, X, sample_weight=None, groups=None, per_output=False
):
    """Mean absolute input gradient, scaled by the input spread.

    ``I_i = sigma'_i * < |d o / d x'_i| >``, the mean over the rows of ``X`` (weighted
    by ``sample_weight``) of the absolute derivative of the network's output ``o``: the
    predicted value (regression), the positive-class probability (binary), each label's
    or class's probability; with several outputs the mean over outputs is taken
    (with ``per_output``, one column per output). The derivative is computed by
    back-propagation, batch by batch. The signed score is
    ``sigma'_i * < d o / d x'_i >`` for a single output, NaN otherwise.

    With ``groups`` (a list of index arrays, one row of the result per group), a
    group's score is the mean of the Euclidean norm
    ``|| (sigma'_i * d o / d x'_i)_{i in g} ||_2``, which for a single input is the
    score above; the signed score of a group of several inputs is NaN.

    ``X`` holds the network inputs, or is a callable yielding ``(rows, inputs of those
    rows)`` in row batches (then ``sample_weight`` must be given), so that the inputs
    need not be held whole.
    """
    n = len(sample_weight) if sample_weight is not None else X.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    w = w / w.sum()
    k, p = net.n_outputs, net.n_features
    if groups is not None and any(len(g) != 1 for g in groups):
        return _grouped_gradient_importance(net, sigma, X, w, groups, per_output)
    abs_mean = np.zeros(k * p)
    signed_mean = np.zeros(k * p)
    for rows, jac in _jacobians(net, X):
        jac = jac.reshape(len(jac), k * p)
        abs_mean += w[rows] @ np.abs(jac)
        signed_mean += w[rows] @ jac
    importances = _over_outputs((sigma * abs_mean.reshape(k, p)).T, per_output)
    signed = _signed((sigma * signed_mean.reshape(k, p)).T, per_output)
    if groups is not None:
        order = np.concatenate(groups)
        return importances[order], signed[order]
    return importances, signed


def _jacobians(net, X):
    """``(rows, J)`` batches of ``net.gradients`` over network inputs ``X``, an array
    or a callable yielding ``(rows, inputs)`` batches (``rows`` a slice)."""
    if not callable(X):
        yield from net.gradients(X)
        return
    for rows, inputs in X():
        for sub, jac in net.gradients(inputs):
            yield slice(rows.start + sub.start, rows.start + sub.stop), jac


def _grouped_gradient_importance(net, sigma, X, w, groups, per_output):
    k, p = net.n_outputs, net.n_features
    membership = np.zeros((p, len(groups)))
    for j, group in enumerate(groups):
        membership[group, j] = 1.0
    norm_mean = np.zeros(k * len(groups))
    signed_mean = np.zeros(k * p)
    for rows, jac in _jacobians(net, X):
        scaled = jac * sigma  # (B, K, p)
        norms = np.sqrt((scaled**2).reshape(-1, p) @ membership)
        norm_mean += w[rows] @ norms.reshape(len(jac), k * len(groups))
        signed_mean += w[rows] @ scaled.reshape(len(jac), k * p)
    importances = _over_outputs(norm_mean.reshape(k, len(groups)).T, per_output)
    per_input = _signed(signed_mean.reshape(k, p).T, per_output)
    signed = np.array(
        [
            per_input[g[0]]
            if len(g) == 1
            else np.full(per_input.shape[1:], 0.0 if len(g) == 0 else np.nan)
            for g in groups
        ],
        dtype=float,
    )
    return importances, signed


def probe_importance(net, sigma, per_output=False):
    """The one-hot probe: a heuristic, not a measure with a known meaning.

    All biases are set to zero and the unit vector ``e_i`` (1 on input ``i`` of the
    network's input space, 0 elsewhere) is fed through the network without its output
    activation; ``I_i = mean over outputs of |f(e_i) - f(0)|``. An input that is
    constant in the data (``sigma'_i = 0``) cannot matter and gets 0. The signed score
    is ``f(e_i) - f(0)`` for a single output, NaN otherwise.
    """
    p = net.n_features
    batch = net.batch_size()
    zero = net.forward_network_space(
        np.zeros((1, p)), biases=False, output_activation=False
    )
    diffs = np.empty((p, net.n_outputs))
    for start in range(0, p, batch):
        stop = min(start + batch, p)
        probes = np.eye(stop - start, p, k=start)
        diffs[start:stop] = (
            net.forward_network_space(probes, biases=False, output_activation=False)
            - zero
        )
    diffs[sigma == 0] = 0.0
    return _over_outputs(np.abs(diffs), per_output), _signed(diffs, per_output)


def _over_outputs(values, per_output):
    """Scores of shape (p, K) as they are with ``per_output``, else their mean over
    the outputs."""
    return values if per_output else values.mean(axis=1)


def _signed(values, per_output):
    """The signed scores from per-output ones (p, K): all of them with
    ``per_output``; else column 0 if K == 1, NaN otherwise."""
    if per_output:
        return values.copy()
    if values.shape[1] == 1:
        return values[:, 0].copy()
    return np.full(values.shape[0], np.nan)


#: The network-reading methods; ``gradient`` also needs the data.
NETWORK_METHODS = {
    "weights": weights_importance,
    "garson": garson_importance,
    "olden": olden_importance,
    "gradient": gradient_importance,
    "probe": probe_importance,
}

#: Network methods whose values are in the units of the network's output.
OUTPUT_METHODS = ("olden", "gradient", "probe")

#: Methods that work for any estimator with ``fit`` and ``predict``.
AGNOSTIC_METHODS = ("permutation", "conditional", "ablation")

#: Global forms of per-row attributions: ``shap`` and ``sage`` work for any
#: estimator, ``integrated_gradients`` needs a network.
ATTRIBUTION_METHODS = ("shap", "integrated_gradients", "sage")

METHODS = (*NETWORK_METHODS, *AGNOSTIC_METHODS, *ATTRIBUTION_METHODS)

#: Methods that need the estimator to be a network.
NEEDS_NETWORK = (*NETWORK_METHODS, "integrated_gradients")

#: The methods run when none are named (the command line, ``compare_importances``):
#: the attributions cost a model evaluation per coalition and row, and are asked
#: for by name.
DEFAULT_METHODS = (*NETWORK_METHODS, *AGNOSTIC_METHODS)
