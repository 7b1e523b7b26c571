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
  2020), estimated from random (row, permutation) samples.

For a network, the preprocessing in front of it does not mix columns, so a coalition
changes only the absent columns' terms of the first pre-activation::

    z1(x_S, b_-S) = z1(b) + sum over players k in S of (x'_k - b'_k) @ W1_k

:class:`NetworkGame` computes the per-player terms once per explained row and every
coalition's pre-activations with one addition each: by doubling (all ``2**p``
coalitions: those holding player ``k`` are those without it plus its term) or by a
running sum along each permutation, in blocks that stay in the processor's cache;
only the layers after the first run per coalition (in float32 inside the
permutations of sampled Shapley values, :data:`SAMPLED_DTYPE`). Any other estimator
is asked for its predictions on the hybrid rows (:class:`TableGame`).
"""

import functools
import math
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse
from scipy.linalg import blas
from sklearn.base import is_classifier
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted

from ._blocks import BLOCK_ELEMENTS, CACHE_ELEMENTS, batch_rows, check_network_inputs
from ._explanation import Explanation
from ._parallel import blas_limit
from ._tables import _column, n_columns, replaced, take_rows
from .networks import MLPNetwork, network_model
from .networks._mlp import _ACTIVATIONS

#: Default largest number of players whose ``2**p`` coalitions are enumerated.
MAX_EXACT_COLUMNS = 10

#: Default number of background rows sampled from the data.
BACKGROUND_ROWS = 100

#: Antithetic pairs of permutations per round of sampling, and the default cap.
PAIRS_PER_ROUND = 8
MIN_PAIRS = 16
MAX_PAIRS = 1000

#: SAGE: samples (a row and a permutation) per round, and the default cap.
SAGE_ROUND = 64
SAGE_MAX_SAMPLES = 16384

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


#: First pre-activations (coalitions x background rows x hidden units) a block of
#: coalitions holds: 2 MiB of float64, about a core's L2 cache (the fastest of
#: 2**17 to 2**20 on the benchmark's machine, by up to 2x).
WALK_ELEMENTS = 2**18

#: Exact enumeration for a network of one ReLU layer
#: (:meth:`_NetworkRow.additive_values`, :meth:`_NetworkRow.offset_values`): the
#: values of a block (coalitions of the low players x (background row, unit)
#: pairs), 512 KiB, so that the block and its stage fill about a core's L2 cache
#: (the fastest of 2**12 to 2**18 on the benchmark's machine); the players whose
#: terms are offsets; the most players of the low bits (further players start a
#: block off).
OFFSET_ELEMENTS = 2**16
OFFSET_PLAYERS = 5
LOW_PLAYERS = 9

#: Positions of a block's chains that go through the layers after the first at once.
WALK_POSITIONS = 8

#: Arithmetic of the coalitions inside the permutations of Shapley values by
#: sampling: float32 halves the memory traffic, which is what their time goes to
#: (1.6x faster than float64 on the benchmark). A coalition's value is then off by
#: about 1e-7 of the output's magnitude, far below the sampling error; the empty
#: and the full coalitions stay float64, so that each permutation's contributions
#: still add up to f(x) - E f. Exact enumeration is float64.
SAMPLED_DTYPE = np.float32

#: The same for SAGE. float32 would make it 1.4x faster, but its values would then
#: differ by about 1e-7 (relative) from those of the same game computed from
#: ``predict`` in float64, e.g. one output's SAGE values against those of a
#: single-output wrapper of the same network, which agree to 1e-9 in float64.
SAGE_DTYPE = np.float64


class _Workspace:
    """Buffers reused from one explained row to the next (by one thread).

    A row's arrays of the size of (background rows x hidden units) are larger than
    what malloc keeps for reuse, so fresh ones would be mapped, and their pages
    faulted in, again for every row."""

    def __init__(self):
        self._buffers = {}

    def take(self, name, shape, dtype=np.float64):
        """An uninitialized array of ``shape``, a view of the buffer ``name``
        (valid until ``name`` is taken again)."""
        size = math.prod(shape)
        key = (name, np.dtype(dtype))
        buffer = self._buffers.get(key)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[key] = np.empty(size, dtype)
        return buffer[:size].reshape(shape)


class _Tail:
    """The layers after the first, from first pre-activations to the network's
    outputs, for up to ``n_rows`` rows at a time.

    An ``MLPNetwork`` of ReLU units runs here with buffers allocated once: ReLU in
    place against an array of zeros (``np.maximum`` with a scalar 0 takes about twice
    as long), then each layer's product into its buffer, then the output activation
    of the network's own table. That is the arithmetic of ``MLPNetwork.propagate``,
    in ``dtype`` (the weights cast to it). Any other network goes through its
    ``propagate(z, overwrite=True)`` in batches of
    :func:`~sknnimp._blocks.batch_rows`.
    """

    def __init__(self, dense, n_rows, dtype=np.float64):
        self.dense = dense
        self.lean = (
            isinstance(dense, MLPNetwork)
            and dense.activation == "relu"
            and len(dense.coefs) > 1
        )
        if self.lean:
            widest = max(w.shape[0] for w in dense.coefs[1:])
            self.zeros = np.zeros(n_rows * widest, dtype)
            self.buffers = [
                np.empty(n_rows * w.shape[1], dtype) for w in dense.coefs[1:]
            ]
            self.coefs = [w.astype(dtype) for w in dense.coefs[1:]]
            self.intercepts = [c.astype(dtype) for c in dense.intercepts[1:]]

    def activate(self, z, out):
        """``out`` = the first layer's activations for pre-activations ``z`` (an
        MLP of ReLU units), else a copy of ``z``; ``__call__(out, activated=True)``
        goes on from there."""
        if self.lean:
            np.maximum(z, self.zeros[: z.size].reshape(z.shape), out=out)
        else:
            np.copyto(out, z)

    def __call__(self, z, activated=False, shift=None):
        """Outputs (rows, n_outputs) for the pre-activations ``z`` (rows, hidden),
        which it overwrites (with ``activated``, ``z`` holds what :meth:`activate`
        gave); valid until the next call. ``shift`` (lean networks only; (m,
        width of the second layer)) replaces the second layer's intercept, added
        to every block of ``m`` rows."""
        dense, n = self.dense, z.shape[0]
        if not self.lean:
            size = batch_rows(dense, n)
            if size >= n:
                return dense.propagate(z, overwrite=True)
            out = np.empty((n, dense.n_outputs))
            for start in range(0, n, size):
                rows = slice(start, min(start + size, n))
                out[rows] = dense.propagate(z[rows], overwrite=True)
            return out
        a = z
        for layer, (w, c, buffer) in enumerate(
            zip(self.coefs, self.intercepts, self.buffers)
        ):
            if layer or not activated:
                np.maximum(a, self.zeros[: a.size].reshape(a.shape), out=a)
            a = np.matmul(a, w, out=buffer[: n * w.shape[1]].reshape(n, w.shape[1]))
            if layer == 0 and shift is not None:
                a.reshape(-1, *shift.shape)[...] += shift
            else:
                a += c
        return _ACTIVATIONS[dense.out_activation](a)


@functools.cache
def _outer_update(dtype):
    """``update(z, d, w)``: ``z += outer(d, w)`` in place, for ``z`` the flattened
    C-ordered (len(d), len(w)) array of ``dtype`` (float32 or float64): BLAS ``ger``
    on its transpose, one pass, no temporary."""
    ger = blas.sger if dtype == np.float32 else blas.dger
    probe = np.zeros((3, 2), dtype)
    ger(1.0, np.ones(2, dtype), np.ones(3, dtype), a=probe.T, overwrite_a=True)
    if probe.all():  # BLAS updated the array in place, as it does

        def update(z, d, w):
            ger(1.0, w, d, a=z.reshape(len(d), len(w)).T, overwrite_a=True)

    else:  # a copy came back

        def update(z, d, w):
            a = z.reshape(len(d), len(w)).T
            a[...] = ger(1.0, w, d, a=a)

    return update


def _walk(game, n_chains, last, join, out, buffers=None, dtype=np.float64):
    """``v`` at positions 1 to ``last`` of ``n_chains`` chains, into ``out[:, 1 :
    last + 1]`` (``out`` (n_chains, p + 1, n_outputs of the network)).

    Position 0 is the background's pre-activations ``z_b``; ``join(chains, k, z)``
    adds to ``z[i]`` (in place) the first-layer term (background rows x hidden,
    flattened) of the player who joins chain ``chains.start + i`` at position
    ``k``. Blocks of chains are walked position by position: a running buffer
    holds the block's pre-activations, one addition per position, and each
    position's first activations (:meth:`_Tail.activate`) go to a stage, whose
    :data:`WALK_POSITIONS` positions then go through the layers after the first at
    once; a block stays within :data:`WALK_ELEMENTS` values. The pre-activations
    and the layers after the first are in ``dtype`` (the means over the background
    in float64). ``buffers`` (from an earlier call, reused when given) is returned.
    """
    if last < 1 or n_chains == 0:
        return buffers
    n_b, hidden = game.n_background, game.w1.shape[1]
    per = n_b * hidden
    groups = min(last, WALK_POSITIONS)
    block = max(1, min(n_chains, WALK_ELEMENTS // (groups * per)))
    if block == 1:
        groups = max(1, min(last, WALK_ELEMENTS // per))
    size = groups * block * per
    if (
        buffers is None
        or buffers[0].dtype != dtype
        or buffers[0].size < size
        or buffers[1].size < block * per
    ):
        buffers = (
            np.empty(size, dtype),
            np.empty(block * per, dtype),
            _Tail(game.dense, groups * block * n_b, dtype),
        )
    stage, running, tail = buffers
    z_background = game.z_background.reshape(1, per)
    for first in range(0, n_chains, block):
        chains = slice(first, min(first + block, n_chains))
        m = chains.stop - chains.start
        z = running[: m * per].reshape(m, per)
        z[:] = z_background
        for start in range(1, last + 1, groups):
            g = min(groups, last + 1 - start)
            activations = stage[: g * m * per].reshape(g, m, per)
            for j in range(g):
                join(chains, start + j, z)
                tail.activate(z, activations[j])
            outputs = tail(activations.reshape(g * m * n_b, hidden), activated=True)
            values = outputs.reshape(g, m, n_b, -1).mean(axis=2, dtype=float)
            out[chains, start : start + g] = values.transpose(1, 0, 2)
    return buffers


def _minus_offsets(minus, terms):
    """``minus[o]`` = minus the summed ``terms`` of the offset players in coalition
    ``o`` (bit ``k``: ``terms[k]``), built by doubling, in place."""
    minus[0] = 0.0
    for k, term in enumerate(terms):
        np.subtract(minus[: 2**k], term, out=minus[2**k : 2 ** (k + 1)])


def _low_coalitions(z, start, terms, n_low, n_offset, high):
    """``z[c]`` = ``start`` plus the terms of the low players in coalition ``c`` and
    of the high players in ``high`` (players ``n_low + n_offset`` on), in place;
    ``terms[k]`` is player ``k``'s."""
    np.copyto(z[0], start)
    for k, term in enumerate(terms[n_low + n_offset :]):
        if high >> k & 1:
            z[0] += term
    for k in range(n_low):
        np.add(z[: 2**k], terms[k], out=z[2**k : 2 ** (k + 1)])


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
            self.z_background = np.ascontiguousarray(self.dense.first_preactivation(Bp))
            # Network inputs of no player (constants): when there are none, the
            # full coalition of a row is the row itself.
            players_inputs = np.concatenate([np.arange(0), *self.inputs]).astype(int)
            self.covered = np.isin(np.arange(Bp.shape[1]), players_inputs)
            self.complete = self.covered.all()
            self.background_columns = np.ascontiguousarray(Bp.T)
            # The network input of every player that has exactly one, else -1.
            self.single_input = np.array(
                [idx[0] if len(idx) == 1 else -1 for idx in self.inputs], dtype=int
            )
            # A scikit-learn MLP of one layer of ReLU units (exact values by
            # _NetworkRow.offset_values; with more layers, the second layer's
            # product takes most of the time and the offsets gain nothing); with
            # identity outputs, a coalition's value is a sum over (background row,
            # unit) pairs (_NetworkRow.additive_values).
            self.one_relu_layer = (
                isinstance(self.dense, MLPNetwork)
                and self.dense.activation == "relu"
                and len(self.dense.coefs) == 2
            )
            self.additive = (
                self.one_relu_layer and self.dense.out_activation == "identity"
            )
            if self.additive:  # the output weights of each (row, unit) pair
                self.pair_weights = np.tile(self.dense.coefs[1], (self.n_background, 1))
                self.w1_negative = np.minimum(self.w1, 0.0)
                self.w1_positive = np.maximum(self.w1, 0.0)
        raw = self.net.forward(Bp)
        self.background_raw_mean = raw.mean(axis=0)
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

    def row(self, x_inputs, workspace=None):
        """The game of one explained row (its network inputs ``x_inputs``); its
        arrays come from ``workspace`` (a :class:`_Workspace`) when given."""
        return _NetworkRow(self, x_inputs, workspace)

    def chains_of_rows(self, inputs, rows, orders, cache=None):
        """``v`` along ``orders[i]`` for the row of network inputs
        ``inputs[rows[i]]``, all rows at once: (m, p + 1, K). ``cache`` (a dict,
        kept by the caller from one call to the next) keeps the buffers.

        The empty coalition is the background's mean output, the full one (when
        every network input belongs to a player) the row's output, both in
        float64; the positions in between are walked (:func:`_walk`) in
        :data:`SAGE_DTYPE`, each player's first-layer term added as the player
        joins (for a player of one input, an outer product added in place by BLAS
        ``ger``)."""
        rows, orders = np.asarray(rows), np.asarray(orders)
        n_b, hidden = self.n_background, self.w1.shape[1]
        n, p = len(rows), self.n_players
        out = np.empty((n, p + 1, self.dense.n_outputs))
        out[:, 0] = self.background_raw_mean
        last = p
        if self.complete:
            out[:, p] = self.net.forward(inputs[rows])
            last = p - 1
        B = self.background_inputs
        dtype = SAGE_DTYPE
        w1 = self.w1.astype(dtype)
        term = np.empty((n_b, hidden), dtype)
        ger = _outer_update(dtype)
        # The input of each position's player when it has one (else -1), and
        # x_j - b_j over the background rows: (n, p) and (n, p, n_b).
        single = self.single_input[orders]
        diffs = (
            inputs[rows[:, None], single][:, :, None] - self.background_columns[single]
        )
        diffs = diffs.astype(dtype)

        def join(chains, k, z):
            for i, c in enumerate(range(chains.start, chains.stop)):
                column = single[c, k - 1]
                if column >= 0:  # z += outer(x_j - b_j, row j of W1)
                    ger(z[i], diffs[c, k - 1], w1[column])
                    continue
                idx = self.inputs[orders[c, k - 1]]
                if len(idx):
                    np.matmul(inputs[rows[c], idx] - B[:, idx], w1[idx], out=term)
                    z[i] += term.ravel()

        cache = {} if cache is None else cache
        cache["walk"] = _walk(self, n, last, join, out, cache.get("walk"), dtype)
        return self._final(out)


class _NetworkRow:
    def __init__(self, game, x, workspace=None):
        self.game = game
        self.x = x
        self.work = _Workspace() if workspace is None else workspace
        self.diff = np.subtract(
            x[None, :],
            game.background_inputs,
            out=self.work.take("diff", game.background_inputs.shape),
        )  # (n_b, q)
        self._deltas = {}
        self._full = None
        self._buffers = None

    def deltas(self, dtype=np.float64):
        """Each player's change of the first pre-activation, ``(x - b)[:, idx] @
        W1[idx]`` for the player's inputs ``idx``, in ``dtype``: (p, n_b * H)."""
        if dtype not in self._deltas:
            game = self.game
            n_b, hidden = game.n_background, game.w1.shape[1]
            diff = self.diff.astype(dtype, copy=False)
            w1 = game.w1.astype(dtype, copy=False)
            deltas = self.work.take("deltas", (game.n_players, n_b, hidden), dtype)
            if (game.single_input >= 0).all():  # outer products, in one call
                single = game.single_input
                np.multiply(diff.T[single, :, None], w1[single, None, :], out=deltas)
                self._deltas[dtype] = deltas.reshape(game.n_players, n_b * hidden)
                return self._deltas[dtype]
            for k, idx in enumerate(game.inputs):
                if len(idx) == 1:  # an outer product
                    np.multiply(diff[:, idx[0], None], w1[idx[0]], out=deltas[k])
                elif len(idx):
                    np.matmul(diff[:, idx], w1[idx], out=deltas[k])
                else:
                    deltas[k] = 0.0
            self._deltas[dtype] = deltas.reshape(game.n_players, n_b * hidden)
        return self._deltas[dtype]

    def _raw_means(self, z):
        """Mean over the background of the network's outputs, for pre-activations
        of shape (m, n_b, H), which it overwrites."""
        game = self.game
        m, n_b, hidden = z.shape
        step = max(1, min(m, CACHE_ELEMENTS // (n_b * hidden)))  # coalitions
        tail = _Tail(game.dense, step * n_b)
        out = np.empty((m, game.dense.n_outputs))
        for start in range(0, m, step):
            part = slice(start, min(start + step, m))
            outputs = tail(z[part].reshape(-1, hidden))
            out[part] = outputs.reshape(-1, n_b, outputs.shape[1]).mean(axis=1)
        return out

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
                z = masks[part] @ self.deltas()
                z = z.reshape(-1, game.n_background, hidden)
                z += game.z_background[None]
                out[part] = game._final(self._raw_means(z))
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

    def coalition_values(self):
        """``v(S)`` of all ``2**p`` coalitions in the order of
        :func:`coalition_masks` (row ``m`` holds player ``k`` when bit ``k`` of
        ``m`` is set): shape (2**p, n_outputs).

        The pre-activations are built by doubling, one addition per coalition:
        those of coalitions ``2**k`` to ``2**(k+1) - 1`` are those of coalitions 0
        to ``2**k - 1`` plus player ``k``'s term. Blocks of ``2**L`` coalitions
        (the low bits) and some background rows stay within
        :data:`WALK_ELEMENTS` values; the players of the high bits start a block
        off. A scikit-learn MLP of one ReLU layer takes a quicker route to the same
        values: :meth:`additive_values` (identity outputs) or
        :meth:`offset_values`."""
        game = self.game
        p = game.n_players
        if game.dense is None:
            return self.values(coalition_masks(p))
        if game.additive:
            return game._final(self.additive_values())
        if game.one_relu_layer:
            return game._final(self.offset_values())
        n_b, hidden = game.n_background, game.w1.shape[1]
        deltas = self.deltas().reshape(p, n_b, hidden)
        low = p
        while low > 0 and 2**low * hidden > WALK_ELEMENTS:
            low -= 1
        size = 2**low
        step = max(1, min(n_b, WALK_ELEMENTS // (size * hidden)))
        stage = np.empty(size * step * hidden)
        tail = _Tail(game.dense, size * step)
        sums = np.zeros((2**p, game.dense.n_outputs))
        for high in range(2 ** (p - low)):
            coalitions = slice(high * size, (high + 1) * size)
            others = [low + k for k in range(p - low) if high >> k & 1]
            for first in range(0, n_b, step):
                background = slice(first, min(first + step, n_b))
                m = background.stop - background.start
                z = stage[: size * m * hidden].reshape(size, m, hidden)
                np.copyto(z[0], game.z_background[background])
                for k in others:
                    z[0] += deltas[k, background]
                for k in range(low):
                    np.add(z[: 2**k], deltas[k, background], out=z[2**k : 2 ** (k + 1)])
                outputs = tail(z.reshape(size * m, hidden))
                sums[coalitions] += outputs.reshape(size, m, -1).sum(axis=1)
        return game._final(sums / n_b)

    def offset_values(self):
        """:meth:`coalition_values` (before :meth:`NetworkGame._final`) for a
        scikit-learn MLP of one layer of ReLU units, any output activation (the
        arithmetic holds for any depth).

        The players are split into low, offset and high bits of the coalition's
        index, as in :meth:`_ambiguous_sums`, and the background rows into
        blocks. For the low players' coalitions' pre-activations ``z_L`` and an
        offset coalition's summed terms ``e``, the first activations are
        ``relu(z_L + e) = max(z_L, -e) + e``: one pass per value, and ``e`` goes
        through the second layer once per offset and background row, in place of
        its intercept (:class:`_Tail` ``shift``).
        """
        game, work = self.game, self.work
        p, n_b, hidden = game.n_players, game.n_background, game.w1.shape[1]
        deltas = self.deltas().reshape(p, n_b, hidden)
        w2, c2 = game.dense.coefs[1], game.dense.intercepts[1]
        n_offset = min(p, OFFSET_PLAYERS)
        n_low = min(p - n_offset, LOW_PLAYERS)
        n_high = p - n_offset - n_low
        size, offsets = 2**n_low, 2**n_offset
        step = max(1, min(n_b, OFFSET_ELEMENTS // (size * hidden)))
        tail = _Tail(game.dense, size * step)
        sums = np.zeros((2**n_high, offsets, size, game.dense.n_outputs))
        for first in range(0, n_b, step):
            rows = slice(first, min(first + step, n_b))
            m = rows.stop - rows.start
            d = deltas[:, rows]
            minus = work.take("minus", (offsets, m, hidden))
            _minus_offsets(minus, d[n_low : n_low + n_offset])
            # The second layer's intercept plus e's term, per offset and row.
            shifts = c2 - (minus.reshape(-1, hidden) @ w2).reshape(offsets, m, -1)
            z = work.take("low", (size, m, hidden))
            stage = work.take("stage", (size, m, hidden))
            for high in range(2**n_high):
                _low_coalitions(z, game.z_background[rows], d, n_low, n_offset, high)
                for o in range(offsets):
                    np.maximum(z, minus[o], out=stage)
                    outputs = tail(
                        stage.reshape(size * m, hidden), activated=True, shift=shifts[o]
                    )
                    sums[high, o] += outputs.reshape(size, m, -1).sum(axis=1)
        return sums.reshape(2**p, -1) / n_b

    def additive_values(self):
        """:meth:`coalition_values` (before :meth:`NetworkGame._final`) for a
        network of one layer of ReLU units and identity outputs.

        The value of coalition ``S`` is ``c + mean over background rows b of
        sum over units k of a_k relu(z_bk + sum over j in S of d_jbk)`` (``d_j`` the
        player's term, ``a_k`` the unit's output weights). Each pair ``(b, k)``
        is one of three kinds, read from the bounds of its pre-activation over
        all coalitions, ``z_bk`` plus the sum of the negative (positive) ``d_jbk``:

        - never positive: it adds nothing;
        - never negative: its ReLU is the identity, so it adds ``a_k (z_bk + sum
          over S of d_jbk)``, built for all coalitions by doubling ``p`` numbers;
        - the others (ambiguous) are enumerated by :meth:`_ambiguous_sums`.

        The values equal those of the plain enumeration to about 1e-15 of their
        magnitude (the order of the additions differs).
        """
        game, work = self.game, self.work
        p = game.n_players
        deltas = self.deltas()  # (p, n_b * H)
        z0 = game.z_background.ravel()
        # Bounds from the players' inputs one by one: the sum of the negative
        # (positive) terms (x_i - b_i) W1_ik over the inputs i, two products.
        # For a player of several inputs (one-hot indicators) this is at most
        # (at least) the player's own negative (positive) term, still a bound.
        diff = self.diff if game.complete else self.diff * game.covered
        above = work.take("above", diff.shape)
        below = work.take("below", diff.shape)
        np.maximum(diff, 0.0, out=above)
        np.minimum(diff, 0.0, out=below)
        lowest = work.take("lowest", game.z_background.shape)
        highest = work.take("highest", game.z_background.shape)
        np.matmul(above, game.w1_negative, out=lowest)
        lowest += below @ game.w1_positive
        lowest += game.z_background
        np.matmul(above, game.w1_positive, out=highest)
        highest += below @ game.w1_negative
        highest += game.z_background
        lowest, highest = lowest.ravel(), highest.ravel()
        # Never negative: linear in the coalition, through the weights of these
        # pairs only (the others' set to 0).
        linear = lowest >= 0.0
        weights = np.multiply(game.pair_weights, linear[:, None])
        slope = deltas @ weights  # (p, K)
        sums = np.empty((2**p, weights.shape[1]))
        sums[0] = z0 @ weights
        for k in range(p):
            np.add(sums[: 2**k], slope[k], out=sums[2**k : 2 ** (k + 1)])
        ambiguous = np.flatnonzero((highest > 0.0) & ~linear)
        if len(ambiguous):
            self._ambiguous_sums(
                np.take(
                    deltas,
                    ambiguous,
                    axis=1,
                    out=work.take("ambiguous", (p, len(ambiguous))),
                ),
                z0[ambiguous],
                game.pair_weights[ambiguous],
                sums,
            )
        return game.dense.intercepts[1] + sums / game.n_background

    def _ambiguous_sums(self, deltas, z0, weights, sums):
        """Add to ``sums`` (2**p, K) every coalition's sum of ``weights .
        relu(z0 + the coalition's deltas)`` over the columns of ``deltas`` (p, m).

        The players are split into low, offset and high bits of the coalition's
        index (:data:`LOW_PLAYERS`, :data:`OFFSET_PLAYERS`). The low players'
        coalitions' pre-activations ``z_L`` are built by doubling in blocks of
        columns; for an offset coalition ``O`` (its players' terms summed, ``e``),
        ``relu(z_L + e) = max(z_L, -e) + e``: one pass per value, then the product
        with the weights, plus ``weights . e`` once per offset. The high players'
        terms start a block off.
        """
        work = self.work
        p, m = deltas.shape
        n_outputs = sums.shape[1]
        n_offset = min(p, OFFSET_PLAYERS)
        n_low = min(p - n_offset, LOW_PLAYERS)
        n_high = p - n_offset - n_low
        size, offsets = 2**n_low, 2**n_offset
        step = max(1, min(m, OFFSET_ELEMENTS // size))
        out = work.take("out", (offsets, size, n_outputs))
        own = np.zeros((n_offset, n_outputs))  # weights . d of the offset players
        blocks = sums.reshape(2**n_high, offsets, size, n_outputs)
        for start in range(0, m, step):
            columns = slice(start, min(start + step, m))
            width = columns.stop - columns.start
            d = deltas[:, columns]
            w = weights[columns]
            # Minus the offset players' summed terms.
            minus = work.take("minus", (offsets, width))
            _minus_offsets(minus, d[n_low : n_low + n_offset])
            own += d[n_low : n_low + n_offset] @ w
            z = work.take("low", (size, width))
            stage = work.take("stage", (size, width))
            for high in range(2**n_high):
                _low_coalitions(z, z0[columns], d, n_low, n_offset, high)
                for o in range(offsets):
                    np.maximum(z, minus[o], out=stage)
                    np.matmul(stage, w, out=out[o])
                blocks[high] += out
        # weights . e is additive in the offset players.
        shift = np.zeros((offsets, n_outputs))
        for k in range(n_offset):
            np.add(shift[: 2**k], own[k], out=shift[2**k : 2 ** (k + 1)])
        blocks += shift[None, :, None, :]

    def chains(self, orders):
        """``v`` along permutations: ``v(first k players of order)`` for k = 0..p,
        shape (n_orders, p + 1, n_outputs).

        ``v`` of the empty coalition is the background's mean output and that of
        the full one is computed once, in float64; the positions in between are
        walked (:func:`_walk`) in :data:`SAMPLED_DTYPE`."""
        game = self.game
        orders = np.asarray(orders)
        p = game.n_players
        if game.dense is None:
            masks = np.zeros((len(orders), p + 1, p), dtype=bool)
            for i, order in enumerate(orders):
                for k in range(p):
                    masks[i, k + 1 :, order[k]] = True
            return self.values(masks.reshape(-1, p)).reshape(len(orders), p + 1, -1)
        if self._full is None:
            # Every player's inputs from x: z_b + (x - b) @ W1 over their inputs.
            covered = self.diff * game.covered
            z = game.z_background + covered @ game.w1
            self._full = self._raw_means(z[None])[0]
        out = np.empty((len(orders), p + 1, game.dense.n_outputs))
        out[:, 0] = game.background_raw_mean
        out[:, p] = self._full
        deltas = self.deltas(SAMPLED_DTYPE)

        def join(chains, k, z):
            for i, player in enumerate(orders[chains, k - 1]):
                z[i] += deltas[player]

        self._buffers = _walk(
            game, len(orders), p - 1, join, out, self._buffers, SAMPLED_DTYPE
        )
        return game._final(out)


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

    def row(self, x_row, workspace=None):
        return _TableRow(self, x_row)


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


def _row_items(game, X):
    """``row_of(i, workspace=None)``: the game of row ``i`` of ``X`` (for a
    network, of its network inputs, made once for all rows)."""
    if isinstance(game, NetworkGame):
        inputs = game.network_inputs(X)
        return lambda i, work=None: game.row(inputs[i], work)
    return lambda i, work=None: game.row(take_rows(X, [i]))


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


@functools.cache
def _marginal_pairs(p):
    """``(without, with_, weights)``, each (p, 2**(p - 1)): for every player ``k``
    the coalitions without it, the same with it, and the Shapley weight of each."""
    masks = coalition_masks(p)
    codes = np.arange(2**p)
    without = np.array([codes[~masks[:, k]] for k in range(p)]).reshape(p, -1)
    with_ = without | (1 << np.arange(p))[:, None]
    weights = _subset_weights(p)[masks[without].sum(axis=-1)]
    return without, with_, weights


#: Players up to which :func:`exact_shapley` keeps the index arrays of
#: :func:`_marginal_pairs` (3 x 12 x 2048 integers or floats).
CACHED_PAIRS_PLAYERS = 12


def exact_shapley(row, p):
    """Shapley values of one row by enumeration: shape (p, n_outputs)."""
    enumerate_all = getattr(row, "coalition_values", None)
    v = enumerate_all() if enumerate_all is not None else row.values(coalition_masks(p))
    if p <= CACHED_PAIRS_PLAYERS:
        without, with_, weights = _marginal_pairs(p)
        return np.einsum("kc,kco->ko", weights, v[with_] - v[without])
    masks = coalition_masks(p)
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
    from ._parallel import run_tasks

    game = make_game(estimator, players, background, X)
    row_of = _row_items(game, X)
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
        work = _Workspace()
        if exact:
            return [(exact_shapley(row_of(i, work), p), 0.0, 0, True) for i in rows]
        return [
            sampled_shapley(
                row_of(i, work), p, np.random.RandomState(seeds[i]), **sampling
            )
            for i in rows
        ]

    workers = effective_n_jobs(n_jobs)
    if workers == 1:
        # One thread, BLAS too: a row is many NumPy calls of about 1e4-1e5
        # values, and threads of this process lost time on them (1.3-1.9x
        # slower with two threads than with one on a 2-core machine, where
        # two processes gain 1.6x): each call takes the GIL back, and BLAS
        # threads on products of this size cost more than they save.
        with blas_limit(1):
            results = explain(np.arange(n))
    else:
        chunks = [
            c for c in np.array_split(np.arange(n), min(n, 4 * workers)) if len(c)
        ]
        results = [
            item
            for part in run_tasks(explain, [(c,) for c in chunks], n_jobs=n_jobs)
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
    f_x = np.empty((n, K))
    for rows in _row_chunks(n, n_steps * q * max(K, 1)):
        x = Xp[rows]
        f_x[rows] = net.forward(x)
        span = x - baseline_inputs
        path = baseline_inputs + t[:, None, None] * span[None]  # (steps, r, q)
        jac = _jacobian(net, path.reshape(-1, q)).reshape(n_steps, len(x), K, q)
        mean_gradient = np.tensordot(w, jac, axes=(0, 0))  # (r, K, q)
        values[rows] = _per_player(mean_gradient * span[:, None, :], inputs)
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
    output=None,
):
    """SAGE values: Shapley values of the loss, with absent players marginalized
    over ``background``.

    ``phi_k = E over rows and permutations of [loss without k - loss with k]`` as
    player ``k`` joins the players before it (squared error, mean over outputs, for
    regressors; log loss for classifiers). A sample is a row, drawn with
    probability proportional to ``sample_weight``, and a random permutation, drawn
    independently of each other and of the other samples (pairing a permutation
    with its reverse on the same row gave about 1.3 times the variance per chain
    of independent draws: the row's part of the variance dominates, and the pair
    shares it). With ``n_samples="auto"``, rounds of
    :data:`SAGE_ROUND` samples are drawn until every standard error is at most
    ``tol`` times the range of the values (Covert et al.'s criterion) or
    ``max_samples`` samples were drawn. The values add up to the loss of the
    background's mean prediction minus the model's mean loss. With ``output`` (an
    index into the columns of a 2-D ``y``), the loss is that of this output alone:
    its squared error, or its label's binary log loss.

    Returns ``(values (p,), stderr (p,), n_samples used)``.
    """
    rng = check_random_state(random_state)
    game = make_game(estimator, players, background, X)
    # A network's rows are preprocessed a round of samples at a time (the
    # sampled rows only); any other game is played row by row.
    network = isinstance(game, NetworkGame) and game.dense is not None
    row_of = None if network else _row_items(game, X)
    classifier = is_classifier(estimator)
    classes = np.asarray(getattr(estimator, "classes_", []))
    n, p = X.shape[0], len(players)
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=float)
        w = w / w.sum()
    cap = max_samples if n_samples == "auto" else int(n_samples)
    y = np.asarray(y)
    if output is not None:
        y = y[:, [output]]
    # The samples' count, mean and sum of squared deviations, merged round by
    # round (Chan, Golub & LeVeque's update).
    count, values, squares = 0, np.zeros(p), np.zeros(p)
    cache = {}
    # BLAS in one thread: the products here are small, and two threads made SAGE
    # about 1.9x slower than one (see shapley_values).
    with blas_limit(1):
        while count < cap:
            m = min(SAGE_ROUND, cap - count)
            rows = rng.choice(n, size=m, p=w)
            orders = rng.random_sample((m, p)).argsort(axis=1)  # uniform permutations
            if network:
                chain = game.chains_of_rows(
                    game.network_inputs(take_rows(X, rows)),
                    np.arange(m),
                    orders,
                    cache,
                )
            else:
                chain = np.array(
                    [row_of(i).chains(order[None])[0] for i, order in zip(rows, orders)]
                )
            if output is not None:
                chain = chain[..., [output]]
            decrease = -np.diff(_losses(chain, y[rows], classifier, classes), axis=1)
            phi = np.empty_like(decrease)
            phi[np.arange(m)[:, None], orders] = decrease
            mean = phi.mean(axis=0)
            change = mean - values
            values = values + change * (m / (count + m))
            squares = (
                squares
                + ((phi - mean) ** 2).sum(axis=0)
                + change**2 * count * m / (count + m)
            )
            count += m
            if n_samples == "auto" and count >= 2:
                stderr = np.sqrt(squares / (count - 1) / count)
                if np.all(stderr <= tol * np.ptp(values)):
                    break
    if count > 1:
        stderr = np.sqrt(squares / (count - 1) / count)
    else:
        stderr = np.full(p, np.nan)
    return values, stderr, count


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


def check_background(background, X):
    """``background`` checked against ``X``: None and an int (rows to draw) as they
    are, a table with as many columns as ``X``."""
    from ._importance import check_table

    if background is None or isinstance(background, Integral):
        return background
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
        ``"shap"``: parallel jobs (joblib processes) over the rows. With None, one
        thread (BLAS included): threads of one process lost time on this work, made
        of many NumPy calls of moderate size. The values do not depend on it.
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
    background = check_background(background, X)
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
    per_output=False,
):
    """One importance per player from per-row attributions on ``X_eval``.

    ``"shap"`` and ``"integrated_gradients"``: the mean over rows (weighted by
    ``w_eval``; for ``"shap"``, a sample of at most :data:`GLOBAL_SHAP_ROWS` rows)
    of the absolute values, averaged over outputs; ``"sage"``: the SAGE
    values (drop in loss, squared error or log loss). ``background`` is a table, an
    int (rows sampled from ``X_train``) or None (up to 100 of them); the default
    baseline of integrated gradients is the background's mean network input.

    With ``per_output`` (for a model with several outputs), returns ``(importances,
    per-output importances of shape (n_players, n_outputs))``: the mean absolute
    values of each output, from the same per-row values; for ``"sage"``, each
    output's own loss, sampled with the same random draws as the loss of all
    outputs (the draws of a run on that output alone).
    """
    rng = check_random_state(random_state)
    if background is None or isinstance(background, Integral):
        background = choose_background(X_train, background, rng)
    if method == "sage":
        start = deepcopy(rng)

        def sage(output=None):
            values, _, _ = sage_values(
                estimator,
                X_eval,
                y_eval,
                players,
                background,
                sample_weight=w_eval,
                random_state=deepcopy(start),
                output=output,
            )
            return values

        values = sage()
        if not per_output:
            return values
        n_outputs = np.asarray(y_eval).shape[1]
        return values, np.column_stack([sage(k) for k in range(n_outputs)])
    w = None if w_eval is None else np.asarray(w_eval, float)
    if method == "shap":
        if X_eval.shape[0] > GLOBAL_SHAP_ROWS:
            rows = np.sort(rng.choice(X_eval.shape[0], GLOBAL_SHAP_ROWS, replace=False))
            X_eval = take_rows(X_eval, rows)
            w = None if w is None else w[rows]
        per_row = shapley_values(
            estimator, X_eval, players, background, rng, n_jobs=n_jobs
        ).phi
        w = np.ones(len(per_row)) if w is None else w
        # sum over rows of w |phi|: (players, outputs)
        weighted = np.einsum("i,ijk->jk", w, np.abs(per_row))
    else:
        model = _gradient_model(estimator, method)
        baseline_inputs = _dense_inputs(model, background).mean(axis=0)
        n = X_eval.shape[0]
        w = np.ones(n) if w is None else w
        weighted = 0.0
        # A block of rows at a time: neither the rows' network inputs nor their
        # values are held whole.
        width = model.network.n_inputs or n_columns(X_eval)
        step = max(1, BLOCK_ELEMENTS // max(1, width))
        for start in range(0, n, step):
            rows = slice(start, min(start + step, n))
            per_row, _, _, _ = integrated_gradients(
                model, take_rows(X_eval, rows), players, baseline_inputs, n_steps=32
            )
            weighted = weighted + np.einsum("i,ijk->jk", w[rows], np.abs(per_row))
    values = weighted.mean(axis=1) / w.sum()
    if not per_output:
        return values
    return values, weighted / w.sum()
