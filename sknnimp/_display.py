"""Pictures of importances, in the style of scikit-learn's displays."""

import numpy as np

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
        ``permutation_importance``), or a plain array of importances."""
        if hasattr(result, "importances_mean"):
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
            Show only the most important features.
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
        if self.threshold is not None and np.isfinite(self.threshold):
            ax.axvline(self.threshold, color="black", linestyle="--", linewidth=1)
        label = "importance" if self.method is None else f"{self.method} importance"
        ax.set_xlabel(label)
        if self.selected is not None:
            ax.set_title("kept features in orange")
        self.ax_, self.figure_, self.order_ = ax, ax.figure, order
        return self


class ComparisonDisplay:
    """The methods of an :class:`ImportanceComparison` side by side, and agreement.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Grouped bars of the normalized importances, features sorted by their mean
        normalized importance over the (model, method) pairs, most important at the top.
    agreement_ax_ : matplotlib Axes
        Heat map of the rank correlations.
    figure_ : matplotlib Figure
    order_ : ndarray of int
        Feature indices from the top of the bar chart to the bottom.
    """

    def __init__(self, comparison):
        self.comparison = comparison

    def plot(self, *, kind="spearman", figure=None):
        plt = require_matplotlib()
        comparison = self.comparison
        keys = list(comparison.results)
        names = comparison.feature_names
        n_features = len(names)
        if figure is None:
            figure = plt.figure(figsize=(12, 1.5 + 0.45 * n_features))
        bars_ax, heat_ax = figure.subplots(1, 2, width_ratios=[3, 2])
        normalized = np.array([comparison._normalized(key)[0] for key in keys])
        order = np.argsort(-normalized.mean(axis=0), kind="mergesort")
        height = 0.8 / len(keys)
        base = np.arange(n_features)[::-1]
        for k, key in enumerate(keys):
            bars_ax.barh(
                base + 0.4 - height * (k + 0.5),
                normalized[k, order],
                height=height,
                label=" / ".join(key),
            )
        bars_ax.set_yticks(base, [names[i] for i in order])
        bars_ax.set_xlabel("importance, share of the (model, method) total")
        bars_ax.legend(fontsize="small", loc="lower right")
        agreement = comparison.agreement(kind).to_numpy()
        image = heat_ax.imshow(agreement, vmin=-1, vmax=1, cmap="RdBu")
        labels = [" / ".join(key) for key in keys]
        heat_ax.set_xticks(range(len(keys)), labels, rotation=45, ha="right")
        heat_ax.set_yticks(range(len(keys)), labels)
        for a in range(len(keys)):
            for b in range(len(keys)):
                value = agreement[a, b]
                text = "" if np.isnan(value) else f"{value:.2f}"
                color = "white" if abs(value) > 0.6 else "black"  # legible on dark
                heat_ax.text(
                    b, a, text, ha="center", va="center", fontsize="small", color=color
                )
        heat_ax.set_title(f"agreement ({kind} rank correlation)")
        figure.colorbar(image, ax=heat_ax, shrink=0.8)
        figure.tight_layout()
        self.ax_, self.agreement_ax_, self.figure_ = bars_ax, heat_ax, figure
        self.order_ = order
        return self
