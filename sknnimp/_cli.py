"""The ``sknnimp`` command: input importances of a neural network, ranked."""

import argparse
import sys
import warnings

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from ._importance import nn_importance
from ._methods import NETWORK_METHODS
from ._selector import NNImportanceSelector


def _parser():
    parser = argparse.ArgumentParser(
        prog="sknnimp",
        description=(
            "Fit a neural network (StandardScaler + MLP) and rank its inputs by "
            "importance with every network-reading method."
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return parser


def _format_ranking(method, names, importances):
    order = np.argsort(-importances, kind="mergesort")
    width = max(len(name) for name in names)
    lines = [f"{method}", f"  {'rank':>4}  {'feature':<{width}}  importance"]
    for rank, i in enumerate(order, start=1):
        lines.append(f"  {rank:>4}  {names[i]:<{width}}  {importances[i]:.4g}")
    return "\n".join(lines)


def main(argv=None):
    args = _parser().parse_args(argv)
    data = load_diabetes()
    X, y, names = data.data, data.target, list(data.feature_names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        selector = NNImportanceSelector(random_state=args.seed).fit(X, y)
    model = selector.estimator_
    print(
        f"diabetes: {X.shape[0]} rows, {X.shape[1]} inputs; "
        f"{type(model[-1]).__name__}{model[-1].hidden_layer_sizes} behind "
        f"StandardScaler, R^2 on the training data {model.score(X, y):.3f}\n"
    )
    for method in NETWORK_METHODS:
        result = nn_importance(model, X, method=method)
        print(_format_ranking(method, names, result.importances_mean))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
