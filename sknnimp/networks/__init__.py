"""Networks as the importance methods see them.

- :class:`Network` (``_base``): the interface the methods use — forward pass and input
  gradients from the network's inputs, dense layers when there are some, warm
  continuation of training.
- :class:`MLPNetwork` (``_mlp``): scikit-learn's ``MLPRegressor``/``MLPClassifier``.
- :class:`SkorchNetwork` (``_skorch``): skorch's ``NeuralNetRegressor``/
  ``NeuralNetClassifier`` (PyTorch, imported only when such a model is met).
- :func:`provenance` (``_provenance``): which original column every network input
  comes from, derived from the fitted preprocessing.
- :class:`NetworkModel` (``_model``): a fitted model split into preprocessing, network
  and provenance, with an affine target transformer folded into the output.
"""

from ._base import Network
from ._mlp import DEFAULT_BATCH_ELEMENTS, MLPNetwork, batched_column_std, column_std
from ._model import (
    AFFINE_SCALERS,
    NETWORK_CLASSES,
    NetworkModel,
    check_network,
    is_network,
    network_model,
    scaler_affine,
)
from ._provenance import MixingStepError, provenance
from ._skorch import SkorchNetwork, is_skorch_network

__all__ = [
    "AFFINE_SCALERS",
    "DEFAULT_BATCH_ELEMENTS",
    "batched_column_std",
    "MLPNetwork",
    "MixingStepError",
    "NETWORK_CLASSES",
    "Network",
    "NetworkModel",
    "SkorchNetwork",
    "check_network",
    "column_std",
    "is_network",
    "is_skorch_network",
    "network_model",
    "provenance",
    "scaler_affine",
]
