"""A brute-force oracle for interventional Shapley values, written from the
definition: for every coalition, the hybrid rows are built by hand and scored with
the estimator's own ``predict``/``predict_proba``."""

import itertools
import math

import numpy as np


def outputs(estimator, table):
    """The estimator's outputs as (n, K): class probabilities for a classifier."""
    if hasattr(estimator, "predict_proba"):
        out = estimator.predict_proba(table)
    else:
        out = estimator.predict(table)
    out = np.asarray(out, dtype=float)
    return out.reshape(len(out), -1)


def hybrid_rows(background, row, columns):
    """Every background row with ``columns`` taken from ``row`` (a one-row table)."""
    if hasattr(background, "iloc"):
        hybrid = background.copy()
        for j in columns:
            hybrid.iloc[:, j] = row.iloc[0, j]
        return hybrid
    hybrid = np.array(background, copy=True)
    hybrid[:, list(columns)] = np.asarray(row)[0, list(columns)]
    return hybrid


def brute_force_shapley(estimator, X, background):
    """Shapley values from the definition, (n_rows, p, K): for every coalition S of
    the other columns, |S|! (p - |S| - 1)! / p! (v(S + j) - v(S)), with v(S) the
    mean output over the background rows with S's columns from the explained row."""
    n, p = X.shape
    values = []
    for i in range(n):
        row = X.iloc[[i]] if hasattr(X, "iloc") else X[[i]]
        v = {}
        for size in range(p + 1):
            for S in itertools.combinations(range(p), size):
                v[S] = outputs(estimator, hybrid_rows(background, row, S)).mean(axis=0)
        phi = np.zeros((p, len(v[()])))
        for j in range(p):
            others = [k for k in range(p) if k != j]
            for size in range(p):
                weight = (
                    math.factorial(size)
                    * math.factorial(p - size - 1)
                    / math.factorial(p)
                )
                for S in itertools.combinations(others, size):
                    phi[j] += weight * (v[tuple(sorted(S + (j,)))] - v[S])
        values.append(phi)
    return np.array(values)
