"""Provenance maps: which original column every output of fitted preprocessing uses.

The network-reading methods compute in the network's input space, the output of the
fitted preprocessing steps in front of the network, and report results for the
user's original columns. :func:`provenance` gives, for every output column of a
fitted transformer, the input column it is computed from (``-1`` for a constant
output such as the bias column of ``PolynomialFeatures``). Outputs that each depend
on one input column can be traced back; a step whose outputs combine several input
columns (``PCA``, ``Normalizer``, an interaction term, any unknown transformer)
raises :class:`MixingStepError`, naming the step.

The map of a ``Pipeline`` is the composition of its steps' maps; those of a
``ColumnTransformer`` and a ``FeatureUnion`` are the concatenation of their parts'
maps, each translated to the columns the part reads.
"""

import operator

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import SelectorMixin
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    QuantileTransformer,
    RobustScaler,
    SplineTransformer,
    StandardScaler,
    TargetEncoder,
)

#: Transformers whose output ``k`` is computed from input column ``k`` alone.
ONE_TO_ONE = (
    StandardScaler,
    MinMaxScaler,
    MaxAbsScaler,
    RobustScaler,
    PowerTransformer,
    QuantileTransformer,
    OrdinalEncoder,
    Binarizer,
)


class MixingStepError(TypeError):
    """A preprocessing step whose outputs combine several input columns.

    Such outputs have no single original column, so results computed in the
    network's input space cannot be mapped back to the original columns. A step
    that :func:`provenance` does not know is treated as mixing.

    Parameters
    ----------
    step : object
        The offending (fitted) transformer.
    path : tuple of str, default=()
        Names leading to the step from the transformer given to
        :func:`provenance`: step names in pipelines, transformer names in column
        transformers and feature unions. Empty for the outermost transformer.
    reason : str, default=""
        What in the step mixes columns, appended to the message.

    Attributes
    ----------
    step : object
        The offending transformer.
    path : tuple of str
        Its names, outermost first.
    """

    def __init__(self, step, path=(), reason=""):
        self.step = step
        self.path = tuple(path)
        self.reason = reason
        super().__init__(_mixing_message(step, self.path, reason))

    def __reduce__(self):
        return type(self), (self.step, self.path, self.reason)


def _mixing_message(step, path, reason):
    """The message of a :class:`MixingStepError`."""
    message = f"{_describe(step, path)} mixes input columns"
    if reason:
        message += f" ({reason})"
    return message + ", so its outputs cannot be traced to single original columns."


def _describe(step, path):
    """``"the step 'a > b' (Class)"``, or ``"the step Class"`` without a path."""
    cls = type(step).__name__
    if path:
        return f"the step '{' > '.join(path)}' ({cls})"
    return f"the step {cls}"


def provenance(transformer, n_features_in):
    """Input column of every output column of a fitted transformer.

    Parameters
    ----------
    transformer : transformer, None or "passthrough"
        A fitted scikit-learn transformer, possibly a ``Pipeline``,
        ``ColumnTransformer`` or ``FeatureUnion`` of others. ``None`` and
        ``"passthrough"`` are the identity.
    n_features_in : int
        Number of columns the transformer receives.

    Returns
    -------
    ndarray of int of shape (n_outputs,)
        For output ``k``, the input column (``0 .. n_features_in - 1``) it is
        computed from, or ``-1`` for an output that depends on no input column (a
        constant such as the bias column of ``PolynomialFeatures``). An input column
        may have any number of outputs, including none (dropped or not selected).

    Raises
    ------
    MixingStepError
        When a step's outputs combine several input columns, or the step is not
        known to keep them apart; the message names the innermost such step.
    ValueError
        When a step was fitted on a different number of columns than it receives.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> from sklearn.compose import make_column_transformer
    >>> X = np.array([[0.0, 1, 5.0], [1.0, 2, 6.0], [2.0, 3, 8.0]])
    >>> ct = make_column_transformer(
    ...     (OneHotEncoder(), [1]), (StandardScaler(), [2]), remainder="drop"
    ... ).fit(X)
    >>> provenance(ct, 3)
    array([1, 1, 1, 2])
    """
    n_features_in = operator.index(n_features_in)
    return _provenance(transformer, n_features_in, ())


def _provenance(step, n_in, path):
    """Map of ``step`` receiving ``n_in`` columns; ``path`` names it for errors."""
    if step is None or _is(step, "passthrough"):
        return np.arange(n_in)
    _check_width(step, n_in, path)
    for classes, handler in _HANDLERS:
        if isinstance(step, classes):
            return np.asarray(handler(step, n_in, path), dtype=np.intp)
    raise MixingStepError(step, path)  # unknown: treated as mixing


def _is(step, name):
    """Whether ``step`` is the string ``name`` (steps may be arrays or estimators)."""
    return isinstance(step, str) and step == name


def _check_width(step, n_in, path):
    """Raise when ``step`` was fitted on another number of columns than ``n_in``."""
    try:
        fitted = getattr(step, "n_features_in_", None)
    except Exception:  # a delegating property of a partly unusable composite
        fitted = None
    if isinstance(fitted, (int, np.integer)) and fitted != n_in:
        raise ValueError(
            f"{_describe(step, path)} was fitted on {fitted} columns but receives "
            f"{n_in}."
        )


def _compose(previous, local):
    """``previous[local]``, keeping ``-1`` (a constant) as ``-1``."""
    local = np.asarray(local, dtype=np.intp)
    out = np.full(local.shape, -1, dtype=np.intp)
    known = local >= 0
    out[known] = np.asarray(previous, dtype=np.intp)[local[known]]
    return out


# -- composites ----------------------------------------------------------------------


def _pipeline(pipe, n_in, path):
    """Compose the steps' maps, first step first."""
    out = np.arange(n_in)
    for name, step in pipe.steps:
        out = _compose(out, _provenance(step, len(out), path + (name,)))
    return out


def _column_transformer(ct, n_in, path):
    """Each part's map, in the columns it reads, placed at its output slice."""
    slices = ct.output_indices_
    n_out = max((s.stop for s in slices.values()), default=0)
    out = np.full(n_out, -1, dtype=np.intp)
    for name, trans, columns in ct.transformers_:
        where = slices.get(name, slice(0, 0))
        if where.stop <= where.start or _is(trans, "drop"):
            continue
        cols = _ct_input_indices(ct, name, columns, n_in)
        local = _provenance(trans, len(cols), path + (name,))
        if len(local) != where.stop - where.start:
            raise ValueError(
                f"{_describe(trans, path + (name,))} gives {len(local)} columns by "
                f"its attributes but {where.stop - where.start} in the output."
            )
        out[where] = _compose(cols, local)
    return out


def _ct_input_indices(ct, name, columns, n_in):
    """Input columns read by the part ``name`` of a fitted ``ColumnTransformer``."""
    fitted = getattr(ct, "_transformer_to_input_indices", None)
    if isinstance(fitted, dict) and name in fitted:
        return np.asarray(fitted[name], dtype=np.intp)
    names = getattr(ct, "feature_names_in_", None)
    return _resolve_columns(columns, n_in, names)


def _resolve_columns(key, n_in, names):
    """Indices of the columns selected by ``key`` (as ``ColumnTransformer`` reads it).

    ``key`` is a name, an integer, a slice (of names or integers), a boolean mask or
    a list of names or integers; ``names`` are the fitted column names, if any.
    """
    positions = np.arange(n_in)
    if callable(key):
        raise ValueError("A fitted column selection should not be callable.")
    if isinstance(key, slice):
        if isinstance(key.start, str) or isinstance(key.stop, str):
            return _name_slice(key, _name_list(names), n_in)
        return positions[key]
    if isinstance(key, str):
        return np.array([_name_list(names).index(key)], dtype=np.intp)
    arr = np.asarray(key)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.size == 0:
        return np.empty(0, dtype=np.intp)
    if arr.dtype.kind == "b":
        return np.flatnonzero(arr)
    if arr.dtype.kind in "iu":
        return positions[arr]
    listed = _name_list(names)
    return np.array([listed.index(col) for col in arr.tolist()], dtype=np.intp)


def _name_list(names):
    """The fitted column names as a list; an error when columns have no names."""
    if names is None:
        raise ValueError("Columns selected by name, but the columns have no names.")
    return list(names)


def _name_slice(key, names, n_in):
    """Indices of a slice of column names (both ends included, as in pandas)."""
    start = 0 if key.start is None else names.index(key.start)
    stop = n_in if key.stop is None else names.index(key.stop) + 1
    return np.arange(start, stop)


def _feature_union(union, n_in, path):
    """The parts' maps side by side, each over all the inputs."""
    parts = [
        _provenance(trans, n_in, path + (name,))
        for name, trans in union.transformer_list
        if trans is not None and not _is(trans, "drop")
    ]
    if not parts:
        return np.empty(0, dtype=np.intp)
    return np.concatenate(parts)


# -- single steps --------------------------------------------------------------------


def _identity(step, n_in, path):
    """One output per input column, in order."""
    return np.arange(n_in)


def _selector(step, n_in, path):
    """The selected columns."""
    return step.get_support(indices=True)


def _function_transformer(step, n_in, path):
    """The identity when there is no function; an opaque function may mix."""
    if step.func is None:
        return np.arange(n_in)
    raise MixingStepError(step, path, "its function is opaque")


def _simple_imputer(step, n_in, path):
    """Kept columns (those seen with a value, or all), then the indicator columns."""
    if step.keep_empty_features:
        kept = np.arange(n_in)
    else:
        kept = np.flatnonzero(~_nan_mask(step.statistics_))
    indicator = getattr(step, "indicator_", None)
    if step.add_indicator and indicator is not None:
        kept = np.concatenate([kept, indicator.features_])
    return kept


def _nan_mask(values):
    """Where ``values`` are NaN, for float and object arrays (like the imputer)."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind in "biu":
        return np.zeros(values.shape, dtype=bool)
    return np.array([value != value for value in values.tolist()], dtype=bool)


def _missing_indicator(step, n_in, path):
    """One indicator per column listed in ``features_``."""
    return np.asarray(step.features_)


def _one_hot_encoder(step, n_in, path):
    """A block of indicators per column, column after column."""
    return _blocks(_one_hot_widths(step))


def _one_hot_widths(encoder):
    """Outputs per column: categories, infrequent ones merged, one dropped."""
    widths = [len(categories) for categories in encoder.categories_]
    try:
        infrequent = encoder.infrequent_categories_
    except AttributeError:  # grouping of infrequent categories is not enabled
        infrequent = [None] * len(widths)
    for i, rare in enumerate(infrequent):
        if rare is not None and len(rare):
            widths[i] -= len(rare) - 1
    drop_idx = getattr(encoder, "drop_idx_", None)
    if drop_idx is not None:
        for i, dropped in enumerate(drop_idx):
            if dropped is not None:
                widths[i] -= 1
    return widths


def _blocks(widths):
    """``widths[j]`` outputs for column ``j``, column after column."""
    return np.repeat(np.arange(len(widths)), np.asarray(widths, dtype=np.intp))


def _kbins_discretizer(step, n_in, path):
    """One output per column (ordinal), else one per bin of each column."""
    if step.encode == "ordinal":
        return np.arange(n_in)
    return _blocks(step.n_bins_)


def _spline_transformer(step, n_in, path):
    """The same number of splines for every column, column after column."""
    per_column, rest = divmod(step.n_features_out_, n_in) if n_in else (0, 0)
    if rest:
        raise ValueError(
            f"{_describe(step, path)} gives {step.n_features_out_} columns, not a "
            f"multiple of its {n_in} inputs."
        )
    return _blocks([per_column] * n_in)


def _target_encoder(step, n_in, path):
    """One output per column, or one per class of each column (multiclass)."""
    if step.target_type_ == "multiclass":
        return _blocks([len(step.classes_)] * n_in)
    return np.arange(n_in)


def _normalizer(step, n_in, path):
    """Always mixes: every row is divided by its norm over all the columns."""
    raise MixingStepError(step, path, "every row is divided by its norm")


def _polynomial_features(step, n_in, path):
    """Powers of one column map to it, the bias to -1; a product of columns mixes."""
    used = np.asarray(step.powers_) != 0
    n_used = used.sum(axis=1)
    if (n_used > 1).any():
        k = int(np.argmax(n_used > 1))
        columns = ", ".join(map(str, np.flatnonzero(used[k])))
        raise MixingStepError(
            step, path, f"its output {k} multiplies input columns {columns}"
        )
    return np.where(n_used == 1, np.argmax(used, axis=1), -1)


#: (classes, handler) pairs, tried in order; the first that matches is used.
_HANDLERS = (
    (Pipeline, _pipeline),
    (ColumnTransformer, _column_transformer),
    (FeatureUnion, _feature_union),
    (SelectorMixin, _selector),
    (SimpleImputer, _simple_imputer),
    (MissingIndicator, _missing_indicator),
    (OneHotEncoder, _one_hot_encoder),
    (KBinsDiscretizer, _kbins_discretizer),
    (SplineTransformer, _spline_transformer),
    (TargetEncoder, _target_encoder),
    (PolynomialFeatures, _polynomial_features),
    (FunctionTransformer, _function_transformer),
    (Normalizer, _normalizer),
    (ONE_TO_ONE, _identity),
)


def check_column_separable(transformer, path=()):
    """Raise :class:`MixingStepError` for a step known to mix columns, before fitting.

    Reads only the structure (``Pipeline`` steps, ``ColumnTransformer`` and
    ``FeatureUnion`` parts, a ``FunctionTransformer``'s function), so that an
    impossible request is refused before any work starts. Whether a
    ``PolynomialFeatures`` mixes columns is known only once it is fitted.
    """
    step = transformer
    if step is None or isinstance(step, str):
        return
    if isinstance(step, Pipeline):
        for name, part in step.steps:
            check_column_separable(part, path + (name,))
        return
    if isinstance(step, ColumnTransformer):
        parts = [(name, part) for name, part, _ in step.transformers]
        parts.append(("remainder", step.remainder))
        for name, part in parts:
            check_column_separable(part, path + (name,))
        return
    if isinstance(step, FeatureUnion):
        for name, part in step.transformer_list:
            check_column_separable(part, path + (name,))
        return
    if isinstance(step, Normalizer):
        _normalizer(step, 0, path)
    if isinstance(step, FunctionTransformer):
        _function_transformer(step, 0, path)
    if not any(isinstance(step, classes) for classes, _ in _HANDLERS):
        raise MixingStepError(step, path)


__all__ = ["ONE_TO_ONE", "MixingStepError", "check_column_separable", "provenance"]
