"""Draw the pictures of the README: ``python docs/make_figures.py``.

Runs the command line of the README's section "Command line" on the penguins' CSV and
screenshots its report (``docs/report.png``, with Debian's chromium), the comparison
shown in the README's section "Comparing methods and models" (an MLP pipeline and a
random forest on scikit-learn's diabetes data) and the Shapley values of the section
"Per-row explanations" (the body-mass network on the Palmer penguins), prints what the
README quotes, and writes ``docs/comparison.png`` and ``docs/beeswarm.png`` next to this
script.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sknnimp import AttributionDisplay, attributions, compare_importances  # noqa: E402

HERE = Path(__file__).resolve().parent


def diabetes_models():
    """The README's two models of the diabetes data, unfitted.

    A small, strongly penalized network: L-BFGS reaches the same optimum from the
    same seed on every machine (a larger one lands in different nearby optima
    when rounding differs, and its weight-based importances with it).
    """
    mlp = MLPRegressor(
        hidden_layer_sizes=(10,),
        alpha=10.0,
        solver="lbfgs",
        max_iter=2000,
        random_state=0,
    )
    return {
        "mlp": make_pipeline(StandardScaler(), mlp),
        "forest": RandomForestRegressor(
            n_estimators=50, min_samples_leaf=5, random_state=0
        ),
    }


def diabetes_comparison():
    """The README's comparison, line for line."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    y = (y - y.mean()) / y.std()  # an MLP trains best on a target of unit scale
    return compare_importances(
        diabetes_models(),
        X,
        y,
        methods=["garson", "olden", "gradient", "permutation"],
        random_state=0,
    )


def comparison_numbers(comparison):
    """What the README's comparison section quotes, by name.

    Spearman correlations between the network's methods (their lowest and highest,
    and gradient against permutation) and between each of them and the forest's
    permutation importance; every method's three first inputs; the inputs the
    overfitting check flags.
    """
    keys = list(comparison.results)
    agreement = comparison.agreement_matrix("spearman")
    network = [k for k, (model, _) in enumerate(keys) if model == "mlp"]
    forest = keys.index(("forest", "permutation"))
    within = [agreement[a, b] for a in network for b in network if a < b]
    across = [agreement[a, forest] for a in network]
    names = comparison.feature_names
    flags = comparison.overfitting_flags()
    return {
        "network_low": min(within),
        "network_high": max(within),
        "gradient_permutation": agreement[
            keys.index(("mlp", "gradient")), keys.index(("mlp", "permutation"))
        ],
        "forest_low": min(across),
        "forest_high": max(across),
        "top_three": {
            key: [names[i] for i in np.argsort(-result.importances_mean)[:3]]
            for key, result in comparison.results.items()
        },
        "flagged": {
            model: [names[i] for i in np.flatnonzero(found["flagged"])]
            for model, found in flags.items()
        },
    }


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


def report_screenshot():
    """The README's command-line run on the penguins' CSV, its report, and a
    screenshot of the report's top by headless Chromium (skipped without it)."""
    import shutil
    import subprocess
    import tempfile

    from palmerpenguins import load_penguins

    from sknnimp._cli import main as command_line

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        load_penguins().to_csv(folder / "penguins.csv", index=False)
        report = folder / "penguins.html"
        command_line(
            [
                str(folder / "penguins.csv"),
                "--target",
                "body_mass_g",
                "--report",
                str(report),
            ]
        )
        if browser is None:
            print("no chromium: docs/report.png not redrawn")
            return
        path = HERE / "report.png"
        subprocess.run(
            [
                browser,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={folder / 'profile'}",
                f"--screenshot={path}",
                "--window-size=900,1500",
                report.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        print(f"wrote {path}")


def main():
    report_screenshot()
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
    for name, value in comparison_numbers(comparison).items():
        print(f"{name}: {value:.2f}" if np.isscalar(value) else f"{name}: {value}")
    display = comparison.plot()
    path = HERE / "comparison.png"
    display.figure_.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
