"""ImportanceDisplay and ComparisonDisplay, drawn with Agg, read back from the axes."""

import sys
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_friedman1, make_regression
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import permutation_importance
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import (
    ComparisonDisplay,
    ImportanceDisplay,
    NNImportanceSelector,
    compare_importances,
    nn_importance,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORANGE = matplotlib.colors.to_rgba("tab:orange")
BLUE = matplotlib.colors.to_rgba("tab:blue")
MIN_PNG_BYTES = 10_000


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _mlp():
    mlp = MLPRegressor(
        hidden_layer_sizes=(20,), solver="lbfgs", max_iter=300, random_state=0
    )
    return make_pipeline(StandardScaler(), mlp)


@pytest.fixture(scope="module")
def data():
    return make_friedman1(n_samples=200, random_state=0)


@pytest.fixture(scope="module")
def selector(data):
    X, y = data
    return NNImportanceSelector(_mlp(), method="permutation", random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def comparison(data):
    X, y = data
    models = {
        "mlp": _mlp(),
        "forest": RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0),
    }
    methods = ["gradient", "olden", "permutation"]
    return compare_importances(models, X, y, methods=methods, random_state=0)


def _labels_top_down(ax):
    """The y tick labels as they appear on the plot, from top to bottom."""
    ticks = [
        (label.get_position()[1], label.get_text()) for label in ax.get_yticklabels()
    ]
    # Images (the heat map) put y = 0 at the top.
    return [text for _, text in sorted(ticks, reverse=not ax.yaxis_inverted())]


def _expected_order(importances):
    return list(np.argsort(-np.asarray(importances), kind="mergesort"))


def _png_size(figure, tmp_path):
    path = tmp_path / "figure.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path.stat().st_size


def test_selector_bars_sorted_kept_features_highlighted_threshold_drawn(
    selector, tmp_path
):
    display = ImportanceDisplay.from_estimator(selector)
    assert isinstance(display, ImportanceDisplay)
    assert display.figure_ is display.ax_.figure
    order = _expected_order(selector.feature_importances_)
    assert_array_equal(display.order_, order)
    assert _labels_top_down(display.ax_) == [f"x{i}" for i in order]
    # Bars: the importances in plot order, kept features in orange, others in blue.
    bars = display.ax_.containers[-1]
    assert_allclose(
        [bar.get_width() for bar in bars], selector.feature_importances_[order]
    )
    support = selector.get_support()[order]
    colors = [bar.get_facecolor() for bar in bars]
    assert colors == [ORANGE if kept else BLUE for kept in support]
    assert 0 < support.sum() < len(support)
    # Error bars from the confidence intervals (permutation draws five times).
    assert any(
        isinstance(c, matplotlib.container.ErrorbarContainer)
        for c in display.ax_.containers
    )
    # The threshold as a vertical line.
    vertical = [
        np.asarray(line.get_xdata(), dtype=float) for line in display.ax_.get_lines()
    ]
    assert any(np.allclose(x, selector.threshold_) for x in vertical)
    assert display.ax_.get_xlabel() == "permutation importance"
    assert _png_size(display.figure_, tmp_path) > MIN_PNG_BYTES


def test_selector_box_plot_of_the_draws(selector, tmp_path):
    display = ImportanceDisplay.from_estimator(selector, kind="box")
    order = _expected_order(selector.feature_importances_)
    assert _labels_top_down(display.ax_) == [f"x{i}" for i in order]
    # One box per feature, at the feature's place, with its draws' median.
    assert len(display.ax_.patches) == len(order)
    vertical = {
        (float(np.mean(line.get_ydata())), float(line.get_xdata()[0]))
        for line in display.ax_.get_lines()
        if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
    }
    positions = np.arange(len(order))[::-1]
    for position, feature in zip(positions, order):
        median = np.median(selector.importances_[feature])
        assert any(
            np.isclose(y, position) and np.isclose(x, median) for y, x in vertical
        )
    assert _png_size(display.figure_, tmp_path) > MIN_PNG_BYTES


def test_box_plot_needs_draws():
    with pytest.raises(ValueError, match="draws"):
        ImportanceDisplay.from_importances(np.array([0.3, 0.1, 0.2]), kind="box")
    with pytest.raises(ValueError, match="kind"):
        ImportanceDisplay.from_importances(np.array([0.3, 0.1, 0.2]), kind="pie")


def test_from_importances_with_sklearn_permutation_importance(selector, data, tmp_path):
    X, y = data
    result = permutation_importance(
        selector.estimator_, X, y, n_repeats=4, random_state=0
    )
    names = np.array([f"input {i}" for i in range(X.shape[1])])  # not a list
    for kind in ("bar", "box"):
        display = ImportanceDisplay.from_importances(
            result, feature_names=names, kind=kind
        )
        order = _expected_order(result.importances_mean)
        assert _labels_top_down(display.ax_) == list(names[order])
        assert display.ax_.get_xlabel() == "importance"
    assert _png_size(display.figure_, tmp_path) > MIN_PNG_BYTES


def test_from_importances_with_an_nn_importance_bunch_into_given_axes(selector, data):
    X, y = data
    result = nn_importance(selector.estimator_, X, method="gradient")
    _, ax = plt.subplots()
    display = ImportanceDisplay.from_importances(result, ax=ax)
    assert display.ax_ is ax
    order = _expected_order(result.importances_mean)
    assert _labels_top_down(ax) == [f"x{i}" for i in order]
    assert ax.get_xlabel() == "gradient importance"
    # One draw: no confidence interval, no error bars, no threshold, no title.
    assert not any(
        isinstance(c, matplotlib.container.ErrorbarContainer) for c in ax.containers
    )
    assert ax.get_title() == ""


def test_max_display_keeps_the_most_important(selector):
    display = ImportanceDisplay.from_estimator(selector, max_display=3)
    order = _expected_order(selector.feature_importances_)[:3]
    assert_array_equal(display.order_, order)
    assert _labels_top_down(display.ax_) == [f"x{i}" for i in order]
    assert len(display.ax_.containers[-1]) == 3
    assert display.ax_.get_ylabel() == "top 3 of 10 features"


def test_comparison_methods_side_by_side_and_agreement_heat_map(comparison, tmp_path):
    display = comparison.plot()
    assert isinstance(display, ComparisonDisplay)
    assert display.figure_ is display.ax_.figure is display.agreement_ax_.figure
    keys = list(comparison.results)
    # Features sorted by their mean share over the (model, method) pairs.
    table = comparison.table()
    shares = table.xs("importance", level="quantity", axis=1).mean(axis=1)
    order = _expected_order(shares.to_numpy())
    assert_array_equal(display.order_, order)
    assert _labels_top_down(display.ax_) == [f"x{i}" for i in order]
    # One group of bars per (model, method), in the legend.
    legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
    assert legend == [f"{model} / {method}" for model, method in keys]
    assert len(display.ax_.patches) == len(keys) * len(order)
    # The heat map is the agreement matrix, labelled by (model, method).
    image = display.agreement_ax_.get_images()[0].get_array()
    assert_allclose(image, comparison.agreement_matrix("spearman"))
    assert _labels_top_down(display.agreement_ax_) == legend
    assert "spearman" in display.agreement_ax_.get_title()
    assert _png_size(display.figure_, tmp_path) > 3 * MIN_PNG_BYTES


def test_comparison_plot_kendall_into_a_given_figure(comparison):
    figure = plt.figure(figsize=(10, 6))
    display = comparison.plot(kind="kendall", figure=figure)
    assert display.figure_ is figure
    image = display.agreement_ax_.get_images()[0].get_array()
    assert_allclose(image, comparison.agreement_matrix("kendall"))
    assert "kendall" in display.agreement_ax_.get_title()


def test_matplotlib_missing_names_the_extra(comparison, selector, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sknnimp\[plot\]"):
        ImportanceDisplay.from_estimator(selector)
    with pytest.raises(ImportError, match=r"sknnimp\[plot\]"):
        comparison.plot()


def test_from_importances_keeps_the_names_a_result_carries(selector, data):
    X, _ = data
    result = nn_importance(selector.estimator_, X, method="gradient")
    names = [f"input {i}" for i in range(X.shape[1])]
    result["feature_names"] = names
    display = ImportanceDisplay.from_importances(result)
    order = _expected_order(result.importances_mean)
    assert _labels_top_down(display.ax_) == [names[i] for i in order]
    # Names passed explicitly win.
    other = [f"other {i}" for i in range(X.shape[1])]
    display = ImportanceDisplay.from_importances(result, feature_names=other)
    assert _labels_top_down(display.ax_) == [other[i] for i in order]


def _small_mlp():
    mlp = MLPRegressor(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=100, random_state=0
    )
    return make_pipeline(StandardScaler(), mlp)


@pytest.fixture(scope="module")
def three_columns():
    """Every default method for a network and the forest's on three named columns:
    eleven (model, method) pairs, so the heat map is crowded and the bars few."""
    X, y = make_friedman1(n_samples=120, n_features=5, random_state=0)
    X = pd.DataFrame(X[:, [0, 1, 3]], columns=["sepal length", "width", "temp"])
    models = {
        "mlp": _small_mlp(),
        "forest": RandomForestRegressor(n_estimators=10, max_depth=4, random_state=0),
    }
    return compare_importances(models, X, y, n_repeats=2, random_state=0)


def test_comparison_ticks_are_the_dataframe_column_names(three_columns):
    display = three_columns.plot()
    names = ["sepal length", "width", "temp"]
    assert three_columns.feature_names == names
    assert _labels_top_down(display.ax_) == [names[i] for i in display.order_]
    assert sorted(_labels_top_down(display.ax_)) == sorted(names)
    assert display.ax_.get_ylabel() == ""  # every feature shown: no note


def _extents(artists, renderer):
    return [artist.get_window_extent(renderer) for artist in artists]


def test_heat_map_numbers_fit_their_cells_without_overlapping(three_columns):
    display = three_columns.plot()
    n_pairs = len(three_columns.results)
    assert n_pairs >= 10
    figure = display.figure_
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    texts = [text for text in display.text_.ravel() if text.get_text()]
    assert len(texts) == n_pairs**2
    assert min(text.get_fontsize() for text in texts) >= 6
    boxes = _extents(texts, renderer)
    for a, b in combinations(boxes, 2):
        assert not a.overlaps(b)
    # Each number is narrower than its cell.
    cell = display.agreement_ax_.get_window_extent(renderer).width / n_pairs
    assert max(box.width for box in boxes) < cell
    # The heat map's labels stay inside the figure.
    labels = display.agreement_ax_.get_xticklabels()
    for box in _extents(labels, renderer):
        assert box.y0 >= 0 and box.x1 <= figure.bbox.x1


def test_heat_map_numbers_are_left_out_when_the_cells_are_too_small(three_columns):
    figure = plt.figure(figsize=(8, 4.5))
    display = three_columns.plot(figure=figure)
    assert display.text_ is None
    assert len(display.agreement_ax_.texts) == 0


def test_legend_is_outside_the_bars(three_columns, comparison):
    for found in (three_columns, comparison):
        display = found.plot()
        display.figure_.canvas.draw()
        renderer = display.figure_.canvas.get_renderer()
        legend = display.legend_.get_window_extent(renderer)
        assert not legend.overlaps(display.ax_.get_window_extent(renderer))
        assert display.figure_.bbox.contains(legend.x0, legend.y0)
        assert display.figure_.bbox.contains(legend.x1, legend.y1)


def test_comparison_of_fifty_features_shows_the_top_twenty_with_a_note():
    X, y = make_regression(
        n_samples=100, n_features=50, n_informative=5, random_state=0
    )
    X = pd.DataFrame(X, columns=[f"column {i}" for i in range(50)])
    comparison = compare_importances(
        _small_mlp(), X, y, methods=["gradient", "olden"], random_state=0
    )
    display = comparison.plot()
    assert len(display.order_) == 20
    assert _labels_top_down(display.ax_) == [f"column {i}" for i in display.order_]
    assert len(display.ax_.patches) == 2 * 20
    assert display.ax_.get_ylabel() == "top 20 of 50 features, by mean share"
    shares = comparison.table().xs("importance", level="quantity", axis=1)
    assert_array_equal(
        display.order_, _expected_order(shares.mean(axis=1).to_numpy())[:20]
    )
    everything = comparison.plot(max_display=None)
    assert len(everything.order_) == 50
    assert everything.ax_.get_ylabel() == ""
    with pytest.raises(ValueError, match="max_display"):
        comparison.plot(max_display=0)
