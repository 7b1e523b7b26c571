"""Scores of a network with groups of its inputs perturbed, computed in row blocks.

Permutation, conditional permutation and occlusion all score a fitted network on rows
where one group of original columns holds other values: another row's (a shuffle),
a draw from a model of the column (conditional), a constant (occlusion). The
preprocessing in front of the network does not mix columns, so the new values change
only the group's block ``b`` of network inputs ``x'``, and only its terms of the
first pre-activation::

    z1' = z1 + (x'_new[:, b] - x'[:, b]) @ W1[b]

Here the rows are taken in blocks. A block's network inputs are made by the model's
own preprocessing, its ``z1`` is computed once, and every group and draw is scored on
it by running the layers after the first. When the score is a sum of per-row
contributions (:class:`~sknnimp._rowwise.RowScore`: R^2, accuracy, log loss, squared
and absolute error, the estimator's own ``score``), each block adds its rows'
contributions, and nothing held grows with the number of rows beyond one block of at
most :data:`BLOCK_ELEMENTS` network inputs (per thread). Other scores need every row's
output at once: all rows then form one block.

The sums are added block by block in the order of the rows, whatever the number of
threads or workers, so the results do not depend on them.
"""

import math

import numpy as np
from joblib import effective_n_jobs
from scipy import sparse

from . import _parallel
from ._parallel import run_tasks
from ._tables import take_rows

#: Network inputs (rows x inputs, or rows x the widest layer) a row block may hold:
#: 16 MiB of float64.
BLOCK_ELEMENTS = 2**21

#: Values a batch's temporaries (rows x widest layer after the inputs) may hold when
#: the layers after the first run: 2 MiB of float64, the size of a core's L2 cache
#: on current processors. Smaller batches (e.g. 262 rows at 1 000 inputs, when the
#: input width counted) made the work per NumPy call so short that two threads
#: spent more time handing the GIL over than computing.
CACHE_ELEMENTS = 2**18


class RowSource:
    """New values of every column on the scored rows: those of ``table``'s rows
    ``index`` (``index[i]`` for the ``i``-th scored row).

    ``table`` is a table as the model takes it, or with ``transformed`` already the
    network inputs (an array or a CSC matrix) of all its rows.
    """

    def __init__(self, table, index, transformed=False):
        self.table = table
        self.index = index
        self.transformed = transformed


class TableSource:
    """New values of every column made on demand: ``table(X_rows)`` gives ``X``'s
    rows ``X_rows`` (None: all) with their new values; ``rows`` are the scored rows
    of ``X`` (None: all)."""

    def __init__(self, table, rows=None):
        self.table = table
        self.rows = rows

    def make(self, positions):
        """The new rows of the scored rows ``positions`` (a slice or an array)."""
        if self.rows is None:
            if isinstance(positions, slice):
                positions = np.arange(positions.start, positions.stop)
            return self.table(positions)
        return self.table(self.rows[positions])


class FillSource:
    """Every network input's value when its column takes a constant (``inputs``, of
    shape (n_inputs,))."""

    def __init__(self, inputs):
        self.inputs = np.asarray(inputs, dtype=float)


def batch_rows(net, n_rows=None):
    """Rows per batch of the layers after the first: at most :data:`CACHE_ELEMENTS`
    values in the widest of their temporaries (and within ``net.batch_size()`` for
    a network that runs in its own framework); with ``n_rows``, batches of equal
    size that cover them."""
    widest = max(w.shape[1] for w in net.coefs)
    size = max(1, CACHE_ELEMENTS // widest)
    if not net.threaded_propagation:
        size = min(size, net.batch_size())
    if n_rows:
        size = math.ceil(n_rows / math.ceil(n_rows / size))
    return size


def network_outputs(net, z1, shift_inputs=None, shift_coef=None):
    """Network outputs from first pre-activations ``z1``, in row batches.

    With ``shift_inputs`` (rows x group, or one row broadcast to all) and
    ``shift_coef`` (group x hidden), the pre-activations are
    ``z1 + shift_inputs @ shift_coef``.
    """
    n = z1.shape[0]
    size = batch_rows(net, n)
    outputs = np.empty((n, net.n_outputs))
    if shift_inputs is not None:
        # One buffer for every batch's pre-activations: fresh temporaries of this
        # size cost page faults, which threads pay for in turn.
        buffer = np.empty((min(size, n), z1.shape[1]))
        if shift_inputs.shape[0] == 1:  # one shift for every row
            change = shift_inputs @ shift_coef
    for start in range(0, n, size):
        rows = slice(start, min(start + size, n))
        if shift_inputs is None:
            outputs[rows] = net.propagate(z1[rows])
            continue
        z = buffer[: rows.stop - rows.start]
        if shift_inputs.shape[0] == 1:
            np.add(z1[rows], change, out=z)
        else:
            if shift_coef.shape[0] == 1:  # one column: an outer product
                np.multiply(shift_inputs[rows], shift_coef, out=z)
            else:
                np.matmul(shift_inputs[rows], shift_coef, out=z)
            z += z1[rows]
        outputs[rows] = net.propagate(z, overwrite=True)
    return outputs


def _dense(inputs):
    """Network inputs as a dense array in column order (each input's values
    contiguous: a group's columns are read once per group and draw)."""
    return np.asfortranarray(inputs.toarray() if sparse.issparse(inputs) else inputs)


def _as_slice(block):
    """A block of consecutive network inputs as a slice (a view, not a copy)."""
    if isinstance(block, slice):
        return block
    block = np.asarray(block)
    if block.size and np.all(np.diff(block) == 1):
        return slice(int(block[0]), int(block[-1]) + 1)
    return block


def _columns(inputs, block, index=None):
    """``inputs[index][:, block]`` as a dense array (``inputs`` dense or CSC)."""
    if sparse.issparse(inputs):
        values = inputs[:, block].toarray()
        return values if index is None else values[index]
    values = inputs[:, _as_slice(block)]
    return values if index is None else values[index]


class Scoring:
    """How the scores of the perturbed outputs are taken.

    With ``row_score``, per-row contributions (with the totals of all scored rows, so
    that any block's contributions are those it has in the whole); else ``scorer``
    on all rows' outputs at once.
    """

    def __init__(self, scorer, row_score, stand_in, y, sample_weight):
        self.scorer = scorer
        self.row_score = row_score
        self.stand_in = stand_in
        self.y = y
        self.sample_weight = sample_weight
        self.totals = None
        if row_score is not None:
            self.totals = row_score.totals(y, sample_weight)

    @property
    def summed(self):
        return self.row_score is not None

    def _rows(self, positions):
        w = self.sample_weight
        if positions is None:
            return self.y, w
        return self.y[positions], None if w is None else w[positions]

    def contributions(self, outputs, positions):
        """Contributions of the scored rows ``positions`` (an index array or slice)
        whose network outputs are ``outputs``."""
        y, w = self._rows(positions)
        estimator = self.stand_in(outputs)
        placeholder = np.empty((outputs.shape[0], 0))
        prediction = self.row_score.predictions(estimator, placeholder)
        return self.row_score.contributions(estimator, y, prediction, w, self.totals)

    def score(self, outputs):
        """The score of all scored rows' outputs."""
        placeholder = np.empty((outputs.shape[0], 0))
        estimator = self.stand_in(outputs)
        if self.sample_weight is None:
            return self.scorer(estimator, placeholder, self.y)
        return self.scorer(
            estimator, placeholder, self.y, sample_weight=self.sample_weight
        )


def _network_inputs(model, table):
    """The network inputs of ``table``'s rows, checked, dense in column order."""
    inputs = model.transform(table)
    check_network_inputs(inputs, model.network)
    return _dense(inputs)


def _source_values(model, source, positions):
    """A function of a block giving its new values on the scored rows
    ``positions``."""
    if isinstance(source, FillSource):
        return lambda block: source.inputs[block][None, :]
    if isinstance(source, TableSource):
        inputs = _network_inputs(model, source.make(positions))
        return lambda block: inputs[:, block]
    index = source.index[positions]
    if source.transformed:
        return lambda block: _columns(source.table, block, index)
    inputs = _network_inputs(model, take_rows(source.table, index))
    return lambda block: inputs[:, block]


def prepare_block(model, scoring, X, positions, x_rows):
    """The intact network on a block of scored rows (``positions``; their rows
    ``x_rows`` of ``X``, or None if ``X`` holds their network inputs): ``(inputs,
    z1, outputs, base)``, ``base`` being the rows' contributions (or score)."""
    net = model.network
    if x_rows is None:  # X already holds the scored rows' network inputs
        inputs = X
    else:
        inputs = _network_inputs(model, take_rows(X, x_rows))
    z1 = net.first_preactivation(inputs)
    outputs = network_outputs(net, z1)
    if scoring.summed:
        base = scoring.contributions(outputs, positions)
    else:
        base = scoring.score(outputs)
    return inputs, z1, outputs, base


def block_task(
    model, scoring, X, positions, x_rows, blocks, sources, keep_rows, prepared=None
):
    """Scores of one block of scored rows (``positions``; their rows ``x_rows`` of
    ``X``), for every group's network inputs in ``blocks`` and every source.

    Returns ``(base, scores, first)``: the intact rows' contributions (or score),
    the scores of shape (len(blocks), len(sources)) (summed over the block's rows)
    and, with ``keep_rows``, the first source's per-row contributions of every
    group (else None). ``prepared`` is :func:`prepare_block`'s result, if made
    already.
    """
    net = model.network
    if prepared is None:
        prepared = prepare_block(model, scoring, X, positions, x_rows)
    inputs, z1, base_outputs, base = prepared
    if scoring.summed:
        base_total = base.sum()
    scores = np.empty((len(blocks), len(sources)))
    first = np.empty((len(blocks), z1.shape[0])) if keep_rows else None
    for r, source in enumerate(sources):
        values = _source_values(model, source, positions)
        for g, block in enumerate(blocks):
            shift = values(block) - _columns(inputs, block)
            coef = net.coefs[0][block]
            if shift.shape[0] == 1:  # a constant: every row changes alike
                outputs = network_outputs(net, z1, shift, coef)
                changed = None
            else:
                changed = np.flatnonzero(np.any(shift != 0, axis=1))
                if 2 * changed.size > shift.shape[0]:
                    outputs = network_outputs(net, z1, shift, coef)
                    changed = None
            if not scoring.summed:
                if changed is not None:
                    outputs = base_outputs.copy()
                    outputs[changed] = network_outputs(
                        net, z1[changed], shift[changed], coef
                    )
                scores[g, r] = scoring.score(outputs)
                continue
            if changed is None:
                rows = scoring.contributions(outputs, positions)
                scores[g, r] = rows.sum()
            elif changed.size == 0:  # no row changes
                scores[g, r] = base_total
                rows = base
            else:
                new = scoring.contributions(
                    network_outputs(net, z1[changed], shift[changed], coef),
                    _positions(positions, changed),
                )
                scores[g, r] = base_total - base[changed].sum() + new.sum()
                if keep_rows and r == 0:
                    rows = base.copy()
                    rows[changed] = new
            if keep_rows and r == 0:
                first[g] = rows
    return base, scores, first


def _positions(positions, changed):
    """The scored rows ``positions[changed]`` (``positions`` a slice or array)."""
    if isinstance(positions, slice):
        return changed + positions.start
    return positions[changed]


def check_network_inputs(Xn, net):
    """The error the network would raise for missing or infinite inputs (the fast
    paths never call its own prediction, which checks them)."""
    values = Xn.data if sparse.issparse(Xn) else Xn
    if not np.isfinite(values).all():
        raise ValueError(
            "Input X contains NaN or infinity where it reaches "
            f"{type(net.estimator).__name__} (after the preprocessing), which does "
            "not accept missing values; impute them in the pipeline, e.g. with "
            "sklearn.impute.SimpleImputer."
        )


def block_size(model, n_rows, summed):
    """Scored rows per block: all of them for scores that are not sums over rows."""
    if not summed:
        return n_rows
    net = model.network
    widest = max(net.n_inputs, *(w.shape[1] for w in net.coefs))
    return max(1, BLOCK_ELEMENTS // widest)


def perturbed_network_scores(
    model,
    scoring,
    X,
    rows,
    blocks,
    sources,
    *,
    keep_rows=False,
    n_jobs=None,
    verbose=0,
    label="permutation",
):
    """Scores of the network of ``model`` with each group's network inputs
    (``blocks``) perturbed by each of ``sources``, on the scored rows ``rows`` of
    ``X`` (None: all).

    Returns ``(base, scores, first)``: the intact score on the scored rows (with a
    summed score, also its per-row contributions: ``(total, contributions)``), the
    scores of shape (n_groups, n_sources), and with ``keep_rows`` the first source's
    per-row contributions of shape (n_groups, n_scored_rows).
    """
    net = model.network
    n_scored = X.shape[0] if rows is None else len(rows)
    blocks = [_as_slice(block) for block in blocks]  # once, not per row block
    size = block_size(model, n_scored, scoring.summed)
    starts = list(range(0, n_scored, size))
    threads = effective_n_jobs(n_jobs) == 1 and net.threaded_propagation
    workers = _parallel.blas_threads() if threads else effective_n_jobs(n_jobs)
    # With fewer blocks than workers, the groups are split too (this does not
    # change any sum: a group's score on a block is computed in one task).
    n_slices = 1
    if len(starts) < workers:
        n_slices = min(len(blocks), math.ceil(2 * workers / len(starts)))
    slices = np.array_split(np.arange(len(blocks)), n_slices)

    made = prepared = None
    if len(starts) == 1:
        # One block (for one or several tasks): the network inputs of the rows and
        # of the sources' tables, and the intact network on them, are made once,
        # here; with several blocks, each makes its own, so that none is held whole.
        made, sources = _transformed(model, X, rows, sources)
        prepared = prepare_block(model, scoring, made, slice(0, n_scored), None)
    tasks = []
    for start in starts:
        positions = slice(start, min(start + size, n_scored))
        if made is not None:
            data, x_rows = made, None
        elif rows is None:
            data, x_rows = X, np.arange(positions.start, positions.stop)
        else:
            data, x_rows = X, rows[positions]
        for groups in slices:
            blocks_of_task = [blocks[g] for g in groups]
            tasks.append(
                (model, scoring, data, positions, x_rows, blocks_of_task, sources)
                + (keep_rows, prepared)
            )
    results = run_tasks(
        _call_block_task,
        [(task,) for task in tasks],
        n_jobs=n_jobs,
        verbose=verbose,
        label=label,
        threads=threads,
    )
    scores = np.zeros((len(blocks), len(sources)))
    first = np.empty((len(blocks), n_scored)) if keep_rows else None
    base_rows = [] if scoring.summed else None
    base_total = 0.0
    results = iter(results)
    for start in starts:
        positions = slice(start, min(start + size, n_scored))
        for s, groups in enumerate(slices):
            base, block_scores, block_first = next(results)
            scores[groups] += block_scores
            if keep_rows:
                first[groups, positions] = block_first
            if s == 0:
                if scoring.summed:
                    base_rows.append(base)
                    base_total += base.sum()
                else:
                    base_total = base
    if scoring.summed:
        return (base_total, np.concatenate(base_rows)), scores, first
    return base_total, scores, first


def _transformed(model, X, rows, sources):
    """The scored rows' network inputs, and the sources with their tables as
    network inputs."""
    net = model.network
    inputs = model.transform(X)
    check_network_inputs(inputs, net)
    inputs = inputs.tocsc() if sparse.issparse(inputs) else np.asfortranarray(inputs)
    made = {id(X): inputs}
    n_scored = X.shape[0] if rows is None else len(rows)
    new_sources = []
    for source in sources:
        if isinstance(source, RowSource) and not source.transformed:
            key = id(source.table)
            if key not in made:
                table = model.transform(source.table)
                check_network_inputs(table, net)
                made[key] = _csc_or_columns(table)
            source = RowSource(made[key], source.index, transformed=True)
        elif isinstance(source, TableSource):
            table = model.transform(source.make(slice(0, n_scored)))
            check_network_inputs(table, net)
            table = _csc_or_columns(table)
            source = RowSource(table, np.arange(n_scored), transformed=True)
        new_sources.append(source)
    scored = inputs if rows is None else _row_subset(inputs, rows)
    return scored, new_sources


def _csc_or_columns(inputs):
    return inputs.tocsc() if sparse.issparse(inputs) else np.asfortranarray(inputs)


def _row_subset(inputs, rows):
    if sparse.issparse(inputs):
        return inputs.tocsr()[rows].tocsc()
    return np.asfortranarray(inputs[rows])


def _call_block_task(task):
    return block_task(*task)
