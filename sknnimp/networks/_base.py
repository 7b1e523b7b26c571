"""The network interface: what the importance methods need from a fitted network.

The methods work in the network's *input space* (the output of the preprocessing in
front of it) and reach the network only through these members, so that another kind
of network is one more implementation of :class:`Network`, not a change to the methods.
"""

import numpy as np


class Network:
    """A fitted network seen from its inputs.

    Implementations provide:

    - ``n_inputs``, ``n_outputs``: widths of the input and of the output;
    - ``forward(X, batch_size=None)``: the outputs ``o`` (after the output activation:
      the prediction of a regressor, the probabilities behind ``predict_proba`` of a
      classifier, the positive class only for a binary one), shape (n, n_outputs);
    - ``gradients(X, batch_size=None)``: yields ``(rows, J)`` with
      ``J[r, k, i] = d o_k / d x'_i`` at row ``rows[r]``, in batches of bounded size;
    - ``dense_layers()``: ``self`` when the network is a stack of dense layers with
      element-wise activations, exposing ``coefs``, ``intercepts``, ``activation``,
      ``out_activation``, ``first_preactivation(X)``, ``propagate(z1, ...)`` and
      ``forward_network_space(X, biases=..., output_activation=...)``; else ``None``
      (the weight-reading methods then raise ``TypeError``);
    - ``continued(X, y, sample_weight, *, n_iter, seed, zero_inputs, held_values)``:
      a copy of the underlying estimator (the final step, ready to be put back in the
      model) whose training continued from the fitted state for ``n_iter``
      iterations on network inputs ``X`` and the target as the network sees it, with
      the first-layer weights of ``zero_inputs`` set to zero and kept there, and the
      contribution of those inputs held at ``held_values`` folded into the
      first-layer bias;
    - ``continued_together(X, y, sample_weight, *, n_iter, seed, ablated,
      held_values)``: the same for each entry of ``ablated`` (None: no input
      zeroed), yielded in order; implementations may train them side by side;
    - ``estimator``: the fitted final step the network was read from;
    - ``n_iter``: the number of training iterations (epochs) it took.
    """

    n_inputs = None
    n_outputs = None

    def forward(self, X, *, batch_size=None):
        raise NotImplementedError

    def gradients(self, X, *, batch_size=None):
        """Yield ``(rows, J)`` with ``J[r, k, i] = do_k / dx'_i`` at row ``rows[r]``.

        Rows come in batches of ``batch_size`` (default:
        ``self.batch_size(n_rows_per_sample=n_outputs)``, which implementations size
        so that a batch's temporaries stay bounded); each batch's Jacobian comes from
        the implementation's ``_batch_gradients(X_batch)``.
        """
        if batch_size is None:
            batch_size = self.batch_size(n_rows_per_sample=self.n_outputs)
        n = X.shape[0]
        for start in range(0, n, batch_size):
            rows = slice(start, min(start + batch_size, n))
            yield rows, self._batch_gradients(X[rows])

    def batch_size(self, n_rows_per_sample=1):
        raise NotImplementedError

    def _batch_gradients(self, X):
        raise NotImplementedError

    #: Why ``dense_layers()`` is None (e.g. the first layer that is not dense).
    dense_problem = None

    #: Whether ``propagate`` may run in several threads at once, each with
    #: single-threaded BLAS, to use the cores (NumPy releases the GIL); a framework
    #: with its own thread pool (PyTorch) says False.
    threaded_propagation = False

    def dense_layers(self):
        return None

    def continued(
        self,
        X,
        y,
        sample_weight,
        *,
        n_iter,
        seed,
        zero_inputs=None,
        held_values=None,
        inputs_zeroed=False,
    ):
        raise NotImplementedError

    def continued_together(
        self, X, y, sample_weight, *, n_iter, seed, ablated, held_values=None
    ):
        """Yield :meth:`continued` for each entry of ``ablated`` (None: the intact
        network), with ``held_values[j]`` (None without them) for entry ``j``.

        One copy of ``X`` serves every entry: each entry's inputs are zeroed in it
        for its training and restored after.
        """
        work = None
        for j, zero_inputs in enumerate(ablated):
            held = None if held_values is None else held_values[j]
            X_fit = X
            if zero_inputs is not None and len(zero_inputs):
                if work is None:
                    work = np.array(X, dtype=float)
                work[:, zero_inputs] = 0.0
                X_fit = work
            network = self.continued(
                X_fit,
                y,
                sample_weight,
                n_iter=n_iter,
                seed=seed,
                zero_inputs=zero_inputs,
                held_values=held,
                inputs_zeroed=X_fit is work,
            )
            if X_fit is work:
                work[:, zero_inputs] = X[:, zero_inputs]
            yield network
