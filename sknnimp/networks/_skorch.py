"""The network interface for skorch's ``NeuralNetRegressor``/``NeuralNetClassifier``.

The forward pass and the input gradients run in PyTorch, in the module's dtype and on
its device: gradients come from autograd, with respect to the inputs only (the
parameters of the private copy of the module that is used do not require
gradients). Results are returned as float64 NumPy arrays.

When the module is an ``nn.Sequential`` (nested ones are read through) of
``nn.Linear`` layers with element-wise activations between them, the network also
exposes its dense layers (``coefs``, ``intercepts``, ``first_preactivation``,
``propagate``, ``forward_network_space``), so that ``weights``, ``garson``, ``olden``,
``probe`` and the fast path of permutation importance apply. Any other module
(a convolution, a custom ``nn.Module`` whose ``forward`` is code) gets the forward
pass and the gradients only; :attr:`SkorchNetwork.dense_problem` then names the first
layer that is not dense and :meth:`SkorchNetwork.check_dense_layers` raises a
``TypeError`` saying so.

Outputs are those behind ``predict`` of a regressor (reshaped to 2-D) and behind
``predict_proba`` of a classifier: the module's output after the net's
``predict_nonlinearity``. When those probabilities are known to be normalized (the
last operation is a softmax: an ``nn.Softmax`` ending the ``nn.Sequential``, or the
softmax skorch applies for ``CrossEntropyLoss``) and there are two of them, only the
positive class's probability is kept, as for scikit-learn's ``MLPClassifier``; its
dense layers are then those of the equivalent logistic network, whose last layer is
the difference of the two logits' weights. ``NeuralNetBinaryClassifier`` is not
supported.

PyTorch and skorch are imported only when such a model is met: this module imports
neither at load time.
"""

import functools
from copy import deepcopy

import numpy as np
from scipy import sparse
from sklearn.base import is_classifier
from sklearn.utils.extmath import safe_sparse_dot

from ._base import Network
from ._mlp import DEFAULT_BATCH_ELEMENTS

#: skorch's estimator classes that this implementation reads (and their subclasses).
SKORCH_CLASSES = ("NeuralNetRegressor", "NeuralNetClassifier")


def is_skorch_network(estimator):
    """Whether ``estimator`` is a skorch ``NeuralNetRegressor``/``NeuralNetClassifier``.

    Decided from the names of its classes and of their modules, so that neither
    skorch nor PyTorch is imported for any other estimator.
    """
    for cls in type(estimator).__mro__:
        module = getattr(cls, "__module__", None) or ""
        if module.split(".")[0] == "skorch" and cls.__name__ in SKORCH_CLASSES:
            return True
    return False


# -- reading the module --------------------------------------------------------------


@functools.cache
def _layer_classes():
    """``(element-wise activations, layers that pass values through at inference)``."""
    from torch import nn

    elementwise = (
        nn.ReLU,
        nn.ReLU6,
        nn.LeakyReLU,
        nn.PReLU,
        nn.RReLU,
        nn.ELU,
        nn.SELU,
        nn.CELU,
        nn.GELU,
        nn.SiLU,
        nn.Mish,
        nn.Sigmoid,
        nn.Tanh,
        nn.Softplus,
        nn.Softsign,
        nn.Hardtanh,
        nn.Hardsigmoid,
        nn.Hardswish,
        nn.Hardshrink,
        nn.Softshrink,
        nn.Tanhshrink,
        nn.LogSigmoid,
        nn.Threshold,
    )
    passthrough = (
        nn.Identity,
        nn.Dropout,
        nn.Dropout1d,
        nn.Dropout2d,
        nn.Dropout3d,
        nn.AlphaDropout,
        nn.FeatureAlphaDropout,
    )
    return elementwise, passthrough


def _is_plain_sequential(module):
    """An ``nn.Sequential`` whose forward pass is the one of ``nn.Sequential``."""
    from torch import nn

    return isinstance(module, nn.Sequential) and type(module).forward is (
        nn.Sequential.forward
    )


def _leaves(module, prefix=""):
    """``(name, layer)`` of a plain ``nn.Sequential`` in the order it applies them,
    nested ones read through."""
    for name, child in module.named_children():
        qualified = f"{prefix}{name}"
        if _is_plain_sequential(child):
            yield from _leaves(child, qualified + ".")
        else:
            yield qualified, child


def _is_noop_flatten(layer):
    """An ``nn.Flatten`` that leaves a 2-D batch as it is."""
    from torch import nn

    return (
        isinstance(layer, nn.Flatten)
        and layer.start_dim == 1
        and (layer.end_dim in (-1, 1))
    )


def _is_softmax(layer):
    from torch import nn

    return isinstance(layer, (nn.Softmax, nn.LogSoftmax)) and layer.dim in (-1, 1)


def _describe(name, layer):
    return f"layer {name!r} ({type(layer).__name__})"


class _Stack:
    """The layers of a module read as a stack of dense layers.

    Attributes
    ----------
    linears : list of nn.Linear
        The dense layers, in order.
    hidden : list of list of nn.Module
        ``hidden[l]``: the element-wise layers between ``linears[l]`` and
        ``linears[l + 1]``.
    tail : list of nn.Module
        The layers after the last dense layer (element-wise activations, a softmax,
        a flatten), or None when the module is not a plain ``nn.Sequential``.
    first : nn.Linear or None
        The first layer the input meets, when it is an ``nn.Linear``.
    problem : str or None
        Why the module is not a stack of dense layers (None: it is one).
    """

    def __init__(self, module):
        from torch import nn

        elementwise, passthrough = _layer_classes()
        self.linears, self.hidden, self.tail = [], [], None
        self.first, self.problem = None, None
        if not _is_plain_sequential(module):
            self._read_opaque(module)
            return
        current = []  # layers after the last dense layer seen so far
        for name, layer in _leaves(module):
            if isinstance(layer, nn.Linear):
                if not self.linears and self.first is None and self.problem is None:
                    self.first = layer
                if self.linears:
                    self.hidden.append(current)
                self.linears.append(layer)
                current = []
            elif isinstance(layer, passthrough) or _is_noop_flatten(layer):
                current.append(layer)
            elif self.linears and (
                isinstance(layer, elementwise)
                or _is_softmax(layer)
                or isinstance(layer, nn.Flatten)
            ):
                # Softmax and a reshaping flatten are output layers: checked below.
                current.append(layer)
            elif self.problem is None:
                self.problem = (
                    f"{_describe(name, layer)} is not an nn.Linear layer or an "
                    "element-wise activation"
                )
                current.append(layer)
            else:
                current.append(layer)
        self.tail = current
        if self.problem is None:
            self._check_layers(module)

    def _check_layers(self, module):
        """Softmax and reshaping flattens only after the last dense layer."""
        from torch import nn

        if not self.linears:
            self.problem = "the module has no nn.Linear layer"
            return
        names = {id(layer): name for name, layer in _leaves(module)}
        for stage in self.hidden:
            for layer in stage:
                if _is_softmax(layer) or (
                    isinstance(layer, nn.Flatten) and not _is_noop_flatten(layer)
                ):
                    self.problem = (
                        f"{_describe(names[id(layer)], layer)} is not an element-wise "
                        "activation and comes before the last nn.Linear layer"
                    )
                    return
        width = self.linears[-1].out_features
        for layer in self.tail:
            if (
                isinstance(layer, nn.Flatten)
                and not _is_noop_flatten(layer)
                and width != 1
            ):
                self.problem = (
                    f"{_describe(names[id(layer)], layer)} mixes the outputs of the "
                    "last layer"
                )
                return

    def _read_opaque(self, module):
        """A module whose forward pass is code: name its first non-dense layer."""
        from torch import nn

        elementwise, passthrough = _layer_classes()
        leaves = [
            (name, layer)
            for name, layer in module.named_modules()
            if name and not list(layer.children())
        ]
        with_weights = [
            layer for _, layer in leaves if next(layer.parameters(), None) is not None
        ]
        if with_weights and isinstance(with_weights[0], nn.Linear):
            # The input's width can only be read from the first layer registered.
            self.first = with_weights[0]
        for name, layer in leaves:
            if not isinstance(
                layer, (nn.Linear, nn.Softmax, nn.LogSoftmax, *elementwise)
            ) and not isinstance(layer, passthrough):
                self.problem = (
                    f"{_describe(name, layer)} is not an nn.Linear layer or an "
                    "element-wise activation"
                )
                return
        self.problem = (
            f"the module is a {type(module).__name__}, not an nn.Sequential: the order "
            "in which its forward pass applies its layers cannot be read"
        )


def _nonlinearity_kind(nonlinearity):
    """``"identity"``, ``"softmax"`` (over the last axis) or ``"other"``."""
    import skorch.utils
    import torch

    if nonlinearity is getattr(skorch.utils, "_identity", None):
        return "identity"
    if (
        isinstance(nonlinearity, functools.partial)
        and nonlinearity.func in (torch.softmax, torch.nn.functional.softmax)
        and not nonlinearity.args
        and nonlinearity.keywords.get("dim") in (-1, 1)
    ):
        return "softmax"
    return "other"


def _output_operations(stack, nonlinearity_kind):
    """The operations from the last dense layer to the output, as names.

    Layers that leave the values as they are (dropout, identity, flatten) are left
    out; the net's ``predict_nonlinearity`` comes last (unless it is the identity).
    The layers of a module that is not an ``nn.Sequential`` cannot be read: they
    count as one unknown operation, ``"module"``.
    """
    from torch import nn

    _, passthrough = _layer_classes()
    if stack.tail is None:
        operations = ["module"]
    else:
        operations = []
        for layer in stack.tail:
            if isinstance(layer, (*passthrough, nn.Flatten)):
                continue
            if isinstance(layer, nn.Softmax) and layer.dim in (-1, 1):
                operations.append("softmax")
            else:
                operations.append(type(layer).__name__.lower())
    if nonlinearity_kind != "identity":
        operations.append(nonlinearity_kind)
    return operations


# -- the network ---------------------------------------------------------------------


def _copy_net(net):
    """A deep copy of a skorch net made without pickling it (skorch's deep copies
    go through pickle, which fails for modules defined in a function)."""
    copied = object.__new__(type(net))
    vars(copied).update(deepcopy(vars(net)))
    return copied


class _OutputLabels:
    """What a skorch classifier's ``predict`` returns for network outputs.

    skorch predicts the index of the largest of the ``predict_proba`` columns; for a
    binary network reduced to the positive class's probability ``p``, that is
    ``p > 1 - p``. Stands in for the ``_label_binarizer`` of an ``MLPClassifier`` in
    the fast path of permutation importance.
    """

    def inverse_transform(self, outputs, threshold=None):
        outputs = np.asarray(outputs)
        if outputs.ndim == 1:
            return (outputs > 1.0 - outputs).astype(np.int64)
        return outputs.argmax(axis=1)


def _scoring_view(net):
    """A shallow copy of the classifier ``net`` that also has ``_label_binarizer``.

    It shares every attribute (module, history, classes) with ``net``; the permutation
    stand-in reads ``classes_`` and ``_label_binarizer`` from it.
    """
    view = object.__new__(type(net))
    vars(view).update(vars(net))
    vars(view)["_label_binarizer"] = _OutputLabels()
    return view


class SkorchNetwork(Network):
    """A fitted skorch ``NeuralNetRegressor`` or ``NeuralNetClassifier`` as a
    :class:`Network`.

    Parameters
    ----------
    net : NeuralNetRegressor or NeuralNetClassifier
        Fitted (initialized), with a module that takes one 2-D tensor of network
        inputs.
    output_scale, output_offset : ndarray of shape (n_outputs,), default=None
        An affine map ``o * output_scale + output_offset`` applied to the outputs of
        a regressor (a target transformer's inverse): outputs and gradients are in
        the target's units, and the map is folded into the last dense layer.

    Attributes
    ----------
    estimator : NeuralNetRegressor or NeuralNetClassifier
        The fitted net; for a classifier, a shallow copy of it (sharing its module
        and every other attribute) that also has ``_label_binarizer``, which maps
        outputs to what the net's ``predict`` returns.
    dtype, device : torch.dtype, torch.device
        Where the module computes.
    dense_problem : str or None
        Why the module is not a stack of dense layers with element-wise
        activations, naming the first layer that is not; None when it is one.
    coefs, intercepts : list of ndarray
        Dense layers only: ``coefs[l]`` has shape ``(fan_in, fan_out)`` (the
        transposed weight of the ``l``-th ``nn.Linear``), as float64.
    activation : tuple of str
        Dense layers only: the hidden activations, one per hidden layer (their class
        names, ``+``-joined; ``"identity"`` for none).
    out_activation : str
        Dense layers only: what maps the last dense layer's output to the network's
        output (``"logistic"`` for a binary softmax reduced to the positive class).

    Raises
    ------
    ValueError
        When the net is not fitted.
    TypeError
        When the width of the module's input cannot be read (its first layer is not
        an ``nn.Linear``).
    """

    def __init__(self, net, *, output_scale=None, output_offset=None):
        import torch

        if not getattr(net, "initialized_", False) or not hasattr(net, "module_"):
            raise ValueError(f"{type(net).__name__} is not fitted.")
        self._net = net
        self.classifier = is_classifier(net)
        self.estimator = _scoring_view(net) if self.classifier else net
        module = deepcopy(net.module_)
        module.eval()
        module.requires_grad_(False)
        self._module = module
        parameter = next(module.parameters(), None)
        self.dtype = torch.get_default_dtype() if parameter is None else parameter.dtype
        self.device = torch.device("cpu") if parameter is None else parameter.device
        self._nonlinearity = net._get_predict_nonlinearity()
        stack = _Stack(module)
        self._stack = stack
        if stack.first is None:
            raise TypeError(
                f"The width of the input of {type(net).__name__}'s module cannot be "
                f"read: its first layer is not an nn.Linear ({stack.problem})."
            )
        self._n_inputs = stack.first.in_features
        kind = _nonlinearity_kind(self._nonlinearity)
        operations = _output_operations(stack, kind)
        self._reduced = False
        width = self._width()
        # Normalized probabilities (a softmax last) of two classes: keep the positive.
        self._normalized = self.classifier and operations[-1:] == ["softmax"]
        self._reduced = self._normalized and width == 2
        self._n_outputs = 1 if self._reduced else width
        self._scale = self._offset = None
        if output_scale is not None:
            self._scale = np.broadcast_to(
                np.asarray(output_scale, float), self._n_outputs
            ).copy()
            self._offset = np.broadcast_to(
                np.asarray(output_offset, float), self._n_outputs
            ).copy()
        self.dense_problem = stack.problem
        if self.dense_problem is None:
            self.dense_problem = self._output_problem(operations)
        if self.dense_problem is None:
            self._read_dense_layers(stack, operations)

    # -- sizes ------------------------------------------------------------------------

    def _width(self):
        """Number of columns of ``predict_proba`` (``predict``), from a forward pass
        of one row of zeros."""
        import torch

        with torch.no_grad():
            x = torch.zeros((1, self._n_inputs), dtype=self.dtype, device=self.device)
            return int(self._finish(self._call(x)).shape[1])

    @property
    def n_inputs(self):
        return self._n_inputs

    n_features = n_inputs

    @property
    def n_outputs(self):
        return self._n_outputs

    @property
    def n_iter(self):
        """Epochs of training, as recorded in the net's history."""
        return max(1, len(self._net.history))

    def batch_size(self, n_rows_per_sample=1):
        """Rows per batch so that the widest activation has DEFAULT_BATCH_ELEMENTS."""
        from torch import nn

        widths = [self._n_inputs, self._n_outputs]
        for layer in self._module.modules():
            if isinstance(layer, nn.Linear):
                widths += [layer.in_features, layer.out_features]
        return max(1, DEFAULT_BATCH_ELEMENTS // (max(widths) * n_rows_per_sample))

    # -- forward pass and gradients ---------------------------------------------------

    def _tensor(self, X):
        """Network inputs (dense or sparse) as a tensor in the module's dtype."""
        import torch

        if sparse.issparse(X):
            X = X.toarray()
        return torch.as_tensor(np.asarray(X), device=self.device).to(self.dtype)

    def _call(self, x):
        out = self._module(x)
        return out[0] if isinstance(out, tuple) else out

    def _finish(self, out):
        """From the module's output to the network's output (2-D, positive class)."""
        out = self._nonlinearity(out)
        out = out.reshape(out.shape[0], -1)
        return out[:, 1:] if self._reduced else out

    def _numpy(self, out, *, mapped=True, offset=True, probabilities=False):
        """A (torch) output as float64.

        With ``mapped``, the output map is applied (its offset only with
        ``offset``). With ``probabilities``, a softmax's probabilities go through
        :meth:`_probabilities`.
        """
        out = out.detach().cpu().double().numpy()
        out = out.reshape(out.shape[0], -1)
        if mapped and self._scale is not None:
            out = out * self._scale
            if offset:
                out = out + self._offset
        return self._probabilities(out) if probabilities else out

    def _probabilities(self, out):
        """A softmax's probabilities (float64) at the precision of the module.

        They are clipped to ``[eps, 1 - eps]``, ``eps`` the machine epsilon of the
        module's dtype: the module cannot tell a probability of ``1 - 1e-12`` from
        one. scikit-learn's log loss clips what ``predict_proba`` returns to that
        interval, but float64 probabilities to float64's: clipped here, the scores
        computed from the outputs (the ``1 - o`` of a binary network's negative
        class included) are those computed from ``predict_proba``. Rows of several
        classes are then normalized again, so that they sum to one to float64
        precision (as scikit-learn's probability metrics check) and not only to
        the module's.
        """
        import torch

        if not self._normalized:
            return out
        eps = torch.finfo(self.dtype).eps
        out = np.clip(out, eps, 1.0 - eps)
        if not self._reduced:
            out /= out.sum(axis=1, keepdims=True)
        return out

    def _logit_difference(self, z):
        """``z_1 - z_0`` in float64, from the two logits ``z`` (a tensor)."""
        z = z.detach().cpu().double().reshape(z.shape[0], -1).numpy()
        return z[:, 1:] - z[:, :1]

    def forward(self, X, *, batch_size=None):
        """Output ``o`` for network inputs ``X``, shape ``(n, n_outputs)``.

        Equals ``predict`` of a regressor (reshaped to 2-D) and ``predict_proba`` of
        a classifier (see :meth:`_probabilities`), computed in the module's dtype.
        """
        import torch

        batch_size = batch_size or self.batch_size()
        n = X.shape[0]
        out = np.empty((n, self.n_outputs))
        with torch.no_grad():
            for start in range(0, n, batch_size):
                rows = slice(start, min(start + batch_size, n))
                outputs = self._finish(self._call(self._tensor(X[rows])))
                out[rows] = self._numpy(outputs, probabilities=True)
        return out

    def _batch_gradients(self, X):
        """Jacobian ``do_k / dx'_i`` for a batch of network inputs: shape (B, K, p).

        The module runs in evaluation mode, where every row's output depends on that
        row alone, so the gradient of the sum over rows of output ``k`` holds every
        row's derivative of it.
        """
        import torch

        x = self._tensor(X).requires_grad_(True)
        n, k = x.shape[0], self.n_outputs
        jac = np.zeros((n, k, x.shape[1]))
        with torch.enable_grad():
            out = self._finish(self._call(x))
            if out.requires_grad:
                for j in range(k):
                    (grad,) = torch.autograd.grad(
                        out[:, j].sum(), x, retain_graph=j < k - 1, allow_unused=True
                    )
                    if grad is not None:
                        jac[:, j] = grad.detach().cpu().double().numpy()
        if self._scale is not None:
            jac *= self._scale[None, :, None]
        return jac

    # -- dense layers -----------------------------------------------------------------

    def _output_problem(self, operations):
        """Why the dense view cannot express the output, or None."""
        if self._reduced and operations != ["softmax"]:
            return (
                "the operations after the last nn.Linear layer "
                f"({', '.join(operations)}) are not a single softmax, which the "
                "positive class's probability of a binary network needs"
            )
        if self._scale is not None and operations:
            return (
                "an output map (a target transformer) is folded into the last "
                "nn.Linear layer only when nothing follows it, but "
                f"{', '.join(operations)} does"
            )
        return None

    def _read_dense_layers(self, stack, operations):
        """``coefs`` and ``intercepts``, with the binary reduction and the output
        map folded into the last layer."""
        self.coefs = [
            layer.weight.detach().cpu().double().numpy().T.copy()
            for layer in stack.linears
        ]
        self.intercepts = [
            np.zeros(layer.out_features)
            if layer.bias is None
            else layer.bias.detach().cpu().double().numpy().copy()
            for layer in stack.linears
        ]
        self.activation = tuple(
            "+".join(type(layer).__name__.lower() for layer in stage) or "identity"
            for stage in stack.hidden
        )
        self.out_activation = "+".join(operations) or "identity"
        if self._reduced:
            # softmax(z)[1] = logistic(z_1 - z_0): one logit, the difference.
            self.coefs[-1] = self.coefs[-1][:, 1:] - self.coefs[-1][:, :1]
            self.intercepts[-1] = self.intercepts[-1][1:] - self.intercepts[-1][:1]
            self.out_activation = "logistic"
        if self._scale is not None:
            self.coefs[-1] = self.coefs[-1] * self._scale
            self.intercepts[-1] = self.intercepts[-1] * self._scale + self._offset

    def dense_layers(self):
        """``self`` when the module is a stack of dense layers, else None."""
        return self if self.dense_problem is None else None

    def check_dense_layers(self):
        """Raise TypeError, naming the first layer that is not dense, unless the
        module is a stack of ``nn.Linear`` layers with element-wise activations."""
        if self.dense_problem is not None:
            raise TypeError(
                f"The module of {type(self._net).__name__} is not a stack of "
                f"nn.Linear layers with element-wise activations: "
                f"{self.dense_problem}."
            )
        return self

    def first_preactivation(self, X):
        """``z_1`` for network inputs ``X`` (dense or sparse), shape (n, n_hidden_1).

        Computed in float64 from ``coefs[0]`` and ``intercepts[0]`` (where the
        binary reduction and the output map are folded in when the first layer is
        also the last).
        """
        self.check_dense_layers()
        return np.asarray(safe_sparse_dot(X, self.coefs[0])) + self.intercepts[0]

    def propagate(self, z1, *, biases=True, output_activation=True, overwrite=False):
        """Forward pass from the first pre-activation ``z_1`` to the output.

        The layers after the first run in the module's dtype, with the module's own
        weights; the binary reduction (``logistic(z_1 - z_0)``) and the output map
        are then applied in float64. Without ``biases``, the biases of the layers
        after the first (and the output map's offset) are left out; without
        ``output_activation``, the result is the last dense layer's output (its
        logit difference for a binary network), as ``coefs[-1]`` computes it.
        ``overwrite`` is accepted for the interface's sake: ``z1`` is never
        modified.
        """
        import torch
        import torch.nn.functional as F

        self.check_dense_layers()
        stack = self._stack
        if len(stack.linears) == 1:
            return self._single_layer_output(z1, output_activation)
        with torch.no_grad():
            a = self._tensor(z1)
            for stage, layer in zip(stack.hidden, stack.linears[1:]):
                for activation in stage:
                    a = activation(a)
                a = F.linear(a, layer.weight, layer.bias if biases else None)
            if self._reduced and not output_activation:
                return self._logit_difference(a)
            if self._reduced:  # as the module's softmax computes it
                return self._numpy(torch.softmax(a, dim=-1)[:, 1:], probabilities=True)
            if output_activation:
                for layer in stack.tail:
                    a = layer(a)
                a = self._finish(a)
            return self._numpy(a, offset=biases, probabilities=output_activation)

    def _single_layer_output(self, z, output_activation):
        """The output of a network of one dense layer from its output ``z`` (folded
        coefs, so the output map and the binary reduction are in it)."""
        import torch

        z = np.asarray(z, dtype=float)
        if self._reduced and output_activation:
            # As the module's softmax computes it: logistic, in the module's dtype.
            positive = torch.sigmoid(self._tensor(z))
            return self._numpy(positive, mapped=False, probabilities=True)
        if self._reduced:
            return z
        if not output_activation or self._scale is not None:
            return z  # an output map comes with nothing after the layer
        with torch.no_grad():
            a = self._tensor(z)
            for layer in self._stack.tail:
                a = layer(a)
            return self._numpy(self._finish(a), mapped=False, probabilities=True)

    def forward_network_space(self, Xp, *, biases=True, output_activation=True):
        """Output for dense network inputs ``Xp``, optionally without the biases or
        the output activation (the one-hot probe)."""
        self.check_dense_layers()
        z1 = np.asarray(Xp, dtype=float) @ self.coefs[0]
        if biases:
            z1 = z1 + self.intercepts[0]
        return self.propagate(z1, biases=biases, output_activation=output_activation)

    # -- warm continuation ------------------------------------------------------------

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
        """A copy of the net trained ``n_iter`` more epochs on network inputs ``X``.

        The first ``nn.Linear`` layer's weights of ``zero_inputs`` are set to zero
        and those inputs are zeroed in ``X``, so that they receive no gradient; the
        optimizer starts afresh (as scikit-learn's warm start does), so that no
        momentum moves them either, and they stay zero: the result is the network
        without them. With ``held_values`` (one per input in ``zero_inputs``), the
        constant contribution of those inputs held at these values is folded into
        the first layer's bias. Training runs through the net's ``fit`` with
        ``warm_start=True``, ``max_epochs=n_iter``, ``verbose=0`` and PyTorch's
        random number generator seeded with ``seed`` (its state outside is left as
        it was). With ``inputs_zeroed``, ``X`` holds zeros in those columns already
        and is not copied (nor modified) when its dtype is the module's.

        Raises
        ------
        ValueError
            For sample weights that are not all equal: skorch nets train unweighted.
        TypeError
            When the first layer is not an ``nn.Linear`` that takes the inputs, or
            has no bias to hold the ablated inputs' values.
        """
        import torch

        if sample_weight is not None:
            weights = np.asarray(sample_weight, dtype=float)
            if weights.size and not np.all(weights == weights[0]):
                raise ValueError(
                    "A skorch net trains without sample weights, so its training "
                    "cannot continue with them; pass no sample_weight, or use "
                    "retrain='none'."
                )
        net = _copy_net(self._net)
        stack = _Stack(net.module_)
        first = stack.first
        if first is None or first.in_features != X.shape[1]:
            raise TypeError(
                f"The first layer of {type(net).__name__}'s module is not an "
                "nn.Linear taking the network inputs, whose weights warm retraining "
                "sets to zero; use retrain='cold'."
            )
        X = X.toarray() if sparse.issparse(X) else X
        X = np.asarray(X, dtype=float) if inputs_zeroed else np.array(X, dtype=float)
        if zero_inputs is not None and len(zero_inputs):
            zero_inputs = np.asarray(zero_inputs)
            with torch.no_grad():
                weight = first.weight  # (fan_out, fan_in)
                if held_values is not None:
                    held = torch.as_tensor(
                        np.asarray(held_values, dtype=float), device=weight.device
                    ).to(weight.dtype)
                    shift = weight[:, zero_inputs] @ held
                    if first.bias is not None:
                        first.bias += shift
                    elif torch.any(shift != 0):
                        raise TypeError(
                            "The first nn.Linear layer has no bias to hold the "
                            "ablated inputs' values; use fill='zero' or "
                            "retrain='cold'."
                        )
                weight[:, zero_inputs] = 0.0
            if not inputs_zeroed:
                X[:, zero_inputs] = 0.0
            if stack.tail is None:
                _check_cut(net.module_, X, zero_inputs, first.weight.dtype)
        X = X.astype(self._numpy_dtype(), copy=False)
        net.set_params(warm_start=True, max_epochs=n_iter, verbose=0)
        net.initialize_optimizer()
        with torch.random.fork_rng():
            if seed is not None:
                torch.manual_seed(int(seed))
            net.fit(X, y)
        return net

    def _numpy_dtype(self):
        import torch

        try:
            return torch.empty(0, dtype=self.dtype).numpy().dtype
        except TypeError:  # bfloat16 and others without a NumPy dtype
            return np.float32


def _check_cut(module, X, inputs, dtype):
    """Raise TypeError unless the outputs of ``module`` ignore ``inputs``.

    The first ``nn.Linear`` registered in a module that is not an ``nn.Sequential``
    is taken for its first layer; once its weights of ``inputs`` are zero, moving
    those inputs must leave the outputs as they are (checked on a few rows).
    """
    import torch

    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            device = next(module.parameters()).device
            rows = torch.as_tensor(X[:16], device=device).to(dtype)
            moved = rows.clone()
            moved[:, inputs] += 1.0
            before, after = module(rows), module(moved)
            before = before[0] if isinstance(before, tuple) else before
            after = after[0] if isinstance(after, tuple) else after
            cut = torch.allclose(before, after)
    finally:
        module.train(training)
    if not cut:
        raise TypeError(
            f"The first nn.Linear layer registered in the {type(module).__name__} "
            "module is not the first its forward pass applies: warm retraining "
            "cannot set the weights of the ablated inputs to zero; use "
            "retrain='cold'."
        )


__all__ = ["SKORCH_CLASSES", "SkorchNetwork", "is_skorch_network"]
