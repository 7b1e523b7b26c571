"""Which inputs of a neural network matter: importance and selection, for scikit-learn.

The public names are :class:`NNImportanceSelector` and :func:`nn_importance`.
"""

from ._importance import nn_importance
from ._selector import NNImportanceSelector

__all__ = ["NNImportanceSelector", "nn_importance"]
__version__ = "0.1.0"
