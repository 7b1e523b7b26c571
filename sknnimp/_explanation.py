"""The result of :func:`~sknnimp.attributions`: one value per row, column and output."""

import numpy as np


class Explanation:
    """Per-row attributions, with the fields named as in ``shap.Explanation``.

    Parameters
    ----------
    values : ndarray of shape (n_rows, n_columns) or (n_rows, n_columns, n_outputs)
        The attribution of every original column in every explained row; the last
        axis runs over the outputs (class probabilities of a classifier, one per
        class; the outputs of a multi-output regressor) when there are several.
    base_values : ndarray of shape (n_rows,) or (n_rows, n_outputs)
        What the values are measured from: the mean output over the background
        (``"shap"``), the output at the baseline (``"integrated_gradients"``), NaN
        where there is no reference (``"gradient"``, ``"gradient_x_input"``).
    data : ndarray of shape (n_rows, n_columns)
        The explained rows in their original columns (object dtype when some columns
        hold strings or categories).
    feature_names : list of str
        Names of the columns (``x0``, ``x1``, ... for arrays).
    method : str
        The method that made the values.
    output_names : list of str or None
        Names of the outputs (the classes of a classifier), None for one output;
        after :meth:`output`, the name of the output kept (a list of one).
    stderr : ndarray shaped as ``values``, or None
        Monte Carlo standard error of every sampled value (``"shap"`` beyond exact
        enumeration); zeros where the values are exact; None for the other methods.
    completeness_gap : ndarray shaped as ``base_values``, or None
        ``"integrated_gradients"``: the sum of a row's values minus
        ``f(x) - f(baseline)``, the error of the path integral's quadrature.
    exact : bool or None
        ``"shap"``: whether the values come from enumerating every coalition.
    n_permutations : ndarray of int of shape (n_rows,) or None
        ``"shap"`` by sampling: the antithetic pairs of permutations used per row.
    converged : ndarray of bool of shape (n_rows,) or None
        ``"shap"`` by sampling: whether a row's standard errors reached the tolerance
        before the cap on permutations.
    """

    def __init__(
        self,
        values,
        base_values,
        data,
        feature_names,
        *,
        method,
        output_names=None,
        stderr=None,
        completeness_gap=None,
        exact=None,
        n_permutations=None,
        converged=None,
    ):
        self.values = values
        self.base_values = base_values
        self.data = data
        self.feature_names = list(feature_names)
        self.method = method
        self.output_names = None if output_names is None else list(output_names)
        self.stderr = stderr
        self.completeness_gap = completeness_gap
        self.exact = exact
        self.n_permutations = n_permutations
        self.converged = converged

    @property
    def shape(self):
        return self.values.shape

    def __len__(self):
        return self.values.shape[0]

    def __getitem__(self, rows):
        """The explanation of some rows (an index, a slice, an array of indices or a
        boolean mask); a single integer keeps the row axis."""
        if isinstance(rows, (int, np.integer)):
            rows = [int(rows)]

        def take(array):
            return None if array is None else np.asarray(array)[rows]

        return Explanation(
            take(self.values),
            take(self.base_values),
            take(self.data),
            self.feature_names,
            method=self.method,
            output_names=self.output_names,
            stderr=take(self.stderr),
            completeness_gap=take(self.completeness_gap),
            exact=self.exact,
            n_permutations=take(self.n_permutations),
            converged=take(self.converged),
        )

    def output(self, which):
        """The explanation of one output: its index (an int), or its name (a class
        label of another type, ``True`` included)."""
        if self.values.ndim == 2:
            if which in (0, None):
                return self
            raise IndexError(
                f"The explanation has a single output; got output={which!r}."
            )
        n_outputs = self.values.shape[2]
        names = (
            [str(name) for name in self.output_names]
            if self.output_names
            else [f"output {k}" for k in range(n_outputs)]
        )
        if isinstance(which, (bool, np.bool_)) or not isinstance(
            which, (int, np.integer)
        ):
            if str(which) not in names:
                raise KeyError(f"No output {which!r}; the outputs are {names}.")
            which = names.index(str(which))
        elif not -n_outputs <= which < n_outputs:
            raise IndexError(
                f"output={which} is out of range for {n_outputs} outputs {names}."
            )
        which = int(which) % n_outputs

        def take(array):
            return None if array is None else np.asarray(array)[..., which]

        return Explanation(
            self.values[..., which],
            take(self.base_values),
            self.data,
            self.feature_names,
            method=self.method,
            output_names=[names[which]],
            stderr=take(self.stderr),
            completeness_gap=take(self.completeness_gap),
            exact=self.exact,
            n_permutations=self.n_permutations,
            converged=self.converged,
        )

    def mean_abs(self):
        """Mean over rows of the absolute values, per column (and output)."""
        return np.abs(self.values).mean(axis=0)

    def __repr__(self):
        outputs = "" if self.output_names is None else f", outputs={self.output_names}"
        return (
            f"Explanation(method={self.method!r}, rows={self.values.shape[0]}, "
            f"columns={self.values.shape[1]}{outputs})"
        )
