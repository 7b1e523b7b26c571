"""Which inputs of a neural network matter: importance and selection, for scikit-learn.

The public names are :class:`NNImportanceSelector`, :func:`nn_importance`,
:func:`compare_importances` (with :class:`ImportanceComparison`), the per-row
:func:`attributions` (an :class:`Explanation`) and the displays
:class:`ImportanceDisplay`, :class:`ComparisonDisplay` and :class:`AttributionDisplay`;
:class:`PoorModelWarning` is raised when the explained model does no better than a
constant prediction.
"""

from ._attributions import attributions
from ._compare import ImportanceComparison, compare_importances
from ._display import AttributionDisplay, ComparisonDisplay, ImportanceDisplay
from ._explanation import Explanation
from ._importance import nn_importance
from ._selector import NNImportanceSelector
from ._significance import PoorModelWarning

__all__ = [
    "AttributionDisplay",
    "ComparisonDisplay",
    "Explanation",
    "ImportanceComparison",
    "ImportanceDisplay",
    "NNImportanceSelector",
    "PoorModelWarning",
    "attributions",
    "compare_importances",
    "nn_importance",
]
__version__ = "0.1.0"
