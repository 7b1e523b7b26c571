"""Scores that are sums of per-row contributions, for tests on held-out rows.

Given the evaluation rows, several of scikit-learn's scores are a sum of one value per
row: accuracy, log loss, mean squared and absolute error, and also R^2, whose
denominator (the spread of ``y`` on those rows) does not depend on the predictions:

- accuracy: ``c_i = w_i 1[ŷ_i = y_i] / Σ w``;
- ``neg_log_loss``: ``c_i = w_i log p_i(y_i) / Σ w`` (probabilities clipped as
  scikit-learn clips them);
- ``neg_mean_squared_error``, ``neg_mean_absolute_error``: ``c_i = -w_i e_i / Σ w``
  with ``e_i`` the squared or absolute error averaged over outputs;
- R^2: ``c_i = 1/n - w_i (y_i - ŷ_i)^2 / Σ_k w_k (y_k - ȳ)^2`` per output,
  averaged over outputs (scikit-learn's ``uniform_average``).

The drop in score when an input is perturbed is then ``Σ_i (c_i - c'_i)``, and the
per-row differences ``d_i = n (c_i - c'_i)`` have that drop as their mean: a
one-sample test on them asks whether the model, as fitted, relies on the input on
these rows, with no refit (Chamma, Engemann & Thirion, 2023; Watson & Wright, 2021).
"""

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.metrics._scorer import _BaseScorer, _PassthroughScorer

#: Scorer names whose value is a sum of per-row contributions.
ROWWISE_SCORES = (
    "r2",
    "accuracy",
    "neg_log_loss",
    "neg_mean_squared_error",
    "neg_mean_absolute_error",
)


#: ``(score function, sign)`` of scikit-learn's scorers of :data:`ROWWISE_SCORES`.
_SCORER_NAMES = {
    ("r2_score", 1): "r2",
    ("accuracy_score", 1): "accuracy",
    ("log_loss", -1): "neg_log_loss",
    ("mean_squared_error", -1): "neg_mean_squared_error",
    ("mean_absolute_error", -1): "neg_mean_absolute_error",
}


class RowScore:
    """Per-row contributions of a score; ``contributions(...)`` sums to the score.

    Parameters
    ----------
    name : str
        One of :data:`ROWWISE_SCORES`.
    """

    def __init__(self, name):
        self.name = name

    @property
    def response_method(self):
        return "predict_proba" if self.name == "neg_log_loss" else "predict"

    def predictions(self, estimator, X):
        return getattr(estimator, self.response_method)(X)

    def totals(self, y, sample_weight=None):
        """What the contributions of some rows need from all the scored rows ``y``:
        the number of rows, the total weight and, for R^2, the spread of ``y``."""
        y = np.asarray(y)
        n = y.shape[0]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        spread = None
        if self.name == "r2":
            y = y.reshape(n, -1).astype(float)
            centred = y - np.average(y, axis=0, weights=w)
            spread = (w[:, None] * centred**2).sum(axis=0)
        return n, w.sum(), spread

    def contributions(self, estimator, y, prediction, sample_weight=None, totals=None):
        """``c`` of shape (n_rows,), summing to the score of ``prediction``.

        With ``totals`` (:meth:`totals` of all the scored rows), ``y``,
        ``prediction`` and ``sample_weight`` may be some of those rows only: their
        contributions are the same as in the whole.
        """
        y = np.asarray(y)
        n = y.shape[0]
        w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        if totals is None:
            totals = self.totals(y, w)
        n_scored, total, spread = totals
        if self.name == "accuracy":
            prediction = np.asarray(prediction)
            if y.ndim == 1:
                correct = prediction == y
            else:  # multilabel / multi-output: a row counts if all its labels match
                correct = np.all(prediction == y, axis=1)
            return w * correct / total
        if self.name == "neg_log_loss":
            proba = np.asarray(prediction, dtype=float)
            classes = estimator.classes_
            if proba.ndim == 1:  # a positive-class probability
                proba = np.column_stack([1 - proba, proba])
            eps = np.finfo(proba.dtype).eps
            proba = np.clip(proba, eps, 1 - eps)
            index = np.searchsorted(classes, y)
            return w * np.log(proba[np.arange(n), index]) / total
        y = y.reshape(n, -1).astype(float)
        prediction = np.asarray(prediction, dtype=float).reshape(n, -1)
        errors = y - prediction
        if self.name == "neg_mean_squared_error":
            return -w * (errors**2).mean(axis=1) / total
        if self.name == "neg_mean_absolute_error":
            return -w * np.abs(errors).mean(axis=1) / total
        # r2
        return (1 / n_scored - w[:, None] * errors**2 / spread).mean(axis=1)


def row_score(estimator, scoring, y=None):
    """The :class:`RowScore` of ``scoring`` for ``estimator``, or None.

    ``None`` (the estimator's ``score``) means R^2 for a regressor and accuracy for a
    classifier. R^2 is left out when ``y`` does not vary on the rows (scikit-learn
    then returns a constant), and the log loss when ``y`` is a multilabel
    indicator (scikit-learn normalizes each row's label probabilities, which the
    per-row form does not follow).
    """
    if scoring is None or isinstance(scoring, _PassthroughScorer):
        if is_classifier(estimator):
            name = "accuracy"
        elif is_regressor(estimator):
            name = "r2"
        else:
            return None
    elif isinstance(scoring, str) and scoring in ROWWISE_SCORES:
        name = scoring
    else:
        return None
    if name == "r2" and y is not None:
        y = np.asarray(y, dtype=float).reshape(len(y), -1)
        if np.any(np.ptp(y, axis=0) == 0):
            return None
    if name == "neg_log_loss" and y is not None and np.ndim(y) == 2:
        return None  # multilabel: scikit-learn's log loss of whole indicator rows
    return RowScore(name)


def scorer_row_score(scorer, estimator, y=None):
    """The :class:`RowScore` of a scorer object (``check_scoring``'s result), or None.

    Recognizes the estimator's own ``score`` and scikit-learn's scorers of
    :data:`ROWWISE_SCORES` without extra arguments; anything else gives None.
    """
    if isinstance(scorer, _PassthroughScorer):
        return row_score(estimator, None, y)
    if not isinstance(scorer, _BaseScorer) or getattr(scorer, "_kwargs", None):
        return None
    function = getattr(scorer, "_score_func", None)
    if not getattr(function, "__module__", "").startswith("sklearn.metrics"):
        return None
    name = _SCORER_NAMES.get((function.__name__, getattr(scorer, "_sign", None)))
    return None if name is None else row_score(estimator, name, y)


class SummedScorer:
    """A scorer that sums the contributions of a :class:`RowScore`.

    The same value as scikit-learn's scorer (to rounding) without its input
    validation, which dominates when a fast path scores thousands of perturbed
    outputs of a few thousand rows each.
    """

    def __init__(self, row_score):
        self.row_score = row_score

    def __call__(self, estimator, X, y, sample_weight=None):
        prediction = self.row_score.predictions(estimator, X)
        contributions = self.row_score.contributions(
            estimator, y, prediction, sample_weight
        )
        return float(contributions.sum())
