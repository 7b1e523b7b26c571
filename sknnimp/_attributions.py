"""Per-row attributions and the Shapley values of the loss.

- ``"shap"``: interventional Shapley values of the model's output. The players are
  the original columns (or groups of them); a coalition ``S`` of row ``x`` is worth
  ``v(S) = mean over background rows b of f(x_S, b_-S)``. Exact enumeration of the
  ``2**p`` coalitions up to ``max_exact_columns`` players, antithetic permutation
  sampling beyond, with a standard error for every value.
- ``"integrated_gradients"``: ``(x' - b') * integral over t of the gradient at
  b' + t (x' - b')``, in the network's input space, by Gauss-Legendre quadrature.
- ``"gradient"``, ``"gradient_x_input"``: the input gradient per row.
- SAGE (:func:`sage_values`): Shapley values of the loss of the model's prediction
  with the absent columns marginalized over the background (Covert, Lundberg & Lee
  2020), estimated by antithetic permutation sampling.

For a network, the preprocessing in front of it does not mix columns, so a coalition
changes only the absent columns' terms of the first pre-activation::

    z1(x_S, b_-S) = z1(b) + sum over players k in S of (x'_k - b'_k) @ W1_k

:class:`NetworkGame` computes the per-player terms once per explained row and every
coalition's pre-activations by one matrix product (enumeration) or a running sum
(along a permutation); only the layers after the first run per coalition. Any other
estimator is asked for its predictions on the hybrid rows (:class:`TableGame`).
"""

import math
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted

from ._blocks import BLOCK_ELEMENTS, batch_rows, check_network_inputs
from ._explanation import Explanation
from ._tables import _column, n_columns, replaced, take_rows
from .networks import network_model

#: Default largest number of players whose ``2**p`` coalitions are enumerated.
MAX_EXACT_COLUMNS = 10

#: Default number of background rows sampled from the data.
BACKGROUND_ROWS = 100

#: Antithetic pairs of permutations per round of sampling, and the default cap.
PAIRS_PER_ROUND = 8
MIN_PAIRS = 16
MAX_PAIRS = 1000

#: SAGE: samples (a row, a permutation and its reverse) per round, and the default
#: cap.
SAGE_ROUND = 32
SAGE_MAX_SAMPLES = 8192

ATTRIBUTION_METHODS = ("shap", "integrated_gradients", "gradient", "gradient_x_input")

#: Methods that need a network's gradients.
GRADIENT_METHODS = ("integrated_gradients", "gradient", "gradient_x_input")


# --------------------------------------------------------------------------- games


def _output_names(estimator, n_outputs):
    if is_classifier(estimator) and hasattr(estimator, "classes_"):
        classes = np.asarray(estimator.classes_)
        if classes.ndim == 1 and len(classes) == n_outputs:
            return [str(c) for c in classes]
    if n_outputs == 1:
        return None
    return [f"output {k}" for k in range(n_outputs)]


class NetworkGame:
    """Coalition values of a network's outputs, from first pre-activations.

    Parameters
    ----------
    model : NetworkModel
    players : list of ndarray
        Original columns of every player.
    background : table
        Rows standing in for the absent players.
    """

    def __init__(self, model, players, background):
        self.model = model
        self.net = model.network
        self.dense = self.net.dense_layers()
        self.inputs = model.network_groups(players)
        self.n_players = len(players)
        Bp = self.network_inputs(background)
        self.background_inputs = Bp
        self.n_background = Bp.shape[0]
        if self.dense is not None:
            self.w1 = self.dense.coefs[0]
            self.z_background = self.dense.first_preactivation(Bp)
        raw = self.net.forward(Bp)
        self.binary = (
            is_classifier(model.estimator)
            and raw.shape[1] == 1
            and len(getattr(model.estimator, "classes_", ())) == 2
        )
        self.background_outputs = self._final(raw)
        self.n_outputs = self.background_outputs.shape[1]

    def network_inputs(self, table):
        inputs = self.model.transform(table)
        check_network_inputs(inputs, self.net)
        return inputs.toarray() if sparse.issparse(inputs) else np.asarray(inputs)

    def _final(self, outputs):
        """Outputs as the estimator gives them: both classes of a binary one."""
        if self.binary:
            return np.concatenate([1.0 - outputs, outputs], axis=-1)
        return outputs

    def row(self, x_inputs):
        """The game of one explained row (its network inputs ``x_inputs``)."""
        return _NetworkRow(self, x_inputs)

    def chains_of_rows(self, inputs, rows, orders):
        """``v`` along ``orders[i]`` for the row of network inputs
        ``inputs[rows[i]]``, all rows at once: (m, p + 1, K)."""
        hidden = self.w1.shape[1]
        n_b, p = self.n_background, self.n_players
        out = np.empty((len(rows), p + 1, self.n_outputs))
        step = max(1, BLOCK_ELEMENTS // ((p + 1) * n_b * hidden))
        for start in range(0, len(rows), step):
            part = slice(start, min(start + step, len(rows)))
            m = part.stop - part.start
            diff = inputs[rows[part]][:, None, :] - self.background_inputs[None]
            z = np.empty((m, p + 1, n_b, hidden))
            z[:, 0] = self.z_background
            for k, idx in enumerate(self.inputs):
                if len(idx):
                    z[:, k + 1] = diff[:, :, idx] @ self.w1[idx]
                else:
                    z[:, k + 1] = 0.0
            ordered = np.take_along_axis(
                z[:, 1:], orders[part][:, :, None, None], axis=1
            )
            np.cumsum(ordered, axis=1, out=z[:, 1:])
            z[:, 1:] += z[:, :1]
            flat = z.reshape(-1, hidden)
            size = batch_rows(self.dense, len(flat))
            outputs = np.empty((len(flat), self.dense.n_outputs))
            for first in range(0, len(flat), size):
                batch = slice(first, min(first + size, len(flat)))
                outputs[batch] = self.dense.propagate(flat[batch], overwrite=True)
            out[part] = self._final(outputs).reshape(m, p + 1, n_b, -1).mean(axis=2)
        return out

    def rows(self, X):
        """``(network inputs of X's rows, outputs)``."""
        Xp = self.network_inputs(X)
        return Xp, self._final(self.net.forward(Xp))


class _NetworkRow:
    def __init__(self, game, x):
        self.game = game
        diff = x[None, :] - game.background_inputs  # (n_b, q)
        if game.dense is not None:
            # Each player's change of the first pre-activation: (p, n_b * H).
            hidden = game.w1.shape[1]
            self.deltas = np.zeros((game.n_players, game.n_background * hidden))
            for k, idx in enumerate(game.inputs):
                if len(idx):
                    self.deltas[k] = (diff[:, idx] @ game.w1[idx]).ravel()
        else:
            self.diff = diff
        self.x = x

    def _outputs_from_z(self, z):
        """Mean over the background of the outputs, for pre-activations of shape
        (m, n_b, H)."""
        game = self.game
        m, n_b, hidden = z.shape
        flat = z.reshape(m * n_b, hidden)
        size = batch_rows(game.dense, m * n_b)
        out = np.empty((m * n_b, game.dense.n_outputs))
        for start in range(0, m * n_b, size):
            rows = slice(start, min(start + size, m * n_b))
            out[rows] = game.dense.propagate(flat[rows], overwrite=True)
        return game._final(out).reshape(m, n_b, -1).mean(axis=1)

    def _chunk(self, per_item):
        """Items per chunk so that a chunk holds at most BLOCK_ELEMENTS values."""
        return max(1, BLOCK_ELEMENTS // max(1, per_item))

    def values(self, masks):
        """``v(S)`` for every coalition (rows of the boolean ``masks``): shape
        (n_masks, n_outputs)."""
        game = self.game
        masks = np.asarray(masks, dtype=float)
        out = np.empty((len(masks), game.n_outputs))
        if game.dense is not None:
            hidden = game.w1.shape[1]
            step = self._chunk(game.n_background * hidden)
            for start in range(0, len(masks), step):
                part = slice(start, min(start + step, len(masks)))
                z = masks[part] @ self.deltas
                z = z.reshape(-1, game.n_background, hidden)
                z += game.z_background[None]
                out[part] = self._outputs_from_z(z)
            return out
        step = self._chunk(game.n_background * self.x.shape[0])
        for start in range(0, len(masks), step):
            part = slice(start, min(start + step, len(masks)))
            hybrid = np.repeat(
                game.background_inputs[None], part.stop - part.start, axis=0
            )
            for i, mask in enumerate(masks[part].astype(bool)):
                for k in np.flatnonzero(mask):
                    hybrid[i][:, game.inputs[k]] = self.x[game.inputs[k]]
            raw = game.net.forward(hybrid.reshape(-1, self.x.shape[0]))
            out[part] = (
                game._final(raw)
                .reshape(part.stop - part.start, game.n_background, -1)
                .mean(axis=1)
            )
        return out

    def chains(self, orders):
        """``v`` along permutations: ``v(first k players of order)`` for k = 0..p,
        shape (n_orders, p + 1, n_outputs)."""
        game = self.game
        orders = np.asarray(orders)
        p = game.n_players
        if game.dense is None:
            masks = np.zeros((len(orders), p + 1, p), dtype=bool)
            for i, order in enumerate(orders):
                for k in range(p):
                    masks[i, k + 1 :, order[k]] = True
            return self.values(masks.reshape(-1, p)).reshape(len(orders), p + 1, -1)
        hidden = game.w1.shape[1]
        out = np.empty((len(orders), p + 1, game.n_outputs))
        step = self._chunk((p + 1) * game.n_background * hidden)
        for start in range(0, len(orders), step):
            part = orders[start : start + step]
            z = np.empty((len(part), p + 1, game.n_background * hidden))
            z[:, 0] = game.z_background.ravel()
            np.cumsum(self.deltas[part], axis=1, out=z[:, 1:])
            z[:, 1:] += z[:, :1]
            values = self._outputs_from_z(
                z.reshape(len(part) * (p + 1), game.n_background, hidden)
            )
            out[start : start + len(part)] = values.reshape(len(part), p + 1, -1)
        return out


class TableGame:
    """Coalition values of any estimator's predictions on hybrid rows: the columns
    of the players in the coalition from the explained row, the others from each
    background row."""

    def __init__(self, estimator, players, background, n_columns_):
        self.estimator = estimator
        self.players = players
        self.n_players = len(players)
        self.background = background
        self.n_background = background.shape[0]
        self.n_columns = n_columns_
        self.classifier = is_classifier(estimator)
        self.background_outputs = self.predict(background)
        self.n_outputs = self.background_outputs.shape[1]
        self._background_columns = [_column(background, j) for j in range(n_columns_)]

    def predict(self, table):
        if self.classifier:
            out = self.estimator.predict_proba(table)
        else:
            out = self.estimator.predict(table)
        out = np.asarray(out, dtype=float)
        return out.reshape(out.shape[0], -1)

    def row(self, x_row):
        return _TableRow(self, x_row)

    def rows(self, X):
        return X, self.predict(X)


class _TableRow:
    def __init__(self, game, x_row):
        self.game = game
        self.x_columns = [_column(x_row, j)[0] for j in range(game.n_columns)]

    def values(self, masks):
        game = self.game
        masks = np.asarray(masks, dtype=bool)
        n_b = game.n_background
        step = max(1, BLOCK_ELEMENTS // max(1, n_b * game.n_columns))
        out = np.empty((len(masks), game.n_outputs))
        for start in range(0, len(masks), step):
            part = masks[start : start + step]
            m = len(part)
            base = take_rows(game.background, np.tile(np.arange(n_b), m))
            columns, values = [], []
            for k, members in enumerate(game.players):
                present = np.repeat(part[:, k], n_b)
                if not present.any():
                    continue
                for j in members:
                    background = np.tile(game._background_columns[j], m)
                    value = self.x_columns[j]
                    if background.dtype.kind != "O":
                        mixed = np.where(present, value, background)
                    else:
                        mixed = background.copy()
                        mixed[present] = value
                    columns.append(j)
                    values.append(mixed)
            table = replaced(base, columns, values) if columns else base
            out[start : start + m] = game.predict(table).reshape(m, n_b, -1).mean(1)
        return out

    def chains(self, orders):
        orders = np.asarray(orders)
        p = self.game.n_players
        masks = np.zeros((len(orders), p + 1, p), dtype=bool)
        for i, order in enumerate(orders):
            for k in range(p):
                masks[i, k + 1 :, order[k]] = True
        return self.values(masks.reshape(-1, p)).reshape(len(orders), p + 1, -1)


def make_game(estimator, players, background, X):
    """The fastest game for ``estimator``: the network's own when it is one whose
    outputs are the predictions, else its predictions on hybrid rows."""
    try:
        model = network_model(estimator)
    except TypeError:
        model = None
    if model is not None and model.in_target_units:
        return NetworkGame(model, players, background)
    return TableGame(estimator, players, background, n_columns(X))


def _row_items(game, X, inputs=None):
    """``(row games, outputs of the rows)`` for the rows of ``X`` (given their
    ``inputs``, the outputs are None)."""
    if inputs is None:
        inputs, outputs = game.rows(X)
    else:
        outputs = None
    if isinstance(game, NetworkGame):
        return (lambda i: game.row(inputs[i])), outputs
    return (lambda i: game.row(take_rows(X, [i]))), outputs


# --------------------------------------------------------------- Shapley values


def _subset_weights(p):
    """Shapley weight |S|! (p - |S| - 1)! / p! of a coalition of each size."""
    return np.array(
        [
            math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)
            for s in range(p)
        ]
    )


def coalition_masks(p):
    """Every coalition of ``p`` players as a boolean matrix (2**p, p); row ``m``
    holds player ``k`` when bit ``k`` of ``m`` is set."""
    return ((np.arange(2**p)[:, None] >> np.arange(p)) & 1).astype(bool)


def exact_shapley(row, p):
    """Shapley values of one row by enumeration: shape (p, n_outputs)."""
    masks = coalition_masks(p)
    v = row.values(masks)
    weights = _subset_weights(p)
    sizes = masks.sum(axis=1)
    codes = np.arange(2**p)
    phi = np.empty((p, v.shape[1]))
    for k in range(p):
        without = codes[~masks[:, k]]
        phi[k] = weights[sizes[without]] @ (v[without | (1 << k)] - v[without])
    return phi


def sampled_shapley(row, p, rng, *, n_pairs, tol, scale):
    """Shapley values of one row by antithetic permutation sampling.

    Each sample is the mean of the marginal contributions along a random
    permutation and along its reverse. Rounds of :data:`PAIRS_PER_ROUND` pairs are
    drawn until every value's standard error is at most ``tol * scale`` (``scale``
    per output) or ``n_pairs`` pairs were drawn (``n_pairs`` exactly when
    ``tol`` is None). Returns ``(values, stderr, pairs used, converged)``.
    """
    samples = []
    converged = False
    while len(samples) < n_pairs:
        m = min(PAIRS_PER_ROUND, n_pairs - len(samples))
        orders = np.array([rng.permutation(p) for _ in range(m)])
        both = np.concatenate([orders, orders[:, ::-1]])
        chain = row.chains(both)
        marginal = np.diff(chain, axis=1)  # (2m, p, K)
        phi = np.empty_like(marginal)
        index = np.arange(2 * m)[:, None]
        phi[index, both] = marginal
        samples.extend(0.5 * (phi[:m] + phi[m:]))
        if tol is not None and len(samples) >= MIN_PAIRS:
            stderr = np.std(samples, axis=0, ddof=1) / math.sqrt(len(samples))
            if np.all(stderr <= tol * scale[None, :]):
                converged = True
                break
    samples = np.asarray(samples)
    values = samples.mean(axis=0)
    if len(samples) > 1:
        stderr = samples.std(axis=0, ddof=1) / math.sqrt(len(samples))
    else:
        stderr = np.full_like(values, np.nan)
    return values, stderr, len(samples), converged or tol is None


def shapley_values(
    estimator,
    X,
    players,
    background,
    rng,
    *,
    max_exact_columns=MAX_EXACT_COLUMNS,
    n_permutations="auto",
    tol=0.01,
    n_jobs=None,
):
    """Shapley values of every row of ``X`` for ``players`` (lists of columns).

    Returns a Bunch with ``phi`` (the values) and ``stderr`` of shape (n_rows,
    n_players, n_outputs), ``base`` (n_outputs,) (the mean output over the background),
    ``exact``, and for sampled values ``pairs`` and ``converged`` per row (else
    None). Each row's permutations come from its own seed, drawn from ``rng``, so
    the values do not depend on ``n_jobs`` (rows are shared out in chunks, see
    :func:`~sknnimp._parallel.run_tasks`).
    """
    from ._parallel import blas_threads, run_tasks

    game = make_game(estimator, players, background, X)
    row_of, _ = _row_items(game, X)
    p = len(players)
    n, K = X.shape[0], game.n_outputs
    exact = p <= max_exact_columns
    seeds = None if exact else rng.randint(2**31 - 1, size=n)
    sampling = dict(
        n_pairs=MAX_PAIRS if n_permutations == "auto" else n_permutations,
        tol=tol if n_permutations == "auto" else None,
        scale=game.background_outputs.std(axis=0),
    )

    def explain(rows):
        if exact:
            return [(exact_shapley(row_of(i), p), 0.0, 0, True) for i in rows]
        return [
            sampled_shapley(row_of(i), p, np.random.RandomState(seeds[i]), **sampling)
            for i in rows
        ]

    workers = max(effective_n_jobs(n_jobs), blas_threads())
    n_chunks = min(n, 4 * workers) if workers > 1 else 1
    chunks = [c for c in np.array_split(np.arange(n), n_chunks) if len(c)]
    results = [
        item
        for part in run_tasks(
            explain, [(c,) for c in chunks], n_jobs=n_jobs, threads=True
        )
        for item in part
    ]
    values = np.array([r[0] for r in results]).reshape(n, p, K)
    stderr = np.zeros((n, p, K))
    pairs = converged = None
    if not exact:
        stderr[:] = np.array([r[1] for r in results]).reshape(n, p, K)
        pairs = np.array([r[2] for r in results], dtype=int)
        converged = np.array([r[3] for r in results], dtype=bool)
    return Bunch(
        phi=values,
        stderr=stderr,
        base=game.background_outputs.mean(axis=0),
        exact=exact,
        pairs=pairs,
        converged=converged,
    )


# ------------------------------------------------------------------- gradients


def _gradient_model(estimator, method):
    from ._methods import AGNOSTIC_METHODS

    model = network_model(estimator, method, ("shap", "sage", *AGNOSTIC_METHODS))
    if not model.in_target_units:
        raise TypeError(
            f"method={method!r} differentiates the network's output, which a "
            "non-affine target transformer maps to predictions in a way the package "
            "cannot follow; method='shap' works."
        )
    return model


def _row_chunks(n_rows, per_row):
    step = max(1, BLOCK_ELEMENTS // max(1, per_row))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _jacobian(net, inputs):
    """Jacobian of the outputs at ``inputs``: (n, K, q)."""
    out = np.empty((inputs.shape[0], net.n_outputs, inputs.shape[1]))
    for rows, jac in net.gradients(inputs):
        out[rows] = jac
    return out


def _per_player(per_input, inputs, how="sum"):
    """(n, K, q) per network input -> (n, K, p) per player."""
    out = np.zeros((*per_input.shape[:2], len(inputs)))
    for k, idx in enumerate(inputs):
        if not len(idx):
            continue
        if how == "sum":
            out[:, :, k] = per_input[:, :, idx].sum(axis=2)
        elif len(idx) == 1:
            out[:, :, k] = per_input[:, :, idx[0]]
        else:
            out[:, :, k] = np.sqrt((per_input[:, :, idx] ** 2).sum(axis=2))
    return out


def _both_classes(values, binary):
    """Values of a binary network's positive class -> both classes (last axis)."""
    if binary:
        return np.concatenate([-values, values], axis=-1)
    return values


def integrated_gradients(model, X, players, baseline_inputs, n_steps):
    """``(values (n, p, K), f(baseline) (K,), gap (n, K), f(x) (n, K))``."""
    net = model.network
    inputs = model.network_groups(players)
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    t, w = (nodes + 1.0) / 2.0, weights / 2.0
    Xp = _dense_inputs(model, X)
    n, q = Xp.shape
    K = net.n_outputs
    values = np.empty((n, K, len(players)))
    for rows in _row_chunks(n, n_steps * q * max(K, 1)):
        x = Xp[rows]
        span = x - baseline_inputs
        path = baseline_inputs + t[:, None, None] * span[None]  # (steps, r, q)
        jac = _jacobian(net, path.reshape(-1, q)).reshape(n_steps, len(x), K, q)
        mean_gradient = np.tensordot(w, jac, axes=(0, 0))  # (r, K, q)
        values[rows] = _per_player(mean_gradient * span[:, None, :], inputs)
    f_x = net.forward(Xp)
    f_base = net.forward(baseline_inputs[None])[0]
    values = values.transpose(0, 2, 1)
    gap = values.sum(axis=1) - (f_x - f_base)
    return values, f_base, gap, f_x


def row_gradients(model, X, players, sigma, times_input):
    """Per-row gradient (spread-scaled; a norm for a player of several inputs) or
    gradient x input (summed over a player's inputs): (n, p, K)."""
    net = model.network
    inputs = model.network_groups(players)
    Xp = _dense_inputs(model, X)
    n, q = Xp.shape
    values = np.empty((n, net.n_outputs, len(players)))
    for rows in _row_chunks(n, q * net.n_outputs):
        jac = _jacobian(net, Xp[rows])
        if times_input:
            values[rows] = _per_player(jac * Xp[rows][:, None, :], inputs)
        else:
            values[rows] = _per_player(jac * sigma, inputs, how="norm")
    return values.transpose(0, 2, 1)


def _dense_inputs(model, X):
    inputs = model.transform(X)
    check_network_inputs(inputs, model.network)
    return inputs.toarray() if sparse.issparse(inputs) else np.asarray(inputs)


# ------------------------------------------------------------------------ SAGE


def _losses(predictions, y, classifier, classes):
    """Loss of predictions (m, c, K) against the targets ``y`` of their m rows:
    shape (m, c)."""
    if not classifier:
        y = np.asarray(y, dtype=float).reshape(len(y), 1, -1)
        return ((predictions - y) ** 2).mean(axis=-1)
    y = np.asarray(y)
    if y.ndim == 1:  # class labels
        index = np.searchsorted(classes, y)
        probabilities = np.clip(predictions, 1e-15, 1.0)
        picked = np.take_along_axis(probabilities, index[:, None, None], axis=2)
        return -np.log(picked[:, :, 0] / probabilities.sum(axis=-1))
    # Multilabel: binary cross-entropy, mean over labels.
    inside = np.clip(predictions, 1e-15, 1 - 1e-15)
    y = y.astype(float)[:, None, :]
    return -(y * np.log(inside) + (1 - y) * np.log(1 - inside)).mean(axis=-1)


def _chains_of_rows(game, X, inputs, rows, orders):
    """``v`` along ``orders[i]`` for row ``rows[i]``: (m, p + 1, K)."""
    if isinstance(game, NetworkGame) and game.dense is not None:
        return game.chains_of_rows(inputs, rows, orders)
    row_of, _ = _row_items(game, X, inputs)
    return np.array(
        [row_of(i).chains(order[None])[0] for i, order in zip(rows, orders)]
    )


def sage_values(
    estimator,
    X,
    y,
    players,
    background,
    *,
    sample_weight=None,
    n_samples="auto",
    tol=0.025,
    max_samples=SAGE_MAX_SAMPLES,
    random_state=None,
):
    """SAGE values: Shapley values of the loss, with absent players marginalized
    over ``background``.

    ``phi_k = E over rows and permutations of [loss without k - loss with k]`` as
    player ``k`` joins the players before it (squared error, mean over outputs, for
    regressors; log loss for classifiers). Rows are drawn with probability
    proportional to ``sample_weight``, each with a random permutation and its
    reverse (one sample: their mean). With ``n_samples="auto"``, rounds of
    :data:`SAGE_ROUND` samples are drawn until every standard error is at most
    ``tol`` times the range of the values (Covert et al.'s criterion) or
    ``max_samples`` samples were drawn. The values add up to the loss of the
    background's mean prediction minus the model's mean loss.

    Returns ``(values (p,), stderr (p,), n_samples used)``.
    """
    rng = check_random_state(random_state)
    game = make_game(estimator, players, background, X)
    inputs, _ = game.rows(X)
    classifier = is_classifier(estimator)
    classes = np.asarray(getattr(estimator, "classes_", []))
    n, p = X.shape[0], len(players)
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=float)
        w = w / w.sum()
    cap = max_samples if n_samples == "auto" else int(n_samples)
    y = np.asarray(y)
    samples = np.empty((0, p))
    while len(samples) < cap:
        m = min(SAGE_ROUND, cap - len(samples))
        rows = rng.choice(n, size=m, p=w)
        orders = np.array([rng.permutation(p) for _ in range(m)])
        both_rows = np.concatenate([rows, rows])
        both = np.concatenate([orders, orders[:, ::-1]])
        chain = _chains_of_rows(game, X, inputs, both_rows, both)
        decrease = -np.diff(_losses(chain, y[both_rows], classifier, classes), axis=1)
        phi = np.empty_like(decrease)
        phi[np.arange(2 * m)[:, None], both] = decrease
        samples = np.concatenate([samples, 0.5 * (phi[:m] + phi[m:])])
        if n_samples == "auto" and len(samples) >= 2:
            values = samples.mean(axis=0)
            stderr = samples.std(axis=0, ddof=1) / math.sqrt(len(samples))
            spread = np.ptp(values)
            if np.all(stderr <= tol * spread):
                break
    stderr = (
        samples.std(axis=0, ddof=1) / math.sqrt(len(samples))
        if len(samples) > 1
        else np.full(p, np.nan)
    )
    return samples.mean(axis=0), stderr, len(samples)


# --------------------------------------------------------------- the function


def choose_background(X, background, rng, max_rows=BACKGROUND_ROWS):
    """The background rows: ``background`` itself (a table), or a sample of at most
    ``background`` (an int; default ``max_rows``) rows of ``X`` drawn without
    replacement."""
    if background is None or isinstance(background, Integral):
        size = max_rows if background is None else int(background)
        n = X.shape[0]
        if n <= size:
            return X
        return take_rows(X, np.sort(rng.choice(n, size=size, replace=False)))
    return background


def _check_background(background, X):
    from ._importance import check_table

    background, _ = check_table(background)
    if n_columns(background) != n_columns(X):
        raise ValueError(
            f"background has {n_columns(background)} columns, X has {n_columns(X)}."
        )
    return background


def _data(X):
    """The explained rows as an array: float when every column is numeric, else
    object (strings, categories and booleans keep their values)."""
    if sparse.issparse(X):
        return X.toarray()
    columns = [_column(X, j) for j in range(n_columns(X))]
    if all(c.dtype.kind in "fiu" for c in columns):
        return np.column_stack(columns).astype(float)
    return np.column_stack([c.astype(object) for c in columns])


def _squeeze(values, output_names):
    """Drop the output axis of a single-output regressor's arrays."""
    if output_names is None and values is not None and values.shape[-1] == 1:
        return values[..., 0]
    return values


@validate_params(
    {
        "estimator": [HasMethods(["predict"])],
        "X": ["array-like", "sparse matrix"],
        "method": [StrOptions(set(ATTRIBUTION_METHODS))],
        "background": [
            "array-like",
            "sparse matrix",
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "baseline": ["array-like", None],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "max_exact_columns": [Interval(Integral, 0, 20, closed="both")],
        "n_permutations": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def attributions(
    estimator,
    X,
    *,
    method="shap",
    background=None,
    baseline=None,
    n_steps=32,
    max_exact_columns=MAX_EXACT_COLUMNS,
    n_permutations="auto",
    tol=0.01,
    n_jobs=None,
    random_state=None,
):
    """Attribute each row's prediction to its original columns.

    Parameters
    ----------
    estimator : estimator object
        Fitted. ``"shap"`` works with any estimator with ``predict`` (and
        ``predict_proba`` for a classifier); for a network (an MLP or a skorch
        network, alone or at the end of a ``Pipeline`` whose steps do not mix
        columns) it reuses the first layer's pre-activations. The gradient methods
        need a network.
    X : {array-like, sparse matrix, DataFrame} of shape (n_rows, n_columns)
        The rows to explain, as the estimator takes them (a DataFrame may hold
        strings, categories and missing values).
    method : {"shap", "integrated_gradients", "gradient", "gradient_x_input"}, \
default="shap"
        - ``"shap"``: interventional Shapley values of the output against
          ``background``: each row's values add up to ``f(x)`` minus the mean
          output over the background (``base_values``). A one-hot encoded
          category is one player.
        - ``"integrated_gradients"``: path integral of the gradient from
          ``baseline`` to the row in the network's input space, by ``n_steps``-point
          Gauss-Legendre quadrature, summed over a column's network inputs; a row's
          values add up to ``f(x) - f(baseline)`` up to ``completeness_gap``.
        - ``"gradient"``: the derivative of the output by each input, times the
          input's spread over the background in the network's input space (the
          change for one standard deviation); for a column of several network
          inputs, the norm of their scaled derivatives (no sign).
        - ``"gradient_x_input"``: the derivative times the network input, summed
          over a column's network inputs.
    background : array-like, DataFrame, int or None, default=None
        Rows standing in for absent columns (``"shap"``), whose mean network input is
        the default ``baseline`` and whose spread scales ``"gradient"``. An int: that
        many rows of ``X`` drawn at random; None: up to 100 of them. Pass (a sample of)
        the training rows to measure against the training distribution.
    baseline : array-like or DataFrame of one row, default=None
        ``"integrated_gradients"``: the path's start, as a row of original columns;
        None: the mean network input over ``background``.
    n_steps : int, default=32
        Quadrature points of ``"integrated_gradients"``.
    max_exact_columns : int, default=10
        ``"shap"`` enumerates all ``2**p`` coalitions up to this many players
        (columns or groups) and samples permutations beyond.
    n_permutations : "auto" or int, default="auto"
        ``"shap"`` by sampling: antithetic pairs of permutations per row. ``"auto"``
        draws until every standard error is at most ``tol`` times the standard
        deviation of the output over the background, with at least 16 and at most
        1000 pairs.
    tol : float, default=0.01
        The convergence criterion of ``n_permutations="auto"``.
    n_jobs : int, default=None
        ``"shap"``: parallel jobs over the rows. With None, the rows are shared out
        among threads of this process, as many as BLAS may use. The values do not
        depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds the background sample and the permutations.

    Returns
    -------
    explanation : :class:`~sknnimp.Explanation`
        ``values`` of shape (n_rows, n_columns), or (n_rows, n_columns, n_outputs)
        with several outputs (a classifier's classes, in ``output_names``), and
        ``base_values``, ``data``, ``feature_names``; ``stderr`` for ``"shap"``,
        ``completeness_gap`` for ``"integrated_gradients"``.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sknnimp import attributions
    >>> X, y = make_friedman1(n_samples=200, n_features=5, random_state=0)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=500,
    ...                    random_state=0).fit(X, y)
    >>> explanation = attributions(mlp, X[:5], background=X, random_state=0)
    >>> explanation.values.shape
    (5, 5)
    >>> bool(abs(explanation.values.sum(axis=1) + explanation.base_values
    ...          - mlp.predict(X[:5])).max() < 1e-9)
    True
    """
    from ._importance import check_table

    check_is_fitted(estimator)
    X, names = check_table(X)
    rng = check_random_state(random_state)
    if background is not None and not isinstance(background, Integral):
        background = _check_background(background, X)
    background = choose_background(X, background, rng)
    players = [np.array([j]) for j in range(n_columns(X))]
    feature_names = names or [f"x{j}" for j in range(n_columns(X))]
    if method == "shap":
        shap = shapley_values(
            estimator,
            X,
            players,
            background,
            rng,
            max_exact_columns=max_exact_columns,
            n_permutations=n_permutations,
            tol=tol,
            n_jobs=n_jobs,
        )
        values, stderr, base = shap.phi, shap.stderr, shap.base
        n, K = values.shape[0], values.shape[2]
        exact, pairs, converged = shap.exact, shap.pairs, shap.converged
        output_names = _output_names(estimator, K)
        return Explanation(
            _squeeze(values, output_names),
            _squeeze(np.tile(base, (n, 1)), output_names),
            _data(X),
            feature_names,
            method=method,
            output_names=output_names,
            stderr=_squeeze(stderr, output_names),
            exact=exact,
            n_permutations=pairs,
            converged=converged,
        )
    model = _gradient_model(estimator, method)
    binary = (
        is_classifier(estimator)
        and model.network.n_outputs == 1
        and len(getattr(estimator, "classes_", ())) == 2
    )
    Bp = _dense_inputs(model, background)
    K = 2 if binary else model.network.n_outputs
    output_names = _output_names(estimator, K)
    gap = None
    if method == "integrated_gradients":
        if baseline is None:
            baseline_inputs = Bp.mean(axis=0)
        else:
            row, _ = check_table(baseline)
            if row.shape[0] != 1 or n_columns(row) != n_columns(X):
                raise ValueError(
                    f"baseline must be one row of {n_columns(X)} columns; got shape "
                    f"{row.shape}."
                )
            baseline_inputs = _dense_inputs(model, row)[0]
        values, f_base, gap, _ = integrated_gradients(
            model, X, players, baseline_inputs, n_steps
        )
        base = np.tile(f_base, (X.shape[0], 1))
        if binary:
            base = np.concatenate([1.0 - base, base], axis=1)
            gap = np.concatenate([-gap, gap], axis=1)
    else:
        sigma = Bp.std(axis=0)
        values = row_gradients(
            model, X, players, sigma, times_input=method == "gradient_x_input"
        )
        base = np.full((X.shape[0], K), np.nan)
        if binary and method == "gradient":
            # The norm of a multi-input column has no sign to flip.
            signed = np.array([len(idx) <= 1 for idx in model.network_groups(players)])
            values = np.concatenate(
                [np.where(signed[None, :, None], -values, values), values], axis=-1
            )
    values = _both_classes(values, binary and method != "gradient")
    return Explanation(
        _squeeze(values, output_names),
        _squeeze(base, output_names),
        _data(X),
        feature_names,
        method=method,
        output_names=output_names,
        completeness_gap=None if gap is None else _squeeze(gap, output_names),
    )


# ------------------------------------------------------------- global forms

#: Attributions with a global form in ``nn_importance`` and the selector.
GLOBAL_METHODS = ("shap", "integrated_gradients", "sage")

#: The global form of ``"shap"`` averages over at most this many evaluation rows
#: (a seeded sample without replacement).
GLOBAL_SHAP_ROWS = 500


def global_importance(
    estimator,
    X_train,
    X_eval,
    y_eval,
    w_eval,
    players,
    *,
    method,
    background,
    random_state,
    n_jobs=None,
):
    """One importance per player from per-row attributions on ``X_eval``.

    ``"shap"`` and ``"integrated_gradients"``: the mean over rows (weighted by
    ``w_eval``; for ``"shap"``, a sample of at most :data:`GLOBAL_SHAP_ROWS` rows)
    of the absolute values, averaged over outputs; ``"sage"``: the SAGE
    values (drop in loss, squared error or log loss). ``background`` is a table, an
    int (rows sampled from ``X_train``) or None (up to 100 of them); the default
    baseline of integrated gradients is the background's mean network input.
    """
    rng = check_random_state(random_state)
    if background is None or isinstance(background, Integral):
        background = choose_background(X_train, background, rng)
    if method == "sage":
        values, _, _ = sage_values(
            estimator,
            X_eval,
            y_eval,
            players,
            background,
            sample_weight=w_eval,
            random_state=rng,
        )
        return values
    w = None if w_eval is None else np.asarray(w_eval, float)
    if method == "shap":
        if X_eval.shape[0] > GLOBAL_SHAP_ROWS:
            rows = np.sort(rng.choice(X_eval.shape[0], GLOBAL_SHAP_ROWS, replace=False))
            X_eval = take_rows(X_eval, rows)
            w = None if w is None else w[rows]
        per_row = shapley_values(
            estimator, X_eval, players, background, rng, n_jobs=n_jobs
        ).phi
    else:
        model = _gradient_model(estimator, method)
        baseline_inputs = _dense_inputs(model, background).mean(axis=0)
        per_row, _, _, _ = integrated_gradients(
            model, X_eval, players, baseline_inputs, n_steps=32
        )
    magnitude = np.abs(per_row).mean(axis=2)  # (n, players)
    w = np.ones(len(magnitude)) if w is None else w
    return w @ magnitude / w.sum()
