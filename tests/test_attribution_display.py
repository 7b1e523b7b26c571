"""AttributionDisplay, drawn with Agg, read back from the axes."""

import io
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_friedman1
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sknnimp import AttributionDisplay, attributions

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

MIN_PNG_BYTES = 10_000
VIRIDIS = matplotlib.colormaps["viridis"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _mlp_regressor():
    return MLPRegressor(
        hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300, random_state=0
    )


def _mlp_classifier():
    return MLPClassifier(
        hidden_layer_sizes=(10,), solver="lbfgs", max_iter=300, random_state=0
    )


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=150, n_features=6, random_state=0)
    mlp = _mlp_regressor().fit(X, y)
    return X, mlp


@pytest.fixture(scope="module")
def explanation(friedman):
    X, mlp = friedman
    return attributions(mlp, X, background=30, random_state=0)


@pytest.fixture(scope="module")
def table_explanation():
    """Shapley values of a network on a table with a string column."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 120
    table = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "b": rng.normal(size=n),
        }
    )
    effect = table["colour"].map({"red": 3.0, "green": 0.0, "blue": -3.0})
    y = 2 * table["a"] + effect + rng.normal(scale=0.1, size=n)
    preprocess = ColumnTransformer(
        [
            ("onehot", OneHotEncoder(), ["colour"]),
            ("scale", StandardScaler(), ["a", "b"]),
        ]
    )
    model = make_pipeline(preprocess, _mlp_regressor()).fit(table, y)
    return table, attributions(model, table, background=30, random_state=0)


@pytest.fixture(scope="module")
def iris_explanation():
    X, target = load_iris(return_X_y=True)
    y = load_iris().target_names[target]
    clf = _mlp_classifier().fit(X, y)
    return attributions(clf, X, background=30, random_state=0)


def _labels_top_down(ax):
    """The y tick labels as they appear on the plot, from top to bottom."""
    ticks = [
        (label.get_position()[1], label.get_text()) for label in ax.get_yticklabels()
    ]
    return [text for _, text in sorted(ticks, reverse=True)]


def _by_mean_abs(values):
    means = np.mean(np.abs(values), axis=0)
    return [int(j) for j in sorted(range(len(means)), key=lambda j: -means[j])]


def _is_grey(color):
    r, g, b, _ = color
    return np.isclose(r, g) and np.isclose(g, b)


def test_beeswarm_rows_sorted_by_mean_absolute_value(explanation):
    display = AttributionDisplay.from_attributions(explanation)
    assert display.figure_ is display.ax_.figure
    expected = _by_mean_abs(explanation.values)
    assert_array_equal(display.order_, expected)
    names = explanation.feature_names
    assert _labels_top_down(display.ax_) == [names[j] for j in expected]
    assert len(display.scatters_) == len(expected)
    assert display.ax_.get_xlabel() == "Shapley value (effect on output)"
    # A vertical line at zero.
    assert any(
        np.allclose(np.asarray(line.get_xdata(), dtype=float), 0.0)
        for line in display.ax_.get_lines()
    )
    # The colour scale of the numeric columns.
    colorbar = display.colorbar_
    assert colorbar.ax.get_ylabel() == "Column value"
    ticks = [label.get_text() for label in colorbar.ax.get_yticklabels()]
    assert ticks == ["Low", "High"]
    assert display.legend_ is None  # no category, nothing missing


def test_each_row_has_a_dot_per_explained_row_at_its_values(explanation):
    display = AttributionDisplay.from_attributions(explanation)
    n_rows = len(explanation)
    tops = {
        label.get_text(): label.get_position()[1]
        for label in display.ax_.get_yticklabels()
    }
    for scatter, j in zip(display.scatters_, display.order_):
        offsets = scatter.get_offsets()
        assert len(offsets) == n_rows
        assert_allclose(np.sort(offsets[:, 0]), np.sort(explanation.values[:, j]))
        # Spread across the row, not into the next one.
        centre = tops[explanation.feature_names[j]]
        assert np.all(np.abs(offsets[:, 1] - centre) <= 0.4 + 1e-12)
        assert np.ptp(offsets[:, 1]) > 0


def test_spread_is_seeded(explanation):
    def heights(random_state):
        display = AttributionDisplay.from_attributions(
            explanation, random_state=random_state
        )
        return np.concatenate([s.get_offsets()[:, 1] for s in display.scatters_])

    assert_array_equal(heights(0), heights(0))
    assert not np.array_equal(heights(0), heights(1))


def test_numeric_colours_run_from_low_to_high(explanation):
    display = AttributionDisplay.from_attributions(explanation)
    for scatter, j in zip(display.scatters_, display.order_):
        column = explanation.data[:, j]
        colors = scatter.get_facecolors()
        assert len(colors) == len(column)
        assert_allclose(colors[np.argmax(column)], VIRIDIS(1.0))
        assert_allclose(colors[np.argmin(column)], VIRIDIS(0.0))
        low, high = np.percentile(column, [5, 95])
        assert_allclose(colors, VIRIDIS(np.clip((column - low) / (high - low), 0, 1)))


def test_display_from_arrays_with_constant_and_missing_values():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(40, 3))
    data = np.column_stack(
        [np.arange(40.0), np.full(40, 7.0), rng.normal(size=40)]
    ).astype(object)
    data[[3, 10], 0] = np.nan
    data[5, 2] = None
    display = AttributionDisplay(values, data, ["up", "flat", "noise"]).plot(
        max_display=None
    )
    assert display.ax_.get_xlabel() == "Attribution"
    colors = {
        display.order_[k]: s.get_facecolors() for k, s in enumerate(display.scatters_)
    }
    # Missing values are drawn, in grey; the others are on the colour scale.
    assert len(colors[0]) == 40
    grey = [_is_grey(c) for c in colors[0]]
    assert_array_equal(np.flatnonzero(grey), [3, 10])
    assert_allclose(colors[0][39], VIRIDIS(1.0))
    assert_allclose(colors[0][0], VIRIDIS(0.0))
    assert [i for i, c in enumerate(colors[2]) if _is_grey(c)] == [5]
    # A constant column sits in the middle of the scale.
    assert_allclose(colors[1], np.tile(VIRIDIS(0.5), (40, 1)))
    legend = [text.get_text() for text in display.legend_.get_texts()]
    assert legend == ["missing"]


def test_categorical_column_one_colour_per_category(table_explanation):
    table, explanation = table_explanation
    display = AttributionDisplay.from_attributions(explanation)
    names = explanation.feature_names
    assert _labels_top_down(display.ax_) == [
        names[j] for j in _by_mean_abs(explanation.values)
    ]
    row = list(display.order_).index(names.index("colour"))
    colors = display.scatters_[row].get_facecolors()
    categories = table["colour"].to_numpy()
    by_category = {}
    for category in np.unique(categories):
        shades = np.unique(colors[categories == category], axis=0)
        assert len(shades) == 1  # one colour per category
        assert not _is_grey(shades[0])
        by_category[category] = tuple(shades[0])
    assert len(set(by_category.values())) == 3  # different colours
    # The legend names the categories in their colours.
    legend = display.legend_
    for text, handle in zip(legend.get_texts(), legend.legend_handles):
        category = text.get_text().removeprefix("colour = ")
        assert_allclose(to_rgba(handle.get_color()), by_category[category])
    assert sorted(text.get_text() for text in legend.get_texts()) == [
        "colour = blue",
        "colour = green",
        "colour = red",
    ]
    # The numeric columns of the object-dtype data are on the colour scale.
    row = list(display.order_).index(names.index("a"))
    colors = display.scatters_[row].get_facecolors()
    assert_allclose(colors[table["a"].argmax()], VIRIDIS(1.0))
    assert_allclose(colors[table["a"].argmin()], VIRIDIS(0.0))


def test_missing_values_of_mixed_object_columns_are_grey(table_explanation):
    _, explanation = table_explanation
    data = explanation.data.copy()
    data[:4, 0] = np.nan  # numeric column a
    data[4:6, 1] = None  # category
    data[6, 1] = np.nan
    flags = np.array([True, False, None, True, False] * 24, dtype=object)
    values = np.column_stack([explanation.values, np.linspace(-1, 1, 120)])
    display = AttributionDisplay(
        values, np.column_stack([data, flags]), [*explanation.feature_names, "flag"]
    ).plot(max_display=None)
    colors = {
        display.order_[k]: s.get_facecolors() for k, s in enumerate(display.scatters_)
    }
    assert all(len(c) == 120 for c in colors.values())
    assert_array_equal(np.flatnonzero([_is_grey(c) for c in colors[0]]), [0, 1, 2, 3])
    assert_array_equal(np.flatnonzero([_is_grey(c) for c in colors[1]]), [4, 5, 6])
    # Booleans are categories: two colours and grey for None.
    assert len(np.unique(colors[3], axis=0)) == 3
    assert_array_equal(
        np.flatnonzero([_is_grey(c) for c in colors[3]]), np.arange(2, 120, 5)
    )
    legend = [text.get_text() for text in display.legend_.get_texts()]
    assert "flag = False" in legend and "flag = True" in legend
    assert legend[-1] == "missing"


@pytest.mark.parametrize(
    "max_display, label", [(3, "3 other columns"), (5, "1 other column")]
)
def test_max_display_sums_the_other_columns(explanation, max_display, label):
    display = AttributionDisplay.from_attributions(explanation, max_display=max_display)
    order = _by_mean_abs(explanation.values)
    names = explanation.feature_names
    assert_array_equal(display.order_, order[:max_display])
    assert _labels_top_down(display.ax_) == [
        *(names[j] for j in order[:max_display]),
        f"Sum of {label}",
    ]
    assert len(display.scatters_) == max_display + 1
    others = display.scatters_[-1]
    expected = explanation.values[:, order[max_display:]].sum(axis=1)
    assert_allclose(others.get_offsets()[:, 0], expected)
    assert all(_is_grey(color) for color in others.get_facecolors())


def test_max_display_beyond_the_columns_shows_them_all(explanation):
    display = AttributionDisplay.from_attributions(explanation, max_display=6)
    assert len(display.scatters_) == 6
    assert not any("Sum of" in text for text in _labels_top_down(display.ax_))


@pytest.mark.parametrize(
    "method, label",
    [
        ("integrated_gradients", "Integrated gradient"),
        ("gradient", "Gradient times input spread"),
        ("gradient_x_input", "Gradient times input"),
    ],
)
def test_axis_labels_name_the_method(friedman, method, label):
    X, mlp = friedman
    explanation = attributions(mlp, X[:20], method=method, background=30)
    display = AttributionDisplay.from_attributions(explanation)
    assert display.ax_.get_xlabel().startswith(label)
    display = AttributionDisplay.from_attributions(
        explanation, kind="dependence", feature=0
    )
    assert display.ax_.get_ylabel() == f"{label} of x0"


@pytest.mark.parametrize("feature", [3, "x3", -3])
def test_numeric_dependence(explanation, feature):
    display = AttributionDisplay.from_attributions(
        explanation, kind="dependence", feature=feature
    )
    assert_array_equal(display.order_, [3])
    offsets = display.scatters_[0].get_offsets()
    assert_allclose(offsets[:, 0], explanation.data[:, 3])
    assert_allclose(offsets[:, 1], explanation.values[:, 3])
    assert len(display.scatters_) == 1
    assert display.ax_.get_xlabel() == "x3"
    assert display.ax_.get_ylabel() == "Shapley value of x3"
    assert display.colorbar_ is None


def test_numeric_dependence_draws_missing_values_aside(explanation):
    data = explanation.data.copy()
    data[:5, 3] = np.nan
    display = AttributionDisplay(explanation.values, data, None, method="shap").plot(
        kind="dependence", feature=3
    )
    present, missing = display.scatters_
    assert_allclose(present.get_offsets()[:, 0], data[5:, 3])
    assert_allclose(missing.get_offsets()[:, 1], explanation.values[:5, 3])
    assert np.all(missing.get_offsets()[:, 0] < data[5:, 3].min())
    assert all(_is_grey(c) for c in missing.get_facecolors())


def test_categorical_dependence(table_explanation):
    table, explanation = table_explanation
    display = AttributionDisplay.from_attributions(
        explanation, kind="dependence", feature="colour"
    )
    ax = display.ax_
    ticks = [label.get_text() for label in ax.get_xticklabels()]
    assert ticks == ["blue", "green", "red"]
    positions = {text: tick for text, tick in zip(ticks, ax.get_xticks())}
    offsets = display.scatters_[0].get_offsets()
    expected = np.array([positions[c] for c in table["colour"]])
    assert np.all(np.abs(offsets[:, 0] - expected) < 0.5)
    assert_allclose(offsets[:, 1], explanation.values[:, 1])
    assert ax.get_xlabel() == "colour"
    assert ax.get_ylabel() == "Shapley value of colour"
    # A missing category gets a place of its own.
    data = explanation.data.copy()
    data[:3, 1] = None
    display = AttributionDisplay(
        explanation.values, data, explanation.feature_names
    ).plot(kind="dependence", feature="colour")
    ticks = [label.get_text() for label in display.ax_.get_xticklabels()]
    assert ticks == ["blue", "green", "red", "missing"]
    assert len(display.scatters_[1].get_offsets()) == 3


def test_several_outputs_need_a_choice(iris_explanation):
    with pytest.raises(ValueError, match="setosa.*versicolor.*virginica"):
        AttributionDisplay.from_attributions(iris_explanation)
    with pytest.raises(ValueError, match="rose"):
        AttributionDisplay.from_attributions(iris_explanation, output="rose")
    with pytest.raises(ValueError, match="out of range"):
        AttributionDisplay.from_attributions(iris_explanation, output=3)
    for output in ("virginica", 2):
        display = AttributionDisplay.from_attributions(iris_explanation, output=output)
        values = iris_explanation.values[..., 2]
        assert_array_equal(display.order_, _by_mean_abs(values))
        for scatter, j in zip(display.scatters_, display.order_):
            assert_allclose(scatter.get_offsets()[:, 0], values[:, j])
        assert display.ax_.get_xlabel().endswith("for virginica")
    display = AttributionDisplay.from_attributions(
        iris_explanation, kind="dependence", feature=2, output="setosa"
    )
    assert_allclose(
        display.scatters_[0].get_offsets()[:, 1], iris_explanation.values[:, 2, 0]
    )
    assert display.ax_.get_ylabel().endswith("for setosa")


def test_binary_classifier_shows_the_positive_class():
    X, target = load_iris(return_X_y=True)
    y = np.where(target == 0, "setosa", "other")
    clf = _mlp_classifier().fit(X, y)
    explanation = attributions(clf, X[:30], background=30, random_state=0)
    assert explanation.output_names == ["other", "setosa"]
    display = AttributionDisplay.from_attributions(explanation)
    assert display.ax_.get_xlabel().endswith("for setosa")
    for scatter, j in zip(display.scatters_, display.order_):
        assert_allclose(scatter.get_offsets()[:, 0], explanation.values[:, j, 1])


def test_two_unrelated_outputs_need_a_choice(friedman):
    X, mlp = friedman
    y = np.column_stack([mlp.predict(X), X[:, 5]])
    model = _mlp_regressor().fit(X, y)
    explanation = attributions(model, X[:20], background=30, random_state=0)
    with pytest.raises(ValueError, match="output 0.*output 1"):
        AttributionDisplay.from_attributions(explanation)
    display = AttributionDisplay.from_attributions(explanation, output="output 1")
    assert display.ax_.get_xlabel().endswith("for output 1")


def test_single_output_explanation_rejects_other_outputs(explanation):
    with pytest.raises(ValueError, match="single output"):
        AttributionDisplay.from_attributions(explanation, output=1)
    display = AttributionDisplay.from_attributions(explanation, output=0)
    assert display.ax_.get_xlabel() == "Shapley value (effect on output)"


def test_bad_arguments(explanation, iris_explanation):
    with pytest.raises(ValueError, match="beeswarm.*dependence"):
        AttributionDisplay.from_attributions(explanation, kind="violin")
    with pytest.raises(ValueError, match="needs a feature"):
        AttributionDisplay.from_attributions(explanation, kind="dependence")
    with pytest.raises(ValueError, match="No column 'x9'"):
        AttributionDisplay.from_attributions(
            explanation, kind="dependence", feature="x9"
        )
    with pytest.raises(ValueError, match="out of range"):
        AttributionDisplay.from_attributions(explanation, kind="dependence", feature=6)
    with pytest.raises(ValueError, match="max_display"):
        AttributionDisplay.from_attributions(explanation, max_display=0)
    with pytest.raises(ValueError, match="one output"):
        AttributionDisplay(iris_explanation.values, iris_explanation.data, None)
    with pytest.raises(ValueError, match="shape"):
        AttributionDisplay(explanation.values, explanation.data[:, :3], None)


def test_draws_into_given_axes_and_saves_to_png(explanation):
    figure, ax = plt.subplots(figsize=(7, 4))
    display = AttributionDisplay.from_attributions(explanation, ax=ax, max_display=4)
    assert display.ax_ is ax and display.figure_ is figure
    buffer = io.BytesIO()
    display.figure_.savefig(buffer, format="png")
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(buffer.getvalue()) > MIN_PNG_BYTES
    display = AttributionDisplay.from_attributions(
        explanation, kind="dependence", feature="x0"
    )
    buffer = io.BytesIO()
    display.figure_.savefig(buffer, format="png")
    assert len(buffer.getvalue()) > MIN_PNG_BYTES


def test_matplotlib_missing_names_the_extra(explanation, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"sknnimp\[plot\]"):
        AttributionDisplay.from_attributions(explanation)


def test_an_explanation_of_one_output_keeps_its_name():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0)
    clf.fit(X, names)
    explanation = attributions(clf, X[::15], background=X[::10], random_state=0)
    display = AttributionDisplay.from_attributions(explanation.output("virginica"))
    assert display.output_name == "virginica"
    assert display.ax_.get_xlabel().endswith("for virginica")
