"""Time of the gradient method against the network's own ``predict``.

A ``StandardScaler`` + ``MLPRegressor`` is fitted briefly on synthetic data (the
timing is about inference, so the fit quality does not matter) and the script prints

- the time of ``nn_importance(model, X, method="gradient")`` as a ratio to the time
  of ``model.predict(X)`` on the same ``X`` (best of ``--repeats`` runs each, the two
  interleaved so that both see the same machine load);
- the time of central finite differences of ``predict`` over the input columns
  (``2 * p`` calls of ``predict``), measured on ``--fd-columns`` columns and
  extrapolated to all ``p`` when fewer are timed, as a ratio to both;
- the peak memory allocated during the gradient computation (``tracemalloc``) for
  several sample sizes, next to the size of one batch's temporaries and of an
  ``n x hidden x p`` array.

Example::

    python benchmarks/bench_gradient.py --n 20000 --p 100 --hidden 100 50
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sknnimp import nn_importance
from sknnimp._methods import gradient_importance
from sknnimp.networks import NetworkModel, column_std


def make_data(n, p, seed):
    """Columns of different scales and offsets; ``y`` depends on the first few."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p) + rng.normal(size=p)
    k = min(p, 5)
    y = X[:, :k] @ np.arange(1.0, k + 1) + np.sin(X[:, 0] * X[:, min(1, p - 1)])
    return X, y


def fit_model(X, y, hidden, max_iter, seed):
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=hidden, max_iter=max_iter, random_state=seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def best_times(functions, repeats):
    """Best wall time of each function over ``repeats`` interleaved rounds."""
    best = [np.inf] * len(functions)
    for _ in range(repeats):
        for k, function in enumerate(functions):
            start = time.perf_counter()
            function()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


def finite_differences(model, X, columns, rel_step=1e-4):
    """Central differences of ``predict`` for ``columns``: 2 predicts per column.

    Returns ``std_i * mean |d predict / d x_i|`` for each column, the gradient
    importance by another route.
    """
    X = X.copy()
    std = X.std(axis=0)
    out = np.empty(len(columns))
    for k, i in enumerate(columns):
        original = X[:, i].copy()
        h = rel_step * std[i]
        X[:, i] = original + h
        up = model.predict(X)
        X[:, i] = original - h
        down = model.predict(X)
        X[:, i] = original
        out[k] = std[i] * np.mean(np.abs(up - down)) / (2 * h)
    return out


def peak_memory(function, *args, **kwargs):
    """Peak bytes allocated by ``function(*args, **kwargs)`` (numpy reports them)."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def mib(n_bytes):
    return f"{n_bytes / 2**20:,.1f} MiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="rows")
    parser.add_argument("--p", type=int, default=100, help="inputs")
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 50])
    parser.add_argument("--max-iter", type=int, default=5, help="training epochs")
    parser.add_argument("--repeats", type=int, default=15, help="timing rounds")
    parser.add_argument(
        "--fd-columns",
        type=int,
        default=None,
        help="columns timed for finite differences (default: all p)",
    )
    parser.add_argument(
        "--memory-n",
        type=int,
        nargs="*",
        default=[5_000, 20_000, 80_000],
        help="sample sizes for the memory measurement",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="BLAS threads (default: unchanged)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with threadpool_limits(limits=args.threads):
        run(args)


def run(args):
    n, p, hidden = args.n, args.p, tuple(args.hidden)
    X, y = make_data(n, p, args.seed)
    model = fit_model(X, y, hidden, args.max_iter, args.seed)
    network_model = NetworkModel(model)
    net = network_model.network
    print(
        f"n={n} p={p} hidden={hidden} BLAS threads={args.threads or 'default'} "
        f"repeats={args.repeats}"
    )

    def predict():
        model.predict(X)

    def gradient():
        nn_importance(model, X, method="gradient")

    t_predict, t_gradient = best_times([predict, gradient], args.repeats)
    print(f"predict(X)                     {t_predict * 1e3:8.1f} ms")
    print(
        f"nn_importance(method=gradient) {t_gradient * 1e3:8.1f} ms   "
        f"{t_gradient / t_predict:.2f} x predict"
    )

    n_fd = p if args.fd_columns is None else min(args.fd_columns, p)
    columns = np.arange(n_fd)
    start = time.perf_counter()
    fd = finite_differences(model, X, columns)
    t_fd = (time.perf_counter() - start) * p / n_fd
    how = "one run" if n_fd == p else f"one run of {n_fd} columns, extrapolated to {p}"
    how += f"; {t_fd / (2 * p) * 1e3:.1f} ms per predict call"
    print(
        f"finite differences, 2p predicts {t_fd * 1e3:8.1f} ms   "
        f"{t_fd / t_predict:.1f} x predict, {t_fd / t_gradient:.1f} x gradient "
        f"({how})"
    )
    exact = nn_importance(model, X, method="gradient").importances_mean[columns]
    print(
        "largest relative difference, finite differences vs gradient: "
        f"{np.max(np.abs(fd - exact) / np.abs(exact)):.1e}"
    )

    widest = max(max(w.shape) for w in net.coefs)
    batch_rows = net.batch_size(n_rows_per_sample=net.n_outputs)
    print(
        f"\ngradient batches of {batch_rows} rows; one temporary of batch x widest "
        f"layer ({widest}) = {mib(8 * batch_rows * widest)}"
    )
    print(
        f"{'n':>8} {'X':>11} {'n x hidden1 x p':>16} "
        f"{'peak gradient_importance':>25} {'peak nn_importance':>19}"
    )
    for m in args.memory_n:
        Xm, _ = make_data(m, p, args.seed + 1)
        Xn = network_model.transform(Xm)
        sigma = column_std(Xn)
        peak_core = peak_memory(gradient_importance, net, sigma, Xn)
        peak_all = peak_memory(nn_importance, model, Xm, method="gradient")
        dense = 8 * m * hidden[0] * p
        print(
            f"{m:>8} {mib(Xm.nbytes):>11} {mib(dense):>16} "
            f"{mib(peak_core):>25} {mib(peak_all):>19}"
        )


if __name__ == "__main__":
    main()
