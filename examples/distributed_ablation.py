"""Warm ablation on two local processes, then on a Dask cluster: same importances.

Run it as a file: ``python examples/distributed_ablation.py``. Dask starts worker
processes that import this file again, so the work is done only under
``if __name__ == "__main__":``.
"""

import joblib
import numpy as np
from distributed import Client, LocalCluster
from sklearn.datasets import make_friedman1
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnimp import NNImportanceSelector


def main():
    X, y = make_friedman1(n_samples=200, random_state=0)
    mlp = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=5000),
    )
    selector = NNImportanceSelector(
        mlp, method="ablation", cv=3, n_repeats=2, random_state=0
    )

    selector.set_params(n_jobs=2).fit(X, y)  # two local processes
    local = selector.importances_

    # On your own cluster, connect to its scheduler instead:
    # with Client("scheduler-address:8786"):
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster):
        with joblib.parallel_config(backend="dask"):
            selector.set_params(n_jobs=None).fit(X, y)

    # Every seed is drawn before the tasks are dispatched: the same importances.
    print("identical importances:", np.array_equal(local, selector.importances_))


if __name__ == "__main__":
    main()
