"""Is the default network worth explaining? Its held-out score on real tables.

For every data set, the selector's default network (``sknnimp._default``:
imputation, scaling and one-hot encoding, then an MLP; a regression target
standardized around it) is scored by 5-fold cross-validation (shuffled ``KFold``,
``StratifiedKFold`` for classes, seed 0) beside two baselines behind the same
preprocessing: a linear model (``RidgeCV`` or ``LogisticRegressionCV``) and a random
forest (200 trees). The score is R^2 for regression and accuracy for classes; the gap
is the network's score minus the best baseline's.

The tables are the bundled scikit-learn data sets, the Palmer penguins
(``palmerpenguins``, with categorical columns and missing values) and tables shipped
with statsmodels, each with its target on its raw scale. BLAS runs on one thread.

    python benchmarks/bench_default.py [--datasets longley,copper] \\
        [--mlp-params '{"alpha": 1.0}']
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from sknnimp._default import default_estimator, default_preprocessing


def _bundled(name, task):
    def load():
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True, as_frame=True)
        return X, y, task

    return load


def _penguins(target, task):
    def load():
        from palmerpenguins import load_penguins

        data = load_penguins().dropna(subset=[target])
        return data.drop(columns=target), data[target], task

    return load


def _statsmodels(name, target, task, drop=()):
    def load():
        import statsmodels.api as sm

        data = getattr(sm.datasets, name).load_pandas().data
        X = data.drop(columns=[target, *drop])
        y = data[target]
        if task == "classification":
            y = y.astype(int).astype(str)
        return X, y, task

    return load


DATASETS = {
    "diabetes": _bundled("diabetes", "regression"),
    "breast_cancer": _bundled("breast_cancer", "classification"),
    "wine": _bundled("wine", "classification"),
    "penguins_species": _penguins("species", "classification"),
    "penguins_mass": _penguins("body_mass_g", "regression"),
    "longley": _statsmodels("longley", "TOTEMP", "regression"),
    "copper": _statsmodels("copper", "WORLDCONSUMPTION", "regression"),
    "star98": _statsmodels("star98", "NABOVE", "regression", drop=["NBELOW"]),
    "statecrime": _statsmodels("statecrime", "murder", "regression"),
    "grunfeld": _statsmodels("grunfeld", "invest", "regression"),
    "anes96": _statsmodels("anes96", "vote", "classification"),
    "spector": _statsmodels("spector", "GRADE", "classification"),
}


def _baselines(X, classification):
    if classification:
        linear = LogisticRegressionCV(max_iter=2000)
        forest = RandomForestClassifier(n_estimators=200, random_state=0)
    else:
        linear = RidgeCV(alphas=np.logspace(-3, 3, 13))
        forest = RandomForestRegressor(n_estimators=200, random_state=0)
    return {
        "linear": make_pipeline(default_preprocessing(X), linear),
        "forest": make_pipeline(default_preprocessing(X), forest),
    }


def evaluate(name, mlp_params):
    X, y, task = DATASETS[name]()
    classification = task == "classification"
    if classification:
        folds = min(5, int(np.unique(y, return_counts=True)[1].min()))
        cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    else:
        cv = KFold(5, shuffle=True, random_state=0)
    models = {
        "network": default_estimator(
            X, y, classification=classification, random_state=0, **mlp_params
        ),
        **_baselines(X, classification),
    }
    row = {"data": name, "rows": len(X), "columns": X.shape[1], "task": task}
    for label, model in models.items():
        start = time.perf_counter()
        scores = cross_val_score(model, X, y, cv=cv)
        row[label] = scores.mean()
        row[f"{label}_time"] = (time.perf_counter() - start) / cv.get_n_splits()
    row["gap"] = row["network"] - max(row["linear"], row["forest"])
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--mlp-params", default="{}", help="JSON: MLP overrides")
    args = parser.parse_args(argv)
    mlp_params = json.loads(args.mlp_params)
    if "hidden_layer_sizes" in mlp_params:
        mlp_params["hidden_layer_sizes"] = tuple(mlp_params["hidden_layer_sizes"])
    print(f"MLP overrides: {mlp_params or 'none'}; BLAS threads: 1")
    print(
        "| data | rows | columns | task | network | linear | forest | gap | "
        "network fit (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    gaps = []
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)  # LogisticRegressionCV's
        for name in args.datasets.split(","):
            row = evaluate(name, mlp_params)
            gaps.append(row["gap"])
            print(
                f"| {row['data']} | {row['rows']} | {row['columns']} | {row['task']} "
                f"| {row['network']:.3f} | {row['linear']:.3f} | "
                f"{row['forest']:.3f} | {row['gap']:+.3f} | "
                f"{row['network_time']:.2f} |",
                flush=True,
            )
    gaps = np.array(gaps)
    print(
        f"\nwithin 0.05 of the best baseline: {(gaps >= -0.05).sum()} of {len(gaps)}; "
        f"median gap {np.median(gaps):+.3f}"
    )


if __name__ == "__main__":
    main()
