"""Per-output importances: one output of a multi-output model, seen alone.

A model with several outputs (a regressor fitted on a 2-D ``y``, a multilabel
classifier) gets one importance per input from every method: the network-reading
methods and the attributions average over the outputs, the scores (R^2, accuracy, ...)
take all outputs at once. Output ``k``'s importance is instead that of a run on output
``k`` alone: of the model seen through :func:`output_view`, which predicts only
column ``k``, scored against ``y[:, k]`` with the same draws (shuffles, replacements,
seeds) as the run on all outputs.
"""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier

from ._tables import take_rows


class _OutputView(BaseEstimator):
    """Output ``output`` of the fitted multi-output ``estimator``, as a fitted
    single-output estimator: ``predict`` gives column ``output`` of the estimator's
    prediction. It is never fitted itself."""

    def __init__(self, estimator, output):
        self.estimator = estimator
        self.output = output

    def __sklearn_is_fitted__(self):
        return True

    def fit(self, X, y=None):
        raise TypeError(
            "An output view shows one output of a fitted estimator; it is not "
            "fitted itself."
        )

    def predict(self, X):
        return np.asarray(self.estimator.predict(X))[:, self.output]


class _RegressorView(RegressorMixin, _OutputView):
    """One output of a regressor; ``score`` is that output's R^2."""


class _ClassifierView(ClassifierMixin, _OutputView):
    """One label of a multi-output classifier; ``score`` is that label's accuracy.

    A classifier giving one probability per label (``MLPClassifier`` on a multilabel
    indicator) is seen as a binary classifier of that label (classes 0 and 1);
    one giving a list of per-output probability tables, through its table.
    """

    @property
    def classes_(self):
        classes = self.estimator.classes_
        if isinstance(classes, list):
            return classes[self.output]
        return np.array([0, 1])

    def predict_proba(self, X):
        proba = self.estimator.predict_proba(X)
        if isinstance(proba, list):
            return proba[self.output]
        positive = np.asarray(proba)[:, self.output]
        return np.column_stack([1.0 - positive, positive])

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))


def output_view(estimator, output):
    """The fitted ``estimator`` seen as predicting its output ``output`` only."""
    if is_classifier(estimator):
        return _ClassifierView(estimator, output)
    return _RegressorView(estimator, output)


def is_output_view(estimator):
    return isinstance(estimator, _OutputView)


def n_outputs(estimator, X, y=None):
    """Number of outputs: the columns of a 2-D ``y``, else of the fitted
    ``estimator``'s prediction on ``X``'s first row (1 for a 1-D ``y`` or
    prediction: a class label, even among many classes, is one output)."""
    if y is None:
        y = np.asarray(estimator.predict(take_rows(X, [0])))
    return 1 if y.ndim == 1 else y.shape[1]


def output_names(y, n):
    """Names of the ``n`` outputs: a DataFrame's columns, a Series' name, else
    ``"output 0"``, ``"output 1"``, ..."""
    columns = getattr(y, "columns", None)
    if columns is not None and len(columns) == n:
        return [str(c) for c in columns]
    name = getattr(y, "name", None)
    if n == 1 and name is not None and len(getattr(y, "shape", ())) == 1:
        return [str(name)]
    return [f"output {k}" for k in range(n)]


def output_column(y, output):
    """Column ``output`` of the 2-D target ``y`` (None stays None)."""
    return None if y is None else np.asarray(y)[:, output]
