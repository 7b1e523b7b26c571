"""Draw the pictures of the README: ``python docs/make_figures.py``.

Runs the comparison shown in the README's section "Comparing methods and models" (an
MLP pipeline and a random forest on scikit-learn's diabetes data) and the Shapley
values of the section "Per-row explanations" (the body-mass network on the Palmer
penguins), prints what the README quotes, and writes ``docs/comparison.png`` and
``docs/beeswarm.png`` next to this script.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sknnimp import AttributionDisplay, attributions, compare_importances  # noqa: E402

HERE = Path(__file__).resolve().parent


def diabetes_comparison():
    """The README's comparison, line for line."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    y = (y - y.mean()) / y.std()  # an MLP trains best on a target of unit scale

    mlp = MLPRegressor(
        hidden_layer_sizes=(20,),
        alpha=10.0,
        solver="lbfgs",
        max_iter=500,
        random_state=0,
    )
    models = {
        "mlp": make_pipeline(StandardScaler(), mlp),
        "forest": RandomForestRegressor(
            n_estimators=50, min_samples_leaf=5, random_state=0
        ),
    }
    return compare_importances(
        models,
        X,
        y,
        methods=["garson", "olden", "gradient", "permutation"],
        random_state=0,
    )


def penguin_explanation():
    """The README's body-mass network on the Palmer penguins and its Shapley values."""
    from palmerpenguins import load_penguins
    from sklearn.compose import TransformedTargetRegressor, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    penguins = load_penguins().dropna(subset=["body_mass_g"])
    X, y = penguins.drop(columns="body_mass_g"), penguins["body_mass_g"]
    encode = make_column_transformer(
        (
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "year"],
        ),
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore"),
            ),
            ["species", "island", "sex"],
        ),
    )
    mlp = MLPRegressor(
        hidden_layer_sizes=(32,),
        alpha=1.0,
        solver="lbfgs",
        max_iter=2000,
        random_state=0,
    )
    model = TransformedTargetRegressor(
        make_pipeline(encode, mlp), transformer=StandardScaler()
    ).fit(X, y)
    return attributions(model, X, background=100, random_state=0)


def main():
    explanation = penguin_explanation()
    print(pd.Series(explanation.mean_abs(), index=explanation.feature_names).round(0))
    display = AttributionDisplay.from_attributions(explanation)
    path = HERE / "beeswarm.png"
    display.figure_.savefig(path, dpi=100)
    print(f"wrote {path}")

    comparison = diabetes_comparison()
    with pd.option_context("display.width", 120):
        print(comparison.skipped)
        print(comparison.table().xs("rank", level="quantity", axis=1))
        print(comparison.agreement("spearman").round(2))
        print(comparison.overfitting().xs("flagged", level="quantity", axis=1))
    display = comparison.plot()
    path = HERE / "comparison.png"
    display.figure_.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
