"""Pictures of importances and of per-row attributions, in the style of
scikit-learn's displays."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ._compare import _feature_names


def require_matplotlib():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sknnimp[plot]'."
        ) from exc
    return plt


def _horizontal():
    """``boxplot`` keywords for horizontal boxes (matplotlib < 3.10 says ``vert``)."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    if (major, minor) >= (3, 10):
        return {"orientation": "horizontal"}
    return {"vert": False}


class ImportanceDisplay:
    """Horizontal bars of importances with confidence intervals, or box plots of draws.

    Build it with :meth:`from_estimator` (a fitted :class:`NNImportanceSelector`) or
    :meth:`from_importances` (a result of :func:`nn_importance`, or any Bunch with
    ``importances_mean`` and ``importances``), then :meth:`plot` it.

    Parameters
    ----------
    importances : ndarray of shape (n_features,)
        Mean importance of every feature.
    draws : ndarray of shape (n_features, n_draws), default=None
        The raw draws, for ``kind="box"``.
    ci : ndarray of shape (n_features, 2), default=None
        Confidence interval of every mean, drawn as error bars (NaN rows: none).
    feature_names : list of str, default=None
        Names of the features; ``x0``, ``x1``, ... if None.
    selected : ndarray of bool of shape (n_features,), default=None
        Features to highlight (a selector's kept features).
    threshold : float, default=None
        Drawn as a vertical line when finite.
    method : str, default=None
        Method name, used in the axis label.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn into.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    order_ : ndarray of int
        Feature indices from the top of the plot to the bottom (most important first).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_friedman1
    >>> from sknnimp import ImportanceDisplay, NNImportanceSelector
    >>> X, y = make_friedman1(n_samples=200, random_state=0)
    >>> selector = NNImportanceSelector(random_state=0).fit(X, y)
    >>> display = ImportanceDisplay.from_estimator(selector)
    >>> labels = [label.get_text() for label in display.ax_.get_yticklabels()]
    >>> sorted(labels[:5])  # the five informative inputs at the top
    ['x0', 'x1', 'x2', 'x3', 'x4']
    """

    def __init__(
        self,
        importances,
        *,
        draws=None,
        ci=None,
        feature_names=None,
        selected=None,
        threshold=None,
        method=None,
    ):
        self.importances = np.asarray(importances, dtype=float)
        self.draws = draws
        self.ci = ci
        self.feature_names = feature_names
        self.selected = selected
        self.threshold = threshold
        self.method = method

    @classmethod
    def from_estimator(cls, selector, *, kind="bar", max_display=None, ax=None):
        """Plot the importances of a fitted :class:`NNImportanceSelector`.

        Its kept features are highlighted and its ``threshold_`` drawn.
        """
        names = getattr(selector, "feature_names_in_", None)
        display = cls(
            selector.feature_importances_,
            draws=selector.importances_,
            ci=selector.importances_ci_,
            feature_names=None if names is None else list(names),
            selected=selector.get_support(),
            threshold=selector.threshold_,
            method=selector.method,
        )
        return display.plot(kind=kind, max_display=max_display, ax=ax)

    @classmethod
    def from_importances(
        cls, result, *, feature_names=None, kind="bar", max_display=None, ax=None
    ):
        """Plot a result of :func:`nn_importance` (or of scikit-learn's
        ``permutation_importance``), or a plain array of importances.

        The features are named by ``feature_names`` if given, else by the result's
        own ``feature_names`` when it has them, else ``x0``, ``x1``, ...
        """
        if hasattr(result, "importances_mean"):
            if feature_names is None:
                feature_names = result.get("feature_names")
            display = cls(
                result.importances_mean,
                draws=result.get("importances"),
                ci=result.get("importances_ci"),
                feature_names=feature_names,
                method=result.get("method"),
            )
        else:
            display = cls(result, feature_names=feature_names)
        return display.plot(kind=kind, max_display=max_display, ax=ax)

    def plot(self, *, kind="bar", max_display=None, ax=None):
        """Draw the importances, most important at the top.

        Parameters
        ----------
        kind : {"bar", "box"}, default="bar"
            Bars of the means with confidence-interval error bars, or box plots of
            the raw draws.
        max_display : int, default=None
            Show only the most important features (the y-axis label then says how
            many of how many).
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure if None.

        Returns
        -------
        self : ImportanceDisplay
        """
        if kind not in ("bar", "box"):
            raise ValueError(f"kind must be 'bar' or 'box'; got {kind!r}.")
        if kind == "box" and self.draws is None:
            raise ValueError("kind='box' needs the raw draws.")
        plt = require_matplotlib()
        if ax is None:
            n_shown = len(self.importances) if max_display is None else max_display
            _, ax = plt.subplots(figsize=(6, 1.2 + 0.32 * n_shown))
        if self.feature_names is None:
            names = _feature_names(self.importances[None, :])
        else:  # a list, an array or a pandas Index
            names = [str(name) for name in self.feature_names]
        order = np.argsort(-self.importances, kind="mergesort")[:max_display]
        positions = np.arange(len(order))[::-1]  # first in order at the top
        selected = (
            np.zeros(len(self.importances), dtype=bool)
            if self.selected is None
            else np.asarray(self.selected)
        )
        colors = np.where(selected[order], "tab:orange", "tab:blue")
        if kind == "bar":
            xerr = None
            if self.ci is not None and np.isfinite(self.ci[order]).all():
                ci = np.asarray(self.ci)[order]
                means = self.importances[order]
                xerr = np.vstack([means - ci[:, 0], ci[:, 1] - means])
            ax.barh(
                positions,
                self.importances[order],
                xerr=xerr,
                color=colors,
                ecolor="black",
                capsize=3,
            )
        else:
            boxes = ax.boxplot(
                [np.asarray(self.draws)[i] for i in order],
                positions=positions,
                patch_artist=True,
                **_horizontal(),
            )
            for patch, color in zip(boxes["boxes"], colors):
                patch.set_facecolor(color)
        ax.set_yticks(positions, [names[i] for i in order])
        if len(order) < len(names):
            ax.set_ylabel(f"top {len(order)} of {len(names)} features")
        if self.threshold is not None and np.isfinite(self.threshold):
            ax.axvline(self.threshold, color="black", linestyle="--", linewidth=1)
        label = "importance" if self.method is None else f"{self.method} importance"
        ax.set_xlabel(label)
        if self.selected is not None:
            ax.set_title("kept features in orange")
        self.ax_, self.figure_, self.order_ = ax, ax.figure, order
        return self


#: Inputs that :class:`ComparisonDisplay` shows by default; the rest are named in a
#: note.
COMPARISON_MAX_DISPLAY = 20

#: The heat map's numbers are left out when they would be smaller than this (points).
MIN_FONT_SIZE = 6.0


def _comparison_layout(n_shown, n_keys):
    """``(figure size, width ratios)`` in inches for ``n_shown`` inputs and
    ``n_keys`` (model, method) pairs: every input's group of bars and every heat-map
    cell (about 0.45 inch, beside its labels and colour bar) gets room."""
    legend = 0.25 * -(-n_keys // 3)  # three entries a row
    bars_height = 1.2 + legend + n_shown * (0.2 + 0.06 * n_keys)
    heat_height = 2.6 + 0.45 * n_keys  # cells, rotated labels and title
    bars_width, heat_width = 6.5, 3.6 + 0.45 * n_keys
    size = (bars_width + heat_width, max(bars_height, heat_height, 3.5))
    return size, [bars_width, heat_width]


def _heat_font_size(ax, n_cells):
    """Font size (points) of the heat map's numbers that fits one of ``n_cells``
    square cells of ``ax``: ``-0.25`` is about three font sizes wide."""
    ax.apply_aspect()
    box = ax.get_position()
    width, height = ax.figure.get_size_inches()
    cell = 72.0 * min(box.width * width, box.height * height) / n_cells
    return min(10.0, 0.28 * cell)


class ComparisonDisplay:
    """The methods of an :class:`ImportanceComparison` side by side, and agreement.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Grouped bars of the normalized importances, features sorted by their mean
        normalized importance over the (model, method) pairs, most important at the
        top, labelled by the comparison's ``feature_names``. When only the top ones
        are shown, the y-axis label says so ("top 20 of 50 features, by mean share").
    agreement_ax_ : matplotlib Axes
        Heat map of the rank correlations.
    figure_ : matplotlib Figure
    legend_ : matplotlib Legend
        The (model, method) pairs, above the bars (outside the axes).
    text_ : ndarray of shape (n_pairs, n_pairs) of matplotlib Text, or None
        The correlations written in the heat map's cells, with a font size that fits
        a cell; None when the cells are too small for legible numbers.
    order_ : ndarray of int
        Feature indices from the top of the bar chart to the bottom.
    """

    def __init__(self, comparison):
        self.comparison = comparison

    def plot(self, *, kind="spearman", figure=None, max_display=COMPARISON_MAX_DISPLAY):
        """Draw the bars and the heat map.

        Parameters
        ----------
        kind : {"spearman", "kendall"}, default="spearman"
            Rank correlation of the heat map.
        figure : matplotlib Figure, default=None
            Figure to draw into (given constrained layout if it has no layout
            engine); a new one, sized for the features and pairs shown, if None.
        max_display : int or None, default=20
            Show only the most important features (by mean share over the pairs);
            None: every feature.

        Returns
        -------
        self : ComparisonDisplay
        """
        if max_display is not None and (
            not isinstance(max_display, Integral) or max_display < 1
        ):
            raise ValueError(
                f"max_display must be a positive int or None; got {max_display!r}."
            )
        plt = require_matplotlib()
        comparison = self.comparison
        keys = list(comparison.results)
        labels = [" / ".join(key) for key in keys]
        names = [str(name) for name in comparison.feature_names]
        normalized = np.array([comparison._normalized(key)[0] for key in keys])
        order = np.argsort(-normalized.mean(axis=0), kind="mergesort")[:max_display]
        n_shown, n_keys = len(order), len(keys)
        size, width_ratios = _comparison_layout(n_shown, n_keys)
        if figure is None:
            figure = plt.figure(figsize=size, layout="constrained")
        elif figure.get_layout_engine() is None:
            figure.set_layout_engine("constrained")
        bars_ax, heat_ax = figure.subplots(1, 2, width_ratios=width_ratios)
        height = 0.8 / n_keys
        base = np.arange(n_shown)[::-1]
        for k, (label, color) in enumerate(zip(labels, _palette(n_keys))):
            bars_ax.barh(
                base + 0.4 - height * (k + 0.5),
                normalized[k, order],
                height=height,
                color=color,
                label=label,
            )
        bars_ax.set_yticks(base, [names[i] for i in order])
        bars_ax.set_ylim(-0.5, n_shown - 0.5)
        bars_ax.set_xlabel("importance, share of the (model, method) total")
        if n_shown < len(names):
            bars_ax.set_ylabel(f"top {n_shown} of {len(names)} features, by mean share")
        # Above the bars, outside the axes: never over the data.
        legend = bars_ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncols=min(3, n_keys),
            fontsize="small",
            frameon=False,
        )
        agreement = comparison.agreement_matrix(kind)
        image = heat_ax.imshow(agreement, vmin=-1, vmax=1, cmap="RdBu")
        heat_ax.set_xticks(range(n_keys), labels, rotation=45, ha="right")
        heat_ax.set_yticks(range(n_keys), labels)
        heat_ax.set_title(f"agreement\n({kind} rank correlation)")
        figure.colorbar(image, ax=heat_ax, shrink=0.8)
        # The numbers are sized to the cells the layout leaves, or left out.
        figure.get_layout_engine().execute(figure)
        size = _heat_font_size(heat_ax, n_keys)
        texts = None
        if size >= MIN_FONT_SIZE:
            texts = np.empty((n_keys, n_keys), dtype=object)
            for a in range(n_keys):
                for b in range(n_keys):
                    value = agreement[a, b]
                    texts[a, b] = heat_ax.text(
                        b,
                        a,
                        "" if np.isnan(value) else f"{value:.2f}",
                        ha="center",
                        va="center",
                        fontsize=size,
                        color="white" if abs(value) > 0.6 else "black",
                    )
        self.ax_, self.agreement_ax_, self.figure_ = bars_ax, heat_ax, figure
        self.legend_, self.text_, self.order_ = legend, texts, order
        return self


# ------------------------------------------------------------------ attributions

#: Colormap of numeric column values, low to high.
VALUE_CMAP = "viridis"

#: Colour of missing values and of the row summing the columns not shown.
GREY = "#a0a0a0"

#: Axis labels of the attribution methods: (beeswarm x label, short name).
_METHOD_LABELS = {
    "shap": ("Shapley value (effect on output)", "Shapley value"),
    "integrated_gradients": (
        "Integrated gradient (effect on output)",
        "Integrated gradient",
    ),
    "gradient": ("Gradient times input spread", "Gradient times input spread"),
    "gradient_x_input": ("Gradient times input", "Gradient times input"),
}

ATTRIBUTION_KINDS = ("beeswarm", "dependence")


def _is_missing(value):
    """None, NaN, NaT or pandas' NA."""
    if value is None:
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pandas.NA: its comparisons are undecided
        return True


def _as_numbers(column):
    """A column of numbers as floats (NaN where missing), or None when it holds
    anything else (strings, categories, booleans)."""
    if column.dtype.kind in "fiu":
        return column.astype(float)
    if column.dtype.kind != "O":
        return None
    numbers = np.full(len(column), np.nan)
    for i, value in enumerate(column):
        if _is_missing(value):
            continue
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            return None
        numbers[i] = float(value)
    return numbers


def _categories(column):
    """``(categories in sorted order, code of every row)``; code -1 where missing."""
    present = [value for value in column if not _is_missing(value)]
    categories = list(dict.fromkeys(present))
    try:
        categories.sort()
    except TypeError:  # values of several types
        categories.sort(key=lambda value: (type(value).__name__, str(value)))
    index = {value: k for k, value in enumerate(categories)}
    codes = np.array(
        [-1 if _is_missing(value) else index[value] for value in column], dtype=int
    )
    return categories, codes


def _palette(n_colors):
    """Qualitative colours without grey (which means missing): tab10's nine, then
    tab20's eighteen, repeated beyond."""
    import matplotlib

    if n_colors <= 9:
        colors = [
            c for k, c in enumerate(matplotlib.colormaps["tab10"].colors) if k != 7
        ]
    else:
        colors = [
            c
            for k, c in enumerate(matplotlib.colormaps["tab20"].colors)
            if k not in (14, 15)
        ]
    return [colors[k % len(colors)] for k in range(n_colors)]


def _numeric_colors(numbers, cmap):
    """Colours of a numeric column: its 5th to 95th percentile spread over ``cmap``
    (clipped beyond), grey where missing."""
    from matplotlib.colors import to_rgba

    colors = np.tile(to_rgba(GREY), (len(numbers), 1))
    present = ~np.isnan(numbers)
    if not present.any():
        return colors
    low, high = np.percentile(numbers[present], [5, 95])
    if high <= low:
        low, high = numbers[present].min(), numbers[present].max()
    if high > low:
        scaled = np.clip((numbers[present] - low) / (high - low), 0.0, 1.0)
    else:
        scaled = np.full(present.sum(), 0.5)
    colors[present] = cmap(scaled)
    return colors


def _swarm(x, rng, *, width=0.4, n_bins=60, max_step=0.05):
    """Offsets across the axis of the points at ``x``, spread where they crowd.

    The range of ``x`` is cut into ``n_bins`` bins; the points of a bin, in random
    order, go to alternate sides in layers ``max_step`` apart, the layers squeezed
    so that the fullest bin stays within ``width`` of the axis.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return np.zeros(0)
    finite = np.isfinite(x)
    finite = np.where(finite, x, x[finite].min() if finite.any() else 0.0)
    span = np.ptp(finite)
    if span > 0:
        bins = ((finite - finite.min()) / span * n_bins).astype(int)
        bins = np.minimum(bins, n_bins - 1)
    else:
        bins = np.zeros(n, dtype=int)
    shuffled = rng.permutation(n)
    order = shuffled[np.argsort(bins[shuffled], kind="stable")]
    sorted_bins = bins[order]
    rank = np.arange(n) - np.searchsorted(sorted_bins, sorted_bins, side="left")
    layer = (rank + 1) // 2
    side = np.where(rank % 2 == 1, 1.0, -1.0)
    deepest = max(int(np.bincount(bins).max()) // 2, 1)
    step = min(width / deepest, max_step)
    offsets = np.empty(n)
    offsets[order] = side * layer * step
    return offsets


class AttributionDisplay:
    """Per-row attributions: a beeswarm of every column, or one column's dependence.

    Build it with :meth:`from_attributions` (the result of :func:`attributions`), or
    from arrays, then :meth:`plot` it.

    - ``kind="beeswarm"``: one dot per row and column at the row's attribution, the
      columns sorted by their mean absolute attribution (largest at the top), the dots
      of a column spread vertically where they crowd. Dots are coloured by the row's
      value of the column: numeric columns from low to high over their 5th to 95th
      percentiles (a colorbar shows the scale), categorical ones (strings,
      categories, booleans) one colour per category in sorted order (a legend names
      them); missing values are grey. Columns beyond ``max_display`` are summed per
      row into a grey row at the bottom.
    - ``kind="dependence"``: one column's value against its attribution, a category
      per position for a categorical column.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns)
        The attribution of every column in every row, for one output.
    data : array-like of shape (n_rows, n_columns)
        The rows' values of the columns; object dtype may mix numbers, strings and
        missing values (None, NaN) per column. A column of numbers (missing values
        aside) is numeric, any other categorical.
    feature_names : list of str, default=None
        Names of the columns; ``x0``, ``x1``, ... if None.
    method : str, default=None
        The attribution method (``"shap"``, ``"integrated_gradients"``,
        ``"gradient"``, ``"gradient_x_input"``), used in the axis labels.
    output_name : str, default=None
        The output explained (a class), added to the axis labels.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes drawn into.
    figure_ : matplotlib Figure
        The figure holding ``ax_``.
    order_ : ndarray of int
        Beeswarm: column indices from the top row to the bottom, without the row of
        the other columns' sums. Dependence: the one column shown.
    scatters_ : list of matplotlib PathCollection
        Beeswarm: the dots of every row, top to bottom (the row of sums last when
        drawn). Dependence: the rows with a value of the column, then those missing
        it, if any.
    colorbar_ : matplotlib Colorbar or None
        The scale of the numeric columns' colours (beeswarm with a numeric column).
    legend_ : matplotlib Legend or None
        The categories' colours and the grey of missing values, when there are any.

    See Also
    --------
    attributions : The per-row attributions this draws.
    ImportanceDisplay : One importance per column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.neural_network import MLPRegressor
    >>> from sknnimp import AttributionDisplay, attributions
    >>> X, y = make_friedman1(n_samples=100, n_features=5, random_state=0)
    >>> mlp = MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300,
    ...                    random_state=0).fit(X, y)
    >>> explanation = attributions(mlp, X, background=20, random_state=0)
    >>> display = AttributionDisplay.from_attributions(explanation, max_display=3)
    >>> labels = [label.get_text() for label in display.ax_.get_yticklabels()]
    >>> labels[0], labels[-1]  # top and bottom rows
    ('x3', 'Sum of 2 other columns')
    >>> len(display.scatters_[0].get_offsets())  # one dot per row of X
    100
    >>> display.ax_.get_xlabel()
    'Shapley value (effect on output)'
    >>> display = AttributionDisplay.from_attributions(
    ...     explanation, kind="dependence", feature="x3")
    >>> display.ax_.get_ylabel()
    'Shapley value of x3'
    """

    def __init__(
        self, values, data, feature_names=None, *, method=None, output_name=None
    ):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2:
            raise ValueError(
                "values must be of shape (n_rows, n_columns), for one output; got "
                f"shape {values.shape}. Select an output with "
                "Explanation.output(...) or the output parameter of "
                "from_attributions."
            )
        data = np.asarray(data)
        if data.ndim == 1:
            data = data[:, None]
        if data.shape != values.shape:
            raise ValueError(
                f"data must have the shape of values {values.shape}; got {data.shape}."
            )
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(values.shape[1])]
        feature_names = [str(name) for name in feature_names]
        if len(feature_names) != values.shape[1]:
            raise ValueError(
                f"{len(feature_names)} feature names for {values.shape[1]} columns."
            )
        self.values = values
        self.data = data
        self.feature_names = feature_names
        self.method = method
        self.output_name = output_name

    @classmethod
    def from_attributions(
        cls,
        explanation,
        *,
        kind="beeswarm",
        output=None,
        feature=None,
        max_display=10,
        ax=None,
        random_state=0,
    ):
        """Plot an :class:`Explanation`, the result of :func:`attributions`.

        Parameters
        ----------
        explanation : Explanation
            Per-row attributions.
        kind : {"beeswarm", "dependence"}, default="beeswarm"
            See :meth:`plot`.
        output : int or str, default=None
            The output to show when there are several: its index (an int is always
            an index, even when the classes are integers) or its name (a class of a
            classifier, compared as a string). Required with several outputs, except
            for the two outputs of a binary classifier, whose attributions mirror
            each other: then the second, positive class (``classes_[1]``) is shown.
        feature : int or str, default=None
            The column of ``kind="dependence"``: its index or its name.
        max_display : int or None, default=10
            See :meth:`plot`.
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure if None.
        random_state : int, RandomState instance or None, default=0
            Seeds the spread of the dots.

        Returns
        -------
        display : AttributionDisplay
        """
        values = np.asarray(explanation.values)
        if values.ndim == 3 and output is None:
            n_outputs = values.shape[2]
            if n_outputs == 1:
                output = 0
            elif n_outputs == 2 and np.allclose(
                np.abs(values[..., 0]), np.abs(values[..., 1]), equal_nan=True
            ):
                output = 1  # the mirrored classes of a binary classifier
            else:
                raise ValueError(
                    f"The explanation has {n_outputs} outputs "
                    f"{explanation.output_names}; choose one with "
                    "output=<index or name>."
                )
        if output is not None:
            try:
                explanation = explanation.output(output)
            except (KeyError, IndexError) as exc:
                raise ValueError(exc.args[0]) from None
        values = explanation.values
        names = explanation.output_names
        output_name = None if names is None or len(names) != 1 else str(names[0])
        display = cls(
            values,
            explanation.data,
            explanation.feature_names,
            method=explanation.method,
            output_name=output_name,
        )
        return display.plot(
            kind=kind,
            feature=feature,
            max_display=max_display,
            ax=ax,
            random_state=random_state,
        )

    def plot(
        self, *, kind="beeswarm", feature=None, max_display=10, ax=None, random_state=0
    ):
        """Draw the attributions.

        Parameters
        ----------
        kind : {"beeswarm", "dependence"}, default="beeswarm"
            Every column's attributions, one row of dots per column; or ``feature``'s
            value against its attribution.
        feature : int or str, default=None
            The column of ``kind="dependence"`` (required there, ignored by the
            beeswarm): its index or its name.
        max_display : int or None, default=10
            Beeswarm: the number of columns shown on their own; the others are summed
            per row into one more row, "Sum of N other columns". None: every column.
        ax : matplotlib Axes, default=None
            Axes to draw into; a new figure if None.
        random_state : int, RandomState instance or None, default=0
            Seeds the spread of the dots.

        Returns
        -------
        self : AttributionDisplay
        """
        if kind not in ATTRIBUTION_KINDS:
            raise ValueError(f"kind must be one of {ATTRIBUTION_KINDS}; got {kind!r}.")
        if kind == "dependence":
            column = self._column_index(feature)
        elif max_display is not None and (
            not isinstance(max_display, Integral) or max_display < 1
        ):
            raise ValueError(
                f"max_display must be a positive int or None; got {max_display!r}."
            )
        plt = require_matplotlib()
        rng = check_random_state(random_state)
        if kind == "dependence":
            if ax is None:
                _, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
            self._dependence(ax, column, rng)
        else:
            n_columns = self.values.shape[1]
            shown = n_columns if max_display is None else min(max_display, n_columns)
            if ax is None:
                height = 1.5 + 0.4 * (shown + (shown < n_columns))
                _, ax = plt.subplots(figsize=(7, height), layout="constrained")
            self._beeswarm(ax, shown, rng)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    # ------------------------------------------------------------------ helpers

    def _label(self, short=False):
        labels = _METHOD_LABELS.get(self.method, ("Attribution", "Attribution"))
        return labels[1 if short else 0]

    def _output_suffix(self):
        return "" if self.output_name is None else f" for {self.output_name}"

    def _column_index(self, feature):
        names = self.feature_names
        if feature is None:
            raise ValueError(
                f"kind='dependence' needs a feature: a column name or index; the "
                f"columns are {names}."
            )
        if isinstance(feature, (Integral, np.integer)) and not isinstance(
            feature, (bool, np.bool_)
        ):
            if not -len(names) <= feature < len(names):
                raise ValueError(
                    f"feature={feature} is out of range for {len(names)} columns."
                )
            return int(feature) % len(names)
        if str(feature) in names:
            return names.index(str(feature))
        raise ValueError(f"No column {feature!r}; the columns are {names}.")

    def _colors(self, j, cmap):
        """``(RGBA colours of column j's rows, legend entries or None when numeric,
        whether any value is missing)``."""
        from matplotlib.colors import to_rgba

        column = self.data[:, j]
        numbers = _as_numbers(column)
        if numbers is not None:
            return _numeric_colors(numbers, cmap), None, bool(np.isnan(numbers).any())
        categories, codes = _categories(column)
        palette = np.array([to_rgba(c) for c in _palette(len(categories))])
        colors = np.tile(to_rgba(GREY), (len(column), 1))
        colors[codes >= 0] = palette.reshape(-1, 4)[codes[codes >= 0]]
        entries = [
            (f"{self.feature_names[j]} = {category}", tuple(palette[k]))
            for k, category in enumerate(categories)
        ]
        return colors, entries, bool((codes < 0).any())

    def _legend(self, ax, entries, missing, **kwargs):
        from matplotlib.lines import Line2D

        if missing:
            entries = [*entries, ("missing", GREY)]
        if not entries:
            return None
        handles = [
            Line2D([], [], marker="o", linestyle="", color=color, label=label)
            for label, color in entries
        ]
        return ax.legend(handles=handles, fontsize="small", **kwargs)

    def _beeswarm(self, ax, shown, rng):
        import matplotlib
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        cmap = matplotlib.colormaps[VALUE_CMAP]
        order = np.argsort(-np.abs(self.values).mean(axis=0), kind="mergesort")
        order, rest = order[:shown], order[shown:]
        rows = [self.values[:, j] for j in order]
        labels = [self.feature_names[j] for j in order]
        if len(rest):
            rows.append(self.values[:, rest].sum(axis=1))
            plural = "column" if len(rest) == 1 else "columns"
            labels.append(f"Sum of {len(rest)} other {plural}")
        positions = np.arange(len(rows))[::-1]  # first row at the top
        ax.axvline(0.0, color="#808080", linewidth=1, zorder=0)
        scatters, entries, numeric, missing = [], [], False, False
        for k, (x, y) in enumerate(zip(rows, positions)):
            if k < len(order):
                colors, column_entries, column_missing = self._colors(order[k], cmap)
                numeric |= column_entries is None
                entries.extend(column_entries or [])
                missing |= column_missing
            else:
                colors = GREY
            scatters.append(
                ax.scatter(
                    x,
                    y + _swarm(x, rng),
                    c=colors,
                    s=14,
                    linewidths=0,
                    zorder=2,
                )
            )
        ax.set_yticks(positions, labels)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel(self._label() + self._output_suffix())
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(axis="y", length=0)
        colorbar = None
        if numeric:
            mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=cmap)
            colorbar = ax.figure.colorbar(
                mappable, ax=ax, ticks=[0.0, 1.0], aspect=40, pad=0.01
            )
            colorbar.set_ticklabels(["Low", "High"])
            colorbar.set_label("Column value")
            colorbar.outline.set_visible(False)
        self.legend_ = self._legend(
            ax,
            entries,
            missing,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            ncols=min(3, len(entries) + missing) or 1,
            frameon=False,
        )
        self.order_, self.scatters_, self.colorbar_ = order, scatters, colorbar

    def _dependence(self, ax, j, rng):
        from matplotlib.colors import to_rgba

        values = self.values[:, j]
        column = self.data[:, j]
        name = self.feature_names[j]
        numbers = _as_numbers(column)
        scatters = []
        ax.axhline(0.0, color="#808080", linewidth=1, zorder=0)
        if numbers is not None:
            present = ~np.isnan(numbers)
            scatters.append(
                ax.scatter(
                    numbers[present],
                    values[present],
                    s=14,
                    linewidths=0,
                    color="tab:blue",
                    zorder=2,
                )
            )
            missing = ~present
            if missing.any():
                if present.any():
                    low, high = numbers[present].min(), numbers[present].max()
                    at = low - 0.08 * max(high - low, 1.0)
                else:
                    at = 0.0
                scatters.append(
                    ax.scatter(
                        np.full(missing.sum(), at),
                        values[missing],
                        s=14,
                        linewidths=0,
                        color=GREY,
                        zorder=2,
                    )
                )
            self.legend_ = self._legend(ax, [], missing.any())
        else:
            categories, codes = _categories(column)
            palette = np.array([to_rgba(c) for c in _palette(len(categories))])
            present = codes >= 0
            positions = codes.astype(float)
            for k in range(len(categories)):
                rows = codes == k
                positions[rows] += _swarm(values[rows], rng, width=0.3)
            scatters.append(
                ax.scatter(
                    positions[present],
                    values[present],
                    s=14,
                    linewidths=0,
                    c=palette.reshape(-1, 4)[codes[present]],
                    zorder=2,
                )
            )
            ticks = [str(category) for category in categories]
            if (~present).any():
                offsets = _swarm(values[~present], rng, width=0.3)
                scatters.append(
                    ax.scatter(
                        len(categories) + offsets,
                        values[~present],
                        s=14,
                        linewidths=0,
                        color=GREY,
                        zorder=2,
                    )
                )
                ticks.append("missing")
            ax.set_xticks(np.arange(len(ticks)), ticks)
            ax.set_xlim(-0.6, len(ticks) - 0.4)
            self.legend_ = None
        ax.set_xlabel(name)
        ax.set_ylabel(f"{self._label(short=True)} of {name}{self._output_suffix()}")
        ax.spines[["top", "right"]].set_visible(False)
        self.order_ = np.array([j])
        self.scatters_, self.colorbar_ = scatters, None
