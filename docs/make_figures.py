"""Draw the picture of the README: ``python docs/make_figures.py``.

Runs the comparison shown in the README's section "Comparing methods and models" (an
MLP pipeline and a random forest on scikit-learn's diabetes data), prints what the
README quotes, and writes ``docs/comparison.png`` next to this script.
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

from sknnimp import compare_importances  # noqa: E402

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


def main():
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
