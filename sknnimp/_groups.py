"""Feature groups: inputs measured jointly, so that correlated inputs are not missed.

When two inputs carry the same information, shuffling or dropping one of them costs
little (the other stands in for it), and neither looks important. Measuring them as one
group answers the question "what are these inputs worth together?".
"""

from numbers import Integral

import numpy as np
from scipy import sparse
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from ._tables import n_columns, numeric_matrix

#: Default cut of the clustering: inputs whose average |Spearman rho| exceeds 0.8
#: (distance 1 - |rho| below 0.2) form a group.
DEFAULT_GROUP_THRESHOLD = 0.2


def correlation_groups(X, threshold=DEFAULT_GROUP_THRESHOLD, sample_weight=None):
    """Groups from average-linkage clustering on the distance ``1 - |Spearman rho|``.

    The dendrogram is cut at ``threshold``: a group's members are, on average, at
    distance at most it. Only numeric columns are grouped (missing values count as
    the column's median); categorical, string and boolean columns stay alone. A
    constant column (no defined correlation) is at distance 1
    from every other, so it stays alone unless ``threshold=1`` (which merges all). With
    ``sample_weight``, rho is that of the data with every row repeated as often as its
    weight says (average ranks for ties, weighted Pearson correlation of the ranks).
    """
    n_features = n_columns(X)
    if n_features < 2:
        return [np.arange(n_features)]
    if sparse.issparse(X):
        values, numeric = X.toarray().astype(float), np.ones(n_features, dtype=bool)
    else:
        values, numeric = numeric_matrix(X)
    # Missing values take the column's median, so that they do not form ranks of
    # their own.
    values = values.copy()
    for j in range(values.shape[1]):
        missing = np.isnan(values[:, j])
        if missing.any():
            values[missing, j] = (
                np.median(values[~missing, j]) if (~missing).any() else 0.0
            )
    w = np.ones(len(values))
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=float)
    present = w > 0
    varying = np.zeros(n_features, dtype=bool)
    if len(values):
        varying[numeric] = np.ptp(values[present], axis=0) > 0
    distance = np.ones((n_features, n_features))
    if varying.sum() >= 2:
        idx = np.flatnonzero(varying)
        rho = _weighted_spearman(values[:, varying[numeric]], w)
        distance[np.ix_(idx, idx)] = 1.0 - np.abs(rho)
    distance = np.clip((distance + distance.T) / 2, 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    labels = fcluster(tree, t=threshold, criterion="distance")
    return _ordered([np.flatnonzero(labels == label) for label in np.unique(labels)])


def _weighted_ranks(x, w):
    """Average ranks of ``x`` in the data with row ``r`` repeated ``w[r]`` times."""
    order = np.argsort(x, kind="mergesort")
    _, starts = np.unique(x[order], return_index=True)
    tie_weight = np.add.reduceat(w[order], starts)
    below = np.cumsum(tie_weight) - tie_weight
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(below + (tie_weight + 1) / 2, np.diff([*starts, len(x)]))
    return ranks


def _weighted_spearman(X, w):
    """Spearman correlation matrix of the (varying) columns of ``X``, weighted."""
    ranks = np.column_stack([_weighted_ranks(X[:, j], w) for j in range(X.shape[1])])
    w = w / w.sum()
    centred = (ranks - w @ ranks) * np.sqrt(w)[:, None]
    cov = centred.T @ centred
    scale = np.sqrt(np.diag(cov))
    return np.clip(cov / np.outer(scale, scale), -1.0, 1.0)


def _ordered(groups):
    """Groups sorted by their first member, members sorted."""
    groups = [np.sort(np.asarray(g, dtype=np.intp)) for g in groups]
    return sorted(groups, key=lambda g: g[0])


def resolve_groups(
    groups,
    X,
    feature_names=None,
    threshold=DEFAULT_GROUP_THRESHOLD,
    sample_weight=None,
):
    """A list of index arrays covering every column once.

    ``groups`` is ``None`` (one group per column), ``"auto"`` (see
    :func:`correlation_groups`) or a list of lists of column indices or, when
    ``feature_names`` are known, column names. Columns in no listed group are
    singletons.
    """
    n_features = n_columns(X)
    if groups is None:
        return [np.array([i]) for i in range(n_features)]
    if isinstance(groups, str):
        if groups != "auto":
            raise ValueError(f"groups must be None, 'auto' or a list; got {groups!r}.")
        return correlation_groups(X, threshold, sample_weight)
    names = None if feature_names is None else list(map(str, feature_names))
    seen = np.zeros(n_features, dtype=bool)
    resolved = []
    for group in groups:
        members = np.atleast_1d(np.asarray(group, dtype=object))
        if members.size == 0:
            raise ValueError("Every group needs at least one column.")
        indices = []
        for member in members:
            if isinstance(member, (Integral, np.integer)) and not isinstance(
                member, bool
            ):
                index = int(member)
                if not 0 <= index < n_features:
                    raise ValueError(
                        f"Group member {index} is not a column index (X has "
                        f"{n_features} columns)."
                    )
            elif isinstance(member, str) and names is not None:
                if member not in names:
                    raise ValueError(
                        f"Group member {member!r} is not a column name; the columns "
                        f"are {names}."
                    )
                index = names.index(member)
            else:
                raise ValueError(
                    f"Group member {member!r} must be a column index"
                    + (" or a column name." if names is not None else ".")
                )
            if seen[index]:
                raise ValueError(f"Column {member!r} is in more than one group.")
            seen[index] = True
            indices.append(index)
        resolved.append(indices)
    resolved.extend([i] for i in np.flatnonzero(~seen))
    return _ordered(resolved)


def expand(values, groups, n_features):
    """Per-feature rows from per-group rows: feature ``i`` gets its group's values."""
    values = np.asarray(values)
    out = np.empty((n_features, *values.shape[1:]), dtype=values.dtype)
    for row, group in zip(values, groups):
        out[group] = row
    return out
